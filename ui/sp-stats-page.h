/* sp-stats-page.h — the Statistics page: the figures of sp_vault_stats as
 * tables and bar charts, and "Export as CSV…".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "supolka-core.h"

G_BEGIN_DECLS

#define SP_TYPE_STATS_PAGE (sp_stats_page_get_type ())
G_DECLARE_FINAL_TYPE (SpStatsPage, sp_stats_page, SP, STATS_PAGE, AdwBin)

/* The page shows vault's figures at once. vault is not owned: it must stay
 * open while the page exists (destroy the page before closing the vault). */
GtkWidget *sp_stats_page_new (SpVault *vault);
/* The same, but the figures are computed only while the page is shown. */
GtkWidget *sp_stats_page_new_lazy (SpVault *vault);
/* Reads the figures again. */
void sp_stats_page_reload (GtkWidget *page);

/* Writes the figures shown (sp_stats_to_csv) to file, replacing it, readable
 * by its owner only. "Export as CSV…" calls this after the file dialog. */
void sp_stats_page_export_async (GtkWidget *page, GFile *file, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data);
gboolean sp_stats_page_export_finish (GtkWidget *page, GAsyncResult *result, GError **error);

G_END_DECLS
