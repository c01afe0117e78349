/* The Statistics page.
 *
 * The totals and a period (all time, this year, last year, the last 12
 * months: sp_vault_stats_period says what each kind of record counts by),
 * then each group of the figures as an AdwPreferencesGroup with one row per
 * figure: its name, a bar as long as the figure against the group's largest,
 * and the number. Each figure is shown once; the bar is its chart. Widget
 * names are stable handles for tests and never shown: a group is named after
 * its stat group ("orgs_by_region"), a row "GROUP/KEY"
 * ("orgs_by_region/minsk_city"), its number label "value", its bar "bar".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>
#include <glib/gi18n-lib.h>

#include "sp-stats-page.h"
#include "sp-format.h"
#include "sp-ui-resources.h"
#include "sp-labels.h"
#include "sp-compartments.h"
#include "sp-vault-job.h"

struct _SpStatsPage
{
  AdwBin parent_instance;

  SpVault *vault;    /* not owned */
  GPtrArray *stats;  /* of SpStat: what is shown, and what export writes */
  GPtrArray *groups; /* AdwPreferencesGroup added for the figures */
  GPtrArray *totals; /* rows added to totals_group */
  GtkNativeDialog *chooser;
  GSimpleAction *export_action; /* "stats.export" */
  gboolean lazy;                /* reload only while shown (sp_stats_page_new_lazy) */
  gboolean stale;               /* a reload was skipped while hidden */
  char from[11], to[11];        /* the period shown, "YYYY-MM-DD"; "" when open */

  AdwToastOverlay *toast_overlay;
  GtkStack *stack;
  AdwPreferencesPage *figures_page;
  AdwPreferencesGroup *totals_group;
  AdwComboRow *period_row;
  GtkWidget *export_button;
};

/* The choices of period_row, in its order. */
enum
{
  PERIOD_ALL,
  PERIOD_THIS_YEAR,
  PERIOD_LAST_YEAR,
  PERIOD_LAST_12_MONTHS,
};

G_DEFINE_FINAL_TYPE (SpStatsPage, sp_stats_page, ADW_TYPE_BIN)

/* The groups core reports, in the order shown. field: the record field whose
 * enumeration values the keys are. */
static const struct
{
  const char *group;
  const char *title;
  const char *field;
} groups[] = {
  { "orgs_by_region", N_ ("Organisations by Region"), "region" },
  { "orgs_by_status", N_ ("Organisations by Status"), "status" },
  { "orgs_by_kind", N_ ("Organisations by Kind"), "kind" },
  { "projects_by_status", N_ ("Projects by Status"), "status" },
  { "events_by_kind_year", N_ ("Events by Kind and Year"), "kind" },
};

static void
toast (SpStatsPage *self, const char *text)
{
  AdwToast *t = adw_toast_new (text);

  adw_toast_set_timeout (t, 5);
  adw_toast_overlay_add_toast (self->toast_overlay, t);
}

/* A bar for value out of max (the group's largest figure), of one colour. */
static GtkWidget *
figure_bar (gint64 value, gint64 max)
{
  GtkWidget *bar = gtk_level_bar_new_for_interval (0, (double)MAX (max, 1));

  gtk_level_bar_set_value (GTK_LEVEL_BAR (bar), (double)value);
  gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_LOW);
  gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_HIGH);
  gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar), GTK_LEVEL_BAR_OFFSET_FULL);
  gtk_widget_set_name (bar, "bar");
  gtk_widget_set_size_request (bar, 96, -1);
  gtk_widget_set_valign (bar, GTK_ALIGN_CENTER);
  return bar;
}

/* A row with a title, an optional subtitle and a number at its end; with a
 * bar before the number when max > 0. */
static GtkWidget *
figure_row (const char *name, const char *title, const char *subtitle, gint64 value, gint64 max)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *number = sp_format_count (value);
  GtkWidget *label = gtk_label_new (number);

  gtk_widget_set_name (row, name);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_name (label, "value");
  gtk_widget_add_css_class (label, "numeric");
  gtk_widget_add_css_class (label, "title-4");
  /* Right-aligned in a column wide enough for "12 345", so numbers line up. */
  gtk_label_set_xalign (GTK_LABEL (label), 1);
  gtk_label_set_width_chars (GTK_LABEL (label), 6);
  if (max > 0)
    {
      GtkWidget *bar = figure_bar (value, max);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), bar);
      gtk_accessible_update_relation (GTK_ACCESSIBLE (bar), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                      row, NULL, -1);
    }
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
  /* Screen readers read the row as "Minsk city: 12". */
  gtk_accessible_update_relation (GTK_ACCESSIBLE (label), GTK_ACCESSIBLE_RELATION_LABELLED_BY, row,
                                  NULL, -1);
  return row;
}

/* An enumeration value translated; records without one are counted as "Not set". */
static const char *
value_label (const char *field, const char *value)
{
  if (*value == '\0')
    return C_ ("statistics", "Not set");
  return sp_label_value (field, value);
}

static const char *
kind_label (const char *kind)
{
  if (*kind == '\0')
    return C_ ("event kind", "Kind not set");
  return sp_label_value ("kind", kind);
}

/* "training/2024" -> "Training, 2024"; an event without a date -> "Training, no date". */
static char *
event_key_title (const char *key)
{
  const char *slash = strrchr (key, '/');
  g_autofree char *kind = slash ? g_strndup (key, (gsize)(slash - key)) : g_strdup (key);
  const char *year = slash ? slash + 1 : "";

  /* Translators: an event kind and a year, e.g. "Training, 2024". */
  return g_strdup_printf (C_ ("event kind and year", "%s, %s"), kind_label (kind),
                          *year ? year : _ ("no date"));
}

static char *
event_subtitle (const SpStat *s)
{
  g_autofree char *p = sp_format_count (s->participants);
  g_autofree char *l = sp_format_count (s->linked);
  g_autofree char *people = g_strdup_printf (
      ngettext ("%s declared participant", "%s declared participants", (gulong)s->participants), p);
  g_autofree char *linked = g_strdup_printf (
      ngettext ("%s participation record", "%s participation records", (gulong)s->linked), l);

  /* Translators: "120 declared participants · 5 participation records". */
  return g_strdup_printf (C_ ("event figures", "%s · %s"), people, linked);
}

/* Where value stands in field's list of values (org fields: region, status
 * and kind; project status), so figures come in the order people know;
 * unknown values after them, "not set" last. */
static guint
value_rank (const char *kind, const char *field, const char *value)
{
  const SpKindInfo *info = sp_kind_lookup (kind);
  const SpFieldInfo *f = info ? sp_kind_field (info, field) : NULL;

  if (*value == '\0')
    return G_MAXUINT;
  for (guint i = 0; f && f->values && f->values[i]; i++)
    if (g_str_equal (f->values[i], value))
      return i;
  return G_MAXUINT - 1;
}

typedef struct
{
  const char *kind;
  const char *field;
} RankCtx;

static int
compare_stats (gconstpointer a, gconstpointer b, gpointer user_data)
{
  const RankCtx *ctx = user_data;
  const SpStat *sa = *(const SpStat *const *)a;
  const SpStat *sb = *(const SpStat *const *)b;
  guint ra = value_rank (ctx->kind, ctx->field, sa->key);
  guint rb = value_rank (ctx->kind, ctx->field, sb->key);

  if (ra != rb)
    return ra < rb ? -1 : 1;
  return g_strcmp0 (sa->key, sb->key);
}

static void
add_group (SpStatsPage *self, guint g, guint from, guint to)
{
  GtkWidget *group = adw_preferences_group_new ();
  gboolean events = g_str_equal (groups[g].group, "events_by_kind_year");
  gint64 max = 0;

  gtk_widget_set_name (group, groups[g].group);
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ (groups[g].title));
  for (guint i = from; i < to; i++)
    max = MAX (max, ((const SpStat *)self->stats->pdata[i])->count);
  if (!events)
    {
      RankCtx ctx
          = { g_str_has_prefix (groups[g].group, "orgs") ? "org" : "project", groups[g].field };
      g_qsort_with_data (self->stats->pdata + from, (gint)(to - from), sizeof (gpointer),
                         compare_stats, &ctx);
    }
  for (guint i = from; i < to; i++)
    {
      const SpStat *s = self->stats->pdata[i];
      g_autofree char *name = g_strdup_printf ("%s/%s", s->group, s->key);
      g_autofree char *title
          = events ? event_key_title (s->key) : g_strdup (value_label (groups[g].field, s->key));
      g_autofree char *subtitle = events ? event_subtitle (s) : NULL;

      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                                 figure_row (name, title, subtitle, s->count, max));
    }
  adw_preferences_page_add (self->figures_page, ADW_PREFERENCES_GROUP (group));
  g_ptr_array_add (self->groups, group);
}

static void
add_total (SpStatsPage *self, const char *name, const char *title, gint64 value)
{
  GtkWidget *row = figure_row (name, title, NULL, value, 0);

  adw_preferences_group_add (self->totals_group, row);
  g_ptr_array_add (self->totals, row);
}

static void
clear_figures (SpStatsPage *self)
{
  for (guint i = 0; i < self->groups->len; i++)
    adw_preferences_page_remove (self->figures_page, self->groups->pdata[i]);
  g_ptr_array_set_size (self->groups, 0);
  for (guint i = 0; i < self->totals->len; i++)
    adw_preferences_group_remove (self->totals_group, self->totals->pdata[i]);
  g_ptr_array_set_size (self->totals, 0);
}

static void
show_figures (SpStatsPage *self)
{
  gint64 orgs = 0, projects = 0, events = 0, participants = 0;

  clear_figures (self);
  for (guint i = 0; i < self->stats->len; i++)
    {
      const SpStat *s = self->stats->pdata[i];
      if (g_str_equal (s->group, "orgs_by_region"))
        orgs += s->count;
      else if (g_str_equal (s->group, "projects_by_status"))
        projects += s->count;
      else if (g_str_equal (s->group, "events_by_kind_year"))
        {
          events += s->count;
          participants += s->participants;
        }
    }
  add_total (self, "total/orgs", _ ("Organisations"), orgs);
  add_total (self, "total/projects", _ ("Projects"), projects);
  add_total (self, "total/events", _ ("Events"), events);
  add_total (self, "total/declared_participants", _ ("Declared participants at events"),
             participants);

  /* core returns each group's rows together, groups in a fixed order; a group
   * without rows (no projects yet) is left out. */
  for (guint g = 0; g < G_N_ELEMENTS (groups); g++)
    {
      guint from = 0, to;

      while (from < self->stats->len
             && !g_str_equal (((const SpStat *)self->stats->pdata[from])->group, groups[g].group))
        from++;
      to = from;
      while (to < self->stats->len
             && g_str_equal (((const SpStat *)self->stats->pdata[to])->group, groups[g].group))
        to++;
      if (to > from)
        add_group (self, g, from, to);
    }
  /* A period without figures keeps the page, so that another can be chosen. */
  gtk_stack_set_visible_child_name (
      self->stack, self->stats->len > 0 || self->from[0] || self->to[0] ? "figures" : "empty");
  g_simple_action_set_enabled (self->export_action, self->stats->len > 0);
}

/* Issue #19: the figures count only what this device holds, and say so
 * ("Figures from 2 of 5 compartments…") under the totals. One function, so
 * the page's own layout can change around it. */
static void
show_compartment_figures (SpStatsPage *self)
{
  g_autofree char *figures
      = sp_vault_job_is_busy () ? NULL : sp_compartment_figures_text (self->vault);
  g_autofree char *text
      = g_strdup_printf ("%s%s%s", _ ("Records in this vault, deleted ones left out."),
                         figures ? " " : "", figures ? figures : "");

  adw_preferences_group_set_description (self->totals_group, text);
}

/* The dates of a period choice, today being today (local time). */
static void
period_dates (guint choice, GDateTime *today, char from[11], char to[11])
{
  int year = g_date_time_get_year (today);
  g_autoptr (GDateTime) year_ago = g_date_time_add_years (today, -1);
  g_autoptr (GDateTime) start = year_ago ? g_date_time_add_days (year_ago, 1) : NULL;
  g_autofree char *a = NULL, *b = NULL;

  from[0] = to[0] = '\0';
  switch (choice)
    {
      case PERIOD_THIS_YEAR:
        g_snprintf (from, 11, "%04d-01-01", year);
        g_snprintf (to, 11, "%04d-12-31", year);
        break;
      case PERIOD_LAST_YEAR:
        g_snprintf (from, 11, "%04d-01-01", year - 1);
        g_snprintf (to, 11, "%04d-12-31", year - 1);
        break;
      case PERIOD_LAST_12_MONTHS:
        a = start ? g_date_time_format (start, "%Y-%m-%d") : NULL;
        b = g_date_time_format (today, "%Y-%m-%d");
        if (a && b)
          {
            g_strlcpy (from, a, 11);
            g_strlcpy (to, b, 11);
          }
        break;
      default:
        break;
    }
}

static void
period_changed (SpStatsPage *self)
{
  g_autoptr (GDateTime) today = g_date_time_new_now_local ();

  period_dates (adw_combo_row_get_selected (self->period_row), today, self->from, self->to);
  if (self->vault != NULL)
    sp_stats_page_reload (GTK_WIDGET (self));
}

void
sp_stats_page_reload (GtkWidget *page)
{
  SpStatsPage *self;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) stats = NULL;

  /* The figures read the whole vault: a lazy page computes them only when it
   * is on screen (not before the main window's first frame, not after every
   * sync while another page is shown). */
  if (SP_IS_STATS_PAGE (page) && SP_STATS_PAGE (page)->lazy && !gtk_widget_get_mapped (page))
    {
      SP_STATS_PAGE (page)->stale = TRUE;
      return;
    }

  g_return_if_fail (SP_IS_STATS_PAGE (page));
  self = SP_STATS_PAGE (page);
  stats = sp_vault_stats_period (self->vault, self->from[0] ? self->from : NULL,
                                 self->to[0] ? self->to : NULL, &error);
  if (stats == NULL)
    {
      g_autofree char *msg = g_strdup_printf (_ ("Could not read the figures: %s"), error->message);
      toast (self, msg);
      return;
    }
  g_clear_pointer (&self->stats, g_ptr_array_unref);
  self->stats = g_steal_pointer (&stats);
  show_figures (self);
  show_compartment_figures (self);
}

/* ---- Export --------------------------------------------------------------- */

static void
export_replaced_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
sp_stats_page_export_async (GtkWidget *page, GFile *file, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  SpStatsPage *self;
  g_autoptr (GTask) task = NULL;
  g_autoptr (GBytes) csv = NULL;

  g_return_if_fail (SP_IS_STATS_PAGE (page));
  g_return_if_fail (G_IS_FILE (file));
  self = SP_STATS_PAGE (page);
  task = g_task_new (page, cancellable, callback, user_data);
  g_task_set_source_tag (task, sp_stats_page_export_async);
  if (self->stats == NULL)
    {
      g_task_return_new_error (task, SP_CORE_ERROR, SP_CORE_ERROR_FAILED,
                               _ ("There are no figures to export"));
      return;
    }
  csv = sp_stats_to_csv (self->stats);
  /* Aggregate counts only, no personal data; still readable by the owner
   * alone, and written next to the target then renamed, never half-written. */
  g_file_replace_contents_bytes_async (file, csv, NULL, FALSE,
                                       G_FILE_CREATE_PRIVATE | G_FILE_CREATE_REPLACE_DESTINATION,
                                       cancellable, export_replaced_cb, g_steal_pointer (&task));
}

gboolean
sp_stats_page_export_finish (GtkWidget *page, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, page), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
export_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SpStatsPage *self = SP_STATS_PAGE (source);
  g_autoptr (GError) error = NULL;

  if (!sp_stats_page_export_finish (GTK_WIDGET (self), result, &error))
    {
      g_autofree char *msg
          = g_strdup_printf (_ ("Could not export the figures: %s"), error->message);
      toast (self, msg);
    }
  else
    toast (self, _ ("Figures exported"));
}

static void
chooser_response_cb (GtkNativeDialog *chooser, int response, gpointer user_data)
{
  SpStatsPage *self = SP_STATS_PAGE (user_data);

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      if (file)
        sp_stats_page_export_async (GTK_WIDGET (self), file, NULL, export_done_cb, NULL);
    }
  gtk_native_dialog_destroy (chooser);
  g_clear_object (&self->chooser);
}

static void
export_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SpStatsPage *self = SP_STATS_PAGE (user_data);
  GtkWidget *widget = GTK_WIDGET (self);
  GtkRoot *root = gtk_widget_get_root (widget);
  GtkFileChooserNative *chooser;

  if (self->chooser != NULL)
    return;
  /* The file dialog GTK falls back to (no portal) adds what it saves to the
   * account's recently-used list unless this is off; GtkRecentManager honours
   * it too. Supolka wants no such traces anywhere, so it stays off. */
  g_object_set (gtk_widget_get_settings (widget), "gtk-recent-files-enabled", FALSE, NULL);
  chooser = gtk_file_chooser_native_new (
      _ ("Export Statistics"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
      GTK_FILE_CHOOSER_ACTION_SAVE, _ ("_Export"), _ ("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  /* Translators: the suggested file name; keep it plain ASCII-safe if you can. */
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), _ ("statistics.csv"));
  /* Start in Documents (or the home folder), not wherever the program was started. */
  {
    const char *docs = g_get_user_special_dir (G_USER_DIRECTORY_DOCUMENTS);
    g_autoptr (GFile) folder = g_file_new_for_path (
        docs && g_file_test (docs, G_FILE_TEST_IS_DIR) ? docs : g_get_home_dir ());
    gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder, NULL);
  }
  self->chooser = GTK_NATIVE_DIALOG (chooser);
  g_signal_connect_object (chooser, "response", G_CALLBACK (chooser_response_cb), self, 0);
  gtk_native_dialog_show (self->chooser);
}

/* ---- GObject -------------------------------------------------------------- */

static void
sp_stats_page_dispose (GObject *object)
{
  SpStatsPage *self = SP_STATS_PAGE (object);

  if (self->chooser)
    {
      gtk_native_dialog_destroy (self->chooser);
      g_clear_object (&self->chooser);
    }
  /* AdwBin holds the template's top widget: take it out first, so that
   * dispose_template drops the last reference and AdwBin has nothing stale. */
  adw_bin_set_child (ADW_BIN (self), NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), SP_TYPE_STATS_PAGE);
  G_OBJECT_CLASS (sp_stats_page_parent_class)->dispose (object);
}

static void
sp_stats_page_finalize (GObject *object)
{
  SpStatsPage *self = SP_STATS_PAGE (object);

  g_clear_object (&self->export_action);
  g_clear_pointer (&self->stats, g_ptr_array_unref);
  g_clear_pointer (&self->groups, g_ptr_array_unref);
  g_clear_pointer (&self->totals, g_ptr_array_unref);
  G_OBJECT_CLASS (sp_stats_page_parent_class)->finalize (object);
}

static void
sp_stats_page_class_init (SpStatsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sp_stats_page_dispose;
  object_class->finalize = sp_stats_page_finalize;

  /* Referencing the resource keeps it linked in from the static library;
   * its constructor registers it. */
  (void)sp_ui_get_resource ();
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/supolka/Supolka/ui/sp-stats-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SpStatsPage, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, SpStatsPage, stack);
  gtk_widget_class_bind_template_child (widget_class, SpStatsPage, figures_page);
  gtk_widget_class_bind_template_child (widget_class, SpStatsPage, totals_group);
  gtk_widget_class_bind_template_child (widget_class, SpStatsPage, export_button);
  gtk_widget_class_bind_template_child (widget_class, SpStatsPage, period_row);
  gtk_widget_class_bind_template_callback (widget_class, period_changed);
}

static void
sp_stats_page_init (SpStatsPage *self)
{
  g_autoptr (GSimpleActionGroup) actions = g_simple_action_group_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  self->groups = g_ptr_array_new ();
  self->export_action = g_simple_action_new ("export", NULL);
  g_signal_connect_object (self->export_action, "activate", G_CALLBACK (export_activated), self, 0);
  g_action_map_add_action (G_ACTION_MAP (actions), G_ACTION (self->export_action));
  /* On the page, and on the button itself: in GTK 4.8 a button inside an
   * AdwPreferencesPage does not always reach its page's actions through the
   * action muxers of the widgets between them. */
  gtk_widget_insert_action_group (GTK_WIDGET (self), "stats", G_ACTION_GROUP (actions));
  gtk_widget_insert_action_group (self->export_button, "stats", G_ACTION_GROUP (actions));
  self->totals = g_ptr_array_new ();
}

GtkWidget *
sp_stats_page_new (SpVault *vault)
{
  SpStatsPage *self;

  g_return_val_if_fail (vault != NULL, NULL);
  self = g_object_new (SP_TYPE_STATS_PAGE, NULL);
  self->vault = vault;
  sp_stats_page_reload (GTK_WIDGET (self));
  return GTK_WIDGET (self);
}

static void
on_lazy_map (GtkWidget *widget, gpointer user_data)
{
  SpStatsPage *self = SP_STATS_PAGE (widget);

  if (self->stale)
    {
      self->stale = FALSE;
      sp_stats_page_reload (widget);
    }
}

GtkWidget *
sp_stats_page_new_lazy (SpVault *vault)
{
  SpStatsPage *self;

  g_return_val_if_fail (vault != NULL, NULL);
  self = g_object_new (SP_TYPE_STATS_PAGE, NULL);
  self->vault = vault;
  self->lazy = TRUE;
  self->stale = TRUE;
  g_signal_connect (self, "map", G_CALLBACK (on_lazy_map), NULL);
  return GTK_WIDGET (self);
}
