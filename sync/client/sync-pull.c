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
  GPtrArray *held;     /* SyncHeldKey*: every compartment key held */
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

gboolean
sync_batch_checks (SyncCtx *c, const char *device, guint64 seq, GBytes *env, guint64 last_seq,
                   const guint8 last_hash[SYNC_HASH_BYTES], SyncBatchInfo *info,
                   const SyncMember **member, const char **why)
{
  g_autofree char *head_hex = NULL;
  guint8 raw_dev[SYNC_ID_BYTES];
  const SyncMember *m;
  const gint64 *head_version;

  *why = NULL;
  if (!sync_batch_peek (env, info, NULL) || !sync_hex_decode (device, raw_dev, 16, NULL)
      || memcmp (info->device, raw_dev, 16) != 0 || info->seq != seq
      || memcmp (info->workspace, c->ws, 16) != 0)
    *why = _ ("it is malformed or mislabelled");
  else if ((m = g_hash_table_lookup (c->members, device)) == NULL)
    *why = _ ("the device is not a member of the workspace");
  else if (seq <= last_seq)
    *why = _ ("it was already received (a replay)");
  else if (seq != last_seq + 1 || memcmp (info->prev_hash, last_hash, SYNC_HASH_BYTES) != 0)
    *why = _ ("it does not follow the device's previous batch (missing, reordered or altered "
              "batches)");
  else if ((head_version = g_hash_table_lookup (
                c->log_heads, head_hex = sync_hex_encode (info->log_head, SYNC_HASH_BYTES)))
           == NULL)
    *why = _ ("it names a membership log this device does not know");
  else if (m->removed_at && *head_version >= m->removed_at)
    *why = _ ("the device had been removed when it wrote it");
  else
    *member = m;
  return *why == NULL;
}

SyncBatch *
sync_batch_open_held (SyncCtx *c, GBytes *env, const SyncBatchInfo *info, const SyncMember *m,
                      GPtrArray *held, gboolean with_main, gint64 *local, const char **why)
{
  g_autoptr (SpSecret) main_key = with_main ? sync_epoch_key (c, info->epoch) : NULL;
  const char *tampered = _ ("its signature or encryption does not verify (tampered)");
  SyncBatch *batch;

  *why = NULL;
  *local = 0;
  if (with_main && main_key == NULL)
    {
      *why = _ ("this device does not hold the key it was written with");
      return NULL;
    }
  if (main_key && sync_batch_key_matches (env, sp_secret_data (main_key)))
    {
      batch = sync_batch_open (env, sp_secret_data (main_key), m->sign_pk, NULL);
      if (batch == NULL || batch->cid[0])
        {
          *why = tampered;
          g_clear_pointer (&batch, sync_batch_free);
        }
      return batch;
    }
  for (guint i = 0; held && i < held->len; i++)
    {
      const SyncHeldKey *h = held->pdata[i];

      if (!sync_batch_key_matches (env, sp_secret_data (h->key)))
        continue;
      batch = sync_batch_open (env, sp_secret_data (h->key), m->sign_pk, NULL);
      if (batch == NULL || strcmp (batch->cid, h->cid) != 0 || batch->cepoch != h->cepoch
          || batch->has_cbox)
        {
          *why = tampered;
          g_clear_pointer (&batch, sync_batch_free);
        }
      *local = h->local;
      return batch;
    }
  /* A compartment this device does not hold: only its signature counts. */
  if (!sync_batch_verify_signature (env, m->sign_pk))
    *why = tampered;
  return NULL;
}

static void
claim_vv (PullState *ps, SyncBatch *batch)
{
  GHashTableIter it;
  gpointer k, v;

  g_hash_table_iter_init (&it, batch->vv);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      guint64 *have = g_hash_table_lookup (ps->claimed, k);
      if (have == NULL || *have < *(guint64 *)v)
        g_hash_table_insert (ps->claimed, g_strdup (k), g_memdup2 (v, sizeof (guint64)));
    }
}

/* Applies an opened batch inside a SAVEPOINT of the page's transaction; a
 * batch that does not apply is taken back alone and refused. */
static gboolean
apply_batch (SyncCtx *c, const char *device, SyncBatch *batch, gint64 local, gboolean *applied,
             GError **error)
{
  g_autoptr (GError) refused = NULL;
  g_autofree char *cbox_key = g_strconcat ("peer/cbox/", device, NULL);
  gboolean ok;

  *applied = FALSE;
  if (!sp_vault_savepoint (c->vault, error))
    return FALSE;
  ok = local == 0 ? sp_vault_apply_changes (c->vault, batch->changes, &refused)
                  : sp_vault_apply_changes_in (c->vault, batch->changes, local, &refused);
  if (!ok)
    {
      sp_vault_rollback_to_savepoint (c->vault);
      g_set_error_literal (error, SYNC_ERROR, SYNC_ERROR_MALFORMED, refused->message);
      return TRUE; /* refused, not a vault failure */
    }
  if (batch->has_cbox && !sp_vault_sync_set (c->vault, cbox_key, batch->cbox_pk, 32, error))
    return FALSE;
  *applied = TRUE;
  return TRUE;
}

static gboolean
handle_batch (SyncCtx *c, const char *device, guint64 seq, GBytes *env, gint64 cursor,
              SyncReport *report, PullState *ps, GError **error)
{
  g_autofree char *chain_key = g_strconcat ("chain/", device, NULL);
  g_autoptr (SyncBatch) batch = NULL;
  g_autoptr (GError) refused = NULL;
  SyncBatchInfo info;
  guint64 last_seq;
  guint8 last_hash[SYNC_HASH_BYTES], hash[SYNC_HASH_BYTES];
  const SyncMember *m = NULL;
  const char *why = NULL;
  gint64 local = 0;
  gboolean applied = FALSE;

  if (report)
    report->pulled_batches++;
  sync_state_get_chain (c->vault, chain_key, &last_seq, last_hash);
  if (!sync_batch_checks (c, device, seq, env, last_seq, last_hash, &info, &m, &why)
      || ((batch = sync_batch_open_held (c, env, &info, m, ps->held, TRUE, &local, &why)) == NULL
          && why))
    {
      refuse (c, report, device, seq, why);
      return sync_state_set_int (c->vault, "cursor", cursor, error);
    }
  sync_batch_hash (env, hash);
  if (batch)
    {
      if (!apply_batch (c, device, batch, local, &applied, &refused))
        {
          g_propagate_error (error, g_steal_pointer (&refused));
          return FALSE; /* the caller rolls the page back */
        }
      if (!applied)
        {
          refuse (c, report, device, seq, refused->message);
          /* A main batch that does not apply stops its chain, as before; a
           * compartment's batch refused by the compartment rules (its record
           * moved meanwhile: a race, not an attack on the chain) does not. */
          if (local == 0)
            return sync_state_set_int (c->vault, "cursor", cursor, error);
          g_clear_pointer (&batch, sync_batch_free);
        }
    }
  /* Applied, or of a compartment not held here: the chain goes on. */
  if (!sync_state_set_chain (c->vault, chain_key, seq, hash, error)
      || !sync_state_set_int (c->vault, "cursor", cursor, error)
      || (applied && !sp_vault_release (c->vault, error)))
    return FALSE;
  if (batch && report)
    {
      report->applied_batches++;
      report->applied_changes += batch->changes->len;
    }
  if (batch)
    claim_vv (ps, batch);
  return TRUE;
}

SyncPageItem
sync_page_item (JsonNode *item, gint64 after, const char **dev, gint64 *cur, gint64 *seq,
                GBytes **env)
{
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (item) ? json_node_get_object (item) : NULL;
  const char *data = sync_json_str (o, "data", (SYNC_ENVELOPE_MAX_LEN / 3 + 2) * 4);

  *dev = sync_json_str (o, "device", 64);
  if (*dev == NULL || !sync_id_is_valid (*dev) || data == NULL || !sync_json_int (o, "cursor", cur)
      || !sync_json_int (o, "seq", seq) || *cur <= after || *seq < 1)
    return SYNC_PAGE_ITEM_BAD;
  *env = sync_b64_decode (data, SYNC_ENVELOPE_MAX_LEN);
  if (*env == NULL)
    return SYNC_PAGE_ITEM_UNDECODABLE;
  return SYNC_PAGE_ITEM_OK;
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
      const char *dev = NULL;
      gint64 cur = 0, seq = 0;
      g_autoptr (GBytes) env = NULL;
      SyncPageItem kind
          = sync_page_item (json_array_get_element (arr, i), cursor, &dev, &cur, &seq, &env);

      if (kind == SYNC_PAGE_ITEM_BAD)
        {
          *bad_item = TRUE; /* after what came before it is committed */
          break;
        }
      cursor = cur;
      if (kind == SYNC_PAGE_ITEM_UNDECODABLE)
        {
          refuse (c, report, dev, (guint64)seq, _ ("it is malformed or mislabelled"));
          ok = sync_state_set_int (c->vault, "cursor", cur, error);
          continue;
        }
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
  PullState ps = { g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free),
                   sync_comp_held_keys (c, error) };
  static const long gone[] = { 410, 0 };
  gboolean ok = ps.held != NULL, more = TRUE;
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
  g_clear_pointer (&ps.held, g_ptr_array_unref);
  return ok;
}
