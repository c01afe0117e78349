/* sp-guard-dialogs.h — the dialogs of the seized-device defences (issue #5):
 * the duress passphrase (app.duress), backup (app.backup) and restore from
 * the lock screen (app.restore), with their file choosers. File choosers
 * never add recent files (the application turns them off).
 *
 * Each dialog is a secret window (sp-secret-window.h): it joins its
 * parent's application, which destroys it at lock. Opening one closes the
 * one open before.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "supolka-core.h"

G_BEGIN_DECLS

typedef enum
{
  SP_GUARD_DIALOG_DURESS,
  SP_GUARD_DIALOG_BACKUP,
  SP_GUARD_DIALOG_RESTORE,
} SpGuardDialogKind;

/* Called once the dialog's job has succeeded (in the main thread). */
typedef void (*SpGuardDialogDone) (SpGuardDialogKind kind, gpointer user_data);
/* Called with the file chosen (not when the chooser is cancelled). */
typedef void (*SpGuardFileChosen) (const char *path, gpointer user_data);

/* @vault is borrowed: the dialog is destroyed at lock, before it closes. */
GtkWindow *sp_guard_dialog_show_duress (GtkWindow *parent, SpVault *vault);
GtkWindow *sp_guard_dialog_show_backup (GtkWindow *parent, SpVault *vault, const char *path);
/* Restores the backup @path into the default vault folder. */
GtkWindow *sp_guard_dialog_show_restore (GtkWindow *parent, const char *path,
                                         SpGuardDialogDone done, gpointer user_data);
/* The save (backup) or open (restore) file chooser. */
void sp_guard_dialog_choose_file (SpGuardDialogKind kind, GtkWindow *parent,
                                  SpGuardFileChosen chosen, gpointer user_data);

/* For tests: the guard dialog open now, or NULL; its entries by name
 * ("passphrase", "repeat", "new", "new-repeat"), the "replace" switch, and
 * its state. Its actions: "guard.ok", "guard.remove", "guard.cancel". */
GtkWindow *sp_guard_dialog_get_current (void);
GtkEditable *sp_guard_dialog_get_entry (GtkWindow *dialog, const char *name);
GtkWidget *sp_guard_dialog_get_replace (GtkWindow *dialog);
gboolean sp_guard_dialog_is_busy (GtkWindow *dialog);
gboolean sp_guard_dialog_is_done (GtkWindow *dialog);
/* The message shown after a failure, or NULL. */
const char *sp_guard_dialog_get_error (GtkWindow *dialog);

G_END_DECLS
