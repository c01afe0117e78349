/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cli-vault.c — supolka-cli on damaged and inspected vault files: a
 * tampered key file and database are refused and left unchanged, and no
 * plaintext reaches the vault folder.
 */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supolka-core.h"
#include "cli-test-util.h"
#include "sec-cli-run.h"
#include "test-util.h"

/* ---- 3. Tampered files ------------------------------------------------------------ */

static void
fix_checksum (guint8 *key)
{
  crypto_generichash (key + KF_SUM, 32, key, KF_SUM, NULL, 0);
}

static void
put_le64 (guint8 *p, guint64 v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (guint8)(v >> (8 * i));
}

/* Runs 'list org' on the vault as it is now and checks: the expected exit
 * status, nothing on stdout, a message on stderr, no file changed. */
static void
assert_refused_unchanged (CliVault *cv, int expected, const char *what)
{
  g_autoptr (GHashTable) before = snapshot_dir (cv->dir);
  g_autoptr (GHashTable) after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  g_test_message ("case: %s", what);
  status = cv_run (cv, &out, &err, "list", "org", NULL);
  if (status != expected)
    g_error ("%s: exit %d, expected %d (stderr: %s)", what, status, expected, err);
  g_assert_cmpstr (out, ==, "");
  g_assert_cmpuint (strlen (g_strstrip (err)), >, 0);
  g_assert_nonnull (strstr (err, "supolka-cli: "));
  after = snapshot_dir (cv->dir);
  assert_snapshot_equal (before, after, what);
}

static void
test_tamper_keyfile (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autoptr (GBytes) orig = NULL;
  g_autofree char *key_path = NULL;
  g_autofree char *id = NULL;
  const guint8 *k;
  gsize len;
  guint8 buf[KF_SIZE + 1];

  if (!sec_require_cli ())
    return;
  cv = cli_vault_new ();
  id = cv_add (cv, "org", "--name", "Гомельскі фонд", NULL);
  key_path = g_build_filename (cv->dir, "vault.key", NULL);
  orig = read_file (key_path);
  k = g_bytes_get_data (orig, &len);
  g_assert_cmpuint (len, ==, KF_SIZE);
  g_assert_cmpmem (k, 8, "SPLKKEY\0", 8);

#define RESET() memcpy (buf, k, KF_SIZE)

  /* the magic */
  RESET ();
  buf[3] ^= 0x20;
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_INVALID, "magic flipped");

  /* slot 0's sealed key: the checksum catches it */
  RESET ();
  buf[KF_SLOT0 + KF_SLOT_CT + 7] ^= 0x01;
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_INVALID, "slot 0 ciphertext flipped");

  /* slot 1 (the unused duress slot): the checksum catches it too */
  RESET ();
  buf[KF_SLOT1 + KF_SLOT_CT + 7] ^= 0x01;
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_INVALID, "slot 1 ciphertext flipped");

  /* slot 0's sealed key with a recomputed checksum: the AEAD tag refuses */
  RESET ();
  buf[KF_SLOT0 + KF_SLOT_CT + 7] ^= 0x01;
  fix_checksum (buf);
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_LOCKED, "slot 0 ciphertext flipped, checksum fixed");

  /* slot 0's salt, checksum fixed: another key is derived */
  RESET ();
  buf[KF_SLOT0 + 20] ^= 0x80;
  fix_checksum (buf);
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_LOCKED, "slot 0 salt flipped, checksum fixed");

  /* a reserved header byte, checksum fixed: the header is associated data */
  RESET ();
  buf[13] ^= 0x01;
  fix_checksum (buf);
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_LOCKED, "reserved header byte flipped, checksum fixed");

  /* absurd KDF limits, checksum fixed: refused before any work is done */
  RESET ();
  put_le64 (buf + KF_SLOT0 + 4, G_GUINT64_CONSTANT (1) << 40);
  fix_checksum (buf);
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_INVALID, "opslimit 2^40, checksum fixed");
  RESET ();
  put_le64 (buf + KF_SLOT1 + 12, G_GUINT64_CONSTANT (1) << 50);
  fix_checksum (buf);
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_INVALID, "slot 1 memlimit 1 PiB, checksum fixed");

  /* a newer format version */
  RESET ();
  buf[8] = 2;
  fix_checksum (buf);
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_INVALID, "format version 2");

  /* the checksum itself */
  RESET ();
  buf[KF_SUM + 5] ^= 0x40;
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_INVALID, "checksum flipped");

  /* wrong sizes */
  RESET ();
  write_file (key_path, buf, 100);
  assert_refused_unchanged (cv, EXIT_INVALID, "truncated to 100 bytes");
  write_file (key_path, buf, 0);
  assert_refused_unchanged (cv, EXIT_INVALID, "empty file");
  buf[KF_SIZE] = 0;
  write_file (key_path, buf, KF_SIZE + 1);
  assert_refused_unchanged (cv, EXIT_INVALID, "one byte appended");

#undef RESET

  /* the original file opens the vault again, with its data */
  write_file (key_path, k, KF_SIZE);
  {
    g_autoptr (JsonNode) list = cv_json (cv, "list", "org", NULL);
    g_autofree char *ids = json_ids (list);
    g_assert_cmpstr (ids, ==, id);
  }
}

/* Flips the byte at offset of file path. */
static void
flip_byte (const char *path, GBytes *orig, gsize offset)
{
  gsize len;
  g_autofree guint8 *data = g_memdup2 (g_bytes_get_data (orig, &len), g_bytes_get_size (orig));

  g_assert_cmpuint (offset, <, len);
  data[offset] ^= 0x5a;
  write_file (path, data, len);
}

static void
test_tamper_database (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autoptr (GBytes) orig = NULL;
  g_autoptr (GString) problems = g_string_new (NULL);
  g_autoptr (GString) long_notes = g_string_new (NULL);
  g_autofree char *db_path = NULL;
  g_autofree char *key_path = NULL;
  g_autofree char *org = NULL;
  g_autofree char *person = NULL;
  g_autofree char *ids = NULL;
  gsize n_pages;
  guint n_refused = 0;

  if (!sec_require_cli ())
    return;
  cv = cli_vault_new ();
  /* Long notes spill into overflow pages, so those are covered too. */
  for (int i = 0; i < 150; i++)
    g_string_append (long_notes, "Доўгая нататка. ");
  org = cv_add (cv, "org", "--name", "Віцебская суполка", "--region", "vitebsk", "--notes",
                long_notes->str, NULL);
  person = cv_add (cv, "person", "--full_name", "Шыманскі Алег", NULL);
  db_path = g_build_filename (cv->dir, "vault.db", NULL);
  key_path = g_build_filename (cv->dir, "vault.key", NULL);
  assert_no_sqlite_side_files (cv->dir);
  orig = read_file (db_path);
  g_assert_cmpuint (g_bytes_get_size (orig) % DB_PAGE, ==, 0);
  n_pages = g_bytes_get_size (orig) / DB_PAGE;
  g_assert_cmpuint (n_pages, >=, 4);
  g_assert_false (memcmp (g_bytes_get_data (orig, NULL), "SQLite format 3", 15) == 0);

  /* The start of the file (SQLCipher's salt, then page 1). */
  flip_byte (db_path, orig, 0);
  assert_refused_unchanged (cv, EXIT_INVALID, "vault.db byte 0 flipped");
  flip_byte (db_path, orig, 100);
  assert_refused_unchanged (cv, EXIT_INVALID, "vault.db byte 100 flipped");

  /* Every later page in turn, in its middle. A page the command does not
   * read may go unnoticed; one it reads must fail cleanly with exit 4. */
  for (gsize page = 1; page < n_pages; page++)
    {
      g_autoptr (GHashTable) before = NULL;
      g_autoptr (GHashTable) after = NULL;
      g_autofree char *what
          = g_strdup_printf ("vault.db page %" G_GSIZE_FORMAT " flipped", page + 1);
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      int status;

      flip_byte (db_path, orig, page * DB_PAGE + DB_PAGE / 2);
      before = snapshot_dir (cv->dir);
      status = cv_run (cv, &out, &err, "export-csv", "org", "-", NULL);
      after = snapshot_dir (cv->dir);
      assert_snapshot_equal (before, after, what);
      if (status == EXIT_OK)
        continue;
      n_refused++;
      if (status != EXIT_INVALID)
        g_string_append_printf (problems, "%s%s: exit %d, expected 4 (stderr: %s)",
                                problems->len ? "; " : "", what, status,
                                g_strdelimit (g_strstrip (err), "\r\n", ' '));
      else if (strstr (err, "supolka-cli: ") == NULL)
        g_string_append_printf (problems, "%s%s: exit 4 without a message",
                                problems->len ? "; " : "", what);
    }
  g_assert_cmpuint (n_refused, >, 0);
  /* Not fatal, so that the rest of the test (and the others) still run. */
  if (problems->len > 0)
    g_test_fail_printf ("a damaged vault.db gave the wrong exit status: %s", problems->str);

  /* The untouched file still opens, with both records. */
  write_file (db_path, g_bytes_get_data (orig, NULL), g_bytes_get_size (orig));
  g_assert_cmpuint (cv_count (cv, "org"), ==, 1);
  g_assert_cmpuint (cv_count (cv, "person"), ==, 1);

  /* vault.db missing next to its key: damaged (4), not a crash */
  g_assert_cmpint (g_unlink (db_path), ==, 0);
  assert_refused_unchanged (cv, EXIT_INVALID, "vault.db missing");
  write_file (db_path, g_bytes_get_data (orig, NULL), g_bytes_get_size (orig));

  /* vault.key missing: there is no vault (3) */
  {
    g_autoptr (GBytes) key = read_file (key_path);
    g_assert_cmpint (g_unlink (key_path), ==, 0);
    assert_refused_unchanged (cv, EXIT_NOT_FOUND, "vault.key missing");
    write_file (key_path, g_bytes_get_data (key, NULL), g_bytes_get_size (key));
  }
  g_assert_cmpuint (cv_count (cv, "org"), ==, 1);

  /* no vault at all */
  {
    g_autofree char *missing = g_build_filename (cv->tmp, "no-such-vault", NULL);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    g_assert_cmpint (run_cli (PASS_LINE, &out, &err, "--vault", missing, "--passphrase-fd", "0",
                              "list", "org", NULL),
                     ==, EXIT_NOT_FOUND);
    g_assert_cmpstr (out, ==, "");
    g_assert_nonnull (strstr (err, missing));
    g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (run_cli (PASS_LINE, NULL, &err, "--vault", missing, "--passphrase-fd", "0",
                              "show", org, NULL),
                     ==, EXIT_NOT_FOUND);
    g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  }
  ids = expect_ids (person, NULL);
  {
    g_autoptr (JsonNode) list = cv_json (cv, "list", "person", NULL);
    g_autofree char *got = json_ids (list);
    g_assert_cmpstr (got, ==, ids);
  }
}

/* ---- 4. No plaintext in the vault -------------------------------------------------- */

static void
assert_not_in_vault (const char *dir, const char *needle)
{
  g_autofree char *folded = sp_fold (needle);

  if (sp_test_tree_contains (dir, needle, strlen (needle)))
    g_error ("\"%s\" is stored in plaintext under %s", needle, dir);
  /* the search skeleton of it, too */
  if (folded && strlen (folded) >= 6 && sp_test_tree_contains (dir, folded, strlen (folded)))
    g_error ("the folded form \"%s\" of \"%s\" is stored in plaintext", folded, needle);
}

static void
test_no_plaintext (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autoptr (GDir) d = NULL;
  g_autofree char *org = NULL;
  g_autofree char *person = NULL;
  g_autofree char *out = NULL;
  g_autofree char *export_path = NULL;
  GStatBuf st;
  const char *name;
  static const char *const markers[] = {
    "Zubrowka-Marker-7741",
    "Шыманскі-Маркер",
    "zubrowka.marker7741@example.org",
    "+375 29 774-11-99",
    "alieh.marker9931@example.net",
    "+375 33 993-19-31",
    "Маладзечна-Маркер-5150",
    "Second-Marker-Notes-6262",
    "Secure-Signal-Marker-8080",
  };

  if (!sec_require_cli ())
    return;
  cv = cli_vault_new ();
  org = cv_add (cv, "org", "--name", "Zubrowka-Marker-7741 Фонд", "--email",
                "zubrowka.marker7741@example.org", "--phone", "+375 29 774-11-99", "--notes",
                "Шыманскі-Маркер ведае", "--region", "minsk_region", NULL);
  person = cv_add (cv, "person", "--full_name", "Шыманскі-Маркер Алег", "--email",
                   "alieh.marker9931@example.net", "--phone", "+375 33 993-19-31", "--locality",
                   "Маладзечна-Маркер-5150", "--secure_contact", "Secure-Signal-Marker-8080", NULL);
  g_assert_cmpint (
      cv_run (cv, NULL, NULL, "edit", org, "--notes", "Second-Marker-Notes-6262", NULL), ==,
      EXIT_OK);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "delete", person, NULL), ==, EXIT_OK);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "list", "org", NULL), ==, EXIT_OK);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "list", "person", "--deleted", NULL), ==, EXIT_OK);
  g_assert_cmpint (cv_run (cv, &out, NULL, "search", "zubrowka", NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (out, org)); /* the markers really are stored */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "stats", NULL), ==, EXIT_OK);
  g_assert_cmpint (cv_run (cv, &out, NULL, "show", person, NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (out, "Шыманскі-Маркер Алег"));
  g_assert_nonnull (strstr (out, "Secure-Signal-Marker-8080"));
  g_clear_pointer (&out, g_free);
  /* an export goes where it is told, outside the vault */
  export_path = g_build_filename (cv->tmp, "export.csv", NULL);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "export-csv", "org", export_path, NULL), ==, EXIT_OK);
  g_assert_true (sp_test_tree_contains (cv->tmp, "Second-Marker-Notes-6262",
                                        strlen ("Second-Marker-Notes-6262")));
  g_assert_cmpint (g_unlink (export_path), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (markers); i++)
    assert_not_in_vault (cv->dir, markers[i]);
  assert_not_in_vault (cv->dir, PASS);
  assert_not_in_vault (cv->dir, org); /* ids are stored encrypted too */
  assert_not_in_vault (cv->dir, person);
  g_assert_false (sp_test_tree_contains (cv->dir, "SQLite format 3", 15));
  g_assert_false (sp_test_tree_contains (cv->dir, "CREATE TABLE", 12));

  /* only the vault's own files, private to the user */
  g_assert_cmpint (g_stat (cv->dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  d = g_dir_open (cv->dir, 0, NULL);
  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (cv->dir, name, NULL);

      if (!g_str_equal (name, "vault.key") && !g_str_equal (name, "vault.db")
          && !g_str_equal (name, "vault.db-wal") && !g_str_equal (name, "vault.db-shm"))
        g_error ("unexpected file in the vault: %s", name);
      g_assert_cmpint (g_lstat (path, &st), ==, 0);
      g_assert_true (S_ISREG (st.st_mode));
      if ((st.st_mode & 0777) != 0600)
        g_error ("%s has mode %03o, expected 600", name, (unsigned)(st.st_mode & 0777));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  cli_test_init ();

  g_test_add_func ("/cli/vault/no-plaintext", test_no_plaintext);
  /* Last: the damaged-file checks are the likeliest to fail, and a failure
   * ends a --tap run. */
  g_test_add_func ("/cli/tamper/keyfile", test_tamper_keyfile);
  g_test_add_func ("/cli/tamper/database", test_tamper_database);

  return cli_test_finish (g_test_run ());
}
