/* sp-sync-worker.c — the sync client's calls as vault jobs (sp-vault-job.h):
 * each runs in the worker thread with the vault leased to it, so a lock
 * during a slow relay call neither waits for it nor leaves the keys behind.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <string.h>

#include "sp-preferences.h"
#include "sp-sync-worker.h"
#include "sp-vault-job.h"

SpSyncJob *
sp_sync_job_new (SpSyncOp op, const char *arg)
{
  SpSyncJob *job = g_new0 (SpSyncJob, 1);

  job->op = op;
  job->arg = g_strdup (arg);
  return job;
}

void
sp_sync_job_clear_secret (SpSyncJob *job)
{
  if (job->secret != NULL)
    explicit_bzero (job->secret, strlen (job->secret));
  g_clear_pointer (&job->secret, g_free);
}

void
sp_sync_job_free (SpSyncJob *job)
{
  if (job == NULL)
    return;
  sp_sync_job_clear_secret (job);
  g_free (job->arg);
  g_free (job->text);
  g_clear_pointer (&job->devices, g_ptr_array_unref);
  sync_report_clear (&job->report);
  g_clear_error (&job->error);
  g_free (job->relay);
  g_free (job->proxy);
  g_free (job);
}

/* In the worker thread: the call's result and error go into @job, which the
 * completion callback reads; the job itself always "succeeds". */
static gboolean
job_work (SpVault *vault, gpointer data, GError **error)
{
  SpSyncJob *job = data;
  SyncOptions opts = { job->relay, job->proxy, NULL };

  switch (job->op)
    {
      case SP_SYNC_OP_RUN:
        job->ok = sync_run (vault, &opts, &job->report, &job->error);
        break;
      case SP_SYNC_OP_CREATE:
        opts.relay = NULL; /* the URL typed in the dialog */
        opts.create_token = job->secret;
        job->ok = sync_workspace_create (vault, job->arg, &opts, &job->error);
        break;
      case SP_SYNC_OP_INVITE:
        job->text = sync_workspace_invite (vault, job->ttl_hours, &opts, &job->error);
        job->ok = job->text != NULL;
        break;
      case SP_SYNC_OP_JOIN:
        opts.relay = NULL; /* the invite code names the relay */
        job->text = sync_workspace_join (vault, job->arg, &opts, &job->error);
        job->ok = job->text != NULL;
        break;
      case SP_SYNC_OP_APPROVE:
        job->text = sync_workspace_approve (vault, job->arg, &opts, &job->error);
        job->ok = job->text != NULL;
        break;
      case SP_SYNC_OP_DEVICES:
        job->devices = sync_device_list (vault, &opts, &job->error);
        job->ok = job->devices != NULL;
        break;
      case SP_SYNC_OP_REVOKE:
        job->ok = sync_device_revoke_full (vault, job->arg, &opts, NULL, &job->error);
        break;
      default:
        g_assert_not_reached ();
    }
  if (!job->ok && job->error == NULL)
    g_set_error_literal (&job->error, G_IO_ERROR, G_IO_ERROR_FAILED, _ ("The sync failed."));
  return TRUE;
}

gboolean
sp_sync_job_start (SpSyncJob *job, SpVault *vault, GtkWidget *source_object,
                   GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data,
                   GError **error)
{
  g_return_val_if_fail (job != NULL, FALSE);
  if (vault == NULL)
    {
      sp_sync_job_free (job);
      g_return_val_if_reached (FALSE);
    }
  job->relay = sp_sync_settings_get ("relay-url");
  job->proxy = sp_sync_settings_get ("proxy");
  return sp_vault_job_run (vault, source_object, "[supolka] sync", job_work, job,
                           (GDestroyNotify)sp_sync_job_free, cancellable, callback, user_data,
                           error);
}

SpSyncJob *
sp_sync_job_finish (GAsyncResult *result, GError **error)
{
  return sp_vault_job_finish (result, error);
}

char *
sp_sync_settings_get (const char *key)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;
  g_autoptr (GSettings) settings = NULL;
  g_autofree char *value = NULL;

  if (source)
    schema = g_settings_schema_source_lookup (source, SP_SETTINGS_SCHEMA_ID, TRUE);
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
