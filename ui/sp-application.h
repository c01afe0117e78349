/* sp-application.h — the Supolka desktop application.
 *
 * Owns the open vault and its windows: the main windows (SpWindow) and the
 * secret windows (every other window added to it, see sp-secret-window.h).
 * app.lock (Ctrl+L), the idle timer (the auto-lock-delay setting), the
 * session's screen lock and suspend (sp-session-watch.h) and app.panic
 * (Ctrl+Shift+Q) close it and destroy every widget that showed personal data.
 * It is the busy hook of the vault jobs (sp-vault-job.h) and owns the list
 * of win.* actions that need the vault. Also app.duress, app.backup,
 * app.restore (sp-guard-dialogs.h), preferences, shortcuts, about, quit.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "supolka-core.h"

G_BEGIN_DECLS

#define SP_APPLICATION_ID "org.supolka.Supolka"
#define SP_DEFAULT_AUTO_LOCK_DELAY 300

#define SP_TYPE_APPLICATION (sp_application_get_type ())
G_DECLARE_FINAL_TYPE (SpApplication, sp_application, SP, APPLICATION, AdwApplication)

SpApplication *sp_application_new (GApplicationFlags flags);
/* Takes ownership of vault and shows it in every window. */
void sp_application_set_vault (SpApplication *self, SpVault *vault);
/* NULL while locked. */
SpVault *sp_application_get_vault (SpApplication *self);
/* Destroys what showed personal data, then closes the vault (wiping keys). */
void sp_application_lock (SpApplication *self);
/* After every lock of an open vault, replace this process by a fresh one
 * running @argv (sp-relaunch.h), so that no heap of the unlocked session
 * survives. The desktop app's main() sets it; in-process tests do not. */
void sp_application_set_relaunch_on_lock (SpApplication *self, char **argv);
/* Locks at once and destroys the vault (sp_vault_panic), no question asked. */
void sp_application_panic (SpApplication *self);
/* Called by windows on every input event. */
void sp_application_note_activity (SpApplication *self);
/* Seconds of inactivity before locking, 0 = never. Follows the setting when
 * the schema is installed; tests set it directly. */
void sp_application_set_auto_lock_delay (SpApplication *self, guint seconds);
guint sp_application_get_auto_lock_delay (SpApplication *self);

/* Registers the resources of libsupolka-ui (templates). */
void sp_ui_init (void);

G_END_DECLS
