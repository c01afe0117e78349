/* sp-sync-dialogs.c — create, invite, join, approve, devices.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <string.h>

#include "sp-qr.h"
#include "sp-secret-window.h"
#include "sp-sync-dialogs.h"
#include "sp-sync-worker.h"
#include "sp-vault-job.h"

#define MAX_INPUT_LEN 4096

int
sp_sync_qr_get_modules (GtkWidget *qr)
{
  return sp_qr_get_modules (qr);
}

/* ---- The dialog ---------------------------------------------------------- */

/* What makes each kind of dialog itself: its words, what it builds beside
 * the common parts, how it checks its entry, the job it starts and what it
 * shows when the job is done. */
typedef struct
{
  const char *title;
  const char *intro;
  const char *entry_label; /* NULL: no entry */
  const char *placeholder;
  const char *primary;
  const char *cancel;
  const char *missing;    /* said when the entry is empty, or NULL */
  gboolean start_at_open; /* the job runs as soon as the dialog opens */
  /* Checks a non-empty entry as it is typed and when submitted, or NULL. */
  gboolean (*check) (const char *text, GError **error);
  void (*build) (SpSyncDialog *self, GtkWidget *form, GtkWidget *page);
  SpSyncJob *(*job) (SpSyncDialog *self, const char *text);
  /* TRUE when the workspace changed ("changed" is emitted). */
  gboolean (*done) (SpSyncDialog *self, SpSyncJob *job);
} KindInfo;

struct _SpSyncDialog
{
  AdwWindow parent_instance;
  SpSyncDialogKind kind;
  const KindInfo *info;
  SpVault *vault; /* borrowed; NULL once disposed */
  GCancellable *cancellable;
  GtkWidget *primary;
  GtkWidget *cancel;
  GtkWidget *spinner;
  GtkStack *stack; /* "form", "result" */
  GtkWidget *form;
  GtkWidget *entry;
  GtkWidget *token; /* create: the relay's create token (GtkPasswordEntry) */
  GtkWidget *ttl;
  GtkLabel *error;
  GtkWidget *result_page;
  GtkLabel *result_intro;
  GtkLabel *result_label;
  GtkWidget *copy_button;
  GtkWidget *qr;
  GtkListBox *device_list;
  GtkWidget *confirm; /* weak */
  GPtrArray *devices;
  char *result;
  gboolean busy;
};

G_DEFINE_FINAL_TYPE (SpSyncDialog, sp_sync_dialog, ADW_TYPE_WINDOW)

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void load_devices (SpSyncDialog *self);

static void
show_error (SpSyncDialog *self, const char *message)
{
  gtk_label_set_text (self->error, message ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error), message != NULL);
}

static void
set_busy (SpSyncDialog *self, gboolean busy)
{
  self->busy = busy;
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), busy);
  gtk_widget_set_visible (self->spinner, busy);
  gtk_widget_set_sensitive (self->form, !busy);
  if (self->device_list)
    gtk_widget_set_sensitive (GTK_WIDGET (self->device_list), !busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "dialog.submit", !busy);
}

static char *
input_text (SpSyncDialog *self)
{
  const char *text = self->entry ? gtk_editable_get_text (GTK_EDITABLE (self->entry)) : "";

  return g_strstrip (g_strndup (text, MAX_INPUT_LEN));
}

static void
entry_changed (SpSyncDialog *self)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = input_text (self);

  if (self->info->check && *text && !self->info->check (text, &error))
    {
      show_error (self, error->message);
      gtk_widget_set_sensitive (self->primary, FALSE);
      return;
    }
  show_error (self, NULL);
  gtk_widget_set_sensitive (self->primary, *text != '\0');
}

static void
show_result (SpSyncDialog *self, const char *intro, const char *text)
{
  gtk_label_set_text (self->result_intro, intro);
  gtk_label_set_text (self->result_label, text);
  gtk_stack_set_visible_child_name (self->stack, "result");
  gtk_button_set_label (GTK_BUTTON (self->primary), _ ("_Done"));
  gtk_widget_set_visible (self->cancel, FALSE);
  gtk_widget_set_sensitive (self->primary, TRUE);
}

static char *
device_title (const SyncDevice *d)
{
  g_autofree char *prefix = g_strndup (d->device ? d->device : "", 8);

  if (d->is_self)
    return g_strdup_printf (_ ("This device (%s)"), prefix);
  return g_strdup_printf (_ ("Device %s"), prefix);
}

static void
revoke_clicked (GtkButton *button, SpSyncDialog *self)
{
  sp_sync_dialog_confirm_revoke (self, g_object_get_data (G_OBJECT (button), "sp-device"));
}

static void
fill_devices (SpSyncDialog *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->device_list))))
    gtk_list_box_remove (self->device_list, child);
  for (guint i = 0; self->devices && i < self->devices->len; i++)
    {
      SyncDevice *d = self->devices->pdata[i];
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *title = device_title (d);
      const char *status;
      g_autofree char *subtitle = NULL;

      if (g_strcmp0 (d->status, "active") == 0)
        status = _ ("Active");
      else if (g_strcmp0 (d->status, "pending") == 0)
        status = _ ("Waiting for approval");
      else if (g_strcmp0 (d->status, "revoked") == 0)
        status = _ ("Removed");
      else
        status = _ ("Unknown");
      subtitle = d->admin ? g_strdup_printf (_ ("%s, admin"), status) : g_strdup (status);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      if (!d->is_self && g_strcmp0 (d->status, "revoked") != 0)
        {
          GtkWidget *revoke = gtk_button_new_with_mnemonic (_ ("_Remove…"));
          g_autofree char *label = g_strdup_printf (_ ("Remove %s"), title);

          gtk_widget_set_valign (revoke, GTK_ALIGN_CENTER);
          gtk_widget_add_css_class (revoke, "destructive-action");
          gtk_accessible_update_property (GTK_ACCESSIBLE (revoke), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                          label, -1);
          g_object_set_data_full (G_OBJECT (revoke), "sp-device", g_strdup (d->device), g_free);
          g_signal_connect_object (revoke, "clicked", G_CALLBACK (revoke_clicked), self, 0);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), revoke);
        }
      gtk_list_box_append (self->device_list, row);
    }
}

static void
job_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  SpSyncJob *job = sp_sync_job_finish (result, &error);
  SpSyncDialog *self;

  if (job == NULL)
    return; /* cancelled: the dialog is gone */
  self = SP_SYNC_DIALOG (data);
  set_busy (self, FALSE);
  if (!job->ok)
    {
      show_error (self, job->error->message);
      return;
    }
  show_error (self, NULL);
  g_free (self->result);
  self->result = g_steal_pointer (&job->text);
  if (self->info->done (self, job))
    g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
start (SpSyncDialog *self, SpSyncJob *job)
{
  g_autoptr (GError) error = NULL;

  if (self->vault == NULL)
    {
      sp_sync_job_free (job);
      return;
    }
  if (!sp_sync_job_start (job, self->vault, GTK_WIDGET (self), self->cancellable, job_done, self,
                          &error))
    {
      show_error (self, error->message);
      return;
    }
  show_error (self, NULL);
  set_busy (self, TRUE);
}

static void
load_devices (SpSyncDialog *self)
{
  start (self, sp_sync_job_new (SP_SYNC_OP_DEVICES, NULL));
}

static void
action_submit (GtkWidget *widget, const char *action, GVariant *param)
{
  SpSyncDialog *self = SP_SYNC_DIALOG (widget);
  g_autofree char *text = input_text (self);
  g_autoptr (GError) error = NULL;

  if (self->busy)
    return;
  if (g_str_equal (gtk_stack_get_visible_child_name (self->stack), "result"))
    {
      gtk_window_close (GTK_WINDOW (self));
      return;
    }
  if (self->info->check && !self->info->check (text, &error))
    {
      show_error (self, error->message);
      return;
    }
  if (self->info->missing && *text == '\0')
    {
      show_error (self, _ (self->info->missing));
      return;
    }
  start (self, self->info->job (self, text));
}

static void
confirm_response (AdwMessageDialog *dialog, const char *response, SpSyncDialog *self)
{
  const char *device = g_object_get_data (G_OBJECT (dialog), "sp-device");

  if (g_str_equal (response, "remove") && device)
    start (self, sp_sync_job_new (SP_SYNC_OP_REVOKE, device));
}

GtkWidget *
sp_sync_dialog_confirm_revoke (SpSyncDialog *self, const char *device)
{
  GtkWidget *dialog;
  g_autofree char *prefix = NULL;

  g_return_val_if_fail (SP_IS_SYNC_DIALOG (self), NULL);
  g_return_val_if_fail (device != NULL, NULL);
  if (self->confirm)
    gtk_window_destroy (GTK_WINDOW (self->confirm));
  prefix = g_strndup (device, 8);
  dialog = adw_message_dialog_new (GTK_WINDOW (self), _ ("Remove this device?"), NULL);
  adw_message_dialog_format_body (
      ADW_MESSAGE_DIALOG (dialog),
      _ ("Device %s will no longer receive changes, and what it sends from now on will be "
         "refused.\n\nA removed device keeps everything it had already received: removing it "
         "does not erase the data stored on it."),
      prefix);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"), "remove",
                                    _ ("_Remove"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "remove",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "sp-device", g_strdup (device), g_free);
  sp_secret_window_attach (GTK_WINDOW (dialog), GTK_WINDOW (self));
  g_signal_connect_object (dialog, "response", G_CALLBACK (confirm_response), self, 0);
  self->confirm = dialog;
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *)&self->confirm);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

static void
copy_clicked (SpSyncDialog *self)
{
  if (self->result)
    gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), self->result);
}

static GtkWidget *
wrap_label (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 50);
  return label;
}

/* ---- The five kinds ------------------------------------------------------- */

static gboolean
check_relay (const char *text, GError **error)
{
  return sp_sync_relay_url_valid (text, error);
}

static void
create_build (SpSyncDialog *self, GtkWidget *form, GtkWidget *page)
{
  g_autofree char *relay = sp_sync_settings_get ("relay-url");
  GtkWidget *label = gtk_label_new_with_mnemonic (_ ("Create _token"));
  GtkWidget *hint = wrap_label (_ ("The secret the relay's operator gave you. Leave it empty for "
                                   "a relay open to anyone."));

  if (relay)
    gtk_editable_set_text (GTK_EDITABLE (self->entry), relay);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  gtk_widget_add_css_class (hint, "dim-label");
  /* A password entry: not echoed, not put in the clipboard history. */
  self->token = gtk_password_entry_new ();
  gtk_password_entry_set_show_peek_icon (GTK_PASSWORD_ENTRY (self->token), TRUE);
  g_object_set (self->token, "activates-default", TRUE, NULL);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), self->token);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->token), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                  label, NULL, GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, hint, NULL,
                                  -1);
  gtk_box_append (GTK_BOX (form), label);
  gtk_box_append (GTK_BOX (form), self->token);
  gtk_box_append (GTK_BOX (form), hint);
}

static SpSyncJob *
create_job (SpSyncDialog *self, const char *text)
{
  SpSyncJob *job = sp_sync_job_new (SP_SYNC_OP_CREATE, text);
  const char *token = gtk_editable_get_text (GTK_EDITABLE (self->token));
  g_autofree char *trimmed = g_strstrip (g_strdup (token));

  if (*trimmed)
    job->secret = g_steal_pointer (&trimmed);
  return job;
}

static gboolean
create_done (SpSyncDialog *self, SpSyncJob *job)
{
  show_result (self, _ ("The workspace is ready, with this device as its admin."),
               _ ("Next, invite your other devices: Sync ▸ Invite a Device."));
  return TRUE;
}

static void
invite_build (SpSyncDialog *self, GtkWidget *form, GtkWidget *page)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *label = gtk_label_new_with_mnemonic (_ ("_Valid for (hours)"));

  self->ttl
      = gtk_spin_button_new_with_range (SYNC_INVITE_TTL_MIN_HOURS, SYNC_INVITE_TTL_MAX_HOURS, 1);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->ttl), SYNC_INVITE_TTL_DEFAULT_HOURS);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), self->ttl);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_box_append (GTK_BOX (row), label);
  gtk_box_append (GTK_BOX (row), self->ttl);
  gtk_box_append (GTK_BOX (form), row);
}

static SpSyncJob *
invite_job (SpSyncDialog *self, const char *text)
{
  SpSyncJob *job = sp_sync_job_new (SP_SYNC_OP_INVITE, NULL);

  job->ttl_hours = (guint)gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->ttl));
  return job;
}

static gboolean
invite_done (SpSyncDialog *self, SpSyncJob *job)
{
  g_autofree char *intro = g_strdup_printf (
      ngettext ("Give this code to the new device's owner in person or through a channel you "
                "trust. It works once, within %u hour.",
                "Give this code to the new device's owner in person or through a channel you "
                "trust. It works once, within %u hours.",
                job->ttl_hours),
      job->ttl_hours);

  gtk_widget_add_css_class (GTK_WIDGET (self->result_label), "monospace");
  show_result (self, intro, self->result);
  sp_qr_set_text (self->qr, self->result);
  gtk_widget_set_visible (self->qr, TRUE);
  gtk_widget_set_visible (self->copy_button, TRUE);
  return TRUE;
}

static SpSyncJob *
join_job (SpSyncDialog *self, const char *text)
{
  return sp_sync_job_new (SP_SYNC_OP_JOIN, text);
}

static gboolean
join_done (SpSyncDialog *self, SpSyncJob *job)
{
  show_result (self,
               _ ("Read this safety code to the admin of the workspace, in person or over a call "
                  "you trust. The admin types it in to approve this device; then sync."),
               self->result);
  gtk_widget_add_css_class (GTK_WIDGET (self->result_label), "title-1");
  return TRUE;
}

static void
approve_build (SpSyncDialog *self, GtkWidget *form, GtkWidget *page)
{
  gtk_widget_add_css_class (self->entry, "title-2");
}

static SpSyncJob *
approve_job (SpSyncDialog *self, const char *text)
{
  return sp_sync_job_new (SP_SYNC_OP_APPROVE, text);
}

static gboolean
approve_done (SpSyncDialog *self, SpSyncJob *job)
{
  show_result (
      self, _ ("The device is approved. It receives the workspace's data at its next sync."), "");
  return TRUE;
}

static void
devices_build (SpSyncDialog *self, GtkWidget *form, GtkWidget *page)
{
  self->device_list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->device_list, GTK_SELECTION_NONE);
  gtk_widget_add_css_class (GTK_WIDGET (self->device_list), "boxed-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->device_list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Devices"), -1);
  gtk_box_append (GTK_BOX (page), GTK_WIDGET (self->device_list));
}

static SpSyncJob *
devices_job (SpSyncDialog *self, const char *text)
{
  return sp_sync_job_new (SP_SYNC_OP_DEVICES, NULL);
}

/* The list received, or a device removed (then the list is read again). */
static gboolean
devices_done (SpSyncDialog *self, SpSyncJob *job)
{
  if (job->op == SP_SYNC_OP_REVOKE)
    {
      /* Said before the next job makes the vault busy again. */
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
      load_devices (self);
      return FALSE;
    }
  g_clear_pointer (&self->devices, g_ptr_array_unref);
  self->devices = g_steal_pointer (&job->devices);
  fill_devices (self);
  return FALSE;
}

/* In the order of SpSyncDialogKind. */
static const KindInfo kinds[] = {
  {
      .title = N_ ("Create a Workspace"),
      .intro = N_ ("A workspace lets your devices share this vault through a relay. The relay "
                   "only ever sees encrypted data. This device becomes the workspace's admin."),
      .entry_label = N_ ("Relay address"),
      .placeholder = "https://relay.example.org",
      .primary = N_ ("C_reate"),
      .cancel = N_ ("_Cancel"),
      .check = check_relay,
      .build = create_build,
      .job = create_job,
      .done = create_done,
  },
  {
      .title = N_ ("Invite a Device"),
      .intro = N_ ("An invite code lets one new device ask to join this workspace. It gets "
                   "nothing until you approve it with its safety code."),
      .primary = N_ ("C_reate Invite Code"),
      .cancel = N_ ("_Cancel"),
      .build = invite_build,
      .job = invite_job,
      .done = invite_done,
  },
  {
      .title = N_ ("Join a Workspace"),
      .intro = N_ ("Paste the invite code an admin of the workspace gave you. This vault then asks "
                   "to join, and shows a safety code to read to the admin."),
      .entry_label = N_ ("Invite code"),
      .placeholder = "supolka1:…",
      .primary = N_ ("_Join"),
      .cancel = N_ ("_Cancel"),
      .missing = N_ ("Paste the invite code you were given."),
      .job = join_job,
      .done = join_done,
  },
  {
      .title = N_ ("Approve a Device"),
      .intro = N_ ("Ask the new device's owner to read you the safety code their screen shows — "
                   "in person or over a call you trust — and type it here. If it differs from "
                   "what they read, do not approve: someone else may be trying to join."),
      .entry_label = N_ ("Safety code"),
      .placeholder = "123 456 789",
      .primary = N_ ("_Approve"),
      .cancel = N_ ("_Cancel"),
      .missing = N_ ("Type the safety code the new device shows."),
      .build = approve_build,
      .job = approve_job,
      .done = approve_done,
  },
  {
      .title = N_ ("Devices"),
      .intro = N_ ("The devices of this workspace. A removed device can no longer sync, but it "
                   "keeps what it had already received."),
      .primary = N_ ("_Refresh"),
      .cancel = N_ ("_Close"),
      .start_at_open = TRUE,
      .build = devices_build,
      .job = devices_job,
      .done = devices_done,
  },
};

/* ---- Building ------------------------------------------------------------- */

static void
build_header (SpSyncDialog *self, GtkWidget *toolbar)
{
  GtkWidget *header = adw_header_bar_new ();

  adw_header_bar_set_show_end_title_buttons (ADW_HEADER_BAR (header), FALSE);
  adw_header_bar_set_show_start_title_buttons (ADW_HEADER_BAR (header), FALSE);
  self->cancel = gtk_button_new_with_mnemonic (_ (self->info->cancel));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->cancel), "window.close");
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), self->cancel);
  self->primary = gtk_button_new_with_mnemonic (_ (self->info->primary));
  gtk_widget_add_css_class (self->primary, "suggested-action");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->primary), "dialog.submit");
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), self->primary);
  self->spinner = gtk_spinner_new ();
  gtk_widget_set_visible (self->spinner, FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->spinner), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Waiting for the relay"), -1);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), self->spinner);
  gtk_box_append (GTK_BOX (toolbar), header);
}

static void
build_entry (SpSyncDialog *self, GtkWidget *form)
{
  GtkWidget *label = gtk_label_new (_ (self->info->entry_label));

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  self->entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->entry), self->info->placeholder);
  gtk_entry_set_max_length (GTK_ENTRY (self->entry), MAX_INPUT_LEN);
  gtk_entry_set_activates_default (GTK_ENTRY (self->entry), TRUE);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->entry), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                  label, NULL, -1);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), self->entry);
  g_signal_connect_object (self->entry, "changed", G_CALLBACK (entry_changed), self,
                           G_CONNECT_SWAPPED);
  gtk_box_append (GTK_BOX (form), label);
  gtk_box_append (GTK_BOX (form), self->entry);
  gtk_widget_set_sensitive (self->primary, FALSE);
}

/* What a successful call shows. */
static GtkWidget *
build_result (SpSyncDialog *self)
{
  GtkWidget *result = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  PangoAttrList *attrs = pango_attr_list_new ();

  self->result_intro = GTK_LABEL (wrap_label (NULL));
  self->result_label = GTK_LABEL (wrap_label (NULL));
  gtk_label_set_selectable (self->result_label, TRUE);
  gtk_label_set_wrap_mode (self->result_label, PANGO_WRAP_CHAR);
  /* A code broken across lines must not gain hyphens someone would copy. */
  pango_attr_list_insert (attrs, pango_attr_insert_hyphens_new (FALSE));
  gtk_label_set_attributes (self->result_label, attrs);
  pango_attr_list_unref (attrs);
  gtk_label_set_xalign (self->result_label, 0.5);
  gtk_label_set_justify (self->result_label, GTK_JUSTIFY_CENTER);
  gtk_box_append (GTK_BOX (result), GTK_WIDGET (self->result_intro));
  gtk_box_append (GTK_BOX (result), GTK_WIDGET (self->result_label));
  self->copy_button = gtk_button_new_from_icon_name ("edit-copy-symbolic");
  gtk_button_set_label (GTK_BUTTON (self->copy_button), _ ("_Copy"));
  gtk_button_set_use_underline (GTK_BUTTON (self->copy_button), TRUE);
  gtk_widget_set_halign (self->copy_button, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (self->copy_button, _ ("Copy the invite code"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->copy_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Copy the invite code"), -1);
  g_signal_connect_object (self->copy_button, "clicked", G_CALLBACK (copy_clicked), self,
                           G_CONNECT_SWAPPED);
  gtk_widget_set_visible (self->copy_button, FALSE);
  gtk_box_append (GTK_BOX (result), self->copy_button);
  self->qr = sp_qr_new (
      _ ("Invite code as a QR code"),
      _ ("A QR code holding the invite code shown above, for scanning with the new device's "
         "camera. It holds the same text as the code."));
  gtk_widget_set_halign (self->qr, GTK_ALIGN_CENTER);
  gtk_widget_set_visible (self->qr, FALSE);
  gtk_box_append (GTK_BOX (result), self->qr);
  self->result_page = result;
  return result;
}

static void
build (SpSyncDialog *self)
{
  GtkWidget *toolbar = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *page = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);

  gtk_window_set_title (GTK_WINDOW (self), _ (self->info->title));
  build_header (self, toolbar);
  self->form = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_box_append (GTK_BOX (self->form), wrap_label (_ (self->info->intro)));
  if (self->info->entry_label)
    build_entry (self, self->form);
  self->error = GTK_LABEL (wrap_label (NULL));
  gtk_widget_add_css_class (GTK_WIDGET (self->error), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->error), FALSE);
  if (self->info->build)
    self->info->build (self, self->form, page);
  gtk_box_append (GTK_BOX (self->form), GTK_WIDGET (self->error));

  self->stack = GTK_STACK (gtk_stack_new ());
  gtk_stack_set_vhomogeneous (self->stack, FALSE);
  gtk_stack_add_named (self->stack, self->form, "form");
  gtk_stack_add_named (self->stack, build_result (self), "result");
  gtk_box_prepend (GTK_BOX (page), GTK_WIDGET (self->stack));
  gtk_widget_set_margin_top (page, 18);
  gtk_widget_set_margin_bottom (page, 18);
  gtk_widget_set_margin_start (page, 18);
  gtk_widget_set_margin_end (page, 18);
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 520);
  adw_clamp_set_child (ADW_CLAMP (clamp), page);
  gtk_box_append (GTK_BOX (toolbar), clamp);
  adw_window_set_content (ADW_WINDOW (self), toolbar);
  gtk_window_set_default_widget (GTK_WINDOW (self), self->primary);
  if (self->info->start_at_open)
    start (self, self->info->job (self, NULL));
}

static void
sp_sync_dialog_dispose (GObject *object)
{
  SpSyncDialog *self = SP_SYNC_DIALOG (object);

  self->vault = NULL;
  g_cancellable_cancel (self->cancellable);
  if (self->confirm)
    gtk_window_destroy (GTK_WINDOW (self->confirm));
  G_OBJECT_CLASS (sp_sync_dialog_parent_class)->dispose (object);
}

static void
sp_sync_dialog_finalize (GObject *object)
{
  SpSyncDialog *self = SP_SYNC_DIALOG (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->devices, g_ptr_array_unref);
  g_free (self->result);
  G_OBJECT_CLASS (sp_sync_dialog_parent_class)->finalize (object);
}

static void
sp_sync_dialog_class_init (SpSyncDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sp_sync_dialog_dispose;
  object_class->finalize = sp_sync_dialog_finalize;
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_install_action (widget_class, "dialog.submit", NULL, action_submit);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
sp_sync_dialog_init (SpSyncDialog *self)
{
  self->cancellable = g_cancellable_new ();
}

GtkWidget *
sp_sync_dialog_new (SpSyncDialogKind kind, GtkWindow *parent, SpVault *vault)
{
  SpSyncDialog *self
      = g_object_new (SP_TYPE_SYNC_DIALOG, "modal", TRUE, "default-width", 480, NULL);

  /* Destroyed at lock, like every window that showed the vault. */
  sp_secret_window_attach (GTK_WINDOW (self), parent);

  g_return_val_if_fail (kind < G_N_ELEMENTS (kinds), NULL);
  self->kind = kind;
  self->info = &kinds[kind];
  self->vault = vault;
  build (self);
  return GTK_WIDGET (self);
}

SpSyncDialogKind
sp_sync_dialog_get_kind (SpSyncDialog *self)
{
  g_return_val_if_fail (SP_IS_SYNC_DIALOG (self), 0);
  return self->kind;
}

void
sp_sync_dialog_set_input (SpSyncDialog *self, const char *text)
{
  g_return_if_fail (SP_IS_SYNC_DIALOG (self));
  if (self->entry)
    gtk_editable_set_text (GTK_EDITABLE (self->entry), text ? text : "");
}

void
sp_sync_dialog_set_token (SpSyncDialog *self, const char *text)
{
  g_return_if_fail (SP_IS_SYNC_DIALOG (self));
  g_return_if_fail (self->token != NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->token), text);
}

gboolean
sp_sync_dialog_is_busy (SpSyncDialog *self)
{
  g_return_val_if_fail (SP_IS_SYNC_DIALOG (self), FALSE);
  return self->busy;
}

const char *
sp_sync_dialog_get_result (SpSyncDialog *self)
{
  g_return_val_if_fail (SP_IS_SYNC_DIALOG (self), NULL);
  return self->result;
}

const char *
sp_sync_dialog_get_error (SpSyncDialog *self)
{
  g_return_val_if_fail (SP_IS_SYNC_DIALOG (self), NULL);
  return gtk_widget_get_visible (GTK_WIDGET (self->error)) ? gtk_label_get_text (self->error)
                                                           : NULL;
}

GtkWidget *
sp_sync_dialog_get_qr (SpSyncDialog *self)
{
  g_return_val_if_fail (SP_IS_SYNC_DIALOG (self), NULL);
  return self->qr;
}

GPtrArray *
sp_sync_dialog_get_devices (SpSyncDialog *self)
{
  g_return_val_if_fail (SP_IS_SYNC_DIALOG (self), NULL);
  return self->devices;
}
