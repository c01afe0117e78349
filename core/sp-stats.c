/* The figures coordinators report: counts by region, status and kind.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>

#include "sp-csv-private.h"
#include "sp-vault-private.h"

void
sp_stat_free (SpStat *s)
{
  if (s == NULL)
    return;
  g_free (s->group);
  g_free (s->key);
  g_free (s);
}

static void
stat_free_cb (gpointer p)
{
  sp_stat_free (p);
}

#define LIVE(kind) "SELECT rowid FROM records WHERE kind = '" kind "' AND cl % 2 = 1"

static const struct
{
  const char *group;
  const char *sql;
} queries[] = {
  { "orgs_by_region",
    "SELECT coalesce(f.value, ''), count(*), 0, 0 FROM (" LIVE (
        "org") ") r "
               "LEFT JOIN field_state f ON f.rec = r.rowid AND f.field = 'region' "
               "GROUP BY 1 ORDER BY 1" },
  { "orgs_by_status",
    "SELECT coalesce(f.value, ''), count(*), 0, 0 FROM (" LIVE (
        "org") ") r "
               "LEFT JOIN field_state f ON f.rec = r.rowid AND f.field = 'status' "
               "GROUP BY 1 ORDER BY 1" },
  { "orgs_by_kind", "SELECT coalesce(f.value, ''), count(*), 0, 0 FROM (" LIVE (
                        "org") ") r "
                               "LEFT JOIN field_state f ON f.rec = r.rowid AND f.field = 'kind' "
                               "GROUP BY 1 ORDER BY 1" },
  { "projects_by_status", "SELECT coalesce(f.value, ''), count(*), 0, 0 FROM (" LIVE (
                              "project") ") r "
                                         "LEFT JOIN field_state f ON f.rec = r.rowid AND f.field = "
                                         "'status' GROUP BY 1 ORDER BY 1" },
  /* Events by kind and year, with the declared participant totals and the
   * number of participation records that point at them. */
  { "events_by_kind_year",
    "SELECT coalesce(k.value, '') || '/' || coalesce(substr(dv.value, 1, 4), ''), count(*), "
    "  total(CAST(pv.value AS INTEGER)), "
    "  sum((SELECT count(*) FROM field_state pe JOIN records pr ON pr.rowid = pe.rec "
    "       WHERE pe.field IN " SP_FILTER_FIELDS " AND pe.field = 'event' AND pe.value = e.id "
    "       AND pr.kind = 'participation' AND pr.cl % 2 = 1)) "
    "FROM records e "
    /* kind is a filtered field (its value is in field_state); the other two
     * are read from their winning change */
    "LEFT JOIN field_state k ON k.rec = e.rowid AND k.field = 'kind' "
    "LEFT JOIN field_state d ON d.rec = e.rowid AND d.field = 'start_date' "
    "LEFT JOIN change_log dv ON dv.seq = d.seq "
    "LEFT JOIN field_state p ON p.rec = e.rowid AND p.field = 'declared_participants' "
    "LEFT JOIN change_log pv ON pv.seq = p.seq "
    "WHERE e.kind = 'event' AND e.cl % 2 = 1 GROUP BY 1 ORDER BY 1" },
};

GPtrArray *
sp_vault_stats (SpVault *vault, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (stat_free_cb);

  g_return_val_if_fail (vault != NULL, NULL);
  if (vault->db == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_LOCKED, _ ("The vault is locked"));
      return NULL;
    }
  for (guint q = 0; q < G_N_ELEMENTS (queries); q++)
    {
      g_autoptr (sqlite3_stmt) st = sp_prepare (vault, queries[q].sql, error);
      int rc;

      if (st == NULL)
        return NULL;
      while ((rc = sqlite3_step (st)) == SQLITE_ROW)
        {
          SpStat *s = g_new0 (SpStat, 1);
          s->group = g_strdup (queries[q].group);
          s->key = g_strdup ((const char *)sqlite3_column_text (st, 0));
          s->count = sqlite3_column_int64 (st, 1);
          s->participants = (gint64)sqlite3_column_double (st, 2);
          s->linked = sqlite3_column_int64 (st, 3);
          g_ptr_array_add (out, s);
        }
      if (rc != SQLITE_DONE)
        {
          sp_sqlite_error (vault->db, rc, error);
          return NULL;
        }
    }
  return g_steal_pointer (&out);
}

GBytes *
sp_stats_to_csv (GPtrArray *stats)
{
  static const char *const header[]
      = { "group", "key", "count", "declared_participants", "participation_records" };
  GString *out;

  g_return_val_if_fail (stats != NULL, NULL);

  /* A BOM, as sp_vault_export_csv writes, so Excel reads UTF-8. */
  out = g_string_new ("\xEF\xBB\xBF");
  sp_csv_append_row (out, header, G_N_ELEMENTS (header), ',');
  for (guint i = 0; i < stats->len; i++)
    {
      const SpStat *s = stats->pdata[i];
      gboolean events = g_str_equal (s->group, "events_by_kind_year");
      g_autofree char *key
          = sp_csv_needs_guard (s->key) ? g_strconcat ("'", s->key, NULL) : g_strdup (s->key);
      g_autofree char *count = g_strdup_printf ("%" G_GINT64_FORMAT, s->count);
      g_autofree char *participants
          = events ? g_strdup_printf ("%" G_GINT64_FORMAT, s->participants) : NULL;
      g_autofree char *linked = events ? g_strdup_printf ("%" G_GINT64_FORMAT, s->linked) : NULL;
      const char *cells[] = { s->group, key, count, participants, linked };

      sp_csv_append_row (out, cells, G_N_ELEMENTS (cells), ',');
    }
  return g_string_free_to_bytes (out);
}
