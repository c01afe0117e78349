/* sp-lock-page.h — create a vault, or unlock it.
 *
 * The KDF (Argon2id) runs in a GTask thread; the page is insensitive and shows
 * a spinner meanwhile. On success the page emits ::unlocked with the open
 * vault, whose ownership passes to the handler.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "supolka-core.h"

G_BEGIN_DECLS

#define SP_TYPE_LOCK_PAGE (sp_lock_page_get_type ())
G_DECLARE_FINAL_TYPE (SpLockPage, sp_lock_page, SP, LOCK_PAGE, GtkWidget)

GtkWidget *sp_lock_page_new (void);
/* Looks at the vault folder again: "create" or "unlock" mode. */
void sp_lock_page_refresh (SpLockPage *self);
gboolean sp_lock_page_is_creating (SpLockPage *self);
gboolean sp_lock_page_is_busy (SpLockPage *self);
/* The message shown after a failure, or NULL. */
const char *sp_lock_page_get_error (SpLockPage *self);
/* For tests and the screenshot helper: the passphrase entries. */
GtkEditable *sp_lock_page_get_passphrase_entry (SpLockPage *self);
GtkEditable *sp_lock_page_get_repeat_entry (SpLockPage *self);
void sp_lock_page_grab_focus (SpLockPage *self);

/* A rough strength score 0..4 for the hint under a new passphrase. */
guint sp_passphrase_strength (const char *text);

G_END_DECLS
