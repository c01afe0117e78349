/* sp-vault-job.h — the one way ui/ runs work on the open vault off the main
 * loop (sync calls, backup, the duress passphrase, restore).
 *
 * One job at a time in the whole process, holding the one lease on the vault:
 * - sp_vault_job_run() refuses a second job (G_IO_ERROR_BUSY);
 * - while a job runs, the busy hook (the application's) makes every window
 *   that reads the vault insensitive, except the window that started the job;
 * - locking never waits for the job: sp_vault_job_close_vault() closes the
 *   vault at once when no job uses it, and otherwise leaves closing it (and
 *   wiping its keys) to the job's thread the moment its work returns.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "supolka-core.h"

G_BEGIN_DECLS

/* A job's work, in the worker thread. @vault is the leased vault (NULL for a
 * job that needs none, such as restore), @data the job's task data. The
 * vault must not be touched after returning. */
typedef gboolean (*SpVaultJobFunc) (SpVault *vault, gpointer data, GError **error);

/* Called in the main thread when a job starts (@busy TRUE) and when it has
 * finished, before the job's own callback. @owner is the window that
 * started the job (it stays usable), or NULL. */
typedef void (*SpVaultJobBusyHook) (GtkWindow *owner, gboolean busy, gpointer user_data);

/* One hook for the process (the application sets it at startup). */
void sp_vault_job_set_busy_hook (SpVaultJobBusyHook hook, gpointer user_data);

/* Runs @func (@data, taken, freed with @data_free) on @vault (borrowed, may
 * be NULL) in a worker thread; @callback runs in the main thread when it is
 * done (if not NULL), with no source object (a task must not keep a widget alive after a
 * lock). @source is the widget that starts it: its window is the busy hook's
 * owner. Fails with G_IO_ERROR_BUSY, without calling @callback, while
 * another job runs. Cancel @cancellable when @source goes away: @callback
 * then gets G_IO_ERROR_CANCELLED from sp_vault_job_finish() and must not
 * touch anything (neither its user data nor the vault, which may be closed
 * by then). */
gboolean sp_vault_job_run (SpVault *vault, GtkWidget *source, const char *name, SpVaultJobFunc func,
                           gpointer data, GDestroyNotify data_free, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data, GError **error);
/* The job's data (borrowed from the task: valid during the callback), or
 * NULL with @error (the job's own error, or G_IO_ERROR_CANCELLED). */
gpointer sp_vault_job_finish (GAsyncResult *result, GError **error);

/* TRUE while a job runs. */
gboolean sp_vault_job_is_busy (void);
/* Closes @vault now, or — when the running job uses it — as soon as the
 * job's work returns. The application's lock calls it instead of
 * sp_vault_close(). */
void sp_vault_job_close_vault (SpVault *vault);
/* Blocks until no job runs (tests). */
void sp_vault_job_wait_idle (void);

G_END_DECLS
