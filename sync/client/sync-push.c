/* sync-push.c — sealing local changes into batches and sending them through
 * the outbox.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "sync-client-private.h"

/* ---- Push ---- */

static GHashTable *
version_vector (SyncCtx *c, guint64 own_seq, GError **error)
{
  g_autoptr (GHashTable) vv = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GPtrArray) chains = sp_vault_sync_keys (c->vault, "chain/", error);

  if (chains == NULL)
    return NULL;
  for (guint i = 0; i < chains->len; i++)
    {
      const char *k = chains->pdata[i];
      guint64 seq;
      guint8 hash[SYNC_HASH_BYTES];

      if (sync_state_get_chain (c->vault, k, &seq, hash))
        g_hash_table_insert (vv, g_strdup (k + 6), g_memdup2 (&seq, sizeof seq));
    }
  if (own_seq)
    g_hash_table_insert (vv, g_strdup (c->device), g_memdup2 (&own_seq, sizeof own_seq));
  return g_steal_pointer (&vv);
}

/* Sends the sealed batch waiting in the outbox, if any, and records it. */
static gboolean
flush_outbox (SyncCtx *c, SyncReport *report, GError **error)
{
  g_autoptr (GBytes) env = sp_vault_sync_get (c->vault, "outbox", error);
  g_autoptr (GBytes) answer = NULL;
  g_autofree char *path = NULL;
  SyncBatchInfo info;
  guint8 hash[SYNC_HASH_BYTES];
  long status = 0;
  gint64 last;
  gboolean ok;

  if (env == NULL)
    return error == NULL || *error == NULL;
  if (!sync_batch_peek (env, &info, error))
    return FALSE;
  path = sync_ws_path (c, "/batches");
  if (!sync_http_request (c->http, "POST", path, g_bytes_get_data (env, NULL),
                          g_bytes_get_size (env), "application/octet-stream", &status, &answer,
                          error))
    return FALSE;
  if (status != 200 && status != 201)
    {
      g_autoptr (JsonObject) o = sync_parse_json_object (g_bytes_get_data (answer, NULL),
                                                         g_bytes_get_size (answer), 65536, NULL);
      const char *code = sync_json_error_code (o);

      if (status == 409 && g_strcmp0 (code, "seq_taken") == 0)
        return sync_fail (error, SYNC_ERROR_CHAIN,
                          _ ("The relay holds a different batch under this device's next number; "
                             "this device's chain was forked (restored from an old copy?)"));
      g_set_error (error, SYNC_ERROR, SYNC_ERROR_REFUSED, _ ("The relay refused: HTTP %ld (%s)"),
                   status, code && strlen (code) < 40 ? code : "?");
      return FALSE;
    }
  last = sync_state_get_int (c->vault, "outbox/last");
  sync_batch_hash (env, hash);
  if (!sp_vault_begin (c->vault, error))
    return FALSE;
  ok = sync_state_set_chain (c->vault, "own/chain", info.seq, hash, error)
       && sync_state_set_int (c->vault, "own/pushed", last, error)
       && sp_vault_sync_set (c->vault, "outbox", NULL, 0, error)
       && sp_vault_sync_set (c->vault, "outbox/last", NULL, 0, error);
  if (!sync_vault_end (c->vault, ok, error))
    return FALSE;
  if (report)
    report->pushed_batches++;
  return TRUE;
}

static gsize
change_size (const SpChange *ch)
{
  return 160 + strlen (ch->field) + (ch->value ? strlen (ch->value) : 0)
         + (ch->supersedes ? strlen (ch->supersedes) : 0);
}

gboolean
sync_push (SyncCtx *c, guint max_changes, SyncReport *report, GError **error)
{
  gint64 pushed, last_seq = 0;
  g_autoptr (GPtrArray) changes = NULL;
  g_autoptr (SpSecret) key = NULL;
  guint i = 0;

  if (!flush_outbox (c, report, error))
    return FALSE;
  pushed = sync_state_get_int (c->vault, "own/pushed");
  changes = sp_vault_local_changes (c->vault, pushed, &last_seq, error);
  if (changes == NULL)
    return FALSE;
  if (changes->len == 0)
    return TRUE;
  key = sync_epoch_key (c, c->epoch);
  if (key == NULL)
    return sync_fail (error, SYNC_ERROR_FAILED,
                      _ ("This device does not hold the current workspace key"));

  while (i < changes->len)
    {
      g_autoptr (GPtrArray) part = g_ptr_array_new ();
      g_autoptr (GHashTable) vv = NULL;
      g_autoptr (GBytes) env = NULL;
      SyncBatchInfo info = { 0 };
      guint64 own_seq;
      guint8 own_hash[SYNC_HASH_BYTES];
      gsize bytes = 0;
      gint64 through;
      gboolean ok;

      /* Whole local transactions only; a transaction bigger than a batch is
       * the one case that spans several (docs/PROTOCOL.md). */
      while (i < changes->len)
        {
          const SpChange *ch = changes->pdata[i];
          guint j = i;
          gsize tx_bytes = 0;

          while (j < changes->len && ((SpChange *)changes->pdata[j])->tx == ch->tx)
            tx_bytes += change_size (changes->pdata[j++]);
          if (part->len > 0
              && (part->len + (j - i) > max_changes || bytes + tx_bytes > BATCH_MAX_BYTES))
            break;
          if (part->len == 0 && (j - i > max_changes || tx_bytes > BATCH_MAX_BYTES))
            {
              /* An oversized transaction: fill this batch and go on. */
              while (i < changes->len && part->len < max_changes && bytes < BATCH_MAX_BYTES
                     && ((SpChange *)changes->pdata[i])->tx == ch->tx)
                {
                  bytes += change_size (changes->pdata[i]);
                  g_ptr_array_add (part, changes->pdata[i++]);
                }
              break;
            }
          for (; i < j; i++)
            g_ptr_array_add (part, changes->pdata[i]);
          bytes += tx_bytes;
        }
      sync_state_get_chain (c->vault, "own/chain", &own_seq, own_hash);
      memcpy (info.workspace, c->ws, SYNC_ID_BYTES);
      memcpy (info.device, c->dev_raw, SYNC_ID_BYTES);
      info.epoch = c->epoch;
      info.seq = own_seq + 1;
      memcpy (info.prev_hash, own_hash, SYNC_HASH_BYTES);
      memcpy (info.log_head, c->head_hash, SYNC_HASH_BYTES);
      vv = version_vector (c, own_seq + 1, error);
      if (vv == NULL)
        return FALSE;
      env = sync_batch_seal (&info, part, vv, sp_secret_data (key), sp_secret_data (c->sign_sk),
                             error);
      if (env == NULL)
        return FALSE;
      through = ((SpChange *)part->pdata[part->len - 1])->seq;
      if (!sp_vault_begin (c->vault, error))
        return FALSE;
      ok = sp_vault_sync_set (c->vault, "outbox", g_bytes_get_data (env, NULL),
                              g_bytes_get_size (env), error)
           && sync_state_set_int (c->vault, "outbox/last", through, error);
      if (!sync_vault_end (c->vault, ok, error) || !flush_outbox (c, report, error))
        return FALSE;
      if (report)
        report->pushed_changes += part->len;
    }
  return TRUE;
}
