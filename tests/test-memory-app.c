/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-memory-app.c — forensics F1 for the desktop app: after a lock, the
 * memory of the running app holds no marker of any record it showed.
 *
 * Runs the real program (build/app/supolka, SUPOLKA_APP) as its own process
 * under Xvfb and its own session bus, on a vault holding random markers,
 * without G_DEBUG=gc-friendly, as a user runs it. The passphrase comes
 * through SUPOLKA_UNLOCK_FD (app/supolka.c). Once the organisations' list
 * shows the markers — found in the app's memory through /proc/PID/mem, as an
 * examiner with root would read it (this is also the proof that the scanner
 * sees them) — app.lock is activated over D-Bus, as Ctrl+L would, and every
 * process of the app (the pid and its children) is read again: no marker,
 * stored or folded, may be left. Needs root (or CAP_SYS_PTRACE): the app is
 * not dumpable, so nothing else may read it. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "mem-scan.h"
#include "test-util.h"

#define APP_ID "org.supolka.Supolka"

typedef struct
{
  GPtrArray *needles; /* each marker as stored (2i), then folded (2i + 1) */
} Markers;

/* Hits of every needle in @pid and in its children. */
static guint
scan_app (int pid, Markers *m, GString *where)
{
  g_autofree guint *counts = g_new0 (guint, m->needles->len);
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  g_autoptr (GError) error = NULL;
  const char *name;
  guint total = 0;

  g_assert_true (mem_scan_pid (pid, m->needles, counts, where, &error));
  g_assert_no_error (error);
  while ((name = g_dir_read_name (proc)))
    {
      g_autofree char *stat_path = g_strdup_printf ("/proc/%s/stat", name);
      g_autofree char *stat = NULL;
      const char *close_paren;
      int ppid = 0;

      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (stat_path, &stat, NULL, NULL))
        continue;
      close_paren = strrchr (stat, ')');
      if (close_paren && sscanf (close_paren, ") %*c %d", &ppid) == 1 && ppid == pid)
        mem_scan_pid (atoi (name), m->needles, counts, where, NULL);
    }
  for (guint i = 0; i < m->needles->len; i++)
    total += counts[i];
  return total;
}

static guint
scan_stored (int pid, Markers *m)
{
  g_autofree guint *counts = g_new0 (guint, m->needles->len);
  guint found = 0;

  if (!mem_scan_pid (pid, m->needles, counts, NULL, NULL))
    return 0;
  for (guint i = 0; i < m->needles->len; i += 2)
    found += counts[i] > 0;
  return found;
}

static char *
name_owner (GDBusConnection *bus)
{
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetNameOwner",
      g_variant_new ("(s)", APP_ID), G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, 2000, NULL,
      NULL);
  char *owner = NULL;

  if (reply)
    g_variant_get (reply, "(s)", &owner);
  return owner;
}

static void
activate_action (GDBusConnection *bus, const char *action)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply
      = g_dbus_connection_call_sync (bus, APP_ID, "/org/supolka/Supolka", "org.gtk.Actions",
                                     "Activate", g_variant_new ("(sava{sv})", action, NULL, NULL),
                                     NULL, G_DBUS_CALL_FLAGS_NONE, 5000, NULL, &error);

  g_assert_no_error (error);
}

static GSubprocess *
start_app (const char *tmp, const char *vault_dir)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GError) error = NULL;
  g_autofree char *home = g_build_filename (tmp, "home", NULL);
  const char *app = g_getenv ("SUPOLKA_APP");
  int fds[2];
  GSubprocess *proc;

  g_assert_cmpint (pipe (fds), ==, 0);
  g_assert_cmpint (write (fds[1], "correct horse\n", 14), ==, 14);
  close (fds[1]);
  g_subprocess_launcher_take_fd (launcher, fds[0], 3);
  g_subprocess_launcher_setenv (launcher, "SUPOLKA_UNLOCK_FD", "3", TRUE);
  g_subprocess_launcher_setenv (launcher, "SUPOLKA_VAULT", vault_dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", home, TRUE);
  /* As a user runs it. */
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  g_subprocess_launcher_unsetenv (launcher, "G_SLICE");
  proc = g_subprocess_launcher_spawn (launcher, &error, app, NULL);
  g_assert_no_error (error);
  return proc;
}

/* Three organisations, each with a marker name and locality (both on the
 * list's rows); the needles are each marker as stored, then folded. */
static GPtrArray *
add_markers (SpVault *vault, GPtrArray *plain)
{
  g_autoptr (GPtrArray) masked = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *list = NULL;

  for (int r = 0; r < 3; r++)
    {
      g_autofree char *name = g_strdup_printf ("Zubrovka%08x", g_random_int ());
      g_autofree char *locality = g_strdup_printf ("Барысаў%08x", g_random_int ());

      g_free (sp_test_insert (vault, "org", "name", name, "locality", locality, "status", "partner",
                              NULL));
      g_ptr_array_add (plain, g_steal_pointer (&name));
      g_ptr_array_add (plain, g_steal_pointer (&locality));
    }
  for (guint i = 0; i < plain->len; i++)
    {
      g_autofree char *folded = sp_fold (plain->pdata[i]);

      g_ptr_array_add (masked, mem_scan_mask (plain->pdata[i]));
      g_ptr_array_add (masked, mem_scan_mask (folded));
    }
  g_ptr_array_add (masked, NULL);
  list = g_strjoinv (",", (char **)masked->pdata);
  return mem_scan_needles_parse (list);
}

static gboolean
owner_changed (GDBusConnection *bus, const char *before)
{
  for (int i = 0; i < 150; i++)
    {
      g_autofree char *now = name_owner (bus);

      if (now && g_strcmp0 (now, before) != 0)
        return TRUE;
      g_usleep (100000);
    }
  return FALSE;
}

static void
test_app_after_lock (void)
{
  g_autofree char *vault_dir = NULL;
  g_autofree char *tmp = NULL;
  g_autoptr (GPtrArray) plain = g_ptr_array_new_with_free_func (g_free);
  Markers m = { NULL };
  g_autoptr (GDBusConnection) bus = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GString) where = g_string_new (NULL);
  g_autofree char *before = NULL;
  g_autoptr (GError) error = NULL;
  guint found = 0, left;
  gboolean relaunched;
  gint64 t0;
  int pid;

  if (g_getenv ("DISPLAY") == NULL && g_getenv ("WAYLAND_DISPLAY") == NULL)
    {
      g_test_skip ("needs a display (xvfb-run)");
      return;
    }
  if (geteuid () != 0)
    {
      g_test_skip ("reading another process's memory needs root (the app is not dumpable)");
      return;
    }
  {
    g_autoptr (SpVault) vault = sp_test_vault_new (&vault_dir);
    m.needles = add_markers (vault, plain);
  }
  tmp = g_path_get_dirname (vault_dir);
  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  t0 = g_get_monotonic_time ();
  proc = start_app (tmp, vault_dir);
  pid = atoi (g_subprocess_get_identifier (proc));

  /* Unlocked and the list on screen: the markers are in its memory. */
  for (int i = 0; i < 240 && found < plain->len; i++)
    {
      g_usleep (250000);
      found = scan_stored (pid, &m);
    }
  g_assert_cmpuint (found, ==, plain->len);
  g_test_message ("unlocked, markers on screen after %.1f s", (g_get_monotonic_time () - t0) / 1e6);
  before = name_owner (bus);
  g_assert_nonnull (before);

  activate_action (bus, "lock");
  /* A fresh process takes the name (the same pid: execve). */
  relaunched = owner_changed (bus, before);
  g_usleep (1500000);
  g_assert_cmpint (kill (pid, 0), ==, 0); /* still running */
  left = scan_app (pid, &m, where);
  for (char *p = where->str; *p; p++)
    if (*p == '\n')
      *p = ';';
  if (left)
    g_test_message ("after lock, %u markers in the app's memory: %s", left, where->str);
  g_assert_cmpuint (left, ==, 0);
  g_assert_true (relaunched);

  activate_action (bus, "quit");
  g_subprocess_wait (proc, NULL, &error);
  g_assert_no_error (error);
  g_ptr_array_unref (m.needles);
  sp_test_rmtree (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/memory/app-after-lock", test_app_after_lock);
  return g_test_run ();
}
