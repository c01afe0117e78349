/* Full-text search (FTS4 over folded text) and filtered listing.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>

#include "sp-vault-private.h"

#define MAX_QUERY_WORDS 16

gboolean
sp_search_index_record (SpVault *vault, gint64 rowid, const char *kind, GHashTable *fields,
                        GError **error)
{
  sqlite3_stmt *st;
  g_autofree char *body = NULL;

  if (vault->schema_version < 2)
    return TRUE; /* no index yet; migration 2 builds it */
  st = sp_stmt (vault, "DELETE FROM search WHERE docid = ?", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, rowid);
  if (!sp_step_done (vault, st, error))
    return FALSE;
  if (fields == NULL) /* deleted: not findable */
    return TRUE;
  body = sp_search_body (kind, fields);
  if (*body == '\0')
    return TRUE;
  st = sp_stmt (vault, "INSERT INTO search (docid, body) VALUES (?, ?)", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_int64 (st, 1, rowid);
  sqlite3_bind_text (st, 2, body, -1, SQLITE_STATIC);
  return sp_step_done (vault, st, error);
}

gboolean
sp_search_rebuild (SpVault *vault, GError **error)
{
  g_autoptr (GArray) rowids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (sqlite3_stmt) st = sp_prepare (vault, "SELECT rowid FROM records", error);

  if (st == NULL)
    return FALSE;
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      gint64 r = sqlite3_column_int64 (st, 0);
      g_array_append_val (rowids, r);
    }
  if (!sp_exec (vault, "DELETE FROM search", error))
    return FALSE;
  for (guint i = 0; i < rowids->len; i++)
    if (!sp_vault_refresh_record (vault, g_array_index (rowids, gint64, i), NULL, error))
      return FALSE;
  return TRUE;
}

/* "Мінск  гом" -> "minsk* gam*": every word a prefix, all must match. The
 * folded words are [a-z0-9] only, so nothing in them is FTS syntax. */
char *
sp_search_match_expr (const char *text)
{
  g_autofree char *folded = sp_fold (text ? text : "");
  g_auto (GStrv) words = g_strsplit (folded ? folded : "", " ", -1);
  g_autoptr (GString) out = g_string_new (NULL);
  guint n = 0;

  for (guint i = 0; words[i] && n < MAX_QUERY_WORDS; i++)
    {
      if (*words[i] == '\0')
        continue;
      g_string_append_printf (out, "%s%s*", n ? " " : "", words[i]);
      n++;
    }
  return n ? g_string_free (g_steal_pointer (&out), FALSE) : NULL;
}

/* Builds the WHERE clause for a filter. Only constant SQL goes into the
 * text; every value is bound. */
static char *
filter_sql (const char *kind, const SpFilter *f, GPtrArray *binds)
{
  const SpKindInfo *info = kind ? sp_kind_lookup (kind) : NULL;
  g_autoptr (GString) sql = g_string_new ("FROM records r WHERE 1");

  if (kind)
    {
      g_string_append (sql, " AND r.kind = ?");
      g_ptr_array_add (binds, g_strdup (kind));
    }
  if (f == NULL || !f->include_deleted)
    g_string_append (sql, " AND r.cl % 2 = 1");
  if (f == NULL)
    return g_string_free (g_steal_pointer (&sql), FALSE);

  if (f->region && *f->region)
    {
      if (info && sp_kind_field (info, "regions"))
        {
          g_string_append (sql, " AND EXISTS (SELECT 1 FROM fields x WHERE x.rec = r.rowid AND "
                                "x.field = 'regions' AND (', ' || x.value || ', ') LIKE ?)");
          g_ptr_array_add (binds, g_strdup_printf ("%%, %s, %%", f->region));
        }
      else
        {
          g_string_append (sql, " AND EXISTS (SELECT 1 FROM fields x WHERE x.rec = r.rowid AND "
                                "x.field = 'region' AND x.value = ?)");
          g_ptr_array_add (binds, g_strdup (f->region));
        }
    }
  if (f->status && *f->status)
    {
      g_string_append (sql, " AND EXISTS (SELECT 1 FROM fields x WHERE x.rec = r.rowid AND "
                            "x.field = 'status' AND x.value = ?)");
      g_ptr_array_add (binds, g_strdup (f->status));
    }
  if (f->kind && *f->kind)
    {
      g_string_append (sql, " AND EXISTS (SELECT 1 FROM fields x WHERE x.rec = r.rowid AND "
                            "x.field = 'kind' AND x.value = ?)");
      g_ptr_array_add (binds, g_strdup (f->kind));
    }
  if (f->tag && *f->tag)
    {
      GString *pat = g_string_new ("%, ");
      g_autofree char *tag = g_strstrip (g_strdup (f->tag));
      /* Escape LIKE wildcards in the tag itself. */
      for (const char *p = tag; *p; p++)
        {
          if (*p == '%' || *p == '_' || *p == '\\')
            g_string_append_c (pat, '\\');
          g_string_append_c (pat, *p);
        }
      g_string_append (pat, ", %");
      g_string_append (sql, " AND EXISTS (SELECT 1 FROM fields x WHERE x.rec = r.rowid AND "
                            "x.field IN ('themes', 'tags') AND (', ' || x.value || ', ') LIKE ? "
                            "ESCAPE '\\')");
      g_ptr_array_add (binds, g_string_free (pat, FALSE));
    }
  if (f->search) /* NULL: no text filter; "" or punctuation: matches nothing */
    {
      char *match = sp_search_match_expr (f->search);
      if (match == NULL) /* nothing searchable in the text: nothing matches */
        g_string_append (sql, " AND 0");
      else
        {
          g_string_append (sql, " AND r.rowid IN (SELECT docid FROM search WHERE search MATCH ?)");
          g_ptr_array_add (binds, match);
        }
    }
  return g_string_free (g_steal_pointer (&sql), FALSE);
}

static sqlite3_stmt *
prepare_filtered (SpVault *vault, const char *select, const char *kind, const SpFilter *f,
                  const char *tail, GError **error)
{
  g_autoptr (GPtrArray) binds = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *where = filter_sql (kind, f, binds);
  g_autofree char *sql = g_strconcat (select, " ", where, " ", tail ? tail : "", NULL);
  sqlite3_stmt *st = sp_prepare (vault, sql, error);

  if (st == NULL)
    return NULL;
  for (guint i = 0; i < binds->len; i++)
    sqlite3_bind_text (st, (int)i + 1, binds->pdata[i], -1, SQLITE_TRANSIENT);
  return st;
}

static void
record_unref_cb (gpointer p)
{
  sp_record_unref (p);
}

static gboolean
check_kind (const char *kind, GError **error)
{
  if (kind && sp_kind_lookup (kind) == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("Unknown kind of record: %s"),
                   kind);
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
sp_vault_list (SpVault *vault, const char *kind, const SpFilter *filter, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (record_unref_cb);
  g_autoptr (GArray) rowids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (sqlite3_stmt) st = NULL;
  g_autofree char *tail = NULL;
  int rc;

  g_return_val_if_fail (vault != NULL, NULL);
  if (vault->db == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_LOCKED, _ ("The vault is locked"));
      return NULL;
    }
  if (!check_kind (kind, error))
    return NULL;
  tail = filter && filter->limit
             ? g_strdup_printf ("ORDER BY r.sort_key, r.id LIMIT %u", filter->limit)
             : g_strdup ("ORDER BY r.sort_key, r.id");
  st = prepare_filtered (vault, "SELECT r.rowid", kind, filter, tail, error);
  if (st == NULL)
    return NULL;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 r = sqlite3_column_int64 (st, 0);
      g_array_append_val (rowids, r);
    }
  if (rc != SQLITE_DONE)
    {
      sp_sqlite_error (vault->db, rc, error);
      return NULL;
    }
  for (guint i = 0; i < rowids->len; i++)
    {
      SpRecord *rec = sp_vault_load_record (vault, g_array_index (rowids, gint64, i), error);
      if (rec == NULL)
        return NULL;
      g_ptr_array_add (out, rec);
    }
  return g_steal_pointer (&out);
}

gint64
sp_vault_count (SpVault *vault, const char *kind, const SpFilter *filter, GError **error)
{
  g_autoptr (sqlite3_stmt) st = NULL;
  gint64 n = -1;

  g_return_val_if_fail (vault != NULL, -1);
  if (vault->db == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_LOCKED, _ ("The vault is locked"));
      return -1;
    }
  if (!check_kind (kind, error))
    return -1;
  st = prepare_filtered (vault, "SELECT count(*)", kind, filter, NULL, error);
  if (st == NULL)
    return -1;
  if (sqlite3_step (st) == SQLITE_ROW)
    n = sqlite3_column_int64 (st, 0);
  else
    sp_sqlite_error (vault->db, sqlite3_errcode (vault->db), error);
  return n;
}

static gboolean
check_vault_open (SpVault *vault, GError **error)
{
  if (vault->db == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_LOCKED, _ ("The vault is locked"));
      return FALSE;
    }
  return TRUE;
}

/* Ids only: no record is built, so a list model over 100,000 rows can load
 * its ids at once and its rows on demand. */
GPtrArray *
sp_vault_list_ids (SpVault *vault, const char *kind, const SpFilter *filter, SpSortOrder sort,
                   GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (sqlite3_stmt) st = NULL;
  const char *order
      = sort == SP_SORT_UPDATED ? "ORDER BY r.updated DESC, r.id" : "ORDER BY r.sort_key, r.id";
  g_autofree char *tail = NULL;
  int rc;

  g_return_val_if_fail (vault != NULL, NULL);
  if (!check_vault_open (vault, error) || !check_kind (kind, error))
    return NULL;
  tail = filter && filter->limit ? g_strdup_printf ("%s LIMIT %u", order, filter->limit)
                                 : g_strdup (order);
  st = prepare_filtered (vault, "SELECT r.id", kind, filter, tail, error);
  if (st == NULL)
    return NULL;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    g_ptr_array_add (out, g_strdup ((const char *)sqlite3_column_text (st, 0)));
  if (rc != SQLITE_DONE)
    {
      sp_sqlite_error (vault->db, rc, error);
      return NULL;
    }
  return g_steal_pointer (&out);
}

GPtrArray *
sp_vault_list_referencing (SpVault *vault, const char *id, const char *kind, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (record_unref_cb);
  g_autoptr (GArray) rowids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (sqlite3_stmt) st = NULL;
  g_autofree char *lower = NULL;
  int rc;

  g_return_val_if_fail (vault != NULL && id != NULL, NULL);
  if (!check_vault_open (vault, error) || !check_kind (kind, error))
    return NULL;
  lower = g_ascii_strdown (id, -1);
  /* fields_value (field, value) serves the lookup; the field names are the
   * ref fields of the kinds, constants of the data model. */
  st = sp_prepare (vault,
                   "SELECT DISTINCT r.rowid, r.sort_key, r.id FROM fields x "
                   "JOIN records r ON r.rowid = x.rec "
                   "WHERE x.field IN ('person', 'org', 'project', 'event', 'target', 'lead_org') "
                   "AND x.value = ?1 AND r.cl % 2 = 1 AND (?2 IS NULL OR r.kind = ?2) "
                   "ORDER BY r.sort_key, r.id",
                   error);
  if (st == NULL)
    return NULL;
  sqlite3_bind_text (st, 1, lower, -1, SQLITE_TRANSIENT);
  if (kind)
    sqlite3_bind_text (st, 2, kind, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 r = sqlite3_column_int64 (st, 0);
      g_array_append_val (rowids, r);
    }
  if (rc != SQLITE_DONE)
    {
      sp_sqlite_error (vault->db, rc, error);
      return NULL;
    }
  for (guint i = 0; i < rowids->len; i++)
    {
      SpRecord *rec = sp_vault_load_record (vault, g_array_index (rowids, gint64, i), error);
      if (rec == NULL)
        return NULL;
      g_ptr_array_add (out, rec);
    }
  return g_steal_pointer (&out);
}

GPtrArray *
sp_vault_search (SpVault *vault, const char *text, const char *kind, guint limit, GError **error)
{
  SpFilter f = { .search = text, .limit = limit };
  g_autofree char *match = sp_search_match_expr (text);

  if (match == NULL) /* nothing searchable in the query */
    return g_ptr_array_new_with_free_func (record_unref_cb);
  return sp_vault_list (vault, kind, &f, error);
}
