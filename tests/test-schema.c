/* Schema versions and forward migrations, from every earlier version.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "sp-vault-private.h"
#include "test-util.h"

#define PASS "correct horse"

/* Writes a record the way schema version 1 stored it (no search index). */
static void
insert_v1_record (sqlite3 *db, const char *id, const char *name, const char *device)
{
  g_autofree char *sql
      = g_strdup_printf ("INSERT INTO records (id, kind, created, updated, cl, title, sort_key) "
                         "VALUES ('%s', 'org', '2024-01-01T00:00:00Z', 1000, 1, '%s', '%s');"
                         "INSERT INTO fields (rec, field, value, hlc, device) "
                         "VALUES (last_insert_rowid(), 'name', '%s', 1000, '%s');"
                         "INSERT INTO changes (rec, kind, field, value, hlc, device, tx) "
                         "VALUES ('%s', 'org', '_cl', '1', 1000, '%s', 1), ('%s', 'org', 'name', "
                         "'%s', 1000, '%s', 1);",
                         id, name, name, name, device, id, device, id, name, device);

  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
}

static void
test_migrate_from_each_version (void)
{
  for (int from = 1; from < sp_vault_schema_version_latest (); from++)
    {
      g_autofree char *tmp = sp_test_tmpdir ();
      g_autofree char *dir = g_build_filename (tmp, "vault", NULL);
      g_autoptr (SpSecret) pass = sp_test_passphrase (PASS);
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) found = NULL;
      SpVault *v = sp_vault_create_at_version (dir, pass, SP_KDF_INTERACTIVE, from, &error);

      g_assert_no_error (error);
      g_assert_cmpint (sp_vault_get_schema_version (v), ==, from);
      insert_v1_record (sp_vault_get_db (v), "0123456789abcdef0123456789abcdef", "Мінская суполка",
                        sp_vault_get_device_id (v));
      /* From version 2 on, a record of that time was also in the search index. */
      if (from >= 2)
        g_assert_true (sp_search_rebuild (v, &error));
      sp_vault_close (v);

      v = sp_vault_open (dir, pass, &error);
      g_assert_no_error (error);
      g_assert_cmpint (sp_vault_get_schema_version (v), ==, sp_vault_schema_version_latest ());
      /* Data written under the old schema is there and searchable. */
      found = sp_vault_search (v, "minsk", NULL, 0, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (found->len, ==, 1);
      g_assert_cmpstr (sp_record_get (found->pdata[0], "name"), ==, "Мінская суполка");
      g_assert_true (sp_vault_check (v, &error));
      sp_vault_close (v);
      sp_test_rmtree (tmp);
    }
}

static void
test_newer_schema_refused (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) pass = sp_test_passphrase (PASS);
  SpVault *v = sp_test_vault_new (&dir);
  g_autofree char *db_path = g_build_filename (dir, "vault.db", NULL);
  g_autoptr (GBytes) before = NULL;
  g_autoptr (GBytes) after = NULL;
  g_autofree char *parent = g_path_get_dirname (dir);

  g_assert_true (sp_exec (v, "PRAGMA user_version = 99", &error));
  g_assert_true (sp_exec (v, "PRAGMA wal_checkpoint(TRUNCATE)", &error));
  sp_vault_close (v);
  before = sp_test_read_file (db_path);
  v = sp_vault_open (dir, pass, &error);
  g_assert_null (v);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_TOO_NEW);
  after = sp_test_read_file (db_path);
  g_assert_true (g_bytes_equal (before, after));
  sp_test_rmtree (parent);
}

static void
test_latest_is_current (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autofree char *parent = g_path_get_dirname (dir);

  g_assert_cmpint (sp_vault_schema_version_latest (), >=, 2);
  g_assert_cmpint (sp_vault_get_schema_version (v), ==, sp_vault_schema_version_latest ());
  sp_vault_close (v);
  sp_test_rmtree (parent);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Before any SQLite call of the tests' own (a database made by hand):
   * core installs SQLite's wiping allocator first (sanitizer builds have no
   * wiping free() to fall back on). */
  g_assert_true (sp_core_init (NULL));
  g_test_add_func ("/schema/migrate-from-each-version", test_migrate_from_each_version);
  g_test_add_func ("/schema/newer-refused", test_newer_schema_refused);
  g_test_add_func ("/schema/latest-is-current", test_latest_is_current);
  return g_test_run ();
}
