/* The relay's storage: one plain SQLite file, DIR/relay.db.
 *
 * It holds ciphertext and pseudonyms only, so it is not encrypted at rest; it is
 * durable instead (WAL, synchronous=FULL: an answer the relay gave survives a
 * power cut or SIGKILL) and private (0700 folder, 0600 files). The schema is
 * versioned with PRAGMA user_version and only ever migrated forward.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relay-private.h"

struct _RelayStore
{
  sqlite3 *db;
  GHashTable *stmts; /* SQL text (static) → prepared statement */
  int lock_fd;
};

/* Each entry takes the schema from version i to i + 1. Never edit one that has
 * shipped: add the next. */
static const char *const migrations[] = {
  /* 0 → 1 */
  "CREATE TABLE workspaces ("
  "  id TEXT PRIMARY KEY,"
  "  created INTEGER NOT NULL,"
  "  bytes INTEGER NOT NULL DEFAULT 0);"
  "CREATE TABLE devices ("
  "  workspace TEXT NOT NULL REFERENCES workspaces (id),"
  "  id TEXT NOT NULL,"
  "  auth_pk BLOB NOT NULL,"
  "  sign_pk BLOB NOT NULL,"
  "  box_pk BLOB NOT NULL,"
  "  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),"
  "  created INTEGER NOT NULL,"
  "  PRIMARY KEY (workspace, id));"
  "CREATE TABLE invites ("
  "  workspace TEXT NOT NULL REFERENCES workspaces (id),"
  "  token_hash BLOB NOT NULL,"
  "  expires INTEGER NOT NULL,"
  "  used INTEGER NOT NULL DEFAULT 0,"
  "  created_by TEXT NOT NULL,"
  "  created INTEGER NOT NULL,"
  "  PRIMARY KEY (workspace, token_hash));"
  "CREATE TABLE membership_log ("
  "  workspace TEXT NOT NULL REFERENCES workspaces (id),"
  "  version INTEGER NOT NULL,"
  "  entry TEXT NOT NULL,"
  "  signer TEXT NOT NULL,"
  "  created INTEGER NOT NULL,"
  "  UNIQUE (workspace, version));"
  "CREATE TABLE batches ("
  "  cursor INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  workspace TEXT NOT NULL REFERENCES workspaces (id),"
  "  device TEXT NOT NULL,"
  "  epoch INTEGER NOT NULL,"
  "  seq INTEGER NOT NULL,"
  "  hash BLOB NOT NULL,"
  "  data BLOB NOT NULL,"
  "  UNIQUE (workspace, device, seq));"
  "CREATE INDEX batches_by_workspace ON batches (workspace, cursor);"
  "CREATE TABLE seen_nonces ("
  "  device TEXT NOT NULL,"
  "  nonce TEXT NOT NULL,"
  "  time INTEGER NOT NULL,"
  "  PRIMARY KEY (device, nonce)) WITHOUT ROWID;"
  "CREATE INDEX seen_nonces_by_time ON seen_nonces (time);",

  /* 1 → 2: snapshots and pruning. device_chains keeps each device's last seq,
   * hash and cursor, so "seq = last + 1" and the retry of the last batch keep
   * working once its blob is pruned; it is filled from the batches there are. */
  "CREATE TABLE device_chains ("
  "  workspace TEXT NOT NULL REFERENCES workspaces (id),"
  "  device TEXT NOT NULL,"
  "  last_seq INTEGER NOT NULL,"
  "  last_hash BLOB NOT NULL,"
  "  last_cursor INTEGER NOT NULL,"
  "  PRIMARY KEY (workspace, device)) WITHOUT ROWID;"
  "INSERT INTO device_chains (workspace, device, last_seq, last_hash, last_cursor)"
  "  SELECT b.workspace, b.device, b.seq, b.hash, b.cursor FROM batches b"
  "  WHERE b.seq = (SELECT max(c.seq) FROM batches c"
  "                 WHERE c.workspace = b.workspace AND c.device = b.device);"
  "CREATE TABLE snapshots ("
  "  id INTEGER PRIMARY KEY,"
  "  workspace TEXT NOT NULL UNIQUE REFERENCES workspaces (id),"
  "  cursor INTEGER NOT NULL,"
  "  device TEXT NOT NULL,"
  "  created INTEGER NOT NULL,"
  "  size INTEGER NOT NULL,"
  "  data BLOB NOT NULL);"
  "ALTER TABLE workspaces ADD COLUMN pruned_cursor INTEGER NOT NULL DEFAULT 0;",
  /* 2 → 3: which invite a pending device used, so the admin's client can
   * compute its safety code. */
  "ALTER TABLE devices ADD COLUMN invite BLOB;",
  /* 3 → 4: one opaque travel stash per device (docs/COMPARTMENTS.md), counted
   * in the workspace's bytes. */
  "CREATE TABLE stashes ("
  "  workspace TEXT NOT NULL REFERENCES workspaces (id),"
  "  device TEXT NOT NULL,"
  "  created INTEGER NOT NULL,"
  "  data BLOB NOT NULL,"
  "  PRIMARY KEY (workspace, device)) WITHOUT ROWID;",
};

static gboolean
store_error (RelayStore *store, int rc, GError **error)
{
  g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_IO, "Database error: %s",
               store && store->db ? sqlite3_errmsg (store->db) : sqlite3_errstr (rc));
  return FALSE;
}

static gboolean
store_exec (RelayStore *store, const char *sql, GError **error)
{
  int rc = sqlite3_exec (store->db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    return store_error (store, rc, error);
  return TRUE;
}

static void
finalize_stmt (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

/* A cached prepared statement, reset, bindings cleared. @sql must be a string
 * literal: its address is the cache key. */
static sqlite3_stmt *
store_stmt (RelayStore *store, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (store->stmts, sql);
  int rc;

  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }
  rc = sqlite3_prepare_v2 (store->db, sql, -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      store_error (store, rc, error);
      return NULL;
    }
  g_hash_table_insert (store->stmts, (gpointer)sql, stmt);
  return stmt;
}

/* Steps a statement that returns no row, then resets it. */
static gboolean
store_step_done (RelayStore *store, sqlite3_stmt *stmt, GError **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return store_error (store, rc, error);
  return TRUE;
}

/* Steps once: *row is TRUE if a row is there (the caller resets the statement). */
static gboolean
store_step_row (RelayStore *store, sqlite3_stmt *stmt, gboolean *row, GError **error)
{
  int rc = sqlite3_step (stmt);

  *row = rc == SQLITE_ROW;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      sqlite3_reset (stmt);
      return store_error (store, rc, error);
    }
  return TRUE;
}

static void
bind_text (sqlite3_stmt *stmt, int i, const char *text)
{
  sqlite3_bind_text (stmt, i, text, -1, SQLITE_TRANSIENT);
}

static void
bind_blob (sqlite3_stmt *stmt, int i, const guint8 *data, gsize len)
{
  sqlite3_bind_blob64 (stmt, i, data ? (const void *)data : "", len, SQLITE_TRANSIENT);
}

static void
copy_text_column (sqlite3_stmt *stmt, int col, char *out, gsize out_size)
{
  const char *text = (const char *)sqlite3_column_text (stmt, col);

  g_strlcpy (out, text ? text : "", out_size);
}

static void
copy_key_column (sqlite3_stmt *stmt, int col, guint8 out[SYNC_KEY_LEN])
{
  const void *blob = sqlite3_column_blob (stmt, col);

  memset (out, 0, SYNC_KEY_LEN);
  if (blob != NULL && sqlite3_column_bytes (stmt, col) == SYNC_KEY_LEN)
    memcpy (out, blob, SYNC_KEY_LEN);
}

const char *
relay_device_status_to_string (RelayDeviceStatus status)
{
  switch (status)
    {
      case RELAY_DEVICE_PENDING:
        return "pending";
      case RELAY_DEVICE_ACTIVE:
        return "active";
      case RELAY_DEVICE_REVOKED:
      default:
        return "revoked";
    }
}

static RelayDeviceStatus
status_from_string (const char *s)
{
  if (g_strcmp0 (s, "pending") == 0)
    return RELAY_DEVICE_PENDING;
  if (g_strcmp0 (s, "active") == 0)
    return RELAY_DEVICE_ACTIVE;
  /* Anything unexpected counts as revoked: refusing is the safe way to fail. */
  return RELAY_DEVICE_REVOKED;
}

/* ---- Opening -------------------------------------------------------------------- */

static gboolean
prepare_dir (const char *dir, GError **error)
{
  struct stat st;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_IO,
                   "Cannot create the data folder %s: %s", dir, g_strerror (saved));
      return FALSE;
    }
  if (g_stat (dir, &st) != 0 || !S_ISDIR (st.st_mode))
    {
      g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_IO,
                   "The data folder %s is not a folder", dir);
      return FALSE;
    }
  if ((st.st_mode & 077) != 0 && g_chmod (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_IO,
                   "Cannot make the data folder %s private: %s", dir, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* One relay per data folder: a second one would interleave cursors. */
static int
lock_dir (const char *dir, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "relay.lock", NULL);
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_IO, "Cannot open %s: %s", path,
                   g_strerror (saved));
      return -1;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int saved = errno;

      close (fd);
      if (saved == EWOULDBLOCK)
        g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_BUSY,
                     "Another relay is using the data folder %s", dir);
      else
        g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_IO, "Cannot lock %s: %s", path,
                     g_strerror (saved));
      return -1;
    }
  return fd;
}

/* Creates the database file 0600 before SQLite sees it. */
static gboolean
create_private_file (const char *path, GError **error)
{
  int fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

  if (fd < 0 || fchmod (fd, 0600) != 0)
    {
      int saved = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_IO, "Cannot create %s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

static gboolean
query_int (RelayStore *store, const char *sql, gint64 *out, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (store->db, sql, -1, &stmt, NULL);

  if (rc != SQLITE_OK)
    return store_error (store, rc, error);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      sqlite3_finalize (stmt);
      return store_error (store, rc, error);
    }
  *out = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return TRUE;
}

/* The single integer @sql (one "?" for the workspace) gives, 0 without a row. */
static gboolean
query_ws_int (RelayStore *store, const char *sql, const char *ws, gint64 *out, GError **error)
{
  sqlite3_stmt *stmt = store_stmt (store, sql, error);
  gboolean row;

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  if (!store_step_row (store, stmt, &row, error))
    return FALSE;
  *out = row ? sqlite3_column_int64 (stmt, 0) : 0;
  sqlite3_reset (stmt);
  return TRUE;
}

static gboolean
migrate (RelayStore *store, GError **error)
{
  gint64 version = 0;
  gint64 i;

  if (!query_int (store, "PRAGMA user_version", &version, error))
    return FALSE;
  if (version > (gint64)G_N_ELEMENTS (migrations))
    {
      g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_TOO_NEW,
                   "The relay database has schema version %" G_GINT64_FORMAT
                   "; this relay knows up to %u. Use a newer relay.",
                   version, (guint)G_N_ELEMENTS (migrations));
      return FALSE;
    }
  for (i = version; i < (gint64)G_N_ELEMENTS (migrations); i++)
    {
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %" G_GINT64_FORMAT, i + 1);

      if (!store_exec (store, "BEGIN IMMEDIATE", error))
        return FALSE;
      if (!store_exec (store, migrations[i], error) || !store_exec (store, bump, error)
          || !store_exec (store, "COMMIT", error))
        {
          sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
setup_connection (RelayStore *store, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  const char *mode;
  gboolean wal;
  int rc;

  sqlite3_extended_result_codes (store->db, 1);
  sqlite3_busy_timeout (store->db, 5000);
  rc = sqlite3_prepare_v2 (store->db, "PRAGMA journal_mode = WAL", -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    return store_error (store, rc, error);
  rc = sqlite3_step (stmt);
  mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text (stmt, 0) : NULL;
  wal = mode != NULL && g_ascii_strcasecmp (mode, "wal") == 0;
  sqlite3_finalize (stmt);
  if (!wal)
    {
      g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_IO,
                   "The relay database cannot use write-ahead logging");
      return FALSE;
    }
  /* FULL: a commit is on disk (WAL fsynced) before the relay answers. */
  return store_exec (store,
                     "PRAGMA synchronous = FULL;"
                     "PRAGMA foreign_keys = ON;"
                     "PRAGMA secure_delete = ON;"
                     "PRAGMA trusted_schema = OFF;",
                     error);
}

RelayStore *
relay_store_open (const char *dir, GError **error)
{
  g_autofree char *path = NULL;
  RelayStore *store;
  int rc;

  g_return_val_if_fail (dir != NULL, NULL);

  if (!prepare_dir (dir, error))
    return NULL;
  store = g_new0 (RelayStore, 1);
  store->lock_fd = lock_dir (dir, error);
  if (store->lock_fd < 0)
    {
      g_free (store);
      return NULL;
    }
  store->stmts = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, finalize_stmt);

  path = g_build_filename (dir, "relay.db", NULL);
  if (!create_private_file (path, error))
    {
      relay_store_close (store);
      return NULL;
    }
  rc = sqlite3_open_v2 (path, &store->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      store_error (store, rc, error);
      relay_store_close (store);
      return NULL;
    }
  if (!setup_connection (store, error) || !migrate (store, error))
    {
      relay_store_close (store);
      return NULL;
    }
  return store;
}

void
relay_store_close (RelayStore *store)
{
  if (store == NULL)
    return;
  g_clear_pointer (&store->stmts, g_hash_table_unref);
  if (store->db != NULL)
    sqlite3_close (store->db);
  if (store->lock_fd >= 0)
    close (store->lock_fd);
  g_free (store);
}

gboolean
relay_store_begin (RelayStore *store, GError **error)
{
  return store_exec (store, "BEGIN IMMEDIATE", error);
}

gboolean
relay_store_commit (RelayStore *store, GError **error)
{
  if (!store_exec (store, "COMMIT", error))
    {
      relay_store_rollback (store);
      return FALSE;
    }
  return TRUE;
}

void
relay_store_rollback (RelayStore *store)
{
  if (!sqlite3_get_autocommit (store->db))
    sqlite3_exec (store->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- Devices ---------------------------------------------------------------------- */

static void
read_device_row (sqlite3_stmt *stmt, RelayDevice *out)
{
  memset (out, 0, sizeof *out);
  copy_text_column (stmt, 0, out->id, sizeof out->id);
  copy_key_column (stmt, 1, out->auth_pk);
  copy_key_column (stmt, 2, out->sign_pk);
  copy_key_column (stmt, 3, out->box_pk);
  out->status = status_from_string ((const char *)sqlite3_column_text (stmt, 4));
  out->created = sqlite3_column_int64 (stmt, 5);
  if (sqlite3_column_bytes (stmt, 6) == SYNC_HASH_LEN)
    {
      memcpy (out->invite, sqlite3_column_blob (stmt, 6), SYNC_HASH_LEN);
      out->has_invite = TRUE;
    }
}

gboolean
relay_store_get_device (RelayStore *store, const char *ws, const char *device, RelayDevice *out,
                        gboolean *found, GError **error)
{
  sqlite3_stmt *stmt = store_stmt (store,
                                   "SELECT id, auth_pk, sign_pk, box_pk, status, created, invite"
                                   " FROM devices WHERE workspace = ? AND id = ?",
                                   error);
  gboolean row;

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  bind_text (stmt, 2, device);
  if (!store_step_row (store, stmt, &row, error))
    return FALSE;
  *found = row;
  if (row && out != NULL)
    read_device_row (stmt, out);
  sqlite3_reset (stmt);
  return TRUE;
}

gboolean
relay_store_add_device (RelayStore *store, const char *ws, const RelayDevice *device,
                        GError **error)
{
  sqlite3_stmt *stmt = store_stmt (store,
                                   "INSERT INTO devices (workspace, id, auth_pk, sign_pk, box_pk,"
                                   " status, created, invite) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                   error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  bind_text (stmt, 2, device->id);
  bind_blob (stmt, 3, device->auth_pk, SYNC_KEY_LEN);
  bind_blob (stmt, 4, device->sign_pk, SYNC_KEY_LEN);
  bind_blob (stmt, 5, device->box_pk, SYNC_KEY_LEN);
  bind_text (stmt, 6, relay_device_status_to_string (device->status));
  sqlite3_bind_int64 (stmt, 7, device->created);
  if (device->has_invite)
    bind_blob (stmt, 8, device->invite, SYNC_HASH_LEN);
  else
    sqlite3_bind_null (stmt, 8);
  return store_step_done (store, stmt, error);
}

gboolean
relay_store_set_device_status (RelayStore *store, const char *ws, const char *device,
                               RelayDeviceStatus status, GError **error)
{
  sqlite3_stmt *stmt
      = store_stmt (store, "UPDATE devices SET status = ? WHERE workspace = ? AND id = ?", error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, relay_device_status_to_string (status));
  bind_text (stmt, 2, ws);
  bind_text (stmt, 3, device);
  return store_step_done (store, stmt, error);
}

gboolean
relay_store_count_devices (RelayStore *store, const char *ws, gint64 *count, GError **error)
{
  return query_ws_int (store,
                       "SELECT count(*) FROM devices WHERE workspace = ? AND status != 'revoked'",
                       ws, count, error);
}

GArray *
relay_store_list_devices (RelayStore *store, const char *ws, GError **error)
{
  sqlite3_stmt *stmt = store_stmt (store,
                                   "SELECT id, auth_pk, sign_pk, box_pk, status, created, invite"
                                   " FROM devices WHERE workspace = ? ORDER BY created, id",
                                   error);
  g_autoptr (GArray) devices = g_array_new (FALSE, TRUE, sizeof (RelayDevice));
  gboolean row = TRUE;

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, ws);
  while (row)
    {
      RelayDevice device;

      if (!store_step_row (store, stmt, &row, error))
        return NULL;
      if (row)
        {
          read_device_row (stmt, &device);
          g_array_append_val (devices, device);
        }
    }
  sqlite3_reset (stmt);
  return g_steal_pointer (&devices);
}

/* ---- Nonces ---------------------------------------------------------------------- */

gboolean
relay_store_nonce_seen (RelayStore *store, const char *device, const char *nonce, gboolean *seen,
                        GError **error)
{
  sqlite3_stmt *stmt
      = store_stmt (store, "SELECT 1 FROM seen_nonces WHERE device = ? AND nonce = ?", error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, device);
  bind_text (stmt, 2, nonce);
  if (!store_step_row (store, stmt, seen, error))
    return FALSE;
  sqlite3_reset (stmt);
  return TRUE;
}

gboolean
relay_store_add_nonce (RelayStore *store, const char *device, const char *nonce, gint64 time,
                       GError **error)
{
  sqlite3_stmt *stmt = store_stmt (
      store, "INSERT OR IGNORE INTO seen_nonces (device, nonce, time) VALUES (?, ?, ?)", error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, device);
  bind_text (stmt, 2, nonce);
  sqlite3_bind_int64 (stmt, 3, time);
  return store_step_done (store, stmt, error);
}

gboolean
relay_store_prune_nonces (RelayStore *store, gint64 before, GError **error)
{
  sqlite3_stmt *stmt = store_stmt (store, "DELETE FROM seen_nonces WHERE time < ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, before);
  return store_step_done (store, stmt, error);
}

/* ---- Workspaces and invites -------------------------------------------------------- */

gboolean
relay_store_workspace_exists (RelayStore *store, const char *ws, gboolean *exists, GError **error)
{
  sqlite3_stmt *stmt = store_stmt (store, "SELECT 1 FROM workspaces WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  if (!store_step_row (store, stmt, exists, error))
    return FALSE;
  sqlite3_reset (stmt);
  return TRUE;
}

gboolean
relay_store_add_workspace (RelayStore *store, const char *ws, gint64 now, GError **error)
{
  sqlite3_stmt *stmt
      = store_stmt (store, "INSERT INTO workspaces (id, created, bytes) VALUES (?, ?, 0)", error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  sqlite3_bind_int64 (stmt, 2, now);
  return store_step_done (store, stmt, error);
}

gboolean
relay_store_workspace_bytes (RelayStore *store, const char *ws, gint64 *bytes, GError **error)
{
  return query_ws_int (store, "SELECT bytes FROM workspaces WHERE id = ?", ws, bytes, error);
}

gboolean
relay_store_add_invite (RelayStore *store, const char *ws, const guint8 token_hash[SYNC_HASH_LEN],
                        gint64 expires, const char *creator, gint64 now, gboolean *duplicate,
                        GError **error)
{
  sqlite3_stmt *stmt = store_stmt (store,
                                   "INSERT OR IGNORE INTO invites (workspace, token_hash, expires,"
                                   " used, created_by, created) VALUES (?, ?, ?, 0, ?, ?)",
                                   error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  bind_blob (stmt, 2, token_hash, SYNC_HASH_LEN);
  sqlite3_bind_int64 (stmt, 3, expires);
  bind_text (stmt, 4, creator);
  sqlite3_bind_int64 (stmt, 5, now);
  if (!store_step_done (store, stmt, error))
    return FALSE;
  *duplicate = sqlite3_changes (store->db) == 0;
  return TRUE;
}

gboolean
relay_store_use_invite (RelayStore *store, const char *ws, const guint8 token_hash[SYNC_HASH_LEN],
                        gint64 now, gboolean *ok, GError **error)
{
  sqlite3_stmt *stmt = store_stmt (store,
                                   "UPDATE invites SET used = 1 WHERE workspace = ?"
                                   " AND token_hash = ? AND used = 0 AND expires > ?",
                                   error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  bind_blob (stmt, 2, token_hash, SYNC_HASH_LEN);
  sqlite3_bind_int64 (stmt, 3, now);
  if (!store_step_done (store, stmt, error))
    return FALSE;
  *ok = sqlite3_changes (store->db) == 1;
  return TRUE;
}

/* ---- Membership log --------------------------------------------------------------- */

gboolean
relay_store_log_head (RelayStore *store, const char *ws, gint64 *head, GError **error)
{
  return query_ws_int (store,
                       "SELECT coalesce(max(version), 0) FROM membership_log WHERE workspace = ?",
                       ws, head, error);
}

gboolean
relay_store_log_append (RelayStore *store, const char *ws, gint64 version, const char *entry,
                        const char *signer, gint64 now, GError **error)
{
  sqlite3_stmt *stmt = store_stmt (store,
                                   "INSERT INTO membership_log (workspace, version, entry, signer,"
                                   " created) VALUES (?, ?, ?, ?, ?)",
                                   error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  sqlite3_bind_int64 (stmt, 2, version);
  bind_text (stmt, 3, entry);
  bind_text (stmt, 4, signer);
  sqlite3_bind_int64 (stmt, 5, now);
  return store_step_done (store, stmt, error);
}

static void
log_entry_free (gpointer data)
{
  RelayLogEntry *entry = data;

  g_free (entry->entry);
  g_free (entry);
}

GPtrArray *
relay_store_log_since (RelayStore *store, const char *ws, gint64 since, guint max_entries,
                       gsize max_bytes, GError **error)
{
  sqlite3_stmt *stmt = store_stmt (store,
                                   "SELECT version, entry, signer FROM membership_log"
                                   " WHERE workspace = ? AND version > ? ORDER BY version LIMIT ?",
                                   error);
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func (log_entry_free);
  gsize bytes = 0;
  gboolean row = TRUE;

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, ws);
  sqlite3_bind_int64 (stmt, 2, since);
  sqlite3_bind_int64 (stmt, 3, max_entries);
  while (row)
    {
      RelayLogEntry *entry;
      const char *text;

      if (!store_step_row (store, stmt, &row, error))
        return NULL;
      if (!row)
        break;
      text = (const char *)sqlite3_column_text (stmt, 1);
      bytes += (gsize)sqlite3_column_bytes (stmt, 1);
      if (entries->len > 0 && bytes > max_bytes)
        break;
      entry = g_new0 (RelayLogEntry, 1);
      entry->version = sqlite3_column_int64 (stmt, 0);
      entry->entry = g_strdup (text ? text : "");
      copy_text_column (stmt, 2, entry->signer, sizeof entry->signer);
      g_ptr_array_add (entries, entry);
    }
  sqlite3_reset (stmt);
  return g_steal_pointer (&entries);
}

/* ---- Batches ------------------------------------------------------------------------ */

/* The device's chain head: last seq, its hash and cursor (all 0 if none). */
static gboolean
chain_head (RelayStore *store, const char *ws, const char *device, gint64 *seq, gint64 *cursor,
            guint8 hash[SYNC_HASH_LEN], GError **error)
{
  sqlite3_stmt *stmt = store_stmt (store,
                                   "SELECT last_seq, last_cursor, last_hash FROM device_chains"
                                   " WHERE workspace = ? AND device = ?",
                                   error);
  gboolean row;

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  bind_text (stmt, 2, device);
  if (!store_step_row (store, stmt, &row, error))
    return FALSE;
  *seq = row ? sqlite3_column_int64 (stmt, 0) : 0;
  *cursor = row ? sqlite3_column_int64 (stmt, 1) : 0;
  memset (hash, 0, SYNC_HASH_LEN);
  if (row && sqlite3_column_bytes (stmt, 2) == SYNC_HASH_LEN)
    memcpy (hash, sqlite3_column_blob (stmt, 2), SYNC_HASH_LEN);
  sqlite3_reset (stmt);
  return TRUE;
}

gboolean
relay_store_find_batch (RelayStore *store, const char *ws, const char *device, gint64 seq,
                        gboolean *found, gint64 *cursor, guint8 hash[SYNC_HASH_LEN], GError **error)
{
  sqlite3_stmt *stmt = store_stmt (store,
                                   "SELECT cursor, hash FROM batches"
                                   " WHERE workspace = ? AND device = ? AND seq = ?",
                                   error);
  gint64 last_seq = 0;

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  bind_text (stmt, 2, device);
  sqlite3_bind_int64 (stmt, 3, seq);
  if (!store_step_row (store, stmt, found, error))
    return FALSE;
  if (*found)
    {
      const void *blob = sqlite3_column_blob (stmt, 1);

      *cursor = sqlite3_column_int64 (stmt, 0);
      memset (hash, 0, SYNC_HASH_LEN);
      if (blob != NULL && sqlite3_column_bytes (stmt, 1) == SYNC_HASH_LEN)
        memcpy (hash, blob, SYNC_HASH_LEN);
    }
  sqlite3_reset (stmt);
  if (*found)
    return TRUE;
  /* Pruned: the chain head is still known. */
  if (!chain_head (store, ws, device, &last_seq, cursor, hash, error))
    return FALSE;
  *found = last_seq != 0 && last_seq == seq;
  return TRUE;
}

gboolean
relay_store_last_seq (RelayStore *store, const char *ws, const char *device, gint64 *last,
                      GError **error)
{
  guint8 hash[SYNC_HASH_LEN];
  gint64 cursor;

  return chain_head (store, ws, device, last, &cursor, hash, error);
}

gboolean
relay_store_add_batch (RelayStore *store, const char *ws, const char *device, guint32 epoch,
                       gint64 seq, const guint8 hash[SYNC_HASH_LEN], const guint8 *data, gsize len,
                       gint64 *cursor, GError **error)
{
  sqlite3_stmt *stmt = store_stmt (store,
                                   "INSERT INTO batches (workspace, device, epoch, seq, hash, data)"
                                   " VALUES (?, ?, ?, ?, ?, ?)",
                                   error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  bind_text (stmt, 2, device);
  sqlite3_bind_int64 (stmt, 3, epoch);
  sqlite3_bind_int64 (stmt, 4, seq);
  bind_blob (stmt, 5, hash, SYNC_HASH_LEN);
  bind_blob (stmt, 6, data, len);
  if (!store_step_done (store, stmt, error))
    return FALSE;
  *cursor = sqlite3_last_insert_rowid (store->db);

  stmt = store_stmt (store,
                     "INSERT INTO device_chains (workspace, device, last_seq, last_hash,"
                     " last_cursor) VALUES (?, ?, ?, ?, ?) ON CONFLICT (workspace, device)"
                     " DO UPDATE SET last_seq = excluded.last_seq,"
                     " last_hash = excluded.last_hash, last_cursor = excluded.last_cursor",
                     error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  bind_text (stmt, 2, device);
  sqlite3_bind_int64 (stmt, 3, seq);
  bind_blob (stmt, 4, hash, SYNC_HASH_LEN);
  sqlite3_bind_int64 (stmt, 5, *cursor);
  if (!store_step_done (store, stmt, error))
    return FALSE;

  stmt = store_stmt (store, "UPDATE workspaces SET bytes = bytes + ? WHERE id = ?", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, (gint64)len);
  bind_text (stmt, 2, ws);
  return store_step_done (store, stmt, error);
}

gboolean
relay_store_cursor_head (RelayStore *store, const char *ws, gint64 *head, GError **error)
{
  return query_ws_int (
      store, "SELECT coalesce(max(last_cursor), 0) FROM device_chains WHERE workspace = ?", ws,
      head, error);
}

gboolean
relay_store_pruned_cursor (RelayStore *store, const char *ws, gint64 *pruned, GError **error)
{
  return query_ws_int (store, "SELECT pruned_cursor FROM workspaces WHERE id = ?", ws, pruned,
                       error);
}

gboolean
relay_store_prune (RelayStore *store, const char *ws, gint64 cursor, gint64 *count, GError **error)
{
  sqlite3_stmt *stmt = store_stmt (store,
                                   "SELECT count(*), coalesce(sum(length(data)), 0) FROM batches"
                                   " WHERE workspace = ? AND cursor <= ?",
                                   error);
  gint64 bytes = 0;
  gboolean row;

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  sqlite3_bind_int64 (stmt, 2, cursor);
  if (!store_step_row (store, stmt, &row, error))
    return FALSE;
  *count = row ? sqlite3_column_int64 (stmt, 0) : 0;
  bytes = row ? sqlite3_column_int64 (stmt, 1) : 0;
  sqlite3_reset (stmt);

  /* secure_delete is on: the freed pages are overwritten with zeros. */
  stmt = store_stmt (store, "DELETE FROM batches WHERE workspace = ? AND cursor <= ?", error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  sqlite3_bind_int64 (stmt, 2, cursor);
  if (!store_step_done (store, stmt, error))
    return FALSE;

  stmt = store_stmt (store,
                     "UPDATE workspaces SET bytes = max(0, bytes - ?),"
                     " pruned_cursor = max(pruned_cursor, ?) WHERE id = ?",
                     error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, bytes);
  sqlite3_bind_int64 (stmt, 2, cursor);
  bind_text (stmt, 3, ws);
  return store_step_done (store, stmt, error);
}

void
relay_store_checkpoint (RelayStore *store)
{
  if (sqlite3_get_autocommit (store->db))
    sqlite3_wal_checkpoint_v2 (store->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
}

/* ---- Snapshots ---------------------------------------------------------------------- */

gboolean
relay_store_snapshot_info (RelayStore *store, const char *ws, RelaySnapshotInfo *out,
                           gboolean *found, GError **error)
{
  sqlite3_stmt *stmt = store_stmt (store,
                                   "SELECT id, cursor, device, created, size FROM snapshots"
                                   " WHERE workspace = ?",
                                   error);

  memset (out, 0, sizeof *out);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  if (!store_step_row (store, stmt, found, error))
    return FALSE;
  if (*found)
    {
      out->id = sqlite3_column_int64 (stmt, 0);
      out->cursor = sqlite3_column_int64 (stmt, 1);
      copy_text_column (stmt, 2, out->device, sizeof out->device);
      out->created = sqlite3_column_int64 (stmt, 3);
      out->size = sqlite3_column_int64 (stmt, 4);
    }
  sqlite3_reset (stmt);
  return TRUE;
}

gboolean
relay_store_put_snapshot (RelayStore *store, const char *ws, gint64 cursor, const char *device,
                          gint64 now, const guint8 *data, gsize len, GError **error)
{
  RelaySnapshotInfo old;
  gboolean found = FALSE;
  sqlite3_stmt *stmt;
  gboolean ok;

  if (!relay_store_snapshot_info (store, ws, &old, &found, error))
    return FALSE;
  stmt = store_stmt (store,
                     "INSERT INTO snapshots (workspace, cursor, device, created, size, data)"
                     " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (workspace) DO UPDATE SET"
                     " cursor = excluded.cursor, device = excluded.device,"
                     " created = excluded.created, size = excluded.size, data = excluded.data",
                     error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  sqlite3_bind_int64 (stmt, 2, cursor);
  bind_text (stmt, 3, device);
  sqlite3_bind_int64 (stmt, 4, now);
  sqlite3_bind_int64 (stmt, 5, (gint64)len);
  /* Up to --max-snapshot-mb: bound without a copy; the bytes outlive the step. */
  sqlite3_bind_blob64 (stmt, 6, len ? (const void *)data : "", len, SQLITE_STATIC);
  ok = store_step_done (store, stmt, error);
  sqlite3_clear_bindings (stmt);
  if (!ok)
    return FALSE;

  stmt = store_stmt (store, "UPDATE workspaces SET bytes = max(0, bytes - ? + ?) WHERE id = ?",
                     error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, found ? old.size : 0);
  sqlite3_bind_int64 (stmt, 2, (gint64)len);
  bind_text (stmt, 3, ws);
  return store_step_done (store, stmt, error);
}

gboolean
relay_store_read_snapshot (RelayStore *store, gint64 id, guint8 *out, gsize len, GError **error)
{
  sqlite3_blob *blob = NULL;
  int rc;

  if (len > G_MAXINT)
    {
      g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_IO, "Snapshot too large to read");
      return FALSE;
    }
  rc = sqlite3_blob_open (store->db, "main", "snapshots", "data", id, 0, &blob);
  if (rc != SQLITE_OK)
    {
      sqlite3_blob_close (blob);
      return store_error (store, rc, error);
    }
  if ((gsize)sqlite3_blob_bytes (blob) != len)
    {
      sqlite3_blob_close (blob);
      g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_IO,
                   "The stored snapshot does not have its recorded size");
      return FALSE;
    }
  rc = len ? sqlite3_blob_read (blob, out, (int)len, 0) : SQLITE_OK;
  sqlite3_blob_close (blob);
  if (rc != SQLITE_OK)
    return store_error (store, rc, error);
  return TRUE;
}

static void
batch_free (gpointer data)
{
  RelayBatch *batch = data;

  g_bytes_unref (batch->data);
  g_free (batch);
}

GPtrArray *
relay_store_batches_since (RelayStore *store, const char *ws, gint64 since, guint limit,
                           gsize max_bytes, gboolean *more, GError **error)
{
  sqlite3_stmt *stmt = store_stmt (store,
                                   "SELECT cursor, device, seq, data FROM batches"
                                   " WHERE workspace = ? AND cursor > ? ORDER BY cursor LIMIT ?",
                                   error);
  g_autoptr (GPtrArray) batches = g_ptr_array_new_with_free_func (batch_free);
  gsize bytes = 0;
  gboolean row = TRUE;

  *more = FALSE;
  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, ws);
  sqlite3_bind_int64 (stmt, 2, since);
  sqlite3_bind_int64 (stmt, 3, (gint64)limit + 1); /* one more tells whether more remain */
  while (row)
    {
      RelayBatch *batch;
      gsize len;

      if (!store_step_row (store, stmt, &row, error))
        return NULL;
      if (!row)
        break;
      len = (gsize)sqlite3_column_bytes (stmt, 3);
      if (batches->len >= limit || (batches->len > 0 && bytes + len > max_bytes))
        {
          *more = TRUE;
          break;
        }
      bytes += len;
      batch = g_new0 (RelayBatch, 1);
      batch->cursor = sqlite3_column_int64 (stmt, 0);
      copy_text_column (stmt, 1, batch->device, sizeof batch->device);
      batch->seq = sqlite3_column_int64 (stmt, 2);
      batch->data = g_bytes_new (sqlite3_column_blob (stmt, 3), len);
      g_ptr_array_add (batches, batch);
    }
  sqlite3_reset (stmt);
  return g_steal_pointer (&batches);
}

gboolean
relay_store_totals (RelayStore *store, RelayStoreTotals *out, GError **error)
{
  static const char *const statuses[] = { "pending", "active", "revoked" };
  sqlite3_stmt *stmt;
  gboolean row = TRUE;

  memset (out, 0, sizeof *out);
  if (!query_int (store, "SELECT count(*) FROM workspaces", &out->workspaces, error)
      || !query_int (store, "SELECT coalesce(sum(bytes), 0) FROM workspaces", &out->batch_bytes,
                     error)
      || !query_int (store, "SELECT count(*) FROM batches", &out->batches, error))
    return FALSE;
  stmt = store_stmt (store, "SELECT status, count(*) FROM devices GROUP BY status", error);
  if (stmt == NULL)
    return FALSE;
  while (row)
    {
      const char *status;
      gsize i;

      if (!store_step_row (store, stmt, &row, error))
        return FALSE;
      if (!row)
        break;
      status = (const char *)sqlite3_column_text (stmt, 0);
      for (i = 0; i < G_N_ELEMENTS (statuses); i++)
        if (g_strcmp0 (status, statuses[i]) == 0)
          out->devices[i] = sqlite3_column_int64 (stmt, 1);
    }
  sqlite3_reset (stmt);
  return TRUE;
}

/* ---- Travel stashes (one opaque blob per device) ---- */

gboolean
relay_store_stash_size (RelayStore *store, const char *ws, const char *device, gint64 *size,
                        GError **error)
{
  sqlite3_stmt *stmt = store_stmt (
      store, "SELECT length(data) FROM stashes WHERE workspace = ? AND device = ?", error);
  gboolean row;

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  bind_text (stmt, 2, device);
  if (!store_step_row (store, stmt, &row, error))
    return FALSE;
  *size = row ? sqlite3_column_int64 (stmt, 0) : -1;
  sqlite3_reset (stmt);
  return TRUE;
}

/* The workspace's bytes move by @delta (never below zero). */
static gboolean
add_workspace_bytes (RelayStore *store, const char *ws, gint64 delta, GError **error)
{
  sqlite3_stmt *stmt
      = store_stmt (store, "UPDATE workspaces SET bytes = max(0, bytes + ?) WHERE id = ?", error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, delta);
  bind_text (stmt, 2, ws);
  return store_step_done (store, stmt, error);
}

gboolean
relay_store_put_stash (RelayStore *store, const char *ws, const char *device, gint64 now,
                       const guint8 *data, gsize len, GError **error)
{
  sqlite3_stmt *stmt;
  gint64 old = -1;

  if (!relay_store_stash_size (store, ws, device, &old, error))
    return FALSE;
  stmt = store_stmt (store,
                     "INSERT OR REPLACE INTO stashes (workspace, device, created, data)"
                     " VALUES (?, ?, ?, ?)",
                     error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  bind_text (stmt, 2, device);
  sqlite3_bind_int64 (stmt, 3, now);
  bind_blob (stmt, 4, data, len);
  if (!store_step_done (store, stmt, error))
    return FALSE;
  return add_workspace_bytes (store, ws, (gint64)len - MAX (old, 0), error);
}

/* *out: the stash, or NULL when this device has none. */
gboolean
relay_store_get_stash (RelayStore *store, const char *ws, const char *device, GBytes **out,
                       GError **error)
{
  sqlite3_stmt *stmt
      = store_stmt (store, "SELECT data FROM stashes WHERE workspace = ? AND device = ?", error);
  gboolean row;

  *out = NULL;
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  bind_text (stmt, 2, device);
  if (!store_step_row (store, stmt, &row, error))
    return FALSE;
  if (row)
    *out = g_bytes_new (sqlite3_column_blob (stmt, 0), (gsize)sqlite3_column_bytes (stmt, 0));
  sqlite3_reset (stmt);
  return TRUE;
}

gboolean
relay_store_delete_stash (RelayStore *store, const char *ws, const char *device, gboolean *found,
                          GError **error)
{
  sqlite3_stmt *stmt;
  gint64 old = -1;

  if (!relay_store_stash_size (store, ws, device, &old, error))
    return FALSE;
  *found = old >= 0;
  if (!*found)
    return TRUE;
  stmt = store_stmt (store, "DELETE FROM stashes WHERE workspace = ? AND device = ?", error);
  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, ws);
  bind_text (stmt, 2, device);
  return store_step_done (store, stmt, error) && add_workspace_bytes (store, ws, -old, error);
}
