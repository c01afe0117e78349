/* The statistics and conflicts pages, the preferences window and the
 * shortcuts window, built on real vaults under Xvfb and checked through their
 * widget trees.
 *
 * With SUPOLKA_SHOTS=DIR set, PNG screenshots of each are written to DIR.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <adwaita.h>

#include "sp-conflicts-page.h"
#include "sp-csv-private.h"
#include "sp-format.h"
#include "sp-labels.h"
#include "sp-preferences.h"
#include "sp-shortcuts.h"
#include "sp-stats-page.h"
#include "test-util.h"
#include "ui-test-util.h"

/* A guard against a hang (about a minute), never what is tested. */
#define WAIT_SECONDS 60

static char *data_home; /* XDG_DATA_HOME for the whole run: where recents would go */

/* ---- Helpers -------------------------------------------------------------- */

static void
change_free_cb (gpointer p)
{
  sp_change_free (p);
}

/* Depth-first search through the widget tree. */
static GtkWidget *
find_named (GtkWidget *root, const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (root), name) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_named (c, name);
      if (found)
        return found;
    }
  return NULL;
}

static void
collect_type (GtkWidget *root, GType type, GPtrArray *out)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (root, type))
    g_ptr_array_add (out, root);
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    collect_type (c, type, out);
}

static GtkWidget *
find_type (GtkWidget *root, GType type)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new ();

  collect_type (root, type, all);
  return all->len ? all->pdata[0] : NULL;
}

static GtkWidget *
named_row (GtkWidget *root, const char *name)
{
  GtkWidget *row = find_named (root, name);

  if (row == NULL)
    g_error ("no widget named %s", name);
  g_assert_true (ADW_IS_ACTION_ROW (row));
  return row;
}

static const char *
row_title (GtkWidget *row)
{
  return adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row));
}

static const char *
row_value (GtkWidget *row)
{
  GtkWidget *label = find_named (row, "value");

  g_assert_nonnull (label);
  return gtk_label_get_text (GTK_LABEL (label));
}

static const char *
visible_page (GtkWidget *page)
{
  GtkWidget *stack = find_type (page, GTK_TYPE_STACK);

  g_assert_nonnull (stack);
  return gtk_stack_get_visible_child_name (GTK_STACK (stack));
}

static char *
insert (SpVault *vault, const char *kind, const SpFieldValue *values, gsize n)
{
  g_autoptr (GError) error = NULL;
  char *id = sp_vault_insert (vault, kind, values, n, &error);

  g_assert_no_error (error);
  return id;
}

#define INSERT(vault, kind, ...)                                                                   \
  insert (vault, kind, (const SpFieldValue[]){ __VA_ARGS__ },                                      \
          sizeof ((const SpFieldValue[]){ __VA_ARGS__ }) / sizeof (SpFieldValue))

static void
update1 (SpVault *vault, const char *id, const char *field, const char *value)
{
  g_autoptr (GError) error = NULL;
  SpFieldValue fv = { field, value };

  g_assert_true (sp_vault_update (vault, id, &fv, 1, &error));
  g_assert_no_error (error);
}

/* Every change from's own device wrote, applied to to (re-applying is a no-op). */
static void
sync_pair (SpVault *from, SpVault *to)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) changes = sp_vault_local_changes (from, 0, NULL, &error);

  g_assert_no_error (error);
  g_ptr_array_set_free_func (changes, change_free_cb);
  g_assert_true (sp_vault_apply_changes (to, changes, &error));
  g_assert_no_error (error);
}

static void
free_vault (SpVault *vault, char *dir)
{
  g_autofree char *parent = g_path_get_dirname (dir);

  sp_vault_close (vault);
  sp_test_rmtree (parent);
  g_free (dir);
}

/* ---- Screenshots ---------------------------------------------------------- */

static gboolean
widget_is_drawn (gpointer data)
{
  GtkWidget *w = data;

  return gtk_widget_get_mapped (w) && gtk_widget_get_width (w) > 0 && gtk_widget_get_height (w) > 0;
}

/* Writes DIR/name.png of window (as laid out at its current size) when
 * SUPOLKA_SHOTS=DIR is set. */
static void
save_shot (GtkWidget *window, const char *name)
{
  const char *dir = g_getenv ("SUPOLKA_SHOTS");
  g_autofree char *path = NULL;

  if (dir == NULL || *dir == '\0')
    return;
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (ui_wait_for (widget_is_drawn, window, WAIT_SECONDS));
  path = g_strdup_printf ("%s/%s.png", dir, name);
  ui_save_png (window, path);
  g_test_message ("screenshot: %s", path);
}

/* A window holding page under a header bar, as the main window shows it. */
static GtkWidget *
page_window (GtkWidget *page, const char *title, int width, int height)
{
  GtkWidget *window = adw_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();

  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), adw_window_title_new (title, NULL));
  gtk_box_append (GTK_BOX (box), header);
  gtk_widget_set_vexpand (page, TRUE);
  gtk_box_append (GTK_BOX (box), page);
  adw_window_set_content (ADW_WINDOW (window), box);
  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  return window;
}

static void
shoot_page (GtkWidget *page, const char *title, const char *name)
{
  GtkWidget *window;
  g_autofree char *narrow = g_strdup_printf ("%s-360", name);

  if (g_getenv ("SUPOLKA_SHOTS") == NULL)
    return;
  g_object_ref (page);
  window = page_window (page, title, 900, 1100);
  save_shot (window, name);
  gtk_window_set_default_size (GTK_WINDOW (window), 360, 800);
  gtk_widget_set_size_request (window, 360, 800);
  gtk_window_destroy (GTK_WINDOW (window));
  ui_drain_some (100);
  window = page_window (page, title, 360, 1100);
  save_shot (window, narrow);
  gtk_window_destroy (GTK_WINDOW (window));
  ui_drain_some (100);
  g_object_unref (page);
}

/* ---- Statistics ----------------------------------------------------------- */

typedef struct
{
  gboolean done;
  gboolean ok;
  GError *error;
} ExportResult;

static void
export_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ExportResult *r = user_data;

  r->ok = sp_stats_page_export_finish (GTK_WIDGET (source), result, &r->error);
  r->done = TRUE;
}

static gboolean
recents_mention (const char *needle)
{
  g_autofree char *path = g_build_filename (data_home, "recently-used.xbel", NULL);
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  return strstr (text, needle) != NULL;
}

static void
test_stats_empty (void)
{
  g_autofree char *dir = NULL;
  SpVault *vault = sp_test_vault_new (&dir);
  GtkWidget *page = g_object_ref_sink (sp_stats_page_new (vault));

  g_assert_cmpstr (visible_page (page), ==, "empty");
  /* Nothing to export: the action, and so its button, is off. */
  g_assert_false (gtk_widget_get_sensitive (find_named (page, "export")));
  shoot_page (page, "Statistics", "stats-empty");
  g_assert_finalize_object (page);
  free_vault (vault, g_steal_pointer (&dir));
}

static void
test_stats_figures (void)
{
  g_autofree char *dir = NULL;
  SpVault *vault = sp_test_vault_new (&dir);
  g_autofree char *gone = NULL, *person = NULL, *training = NULL, *training2 = NULL;
  g_autofree char *forum = NULL, *tmp = NULL, *csv_path = NULL, *csv = NULL;
  g_autofree char *p1 = NULL, *p2 = NULL, *p3 = NULL;
  g_autofree char *o1 = NULL, *o2 = NULL, *o3 = NULL, *o4 = NULL, *o5 = NULL;
  g_autofree char *j1 = NULL, *j2 = NULL, *j3 = NULL;
  g_autofree char *subtitle = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GFile) file = NULL;
  ExportResult result = { 0 };
  GtkWidget *page, *row, *bar;
  GStatBuf st;

  o1 = INSERT (vault, "org", { "name", "Суполка Менск" }, { "region", "minsk_city" },
               { "status", "member" }, { "kind", "registered_ngo" });
  o2 = INSERT (vault, "org", { "name", "Зялёны Горад" }, { "region", "minsk_city" },
               { "status", "member" }, { "kind", "initiative" });
  o3 = INSERT (vault, "org", { "name", "Брэсцкая ініцыятыва" }, { "region", "brest" },
               { "status", "candidate" }, { "kind", "initiative" });
  o4 = INSERT (vault, "org", { "name", "Без рэгіёна" });
  gone = INSERT (vault, "org", { "name", "Выдалены" }, { "region", "minsk_city" });
  g_assert_true (sp_vault_delete (vault, gone, &error));
  g_assert_no_error (error);
  p1 = INSERT (vault, "project", { "title", "Школа" }, { "status", "active" });
  p2 = INSERT (vault, "project", { "title", "Форум" }, { "status", "planned" });
  p3 = INSERT (vault, "project", { "title", "Летнік" }, { "status", "planned" });
  training = INSERT (vault, "event", { "title", "Трэнінг 1" }, { "kind", "training" },
                     { "start_date", "2024-03-02" }, { "declared_participants", "30" });
  training2 = INSERT (vault, "event", { "title", "Трэнінг 2" }, { "kind", "training" },
                      { "start_date", "2024-11" }, { "declared_participants", "12345" });
  forum = INSERT (vault, "event", { "title", "Форум" }, { "kind", "forum" },
                  { "start_date", "2023" }, { "declared_participants", "100" });
  person = INSERT (vault, "person", { "full_name", "Ганна Шыманская" });
  j1 = INSERT (vault, "participation", { "person", person }, { "event", training },
               { "role", "trainer" });
  j2 = INSERT (vault, "participation", { "org", o1 }, { "event", training });
  j3 = INSERT (vault, "participation", { "person", person }, { "event", forum });

  page = g_object_ref_sink (sp_stats_page_new (vault));
  g_assert_cmpstr (visible_page (page), ==, "figures");
  g_assert_true (gtk_widget_get_sensitive (find_named (page, "export")));

  /* Totals: the deleted org is not counted. */
  g_assert_cmpstr (row_value (named_row (page, "total/orgs")), ==, "4");
  g_assert_cmpstr (row_value (named_row (page, "total/projects")), ==, "3");
  g_assert_cmpstr (row_value (named_row (page, "total/events")), ==, "3");
  /* Grouped as the interface language writes numbers (English here). */
  g_assert_cmpstr (row_value (named_row (page, "total/declared_participants")), ==, "12,475");

  /* By region: translated names, the unset region counted apart. */
  row = named_row (page, "orgs_by_region/minsk_city");
  g_assert_cmpstr (row_title (row), ==, sp_label_value ("region", "minsk_city"));
  g_assert_cmpstr (row_title (row), !=, "minsk_city");
  g_assert_cmpstr (row_value (row), ==, "2");
  g_assert_cmpstr (row_value (named_row (page, "orgs_by_region/brest")), ==, "1");
  row = named_row (page, "orgs_by_region/");
  g_assert_cmpstr (row_title (row), ==, "Not set");
  g_assert_cmpstr (row_value (row), ==, "1");
  g_assert_null (find_named (page, "orgs_by_region/grodno"));

  /* Each figure once, its bar drawn against the group's largest; no second
   * copy of the figures in a chart of their own. */
  bar = find_named (row, "bar");
  g_assert_true (GTK_IS_LEVEL_BAR (bar));
  g_assert_cmpfloat (gtk_level_bar_get_value (GTK_LEVEL_BAR (bar)), ==, 1);
  g_assert_cmpfloat (gtk_level_bar_get_max_value (GTK_LEVEL_BAR (bar)), ==, 2);
  g_assert_null (find_named (page, "chart"));
  g_assert_null (find_named (named_row (page, "total/orgs"), "bar"));
  {
    const char *description = adw_preferences_group_get_description (
        ADW_PREFERENCES_GROUP (find_named (page, "orgs_by_region")));
    g_assert_true (description == NULL || *description == '\0');
  }

  g_assert_cmpstr (row_value (named_row (page, "orgs_by_status/member")), ==, "2");
  g_assert_cmpstr (row_title (named_row (page, "orgs_by_status/candidate")), ==,
                   sp_label_value ("status", "candidate"));
  g_assert_cmpstr (row_value (named_row (page, "orgs_by_kind/initiative")), ==, "2");
  g_assert_cmpstr (row_value (named_row (page, "projects_by_status/planned")), ==, "2");
  g_assert_cmpstr (row_value (named_row (page, "projects_by_status/active")), ==, "1");

  /* Events by kind and year, with participants and participation records. */
  row = named_row (page, "events_by_kind_year/training/2024");
  g_assert_cmpstr (row_value (row), ==, "2");
  g_assert_true (g_str_has_prefix (row_title (row), sp_label_value ("kind", "training")));
  g_assert_nonnull (strstr (row_title (row), "2024"));
  subtitle = g_strdup (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)));
  {
    g_autofree char *people = sp_format_count (12375);
    g_autofree char *expect = g_strdup_printf ("%s declared participants", people);
    g_assert_nonnull (strstr (subtitle, expect));
    g_assert_nonnull (strstr (subtitle, "2 participation records"));
  }
  row = named_row (page, "events_by_kind_year/forum/2023");
  g_assert_cmpstr (row_value (row), ==, "1");
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)),
                            "100 declared participants · 1 participation record"));

  /* Reload sees new records. */
  o5 = INSERT (vault, "org", { "name", "Новая" }, { "region", "grodno" });
  sp_stats_page_reload (page);
  g_assert_cmpstr (row_value (named_row (page, "total/orgs")), ==, "5");
  g_assert_cmpstr (row_value (named_row (page, "orgs_by_region/grodno")), ==, "1");

  /* Export writes the figures shown as CSV, owner-only, no recent-files entry. */
  tmp = sp_test_tmpdir ();
  csv_path = g_build_filename (tmp, "figures.csv", NULL);
  file = g_file_new_for_path (csv_path);
  sp_stats_page_export_async (page, file, NULL, export_cb, &result);
  g_assert_true (ui_wait_for (ui_flag_set, &result.done, WAIT_SECONDS));
  g_assert_no_error (result.error);
  g_assert_true (result.ok);
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  g_assert_true (g_str_has_prefix (csv, "\xEF\xBB\xBF\"group\",\"key\",\"count\",\"declared_"
                                        "participants\",\"participation_records\"\r\n"));
  g_assert_nonnull (strstr (csv, "\r\n\"orgs_by_region\",\"minsk_city\",\"2\",\"\",\"\"\r\n"));
  g_assert_nonnull (strstr (csv, "\r\n\"orgs_by_region\",\"\",\"1\",\"\",\"\"\r\n"));
  g_assert_nonnull (strstr (csv, "\r\n\"orgs_by_region\",\"grodno\",\"1\",\"\",\"\"\r\n"));
  g_assert_nonnull (strstr (csv, "\r\n\"projects_by_status\",\"planned\",\"2\",\"\",\"\"\r\n"));
  g_assert_nonnull (
      strstr (csv, "\r\n\"events_by_kind_year\",\"training/2024\",\"2\",\"12375\",\"2\"\r\n"));
  g_assert_nonnull (
      strstr (csv, "\r\n\"events_by_kind_year\",\"forum/2023\",\"1\",\"100\",\"1\"\r\n"));
  g_assert_null (strstr (csv, "Суполка")); /* figures only, never a name */
  /* ... and core's own CSV reader reads it back, one row per figure. */
  {
    g_autoptr (GPtrArray) stats = sp_vault_stats (vault, NULL);
    g_autoptr (GPtrArray) rows = sp_csv_parse (csv, strlen (csv), NULL, NULL, &error);
    SpCsvRow *row1;
    g_assert_no_error (error);
    g_assert_cmpuint (rows->len, ==, stats->len + 1);
    row1 = rows->pdata[1];
    g_assert_cmpuint (row1->cells->len, ==, 5);
  }
  g_assert_cmpint (g_stat (csv_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  ui_drain_some (100);
  g_assert_false (recents_mention ("figures.csv"));

  shoot_page (page, "Statistics", "stats");
  g_assert_finalize_object (page);
  sp_test_rmtree (tmp);
  free_vault (vault, g_steal_pointer (&dir));
}

/* The count of group/key in stats, 0 when absent. */
static gint64
stat_count (GPtrArray *stats, const char *group, const char *key)
{
  for (guint i = 0; i < stats->len; i++)
    {
      const SpStat *s = stats->pdata[i];
      if (g_str_equal (s->group, group) && g_str_equal (s->key, key))
        return s->count;
    }
  return 0;
}

static gint64
group_total (GPtrArray *stats, const char *group)
{
  gint64 n = 0;

  for (guint i = 0; i < stats->len; i++)
    if (g_str_equal (((const SpStat *)stats->pdata[i])->group, group))
      n += ((const SpStat *)stats->pdata[i])->count;
  return n;
}

static GPtrArray *
period (SpVault *vault, const char *from, const char *to)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *stats = sp_vault_stats_period (vault, from, to, &error);

  g_assert_no_error (error);
  return stats;
}

/* Events by start date (partial dates by overlap, undated ones only for all
 * time), projects running in the period, orgs in the network by its end. */
static void
test_stats_period_core (void)
{
  g_autofree char *dir = NULL;
  SpVault *vault = sp_test_vault_new (&dir);
  g_autofree char *o1 = INSERT (vault, "org", { "name", "Старая" }, { "member_since", "2019-04" });
  g_autofree char *o2 = INSERT (vault, "org", { "name", "Новая" }); /* added today */
  g_autofree char *p1 = INSERT (vault, "project", { "title", "Школа" },
                                { "start_date", "2022-01-10" }, { "end_date", "2022-12-31" });
  g_autofree char *p2 = INSERT (vault, "project", { "title", "Без дат" });
  g_autofree char *e1 = INSERT (vault, "event", { "title", "Вясна" }, { "kind", "training" },
                                { "start_date", "2024-03-02" });
  g_autofree char *e2 = INSERT (vault, "event", { "title", "Восень" }, { "kind", "training" },
                                { "start_date", "2024-11" }, { "declared_participants", "40" });
  g_autofree char *e3
      = INSERT (vault, "event", { "title", "Год" }, { "kind", "forum" }, { "start_date", "2023" });
  g_autofree char *e4 = INSERT (vault, "event", { "title", "Калі?" }, { "kind", "forum" });
  g_autoptr (GError) error = NULL;

  {
    g_autoptr (GPtrArray) all = period (vault, NULL, NULL);
    g_autoptr (GPtrArray) same = sp_vault_stats (vault, NULL);
    g_assert_cmpuint (all->len, ==, same->len);
    g_assert_cmpint (group_total (all, "events_by_kind_year"), ==, 4);
    g_assert_cmpint (stat_count (all, "events_by_kind_year", "forum/"), ==, 1);
    g_assert_cmpint (group_total (all, "orgs_by_region"), ==, 2);
    g_assert_cmpint (group_total (all, "projects_by_status"), ==, 2);
  }
  {
    g_autoptr (GPtrArray) y2024 = period (vault, "2024-01-01", "2024-12-31");
    g_assert_cmpint (stat_count (y2024, "events_by_kind_year", "training/2024"), ==, 2);
    g_assert_cmpint (group_total (y2024, "events_by_kind_year"), ==, 2);
    /* The school ended in 2022; the undated project was added today. */
    g_assert_cmpint (group_total (y2024, "projects_by_status"), ==, 0);
    /* The old org had joined by then; the new one had not. */
    g_assert_cmpint (group_total (y2024, "orgs_by_region"), ==, 1);
  }
  {
    /* "2024-11" lies in the second half of 2024, "2024-03-02" does not. */
    g_autoptr (GPtrArray) autumn = period (vault, "2024-06-01", "2024-12-31");
    g_assert_cmpint (group_total (autumn, "events_by_kind_year"), ==, 1);
    for (guint i = 0; i < autumn->len; i++)
      if (g_str_equal (((SpStat *)autumn->pdata[i])->group, "events_by_kind_year"))
        g_assert_cmpint (((SpStat *)autumn->pdata[i])->participants, ==, 40);
  }
  {
    /* A year-only date overlaps any part of its year. */
    g_autoptr (GPtrArray) june = period (vault, "2023-06-01", "2023-06-30");
    g_assert_cmpint (stat_count (june, "events_by_kind_year", "forum/2023"), ==, 1);
    g_assert_cmpint (group_total (june, "events_by_kind_year"), ==, 1);
  }
  {
    g_autoptr (GPtrArray) mid2022 = period (vault, "2022-06-01", "2022-06-30");
    g_autoptr (GPtrArray) before = period (vault, NULL, "2019-03-31");
    g_autoptr (GPtrArray) since = period (vault, "2025-01-01", NULL);
    g_assert_cmpint (group_total (mid2022, "projects_by_status"), ==, 1);
    g_assert_cmpint (group_total (before, "orgs_by_region"), ==, 0);
    g_assert_cmpint (group_total (since, "projects_by_status"), ==, 1); /* the undated one */
    g_assert_cmpint (group_total (since, "events_by_kind_year"), ==, 0);
  }
  g_assert_null (sp_vault_stats_period (vault, "2024-13-01", NULL, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (sp_vault_stats_period (vault, "2024-1-01", NULL, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (sp_vault_stats_period (vault, "2024-12-31", "2024-01-01", &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  free_vault (vault, g_steal_pointer (&dir));
}

/* The page's period row: last year's figures, this year's, back to all. */
static void
test_stats_period_page (void)
{
  g_autofree char *dir = NULL;
  SpVault *vault = sp_test_vault_new (&dir);
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *last = g_strdup_printf ("%04d-06-15", g_date_time_get_year (now) - 1);
  g_autofree char *e1 = INSERT (vault, "event", { "title", "Летась" }, { "kind", "training" },
                                { "start_date", last }, { "declared_participants", "7" });
  g_autofree char *e2 = INSERT (vault, "event", { "title", "Без даты" }, { "kind", "forum" });
  GtkWidget *page = g_object_ref_sink (sp_stats_page_new (vault));
  AdwComboRow *period_row = ADW_COMBO_ROW (find_named (page, "period"));

  g_assert_cmpstr (row_value (named_row (page, "total/events")), ==, "2");
  adw_combo_row_set_selected (period_row, 2); /* last year */
  g_assert_cmpstr (row_value (named_row (page, "total/events")), ==, "1");
  g_assert_cmpstr (row_value (named_row (page, "total/declared_participants")), ==, "7");
  adw_combo_row_set_selected (period_row, 1); /* this year: nothing, the page stays */
  g_assert_cmpstr (visible_page (page), ==, "figures");
  g_assert_cmpstr (row_value (named_row (page, "total/events")), ==, "0");
  g_assert_null (find_named (page, "events_by_kind_year"));
  adw_combo_row_set_selected (period_row,
                              3); /* the last 12 months: that June while within a year */
  g_assert_cmpstr (
      row_value (named_row (page, "total/events")), ==,
      g_date_time_get_month (now) < 6
              || (g_date_time_get_month (now) == 6 && g_date_time_get_day_of_month (now) < 15)
          ? "1"
          : "0");
  adw_combo_row_set_selected (period_row, 0);
  g_assert_cmpstr (row_value (named_row (page, "total/events")), ==, "2");
  shoot_page (page, "Statistics", "stats-period");
  g_assert_finalize_object (page);
  free_vault (vault, g_steal_pointer (&dir));
}

/* "Export as CSV…" through the real file dialog (GtkFileChooserNative falls
 * back to GtkFileChooserDialog without a portal, as here): the file is
 * written and nothing reaches the recently-used list. */
static gboolean
export_written (gpointer path)
{
  g_autofree char *text = NULL;

  /* The last figure of a vault with one org and nothing else. */
  return g_file_get_contents (path, &text, NULL, NULL)
         && g_str_has_suffix (text, "\"orgs_by_kind\",\"\",\"1\",\"\",\"\"\r\n");
}

static GtkWidget *
find_file_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels (); /* transfer none */

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) w = g_list_model_get_item (toplevels, i);
      if (GTK_IS_FILE_CHOOSER_DIALOG (w))
        return GTK_WIDGET (w);
    }
  return NULL;
}

static gboolean
file_dialog_shown (gpointer data)
{
  GtkWidget *dialog = find_file_dialog ();

  return dialog && gtk_widget_get_mapped (dialog);
}

static gboolean
chooser_names (gpointer path)
{
  GtkWidget *dialog = find_file_dialog ();
  g_autoptr (GFile) f = dialog ? gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog)) : NULL;
  g_autofree char *p = f ? g_file_get_path (f) : NULL;

  return g_strcmp0 (p, path) == 0;
}

static void
test_stats_export_dialog (void)
{
  g_autofree char *dir = NULL;
  SpVault *vault = sp_test_vault_new (&dir);
  g_autofree char *o1 = INSERT (vault, "org", { "name", "Суполка" }, { "region", "gomel" });
  g_autofree char *path = g_build_filename (g_get_home_dir (), "statistics.csv", NULL);
  g_autofree char *csv = NULL;
  GtkWidget *page = sp_stats_page_new (vault);
  GtkWidget *window = page_window (page, "Statistics", 800, 600);
  GtkWidget *dialog, *accept;

  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (ui_wait_for (widget_is_drawn, window, WAIT_SECONDS));
  g_assert_true (gtk_widget_activate_action (page, "stats.export", NULL));
  g_assert_true (ui_wait_for (file_dialog_shown, NULL, WAIT_SECONDS));
  dialog = find_file_dialog ();
  /* The dialog starts in the home folder (HOME is a temporary folder here,
   * without Documents); it names the file once the folder has loaded. */
  g_assert_true (ui_wait_for (chooser_names, path, WAIT_SECONDS));
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  accept = gtk_dialog_get_widget_for_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_assert_nonnull (accept);
  /* A click, so the dialog runs its own accept path (which is where it
   * records recent files). */
  g_signal_emit_by_name (accept, "clicked");
  /* A new file is written in place: wait for its last row, not for the name. */
  g_assert_true (ui_wait_for (export_written, path, WAIT_SECONDS));
  g_assert_true (g_file_get_contents (path, &csv, NULL, NULL));
  g_assert_nonnull (strstr (csv, "\r\n\"orgs_by_region\",\"gomel\",\"1\",\"\",\"\"\r\n"));
  ui_drain_some (100);
  g_assert_false (recents_mention ("statistics.csv"));
  g_assert_null (find_file_dialog ());

  gtk_window_destroy (GTK_WINDOW (window));
  ui_drain_some (100);
  g_unlink (path);
  free_vault (vault, g_steal_pointer (&dir));
}

/* ---- Conflicts ------------------------------------------------------------ */

static void
on_resolved (GtkWidget *page, gpointer user_data)
{
  (*(guint *)user_data)++;
}

static const char *
stored (SpVault *vault, const char *id, const char *field)
{
  static char buf[256];
  g_autoptr (GError) error = NULL;
  g_autoptr (SpRecord) r = sp_vault_get (vault, id, &error);

  g_assert_no_error (error);
  g_strlcpy (buf, sp_record_get (r, field) ? sp_record_get (r, field) : "", sizeof buf);
  return buf;
}

static void
test_conflicts (void)
{
  g_autofree char *da = NULL, *db = NULL;
  SpVault *a = sp_test_vault_new (&da);
  SpVault *b = sp_test_vault_new (&db);
  g_autofree char *id = INSERT (a, "org", { "name", "Суполка <&> Гомель" },
                                { "phone", "+375 29 1111111" }, { "status", "member" });
  g_autofree char *group_name = NULL, *status_group = NULL, *b_short = NULL;
  g_autofree char *winner = NULL, *loser = NULL;
  g_autoptr (GPtrArray) conflicts = NULL;
  g_autoptr (GPtrArray) left = NULL;
  GtkWidget *page, *group, *kept, *other, *button;
  const char *kept_sub, *other_sub;
  guint resolved = 0;

  sync_pair (a, b);
  /* Both devices change the same fields while offline. */
  update1 (a, id, "phone", "+375 29 2222222");
  update1 (b, id, "phone", "+375 29 3333333");
  update1 (a, id, "status", "suspended");
  update1 (b, id, "status", "former");
  sync_pair (b, a);
  sync_pair (a, b);

  conflicts = sp_vault_conflicts (a, NULL, NULL);
  g_assert_cmpuint (conflicts->len, ==, 2);

  page = g_object_ref_sink (sp_conflicts_page_new (a));
  g_signal_connect (page, "resolved", G_CALLBACK (on_resolved), &resolved);
  g_assert_cmpstr (visible_page (page), ==, "list");
  g_assert_cmpuint (sp_conflicts_page_get_n_conflicts (page), ==, 2);

  group_name = g_strdup_printf ("conflict/%s/phone", id);
  group = find_named (page, group_name);
  g_assert_true (ADW_IS_PREFERENCES_GROUP (group));
  /* The record's title, shown as it is even with markup characters in it
   * (libadwaita 1.2 reads group titles as markup and returns the text shown). */
  g_assert_cmpstr (adw_preferences_group_get_title (ADW_PREFERENCES_GROUP (group)), ==,
                   "Суполка <&> Гомель");
  kept = named_row (group, "kept");
  other = named_row (group, "other");
  winner = g_strdup (stored (a, id, "phone"));
  loser
      = g_strdup (g_str_equal (winner, "+375 29 2222222") ? "+375 29 3333333" : "+375 29 2222222");
  g_assert_cmpstr (row_title (kept), ==, winner);
  g_assert_cmpstr (row_title (other), ==, loser);

  /* Who and when: this device, or the other one by the start of its id. */
  kept_sub = adw_action_row_get_subtitle (ADW_ACTION_ROW (kept));
  other_sub = adw_action_row_get_subtitle (ADW_ACTION_ROW (other));
  b_short = g_strndup (sp_vault_get_device_id (b), 8);
  g_assert_true ((strstr (kept_sub, "this device") && strstr (other_sub, b_short))
                 || (strstr (other_sub, "this device") && strstr (kept_sub, b_short)));
  {
    g_autoptr (GDateTime) now = g_date_time_new_now_local ();
    g_autofree char *year = g_date_time_format (now, "%Y");
    g_assert_nonnull (strstr (kept_sub, year));
  }

  /* Enumeration values are shown translated. */
  status_group = g_strdup_printf ("conflict/%s/status", id);
  group = find_named (page, status_group);
  g_assert_nonnull (group);
  {
    const char *shown = row_title (named_row (group, "kept"));
    g_assert_true (g_str_equal (shown, sp_label_value ("status", "suspended"))
                   || g_str_equal (shown, sp_label_value ("status", "former")));
  }

  shoot_page (page, "Conflicts", "conflicts");

  /* One click keeps the other value: stored, conflict gone, signal emitted. */
  button = find_named (other, "keep");
  g_assert_true (GTK_IS_BUTTON (button));
  g_assert_true (gtk_widget_get_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
  g_assert_cmpuint (resolved, ==, 1);
  g_assert_cmpstr (stored (a, id, "phone"), ==, loser);
  g_assert_null (find_named (page, group_name));
  g_assert_cmpuint (sp_conflicts_page_get_n_conflicts (page), ==, 1);

  /* Keeping the value shown also ends the conflict, and changes nothing. */
  group = find_named (page, status_group);
  {
    g_autofree char *shown_before = g_strdup (stored (a, id, "status"));
    button = find_named (named_row (group, "kept"), "keep");
    g_signal_emit_by_name (button, "clicked");
    g_assert_cmpstr (stored (a, id, "status"), ==, shown_before);
  }
  g_assert_cmpuint (resolved, ==, 2);
  left = sp_vault_conflicts (a, NULL, NULL);
  g_assert_cmpuint (left->len, ==, 0);
  g_assert_cmpuint (sp_conflicts_page_get_n_conflicts (page), ==, 0);
  g_assert_cmpstr (visible_page (page), ==, "empty");

  /* The resolution travels: b agrees once it has a's changes. */
  sync_pair (a, b);
  {
    g_autoptr (GPtrArray) on_b = sp_vault_conflicts (b, NULL, NULL);
    g_assert_cmpuint (on_b->len, ==, 0);
    g_assert_cmpstr (stored (b, id, "phone"), ==, loser);
  }

  shoot_page (page, "Conflicts", "conflicts-empty");
  g_assert_finalize_object (page);
  free_vault (a, g_steal_pointer (&da));
  free_vault (b, g_steal_pointer (&db));
}

/* ---- Preferences ---------------------------------------------------------- */

static AdwEntryRow *
entry_row (GtkWidget *root, const char *title)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new ();

  collect_type (root, ADW_TYPE_ENTRY_ROW, rows);
  for (guint i = 0; i < rows->len; i++)
    if (g_str_equal (adw_preferences_row_get_title (rows->pdata[i]), title))
      return rows->pdata[i];
  g_error ("no entry row %s", title);
  return NULL;
}

static AdwComboRow *
combo_row (GtkWidget *root, const char *title)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new ();

  collect_type (root, ADW_TYPE_COMBO_ROW, rows);
  for (guint i = 0; i < rows->len; i++)
    if (g_str_equal (adw_preferences_row_get_title (rows->pdata[i]), title))
      return rows->pdata[i];
  g_error ("no combo row %s", title);
  return NULL;
}

static gboolean
window_of_type_shown (gpointer type)
{
  GListModel *toplevels = gtk_window_get_toplevels (); /* transfer none */

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GObject) w = g_list_model_get_item (toplevels, i);
      if (G_TYPE_CHECK_INSTANCE_TYPE (w, GPOINTER_TO_SIZE (type))
          && gtk_widget_get_visible (GTK_WIDGET (w)))
        return TRUE;
    }
  return FALSE;
}

static void
test_preferences (void)
{
  g_autoptr (GSettings) settings = sp_preferences_get_settings ();
  g_autofree char *s = NULL;
  GtkWidget *window;
  GtkSpinButton *spin;
  GtkSwitch *sw;
  AdwEntryRow *relay, *proxy;

  /* GSETTINGS_BACKEND=memory: nothing here reaches the account's dconf. */
  g_assert_nonnull (settings);
  g_assert_true (G_IS_SETTINGS (settings));

  window = sp_preferences_window_new (settings);
  g_assert_true (SP_IS_PREFERENCES_WINDOW (window));

  /* Defaults shown. */
  spin = GTK_SPIN_BUTTON (find_type (window, GTK_TYPE_SPIN_BUTTON));
  g_assert_cmpfloat (gtk_spin_button_get_value (spin), ==, 300.0);
  g_assert_cmpuint (adw_combo_row_get_selected (combo_row (window, "_Interface Language")), ==, 0);

  /* Widgets write settings. */
  gtk_spin_button_set_value (spin, 120);
  g_assert_cmpuint (g_settings_get_uint (settings, "auto-lock-delay"), ==, 120);
  gtk_spin_button_set_value (spin, 0);
  g_assert_cmpuint (g_settings_get_uint (settings, "auto-lock-delay"), ==, 0);

  sw = GTK_SWITCH (find_type (window, GTK_TYPE_SWITCH));
  gtk_switch_set_active (sw, TRUE);
  g_assert_true (g_settings_get_boolean (settings, "neutral-title"));

  adw_combo_row_set_selected (combo_row (window, "_Interface Language"), 2);
  s = g_settings_get_string (settings, "language");
  g_assert_cmpstr (s, ==, "ru");
  g_clear_pointer (&s, g_free);
  adw_combo_row_set_selected (combo_row (window, "_Key Strength"), 1);
  s = g_settings_get_string (settings, "kdf-profile");
  g_assert_cmpstr (s, ==, "sensitive");
  g_clear_pointer (&s, g_free);

  relay = entry_row (window, "_Relay Address");
  gtk_editable_set_text (GTK_EDITABLE (relay), "https://relay.example.org/supolka");
  s = g_settings_get_string (settings, "relay-url");
  g_assert_cmpstr (s, ==, "https://relay.example.org/supolka");
  g_clear_pointer (&s, g_free);
  g_assert_false (gtk_widget_has_css_class (GTK_WIDGET (relay), "error"));
  /* Plain http to another host is refused: kept in the entry, marked, not stored. */
  gtk_editable_set_text (GTK_EDITABLE (relay), "http://relay.example.org");
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (relay), "error"));
  s = g_settings_get_string (settings, "relay-url");
  g_assert_cmpstr (s, ==, "https://relay.example.org/supolka");
  g_clear_pointer (&s, g_free);
  gtk_editable_set_text (GTK_EDITABLE (relay), "");
  s = g_settings_get_string (settings, "relay-url");
  g_assert_cmpstr (s, ==, "");
  g_clear_pointer (&s, g_free);

  proxy = entry_row (window, "_Proxy");
  gtk_editable_set_text (GTK_EDITABLE (proxy), "socks5h://127.0.0.1:9050");
  s = g_settings_get_string (settings, "proxy");
  g_assert_cmpstr (s, ==, "socks5h://127.0.0.1:9050");
  g_clear_pointer (&s, g_free);
  gtk_editable_set_text (GTK_EDITABLE (proxy), "gopher://127.0.0.1:70");
  g_assert_true (gtk_widget_has_css_class (GTK_WIDGET (proxy), "error"));
  s = g_settings_get_string (settings, "proxy");
  g_assert_cmpstr (s, ==, "socks5h://127.0.0.1:9050");
  g_clear_pointer (&s, g_free);

  /* Settings update widgets. */
  g_settings_set_uint (settings, "auto-lock-delay", 600);
  g_assert_cmpfloat (gtk_spin_button_get_value (spin), ==, 600.0);
  g_settings_set_string (settings, "language", "be");
  g_assert_cmpuint (adw_combo_row_get_selected (combo_row (window, "_Interface Language")), ==, 1);

  save_shot (window, "preferences");
  gtk_window_destroy (GTK_WINDOW (window));
  ui_drain_some (100);

  /* The language setting reaches gettext at the next start. */
  g_unsetenv ("LANGUAGE");
  sp_preferences_apply_language ();
  g_assert_cmpstr (g_getenv ("LANGUAGE"), ==, "be");
  g_unsetenv ("LANGUAGE");

  /* sp_preferences_show presents a preferences window. */
  sp_preferences_show (NULL);
  g_assert_true (ui_wait_for (window_of_type_shown, GSIZE_TO_POINTER (SP_TYPE_PREFERENCES_WINDOW),
                              WAIT_SECONDS));
  {
    GListModel *toplevels = gtk_window_get_toplevels (); /* transfer none */
    for (guint i = g_list_model_get_n_items (toplevels); i > 0; i--)
      {
        g_autoptr (GObject) w = g_list_model_get_item (toplevels, i - 1);
        if (SP_IS_PREFERENCES_WINDOW (w))
          gtk_window_destroy (GTK_WINDOW (w));
      }
  }
  ui_drain_some (100);
  {
    g_autoptr (GSettingsSchema) schema = NULL;
    g_auto (GStrv) keys = NULL;
    g_object_get (settings, "settings-schema", &schema, NULL);
    keys = g_settings_schema_list_keys (schema);
    for (guint i = 0; keys[i]; i++)
      g_settings_reset (settings, keys[i]);
  }
}

/* ---- Shortcuts ------------------------------------------------------------ */

static void
test_shortcuts (void)
{
  GtkWidget *window = sp_shortcuts_window_new ();
  g_autoptr (GPtrArray) shortcuts = g_ptr_array_new ();
  g_autoptr (GPtrArray) accels = g_ptr_array_new_with_free_func (g_free);
  const char *expected[]
      = { "<ctrl>f", "<ctrl>n", "<ctrl>l", "<ctrl><shift>q", "<ctrl>comma", "<ctrl>question" };

  g_assert_true (GTK_IS_SHORTCUTS_WINDOW (window));
  /* The section itself: the window's search page holds copies of each. */
  collect_type (find_type (window, GTK_TYPE_SHORTCUTS_SECTION), GTK_TYPE_SHORTCUTS_SHORTCUT,
                shortcuts);
  for (guint i = 0; i < shortcuts->len; i++)
    {
      char *accel = NULL;
      g_object_get (shortcuts->pdata[i], "accelerator", &accel, NULL);
      g_ptr_array_add (accels, accel);
    }
  g_assert_cmpuint (accels->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      gboolean found = FALSE;
      for (guint j = 0; j < accels->len; j++)
        found |= g_str_equal (accels->pdata[j], expected[i]);
      g_assert_true (found);
    }
  save_shot (window, "shortcuts");
  gtk_window_destroy (GTK_WINDOW (window));
  ui_drain_some (100);
  g_object_unref (window);
}

int
main (int argc, char **argv)
{
  int status;

  /* Recent files would go to XDG_DATA_HOME: point it at an empty folder of
   * our own, before GLib caches the user directories. */
  data_home = g_dir_make_tmp ("supolka-ui-pages-XXXXXX", NULL);
  g_assert_nonnull (data_home);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  /* The export dialog starts in the home folder: make it ours too (no
   * user-dirs.dirs there, so no Documents folder either). */
  g_setenv ("HOME", data_home, TRUE);
  g_setenv ("XDG_CONFIG_HOME", data_home, TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_assert_true (sp_core_init (NULL));

  g_test_add_func ("/ui-pages/stats/empty", test_stats_empty);
  g_test_add_func ("/ui-pages/stats/figures", test_stats_figures);
  g_test_add_func ("/ui-pages/stats/period-core", test_stats_period_core);
  g_test_add_func ("/ui-pages/stats/period-page", test_stats_period_page);
  g_test_add_func ("/ui-pages/stats/export-dialog", test_stats_export_dialog);
  g_test_add_func ("/ui-pages/conflicts", test_conflicts);
  g_test_add_func ("/ui-pages/preferences", test_preferences);
  g_test_add_func ("/ui-pages/shortcuts", test_shortcuts);
  status = g_test_run ();
  sp_test_rmtree (data_home);
  g_free (data_home);
  return status;
}
