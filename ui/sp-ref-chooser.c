/* sp-ref-chooser.c — picks a record of one kind.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>

#include "sp-labels.h"
#include "sp-record-model.h"
#include "sp-ref-chooser.h"

struct _SpRefChooser
{
  GtkWidget parent_instance;
  SpVault *vault;
  char *kind;
  char *value;
  GtkWidget *box;
  GtkWidget *button;
  GtkWidget *button_label;
  GtkWidget *clear_button;
  GtkWidget *popover;
  GtkWidget *search;
  GtkWidget *list;
  SpRecordModel *model;
};

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (SpRefChooser, sp_ref_chooser, GTK_TYPE_WIDGET)

static void
update_label (SpRefChooser *self)
{
  g_autoptr (SpRecord) rec = NULL;
  const char *title = NULL;

  if (self->value && self->vault)
    rec = sp_vault_get (self->vault, self->value, NULL);
  if (rec)
    title = sp_record_get_title (rec);
  if (self->value == NULL)
    title = _ ("Choose…");
  else if (title == NULL || *title == '\0')
    title = _ ("(untitled)");
  gtk_label_set_text (GTK_LABEL (self->button_label), title);
  gtk_widget_set_visible (self->clear_button, self->value != NULL);
}

void
sp_ref_chooser_set_value (SpRefChooser *self, const char *id)
{
  g_return_if_fail (SP_IS_REF_CHOOSER (self));
  if (id && *id == '\0')
    id = NULL;
  if (g_strcmp0 (id, self->value) == 0)
    return;
  g_free (self->value);
  self->value = g_strdup (id);
  update_label (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

const char *
sp_ref_chooser_get_value (SpRefChooser *self)
{
  g_return_val_if_fail (SP_IS_REF_CHOOSER (self), NULL);
  return self->value;
}

GtkWidget *
sp_ref_chooser_get_button (SpRefChooser *self)
{
  g_return_val_if_fail (SP_IS_REF_CHOOSER (self), NULL);
  return self->button;
}

static void
reload (SpRefChooser *self)
{
  SpFilter f = { 0 };
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search));

  f.search = *text ? text : NULL;
  sp_record_model_set_filter (self->model, &f);
  sp_record_model_reload (self->model, NULL);
}

static void
row_activated (SpRefChooser *self, guint position)
{
  g_autoptr (SpRecordItem) item = g_list_model_get_item (G_LIST_MODEL (self->model), position);

  if (item == NULL)
    return;
  sp_ref_chooser_set_value (self, sp_record_item_get_id (item));
  gtk_popover_popdown (GTK_POPOVER (self->popover));
}

static void
popover_shown (SpRefChooser *self)
{
  gtk_editable_set_text (GTK_EDITABLE (self->search), "");
  reload (self);
  gtk_widget_grab_focus (self->search);
}

static void
popover_closed (SpRefChooser *self)
{
  /* Do not keep rows of personal data around while nobody looks at them. */
  sp_record_model_empty (self->model);
}

static void
clear_clicked (SpRefChooser *self)
{
  sp_ref_chooser_set_value (self, NULL);
}

static void
setup_row (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_margin_top (label, 6);
  gtk_widget_set_margin_bottom (label, 6);
  gtk_list_item_set_child (item, label);
}

static void
bind_row (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer data)
{
  SpRecordItem *rec = gtk_list_item_get_item (item);

  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)), sp_record_item_get_title (rec));
}

static void
sp_ref_chooser_dispose (GObject *object)
{
  SpRefChooser *self = SP_REF_CHOOSER (object);

  g_clear_pointer (&self->box, gtk_widget_unparent);
  g_clear_object (&self->model);
  G_OBJECT_CLASS (sp_ref_chooser_parent_class)->dispose (object);
}

static void
sp_ref_chooser_finalize (GObject *object)
{
  SpRefChooser *self = SP_REF_CHOOSER (object);

  g_free (self->kind);
  g_free (self->value);
  G_OBJECT_CLASS (sp_ref_chooser_parent_class)->finalize (object);
}

static void
sp_ref_chooser_class_init (SpRefChooserClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sp_ref_chooser_dispose;
  object_class->finalize = sp_ref_chooser_finalize;
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
sp_ref_chooser_init (SpRefChooser *self)
{
}

GtkWidget *
sp_ref_chooser_new (SpVault *vault, const char *kind)
{
  SpRefChooser *self = g_object_new (SP_TYPE_REF_CHOOSER, NULL);
  GtkListItemFactory *factory;
  GtkWidget *pbox, *scrolled;
  GtkSelectionModel *selection;

  self->vault = vault;
  self->kind = g_strdup (kind);
  self->model = sp_record_model_new (vault, kind);

  self->box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  self->button = gtk_menu_button_new ();
  gtk_widget_set_hexpand (self->button, TRUE);
  self->button_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->button_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (self->button_label), PANGO_ELLIPSIZE_END);
  gtk_menu_button_set_child (GTK_MENU_BUTTON (self->button), self->button_label);
  gtk_box_append (GTK_BOX (self->box), self->button);

  self->clear_button = gtk_button_new_from_icon_name ("edit-clear-symbolic");
  gtk_widget_set_tooltip_text (self->clear_button, _ ("Clear"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->clear_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Clear"), -1);
  g_signal_connect_object (self->clear_button, "clicked", G_CALLBACK (clear_clicked), self,
                           G_CONNECT_SWAPPED);
  gtk_box_append (GTK_BOX (self->box), self->clear_button);

  self->popover = gtk_popover_new ();
  pbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  self->search = gtk_search_entry_new ();
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->search), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Search"), -1);
  gtk_box_append (GTK_BOX (pbox), self->search);
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), NULL);
  selection
      = GTK_SELECTION_MODEL (gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->model))));
  gtk_single_selection_set_autoselect (GTK_SINGLE_SELECTION (selection), FALSE);
  self->list = gtk_list_view_new (selection, factory);
  gtk_list_view_set_single_click_activate (GTK_LIST_VIEW (self->list), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  sp_label_kind_plural (kind), -1);
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), self->list);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scrolled), 240);
  gtk_scrolled_window_set_min_content_width (GTK_SCROLLED_WINDOW (scrolled), 260);
  gtk_scrolled_window_set_propagate_natural_width (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_box_append (GTK_BOX (pbox), scrolled);
  gtk_popover_set_child (GTK_POPOVER (self->popover), pbox);
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (self->button), self->popover);

  g_signal_connect_object (self->search, "search-changed", G_CALLBACK (reload), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->list, "activate", G_CALLBACK (row_activated), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->popover, "show", G_CALLBACK (popover_shown), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->popover, "closed", G_CALLBACK (popover_closed), self,
                           G_CONNECT_SWAPPED);
  update_label (self);
  return GTK_WIDGET (self);
}
