/* sp-conflicts-page.h — the Conflicts page: fields written on two devices at
 * once, both values side by side, one click to keep either.
 *
 * Signals:
 *   "resolved" (SpConflictsPage *page, gpointer user_data): a conflict was
 *   resolved (the vault was written); lists showing records may refresh.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "supolka-core.h"

G_BEGIN_DECLS

#define SP_TYPE_CONFLICTS_PAGE (sp_conflicts_page_get_type ())
G_DECLARE_FINAL_TYPE (SpConflictsPage, sp_conflicts_page, SP, CONFLICTS_PAGE, AdwBin)

/* vault is not owned: it must stay open while the page exists. */
GtkWidget *sp_conflicts_page_new (SpVault *vault);
/* Reads the open conflicts again. */
void sp_conflicts_page_reload (GtkWidget *page);
/* How many conflicts (field versions beside the kept one) are shown. */
guint sp_conflicts_page_get_n_conflicts (GtkWidget *page);

G_END_DECLS
