/* sync-client.c — the sync context, state in the vault, status and one run.
 *
 * The rest of the client is split by concern over sync-client-private.h:
 * sync-membership.c (the membership log and epoch keys), sync-workspace.c
 * (create, invite, join, approve, devices, revoke), sync-push.c, sync-pull.c
 * and sync-snapshot.c.
 *
 * State lives in the vault's sync_state table (core/sp-sync-state.c), so it is
 * encrypted with everything else:
 *
 *   ws/id, ws/relay, ws/anchor        workspace id (hex), relay URL, the founding
 *                                     admin's identity public key (trust anchor)
 *   dev/sign_sk|pk, dev/auth_sk|pk,   this device's identity, request-auth and
 *   dev/box_sk|pk                     box key pairs
 *   join/token                        the invite token this device joined with
 *   invite/<hash>                     invites this admin made: token ‖ expiry
 *   log/<%010d>                       verified membership-log entries, as stored
 *   epoch/<%010u>                     epoch keys this device can read
 *   chain/<device>                    last applied seq (u64 LE) ‖ hash, per peer
 *   own/chain                         this device's last pushed seq ‖ hash
 *   own/pushed                        local change sequence already pushed
 *   outbox, outbox/last               a sealed batch not yet acknowledged
 *   cursor, last_sync                 relay cursor; unix time of the last sync
 *   dev/cbox_sk|pk, dev/cbox_old/<pk> compartment box key; older ones from a stash
 *   ckey/<cid>/<%010u>                compartment keys per compartment epoch
 *   peer/cbox/<device>, own/cbox_sent peers' compartment box keys; ours as sent
 *   rescan/<cid>                      a compartment gained, history to fetch
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "sync-client-private.h"

void
sync_ctx_free (SyncCtx *c)
{
  if (c == NULL)
    return;
  g_free (c->relay);
  sp_secret_free (c->sign_sk);
  sp_secret_free (c->auth_sk);
  sp_secret_free (c->box_sk);
  sync_http_free (c->http);
  g_clear_pointer (&c->members, g_hash_table_unref);
  g_clear_pointer (&c->log_heads, g_hash_table_unref);
  g_clear_pointer (&c->wraps, g_hash_table_unref);
  g_clear_pointer (&c->comp_entries, g_ptr_array_unref);
  g_clear_pointer (&c->comps, g_hash_table_unref);
  sp_secret_free (c->cbox_sk);
  g_free (c);
}

void
sync_report_clear (SyncReport *report)
{
  g_clear_pointer (&report->problems, g_ptr_array_unref);
  memset (report, 0, sizeof *report);
}

void
sync_status_clear (SyncStatus *status)
{
  g_free (status->workspace);
  g_free (status->relay);
  g_free (status->device);
  memset (status, 0, sizeof *status);
}

void
sync_device_free (SyncDevice *device)
{
  if (device == NULL)
    return;
  g_free (device->device);
  g_free (device->status);
  g_free (device->safety_code);
  g_free (device);
}

void
sync_problem (SyncReport *report, const char *fmt, ...)
{
  va_list ap;

  if (report == NULL)
    return;
  if (report->problems == NULL)
    report->problems = g_ptr_array_new_with_free_func (g_free);
  va_start (ap, fmt);
  if (report->problems->len < 100)
    g_ptr_array_add (report->problems, g_strdup_vprintf (fmt, ap));
  va_end (ap);
}

gboolean
sync_fail (GError **error, int code, const char *message)
{
  g_set_error_literal (error, SYNC_ERROR, code, message);
  return FALSE;
}

/* ---- Small codecs ---- */

char *
sync_b64 (const guint8 *data, gsize len)
{
  gsize n = sodium_base64_ENCODED_LEN (len, sodium_base64_VARIANT_ORIGINAL);
  char *out = g_malloc (n);

  sodium_bin2base64 (out, n, data, len, sodium_base64_VARIANT_ORIGINAL);
  return out;
}

GBytes *
sync_b64_decode (const char *b64, gsize max)
{
  gsize cap;
  g_autofree guint8 *raw = NULL;
  size_t n = 0;

  if (b64 == NULL || strlen (b64) > (max / 3 + 2) * 4)
    return NULL;
  cap = strlen (b64) / 4 * 3 + 3;
  raw = g_malloc (cap);
  if (sodium_base642bin (raw, cap, b64, strlen (b64), NULL, &n, NULL,
                         sodium_base64_VARIANT_ORIGINAL)
          != 0
      || n > max)
    return NULL;
  return g_bytes_new_take (g_steal_pointer (&raw), n);
}

void
sync_le64_put (guint8 *p, guint64 v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (guint8)(v >> (8 * i));
}

guint64
sync_le64_get (const guint8 *p)
{
  guint64 v = 0;

  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

const char *
sync_json_str (JsonObject *o, const char *name, gsize max)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  const char *s;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  s = json_node_get_string (n);
  return strlen (s) <= max ? s : NULL;
}

gboolean
sync_json_int (JsonObject *o, const char *name, gint64 *out)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (n);
  return TRUE;
}

gboolean
sync_json_bool (JsonObject *o, const char *name, gboolean *out)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return FALSE;
  *out = json_node_get_boolean (n);
  return TRUE;
}

gboolean
sync_json_key (JsonObject *o, const char *name, guint8 out[32])
{
  const char *s = sync_json_str (o, name, SYNC_KEY_B64_LEN);

  return s && sync_base64_decode_exact (s, out, 32, NULL);
}

char *
sync_to_json (JsonBuilder *b)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);

  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

/* ---- State in the vault ---- */

gboolean
sync_state_set_secret (SpVault *v, const char *key, const guint8 *data, gsize len, GError **error)
{
  return sp_vault_sync_set (v, key, data, len, error);
}

gboolean
sync_state_get_fixed (SpVault *v, const char *key, guint8 *out, gsize len)
{
  g_autoptr (GBytes) b = sp_vault_sync_get (v, key, NULL);

  if (b == NULL || g_bytes_get_size (b) != len)
    return FALSE;
  memcpy (out, g_bytes_get_data (b, NULL), len);
  return TRUE;
}

gboolean
sync_state_get_chain (SpVault *v, const char *key, guint64 *seq, guint8 hash[SYNC_HASH_BYTES])
{
  guint8 buf[8 + SYNC_HASH_BYTES];

  if (!sync_state_get_fixed (v, key, buf, sizeof buf))
    {
      *seq = 0;
      memset (hash, 0, SYNC_HASH_BYTES);
      return FALSE;
    }
  *seq = sync_le64_get (buf);
  memcpy (hash, buf + 8, SYNC_HASH_BYTES);
  return TRUE;
}

gboolean
sync_state_set_chain (SpVault *v, const char *key, guint64 seq, const guint8 hash[SYNC_HASH_BYTES],
                      GError **error)
{
  guint8 buf[8 + SYNC_HASH_BYTES];

  sync_le64_put (buf, seq);
  memcpy (buf + 8, hash, SYNC_HASH_BYTES);
  return sp_vault_sync_set (v, key, buf, sizeof buf, error);
}

gint64
sync_state_get_int (SpVault *v, const char *key)
{
  g_autofree char *s = sp_vault_sync_get_string (v, key, NULL);

  return s ? g_ascii_strtoll (s, NULL, 10) : 0;
}

gboolean
sync_vault_end (SpVault *v, gboolean ok, GError **error)
{
  if (!ok)
    {
      sp_vault_rollback (v);
      return FALSE;
    }
  return sp_vault_commit (v, error);
}

gboolean
sync_state_set_int (SpVault *v, const char *key, gint64 value, GError **error)
{
  g_autofree char *s = g_strdup_printf ("%" G_GINT64_FORMAT, value);

  return sp_vault_sync_set_string (v, key, s, error);
}

/* ---- Loading the context ---- */

static gboolean
load_keys (SyncCtx *c, GError **error)
{
  c->sign_sk = sp_vault_sync_get_secret (c->vault, "dev/sign_sk", error);
  c->auth_sk = c->sign_sk ? sp_vault_sync_get_secret (c->vault, "dev/auth_sk", error) : NULL;
  c->box_sk = c->auth_sk ? sp_vault_sync_get_secret (c->vault, "dev/box_sk", error) : NULL;
  if (c->box_sk == NULL || sp_secret_len (c->sign_sk) != 64 || sp_secret_len (c->auth_sk) != 64
      || sp_secret_len (c->box_sk) != 32
      || !sync_state_get_fixed (c->vault, "dev/sign_pk", c->sign_pk, 32)
      || !sync_state_get_fixed (c->vault, "dev/auth_pk", c->auth_pk, 32)
      || !sync_state_get_fixed (c->vault, "dev/box_pk", c->box_pk, 32))
    {
      if (error && *error == NULL)
        sync_fail (error, SYNC_ERROR_FAILED, _ ("This device's sync keys are missing or damaged"));
      return FALSE;
    }
  return TRUE;
}

SyncCtx *
sync_ctx_new (SpVault *vault)
{
  SyncCtx *c = g_new0 (SyncCtx, 1);

  c->vault = vault;
  g_strlcpy (c->device, sp_vault_get_device_id (vault), sizeof c->device);
  sync_hex_decode (c->device, c->dev_raw, SYNC_ID_BYTES, NULL);
  c->members = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  c->log_heads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  c->wraps
      = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)g_bytes_unref);
  c->comp_entries = g_ptr_array_new_with_free_func (sync_comp_entry_free);
  c->comps = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, sync_comp_free);
  return c;
}

SyncCtx *
sync_ctx_load_full (SpVault *vault, const SyncOptions *opts, gboolean network, GError **error)
{
  g_autoptr (SyncCtx) c = sync_ctx_new (vault);
  g_autofree char *ws = sp_vault_sync_get_string (vault, "ws/id", NULL);
  g_autoptr (GPtrArray) entries = NULL;

  if (ws == NULL || !sync_hex_decode (ws, c->ws, SYNC_ID_BYTES, NULL))
    {
      g_set_error_literal (error, SYNC_ERROR, SYNC_ERROR_FAILED,
                           _ ("This vault is not part of a workspace yet: create one or join one "
                              "with an invite"));
      return NULL;
    }
  g_strlcpy (c->ws_hex, ws, sizeof c->ws_hex);
  c->relay = sp_vault_sync_get_string (vault, "ws/relay", NULL);
  if (!sync_state_get_fixed (vault, "ws/anchor", c->anchor, 32) || !load_keys (c, error))
    {
      if (error && *error == NULL)
        sync_fail (error, SYNC_ERROR_FAILED, _ ("This vault's workspace settings are damaged"));
      return NULL;
    }
  /* Replay the verified log: cheap, and it re-checks every signature. */
  entries = sp_vault_sync_keys (vault, "log/", error);
  if (entries == NULL)
    return NULL;
  for (guint i = 0; i < entries->len; i++)
    {
      g_autoptr (GBytes) e = sp_vault_sync_get (vault, entries->pdata[i], error);
      gsize len;
      const char *data;

      if (e == NULL)
        return NULL;
      data = g_bytes_get_data (e, &len);
      if (!sync_log_apply (c, (gint64)i + 1, data, len, error))
        return NULL;
    }
  if (!network)
    return g_steal_pointer (&c);
  c->http = sync_http_new (opts && opts->relay ? opts->relay : c->relay, opts, error);
  if (c->http == NULL)
    return NULL;
  sync_http_set_identity (c->http, c->device, c->auth_sk);
  return g_steal_pointer (&c);
}

SyncCtx *
sync_ctx_load (SpVault *vault, const SyncOptions *opts, GError **error)
{
  return sync_ctx_load_full (vault, opts, TRUE, error);
}

char *
sync_ws_path (SyncCtx *c, const char *suffix)
{
  return g_strconcat ("/v1/workspaces/", c->ws_hex, suffix, NULL);
}

/* ---- Status ---- */

SyncMember *
sync_self_member (SyncCtx *c)
{
  return g_hash_table_lookup (c->members, c->device);
}

gboolean
sync_get_status (SpVault *vault, SyncStatus *status, GError **error)
{
  g_autoptr (SyncCtx) c = NULL;
  g_autofree char *ws = sp_vault_sync_get_string (vault, "ws/id", NULL);
  SyncMember *me;
  gint64 pushed;

  memset (status, 0, sizeof *status);
  if (ws == NULL)
    return TRUE;
  c = sync_ctx_load_full (vault, NULL, FALSE, error);
  if (c == NULL)
    return FALSE;
  me = sync_self_member (c);
  status->workspace = g_strdup (c->ws_hex);
  status->relay = g_strdup (c->relay);
  status->device = g_strdup (c->device);
  status->admin = me && me->admin && !me->removed_at;
  status->approved = me && !me->removed_at;
  status->epoch = c->epoch;
  status->log_head = c->head;
  status->last_sync = sync_state_get_int (vault, "last_sync");
  pushed = sync_state_get_int (vault, "own/pushed");
  status->pending_changes = sp_vault_count_local_changes (vault, pushed, NULL);
  return TRUE;
}

gboolean
sync_run (SpVault *vault, const SyncOptions *opts, SyncReport *report, GError **error)
{
  g_autoptr (SyncCtx) c = sync_ctx_load (vault, opts, error);
  guint max_changes;
  SyncMember *me;

  if (report)
    memset (report, 0, sizeof *report);
  if (c == NULL || !sync_log_refresh (c, error))
    return FALSE;
  me = sync_self_member (c);
  if (me == NULL)
    {
      if (report)
        report->waiting_for_approval = TRUE;
      return TRUE;
    }
  if (me->removed_at)
    return sync_fail (error, SYNC_ERROR_REFUSED, _ ("This device was removed from the workspace"));
  max_changes = opts && opts->max_batch_changes ? MIN (opts->max_batch_changes, BATCH_MAX_CHANGES)
                                                : BATCH_MAX_CHANGES;
  if (!sync_comps_reconcile (c, report, error) || !sync_push (c, max_changes, report, error)
      || !sync_pull (c, report, error) || !sync_rescan (c, report, error))
    return FALSE;
  return sync_state_set_int (vault, "last_sync", g_get_real_time () / G_USEC_PER_SEC, error);
}

/* ---- Fuzzing entry (tests/fuzz/fuzz-relay-answer.c) ----
 * Feeds hostile bytes to the parsers that take relay input without a vault:
 * JSON answers, membership-log entries (as the first entry and as a later one
 * under a known admin) and snapshot change rows. */
void sync_client_fuzz_answer (const guint8 *data, gsize len);

void
sync_client_fuzz_answer (const guint8 *data, gsize len)
{
  SyncCtx *c = g_new0 (SyncCtx, 1);
  g_autoptr (JsonObject) o = NULL;
  SyncMember *admin = g_new0 (SyncMember, 1);
  JsonNode *n;

  c->members = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  c->log_heads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  c->wraps
      = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)g_bytes_unref);
  c->comp_entries = g_ptr_array_new_with_free_func (sync_comp_entry_free);
  c->comps = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, sync_comp_free);
  g_strlcpy (c->ws_hex, "00112233445566778899aabbccddeeff", sizeof c->ws_hex);
  g_strlcpy (c->device, "ffeeddccbbaa99887766554433221100", sizeof c->device);
  memset (c->anchor, 7, sizeof c->anchor);
  sync_log_apply (c, 1, (const char *)data, len, NULL);

  g_strlcpy (admin->id, "0123456789abcdef0123456789abcdef", sizeof admin->id);
  memset (admin->sign_pk, 9, sizeof admin->sign_pk);
  admin->admin = TRUE;
  g_hash_table_insert (c->members, admin->id, admin);
  c->head = 1;
  c->epoch = 1;
  sync_log_apply (c, 2, (const char *)data, len, NULL);

  o = sync_parse_json_object (data, len, 1 << 20, NULL);
  n = o ? json_object_get_member (o, "changes") : NULL;
  if (n && JSON_NODE_HOLDS_ARRAY (n))
    {
      JsonArray *arr = json_node_get_array (n);
      for (guint i = 0; i < json_array_get_length (arr) && i < 1000; i++)
        {
          JsonNode *e = json_array_get_element (arr, i);
          SpChange ch = { 0 };
          if (JSON_NODE_HOLDS_ARRAY (e))
            sync_snapshot_parse_change (json_node_get_array (e), &ch);
          g_free (ch.record);
          g_free (ch.kind);
          g_free (ch.field);
          g_free (ch.value);
          g_free (ch.supersedes);
          g_free (ch.device);
        }
    }
  sync_ctx_free (c);
}
