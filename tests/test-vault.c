/* The vault on disk: key file, SQLCipher database, passphrases, damage.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <sodium.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp-vault-private.h"
#include "test-util.h"

#define PASS "correct horse"

static SpVault *
open_with (const char *dir, const char *pass, GError **error)
{
  g_autoptr (SpSecret) p = sp_test_passphrase (pass);

  return sp_vault_open (dir, p, error);
}

static void
cleanup (char *dir)
{
  g_autofree char *parent = g_path_get_dirname (dir);

  sp_test_rmtree (parent);
}

static void
test_create_and_reopen (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autofree char *id = sp_test_insert (v, "org", "name", "Суполка", NULL);
  g_autofree char *device = g_strdup (sp_vault_get_device_id (v));
  g_autofree char *key_path = g_build_filename (dir, "vault.key", NULL);
  g_autofree char *db_path = g_build_filename (dir, "vault.db", NULL);
  g_autoptr (SpRecord) r = NULL;
  GStatBuf st;

  sp_vault_close (v);
  v = open_with (dir, PASS, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sp_vault_get_device_id (v), ==, device);
  g_assert_cmpint (sp_vault_get_schema_version (v), ==, sp_vault_schema_version_latest ());
  r = sp_vault_get (v, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sp_record_get (r, "name"), ==, "Суполка");
  sp_vault_close (v);

  /* Only this user may read any of it. */
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_cmpint (g_stat (key_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (st.st_size, ==, 264);
  g_assert_cmpint (g_stat (db_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  cleanup (dir);
}

/* A folder that already existed with loose permissions is closed up. */
static void
test_loose_folder_closed (void)
{
  g_autofree char *tmp = sp_test_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "vault", NULL);
  g_autoptr (SpSecret) p = sp_test_passphrase (PASS);
  g_autoptr (GError) error = NULL;
  SpVault *v;
  GStatBuf st;

  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  v = sp_vault_create (dir, p, SP_KDF_INTERACTIVE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  sp_vault_close (v);
  sp_test_rmtree (tmp);
}

static void
test_create_refuses_existing (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) p = sp_test_passphrase (PASS);
  SpVault *v = sp_test_vault_new (&dir);

  sp_vault_close (v);
  v = sp_vault_create (dir, p, SP_KDF_INTERACTIVE, &error);
  g_assert_null (v);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_EXISTS);
  g_clear_error (&error);
  v = open_with (dir, PASS, &error); /* the first one is untouched */
  g_assert_no_error (error);
  sp_vault_close (v);
  cleanup (dir);
}

static void
test_wrong_passphrase (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  SpVault *v = sp_test_vault_new (&dir);

  sp_vault_close (v);
  v = open_with (dir, "correct horsf", &error);
  g_assert_null (v);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);
  v = open_with (dir, "", &error);
  g_assert_null (v);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_WRONG_PASSPHRASE);
  cleanup (dir);
}

static void
test_missing_vault (void)
{
  g_autofree char *tmp = sp_test_tmpdir ();
  g_autoptr (GError) error = NULL;
  SpVault *v = open_with (tmp, PASS, &error);

  g_assert_null (v);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
  sp_test_rmtree (tmp);
}

static void
test_change_passphrase_rewraps_only (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autofree char *id = sp_test_insert (v, "org", "name", "Суполка", NULL);
  g_autofree char *db_path = g_build_filename (dir, "vault.db", NULL);
  g_autoptr (GBytes) db_before = NULL;
  g_autoptr (GBytes) db_after = NULL;
  g_autoptr (SpSecret) np = sp_test_passphrase ("a new passphrase");

  sp_vault_close (v);
  v = open_with (dir, PASS, &error);
  g_assert_no_error (error);
  /* Checkpoint so the database file is complete before we compare it. */
  g_assert_true (sp_exec (v, "PRAGMA wal_checkpoint(TRUNCATE)", NULL));
  db_before = sp_test_read_file (db_path);
  g_assert_true (sp_vault_change_passphrase (v, np, SP_KDF_INTERACTIVE, &error));
  g_assert_no_error (error);
  sp_vault_close (v);
  db_after = sp_test_read_file (db_path);
  g_assert_true (g_bytes_equal (db_before, db_after)); /* never re-encrypted */

  v = open_with (dir, PASS, &error);
  g_assert_null (v);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);
  v = open_with (dir, "a new passphrase", &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_true (sp_vault_check (v, &error));
  {
    g_autoptr (SpRecord) r = sp_vault_get (v, id, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (sp_record_get (r, "name"), ==, "Суполка");
  }
  sp_vault_close (v);
  cleanup (dir);
}

/* Damage of every kind gives a clear error and leaves both files exactly as
 * they were. */
typedef enum
{
  FLIP,
  TRUNCATE,
  APPEND,
} Damage;

static void
check_damage (const char *file, Damage how, gsize offset, SpCoreError expected_a,
              SpCoreError expected_b)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autofree char *key_path = g_build_filename (dir, "vault.key", NULL);
  g_autofree char *db_path = g_build_filename (dir, "vault.db", NULL);
  g_autoptr (GBytes) orig = NULL;
  g_autoptr (GBytes) key_before = NULL, db_before = NULL, key_after = NULL, db_after = NULL;
  g_autofree char *data = NULL;
  gsize len;

  for (int i = 0; i < 50; i++)
    g_free (sp_test_insert (v, "org", "name", "Суполка нумар", "notes", "Шмат тэксту", NULL));
  g_assert_true (sp_exec (v, "PRAGMA wal_checkpoint(TRUNCATE)", NULL));
  sp_vault_close (v);

  orig = sp_test_read_file (path);
  {
    const void *raw = g_bytes_get_data (orig, &len);
    data = g_memdup2 (raw, len);
  }
  g_assert_cmpuint (offset, <, len);
  if (how == FLIP)
    data[offset] ^= 0x01;
  else if (how == TRUNCATE)
    len = offset;
  g_assert_true (g_file_set_contents (path, data, (gssize)len, NULL));
  if (how == APPEND)
    {
      g_autofree char *more = g_malloc (len + 1);
      memcpy (more, data, len);
      more[len] = 'x';
      g_assert_true (g_file_set_contents (path, more, (gssize)len + 1, NULL));
    }

  key_before = sp_test_read_file (key_path);
  db_before = sp_test_read_file (db_path);
  v = open_with (dir, PASS, &error);
  if (v)
    {
      /* Damage deep in the file shows when the page that holds it is read:
       * an error, never wrong data. */
      g_assert_false (sp_vault_check (v, &error));
      sp_vault_close (v);
    }
  g_assert_nonnull (error);
  g_assert_true (error->domain == SP_CORE_ERROR);
  if (error->code != (int)expected_a && error->code != (int)expected_b)
    g_error ("%s damaged at %" G_GSIZE_FORMAT ": unexpected error %d: %s", file, offset,
             error->code, error->message);
  g_assert_cmpstr (error->message, !=, "");
  key_after = sp_test_read_file (key_path);
  db_after = sp_test_read_file (db_path);
  if (!g_bytes_equal (key_before, key_after) || !g_bytes_equal (db_before, db_after))
    g_error ("%s damaged at %" G_GSIZE_FORMAT " (%d) was modified by a failed open (%s)", file,
             offset, how, error->message);
  cleanup (dir);
}

static void
test_damaged_keyfile (void)
{
  /* Magic, version, each slot's limits/salt/ciphertext, the checksum. */
  check_damage ("vault.key", FLIP, 0, SP_CORE_ERROR_CORRUPT, SP_CORE_ERROR_CORRUPT);
  check_damage ("vault.key", FLIP, 8, SP_CORE_ERROR_TOO_NEW, SP_CORE_ERROR_CORRUPT);
  check_damage ("vault.key", FLIP, 16 + 4, SP_CORE_ERROR_CORRUPT, SP_CORE_ERROR_CORRUPT);
  check_damage ("vault.key", FLIP, 16 + 30, SP_CORE_ERROR_CORRUPT, SP_CORE_ERROR_CORRUPT);
  check_damage ("vault.key", FLIP, 16 + 70, SP_CORE_ERROR_CORRUPT, SP_CORE_ERROR_CORRUPT);
  check_damage ("vault.key", FLIP, 240, SP_CORE_ERROR_CORRUPT, SP_CORE_ERROR_CORRUPT);
  check_damage ("vault.key", TRUNCATE, 100, SP_CORE_ERROR_CORRUPT, SP_CORE_ERROR_CORRUPT);
  check_damage ("vault.key", TRUNCATE, 0, SP_CORE_ERROR_CORRUPT, SP_CORE_ERROR_CORRUPT);
  check_damage ("vault.key", APPEND, 10, SP_CORE_ERROR_CORRUPT, SP_CORE_ERROR_CORRUPT);
}

/* An attacker who rewrites the ciphertext and fixes up the checksum gets
 * "wrong passphrase": the AEAD tag, not the checksum, is the defence. */
static void
test_forged_keyfile (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autofree char *path = g_build_filename (dir, "vault.key", NULL);
  g_autoptr (GBytes) orig = NULL;
  g_autofree guint8 *data = NULL;
  gsize len;

  sp_vault_close (v);
  orig = sp_test_read_file (path);
  {
    const void *raw = g_bytes_get_data (orig, &len);
    data = g_memdup2 (raw, len);
  }
  data[16 + 80] ^= 0x40; /* slot 0 ciphertext */
  crypto_generichash (data + 232, 32, data, 232, NULL, 0);
  g_assert_true (g_file_set_contents (path, (char *)data, (gssize)len, NULL));
  v = open_with (dir, PASS, &error);
  g_assert_null (v);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_WRONG_PASSPHRASE);

  /* Raised KDF limits beyond the bounds are refused before any work. */
  g_clear_error (&error);
  g_free (data);
  {
    const void *raw = g_bytes_get_data (orig, &len);
    data = g_memdup2 (raw, len);
  }
  data[16 + 12 + 5] = 0x7f; /* memlimit ~ 140 TB */
  crypto_generichash (data + 232, 32, data, 232, NULL, 0);
  g_assert_true (g_file_set_contents (path, (char *)data, (gssize)len, NULL));
  v = open_with (dir, PASS, &error);
  g_assert_null (v);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT);
  cleanup (dir);
}

static void
test_damaged_database (void)
{
  check_damage ("vault.db", FLIP, 0, SP_CORE_ERROR_CORRUPT, SP_CORE_ERROR_CORRUPT);
  check_damage ("vault.db", FLIP, 100, SP_CORE_ERROR_CORRUPT, SP_CORE_ERROR_CORRUPT);
  check_damage ("vault.db", FLIP, 4096 * 3 + 1000, SP_CORE_ERROR_CORRUPT, SP_CORE_ERROR_CORRUPT);
  check_damage ("vault.db", TRUNCATE, 4096 + 17, SP_CORE_ERROR_CORRUPT, SP_CORE_ERROR_CORRUPT);
  check_damage ("vault.db", TRUNCATE, 0, SP_CORE_ERROR_CORRUPT, SP_CORE_ERROR_CORRUPT);
}

static void
test_database_of_another_vault (void)
{
  g_autofree char *d1 = NULL, *d2 = NULL;
  g_autoptr (GError) error = NULL;
  SpVault *a = sp_test_vault_new (&d1), *b = sp_test_vault_new (&d2);
  g_autofree char *db1 = g_build_filename (d1, "vault.db", NULL);
  g_autofree char *db2 = g_build_filename (d2, "vault.db", NULL);
  g_autoptr (GBytes) other = NULL;

  sp_vault_close (a);
  sp_vault_close (b);
  other = sp_test_read_file (db2);
  g_assert_true (g_file_set_contents (db1, g_bytes_get_data (other, NULL),
                                      (gssize)g_bytes_get_size (other), NULL));
  a = open_with (d1, PASS, &error);
  g_assert_null (a);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT);
  cleanup (d1);
  cleanup (d2);
}

static void
test_no_plaintext_on_disk (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  const char *markers[]
      = { "Zubrowka-Marker-7741", "Шыманскі-Маркер", "marker@example.org", "+375 29 777-41-41" };
  g_autofree char *id = sp_test_insert (v, "person", "full_name", markers[1], "notes", markers[0],
                                        "email", markers[2], "phone", markers[3], NULL);
  g_autofree char *folded = sp_fold (markers[1]);

  g_assert_nonnull (id);
  /* Still open (WAL in use), then closed: neither state leaks. */
  for (guint i = 0; i < G_N_ELEMENTS (markers); i++)
    g_assert_false (sp_test_tree_contains (dir, markers[i], strlen (markers[i])));
  g_assert_false (sp_test_tree_contains (dir, folded, strlen (folded))); /* the search index */
  sp_vault_close (v);
  for (guint i = 0; i < G_N_ELEMENTS (markers); i++)
    g_assert_false (sp_test_tree_contains (dir, markers[i], strlen (markers[i])));
  g_assert_false (sp_test_tree_contains (dir, folded, strlen (folded)));
  g_assert_false (sp_test_tree_contains (dir, "SQLite format 3", 15));
  cleanup (dir);
}

/* SQLCipher settings are pinned: a database keyed with the same raw key and
 * the pinned settings by hand opens; with 4.x's defaults it would not. */
static void
test_cipher_settings_pinned (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  sqlite3_stmt *st = NULL;

  g_assert_cmpint (
      sqlite3_prepare_v2 (sp_vault_get_db (v), "PRAGMA cipher_page_size", -1, &st, NULL), ==,
      SQLITE_OK);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (st, 0), ==, 4096);
  sqlite3_finalize (st);
  g_assert_cmpint (sqlite3_prepare_v2 (sp_vault_get_db (v), "PRAGMA journal_mode", -1, &st, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *)sqlite3_column_text (st, 0), ==, "wal");
  sqlite3_finalize (st);
  g_assert_cmpint (sqlite3_prepare_v2 (sp_vault_get_db (v), "PRAGMA secure_delete", -1, &st, NULL),
                   ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (st, 0), ==, 1);
  sqlite3_finalize (st);
  g_assert_cmpint (sqlite3_prepare_v2 (sp_vault_get_db (v), "PRAGMA temp_store", -1, &st, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (st, 0), ==, 2); /* MEMORY */
  sqlite3_finalize (st);
  sp_vault_close (v);
  g_assert_no_error (error);
  cleanup (dir);
}

static void
test_core_dumps_disabled (void)
{
  struct rlimit rl;

  g_assert_true (sp_core_init (NULL));
  g_assert_cmpint (getrlimit (RLIMIT_CORE, &rl), ==, 0);
  g_assert_cmpuint (rl.rlim_cur, ==, 0);
}

static void
test_secret_read_line (void)
{
  int fds[2];
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) s = NULL;
  g_autofree char *long_line = g_strnfill (1100, 'a');

  g_assert_cmpint (pipe (fds), ==, 0);
  g_assert_cmpint (write (fds[1], "pass word\r\nnext\n", 16), ==, 16);
  close (fds[1]);
  s = sp_secret_read_line_fd (fds[0], &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sp_secret_len (s), ==, 9);
  g_assert_cmpmem (sp_secret_data (s), 9, "pass word", 9);
  g_clear_pointer (&s, sp_secret_free);
  s = sp_secret_read_line_fd (fds[0], &error);
  g_assert_cmpmem (sp_secret_data (s), sp_secret_len (s), "next", 4);
  g_clear_pointer (&s, sp_secret_free);
  s = sp_secret_read_line_fd (fds[0], &error); /* EOF */
  g_assert_null (s);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_clear_error (&error);
  close (fds[0]);

  g_assert_cmpint (pipe (fds), ==, 0);
  g_assert_cmpint (write (fds[1], long_line, 1100), ==, 1100);
  close (fds[1]);
  s = sp_secret_read_line_fd (fds[0], &error);
  g_assert_null (s);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  close (fds[0]);
}

static void
test_locked_vault_refuses (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autoptr (GError) error = NULL;
  sqlite3 *db = sp_vault_get_db (v);

  /* Simulate a vault whose database was closed by lock. */
  v->db = NULL;
  g_assert_null (sp_vault_list (v, "org", NULL, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_LOCKED);
  g_clear_error (&error);
  g_assert_null (sp_vault_insert (v, "org", NULL, 0, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_LOCKED);
  v->db = db;
  sp_vault_close (v);
  cleanup (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_true (sp_core_init (NULL));
  g_test_add_func ("/vault/create-reopen", test_create_and_reopen);
  g_test_add_func ("/vault/create-refuses-existing", test_create_refuses_existing);
  g_test_add_func ("/vault/loose-folder-closed", test_loose_folder_closed);
  g_test_add_func ("/vault/wrong-passphrase", test_wrong_passphrase);
  g_test_add_func ("/vault/missing", test_missing_vault);
  g_test_add_func ("/vault/change-passphrase", test_change_passphrase_rewraps_only);
  g_test_add_func ("/vault/damaged-keyfile", test_damaged_keyfile);
  g_test_add_func ("/vault/forged-keyfile", test_forged_keyfile);
  g_test_add_func ("/vault/damaged-database", test_damaged_database);
  g_test_add_func ("/vault/database-of-another-vault", test_database_of_another_vault);
  g_test_add_func ("/vault/no-plaintext-on-disk", test_no_plaintext_on_disk);
  g_test_add_func ("/vault/cipher-settings-pinned", test_cipher_settings_pinned);
  g_test_add_func ("/vault/core-dumps-disabled", test_core_dumps_disabled);
  g_test_add_func ("/vault/secret-read-line", test_secret_read_line);
  g_test_add_func ("/vault/locked-refuses", test_locked_vault_refuses);
  return g_test_run ();
}
