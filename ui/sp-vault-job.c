/* sp-vault-job.c — background work on the open vault, and the vault's safety.
 *
 * Why locking is safe while a job runs: a job cannot be interrupted (a sync
 * call may wait minutes for a slow relay, a backup runs a KDF), and the lock
 * must not wait for it — the window has to stop showing data at once. So the
 * application never closes a vault a job still uses: it hands it to
 * sp_vault_job_close_vault(), which closes it on the spot when no job uses
 * it, and otherwise only marks it; the job's thread closes it (wiping its
 * keys) right after its work returns, under the same mutex, and never
 * touches it again. The widgets that started the job are destroyed by the
 * lock and cancel their GCancellable, so the completion callback in the main
 * thread does nothing. Until then the keys stay in the worker's memory
 * (sodium_malloc'ed, for at most the network timeout); no widget can reach
 * them. A new job cannot start while the old one runs, so a vault unlocked
 * again in the meantime is never used by two threads either; the main thread
 * reads it only through windows that are not busy.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>

#include "sp-vault-job.h"

/* The lease: written under lease_mutex, by the main thread when a job starts
 * and by the job's thread when its work returns. */
static GMutex lease_mutex;
static GCond lease_cond;
static gboolean lease_busy;  /* a job runs */
static SpVault *lease_vault; /* … on this vault (or NULL) */
static gboolean lease_close; /* … which it closes when its work returns */

/* Main thread only. */
static SpVaultJobBusyHook busy_hook;
static gpointer busy_hook_data;

typedef struct
{
  SpVault *vault;
  SpVaultJobFunc func;
  gpointer data;
  GDestroyNotify data_free;
  GtkWindow *owner; /* weak */
  GAsyncReadyCallback callback;
  gpointer user_data;
} Job;

static void
job_free (gpointer p)
{
  Job *job = p;

  if (job->data_free && job->data)
    job->data_free (job->data);
  g_clear_weak_pointer (&job->owner);
  g_free (job);
}

void
sp_vault_job_set_busy_hook (SpVaultJobBusyHook hook, gpointer user_data)
{
  busy_hook = hook;
  busy_hook_data = user_data;
}

gboolean
sp_vault_job_is_busy (void)
{
  gboolean busy;

  g_mutex_lock (&lease_mutex);
  busy = lease_busy;
  g_mutex_unlock (&lease_mutex);
  return busy;
}

void
sp_vault_job_close_vault (SpVault *vault)
{
  if (vault == NULL)
    return;
  g_mutex_lock (&lease_mutex);
  if (lease_busy && lease_vault == vault)
    {
      /* The job's thread closes it when its work returns. */
      lease_close = TRUE;
      g_mutex_unlock (&lease_mutex);
      return;
    }
  g_mutex_unlock (&lease_mutex);
  sp_vault_close (vault);
}

void
sp_vault_job_wait_idle (void)
{
  g_mutex_lock (&lease_mutex);
  while (lease_busy)
    g_cond_wait (&lease_cond, &lease_mutex);
  g_mutex_unlock (&lease_mutex);
}

static gboolean
lease_take (SpVault *vault, GError **error)
{
  g_mutex_lock (&lease_mutex);
  if (lease_busy)
    {
      g_mutex_unlock (&lease_mutex);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                           _ ("Another operation is still running. Try again in a moment."));
      return FALSE;
    }
  lease_busy = TRUE;
  lease_vault = vault;
  lease_close = FALSE;
  g_mutex_unlock (&lease_mutex);
  return TRUE;
}

/* In the job's thread, once its work has returned: from here on it does not
 * touch the vault. */
static void
lease_release (void)
{
  g_mutex_lock (&lease_mutex);
  if (lease_close && lease_vault)
    sp_vault_close (lease_vault);
  lease_vault = NULL;
  lease_close = FALSE;
  lease_busy = FALSE;
  g_cond_broadcast (&lease_cond);
  g_mutex_unlock (&lease_mutex);
}

static void
job_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Job *job = data;
  GError *error = NULL;
  gboolean ok = job->func (job->vault, job->data, &error);

  job->vault = NULL;
  lease_release ();
  if (!ok && error == NULL)
    g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_FAILED, _ ("The operation failed."));
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
job_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Job *job = g_task_get_task_data (G_TASK (result));

  /* The windows are usable again (the caller reloads what the job changed). */
  if (busy_hook)
    busy_hook (job->owner, FALSE, busy_hook_data);
  if (job->callback)
    job->callback (source, result, job->user_data);
}

gboolean
sp_vault_job_run (SpVault *vault, GtkWidget *source, const char *name, SpVaultJobFunc func,
                  gpointer data, GDestroyNotify data_free, GCancellable *cancellable,
                  GAsyncReadyCallback callback, gpointer user_data, GError **error)
{
  g_autoptr (GTask) task = NULL;
  GtkRoot *root;
  Job *job;

  g_return_val_if_fail (GTK_IS_WIDGET (source), FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  if (!lease_take (vault, error))
    {
      if (data_free && data)
        data_free (data);
      return FALSE;
    }
  job = g_new0 (Job, 1);
  job->vault = vault;
  job->func = func;
  job->data = data;
  job->data_free = data_free;
  job->callback = callback;
  job->user_data = user_data;
  root = gtk_widget_get_root (source);
  if (GTK_IS_WINDOW (root))
    g_set_weak_pointer (&job->owner, GTK_WINDOW (root));
  if (busy_hook)
    busy_hook (job->owner, TRUE, busy_hook_data);
  /* No source object: a task would keep the widget alive (undisposed) after
   * the lock; the widget's dispose cancels @cancellable instead. The work
   * always runs to its end (and releases the lease). */
  task = g_task_new (NULL, cancellable, job_done, NULL);
  g_task_set_source_tag (task, sp_vault_job_run);
  g_task_set_name (task, name);
  g_task_set_task_data (task, job, job_free);
  g_task_run_in_thread (task, job_thread);
  return TRUE;
}

gpointer
sp_vault_job_finish (GAsyncResult *result, GError **error)
{
  Job *job;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == sp_vault_job_run, NULL);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;
  job = g_task_get_task_data (G_TASK (result));
  return job->data;
}
