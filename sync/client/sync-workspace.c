/* sync-workspace.c — creating a workspace, invites and joining, approving,
 * listing and revoking devices; safety codes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "sync-client-private.h"

/* ---- Safety codes and invites ---- */

static char *
safety_code (const guint8 ws[16], const guint8 token[32], const guint8 sign_pk[32],
             const guint8 box_pk[32], const guint8 auth_pk[32])
{
  crypto_generichash_state st;
  guint8 h[32];
  guint32 v;

  crypto_generichash_init (&st, NULL, 0, sizeof h);
  crypto_generichash_update (&st, (const guint8 *)"SPLK-safety-1", 13);
  crypto_generichash_update (&st, ws, 16);
  crypto_generichash_update (&st, token, 32);
  crypto_generichash_update (&st, sign_pk, 32);
  crypto_generichash_update (&st, box_pk, 32);
  crypto_generichash_update (&st, auth_pk, 32);
  crypto_generichash_final (&st, h, sizeof h);
  v = ((guint32)h[0] | ((guint32)h[1] << 8) | ((guint32)h[2] << 16) | ((guint32)h[3] << 24))
      & 0x3fffffff;
  v %= 1000000000u;
  return g_strdup_printf ("%03u %03u %03u", v / 1000000, (v / 1000) % 1000, v % 1000);
}

gboolean
sync_invite_parse (const char *code, char **relay, guint8 workspace[16], guint8 token[32],
                   guint8 admin_sign_pk[32], GError **error)
{
  g_autoptr (JsonObject) o = NULL;
  g_autofree guint8 *raw = NULL;
  g_autofree char *trimmed = NULL;
  const char *r, *w, *t;
  size_t raw_len = 0;
  gsize len;

  if (code == NULL)
    return sync_fail (error, SYNC_ERROR_MALFORMED, _ ("This is not a Supolka invite code"));
  trimmed = g_strstrip (g_strdup (code));
  len = strlen (trimmed);
  if (len > INVITE_MAX || !g_str_has_prefix (trimmed, "supolka1:"))
    return sync_fail (error, SYNC_ERROR_MALFORMED, _ ("This is not a Supolka invite code"));
  raw = g_malloc (len);
  if (sodium_base642bin (raw, len, trimmed + 9, len - 9, NULL, &raw_len, NULL,
                         sodium_base64_VARIANT_URLSAFE_NO_PADDING)
          != 0
      || (o = sync_parse_json_object (raw, raw_len, INVITE_MAX, NULL)) == NULL
      || json_object_get_size (o) != 4 || (r = sync_json_str (o, "r", 1024)) == NULL
      || (w = sync_json_str (o, "w", SYNC_ID_HEX_LEN)) == NULL
      || (t = sync_json_str (o, "t", 64)) == NULL || !sync_hex_decode (w, workspace, 16, NULL)
      || !sync_hex_decode (t, token, 32, NULL) || !sync_json_key (o, "a", admin_sign_pk)
      || !(g_str_has_prefix (r, "https://") || g_str_has_prefix (r, "http://")))
    return sync_fail (error, SYNC_ERROR_MALFORMED,
                      _ ("This invite code is damaged or incomplete; ask for a new one"));
  for (const char *p = r; *p; p++)
    if ((guchar)*p <= 0x20 || (guchar)*p >= 0x7f)
      return sync_fail (error, SYNC_ERROR_MALFORMED,
                        _ ("This invite code is damaged or incomplete; ask for a new one"));
  *relay = g_strdup (r);
  return TRUE;
}

/* ---- Creating, inviting, joining, approving ---- */

static gboolean
new_device_keys (SyncCtx *c, GError **error)
{
  guint8 sk64[64];
  guint8 sk32[32];
  gboolean ok;

  crypto_sign_keypair (c->sign_pk, sk64);
  c->sign_sk = sp_secret_new_from_data (sk64, 64);
  crypto_sign_keypair (c->auth_pk, sk64);
  c->auth_sk = sp_secret_new_from_data (sk64, 64);
  crypto_box_keypair (c->box_pk, sk32);
  c->box_sk = sp_secret_new_from_data (sk32, 32);
  sodium_memzero (sk64, sizeof sk64);
  sodium_memzero (sk32, sizeof sk32);
  ok = c->sign_sk && c->auth_sk && c->box_sk;
  if (!ok)
    return sync_fail (error, SYNC_ERROR_FAILED, _ ("Out of secure memory"));
  return TRUE;
}

static gboolean
store_workspace (SyncCtx *c, GError **error)
{
  SpVault *v = c->vault;

  return sp_vault_sync_set_string (v, "ws/id", c->ws_hex, error)
         && sp_vault_sync_set_string (v, "ws/relay", c->relay, error)
         && sp_vault_sync_set (v, "ws/anchor", c->anchor, 32, error)
         && sync_state_set_secret (v, "dev/sign_sk", sp_secret_data (c->sign_sk), 64, error)
         && sync_state_set_secret (v, "dev/auth_sk", sp_secret_data (c->auth_sk), 64, error)
         && sync_state_set_secret (v, "dev/box_sk", sp_secret_data (c->box_sk), 32, error)
         && sp_vault_sync_set (v, "dev/sign_pk", c->sign_pk, 32, error)
         && sp_vault_sync_set (v, "dev/auth_pk", c->auth_pk, 32, error)
         && sp_vault_sync_set (v, "dev/box_pk", c->box_pk, 32, error);
}

static gboolean
no_workspace_yet (SpVault *vault, GError **error)
{
  g_autofree char *ws = sp_vault_sync_get_string (vault, "ws/id", NULL);

  if (ws)
    return sync_fail (error, SYNC_ERROR_FAILED, _ ("This vault is already part of a workspace"));
  return TRUE;
}

gboolean
sync_workspace_create (SpVault *vault, const char *relay_url, const SyncOptions *opts,
                       GError **error)
{
  g_autoptr (SyncCtx) c = sync_ctx_new (vault);
  g_autoptr (JsonBuilder) body = json_builder_new ();
  g_autoptr (JsonBuilder) req = json_builder_new ();
  g_autofree char *body_s = NULL, *entry = NULL, *req_s = NULL, *path = NULL;
  g_autoptr (JsonObject) ans = NULL;
  guint8 key[SYNC_KEY_BYTES];
  gboolean ok;

  if (!no_workspace_yet (vault, error))
    return FALSE;
  c->http = sync_http_new (relay_url, opts, error);
  if (c->http == NULL || !new_device_keys (c, error))
    return FALSE;
  randombytes_buf (c->ws, sizeof c->ws);
  {
    g_autofree char *hex = sync_hex_encode (c->ws, sizeof c->ws);
    g_strlcpy (c->ws_hex, hex, sizeof c->ws_hex);
  }
  c->relay = g_strdup (relay_url);
  memcpy (c->anchor, c->sign_pk, 32);
  sync_http_set_identity (c->http, c->device, c->auth_sk);

  randombytes_buf (key, sizeof key);
  sync_log_begin_body (c, body, "create", 1);
  sync_log_add_member_keys (body, c->device, c->sign_pk, c->box_pk, c->auth_pk);
  json_builder_set_member_name (body, "admin");
  json_builder_add_boolean_value (body, TRUE);
  json_builder_set_member_name (body, "keys");
  json_builder_begin_object (body);
  sync_log_add_sealed (body, c->device, c->box_pk, key);
  json_builder_end_object (body);
  json_builder_end_object (body);
  body_s = sync_to_json (body);
  entry = sync_log_sign (c, body_s);

  json_builder_begin_object (req);
  sync_log_add_member_keys (req, c->device, c->sign_pk, c->box_pk, c->auth_pk);
  json_builder_set_member_name (req, "entry");
  json_builder_add_string_value (req, entry);
  json_builder_end_object (req);
  req_s = sync_to_json (req);
  path = sync_ws_path (c, "");
  ans = sync_http_json (c->http, "POST", path, req_s, NULL, NULL, error);
  if (ans == NULL)
    {
      sodium_memzero (key, sizeof key);
      return FALSE;
    }

  if (!sp_vault_begin (vault, error))
    return FALSE;
  ok = store_workspace (c, error) && sync_log_apply (c, 1, entry, strlen (entry), error)
       && sp_vault_sync_set_string (vault, "log/0000000001", entry, error);
  sodium_memzero (key, sizeof key);
  return sync_vault_end (vault, ok, error);
}

gboolean
sync_require_admin (SyncCtx *c, GError **error)
{
  SyncMember *me = sync_self_member (c);

  if (me == NULL || me->removed_at || !me->admin)
    return sync_fail (error, SYNC_ERROR_FAILED,
                      _ ("Only an admin device of the workspace can do this"));
  return TRUE;
}

char *
sync_workspace_invite (SpVault *vault, guint ttl_hours, const SyncOptions *opts, GError **error)
{
  g_autoptr (SyncCtx) c = sync_ctx_load (vault, opts, error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonBuilder) inv = json_builder_new ();
  g_autoptr (JsonObject) ans = NULL;
  g_autofree char *req = NULL, *path = NULL, *hash_hex = NULL, *tok_hex = NULL, *anchor64 = NULL;
  g_autofree char *json = NULL, *code64 = NULL, *key = NULL;
  guint8 token[32], hash[SYNC_HASH_BYTES], stored[40];
  gint64 expires;
  gsize n;

  if (c == NULL || !sync_log_refresh (c, error) || !sync_require_admin (c, error))
    return NULL;
  ttl_hours = sync_invite_ttl_clamp (ttl_hours);
  expires = g_get_real_time () / G_USEC_PER_SEC + (gint64)ttl_hours * 3600;
  randombytes_buf (token, sizeof token);
  sync_hash (token, sizeof token, hash);
  hash_hex = sync_hex_encode (hash, sizeof hash);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "token_hash");
  json_builder_add_string_value (b, hash_hex);
  json_builder_set_member_name (b, "expires");
  json_builder_add_int_value (b, expires);
  json_builder_end_object (b);
  req = sync_to_json (b);
  path = sync_ws_path (c, "/invites");
  ans = sync_http_json (c->http, "POST", path, req, NULL, NULL, error);
  if (ans == NULL)
    return NULL;
  memcpy (stored, token, 32);
  sync_le64_put (stored + 32, (guint64)expires);
  key = g_strconcat ("invite/", hash_hex, NULL);
  if (!sync_state_set_secret (vault, key, stored, sizeof stored, error))
    return NULL;

  tok_hex = sync_hex_encode (token, sizeof token);
  anchor64 = sync_b64 (c->anchor, 32);
  json_builder_begin_object (inv);
  json_builder_set_member_name (inv, "r");
  json_builder_add_string_value (inv, c->relay);
  json_builder_set_member_name (inv, "w");
  json_builder_add_string_value (inv, c->ws_hex);
  json_builder_set_member_name (inv, "t");
  json_builder_add_string_value (inv, tok_hex);
  json_builder_set_member_name (inv, "a");
  json_builder_add_string_value (inv, anchor64);
  json_builder_end_object (inv);
  json = sync_to_json (inv);
  n = sodium_base64_ENCODED_LEN (strlen (json), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  code64 = g_malloc (n);
  sodium_bin2base64 (code64, n, (const guint8 *)json, strlen (json),
                     sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero (token, sizeof token);
  return g_strconcat ("supolka1:", code64, NULL);
}

char *
sync_workspace_join (SpVault *vault, const char *invite, const SyncOptions *opts, GError **error)
{
  g_autoptr (SyncCtx) c = sync_ctx_new (vault);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonObject) ans = NULL;
  g_autofree char *relay = NULL, *req = NULL, *path = NULL, *tok_hex = NULL;
  guint8 token[32];
  gboolean ok;

  if (!no_workspace_yet (vault, error)
      || !sync_invite_parse (invite, &relay, c->ws, token, c->anchor, error))
    return NULL;
  {
    g_autofree char *hex = sync_hex_encode (c->ws, sizeof c->ws);
    g_strlcpy (c->ws_hex, hex, sizeof c->ws_hex);
  }
  c->relay = g_strdup (opts && opts->relay ? opts->relay : relay);
  c->http = sync_http_new (c->relay, opts, error);
  if (c->http == NULL || !new_device_keys (c, error))
    return NULL;
  sync_http_set_identity (c->http, c->device, c->auth_sk);
  tok_hex = sync_hex_encode (token, sizeof token);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "token");
  json_builder_add_string_value (b, tok_hex);
  sync_log_add_member_keys (b, c->device, c->sign_pk, c->box_pk, c->auth_pk);
  json_builder_end_object (b);
  req = sync_to_json (b);
  path = sync_ws_path (c, "/join");
  ans = sync_http_json (c->http, "POST", path, req, NULL, NULL, error);
  sodium_memzero (tok_hex, strlen (tok_hex));
  if (ans == NULL)
    return NULL;
  if (!sp_vault_begin (vault, error))
    return NULL;
  ok = store_workspace (c, error) && sync_state_set_secret (vault, "join/token", token, 32, error);
  if (!sync_vault_end (vault, ok, error))
    return NULL;
  return safety_code (c->ws, token, c->sign_pk, c->box_pk, c->auth_pk);
}

typedef struct
{
  char id[SYNC_ID_HEX_LEN + 1];
  char status[16];
  char invite[SYNC_HASH_HEX_LEN + 1]; /* hash of the invite token it joined with, or "" */
  guint8 sign_pk[32], box_pk[32], auth_pk[32];
} RelayDevice;

static GArray *
relay_devices (SyncCtx *c, GError **error)
{
  g_autofree char *path = sync_ws_path (c, "/devices");
  g_autoptr (JsonObject) ans = sync_http_json (c->http, "GET", path, NULL, NULL, NULL, error);
  g_autoptr (GArray) out = g_array_new (FALSE, TRUE, sizeof (RelayDevice));
  JsonNode *dn;
  JsonArray *arr;

  if (ans == NULL)
    return NULL;
  dn = json_object_get_member (ans, "devices");
  if (dn == NULL || !JSON_NODE_HOLDS_ARRAY (dn))
    {
      sync_fail (error, SYNC_ERROR_MALFORMED, _ ("The relay sent an answer that is not valid"));
      return NULL;
    }
  arr = json_node_get_array (dn);
  for (guint i = 0; i < json_array_get_length (arr) && i < 10000; i++)
    {
      JsonNode *item = json_array_get_element (arr, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (item) ? json_node_get_object (item) : NULL;
      const char *id = sync_json_str (o, "device", 64), *st = sync_json_str (o, "status", 15);
      RelayDevice d = { 0 };

      if (id == NULL || !sync_id_is_valid (id) || st == NULL
          || !sync_json_key (o, "sign_pk", d.sign_pk) || !sync_json_key (o, "box_pk", d.box_pk)
          || !sync_json_key (o, "auth_pk", d.auth_pk))
        {
          sync_fail (error, SYNC_ERROR_MALFORMED, _ ("The relay sent an answer that is not valid"));
          return NULL;
        }
      g_strlcpy (d.id, id, sizeof d.id);
      g_strlcpy (d.status, st, sizeof d.status);
      {
        const char *inv = sync_json_str (o, "invite", SYNC_HASH_HEX_LEN);
        if (inv && sync_is_lower_hex (inv, SYNC_HASH_HEX_LEN))
          g_strlcpy (d.invite, inv, sizeof d.invite);
      }
      g_array_append_val (out, d);
    }
  return g_steal_pointer (&out);
}

static char *
normalise_code (const char *code)
{
  GString *s = g_string_new (NULL);

  for (const char *p = code; p && *p; p++)
    if (g_ascii_isdigit (*p))
      g_string_append_c (s, *p);
    else if (*p != ' ' && *p != '-')
      {
        g_string_free (s, TRUE);
        return NULL;
      }
  if (s->len != 9)
    {
      g_string_free (s, TRUE);
      return NULL;
    }
  return g_string_free (s, FALSE);
}

char *
sync_workspace_approve (SpVault *vault, const char *code, const SyncOptions *opts, GError **error)
{
  g_autoptr (SyncCtx) c = sync_ctx_load (vault, opts, error);
  g_autofree char *want = normalise_code (code);
  g_autoptr (GArray) devs = NULL;
  g_autoptr (GPtrArray) invites = NULL;
  const RelayDevice *match = NULL;
  g_autofree char *match_invite = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (c == NULL)
    return NULL;
  if (want == NULL)
    {
      g_set_error_literal (error, SYNC_ERROR, SYNC_ERROR_MALFORMED,
                           _ ("A safety code is nine digits, like 123 456 789"));
      return NULL;
    }
  if (!sync_log_refresh (c, error) || !sync_require_admin (c, error))
    return NULL;
  devs = relay_devices (c, error);
  invites = devs ? sp_vault_sync_keys (vault, "invite/", error) : NULL;
  if (invites == NULL)
    return NULL;
  for (guint i = 0; i < devs->len; i++)
    {
      const RelayDevice *d = &g_array_index (devs, RelayDevice, i);

      if (strcmp (d->status, "pending") != 0 || g_hash_table_contains (c->members, d->id))
        continue;
      for (guint j = 0; j < invites->len; j++)
        {
          g_autoptr (SpSecret) inv = sp_vault_sync_get_secret (vault, invites->pdata[j], NULL);
          g_autofree char *got = NULL, *norm = NULL;

          if (inv == NULL || sp_secret_len (inv) != 40)
            continue;
          got = safety_code (c->ws, sp_secret_data (inv), d->sign_pk, d->box_pk, d->auth_pk);
          norm = normalise_code (got);
          if (sodium_memcmp (norm, want, 9) == 0)
            {
              match = d;
              g_free (match_invite);
              match_invite = g_strdup (invites->pdata[j]);
            }
        }
    }
  if (match == NULL)
    {
      g_set_error_literal (error, SYNC_ERROR, SYNC_ERROR_NOT_FOUND,
                           _ ("No device waiting to join has this safety code. Check the code "
                              "on the other device; if it differs, do not approve: someone may "
                              "be in between."));
      return NULL;
    }
  for (guint attempt = 0; attempt < 5; attempt++)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (SpSecret) key = sync_epoch_key (c, c->epoch);
      g_autofree char *body = NULL, *entry = NULL;
      gboolean raced;

      if (key == NULL)
        {
          sync_fail (error, SYNC_ERROR_FAILED,
                     _ ("This device does not hold the current workspace key"));
          return NULL;
        }
      sync_log_begin_body (c, b, "add", c->epoch);
      sync_log_add_member_keys (b, match->id, match->sign_pk, match->box_pk, match->auth_pk);
      json_builder_set_member_name (b, "admin");
      json_builder_add_boolean_value (b, FALSE);
      json_builder_set_member_name (b, "keys");
      json_builder_begin_object (b);
      sync_log_add_sealed (b, match->id, match->box_pk, sp_secret_data (key));
      json_builder_end_object (b);
      json_builder_end_object (b);
      body = sync_to_json (b);
      entry = sync_log_sign (c, body);
      if (sync_log_post (c, entry, "add", match->id, &raced, error))
        {
          sp_vault_sync_set (vault, match_invite, NULL, 0, NULL); /* one-time */
          (void)now;
          return g_strdup (match->id);
        }
      if (!raced)
        return NULL;
      if (g_hash_table_contains (c->members, match->id))
        return g_strdup (match->id); /* another admin approved it meanwhile */
    }
  sync_fail (error, SYNC_ERROR_FAILED, _ ("The membership log keeps changing; try again"));
  return NULL;
}

/* Active first, then pending, then revoked; by id within each. */
static int
compare_devices (gconstpointer a, gconstpointer b)
{
  const SyncDevice *x = *(SyncDevice *const *)a, *y = *(SyncDevice *const *)b;
  static const char order[] = "apr";
  int rx = (int)(strchr (order, x->status[0]) - order),
      ry = (int)(strchr (order, y->status[0]) - order);

  return rx != ry ? rx - ry : strcmp (x->device, y->device);
}

GPtrArray *
sync_device_list (SpVault *vault, const SyncOptions *opts, GError **error)
{
  g_autoptr (SyncCtx) c = sync_ctx_load (vault, opts, error);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify)sync_device_free);
  g_autoptr (GArray) devs = NULL;
  g_autoptr (GList) members = NULL;

  if (c == NULL || !sync_log_refresh (c, error) || (devs = relay_devices (c, error)) == NULL)
    return NULL;
  members = g_hash_table_get_values (c->members);
  for (GList *l = members; l; l = l->next)
    {
      const SyncMember *m = l->data;
      SyncDevice *d = g_new0 (SyncDevice, 1);

      d->device = g_strdup (m->id);
      d->status = g_strdup (m->removed_at ? "revoked" : "active");
      d->admin = m->admin;
      d->is_self = strcmp (m->id, c->device) == 0;
      g_ptr_array_add (out, d);
    }
  for (guint i = 0; i < devs->len; i++)
    {
      const RelayDevice *r = &g_array_index (devs, RelayDevice, i);
      SyncDevice *d;

      if (g_hash_table_contains (c->members, r->id) || strcmp (r->status, "pending") != 0)
        continue;
      d = g_new0 (SyncDevice, 1);
      d->device = g_strdup (r->id);
      d->status = g_strdup ("pending");
      d->is_self = strcmp (r->id, c->device) == 0;
      if (r->invite[0])
        {
          /* Our own invite: we hold its token and can show the code to compare. */
          g_autofree char *key = g_strconcat ("invite/", r->invite, NULL);
          g_autoptr (SpSecret) inv = sp_vault_sync_get_secret (vault, key, NULL);

          if (inv && sp_secret_len (inv) == 40)
            d->safety_code
                = safety_code (c->ws, sp_secret_data (inv), r->sign_pk, r->box_pk, r->auth_pk);
        }
      g_ptr_array_add (out, d);
    }
  g_ptr_array_sort (out, compare_devices);
  return g_steal_pointer (&out);
}

gboolean
sync_device_revoke (SpVault *vault, const char *device, const SyncOptions *opts, GError **error)
{
  return sync_device_revoke_full (vault, device, opts, NULL, error);
}

gboolean
sync_device_revoke_full (SpVault *vault, const char *device, const SyncOptions *opts,
                         guint *not_rotated, GError **error)
{
  g_autoptr (SyncCtx) c = sync_ctx_load (vault, opts, error);

  if (c == NULL || !sync_log_refresh (c, error) || !sync_require_admin (c, error))
    return FALSE;
  for (guint attempt = 0; attempt < 5; attempt++)
    {
      SyncMember *target = g_hash_table_lookup (c->members, device ? device : "");
      g_autoptr (SpSecret) old = sync_epoch_key (c, c->epoch);
      g_autoptr (SpSecret) fresh = sp_secret_new (SYNC_KEY_BYTES);
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autofree char *body = NULL, *entry = NULL, *wrap64 = NULL;
      guint8 wrap[WRAP_LEN];
      GHashTableIter it;
      gpointer val;
      gboolean raced;

      if (target == NULL || target->removed_at)
        return sync_fail (error, SYNC_ERROR_NOT_FOUND, _ ("No such device in the workspace"));
      if (strcmp (target->id, c->device) == 0)
        return sync_fail (error, SYNC_ERROR_FAILED,
                          _ ("A device cannot remove itself; ask another admin"));
      if (old == NULL || fresh == NULL)
        return sync_fail (error, SYNC_ERROR_FAILED,
                          _ ("This device does not hold the current workspace key"));
      randombytes_buf (sp_secret_data (fresh), SYNC_KEY_BYTES);
      randombytes_buf (wrap, crypto_secretbox_NONCEBYTES);
      crypto_secretbox_easy (wrap + crypto_secretbox_NONCEBYTES, sp_secret_data (old),
                             SYNC_KEY_BYTES, wrap, sp_secret_data (fresh));
      wrap64 = sync_b64 (wrap, sizeof wrap);
      sync_log_begin_body (c, b, "remove", c->epoch + 1);
      json_builder_set_member_name (b, "device");
      json_builder_add_string_value (b, target->id);
      json_builder_set_member_name (b, "wrap");
      json_builder_add_string_value (b, wrap64);
      json_builder_set_member_name (b, "keys");
      json_builder_begin_object (b);
      g_hash_table_iter_init (&it, c->members);
      while (g_hash_table_iter_next (&it, NULL, &val))
        {
          const SyncMember *m = val;
          if (m->removed_at == 0 && m != target)
            sync_log_add_sealed (b, m->id, m->box_pk, sp_secret_data (fresh));
        }
      json_builder_end_object (b);
      json_builder_end_object (b);
      body = sync_to_json (b);
      entry = sync_log_sign (c, body);
      if (sync_log_post (c, entry, "remove", target->id, &raced, error))
        return sync_comps_rotate_removed (c, target->id, not_rotated, error);
      if (!raced)
        return FALSE;
    }
  return sync_fail (error, SYNC_ERROR_FAILED, _ ("The membership log keeps changing; try again"));
}
