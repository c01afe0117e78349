/* Records: the one write path (every write appends to the change log in the
 * same transaction), reading and listing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>

#include "sp-vault-private.h"

struct _SpRecord
{
  gatomicrefcount ref;
  char *id;
  char *kind;
  GHashTable *fields; /* name -> value, non-empty only */
  char *created;
  char *title;
  guint64 updated;
  gint64 cl;
  gint64 comp; /* local compartment */
  gboolean conflicts;
};

SpRecord *
sp_record_new_internal (const char *id, const char *kind)
{
  SpRecord *r = g_new0 (SpRecord, 1);

  g_atomic_ref_count_init (&r->ref);
  r->id = g_strdup (id);
  r->kind = g_strdup (kind);
  r->fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  r->created = g_strdup ("");
  return r;
}

void
sp_record_set_internal (SpRecord *r, const char *field, const char *value)
{
  if (value && *value)
    g_hash_table_replace (r->fields, g_strdup (field), g_strdup (value));
  else
    g_hash_table_remove (r->fields, field);
  g_clear_pointer (&r->title, g_free);
}

void
sp_record_set_meta_internal (SpRecord *r, const char *created, guint64 updated, gint64 cl,
                             gboolean conflicts)
{
  g_free (r->created);
  r->created = g_strdup (created ? created : "");
  r->updated = updated;
  r->cl = cl;
  r->conflicts = conflicts;
}

SpRecord *
sp_record_ref (SpRecord *r)
{
  g_return_val_if_fail (r != NULL, NULL);
  g_atomic_ref_count_inc (&r->ref);
  return r;
}

void
sp_record_unref (SpRecord *r)
{
  if (r == NULL || !g_atomic_ref_count_dec (&r->ref))
    return;
  g_free (r->id);
  g_free (r->kind);
  g_free (r->created);
  g_free (r->title);
  g_hash_table_unref (r->fields);
  g_free (r);
}

const char *
sp_record_get_id (const SpRecord *r)
{
  return r->id;
}

const char *
sp_record_get_kind (const SpRecord *r)
{
  return r->kind;
}

const char *
sp_record_get (const SpRecord *r, const char *field)
{
  g_return_val_if_fail (r != NULL && field != NULL, NULL);
  if (g_str_equal (field, "id"))
    return r->id;
  return g_hash_table_lookup (r->fields, field);
}

const char *
sp_record_get_created (const SpRecord *r)
{
  return r->created;
}

guint64
sp_record_get_updated (const SpRecord *r)
{
  return r->updated;
}

gboolean
sp_record_is_deleted (const SpRecord *r)
{
  return r->cl % 2 == 0;
}

gboolean
sp_record_has_conflicts (const SpRecord *r)
{
  return r->conflicts;
}

gint64
sp_record_get_compartment (const SpRecord *r)
{
  g_return_val_if_fail (r != NULL, 0);
  return r->comp;
}

const char *
sp_record_get_title (const SpRecord *r)
{
  SpRecord *mut = (SpRecord *)r;

  if (mut->title == NULL)
    mut->title = sp_record_compute_title (r->kind, r->fields);
  return mut->title;
}

/* ---- Reading ---- */

gint64
sp_vault_record_rowid (SpVault *vault, const char *id, char **kind_out, gint64 *cl_out)
{
  sqlite3_stmt *st = sp_stmt (vault, "SELECT rowid, kind, cl FROM records WHERE id = ?", NULL);
  gint64 rowid = 0;

  if (st == NULL)
    return 0;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  if (sqlite3_step (st) == SQLITE_ROW)
    {
      rowid = sqlite3_column_int64 (st, 0);
      if (kind_out)
        *kind_out = g_strdup ((const char *)sqlite3_column_text (st, 1));
      if (cl_out)
        *cl_out = sqlite3_column_int64 (st, 2);
    }
  sqlite3_reset (st);
  return rowid;
}

static GHashTable *
load_fields (SpVault *vault, gint64 rowid, GError **error)
{
  g_autoptr (GHashTable) fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  /* "_comp" is kept in fields for its merge; it is no user field. */
  sqlite3_stmt *st = sp_stmt (
      vault,
      "SELECT field, value FROM fields WHERE rec = ? AND value IS NOT NULL AND field <> '_comp'",
      error);
  int rc;

  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, rowid);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_hash_table_insert (fields, g_strdup ((const char *)sqlite3_column_text (st, 0)),
                         g_strdup ((const char *)sqlite3_column_text (st, 1)));
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    {
      sp_sqlite_error (vault->db, rc, error);
      return NULL;
    }
  return g_steal_pointer (&fields);
}

SpRecord *
sp_vault_load_record (SpVault *vault, gint64 rowid, GError **error)
{
  /* No compartments before schema 6 (a vault being migrated). */
  sqlite3_stmt *st = sp_stmt (
      vault,
      vault->schema_version >= 6
          ? "SELECT id, kind, created, updated, cl, conflicts, comp FROM records WHERE rowid = ?"
          : "SELECT id, kind, created, updated, cl, conflicts, 0 FROM records WHERE rowid = ?",
      error);
  g_autoptr (SpRecord) r = NULL;
  GHashTable *fields;

  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, rowid);
  if (sqlite3_step (st) != SQLITE_ROW)
    {
      sqlite3_reset (st);
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND, _ ("No such record"));
      return NULL;
    }
  r = sp_record_new_internal ((const char *)sqlite3_column_text (st, 0),
                              (const char *)sqlite3_column_text (st, 1));
  sp_record_set_meta_internal (r, (const char *)sqlite3_column_text (st, 2),
                               (guint64)sqlite3_column_int64 (st, 3), sqlite3_column_int64 (st, 4),
                               sqlite3_column_int (st, 5) > 0);
  r->comp = sqlite3_column_int64 (st, 6);
  sqlite3_reset (st);
  fields = load_fields (vault, rowid, error);
  if (fields == NULL)
    return NULL;
  g_hash_table_unref (r->fields);
  r->fields = fields;
  return g_steal_pointer (&r);
}

static gboolean
check_open (SpVault *vault, GError **error)
{
  if (vault->db == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_LOCKED, _ ("The vault is locked"));
      return FALSE;
    }
  return TRUE;
}

gboolean
sp_vault_check_open (SpVault *vault, GError **error)
{
  return check_open (vault, error);
}

static gboolean
not_found (GError **error, const char *id)
{
  g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND, _ ("No record with id %s"), id);
  return FALSE;
}

SpRecord *
sp_vault_get (SpVault *vault, const char *id, GError **error)
{
  g_autofree char *lower = NULL;
  gint64 rowid, cl = 0;

  g_return_val_if_fail (vault != NULL && id != NULL, NULL);
  if (!check_open (vault, error))
    return NULL;
  lower = g_ascii_strdown (id, -1);
  rowid = sp_is_hex_id (lower) ? sp_vault_record_rowid (vault, lower, NULL, &cl) : 0;
  if (rowid == 0 || cl == 0)
    return not_found (error, id), NULL;
  return sp_vault_load_record (vault, rowid, error);
}

/* Title, sort key and search index follow the fields. */
gboolean
sp_vault_refresh_record (SpVault *vault, gint64 rowid, const char *kind, GError **error)
{
  g_autoptr (GHashTable) fields = NULL;
  g_autofree char *kind_owned = NULL;
  g_autofree char *title = NULL;
  g_autofree char *sort_key = NULL;
  sqlite3_stmt *st;
  gint64 cl = 0;

  st = sp_stmt (vault, "SELECT kind, cl FROM records WHERE rowid = ?", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, rowid);
  if (sqlite3_step (st) == SQLITE_ROW)
    {
      kind_owned = g_strdup ((const char *)sqlite3_column_text (st, 0));
      cl = sqlite3_column_int64 (st, 1);
    }
  sqlite3_reset (st);
  if (kind_owned == NULL)
    return TRUE;
  kind = kind_owned;

  fields = load_fields (vault, rowid, error);
  if (fields == NULL)
    return FALSE;
  title = sp_record_compute_title (kind, fields);
  sort_key = g_utf8_casefold (title, -1);
  st = sp_stmt (vault, "UPDATE OR FAIL records SET title = ?, sort_key = ? WHERE rowid = ?", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, title, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, sort_key, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 3, rowid);
  if (!sp_step_done (vault, st, error))
    return FALSE;
  return sp_search_index_record (vault, rowid, kind, cl % 2 == 1 ? fields : NULL, error);
}

/* ---- Writing ---- */

/* Normalises the given values into `out` (field -> canonical value, "" to
 * clear). Rejects unknown and repeated fields. */
static gboolean
normalize_values (const SpKindInfo *kind, const SpFieldValue *values, gsize n, GHashTable *out,
                  char **id_out, GError **error)
{
  for (gsize i = 0; i < n; i++)
    {
      const SpFieldInfo *f;
      char *norm;

      if (values[i].field == NULL)
        continue;
      if (id_out && g_str_equal (values[i].field, "id"))
        {
          g_autofree char *lower = g_ascii_strdown (values[i].value ? values[i].value : "", -1);
          g_strstrip (lower);
          if (*lower == '\0')
            continue;
          if (!sp_is_hex_id (lower))
            {
              g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                           _ ("%s: \"%s\" is not valid: %s"), "id", values[i].value,
                           _ ("use a record id (32 hexadecimal characters)"));
              return FALSE;
            }
          g_free (*id_out);
          *id_out = g_steal_pointer (&lower);
          continue;
        }
      f = sp_kind_field (kind, values[i].field);
      if (f == NULL)
        {
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                       _ ("%s: there is no such field for %s"), values[i].field, kind->name);
          return FALSE;
        }
      if (g_hash_table_contains (out, f->name))
        {
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                       _ ("%s: the field is given more than once"), f->name);
          return FALSE;
        }
      norm = sp_field_normalize (kind, f, values[i].value, error);
      if (norm == NULL)
        return FALSE;
      g_hash_table_insert (out, g_strdup (f->name), norm);
    }
  return TRUE;
}

static gboolean
check_references (SpVault *vault, const SpKindInfo *kind, GHashTable *fields, GError **error)
{
  for (guint i = 0; i < kind->n_fields; i++)
    {
      const SpFieldInfo *f = &kind->fields[i];
      const char *v;
      g_autofree char *target_kind = NULL;
      gint64 cl = 0;

      if (f->type != SP_FIELD_REF)
        continue;
      v = g_hash_table_lookup (fields, f->name);
      if (v == NULL || *v == '\0')
        continue;
      if (sp_vault_record_rowid (vault, v, &target_kind, &cl) == 0 || cl % 2 == 0
          || (f->ref_kind && !g_str_equal (f->ref_kind, target_kind)))
        {
          g_autofree char *why
              = f->ref_kind ? g_strdup_printf (_ ("there is no %s with this id"), f->ref_kind)
                            : g_strdup (_ ("there is no record with this id"));
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                       _ ("%s: \"%s\" is not valid: %s"), f->name, v, why);
          return FALSE;
        }
    }
  return TRUE;
}

static void
drop_empty (GHashTable *fields)
{
  GHashTableIter it;
  gpointer k, v;

  g_hash_table_iter_init (&it, fields);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (*(const char *)v == '\0')
      g_hash_table_iter_remove (&it);
}

char *
sp_vault_insert (SpVault *vault, const char *kind_name, const SpFieldValue *values, gsize n,
                 GError **error)
{
  g_return_val_if_fail (vault != NULL && kind_name != NULL, NULL);
  if (!check_open (vault, error))
    return NULL;
  return sp_vault_insert_in (vault, kind_name, sp_vault_get_default_compartment (vault), values, n,
                             error);
}

/* The creating transaction's writes: the record's row, its existence, its
 * compartment outside main, then the fields in schema order (so the log reads
 * the same for the same input). */
static gboolean
insert_rows (SpVault *vault, const SpKindInfo *kind, const char *id, gint64 comp, const char *uid,
             GHashTable *fields, GError **error)
{
  gint64 rowid;
  guint64 hlc;
  sqlite3_stmt *st;
  gboolean ok;

  if (!sp_vault_hlc_tick (vault, &hlc, error))
    return FALSE;
  st = sp_stmt (vault, "INSERT INTO records (id, kind, cl, comp) VALUES (?, ?, 0, ?)", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (st, 2, kind->name, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 3, comp);
  if (!sp_step_done (vault, st, error))
    return FALSE;
  rowid = sqlite3_last_insert_rowid (vault->db);
  ok = sp_merge_apply_local (vault, rowid, id, kind->name, "_cl", "1", hlc, error);
  if (ok && comp != 0)
    ok = sp_merge_apply_local (vault, rowid, id, kind->name, "_comp", uid, hlc, error);
  for (guint i = 0; ok && i < kind->n_fields; i++)
    {
      const char *v = g_hash_table_lookup (fields, kind->fields[i].name);
      if (v)
        ok = sp_merge_apply_local (vault, rowid, id, kind->name, kind->fields[i].name, v, hlc,
                                   error);
    }
  return ok && sp_vault_refresh_record (vault, rowid, kind->name, error);
}

char *
sp_vault_insert_in (SpVault *vault, const char *kind_name, gint64 comp, const SpFieldValue *values,
                    gsize n, GError **error)
{
  const SpKindInfo *kind;
  g_autoptr (GHashTable) fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *id = NULL;
  g_autofree char *uid = NULL;
  gboolean started, ok;

  g_return_val_if_fail (vault != NULL && kind_name != NULL, NULL);
  if (!check_open (vault, error))
    return NULL;
  if ((uid = sp_compartment_uid (vault, comp, error)) == NULL)
    return NULL;
  kind = sp_kind_lookup (kind_name);
  if (kind == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("Unknown kind of record: %s"),
                   kind_name);
      return NULL;
    }
  if (!normalize_values (kind, values, n, fields, &id, error))
    return NULL;
  drop_empty (fields);
  if (!sp_kind_validate_record (kind, fields, error)
      || !check_references (vault, kind, fields, error))
    return NULL;
  if (id == NULL)
    id = sp_random_id ();
  else if (sp_vault_record_rowid (vault, id, NULL, NULL) != 0)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_EXISTS,
                   _ ("A record with id %s already exists"), id);
      return NULL;
    }

  if (!sp_vault_tx_begin_implicit (vault, &started, error))
    return NULL;
  ok = insert_rows (vault, kind, id, comp, uid, fields, error);
  if (!sp_vault_tx_end_implicit (vault, started, ok, error))
    return NULL;
  return g_steal_pointer (&id);
}

static gboolean
update_internal (SpVault *vault, const char *id_in, const SpFieldValue *values, gsize n,
                 gboolean force, GError **error)
{
  g_autoptr (SpRecord) current = NULL;
  g_autoptr (GHashTable) given = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GHashTable) merged = NULL;
  const SpKindInfo *kind;
  gboolean started, ok = TRUE;
  GHashTableIter it;
  gpointer k, v;
  gint64 rowid;
  guint64 hlc = 0;

  current = sp_vault_get (vault, id_in, error);
  if (current == NULL)
    return FALSE;
  if (sp_record_is_deleted (current))
    return not_found (error, id_in);
  kind = sp_kind_lookup (current->kind);
  if (kind == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("Records of kind %s come from a newer version and cannot be edited here"),
                   current->kind);
      return FALSE;
    }
  if (!normalize_values (kind, values, n, given, NULL, error))
    return FALSE;

  merged = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_iter_init (&it, current->fields);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_hash_table_insert (merged, g_strdup (k), g_strdup (v));
  g_hash_table_iter_init (&it, given);
  while (g_hash_table_iter_next (&it, &k, &v))
    g_hash_table_insert (merged, g_strdup (k), g_strdup (v));
  drop_empty (merged);
  /* References are checked only where this edit sets them: a record that
   * points at one deleted since stays editable. */
  if (!sp_kind_validate_record (kind, merged, error)
      || !check_references (vault, kind, given, error))
    return FALSE;

  rowid = sp_vault_record_rowid (vault, current->id, NULL, NULL);
  if (!sp_vault_tx_begin_implicit (vault, &started, error))
    return FALSE;
  for (guint i = 0; ok && i < kind->n_fields; i++)
    {
      const char *name = kind->fields[i].name;
      const char *nv = g_hash_table_lookup (given, name);
      const char *old = g_hash_table_lookup (current->fields, name);

      if (nv == NULL)
        continue;
      if (!force && g_strcmp0 (*nv ? nv : NULL, old) == 0)
        continue; /* unchanged: nothing to log */
      if (hlc == 0 && !sp_vault_hlc_tick (vault, &hlc, error))
        {
          ok = FALSE;
          break;
        }
      ok = sp_merge_apply_local (vault, rowid, current->id, kind->name, name, nv, hlc, error);
    }
  if (ok && hlc)
    ok = sp_vault_refresh_record (vault, rowid, kind->name, error);
  return sp_vault_tx_end_implicit (vault, started, ok, error);
}

gboolean
sp_vault_update (SpVault *vault, const char *id, const SpFieldValue *values, gsize n,
                 GError **error)
{
  g_return_val_if_fail (vault != NULL && id != NULL, FALSE);
  if (!check_open (vault, error))
    return FALSE;
  return update_internal (vault, id, values, n, FALSE, error);
}

gboolean
sp_vault_resolve_conflict (SpVault *vault, const char *record, const char *field, const char *value,
                           GError **error)
{
  SpFieldValue fv = { field, value };

  g_return_val_if_fail (vault != NULL && record != NULL && field != NULL, FALSE);
  if (!check_open (vault, error))
    return FALSE;
  /* A local write supersedes every head, even when the kept value is the
   * current winner: the conflict ends here and, once synced, everywhere. */
  return update_internal (vault, record, &fv, 1, TRUE, error);
}

static gboolean
set_existence (SpVault *vault, const char *id_in, gboolean alive, GError **error)
{
  g_autofree char *id = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *value = NULL;
  gboolean started, ok;
  gint64 rowid, cl = 0;
  guint64 hlc = 0;

  if (!check_open (vault, error))
    return FALSE;
  id = g_ascii_strdown (id_in, -1);
  rowid = sp_is_hex_id (id) ? sp_vault_record_rowid (vault, id, &kind, &cl) : 0;
  if (rowid == 0 || cl == 0 || (alive && cl % 2 == 1) || (!alive && cl % 2 == 0))
    return not_found (error, id_in);
  if (alive)
    {
      /* Known here only as a tombstone (its data not yet synced): bringing it
       * back would make a record without its required fields. */
      g_autoptr (GHashTable) fields = load_fields (vault, rowid, error);
      const SpKindInfo *info = sp_kind_lookup (kind);
      if (fields == NULL)
        return FALSE;
      if (info && !sp_kind_validate_record (info, fields, NULL))
        {
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                       _ ("This record cannot be restored until its data has arrived: sync first"));
          return FALSE;
        }
    }
  if (cl >= SP_CL_MAX)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("This record has been deleted and restored too many times"));
      return FALSE;
    }
  value = g_strdup_printf ("%" G_GINT64_FORMAT, cl + 1);
  if (!sp_vault_tx_begin_implicit (vault, &started, error))
    return FALSE;
  ok = sp_vault_hlc_tick (vault, &hlc, error)
       && sp_merge_apply_local (vault, rowid, id, kind, "_cl", value, hlc, error)
       && sp_vault_refresh_record (vault, rowid, kind, error);
  return sp_vault_tx_end_implicit (vault, started, ok, error);
}

gboolean
sp_vault_delete (SpVault *vault, const char *id, GError **error)
{
  g_return_val_if_fail (vault != NULL && id != NULL, FALSE);
  return set_existence (vault, id, FALSE, error);
}

gboolean
sp_vault_undelete (SpVault *vault, const char *id, GError **error)
{
  g_return_val_if_fail (vault != NULL && id != NULL, FALSE);
  return set_existence (vault, id, TRUE, error);
}
