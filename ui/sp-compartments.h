/* sp-compartments.h — compartments in the desktop app (docs/COMPARTMENTS.md):
 * the name a compartment is shown by, a drop-down of the held ones (the
 * record editor's chooser, "Move to…"), the "figures from 2 of 5
 * compartments" sentence of lists and statistics, and the "Move to…" dialog.
 * Everything here reads the vault on the main loop (the compartments are a
 * few rows, from the vault and the stored log: no network).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "supolka-core.h"

G_BEGIN_DECLS

/* The name shown: "main" is translated, the others are as people chose them. */
char *sp_compartment_label (gint64 id, const char *name);
/* The held compartment's name shown, or NULL when it is not held here. */
char *sp_compartment_label_of (SpVault *vault, gint64 id);
/* TRUE when the vault is in a sync workspace; *@admin (may be NULL): this
 * device is one of its admins. */
gboolean sp_compartment_in_workspace (SpVault *vault, gboolean *admin);
/* How many compartments this device holds, and how many the workspace has
 * (without a workspace: this vault's). FALSE on a vault error. */
gboolean sp_compartment_counts (SpVault *vault, guint *held, guint *total);
/* "Figures from 2 of 5 compartments; the others are not on this device.", or
 * NULL when this device holds them all. */
char *sp_compartment_figures_text (SpVault *vault);

/* A drop-down of the compartments held here, @selected chosen (an id not
 * held: main). */
GtkWidget *sp_compartment_dropdown_new (SpVault *vault, gint64 selected);
/* The chosen compartment's id. */
gint64 sp_compartment_dropdown_get (GtkWidget *dropdown);
/* Chooses @id (TRUE if it is one of the drop-down's). */
gboolean sp_compartment_dropdown_set (GtkWidget *dropdown, gint64 id);
/* How many compartments it offers. */
guint sp_compartment_dropdown_count (GtkWidget *dropdown);

/* "Move to…": an AdwMessageDialog (a secret window of @parent) asking for the
 * compartment to move a record of compartment @current into; responses
 * "cancel" and "move". The caller moves on "move" (sp_vault_move with
 * sp_compartment_dropdown_get of the dialog's drop-down). */
GtkWidget *sp_compartment_move_dialog_new (GtkWindow *parent, SpVault *vault, gint64 current);
/* The move dialog's drop-down (tests). */
GtkWidget *sp_compartment_move_dialog_get_dropdown (GtkWidget *dialog);

G_END_DECLS
