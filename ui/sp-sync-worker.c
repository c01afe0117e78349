/* sp-sync-worker.c — sync calls in worker threads, and the vault's safety.
 *
 * Why locking is safe while a sync call runs: the sync client cannot be
 * interrupted (a call may wait minutes for a slow relay), and the lock must
 * not wait for it — the window has to stop showing data at once. So the
 * application never closes a vault a worker still uses: it hands it to
 * sp_sync_close_vault(), which closes it on the spot when no call runs, and
 * otherwise only marks it; the worker thread closes it (wiping its keys) right
 * after its call returns, under the same mutex, and never touches it again.
 * The widgets that started the call are destroyed by the lock and cancel their
 * GCancellable, so the completion callback in the main thread does nothing.
 * Until then the keys stay in the worker's memory (sodium_malloc'ed, for at
 * most the network timeout); no widget can reach them. A new sync call cannot
 * start while the old one runs, so a vault unlocked again in the meantime is
 * never used by two threads either; the main thread reads it only through
 * windows that are not busy.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>

#include "sp-application.h"
#include "sp-sync-worker.h"
#include "sp-window.h"

static GMutex guard_lock;
static GCond guard_cond;
static gboolean guard_busy;  /* a worker runs a call */
static SpVault *guard_vault; /* … on this vault */
static gboolean guard_close; /* … which it closes when the call returns */

typedef struct
{
  GAsyncReadyCallback callback;
  gpointer user_data;
} Done;

SpSyncJob *
sp_sync_job_new (SpSyncOp op, const char *arg)
{
  SpSyncJob *job = g_new0 (SpSyncJob, 1);

  job->op = op;
  job->arg = g_strdup (arg);
  return job;
}

void
sp_sync_job_free (SpSyncJob *job)
{
  if (job == NULL)
    return;
  g_free (job->arg);
  g_free (job->text);
  g_clear_pointer (&job->devices, g_ptr_array_unref);
  sync_report_clear (&job->report);
  g_clear_error (&job->error);
  g_free (job->relay);
  g_free (job->proxy);
  if (job->window)
    g_object_remove_weak_pointer (G_OBJECT (job->window), (gpointer *)&job->window);
  g_free (job);
}

gboolean
sp_sync_is_busy (void)
{
  gboolean busy;

  g_mutex_lock (&guard_lock);
  busy = guard_busy;
  g_mutex_unlock (&guard_lock);
  return busy;
}

void
sp_sync_close_vault (SpVault *vault)
{
  if (vault == NULL)
    return;
  g_mutex_lock (&guard_lock);
  if (guard_busy && guard_vault == vault)
    {
      /* The worker closes it when its call returns. */
      guard_close = TRUE;
      g_mutex_unlock (&guard_lock);
      return;
    }
  g_mutex_unlock (&guard_lock);
  sp_vault_close (vault);
}

void
sp_sync_wait_idle (void)
{
  g_mutex_lock (&guard_lock);
  while (guard_busy)
    g_cond_wait (&guard_cond, &guard_lock);
  g_mutex_unlock (&guard_lock);
}

/* In the worker thread, once its call has returned: from here on it does not
 * touch the vault. */
static void
guard_release (void)
{
  g_mutex_lock (&guard_lock);
  if (guard_close)
    sp_vault_close (guard_vault);
  guard_vault = NULL;
  guard_close = FALSE;
  guard_busy = FALSE;
  g_cond_broadcast (&guard_cond);
  g_mutex_unlock (&guard_lock);
}

static void
job_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  SpSyncJob *job = data;
  SyncOptions opts = { job->relay, job->proxy, NULL };

  switch (job->op)
    {
      case SP_SYNC_OP_RUN:
        job->ok = sync_run (job->vault, &opts, &job->report, &job->error);
        break;
      case SP_SYNC_OP_CREATE:
        opts.relay = NULL; /* the URL typed in the dialog */
        job->ok = sync_workspace_create (job->vault, job->arg, &opts, &job->error);
        break;
      case SP_SYNC_OP_INVITE:
        job->text = sync_workspace_invite (job->vault, job->ttl_hours, &opts, &job->error);
        job->ok = job->text != NULL;
        break;
      case SP_SYNC_OP_JOIN:
        opts.relay = NULL; /* the invite code names the relay */
        job->text = sync_workspace_join (job->vault, job->arg, &opts, &job->error);
        job->ok = job->text != NULL;
        break;
      case SP_SYNC_OP_APPROVE:
        job->text = sync_workspace_approve (job->vault, job->arg, &opts, &job->error);
        job->ok = job->text != NULL;
        break;
      case SP_SYNC_OP_DEVICES:
        job->devices = sync_device_list (job->vault, &opts, &job->error);
        job->ok = job->devices != NULL;
        break;
      case SP_SYNC_OP_REVOKE:
        job->ok = sync_device_revoke (job->vault, job->arg, &opts, &job->error);
        break;
      default:
        g_assert_not_reached ();
    }
  if (!job->ok && job->error == NULL)
    g_set_error_literal (&job->error, G_IO_ERROR, G_IO_ERROR_FAILED, _ ("The sync failed."));
  job->vault = NULL;
  guard_release ();
  g_task_return_boolean (task, TRUE);
}

static void
job_done (GObject *source, GAsyncResult *result, gpointer data)
{
  SpSyncJob *job = g_task_get_task_data (G_TASK (result));
  Done *done = data;

  /* The window's lists are usable again (they are reloaded by the caller). */
  if (job->window)
    sp_sync_set_window_busy (job->window, FALSE);
  done->callback (source, result, done->user_data);
  g_free (done);
}

gboolean
sp_sync_job_start (SpSyncJob *job, SpVault *vault, GtkWidget *source_object,
                   GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data,
                   GError **error)
{
  g_autoptr (SpSyncJob) owned = job;
  g_autoptr (GTask) task = NULL;
  GtkRoot *root;
  Done *done;

  g_return_val_if_fail (job != NULL && vault != NULL, FALSE);
  g_return_val_if_fail (GTK_IS_WIDGET (source_object), FALSE);
  g_mutex_lock (&guard_lock);
  if (guard_busy)
    {
      g_mutex_unlock (&guard_lock);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                           _ ("Another sync operation is still running. Try again when it "
                              "has finished."));
      return FALSE;
    }
  guard_busy = TRUE;
  guard_vault = vault;
  guard_close = FALSE;
  g_mutex_unlock (&guard_lock);

  job->vault = vault;
  job->relay = sp_sync_settings_get ("relay-url");
  job->proxy = sp_sync_settings_get ("proxy");
  /* A sync dialog is transient for the main window: that one is made busy. */
  root = gtk_widget_get_root (source_object);
  if (GTK_IS_WINDOW (root) && !SP_IS_WINDOW (root)
      && gtk_window_get_transient_for (GTK_WINDOW (root)))
    root = GTK_ROOT (gtk_window_get_transient_for (GTK_WINDOW (root)));
  if (GTK_IS_WINDOW (root))
    {
      job->window = GTK_WINDOW (root);
      g_object_add_weak_pointer (G_OBJECT (job->window), (gpointer *)&job->window);
      sp_sync_set_window_busy (job->window, TRUE);
    }
  done = g_new0 (Done, 1);
  done->callback = callback;
  done->user_data = user_data;
  /* No source object: a task would keep the widget alive (undisposed) after
   * the lock; the widget's dispose cancels @cancellable instead. */
  task = g_task_new (NULL, cancellable, job_done, done);
  g_task_set_source_tag (task, sp_sync_job_start);
  g_task_set_name (task, "[supolka] sync");
  g_task_set_task_data (task, g_steal_pointer (&owned), (GDestroyNotify)sp_sync_job_free);
  g_task_run_in_thread (task, job_thread);
  return TRUE;
}

SpSyncJob *
sp_sync_job_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;
  return g_task_get_task_data (G_TASK (result));
}

char *
sp_sync_settings_get (const char *key)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;
  g_autoptr (GSettings) settings = NULL;
  g_autofree char *value = NULL;

  if (source)
    schema = g_settings_schema_source_lookup (source, SP_APPLICATION_ID, TRUE);
  if (schema == NULL || !g_settings_schema_has_key (schema, key))
    return NULL;
  settings = g_settings_new_full (schema, NULL, NULL);
  value = g_strstrip (g_settings_get_string (settings, key));
  return *value ? g_steal_pointer (&value) : NULL;
}

gboolean
sp_sync_relay_url_valid (const char *url, GError **error)
{
  if (url == NULL || *url == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _ ("Enter the address of the relay."));
      return FALSE;
    }
  return sync_relay_url_check (url, error);
}

void
sp_sync_set_window_busy (GtkWindow *window, gboolean busy)
{
  static const char *const actions[] = { "win.search", "win.new-record", "win.undo-delete" };
  GList *toplevels;

  if (SP_IS_WINDOW (window) && sp_window_get_main_view (SP_WINDOW (window)))
    {
      sp_main_view_set_busy (sp_window_get_main_view (SP_WINDOW (window)), busy);
      for (guint i = 0; i < G_N_ELEMENTS (actions); i++)
        gtk_widget_action_set_enabled (GTK_WIDGET (window), actions[i], !busy);
    }
  /* Record editors are windows of their own and write to the vault. */
  toplevels = gtk_window_list_toplevels ();
  for (GList *l = toplevels; l; l = l->next)
    if (g_object_get_data (G_OBJECT (l->data), "sp-personal")
        && !g_object_get_data (G_OBJECT (l->data), "sp-sync-dialog"))
      gtk_widget_set_sensitive (GTK_WIDGET (l->data), !busy);
  g_list_free (toplevels);
}
