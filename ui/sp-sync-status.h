/* sp-sync-status.h — the sync status in the main view's header bar: a split
 * button (click: sync now; arrow: details) whose popover says when the vault
 * last synced, how many local changes wait, or what went wrong, and the "sync"
 * action group of the main menu's Sync section (sync.now, sync.create,
 * sync.join, sync.invite, sync.approve, sync.devices).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "supolka-core.h"

G_BEGIN_DECLS

#define SP_TYPE_SYNC_STATUS (sp_sync_status_get_type ())
G_DECLARE_FINAL_TYPE (SpSyncStatus, sp_sync_status, SP, SYNC_STATUS, GtkWidget)

/* Packs a new status widget at the end of @header and inserts its "sync"
 * actions into @main_view (an ancestor of @header). @vault is borrowed: the
 * widget dies with the main view, before the vault is closed. */
SpSyncStatus *sp_sync_status_attach (GtkWidget *main_view, AdwHeaderBar *header, SpVault *vault);
/* The status widget attached to @main_view, or NULL. */
SpSyncStatus *sp_sync_status_from_main_view (GtkWidget *main_view);

/* Re-reads the vault's sync state (not while a sync call runs). */
void sp_sync_status_refresh (SpSyncStatus *self);
/* What the widget says: "Synced 5 minutes ago", "Not syncing", … */
const char *sp_sync_status_get_text (SpSyncStatus *self);
/* The line below it: pending changes, the error in words, … */
const char *sp_sync_status_get_detail (SpSyncStatus *self);
/* The problems of the last run (refused batches), or NULL. */
const char *sp_sync_status_get_problems (SpSyncStatus *self);
/* TRUE while its sync runs. */
gboolean sp_sync_status_is_running (SpSyncStatus *self);
/* The sync dialog it opened (still open), or NULL. */
GtkWindow *sp_sync_status_get_dialog (SpSyncStatus *self);
/* The popover with the details (for screenshots). */
GtkWidget *sp_sync_status_get_popover (SpSyncStatus *self);

G_END_DECLS
