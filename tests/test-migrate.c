/* Migrating a vault made by an earlier version (issue #20): the schema 6
 * vault checked in as tests/data/vault-v6 (made by make-vault-v6.sh at
 * schema 6) is copied, opened (which migrates it) and dumped through the
 * public API; the dump must equal tests/data/vault-v6.json, taken from the
 * same vault before any migration existed. Then the migrated vault must go on
 * working: merge, conflict resolution, the change log of new writes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>

#include "sp-vault-private.h"
#include "test-util.h"
#include "vault-dump.h"

#define FIXTURE_PASSPHRASE "fixture-v6-passphrase"

static char *
fixture_path (const char *name)
{
  const char *src = g_getenv ("SUPOLKA_SRCDIR");

  g_assert_nonnull (src);
  return g_build_filename (src, "tests", "data", name, NULL);
}

static void
copy_file (const char *from, const char *to)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_get_contents (from, &data, &len, &error));
  g_assert_true (g_file_set_contents (to, data, (gssize)len, &error));
  g_assert_cmpint (g_chmod (to, 0600), ==, 0);
}

/* A copy of the fixture in a fresh folder; *tmp_out is the folder to remove. */
static char *
copy_fixture (char **tmp_out)
{
  g_autofree char *src = fixture_path ("vault-v6");
  char *tmp = sp_test_tmpdir ();
  char *dir = g_build_filename (tmp, "vault", NULL);
  const char *const names[] = { "vault.key", "vault.db" };

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *from = g_build_filename (src, names[i], NULL);
      g_autofree char *to = g_build_filename (dir, names[i], NULL);
      copy_file (from, to);
    }
  *tmp_out = tmp;
  return dir;
}

static gint64
file_size (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (gint64)st.st_size : 0;
}

static SpVault *
open_fixture (const char *dir)
{
  g_autoptr (SpSecret) pass = sp_test_passphrase (FIXTURE_PASSPHRASE);
  g_autoptr (GError) error = NULL;
  SpVault *v = sp_vault_open (dir, pass, &error);

  g_assert_no_error (error);
  g_assert_nonnull (v);
  return v;
}

/* Every record, field value, change (with its record, field, value, HLC,
 * device, supersedes and transaction), conflict and sync_state entry. */
static void
test_fixture_intact (void)
{
  g_autofree char *tmp = NULL;
  g_autofree char *dir = copy_fixture (&tmp);
  g_autofree char *json_path = fixture_path ("vault-v6.json");
  g_autofree char *expected = NULL;
  g_autofree char *dump = NULL;
  g_autoptr (GError) error = NULL;
  gint64 before = file_size (dir, "vault.db");
  SpVault *v;

  g_assert_true (g_file_get_contents (json_path, &expected, NULL, &error));
  v = open_fixture (dir);
  g_assert_cmpint (sp_vault_get_schema_version (v), ==, sp_vault_schema_version_latest ());
  /* The migration's own writes (the WAL, before a checkpoint) stay within
   * twice the old file. */
  g_assert_cmpint (file_size (dir, "vault.db") + file_size (dir, "vault.db-wal") - before, <=,
                   2 * before);
  dump = vault_dump_json (v, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_strstrip (dump), ==, g_strstrip (expected));
  g_assert_true (sp_vault_check (v, &error));
  g_assert_no_error (error);

  /* Compacted: smaller than the schema 6 file, the same data. */
  g_assert_true (sp_vault_compact (v, &error));
  g_assert_no_error (error);
  g_assert_cmpint (file_size (dir, "vault.db"), <, before);
  g_assert_cmpint (file_size (dir, "vault.db-wal"), ==, 0);
  sp_vault_close (v);

  /* Opened again: nothing to migrate, the same data. */
  v = open_fixture (dir);
  g_clear_pointer (&dump, g_free);
  dump = vault_dump_json (v, &error);
  g_assert_cmpstr (g_strstrip (dump), ==, g_strstrip (expected));
  sp_vault_close (v);
  sp_test_rmtree (tmp);
}

static const SpConflict *
find_conflict (GPtrArray *conflicts, const char *field)
{
  for (guint i = 0; i < conflicts->len; i++)
    if (g_str_equal (((SpConflict *)conflicts->pdata[i])->field, field))
      return conflicts->pdata[i];
  return NULL;
}

/* After the migration, writes, merges and conflicts behave as before. */
static void
test_fixture_keeps_working (void)
{
  g_autofree char *tmp = NULL;
  g_autofree char *dir = copy_fixture (&tmp);
  g_autoptr (GError) error = NULL;
  SpVault *v = open_fixture (dir);
  g_autoptr (GPtrArray) conflicts = sp_vault_conflicts (v, NULL, &error);
  g_autoptr (GPtrArray) all = NULL;
  g_autoptr (GPtrArray) after = NULL;
  g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func ((GDestroyNotify)sp_change_free);
  g_autoptr (SpRecord) rec = NULL;
  const SpConflict *locality;
  gint64 last_seq = 0, seq_before;
  SpChange *c;
  char *record;

  g_assert_no_error (error);
  g_assert_cmpuint (conflicts->len, ==, 2);
  locality = find_conflict (conflicts, "locality");
  g_assert_nonnull (locality);
  record = g_strdup (locality->record);

  /* Replaying the other device's whole log is a no-op. */
  all = sp_vault_all_changes (v, &error);
  g_assert_no_error (error);
  seq_before = ((SpChange *)all->pdata[all->len - 1])->seq;
  for (guint i = 0; i < all->len; i++)
    {
      SpChange *a = all->pdata[i];
      if (g_str_equal (a->device, sp_vault_get_device_id (v)))
        continue;
      c = g_new0 (SpChange, 1);
      *c = (SpChange){ g_strdup (a->record),
                       g_strdup (a->kind),
                       g_strdup (a->field),
                       g_strdup (a->value),
                       a->hlc,
                       g_strdup (a->device),
                       g_strdup (a->supersedes),
                       a->tx,
                       0 };
      g_ptr_array_add (batch, c);
    }
  g_assert_cmpuint (batch->len, >, 0);
  g_assert_true (sp_vault_apply_changes (v, batch, &error));
  g_assert_no_error (error);
  g_clear_pointer (&all, g_ptr_array_unref);
  all = sp_vault_all_changes (v, &error);
  g_assert_cmpint (((SpChange *)all->pdata[all->len - 1])->seq, ==, seq_before);

  /* A contradicting copy of a logged change is refused. */
  c = batch->pdata[0];
  g_free (c->value);
  c->value = g_strdup ("forged");
  g_ptr_array_set_size (batch, 1);
  g_assert_false (sp_vault_apply_changes (v, batch, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT);
  g_clear_error (&error);

  /* Resolving a migrated conflict is a new local write that supersedes both. */
  g_assert_true (sp_vault_resolve_conflict (v, record, "locality", "Гомель", &error));
  g_assert_no_error (error);
  g_clear_pointer (&conflicts, g_ptr_array_unref);
  conflicts = sp_vault_conflicts (v, record, &error);
  g_assert_cmpuint (conflicts->len, ==, 0);
  rec = sp_vault_get (v, record, &error);
  g_assert_cmpstr (sp_record_get (rec, "locality"), ==, "Гомель");
  after = sp_vault_local_changes (v, seq_before, &last_seq, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (after->len, ==, 1);
  c = after->pdata[0];
  g_assert_cmpstr (c->record, ==, record);
  g_assert_cmpstr (c->kind, ==, "org");
  g_assert_cmpstr (c->field, ==, "locality");
  g_assert_cmpstr (c->device, ==, sp_vault_get_device_id (v));
  g_assert_nonnull (strchr (c->supersedes, ' ')); /* both concurrent versions */
  g_assert_cmpint (last_seq, ==, seq_before + 1);
  g_assert_cmpint (sp_vault_count_local_changes (v, seq_before, &error), ==, 1);
  g_free (record);
  sp_vault_close (v);
  sp_test_rmtree (tmp);
}

/* A migration step that fails leaves the vault as it was (one transaction). */
static void
test_failed_migration_changes_nothing (void)
{
  g_autofree char *tmp = sp_test_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "vault", NULL);
  g_autoptr (SpSecret) pass = sp_test_passphrase ("correct horse");
  g_autoptr (GError) error = NULL;
  SpVault *v = sp_vault_create_at_version (dir, pass, SP_KDF_INTERACTIVE, 6, &error);
  g_autoptr (GPtrArray) all = NULL;

  g_assert_no_error (error);
  g_assert_true (sp_exec (v,
                          "INSERT INTO records (id, kind, cl) VALUES "
                          "('0123456789abcdef0123456789abcdef', 'org', 1);"
                          "INSERT INTO changes (rec, kind, field, value, hlc, device, tx) VALUES "
                          "('0123456789abcdef0123456789abcdef', 'org', '_cl', '1', 1000, "
                          "'fedcba9876543210fedcba9876543210', 1);"
                          /* in the way of migration 8's CREATE TABLE names */
                          "CREATE TABLE names (x);",
                          &error));
  /* Step 7 (compartments.uid) is done and kept; step 8 fails as a whole. */
  g_assert_false (sp_schema_migrate (v, 8, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpint (sp_vault_get_schema_version (v), ==, 7);
  g_assert_true (sp_exec (v, "SELECT uid FROM compartments", &error));
  g_assert_true (sp_exec (v, "DROP TABLE names", &error));
  /* Nothing of the step is left: the old tables, no new one. */
  g_assert_true (sp_exec (v, "SELECT seq, rec, kind, device FROM changes", &error));
  g_assert_false (sp_exec (v, "SELECT 1 FROM devices", NULL));
  g_assert_false (sp_exec (v, "SELECT 1 FROM change_log", NULL));
  g_assert_true (sp_schema_migrate (v, 8, &error));
  g_assert_no_error (error);
  all = sp_vault_all_changes (v, &error);
  g_assert_cmpuint (all->len, ==, 1);
  g_assert_cmpstr (((SpChange *)all->pdata[0])->device, ==, "fedcba9876543210fedcba9876543210");
  sp_vault_close (v);
  sp_test_rmtree (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_true (sp_core_init (NULL));
  g_test_add_func ("/migrate/v6-fixture-intact", test_fixture_intact);
  g_test_add_func ("/migrate/v6-fixture-keeps-working", test_fixture_keeps_working);
  g_test_add_func ("/migrate/failed-step-changes-nothing", test_failed_migration_changes_nothing);
  return g_test_run ();
}
