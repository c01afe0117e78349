/* sp-record-detail.c — one record and its links.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>

#include "sp-clipboard.h"
#include "sp-labels.h"
#include "sp-format.h"
#include "sp-compartments.h"
#include "sp-record-detail.h"
#include "sp-record-editor.h"
#include "sp-record-model.h"

struct _SpRecordDetail
{
  GtkWidget parent_instance;
  SpVault *vault; /* borrowed */
  SpRecord *record;
  GtkWidget *page;         /* AdwPreferencesPage, rebuilt on reload */
  GHashTable *link_counts; /* group name -> count */
};

enum
{
  SIGNAL_OPEN_RECORD,
  SIGNAL_TOAST,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (SpRecordDetail, sp_record_detail, GTK_TYPE_WIDGET)

/* A linked group: which kind links here, through which field, and which
 * field of the link names the record to show. */
typedef struct
{
  const char *name;        /* "affiliations" */
  const char *title;       /* group title, N_() */
  const char *link_kind;   /* "affiliation" */
  const char *via;         /* the link's field that points at us: "person" */
  const char *const *show; /* the link's fields naming the other side */
  const char *add_label;   /* N_() or NULL: no add button */
} LinkGroup;

static const char *const show_org[] = { "org", NULL };
static const char *const show_person[] = { "person", NULL };
static const char *const show_pe[] = { "project", "event", NULL };
static const char *const show_po[] = { "person", "org", NULL };
static const char *const show_self[] = { NULL };

static const LinkGroup person_links[] = {
  { "affiliations", N_ ("Organisations"), "affiliation", "person", show_org,
    N_ ("Add to an organisation") },
  { "participations", N_ ("Projects and events"), "participation", "person", show_pe,
    N_ ("Add a participation") },
  { NULL },
};
static const LinkGroup org_links[] = {
  { "affiliations", N_ ("People"), "affiliation", "org", show_person, N_ ("Add a person") },
  { "participations", N_ ("Projects and events"), "participation", "org", show_pe,
    N_ ("Add a participation") },
  { "projects", N_ ("Projects led"), "project", "lead_org", show_self, NULL },
  { NULL },
};
static const LinkGroup project_links[] = {
  { "events", N_ ("Events"), "event", "project", show_self, NULL },
  { "participations", N_ ("Participants"), "participation", "project", show_po,
    N_ ("Add a participant") },
  { NULL },
};
static const LinkGroup event_links[] = {
  { "participations", N_ ("Participants"), "participation", "event", show_po,
    N_ ("Add a participant") },
  { NULL },
};
static const LinkGroup note_links[] = {
  { "notes", N_ ("Notes"), "note", "target", show_self, N_ ("Add a note") },
  { NULL },
};

static const LinkGroup *
links_for (const char *kind)
{
  if (g_str_equal (kind, "person"))
    return person_links;
  if (g_str_equal (kind, "org"))
    return org_links;
  if (g_str_equal (kind, "project"))
    return project_links;
  if (g_str_equal (kind, "event"))
    return event_links;
  return NULL;
}

static GtkWindow *
parent_window (SpRecordDetail *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  return GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL;
}

static char *
ref_title (SpRecordDetail *self, const char *id)
{
  g_autoptr (SpRecord) rec = id ? sp_vault_get (self->vault, id, NULL) : NULL;
  const char *t = rec ? sp_record_get_title (rec) : NULL;

  if (rec && sp_record_is_deleted (rec))
    return g_strdup_printf (_ ("%s (deleted)"), t && *t ? t : _ ("(untitled)"));
  /* Not here: in a compartment this device does not hold (or left behind by
   * travel mode). Neither its id nor its title is shown. */
  return g_strdup (rec ? (t && *t ? t : _ ("(untitled)")) : _ ("Restricted record"));
}

static gboolean
is_held (SpRecordDetail *self, const char *id)
{
  g_autoptr (SpRecord) rec = id ? sp_vault_get (self->vault, id, NULL) : NULL;

  return rec != NULL;
}

static GtkWidget *
plain_row (const char *title, const char *subtitle)
{
  GtkWidget *row = adw_action_row_new ();

  /* Record data is never markup. */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title ? title : "");
  if (subtitle && *subtitle)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  return row;
}

static void
open_clicked (GtkWidget *row, SpRecordDetail *self)
{
  const char *id = g_object_get_data (G_OBJECT (row), "sp-open");

  if (id)
    g_signal_emit (self, signals[SIGNAL_OPEN_RECORD], 0, id);
}

static void
make_openable (SpRecordDetail *self, GtkWidget *row, const char *id)
{
  GtkWidget *icon = gtk_image_new_from_icon_name ("go-next-symbolic");

  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Open"),
                                  -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), icon);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), "sp-open", g_strdup (id), g_free);
  g_signal_connect_object (row, "activated", G_CALLBACK (open_clicked), self, 0);
}

/* ---- Link editing -------------------------------------------------------- */

typedef struct
{
  SpRecordDetail *self; /* weak */
  gboolean added;
} EditData;

static void
edit_data_free (gpointer p)
{
  EditData *d = p;

  g_clear_weak_pointer (&d->self);
  g_free (d);
}

static void
link_edited (const char *id, gpointer user_data)
{
  EditData *d = user_data;

  if (id == NULL || d->self == NULL)
    return;
  sp_record_detail_reload (d->self);
  g_signal_emit (d->self, signals[SIGNAL_TOAST], 0, d->added ? _ ("Added") : _ ("Saved"), NULL);
}

static void
open_link_editor (SpRecordDetail *self, const char *kind, SpRecord *link)
{
  EditData *d = g_new0 (EditData, 1);
  const LinkGroup *groups = links_for (sp_record_get_kind (self->record));
  const char *via = "target";
  const char *fixed[5] = { NULL };
  g_autofree char *today = NULL;
  GtkWindow *dialog;

  for (guint i = 0; groups && groups[i].name; i++)
    if (g_str_equal (groups[i].link_kind, kind))
      via = groups[i].via;
  fixed[0] = via;
  fixed[1] = sp_record_get_id (self->record);
  g_set_weak_pointer (&d->self, self);
  d->added = link == NULL;
  dialog = sp_record_editor_dialog_show (parent_window (self), self->vault, kind, link, fixed,
                                         link_edited, d, edit_data_free);
  (void)dialog;
  if (link == NULL && g_str_equal (kind, "note"))
    {
      g_autoptr (GDateTime) now = g_date_time_new_now_local ();
      GtkWidget *content = adw_window_get_content (ADW_WINDOW (dialog));
      GtkWidget *editor = gtk_widget_get_last_child (content);
      today = g_date_time_format (now, "%Y-%m-%d");
      sp_record_editor_set_value (SP_RECORD_EDITOR (editor), "date", today);
    }
}

static void
add_clicked (GtkWidget *button, SpRecordDetail *self)
{
  open_link_editor (self, g_object_get_data (G_OBJECT (button), "sp-kind"), NULL);
}

static void
edit_link_clicked (GtkWidget *button, SpRecordDetail *self)
{
  SpRecord *link = g_object_get_data (G_OBJECT (button), "sp-link");

  open_link_editor (self, sp_record_get_kind (link), link);
}

static void
remove_link_clicked (GtkWidget *button, SpRecordDetail *self)
{
  SpRecord *link = g_object_get_data (G_OBJECT (button), "sp-link");
  g_autofree char *id = g_strdup (sp_record_get_id (link));
  g_autoptr (GError) error = NULL;

  if (!sp_vault_delete (self->vault, id, &error))
    {
      g_signal_emit (self, signals[SIGNAL_TOAST], 0, _ ("This could not be removed"), NULL);
      return;
    }
  g_signal_emit (self, signals[SIGNAL_TOAST], 0, _ ("Removed"), id);
  sp_record_detail_reload (self);
}

static GtkWidget *
icon_button (const char *icon, const char *label)
{
  GtkWidget *b = gtk_button_new_from_icon_name (icon);

  gtk_widget_set_valign (b, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (b, "flat");
  gtk_widget_set_tooltip_text (b, label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  return b;
}

static void
add_link_group (SpRecordDetail *self, AdwPreferencesPage *page, const LinkGroup *g)
{
  g_autoptr (GPtrArray) links = NULL;
  GtkWidget *group = adw_preferences_group_new ();
  guint shown = 0;

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ (g->title));
  links = sp_vault_list_referencing (self->vault, sp_record_get_id (self->record), g->link_kind,
                                     NULL);
  for (guint i = 0; links && i < links->len; i++)
    {
      SpRecord *link = g_ptr_array_index (links, i);
      g_autofree char *title = NULL;
      g_autofree char *subtitle = NULL;
      const char *other = NULL;
      GtkWidget *row;

      if (g_strcmp0 (sp_record_get (link, g->via), sp_record_get_id (self->record)) != 0)
        continue;
      for (guint k = 0; g->show[k] && other == NULL; k++)
        other = sp_record_get (link, g->show[k]);
      if (g_str_equal (g->link_kind, "note"))
        {
          const char *date = sp_record_get (link, "date");
          title = date ? sp_format_date (date) : g_strdup (_ ("Undated"));
          subtitle = g_strdup (sp_record_get (link, "text"));
        }
      else if (g->show[0] == NULL)
        {
          title = g_strdup (sp_record_get_title (link));
          subtitle = sp_record_describe (link);
          other = sp_record_get_id (link);
        }
      else
        {
          title = ref_title (self, other);
          subtitle = sp_record_describe (link);
        }
      row = plain_row (title, subtitle);
      if (g_str_equal (g->link_kind, "note"))
        adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
      if (g->add_label)
        {
          GtkWidget *edit = icon_button ("document-edit-symbolic", _ ("Edit"));
          GtkWidget *remove = icon_button ("user-trash-symbolic", _ ("Remove"));
          g_object_set_data_full (G_OBJECT (edit), "sp-link", sp_record_ref (link),
                                  (GDestroyNotify)sp_record_unref);
          g_object_set_data_full (G_OBJECT (remove), "sp-link", sp_record_ref (link),
                                  (GDestroyNotify)sp_record_unref);
          g_signal_connect_object (edit, "clicked", G_CALLBACK (edit_link_clicked), self, 0);
          g_signal_connect_object (remove, "clicked", G_CALLBACK (remove_link_clicked), self, 0);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), edit);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
        }
      if (other && !g_str_equal (g->link_kind, "note") && is_held (self, other))
        make_openable (self, row, other);
      else if (other && !g_str_equal (g->link_kind, "note"))
        gtk_widget_set_name (row, "restricted");
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
      shown++;
    }
  if (shown == 0)
    {
      GtkWidget *row = plain_row (_ ("None yet"), NULL);
      gtk_widget_add_css_class (row, "dim-label");
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
    }
  /* "Add …" as the group's last row, not beside its title: there it took the
   * room of long titles ("Праекты і мерапрыемствы") in a narrow window. */
  if (g->add_label)
    {
      GtkWidget *add = adw_action_row_new ();
      GtkWidget *icon = gtk_image_new_from_icon_name ("list-add-symbolic");

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (add), _ (g->add_label));
      adw_action_row_add_prefix (ADW_ACTION_ROW (add), icon);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (add), TRUE);
      g_object_set_data (G_OBJECT (add), "sp-kind", (gpointer)g->link_kind);
      g_signal_connect_object (add, "activated", G_CALLBACK (add_clicked), self, 0);
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), add);
    }
  g_hash_table_insert (self->link_counts, g_strdup (g->name), GUINT_TO_POINTER (shown));
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (group));
}

/* ---- Fields ---------------------------------------------------------------- */

static void
reveal_toggled (GtkToggleButton *button, GtkWidget *row)
{
  const char *real = g_object_get_data (G_OBJECT (row), "sp-real");
  gboolean on = gtk_toggle_button_get_active (button);

  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), on ? real : "••••••••");
  gtk_button_set_label (GTK_BUTTON (button), on ? _ ("Hide") : _ ("Show"));
}

/* A copy button for a contact row: "detail.copy" with the field's name. */
static void
add_copy_button (GtkWidget *action_row, const char *field)
{
  GtkWidget *button = gtk_button_new_from_icon_name ("edit-copy-symbolic");

  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, _ ("Copy (cleared from the clipboard after 30 seconds)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Copy"), -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "detail.copy");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", field);
  adw_action_row_add_suffix (ADW_ACTION_ROW (action_row), button);
}

/* "detail.copy" (parameter: field name): the secret clipboard, contact data
 * only — the rest is not worth a hidden clipboard. */
static void
action_copy (GtkWidget *widget, const char *action_name, GVariant *param)
{
  SpRecordDetail *self = SP_RECORD_DETAIL (widget);
  const char *field = g_variant_get_string (param, NULL);
  const SpKindInfo *kind = self->record ? sp_kind_lookup (sp_record_get_kind (self->record)) : NULL;
  const SpFieldInfo *info = kind ? sp_kind_field (kind, field) : NULL;
  const char *value = self->record ? sp_record_get (self->record, field) : NULL;
  guint seconds = (sp_clipboard_get_delay () + 999) / 1000;
  g_autofree char *message = NULL;

  if (info == NULL || !info->sensitive || value == NULL)
    return;
  sp_clipboard_copy_secret (widget, value);
  message = g_strdup_printf (ngettext ("Copied. The clipboard is cleared in %u second.",
                                       "Copied. The clipboard is cleared in %u seconds.", seconds),
                             seconds);
  g_signal_emit (self, signals[SIGNAL_TOAST], 0, message, NULL);
}

/* ---- The compartment and "Move to…" --------------------------------------- */

static void
move_response (AdwMessageDialog *dialog, const char *response, SpRecordDetail *self)
{
  g_autoptr (GError) error = NULL;
  GtkWidget *dd = sp_compartment_move_dialog_get_dropdown (GTK_WIDGET (dialog));
  gint64 comp = sp_compartment_dropdown_get (dd);

  if (!g_str_equal (response, "move") || comp == sp_record_get_compartment (self->record))
    return;
  if (!sp_vault_move (self->vault, sp_record_get_id (self->record), comp, &error))
    {
      g_signal_emit (self, signals[SIGNAL_TOAST], 0, error->message, NULL);
      return;
    }
  sp_record_detail_reload (self);
  g_signal_emit (self, signals[SIGNAL_TOAST], 0, _ ("Moved"), NULL);
}

static void
action_move (GtkWidget *widget, const char *action_name, GVariant *param)
{
  SpRecordDetail *self = SP_RECORD_DETAIL (widget);
  GtkWidget *dialog = sp_compartment_move_dialog_new (parent_window (self), self->vault,
                                                      sp_record_get_compartment (self->record));

  g_signal_connect_object (dialog, "response", G_CALLBACK (move_response), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* The record's compartment, with "Move to…", when this device holds more
 * than main. */
static void
add_compartment_row (SpRecordDetail *self, GtkWidget *group)
{
  g_autoptr (GPtrArray) held = sp_vault_compartments (self->vault, NULL);
  g_autofree char *name = NULL;
  GtkWidget *row, *move;

  if (held == NULL || held->len < 2 || sp_record_is_deleted (self->record))
    return;
  name = sp_compartment_label_of (self->vault, sp_record_get_compartment (self->record));
  row = plain_row (_ ("Compartment"), name);
  gtk_widget_set_name (row, "compartment");
  move = gtk_button_new_with_mnemonic (_ ("_Move to…"));
  gtk_widget_set_valign (move, GTK_ALIGN_CENTER);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (move), "detail.move");
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), move);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
}

static void
add_fields (SpRecordDetail *self, AdwPreferencesPage *page)
{
  const char *kind = sp_record_get_kind (self->record);
  const SpKindInfo *info = sp_kind_lookup (kind);
  GtkWidget *group = adw_preferences_group_new ();
  gboolean high = g_strcmp0 (sp_record_get (self->record, "sensitivity"), "high") == 0;
  GtkWidget *heading;
  const char *title = sp_record_get_title (self->record);
  g_autofree char *created = NULL;

  heading = gtk_label_new (title && *title ? title : _ ("(untitled)"));
  gtk_label_set_wrap (GTK_LABEL (heading), TRUE);
  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_label_set_selectable (GTK_LABEL (heading), TRUE);
  gtk_widget_add_css_class (heading, "title-1");
  gtk_accessible_update_property (GTK_ACCESSIBLE (heading), GTK_ACCESSIBLE_PROPERTY_LEVEL, 1, -1);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), heading);
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (group));

  if (sp_record_is_deleted (self->record) || sp_record_has_conflicts (self->record))
    {
      GtkWidget *note = gtk_label_new (sp_record_is_deleted (self->record)
                                           ? _ ("This record has been deleted.")
                                           : _ ("Another device changed this record at the same "
                                                "time. Check the Conflicts page."));
      gtk_label_set_wrap (GTK_LABEL (note), TRUE);
      gtk_label_set_xalign (GTK_LABEL (note), 0);
      gtk_widget_add_css_class (note, "warning");
      group = adw_preferences_group_new ();
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), note);
      adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (group));
    }

  group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _ ("Details"));
  for (guint i = 0; info && i < info->n_fields; i++)
    {
      const SpFieldInfo *f = &info->fields[i];
      const char *value = sp_record_get (self->record, f->name);
      g_autofree char *shown = NULL;
      GtkWidget *row;

      if (value == NULL)
        continue;
      /* The title is the heading already (the pseudonym for high sensitivity,
       * whose real name gets its own hidden row below). */
      if (g_strcmp0 (f->name, info->title_field) == 0
          && !(high && g_str_equal (f->name, "full_name")))
        continue;
      if (high && g_str_equal (f->name, "display_name"))
        continue;
      if (f->type == SP_FIELD_REF)
        {
          g_autofree char *t = ref_title (self, value);
          row = plain_row (sp_label_field (kind, f->name), t);
          if (is_held (self, value))
            make_openable (self, row, value);
          else
            gtk_widget_set_name (row, "restricted");
          adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
          continue;
        }
      shown = sp_label_format_value (kind, f->name, value);
      row = plain_row (sp_label_field (kind, f->name), NULL);
      if (high && g_str_equal (f->name, "full_name"))
        {
          /* High sensitivity: the real name stays hidden until asked for. */
          GtkWidget *reveal = gtk_toggle_button_new_with_label (_ ("Show"));
          gtk_widget_set_valign (reveal, GTK_ALIGN_CENTER);
          gtk_accessible_update_property (GTK_ACCESSIBLE (reveal), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                          _ ("Show the real name"), -1);
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _ ("Real name"));
          g_object_set_data_full (G_OBJECT (row), "sp-real", g_strdup (shown), g_free);
          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), "••••••••");
          g_signal_connect (reveal, "toggled", G_CALLBACK (reveal_toggled), row);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), reveal);
        }
      else
        {
          adw_action_row_set_subtitle (ADW_ACTION_ROW (row), shown);
          /* Contact data: copied as a secret, cleared after 30 s. */
          if (f->sensitive)
            add_copy_button (row, f->name);
          if (f->type == SP_FIELD_LONG_TEXT)
            adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 0);
        }
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
    }
  {
    g_autoptr (GDateTime) utc
        = g_date_time_new_from_iso8601 (sp_record_get_created (self->record), NULL);
    g_autoptr (GDateTime) local = utc ? g_date_time_to_local (utc) : NULL;
    g_autofree char *when = local ? sp_format_date_time (local) : NULL;
    created
        = g_strdup_printf (_ ("Created %s"), when ? when : sp_record_get_created (self->record));
  }
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), created);
  add_compartment_row (self, group);
  adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (group));
}

void
sp_record_detail_reload (SpRecordDetail *self)
{
  g_autoptr (SpRecord) fresh = NULL;
  const LinkGroup *groups;
  GtkWidget *page;

  g_return_if_fail (SP_IS_RECORD_DETAIL (self));
  fresh = sp_vault_get (self->vault, sp_record_get_id (self->record), NULL);
  if (fresh)
    {
      sp_record_unref (self->record);
      self->record = g_steal_pointer (&fresh);
    }
  g_hash_table_remove_all (self->link_counts);
  g_clear_pointer (&self->page, gtk_widget_unparent);
  page = adw_preferences_page_new ();
  self->page = page;
  gtk_widget_set_parent (page, GTK_WIDGET (self));
  add_fields (self, ADW_PREFERENCES_PAGE (page));
  if (sp_record_is_deleted (self->record))
    return;
  groups = links_for (sp_record_get_kind (self->record));
  for (guint i = 0; groups && groups[i].name; i++)
    add_link_group (self, ADW_PREFERENCES_PAGE (page), &groups[i]);
  add_link_group (self, ADW_PREFERENCES_PAGE (page), &note_links[0]);
}

int
sp_record_detail_count_links (SpRecordDetail *self, const char *group)
{
  gpointer v;

  g_return_val_if_fail (SP_IS_RECORD_DETAIL (self), -1);
  if (!g_hash_table_lookup_extended (self->link_counts, group, NULL, &v))
    return -1;
  return GPOINTER_TO_INT (v);
}

SpRecord *
sp_record_detail_get_record (SpRecordDetail *self)
{
  g_return_val_if_fail (SP_IS_RECORD_DETAIL (self), NULL);
  return self->record;
}

static void
sp_record_detail_dispose (GObject *object)
{
  SpRecordDetail *self = SP_RECORD_DETAIL (object);

  g_clear_pointer (&self->page, gtk_widget_unparent);
  G_OBJECT_CLASS (sp_record_detail_parent_class)->dispose (object);
}

static void
sp_record_detail_finalize (GObject *object)
{
  SpRecordDetail *self = SP_RECORD_DETAIL (object);

  g_clear_pointer (&self->record, sp_record_unref);
  g_hash_table_unref (self->link_counts);
  G_OBJECT_CLASS (sp_record_detail_parent_class)->finalize (object);
}

static void
sp_record_detail_class_init (SpRecordDetailClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sp_record_detail_dispose;
  object_class->finalize = sp_record_detail_finalize;
  signals[SIGNAL_OPEN_RECORD]
      = g_signal_new ("open-record", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_TOAST]
      = g_signal_new ("toast", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                      G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_install_action (widget_class, "detail.copy", "s", action_copy);
  gtk_widget_class_install_action (widget_class, "detail.move", NULL, action_move);
}

static void
sp_record_detail_init (SpRecordDetail *self)
{
  self->link_counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

GtkWidget *
sp_record_detail_new (SpVault *vault, SpRecord *record)
{
  SpRecordDetail *self = g_object_new (SP_TYPE_RECORD_DETAIL, NULL);

  self->vault = vault;
  self->record = sp_record_ref (record);
  sp_record_detail_reload (self);
  return GTK_WIDGET (self);
}
