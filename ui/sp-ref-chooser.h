/* sp-ref-chooser.h — picks a record of one kind (for ref fields): a button
 * showing the chosen record's title, with a searchable list in a popover.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "supolka-core.h"

G_BEGIN_DECLS

#define SP_TYPE_REF_CHOOSER (sp_ref_chooser_get_type ())
G_DECLARE_FINAL_TYPE (SpRefChooser, sp_ref_chooser, SP, REF_CHOOSER, GtkWidget)

/* vault is borrowed. */
GtkWidget *sp_ref_chooser_new (SpVault *vault, const char *kind);
const char *sp_ref_chooser_get_value (SpRefChooser *self);
void sp_ref_chooser_set_value (SpRefChooser *self, const char *id);
GtkWidget *sp_ref_chooser_get_button (SpRefChooser *self);

G_END_DECLS
