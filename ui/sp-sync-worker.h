/* sp-sync-worker.h — the desktop app's calls into the sync client
 * (sync/client/supolka-sync.h), each a vault job (sp-vault-job.h): one job
 * at a time in the whole process, run in a worker thread; while it runs the
 * application makes the windows that read the vault busy (their lists and
 * record windows insensitive, record actions disabled), and they are
 * reloaded afterwards; locking never waits for the network.
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
  char *secret; /* SP_SYNC_OP_CREATE: the relay's create token, or NULL (wiped when freed) */
  guint ttl_hours;
  /* Results, valid in the completion callback. */
  gboolean ok;
  char *text;         /* invite code, safety code or approved device id */
  GPtrArray *devices; /* SyncDevice* */
  SyncReport report;
  GError *error;
  /* Private. */
  char *relay;
  char *proxy;
} SpSyncJob;

SpSyncJob *sp_sync_job_new (SpSyncOp op, const char *arg);
void sp_sync_job_free (SpSyncJob *job);
/* Wipes and frees job->secret. */
void sp_sync_job_clear_secret (SpSyncJob *job);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSyncJob, sp_sync_job_free)

/* Runs @job (taken) on @vault as a vault job; @callback runs in the main
 * thread when it is done (its source object is NULL; the windows other than
 * @source_object's are made busy meanwhile). Fails with G_IO_ERROR_BUSY
 * (without calling @callback) while another vault job is still running. The relay and proxy
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

/* The relay URL the settings name, or NULL; the proxy likewise. */
char *sp_sync_settings_get (const char *key);
/* https://HOST[...] or http:// to a loopback address; FALSE with a sentence
 * for the user in @error otherwise. */
gboolean sp_sync_relay_url_valid (const char *url, GError **error);

G_END_DECLS
