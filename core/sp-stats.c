/* The figures coordinators report: counts by region, status and kind.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>
#include <string.h>
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

/* The period: :from and :to are "YYYY-MM-DD" or NULL (open). A stored date
 * may be partial ("2024", "2024-05"); it is in the period when the span it
 * names overlaps it, so each end is cut to the stored date's length. */
#define NOT_AFTER_TO(v) "(:to IS NULL OR " v " <= substr(:to, 1, length(" v ")))"
#define NOT_BEFORE_FROM(v) "(:from IS NULL OR " v " >= substr(:from, 1, length(" v ")))"

/* Organisations in the network by the end of the period: since member_since,
 * else since the day the record was added. */
#define ORG_START "coalesce(nullif(ms.value, ''), substr(r.created, 1, 10))"
#define ORGS                                                                                       \
  "SELECT r.rowid AS rowid FROM records r "                                                        \
  "LEFT JOIN fields ms ON ms.rec = r.rowid AND ms.field = 'member_since' "                         \
  "WHERE r.kind = 'org' AND r.cl % 2 = 1 AND " NOT_AFTER_TO (ORG_START)
/* Projects running at some time in the period: begun (start_date, else the
 * day added) by its end, not ended (end_date) before its start. */
#define PROJECT_START "coalesce(nullif(sd.value, ''), substr(r.created, 1, 10))"
#define PROJECTS                                                                                   \
  "SELECT r.rowid AS rowid FROM records r "                                                        \
  "LEFT JOIN fields sd ON sd.rec = r.rowid AND sd.field = 'start_date' "                           \
  "LEFT JOIN fields ed ON ed.rec = r.rowid AND ed.field = 'end_date' "                             \
  "WHERE r.kind = 'project' AND r.cl % 2 = 1 AND " NOT_AFTER_TO (                                  \
      PROJECT_START) " AND "                                                                       \
                     "(coalesce(ed.value, '') = '' OR " NOT_BEFORE_FROM ("ed.value") ")"

#define BY_FIELD(set, field)                                                                       \
  "SELECT coalesce(f.value, ''), count(*), 0, 0 FROM (" set ") r "                                 \
  "LEFT JOIN fields f ON f.rec = r.rowid AND f.field = '" field "' GROUP BY 1 ORDER BY 1"

static const struct
{
  const char *group;
  const char *sql;
} queries[] = {
  { "orgs_by_region", BY_FIELD (ORGS, "region") },
  { "orgs_by_status", BY_FIELD (ORGS, "status") },
  { "orgs_by_kind", BY_FIELD (ORGS, "kind") },
  { "projects_by_status", BY_FIELD (PROJECTS, "status") },
  /* Events by kind and year, with the declared participant totals and the
   * number of participation records that point at them. Events start in the
   * period (start_date); one without a date only when the period is open. */
  { "events_by_kind_year",
    "SELECT coalesce(k.value, '') || '/' || coalesce(substr(d.value, 1, 4), ''), count(*), "
    "  total(CAST(p.value AS INTEGER)), "
    "  sum((SELECT count(*) FROM fields pe JOIN records pr ON pr.rowid = pe.rec "
    "       WHERE pe.field = 'event' AND pe.value = e.id AND pr.kind = 'participation' "
    "       AND pr.cl % 2 = 1)) "
    "FROM records e "
    "LEFT JOIN fields k ON k.rec = e.rowid AND k.field = 'kind' "
    "LEFT JOIN fields d ON d.rec = e.rowid AND d.field = 'start_date' "
    "LEFT JOIN fields p ON p.rec = e.rowid AND p.field = 'declared_participants' "
    "WHERE e.kind = 'event' AND e.cl % 2 = 1 AND "
    "  ((:from IS NULL AND :to IS NULL) OR (coalesce(d.value, '') <> '' AND " NOT_BEFORE_FROM (
        "d.value") " AND " NOT_AFTER_TO ("d.value") ")) "
                                                    "GROUP BY 1 ORDER BY 1" },
};

/* "YYYY-MM-DD", a real day. */
static gboolean
period_end_valid (const char *date)
{
  unsigned y, m, d;
  char tail;

  return strlen (date) == 10 && date[4] == '-' && date[7] == '-'
         && sscanf (date, "%4u-%2u-%2u%c", &y, &m, &d, &tail) == 3 && y >= 1 && y <= 9999
         && g_date_valid_dmy ((GDateDay)d, (GDateMonth)m, (GDateYear)y);
}

static void
bind_period (sqlite3_stmt *st, const char *from, const char *to)
{
  int i_from = sqlite3_bind_parameter_index (st, ":from");
  int i_to = sqlite3_bind_parameter_index (st, ":to");

  if (i_from > 0)
    sqlite3_bind_text (st, i_from, from, -1, SQLITE_STATIC);
  if (i_to > 0)
    sqlite3_bind_text (st, i_to, to, -1, SQLITE_STATIC);
}

GPtrArray *
sp_vault_stats_period (SpVault *vault, const char *from, const char *to, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (stat_free_cb);

  g_return_val_if_fail (vault != NULL, NULL);
  if (vault->db == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_LOCKED, _ ("The vault is locked"));
      return NULL;
    }
  if ((from && !period_end_valid (from)) || (to && !period_end_valid (to)))
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("A period is given as two dates, YYYY-MM-DD"));
      return NULL;
    }
  if (from && to && strcmp (from, to) > 0)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("The period ends before it starts"));
      return NULL;
    }
  for (guint q = 0; q < G_N_ELEMENTS (queries); q++)
    {
      g_autoptr (sqlite3_stmt) st = sp_prepare (vault, queries[q].sql, error);
      int rc;

      if (st == NULL)
        return NULL;
      bind_period (st, from, to);
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

GPtrArray *
sp_vault_stats (SpVault *vault, GError **error)
{
  return sp_vault_stats_period (vault, NULL, NULL, error);
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
