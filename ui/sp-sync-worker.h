/* sp-sync-worker.h — the desktop app's calls into the sync client
 * (sync/client/supolka-sync.h), each in a GTask worker thread.
 *
 * Every sync call blocks on the network and needs the vault to itself. So:
 * - one call at a time in the whole process (sp_sync_job_start() refuses a
 *   second one);
 * - while it runs, the window that started it does not touch the vault: its
 *   lists and record windows are insensitive and its record actions disabled
 *   (sp_main_view_set_busy()), and they are reloaded afterwards;
 * - locking never waits for the network: sp_sync_close_vault() closes the
 *   vault at once when no call runs, and otherwise leaves closing it to the
 *   worker thread the moment its call returns (see sp-sync-worker.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "supolka-core.h"
#include "supolka-sync.h"

G_BEGIN_DECLS

typedef enum
{
  SP_SYNC_OP_RUN,
  SP_SYNC_OP_CREATE,  /* arg: relay URL */
  SP_SYNC_OP_INVITE,  /* ttl_hours */
  SP_SYNC_OP_JOIN,    /* arg: invite code */
  SP_SYNC_OP_APPROVE, /* arg: safety code */
  SP_SYNC_OP_DEVICES,
  SP_SYNC_OP_REVOKE, /* arg: device id */
} SpSyncOp;

typedef struct
{
  SpSyncOp op;
  char *arg;
  guint ttl_hours;
  /* Results, valid in the completion callback. */
  gboolean ok;
  char *text;         /* invite code, safety code or approved device id */
  GPtrArray *devices; /* SyncDevice* */
  SyncReport report;
  GError *error;
  /* Private. */
  SpVault *vault;
  char *relay;
  char *proxy;
  GtkWindow *window; /* weak */
} SpSyncJob;

SpSyncJob *sp_sync_job_new (SpSyncOp op, const char *arg);
void sp_sync_job_free (SpSyncJob *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSyncJob, sp_sync_job_free)

/* Runs @job (taken) on @vault in a worker thread; @callback runs in the main
 * thread when it is done (its source object is NULL; the window of
 * @source_object is made busy meanwhile). Fails (without calling
 * @callback) when another sync call is still running. The relay and proxy
 * come from the relay-url and proxy settings when they are set. Cancel
 * @cancellable when @source_object goes away: @callback then gets
 * G_IO_ERROR_CANCELLED from sp_sync_job_finish() and must not touch anything
 * (neither @user_data nor the vault, which may be closed by then). */
gboolean sp_sync_job_start (SpSyncJob *job, SpVault *vault, GtkWidget *source_object,
                            GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data, GError **error);
/* The job (borrowed from the task: valid during the callback), or NULL with
 * @error when it was cancelled. */
SpSyncJob *sp_sync_job_finish (GAsyncResult *result, GError **error);

/* TRUE while a sync call runs (in any window). */
gboolean sp_sync_is_busy (void);
/* Closes @vault now, or — when a sync call still uses it — as soon as that
 * call returns. Called by the application instead of sp_vault_close(). */
void sp_sync_close_vault (SpVault *vault);
/* Blocks until no sync call runs (tests, application shutdown). */
void sp_sync_wait_idle (void);

/* The relay URL the settings name, or NULL; the proxy likewise. */
char *sp_sync_settings_get (const char *key);
/* https://HOST[...] or http:// to a loopback address; FALSE with a sentence
 * for the user in @error otherwise. */
gboolean sp_sync_relay_url_valid (const char *url, GError **error);
/* Makes @window's vault views insensitive (busy) or usable again. */
void sp_sync_set_window_busy (GtkWindow *window, gboolean busy);

G_END_DECLS
