/* Error domain, SQLite helpers and ids. SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "sp-memory-private.h"
#include "sp-vault-private.h"

G_DEFINE_QUARK (sp - core - error - quark, sp_core_error)

gboolean
sp_core_init (GError **error)
{
  struct rlimit no_core = { 0, 0 };

  /* SQLite wipes what it frees (sp-memory.c): before it initialises. */
  if (!sp_memory_init (error))
    return FALSE;
  if (sodium_init () < 0)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_FAILED,
                   _ ("The cryptography library could not be initialised"));
      return FALSE;
    }
  /* No core dump may ever hold a key or a decrypted page. */
  setrlimit (RLIMIT_CORE, &no_core);
  prctl (PR_SET_DUMPABLE, 0, 0, 0, 0);
  /* Files we create (vault, WAL, key) are for this user alone. */
  umask (077);
  return TRUE;
}

gboolean
sp_sqlite_error (sqlite3 *db, int rc, GError **error)
{
  int code = SP_CORE_ERROR_FAILED;

  /* SQLCipher 3.4 reports a page that fails its HMAC check as a plain
   * SQLITE_ERROR ("SQL logic error"); our SQL is fixed and tested, so at run
   * time that means a damaged file. */
  if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT || rc == SQLITE_ERROR)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT,
                   _ ("The vault's database is damaged or unreadable (%s)"),
                   db ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
      return FALSE;
    }
  else if (rc == SQLITE_IOERR || rc == SQLITE_FULL || rc == SQLITE_CANTOPEN || rc == SQLITE_READONLY
           || rc == SQLITE_PERM)
    code = SP_CORE_ERROR_IO;
  g_set_error (error, SP_CORE_ERROR, code, _ ("Database error: %s"),
               db ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
  return FALSE;
}

gboolean
sp_exec (SpVault *vault, const char *sql, GError **error)
{
  int rc = sqlite3_exec (vault->db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    return sp_sqlite_error (vault->db, rc, error);
  return TRUE;
}

sqlite3_stmt *
sp_prepare (SpVault *vault, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (vault->db, sql, -1, &stmt, NULL);

  if (rc != SQLITE_OK)
    {
      sp_sqlite_error (vault->db, rc, error);
      return NULL;
    }
  return stmt;
}

char *
sp_random_id (void)
{
  guint8 raw[16];
  char *hex = g_malloc (SP_ID_HEX_LEN + 1);

  randombytes_buf (raw, sizeof raw);
  sodium_bin2hex (hex, SP_ID_HEX_LEN + 1, raw, sizeof raw);
  return hex;
}

gboolean
sp_is_hex_id (const char *s)
{
  if (s == NULL || strlen (s) != SP_ID_HEX_LEN)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return FALSE;
  return TRUE;
}

gboolean
sp_id_is_valid (const char *id)
{
  return sp_is_hex_id (id);
}

guint64
sp_hlc_pack (guint64 ms, guint16 counter)
{
  return ((ms & G_GUINT64_CONSTANT (0xFFFFFFFFFFFF)) << 16) | counter;
}

guint64
sp_hlc_ms (guint64 hlc)
{
  return hlc >> 16;
}

guint16
sp_hlc_counter (guint64 hlc)
{
  return (guint16)(hlc & 0xFFFF);
}

static void
finalize_stmt (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

sqlite3_stmt *
sp_stmt (SpVault *vault, const char *sql, GError **error)
{
  sqlite3_stmt *stmt;

  if (vault->stmts == NULL)
    vault->stmts = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, finalize_stmt);
  stmt = g_hash_table_lookup (vault->stmts, sql);
  if (stmt)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }
  stmt = sp_prepare (vault, sql, error);
  if (stmt)
    g_hash_table_insert (vault->stmts, (gpointer)sql, stmt);
  return stmt;
}

gboolean
sp_step_done (SpVault *vault, sqlite3_stmt *stmt, GError **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return sp_sqlite_error (vault->db, rc, error);
  return TRUE;
}
