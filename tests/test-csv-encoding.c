/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-csv-encoding.c — which encoding a CSV file is read in (issue #18):
 * never a silent guess. Crafted files for every case: UTF-8 with a few bad
 * bytes (refused, naming line and column), real Windows-1251 Belarusian and
 * Russian (taken), Latin-1, CP866 and KOI8-R read as Windows-1251 (refused),
 * a named encoding overriding the choice, UTF-16 errors on their real line. */
#include <string.h>

#include "sp-csv-private.h"
#include "supolka-core.h"
#include "test-util.h"

static char *
convert (const char *utf8, const char *to, gsize *len)
{
  g_autoptr (GError) error = NULL;
  char *out = g_convert (utf8, -1, to, "UTF-8", NULL, len, &error);

  g_assert_no_error (error);
  return out;
}

static gboolean
skip_row (SpCsvRow *row, gpointer user_data, GError **error)
{
  (void)error;
  if (user_data && row->cells->len > 0)
    g_ptr_array_add (user_data, g_strdup (g_ptr_array_index (row->cells, 0)));
  return TRUE;
}

/* Reads data with this encoding named (or AUTO). On success returns the
 * encoding's name and the first cell of each row in *firsts (optional). */
static char *
try_read (const char *data, gsize len, SpCsvEncoding named, GPtrArray *firsts, char **message,
          guint *line)
{
  g_autoptr (GInputStream) in = g_memory_input_stream_new_from_data (data, (gssize)len, NULL);
  g_autoptr (GError) error = NULL;
  SpCsvReadInfo info = { .encoding = named };

  *message = NULL;
  *line = 0;
  if (!sp_csv_read (in, &info, skip_row, firsts, &error))
    {
      g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
      *message = g_strdup (error->message);
      *line = info.error_line;
      return NULL;
    }
  return g_strdup (sp_csv_encoding_name (info.encoding));
}

static void
assert_taken (const char *data, gsize len, SpCsvEncoding named, const char *want)
{
  g_autofree char *message = NULL;
  g_autofree char *got = NULL;
  guint line;

  got = try_read (data, len, named, NULL, &message, &line);
  if (got == NULL)
    g_error ("refused (line %u: %s), wanted %s", line, message, want);
  g_assert_cmpstr (got, ==, want);
}

static void
assert_refused (const char *data, gsize len, SpCsvEncoding named, guint want_line,
                const char *want_text)
{
  g_autofree char *message = NULL;
  g_autofree char *got = NULL;
  guint line;

  got = try_read (data, len, named, NULL, &message, &line);
  if (got)
    g_error ("taken as %s, wanted a refusal", got);
  g_assert_cmpuint (line, ==, want_line);
  if (strstr (message, want_text) == NULL)
    g_error ("\"%s\" does not contain \"%s\"", message, want_text);
}

/* A UTF-8 file of Belarusian names with one stray byte: refused, with the
 * line and column of that byte and the hint, never read as Windows-1251. */
static void
test_utf8_with_bad_bytes (void)
{
  const char *text = "name,locality\r\n"
                     "Вясна,Мінск\r\n"
                     "Гома\xFF,Гомель\r\n" /* column 5 */
                     "Ініцыятыва «Зялёны сад»,Віцебск\r\n";
  g_autoptr (GPtrArray) firsts = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *message = NULL;
  g_autofree char *got = NULL;
  guint line;

  assert_refused (text, strlen (text), SP_CSV_ENCODING_AUTO, 3, "Column 5");
  assert_refused (text, strlen (text), SP_CSV_ENCODING_AUTO, 3, "--encoding");
  /* A truncated sequence at the very end: the same. */
  {
    const char *cut = "name,locality\r\nВясна,Мінск\r\nВіцебск\xD0";
    assert_refused (cut, strlen (cut), SP_CSV_ENCODING_AUTO, 3, "Column 8");
  }
  /* Named as UTF-8: refused at the same place. */
  assert_refused (text, strlen (text), SP_CSV_ENCODING_UTF8, 3, "Column 5");
  /* Named as Windows-1251: the user said so; read that way. */
  got = try_read (text, strlen (text), SP_CSV_ENCODING_WINDOWS_1251, firsts, &message, &line);
  g_assert_cmpstr (got, ==, "WINDOWS-1251");
  g_assert_cmpstr (g_ptr_array_index (firsts, 1), ==, "Р’СЏСЃРЅР°");
}

static void
test_cp1251_belarusian_russian (void)
{
  /* Belarusian has many capital + і/ў/ё pairs that are valid UTF-8 by
   * accident ("Мі" is CC B3); still Windows-1251. */
  const char *by = "name;locality;notes\r\n"
                   "Міхаіл Іваноўскі;Віцебск;Сябар з 2019 г., «Зялёная сетка»\r\n"
                   "Ірына Ўладзіміраўна;Мінск;Праекты — адукацыя, № 5\r\n"
                   "Цэнтр «Ініцыятыва»;Гродна;Ёсць пытанні\r\n";
  const char *ru = "name;locality\r\nОбщественное объединение «Родник»;Могилёв\r\n"
                   "Центр поддержки инициатив;Брест\r\n";
  /* A Latin "i" typed for "і", as many do: still Belarusian. */
  const char *latin_i = "name;locality\r\nМiхаiл;Мiнск\r\nВiцебская iнiцыятыва;Вiцебск\r\n";
  gsize len = 0;
  g_autofree char *by_1251 = convert (by, "WINDOWS-1251", &len);
  g_autofree char *ru_1251 = NULL;
  g_autofree char *li_1251 = NULL;
  g_autoptr (GPtrArray) firsts = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *message = NULL;
  g_autofree char *got = NULL;
  guint line;

  got = try_read (by_1251, len, SP_CSV_ENCODING_AUTO, firsts, &message, &line);
  g_assert_cmpstr (got, ==, "WINDOWS-1251");
  g_assert_cmpstr (g_ptr_array_index (firsts, 1), ==, "Міхаіл Іваноўскі");
  g_assert_cmpstr (g_ptr_array_index (firsts, 2), ==, "Ірына Ўладзіміраўна");
  ru_1251 = convert (ru, "WINDOWS-1251", &len);
  assert_taken (ru_1251, len, SP_CSV_ENCODING_AUTO, "WINDOWS-1251");
  li_1251 = convert (latin_i, "WINDOWS-1251", &len);
  assert_taken (li_1251, len, SP_CSV_ENCODING_AUTO, "WINDOWS-1251");
  /* The same files as UTF-8 are UTF-8. */
  assert_taken (by, strlen (by), SP_CSV_ENCODING_AUTO, "UTF-8");
}

/* Bytes that are not UTF-8 and are not Cyrillic text in Windows-1251. */
static void
test_neither (void)
{
  const char *latin = "name,locality\r\nMüller Stiftung,Köln\r\nCafé Liberté,Genève\r\n"
                      "Straße der Freiheit,Zürich\r\n";
  const char *russian = "name,locality\r\nОбщественное объединение,Могилев\r\n"
                        "Центр поддержки,Брест\r\nПривет Мир,Минск\r\n";
  const char *symbols = "name,notes\r\nA,\xA4\xA6\xA7\xA9\xAE\xB0\xB1\xB5\xB6\r\n";
  gsize len = 0;
  g_autofree char *latin1 = convert (latin, "ISO-8859-1", &len);
  g_autofree char *cp866 = NULL;
  g_autofree char *koi8 = NULL;

  /* Latin-1: "Mьller", "Cafй": Cyrillic letters inside Latin words. */
  assert_refused (latin1, len, SP_CSV_ENCODING_AUTO, 2, "does not look like");
  /* CP866 (DOS): capitals and most small letters read as symbols and
   * Serbian letters. */
  cp866 = convert (russian, "CP866", &len);
  assert_refused (cp866, len, SP_CSV_ENCODING_AUTO, 2, "does not look like");
  /* KOI8-R: letters, but "оБЩЕСТВЕННОЕ": the case is upside down. */
  koi8 = convert (russian, "KOI8-R", &len);
  assert_refused (koi8, len, SP_CSV_ENCODING_AUTO, 2, "does not look like");
  /* Latin-1 signs and nothing else. */
  assert_refused (symbols, strlen (symbols), SP_CSV_ENCODING_AUTO, 2, "Column 3");
  /* Named, each is read as the user says. */
  assert_taken (latin1, strlen (latin1), SP_CSV_ENCODING_WINDOWS_1251, "WINDOWS-1251");
}

static void
test_utf16 (void)
{
  const char *text = "name\tlocality\r\nВясна\tМінск\r\nЛюдзі\tБрэст\r\n";
  gsize len = 0;
  g_autofree char *le = convert (text, "UTF-16LE", &len);
  g_autofree char *bom = g_malloc (len + 2);
  g_autofree char *bad = NULL;
  g_autoptr (GPtrArray) firsts = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *message = NULL;
  g_autofree char *got = NULL;
  guint line;
  gsize at;

  bom[0] = (char)0xFF;
  bom[1] = (char)0xFE;
  memcpy (bom + 2, le, len);
  assert_taken (bom, len + 2, SP_CSV_ENCODING_AUTO, "UTF-16");
  /* Named, without a BOM: little-endian. */
  got = try_read (le, len, SP_CSV_ENCODING_UTF16, firsts, &message, &line);
  g_assert_cmpstr (got, ==, "UTF-16");
  g_assert_cmpstr (g_ptr_array_index (firsts, 2), ==, "Людзі");
  /* A lone surrogate on line 3 (in "Людзі", column 3): reported there. */
  bad = g_memdup2 (bom, len + 2);
  at = 2 + 2 * (g_utf8_strlen ("name\tlocality\r\nВясна\tМінск\r\nЛю", -1));
  bad[at] = 0x00;
  bad[at + 1] = (char)0xDC;
  assert_refused (bad, len + 2, SP_CSV_ENCODING_AUTO, 3, "Column 3");
  /* An odd byte at the end: reported where it is, after the last line break. */
  assert_refused (bom, len + 1, SP_CSV_ENCODING_AUTO, 4, "UTF-16");
}

static void
test_names (void)
{
  SpCsvEncoding e = SP_CSV_ENCODING_AUTO;

  g_assert_true (sp_csv_encoding_from_string ("utf-8", &e));
  g_assert_cmpint (e, ==, SP_CSV_ENCODING_UTF8);
  g_assert_true (sp_csv_encoding_from_string ("UTF-16", &e));
  g_assert_cmpint (e, ==, SP_CSV_ENCODING_UTF16);
  g_assert_true (sp_csv_encoding_from_string ("Windows-1251", &e));
  g_assert_cmpint (e, ==, SP_CSV_ENCODING_WINDOWS_1251);
  g_assert_true (sp_csv_encoding_from_string ("cp1251", &e));
  g_assert_false (sp_csv_encoding_from_string ("koi8-r", &e));
  g_assert_false (sp_csv_encoding_from_string ("", &e));
}

/* Through the import: the report names the encoding; a refusal writes
 * nothing and the report says no encoding. */
static void
test_import_report (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (SpVault) vault = sp_test_vault_new (&dir);
  const char *text = "name,locality\r\nВясна,Мінск\r\nГома\xFF,Гомель\r\n";
  g_autoptr (SpImportReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) in = NULL;
  gsize len = 0;
  g_autofree char *cp = convert ("name;locality\r\nВясна;Мінск\r\n", "WINDOWS-1251", &len);

  g_assert_false (sp_vault_import_csv (vault, "org", text, strlen (text), FALSE, &report, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "Line 3"));
  g_assert_cmpstr (report->encoding, ==, "");
  g_assert_cmpuint (report->errors->len, ==, 1);
  g_assert_cmpuint (((SpImportError *)report->errors->pdata[0])->line, ==, 3);
  g_assert_cmpint (sp_vault_count (vault, "org", NULL, NULL), ==, 0);
  g_clear_pointer (&report, sp_import_report_free);
  g_clear_error (&error);

  g_assert_true (sp_vault_import_csv (vault, "org", cp, len, FALSE, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (report->encoding, ==, "WINDOWS-1251");
  g_clear_pointer (&report, sp_import_report_free);

  /* Named UTF-16 for a file that is UTF-8: refused, the report says which. */
  in = g_memory_input_stream_new_from_data ("name\r\nx\r\n", 9, NULL);
  g_assert_false (
      sp_vault_import_csv_stream (vault, "org", in, SP_CSV_ENCODING_UTF16, FALSE, &report, &error));
  g_assert_cmpstr (report->encoding, ==, "UTF-16");
  g_assert_cmpint (sp_vault_count (vault, "org", NULL, NULL), ==, 1);
  g_clear_pointer (&vault, sp_vault_close);
  sp_test_rmtree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/csv-encoding/utf8-bad-bytes", test_utf8_with_bad_bytes);
  g_test_add_func ("/csv-encoding/cp1251", test_cp1251_belarusian_russian);
  g_test_add_func ("/csv-encoding/neither", test_neither);
  g_test_add_func ("/csv-encoding/utf16", test_utf16);
  g_test_add_func ("/csv-encoding/names", test_names);
  g_test_add_func ("/csv-encoding/import-report", test_import_report);
  return g_test_run ();
}
