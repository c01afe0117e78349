/* sp-session-watch.c — lock on screen lock and before suspend (issue #5).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <gio/gunixfdlist.h>
#include <unistd.h>

#include "sp-session-watch.h"

#define LOGIN1_NAME "org.freedesktop.login1"
#define LOGIN1_PATH "/org/freedesktop/login1"
#define LOGIN1_MANAGER "org.freedesktop.login1.Manager"
#define LOGIN1_SESSION "org.freedesktop.login1.Session"

/* One application per process: the state is process-wide, main thread only. */
typedef struct
{
  GApplication *app; /* weak */
  GCancellable *cancellable;
  GDBusConnection *session;
  guint screensaver_ids[2];
  GDBusConnection *system;
  guint sleep_id;
  guint session_lock_id;
  int inhibit_fd; /* the delay inhibitor lock, or -1 */
  gboolean inhibit_pending;
} Watch;

static Watch watch = { .inhibit_fd = -1 };

static void
lock_now (void)
{
  if (watch.app)
    g_action_group_activate_action (G_ACTION_GROUP (watch.app), "lock", NULL);
}

void
sp_session_watch_screen_lock_changed (gboolean active)
{
  if (active)
    lock_now ();
}

static void take_inhibitor (void);

static void
release_inhibitor (void)
{
  if (watch.inhibit_fd >= 0)
    close (watch.inhibit_fd);
  watch.inhibit_fd = -1;
}

void
sp_session_watch_prepare_for_sleep (gboolean start)
{
  if (start)
    {
      lock_now ();
      /* Locked: the system may sleep now. */
      release_inhibitor ();
    }
  else
    take_inhibitor (); /* resumed: ready for the next suspend */
}

gboolean
sp_session_watch_is_watching (void)
{
  return watch.app != NULL && watch.screensaver_ids[0] != 0;
}

/* ---- D-Bus ---------------------------------------------------------------- */

static void
screensaver_signal (GDBusConnection *connection, const char *sender, const char *path,
                    const char *iface, const char *signal, GVariant *params, gpointer data)
{
  gboolean active = FALSE;

  if (watch.app == NULL || !g_variant_is_of_type (params, G_VARIANT_TYPE ("(b)")))
    return;
  g_variant_get (params, "(b)", &active);
  sp_session_watch_screen_lock_changed (active);
}

static void
session_lock_signal (GDBusConnection *connection, const char *sender, const char *path,
                     const char *iface, const char *signal, GVariant *params, gpointer data)
{
  if (watch.app)
    sp_session_watch_screen_lock_changed (TRUE);
}

static void
sleep_signal (GDBusConnection *connection, const char *sender, const char *path, const char *iface,
              const char *signal, GVariant *params, gpointer data)
{
  gboolean start = FALSE;

  if (watch.app == NULL || !g_variant_is_of_type (params, G_VARIANT_TYPE ("(b)")))
    return;
  g_variant_get (params, "(b)", &start);
  sp_session_watch_prepare_for_sleep (start);
}

/* The bus, or NULL when there is none (or the watch stopped meanwhile):
 * then there is nothing to watch. */
static GDBusConnection *
bus_get_finish (GAsyncResult *result)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) connection = g_bus_get_finish (result, &error);

  return watch.app ? g_steal_pointer (&connection) : NULL;
}

static void
session_bus_ready (GObject *source, GAsyncResult *result, gpointer data)
{
  GDBusConnection *connection = bus_get_finish (result);

  if (connection == NULL)
    return;
  watch.session = connection;
  watch.screensaver_ids[0] = g_dbus_connection_signal_subscribe (
      connection, "org.gnome.ScreenSaver", "org.gnome.ScreenSaver", "ActiveChanged",
      "/org/gnome/ScreenSaver", NULL, G_DBUS_SIGNAL_FLAGS_NONE, screensaver_signal, NULL, NULL);
  watch.screensaver_ids[1] = g_dbus_connection_signal_subscribe (
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
        watch.inhibit_pending = FALSE;
      return; /* no logind, or not allowed: suspend just does not wait */
    }
  watch.inhibit_pending = FALSE;
  g_variant_get (reply, "(h)", &index);
  if (fds == NULL || (fd = g_unix_fd_list_get (fds, index, NULL)) < 0)
    return;
  if (watch.app == NULL || watch.inhibit_fd >= 0)
    close (fd);
  else
    watch.inhibit_fd = fd;
}

static void
take_inhibitor (void)
{
  if (watch.system == NULL || watch.inhibit_fd >= 0 || watch.inhibit_pending)
    return;
  watch.inhibit_pending = TRUE;
  g_dbus_connection_call_with_unix_fd_list (
      watch.system, LOGIN1_NAME, LOGIN1_PATH, LOGIN1_MANAGER, "Inhibit",
      g_variant_new ("(ssss)", "sleep", "Supolka", _ ("Lock the vault before suspend"), "delay"),
      G_VARIANT_TYPE ("(h)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, watch.cancellable, inhibit_done,
      NULL);
}

static void
session_path_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  const char *path = NULL;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);
  if (reply == NULL || watch.app == NULL || watch.system == NULL)
    return; /* not in a logind session */
  g_variant_get (reply, "(&o)", &path);
  watch.session_lock_id = g_dbus_connection_signal_subscribe (
      watch.system, LOGIN1_NAME, LOGIN1_SESSION, "Lock", path, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
      session_lock_signal, NULL, NULL);
}

static void
system_bus_ready (GObject *source, GAsyncResult *result, gpointer data)
{
  GDBusConnection *connection = bus_get_finish (result);

  if (connection == NULL)
    return;
  watch.system = connection;
  watch.sleep_id = g_dbus_connection_signal_subscribe (
      connection, LOGIN1_NAME, LOGIN1_MANAGER, "PrepareForSleep", LOGIN1_PATH, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, sleep_signal, NULL, NULL);
  g_dbus_connection_call (connection, LOGIN1_NAME, LOGIN1_PATH, LOGIN1_MANAGER, "GetSessionByPID",
                          g_variant_new ("(u)", (guint32)getpid ()), G_VARIANT_TYPE ("(o)"),
                          G_DBUS_CALL_FLAGS_NONE, -1, watch.cancellable, session_path_done, NULL);
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
app_shutdown (GApplication *app)
{
  g_cancellable_cancel (watch.cancellable);
  g_clear_object (&watch.cancellable);
  unsubscribe (watch.session, &watch.screensaver_ids[0]);
  unsubscribe (watch.session, &watch.screensaver_ids[1]);
  unsubscribe (watch.system, &watch.sleep_id);
  unsubscribe (watch.system, &watch.session_lock_id);
  g_clear_object (&watch.session);
  g_clear_object (&watch.system);
  release_inhibitor ();
  watch.inhibit_pending = FALSE;
  g_clear_weak_pointer (&watch.app);
}

void
sp_session_watch_start (GApplication *app)
{
  g_return_if_fail (G_IS_APPLICATION (app));
  g_return_if_fail (watch.app == NULL);
  g_set_weak_pointer (&watch.app, app);
  watch.cancellable = g_cancellable_new ();
  g_signal_connect (app, "shutdown", G_CALLBACK (app_shutdown), NULL);
  g_bus_get (G_BUS_TYPE_SESSION, watch.cancellable, session_bus_ready, NULL);
  g_bus_get (G_BUS_TYPE_SYSTEM, watch.cancellable, system_bus_ready, NULL);
}
