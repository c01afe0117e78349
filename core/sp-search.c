/* Full-text search (FTS4 over folded text) and filtered listing.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>
#include <stdlib.h>
#include <string.h>

#include "sp-vault-private.h"

#define MAX_QUERY_WORDS 16

/* ---- The index follows the records, once per transaction ----
 *
 * FTS4 writes a new segment (one per index: the terms and the three prefix
 * lengths) whenever a statement of the same transaction opens a statement
 * journal (its xSavepoint flushes the pending terms), and nearly every write
 * of a record does (UPDATE, INSERT OR REPLACE, INSERT … SELECT). Indexing each
 * record as it was written thus flushed and merged segments once per record
 * — most of a bulk insert's pages, each encrypted again for the statement
 * journal. So inside a transaction the records to index are only noted, and
 * indexed together when it commits (sp_search_flush from tx_finish): deletes
 * first, in few statements, then inserts in rowid order, which FTS4 keeps in
 * memory and writes once at COMMIT. Searches in the same transaction flush
 * first, so they see its writes as before. */

static GHashTable *
load_live_fields (SpVault *vault, gint64 rowid, char **kind_out, GError **error)
{
  g_autoptr (GHashTable) fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  sqlite3_stmt *st = sp_stmt (vault, "SELECT kind, cl FROM records WHERE rowid = ?", error);
  gint64 cl = 0;
  int rc;

  *kind_out = NULL;
  if (st == NULL)
    return NULL;
  sqlite3_bind_int64 (st, 1, rowid);
  rc = sqlite3_step (st);
  if (rc == SQLITE_ROW)
    {
      *kind_out = g_strdup ((const char *)sqlite3_column_text (st, 0));
      cl = sqlite3_column_int64 (st, 1);
    }
  sqlite3_reset (st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      sp_sqlite_error (vault->db, rc, error);
      return NULL;
    }
  if (*kind_out == NULL || cl % 2 == 0) /* gone or deleted: not findable */
    return g_steal_pointer (&fields);
  st = sp_stmt (vault, "SELECT field, value FROM fields WHERE rec = ? AND value IS NOT NULL",
                error);
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

static int
cmp_rowid (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

  return x < y ? -1 : x > y;
}

#define DELETE_CHUNK 200

/* Re-indexes these records from their stored fields. */
static gboolean
index_rows (SpVault *vault, GArray *rowids, GError **error)
{
  g_autoptr (GPtrArray) bodies = g_ptr_array_new_with_free_func (g_free);
  guint n = 0;

  g_array_sort (rowids, cmp_rowid);
  for (guint i = 0; i < rowids->len; i++) /* unique */
    if (n == 0 || g_array_index (rowids, gint64, i) != g_array_index (rowids, gint64, n - 1))
      g_array_index (rowids, gint64, n++) = g_array_index (rowids, gint64, i);
  g_array_set_size (rowids, n);

  for (guint i = 0; i < rowids->len; i++)
    {
      g_autofree char *kind = NULL;
      g_autoptr (GHashTable) fields
          = load_live_fields (vault, g_array_index (rowids, gint64, i), &kind, error);

      if (fields == NULL)
        return FALSE;
      g_ptr_array_add (bodies,
                       kind && g_hash_table_size (fields) ? sp_search_body (kind, fields) : NULL);
    }
  /* One DELETE statement per chunk: each statement flushes FTS4's pending
   * terms once, not once per record. */
  for (guint i = 0; i < rowids->len; i += DELETE_CHUNK)
    {
      guint k = MIN (DELETE_CHUNK, rowids->len - i);
      g_autoptr (GString) sql = g_string_new ("DELETE FROM search WHERE docid IN (?");
      g_autoptr (sqlite3_stmt) st = NULL;

      for (guint j = 1; j < k; j++)
        g_string_append (sql, ",?");
      g_string_append_c (sql, ')');
      st = sp_prepare (vault, sql->str, error);
      if (st == NULL)
        return FALSE;
      for (guint j = 0; j < k; j++)
        sqlite3_bind_int64 (st, (int)j + 1, g_array_index (rowids, gint64, i + j));
      if (sqlite3_step (st) != SQLITE_DONE)
        return sp_sqlite_error (vault->db, sqlite3_errcode (vault->db), error);
    }
  for (guint i = 0; i < rowids->len; i++)
    {
      const char *body = bodies->pdata[i];
      sqlite3_stmt *st;

      if (body == NULL || *body == '\0')
        continue;
      st = sp_stmt (vault, "INSERT INTO search (docid, body) VALUES (?, ?)", error);
      if (st == NULL)
        return FALSE;
      sqlite3_bind_int64 (st, 1, g_array_index (rowids, gint64, i));
      sqlite3_bind_text (st, 2, body, -1, SQLITE_STATIC);
      if (!sp_step_done (vault, st, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
sp_search_index_record (SpVault *vault, gint64 rowid, const char *kind, GHashTable *fields,
                        GError **error)
{
  g_autoptr (GArray) one = NULL;

  (void)kind;
  (void)fields;
  /* No index before migration 2 (which builds it). In a transaction: at its
   * commit. */
  if (vault->schema_version < 2)
    return TRUE;
  if (!sqlite3_get_autocommit (vault->db))
    {
      if (vault->search_dirty == NULL)
        vault->search_dirty = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_array_append_val (vault->search_dirty, rowid);
      return TRUE;
    }
  one = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_array_append_val (one, rowid);
  return index_rows (vault, one, error);
}

gboolean
sp_search_flush (SpVault *vault, GError **error)
{
  g_autoptr (GArray) dirty = NULL;

  if (vault->search_dirty == NULL || vault->search_dirty->len == 0)
    return TRUE;
  dirty = g_steal_pointer (&vault->search_dirty);
  return index_rows (vault, dirty, error);
}

static void rank_cache_free (SpRankCache *c);

void
sp_search_forget (SpVault *vault)
{
  g_clear_pointer (&vault->search_dirty, g_array_unref);
  g_clear_pointer (&vault->search_rank, rank_cache_free);
}

void
sp_search_forget_ranks (SpVault *vault)
{
  g_clear_pointer (&vault->search_rank, rank_cache_free);
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
  /* Titles too; the index rows themselves once, at the end. */
  for (guint i = 0; i < rowids->len; i++)
    if (!sp_vault_refresh_record (vault, g_array_index (rowids, gint64, i), NULL, error))
      {
        sp_search_forget (vault);
        return FALSE;
      }
  if (!sp_search_flush (vault, error))
    {
      sp_search_forget (vault);
      return FALSE;
    }
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
 * text; every value is bound. Field filters are `rowid IN (…)` over
 * fields_value (field, value; rec comes with fields' primary key): one range
 * of that index per query, not one row lookup per listed record. */
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

  if (f->in_compartment && f->compartment >= 0) /* records_comp */
    {
      g_string_append (sql, " AND r.comp = ?");
      g_ptr_array_add (binds, g_strdup_printf ("%" G_GINT64_FORMAT, f->compartment));
    }
  if (f->region && *f->region)
    {
      if (info && sp_kind_field (info, "regions"))
        {
          g_string_append (sql, " AND r.rowid IN (SELECT x.rec FROM fields x WHERE "
                                "x.field = 'regions' AND (', ' || x.value || ', ') LIKE ?)");
          g_ptr_array_add (binds, g_strdup_printf ("%%, %s, %%", f->region));
        }
      else
        {
          g_string_append (sql, " AND r.rowid IN (SELECT x.rec FROM fields x WHERE "
                                "x.field = 'region' AND x.value = ?)");
          g_ptr_array_add (binds, g_strdup (f->region));
        }
    }
  if (f->status && *f->status)
    {
      g_string_append (sql, " AND r.rowid IN (SELECT x.rec FROM fields x WHERE "
                            "x.field = 'status' AND x.value = ?)");
      g_ptr_array_add (binds, g_strdup (f->status));
    }
  if (f->kind && *f->kind)
    {
      g_string_append (sql, " AND r.rowid IN (SELECT x.rec FROM fields x WHERE "
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
      g_string_append (sql, " AND r.rowid IN (SELECT x.rec FROM fields x WHERE "
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

/* A record the list's own query just returned. When it cannot be read the
 * cause is the database (a page that fails its HMAC gives SQLITE_CORRUPT),
 * not a missing record: sp_vault_load_record() reports every failed step as
 * "No such record", so the connection's error code is consulted here. */
static SpRecord *
load_listed (SpVault *vault, gint64 rowid, GError **error)
{
  g_autoptr (GError) local = NULL;
  SpRecord *rec = sp_vault_load_record (vault, rowid, &local);
  int rc;

  if (rec)
    return rec;
  rc = sqlite3_errcode (vault->db);
  if (g_error_matches (local, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND) && rc != SQLITE_OK
      && rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      sp_sqlite_error (vault->db, rc, error);
      return NULL;
    }
  g_propagate_error (error, g_steal_pointer (&local));
  return NULL;
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

/* For tests: how many pages the ranked lookup served. */
static gint ranked_pages;

guint
sp_search_get_ranked_count (void)
{
  return (guint)g_atomic_int_get (&ranked_pages);
}

static gboolean
run_list (SpVault *vault, const char *select, const char *kind, const SpFilter *filter,
          const char *tail, GArray *rowids, GPtrArray *ids, GError **error)
{
  g_autoptr (sqlite3_stmt) st = prepare_filtered (vault, select, kind, filter, tail, error);
  int rc;

  if (st == NULL)
    return FALSE;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      if (rowids)
        {
          gint64 r = sqlite3_column_int64 (st, 0);
          g_array_append_val (rowids, r);
        }
      if (ids)
        g_ptr_array_add (ids, g_strdup ((const char *)sqlite3_column_text (st, 1)));
    }
  if (rc != SQLITE_DONE)
    return sp_sqlite_error (vault->db, rc, error);
  return TRUE;
}

/* ---- Ranked lookup ----
 *
 * A page of matches in title order without sorting every match: each live
 * record's position in the title order, by rowid, is kept in memory (walked
 * once from records_title, ~10 ms per 50,000 records), and a search keeps
 * only the `limit` best-placed of the FTS index's matches. The positions are
 * not personal data (the order of rowids), live only while the vault is open
 * and are rebuilt after any write: the connection's change counter and
 * PRAGMA data_version (writes by another connection) are compared on every
 * use, and a rollback drops them (sp_search_forget). */

#define RANK_MAX_ROWID (16 * 1024 * 1024)

struct _SpRankCache
{
  gint64 changes;
  gint64 data_version;
  gsize n;          /* max rowid + 1 */
  gint32 *rank;     /* by rowid: place in title order, -1: none (deleted, absent) */
  guint8 *kind;     /* by rowid: index into kinds */
  GPtrArray *kinds; /* kind names, at most 255 */
};

static void
rank_cache_free (SpRankCache *c)
{
  if (c == NULL)
    return;
  g_free (c->rank);
  g_free (c->kind);
  g_ptr_array_unref (c->kinds);
  g_free (c);
}

static gint64
data_version (SpVault *vault)
{
  sqlite3_stmt *st = sp_stmt (vault, "PRAGMA data_version", NULL);
  gint64 v = -1;

  if (st && sqlite3_step (st) == SQLITE_ROW)
    v = sqlite3_column_int64 (st, 0);
  if (st)
    sqlite3_reset (st);
  return v;
}

/* The valid cache, rebuilt if needed; NULL when it does not apply (an
 * error, or rowids too sparse): the caller uses SQL instead. */
static SpRankCache *
rank_cache_get (SpVault *vault)
{
  gint64 changes = sqlite3_total_changes (vault->db);
  gint64 version = data_version (vault);
  SpRankCache *c = vault->search_rank;
  sqlite3_stmt *st;
  gint64 max = 0;
  gint32 pos = 0;
  int rc;

  if (c && c->changes == changes && c->data_version == version && version >= 0)
    return c;
  g_clear_pointer (&vault->search_rank, rank_cache_free);
  if (version < 0)
    return NULL;
  st = sp_stmt (vault, "SELECT max(rowid) FROM records", NULL);
  if (st == NULL)
    return NULL;
  if (sqlite3_step (st) == SQLITE_ROW)
    max = sqlite3_column_int64 (st, 0);
  sqlite3_reset (st);
  if (max < 0 || max >= RANK_MAX_ROWID)
    return NULL;
  c = g_new0 (SpRankCache, 1);
  c->changes = changes;
  c->data_version = version;
  c->n = (gsize)max + 1;
  c->rank = g_new (gint32, c->n);
  memset (c->rank, 0xff, c->n * sizeof (gint32)); /* -1 */
  c->kind = g_new0 (guint8, c->n);
  c->kinds = g_ptr_array_new_with_free_func (g_free);
  /* records_title (sort_key, id, cl, kind) covers it. */
  st = sp_stmt (vault, "SELECT rowid, kind FROM records WHERE cl % 2 = 1 ORDER BY sort_key, id",
                NULL);
  if (st == NULL)
    {
      rank_cache_free (c);
      return NULL;
    }
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 r = sqlite3_column_int64 (st, 0);
      const char *k = (const char *)sqlite3_column_text (st, 1);
      guint ki;

      if (r < 0 || (gsize)r >= c->n || k == NULL)
        continue;
      for (ki = 0; ki < c->kinds->len; ki++)
        if (g_str_equal (c->kinds->pdata[ki], k))
          break;
      if (ki == c->kinds->len)
        {
          if (ki >= 255)
            break;
          g_ptr_array_add (c->kinds, g_strdup (k));
        }
      c->rank[r] = pos++;
      c->kind[r] = (guint8)ki;
    }
  sqlite3_reset (st);
  if (rc != SQLITE_DONE)
    {
      rank_cache_free (c);
      return NULL;
    }
  vault->search_rank = c;
  return c;
}

typedef struct
{
  gint32 rank;
  gint64 rowid;
} Ranked;

/* Max-heap on rank, of at most `limit` entries: the best `limit` so far. */
static void
heap_push (Ranked *heap, guint *len, guint limit, Ranked x)
{
  guint i;

  if (*len == limit)
    {
      if (x.rank >= heap[0].rank)
        return;
      /* Replace the root and sift down. */
      i = 0;
      for (;;)
        {
          guint l = 2 * i + 1, r = l + 1, m = i;
          gint32 mr = x.rank;

          if (l < *len && heap[l].rank > mr)
            m = l, mr = heap[l].rank;
          if (r < *len && heap[r].rank > mr)
            m = r;
          if (m == i)
            break;
          heap[i] = heap[m];
          i = m;
        }
      heap[i] = x;
      return;
    }
  i = (*len)++;
  while (i > 0 && heap[(i - 1) / 2].rank < x.rank)
    {
      heap[i] = heap[(i - 1) / 2];
      i = (i - 1) / 2;
    }
  heap[i] = x;
}

static int
cmp_ranked (gconstpointer a, gconstpointer b)
{
  gint32 x = ((const Ranked *)a)->rank, y = ((const Ranked *)b)->rank;

  return x < y ? -1 : x > y;
}

/* Only a text search (and a kind), a page, by title: what the ranked lookup
 * serves. Other filters go through SQL. */
static gboolean
rank_applies (const SpFilter *f, SpSortOrder sort)
{
  return sort == SP_SORT_TITLE && f && f->limit && f->search && !f->include_deleted
         && !(f->region && *f->region) && !(f->status && *f->status) && !(f->kind && *f->kind)
         && !(f->tag && *f->tag) && !(f->in_compartment && f->compartment >= 0);
}

/* FALSE with no error: not applicable, use SQL. */
static gboolean
rank_list (SpVault *vault, const char *kind, const SpFilter *f, GArray *rowids, GPtrArray *ids,
           gboolean *done, GError **error)
{
  g_autofree char *match = sp_search_match_expr (f->search);
  g_autofree Ranked *heap = NULL;
  SpRankCache *c;
  sqlite3_stmt *st;
  guint len = 0, cap;
  gint kind_ix = -1;
  int rc;

  *done = FALSE;
  if (match == NULL || (c = rank_cache_get (vault)) == NULL)
    return TRUE;
  if (kind)
    {
      for (guint i = 0; i < c->kinds->len; i++)
        if (g_str_equal (c->kinds->pdata[i], kind))
          kind_ix = (gint)i;
      if (kind_ix < 0) /* no live record of that kind */
        {
          *done = TRUE;
          return TRUE;
        }
    }
  /* A page holds at most every record: a huge limit allocates no more. */
  cap = (guint)MIN ((gsize)f->limit, c->n);
  heap = g_new (Ranked, MAX (cap, 1));
  st = sp_stmt (vault, "SELECT docid FROM search WHERE search MATCH ?", error);
  if (st == NULL)
    return FALSE;
  sqlite3_bind_text (st, 1, match, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 r = sqlite3_column_int64 (st, 0);

      if (r < 0 || (gsize)r >= c->n || c->rank[r] < 0 || (kind_ix >= 0 && c->kind[r] != kind_ix))
        continue;
      heap_push (heap, &len, cap, (Ranked){ c->rank[r], r });
    }
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
  if (rc != SQLITE_DONE)
    return sp_sqlite_error (vault->db, rc, error);
  qsort (heap, len, sizeof (Ranked), cmp_ranked);
  for (guint i = 0; i < len; i++)
    {
      if (rowids)
        g_array_append_val (rowids, heap[i].rowid);
      if (ids)
        {
          sqlite3_stmt *idst = sp_stmt (vault, "SELECT id FROM records WHERE rowid = ?", error);

          if (idst == NULL)
            return FALSE;
          sqlite3_bind_int64 (idst, 1, heap[i].rowid);
          rc = sqlite3_step (idst);
          if (rc == SQLITE_ROW)
            g_ptr_array_add (ids, g_strdup ((const char *)sqlite3_column_text (idst, 0)));
          sqlite3_reset (idst);
          if (rc != SQLITE_ROW)
            return sp_sqlite_error (vault->db, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, error);
        }
    }
  *done = TRUE;
  return TRUE;
}

/* The rowids and ids of the rows a filter selects, in order, at most
 * filter->limit: the one query behind every list. */
static gboolean
list_rows (SpVault *vault, const char *kind, const SpFilter *filter, SpSortOrder sort,
           GArray *rowids, GPtrArray *ids, GError **error)
{
  const char *order
      = sort == SP_SORT_UPDATED ? "ORDER BY r.updated DESC, r.id" : "ORDER BY r.sort_key, r.id";
  g_autofree char *tail = filter && filter->limit
                              ? g_strdup_printf ("%s LIMIT %u", order, filter->limit)
                              : g_strdup (order);

  if (filter && filter->search && !sp_search_flush (vault, error))
    return FALSE;
  if (rank_applies (filter, sort))
    {
      gboolean done;

      if (!rank_list (vault, kind, filter, rowids, ids, &done, error))
        return FALSE;
      if (done)
        {
          g_atomic_int_inc (&ranked_pages);
          return TRUE;
        }
    }
  return run_list (vault, "SELECT r.rowid, r.id", kind, filter, tail, rowids, ids, error);
}

/* A list is one read transaction when none is open: one snapshot for the
 * ids and the records loaded after them, and one lock and file check (fcntl,
 * fstat) instead of one per statement — per record loaded, two. */
static gboolean
read_begin (SpVault *vault, gboolean *started, GError **error)
{
  *started = FALSE;
  if (!sqlite3_get_autocommit (vault->db))
    return TRUE;
  if (!sp_exec (vault, "BEGIN", error))
    return FALSE;
  *started = TRUE;
  return TRUE;
}

static void
read_end (SpVault *vault, gboolean started)
{
  /* Read-only unless a pending index flush wrote (sp_search_flush). */
  if (started && sqlite3_exec (vault->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    sqlite3_exec (vault->db, "ROLLBACK", NULL, NULL, NULL);
}

static GPtrArray *list_records (SpVault *vault, const char *kind, const SpFilter *filter,
                                GError **error);

GPtrArray *
sp_vault_list (SpVault *vault, const char *kind, const SpFilter *filter, GError **error)
{
  GPtrArray *out;
  gboolean started;

  g_return_val_if_fail (vault != NULL, NULL);
  if (!check_vault_open (vault, error) || !check_kind (kind, error))
    return NULL;
  if (!read_begin (vault, &started, error))
    return NULL;
  out = list_records (vault, kind, filter, error);
  read_end (vault, started);
  return out;
}

static GPtrArray *
list_records (SpVault *vault, const char *kind, const SpFilter *filter, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (record_unref_cb);
  g_autoptr (GArray) rowids = g_array_new (FALSE, FALSE, sizeof (gint64));

  if (!list_rows (vault, kind, filter, SP_SORT_TITLE, rowids, NULL, error))
    return NULL;
  for (guint i = 0; i < rowids->len; i++)
    {
      SpRecord *rec = load_listed (vault, g_array_index (rowids, gint64, i), error);
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
  if (filter && filter->search && !sp_search_flush (vault, error))
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

/* Ids only: no record is built, so a list model over 100,000 rows can load
 * its ids at once and its rows on demand. */
GPtrArray *
sp_vault_list_ids (SpVault *vault, const char *kind, const SpFilter *filter, SpSortOrder sort,
                   GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  gboolean started, ok;

  g_return_val_if_fail (vault != NULL, NULL);
  if (!check_vault_open (vault, error) || !check_kind (kind, error))
    return NULL;
  if (!read_begin (vault, &started, error))
    return NULL;
  ok = list_rows (vault, kind, filter, sort, NULL, out, error);
  read_end (vault, started);
  return ok ? g_steal_pointer (&out) : NULL;
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
      SpRecord *rec = load_listed (vault, g_array_index (rowids, gint64, i), error);
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
