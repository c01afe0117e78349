/* sp-clipboard.h — copies of contact data on the clipboard, marked as a
 * secret for clipboard managers (x-kde-passwordManagerHint) and cleared
 * after 30 s, or at lock, if the clipboard still holds them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Puts @value on @widget's clipboard as a secret and schedules its clearing. */
void sp_clipboard_copy_secret (GtkWidget *widget, const char *value);
/* Clears the clipboard if it still holds what sp_clipboard_copy_secret() put
 * there, and stops the timer. */
void sp_clipboard_clear (void);
/* The clearing delay in milliseconds (default 30000); 0 restores the
 * default (tests). */
void sp_clipboard_set_delay (guint ms);
guint sp_clipboard_get_delay (void);

G_END_DECLS
