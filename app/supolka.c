/* supolka — the desktop app. Thin: make the process safe, then run the
 * AdwApplication of libsupolka-ui, which replaces this process by a fresh
 * copy of itself after every lock (sp_application_set_relaunch_on_lock).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "supolka-core.h"
#include "sp-application.h"
#include "sp-lock-page.h"
#include "sp-preferences.h"
#include "sp-window.h"

/* SUPOLKA_UNLOCK_FD=N: the passphrase is one line read from descriptor N
 * (as supolka-cli --passphrase-fd), typed into the lock page when the
 * window appears. For scripted tests of the real program (tests/
 * test-memory-app.c); it gives nothing to anyone who could not already type
 * into the window. Read once: the variable is removed and the descriptor
 * closed, so the process that replaces this one at lock starts locked. */
static SpSecret *
unlock_passphrase_from_env (void)
{
  const char *value = g_getenv ("SUPOLKA_UNLOCK_FD");
  g_autoptr (GError) error = NULL;
  SpSecret *pass;
  char *end = NULL;
  long fd;

  if (value == NULL)
    return NULL;
  fd = strtol (value, &end, 10);
  g_unsetenv ("SUPOLKA_UNLOCK_FD");
  if (end == value || *end || fd < 0 || fd > G_MAXINT)
    {
      fprintf (stderr, "supolka: %s\n", _ ("SUPOLKA_UNLOCK_FD is not a file descriptor number"));
      return NULL;
    }
  pass = sp_secret_read_line_fd ((int)fd, &error);
  close ((int)fd);
  if (pass == NULL)
    fprintf (stderr, "supolka: %s\n", error->message);
  return pass;
}

static void
unlock_on_activate (GApplication *app, SpSecret *pass)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));
  SpLockPage *page;

  g_signal_handlers_disconnect_by_func (app, unlock_on_activate, pass);
  if (!SP_IS_WINDOW (window))
    return;
  page = sp_window_get_lock_page (SP_WINDOW (window));
  gtk_editable_set_text (sp_lock_page_get_passphrase_entry (page),
                         (const char *)sp_secret_data (pass));
  gtk_widget_activate_action (GTK_WIDGET (page), "lock.unlock", NULL);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpApplication) app = NULL;
  g_autoptr (SpSecret) unlock = NULL;

  /* Before anything else: no core dumps, freed memory wiped, libsodium ready. */
  if (!sp_core_init (&error))
    {
      fprintf (stderr, "supolka: %s\n", error->message);
      return 1;
    }
  sp_preferences_apply_language ();
  sp_i18n_init ();
  g_set_application_name (_ ("Supolka"));

  app = sp_application_new (G_APPLICATION_DEFAULT_FLAGS);
  /* After a lock nothing of the unlocked session's memory survives. */
  sp_application_set_relaunch_on_lock (app, argv);
  unlock = unlock_passphrase_from_env ();
  if (unlock)
    g_signal_connect_after (app, "activate", G_CALLBACK (unlock_on_activate), unlock);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
