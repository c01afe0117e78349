/* Full-text search (FTS4 over folded text) and filtered listing.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>

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
      g_ptr_array_add (bodies, kind && g_hash_table_size (fields)
                                   ? sp_search_body (kind, fields)
                                   : NULL);
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
  if (vault->schema_version < 2)
    return TRUE; /* no index yet; migration 2 builds it */
  if (!sqlite3_get_autocommit (vault->db)) /* in a transaction: at its commit */
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

void
sp_search_forget (SpVault *vault)
{
  g_clear_pointer (&vault->search_dirty, g_array_unref);
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

/* TRUE when every word of @match ("minsk* gam*", from sp_search_match_expr)
 * is a prefix of some word of @body (folded text: [a-z0-9] words, single
 * spaces): what `body MATCH match` means for the FTS4 index, whose unicode61
 * tokens of folded text are exactly those words. */
gboolean
sp_search_words_match (const char *body, const char *match)
{
  const char *q = match;

  if (body == NULL || match == NULL)
    return FALSE;
  while (*q)
    {
      gsize qlen = 0;
      gboolean found = FALSE;

      while (*q == ' ')
        q++;
      while (q[qlen] && q[qlen] != ' ' && q[qlen] != '*')
        qlen++;
      if (qlen == 0)
        {
          while (*q == '*')
            q++;
          continue;
        }
      for (const char *b = body; *b && !found;)
        {
          gsize blen = 0;

          while (*b && !g_ascii_isalnum (*b))
            b++;
          while (g_ascii_isalnum (b[blen]))
            blen++;
          if (blen >= qlen && memcmp (b, q, qlen) == 0)
            found = TRUE;
          b += blen;
        }
      if (!found)
        return FALSE;
      q += qlen;
      while (*q == '*')
        q++;
    }
  return TRUE;
}

/* The walk's budget (see list_rows): how many rows sp_search_words may still
 * be asked about before it stops the statement. Per thread, as the statement
 * runs in the calling thread; 0: no limit. */
static __thread guint64 walk_budget;
static __thread gboolean walk_over;

static void
words_match_fn (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  const char *body = (const char *)sqlite3_value_text (argv[0]);
  const char *match = (const char *)sqlite3_value_text (argv[1]);

  (void)argc;
  if (walk_budget && --walk_budget == 0)
    {
      walk_over = TRUE;
      sqlite3_result_error (ctx, "search walk over budget", -1);
      return;
    }
  sqlite3_result_int (ctx, sp_search_words_match (body, match));
}

/* sp_search_words (body, match): sp_search_words_match in SQL. */
gboolean
sp_search_register_functions (sqlite3 *db)
{
  return sqlite3_create_function (db, "sp_search_words", 2, SQLITE_UTF8, NULL, words_match_fn, NULL, NULL)
         == SQLITE_OK;
}

/* How a text search restricts the rows:
 * DRIVEN  the FTS index gives every matching rowid; each is looked up and
 *         all are sorted. Cost grows with the number of matches.
 * WALK    the title index is walked in order and each row's folded text is
 *         tested (sp_search_words), until the page is full. Cost grows with
 *         (page size × records / matches): cheap exactly when there are many
 *         matches, as for the first letters typed. */
typedef enum
{
  SEARCH_DRIVEN,
  SEARCH_WALK,
} SearchMode;

/* Builds the WHERE clause for a filter. Only constant SQL goes into the
 * text; every value is bound. */
static char *
filter_sql (const char *kind, const SpFilter *f, GPtrArray *binds, SearchMode mode)
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
          if (mode == SEARCH_WALK)
            g_string_append (sql, " AND EXISTS (SELECT 1 FROM search s WHERE s.docid = r.rowid "
                                  "AND sp_search_words (s.body, ?))");
          else
            g_string_append (sql,
                             " AND r.rowid IN (SELECT docid FROM search WHERE search MATCH ?)");
          g_ptr_array_add (binds, match);
        }
    }
  return g_string_free (g_steal_pointer (&sql), FALSE);
}

static sqlite3_stmt *
prepare_filtered (SpVault *vault, const char *select, const char *kind, const SpFilter *f,
                  const char *tail, SearchMode mode, GError **error)
{
  g_autoptr (GPtrArray) binds = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *where = filter_sql (kind, f, binds, mode);
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

static guint64
isqrt (guint64 n)
{
  guint64 r = 0;

  for (guint64 bit = G_GUINT64_CONSTANT (1) << 62; bit; bit >>= 2)
    if (n >= r + bit)
      {
        n -= r + bit;
        r = (r >> 1) + bit;
      }
    else
      r >>= 1;
  return r;
}

/* Walk or look up (see SearchMode)? A page of `limit` rows out of T records
 * of which N match costs about limit × T / N rows walked, or N rows looked
 * up and sorted: the walk wins when N > sqrt (limit × T). Counting the
 * matches stops at that bound, so the count is cheap too. *budget: how many
 * rows the walk may test before it is given up for the lookup (matches
 * bunched at the end of the title order). */
/* For tests: how often a list walked, and gave a walk up. */
static gint walks_started, walks_given_up;

void
sp_search_get_walk_counts (guint *started, guint *given_up)
{
  *started = (guint)g_atomic_int_get (&walks_started);
  *given_up = (guint)g_atomic_int_get (&walks_given_up);
}

static SearchMode
choose_mode (SpVault *vault, const SpFilter *f, guint64 *budget)
{
  g_autofree char *match = NULL;
  sqlite3_stmt *st;
  gint64 total = 0, n = 0;
  guint64 cap;

  if (f == NULL || f->limit == 0 || f->search == NULL)
    return SEARCH_DRIVEN;
  match = sp_search_match_expr (f->search);
  if (match == NULL)
    return SEARCH_DRIVEN;
  st = sp_stmt (vault, "SELECT max(rowid) FROM records", NULL);
  if (st == NULL)
    return SEARCH_DRIVEN;
  if (sqlite3_step (st) == SQLITE_ROW)
    total = sqlite3_column_int64 (st, 0);
  sqlite3_reset (st);
  cap = isqrt ((guint64)f->limit * (guint64)MAX (total, 0));
  if (cap < 64) /* a small vault: either way is cheap */
    return SEARCH_DRIVEN;
  st = sp_stmt (vault,
                "SELECT count(*) FROM (SELECT 1 FROM search WHERE search MATCH ?1 LIMIT ?2)", NULL);
  if (st == NULL)
    return SEARCH_DRIVEN;
  sqlite3_bind_text (st, 1, match, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (st, 2, (gint64)cap);
  if (sqlite3_step (st) == SQLITE_ROW)
    n = sqlite3_column_int64 (st, 0);
  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
  if ((guint64)n < cap)
    return SEARCH_DRIVEN;
  *budget = 2 * cap;
  return SEARCH_WALK;
}

static gboolean
run_list (SpVault *vault, const char *select, const char *kind, const SpFilter *filter,
          const char *tail, SearchMode mode, guint64 budget, GArray *rowids, GPtrArray *ids,
          GError **error)
{
  g_autoptr (sqlite3_stmt) st
      = prepare_filtered (vault, select, kind, filter, tail, mode, error);
  int rc;

  if (st == NULL)
    return FALSE;
  walk_budget = budget;
  walk_over = FALSE;
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
  walk_budget = 0;
  if (rc != SQLITE_DONE)
    return sp_sqlite_error (vault->db, rc, error);
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
  guint64 budget = 0;
  SearchMode mode;

  if (filter && filter->search && !sp_search_flush (vault, error))
    return FALSE;
  mode = sort == SP_SORT_TITLE ? choose_mode (vault, filter, &budget) : SEARCH_DRIVEN;

  if (mode == SEARCH_WALK)
    {
      g_autoptr (GError) local = NULL;

      g_atomic_int_inc (&walks_started);
      if (run_list (vault, "SELECT r.rowid, r.id", kind, filter, tail, SEARCH_WALK, budget,
                    rowids, ids, &local))
        return TRUE;
      if (!walk_over)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      /* The matches are bunched further on: look them up instead. */
      g_atomic_int_inc (&walks_given_up);
      if (rowids)
        g_array_set_size (rowids, 0);
      if (ids)
        g_ptr_array_set_size (ids, 0);
    }
  return run_list (vault, "SELECT r.rowid, r.id", kind, filter, tail, SEARCH_DRIVEN, 0, rowids,
                   ids, error);
}

GPtrArray *
sp_vault_list (SpVault *vault, const char *kind, const SpFilter *filter, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (record_unref_cb);
  g_autoptr (GArray) rowids = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_return_val_if_fail (vault != NULL, NULL);
  if (!check_vault_open (vault, error) || !check_kind (kind, error))
    return NULL;
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
  st = prepare_filtered (vault, "SELECT count(*)", kind, filter, NULL, SEARCH_DRIVEN, error);
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

  g_return_val_if_fail (vault != NULL, NULL);
  if (!check_vault_open (vault, error) || !check_kind (kind, error))
    return NULL;
  if (!list_rows (vault, kind, filter, sort, NULL, out, error))
    return NULL;
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
