/* The change log and its merge rule (docs/MERGE.md).
 *
 * Every write is a change (record, field, value, HLC, device, supersedes).
 * `supersedes` lists the versions of that field the writer had when it wrote:
 * those stop being concurrent heads. The field's value is the head with the
 * highest (HLC, device) — last writer wins, and since the HLC of a write is
 * above everything its writer had seen, the winner is always a head. Other
 * heads with a different value are kept in `conflicts` (a multi-value
 * register). Both are pure functions of the set of changes received, so
 * replicas that received the same changes in any order hold the same tables,
 * and applying a change twice changes nothing.
 *
 * Existence is the causal length `_cl` (odd = exists, even = deleted); it
 * merges by max, so concurrent deletes agree and delete-then-recreate wins
 * over the delete it followed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>

#include "sp-vault-private.h"

/* A local write supersedes at most this many concurrent versions of a field
 * (the newest); more stay as conflicts until the next write. Received changes
 * are held to the same bound. */
#define MAX_SUPERSEDES 1024
#define SQL_HEADS                                                                                  \
  "SELECT c.hlc, c.device FROM changes c WHERE c.rec = ?1 AND c.field = ?2 AND NOT EXISTS ("       \
  "SELECT 1 FROM superseded s WHERE s.rec = c.rec AND s.field = c.field AND s.hlc = c.hlc AND "    \
  "s.device = c.device) ORDER BY c.hlc DESC, c.device DESC LIMIT " G_STRINGIFY (MAX_SUPERSEDES)

void
sp_change_free (SpChange *change)
{
  if (change == NULL)
    return;
  g_free (change->record);
  g_free (change->kind);
  g_free (change->field);
  g_free (change->value);
  g_free (change->device);
  g_free (change->supersedes);
  g_free (change);
}

void
sp_conflict_free (SpConflict *c)
{
  if (c == NULL)
    return;
  g_free (c->record);
  g_free (c->kind);
  g_free (c->field);
  g_free (c->winner_value);
  g_free (c->winner_device);
  g_free (c->other_value);
  g_free (c->other_device);
  g_free (c);
}

static void
conflict_free_cb (gpointer p)
{
  sp_conflict_free (p);
}

static gboolean
is_name (const char *s, gsize max)
{
  gsize n = 0;

  if (s == NULL || *s == '\0')
    return FALSE;
  for (const char *p = s; *p; p++, n++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_') || n >= max)
      return FALSE;
  return TRUE;
}

/* Parses "HLC@DEVICE HLC@DEVICE ..." strictly. Every superseded version is
 * older than the change itself (its writer had seen it), which also rules out
 * cycles and superseding versions in advance. */
static gboolean
parse_supersedes (const char *s, guint64 own_hlc, GArray *hlcs, GPtrArray *devices)
{
  g_auto (GStrv) tokens = NULL;

  if (s == NULL || *s == '\0')
    return TRUE;
  if (strlen (s) > MAX_SUPERSEDES * 60)
    return FALSE;
  tokens = g_strsplit (s, " ", -1);
  for (guint i = 0; tokens[i]; i++)
    {
      char *at = strchr (tokens[i], '@');
      guint64 hlc;

      if (at == NULL || i >= MAX_SUPERSEDES)
        return FALSE;
      *at = '\0';
      if (!g_ascii_string_to_unsigned (tokens[i], 10, 1, G_MAXINT64, &hlc, NULL) || hlc >= own_hlc
          || !sp_is_hex_id (at + 1))
        return FALSE;
      g_array_append_val (hlcs, hlc);
      g_ptr_array_add (devices, g_strdup (at + 1));
    }
  return TRUE;
}

/* A change from anywhere must have this shape before it touches the store. */
static gboolean
change_is_well_formed (const SpChange *c, GError **error)
{
  const char *why = NULL;

  if (!sp_is_hex_id (c->record))
    why = "record id";
  else if (!is_name (c->kind, 32))
    why = "kind";
  else if (!is_name (c->field, 64))
    why = "field";
  else if (!sp_is_hex_id (c->device))
    why = "device";
  else if (c->hlc == 0 || c->hlc > SP_HLC_MAX)
    why = "hlc";
  else if (c->value
           && (strlen (c->value) > SP_MAX_VALUE_BYTES || !g_utf8_validate (c->value, -1, NULL)))
    why = "value";
  else if (g_str_equal (c->field, "_cl")
           && (c->value == NULL
               || !g_ascii_string_to_unsigned (c->value, 10, 1, SP_CL_MAX, NULL, NULL)))
    why = "causal length";
  else if (g_str_equal (c->field, "_comp") && c->value && *c->value && !sp_is_hex_id (c->value))
    why = "compartment";
  else
    {
      g_autoptr (GArray) hlcs = g_array_new (FALSE, FALSE, sizeof (guint64));
      g_autoptr (GPtrArray) devices = g_ptr_array_new_with_free_func (g_free);
      if (!parse_supersedes (c->supersedes, c->hlc, hlcs, devices))
        why = "supersedes";
    }
  if (why)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT,
                   _ ("A received change is malformed (%s)"), why);
      return FALSE;
    }
  return TRUE;
}

/* The change's key (record, field, HLC, device) is in the log already: it
 * must be the same change, or someone forged one of the two. */
static gboolean
same_as_logged (SpVault *vault, const SpChange *c, GError **error)
{
  sqlite3_stmt *st = sp_stmt (vault,
                              "SELECT kind, value, supersedes FROM changes WHERE rec = ? AND "
                              "field = ? AND hlc = ? AND device = ?",
                              error);
  gboolean same = FALSE;

  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, c->record, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, c->field, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 3, (sqlite3_int64)c->hlc);
  sqlite3_bind_text (st, 4, c->device, -1, SQLITE_STATIC);
  if (sqlite3_step (st) == SQLITE_ROW)
    same = g_strcmp0 ((const char *)sqlite3_column_text (st, 0), c->kind) == 0
           && g_strcmp0 ((const char *)sqlite3_column_text (st, 1), c->value) == 0
           && g_strcmp0 ((const char *)sqlite3_column_text (st, 2),
                         c->supersedes ? c->supersedes : "")
                  == 0;
  sqlite3_reset (st);
  if (!same)
    g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT,
                 _ ("A received change contradicts one received before with the same clock"));
  return same;
}

/* Appends the change to the log. *inserted FALSE: it was there already. */
static gboolean
log_change (SpVault *vault, const SpChange *c, gboolean *inserted, GError **error)
{
  sqlite3_stmt *st;
  g_autoptr (GArray) hlcs = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_autoptr (GPtrArray) devices = g_ptr_array_new_with_free_func (g_free);

  *inserted = FALSE;
  if (!parse_supersedes (c->supersedes, c->hlc, hlcs, devices))
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT,
                   _ ("A received change is malformed (%s)"), "supersedes");
      return FALSE;
    }
  st = sp_stmt (
      vault,
      "INSERT OR IGNORE INTO changes (rec, kind, field, value, hlc, device, supersedes, tx) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, c->record, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, c->kind, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 3, c->field, -1, SQLITE_STATIC);
  if (c->value)
    sqlite3_bind_text (st, 4, c->value, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 5, (sqlite3_int64)c->hlc);
  sqlite3_bind_text (st, 6, c->device, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 7, c->supersedes ? c->supersedes : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 8, c->tx);
  if (!sp_step_done (vault, st, error))
    return FALSE;
  if (sqlite3_changes (vault->db) == 0)
    return same_as_logged (vault, c, error); /* a duplicate is a no-op; a forgery is not */
  *inserted = TRUE;

  for (guint i = 0; i < hlcs->len; i++)
    {
      st = sp_stmt (
          vault, "INSERT OR IGNORE INTO superseded (rec, field, hlc, device) VALUES (?, ?, ?, ?)",
          error);
      if (st == NULL)
        return FALSE;
      sqlite3_bind_text (st, 1, c->record, -1, SQLITE_STATIC);
      sqlite3_bind_text (st, 2, c->field, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (st, 3, (sqlite3_int64)g_array_index (hlcs, guint64, i));
      sqlite3_bind_text (st, 4, devices->pdata[i], -1, SQLITE_STATIC);
      if (!sp_step_done (vault, st, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
update_conflict_flag (SpVault *vault, gint64 rowid, const char *id, GError **error)
{
  sqlite3_stmt *st = sp_stmt (vault,
                              "UPDATE OR FAIL records SET conflicts = "
                              "(SELECT count(*) FROM conflicts WHERE rec = ?2) WHERE rowid = ?1",
                              error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, rowid);
  sqlite3_bind_text (st, 2, id, -1, SQLITE_STATIC);
  return sp_step_done (vault, st, error);
}

/* sp_stmt cleared the bindings: an empty value stays NULL (cleared). */
static gboolean
bind_fields_row (sqlite3_stmt *st, gint64 rowid, const char *field, const char *value, guint64 hlc,
                 const char *device)
{
  sqlite3_bind_int64 (st, 1, rowid);
  sqlite3_bind_text (st, 2, field, -1, SQLITE_STATIC);
  if (value && *value)
    sqlite3_bind_text (st, 3, value, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 4, (sqlite3_int64)hlc);
  sqlite3_bind_text (st, 5, device, -1, SQLITE_STATIC);
  return TRUE;
}

/* Update, else insert — not INSERT OR REPLACE: a REPLACE may delete and
 * insert (a "multi-write" that can abort half-way), so SQLite copies every
 * page it touches to a statement journal first, and SQLCipher 3.4 encrypts
 * each copy (docs/PERFORMANCE.md, "Store"). An UPDATE OR FAIL of one row
 * and a one-row INSERT need no statement journal. (OR FAIL keeps what a
 * statement wrote before a failing row; these write one row, and every
 * caller takes its transaction back on an error.) */
static gboolean
set_fields_row (SpVault *vault, gint64 rowid, const char *field, const char *value, guint64 hlc,
                const char *device, GError **error)
{
  sqlite3_stmt *st = sp_stmt (vault,
                              "UPDATE OR FAIL fields SET value = ?3, hlc = ?4, device = ?5 "
                              "WHERE rec = ?1 AND field = ?2",
                              error);

  if (st == NULL || !bind_fields_row (st, rowid, field, value, hlc, device)
      || !sp_step_done (vault, st, error))
    return FALSE;
  if (sqlite3_changes (vault->db) > 0)
    return TRUE;
  st = sp_stmt (vault,
                "INSERT INTO fields (rec, field, value, hlc, device) VALUES (?1, ?2, ?3, ?4, ?5)",
                error);
  return st != NULL && bind_fields_row (st, rowid, field, value, hlc, device)
         && sp_step_done (vault, st, error);
}

static gboolean
apply_causal_length (SpVault *vault, gint64 rowid, const char *value, guint64 hlc, GError **error)
{
  sqlite3_stmt *st;
  gint64 cl = g_ascii_strtoll (value, NULL, 10);
  g_autoptr (GDateTime) when = g_date_time_new_from_unix_utc ((gint64)(sp_hlc_ms (hlc) / 1000));
  g_autofree char *iso = when ? g_date_time_format_iso8601 (when) : g_strdup ("");

  /* max(cl); the creation time is the HLC time of the write that made cl 1. */
  st = sp_stmt (vault,
                "UPDATE OR FAIL records SET cl = max(cl, ?2), "
                "created = CASE WHEN ?2 = 1 THEN ?3 ELSE created END, "
                "updated = max(updated, ?4) WHERE rowid = ?1",
                error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, rowid);
  sqlite3_bind_int64 (st, 2, cl);
  sqlite3_bind_text (st, 3, iso, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (st, 4, (sqlite3_int64)hlc);
  return sp_step_done (vault, st, error);
}

static gboolean
touch_updated (SpVault *vault, gint64 rowid, guint64 hlc, GError **error)
{
  sqlite3_stmt *st = sp_stmt (
      vault, "UPDATE OR FAIL records SET updated = max(updated, ?2) WHERE rowid = ?1", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, rowid);
  sqlite3_bind_int64 (st, 2, (sqlite3_int64)hlc);
  return sp_step_done (vault, st, error);
}

/* Recomputes the field's winner and its conflicts from the log. */
static gboolean
settle_field (SpVault *vault, gint64 rowid, const char *id, const char *field, GError **error)
{
  sqlite3_stmt *st;
  g_autofree char *value = NULL;
  g_autofree char *device = NULL;
  guint64 hlc = 0;
  gboolean has_value;

  st = sp_stmt (vault,
                "SELECT value, hlc, device FROM changes WHERE rec = ? AND field = ? "
                "ORDER BY hlc DESC, device DESC LIMIT 1",
                error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, field, -1, SQLITE_STATIC);
  if (sqlite3_step (st) != SQLITE_ROW)
    {
      sqlite3_reset (st);
      return TRUE;
    }
  has_value = sqlite3_column_type (st, 0) != SQLITE_NULL;
  value = g_strdup ((const char *)sqlite3_column_text (st, 0));
  hlc = (guint64)sqlite3_column_int64 (st, 1);
  device = g_strdup ((const char *)sqlite3_column_text (st, 2));
  sqlite3_reset (st);

  if (!set_fields_row (vault, rowid, field, value, hlc, device, error))
    return FALSE;

  st = sp_stmt (vault, "DELETE FROM conflicts WHERE rec = ? AND field = ?", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, field, -1, SQLITE_STATIC);
  if (!sp_step_done (vault, st, error))
    return FALSE;

  /* Heads other than the winner whose value differs from it. Empty and
   * cleared count as the same value. */
  st = sp_stmt (vault,
                "INSERT OR FAIL INTO conflicts (rec, field, value, hlc, device) "
                "SELECT c.rec, c.field, c.value, c.hlc, c.device FROM changes c "
                "WHERE c.rec = ?1 AND c.field = ?2 "
                "AND NOT (c.hlc = ?3 AND c.device = ?4) "
                "AND coalesce(c.value, '') <> coalesce(?5, '') "
                "AND NOT EXISTS (SELECT 1 FROM superseded s WHERE s.rec = c.rec AND "
                "s.field = c.field AND s.hlc = c.hlc AND s.device = c.device)",
                error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, field, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 3, (sqlite3_int64)hlc);
  sqlite3_bind_text (st, 4, device, -1, SQLITE_STATIC);
  if (has_value)
    sqlite3_bind_text (st, 5, value, -1, SQLITE_STATIC);
  if (!sp_step_done (vault, st, error))
    return FALSE;
  return update_conflict_flag (vault, rowid, id, error);
}

static char *
current_heads (SpVault *vault, const char *id, const char *field, guint *count, GError **error)
{
  sqlite3_stmt *st = sp_stmt (vault, SQL_HEADS, error);
  g_autoptr (GString) out = g_string_new (NULL);
  int rc;

  *count = 0;

  if (st == NULL)
    return NULL;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, field, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      g_string_append_printf (out, "%s%" G_GINT64_FORMAT "@%s", out->len ? " " : "",
                              (gint64)sqlite3_column_int64 (st, 0),
                              (const char *)sqlite3_column_text (st, 1));
      (*count)++;
    }
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    {
      sp_sqlite_error (vault->db, rc, error);
      return NULL;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* A local write: it supersedes every version this device has of the field,
 * and its HLC is above all of them, so it is the sole head and the winner —
 * no recomputation needed. */
gboolean
sp_merge_apply_local (SpVault *vault, gint64 rowid, const char *id, const char *kind,
                      const char *field, const char *value, guint64 hlc, GError **error)
{
  guint n_heads = 0;
  g_autofree char *heads = current_heads (vault, id, field, &n_heads, error);
  SpChange c = {
    .record = (char *)id,
    .kind = (char *)kind,
    .field = (char *)field,
    .value = (char *)(value && *value ? value : NULL),
    .hlc = hlc,
    .device = vault->device_id,
    .supersedes = heads,
    .tx = vault->current_tx,
  };
  gboolean inserted;
  sqlite3_stmt *st;

  if (heads == NULL || !log_change (vault, &c, &inserted, error))
    return FALSE;
  if (g_str_equal (field, "_cl"))
    return apply_causal_length (vault, rowid, value, hlc, error);
  if (n_heads >= MAX_SUPERSEDES) /* older concurrent versions remain: recompute */
    return touch_updated (vault, rowid, hlc, error)
           && settle_field (vault, rowid, id, field, error);
  if (!set_fields_row (vault, rowid, field, c.value, hlc, vault->device_id, error)
      || !touch_updated (vault, rowid, hlc, error))
    return FALSE;
  st = sp_stmt (vault, "DELETE FROM conflicts WHERE rec = ? AND field = ?", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, field, -1, SQLITE_STATIC);
  if (!sp_step_done (vault, st, error))
    return FALSE;
  if (sqlite3_changes (vault->db) > 0)
    return update_conflict_flag (vault, rowid, id, error);
  return TRUE;
}

static gint64
ensure_record (SpVault *vault, const SpChange *c, GError **error)
{
  g_autofree char *kind = NULL;
  gint64 rowid = sp_vault_record_rowid (vault, c->record, &kind, NULL);
  sqlite3_stmt *st;

  if (rowid > 0)
    {
      if (!g_str_equal (kind, c->kind))
        {
          g_set_error (
              error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT,
              _ ("A received change gives record %s the kind \"%s\", but it is stored as \"%s\""),
              c->record, c->kind, kind);
          return -1;
        }
      return rowid;
    }
  st = sp_stmt (vault, "INSERT INTO records (id, kind, cl) VALUES (?, ?, 0)", error);
  if (st == NULL)
    return -1;
  sqlite3_bind_text (st, 1, c->record, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, c->kind, -1, SQLITE_STATIC);
  if (!sp_step_done (vault, st, error))
    return -1;
  return sqlite3_last_insert_rowid (vault->db);
}

gboolean
sp_merge_apply_remote (SpVault *vault, const SpChange *c, GHashTable *dirty, guint64 *max_hlc,
                       GError **error)
{
  gboolean inserted;
  gint64 rowid;

  if (!change_is_well_formed (c, error))
    return FALSE;
  /* Bounded clock drift, as every HLC needs: a change dated more than a day
   * ahead would drag every later local write with it. Refused now, it is
   * accepted on a later sync once the time has come. */
  if (sp_hlc_ms (c->hlc) > (guint64)(g_get_real_time () / 1000) + SP_MAX_CLOCK_AHEAD_MS)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT,
                   _ ("A received change is dated more than a day ahead: the clock of device "
                      "%.8s is wrong"),
                   c->device);
      return FALSE;
    }
  if (g_str_equal (c->device, vault->device_id) && !vault->restoring_own)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT,
                   _ ("A received change claims to come from this device"));
      return FALSE;
    }
  if (!log_change (vault, c, &inserted, error))
    return FALSE;
  if (!inserted)
    return TRUE;
  rowid = ensure_record (vault, c, error);
  if (rowid < 0)
    return FALSE;
  *max_hlc = MAX (*max_hlc, c->hlc);
  g_hash_table_add (dirty, GINT_TO_POINTER ((gint)rowid)); /* rowids stay far below 2^31 */
  if (g_str_equal (c->field, "_cl"))
    return apply_causal_length (vault, rowid, c->value, c->hlc, error);
  return touch_updated (vault, rowid, c->hlc, error)
         && settle_field (vault, rowid, c->record, c->field, error);
}

gboolean
sp_vault_apply_changes (SpVault *vault, GPtrArray *changes, GError **error)
{
  return sp_vault_apply_changes_in (vault, changes, 0, error);
}

/* Checked against the compartment's rules first, applied, then each record
 * follows its winning "_comp" (sp-compartment.c). */
gboolean
sp_vault_apply_changes_in (SpVault *vault, GPtrArray *changes, gint64 comp, GError **error)
{
  g_autoptr (GHashTable) dirty = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_autoptr (GHashTable) fresh = NULL;
  gboolean started, ok = TRUE, purged = FALSE;
  GHashTableIter iter;
  gpointer key;
  guint64 max_hlc = 0;

  g_return_val_if_fail (vault != NULL && changes != NULL, FALSE);

  if (!sp_vault_tx_begin_implicit (vault, &started, error))
    return FALSE;
  ok = (fresh = sp_compartment_admit (vault, changes, comp, error)) != NULL;
  for (guint i = 0; ok && i < changes->len; i++)
    ok = sp_merge_apply_remote (vault, changes->pdata[i], dirty, &max_hlc, error);
  ok = ok && sp_compartment_place_new (vault, fresh, comp, error);
  g_hash_table_iter_init (&iter, dirty);
  while (ok && g_hash_table_iter_next (&iter, &key, NULL))
    ok = sp_compartment_settle (vault, GPOINTER_TO_INT (key), &purged, error)
         && (purged || sp_vault_refresh_record (vault, GPOINTER_TO_INT (key), NULL, error));
  /* Only a batch that applied moves our clock: a refused one leaves no trace. */
  if (ok)
    sp_vault_hlc_observe (vault, max_hlc);
  return sp_vault_tx_end_implicit (vault, started, ok, error);
}

gboolean
sp_vault_restore_own_changes_in (SpVault *vault, GPtrArray *changes, gint64 comp, GError **error)
{
  gboolean ok;

  vault->restoring_own = TRUE;
  ok = sp_vault_apply_changes_in (vault, changes, comp, error);
  vault->restoring_own = FALSE;
  return ok;
}

GPtrArray *
sp_vault_local_changes (SpVault *vault, gint64 after_seq, gint64 *last_seq, GError **error)
{
  GPtrArray *out;
  sqlite3_stmt *st;
  gint64 last = after_seq;

  g_return_val_if_fail (vault != NULL && vault->db != NULL, NULL);
  st = sp_stmt (vault, SP_CHANGE_SELECT "WHERE c.device = ? AND c.seq > ? ORDER BY c.seq", error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_text (st, 1, vault->device_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 2, after_seq);
  out = sp_changes_collect (vault, st, &last, error);
  if (out && last_seq)
    *last_seq = last;
  return out;
}

GPtrArray *
sp_vault_conflicts (SpVault *vault, const char *record, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (conflict_free_cb);
  g_autoptr (sqlite3_stmt) st = NULL;
  int rc;

  g_return_val_if_fail (vault != NULL && vault->db != NULL, NULL);
  st = sp_prepare (vault,
                   "SELECT k.id, k.rec, r.kind, k.field, f.value, f.hlc, f.device, k.value, k.hlc, "
                   "k.device FROM conflicts k JOIN records r ON r.id = k.rec "
                   "LEFT JOIN fields f ON f.rec = r.rowid AND f.field = k.field "
                   "WHERE ?1 IS NULL OR k.rec = ?1 ORDER BY k.rec, k.field, k.hlc, k.device",
                   error);
  if (st == NULL)
    return NULL;
  if (record)
    sqlite3_bind_text (st, 1, record, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      SpConflict *c = g_new0 (SpConflict, 1);

      c->id = sqlite3_column_int64 (st, 0);
      c->record = g_strdup ((const char *)sqlite3_column_text (st, 1));
      c->kind = g_strdup ((const char *)sqlite3_column_text (st, 2));
      c->field = g_strdup ((const char *)sqlite3_column_text (st, 3));
      c->winner_value = g_strdup ((const char *)sqlite3_column_text (st, 4));
      c->winner_hlc = (guint64)sqlite3_column_int64 (st, 5);
      c->winner_device = g_strdup ((const char *)sqlite3_column_text (st, 6));
      c->other_value = g_strdup ((const char *)sqlite3_column_text (st, 7));
      c->other_hlc = (guint64)sqlite3_column_int64 (st, 8);
      c->other_device = g_strdup ((const char *)sqlite3_column_text (st, 9));
      g_ptr_array_add (out, c);
    }
  if (rc != SQLITE_DONE)
    {
      sp_sqlite_error (vault->db, rc, error);
      return NULL;
    }
  return g_steal_pointer (&out);
}
