/* sp-window.c — the main window.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>

#include "sp-window.h"

struct _SpWindow
{
  AdwApplicationWindow parent_instance;
  AdwToastOverlay *toast_overlay;
  GtkStack *stack;
  SpLockPage *lock_page;
  SpMainView *main_view;
  SpVault *vault;   /* borrowed from the application */
  guint generation; /* counts locks: an Undo from before a lock does nothing */
};

G_DEFINE_FINAL_TYPE (SpWindow, sp_window, ADW_TYPE_APPLICATION_WINDOW)

void
sp_window_show_message (SpWindow *self, const char *message, const char *undo_id)
{
  AdwToast *toast;

  g_return_if_fail (SP_IS_WINDOW (self));
  /* Toast titles are markup: only our own fixed texts go there. */
  toast = adw_toast_new (message);
  if (undo_id)
    {
      adw_toast_set_button_label (toast, _ ("_Undo"));
      adw_toast_set_action_name (toast, "win.undo-delete");
      adw_toast_set_action_target_value (toast, g_variant_new ("(us)", self->generation, undo_id));
      adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
    }
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

guint
sp_window_get_generation (SpWindow *self)
{
  g_return_val_if_fail (SP_IS_WINDOW (self), 0);
  return self->generation;
}

void
sp_window_show_vault (SpWindow *self, SpVault *vault)
{
  g_return_if_fail (SP_IS_WINDOW (self));
  if (self->main_view)
    return;
  self->vault = vault;
  self->main_view = SP_MAIN_VIEW (sp_main_view_new (vault));
  gtk_stack_add_named (self->stack, GTK_WIDGET (self->main_view), "main");
  gtk_stack_set_visible_child_name (self->stack, "main");
}

void
sp_window_lock (SpWindow *self)
{
  g_return_if_fail (SP_IS_WINDOW (self));
  /* A toast still on screen may offer Undo: it will do nothing any more.
   * (Toasts are not dismissed here: libadwaita 1.2 crashes when a queued
   * toast is dismissed. Their titles are fixed texts, never record data.) */
  self->generation++;
  gtk_stack_set_visible_child_name (self->stack, "lock");
  if (self->main_view)
    {
      /* Not hidden: destroyed, with every model and row it built. */
      gtk_stack_remove (self->stack, GTK_WIDGET (self->main_view));
      self->main_view = NULL;
    }
  self->vault = NULL;
  sp_lock_page_refresh (self->lock_page);
  sp_lock_page_grab_focus (self->lock_page);
}

void
sp_window_set_busy (SpWindow *self, gboolean busy)
{
  g_return_if_fail (SP_IS_WINDOW (self));
  if (self->main_view)
    sp_main_view_set_busy (self->main_view, busy);
}

SpLockPage *
sp_window_get_lock_page (SpWindow *self)
{
  g_return_val_if_fail (SP_IS_WINDOW (self), NULL);
  return self->lock_page;
}

SpMainView *
sp_window_get_main_view (SpWindow *self)
{
  g_return_val_if_fail (SP_IS_WINDOW (self), NULL);
  return self->main_view;
}

static void
action_search (GtkWidget *widget, const char *action, GVariant *param)
{
  SpWindow *self = SP_WINDOW (widget);

  if (self->main_view)
    sp_main_view_search (self->main_view);
}

static void
action_new_record (GtkWidget *widget, const char *action, GVariant *param)
{
  SpWindow *self = SP_WINDOW (widget);

  if (self->main_view)
    sp_main_view_new_record (self->main_view);
}

static void
action_undo_delete (GtkWidget *widget, const char *action, GVariant *param)
{
  SpWindow *self = SP_WINDOW (widget);
  const char *id = NULL;
  guint generation = 0;
  g_autoptr (GError) error = NULL;

  g_variant_get (param, "(u&s)", &generation, &id);
  if (self->vault == NULL || self->main_view == NULL || generation != self->generation)
    return;
  if (!sp_vault_undelete (self->vault, id, &error))
    {
      sp_window_show_message (self, _ ("The record could not be restored"), NULL);
      return;
    }
  sp_main_view_reload (self->main_view);
  sp_browser_show_record (sp_main_view_get_browser (self->main_view), id);
  sp_window_show_message (self, _ ("Restored"), NULL);
}

/* "win.show-message" ("(ss)": message, undo id or ""): how pages show a
 * toast without knowing the window. */
static void
action_show_message (GtkWidget *widget, const char *action, GVariant *param)
{
  const char *message = NULL;
  const char *undo_id = NULL;

  g_variant_get (param, "(&s&s)", &message, &undo_id);
  sp_window_show_message (SP_WINDOW (widget), message, *undo_id ? undo_id : NULL);
}

static void
sp_window_class_init (SpWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  g_type_ensure (SP_TYPE_LOCK_PAGE);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/supolka/Supolka/sp-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SpWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, SpWindow, lock_page);
  gtk_widget_class_install_action (widget_class, "win.search", NULL, action_search);
  gtk_widget_class_install_action (widget_class, "win.new-record", NULL, action_new_record);
  gtk_widget_class_install_action (widget_class, "win.undo-delete", "(us)", action_undo_delete);
  gtk_widget_class_install_action (widget_class, "win.show-message", "(ss)", action_show_message);
}

static void
sp_window_init (SpWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

SpWindow *
sp_window_new (GtkApplication *app)
{
  return g_object_new (SP_TYPE_WINDOW, "application", app, NULL);
}
