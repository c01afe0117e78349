/* sp-guard.c — the desktop app's seized-device defences (issue #5): lock on
 * screen lock and before suspend, panic, secret clipboard, duress passphrase,
 * backup and restore.
 *
 * Threads: backup and the duress passphrase use the open vault in a GTask
 * thread. While such a job runs the dialog is modal, a second job cannot
 * start, and none starts while a sync call runs. Locking never waits for it:
 * sp_guard_close_vault() then only marks the vault, and the job's thread
 * closes it (wiping its keys) the moment its call returns, under job_mutex,
 * and never touches it again — the same rule as sp-sync-worker.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <gio/gunixfdlist.h>
#include <string.h>
#include <unistd.h>

#include "sp-guard.h"
#include "sp-record-detail.h"
#include "sp-window.h"
#include "sp-preferences.h"
#include "sp-sync-worker.h"

#define MIN_PASSPHRASE_CHARS 8
#define DEFAULT_CLIPBOARD_DELAY_MS 30000

#define LOGIN1_NAME "org.freedesktop.login1"
#define LOGIN1_PATH "/org/freedesktop/login1"
#define LOGIN1_MANAGER "org.freedesktop.login1.Manager"
#define LOGIN1_SESSION "org.freedesktop.login1.Session"

/* ---- State ----------------------------------------------------------------
 * One application per process: the state is process-wide. */

typedef struct
{
  SpApplication *app; /* weak */
  GCancellable *cancellable;
  GDBusConnection *session;
  guint screensaver_ids[2];
  GDBusConnection *system;
  guint sleep_id;
  guint session_lock_id;
  int inhibit_fd; /* the delay inhibitor lock, or -1 */
  gboolean inhibit_pending;
  GtkWindow *dialog; /* weak: the guard dialog open now */
} Guard;

static Guard guard = { .inhibit_fd = -1 };

static GMutex job_mutex;
static SpVault *job_vault; /* a guard job uses it in a thread */
static gboolean job_close; /* … which closes it when its call returns */

static GdkClipboard *clip;               /* weak */
static GdkContentProvider *clip_content; /* weak: what we put there */
static guint clip_source;
static guint clip_delay_ms = DEFAULT_CLIPBOARD_DELAY_MS;

/* ---- Locking -------------------------------------------------------------- */

void
sp_guard_close_vault (SpVault *vault)
{
  sp_guard_clear_clipboard ();
  if (vault == NULL)
    return;
  g_mutex_lock (&job_mutex);
  if (job_vault == vault)
    {
      job_close = TRUE;
      g_mutex_unlock (&job_mutex);
      return;
    }
  g_mutex_unlock (&job_mutex);
  sp_sync_close_vault (vault);
}

static void
refresh_lock_pages (SpApplication *app)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l; l = l->next)
    if (SP_IS_WINDOW (l->data))
      sp_lock_page_refresh (sp_window_get_lock_page (l->data));
}

void
sp_guard_panic (SpApplication *app)
{
  SpVault *vault;
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;

  g_return_if_fail (SP_IS_APPLICATION (app));
  vault = sp_application_get_vault (app);
  dir = vault ? g_strdup (sp_vault_get_dir (vault)) : sp_vault_default_dir ();
  /* First what is on screen and the keys in memory, then the key file (the
   * master key is gone with it) and the database. No question asked. */
  sp_application_lock (app);
  if (!sp_vault_panic (dir, &error)
      && !g_error_matches (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND))
    g_printerr ("supolka: %s\n", error->message); /* a folder name at most */
  refresh_lock_pages (app);
}

void
sp_guard_screen_lock_changed (SpApplication *app, gboolean active)
{
  g_return_if_fail (SP_IS_APPLICATION (app));
  if (active)
    sp_application_lock (app);
}

static void take_inhibitor (void);

static void
release_inhibitor (void)
{
  if (guard.inhibit_fd >= 0)
    close (guard.inhibit_fd);
  guard.inhibit_fd = -1;
}

void
sp_guard_prepare_for_sleep (SpApplication *app, gboolean start)
{
  g_return_if_fail (SP_IS_APPLICATION (app));
  if (start)
    {
      sp_application_lock (app);
      /* Locked: the system may sleep now. */
      release_inhibitor ();
    }
  else
    take_inhibitor (); /* resumed: ready for the next suspend */
}

gboolean
sp_guard_is_watching_session (SpApplication *app)
{
  return guard.app == app && guard.screensaver_ids[0] != 0;
}

/* ---- D-Bus ---------------------------------------------------------------- */

static void
screensaver_signal (GDBusConnection *connection, const char *sender, const char *path,
                    const char *iface, const char *signal, GVariant *params, gpointer data)
{
  gboolean active = FALSE;

  if (guard.app == NULL || !g_variant_is_of_type (params, G_VARIANT_TYPE ("(b)")))
    return;
  g_variant_get (params, "(b)", &active);
  sp_guard_screen_lock_changed (guard.app, active);
}

static void
session_lock_signal (GDBusConnection *connection, const char *sender, const char *path,
                     const char *iface, const char *signal, GVariant *params, gpointer data)
{
  if (guard.app)
    sp_guard_screen_lock_changed (guard.app, TRUE);
}

static void
sleep_signal (GDBusConnection *connection, const char *sender, const char *path, const char *iface,
              const char *signal, GVariant *params, gpointer data)
{
  gboolean start = FALSE;

  if (guard.app == NULL || !g_variant_is_of_type (params, G_VARIANT_TYPE ("(b)")))
    return;
  g_variant_get (params, "(b)", &start);
  sp_guard_prepare_for_sleep (guard.app, start);
}

static void
session_bus_ready (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  GDBusConnection *connection = g_bus_get_finish (result, &error);

  /* No session bus (or shut down meanwhile): nothing to watch. */
  if (connection == NULL)
    return;
  if (guard.app == NULL)
    {
      g_object_unref (connection);
      return;
    }
  guard.session = connection;
  guard.screensaver_ids[0] = g_dbus_connection_signal_subscribe (
      connection, "org.gnome.ScreenSaver", "org.gnome.ScreenSaver", "ActiveChanged",
      "/org/gnome/ScreenSaver", NULL, G_DBUS_SIGNAL_FLAGS_NONE, screensaver_signal, NULL, NULL);
  guard.screensaver_ids[1] = g_dbus_connection_signal_subscribe (
      connection, "org.freedesktop.ScreenSaver", "org.freedesktop.ScreenSaver", "ActiveChanged",
      "/org/freedesktop/ScreenSaver", NULL, G_DBUS_SIGNAL_FLAGS_NONE, screensaver_signal, NULL,
      NULL);
}

static void
inhibit_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GUnixFDList) fds = NULL;
  g_autoptr (GVariant) reply = NULL;
  gint32 index = -1;
  int fd;

  reply = g_dbus_connection_call_with_unix_fd_list_finish (G_DBUS_CONNECTION (source), &fds, result,
                                                           &error);
  if (reply == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        guard.inhibit_pending = FALSE;
      return; /* no logind, or not allowed: suspend just does not wait */
    }
  guard.inhibit_pending = FALSE;
  g_variant_get (reply, "(h)", &index);
  if (fds == NULL || (fd = g_unix_fd_list_get (fds, index, NULL)) < 0)
    return;
  if (guard.app == NULL || guard.inhibit_fd >= 0)
    close (fd);
  else
    guard.inhibit_fd = fd;
}

static void
take_inhibitor (void)
{
  if (guard.system == NULL || guard.inhibit_fd >= 0 || guard.inhibit_pending)
    return;
  guard.inhibit_pending = TRUE;
  g_dbus_connection_call_with_unix_fd_list (
      guard.system, LOGIN1_NAME, LOGIN1_PATH, LOGIN1_MANAGER, "Inhibit",
      g_variant_new ("(ssss)", "sleep", "Supolka", _ ("Lock the vault before suspend"), "delay"),
      G_VARIANT_TYPE ("(h)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, guard.cancellable, inhibit_done,
      NULL);
}

static void
session_path_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  const char *path = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL || guard.app == NULL || guard.system == NULL)
    return; /* not in a logind session */
  g_variant_get (reply, "(&o)", &path);
  guard.session_lock_id = g_dbus_connection_signal_subscribe (
      guard.system, LOGIN1_NAME, LOGIN1_SESSION, "Lock", path, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
      session_lock_signal, NULL, NULL);
}

static void
system_bus_ready (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  GDBusConnection *connection = g_bus_get_finish (result, &error);

  if (connection == NULL)
    return;
  if (guard.app == NULL)
    {
      g_object_unref (connection);
      return;
    }
  guard.system = connection;
  guard.sleep_id = g_dbus_connection_signal_subscribe (
      connection, LOGIN1_NAME, LOGIN1_MANAGER, "PrepareForSleep", LOGIN1_PATH, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, sleep_signal, NULL, NULL);
  g_dbus_connection_call (connection, LOGIN1_NAME, LOGIN1_PATH, LOGIN1_MANAGER, "GetSessionByPID",
                          g_variant_new ("(u)", (guint32)getpid ()), G_VARIANT_TYPE ("(o)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, guard.cancellable, session_path_done, NULL);
  take_inhibitor ();
}

static void
unsubscribe (GDBusConnection *connection, guint *id)
{
  if (connection && *id)
    g_dbus_connection_signal_unsubscribe (connection, *id);
  *id = 0;
}

static void
app_shutdown (SpApplication *app)
{
  g_cancellable_cancel (guard.cancellable);
  g_clear_object (&guard.cancellable);
  unsubscribe (guard.session, &guard.screensaver_ids[0]);
  unsubscribe (guard.session, &guard.screensaver_ids[1]);
  unsubscribe (guard.system, &guard.sleep_id);
  unsubscribe (guard.system, &guard.session_lock_id);
  g_clear_object (&guard.session);
  g_clear_object (&guard.system);
  release_inhibitor ();
  guard.inhibit_pending = FALSE;
  sp_guard_clear_clipboard ();
  g_clear_handle_id (&clip_source, g_source_remove);
  g_clear_weak_pointer (&guard.app);
}

/* ---- Clipboard ------------------------------------------------------------ */

void
sp_guard_set_clipboard_delay (guint ms)
{
  clip_delay_ms = ms ? ms : DEFAULT_CLIPBOARD_DELAY_MS;
}

void
sp_guard_clear_clipboard (void)
{
  g_clear_handle_id (&clip_source, g_source_remove);
  /* Only our own content: something copied since stays. The provider is
   * compared, not the text, so nothing needs to keep the value. */
  if (clip && clip_content && gdk_clipboard_get_content (clip) == clip_content)
    {
      /* Kept as the owner, with nothing to offer: on X11, giving the
       * selection up (content NULL) races with the next copy. */
      g_autoptr (GdkContentProvider) nothing = gdk_content_provider_new_union (NULL, 0);
      gdk_clipboard_set_content (clip, nothing);
    }
  g_clear_weak_pointer (&clip_content);
}

static gboolean
clipboard_timeout (gpointer data)
{
  clip_source = 0;
  sp_guard_clear_clipboard ();
  return G_SOURCE_REMOVE;
}

void
sp_guard_copy_secret (GtkWidget *widget, const char *value)
{
  static const char hint[] = "secret";
  g_autoptr (GBytes) hint_bytes = g_bytes_new_static (hint, sizeof hint - 1);
  GdkContentProvider *providers[2];
  g_autoptr (GdkContentProvider) content = NULL;
  GdkClipboard *clipboard;

  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (value != NULL);
  clipboard = gtk_widget_get_clipboard (widget);
  /* Text for pasting, and KDE's hint that clipboard managers (Klipper and
   * others that honour it) keep it out of their history. */
  providers[0] = gdk_content_provider_new_typed (G_TYPE_STRING, value);
  providers[1] = gdk_content_provider_new_for_bytes ("x-kde-passwordManagerHint", hint_bytes);
  content = gdk_content_provider_new_union (providers, G_N_ELEMENTS (providers));
  if (!gdk_clipboard_set_content (clipboard, content))
    return;
  g_set_weak_pointer (&clip, clipboard);
  g_set_weak_pointer (&clip_content, content);
  g_clear_handle_id (&clip_source, g_source_remove);
  clip_source = g_timeout_add (clip_delay_ms, clipboard_timeout, NULL);
  g_source_set_name_by_id (clip_source, "[supolka] clear clipboard");
}

void
sp_guard_detail_copy_action (GtkWidget *widget, const char *action_name, GVariant *param)
{
  SpRecord *record = sp_record_detail_get_record (SP_RECORD_DETAIL (widget));
  const char *field = g_variant_get_string (param, NULL);
  const SpKindInfo *kind = record ? sp_kind_lookup (sp_record_get_kind (record)) : NULL;
  const SpFieldInfo *info = kind ? sp_kind_field (kind, field) : NULL;
  const char *value = record ? sp_record_get (record, field) : NULL;
  guint seconds = (clip_delay_ms + 999) / 1000;
  g_autofree char *message = NULL;

  /* Only contact data: the rest is not worth a hidden clipboard. */
  if (info == NULL || !info->sensitive || value == NULL)
    return;
  sp_guard_copy_secret (widget, value);
  message = g_strdup_printf (ngettext ("Copied. The clipboard is cleared in %u second.",
                                       "Copied. The clipboard is cleared in %u seconds.", seconds),
                             seconds);
  g_signal_emit_by_name (widget, "toast", message, NULL);
}

void
sp_guard_add_copy_button (GtkWidget *action_row, const char *field)
{
  GtkWidget *button = gtk_button_new_from_icon_name ("edit-copy-symbolic");

  g_return_if_fail (ADW_IS_ACTION_ROW (action_row));
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, _ ("Copy (cleared from the clipboard after 30 seconds)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Copy"), -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "detail.copy");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", field);
  adw_action_row_add_suffix (ADW_ACTION_ROW (action_row), button);
}

/* ---- Dialogs: duress, backup, restore -------------------------------------- */

typedef enum
{
  FORM_DURESS,
  FORM_BACKUP,
  FORM_RESTORE,
} FormKind;

typedef struct
{
  FormKind kind;
  GtkWindow *window; /* weak */
  GtkWidget *form;   /* the inputs, insensitive while busy */
  GtkWidget *passphrase;
  GtkWidget *repeat;
  GtkWidget *new_pass;
  GtkWidget *new_repeat;
  GtkWidget *replace;
  GtkWidget *error_label;
  GtkWidget *done_label;
  GtkWidget *spinner;
  GtkWidget *ok_button;
  GtkWidget *cancel_button;
  GSimpleActionGroup *actions;
  GCancellable *cancellable; /* cancelled when the dialog goes away */
  char *path;
  char *error;
  gboolean busy;
  gboolean done;
} Form;

static void
form_free (gpointer p)
{
  Form *form = p;

  g_cancellable_cancel (form->cancellable);
  g_clear_object (&form->cancellable);
  g_clear_object (&form->actions);
  g_free (form->path);
  g_free (form->error);
  g_free (form);
}

static Form *
form_of (GtkWindow *dialog)
{
  return dialog ? g_object_get_data (G_OBJECT (dialog), "sp-guard-form") : NULL;
}

static void
form_set_error (Form *form, const char *message)
{
  g_free (form->error);
  form->error = g_strdup (message);
  gtk_label_set_text (GTK_LABEL (form->error_label), message ? message : "");
  gtk_widget_set_visible (form->error_label, message != NULL);
}

static void
form_set_busy (Form *form, gboolean busy)
{
  form->busy = busy;
  if (busy)
    gtk_window_set_focus (form->window, NULL);
  gtk_widget_set_sensitive (form->form, !busy);
  gtk_widget_set_sensitive (form->ok_button, !busy);
  gtk_widget_set_visible (form->spinner, busy);
  gtk_spinner_set_spinning (GTK_SPINNER (form->spinner), busy);
  g_simple_action_set_enabled (
      G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (form->actions), "ok")), !busy);
  g_simple_action_set_enabled (
      G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (form->actions), "remove")), !busy);
}

static void
form_set_done (Form *form, const char *message)
{
  form->done = TRUE;
  form_set_error (form, NULL);
  gtk_widget_set_visible (form->form, FALSE);
  gtk_label_set_text (GTK_LABEL (form->done_label), message);
  gtk_widget_set_visible (form->done_label, TRUE);
  gtk_widget_set_visible (form->ok_button, FALSE);
  gtk_button_set_label (GTK_BUTTON (form->cancel_button), _ ("_Close"));
  gtk_widget_grab_focus (form->cancel_button);
}

static const char *
entry_text (GtkWidget *entry)
{
  return entry ? gtk_editable_get_text (GTK_EDITABLE (entry)) : "";
}

static SpSecret *
entry_secret (GtkWidget *entry)
{
  const char *text = entry_text (entry);

  /* The copy for the KDF lives in sodium_malloc memory. */
  return *text ? sp_secret_new_from_data (text, strlen (text)) : NULL;
}

static void
clear_entries (Form *form)
{
  GtkWidget *entries[] = { form->passphrase, form->repeat, form->new_pass, form->new_repeat };

  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    if (entries[i])
      gtk_editable_set_text (GTK_EDITABLE (entries[i]), "");
}

/* A new passphrase typed twice: NULL when fine, else the message. */
static const char *
check_new_passphrase (GtkWidget *entry, GtkWidget *repeat)
{
  const char *text = entry_text (entry);

  if (g_utf8_strlen (text, -1) < MIN_PASSPHRASE_CHARS)
    return _ ("The passphrase must have at least 8 characters.");
  if (g_strcmp0 (text, entry_text (repeat)) != 0)
    return _ ("The two passphrases differ. Type the same passphrase twice.");
  return NULL;
}

static SpKdfProfile
new_profile (void)
{
  /* The test suite's fast profile, as the lock page honours it. */
  if (g_strcmp0 (g_getenv ("SUPOLKA_TEST_KDF"), "interactive") == 0)
    return SP_KDF_INTERACTIVE;
  {
    g_autoptr (GSettings) settings = sp_preferences_get_settings ();
    g_autofree char *name = settings ? g_settings_get_string (settings, "kdf-profile") : NULL;
    SpKdfProfile profile;

    if (name && sp_kdf_profile_from_string (name, &profile) && profile >= SP_KDF_MODERATE)
      return profile;
  }
  return SP_KDF_MODERATE;
}

/* ---- Jobs ------------------------------------------------------------------ */

typedef struct
{
  FormKind kind;
  gboolean remove; /* duress: remove instead of set */
  SpVault *vault;
  char *path;
  char *dir;
  SpSecret *passphrase;
  SpSecret *new_passphrase;
  SpKdfProfile profile;
  gboolean replace;
} Job;

static void
job_free (gpointer p)
{
  Job *job = p;

  g_free (job->path);
  g_free (job->dir);
  sp_secret_free (job->passphrase);
  sp_secret_free (job->new_passphrase);
  g_free (job);
}

static gboolean
job_acquire (SpVault *vault, GError **error)
{
  gboolean ok = FALSE;

  if (sp_sync_is_busy ())
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                           _ ("Sync is running. Try again when it has finished."));
      return FALSE;
    }
  g_mutex_lock (&job_mutex);
  if (job_vault == NULL)
    {
      job_vault = vault;
      job_close = FALSE;
      ok = TRUE;
    }
  g_mutex_unlock (&job_mutex);
  if (!ok)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                         _ ("Another operation is still running. Try again in a moment."));
  return ok;
}

/* In the job's thread, once its call has returned: from here on it does not
 * touch the vault. */
static void
job_release (SpVault *vault)
{
  gboolean close_it;

  g_mutex_lock (&job_mutex);
  close_it = job_close;
  job_vault = NULL;
  job_close = FALSE;
  if (close_it)
    sp_vault_close (vault);
  g_mutex_unlock (&job_mutex);
}

static void
job_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Job *job = data;
  GError *error = NULL;
  gboolean ok = FALSE;

  switch (job->kind)
    {
      case FORM_DURESS:
        ok = job->remove ? sp_vault_clear_duress (job->vault, &error)
                         : sp_vault_set_duress (job->vault, job->passphrase, &error);
        break;
      case FORM_BACKUP:
        ok = sp_vault_backup (job->vault, job->path, job->passphrase, job->profile, &error);
        break;
      case FORM_RESTORE:
        {
          g_autoptr (GFile) dir = g_file_new_for_path (job->dir);
          g_autoptr (GFile) parent = g_file_get_parent (dir);
          g_autoptr (GError) mkdir_error = NULL;

          /* Only the parent: core makes the vault folder itself, 0700. */
          if (parent && !g_file_make_directory_with_parents (parent, NULL, &mkdir_error)
              && !g_error_matches (mkdir_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
            {
              g_task_return_error (task, g_steal_pointer (&mkdir_error));
              return;
            }
          ok = sp_vault_restore (job->path, job->passphrase, job->dir, job->new_passphrase,
                                 job->profile, job->replace, &error);
        }
        break;
    }
  if (job->vault)
    job_release (job->vault);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static const char *
job_error_text (Job *job, GError *error)
{
  if (error->domain == SP_CORE_ERROR)
    switch (error->code)
      {
        case SP_CORE_ERROR_WRONG_PASSPHRASE:
          /* The first encrypted block does not open: core cannot tell a
         * wrong passphrase from a damaged start of the file. */
          return _ ("Wrong backup passphrase, or the file is damaged. Nothing was changed.");
        case SP_CORE_ERROR_CORRUPT:
          return _ ("This file is damaged, incomplete or not a Supolka backup. Nothing was "
                    "changed.");
        case SP_CORE_ERROR_TOO_NEW:
          return _ ("This backup was made by a newer version of Supolka. Update Supolka first.");
        case SP_CORE_ERROR_EXISTS:
          return _ ("There is a vault on this computer already. Turn on “Replace the vault on "
                    "this computer” to restore over it.");
        case SP_CORE_ERROR_INVALID:
          if (job->kind == FORM_DURESS)
            return _ ("This is the vault's own passphrase. Choose a different one.");
          break;
        case SP_CORE_ERROR_LOCKED:
          return _ ("The vault is locked.");
        default:
          break;
      }
  return error->message;
}

static void
job_done (GObject *source, GAsyncResult *result, gpointer data)
{
  GTask *task = G_TASK (result);
  Job *job = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  Form *form = data;
  g_autoptr (GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (task, &error);

  /* The dialog went away (closed, or destroyed by a lock): nothing to show. */
  if (g_cancellable_is_cancelled (cancellable))
    return;
  form_set_busy (form, FALSE);
  if (!ok)
    {
      form_set_error (form, job_error_text (job, error));
      clear_entries (form);
      if (form->passphrase)
        gtk_widget_grab_focus (form->passphrase);
      return;
    }
  clear_entries (form);
  switch (job->kind)
    {
      case FORM_DURESS:
        form_set_done (form, job->remove
                                 ? _ ("The duress passphrase is removed, if there was one.")
                                 : _ ("The duress passphrase is set. Entering it at the lock "
                                      "screen destroys the real data."));
        break;
      case FORM_BACKUP:
        form_set_done (form, _ ("The backup is saved. Keep it away from this computer and keep its "
                                "passphrase safe: together they open all the data."));
        break;
      case FORM_RESTORE:
        if (guard.app)
          refresh_lock_pages (guard.app);
        form_set_done (form, job->new_passphrase
                                 ? _ ("The vault is restored. Unlock it with the new passphrase.")
                                 : _ ("The vault is restored. Unlock it with the backup's "
                                      "passphrase."));
        break;
    }
}

static void
start_job (Form *form, Job *job)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GError) error = NULL;

  if (job->vault && !job_acquire (job->vault, &error))
    {
      form_set_error (form, error->message);
      job_free (job);
      return;
    }
  form_set_error (form, NULL);
  form_set_busy (form, TRUE);
  task = g_task_new (form->window, form->cancellable, job_done, form);
  /* Whatever happens to the dialog, the job runs to its end (and releases
   * the vault): the result is just not shown. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_source_tag (task, start_job);
  g_task_set_task_data (task, job, job_free);
  g_task_run_in_thread (task, job_thread);
}

static void
form_ok (GSimpleAction *action, GVariant *param, gpointer data)
{
  Form *form = data;
  SpVault *vault = guard.app ? sp_application_get_vault (guard.app) : NULL;
  const char *problem = NULL;
  Job *job;

  if (form->busy || form->done)
    return;
  if (form->kind != FORM_RESTORE && vault == NULL)
    {
      form_set_error (form, _ ("The vault is locked."));
      return;
    }
  if (form->kind == FORM_RESTORE)
    {
      if (*entry_text (form->passphrase) == '\0')
        problem = _ ("Enter the backup's passphrase.");
      else if (*entry_text (form->new_pass) || *entry_text (form->new_repeat))
        problem = check_new_passphrase (form->new_pass, form->new_repeat);
    }
  else
    problem = check_new_passphrase (form->passphrase, form->repeat);
  if (problem)
    {
      form_set_error (form, problem);
      return;
    }
  job = g_new0 (Job, 1);
  job->kind = form->kind;
  job->passphrase = entry_secret (form->passphrase);
  switch (form->kind)
    {
      case FORM_DURESS:
        job->vault = vault;
        break;
      case FORM_BACKUP:
        job->vault = vault;
        job->path = g_strdup (form->path);
        /* As strong as the vault's own passphrase. */
        job->profile = sp_vault_get_kdf_profile (vault);
        break;
      case FORM_RESTORE:
        job->path = g_strdup (form->path);
        job->dir = sp_vault_default_dir ();
        job->new_passphrase = entry_secret (form->new_pass);
        job->profile = new_profile ();
        job->replace = gtk_switch_get_active (GTK_SWITCH (form->replace));
        break;
    }
  start_job (form, job);
}

static void
form_remove (GSimpleAction *action, GVariant *param, gpointer data)
{
  Form *form = data;
  SpVault *vault = guard.app ? sp_application_get_vault (guard.app) : NULL;
  Job *job;

  if (form->busy || form->done || form->kind != FORM_DURESS)
    return;
  if (vault == NULL)
    {
      form_set_error (form, _ ("The vault is locked."));
      return;
    }
  job = g_new0 (Job, 1);
  job->kind = FORM_DURESS;
  job->remove = TRUE;
  job->vault = vault;
  start_job (form, job);
}

static void
form_cancel (GSimpleAction *action, GVariant *param, gpointer data)
{
  Form *form = data;

  if (form->window)
    gtk_window_destroy (form->window);
}

static GtkWidget *
wrapped_label (const char *text, const char *css_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (css_class)
    gtk_widget_add_css_class (label, css_class);
  return label;
}

static void
row_activated (GtkWidget *row, gpointer data)
{
  Form *form = data;

  g_action_group_activate_action (G_ACTION_GROUP (form->actions), "ok", NULL);
}

static void
dialog_destroyed (GtkWidget *window, gpointer data)
{
  Form *form = data;

  /* Any job still running reports to nobody. */
  g_cancellable_cancel (form->cancellable);
}

static Form *
form_new (FormKind kind, const char *title, const char *ok_label)
{
  GtkWidget *window = adw_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *scroller = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *outer = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  GtkWidget *end = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  static const GActionEntry entries[] = {
    { "ok", form_ok, NULL, NULL, NULL, { 0 } },
    { "remove", form_remove, NULL, NULL, NULL, { 0 } },
    { "cancel", form_cancel, NULL, NULL, NULL, { 0 } },
  };
  Form *form = g_new0 (Form, 1);

  form->kind = kind;
  form->cancellable = g_cancellable_new ();
  g_set_weak_pointer (&form->window, GTK_WINDOW (window));
  g_object_set_data_full (G_OBJECT (window), "sp-guard-form", form, form_free);
  /* Holds passphrases: destroyed by every lock, like record windows. */
  g_object_set_data (G_OBJECT (window), "sp-personal", GINT_TO_POINTER (1));
  g_signal_connect (window, "destroy", G_CALLBACK (dialog_destroyed), form);

  form->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (form->actions), entries, G_N_ELEMENTS (entries),
                                   form);
  gtk_widget_insert_action_group (window, "guard", G_ACTION_GROUP (form->actions));

  gtk_window_set_title (GTK_WINDOW (window), title);
  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  gtk_window_set_default_size (GTK_WINDOW (window), 460, -1);
  gtk_window_set_hide_on_close (GTK_WINDOW (window), FALSE);

  adw_header_bar_set_show_end_title_buttons (ADW_HEADER_BAR (header), FALSE);
  adw_header_bar_set_show_start_title_buttons (ADW_HEADER_BAR (header), FALSE);
  form->cancel_button = gtk_button_new_with_mnemonic (_ ("_Cancel"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (form->cancel_button), "guard.cancel");
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), form->cancel_button);
  form->spinner = gtk_spinner_new ();
  gtk_widget_set_visible (form->spinner, FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (form->spinner), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Working"), -1);
  form->ok_button = gtk_button_new_with_mnemonic (ok_label);
  gtk_widget_add_css_class (form->ok_button, "suggested-action");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (form->ok_button), "guard.ok");
  gtk_box_append (GTK_BOX (end), form->spinner);
  gtk_box_append (GTK_BOX (end), form->ok_button);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), end);
  gtk_box_append (GTK_BOX (box), header);

  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroller), TRUE);
  gtk_widget_set_vexpand (scroller, TRUE);
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 520);
  gtk_widget_set_margin_top (outer, 18);
  gtk_widget_set_margin_bottom (outer, 24);
  gtk_widget_set_margin_start (outer, 12);
  gtk_widget_set_margin_end (outer, 12);
  form->form = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  form->error_label = wrapped_label (NULL, "error");
  gtk_widget_set_visible (form->error_label, FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (form->error_label), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Error"), -1);
  form->done_label = wrapped_label (NULL, NULL);
  gtk_widget_set_visible (form->done_label, FALSE);
  gtk_box_append (GTK_BOX (outer), form->form);
  gtk_box_append (GTK_BOX (outer), form->error_label);
  gtk_box_append (GTK_BOX (outer), form->done_label);
  adw_clamp_set_child (ADW_CLAMP (clamp), outer);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), clamp);
  gtk_box_append (GTK_BOX (box), scroller);
  adw_window_set_content (ADW_WINDOW (window), box);
  return form;
}

static void
form_present (Form *form, GtkWindow *parent)
{
  if (parent)
    gtk_window_set_transient_for (form->window, parent);
  if (guard.dialog)
    gtk_window_destroy (guard.dialog);
  g_set_weak_pointer (&guard.dialog, form->window);
  gtk_window_present (form->window);
  if (form->passphrase)
    gtk_widget_grab_focus (form->passphrase);
}

static GtkWidget *
form_group (Form *form, const char *title, const char *description)
{
  GtkWidget *group = adw_preferences_group_new ();

  if (title)
    adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), title);
  if (description)
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), description);
  gtk_box_append (GTK_BOX (form->form), group);
  return group;
}

static GtkWidget *
form_password (Form *form, GtkWidget *group, const char *title)
{
  GtkWidget *row = adw_password_entry_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (row), TRUE);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  g_signal_connect (row, "entry-activated", G_CALLBACK (row_activated), form);
  return row;
}

static GtkWindow *
active_window (SpApplication *app)
{
  return gtk_application_get_active_window (GTK_APPLICATION (app));
}

static void
show_duress (SpApplication *app)
{
  Form *form = form_new (FORM_DURESS, _ ("Duress Passphrase"), _ ("_Set"));
  GtkWidget *group;
  GtkWidget *remove_group, *remove;

  gtk_box_append (
      GTK_BOX (form->form),
      wrapped_label (_ ("A duress passphrase is a second passphrase for when you are forced to "
                        "unlock the vault. Entering it at the lock screen destroys the real data "
                        "on this computer and opens an empty vault that looks ordinary. It cannot "
                        "be undone."),
                     NULL));
  gtk_box_append (
      GTK_BOX (form->form),
      wrapped_label (_ ("Think before you use it: destroying data in front of the police may "
                        "itself be charged as destroying evidence. An empty vault on a computer "
                        "known to be used for this work may raise suspicion. Data synced to other "
                        "devices stays there. This is off unless you set a passphrase here."),
                     "warning"));
  group = form_group (form, _ ("New duress passphrase"), NULL);
  form->passphrase = form_password (form, group, _ ("_Duress passphrase"));
  form->repeat = form_password (form, group, _ ("_Repeat the duress passphrase"));
  remove_group
      = form_group (form, NULL,
                    _ ("Nothing shows whether a duress passphrase is set. Removing it is safe "
                       "either way."));
  remove = gtk_button_new_with_mnemonic (_ ("_Remove the Duress Passphrase"));
  gtk_widget_set_halign (remove, GTK_ALIGN_START);
  gtk_widget_add_css_class (remove, "destructive-action");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (remove), "guard.remove");
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (remove_group), remove);
  form_present (form, active_window (app));
}

static void
show_backup_form (SpApplication *app, const char *path)
{
  Form *form = form_new (FORM_BACKUP, _ ("Back Up the Vault"), _ ("_Back Up"));
  g_autofree char *name = g_filename_display_basename (path);
  g_autofree char *where = g_strdup_printf (_ ("The backup goes to “%s”, encrypted with a "
                                               "passphrase of its own. Use a passphrase you "
                                               "will remember: without it the backup cannot "
                                               "be restored."),
                                            name);
  GtkWidget *group;

  form->path = g_strdup (path);
  gtk_box_append (GTK_BOX (form->form), wrapped_label (where, NULL));
  group = form_group (form, _ ("Backup passphrase"), NULL);
  form->passphrase = form_password (form, group, _ ("_Backup passphrase"));
  form->repeat = form_password (form, group, _ ("_Repeat the backup passphrase"));
  form_present (form, active_window (app));
}

static void
show_restore_form (SpApplication *app, const char *path)
{
  Form *form = form_new (FORM_RESTORE, _ ("Restore from Backup"), _ ("_Restore"));
  g_autofree char *name = g_filename_display_basename (path);
  g_autofree char *from = g_strdup_printf (_ ("Restoring the vault from “%s”."), name);
  g_autofree char *dir = sp_vault_default_dir ();
  GtkWidget *group, *row;

  form->path = g_strdup (path);
  gtk_box_append (GTK_BOX (form->form), wrapped_label (from, NULL));
  group = form_group (form, NULL, NULL);
  form->passphrase = form_password (form, group, _ ("_Backup passphrase"));
  group = form_group (form, _ ("New passphrase (optional)"),
                      _ ("Leave empty to unlock the restored vault with the backup's "
                         "passphrase."));
  form->new_pass = form_password (form, group, _ ("_New passphrase"));
  form->new_repeat = form_password (form, group, _ ("R_epeat the new passphrase"));
  group = form_group (form, NULL, NULL);
  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 _ ("Replace the vault on this computer"));
  adw_action_row_set_subtitle (
      ADW_ACTION_ROW (row),
      _ ("The vault here is destroyed once the backup has been read completely."));
  form->replace = gtk_switch_new ();
  gtk_widget_set_valign (form->replace, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), form->replace);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), form->replace);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  gtk_widget_set_visible (group, sp_vault_exists (dir));
  form_present (form, active_window (app));
}

/* ---- File choosers ---------------------------------------------------------- */

static void
chooser_response (GtkNativeDialog *native, int response, gpointer data)
{
  FormKind kind = GPOINTER_TO_INT (data);
  g_autoptr (GFile) file = NULL;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));
  path = file ? g_file_get_path (file) : NULL;
  gtk_native_dialog_destroy (native);
  g_object_unref (native);
  if (path == NULL || guard.app == NULL)
    return;
  if (kind == FORM_BACKUP)
    {
      /* Locked meanwhile: nothing to back up. */
      if (sp_application_get_vault (guard.app))
        show_backup_form (guard.app, path);
    }
  else if (sp_application_get_vault (guard.app) == NULL)
    show_restore_form (guard.app, path);
}

static void
choose_file (SpApplication *app, FormKind kind)
{
  gboolean save = kind == FORM_BACKUP;
  GtkFileChooserNative *native = gtk_file_chooser_native_new (
      save ? _ ("Back Up the Vault") : _ ("Restore from Backup"), active_window (app),
      save ? GTK_FILE_CHOOSER_ACTION_SAVE : GTK_FILE_CHOOSER_ACTION_OPEN,
      save ? _ ("_Save") : _ ("_Open"), _ ("_Cancel"));

  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  if (save)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), "supolka.backup");
  g_signal_connect (native, "response", G_CALLBACK (chooser_response), GINT_TO_POINTER (kind));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

static void
action_duress (GSimpleAction *action, GVariant *param, gpointer data)
{
  if (sp_application_get_vault (SP_APPLICATION (data)))
    show_duress (SP_APPLICATION (data));
}

static void
action_backup (GSimpleAction *action, GVariant *param, gpointer data)
{
  if (sp_application_get_vault (SP_APPLICATION (data)))
    choose_file (SP_APPLICATION (data), FORM_BACKUP);
}

static void
action_restore (GSimpleAction *action, GVariant *param, gpointer data)
{
  if (sp_application_get_vault (SP_APPLICATION (data)) == NULL)
    choose_file (SP_APPLICATION (data), FORM_RESTORE);
}

/* ---- Test access ------------------------------------------------------------ */

GtkWindow *
sp_guard_get_dialog (SpApplication *app)
{
  return guard.app == app ? guard.dialog : NULL;
}

GtkEditable *
sp_guard_dialog_get_entry (GtkWindow *dialog, const char *name)
{
  Form *form = form_of (dialog);
  GtkWidget *w = NULL;

  g_return_val_if_fail (form != NULL, NULL);
  if (g_str_equal (name, "passphrase"))
    w = form->passphrase;
  else if (g_str_equal (name, "repeat"))
    w = form->repeat;
  else if (g_str_equal (name, "new"))
    w = form->new_pass;
  else if (g_str_equal (name, "new-repeat"))
    w = form->new_repeat;
  return w ? GTK_EDITABLE (w) : NULL;
}

GtkWidget *
sp_guard_dialog_get_replace (GtkWindow *dialog)
{
  Form *form = form_of (dialog);

  g_return_val_if_fail (form != NULL, NULL);
  return form->replace;
}

gboolean
sp_guard_dialog_is_busy (GtkWindow *dialog)
{
  Form *form = form_of (dialog);

  return form && form->busy;
}

gboolean
sp_guard_dialog_is_done (GtkWindow *dialog)
{
  Form *form = form_of (dialog);

  return form && form->done;
}

const char *
sp_guard_dialog_get_error (GtkWindow *dialog)
{
  Form *form = form_of (dialog);

  return form ? form->error : NULL;
}

/* ---- Installation -------------------------------------------------------------- */

static const GActionEntry guard_actions[] = {
  { "duress", action_duress, NULL, NULL, NULL, { 0 } },
  { "backup", action_backup, NULL, NULL, NULL, { 0 } },
  { "restore", action_restore, NULL, NULL, NULL, { 0 } },
};

void
sp_guard_install (SpApplication *app)
{
  GtkSettings *settings = gtk_settings_get_default ();

  g_return_if_fail (SP_IS_APPLICATION (app));
  g_return_if_fail (guard.app == NULL);
  g_set_weak_pointer (&guard.app, app);
  guard.cancellable = g_cancellable_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (app), guard_actions, G_N_ELEMENTS (guard_actions),
                                   app);
  /* No recent files: file choosers and anything else in GTK leave no list
   * of what was opened (recently-used.xbel) behind. */
  if (settings)
    g_object_set (settings, "gtk-recent-files-enabled", FALSE, "gtk-recent-files-max-age", 0, NULL);
  g_signal_connect (app, "shutdown", G_CALLBACK (app_shutdown), NULL);
  g_bus_get (G_BUS_TYPE_SESSION, guard.cancellable, session_bus_ready, NULL);
  g_bus_get (G_BUS_TYPE_SYSTEM, guard.cancellable, system_bus_ready, NULL);
}
