/* sp-browser.h — the records of one kind: a searchable, filterable list
 * (GtkListView over SpRecordModel) beside the chosen record's detail or its
 * editor. An AdwLeaflet folds the two panes on narrow windows.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "supolka-core.h"
#include "sp-record-detail.h"
#include "sp-record-editor.h"
#include "sp-record-model.h"

G_BEGIN_DECLS

#define SP_TYPE_BROWSER (sp_browser_get_type ())
G_DECLARE_FINAL_TYPE (SpBrowser, sp_browser, SP, BROWSER, GtkWidget)

/* vault is borrowed. */
GtkWidget *sp_browser_new (SpVault *vault);
void sp_browser_set_kind (SpBrowser *self, const char *kind);
const char *sp_browser_get_kind (SpBrowser *self);
/* Reads the list again (after an undo, a sync, ...), keeping the selection. */
void sp_browser_reload (SpBrowser *self);
/* Shows a record (switching kind if needed). */
void sp_browser_show_record (SpBrowser *self, const char *id);
void sp_browser_focus_search (SpBrowser *self);
void sp_browser_set_sidebar_button_visible (SpBrowser *self, gboolean visible);

/* For tests and the screenshot helper. */
SpRecordModel *sp_browser_get_model (SpBrowser *self);
GtkWidget *sp_browser_get_list_view (SpBrowser *self);
GtkEditable *sp_browser_get_search_entry (SpBrowser *self);
/* The open editor, or NULL. */
SpRecordEditor *sp_browser_get_editor (SpBrowser *self);
/* The shown detail, or NULL. */
SpRecordDetail *sp_browser_get_detail (SpBrowser *self);
/* "list", "empty" or "no-results". */
const char *sp_browser_get_list_state (SpBrowser *self);

G_END_DECLS
