/* sp-qr.h — a widget that draws a text as a QR code (libqrencode), dark on
 * light whatever the theme, with a quiet zone: the sync dialogs' invite code
 * and travel mode's return code.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SP_TYPE_QR (sp_qr_get_type ())
G_DECLARE_FINAL_TYPE (SpQr, sp_qr, SP, QR, GtkWidget)

/* @label and @description: what a screen reader says. */
GtkWidget *sp_qr_new (const char *label, const char *description);
/* The text to draw, or NULL for none. */
void sp_qr_set_text (GtkWidget *qr, const char *text);
/* Modules per side (0 while empty). */
int sp_qr_get_modules (GtkWidget *qr);

G_END_DECLS
