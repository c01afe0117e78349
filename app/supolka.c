/* supolka — the desktop app. Thin: make the process safe, then run the
 * AdwApplication of libsupolka-ui.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <stdio.h>

#include "supolka-core.h"
#include "sp-application.h"
#include "sp-preferences.h"

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpApplication) app = NULL;

  /* Before anything else: no core dumps, libsodium ready. */
  if (!sp_core_init (&error))
    {
      fprintf (stderr, "supolka: %s\n", error->message);
      return 1;
    }
  sp_preferences_apply_language ();
  sp_i18n_init ();
  g_set_application_name (_ ("Supolka"));

  app = sp_application_new (G_APPLICATION_DEFAULT_FLAGS);
  return g_application_run (G_APPLICATION (app), argc, argv);
}
