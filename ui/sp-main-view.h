/* sp-main-view.h — everything shown while the vault is open: the sidebar
 * (Organisations, People, Projects, Events, Statistics, Conflicts) and the
 * page chosen there. Built at unlock, destroyed at lock.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "supolka-core.h"
#include "sp-browser.h"

G_BEGIN_DECLS

#define SP_TYPE_MAIN_VIEW (sp_main_view_get_type ())
G_DECLARE_FINAL_TYPE (SpMainView, sp_main_view, SP, MAIN_VIEW, GtkWidget)

/* vault is borrowed: destroy the view before closing it. */
GtkWidget *sp_main_view_new (SpVault *vault);
/* "org", "person", "project", "event", "stats" or "conflicts". */
void sp_main_view_show_page (SpMainView *self, const char *page);
const char *sp_main_view_get_page (SpMainView *self);
SpBrowser *sp_main_view_get_browser (SpMainView *self);
/* Re-reads every page (after an undo or a sync). */
void sp_main_view_reload (SpMainView *self);
void sp_main_view_search (SpMainView *self);
void sp_main_view_new_record (SpMainView *self);
/* Makes the sidebar and pages insensitive (busy) or usable again. */
void sp_main_view_set_busy (SpMainView *self, gboolean busy);

G_END_DECLS
