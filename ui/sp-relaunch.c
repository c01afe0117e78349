/* sp-relaunch.c — see sp-relaunch.h.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "sp-relaunch.h"

/* Nothing of this process's open files reaches the new one: the display and
 * bus connections, a suspend inhibitor, the vault's files (closed already). */
static void
close_on_exec_all (void)
{
  DIR *dir = opendir ("/proc/self/fd");
  struct dirent *d;

  if (dir == NULL)
    {
      for (int fd = 3; fd < 1024; fd++)
        fcntl (fd, F_SETFD, FD_CLOEXEC);
      return;
    }
  while ((d = readdir (dir)))
    {
      int fd = atoi (d->d_name);

      if (fd > 2 && fd != dirfd (dir))
        fcntl (fd, F_SETFD, FD_CLOEXEC);
    }
  closedir (dir);
}

/* The bus drops a name asynchronously when its owner goes; released first,
 * the new process gets it at once instead of finding a "running instance"
 * that is about to vanish. */
static void
release_bus_name (GApplication *app)
{
  GDBusConnection *bus = g_application_get_dbus_connection (app);
  const char *id = g_application_get_application_id (app);
  g_autoptr (GVariant) reply = NULL;

  if (bus == NULL || id == NULL)
    return;
  reply = g_dbus_connection_call_sync (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "ReleaseName",
      g_variant_new ("(s)", id), G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, 2000, NULL, NULL);
  g_dbus_connection_flush_sync (bus, NULL, NULL);
}

gboolean
sp_relaunch_exec (GApplication *app, char **argv, GError **error)
{
  int saved;

  g_return_val_if_fail (G_IS_APPLICATION (app), FALSE);
  g_return_val_if_fail (argv != NULL && argv[0] != NULL, FALSE);
  release_bus_name (app);
  close_on_exec_all ();
  execv ("/proc/self/exe", argv);
  saved = errno;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "execv: %s", g_strerror (saved));
  return FALSE;
}
