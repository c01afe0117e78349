/* The Conflicts page.
 *
 * One AdwPreferencesGroup per conflicting field of a record: the value shown
 * now and every concurrent value, each with who wrote it and when, and a
 * "Keep" button. Keeping a value is a new local write that supersedes every
 * version (sp_vault_resolve_conflict), so the choice reaches other devices
 * with the next sync. Widget names are stable handles for tests, never shown:
 * a group is "conflict/RECORD/FIELD", its rows "kept" and "other", their
 * buttons "keep".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>

#include "sp-conflicts-page.h"
#include "sp-format.h"
#include "sp-ui-resources.h"
#include "sp-labels.h"

struct _SpConflictsPage
{
  AdwBin parent_instance;

  SpVault *vault;       /* not owned */
  GPtrArray *conflicts; /* of SpConflict, as shown */
  GPtrArray *groups;    /* AdwPreferencesGroup added to list_page */

  GSimpleActionGroup *actions; /* "keep" (xb): conflict id, TRUE for the other value */

  AdwToastOverlay *toast_overlay;
  GtkStack *stack;
  AdwPreferencesPage *list_page;
  AdwPreferencesGroup *intro_group;
};

G_DEFINE_FINAL_TYPE (SpConflictsPage, sp_conflicts_page, ADW_TYPE_BIN)

enum
{
  SIGNAL_RESOLVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
toast (SpConflictsPage *self, const char *text)
{
  AdwToast *t = adw_toast_new (text);

  adw_toast_set_timeout (t, 5);
  adw_toast_overlay_add_toast (self->toast_overlay, t);
}

/* A value as people read it: enumeration values and regions translated,
 * nothing as "(empty)". */
static char *
display_value (const SpConflict *c, const char *value)
{
  if (value == NULL || *value == '\0')
    return g_strdup (_ ("(empty)"));
  return sp_label_format_value (c->kind, c->field, value);
}

/* "this device, 12 March 2025, 14:03" — the writer and the local time of its
 * hybrid logical clock. */
static char *
who_and_when (SpConflictsPage *self, const char *device, guint64 hlc)
{
  g_autoptr (GDateTime) dt
      = g_date_time_new_from_unix_local ((gint64)(sp_hlc_ms (hlc) / G_GUINT64_CONSTANT (1000)));
  g_autofree char *when = dt ? sp_format_date_time (dt) : NULL;
  g_autofree char *who = NULL;

  if (device && g_strcmp0 (device, sp_vault_get_device_id (self->vault)) == 0)
    who = g_strdup (_ ("this device"));
  else
    /* Translators: %s is the start of a device id, e.g. "device 1a2b3c4d". */
    who = g_strdup_printf (_ ("device %.8s"), device ? device : "?");
  if (when == NULL)
    return g_steal_pointer (&who);
  /* Translators: who wrote a value and when, e.g. "device 1a2b3c4d, 12 March 2025, 14:03". */
  return g_strdup_printf (C_ ("who and when", "%s, %s"), who, when);
}

static void
value_row (SpConflictsPage *self, AdwPreferencesGroup *group, const SpConflict *c, gboolean other)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *button = gtk_button_new_with_mnemonic (_ ("_Keep"));
  const char *value = other ? c->other_value : c->winner_value;
  g_autofree char *shown = display_value (c, value);
  g_autofree char *when = other ? who_and_when (self, c->other_device, c->other_hlc)
                                : who_and_when (self, c->winner_device, c->winner_hlc);
  g_autofree char *subtitle = g_strdup_printf (
      /* Translators: "Shown now: written on this device, 12 March 2025, 14:03". */
      other ? _ ("Also written on %s") : _ ("Shown now: written on %s"), when);
  g_autofree char *tooltip = NULL;

  gtk_widget_set_name (row, other ? "other" : "kept");
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), shown);
  adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 4);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);

  gtk_widget_set_name (button, "keep");
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  /* Both buttons look the same: the page does not suggest a choice. */
  tooltip = g_strdup_printf (_ ("Keep this value of %s and drop the others"),
                             sp_label_field (c->kind, c->field));
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "(xb)", c->id, other);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_RELATION_DESCRIBED_BY,
                                  row, NULL, -1);
  /* The action group goes on the button itself: GTK 4.8 does not always link
   * the action muxers of rows added later to those of the page above an
   * AdwPreferencesPage, so "conflicts.keep" would not be found from there. */
  gtk_widget_insert_action_group (button, "conflicts", G_ACTION_GROUP (self->actions));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "conflicts.keep");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  adw_preferences_group_add (group, row);
}

static GtkWidget *
field_group (SpConflictsPage *self, guint from, guint to)
{
  const SpConflict *first = self->conflicts->pdata[from];
  GtkWidget *group = adw_preferences_group_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (SpRecord) record = sp_vault_get (self->vault, first->record, &error);
  const char *title = record ? sp_record_get_title (record) : NULL;
  g_autofree char *name = g_strdup_printf ("conflict/%s/%s", first->record, first->field);
  g_autofree char *escaped = NULL;
  g_autofree char *description = NULL;

  gtk_widget_set_name (group, name);
  if (title == NULL || *title == '\0')
    title = _ ("Untitled");
  /* Group titles are Pango markup; record titles are data. */
  escaped = g_markup_escape_text (title, -1);
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), escaped);
  /* Translators: the kind of record and the field in conflict, e.g. "Organisation · Phone". */
  description
      = g_strdup_printf (C_ ("conflict place", "%s · %s"), sp_label_kind_singular (first->kind),
                         sp_label_field (first->kind, first->field));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), description);

  adw_preferences_page_add (self->list_page, ADW_PREFERENCES_GROUP (group));
  value_row (self, ADW_PREFERENCES_GROUP (group), first, FALSE);
  for (guint i = from; i < to; i++)
    value_row (self, ADW_PREFERENCES_GROUP (group), self->conflicts->pdata[i], TRUE);
  return group;
}

static void
show_conflicts (SpConflictsPage *self)
{
  guint n = self->conflicts->len;
  g_autofree char *intro = NULL;

  for (guint i = 0; i < self->groups->len; i++)
    adw_preferences_page_remove (self->list_page, self->groups->pdata[i]);
  g_ptr_array_set_size (self->groups, 0);

  /* core orders conflicts by record, then field: one group per run. */
  for (guint from = 0; from < n;)
    {
      const SpConflict *c = self->conflicts->pdata[from];
      guint to = from + 1;
      GtkWidget *group;

      while (to < n
             && g_str_equal (((const SpConflict *)self->conflicts->pdata[to])->record, c->record)
             && g_str_equal (((const SpConflict *)self->conflicts->pdata[to])->field, c->field))
        to++;
      group = field_group (self, from, to);
      g_ptr_array_add (self->groups, group);
      from = to;
    }

  intro
      = g_strdup_printf (ngettext ("%u field was changed on two devices at once. Keep one value "
                                   "for it: the others are dropped on every device after the "
                                   "next sync.",
                                   "%u fields were changed on two devices at once. Keep one value "
                                   "for each: the others are dropped on every device after the "
                                   "next sync.",
                                   self->groups->len),
                         self->groups->len);
  adw_preferences_group_set_description (self->intro_group, intro);
  gtk_stack_set_visible_child_name (self->stack, n > 0 ? "list" : "empty");
}

void
sp_conflicts_page_reload (GtkWidget *page)
{
  SpConflictsPage *self;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) conflicts = NULL;

  g_return_if_fail (SP_IS_CONFLICTS_PAGE (page));
  self = SP_CONFLICTS_PAGE (page);
  conflicts = sp_vault_conflicts (self->vault, NULL, &error);
  if (conflicts == NULL)
    {
      g_autofree char *msg
          = g_strdup_printf (_ ("Could not read the conflicts: %s"), error->message);
      toast (self, msg);
      return;
    }
  g_clear_pointer (&self->conflicts, g_ptr_array_unref);
  self->conflicts = g_steal_pointer (&conflicts);
  show_conflicts (self);
}

guint
sp_conflicts_page_get_n_conflicts (GtkWidget *page)
{
  g_return_val_if_fail (SP_IS_CONFLICTS_PAGE (page), 0);
  return SP_CONFLICTS_PAGE (page)->conflicts ? SP_CONFLICTS_PAGE (page)->conflicts->len : 0;
}

static void
keep_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  SpConflictsPage *self = SP_CONFLICTS_PAGE (user_data);
  GtkWidget *widget = GTK_WIDGET (self);
  g_autoptr (GError) error = NULL;
  const SpConflict *c = NULL;
  gint64 id = 0;
  gboolean other = FALSE;

  g_variant_get (parameter, "(xb)", &id, &other);
  for (guint i = 0; self->conflicts && i < self->conflicts->len; i++)
    if (((const SpConflict *)self->conflicts->pdata[i])->id == id)
      c = self->conflicts->pdata[i];
  if (c == NULL)
    return; /* already gone: a reload raced the click */

  if (!sp_vault_resolve_conflict (self->vault, c->record, c->field,
                                  other ? c->other_value : c->winner_value, &error))
    {
      g_autofree char *msg = g_strdup_printf (_ ("Could not keep this value: %s"), error->message);
      toast (self, msg);
      return;
    }
  toast (self, _ ("Value kept"));
  sp_conflicts_page_reload (widget);
  g_signal_emit (self, signals[SIGNAL_RESOLVED], 0);
}

static void
sp_conflicts_page_dispose (GObject *object)
{
  SpConflictsPage *self = SP_CONFLICTS_PAGE (object);

  if (self->actions)
    g_action_map_remove_action (G_ACTION_MAP (self->actions), "keep");
  g_clear_object (&self->actions);
  /* AdwBin holds the template's top widget: take it out first, so that
   * dispose_template drops the last reference and AdwBin has nothing stale. */
  adw_bin_set_child (ADW_BIN (object), NULL);
  gtk_widget_dispose_template (GTK_WIDGET (object), SP_TYPE_CONFLICTS_PAGE);
  G_OBJECT_CLASS (sp_conflicts_page_parent_class)->dispose (object);
}

static void
sp_conflicts_page_finalize (GObject *object)
{
  SpConflictsPage *self = SP_CONFLICTS_PAGE (object);

  g_clear_pointer (&self->conflicts, g_ptr_array_unref);
  g_clear_pointer (&self->groups, g_ptr_array_unref);
  G_OBJECT_CLASS (sp_conflicts_page_parent_class)->finalize (object);
}

static void
sp_conflicts_page_class_init (SpConflictsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sp_conflicts_page_dispose;
  object_class->finalize = sp_conflicts_page_finalize;

  signals[SIGNAL_RESOLVED] = g_signal_new ("resolved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  /* Referencing the resource keeps it linked in from the static library;
   * its constructor registers it. */
  (void)sp_ui_get_resource ();
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/supolka/Supolka/ui/sp-conflicts-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SpConflictsPage, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, SpConflictsPage, stack);
  gtk_widget_class_bind_template_child (widget_class, SpConflictsPage, list_page);
  gtk_widget_class_bind_template_child (widget_class, SpConflictsPage, intro_group);
}

static void
sp_conflicts_page_init (SpConflictsPage *self)
{
  g_autoptr (GSimpleAction) keep = g_simple_action_new ("keep", G_VARIANT_TYPE ("(xb)"));

  gtk_widget_init_template (GTK_WIDGET (self));
  self->groups = g_ptr_array_new ();
  self->actions = g_simple_action_group_new ();
  g_signal_connect_object (keep, "activate", G_CALLBACK (keep_activated), self, 0);
  g_action_map_add_action (G_ACTION_MAP (self->actions), G_ACTION (keep));
}

GtkWidget *
sp_conflicts_page_new (SpVault *vault)
{
  SpConflictsPage *self;

  g_return_val_if_fail (vault != NULL, NULL);
  self = g_object_new (SP_TYPE_CONFLICTS_PAGE, NULL);
  self->vault = vault;
  sp_conflicts_page_reload (GTK_WIDGET (self));
  return GTK_WIDGET (self);
}
