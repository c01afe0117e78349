/* sp-window.h — the main window: the lock page while the vault is closed,
 * the main view while it is open. Locking destroys the main view (it is
 * rebuilt at the next unlock). The application connects to the lock page's
 * ::unlocked, watches the window's input for the idle lock and enables its
 * vault actions (win.search, win.new-record, win.undo-delete). Pages show
 * toasts through "win.show-message" ("(ss)": message, undo id or "").
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "supolka-core.h"
#include "sp-lock-page.h"
#include "sp-main-view.h"

G_BEGIN_DECLS

#define SP_TYPE_WINDOW (sp_window_get_type ())
G_DECLARE_FINAL_TYPE (SpWindow, sp_window, SP, WINDOW, AdwApplicationWindow)

SpWindow *sp_window_new (GtkApplication *app);
/* Shows the main view over vault (borrowed; owned by the application). */
void sp_window_show_vault (SpWindow *self, SpVault *vault);
/* Destroys the main view and shows the lock page. */
void sp_window_lock (SpWindow *self);
/* While a vault job runs: the main view's lists are insensitive. */
void sp_window_set_busy (SpWindow *self, gboolean busy);
SpLockPage *sp_window_get_lock_page (SpWindow *self);
/* NULL while locked. */
SpMainView *sp_window_get_main_view (SpWindow *self);
/* A toast with a fixed text (toast titles are markup: never record data);
 * with undo_id, an Undo button that restores that deleted record. */
void sp_window_show_message (SpWindow *self, const char *message, const char *undo_id);
/* Changes at every lock; part of the Undo target (win.undo-delete "(us)"). */
guint sp_window_get_generation (SpWindow *self);

G_END_DECLS
