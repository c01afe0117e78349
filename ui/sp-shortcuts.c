/* The keyboard shortcuts window, built from sp-shortcuts.ui.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "sp-ui-resources.h"
#include "sp-shortcuts.h"

GtkWidget *
sp_shortcuts_window_new (void)
{
  g_autoptr (GtkBuilder) builder = NULL;
  GtkWidget *window;

  (void)sp_ui_get_resource (); /* keeps the resource linked in from the static library */
  builder = gtk_builder_new_from_resource ("/org/supolka/Supolka/ui/sp-shortcuts.ui");
  window = GTK_WIDGET (gtk_builder_get_object (builder, "shortcuts"));

  /* The builder holds the toplevel's only reference; keep one for the caller. */
  return g_object_ref (window);
}
