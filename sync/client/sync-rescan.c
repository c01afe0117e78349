/* sync-rescan.c — the history of compartments this device has just gained
 * (a grant, the end of a journey): the relay's batches again from the start,
 * every chain checked from seq 1 as a pull does, and only the batches of
 * those compartments opened and applied (docs/PROTOCOL.md, "Rescan").
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "sync-client-private.h"

typedef SyncChainPos Chain;

typedef struct
{
  SyncCtx *c;
  SyncReport *report;
  GPtrArray *keys;    /* SyncHeldKey*: those being rescanned */
  GHashTable *chains; /* device -> Chain*, from seq 1 */
  gint64 stop;        /* the pull's cursor: beyond it the pull has them */
  gboolean own;       /* an own batch was applied */
  gboolean done;
  guint from_snapshot; /* started from the snapshot (once) */
} Rescan;

/* One envelope: checked on its chain, applied when it is of a rescanned
 * compartment. Refusals are reported and the chain stays where it was. */
static gboolean
rescan_one (Rescan *r, const char *dev, guint64 seq, GBytes *env, GError **error)
{
  Chain *chain = g_hash_table_lookup (r->chains, dev);
  g_autoptr (SyncBatch) batch = NULL;
  g_autoptr (GError) refused = NULL;
  const SyncMember *m = NULL;
  const char *why = NULL;
  SyncBatchInfo info;
  gint64 local = 0;

  if (chain == NULL)
    {
      chain = g_new0 (Chain, 1);
      g_hash_table_insert (r->chains, g_strdup (dev), chain);
    }
  if (!sync_batch_checks (r->c, dev, seq, env, chain->seq, chain->hash, &info, &m, &why)
      || ((batch = sync_batch_open_held (r->c, env, &info, m, r->keys, FALSE, &local, &why)) == NULL
          && why))
    {
      sync_problem (r->report, _ ("Batch %llu of device %.8s… was refused and not applied: %s"),
                    (unsigned long long)seq, dev, why);
      return TRUE;
    }
  if (batch && batch->cid[0])
    {
      gboolean own = strcmp (dev, r->c->device) == 0;

      if (!sp_vault_savepoint (r->c->vault, error))
        return FALSE;
      if (!(own ? sp_vault_restore_own_changes_in (r->c->vault, batch->changes, local, &refused)
                : sp_vault_apply_changes_in (r->c->vault, batch->changes, local, &refused)))
        {
          sp_vault_rollback_to_savepoint (r->c->vault);
          sync_problem (r->report, _ ("Batch %llu of device %.8s… was refused and not applied: %s"),
                        (unsigned long long)seq, dev, refused->message);
          return TRUE;
        }
      if (!sp_vault_release (r->c->vault, error))
        return FALSE;
      r->own = r->own || own;
      if (r->report)
        r->report->applied_changes += batch->changes->len;
    }
  chain->seq = seq;
  sync_batch_hash (env, chain->hash);
  return TRUE;
}

static gboolean
rescan_page (Rescan *r, JsonArray *arr, gint64 *since, GError **error)
{
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      const char *dev = NULL;
      gint64 cur = 0, seq = 0;
      g_autoptr (GBytes) env = NULL;
      SyncPageItem kind
          = sync_page_item (json_array_get_element (arr, i), *since, &dev, &cur, &seq, &env);

      if (kind == SYNC_PAGE_ITEM_BAD)
        return sync_fail (error, SYNC_ERROR_MALFORMED,
                          _ ("The relay sent an answer that is not valid"));
      if (cur > r->stop)
        {
          r->done = TRUE;
          return TRUE;
        }
      *since = cur;
      if (kind == SYNC_PAGE_ITEM_OK && !rescan_one (r, dev, (guint64)seq, env, error))
        return FALSE;
    }
  return TRUE;
}

/* Own changes applied again are not new: own/pushed goes past them. */
static gboolean
skip_reapplied (SyncCtx *c, gint64 pushed, GError **error)
{
  g_autoptr (GPtrArray) again = NULL;
  gint64 last = pushed;

  again = sp_vault_local_changes (c->vault, pushed, &last, error);
  return again && (last <= pushed || sync_state_set_int (c->vault, "own/pushed", last, error));
}

static gboolean
rescan_run (Rescan *r, GError **error)
{
  static const long gone[] = { 410, 0 };
  gint64 since = 0;
  gboolean more = TRUE;

  while (more && !r->done)
    {
      g_autofree char *path
          = g_strdup_printf ("/v1/workspaces/%s/batches?since=%" G_GINT64_FORMAT "&limit=%d",
                             r->c->ws_hex, since, PAGE_LIMIT);
      long status = 0;
      g_autoptr (JsonObject) ans
          = sync_http_json (r->c->http, "GET", path, NULL, gone, &status, error);
      JsonNode *bn = ans ? json_object_get_member (ans, "batches") : NULL;
      gboolean ok;

      if (ans == NULL)
        return FALSE;
      if (status == 410)
        {
          /* Pruned: the snapshot's sections of these compartments and its
           * chain positions, then on from its cursor. */
          if (r->from_snapshot++ > 0)
            return sync_fail (error, SYNC_ERROR_MALFORMED,
                              _ ("The relay's snapshot does not reach its pruned history"));
          g_hash_table_remove_all (r->chains);
          if (!sync_snapshot_apply_only (r->c, r->keys, &since, r->chains, r->report, error))
            return FALSE;
          r->own = TRUE;
          more = TRUE;
          continue;
        }
      if (bn == NULL || !JSON_NODE_HOLDS_ARRAY (bn) || !sync_json_bool (ans, "more", &more))
        return sync_fail (error, SYNC_ERROR_MALFORMED,
                          _ ("The relay sent an answer that is not valid"));
      if (json_array_get_length (json_node_get_array (bn)) == 0)
        break;
      if (!sp_vault_begin (r->c->vault, error))
        return FALSE;
      ok = rescan_page (r, json_node_get_array (bn), &since, error);
      if (!sync_vault_end (r->c->vault, ok, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
sync_rescan (SyncCtx *c, SyncReport *report, GError **error)
{
  g_autoptr (GPtrArray) held = sync_comp_held_keys (c, error);
  g_autoptr (GPtrArray) keys = g_ptr_array_new ();
  g_autoptr (GHashTable) chains = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  gint64 pushed = sync_state_get_int (c->vault, "own/pushed");
  Rescan r = { c, report, keys, chains, sync_state_get_int (c->vault, "cursor"), FALSE, FALSE, 0 };
  gboolean ok;

  if (held == NULL)
    return FALSE;
  for (guint i = 0; i < held->len; i++)
    if (((SyncHeldKey *)held->pdata[i])->rescan)
      g_ptr_array_add (keys, held->pdata[i]);
  if (keys->len == 0)
    return TRUE;
  if (sp_vault_count_local_changes (c->vault, pushed, NULL) > 0)
    return TRUE; /* push first; the next run rescans */
  if (!rescan_run (&r, error) || !sp_vault_begin (c->vault, error))
    return FALSE;
  ok = !r.own || skip_reapplied (c, pushed, error);
  for (guint i = 0; ok && i < keys->len; i++)
    {
      g_autofree char *mark = g_strconcat ("rescan/", ((SyncHeldKey *)keys->pdata[i])->cid, NULL);
      ok = sp_vault_sync_set (c->vault, mark, NULL, 0, error);
    }
  return sync_vault_end (c->vault, ok, error);
}
