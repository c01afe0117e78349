/* Seized-device defences in the core: panic wipe, duress passphrase,
 * encrypted backup and restore (docs/SECURITY.md).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp-vault-private.h"
#include "test-util.h"

#define PASS "correct horse"
#define DURESS "under duress 1"
#define BACKUP_PASS "backup staple"
#define MARKER "Marker-Zubr-7Q4"

static SpVault *
open_with (const char *dir, const char *pass, GError **error)
{
  g_autoptr (SpSecret) p = sp_test_passphrase (pass);

  return sp_vault_open (dir, p, error);
}

static char *
path_in (const char *dir, const char *name)
{
  return g_build_filename (dir, name, NULL);
}

static gboolean
exists_in (const char *dir, const char *name)
{
  g_autofree char *p = path_in (dir, name);

  return g_file_test (p, G_FILE_TEST_EXISTS);
}

static void
cleanup (const char *dir)
{
  g_autofree char *parent = g_path_get_dirname (dir);

  sp_test_rmtree (parent);
}

static GBytes *
read_in (const char *dir, const char *name)
{
  g_autofree char *p = path_in (dir, name);

  return sp_test_read_file (p);
}

/* ---- Panic ---------------------------------------------------------------- */

static void
panic_and_check (const char *dir, SpVault *open_vault)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *key_path = path_in (dir, "vault.key");
  g_autofree char *parent = g_path_get_dirname (dir);
  g_autofree char *hard = g_build_filename (parent, "key-hardlink", NULL);
  g_autoptr (GBytes) before = sp_test_read_file (key_path);
  g_autoptr (GBytes) after = NULL;
  guint8 parsed[SP_KEYFILE_SIZE];
  gint64 t0, t1;

  /* A second name for the key file's inode shows what became of its bytes. */
  g_assert_nonnull (before);
  g_assert_cmpint (link (key_path, hard), ==, 0);

  t0 = g_get_monotonic_time ();
  g_assert_true (sp_vault_panic (dir, &error));
  t1 = g_get_monotonic_time ();
  g_assert_no_error (error);
  g_test_message ("panic took %.1f ms%s", (t1 - t0) / 1000.0, open_vault ? " (vault open)" : "");
  sp_vault_close (open_vault);

  /* Overwritten in place: same size, none of the old bytes' structure. */
  after = sp_test_read_file (hard);
  g_assert_nonnull (after);
  g_assert_cmpuint (g_bytes_get_size (after), ==, g_bytes_get_size (before));
  g_assert_false (g_bytes_equal (before, after));
  g_assert_false (sp_keyfile_parse ("x", g_bytes_get_data (after, NULL), g_bytes_get_size (after),
                                    parsed, NULL));
  g_unlink (hard);

  g_assert_false (exists_in (dir, "vault.key"));
  g_assert_false (exists_in (dir, "vault.db"));
  g_assert_false (exists_in (dir, "vault.db-wal"));
  g_assert_false (exists_in (dir, "vault.db-shm"));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS)); /* empty folder removed */
  g_assert_false (sp_vault_exists (dir));

  g_assert_null (open_with (dir, PASS, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
}

static void
test_panic_closed (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autofree char *id = sp_test_insert (v, "org", "name", MARKER, NULL);

  sp_vault_close (v);
  panic_and_check (dir, NULL);
  cleanup (dir);
}

static void
test_panic_open (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autofree char *id = sp_test_insert (v, "org", "name", MARKER, NULL);

  /* The GUI panics with the vault open, then closes it. */
  g_assert_true (exists_in (dir, "vault.db-wal"));
  panic_and_check (dir, v);
  cleanup (dir);
}

static void
test_panic_nothing (void)
{
  g_autofree char *tmp = sp_test_tmpdir ();
  g_autofree char *other = path_in (tmp, "notes.txt");
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (other, "not ours", -1, NULL));
  g_assert_false (sp_vault_panic (tmp, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
  /* Files that are not ours are left alone. */
  g_assert_true (g_file_test (other, G_FILE_TEST_EXISTS));
  sp_test_rmtree (tmp);
}

/* ---- Duress --------------------------------------------------------------- */

/* vault.key's visible structure: header, both slots' algorithm and limits. */
static void
assert_same_layout (GBytes *a, GBytes *b)
{
  const guint8 *x = g_bytes_get_data (a, NULL), *y = g_bytes_get_data (b, NULL);

  g_assert_cmpuint (g_bytes_get_size (a), ==, SP_KEYFILE_SIZE);
  g_assert_cmpuint (g_bytes_get_size (b), ==, SP_KEYFILE_SIZE);
  g_assert_cmpmem (x, 16, y, 16);
  for (int s = 0; s < 2; s++)
    g_assert_cmpmem (x + 16 + s * 108, 20, y + 16 + s * 108, 20);
  /* and slot 1 carries slot 0's limits */
  g_assert_cmpmem (y + 16, 20, y + 16 + 108, 20);
}

static void
test_duress_takeover (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) duress = sp_test_passphrase (DURESS);
  SpVault *v = sp_test_vault_new (&dir);
  g_autofree char *id = sp_test_insert (v, "person", "full_name", MARKER, "notes", MARKER, NULL);
  g_autofree char *old_device = g_strdup (sp_vault_get_device_id (v));
  g_autoptr (GBytes) key_plain = NULL;
  g_autoptr (GBytes) key_duress = NULL;
  g_autoptr (GBytes) key_after = NULL;
  g_autoptr (GBytes) db = NULL;
  g_autofree char *id2 = NULL;
  guint8 page_sample[48], slot0_ct[48];
  SpKdfProfile profile;

  sp_vault_close (v);
  key_plain = read_in (dir, "vault.key");
  v = open_with (dir, PASS, &error);
  g_assert_no_error (error);
  g_assert_true (sp_vault_set_duress (v, duress, &error));
  g_assert_no_error (error);
  profile = sp_vault_get_kdf_profile (v);
  sp_vault_close (v);

  /* Nothing in the file's size or layout says a duress passphrase exists. */
  key_duress = read_in (dir, "vault.key");
  assert_same_layout (key_plain, key_duress);
  memcpy (slot0_ct, (const guint8 *)g_bytes_get_data (key_duress, NULL) + 16 + 60, 48);

  /* The real passphrase still opens the real vault. */
  v = open_with (dir, PASS, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sp_vault_count (v, "person", NULL, NULL), ==, 1);
  sp_vault_close (v);

  db = read_in (dir, "vault.db");
  g_assert_cmpuint (g_bytes_get_size (db), >=, 2 * 4096);
  memcpy (page_sample, (const guint8 *)g_bytes_get_data (db, NULL) + 4096 + 100,
          sizeof page_sample);

  /* The duress passphrase: an empty, working vault. */
  v = open_with (dir, DURESS, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  for (const SpKindInfo *const *k = sp_kinds (); *k; k++)
    g_assert_cmpint (sp_vault_count (v, (*k)->name, NULL, NULL), ==, 0);
  g_assert_cmpstr (sp_vault_get_device_id (v), !=, old_device);
  g_assert_null (sp_vault_get (v, id, &error));
  g_clear_error (&error);
  id2 = sp_test_insert (v, "org", "name", "Новая суполка", NULL);
  g_assert_cmpint (sp_vault_get_kdf_profile (v), ==, profile);
  sp_vault_close (v);

  /* The real data is gone from the folder: no marker, no byte of the old
   * database, not the old slot 0. */
  g_assert_false (sp_test_tree_contains (dir, MARKER, strlen (MARKER)));
  g_assert_false (sp_test_tree_contains (dir, (const char *)page_sample, sizeof page_sample));
  g_assert_false (sp_test_tree_contains (dir, (const char *)slot0_ct, sizeof slot0_ct));
  key_after = read_in (dir, "vault.key");
  assert_same_layout (key_plain, key_after);

  /* The real passphrase opens nothing now. */
  g_assert_null (open_with (dir, PASS, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);

  /* The duress passphrase is now the vault's ordinary passphrase: it keeps
   * what was written since and wipes nothing more. */
  v = open_with (dir, DURESS, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sp_vault_count (v, "org", NULL, NULL), ==, 1);
  sp_vault_close (v);
  cleanup (dir);
}

static void
test_duress_refuses_real_passphrase (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) same = sp_test_passphrase (PASS);
  SpVault *v = sp_test_vault_new (&dir);
  g_autoptr (GBytes) before = read_in (dir, "vault.key");
  g_autoptr (GBytes) after = NULL;

  g_assert_false (sp_vault_set_duress (v, same, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  after = read_in (dir, "vault.key");
  g_assert_true (g_bytes_equal (before, after));
  sp_vault_close (v);
  cleanup (dir);
}

static void
test_duress_clear (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) duress = sp_test_passphrase (DURESS);
  SpVault *v = sp_test_vault_new (&dir);
  g_autofree char *id = sp_test_insert (v, "org", "name", MARKER, NULL);
  g_autoptr (GBytes) set = NULL;
  g_autoptr (GBytes) cleared = NULL;

  g_assert_true (sp_vault_set_duress (v, duress, &error));
  set = read_in (dir, "vault.key");
  g_assert_true (sp_vault_clear_duress (v, &error));
  g_assert_no_error (error);
  cleared = read_in (dir, "vault.key");
  assert_same_layout (set, cleared);
  sp_vault_close (v);

  g_assert_null (open_with (dir, DURESS, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);
  v = open_with (dir, PASS, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sp_vault_count (v, "org", NULL, NULL), ==, 1);
  sp_vault_close (v);
  cleanup (dir);
}

/* ---- Backup --------------------------------------------------------------- */

/* Every row of every table but the full-text index, in a canonical order. */
static char *
dump_vault (SpVault *vault)
{
  sqlite3 *db = sp_vault_get_db (vault);
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GPtrArray) tables = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *st = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                       "name NOT LIKE 'sqlite_%' AND name NOT LIKE 'search%' "
                                       "ORDER BY name",
                                       -1, &st, NULL),
                   ==, SQLITE_OK);
  while (sqlite3_step (st) == SQLITE_ROW)
    g_ptr_array_add (tables, g_strdup ((const char *)sqlite3_column_text (st, 0)));
  sqlite3_finalize (st);
  g_assert_cmpuint (tables->len, >=, 6);

  for (guint i = 0; i < tables->len; i++)
    {
      g_autofree char *sql = NULL;
      int n;

      sql = g_strdup_printf ("SELECT * FROM \"%s\"", (char *)tables->pdata[i]);
      g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
      n = sqlite3_column_count (st);
      sqlite3_finalize (st);
      g_free (sql);
      /* ORDER BY every column: a canonical order whatever the table. */
      {
        g_autoptr (GString) order = g_string_new (NULL);
        for (int c = 1; c <= n; c++)
          g_string_append_printf (order, "%s%d", c > 1 ? "," : "", c);
        sql = g_strdup_printf ("SELECT * FROM \"%s\" ORDER BY %s", (char *)tables->pdata[i],
                               order->str);
      }
      g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
      g_string_append_printf (out, "[%s]\n", (char *)tables->pdata[i]);
      while (sqlite3_step (st) == SQLITE_ROW)
        {
          for (int c = 0; c < n; c++)
            {
              int t = sqlite3_column_type (st, c);
              if (t == SQLITE_NULL)
                g_string_append (out, "NULL");
              else if (t == SQLITE_INTEGER)
                g_string_append_printf (out, "i%" G_GINT64_FORMAT,
                                        (gint64)sqlite3_column_int64 (st, c));
              else if (t == SQLITE_FLOAT)
                g_string_append_printf (out, "f%.17g", sqlite3_column_double (st, c));
              else
                {
                  g_autofree char *hex = NULL;
                  int len = sqlite3_column_bytes (st, c);
                  const guint8 *p = sqlite3_column_blob (st, c);
                  hex = g_malloc (2 * (gsize)len + 1);
                  sodium_bin2hex (hex, 2 * (gsize)len + 1, p ? p : (const guint8 *)"", (gsize)len);
                  g_string_append_printf (out, "%c%s", t == SQLITE_TEXT ? 't' : 'b', hex);
                }
              g_string_append_c (out, c + 1 < n ? '|' : '\n');
            }
        }
      sqlite3_finalize (st);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* A vault with every kind of row: records of several kinds, edits, a deleted
 * record, a conflict from a second device, sync state, and enough text that
 * the backup spans several 64 KiB chunks. */
static SpVault *
rich_vault (char **dir_out)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *other_dir = NULL;
  SpVault *v = sp_test_vault_new (dir_out);
  SpVault *other = sp_test_vault_new (&other_dir);
  g_autofree char *org
      = sp_test_insert (v, "org", "name", MARKER, "region", "brest", "status", "member", NULL);
  g_autofree char *person = sp_test_insert (v, "person", "full_name", "Ганна Прыдуманая",
                                            "display_name", "Рамонак", "sensitivity", "high", NULL);
  g_autofree char *gone = sp_test_insert (v, "org", "name", "Былая суполка", NULL);
  g_autoptr (GPtrArray) changes = NULL;
  g_autofree char *long_note = g_strnfill (900, 'x');
  SpFieldValue edit = { "status", "candidate" };
  SpFieldValue edit2 = { "status", "partner" };
  gint64 last = 0;
  static const guint8 blob[] = { 0, 1, 2, 0xff, 0 };

  g_free (
      sp_test_insert (v, "affiliation", "person", person, "org", org, "role", "старшыня", NULL));
  g_assert_true (sp_vault_delete (v, gone, &error));
  for (int i = 0; i < 200; i++)
    {
      g_autofree char *name = g_strdup_printf ("Суполка %03d", i);
      g_autofree char *id = sp_test_insert (v, "org", "name", name, "notes", long_note, NULL);
    }

  /* A concurrent edit from another device: a conflict. */
  changes = sp_vault_local_changes (v, 0, &last, &error);
  g_assert_no_error (error);
  g_assert_true (sp_vault_apply_changes (other, changes, &error));
  g_assert_no_error (error);
  g_clear_pointer (&changes, g_ptr_array_unref);
  g_assert_true (sp_vault_update (v, org, &edit, 1, &error));
  g_assert_true (sp_vault_update (other, org, &edit2, 1, &error));
  g_assert_no_error (error);
  changes = sp_vault_local_changes (other, 0, &last, &error);
  g_assert_true (sp_vault_apply_changes (v, changes, &error));
  g_assert_no_error (error);
  {
    g_autoptr (GPtrArray) conflicts = sp_vault_conflicts (v, NULL, NULL);
    g_assert_cmpuint (conflicts->len, >, 0);
  }

  g_assert_true (sp_vault_sync_set (v, "test/blob", blob, sizeof blob, &error));
  g_assert_no_error (error);

  sp_vault_close (other);
  cleanup (other_dir);
  return v;
}

static gboolean
restore (const char *backup, const char *pass, const char *dir, const char *new_pass,
         gboolean replace, GError **error)
{
  g_autoptr (SpSecret) p = sp_test_passphrase (pass);
  g_autoptr (SpSecret) np = new_pass ? sp_test_passphrase (new_pass) : NULL;

  return sp_vault_restore (backup, p, dir, np, SP_KDF_INTERACTIVE, replace, error);
}

static void
make_backup (SpVault *v, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) bp = sp_test_passphrase (BACKUP_PASS);

  g_assert_true (sp_vault_backup (v, path, bp, SP_KDF_INTERACTIVE, &error));
  g_assert_no_error (error);
}

static void
test_backup_roundtrip (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  SpVault *v = rich_vault (&dir);
  g_autofree char *parent = g_path_get_dirname (dir);
  g_autofree char *backup = g_build_filename (parent, "b.splk", NULL);
  g_autofree char *dest = g_build_filename (parent, "new", "vault", NULL);
  g_autofree char *dest2 = g_build_filename (parent, "new2", NULL);
  g_autofree char *before = dump_vault (v);
  g_autofree char *after = NULL;
  g_autofree char *device = g_strdup (sp_vault_get_device_id (v));
  g_autoptr (GPtrArray) found = NULL;
  g_autoptr (GBytes) file = NULL;

  make_backup (v, backup);
  sp_vault_close (v);
  file = sp_test_read_file (backup);
  g_assert_cmpuint (g_bytes_get_size (file), >, 3 * 65536); /* several chunks */
  g_assert_false (sp_test_tree_contains (parent, MARKER, strlen (MARKER)));
  g_test_message ("backup of %s: %" G_GSIZE_FORMAT " bytes", "rich vault", g_bytes_get_size (file));

  /* New machine, new passphrase. */
  g_assert_true (restore (backup, BACKUP_PASS, dest, "fresh passphrase", FALSE, &error));
  g_assert_no_error (error);
  g_assert_null (open_with (dest, BACKUP_PASS, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);
  v = open_with (dest, "fresh passphrase", &error);
  g_assert_no_error (error);
  after = dump_vault (v);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpstr (sp_vault_get_device_id (v), ==, device);
  found = sp_vault_search (v, MARKER, NULL, 0, &error); /* the index was rebuilt */
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_true (sp_vault_check (v, &error));
  sp_vault_close (v);
  /* no temporary folder left beside it */
  {
    g_autofree char *newdir = g_build_filename (parent, "new", NULL);
    g_autoptr (GDir) d = g_dir_open (newdir, 0, NULL);
    const char *name;
    guint n = 0;
    while ((name = g_dir_read_name (d)))
      n++;
    g_assert_cmpuint (n, ==, 1);
  }

  /* Without a new passphrase the backup's opens it. */
  g_assert_true (restore (backup, BACKUP_PASS, dest2, NULL, FALSE, &error));
  g_assert_no_error (error);
  v = open_with (dest2, BACKUP_PASS, &error);
  g_assert_no_error (error);
  g_free (after);
  after = dump_vault (v);
  g_assert_cmpstr (after, ==, before);
  sp_vault_close (v);

  /* An existing vault is not replaced unless asked. */
  g_assert_false (restore (backup, BACKUP_PASS, dest2, NULL, FALSE, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_EXISTS);
  cleanup (dir);
}

/* The target: an existing vault that a failed restore must leave exactly as
 * it was, byte for byte, with nothing added beside it. */
typedef struct
{
  char *parent;
  char *dir;
  GBytes *key;
  GBytes *db;
} Target;

static void
target_init (Target *t)
{
  SpVault *v = sp_test_vault_new (&t->dir);
  g_autofree char *id = sp_test_insert (v, "org", "name", "Тая, што была", NULL);

  sp_vault_close (v);
  t->parent = g_path_get_dirname (t->dir);
  t->key = read_in (t->dir, "vault.key");
  t->db = read_in (t->dir, "vault.db");
}

static void
target_assert_untouched (Target *t)
{
  g_autoptr (GBytes) key = read_in (t->dir, "vault.key");
  g_autoptr (GBytes) db = read_in (t->dir, "vault.db");
  g_autoptr (GDir) d = g_dir_open (t->parent, 0, NULL);
  const char *name;

  g_assert_true (g_bytes_equal (key, t->key));
  g_assert_true (g_bytes_equal (db, t->db));
  while ((name = g_dir_read_name (d)))
    g_assert_true (g_str_equal (name, "vault")); /* no leftover temporary folder */
}

static void
target_clear (Target *t)
{
  sp_test_rmtree (t->parent);
  g_free (t->parent);
  g_free (t->dir);
  g_bytes_unref (t->key);
  g_bytes_unref (t->db);
}

static void
write_bytes (const char *path, const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, (const char *)data, (gssize)len, &error));
}

static void
test_backup_tampered (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autofree char *parent = g_path_get_dirname (dir);
  g_autofree char *backup = g_build_filename (parent, "b.splk", NULL);
  g_autofree char *bad = g_build_filename (parent, "bad.splk", NULL);
  g_autoptr (GBytes) good = NULL;
  g_autofree char *note = g_strnfill (990, 'n');
  Target t = { 0 };
  gsize size;
  guint tried = 0;

  for (int i = 0; i < 80; i++)
    {
      g_autofree char *id = sp_test_insert (v, "org", "name", MARKER, "notes", note, NULL);
    }
  make_backup (v, backup);
  sp_vault_close (v);
  good = sp_test_read_file (backup);
  size = g_bytes_get_size (good);
  g_assert_cmpuint (size, >, 65536 + 200); /* at least two chunks */
  target_init (&t);

  /* Every header byte, the first frame's length, then offsets spread over
   * the whole file, and the last bytes. */
  for (gsize off = 0; off < size; off += off < 90 ? 1 : (off + 5 >= size ? 1 : size / 20 + 1))
    {
      g_autoptr (GError) error = NULL;
      g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (good, NULL), size);

      copy[off] ^= 0x01; /* small: a KDF limit stays within bounds and cheap */
      write_bytes (bad, copy, size);
      g_assert_false (restore (bad, BACKUP_PASS, t.dir, NULL, TRUE, &error));
      g_assert_nonnull (error);
      g_assert_true (error->domain == SP_CORE_ERROR);
      g_assert_true (error->code == SP_CORE_ERROR_CORRUPT
                     || error->code == SP_CORE_ERROR_WRONG_PASSPHRASE
                     || error->code == SP_CORE_ERROR_TOO_NEW);
      g_unlink (bad);
      target_assert_untouched (&t);
      tried++;
    }
  g_test_message ("%u tampered copies refused", tried);

  /* A frame appended after the final one. */
  {
    g_autoptr (GError) error = NULL;
    g_autofree guint8 *longer = g_malloc (size + 40);
    memcpy (longer, g_bytes_get_data (good, NULL), size);
    memset (longer + size, 0x11, 40);
    write_bytes (bad, longer, size + 40);
    g_assert_false (restore (bad, BACKUP_PASS, t.dir, NULL, TRUE, &error));
    g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT);
    g_unlink (bad);
    target_assert_untouched (&t);
  }

  /* The untampered file does restore over it (replace). */
  {
    g_autoptr (GError) error = NULL;
    SpVault *r;
    g_assert_true (restore (backup, BACKUP_PASS, t.dir, NULL, TRUE, &error));
    g_assert_no_error (error);
    g_assert_null (open_with (t.dir, PASS, &error)); /* the old vault is gone */
    g_clear_error (&error);
    r = open_with (t.dir, BACKUP_PASS, &error);
    g_assert_no_error (error);
    g_assert_cmpint (sp_vault_count (r, "org", NULL, NULL), ==, 80);
    sp_vault_close (r);
  }
  target_clear (&t);
  cleanup (dir);
}

static void
test_backup_truncated (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autofree char *parent = g_path_get_dirname (dir);
  g_autofree char *backup = g_build_filename (parent, "b.splk", NULL);
  g_autofree char *bad = g_build_filename (parent, "bad.splk", NULL);
  g_autoptr (GBytes) good = NULL;
  g_autofree char *note = g_strnfill (990, 't');
  Target t = { 0 };
  gsize size;
  guint tried = 0;

  for (int i = 0; i < 80; i++)
    {
      g_autofree char *id = sp_test_insert (v, "org", "name", MARKER, "notes", note, NULL);
    }
  make_backup (v, backup);
  sp_vault_close (v);
  good = sp_test_read_file (backup);
  size = g_bytes_get_size (good);
  target_init (&t);

  for (gsize len = 0; len < size; len += len < 100 ? 11 : size / 15 + 1)
    {
      g_autoptr (GError) error = NULL;

      write_bytes (bad, g_bytes_get_data (good, NULL), len);
      g_assert_false (restore (bad, BACKUP_PASS, t.dir, NULL, TRUE, &error));
      g_assert_nonnull (error);
      g_assert_true (error->code == SP_CORE_ERROR_CORRUPT
                     || error->code == SP_CORE_ERROR_WRONG_PASSPHRASE);
      target_assert_untouched (&t);
      tried++;
    }
  /* Cut just before the end: the FINAL chunk is missing its last bytes. */
  for (gsize cut = 1; cut <= 20; cut += cut < 4 || cut >= 15 ? 1 : 5)
    {
      g_autoptr (GError) error = NULL;

      write_bytes (bad, g_bytes_get_data (good, NULL), size - cut);
      g_assert_false (restore (bad, BACKUP_PASS, t.dir, NULL, TRUE, &error));
      g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT);
      target_assert_untouched (&t);
      tried++;
    }
  g_unlink (bad);
  g_test_message ("%u truncated copies refused", tried);
  target_clear (&t);
  cleanup (dir);
}

static void
test_backup_wrong_passphrase (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autofree char *parent = g_path_get_dirname (dir);
  g_autofree char *backup = g_build_filename (parent, "b.splk", NULL);
  g_autofree char *id = sp_test_insert (v, "org", "name", MARKER, NULL);
  Target t = { 0 };

  make_backup (v, backup);
  sp_vault_close (v);
  target_init (&t);
  g_assert_false (restore (backup, "not the passphrase", t.dir, NULL, TRUE, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_WRONG_PASSPHRASE);
  target_assert_untouched (&t);
  g_clear_error (&error);
  /* the vault's passphrase is not the backup's */
  g_assert_false (restore (backup, PASS, t.dir, NULL, TRUE, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_WRONG_PASSPHRASE);
  target_assert_untouched (&t);
  g_clear_error (&error);
  /* not a backup at all */
  g_assert_false (restore (t.dir, BACKUP_PASS, t.dir, NULL, TRUE, &error));
  g_assert_nonnull (error);
  target_assert_untouched (&t);
  target_clear (&t);
  cleanup (dir);
}

/* The backup's plaintext parser on hostile input (the fuzz target's code):
 * a hand-made payload that names an unknown table, a column twice, or lies
 * about its row count is refused and writes nothing. */
typedef struct
{
  SpBackupSource base;
  const guint8 *data;
  gsize len, pos;
} MemSource;

static gboolean
mem_read (SpBackupSource *base, guint8 *buf, gsize len, GError **error)
{
  MemSource *m = (MemSource *)base;

  if (len > m->len - m->pos)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT, "short");
      return FALSE;
    }
  memcpy (buf, m->data + m->pos, len);
  m->pos += len;
  return TRUE;
}

static gboolean
load_mem (SpVault *v, const char *data, gsize len, GError **error)
{
  MemSource m = { { mem_read }, (const guint8 *)data, len, 0 };
  gboolean ok;

  g_assert_true (sp_exec (v, "BEGIN", NULL));
  ok = sp_backup_load_payload (v, &m.base, error);
  sqlite3_exec (sp_vault_get_db (v), "ROLLBACK", NULL, NULL, NULL);
  return ok;
}

static void
test_backup_payload_hostile (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  /* 'T' "meta" 2 cols "key" "value"; 'R' text "a", text "b"; 'E' 1 */
  /* 'T' "meta", 2 columns "key" "value"; 'R' text "a", text "b"; 'E' 1 row.
   * (Hex escapes are split from following hex letters.) */
  static const char good[] = "T\x04\x00meta\x02\x00\x03\x00key\x05\x00value"
                             "R\x03\x01\x00\x00\x00"
                             "a\x03\x01\x00\x00\x00"
                             "b"
                             "E\x01\x00\x00\x00\x00\x00\x00\x00";
#define BAD(s)                                                                                     \
  {                                                                                                \
    s, sizeof (s) - 1                                                                              \
  }
  static const struct
  {
    const char *data;
    gsize len;
  } bad[] = {
    BAD ("T\x06\x00sqlite\x01\x00\x03\x00key"),          /* unknown table */
    BAD ("T\x04\x00meta\x02\x00\x03\x00key\x03\x00key"), /* column twice */
    BAD ("T\x04\x00meta\x01\x00\x04\x00"
         "evil"),                                                          /* unknown column */
    BAD ("R\x00"),                                                         /* row before table */
    BAD ("E\x05\x00\x00\x00\x00\x00\x00\x00"),                             /* row count lies */
    BAD ("T\x04\x00meta\x01\x00\x03\x00keyR\x03\xff\xff\xff\xff"),         /* huge value */
    BAD ("T\x04\x00meta\x01\x00\x03\x00keyR\x09"),                         /* unknown type */
    BAD ("T\x04\x00meta\x01\x00\x03\x00keyR\x03\x02\x00\x00\x00\xc3\x28"), /* not UTF-8 */
    BAD ("X"),                                                             /* unknown item */
    BAD (""),                                                              /* nothing */
  };
#undef BAD
  g_autoptr (GError) error = NULL;

  g_assert_true (load_mem (v, good, sizeof good - 1, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_clear_error (&error);
      g_assert_false (load_mem (v, bad[i].data, bad[i].len, &error));
      g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT);
    }
  /* The vault is still its old self. */
  g_clear_error (&error);
  sp_vault_close (v);
  v = open_with (dir, PASS, &error);
  g_assert_no_error (error);
  sp_vault_close (v);
  cleanup (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_true (sp_core_init (NULL));

  g_test_add_func ("/security/panic/closed", test_panic_closed);
  g_test_add_func ("/security/panic/open", test_panic_open);
  g_test_add_func ("/security/panic/nothing", test_panic_nothing);
  g_test_add_func ("/security/duress/takeover", test_duress_takeover);
  g_test_add_func ("/security/duress/refuses-real-passphrase", test_duress_refuses_real_passphrase);
  g_test_add_func ("/security/duress/clear", test_duress_clear);
  g_test_add_func ("/security/backup/roundtrip", test_backup_roundtrip);
  g_test_add_func ("/security/backup/tampered", test_backup_tampered);
  g_test_add_func ("/security/backup/truncated", test_backup_truncated);
  g_test_add_func ("/security/backup/wrong-passphrase", test_backup_wrong_passphrase);
  g_test_add_func ("/security/backup/payload-hostile", test_backup_payload_hostile);
  return g_test_run ();
}
