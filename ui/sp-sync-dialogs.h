/* sp-sync-dialogs.h — the dialogs of the Sync menu: create a workspace,
 * invite a device (code + QR code), join a workspace (shows the safety code),
 * approve a device (asks for its safety code), and the device list with
 * revocation. Each network call runs in a worker thread (sp-sync-worker.h)
 * with a spinner; errors are shown in words in the dialog. The dialogs are
 * destroyed when the vault is locked.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "supolka-core.h"
#include "supolka-sync.h"

G_BEGIN_DECLS

typedef enum
{
  SP_SYNC_DIALOG_CREATE,
  SP_SYNC_DIALOG_INVITE,
  SP_SYNC_DIALOG_JOIN,
  SP_SYNC_DIALOG_APPROVE,
  SP_SYNC_DIALOG_DEVICES,
} SpSyncDialogKind;

#define SP_TYPE_SYNC_DIALOG (sp_sync_dialog_get_type ())
G_DECLARE_FINAL_TYPE (SpSyncDialog, sp_sync_dialog, SP, SYNC_DIALOG, AdwWindow)

/* A modal dialog over @parent; @vault is borrowed (the dialog is destroyed at
 * lock). Emits "changed" after it changed the workspace (created, joined,
 * approved, revoked). Its "dialog.submit" action does what the primary button
 * does. */
GtkWidget *sp_sync_dialog_new (SpSyncDialogKind kind, GtkWindow *parent, SpVault *vault);
SpSyncDialogKind sp_sync_dialog_get_kind (SpSyncDialog *self);
/* Fills the dialog's entry (relay URL, invite code, safety code). */
void sp_sync_dialog_set_input (SpSyncDialog *self, const char *text);
/* The create dialog's create token field (for tests). */
void sp_sync_dialog_set_token (SpSyncDialog *self, const char *text);
gboolean sp_sync_dialog_is_busy (SpSyncDialog *self);
/* The invite code, the safety code or the approved device, or NULL. */
const char *sp_sync_dialog_get_result (SpSyncDialog *self);
/* The error shown, or NULL. */
const char *sp_sync_dialog_get_error (SpSyncDialog *self);
/* Invite: the QR code widget; its size in modules (0 while empty). */
GtkWidget *sp_sync_dialog_get_qr (SpSyncDialog *self);
int sp_sync_qr_get_modules (GtkWidget *qr);
/* Devices: the list last received (SyncDevice*, borrowed), or NULL. */
GPtrArray *sp_sync_dialog_get_devices (SpSyncDialog *self);
/* Devices: asks to remove @device; returns the confirmation dialog (its
 * "remove" response removes it). */
GtkWidget *sp_sync_dialog_confirm_revoke (SpSyncDialog *self, const char *device);

G_END_DECLS
