/* sp-application.c — the Supolka desktop application.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>

#include "sp-application.h"
#include "sp-guard.h"
#include "sp-window.h"
#include "sp-ui-resources.h"
#include "sp-preferences.h"
#include "sp-shortcuts.h"
#include "sp-sync-worker.h"

struct _SpApplication
{
  AdwApplication parent_instance;
  SpVault *vault;
  GSettings *settings; /* NULL when the schema is not installed */
  guint auto_lock_delay;
  gint64 last_activity; /* monotonic µs */
  guint idle_source;
};

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
window_lock_cb (SpWindow *window, gpointer data)
{
  sp_window_lock (window);
}

static void
window_show_cb (SpWindow *window, gpointer data)
{
  sp_window_show_vault (window, data);
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
  self->vault = vault;
  self->last_activity = g_get_monotonic_time ();
  for_each_window (self, window_show_cb, vault);
  schedule_idle_check (self);
}

SpVault *
sp_application_get_vault (SpApplication *self)
{
  g_return_val_if_fail (SP_IS_APPLICATION (self), NULL);
  return self->vault;
}

void
sp_application_lock (SpApplication *self)
{
  g_return_if_fail (SP_IS_APPLICATION (self));
  g_clear_handle_id (&self->idle_source, g_source_remove);
  /* Widgets first (they borrow the vault), then the vault and its keys. */
  for_each_window (self, window_lock_cb, NULL);
  /* Also clears a secret we put on the clipboard. A sync worker or a backup
   * may still use the vault: then it is closed when that call returns. */
  sp_guard_close_vault (g_steal_pointer (&self->vault));
}

void
sp_application_panic (SpApplication *self)
{
  g_return_if_fail (SP_IS_APPLICATION (self));
  /* Panic: lock at once and destroy the vault (sp_vault_panic), no
   * question asked. */
  sp_guard_panic (self);
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

static const GActionEntry app_actions[] = {
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
  GSettingsSchemaSource *source;
  g_autoptr (GSettingsSchema) schema = NULL;

  G_APPLICATION_CLASS (sp_application_parent_class)->startup (app);
  sp_ui_init ();
  /* Screen lock, suspend, backup, duress and restore (sp-guard.c). */
  sp_guard_install (self);
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
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));
  SpApplication *self = SP_APPLICATION (app);

  if (window == NULL)
    {
      window = GTK_WINDOW (sp_window_new (GTK_APPLICATION (app)));
      if (self->vault)
        sp_window_show_vault (SP_WINDOW (window), self->vault);
    }
  gtk_window_present (window);
}

static void
sp_application_shutdown (GApplication *app)
{
  SpApplication *self = SP_APPLICATION (app);

  sp_application_lock (self);
  G_APPLICATION_CLASS (sp_application_parent_class)->shutdown (app);
}

static void
sp_application_finalize (GObject *object)
{
  SpApplication *self = SP_APPLICATION (object);

  g_clear_handle_id (&self->idle_source, g_source_remove);
  g_clear_pointer (&self->vault, sp_vault_close);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (sp_application_parent_class)->finalize (object);
}

static void
sp_application_class_init (SpApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = sp_application_finalize;
  app_class->startup = sp_application_startup;
  app_class->activate = sp_application_activate;
  app_class->shutdown = sp_application_shutdown;
}

static void
sp_application_init (SpApplication *self)
{
  self->auto_lock_delay = SP_DEFAULT_AUTO_LOCK_DELAY;
}

SpApplication *
sp_application_new (GApplicationFlags flags)
{
  return g_object_new (SP_TYPE_APPLICATION, "application-id", SP_APPLICATION_ID, "flags", flags,
                       NULL);
}
