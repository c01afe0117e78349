/* sp-travel-dialog.h — the windows of the main menu's "Compartments…",
 * "Travel Mode…" and "End Travel Mode…" (docs/COMPARTMENTS.md):
 *
 * - compartments: the ones held here with their records, the default for new
 *   records and, for admins, create, grant and revoke;
 * - travel start: the compartments with "keep" checkboxes; refuses while a
 *   change is unsent, naming the records; then shows the return code once,
 *   as words and a QR code, with the warning to keep it apart from the laptop;
 * - travel end: an entry for the return code.
 *
 * Each is a secret window of its parent (destroyed at lock); the network
 * calls are vault jobs. Nothing is stored that says a vault travels: "End
 * Travel Mode…" is always in the menu. Each emits "changed" after it changed
 * the vault (the main view reads its lists again).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "supolka-core.h"

G_BEGIN_DECLS

typedef enum
{
  SP_TRAVEL_DIALOG_COMPARTMENTS,
  SP_TRAVEL_DIALOG_START,
  SP_TRAVEL_DIALOG_END,
} SpTravelDialogKind;

#define SP_TYPE_TRAVEL_DIALOG (sp_travel_dialog_get_type ())
G_DECLARE_FINAL_TYPE (SpTravelDialog, sp_travel_dialog, SP, TRAVEL_DIALOG, AdwWindow)

/* @vault is borrowed (the dialog is destroyed at lock). */
GtkWidget *sp_travel_dialog_new (SpTravelDialogKind kind, GtkWindow *parent, SpVault *vault);
SpTravelDialogKind sp_travel_dialog_get_kind (SpTravelDialog *self);
/* The primary button's work: start travel (with the boxes ticked), end it
 * (with the entry's code), create a compartment (with the entry's name). */
void sp_travel_dialog_submit (SpTravelDialog *self);
/* Start: ticks or clears "keep" of compartment @name; FALSE if none such. */
gboolean sp_travel_dialog_set_keep (SpTravelDialog *self, const char *name, gboolean keep);
/* End: the return code; compartments: the new compartment's name. */
void sp_travel_dialog_set_input (SpTravelDialog *self, const char *text);
gboolean sp_travel_dialog_is_busy (SpTravelDialog *self);
/* The error or refusal shown, or NULL. */
const char *sp_travel_dialog_get_error (SpTravelDialog *self);
/* Start: the return code shown (NULL before); its QR code widget. */
const char *sp_travel_dialog_get_code (SpTravelDialog *self);
GtkWidget *sp_travel_dialog_get_qr (SpTravelDialog *self);
/* Compartments: rows shown (one per held compartment). */
guint sp_travel_dialog_count_rows (SpTravelDialog *self);

G_END_DECLS
