/* sp-sync-state.c — the sync library's key/value store inside the vault.
 *
 * The sync library (sync/client) keeps its workspace, keys, chains and cursor
 * here, so they are encrypted with everything else and go with the vault.
 * Core does not interpret the values.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>
#include <string.h>

#include "sp-vault-private.h"

#define SYNC_KEY_MAX 200
#define SYNC_VALUE_MAX (16 * 1024 * 1024)

static gboolean
check_open (SpVault *vault, GError **error)
{
  if (vault == NULL || vault->db == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_LOCKED, _ ("The vault is locked"));
      return FALSE;
    }
  return TRUE;
}

static gboolean
key_ok (const char *key)
{
  gsize n = 0;

  if (key == NULL || *key == '\0')
    return FALSE;
  for (const char *p = key; *p; p++, n++)
    if (*p < 0x21 || *p > 0x7e || n >= SYNC_KEY_MAX)
      return FALSE;
  return TRUE;
}

static sqlite3_stmt *
lookup (SpVault *vault, const char *key, gboolean *found, GError **error)
{
  sqlite3_stmt *st;
  int rc;

  *found = FALSE;
  g_return_val_if_fail (key_ok (key), NULL);
  if (!check_open (vault, error))
    return NULL;
  st = sp_stmt (vault, "SELECT value FROM sync_state WHERE key = ?", error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      *found = TRUE;
      return st;
    }
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    {
      sp_sqlite_error (vault->db, rc, error);
      return NULL;
    }
  return st;
}

GBytes *
sp_vault_sync_get (SpVault *vault, const char *key, GError **error)
{
  gboolean found;
  sqlite3_stmt *st = lookup (vault, key, &found, error);
  GBytes *out;

  if (st == NULL || !found)
    return NULL;
  out = g_bytes_new (sqlite3_column_blob (st, 0), (gsize)sqlite3_column_bytes (st, 0));
  sqlite3_reset (st);
  return out;
}

SpSecret *
sp_vault_sync_get_secret (SpVault *vault, const char *key, GError **error)
{
  gboolean found;
  sqlite3_stmt *st = lookup (vault, key, &found, error);
  SpSecret *out;

  if (st == NULL || !found)
    return NULL;
  out = sp_secret_new_from_data (sqlite3_column_blob (st, 0), (gsize)sqlite3_column_bytes (st, 0));
  sqlite3_reset (st);
  return out;
}

char *
sp_vault_sync_get_string (SpVault *vault, const char *key, GError **error)
{
  gboolean found;
  sqlite3_stmt *st = lookup (vault, key, &found, error);
  char *out;

  if (st == NULL || !found)
    return NULL;
  out = g_strndup (sqlite3_column_blob (st, 0), (gsize)sqlite3_column_bytes (st, 0));
  sqlite3_reset (st);
  return out;
}

gboolean
sp_vault_sync_set (SpVault *vault, const char *key, const void *data, gsize len, GError **error)
{
  sqlite3_stmt *st;

  g_return_val_if_fail (key_ok (key), FALSE);
  if (!check_open (vault, error))
    return FALSE;
  if (len > SYNC_VALUE_MAX)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("A sync value is too large"));
      return FALSE;
    }
  if (data == NULL)
    {
      st = sp_stmt (vault, "DELETE FROM sync_state WHERE key = ?", error);
      if (st == NULL)
        return FALSE;
      sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
      return sp_step_done (vault, st, error);
    }
  st = sp_stmt (vault, "INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_blob (st, 2, len ? data : "", (int)len, SQLITE_STATIC);
  return sp_step_done (vault, st, error);
}

gboolean
sp_vault_sync_set_string (SpVault *vault, const char *key, const char *value, GError **error)
{
  return sp_vault_sync_set (vault, key, value, value ? strlen (value) : 0, error);
}

GPtrArray *
sp_vault_sync_keys (SpVault *vault, const char *prefix, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *st;
  gsize plen = strlen (prefix);
  int rc;

  if (!check_open (vault, error))
    return NULL;
  st = sp_stmt (vault, "SELECT key FROM sync_state WHERE key >= ? ORDER BY key", error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_text (st, 1, prefix, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      const char *k = (const char *)sqlite3_column_text (st, 0);
      if (strncmp (k, prefix, plen) != 0)
        break;
      g_ptr_array_add (out, g_strdup (k));
    }
  sqlite3_reset (st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      sp_sqlite_error (vault->db, rc, error);
      return NULL;
    }
  return g_steal_pointer (&out);
}

gint64
sp_vault_count_local_changes (SpVault *vault, gint64 after_seq, GError **error)
{
  sqlite3_stmt *st;
  gint64 n = -1;
  int rc;

  if (!check_open (vault, error))
    return -1;
  st = sp_stmt (vault, "SELECT count(*) FROM changes WHERE device = ? AND seq > ?", error);
  if (st == NULL)
    return -1;
  sqlite3_bind_text (st, 1, vault->device_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 2, after_seq);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    n = sqlite3_column_int64 (st, 0);
  else
    sp_sqlite_error (vault->db, rc, error);
  sqlite3_reset (st);
  return n;
}

GPtrArray *
sp_vault_all_changes (SpVault *vault, GError **error)
{
  sqlite3_stmt *st;

  if (!check_open (vault, error))
    return NULL;
  st = sp_stmt (vault, SP_CHANGE_SELECT "ORDER BY c.seq", error);
  if (st == NULL)
    return NULL;
  return sp_changes_collect (vault, st, NULL, error);
}
