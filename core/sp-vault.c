/* The vault: a folder with vault.key (wrapped master key) and vault.db
 * (SQLCipher, keyed with the raw master key).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp-vault-private.h"

#define KEY_FILE "vault.key"
#define DB_FILE "vault.db"

char *
sp_vault_default_dir (void)
{
  const char *env = g_getenv ("SUPOLKA_VAULT");

  if (env && *env)
    return g_strdup (env);
  return g_build_filename (g_get_user_data_dir (), "supolka", NULL);
}

gboolean
sp_vault_exists (const char *dir)
{
  g_autofree char *path = g_build_filename (dir, KEY_FILE, NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* Keys the connection with the raw 256-bit key and pins every cipher setting,
 * so the file does not depend on the defaults of the SQLCipher in use: 3.4
 * (Debian 12) and 4.x open it alike. With a raw key there is no passphrase KDF;
 * kdf_iter is pinned anyway because it also seeds the HMAC key derivation. */
static gboolean
key_database (sqlite3 *db, SpSecret *master_key, GError **error)
{
  /* "x'<64 hex>'" in secure memory; never in SQL text. */
  g_autoptr (SpSecret) raw = sp_secret_new (3 + 2 * SP_MASTER_KEY_BYTES);
  char *p = (char *)sp_secret_data (raw);
  sqlite3_stmt *stmt = NULL;
  gboolean v4 = FALSE;
  int rc;

  p[0] = 'x';
  p[1] = '\'';
  sodium_bin2hex (p + 2, 2 * SP_MASTER_KEY_BYTES + 1, sp_secret_data (master_key),
                  SP_MASTER_KEY_BYTES);
  p[2 + 2 * SP_MASTER_KEY_BYTES] = '\'';
  rc = sqlite3_key (db, p, 3 + 2 * SP_MASTER_KEY_BYTES);
  if (rc != SQLITE_OK)
    return sp_sqlite_error (db, rc, error);

  if (sqlite3_prepare_v2 (db, "PRAGMA cipher_version", -1, &stmt, NULL) == SQLITE_OK
      && sqlite3_step (stmt) == SQLITE_ROW)
    v4 = g_str_has_prefix ((const char *)sqlite3_column_text (stmt, 0), "4.");
  sqlite3_finalize (stmt);

  rc = sqlite3_exec (
      db,
      "PRAGMA cipher_page_size = " G_STRINGIFY (SP_PAGE_SIZE) ";"
                                                              "PRAGMA kdf_iter = 64000;"
                                                              "PRAGMA cipher_use_hmac = ON;",
      NULL, NULL, NULL);
  if (rc == SQLITE_OK && v4)
    rc = sqlite3_exec (db,
                       "PRAGMA cipher_memory_security = ON;"
                       "PRAGMA cipher_hmac_algorithm = HMAC_SHA1;"
                       "PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA1;",
                       NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return sp_sqlite_error (db, rc, error);
  return TRUE;
}

static sqlite3 *
open_database (const char *path, SpSecret *master_key, gboolean create, GError **error)
{
  sqlite3 *db = NULL;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  int rc;

  if (!create)
    {
      GStatBuf st;

      if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode))
        {
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT,
                       _ ("The vault's database %s is missing"), path);
          return NULL;
        }
      /* SQLCipher would take an empty file for a new database and write to
       * it; a partial page means the file was cut short. */
      if (st.st_size == 0 || st.st_size % SP_PAGE_SIZE != 0)
        {
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT,
                       _ ("The vault's database %s is truncated"), path);
          return NULL;
        }
    }
  rc = sqlite3_open_v2 (path, &db, flags, NULL);
  if (rc != SQLITE_OK)
    {
      sp_sqlite_error (db, rc, error);
      sqlite3_close (db);
      return NULL;
    }
  /* master_key NULL: sp_vault_create_unencrypted_for_bench() only. */
  if (master_key != NULL && !key_database (db, master_key, error))
    {
      sqlite3_close (db);
      return NULL;
    }
  /* The first read decrypts page 1 and checks its HMAC: a wrong key or a
   * damaged file fails here, before anything is written. */
  /* An existing vault must already hold our tables: nothing is written to a
   * file we do not recognise. */
  rc = sqlite3_exec (db,
                     create ? "SELECT count(*) FROM sqlite_master"
                            : "SELECT 1 FROM meta WHERE key = 'device_id'",
                     NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT,
                   _ ("The vault's database is damaged or does not belong to this key file"));
      sqlite3_close (db);
      return NULL;
    }
  rc = sqlite3_exec (db,
                     "PRAGMA journal_mode = WAL;"
                     "PRAGMA synchronous = NORMAL;"
                     "PRAGMA secure_delete = ON;"
                     "PRAGMA temp_store = MEMORY;"
                     "PRAGMA foreign_keys = OFF;"
                     /* Up to 64 MiB of decrypted pages (default ~2 MB): every
                      * page read from the file is decrypted and its HMAC
                      * checked, so a list or a search that does not fit the
                      * cache pays that again on every keystroke. These pages
                      * are plaintext in process memory only while unlocked, as
                      * the smaller cache's were; sp_vault_close() frees them
                      * (SQLCipher 4's cipher_memory_security, pinned ON in
                      * key_database(), wipes freed memory; 3.4 has no such
                      * setting, whatever the cache size). */
                     "PRAGMA cache_size = -65536;",
                     NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      sp_sqlite_error (db, rc, error);
      sqlite3_close (db);
      return NULL;
    }
  sqlite3_busy_timeout (db, 5000);
  return db;
}

static char *
meta_get (SpVault *vault, const char *key)
{
  g_autoptr (sqlite3_stmt) stmt = sp_prepare (vault, "SELECT value FROM meta WHERE key = ?", NULL);

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    return g_strdup ((const char *)sqlite3_column_text (stmt, 0));
  return NULL;
}

static gboolean
meta_set (SpVault *vault, const char *key, const char *value, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt
      = sp_prepare (vault, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, value, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return sp_sqlite_error (vault->db, sqlite3_errcode (vault->db), error);
  return TRUE;
}

/* meta last_local_seq (schema 8 keeps it; a vault that has none yet — new,
 * or made before — gets it from one scan of the log). */
static gboolean
load_last_local_seq (SpVault *vault, GError **error)
{
  g_autofree char *value = meta_get (vault, "last_local_seq");
  g_autoptr (sqlite3_stmt) st = NULL;

  vault->last_local_seq_dirty = FALSE;
  if (vault->schema_version < 8) /* tests of older schemas: always look */
    {
      vault->last_local_seq = G_MAXINT64;
      return TRUE;
    }
  if (value)
    {
      vault->last_local_seq = g_ascii_strtoll (value, NULL, 10);
      return TRUE;
    }
  st = sp_prepare (vault,
                   "SELECT coalesce(max(seq), 0) FROM change_log WHERE device = "
                   "(SELECT id FROM devices WHERE hex = ?)",
                   error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, vault->device_id, -1, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_ROW)
    return sp_sqlite_error (vault->db, sqlite3_errcode (vault->db), error);
  vault->last_local_seq = sqlite3_column_int64 (st, 0);
  return TRUE;
}

static gboolean
load_state (SpVault *vault, GError **error)
{
  g_autofree char *device = meta_get (vault, "device_id");
  g_autofree char *hlc = meta_get (vault, "hlc_last");
  g_autofree char *tx = meta_get (vault, "next_tx");

  if (!sp_is_hex_id (device))
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT,
                   _ ("The vault's database is damaged: its settings could not be read"));
      return FALSE;
    }
  memcpy (vault->device_id, device, SP_ID_HEX_LEN + 1);
  vault->hlc_last = hlc ? g_ascii_strtoull (hlc, NULL, 10) : 0;
  vault->next_tx = tx ? g_ascii_strtoll (tx, NULL, 10) : 1;
  if (vault->next_tx < 1)
    vault->next_tx = 1;
  return load_last_local_seq (vault, error);
}

static SpVault *
vault_new (const char *dir)
{
  SpVault *vault = g_new0 (SpVault, 1);

  vault->dir = g_strdup (dir);
  return vault;
}

SpVault *
sp_vault_create_at_version (const char *dir, SpSecret *passphrase, SpKdfProfile profile,
                            int version, GError **error)
{
  g_autofree char *key_path = g_build_filename (dir, KEY_FILE, NULL);
  g_autofree char *db_path = g_build_filename (dir, DB_FILE, NULL);
  g_autoptr (SpVault) vault = NULL;
  g_autofree char *device = NULL;

  g_return_val_if_fail (dir != NULL && passphrase != NULL, NULL);

  if (g_file_test (key_path, G_FILE_TEST_EXISTS) || g_file_test (db_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_EXISTS, _ ("A vault already exists in %s"),
                   dir);
      return NULL;
    }
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO, _ ("Could not create %s: %s"), dir,
                   g_strerror (saved));
      return NULL;
    }

  /* The folder may have existed: it must be ours, and ours alone. */
  {
    GStatBuf st;
    if (g_stat (dir, &st) != 0 || st.st_uid != getuid ())
      {
        g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO,
                     _ ("%s belongs to another user; choose another folder"), dir);
        return NULL;
      }
    if ((st.st_mode & 077) != 0 && g_chmod (dir, 0700) != 0)
      {
        int saved = errno;
        g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO, _ ("Could not protect %s: %s"), dir,
                     g_strerror (saved));
        return NULL;
      }
  }

  vault = vault_new (dir);
  vault->master_key = sp_secret_new (SP_MASTER_KEY_BYTES);
  randombytes_buf (sp_secret_data (vault->master_key), SP_MASTER_KEY_BYTES);

  /* The database first: a vault.key without its database is never left behind. */
  vault->db = open_database (db_path, vault->master_key, TRUE, error);
  if (vault->db == NULL)
    {
      g_unlink (db_path);
      return NULL;
    }
  if (!sp_schema_migrate (vault, version, error))
    goto fail;
  device = sp_random_id ();
  if (!sp_exec (vault, "BEGIN", error) || !meta_set (vault, "device_id", device, error)
      || !meta_set (vault, "next_tx", "1", error) || !meta_set (vault, "hlc_last", "0", error)
      || !sp_exec (vault, "COMMIT", error))
    goto fail;
  if (!load_state (vault, error))
    goto fail;
  if (!sp_keyfile_create (key_path, passphrase, profile, vault->master_key, error))
    goto fail;
  return g_steal_pointer (&vault);

fail:
  sqlite3_close (vault->db);
  vault->db = NULL;
  g_unlink (db_path);
  {
    g_autofree char *wal = g_strconcat (db_path, "-wal", NULL);
    g_autofree char *shm = g_strconcat (db_path, "-shm", NULL);
    g_unlink (wal);
    g_unlink (shm);
  }
  return NULL;
}

SpVault *
sp_vault_create (const char *dir, SpSecret *passphrase, SpKdfProfile profile, GError **error)
{
  return sp_vault_create_at_version (dir, passphrase, profile, sp_vault_schema_version_latest (),
                                     error);
}

/* sp-panic.c (duress) and sp-backup.c (restore): a database without a key
 * file. On failure nothing is left behind. */
SpVault *
sp_vault_create_db_with_key (const char *dir, SpSecret *master_key, int version, GError **error)
{
  g_autofree char *db_path = g_build_filename (dir, DB_FILE, NULL);
  g_autoptr (SpVault) vault = vault_new (dir);
  g_autofree char *device = sp_random_id ();

  vault->master_key = master_key;
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO, _ ("Could not create %s: %s"), dir,
                   g_strerror (saved));
      return NULL;
    }
  if (g_file_test (db_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_EXISTS, _ ("A vault already exists in %s"),
                   dir);
      return NULL;
    }
  vault->db = open_database (db_path, vault->master_key, TRUE, error);
  if (vault->db == NULL)
    {
      g_unlink (db_path);
      return NULL;
    }
  if (!sp_schema_migrate (vault, version, error) || !sp_exec (vault, "BEGIN", error)
      || !meta_set (vault, "device_id", device, error) || !meta_set (vault, "next_tx", "1", error)
      || !meta_set (vault, "hlc_last", "0", error) || !sp_exec (vault, "COMMIT", error)
      || !load_state (vault, error))
    {
      g_autofree char *wal = g_strconcat (db_path, "-wal", NULL);
      g_autofree char *shm = g_strconcat (db_path, "-shm", NULL);

      sqlite3_close (vault->db);
      vault->db = NULL;
      g_unlink (db_path);
      g_unlink (wal);
      g_unlink (shm);
      return NULL;
    }
  return g_steal_pointer (&vault);
}

gboolean
sp_vault_reload_state (SpVault *vault, GError **error)
{
  return load_state (vault, error);
}

SpVault *
sp_vault_open (const char *dir, SpSecret *passphrase, GError **error)
{
  g_autofree char *key_path = g_build_filename (dir, KEY_FILE, NULL);
  g_autofree char *db_path = g_build_filename (dir, DB_FILE, NULL);
  g_autoptr (SpVault) vault = NULL;
  g_autoptr (SpSecret) slot_key = NULL;
  guint8 keyfile[SP_KEYFILE_SIZE];
  SpKeySlot slot = SP_SLOT_NONE;

  g_return_val_if_fail (dir != NULL && passphrase != NULL, NULL);

  vault = vault_new (dir);
  vault->master_key
      = sp_keyfile_unwrap_full (key_path, passphrase, &slot, &slot_key, keyfile, error);
  if (vault->master_key == NULL)
    return NULL;
  if (slot == SP_SLOT_DURESS)
    {
      /* The duress passphrase: the real vault is destroyed and an empty one,
       * under the decoy key, is opened in its place (docs/SECURITY.md). */
      SpVault *decoy = sp_vault_duress_takeover (dir, keyfile, slot_key,
                                                 g_steal_pointer (&vault->master_key), error);
      sodium_memzero (keyfile, sizeof keyfile);
      return decoy;
    }
  sodium_memzero (keyfile, sizeof keyfile);
  vault->db = open_database (db_path, vault->master_key, FALSE, error);
  if (vault->db == NULL)
    return NULL;
  if (!sp_schema_migrate (vault, sp_vault_schema_version_latest (), error))
    return NULL;
  if (!load_state (vault, error))
    return NULL;
  return g_steal_pointer (&vault);
}

void
sp_vault_close (SpVault *vault)
{
  if (vault == NULL)
    return;
  if (vault->db)
    {
      if (vault->current_tx)
        sqlite3_exec (vault->db, "ROLLBACK", NULL, NULL, NULL);
      g_clear_pointer (&vault->stmts, g_hash_table_unref);
      sp_search_forget (vault);
      sqlite3_close_v2 (vault->db);
      vault->db = NULL;
    }
  g_clear_pointer (&vault->master_key, sp_secret_free);
  sodium_memzero (vault->device_id, sizeof vault->device_id);
  g_free (vault->dir);
  g_free (vault);
}

gboolean
sp_vault_change_passphrase (SpVault *vault, SpSecret *new_passphrase, SpKdfProfile profile,
                            GError **error)
{
  g_autofree char *key_path = NULL;

  g_return_val_if_fail (vault != NULL && vault->master_key != NULL, FALSE);
  g_return_val_if_fail (new_passphrase != NULL, FALSE);

  key_path = g_build_filename (vault->dir, KEY_FILE, NULL);
  return sp_keyfile_rewrap (key_path, SP_SLOT_MAIN, new_passphrase, profile, vault->master_key,
                            error);
}

SpKdfProfile
sp_vault_get_kdf_profile (SpVault *vault)
{
  g_autofree char *key_path = g_build_filename (vault->dir, KEY_FILE, NULL);
  SpKdfProfile profile = SP_KDF_MODERATE;

  sp_keyfile_get_profile (key_path, SP_SLOT_MAIN, &profile, NULL);
  return profile;
}

gboolean
sp_vault_check (SpVault *vault, GError **error)
{
  g_autoptr (sqlite3_stmt) st = NULL;
  int rc;

  g_return_val_if_fail (vault != NULL, FALSE);
  if (vault->db == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_LOCKED, _ ("The vault is locked"));
      return FALSE;
    }
  st = sp_prepare (vault, "PRAGMA integrity_check", error);
  if (st == NULL)
    return FALSE;
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW && g_strcmp0 ((const char *)sqlite3_column_text (st, 0), "ok") == 0)
    return TRUE;
  g_set_error (
      error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT, _ ("The vault's database is damaged: %s"),
      rc == SQLITE_ROW ? (const char *)sqlite3_column_text (st, 0) : sqlite3_errmsg (vault->db));
  return FALSE;
}

const char *
sp_vault_get_dir (SpVault *vault)
{
  return vault->dir;
}

const char *
sp_vault_get_device_id (SpVault *vault)
{
  return vault->device_id;
}

int
sp_vault_get_schema_version (SpVault *vault)
{
  return vault->schema_version;
}

sqlite3 *
sp_vault_get_db (SpVault *vault)
{
  return vault->db;
}

/* ---- Transactions ---- */

static gboolean
tx_start (SpVault *vault, GError **error)
{
  if (!sp_exec (vault, "BEGIN IMMEDIATE", error))
    return FALSE;
  vault->current_tx = vault->next_tx++;
  return TRUE;
}

static gboolean
tx_finish (SpVault *vault, GError **error)
{
  char buf[32];

  if (!sp_search_flush (vault, error))
    return FALSE;
  g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, vault->next_tx);
  if (!meta_set (vault, "next_tx", buf, error))
    return FALSE;
  g_snprintf (buf, sizeof buf, "%" G_GUINT64_FORMAT, vault->hlc_last);
  if (!meta_set (vault, "hlc_last", buf, error))
    return FALSE;
  g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, vault->last_local_seq);
  if (vault->last_local_seq_dirty && !meta_set (vault, "last_local_seq", buf, error))
    return FALSE;
  if (!sp_exec (vault, "COMMIT", error))
    return FALSE;
  vault->current_tx = 0;
  vault->last_local_seq_dirty = FALSE;
  return TRUE;
}

static void
tx_abort (SpVault *vault)
{
  sqlite3_exec (vault->db, "ROLLBACK", NULL, NULL, NULL);
  sp_search_forget (vault);
  vault->current_tx = 0;
  vault->explicit_tx = FALSE;
  /* next_tx and hlc_last stay advanced in memory: harmless, they only grow. */
}

gboolean
sp_vault_begin (SpVault *vault, GError **error)
{
  g_return_val_if_fail (vault != NULL && vault->db != NULL, FALSE);
  g_return_val_if_fail (!vault->explicit_tx, FALSE);
  if (!tx_start (vault, error))
    return FALSE;
  vault->explicit_tx = TRUE;
  return TRUE;
}

gboolean
sp_vault_commit (SpVault *vault, GError **error)
{
  g_return_val_if_fail (vault != NULL && vault->explicit_tx, FALSE);
  if (!tx_finish (vault, error))
    {
      tx_abort (vault);
      return FALSE;
    }
  vault->explicit_tx = FALSE;
  return TRUE;
}

void
sp_vault_rollback (SpVault *vault)
{
  g_return_if_fail (vault != NULL);
  if (vault->current_tx)
    tx_abort (vault);
}

gboolean
sp_vault_savepoint (SpVault *vault, GError **error)
{
  g_return_val_if_fail (vault != NULL && vault->explicit_tx, FALSE);
  return sp_exec (vault, "SAVEPOINT part", error);
}

gboolean
sp_vault_release (SpVault *vault, GError **error)
{
  g_return_val_if_fail (vault != NULL && vault->explicit_tx, FALSE);
  return sp_exec (vault, "RELEASE part", error);
}

/* The records noted for indexing stay noted: indexing one the rollback took
 * back only re-reads what is stored (nothing, for a record that is gone). */
void
sp_vault_rollback_to_savepoint (SpVault *vault)
{
  g_return_if_fail (vault != NULL && vault->explicit_tx);
  sqlite3_exec (vault->db, "ROLLBACK TO part; RELEASE part", NULL, NULL, NULL);
  sp_search_forget_ranks (vault);
}

gboolean
sp_vault_tx_begin_implicit (SpVault *vault, gboolean *started, GError **error)
{
  *started = FALSE;
  if (vault->db == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_LOCKED, _ ("The vault is locked"));
      return FALSE;
    }
  if (vault->current_tx)
    return TRUE;
  if (!tx_start (vault, error))
    return FALSE;
  *started = TRUE;
  return TRUE;
}

gboolean
sp_vault_tx_end_implicit (SpVault *vault, gboolean started, gboolean ok, GError **error)
{
  if (!started)
    return ok;
  if (!ok)
    {
      tx_abort (vault);
      return FALSE;
    }
  if (!tx_finish (vault, error))
    {
      tx_abort (vault);
      return FALSE;
    }
  return TRUE;
}

gboolean
sp_vault_hlc_tick (SpVault *vault, guint64 *out, GError **error)
{
  guint64 now_ms = (guint64)(g_get_real_time () / 1000);
  guint64 last_ms = sp_hlc_ms (vault->hlc_last);
  guint16 counter = sp_hlc_counter (vault->hlc_last);
  guint64 next;

  if (now_ms > last_ms)
    next = sp_hlc_pack (now_ms, 0);
  else if (counter < 0xFFFF)
    next = sp_hlc_pack (last_ms, counter + 1);
  else /* counter exhausted within one millisecond: borrow the next one */
    next = sp_hlc_pack (last_ms + 1, 0);
  /* Received clocks are bounded below this, so only a clock set thousands of
   * years ahead gets here; refuse rather than wrap. */
  if (sp_hlc_ms (next) > SP_HLC_MAX_MS || next <= vault->hlc_last)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_FAILED,
                   _ ("This vault's clock has run out; check the computer's date"));
      return FALSE;
    }
  vault->hlc_last = next;
  *out = next;
  return TRUE;
}

void
sp_vault_hlc_observe (SpVault *vault, guint64 remote)
{
  if (remote > vault->hlc_last)
    vault->hlc_last = remote;
}

/* Benchmarks only (tests/bench): a vault whose database is NOT encrypted, made
 * by the same code as a real one (same schema, same write and read paths), as
 * the baseline that measures what SQLCipher costs. No key file; it cannot be
 * opened again. Never called by the app or the CLI. */
SpVault *
sp_vault_create_unencrypted_for_bench (const char *dir, GError **error)
{
  g_autofree char *db_path = g_build_filename (dir, DB_FILE, NULL);
  g_autoptr (SpVault) vault = NULL;
  g_autofree char *device = sp_random_id ();

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO, _ ("Could not create %s: %s"), dir,
                   g_strerror (saved));
      return NULL;
    }
  if (g_file_test (db_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_EXISTS, _ ("A vault already exists in %s"),
                   dir);
      return NULL;
    }
  vault = vault_new (dir);
  vault->db = open_database (db_path, NULL, TRUE, error);
  if (vault->db == NULL)
    return NULL;
  if (!sp_schema_migrate (vault, sp_vault_schema_version_latest (), error)
      || !sp_exec (vault, "BEGIN", error) || !meta_set (vault, "device_id", device, error)
      || !meta_set (vault, "next_tx", "1", error) || !meta_set (vault, "hlc_last", "0", error)
      || !sp_exec (vault, "COMMIT", error) || !load_state (vault, error))
    return NULL;
  return g_steal_pointer (&vault);
}
