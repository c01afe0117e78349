/* sp-secret-window.h — the one rule for windows that show personal data or
 * sync secrets (record editors, sync and guard dialogs): they are transient
 * for the window that opened them and join its application, and the
 * application (SpApplication) destroys every window it holds except its
 * main windows at lock, and makes them insensitive while a vault job runs.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Makes @window a secret window of @parent's application (@parent may be
 * NULL, or belong to no application: then nothing tracks @window). */
static inline void
sp_secret_window_attach (GtkWindow *window, GtkWindow *parent)
{
  GtkApplication *app = parent ? gtk_window_get_application (parent) : NULL;

  if (parent)
    {
      gtk_window_set_transient_for (window, parent);
      gtk_window_set_destroy_with_parent (window, TRUE);
    }
  if (app)
    gtk_window_set_application (window, app);
}

G_END_DECLS
