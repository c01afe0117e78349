/* sp-browser.c — list and detail of one kind of record.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>

#include "sp-browser.h"
#include "sp-labels.h"

struct _SpBrowser
{
  GtkWidget parent_instance;

  SpVault *vault; /* borrowed */
  char *kind;
  SpRecordModel *model;
  GtkSingleSelection *selection;
  char *shown_id;
  gboolean pointer_pressed;
  gboolean filling_filters;

  /* the values behind the filter dropdowns (index 0 = any) */
  GPtrArray *region_values;
  GPtrArray *status_values;
  GPtrArray *kind_values;

  AdwLeaflet *leaflet;
  GtkWidget *list_pane;
  GtkWidget *sidebar_button;
  AdwWindowTitle *list_title;
  GtkWidget *filter_button;
  GtkWidget *search_button;
  GtkWidget *search_bar;
  GtkWidget *search_entry;
  GtkWidget *region_label, *region_filter;
  GtkWidget *status_label, *status_filter;
  GtkWidget *kind_label, *kind_filter;
  GtkWidget *tag_label, *tag_filter;
  GtkWidget *sort_dropdown;
  GtkStack *list_stack;
  GtkWidget *list_view;
  AdwStatusPage *empty_status;
  GtkWidget *empty_button;
  GtkWidget *detail_pane;
  AdwWindowTitle *detail_title;
  GtkWidget *back_button, *cancel_button, *save_button, *delete_button, *edit_button;
  GtkStack *detail_stack;
  AdwBin *view_bin;
  AdwBin *edit_bin;
};

G_DEFINE_FINAL_TYPE (SpBrowser, sp_browser, GTK_TYPE_WIDGET)

static void show_detail (SpBrowser *self, const char *id);

static void
add_toast (SpBrowser *self, const char *message, const char *undo_id)
{
  /* The window shows it (toast titles are markup: fixed texts only). */
  gtk_widget_activate_action (GTK_WIDGET (self), "win.show-message", "(ss)", message,
                              undo_id ? undo_id : "");
}

static const char *
dropdown_value (GtkWidget *dd, GPtrArray *values)
{
  guint pos = gtk_drop_down_get_selected (GTK_DROP_DOWN (dd));

  if (values == NULL || pos == GTK_INVALID_LIST_POSITION || pos == 0 || pos >= values->len)
    return NULL;
  return g_ptr_array_index (values, pos);
}

static gboolean
filters_active (SpBrowser *self)
{
  return dropdown_value (self->region_filter, self->region_values)
         || dropdown_value (self->status_filter, self->status_values)
         || dropdown_value (self->kind_filter, self->kind_values)
         || *gtk_editable_get_text (GTK_EDITABLE (self->tag_filter))
         || *gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
}

static void
update_list_state (SpBrowser *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->model));

  if (n > 0)
    gtk_stack_set_visible_child_name (self->list_stack, "list");
  else if (filters_active (self))
    gtk_stack_set_visible_child_name (self->list_stack, "no-results");
  else
    gtk_stack_set_visible_child_name (self->list_stack, "empty");
}

static void
select_id (SpBrowser *self, const char *id)
{
  guint pos = sp_record_model_find (self->model, id);

  gtk_single_selection_set_selected (self->selection, pos);
  if (pos != G_MAXUINT)
    gtk_widget_activate_action (self->list_view, "list.scroll-to-item", "u", pos);
}

static void
reload (SpBrowser *self)
{
  SpFilter f = { 0 };
  const char *search = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  const char *tag = gtk_editable_get_text (GTK_EDITABLE (self->tag_filter));
  g_autofree char *keep = g_strdup (self->shown_id);
  g_autoptr (GError) error = NULL;
  guint sort;

  if (self->kind == NULL || self->vault == NULL)
    return;
  f.region = dropdown_value (self->region_filter, self->region_values);
  f.status = dropdown_value (self->status_filter, self->status_values);
  f.kind = dropdown_value (self->kind_filter, self->kind_values);
  f.tag = *tag ? tag : NULL;
  f.search = *search ? search : NULL;
  sort = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->sort_dropdown));
  sp_record_model_set_filter (self->model, &f);
  sp_record_model_set_sort (self->model, sort == 1 ? SP_SORT_UPDATED : SP_SORT_TITLE);
  self->filling_filters = TRUE; /* the selection follows, but the detail stays */
  if (!sp_record_model_reload (self->model, &error))
    add_toast (self, _ ("The list could not be read"), NULL);
  if (keep)
    select_id (self, keep);
  self->filling_filters = FALSE;
  update_list_state (self);
}

void
sp_browser_reload (SpBrowser *self)
{
  g_return_if_fail (SP_IS_BROWSER (self));
  reload (self);
  if (self->shown_id
      && g_strcmp0 (gtk_stack_get_visible_child_name (self->detail_stack), "view") == 0)
    show_detail (self, self->shown_id);
}

static void
set_header_mode (SpBrowser *self, const char *mode)
{
  gboolean view = g_str_equal (mode, "view");
  gboolean edit = g_str_equal (mode, "edit");

  gtk_widget_set_visible (self->edit_button, view);
  gtk_widget_set_visible (self->delete_button, view);
  gtk_widget_set_visible (self->save_button, edit);
  gtk_widget_set_visible (self->cancel_button, edit);
  /* Cancel is the way back while editing. */
  gtk_widget_set_visible (self->back_button, !edit && adw_leaflet_get_folded (self->leaflet));
  /* Cancel and Save say what this is, and fill a phone-wide bar: no title
   * while editing. (Not tied to the leaflet's folding: a title that came and
   * went with it changed the width the leaflet folds at, and so folded and
   * unfolded it on every frame.) */
  gtk_widget_set_visible (GTK_WIDGET (self->detail_title), !edit);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "browser.edit", view);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "browser.delete", view);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "browser.save", edit);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "browser.cancel", edit);
  gtk_stack_set_visible_child_name (self->detail_stack, mode);
}

static void
show_none (SpBrowser *self)
{
  g_clear_pointer (&self->shown_id, g_free);
  adw_bin_set_child (self->view_bin, NULL);
  adw_bin_set_child (self->edit_bin, NULL);
  adw_window_title_set_title (self->detail_title, "");
  set_header_mode (self, "none");
}

static void
detail_open_record (SpBrowser *self, const char *id)
{
  sp_browser_show_record (self, id);
}

static void
detail_toast (SpBrowser *self, const char *message, const char *undo_id)
{
  add_toast (self, message, undo_id);
}

static void
show_detail (SpBrowser *self, const char *id)
{
  g_autoptr (SpRecord) rec = sp_vault_get (self->vault, id, NULL);
  GtkWidget *detail;

  if (rec == NULL)
    {
      show_none (self);
      return;
    }
  if (self->shown_id != id)
    {
      g_free (self->shown_id);
      self->shown_id = g_strdup (id);
    }
  detail = sp_record_detail_new (self->vault, rec);
  g_signal_connect_object (detail, "open-record", G_CALLBACK (detail_open_record), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (detail, "toast", G_CALLBACK (detail_toast), self, G_CONNECT_SWAPPED);
  adw_bin_set_child (self->view_bin, detail);
  adw_bin_set_child (self->edit_bin, NULL);
  adw_window_title_set_title (self->detail_title,
                              sp_label_kind_singular (sp_record_get_kind (rec)));
  set_header_mode (self, "view");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "browser.edit", !sp_record_is_deleted (rec));
}

static void
selection_changed (SpBrowser *self)
{
  SpRecordItem *item = gtk_single_selection_get_selected_item (self->selection);

  if (self->filling_filters || item == NULL)
    return;
  if (g_strcmp0 (sp_record_item_get_id (item), self->shown_id) == 0
      && g_strcmp0 (gtk_stack_get_visible_child_name (self->detail_stack), "edit") == 0)
    return;
  show_detail (self, sp_record_item_get_id (item));
  if (self->pointer_pressed && adw_leaflet_get_folded (self->leaflet))
    adw_leaflet_set_visible_child_name (self->leaflet, "detail");
  self->pointer_pressed = FALSE;
}

static void
list_activated (SpBrowser *self, guint position)
{
  g_autoptr (SpRecordItem) item = g_list_model_get_item (G_LIST_MODEL (self->model), position);

  if (item == NULL)
    return;
  if (g_strcmp0 (sp_record_item_get_id (item), self->shown_id) != 0)
    show_detail (self, sp_record_item_get_id (item));
  adw_leaflet_set_visible_child_name (self->leaflet, "detail");
}

static void
list_pressed (SpBrowser *self)
{
  /* A click (not arrow keys) on a narrow window goes on to the detail. */
  self->pointer_pressed = TRUE;
}

/* ---- Filters ---------------------------------------------------------------- */

static void
fill_dropdown (GtkWidget *dd, GPtrArray **values_out, const char *any_label, const char *field,
               const char *const *values)
{
  g_autoptr (GtkStringList) list = gtk_string_list_new (NULL);
  GPtrArray *vals = g_ptr_array_new_with_free_func (g_free);

  gtk_string_list_append (list, any_label);
  g_ptr_array_add (vals, NULL);
  for (guint i = 0; values && values[i]; i++)
    {
      gtk_string_list_append (list, sp_label_value (field, values[i]));
      g_ptr_array_add (vals, g_strdup (values[i]));
    }
  g_clear_pointer (values_out, g_ptr_array_unref);
  *values_out = vals;
  gtk_drop_down_set_model (GTK_DROP_DOWN (dd), G_LIST_MODEL (list));
  gtk_drop_down_set_selected (GTK_DROP_DOWN (dd), 0);
}

static void
setup_filters (SpBrowser *self)
{
  const SpKindInfo *info = sp_kind_lookup (self->kind);
  const SpFieldInfo *status = sp_kind_field (info, "status");
  const SpFieldInfo *kindf = sp_kind_field (info, "kind");
  gboolean has_region = sp_kind_field (info, "region") || sp_kind_field (info, "regions");
  gboolean has_tag = sp_kind_field (info, "themes") || sp_kind_field (info, "tags");

  self->filling_filters = TRUE;
  fill_dropdown (self->region_filter, &self->region_values, _ ("Any region"), "region",
                 sp_regions ());
  fill_dropdown (self->status_filter, &self->status_values, _ ("Any status"), "status",
                 status ? status->values : NULL);
  fill_dropdown (self->kind_filter, &self->kind_values, _ ("Any kind"), "kind",
                 kindf ? kindf->values : NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->tag_filter), "");
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->sort_dropdown), 0);
  gtk_widget_set_visible (self->region_label, has_region);
  gtk_widget_set_visible (self->region_filter, has_region);
  gtk_widget_set_visible (self->status_label, status != NULL);
  gtk_widget_set_visible (self->status_filter, status != NULL);
  gtk_widget_set_visible (self->kind_label, kindf != NULL);
  gtk_widget_set_visible (self->kind_filter, kindf != NULL);
  gtk_widget_set_visible (self->tag_label, has_tag);
  gtk_widget_set_visible (self->tag_filter, has_tag);
  self->filling_filters = FALSE;
}

static void
filter_changed (SpBrowser *self)
{
  if (!self->filling_filters)
    reload (self);
}

static void
clear_filters (GtkWidget *widget, const char *action, GVariant *param)
{
  SpBrowser *self = SP_BROWSER (widget);

  self->filling_filters = TRUE;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->region_filter), 0);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->status_filter), 0);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->kind_filter), 0);
  gtk_editable_set_text (GTK_EDITABLE (self->tag_filter), "");
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  self->filling_filters = FALSE;
  reload (self);
}

/* ---- Kind -------------------------------------------------------------------- */

void
sp_browser_set_kind (SpBrowser *self, const char *kind)
{
  g_autofree char *empty_title = NULL;
  GtkSelectionModel *old;

  g_return_if_fail (SP_IS_BROWSER (self));
  g_return_if_fail (sp_kind_lookup (kind) != NULL);
  if (g_strcmp0 (kind, self->kind) == 0)
    return;
  g_free (self->kind);
  self->kind = g_strdup (kind);
  show_none (self);

  g_clear_object (&self->model);
  self->model = sp_record_model_new (self->vault, kind);
  old = gtk_list_view_get_model (GTK_LIST_VIEW (self->list_view));
  if (old)
    g_signal_handlers_disconnect_by_data (old, self);
  self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->model)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  g_signal_connect_object (self->selection, "notify::selected", G_CALLBACK (selection_changed),
                           self, G_CONNECT_SWAPPED);
  gtk_list_view_set_model (GTK_LIST_VIEW (self->list_view), GTK_SELECTION_MODEL (self->selection));
  g_object_unref (self->selection); /* the view holds it */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  sp_label_kind_plural (kind), -1);

  adw_window_title_set_title (self->list_title, sp_label_kind_plural (kind));
  if (g_str_equal (kind, "org"))
    {
      adw_status_page_set_title (self->empty_status, _ ("No Organisations Yet"));
      adw_status_page_set_description (
          self->empty_status, _ ("Add the organisations and initiatives of your network. You can "
                                 "then link people, projects and events to them."));
      adw_status_page_set_icon_name (self->empty_status, "system-users-symbolic");
      gtk_button_set_label (GTK_BUTTON (self->empty_button), _ ("_Add Organisation"));
    }
  else if (g_str_equal (kind, "person"))
    {
      adw_status_page_set_title (self->empty_status, _ ("No People Yet"));
      adw_status_page_set_description (
          self->empty_status, _ ("Add the people you work with. For someone at risk, set the "
                                 "sensitivity to high: lists then show only a pseudonym."));
      adw_status_page_set_icon_name (self->empty_status, "avatar-default-symbolic");
      gtk_button_set_label (GTK_BUTTON (self->empty_button), _ ("_Add Person"));
    }
  else if (g_str_equal (kind, "project"))
    {
      adw_status_page_set_title (self->empty_status, _ ("No Projects Yet"));
      adw_status_page_set_description (
          self->empty_status, _ ("Add a project to follow its partners, regions and events."));
      adw_status_page_set_icon_name (self->empty_status, "folder-symbolic");
      gtk_button_set_label (GTK_BUTTON (self->empty_button), _ ("_Add Project"));
    }
  else
    {
      adw_status_page_set_title (self->empty_status, _ ("No Events Yet"));
      adw_status_page_set_description (
          self->empty_status,
          _ ("Add congresses, round tables, trainings and meetings, then record who took part."));
      adw_status_page_set_icon_name (self->empty_status, "x-office-calendar-symbolic");
      gtk_button_set_label (GTK_BUTTON (self->empty_button), _ ("_Add Event"));
    }
  self->filling_filters = TRUE;
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  self->filling_filters = FALSE;
  setup_filters (self);
  reload (self);
  adw_leaflet_set_visible_child_name (self->leaflet, "list");
}

const char *
sp_browser_get_kind (SpBrowser *self)
{
  g_return_val_if_fail (SP_IS_BROWSER (self), NULL);
  return self->kind;
}

void
sp_browser_show_record (SpBrowser *self, const char *id)
{
  g_autoptr (SpRecord) rec = NULL;
  const char *kind;

  g_return_if_fail (SP_IS_BROWSER (self));
  rec = sp_vault_get (self->vault, id, NULL);
  if (rec == NULL)
    return;
  kind = sp_record_get_kind (rec);
  if (!g_str_equal (kind, "org") && !g_str_equal (kind, "person") && !g_str_equal (kind, "project")
      && !g_str_equal (kind, "event"))
    return;
  if (g_strcmp0 (kind, self->kind) != 0)
    {
      sp_browser_set_kind (self, kind);
      /* Let the sidebar follow. */
      gtk_widget_activate_action (GTK_WIDGET (self), "main.kind-shown", "s", kind);
    }
  if (sp_record_model_find (self->model, id) == G_MAXUINT && filters_active (self))
    clear_filters (GTK_WIDGET (self), NULL, NULL);
  show_detail (self, id);
  self->filling_filters = TRUE;
  select_id (self, id);
  self->filling_filters = FALSE;
  adw_leaflet_set_visible_child_name (self->leaflet, "detail");
}

/* ---- Actions ----------------------------------------------------------------- */

static void
open_editor (SpBrowser *self, SpRecord *record)
{
  GtkWidget *editor = sp_record_editor_new (self->vault, self->kind, record);

  adw_bin_set_child (self->edit_bin, editor);
  adw_window_title_set_title (self->detail_title,
                              record ? _ ("Edit") : sp_label_kind_singular (self->kind));
  set_header_mode (self, "edit");
  adw_leaflet_set_visible_child_name (self->leaflet, "detail");
  sp_record_editor_focus_first (SP_RECORD_EDITOR (editor));
}

static void
action_new (GtkWidget *widget, const char *action, GVariant *param)
{
  SpBrowser *self = SP_BROWSER (widget);

  if (self->kind == NULL)
    return;
  g_clear_pointer (&self->shown_id, g_free);
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  open_editor (self, NULL);
}

static void
action_edit (GtkWidget *widget, const char *action, GVariant *param)
{
  SpBrowser *self = SP_BROWSER (widget);
  g_autoptr (SpRecord) rec
      = self->shown_id ? sp_vault_get (self->vault, self->shown_id, NULL) : NULL;

  if (rec == NULL || sp_record_is_deleted (rec))
    return;
  open_editor (self, rec);
}

static void
action_save (GtkWidget *widget, const char *action, GVariant *param)
{
  SpBrowser *self = SP_BROWSER (widget);
  SpRecordEditor *editor = sp_browser_get_editor (self);
  gboolean is_new;
  g_autofree char *id = NULL;

  if (editor == NULL)
    return;
  is_new = sp_record_editor_get_record_id (editor) == NULL;
  id = sp_record_editor_save (editor, NULL);
  if (id == NULL)
    return; /* the editor shows what is wrong */
  g_free (self->shown_id);
  self->shown_id = g_strdup (id);
  reload (self);
  show_detail (self, id);
  self->filling_filters = TRUE;
  select_id (self, id);
  self->filling_filters = FALSE;
  add_toast (self, is_new ? _ ("Added") : _ ("Saved"), NULL);
}

static void
action_cancel (GtkWidget *widget, const char *action, GVariant *param)
{
  SpBrowser *self = SP_BROWSER (widget);

  if (self->shown_id)
    show_detail (self, self->shown_id);
  else
    {
      show_none (self);
      if (adw_leaflet_get_folded (self->leaflet))
        adw_leaflet_set_visible_child_name (self->leaflet, "list");
    }
}

static void
action_delete (GtkWidget *widget, const char *action, GVariant *param)
{
  SpBrowser *self = SP_BROWSER (widget);
  g_autofree char *id = g_strdup (self->shown_id);
  g_autoptr (GError) error = NULL;

  if (id == NULL)
    return;
  if (!sp_vault_delete (self->vault, id, &error))
    {
      add_toast (self, _ ("The record could not be deleted"), NULL);
      return;
    }
  show_none (self);
  reload (self);
  if (adw_leaflet_get_folded (self->leaflet))
    adw_leaflet_set_visible_child_name (self->leaflet, "list");
  add_toast (self, _ ("Deleted"), id);
}

static void
action_back (GtkWidget *widget, const char *action, GVariant *param)
{
  SpBrowser *self = SP_BROWSER (widget);

  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->detail_stack), "edit") == 0)
    action_cancel (widget, NULL, NULL);
  adw_leaflet_set_visible_child_name (self->leaflet, "list");
}

static void
action_search (GtkWidget *widget, const char *action, GVariant *param)
{
  sp_browser_focus_search (SP_BROWSER (widget));
}

void
sp_browser_focus_search (SpBrowser *self)
{
  g_return_if_fail (SP_IS_BROWSER (self));
  adw_leaflet_set_visible_child_name (self->leaflet, "list");
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->search_button), TRUE);
  gtk_widget_grab_focus (self->search_entry);
}

static void
search_stopped (SpBrowser *self)
{
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->search_button), FALSE);
  gtk_widget_grab_focus (self->list_view);
}

static void
search_bar_toggled (SpBrowser *self)
{
  if (!gtk_search_bar_get_search_mode (GTK_SEARCH_BAR (self->search_bar)))
    {
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->search_button), FALSE);
      if (*gtk_editable_get_text (GTK_EDITABLE (self->search_entry)))
        gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
    }
}

void
sp_browser_set_sidebar_button_visible (SpBrowser *self, gboolean visible)
{
  g_return_if_fail (SP_IS_BROWSER (self));
  gtk_widget_set_visible (self->sidebar_button, visible);
  adw_header_bar_set_show_start_title_buttons (
      ADW_HEADER_BAR (gtk_widget_get_ancestor (self->sidebar_button, ADW_TYPE_HEADER_BAR)),
      visible);
}

SpRecordModel *
sp_browser_get_model (SpBrowser *self)
{
  g_return_val_if_fail (SP_IS_BROWSER (self), NULL);
  return self->model;
}

GtkWidget *
sp_browser_get_list_view (SpBrowser *self)
{
  g_return_val_if_fail (SP_IS_BROWSER (self), NULL);
  return self->list_view;
}

GtkEditable *
sp_browser_get_search_entry (SpBrowser *self)
{
  g_return_val_if_fail (SP_IS_BROWSER (self), NULL);
  return GTK_EDITABLE (self->search_entry);
}

SpRecordEditor *
sp_browser_get_editor (SpBrowser *self)
{
  GtkWidget *child;

  g_return_val_if_fail (SP_IS_BROWSER (self), NULL);
  child = adw_bin_get_child (self->edit_bin);
  return child ? SP_RECORD_EDITOR (child) : NULL;
}

SpRecordDetail *
sp_browser_get_detail (SpBrowser *self)
{
  GtkWidget *child;

  g_return_val_if_fail (SP_IS_BROWSER (self), NULL);
  child = adw_bin_get_child (self->view_bin);
  return child ? SP_RECORD_DETAIL (child) : NULL;
}

const char *
sp_browser_get_list_state (SpBrowser *self)
{
  g_return_val_if_fail (SP_IS_BROWSER (self), NULL);
  return gtk_stack_get_visible_child_name (self->list_stack);
}

static void
sp_browser_dispose (GObject *object)
{
  SpBrowser *self = SP_BROWSER (object);
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);
  if (self->model)
    sp_record_model_clear (self->model);
  g_clear_object (&self->model);
  G_OBJECT_CLASS (sp_browser_parent_class)->dispose (object);
}

static void
sp_browser_finalize (GObject *object)
{
  SpBrowser *self = SP_BROWSER (object);

  g_free (self->kind);
  g_free (self->shown_id);
  g_clear_pointer (&self->region_values, g_ptr_array_unref);
  g_clear_pointer (&self->status_values, g_ptr_array_unref);
  g_clear_pointer (&self->kind_values, g_ptr_array_unref);
  G_OBJECT_CLASS (sp_browser_parent_class)->finalize (object);
}

static void
folded_changed (SpBrowser *self)
{
  gboolean edit = g_strcmp0 (gtk_stack_get_visible_child_name (self->detail_stack), "edit") == 0;

  gtk_widget_set_visible (self->back_button, !edit && adw_leaflet_get_folded (self->leaflet));
}

static void
sp_browser_class_init (SpBrowserClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sp_browser_dispose;
  object_class->finalize = sp_browser_finalize;

  g_type_ensure (SP_TYPE_RECORD_ITEM);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/supolka/Supolka/sp-browser.ui");
#define BIND(name) gtk_widget_class_bind_template_child (widget_class, SpBrowser, name)
  BIND (leaflet);
  BIND (list_pane);
  BIND (sidebar_button);
  BIND (list_title);
  BIND (filter_button);
  BIND (search_button);
  BIND (search_bar);
  BIND (search_entry);
  BIND (region_label);
  BIND (region_filter);
  BIND (status_label);
  BIND (status_filter);
  BIND (kind_label);
  BIND (kind_filter);
  BIND (tag_label);
  BIND (tag_filter);
  BIND (sort_dropdown);
  BIND (list_stack);
  BIND (list_view);
  BIND (empty_status);
  BIND (empty_button);
  BIND (detail_pane);
  BIND (detail_title);
  BIND (back_button);
  BIND (cancel_button);
  BIND (save_button);
  BIND (delete_button);
  BIND (edit_button);
  BIND (detail_stack);
  BIND (view_bin);
  BIND (edit_bin);
#undef BIND
  gtk_widget_class_install_action (widget_class, "browser.new", NULL, action_new);
  gtk_widget_class_install_action (widget_class, "browser.edit", NULL, action_edit);
  gtk_widget_class_install_action (widget_class, "browser.save", NULL, action_save);
  gtk_widget_class_install_action (widget_class, "browser.cancel", NULL, action_cancel);
  gtk_widget_class_install_action (widget_class, "browser.delete", NULL, action_delete);
  /* <signal> in sp-browser.ui. */
  gtk_widget_class_bind_template_callback (widget_class, folded_changed);
  gtk_widget_class_bind_template_callback (widget_class, filter_changed);
  gtk_widget_class_bind_template_callback (widget_class, search_stopped);
  gtk_widget_class_bind_template_callback (widget_class, search_bar_toggled);
  gtk_widget_class_bind_template_callback (widget_class, list_activated);
  gtk_widget_class_bind_template_callback (widget_class, list_pressed);
  gtk_widget_class_install_action (widget_class, "browser.back", NULL, action_back);
  gtk_widget_class_install_action (widget_class, "browser.search", NULL, action_search);
  gtk_widget_class_install_action (widget_class, "browser.clear-filters", NULL, clear_filters);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e, GDK_CONTROL_MASK, "browser.edit",
                                       NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK, "browser.save",
                                       NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "browser.cancel", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "browser.delete", NULL);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
sp_browser_init (SpBrowser *self)
{
  /* The signals of the template's widgets: <signal> in sp-browser.ui. */
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_search_bar_connect_entry (GTK_SEARCH_BAR (self->search_bar),
                                GTK_EDITABLE (self->search_entry));
  set_header_mode (self, "none");
}

GtkWidget *
sp_browser_new (SpVault *vault)
{
  SpBrowser *self = g_object_new (SP_TYPE_BROWSER, NULL);

  self->vault = vault;
  return GTK_WIDGET (self);
}
