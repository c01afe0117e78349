/* Compartments (docs/COMPARTMENTS.md, docs/DATA-MODEL.md): which records a
 * device holds, moves between them, the rules for applying a compartment's
 * batch, and the purge behind travel mode.
 *
 * A record's compartment is records.comp (a local number, 0 = main) and, in
 * the change log, the internal field "_comp" (the compartment's global uid,
 * empty for main), which merges like any field. Everything of one
 * compartment is found through records.comp; the SQL that touches records,
 * fields, changes and search is kept in the few statements of purge_sql[] and
 * the admission queries, so a new storage layout changes them in one place.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>

#include "sp-vault-private.h"

#define NAME_MAX_CHARS 64
#define META_DEFAULT "default_comp"

void
sp_compartment_free (SpCompartment *c)
{
  if (c == NULL)
    return;
  g_free (c->name);
  g_free (c->uid);
  g_free (c);
}

static void
compartment_free_cb (gpointer p)
{
  sp_compartment_free (p);
}

static void
change_free_cb (gpointer p)
{
  sp_change_free (p);
}

static void
no_such_compartment (GError **error)
{
  g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND, _ ("No such compartment"));
}

/* ---- Reading ---- */

#define SQL_COMPARTMENTS                                                                           \
  "SELECT k.id, k.name, k.uid, (SELECT count(*) FROM records r WHERE r.comp = k.id AND "           \
  "r.cl % 2 = 1) FROM compartments k "

static SpCompartment *
compartment_from_row (sqlite3_stmt *st)
{
  SpCompartment *c = g_new0 (SpCompartment, 1);

  c->id = sqlite3_column_int64 (st, 0);
  c->name = g_strdup ((const char *)sqlite3_column_text (st, 1));
  c->uid = g_strdup ((const char *)sqlite3_column_text (st, 2));
  c->records = sqlite3_column_int64 (st, 3);
  return c;
}

GPtrArray *
sp_vault_compartments (SpVault *vault, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (compartment_free_cb);
  sqlite3_stmt *st;
  int rc;

  g_return_val_if_fail (vault != NULL, NULL);
  if (!sp_vault_check_open (vault, error))
    return NULL;
  st = sp_stmt (vault, SQL_COMPARTMENTS "ORDER BY k.id", error);
  if (st == NULL)
    return NULL;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_ptr_array_add (out, compartment_from_row (st));
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    {
      sp_sqlite_error (vault->db, rc, error);
      return NULL;
    }
  return g_steal_pointer (&out);
}

SpCompartment *
sp_vault_compartment_get (SpVault *vault, gint64 id, GError **error)
{
  SpCompartment *c = NULL;
  sqlite3_stmt *st;
  int rc;

  g_return_val_if_fail (vault != NULL, NULL);
  if (!sp_vault_check_open (vault, error))
    return NULL;
  st = sp_stmt (vault, SQL_COMPARTMENTS "WHERE k.id = ?", error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, id);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    c = compartment_from_row (st);
  sqlite3_reset (st);
  if (rc == SQLITE_DONE)
    no_such_compartment (error);
  else if (rc != SQLITE_ROW)
    sp_sqlite_error (vault->db, rc, error);
  return c;
}

char *
sp_compartment_uid (SpVault *vault, gint64 comp, GError **error)
{
  sqlite3_stmt *st = sp_stmt (vault, "SELECT uid FROM compartments WHERE id = ?", error);
  char *uid = NULL;
  int rc;

  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, comp);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    uid = g_strdup ((const char *)sqlite3_column_text (st, 0));
  sqlite3_reset (st);
  if (rc == SQLITE_DONE)
    no_such_compartment (error);
  else if (rc != SQLITE_ROW)
    sp_sqlite_error (vault->db, rc, error);
  return uid;
}

/* The local id for a uid ("" or NULL: main), -1 when not held, -2 on error. */
static gint64
id_for_uid (SpVault *vault, const char *uid, GError **error)
{
  sqlite3_stmt *st = sp_stmt (vault, "SELECT id FROM compartments WHERE uid = ?", error);
  gint64 id = -1;
  int rc;

  if (uid == NULL || *uid == '\0')
    return 0;
  if (st == NULL)
    return -2;
  sqlite3_bind_text (st, 1, uid, -1, SQLITE_STATIC);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    id = sqlite3_column_int64 (st, 0);
  sqlite3_reset (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      sp_sqlite_error (vault->db, rc, error);
      return -2;
    }
  return id;
}

gint64
sp_vault_compartment_lookup_uid (SpVault *vault, const char *uid, GError **error)
{
  gint64 id;

  g_return_val_if_fail (vault != NULL && uid != NULL, -1);
  if (!sp_vault_check_open (vault, error))
    return -1;
  id = id_for_uid (vault, uid, error);
  if (id == -1)
    no_such_compartment (error);
  return MAX (id, -1);
}

/* The id of the compartment whose name folds to folded, other than except;
 * -1 when none, -2 on error. */
static gint64
id_for_folded_name (SpVault *vault, const char *folded, gint64 except, GError **error)
{
  g_autoptr (GPtrArray) all = sp_vault_compartments (vault, error);

  if (all == NULL)
    return -2;
  for (guint i = 0; i < all->len; i++)
    {
      const SpCompartment *c = all->pdata[i];
      g_autofree char *f = g_utf8_casefold (c->name, -1);

      if (c->id != except && g_str_equal (f, folded))
        return c->id;
    }
  return -1;
}

gint64
sp_vault_compartment_lookup (SpVault *vault, const char *name, GError **error)
{
  g_autofree char *norm = NULL;
  g_autofree char *folded = NULL;
  gint64 id;

  g_return_val_if_fail (vault != NULL && name != NULL, -1);
  if (!sp_vault_check_open (vault, error))
    return -1;
  if (!g_utf8_validate (name, -1, NULL))
    {
      no_such_compartment (error);
      return -1;
    }
  norm = g_utf8_normalize (name, -1, G_NORMALIZE_NFC);
  folded = g_utf8_casefold (g_strstrip (norm), -1);
  id = id_for_folded_name (vault, folded, -1, error);
  if (id == -1)
    no_such_compartment (error);
  return MAX (id, -1);
}

/* ---- Names ---- */

/* The name as it is stored (NFC, trimmed), or NULL with SP_CORE_ERROR_INVALID:
 * 1–64 characters, no control characters, not "main", unique ignoring case
 * among the compartments other than except. */
static char *
check_name (SpVault *vault, const char *name, gint64 except, GError **error)
{
  g_autofree char *norm = NULL;
  g_autofree char *folded = NULL;
  glong len;
  gint64 other;

  if (!g_utf8_validate (name, -1, NULL)
      || (norm = g_utf8_normalize (name, -1, G_NORMALIZE_NFC)) == NULL)
    goto bad;
  g_strstrip (norm);
  len = g_utf8_strlen (norm, -1);
  if (len < 1 || len > NAME_MAX_CHARS)
    goto bad;
  for (const char *p = norm; *p; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      goto bad;
  folded = g_utf8_casefold (norm, -1);
  if (g_str_equal (folded, "main"))
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("The name \"%s\" is reserved for the main compartment"), norm);
      return NULL;
    }
  other = id_for_folded_name (vault, folded, except, error);
  if (other == -2)
    return NULL;
  if (other >= 0)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("There is already a compartment named \"%s\""), norm);
      return NULL;
    }
  return g_steal_pointer (&norm);

bad:
  g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
               _ ("A compartment name must have 1 to 64 characters and no control characters"));
  return NULL;
}

gint64
sp_vault_compartment_add (SpVault *vault, const char *name, const char *uid_in, GError **error)
{
  g_autofree char *norm = NULL;
  g_autofree char *uid = NULL;
  sqlite3_stmt *st;

  g_return_val_if_fail (vault != NULL && name != NULL, -1);
  if (!sp_vault_check_open (vault, error) || (norm = check_name (vault, name, -1, error)) == NULL)
    return -1;
  uid = uid_in ? g_strdup (uid_in) : sp_random_id ();
  if (!sp_is_hex_id (uid))
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("A compartment id must be 32 lowercase hexadecimal characters"));
      return -1;
    }
  if (id_for_uid (vault, uid, NULL) != -1)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_EXISTS,
                   _ ("This vault already holds that compartment"));
      return -1;
    }
  /* max + 1: no record names an id above the highest held (a purge takes its
   * records with it), and no counter is kept that would remember a purged
   * compartment. */
  st = sp_stmt (vault,
                "INSERT INTO compartments (id, name, uid) "
                "SELECT coalesce(max(id), 0) + 1, ?, ? FROM compartments",
                error);
  if (st == NULL)
    return -1;
  sqlite3_bind_text (st, 1, norm, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, uid, -1, SQLITE_STATIC);
  if (!sp_step_done (vault, st, error))
    return -1;
  return sqlite3_last_insert_rowid (vault->db);
}

gboolean
sp_vault_compartment_rename (SpVault *vault, gint64 id, const char *name, GError **error)
{
  g_autofree char *uid = NULL;
  g_autofree char *norm = NULL;
  sqlite3_stmt *st;

  g_return_val_if_fail (vault != NULL && name != NULL, FALSE);
  if (!sp_vault_check_open (vault, error) || (uid = sp_compartment_uid (vault, id, error)) == NULL)
    return FALSE;
  if (id == 0)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("The main compartment cannot be renamed or removed"));
      return FALSE;
    }
  if ((norm = check_name (vault, name, id, error)) == NULL)
    return FALSE;
  st = sp_stmt (vault, "UPDATE OR FAIL compartments SET name = ? WHERE id = ?", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, norm, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 2, id);
  return sp_step_done (vault, st, error);
}

/* ---- The default compartment ---- */

gint64
sp_vault_get_default_compartment (SpVault *vault)
{
  sqlite3_stmt *st;
  gint64 id = 0;

  g_return_val_if_fail (vault != NULL, 0);
  if (vault->db == NULL || vault->schema_version < 7)
    return 0;
  /* A setting that names a compartment no longer held means main. */
  st = sp_stmt (vault,
                "SELECT k.id FROM meta m JOIN compartments k ON k.id = CAST(m.value AS INTEGER) "
                "WHERE m.key = '" META_DEFAULT "'",
                NULL);
  if (st == NULL)
    return 0;
  if (sqlite3_step (st) == SQLITE_ROW)
    id = sqlite3_column_int64 (st, 0);
  sqlite3_reset (st);
  return id;
}

gboolean
sp_vault_set_default_compartment (SpVault *vault, gint64 id, GError **error)
{
  g_autofree char *uid = NULL;
  g_autofree char *value = g_strdup_printf ("%" G_GINT64_FORMAT, id);
  sqlite3_stmt *st;

  g_return_val_if_fail (vault != NULL, FALSE);
  if (!sp_vault_check_open (vault, error) || (uid = sp_compartment_uid (vault, id, error)) == NULL)
    return FALSE;
  st = sp_stmt (vault, "INSERT OR REPLACE INTO meta (key, value) VALUES ('" META_DEFAULT "', ?)",
                error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, value, -1, SQLITE_STATIC);
  return sp_step_done (vault, st, error);
}

/* ---- Purge ----
 *
 * Everything of a set of records, COND being the condition on records that
 * selects them (bound to ?1). The search entries go through the index's own
 * path (sp_search_index_record notes them; a record that is gone is removed
 * from the index when it is flushed). */
static const char *const purge_sql[] = {
  "DELETE FROM conflicts WHERE rec IN (SELECT id FROM records WHERE COND)",
  "DELETE FROM superseded WHERE rec IN (SELECT id FROM records WHERE COND)",
  "DELETE FROM changes WHERE rec IN (SELECT id FROM records WHERE COND)",
  "DELETE FROM fields WHERE rec IN (SELECT rowid FROM records WHERE COND)",
  "DELETE FROM records WHERE COND",
};

static char *
with_cond (const char *template, const char *cond)
{
  g_auto (GStrv) parts = g_strsplit (template, "COND", -1);

  return g_strjoinv (cond, parts);
}

static gboolean
purge_records (SpVault *vault, const char *cond, gint64 arg, GError **error)
{
  g_autoptr (GArray) rowids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autofree char *select = with_cond ("SELECT rowid FROM records WHERE COND", cond);
  g_autoptr (sqlite3_stmt) st = sp_prepare (vault, select, error);
  int rc;

  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, arg);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 r = sqlite3_column_int64 (st, 0);
      g_array_append_val (rowids, r);
    }
  if (rc != SQLITE_DONE)
    return sp_sqlite_error (vault->db, rc, error);
  for (guint i = 0; i < G_N_ELEMENTS (purge_sql); i++)
    {
      g_autofree char *sql = with_cond (purge_sql[i], cond);
      g_autoptr (sqlite3_stmt) del = sp_prepare (vault, sql, error);

      if (del == NULL)
        return FALSE;
      sqlite3_bind_int64 (del, 1, arg);
      if (sqlite3_step (del) != SQLITE_DONE)
        return sp_sqlite_error (vault->db, sqlite3_errcode (vault->db), error);
    }
  for (guint i = 0; i < rowids->len; i++)
    if (!sp_search_index_record (vault, g_array_index (rowids, gint64, i), NULL, NULL, error))
      return FALSE;
  return TRUE;
}

/* One statement with one integer argument, ?1. */
static gboolean
exec_with_id (SpVault *vault, const char *sql, gint64 arg, GError **error)
{
  sqlite3_stmt *st = sp_stmt (vault, sql, error);

  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, arg);
  return sp_step_done (vault, st, error);
}

gboolean
sp_vault_compartment_purge (SpVault *vault, gint64 id, GError **error)
{
  g_autofree char *uid = NULL;
  gboolean started, ok;

  g_return_val_if_fail (vault != NULL, FALSE);
  if (!sp_vault_check_open (vault, error) || (uid = sp_compartment_uid (vault, id, error)) == NULL)
    return FALSE;
  if (id == 0)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("The main compartment cannot be renamed or removed"));
      return FALSE;
    }
  if (!sp_vault_tx_begin_implicit (vault, &started, error))
    return FALSE;
  /* FTS4 only marks deleted documents in new segments; merging every segment
   * into one ('optimize') drops the old ones that still list their terms. */
  ok = purge_records (vault, "comp = ?1", id, error) && sp_search_flush (vault, error)
       && exec_with_id (
           vault, "DELETE FROM meta WHERE key = '" META_DEFAULT "' AND CAST(value AS INTEGER) = ?1",
           id, error)
       && exec_with_id (vault, "DELETE FROM compartments WHERE id = ?1", id, error)
       && sp_exec (vault, "INSERT INTO search (search) VALUES ('optimize')", error);
  return sp_vault_tx_end_implicit (vault, started, ok, error);
}

gboolean
sp_vault_compact (SpVault *vault, GError **error)
{
  g_autoptr (sqlite3_stmt) st = NULL;

  g_return_val_if_fail (vault != NULL, FALSE);
  if (!sp_vault_check_open (vault, error))
    return FALSE;
  if (vault->current_tx || !sqlite3_get_autocommit (vault->db))
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("The vault cannot be compacted inside a transaction"));
      return FALSE;
    }
  /* The index first (terms of records purged by a lost access, see
   * sp_compartment_settle), then every page rewritten into a file without
   * free pages, then the WAL, which held the old pages, emptied. */
  if (!sp_exec (vault, "INSERT INTO search (search) VALUES ('optimize')", error)
      || !sp_exec (vault, "VACUUM", error))
    return FALSE;
  st = sp_prepare (vault, "PRAGMA wal_checkpoint(TRUNCATE)", error);
  if (st == NULL)
    return FALSE;
  if (sqlite3_step (st) != SQLITE_ROW)
    return sp_sqlite_error (vault->db, sqlite3_errcode (vault->db), error);
  if (sqlite3_column_int (st, 0) != 0)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO,
                   _ ("The vault's journal could not be emptied: another program is reading "
                      "the vault"));
      return FALSE;
    }
  return TRUE;
}

/* ---- Moves ---- */

/* The record's compartment, or -1 when it is not here. */
static gint64
record_comp (SpVault *vault, const char *id, gint64 *rowid_out)
{
  sqlite3_stmt *st = sp_stmt (vault, "SELECT rowid, comp FROM records WHERE id = ?", NULL);
  gint64 comp = -1;

  *rowid_out = 0;
  if (st == NULL)
    return -1;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  if (sqlite3_step (st) == SQLITE_ROW)
    {
      *rowid_out = sqlite3_column_int64 (st, 0);
      comp = sqlite3_column_int64 (st, 1);
    }
  sqlite3_reset (st);
  return comp;
}

gboolean
sp_compartment_settle (SpVault *vault, gint64 rowid, gboolean *purged, GError **error)
{
  sqlite3_stmt *st
      = sp_stmt (vault, "SELECT value FROM fields WHERE rec = ? AND field = '_comp'", error);
  g_autofree char *uid = NULL;
  gboolean found = FALSE;
  gint64 comp;
  int rc;

  *purged = FALSE;
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, rowid);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      found = TRUE;
      uid = g_strdup ((const char *)sqlite3_column_text (st, 0));
    }
  sqlite3_reset (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return sp_sqlite_error (vault->db, rc, error);
  if (!found)
    return TRUE;
  comp = id_for_uid (vault, uid, error);
  if (comp == -2)
    return FALSE;
  if (comp == -1) /* moved to a compartment not held here: access lost */
    {
      *purged = TRUE;
      return purge_records (vault, "rowid = ?1", rowid, error);
    }
  st = sp_stmt (vault, "UPDATE OR FAIL records SET comp = ?2 WHERE rowid = ?1 AND comp <> ?2",
                error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, rowid);
  sqlite3_bind_int64 (st, 2, comp);
  return sp_step_done (vault, st, error);
}

static gboolean
has_comp_conflict (SpVault *vault, const char *id)
{
  sqlite3_stmt *st
      = sp_stmt (vault, "SELECT 1 FROM conflicts WHERE rec = ? AND field = '_comp' LIMIT 1", NULL);
  gboolean any;

  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  any = sqlite3_step (st) == SQLITE_ROW;
  sqlite3_reset (st);
  return any;
}

gboolean
sp_vault_move (SpVault *vault, const char *id_in, gint64 comp, GError **error)
{
  g_autofree char *id = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *uid = NULL;
  gboolean started, ok, purged = FALSE;
  gint64 rowid, cl = 0, now;
  guint64 hlc;

  g_return_val_if_fail (vault != NULL && id_in != NULL, FALSE);
  if (!sp_vault_check_open (vault, error)
      || (uid = sp_compartment_uid (vault, comp, error)) == NULL)
    return FALSE;
  id = g_ascii_strdown (id_in, -1);
  rowid = sp_is_hex_id (id) ? sp_vault_record_rowid (vault, id, &kind, &cl) : 0;
  if (rowid == 0 || cl == 0)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND, _ ("No record with id %s"),
                   id_in);
      return FALSE;
    }
  now = record_comp (vault, id, &rowid);
  /* Where it is already: nothing to write, unless a concurrent move left a
   * conflict, which this write ends (it supersedes every version). */
  if (now == comp && !has_comp_conflict (vault, id))
    return TRUE;
  if (!sp_vault_tx_begin_implicit (vault, &started, error))
    return FALSE;
  ok = sp_vault_hlc_tick (vault, &hlc, error)
       && sp_merge_apply_local (vault, rowid, id, kind, "_comp", uid, hlc, error)
       && sp_compartment_settle (vault, rowid, &purged, error);
  return sp_vault_tx_end_implicit (vault, started, ok, error);
}

/* ---- The change log as read ---- */

GPtrArray *
sp_changes_collect (SpVault *vault, sqlite3_stmt *st, gint64 *last_seq, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (change_free_cb);
  int rc;

  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      SpChange *c = g_new0 (SpChange, 1);

      c->seq = sqlite3_column_int64 (st, 0);
      c->record = g_strdup ((const char *)sqlite3_column_text (st, 1));
      c->kind = g_strdup ((const char *)sqlite3_column_text (st, 2));
      c->field = g_strdup ((const char *)sqlite3_column_text (st, 3));
      c->value = g_strdup ((const char *)sqlite3_column_text (st, 4));
      c->hlc = (guint64)sqlite3_column_int64 (st, 5);
      c->device = g_strdup ((const char *)sqlite3_column_text (st, 6));
      c->supersedes = g_strdup ((const char *)sqlite3_column_text (st, 7));
      c->tx = sqlite3_column_int64 (st, 8);
      c->comp = sqlite3_column_int64 (st, 9);
      c->from_comp = sqlite3_column_int64 (st, 10);
      if (last_seq)
        *last_seq = c->seq;
      g_ptr_array_add (out, c);
    }
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    {
      sp_sqlite_error (vault->db, rc, error);
      return NULL;
    }
  return g_steal_pointer (&out);
}

GPtrArray *
sp_vault_record_changes (SpVault *vault, const char *id, GError **error)
{
  g_autofree char *lower = NULL;
  sqlite3_stmt *st;

  g_return_val_if_fail (vault != NULL && id != NULL, NULL);
  if (!sp_vault_check_open (vault, error))
    return NULL;
  st = sp_stmt (vault, SP_CHANGE_SELECT "WHERE c.rec = ? ORDER BY c.seq", error);
  if (st == NULL)
    return NULL;
  lower = g_ascii_strdown (id, -1);
  sqlite3_bind_text (st, 1, lower, -1, SQLITE_TRANSIENT);
  return sp_changes_collect (vault, st, NULL, error);
}

/* ---- Applying a compartment's batch ---- */

static gboolean
is_logged (SpVault *vault, const SpChange *c)
{
  sqlite3_stmt *st = sp_stmt (
      vault, "SELECT 1 FROM changes WHERE rec = ? AND field = ? AND hlc = ? AND device = ?", NULL);
  gboolean found;

  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, c->record, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, c->field, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 3, (sqlite3_int64)c->hlc);
  sqlite3_bind_text (st, 4, c->device, -1, SQLITE_STATIC);
  found = sqlite3_step (st) == SQLITE_ROW;
  sqlite3_reset (st);
  return found;
}

static gboolean
is_comp_change (const SpChange *c)
{
  return g_str_equal (c->field, "_comp");
}

GHashTable *
sp_compartment_admit (SpVault *vault, GPtrArray *changes, gint64 comp, GError **error)
{
  g_autoptr (GHashTable) fresh = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) moved_in = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *uid = sp_compartment_uid (vault, comp, error);

  if (uid == NULL)
    return NULL;
  for (guint i = 0; i < changes->len; i++)
    {
      const SpChange *c = changes->pdata[i];
      if (c->record && c->field && is_comp_change (c)
          && g_strcmp0 (c->value ? c->value : "", uid) == 0)
        g_hash_table_add (moved_in, c->record);
    }
  for (guint i = 0; i < changes->len; i++)
    {
      const SpChange *c = changes->pdata[i];
      gint64 rowid, now;

      /* Malformed changes are refused by the merge; a change logged already
       * is a no-op (a history re-sent with a move). */
      if (c->record == NULL || c->field == NULL || c->device == NULL || is_logged (vault, c))
        continue;
      now = record_comp (vault, c->record, &rowid);
      if (rowid == 0 || g_hash_table_contains (fresh, c->record))
        {
          /* New here: its "_comp" changes must bring it into this
           * compartment (a history re-sent with a move). */
          if (!is_comp_change (c) || g_hash_table_contains (moved_in, c->record))
            {
              g_hash_table_add (fresh, g_strdup (c->record));
              continue;
            }
        }
      else if (now == comp)
        continue;
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("A received change to record %s is refused: the record is not in the "
                      "compartment of its batch"),
                   c->record);
      return NULL;
    }
  return g_steal_pointer (&fresh);
}

gboolean
sp_compartment_place_new (SpVault *vault, GHashTable *fresh, gint64 comp, GError **error)
{
  GHashTableIter it;
  gpointer id;

  if (comp == 0)
    return TRUE; /* records start in main */
  g_hash_table_iter_init (&it, fresh);
  while (g_hash_table_iter_next (&it, &id, NULL))
    {
      sqlite3_stmt *st = sp_stmt (vault, "UPDATE OR FAIL records SET comp = ? WHERE id = ?", error);
      if (st == NULL)
        return FALSE;
      sqlite3_bind_int64 (st, 1, comp);
      sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
      if (!sp_step_done (vault, st, error))
        return FALSE;
    }
  return TRUE;
}
