/* sp-shortcuts.h — the keyboard shortcuts window (Ctrl+?).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* A new GtkShortcutsWindow listing Supolka's shortcuts (floating reference
 * sunk: the caller owns it; present it, it is destroyed when closed). */
GtkWidget *sp_shortcuts_window_new (void);

G_END_DECLS
