/* sync-membership.c — the membership log: verifying and applying entries,
 * fetching and appending them, building their bodies; the epoch keys they seal.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "sync-client-private.h"

static char *
epoch_key_name (guint32 epoch)
{
  return g_strdup_printf ("epoch/%010u", epoch);
}

SpSecret *
sync_epoch_key (SyncCtx *c, guint32 epoch)
{
  g_autofree char *name = epoch_key_name (epoch);
  SpSecret *k = sp_vault_sync_get_secret (c->vault, name, NULL);

  if (k && sp_secret_len (k) != SYNC_KEY_BYTES)
    g_clear_pointer (&k, sp_secret_free);
  return k;
}

static gboolean
store_epoch_key (SyncCtx *c, guint32 epoch, const guint8 key[SYNC_KEY_BYTES], GError **error)
{
  g_autofree char *name = epoch_key_name (epoch);
  g_autoptr (SpSecret) old = sync_epoch_key (c, epoch);

  if (old)
    {
      if (sodium_memcmp (sp_secret_data (old), key, SYNC_KEY_BYTES) != 0)
        return sync_fail (error, SYNC_ERROR_FORGED,
                          _ ("The membership log gives two different keys for one epoch"));
      return TRUE;
    }
  return sync_state_set_secret (c->vault, name, key, SYNC_KEY_BYTES, error);
}

/* ---- The membership log ----
 * Stored entry: {"body": "<JSON text>", "sig": base64(Ed25519 over "SPLK-log-1\n" ‖ body)};
 * its hash (BLAKE2b-256 of the stored bytes) is the next entry's "prev". */

gboolean
sync_log_forged (GError **error, gint64 version, const char *why)
{
  g_set_error (error, SYNC_ERROR, SYNC_ERROR_FORGED,
               _ ("Entry %lld of the workspace's membership log does not verify "
                  "(%s); the relay may be tampering with it. Nothing was changed."),
               (long long)version, why);
  return FALSE;
}

char *
sync_log_sign (SyncCtx *c, const char *body)
{
  g_autofree char *msg = g_strconcat ("SPLK-log-1\n", body, NULL);
  guint8 sig[64];
  g_autofree char *sig64 = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  crypto_sign_detached (sig, NULL, (const guint8 *)msg, strlen (msg), sp_secret_data (c->sign_sk));
  sig64 = sync_b64 (sig, sizeof sig);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "body");
  json_builder_add_string_value (b, body);
  json_builder_set_member_name (b, "sig");
  json_builder_add_string_value (b, sig64);
  json_builder_end_object (b);
  return sync_to_json (b);
}

/* Opens what the entry sealed to this device, and unwraps older keys. */
static gboolean
learn_keys (SyncCtx *c, guint32 epoch, JsonObject *keys, GError **error)
{
  const char *mine = keys ? sync_json_str (keys, c->device, 200) : NULL;
  guint8 sealed[SEALED_LEN];
  guint8 key[SYNC_KEY_BYTES];
  gboolean ok;

  if (mine == NULL)
    return TRUE;
  if (!sync_base64_decode_exact (mine, sealed, sizeof sealed, NULL)
      || crypto_box_seal_open (key, sealed, sizeof sealed, c->box_pk, sp_secret_data (c->box_sk))
             != 0)
    return sync_fail (error, SYNC_ERROR_FORGED,
                      _ ("A workspace key sealed to this device cannot be opened"));
  ok = store_epoch_key (c, epoch, key, error);
  sodium_memzero (key, sizeof key);
  /* Each epoch key wraps the one before: walk back as far as we can. */
  for (guint32 e = epoch; ok && e > 1; e--)
    {
      g_autoptr (SpSecret) newer = sync_epoch_key (c, e);
      g_autoptr (SpSecret) older = sync_epoch_key (c, e - 1);
      GBytes *wrap = g_hash_table_lookup (c->wraps, GUINT_TO_POINTER (e));
      const guint8 *w;
      guint8 prev[SYNC_KEY_BYTES];

      if (newer == NULL || wrap == NULL)
        break;
      w = g_bytes_get_data (wrap, NULL);
      if (crypto_secretbox_open_easy (prev, w + crypto_secretbox_NONCEBYTES,
                                      WRAP_LEN - crypto_secretbox_NONCEBYTES, w,
                                      sp_secret_data (newer))
          != 0)
        return sync_fail (error, SYNC_ERROR_FORGED,
                          _ ("An older workspace key cannot be unwrapped"));
      ok = store_epoch_key (c, e - 1, prev, error);
      sodium_memzero (prev, sizeof prev);
      if (older)
        break; /* already known further back */
    }
  return ok;
}

/* Checks an entry's shape, its place after our head and its signer; gives
 * its body, which *type and *dev point into. */
static gboolean
log_entry_verify (SyncCtx *c, gint64 version, const char *entry, gsize len, JsonObject **out,
                  const char **type, const char **dev, gint64 *epoch, GError **error)
{
  g_autoptr (JsonObject) wrapper = NULL;
  g_autoptr (JsonObject) body = NULL;
  const char *body_s, *sig_s, *prev, *ws, *signer_id;
  guint8 sig[64];
  g_autofree char *msg = NULL;
  g_autofree char *prev_hex = NULL;
  const SyncMember *signer;
  gint64 v;

  if (len > ENTRY_MAX
      || (wrapper = sync_parse_json_object ((const guint8 *)entry, len, ENTRY_MAX, NULL)) == NULL
      || (body_s = sync_json_str (wrapper, "body", ENTRY_MAX)) == NULL
      || (sig_s = sync_json_str (wrapper, "sig", SYNC_AUTH_SIGNATURE_B64_LEN)) == NULL
      || !sync_base64_decode_exact (sig_s, sig, 64, NULL)
      || (body = sync_parse_json_object ((const guint8 *)body_s, strlen (body_s), ENTRY_MAX, NULL))
             == NULL)
    return sync_log_forged (error, version, "shape");
  if (!sync_json_int (body, "v", &v) || v != 1 || !sync_json_int (body, "version", &v)
      || v != version || (ws = sync_json_str (body, "ws", 64)) == NULL
      || strcmp (ws, c->ws_hex) != 0 || (*type = sync_json_str (body, "type", 16)) == NULL
      || (prev = sync_json_str (body, "prev", 64)) == NULL
      || (signer_id = sync_json_str (body, "signer", 64)) == NULL
      || (*dev = sync_json_str (body, "device", 64)) == NULL || !sync_id_is_valid (*dev)
      || !sync_json_int (body, "epoch", epoch) || *epoch < 1 || *epoch > G_MAXUINT32)
    return sync_log_forged (error, version, "fields");
  prev_hex = version == 1 ? g_strdup ("") : sync_hex_encode (c->head_hash, SYNC_HASH_BYTES);
  if (version != c->head + 1 || strcmp (prev, prev_hex) != 0)
    return sync_log_forged (error, version, "chain");

  msg = g_strconcat ("SPLK-log-1\n", body_s, NULL);
  if (version == 1)
    {
      guint8 pk[32];

      if (strcmp (*type, "create") != 0 || strcmp (signer_id, *dev) != 0
          || !sync_json_key (body, "sign_pk", pk) || sodium_memcmp (pk, c->anchor, 32) != 0
          || *epoch != 1
          || crypto_sign_verify_detached (sig, (const guint8 *)msg, strlen (msg), pk) != 0)
        return sync_log_forged (error, version, "founder");
    }
  else
    {
      signer = g_hash_table_lookup (c->members, signer_id);
      if (signer == NULL || signer->removed_at || !signer->admin
          || crypto_sign_verify_detached (sig, (const guint8 *)msg, strlen (msg), signer->sign_pk)
                 != 0)
        return sync_log_forged (error, version, "signer");
    }
  *out = g_steal_pointer (&body);
  return TRUE;
}

/* "create" (the founder) or "add": a new member with its keys. */
static gboolean
log_apply_add (SyncCtx *c, gint64 version, JsonObject *body, const char *dev, JsonObject *keys,
               gint64 epoch, GError **error)
{
  gboolean admin = FALSE;
  SyncMember *m;

  if (g_hash_table_contains (c->members, dev) || sync_json_str (keys, dev, 200) == NULL
      || json_object_get_size (keys) != 1)
    return sync_log_forged (error, version, "add");
  if (version > 1 && (guint32)epoch != c->epoch)
    return sync_log_forged (error, version, "epoch");
  m = g_new0 (SyncMember, 1);
  g_strlcpy (m->id, dev, sizeof m->id);
  if (!sync_json_key (body, "sign_pk", m->sign_pk) || !sync_json_key (body, "box_pk", m->box_pk)
      || !sync_json_key (body, "auth_pk", m->auth_pk) || !sync_json_bool (body, "admin", &admin))
    {
      g_free (m);
      return sync_log_forged (error, version, "device keys");
    }
  m->admin = version == 1 ? TRUE : admin;
  m->added_at = version;
  g_hash_table_insert (c->members, m->id, m);
  c->epoch = (guint32)epoch;
  return TRUE;
}

/* "remove": the member leaves; every remaining one gets the next epoch key,
 * which wraps the one before. */
static gboolean
log_apply_remove (SyncCtx *c, gint64 version, JsonObject *body, const char *dev, JsonObject *keys,
                  gint64 epoch, GError **error)
{
  GHashTableIter it;
  gpointer val;
  guint remaining = 0;
  const char *wrap_s = sync_json_str (body, "wrap", 200);
  guint8 wrap[WRAP_LEN];
  SyncMember *m = g_hash_table_lookup (c->members, dev);

  if (m == NULL || m->removed_at || (guint32)epoch != c->epoch + 1 || wrap_s == NULL
      || !sync_base64_decode_exact (wrap_s, wrap, sizeof wrap, NULL))
    return sync_log_forged (error, version, "remove");
  m->removed_at = version;
  g_hash_table_iter_init (&it, c->members);
  while (g_hash_table_iter_next (&it, NULL, &val))
    {
      const SyncMember *r = val;
      if (r->removed_at == 0)
        {
          remaining++;
          if (sync_json_str (keys, r->id, 200) == NULL)
            return sync_log_forged (error, version, "remaining keys");
        }
    }
  if (json_object_get_size (keys) != remaining)
    return sync_log_forged (error, version, "remaining keys");
  g_hash_table_insert (c->wraps, GUINT_TO_POINTER ((guint)epoch), g_bytes_new (wrap, sizeof wrap));
  c->epoch = (guint32)epoch;
  return TRUE;
}

gboolean
sync_log_apply (SyncCtx *c, gint64 version, const char *entry, gsize len, GError **error)
{
  g_autoptr (JsonObject) body = NULL;
  const char *type = NULL, *dev = NULL;
  guint8 hash[SYNC_HASH_BYTES];
  gint64 epoch = 0;
  JsonNode *keys_node;
  JsonObject *keys;
  gboolean ok;

  if (!log_entry_verify (c, version, entry, len, &body, &type, &dev, &epoch, error))
    return FALSE;
  keys_node = json_object_get_member (body, "keys");
  keys = keys_node && JSON_NODE_HOLDS_OBJECT (keys_node) ? json_node_get_object (keys_node) : NULL;
  if (keys == NULL && strcmp (type, "comp") != 0)
    return sync_log_forged (error, version, "keys");

  if (strcmp (type, "comp") == 0)
    ok = version > 1 && sync_comp_log_accept (c, version, body, epoch, error);
  else if (strcmp (type, "create") == 0 || strcmp (type, "add") == 0)
    ok = log_apply_add (c, version, body, dev, keys, epoch, error);
  else if (strcmp (type, "remove") == 0)
    ok = log_apply_remove (c, version, body, dev, keys, epoch, error);
  else
    return sync_log_forged (error, version, "type");
  if (!ok || !learn_keys (c, (guint32)epoch, keys, error))
    return FALSE;
  sync_hash ((const guint8 *)entry, len, hash);
  memcpy (c->head_hash, hash, sizeof hash);
  c->head = version;
  g_hash_table_insert (c->log_heads, sync_hex_encode (hash, sizeof hash),
                       g_memdup2 (&version, sizeof version));
  return TRUE;
}

/* Fetches log entries after our head, verifies each and stores it. */
gboolean
sync_log_refresh (SyncCtx *c, GError **error)
{
  for (guint round = 0; round < 10000; round++)
    {
      g_autofree char *path = NULL;
      g_autoptr (JsonObject) ans = NULL;
      JsonNode *en;
      JsonArray *arr;
      gint64 head;
      guint n;

      path = g_strdup_printf ("/v1/workspaces/%s/log?since=%" G_GINT64_FORMAT, c->ws_hex, c->head);
      ans = sync_http_json (c->http, "GET", path, NULL, NULL, NULL, error);
      if (ans == NULL)
        return FALSE;
      en = json_object_get_member (ans, "entries");
      if (!sync_json_int (ans, "head", &head) || en == NULL || !JSON_NODE_HOLDS_ARRAY (en))
        return sync_fail (error, SYNC_ERROR_MALFORMED,
                          _ ("The relay sent an answer that is not valid"));
      if (head < c->head)
        return sync_fail (error, SYNC_ERROR_FORGED,
                          _ ("The relay's membership log is shorter than the one this device has "
                             "already seen: the relay was rolled back or is misbehaving"));
      arr = json_node_get_array (en);
      n = json_array_get_length (arr);
      if (n == 0)
        {
          if (head != c->head)
            return sync_fail (error, SYNC_ERROR_MALFORMED,
                              _ ("The relay withheld membership-log entries"));
          return TRUE;
        }
      for (guint i = 0; i < n; i++)
        {
          JsonNode *item = json_array_get_element (arr, i);
          JsonObject *o = JSON_NODE_HOLDS_OBJECT (item) ? json_node_get_object (item) : NULL;
          const char *entry = sync_json_str (o, "entry", ENTRY_MAX);
          g_autofree char *key = NULL;
          gint64 version;

          if (entry == NULL || !sync_json_int (o, "version", &version))
            return sync_fail (error, SYNC_ERROR_MALFORMED,
                              _ ("The relay sent an answer that is not valid"));
          if (!sync_log_apply (c, version, entry, strlen (entry), error))
            return FALSE;
          key = g_strdup_printf ("log/%010" G_GINT64_FORMAT, version);
          if (!sp_vault_sync_set_string (c->vault, key, entry, error))
            return FALSE;
        }
      if (c->head >= head)
        return TRUE;
    }
  return sync_fail (error, SYNC_ERROR_MALFORMED, _ ("The relay's membership log does not end"));
}

/* Appends an entry we built: compare-and-swap on the version; on a race,
 * refreshes and lets the caller rebuild. *raced tells it to. */
gboolean
sync_log_post (SyncCtx *c, const char *entry, const char *action, const char *subject,
               gboolean *raced, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *body = NULL, *path = sync_ws_path (c, "/log");
  g_autoptr (JsonObject) ans = NULL;
  static const long accept[] = { 409, 0 };
  long status = 0;
  gint64 version = c->head + 1;
  g_autofree char *key = g_strdup_printf ("log/%010" G_GINT64_FORMAT, version);
  guint8 mine[SYNC_HASH_BYTES];

  *raced = FALSE;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, version);
  json_builder_set_member_name (b, "entry");
  json_builder_add_string_value (b, entry);
  json_builder_set_member_name (b, "action");
  json_builder_add_string_value (b, action);
  json_builder_set_member_name (b, "subject");
  json_builder_add_string_value (b, subject);
  json_builder_end_object (b);
  body = sync_to_json (b);
  ans = sync_http_json (c->http, "POST", path, body, accept, &status, error);
  if (ans == NULL)
    return FALSE;
  sync_hash ((const guint8 *)entry, strlen (entry), mine);
  if (status == 409)
    {
      /* Someone else appended first — or our own earlier try did and its
       * answer was lost. The refreshed log says which. */
      if (!sync_log_refresh (c, error))
        return FALSE;
      if (c->head >= version)
        {
          g_autoptr (GBytes) got = sp_vault_sync_get (c->vault, key, NULL);
          guint8 h[SYNC_HASH_BYTES];

          if (got)
            {
              sync_hash (g_bytes_get_data (got, NULL), g_bytes_get_size (got), h);
              if (memcmp (h, mine, sizeof h) == 0)
                return TRUE;
            }
        }
      *raced = TRUE;
      return FALSE;
    }
  if (!sync_log_apply (c, version, entry, strlen (entry), error))
    return FALSE;
  return sp_vault_sync_set_string (c->vault, key, entry, error);
}

void
sync_log_add_member_keys (JsonBuilder *b, const char *device, const guint8 sign_pk[32],
                          const guint8 box_pk[32], const guint8 auth_pk[32])
{
  g_autofree char *s = sync_b64 (sign_pk, 32), *x = sync_b64 (box_pk, 32),
                  *a = sync_b64 (auth_pk, 32);

  json_builder_set_member_name (b, "device");
  json_builder_add_string_value (b, device);
  json_builder_set_member_name (b, "sign_pk");
  json_builder_add_string_value (b, s);
  json_builder_set_member_name (b, "box_pk");
  json_builder_add_string_value (b, x);
  json_builder_set_member_name (b, "auth_pk");
  json_builder_add_string_value (b, a);
}

void
sync_log_begin_body (SyncCtx *c, JsonBuilder *b, const char *type, guint32 epoch)
{
  g_autofree char *prev
      = c->head == 0 ? g_strdup ("") : sync_hex_encode (c->head_hash, SYNC_HASH_BYTES);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "ws");
  json_builder_add_string_value (b, c->ws_hex);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, c->head + 1);
  json_builder_set_member_name (b, "prev");
  json_builder_add_string_value (b, prev);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, type);
  json_builder_set_member_name (b, "signer");
  json_builder_add_string_value (b, c->device);
  json_builder_set_member_name (b, "time");
  json_builder_add_int_value (b, g_get_real_time () / G_USEC_PER_SEC);
  json_builder_set_member_name (b, "epoch");
  json_builder_add_int_value (b, epoch);
}

void
sync_log_add_sealed (JsonBuilder *b, const char *device, const guint8 box_pk[32],
                     const guint8 key[SYNC_KEY_BYTES])
{
  guint8 sealed[SEALED_LEN];
  g_autofree char *s = NULL;

  crypto_box_seal (sealed, key, SYNC_KEY_BYTES, box_pk);
  s = sync_b64 (sealed, sizeof sealed);
  json_builder_set_member_name (b, device);
  json_builder_add_string_value (b, s);
}
