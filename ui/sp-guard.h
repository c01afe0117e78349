/* sp-guard.h — the desktop app's seized-device defences (issue #5).
 *
 * - Locks the vault when the session's screen locks (org.gnome.ScreenSaver
 *   and org.freedesktop.ScreenSaver ActiveChanged on the session bus, the
 *   login1 Session "Lock" signal of our own session on the system bus) and
 *   before suspend (login1 PrepareForSleep, holding a "delay" inhibitor lock
 *   that is released once the vault is locked). A missing bus or service is
 *   harmless.
 * - Panic: locks at once and destroys the vault (sp_vault_panic), no question.
 * - Copies contact data to the clipboard marked as a secret for clipboard
 *   managers (x-kde-passwordManagerHint) and clears it after 30 s, or at lock,
 *   if it still holds that value.
 * - Dialogs: duress passphrase (app.duress), backup (app.backup) and restore
 *   from the lock screen (app.restore). File choosers never add recent files.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "sp-application.h"

G_BEGIN_DECLS

/* Called once from the application's startup: actions, bus watches, no
 * recent files. Torn down at the application's shutdown. */
void sp_guard_install (SpApplication *app);

/* The lock path's hook: clears a clipboard we filled and closes @vault now,
 * or — when a guard job (backup, duress) still uses it in a thread — as soon
 * as that job returns. */
void sp_guard_close_vault (SpVault *vault);

/* Locks at once, then destroys the vault folder's key and database; the lock
 * screen then offers to create a vault. */
void sp_guard_panic (SpApplication *app);

/* The bus signal handlers, callable directly (tests; the system bus cannot be
 * owned by a test). */
void sp_guard_screen_lock_changed (SpApplication *app, gboolean active);
void sp_guard_prepare_for_sleep (SpApplication *app, gboolean start);
/* TRUE once the session-bus screen-saver subscriptions are in place. */
gboolean sp_guard_is_watching_session (SpApplication *app);

/* Puts @value on @widget's clipboard as a secret and schedules its clearing. */
void sp_guard_copy_secret (GtkWidget *widget, const char *value);
/* Clears the clipboard if it still holds what sp_guard_copy_secret() put there. */
void sp_guard_clear_clipboard (void);
/* For tests: the clipboard clearing delay in milliseconds (default 30000). */
void sp_guard_set_clipboard_delay (guint ms);

/* The record detail view's "detail.copy" action (parameter: field name) and
 * the copy button it puts on sensitive rows. */
void sp_guard_detail_copy_action (GtkWidget *widget, const char *action_name, GVariant *param);
void sp_guard_add_copy_button (GtkWidget *action_row, const char *field);

/* For tests: the guard dialog open now (duress, backup or restore), or NULL;
 * its entries by name ("passphrase", "repeat", "new", "new-repeat"), the
 * "replace" switch, and its state. Its actions: "guard.ok", "guard.remove",
 * "guard.cancel". */
GtkWindow *sp_guard_get_dialog (SpApplication *app);
GtkEditable *sp_guard_dialog_get_entry (GtkWindow *dialog, const char *name);
GtkWidget *sp_guard_dialog_get_replace (GtkWindow *dialog);
gboolean sp_guard_dialog_is_busy (GtkWindow *dialog);
gboolean sp_guard_dialog_is_done (GtkWindow *dialog);
/* The message shown after a failure, or NULL. */
const char *sp_guard_dialog_get_error (GtkWindow *dialog);

G_END_DECLS
