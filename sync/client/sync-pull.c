/* sync-pull.c — fetching other devices' batches page by page, checking each
 * against its device's chain and applying it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "sync-client-private.h"

/* ---- Pull ---- */

typedef struct
{
  GHashTable *claimed; /* device -> highest seq some peer's vv says it applied */
} PullState;

static void
refuse (SyncCtx *c, SyncReport *report, const char *device, guint64 seq, const char *why)
{
  if (report)
    report->refused_batches++;
  sync_problem (report, _ ("Batch %llu of device %.8s… was refused and not applied: %s"),
                (unsigned long long)seq, device, why);
  (void)c;
}

static gboolean
handle_batch (SyncCtx *c, const char *device, guint64 seq, GBytes *env, gint64 cursor,
              SyncReport *report, PullState *ps, GError **error)
{
  g_autofree char *chain_key = g_strconcat ("chain/", device, NULL);
  g_autoptr (GError) local = NULL;
  g_autoptr (SyncBatch) batch = NULL;
  g_autoptr (SpSecret) key = NULL;
  g_autofree char *head_hex = NULL;
  SyncBatchInfo info;
  guint64 last_seq;
  guint8 last_hash[SYNC_HASH_BYTES], hash[SYNC_HASH_BYTES], raw_dev[SYNC_ID_BYTES];
  const SyncMember *m;
  const gint64 *head_version;
  gboolean ok;

  if (report)
    report->pulled_batches++;
  if (!sync_batch_peek (env, &info, &local) || !sync_hex_decode (device, raw_dev, 16, NULL)
      || memcmp (info.device, raw_dev, 16) != 0 || info.seq != seq
      || memcmp (info.workspace, c->ws, 16) != 0)
    {
      refuse (c, report, device, seq, _ ("it is malformed or mislabelled"));
      return sync_state_set_int (c->vault, "cursor", cursor, error);
    }
  sync_state_get_chain (c->vault, chain_key, &last_seq, last_hash);
  m = g_hash_table_lookup (c->members, device);
  head_hex = sync_hex_encode (info.log_head, SYNC_HASH_BYTES);
  head_version = g_hash_table_lookup (c->log_heads, head_hex);
  if (m == NULL)
    refuse (c, report, device, seq, _ ("the device is not a member of the workspace"));
  else if (seq <= last_seq)
    refuse (c, report, device, seq, _ ("it was already received (a replay)"));
  else if (seq != last_seq + 1 || memcmp (info.prev_hash, last_hash, SYNC_HASH_BYTES) != 0)
    refuse (c, report, device, seq,
            _ ("it does not follow the device's previous batch (missing, reordered or altered "
               "batches)"));
  else if (head_version == NULL)
    refuse (c, report, device, seq, _ ("it names a membership log this device does not know"));
  else if (m->removed_at && *head_version >= m->removed_at)
    refuse (c, report, device, seq, _ ("the device had been removed when it wrote it"));
  else if ((key = sync_epoch_key (c, info.epoch)) == NULL)
    refuse (c, report, device, seq, _ ("this device does not hold the key it was written with"));
  else if ((batch = sync_batch_open (env, sp_secret_data (key), m->sign_pk, &local)) == NULL)
    refuse (c, report, device, seq, _ ("its signature or encryption does not verify (tampered)"));
  else
    {
      GHashTableIter it;
      gpointer k, v;

      /* Inside the page's transaction (pull): a batch that does not apply
       * is taken back alone. */
      sync_batch_hash (env, hash);
      if (!sp_vault_savepoint (c->vault, error))
        return FALSE;
      ok = sp_vault_apply_changes (c->vault, batch->changes, &local);
      if (!ok)
        {
          sp_vault_rollback_to_savepoint (c->vault);
          refuse (c, report, device, seq, local->message);
          return sync_state_set_int (c->vault, "cursor", cursor, error);
        }
      ok = sync_state_set_chain (c->vault, chain_key, seq, hash, error)
           && sync_state_set_int (c->vault, "cursor", cursor, error)
           && sp_vault_release (c->vault, error);
      if (!ok)
        return FALSE; /* the caller rolls the page back */
      if (report)
        {
          report->applied_batches++;
          report->applied_changes += batch->changes->len;
        }
      g_hash_table_iter_init (&it, batch->vv);
      while (g_hash_table_iter_next (&it, &k, &v))
        {
          guint64 *have = g_hash_table_lookup (ps->claimed, k);
          if (have == NULL || *have < *(guint64 *)v)
            g_hash_table_insert (ps->claimed, g_strdup (k), g_memdup2 (v, sizeof (guint64)));
        }
      return TRUE;
    }
  return sync_state_set_int (c->vault, "cursor", cursor, error);
}

/* Applies one page's batches inside the caller's transaction. A malformed
 * item stops the page with *bad_item set; what came before it stays. */
static gboolean
pull_page (SyncCtx *c, JsonArray *arr, gint64 cursor, SyncReport *report, PullState *ps,
           gboolean *bad_item, GError **error)
{
  gboolean ok = TRUE;

  for (guint i = 0; ok && i < json_array_get_length (arr); i++)
    {
      JsonNode *item = json_array_get_element (arr, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (item) ? json_node_get_object (item) : NULL;
      const char *dev = sync_json_str (o, "device", 64);
      const char *data = sync_json_str (o, "data", (SYNC_ENVELOPE_MAX_LEN / 3 + 2) * 4);
      gint64 cur, seq;
      g_autofree guint8 *raw = NULL;
      size_t raw_len = 0;
      g_autoptr (GBytes) env = NULL;

      if (dev == NULL || !sync_id_is_valid (dev) || data == NULL
          || !sync_json_int (o, "cursor", &cur) || !sync_json_int (o, "seq", &seq) || cur <= cursor
          || seq < 1)
        {
          *bad_item = TRUE; /* after what came before it is committed */
          break;
        }
      cursor = cur;
      raw = g_malloc (strlen (data) / 4 * 3 + 3);
      if (sodium_base642bin (raw, strlen (data) / 4 * 3 + 3, data, strlen (data), NULL, &raw_len,
                             NULL, sodium_base64_VARIANT_ORIGINAL)
          != 0)
        {
          refuse (c, report, dev, (guint64)seq, _ ("it is malformed or mislabelled"));
          ok = sync_state_set_int (c->vault, "cursor", cur, error);
          continue;
        }
      env = g_bytes_new_take (g_steal_pointer (&raw), raw_len);
      if (strcmp (dev, c->device) == 0)
        {
          ok = sync_state_set_int (c->vault, "cursor", cur, error); /* our own */
          continue;
        }
      ok = handle_batch (c, dev, (guint64)seq, env, cur, report, ps, error);
    }
  return ok;
}

/* A peer applied batches the relay never handed us: withheld. */
static void
report_withheld (SyncCtx *c, PullState *ps, SyncReport *report)
{
  GHashTableIter it;
  gpointer k, v;

  g_hash_table_iter_init (&it, ps->claimed);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      g_autofree char *chain_key = g_strconcat ("chain/", (const char *)k, NULL);
      guint64 have;
      guint8 hash[SYNC_HASH_BYTES];

      if (strcmp (k, c->device) == 0 || !sync_id_is_valid (k))
        continue;
      sync_state_get_chain (c->vault, chain_key, &have, hash);
      if (have < *(guint64 *)v)
        sync_problem (
            report,
            _ ("The relay has not delivered batches %llu–%llu of device %.8s… that another "
               "device already has: it may be withholding them"),
            (unsigned long long)(have + 1), (unsigned long long)*(guint64 *)v, (const char *)k);
    }
}

gboolean
sync_pull (SyncCtx *c, SyncReport *report, GError **error)
{
  PullState ps = { g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free) };
  static const long gone[] = { 410, 0 };
  gboolean ok = TRUE, more = TRUE;
  guint snapshots = 0;
  long status = 0;

  for (guint page = 0; ok && more && page < 1000000; page++)
    {
      g_autofree char *path = NULL;
      g_autoptr (JsonObject) ans = NULL;
      gint64 cursor = sync_state_get_int (c->vault, "cursor");
      JsonNode *bn;
      JsonArray *arr;
      gboolean bad_item = FALSE;

      path = g_strdup_printf ("/v1/workspaces/%s/batches?since=%" G_GINT64_FORMAT "&limit=%d",
                              c->ws_hex, cursor, PAGE_LIMIT);
      ans = sync_http_json (c->http, "GET", path, NULL, gone, &status, error);
      bn = ans ? json_object_get_member (ans, "batches") : NULL;
      if (ans == NULL)
        {
          ok = FALSE;
          break;
        }
      if (status == 410)
        {
          /* Older batches were pruned: start from the snapshot (once). */
          if (snapshots++ > 0 || !sync_snapshot_apply (c, report, error))
            {
              if (snapshots > 1)
                sync_fail (error, SYNC_ERROR_MALFORMED,
                           _ ("The relay's snapshot does not reach its pruned history"));
              ok = FALSE;
              break;
            }
          more = TRUE;
          continue;
        }
      if (bn == NULL || !JSON_NODE_HOLDS_ARRAY (bn) || !sync_json_bool (ans, "more", &more))
        {
          ok = sync_fail (error, SYNC_ERROR_MALFORMED,
                          _ ("The relay sent an answer that is not valid"));
          break;
        }
      arr = json_node_get_array (bn);
      if (json_array_get_length (arr) == 0)
        {
          more = FALSE;
          break;
        }
      /* A page is applied in one vault transaction: one commit (and its
       * encrypted pages and fsync) per page instead of per batch. What
       * stops it half-way takes the whole page back, cursor included, so
       * the next sync fetches it again. */
      if (!sp_vault_begin (c->vault, error))
        {
          ok = FALSE;
          break;
        }
      ok = pull_page (c, arr, cursor, report, &ps, &bad_item, error);
      if (!ok)
        sp_vault_rollback (c->vault);
      else if (!sp_vault_commit (c->vault, error))
        ok = FALSE;
      else if (bad_item)
        ok = sync_fail (error, SYNC_ERROR_MALFORMED,
                        _ ("The relay sent an answer that is not valid"));
    }
  if (ok)
    report_withheld (c, &ps, report);
  g_hash_table_unref (ps.claimed);
  return ok;
}
