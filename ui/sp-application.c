/* sp-application.c — the Supolka desktop application: the open vault, its
 * windows (main windows and secret windows), lock and panic, and the
 * app.* actions.
 *
 * Secret windows: every window added to the application that is not a main
 * window (SpWindow) shows personal data or sync secrets (record editors,
 * sync and guard dialogs join through sp_secret_window_attach()). The
 * application keeps them in one list, destroys them all at lock and makes
 * them insensitive while a vault job runs (except the job's own window).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>

#include "sp-application.h"
#include "sp-clipboard.h"
#include "sp-guard-dialogs.h"
#include "sp-preferences.h"
#include "sp-relaunch.h"
#include "sp-session-watch.h"
#include "sp-shortcuts.h"
#include "sp-ui-resources.h"
#include "sp-vault-job.h"
#include "sp-window.h"

struct _SpApplication
{
  AdwApplication parent_instance;
  SpVault *vault;
  GSettings *settings; /* NULL when the schema is not installed */
  guint auto_lock_delay;
  gint64 last_activity; /* monotonic µs */
  guint idle_source;
  GPtrArray *secret_windows; /* GtkWindow*, not owned: removed when GTK removes them */
  gboolean busy;             /* a vault job runs */
  char **relaunch_argv;      /* NULL: no fresh process after a lock (in-process tests) */
  guint relaunch_source;     /* a relaunch waits for a vault job to return */
  gboolean ending;           /* quit or shutdown: locks do not relaunch */
};

/* The main windows' actions that need an open vault, usable neither while
 * locked nor while a vault job has the vault. */
static const char *const vault_actions[] = { "win.search", "win.new-record", "win.undo-delete" };

G_DEFINE_FINAL_TYPE (SpApplication, sp_application, ADW_TYPE_APPLICATION)

void
sp_ui_init (void)
{
  /* Referencing the resource pulls its object file (and constructor) out of
   * the static library. */
  GResource *resource = sp_ui_get_resource ();

  g_return_if_fail (resource != NULL);
}

static void
for_each_window (SpApplication *self, void (*fn) (SpWindow *, gpointer), gpointer data)
{
  GList *windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (self)));

  for (GList *l = windows; l; l = l->next)
    g_object_ref (l->data);
  for (GList *l = windows; l; l = l->next)
    if (SP_IS_WINDOW (l->data))
      fn (l->data, data);
  g_list_free_full (windows, g_object_unref);
}

static void
update_vault_actions (SpApplication *self, SpWindow *window)
{
  gboolean enabled = self->vault != NULL && !self->busy;

  for (guint i = 0; i < G_N_ELEMENTS (vault_actions); i++)
    gtk_widget_action_set_enabled (GTK_WIDGET (window), vault_actions[i], enabled);
}

static void
window_lock_cb (SpWindow *window, gpointer data)
{
  sp_window_lock (window);
  update_vault_actions (data, window);
}

static void
window_show_cb (SpWindow *window, gpointer data)
{
  SpApplication *self = data;

  sp_window_show_vault (window, self->vault);
  update_vault_actions (self, window);
}

static void
window_busy_cb (SpWindow *window, gpointer data)
{
  SpApplication *self = data;

  sp_window_set_busy (window, self->busy);
  update_vault_actions (self, window);
}

/* The busy hook of sp-vault-job.h. */
static void
vault_job_busy (GtkWindow *owner, gboolean busy, gpointer data)
{
  SpApplication *self = data;

  self->busy = busy;
  for_each_window (self, window_busy_cb, self);
  /* Record editors are windows of their own and write to the vault; the
   * window running the job stays usable (it shows its own progress). */
  for (guint i = 0; i < self->secret_windows->len; i++)
    if (self->secret_windows->pdata[i] != owner)
      gtk_widget_set_sensitive (self->secret_windows->pdata[i], !busy);
}

static void
destroy_secret_windows (SpApplication *self)
{
  g_autoptr (GPtrArray) windows = g_ptr_array_new_with_free_func (g_object_unref);

  /* Copied: each destroyed window leaves the list as it goes. */
  for (guint i = 0; i < self->secret_windows->len; i++)
    g_ptr_array_add (windows, g_object_ref (self->secret_windows->pdata[i]));
  for (guint i = 0; i < windows->len; i++)
    gtk_window_destroy (windows->pdata[i]);
}

static gboolean idle_check (gpointer data);

static void
schedule_idle_check (SpApplication *self)
{
  gint64 now = g_get_monotonic_time ();
  gint64 due;
  guint wait_s;

  g_clear_handle_id (&self->idle_source, g_source_remove);
  if (self->vault == NULL || self->auto_lock_delay == 0)
    return;
  due = self->last_activity + (gint64)self->auto_lock_delay * G_USEC_PER_SEC;
  wait_s = due > now ? (guint)((due - now + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC) : 0;
  self->idle_source = g_timeout_add_seconds (MAX (wait_s, 1), idle_check, self);
  g_source_set_name_by_id (self->idle_source, "[supolka] idle lock");
}

static gboolean
idle_check (gpointer data)
{
  SpApplication *self = data;
  gint64 idle = g_get_monotonic_time () - self->last_activity;

  self->idle_source = 0;
  if (self->vault && self->auto_lock_delay
      && idle >= (gint64)self->auto_lock_delay * G_USEC_PER_SEC)
    sp_application_lock (self);
  else
    schedule_idle_check (self);
  return G_SOURCE_REMOVE;
}

void
sp_application_note_activity (SpApplication *self)
{
  g_return_if_fail (SP_IS_APPLICATION (self));
  /* Only a timestamp: the timer looks at it when it fires. */
  self->last_activity = g_get_monotonic_time ();
}

void
sp_application_set_auto_lock_delay (SpApplication *self, guint seconds)
{
  g_return_if_fail (SP_IS_APPLICATION (self));
  self->auto_lock_delay = seconds;
  schedule_idle_check (self);
}

guint
sp_application_get_auto_lock_delay (SpApplication *self)
{
  g_return_val_if_fail (SP_IS_APPLICATION (self), 0);
  return self->auto_lock_delay;
}

static void
settings_changed (SpApplication *self, const char *key, GSettings *settings)
{
  sp_application_set_auto_lock_delay (self, g_settings_get_uint (settings, "auto-lock-delay"));
}

void
sp_application_set_vault (SpApplication *self, SpVault *vault)
{
  g_return_if_fail (SP_IS_APPLICATION (self));
  g_return_if_fail (vault != NULL);
  if (self->vault)
    sp_application_lock (self);
  /* Unlocked again while a relaunch waited for a vault job: this session
   * gets its own at its lock. */
  g_clear_handle_id (&self->relaunch_source, g_source_remove);
  self->vault = vault;
  self->last_activity = g_get_monotonic_time ();
  for_each_window (self, window_show_cb, self);
  schedule_idle_check (self);
}

SpVault *
sp_application_get_vault (SpApplication *self)
{
  g_return_val_if_fail (SP_IS_APPLICATION (self), NULL);
  return self->vault;
}

static void
sp_application_activate_window (SpApplication *self)
{
  g_application_activate (G_APPLICATION (self));
}

static gboolean
relaunch_cb (gpointer data)
{
  SpApplication *self = data;
  g_autoptr (GError) error = NULL;
  GList *windows;

  /* The job's thread closes the vault when its work returns: wait for it. */
  if (sp_vault_job_is_busy ())
    return G_SOURCE_CONTINUE;
  self->relaunch_source = 0;
  /* Held: destroying one window may destroy its dialogs. */
  windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (self)));
  for (GList *l = windows; l; l = l->next)
    g_object_ref (l->data);
  for (GList *l = windows; l; l = l->next)
    gtk_window_destroy (l->data);
  g_list_free_full (windows, g_object_unref);
  if (!sp_relaunch_exec (G_APPLICATION (self), self->relaunch_argv, &error))
    {
      /* Still locked, only not in a fresh process: say so and carry on. */
      g_printerr ("supolka: %s\n", error->message);
      sp_application_activate_window (self);
    }
  return G_SOURCE_REMOVE;
}

void
sp_application_set_relaunch_on_lock (SpApplication *self, char **argv)
{
  g_return_if_fail (SP_IS_APPLICATION (self));
  g_strfreev (self->relaunch_argv);
  self->relaunch_argv = g_strdupv (argv);
}

void
sp_application_lock (SpApplication *self)
{
  SpVault *vault;

  g_return_if_fail (SP_IS_APPLICATION (self));
  g_clear_handle_id (&self->idle_source, g_source_remove);
  /* Widgets first (they borrow the vault), then the vault and its keys. */
  vault = g_steal_pointer (&self->vault);
  destroy_secret_windows (self);
  for_each_window (self, window_lock_cb, self);
  sp_clipboard_clear ();
  /* A vault job may still use the vault: then it is closed when the job's
   * work returns. */
  sp_vault_job_close_vault (vault);
  /* What the toolkit freed is still in this process's heap: a fresh process
   * takes its place (sp-relaunch.h), once this call's caller is done (panic
   * removes the files first). */
  if (vault && self->relaunch_argv && !self->ending && self->relaunch_source == 0)
    {
      self->relaunch_source = g_timeout_add (50, relaunch_cb, self);
      g_source_set_name_by_id (self->relaunch_source, "[supolka] relaunch after lock");
    }
}

static void
refresh_lock_pages (SpApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    if (SP_IS_WINDOW (l->data))
      sp_lock_page_refresh (sp_window_get_lock_page (l->data));
}

void
sp_application_panic (SpApplication *self)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;

  g_return_if_fail (SP_IS_APPLICATION (self));
  dir = self->vault ? g_strdup (sp_vault_get_dir (self->vault)) : sp_vault_default_dir ();
  /* First what is on screen and the keys in memory, then the key file (the
   * master key is gone with it) and the database. No question asked. */
  sp_application_lock (self);
  if (!sp_vault_panic (dir, &error)
      && !g_error_matches (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND))
    g_printerr ("supolka: %s\n", error->message); /* a folder name at most */
  refresh_lock_pages (self);
}

static void
action_lock (GSimpleAction *action, GVariant *param, gpointer data)
{
  sp_application_lock (SP_APPLICATION (data));
}

static void
action_panic (GSimpleAction *action, GVariant *param, gpointer data)
{
  sp_application_panic (SP_APPLICATION (data));
}

static void
action_quit (GSimpleAction *action, GVariant *param, gpointer data)
{
  SP_APPLICATION (data)->ending = TRUE;
  sp_application_lock (SP_APPLICATION (data));
  g_application_quit (G_APPLICATION (data));
}

static void
action_preferences (GSimpleAction *action, GVariant *param, gpointer data)
{
  sp_preferences_show (gtk_application_get_active_window (GTK_APPLICATION (data)));
}

static void
action_shortcuts (GSimpleAction *action, GVariant *param, gpointer data)
{
  GtkWidget *window = sp_shortcuts_window_new ();

  gtk_window_set_transient_for (GTK_WINDOW (window),
                                gtk_application_get_active_window (GTK_APPLICATION (data)));
  gtk_window_present (GTK_WINDOW (window));
}

static void
action_about (GSimpleAction *action, GVariant *param, gpointer data)
{
  GtkWidget *about = adw_about_window_new ();

  adw_about_window_set_application_name (ADW_ABOUT_WINDOW (about), _ ("Supolka"));
  adw_about_window_set_application_icon (ADW_ABOUT_WINDOW (about), SP_APPLICATION_ID);
  adw_about_window_set_version (ADW_ABOUT_WINDOW (about), PACKAGE_VERSION);
  adw_about_window_set_comments (
      ADW_ABOUT_WINDOW (about),
      _ ("An encrypted record of a network of civil-society organisations: who, where, which "
         "projects and events."));
  adw_about_window_set_license_type (ADW_ABOUT_WINDOW (about), GTK_LICENSE_GPL_3_0);
  gtk_window_set_transient_for (GTK_WINDOW (about),
                                gtk_application_get_active_window (GTK_APPLICATION (data)));
  gtk_window_present (GTK_WINDOW (about));
}

static GtkWindow *
active_window (SpApplication *self)
{
  return gtk_application_get_active_window (GTK_APPLICATION (self));
}

static void
action_duress (GSimpleAction *action, GVariant *param, gpointer data)
{
  SpApplication *self = data;

  if (self->vault)
    sp_guard_dialog_show_duress (active_window (self), self->vault);
}

static void
backup_chosen (const char *path, gpointer data)
{
  SpApplication *self = data;

  /* Locked meanwhile: nothing to back up. */
  if (self->vault)
    sp_guard_dialog_show_backup (active_window (self), self->vault, path);
}

static void
action_backup (GSimpleAction *action, GVariant *param, gpointer data)
{
  SpApplication *self = data;

  if (self->vault)
    sp_guard_dialog_choose_file (SP_GUARD_DIALOG_BACKUP, active_window (self), backup_chosen, self);
}

static void
restored (SpGuardDialogKind kind, gpointer data)
{
  refresh_lock_pages (data);
}

static void
restore_chosen (const char *path, gpointer data)
{
  SpApplication *self = data;

  if (self->vault == NULL)
    sp_guard_dialog_show_restore (active_window (self), path, restored, self);
}

static void
action_restore (GSimpleAction *action, GVariant *param, gpointer data)
{
  SpApplication *self = data;

  if (self->vault == NULL)
    sp_guard_dialog_choose_file (SP_GUARD_DIALOG_RESTORE, active_window (self), restore_chosen,
                                 self);
}

static const GActionEntry app_actions[] = {
  { "duress", action_duress, NULL, NULL, NULL, { 0 } },
  { "backup", action_backup, NULL, NULL, NULL, { 0 } },
  { "restore", action_restore, NULL, NULL, NULL, { 0 } },
  { "lock", action_lock, NULL, NULL, NULL, { 0 } },
  { "panic", action_panic, NULL, NULL, NULL, { 0 } },
  { "quit", action_quit, NULL, NULL, NULL, { 0 } },
  { "preferences", action_preferences, NULL, NULL, NULL, { 0 } },
  { "shortcuts", action_shortcuts, NULL, NULL, NULL, { 0 } },
  { "about", action_about, NULL, NULL, NULL, { 0 } },
};

static void
sp_application_startup (GApplication *app)
{
  SpApplication *self = SP_APPLICATION (app);
  GtkApplication *gtk_app = GTK_APPLICATION (app);
  static const char *const lock_accels[] = { "<Control>l", NULL };
  static const char *const panic_accels[] = { "<Control><Shift>q", NULL };
  static const char *const quit_accels[] = { "<Control>q", NULL };
  static const char *const prefs_accels[] = { "<Control>comma", NULL };
  static const char *const shortcuts_accels[] = { "<Control>question", NULL };
  static const char *const search_accels[] = { "<Control>f", NULL };
  static const char *const new_accels[] = { "<Control>n", NULL };
  GtkSettings *gtk_settings = gtk_settings_get_default ();
  GSettingsSchemaSource *source;
  g_autoptr (GSettingsSchema) schema = NULL;

  G_APPLICATION_CLASS (sp_application_parent_class)->startup (app);
  sp_ui_init ();
  /* Locks with the screen and before suspend (through app.lock). */
  sp_session_watch_start (app);
  sp_vault_job_set_busy_hook (vault_job_busy, self);
  /* No recent files: file choosers and anything else in GTK leave no list
   * of what was opened (recently-used.xbel) behind. */
  if (gtk_settings)
    g_object_set (gtk_settings, "gtk-recent-files-enabled", FALSE, "gtk-recent-files-max-age", 0,
                  NULL);
  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions),
                                   app);
  /* Keyboard shortcuts, all in one place. */
  gtk_application_set_accels_for_action (gtk_app, "app.lock", lock_accels);
  gtk_application_set_accels_for_action (gtk_app, "app.panic", panic_accels);
  gtk_application_set_accels_for_action (gtk_app, "app.quit", quit_accels);
  gtk_application_set_accels_for_action (gtk_app, "app.preferences", prefs_accels);
  gtk_application_set_accels_for_action (gtk_app, "app.shortcuts", shortcuts_accels);
  gtk_application_set_accels_for_action (gtk_app, "win.search", search_accels);
  gtk_application_set_accels_for_action (gtk_app, "win.new-record", new_accels);

  /* The setting when the schema is installed; the default otherwise. */
  source = g_settings_schema_source_get_default ();
  if (source)
    schema = g_settings_schema_source_lookup (source, SP_APPLICATION_ID, TRUE);
  if (schema && g_settings_schema_has_key (schema, "auto-lock-delay"))
    {
      self->settings = g_settings_new_full (schema, NULL, NULL);
      g_signal_connect_object (self->settings, "changed::auto-lock-delay",
                               G_CALLBACK (settings_changed), self, G_CONNECT_SWAPPED);
      self->auto_lock_delay = g_settings_get_uint (self->settings, "auto-lock-delay");
    }
}

static void
sp_application_activate (GApplication *app)
{
  SpApplication *self = SP_APPLICATION (app);
  GtkWindow *window = NULL;

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (app)); l && !window; l = l->next)
    if (SP_IS_WINDOW (l->data))
      window = l->data;
  if (window == NULL)
    {
      window = GTK_WINDOW (sp_window_new (GTK_APPLICATION (app)));
      if (self->vault)
        window_show_cb (SP_WINDOW (window), self);
    }
  gtk_window_present (window);
}

static gboolean
window_input (GtkEventControllerLegacy *controller, GdkEvent *event, SpApplication *self)
{
  sp_application_note_activity (self);
  return GDK_EVENT_PROPAGATE;
}

static void
lock_page_unlocked (SpApplication *self, SpVault *vault)
{
  /* The application owns the vault and shows it in its windows. */
  sp_application_set_vault (self, vault);
}

static void
sp_application_window_added (GtkApplication *app, GtkWindow *window)
{
  SpApplication *self = SP_APPLICATION (app);
  GtkEventController *legacy;

  GTK_APPLICATION_CLASS (sp_application_parent_class)->window_added (app, window);
  if (!SP_IS_WINDOW (window))
    {
      g_ptr_array_add (self->secret_windows, window);
      return;
    }
  g_signal_connect_object (sp_window_get_lock_page (SP_WINDOW (window)), "unlocked",
                           G_CALLBACK (lock_page_unlocked), self, G_CONNECT_SWAPPED);
  /* Every key press, click and pointer motion counts as activity for the
   * idle lock (seen in the capture phase, never consumed). */
  legacy = gtk_event_controller_legacy_new ();
  gtk_event_controller_set_propagation_phase (legacy, GTK_PHASE_CAPTURE);
  g_signal_connect_object (legacy, "event", G_CALLBACK (window_input), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (window), legacy);
  update_vault_actions (self, SP_WINDOW (window));
}

static void
sp_application_window_removed (GtkApplication *app, GtkWindow *window)
{
  SpApplication *self = SP_APPLICATION (app);

  g_ptr_array_remove (self->secret_windows, window);
  GTK_APPLICATION_CLASS (sp_application_parent_class)->window_removed (app, window);
}

static void
sp_application_shutdown (GApplication *app)
{
  SpApplication *self = SP_APPLICATION (app);

  self->ending = TRUE;
  sp_application_lock (self);
  g_clear_handle_id (&self->relaunch_source, g_source_remove);
  sp_vault_job_set_busy_hook (NULL, NULL);
  G_APPLICATION_CLASS (sp_application_parent_class)->shutdown (app);
}

static void
sp_application_finalize (GObject *object)
{
  SpApplication *self = SP_APPLICATION (object);

  g_clear_handle_id (&self->idle_source, g_source_remove);
  g_clear_handle_id (&self->relaunch_source, g_source_remove);
  g_clear_pointer (&self->relaunch_argv, g_strfreev);
  g_clear_pointer (&self->vault, sp_vault_close);
  g_clear_object (&self->settings);
  g_ptr_array_unref (self->secret_windows);
  G_OBJECT_CLASS (sp_application_parent_class)->finalize (object);
}

static void
sp_application_class_init (SpApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);
  GtkApplicationClass *gtk_app_class = GTK_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = sp_application_finalize;
  app_class->startup = sp_application_startup;
  app_class->activate = sp_application_activate;
  app_class->shutdown = sp_application_shutdown;
  gtk_app_class->window_added = sp_application_window_added;
  gtk_app_class->window_removed = sp_application_window_removed;
}

static void
sp_application_init (SpApplication *self)
{
  self->auto_lock_delay = SP_DEFAULT_AUTO_LOCK_DELAY;
  self->secret_windows = g_ptr_array_new ();
}

SpApplication *
sp_application_new (GApplicationFlags flags)
{
  return g_object_new (SP_TYPE_APPLICATION, "application-id", SP_APPLICATION_ID, "flags", flags,
                       NULL);
}
