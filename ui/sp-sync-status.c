/* sp-sync-status.c — the sync status and the Sync actions of the main view.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>

#include "sp-sync-dialogs.h"
#include "sp-sync-status.h"
#include "sp-sync-worker.h"
#include "sp-vault-job.h"

#define REFRESH_SECONDS 30

struct _SpSyncStatus
{
  GtkWidget parent_instance;
  SpVault *vault;          /* borrowed; NULL once disposed */
  GtkWidget *main_view;    /* weak */
  GtkWidget *title_widget; /* weak: the header's AdwWindowTitle */
  GtkWidget *dialog;       /* weak: the open sync dialog */
  GSimpleActionGroup *actions;
  GCancellable *cancellable;
  GtkWidget *button;
  GtkStack *icon_stack;
  GtkImage *icon;
  GtkSpinner *spinner;
  GtkWidget *popover;
  GtkLabel *title;
  GtkLabel *detail;
  GtkRevealer *problems_revealer;
  GtkLabel *problems;
  GtkWidget *sync_button;
  GtkWidget *setup_box;
  guint timer;
  SyncStatus status;
  gboolean in_workspace;
  gboolean running;
  char *error_text; /* why the last run failed, or NULL */
  char *text;
  char *detail_text;
};

G_DEFINE_FINAL_TYPE (SpSyncStatus, sp_sync_status, GTK_TYPE_WIDGET)

static void
set_action_enabled (SpSyncStatus *self, const char *name, gboolean enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self->actions), name);

  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

static char *
describe_age (gint64 seconds)
{
  gulong n;

  if (seconds < 60)
    return g_strdup (_ ("Synced just now"));
  if (seconds < 3600)
    {
      n = (gulong)(seconds / 60);
      return g_strdup_printf (ngettext ("Synced %lu minute ago", "Synced %lu minutes ago", n), n);
    }
  if (seconds < 86400)
    {
      n = (gulong)(seconds / 3600);
      return g_strdup_printf (ngettext ("Synced %lu hour ago", "Synced %lu hours ago", n), n);
    }
  n = (gulong)MIN (seconds / 86400, (gint64)G_MAXLONG);
  return g_strdup_printf (ngettext ("Synced %lu day ago", "Synced %lu days ago", n), n);
}

static void
update (SpSyncStatus *self)
{
  gboolean busy = self->running || sp_vault_job_is_busy ();
  gboolean problems = gtk_revealer_get_reveal_child (self->problems_revealer);
  const char *icon = "emblem-synchronizing-symbolic";
  g_autofree char *tooltip = NULL;

  g_clear_pointer (&self->text, g_free);
  g_clear_pointer (&self->detail_text, g_free);
  if (self->running)
    {
      self->text = g_strdup (_ ("Syncing…"));
      self->detail_text = g_strdup (_ ("The lists can be used again when the sync has finished."));
    }
  else if (!self->in_workspace)
    {
      self->text = g_strdup (_ ("Not syncing"));
      self->detail_text = g_strdup (_ ("This vault is not part of a workspace. Create one, or join "
                                       "one with an invite code from its admin."));
      icon = "network-offline-symbolic";
    }
  else if (self->error_text)
    {
      self->text = g_strdup (_ ("Sync failed"));
      self->detail_text = g_strdup (self->error_text);
      icon = "dialog-warning-symbolic";
    }
  else if (!self->status.approved)
    {
      self->text = g_strdup (_ ("Waiting for approval"));
      self->detail_text
          = g_strdup (_ ("An admin of the workspace has to approve this device with the safety "
                         "code it showed when it joined. Sync again afterwards."));
    }
  else
    {
      gulong pending = (gulong)CLAMP (self->status.pending_changes, 0, (gint64)G_MAXLONG);

      if (self->status.last_sync <= 0)
        self->text = g_strdup (_ ("Not synced yet"));
      else
        self->text = describe_age (
            MAX (0, (gint64)(g_get_real_time () / G_USEC_PER_SEC) - self->status.last_sync));
      if (pending > 0)
        self->detail_text = g_strdup_printf (
            ngettext ("%lu local change not sent yet", "%lu local changes not sent yet", pending),
            pending);
      else
        self->detail_text = g_strdup (_ ("No local changes to send."));
    }
  if (problems && !self->running && self->in_workspace)
    icon = "dialog-warning-symbolic";

  gtk_label_set_text (self->title, self->text);
  gtk_label_set_text (self->detail, self->detail_text);
  gtk_image_set_from_icon_name (self->icon, icon);
  gtk_stack_set_visible_child_name (self->icon_stack, self->running ? "spinner" : "icon");
  gtk_spinner_set_spinning (self->spinner, self->running);
  tooltip = g_strdup_printf ("%s\n%s", self->text, self->detail_text);
  gtk_widget_set_tooltip_text (self->button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  self->in_workspace ? _ ("Sync now") : _ ("Sync settings"),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, self->text, -1);
  if (self->title_widget)
    adw_window_title_set_subtitle (ADW_WINDOW_TITLE (self->title_widget), self->text);
  gtk_widget_set_visible (self->sync_button, self->in_workspace);
  gtk_widget_set_visible (self->setup_box, !self->in_workspace);

  set_action_enabled (self, "now", self->in_workspace && !busy);
  set_action_enabled (self, "create", !self->in_workspace && !busy);
  set_action_enabled (self, "join", !self->in_workspace && !busy);
  set_action_enabled (self, "invite", self->in_workspace && self->status.admin && !busy);
  set_action_enabled (self, "approve", self->in_workspace && self->status.admin && !busy);
  set_action_enabled (self, "devices", self->in_workspace && !busy);
}

void
sp_sync_status_refresh (SpSyncStatus *self)
{
  g_autoptr (GError) error = NULL;

  g_return_if_fail (SP_IS_SYNC_STATUS (self));
  /* A worker has the vault to itself: show what was read last. */
  if (self->vault && !self->running && !sp_vault_job_is_busy ())
    {
      sync_status_clear (&self->status);
      if (!sync_get_status (self->vault, &self->status, &error))
        {
          g_free (self->error_text);
          self->error_text = g_strdup (error->message);
        }
      self->in_workspace = self->status.workspace != NULL;
    }
  update (self);
}

static gboolean
timer_tick (gpointer data)
{
  sp_sync_status_refresh (SP_SYNC_STATUS (data));
  return G_SOURCE_CONTINUE;
}

static void
show_toast (SpSyncStatus *self, const char *text)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.show-message", "(ss)", text, "");
}

static void
set_problems (SpSyncStatus *self, const SyncReport *report)
{
  g_autoptr (GString) text = g_string_new (NULL);

  if (report->refused_batches)
    g_string_append_printf (text,
                            ngettext ("%u batch of changes from another device was refused.",
                                      "%u batches of changes from other devices were refused.",
                                      report->refused_batches),
                            report->refused_batches);
  for (guint i = 0; report->problems && i < report->problems->len; i++)
    g_string_append_printf (text, "%s• %s", text->len ? "\n" : "",
                            (const char *)report->problems->pdata[i]);
  gtk_label_set_text (self->problems, text->str);
  gtk_revealer_set_reveal_child (self->problems_revealer, text->len > 0);
}

static void
sync_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  SpSyncJob *job = sp_sync_job_finish (result, &error);
  SpSyncStatus *self;

  if (job == NULL)
    return; /* cancelled: the widget is gone, maybe the vault too */
  self = SP_SYNC_STATUS (data);
  self->running = FALSE;
  g_clear_pointer (&self->error_text, g_free);
  set_problems (self, &job->report);
  if (!job->ok)
    {
      self->error_text = g_strdup (job->error->message);
      show_toast (self, _ ("Sync failed"));
    }
  else if (job->report.waiting_for_approval)
    show_toast (self, _ ("Waiting for an admin to approve this device"));
  else
    {
      g_autofree char *sent = g_strdup_printf (
          ngettext ("%u change sent", "%u changes sent", job->report.pushed_changes),
          job->report.pushed_changes);
      g_autofree char *received = g_strdup_printf (
          ngettext ("%u change received", "%u changes received", job->report.applied_changes),
          job->report.applied_changes);
      g_autofree char *toast = g_strdup_printf (_ ("Synced: %s, %s"), sent, received);

      show_toast (self, toast);
    }
  sp_sync_status_refresh (self);
  /* The worker may have changed any record: every list is read again. */
  if (job->ok)
    gtk_widget_activate_action (GTK_WIDGET (self), "main.reload", NULL);
  if ((!job->ok || gtk_revealer_get_reveal_child (self->problems_revealer))
      && gtk_widget_get_mapped (GTK_WIDGET (self)))
    gtk_popover_popup (GTK_POPOVER (self->popover));
}

static void
sync_now (SpSyncStatus *self)
{
  g_autoptr (GError) error = NULL;

  if (self->running || self->vault == NULL || !self->in_workspace)
    return;
  gtk_popover_popdown (GTK_POPOVER (self->popover));
  if (!sp_sync_job_start (sp_sync_job_new (SP_SYNC_OP_RUN, NULL), self->vault, GTK_WIDGET (self),
                          self->cancellable, sync_done, self, &error))
    {
      g_free (self->error_text);
      self->error_text = g_strdup (error->message);
      update (self);
      return;
    }
  self->running = TRUE;
  update (self);
}

static void
button_clicked (SpSyncStatus *self)
{
  if (self->in_workspace)
    sync_now (self);
  else
    gtk_popover_popup (GTK_POPOVER (self->popover));
}

static void
dialog_changed (SpSyncStatus *self)
{
  sp_sync_status_refresh (self);
}

static void
open_dialog (SpSyncStatus *self, SpSyncDialogKind kind)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *dialog;

  if (self->vault == NULL || !GTK_IS_WINDOW (root))
    return;
  gtk_popover_popdown (GTK_POPOVER (self->popover));
  if (self->dialog)
    gtk_window_destroy (GTK_WINDOW (self->dialog));
  dialog = sp_sync_dialog_new (kind, GTK_WINDOW (root), self->vault);
  self->dialog = dialog;
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *)&self->dialog);
  g_signal_connect_object (dialog, "changed", G_CALLBACK (dialog_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (dialog, "destroy", G_CALLBACK (dialog_changed), self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
action_now (GSimpleAction *action, GVariant *param, gpointer data)
{
  sync_now (SP_SYNC_STATUS (data));
}

static void
action_create (GSimpleAction *action, GVariant *param, gpointer data)
{
  open_dialog (SP_SYNC_STATUS (data), SP_SYNC_DIALOG_CREATE);
}

static void
action_join (GSimpleAction *action, GVariant *param, gpointer data)
{
  open_dialog (SP_SYNC_STATUS (data), SP_SYNC_DIALOG_JOIN);
}

static void
action_invite (GSimpleAction *action, GVariant *param, gpointer data)
{
  open_dialog (SP_SYNC_STATUS (data), SP_SYNC_DIALOG_INVITE);
}

static void
action_approve (GSimpleAction *action, GVariant *param, gpointer data)
{
  open_dialog (SP_SYNC_STATUS (data), SP_SYNC_DIALOG_APPROVE);
}

static void
action_devices (GSimpleAction *action, GVariant *param, gpointer data)
{
  open_dialog (SP_SYNC_STATUS (data), SP_SYNC_DIALOG_DEVICES);
}

static const GActionEntry sync_actions[] = {
  { "now", action_now, NULL, NULL, NULL, { 0 } },
  { "create", action_create, NULL, NULL, NULL, { 0 } },
  { "join", action_join, NULL, NULL, NULL, { 0 } },
  { "invite", action_invite, NULL, NULL, NULL, { 0 } },
  { "approve", action_approve, NULL, NULL, NULL, { 0 } },
  { "devices", action_devices, NULL, NULL, NULL, { 0 } },
};

static GtkWidget *
popover_button (const char *label, const char *action, gboolean suggested)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  if (suggested)
    gtk_widget_add_css_class (button, "suggested-action");
  return button;
}

static void
build (SpSyncStatus *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 8);
  GtkWidget *problems_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *problems_title = gtk_label_new (_ ("Problems"));
  GtkWidget *icon_stack = gtk_stack_new ();

  self->icon = GTK_IMAGE (gtk_image_new_from_icon_name ("emblem-synchronizing-symbolic"));
  self->spinner = GTK_SPINNER (gtk_spinner_new ());
  gtk_stack_add_named (GTK_STACK (icon_stack), GTK_WIDGET (self->icon), "icon");
  gtk_stack_add_named (GTK_STACK (icon_stack), GTK_WIDGET (self->spinner), "spinner");
  self->icon_stack = GTK_STACK (icon_stack);

  self->title = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_add_css_class (GTK_WIDGET (self->title), "heading");
  self->detail = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_add_css_class (GTK_WIDGET (self->detail), "dim-label");
  for (GtkLabel **l = (GtkLabel *[]){ self->title, self->detail, NULL }; *l; l++)
    {
      gtk_label_set_wrap (*l, TRUE);
      gtk_label_set_max_width_chars (*l, 36);
      gtk_label_set_xalign (*l, 0);
      gtk_box_append (GTK_BOX (box), GTK_WIDGET (*l));
    }

  /* Refused batches and other problems of the last run. */
  gtk_widget_add_css_class (problems_title, "heading");
  gtk_label_set_xalign (GTK_LABEL (problems_title), 0);
  self->problems = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->problems, TRUE);
  gtk_label_set_max_width_chars (self->problems, 36);
  gtk_label_set_xalign (self->problems, 0);
  gtk_label_set_selectable (self->problems, TRUE);
  gtk_box_append (GTK_BOX (problems_box), problems_title);
  gtk_box_append (GTK_BOX (problems_box), GTK_WIDGET (self->problems));
  self->problems_revealer = GTK_REVEALER (gtk_revealer_new ());
  gtk_revealer_set_child (self->problems_revealer, problems_box);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->problems_revealer));

  self->sync_button = popover_button (_ ("_Sync Now"), "sync.now", TRUE);
  gtk_box_append (GTK_BOX (box), self->sync_button);
  self->setup_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_box_append (GTK_BOX (self->setup_box),
                  popover_button (_ ("_Create a Workspace…"), "sync.create", TRUE));
  gtk_box_append (GTK_BOX (self->setup_box),
                  popover_button (_ ("_Join a Workspace…"), "sync.join", FALSE));
  gtk_box_append (GTK_BOX (box), self->setup_box);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);

  self->popover = gtk_popover_new ();
  gtk_popover_set_child (GTK_POPOVER (self->popover), box);

  self->button = adw_split_button_new ();
  adw_split_button_set_child (ADW_SPLIT_BUTTON (self->button), icon_stack);
  adw_split_button_set_popover (ADW_SPLIT_BUTTON (self->button), GTK_POPOVER (self->popover));
  adw_split_button_set_dropdown_tooltip (ADW_SPLIT_BUTTON (self->button), _ ("Sync details"));
  g_signal_connect_object (self->button, "clicked", G_CALLBACK (button_clicked), self,
                           G_CONNECT_SWAPPED);
  gtk_widget_set_parent (self->button, GTK_WIDGET (self));
}

static void
sp_sync_status_dispose (GObject *object)
{
  SpSyncStatus *self = SP_SYNC_STATUS (object);

  /* Nothing here may use the vault any more: a running worker finishes on its
   * own (and closes the vault if it was locked meanwhile). */
  self->vault = NULL;
  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->timer, g_source_remove);
  if (self->dialog)
    gtk_window_destroy (GTK_WINDOW (self->dialog));
  if (self->main_view)
    {
      gtk_widget_insert_action_group (self->main_view, "sync", NULL);
      g_object_set_data (G_OBJECT (self->main_view), "sp-sync-status", NULL);
      g_object_remove_weak_pointer (G_OBJECT (self->main_view), (gpointer *)&self->main_view);
      self->main_view = NULL;
    }
  if (self->title_widget)
    {
      g_object_remove_weak_pointer (G_OBJECT (self->title_widget), (gpointer *)&self->title_widget);
      self->title_widget = NULL;
    }
  g_clear_pointer (&self->button, gtk_widget_unparent);
  G_OBJECT_CLASS (sp_sync_status_parent_class)->dispose (object);
}

static void
sp_sync_status_finalize (GObject *object)
{
  SpSyncStatus *self = SP_SYNC_STATUS (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->actions);
  sync_status_clear (&self->status);
  g_free (self->error_text);
  g_free (self->text);
  g_free (self->detail_text);
  G_OBJECT_CLASS (sp_sync_status_parent_class)->finalize (object);
}

static void
sp_sync_status_class_init (SpSyncStatusClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sp_sync_status_dispose;
  object_class->finalize = sp_sync_status_finalize;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
sp_sync_status_init (SpSyncStatus *self)
{
  self->cancellable = g_cancellable_new ();
  self->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), sync_actions,
                                   G_N_ELEMENTS (sync_actions), self);
  build (self);
}

SpSyncStatus *
sp_sync_status_attach (GtkWidget *main_view, AdwHeaderBar *header, SpVault *vault)
{
  SpSyncStatus *self;
  GtkWidget *title;

  g_return_val_if_fail (GTK_IS_WIDGET (main_view), NULL);
  g_return_val_if_fail (ADW_IS_HEADER_BAR (header), NULL);
  self = g_object_new (SP_TYPE_SYNC_STATUS, NULL);
  self->vault = vault;
  self->main_view = main_view;
  g_object_add_weak_pointer (G_OBJECT (main_view), (gpointer *)&self->main_view);
  /* The status in words under the header's title, always in sight. */
  title = adw_header_bar_get_title_widget (header);
  if (ADW_IS_WINDOW_TITLE (title))
    {
      self->title_widget = title;
      g_object_add_weak_pointer (G_OBJECT (title), (gpointer *)&self->title_widget);
    }
  adw_header_bar_pack_end (header, GTK_WIDGET (self));
  gtk_widget_insert_action_group (main_view, "sync", G_ACTION_GROUP (self->actions));
  g_object_set_data (G_OBJECT (main_view), "sp-sync-status", self);
  sp_sync_status_refresh (self);
  self->timer = g_timeout_add_seconds (REFRESH_SECONDS, timer_tick, self);
  g_source_set_name_by_id (self->timer, "[supolka] sync status");
  return self;
}

SpSyncStatus *
sp_sync_status_from_main_view (GtkWidget *main_view)
{
  g_return_val_if_fail (GTK_IS_WIDGET (main_view), NULL);
  return g_object_get_data (G_OBJECT (main_view), "sp-sync-status");
}

const char *
sp_sync_status_get_text (SpSyncStatus *self)
{
  g_return_val_if_fail (SP_IS_SYNC_STATUS (self), NULL);
  return self->text;
}

const char *
sp_sync_status_get_detail (SpSyncStatus *self)
{
  g_return_val_if_fail (SP_IS_SYNC_STATUS (self), NULL);
  return self->detail_text;
}

const char *
sp_sync_status_get_problems (SpSyncStatus *self)
{
  g_return_val_if_fail (SP_IS_SYNC_STATUS (self), NULL);
  if (!gtk_revealer_get_reveal_child (self->problems_revealer))
    return NULL;
  return gtk_label_get_text (self->problems);
}

gboolean
sp_sync_status_is_running (SpSyncStatus *self)
{
  g_return_val_if_fail (SP_IS_SYNC_STATUS (self), FALSE);
  return self->running;
}

GtkWindow *
sp_sync_status_get_dialog (SpSyncStatus *self)
{
  g_return_val_if_fail (SP_IS_SYNC_STATUS (self), NULL);
  return self->dialog ? GTK_WINDOW (self->dialog) : NULL;
}

GtkWidget *
sp_sync_status_get_popover (SpSyncStatus *self)
{
  g_return_val_if_fail (SP_IS_SYNC_STATUS (self), NULL);
  return self->popover;
}
