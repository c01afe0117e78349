/* sync-client.c — workspaces, the membership log, device chains, push and pull.
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
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "supolka-sync.h"
#include "sync-http.h"
#include "sync-protocol.h"

#define ENTRY_MAX (64 * 1024)
#define INVITE_MAX 2048
#define BATCH_MAX_CHANGES 2000
#define BATCH_MAX_BYTES (2 * 1024 * 1024)
#define PAGE_LIMIT 200
#define SEALED_LEN (SYNC_KEY_BYTES + crypto_box_SEALBYTES)
#define WRAP_LEN (crypto_secretbox_NONCEBYTES + SYNC_KEY_BYTES + crypto_secretbox_MACBYTES)

typedef struct
{
  char id[SYNC_ID_HEX_LEN + 1];
  guint8 sign_pk[32], box_pk[32], auth_pk[32];
  gboolean admin;
  gint64 added_at;
  gint64 removed_at; /* 0: still a member */
} Member;

typedef struct
{
  SpVault *vault;
  char ws_hex[SYNC_ID_HEX_LEN + 1];
  guint8 ws[SYNC_ID_BYTES];
  char *relay;
  char device[SYNC_ID_HEX_LEN + 1];
  guint8 dev_raw[SYNC_ID_BYTES];
  guint8 anchor[32];
  SpSecret *sign_sk, *auth_sk, *box_sk;
  guint8 sign_pk[32], box_pk[32], auth_pk[32];
  SyncHttp *http;
  /* The membership log as verified so far. */
  gint64 head;
  guint8 head_hash[SYNC_HASH_BYTES];
  guint32 epoch;
  GHashTable *members;   /* id -> Member */
  GHashTable *log_heads; /* hex hash -> version (gint64 *) */
  GHashTable *wraps;     /* epoch (uint) -> GBytes: epoch-1 key wrapped under epoch key */
} Ctx;

static void
ctx_free (Ctx *c)
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
  g_free (c);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Ctx, ctx_free)

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

static void problem (SyncReport *report, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
problem (SyncReport *report, const char *fmt, ...)
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

static gboolean
fail (GError **error, int code, const char *message)
{
  g_set_error_literal (error, SYNC_ERROR, code, message);
  return FALSE;
}

/* ---- Small codecs ---- */

static char *
b64 (const guint8 *data, gsize len)
{
  gsize n = sodium_base64_ENCODED_LEN (len, sodium_base64_VARIANT_ORIGINAL);
  char *out = g_malloc (n);

  sodium_bin2base64 (out, n, data, len, sodium_base64_VARIANT_ORIGINAL);
  return out;
}

static void
le64_put (guint8 *p, guint64 v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (guint8)(v >> (8 * i));
}

static guint64
le64_get (const guint8 *p)
{
  guint64 v = 0;

  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static const char *
json_str (JsonObject *o, const char *name, gsize max)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  const char *s;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  s = json_node_get_string (n);
  return strlen (s) <= max ? s : NULL;
}

static gboolean
json_int (JsonObject *o, const char *name, gint64 *out)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (n);
  return TRUE;
}

static gboolean
json_bool (JsonObject *o, const char *name, gboolean *out)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return FALSE;
  *out = json_node_get_boolean (n);
  return TRUE;
}

static gboolean
json_key (JsonObject *o, const char *name, guint8 out[32])
{
  const char *s = json_str (o, name, SYNC_KEY_B64_LEN);

  return s && sync_base64_decode_exact (s, out, 32, NULL);
}

static char *
to_json (JsonBuilder *b)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);

  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

/* ---- State in the vault ---- */

static gboolean
state_set_secret (SpVault *v, const char *key, const guint8 *data, gsize len, GError **error)
{
  return sp_vault_sync_set (v, key, data, len, error);
}

static gboolean
state_get_fixed (SpVault *v, const char *key, guint8 *out, gsize len)
{
  g_autoptr (GBytes) b = sp_vault_sync_get (v, key, NULL);

  if (b == NULL || g_bytes_get_size (b) != len)
    return FALSE;
  memcpy (out, g_bytes_get_data (b, NULL), len);
  return TRUE;
}

static gboolean
state_get_chain (SpVault *v, const char *key, guint64 *seq, guint8 hash[SYNC_HASH_BYTES])
{
  guint8 buf[8 + SYNC_HASH_BYTES];

  if (!state_get_fixed (v, key, buf, sizeof buf))
    {
      *seq = 0;
      memset (hash, 0, SYNC_HASH_BYTES);
      return FALSE;
    }
  *seq = le64_get (buf);
  memcpy (hash, buf + 8, SYNC_HASH_BYTES);
  return TRUE;
}

static gboolean
state_set_chain (SpVault *v, const char *key, guint64 seq, const guint8 hash[SYNC_HASH_BYTES],
                 GError **error)
{
  guint8 buf[8 + SYNC_HASH_BYTES];

  le64_put (buf, seq);
  memcpy (buf + 8, hash, SYNC_HASH_BYTES);
  return sp_vault_sync_set (v, key, buf, sizeof buf, error);
}

static gint64
state_get_int (SpVault *v, const char *key)
{
  g_autofree char *s = sp_vault_sync_get_string (v, key, NULL);

  return s ? g_ascii_strtoll (s, NULL, 10) : 0;
}

static gboolean
state_set_int (SpVault *v, const char *key, gint64 value, GError **error)
{
  g_autofree char *s = g_strdup_printf ("%" G_GINT64_FORMAT, value);

  return sp_vault_sync_set_string (v, key, s, error);
}

static char *
epoch_key_name (guint32 epoch)
{
  return g_strdup_printf ("epoch/%010u", epoch);
}

static SpSecret *
epoch_key (Ctx *c, guint32 epoch)
{
  g_autofree char *name = epoch_key_name (epoch);
  SpSecret *k = sp_vault_sync_get_secret (c->vault, name, NULL);

  if (k && sp_secret_len (k) != SYNC_KEY_BYTES)
    g_clear_pointer (&k, sp_secret_free);
  return k;
}

static gboolean
store_epoch_key (Ctx *c, guint32 epoch, const guint8 key[SYNC_KEY_BYTES], GError **error)
{
  g_autofree char *name = epoch_key_name (epoch);
  g_autoptr (SpSecret) old = epoch_key (c, epoch);

  if (old)
    {
      if (sodium_memcmp (sp_secret_data (old), key, SYNC_KEY_BYTES) != 0)
        return fail (error, SYNC_ERROR_FORGED,
                     _ ("The membership log gives two different keys for one epoch"));
      return TRUE;
    }
  return state_set_secret (c->vault, name, key, SYNC_KEY_BYTES, error);
}

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
    return fail (error, SYNC_ERROR_MALFORMED, _ ("This is not a Supolka invite code"));
  trimmed = g_strstrip (g_strdup (code));
  len = strlen (trimmed);
  if (len > INVITE_MAX || !g_str_has_prefix (trimmed, "supolka1:"))
    return fail (error, SYNC_ERROR_MALFORMED, _ ("This is not a Supolka invite code"));
  raw = g_malloc (len);
  if (sodium_base642bin (raw, len, trimmed + 9, len - 9, NULL, &raw_len, NULL,
                         sodium_base64_VARIANT_URLSAFE_NO_PADDING)
          != 0
      || (o = sync_parse_json_object (raw, raw_len, INVITE_MAX, NULL)) == NULL
      || json_object_get_size (o) != 4 || (r = json_str (o, "r", 1024)) == NULL
      || (w = json_str (o, "w", SYNC_ID_HEX_LEN)) == NULL || (t = json_str (o, "t", 64)) == NULL
      || !sync_hex_decode (w, workspace, 16, NULL) || !sync_hex_decode (t, token, 32, NULL)
      || !json_key (o, "a", admin_sign_pk)
      || !(g_str_has_prefix (r, "https://") || g_str_has_prefix (r, "http://")))
    return fail (error, SYNC_ERROR_MALFORMED,
                 _ ("This invite code is damaged or incomplete; ask for a new one"));
  for (const char *p = r; *p; p++)
    if ((guchar)*p <= 0x20 || (guchar)*p >= 0x7f)
      return fail (error, SYNC_ERROR_MALFORMED,
                   _ ("This invite code is damaged or incomplete; ask for a new one"));
  *relay = g_strdup (r);
  return TRUE;
}

/* ---- Loading the context ---- */

static gboolean
load_keys (Ctx *c, GError **error)
{
  c->sign_sk = sp_vault_sync_get_secret (c->vault, "dev/sign_sk", error);
  c->auth_sk = c->sign_sk ? sp_vault_sync_get_secret (c->vault, "dev/auth_sk", error) : NULL;
  c->box_sk = c->auth_sk ? sp_vault_sync_get_secret (c->vault, "dev/box_sk", error) : NULL;
  if (c->box_sk == NULL || sp_secret_len (c->sign_sk) != 64 || sp_secret_len (c->auth_sk) != 64
      || sp_secret_len (c->box_sk) != 32
      || !state_get_fixed (c->vault, "dev/sign_pk", c->sign_pk, 32)
      || !state_get_fixed (c->vault, "dev/auth_pk", c->auth_pk, 32)
      || !state_get_fixed (c->vault, "dev/box_pk", c->box_pk, 32))
    {
      if (error && *error == NULL)
        fail (error, SYNC_ERROR_FAILED, _ ("This device's sync keys are missing or damaged"));
      return FALSE;
    }
  return TRUE;
}

static Ctx *
ctx_new (SpVault *vault)
{
  Ctx *c = g_new0 (Ctx, 1);

  c->vault = vault;
  g_strlcpy (c->device, sp_vault_get_device_id (vault), sizeof c->device);
  sync_hex_decode (c->device, c->dev_raw, SYNC_ID_BYTES, NULL);
  c->members = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  c->log_heads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  c->wraps
      = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)g_bytes_unref);
  return c;
}

static gboolean apply_entry (Ctx *c, gint64 version, const char *entry, gsize len, GError **error);

static Ctx *
ctx_load_full (SpVault *vault, const SyncOptions *opts, gboolean network, GError **error)
{
  g_autoptr (Ctx) c = ctx_new (vault);
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
  if (!state_get_fixed (vault, "ws/anchor", c->anchor, 32) || !load_keys (c, error))
    {
      if (error && *error == NULL)
        fail (error, SYNC_ERROR_FAILED, _ ("This vault's workspace settings are damaged"));
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
      if (!apply_entry (c, (gint64)i + 1, data, len, error))
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

static Ctx *
ctx_load (SpVault *vault, const SyncOptions *opts, GError **error)
{
  return ctx_load_full (vault, opts, TRUE, error);
}

/* ---- The membership log ----
 * Stored entry: {"body": "<JSON text>", "sig": base64(Ed25519 over "SPLK-log-1\n" ‖ body)};
 * its hash (BLAKE2b-256 of the stored bytes) is the next entry's "prev". */

static gboolean
log_forged (GError **error, gint64 version, const char *why)
{
  g_set_error (error, SYNC_ERROR, SYNC_ERROR_FORGED,
               _ ("Entry %lld of the workspace's membership log does not verify "
                  "(%s); the relay may be tampering with it. Nothing was changed."),
               (long long)version, why);
  return FALSE;
}

static char *
log_sign (Ctx *c, const char *body)
{
  g_autofree char *msg = g_strconcat ("SPLK-log-1\n", body, NULL);
  guint8 sig[64];
  g_autofree char *sig64 = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  crypto_sign_detached (sig, NULL, (const guint8 *)msg, strlen (msg), sp_secret_data (c->sign_sk));
  sig64 = b64 (sig, sizeof sig);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "body");
  json_builder_add_string_value (b, body);
  json_builder_set_member_name (b, "sig");
  json_builder_add_string_value (b, sig64);
  json_builder_end_object (b);
  return to_json (b);
}

/* Opens what the entry sealed to this device, and unwraps older keys. */
static gboolean
learn_keys (Ctx *c, guint32 epoch, JsonObject *keys, GError **error)
{
  const char *mine = keys ? json_str (keys, c->device, 200) : NULL;
  guint8 sealed[SEALED_LEN];
  guint8 key[SYNC_KEY_BYTES];
  gboolean ok;

  if (mine == NULL)
    return TRUE;
  if (!sync_base64_decode_exact (mine, sealed, sizeof sealed, NULL)
      || crypto_box_seal_open (key, sealed, sizeof sealed, c->box_pk, sp_secret_data (c->box_sk))
             != 0)
    return fail (error, SYNC_ERROR_FORGED,
                 _ ("A workspace key sealed to this device cannot be opened"));
  ok = store_epoch_key (c, epoch, key, error);
  sodium_memzero (key, sizeof key);
  /* Each epoch key wraps the one before: walk back as far as we can. */
  for (guint32 e = epoch; ok && e > 1; e--)
    {
      g_autoptr (SpSecret) newer = epoch_key (c, e);
      g_autoptr (SpSecret) older = epoch_key (c, e - 1);
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
        return fail (error, SYNC_ERROR_FORGED, _ ("An older workspace key cannot be unwrapped"));
      ok = store_epoch_key (c, e - 1, prev, error);
      sodium_memzero (prev, sizeof prev);
      if (older)
        break; /* already known further back */
    }
  return ok;
}

static gboolean
apply_entry (Ctx *c, gint64 version, const char *entry, gsize len, GError **error)
{
  g_autoptr (JsonObject) wrapper = NULL;
  g_autoptr (JsonObject) body = NULL;
  const char *body_s, *sig_s, *type, *prev, *ws, *signer_id, *dev;
  guint8 sig[64], hash[SYNC_HASH_BYTES];
  g_autofree char *msg = NULL;
  g_autofree char *prev_hex = NULL;
  const Member *signer;
  Member *m;
  gint64 v, epoch;
  gboolean admin = FALSE;
  JsonNode *keys_node;
  JsonObject *keys;

  if (len > ENTRY_MAX
      || (wrapper = sync_parse_json_object ((const guint8 *)entry, len, ENTRY_MAX, NULL)) == NULL
      || (body_s = json_str (wrapper, "body", ENTRY_MAX)) == NULL
      || (sig_s = json_str (wrapper, "sig", SYNC_AUTH_SIGNATURE_B64_LEN)) == NULL
      || !sync_base64_decode_exact (sig_s, sig, 64, NULL)
      || (body = sync_parse_json_object ((const guint8 *)body_s, strlen (body_s), ENTRY_MAX, NULL))
             == NULL)
    return log_forged (error, version, "shape");
  if (!json_int (body, "v", &v) || v != 1 || !json_int (body, "version", &v) || v != version
      || (ws = json_str (body, "ws", 64)) == NULL || strcmp (ws, c->ws_hex) != 0
      || (type = json_str (body, "type", 16)) == NULL
      || (prev = json_str (body, "prev", 64)) == NULL
      || (signer_id = json_str (body, "signer", 64)) == NULL
      || (dev = json_str (body, "device", 64)) == NULL || !sync_id_is_valid (dev)
      || !json_int (body, "epoch", &epoch) || epoch < 1 || epoch > G_MAXUINT32)
    return log_forged (error, version, "fields");
  prev_hex = version == 1 ? g_strdup ("") : sync_hex_encode (c->head_hash, SYNC_HASH_BYTES);
  if (version != c->head + 1 || strcmp (prev, prev_hex) != 0)
    return log_forged (error, version, "chain");

  msg = g_strconcat ("SPLK-log-1\n", body_s, NULL);
  if (version == 1)
    {
      guint8 pk[32];

      if (strcmp (type, "create") != 0 || strcmp (signer_id, dev) != 0
          || !json_key (body, "sign_pk", pk) || sodium_memcmp (pk, c->anchor, 32) != 0 || epoch != 1
          || crypto_sign_verify_detached (sig, (const guint8 *)msg, strlen (msg), pk) != 0)
        return log_forged (error, version, "founder");
    }
  else
    {
      signer = g_hash_table_lookup (c->members, signer_id);
      if (signer == NULL || signer->removed_at || !signer->admin
          || crypto_sign_verify_detached (sig, (const guint8 *)msg, strlen (msg), signer->sign_pk)
                 != 0)
        return log_forged (error, version, "signer");
    }

  keys_node = json_object_get_member (body, "keys");
  keys = keys_node && JSON_NODE_HOLDS_OBJECT (keys_node) ? json_node_get_object (keys_node) : NULL;
  if (keys == NULL)
    return log_forged (error, version, "keys");

  if (strcmp (type, "create") == 0 || strcmp (type, "add") == 0)
    {
      if (g_hash_table_contains (c->members, dev) || json_str (keys, dev, 200) == NULL
          || json_object_get_size (keys) != 1)
        return log_forged (error, version, "add");
      if (version > 1 && (guint32)epoch != c->epoch)
        return log_forged (error, version, "epoch");
      m = g_new0 (Member, 1);
      g_strlcpy (m->id, dev, sizeof m->id);
      if (!json_key (body, "sign_pk", m->sign_pk) || !json_key (body, "box_pk", m->box_pk)
          || !json_key (body, "auth_pk", m->auth_pk) || !json_bool (body, "admin", &admin))
        {
          g_free (m);
          return log_forged (error, version, "device keys");
        }
      m->admin = version == 1 ? TRUE : admin;
      m->added_at = version;
      g_hash_table_insert (c->members, m->id, m);
      c->epoch = (guint32)epoch;
    }
  else if (strcmp (type, "remove") == 0)
    {
      GHashTableIter it;
      gpointer val;
      guint remaining = 0;
      const char *wrap_s = json_str (body, "wrap", 200);
      guint8 wrap[WRAP_LEN];

      m = g_hash_table_lookup (c->members, dev);
      if (m == NULL || m->removed_at || (guint32)epoch != c->epoch + 1 || wrap_s == NULL
          || !sync_base64_decode_exact (wrap_s, wrap, sizeof wrap, NULL))
        return log_forged (error, version, "remove");
      m->removed_at = version;
      g_hash_table_iter_init (&it, c->members);
      while (g_hash_table_iter_next (&it, NULL, &val))
        {
          const Member *r = val;
          if (r->removed_at == 0)
            {
              remaining++;
              if (json_str (keys, r->id, 200) == NULL)
                return log_forged (error, version, "remaining keys");
            }
        }
      if (json_object_get_size (keys) != remaining)
        return log_forged (error, version, "remaining keys");
      g_hash_table_insert (c->wraps, GUINT_TO_POINTER ((guint)epoch),
                           g_bytes_new (wrap, sizeof wrap));
      c->epoch = (guint32)epoch;
    }
  else
    return log_forged (error, version, "type");

  if (!learn_keys (c, (guint32)epoch, keys, error))
    return FALSE;
  sync_hash ((const guint8 *)entry, len, hash);
  memcpy (c->head_hash, hash, sizeof hash);
  c->head = version;
  g_hash_table_insert (c->log_heads, sync_hex_encode (hash, sizeof hash),
                       g_memdup2 (&version, sizeof version));
  return TRUE;
}

static char *
ws_path (Ctx *c, const char *suffix)
{
  return g_strconcat ("/v1/workspaces/", c->ws_hex, suffix, NULL);
}

/* Fetches log entries after our head, verifies each and stores it. */
static gboolean
refresh_log (Ctx *c, GError **error)
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
      if (!json_int (ans, "head", &head) || en == NULL || !JSON_NODE_HOLDS_ARRAY (en))
        return fail (error, SYNC_ERROR_MALFORMED, _ ("The relay sent an answer that is not valid"));
      if (head < c->head)
        return fail (error, SYNC_ERROR_FORGED,
                     _ ("The relay's membership log is shorter than the one this device has "
                        "already seen: the relay was rolled back or is misbehaving"));
      arr = json_node_get_array (en);
      n = json_array_get_length (arr);
      if (n == 0)
        {
          if (head != c->head)
            return fail (error, SYNC_ERROR_MALFORMED,
                         _ ("The relay withheld membership-log entries"));
          return TRUE;
        }
      for (guint i = 0; i < n; i++)
        {
          JsonNode *item = json_array_get_element (arr, i);
          JsonObject *o = JSON_NODE_HOLDS_OBJECT (item) ? json_node_get_object (item) : NULL;
          const char *entry = json_str (o, "entry", ENTRY_MAX);
          g_autofree char *key = NULL;
          gint64 version;

          if (entry == NULL || !json_int (o, "version", &version))
            return fail (error, SYNC_ERROR_MALFORMED,
                         _ ("The relay sent an answer that is not valid"));
          if (!apply_entry (c, version, entry, strlen (entry), error))
            return FALSE;
          key = g_strdup_printf ("log/%010" G_GINT64_FORMAT, version);
          if (!sp_vault_sync_set_string (c->vault, key, entry, error))
            return FALSE;
        }
      if (c->head >= head)
        return TRUE;
    }
  return fail (error, SYNC_ERROR_MALFORMED, _ ("The relay's membership log does not end"));
}

/* Appends an entry we built: compare-and-swap on the version; on a race,
 * refreshes and lets the caller rebuild. *raced tells it to. */
static gboolean
post_entry (Ctx *c, const char *entry, const char *action, const char *subject, gboolean *raced,
            GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *body = NULL, *path = ws_path (c, "/log");
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
  body = to_json (b);
  ans = sync_http_json (c->http, "POST", path, body, accept, &status, error);
  if (ans == NULL)
    return FALSE;
  sync_hash ((const guint8 *)entry, strlen (entry), mine);
  if (status == 409)
    {
      /* Someone else appended first — or our own earlier try did and its
       * answer was lost. The refreshed log says which. */
      if (!refresh_log (c, error))
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
  if (!apply_entry (c, version, entry, strlen (entry), error))
    return FALSE;
  return sp_vault_sync_set_string (c->vault, key, entry, error);
}

static void
add_member_keys (JsonBuilder *b, const char *device, const guint8 sign_pk[32],
                 const guint8 box_pk[32], const guint8 auth_pk[32])
{
  g_autofree char *s = b64 (sign_pk, 32), *x = b64 (box_pk, 32), *a = b64 (auth_pk, 32);

  json_builder_set_member_name (b, "device");
  json_builder_add_string_value (b, device);
  json_builder_set_member_name (b, "sign_pk");
  json_builder_add_string_value (b, s);
  json_builder_set_member_name (b, "box_pk");
  json_builder_add_string_value (b, x);
  json_builder_set_member_name (b, "auth_pk");
  json_builder_add_string_value (b, a);
}

static void
begin_body (Ctx *c, JsonBuilder *b, const char *type, guint32 epoch)
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

static void
add_sealed (JsonBuilder *b, const char *device, const guint8 box_pk[32],
            const guint8 key[SYNC_KEY_BYTES])
{
  guint8 sealed[SEALED_LEN];
  g_autofree char *s = NULL;

  crypto_box_seal (sealed, key, SYNC_KEY_BYTES, box_pk);
  s = b64 (sealed, sizeof sealed);
  json_builder_set_member_name (b, device);
  json_builder_add_string_value (b, s);
}

/* ---- Status ---- */

static Member *
self_member (Ctx *c)
{
  return g_hash_table_lookup (c->members, c->device);
}

gboolean
sync_get_status (SpVault *vault, SyncStatus *status, GError **error)
{
  g_autoptr (Ctx) c = NULL;
  g_autofree char *ws = sp_vault_sync_get_string (vault, "ws/id", NULL);
  Member *me;
  gint64 pushed;

  memset (status, 0, sizeof *status);
  if (ws == NULL)
    return TRUE;
  c = ctx_load_full (vault, NULL, FALSE, error);
  if (c == NULL)
    return FALSE;
  me = self_member (c);
  status->workspace = g_strdup (c->ws_hex);
  status->relay = g_strdup (c->relay);
  status->device = g_strdup (c->device);
  status->admin = me && me->admin && !me->removed_at;
  status->approved = me && !me->removed_at;
  status->epoch = c->epoch;
  status->log_head = c->head;
  status->last_sync = state_get_int (vault, "last_sync");
  pushed = state_get_int (vault, "own/pushed");
  status->pending_changes = sp_vault_count_local_changes (vault, pushed, NULL);
  return TRUE;
}

/* ---- Creating, inviting, joining, approving ---- */

static gboolean
new_device_keys (Ctx *c, GError **error)
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
    return fail (error, SYNC_ERROR_FAILED, _ ("Out of secure memory"));
  return TRUE;
}

static gboolean
store_workspace (Ctx *c, GError **error)
{
  SpVault *v = c->vault;

  return sp_vault_sync_set_string (v, "ws/id", c->ws_hex, error)
         && sp_vault_sync_set_string (v, "ws/relay", c->relay, error)
         && sp_vault_sync_set (v, "ws/anchor", c->anchor, 32, error)
         && state_set_secret (v, "dev/sign_sk", sp_secret_data (c->sign_sk), 64, error)
         && state_set_secret (v, "dev/auth_sk", sp_secret_data (c->auth_sk), 64, error)
         && state_set_secret (v, "dev/box_sk", sp_secret_data (c->box_sk), 32, error)
         && sp_vault_sync_set (v, "dev/sign_pk", c->sign_pk, 32, error)
         && sp_vault_sync_set (v, "dev/auth_pk", c->auth_pk, 32, error)
         && sp_vault_sync_set (v, "dev/box_pk", c->box_pk, 32, error);
}

static gboolean
no_workspace_yet (SpVault *vault, GError **error)
{
  g_autofree char *ws = sp_vault_sync_get_string (vault, "ws/id", NULL);

  if (ws)
    return fail (error, SYNC_ERROR_FAILED, _ ("This vault is already part of a workspace"));
  return TRUE;
}

gboolean
sync_workspace_create (SpVault *vault, const char *relay_url, const SyncOptions *opts,
                       GError **error)
{
  g_autoptr (Ctx) c = ctx_new (vault);
  g_autoptr (JsonBuilder) body = json_builder_new ();
  g_autoptr (JsonBuilder) req = json_builder_new ();
  g_autofree char *body_s = NULL, *entry = NULL, *req_s = NULL, *path = NULL;
  g_autofree char *sign64 = NULL, *auth64 = NULL, *box64 = NULL;
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
  begin_body (c, body, "create", 1);
  add_member_keys (body, c->device, c->sign_pk, c->box_pk, c->auth_pk);
  json_builder_set_member_name (body, "admin");
  json_builder_add_boolean_value (body, TRUE);
  json_builder_set_member_name (body, "keys");
  json_builder_begin_object (body);
  add_sealed (body, c->device, c->box_pk, key);
  json_builder_end_object (body);
  json_builder_end_object (body);
  body_s = to_json (body);
  entry = log_sign (c, body_s);

  sign64 = b64 (c->sign_pk, 32);
  auth64 = b64 (c->auth_pk, 32);
  box64 = b64 (c->box_pk, 32);
  json_builder_begin_object (req);
  json_builder_set_member_name (req, "device");
  json_builder_add_string_value (req, c->device);
  json_builder_set_member_name (req, "auth_pk");
  json_builder_add_string_value (req, auth64);
  json_builder_set_member_name (req, "sign_pk");
  json_builder_add_string_value (req, sign64);
  json_builder_set_member_name (req, "box_pk");
  json_builder_add_string_value (req, box64);
  json_builder_set_member_name (req, "entry");
  json_builder_add_string_value (req, entry);
  json_builder_end_object (req);
  req_s = to_json (req);
  path = ws_path (c, "");
  ans = sync_http_json (c->http, "POST", path, req_s, NULL, NULL, error);
  if (ans == NULL)
    {
      sodium_memzero (key, sizeof key);
      return FALSE;
    }

  if (!sp_vault_begin (vault, error))
    return FALSE;
  ok = store_workspace (c, error) && apply_entry (c, 1, entry, strlen (entry), error)
       && sp_vault_sync_set_string (vault, "log/0000000001", entry, error);
  sodium_memzero (key, sizeof key);
  if (ok)
    return sp_vault_commit (vault, error);
  sp_vault_rollback (vault);
  return FALSE;
}

static gboolean
require_admin (Ctx *c, GError **error)
{
  Member *me = self_member (c);

  if (me == NULL || me->removed_at || !me->admin)
    return fail (error, SYNC_ERROR_FAILED, _ ("Only an admin device of the workspace can do this"));
  return TRUE;
}

char *
sync_workspace_invite (SpVault *vault, guint ttl_hours, const SyncOptions *opts, GError **error)
{
  g_autoptr (Ctx) c = ctx_load (vault, opts, error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonBuilder) inv = json_builder_new ();
  g_autoptr (JsonObject) ans = NULL;
  g_autofree char *req = NULL, *path = NULL, *hash_hex = NULL, *tok_hex = NULL, *anchor64 = NULL;
  g_autofree char *json = NULL, *code64 = NULL, *key = NULL;
  guint8 token[32], hash[SYNC_HASH_BYTES], stored[40];
  gint64 expires;
  gsize n;

  if (c == NULL || !refresh_log (c, error) || !require_admin (c, error))
    return NULL;
  ttl_hours = CLAMP (ttl_hours ? ttl_hours : 48, 1, 168);
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
  req = to_json (b);
  path = ws_path (c, "/invites");
  ans = sync_http_json (c->http, "POST", path, req, NULL, NULL, error);
  if (ans == NULL)
    return NULL;
  memcpy (stored, token, 32);
  le64_put (stored + 32, (guint64)expires);
  key = g_strconcat ("invite/", hash_hex, NULL);
  if (!state_set_secret (vault, key, stored, sizeof stored, error))
    return NULL;

  tok_hex = sync_hex_encode (token, sizeof token);
  anchor64 = b64 (c->anchor, 32);
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
  json = to_json (inv);
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
  g_autoptr (Ctx) c = ctx_new (vault);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonObject) ans = NULL;
  g_autofree char *relay = NULL, *req = NULL, *path = NULL, *tok_hex = NULL;
  g_autofree char *sign64 = NULL, *auth64 = NULL, *box64 = NULL;
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
  sign64 = b64 (c->sign_pk, 32);
  auth64 = b64 (c->auth_pk, 32);
  box64 = b64 (c->box_pk, 32);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "token");
  json_builder_add_string_value (b, tok_hex);
  json_builder_set_member_name (b, "device");
  json_builder_add_string_value (b, c->device);
  json_builder_set_member_name (b, "auth_pk");
  json_builder_add_string_value (b, auth64);
  json_builder_set_member_name (b, "sign_pk");
  json_builder_add_string_value (b, sign64);
  json_builder_set_member_name (b, "box_pk");
  json_builder_add_string_value (b, box64);
  json_builder_end_object (b);
  req = to_json (b);
  path = ws_path (c, "/join");
  ans = sync_http_json (c->http, "POST", path, req, NULL, NULL, error);
  sodium_memzero (tok_hex, strlen (tok_hex));
  if (ans == NULL)
    return NULL;
  if (!sp_vault_begin (vault, error))
    return NULL;
  ok = store_workspace (c, error) && state_set_secret (vault, "join/token", token, 32, error);
  if (!ok)
    {
      sp_vault_rollback (vault);
      return NULL;
    }
  if (!sp_vault_commit (vault, error))
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
relay_devices (Ctx *c, GError **error)
{
  g_autofree char *path = ws_path (c, "/devices");
  g_autoptr (JsonObject) ans = sync_http_json (c->http, "GET", path, NULL, NULL, NULL, error);
  g_autoptr (GArray) out = g_array_new (FALSE, TRUE, sizeof (RelayDevice));
  JsonNode *dn;
  JsonArray *arr;

  if (ans == NULL)
    return NULL;
  dn = json_object_get_member (ans, "devices");
  if (dn == NULL || !JSON_NODE_HOLDS_ARRAY (dn))
    {
      fail (error, SYNC_ERROR_MALFORMED, _ ("The relay sent an answer that is not valid"));
      return NULL;
    }
  arr = json_node_get_array (dn);
  for (guint i = 0; i < json_array_get_length (arr) && i < 10000; i++)
    {
      JsonNode *item = json_array_get_element (arr, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (item) ? json_node_get_object (item) : NULL;
      const char *id = json_str (o, "device", 64), *st = json_str (o, "status", 15);
      RelayDevice d = { 0 };

      if (id == NULL || !sync_id_is_valid (id) || st == NULL || !json_key (o, "sign_pk", d.sign_pk)
          || !json_key (o, "box_pk", d.box_pk) || !json_key (o, "auth_pk", d.auth_pk))
        {
          fail (error, SYNC_ERROR_MALFORMED, _ ("The relay sent an answer that is not valid"));
          return NULL;
        }
      g_strlcpy (d.id, id, sizeof d.id);
      g_strlcpy (d.status, st, sizeof d.status);
      {
        const char *inv = json_str (o, "invite", SYNC_HASH_HEX_LEN);
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
  g_autoptr (Ctx) c = ctx_load (vault, opts, error);
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
  if (!refresh_log (c, error) || !require_admin (c, error))
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
      g_autoptr (SpSecret) key = epoch_key (c, c->epoch);
      g_autofree char *body = NULL, *entry = NULL;
      gboolean raced;

      if (key == NULL)
        {
          fail (error, SYNC_ERROR_FAILED,
                _ ("This device does not hold the current workspace key"));
          return NULL;
        }
      begin_body (c, b, "add", c->epoch);
      add_member_keys (b, match->id, match->sign_pk, match->box_pk, match->auth_pk);
      json_builder_set_member_name (b, "admin");
      json_builder_add_boolean_value (b, FALSE);
      json_builder_set_member_name (b, "keys");
      json_builder_begin_object (b);
      add_sealed (b, match->id, match->box_pk, sp_secret_data (key));
      json_builder_end_object (b);
      json_builder_end_object (b);
      body = to_json (b);
      entry = log_sign (c, body);
      if (post_entry (c, entry, "add", match->id, &raced, error))
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
  fail (error, SYNC_ERROR_FAILED, _ ("The membership log keeps changing; try again"));
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
  g_autoptr (Ctx) c = ctx_load (vault, opts, error);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify)sync_device_free);
  g_autoptr (GArray) devs = NULL;
  g_autoptr (GList) members = NULL;

  if (c == NULL || !refresh_log (c, error) || (devs = relay_devices (c, error)) == NULL)
    return NULL;
  members = g_hash_table_get_values (c->members);
  for (GList *l = members; l; l = l->next)
    {
      const Member *m = l->data;
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
  g_autoptr (Ctx) c = ctx_load (vault, opts, error);

  if (c == NULL || !refresh_log (c, error) || !require_admin (c, error))
    return FALSE;
  for (guint attempt = 0; attempt < 5; attempt++)
    {
      Member *target = g_hash_table_lookup (c->members, device ? device : "");
      g_autoptr (SpSecret) old = epoch_key (c, c->epoch);
      g_autoptr (SpSecret) fresh = sp_secret_new (SYNC_KEY_BYTES);
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autofree char *body = NULL, *entry = NULL, *wrap64 = NULL;
      guint8 wrap[WRAP_LEN];
      GHashTableIter it;
      gpointer val;
      gboolean raced;

      if (target == NULL || target->removed_at)
        return fail (error, SYNC_ERROR_NOT_FOUND, _ ("No such device in the workspace"));
      if (strcmp (target->id, c->device) == 0)
        return fail (error, SYNC_ERROR_FAILED,
                     _ ("A device cannot remove itself; ask another admin"));
      if (old == NULL || fresh == NULL)
        return fail (error, SYNC_ERROR_FAILED,
                     _ ("This device does not hold the current workspace key"));
      randombytes_buf (sp_secret_data (fresh), SYNC_KEY_BYTES);
      randombytes_buf (wrap, crypto_secretbox_NONCEBYTES);
      crypto_secretbox_easy (wrap + crypto_secretbox_NONCEBYTES, sp_secret_data (old),
                             SYNC_KEY_BYTES, wrap, sp_secret_data (fresh));
      wrap64 = b64 (wrap, sizeof wrap);
      begin_body (c, b, "remove", c->epoch + 1);
      json_builder_set_member_name (b, "device");
      json_builder_add_string_value (b, target->id);
      json_builder_set_member_name (b, "wrap");
      json_builder_add_string_value (b, wrap64);
      json_builder_set_member_name (b, "keys");
      json_builder_begin_object (b);
      g_hash_table_iter_init (&it, c->members);
      while (g_hash_table_iter_next (&it, NULL, &val))
        {
          const Member *m = val;
          if (m->removed_at == 0 && m != target)
            add_sealed (b, m->id, m->box_pk, sp_secret_data (fresh));
        }
      json_builder_end_object (b);
      json_builder_end_object (b);
      body = to_json (b);
      entry = log_sign (c, body);
      if (post_entry (c, entry, "remove", target->id, &raced, error))
        return TRUE;
      if (!raced)
        return FALSE;
    }
  return fail (error, SYNC_ERROR_FAILED, _ ("The membership log keeps changing; try again"));
}

/* ---- Push ---- */

static GHashTable *
version_vector (Ctx *c, guint64 own_seq, GError **error)
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

      if (state_get_chain (c->vault, k, &seq, hash))
        g_hash_table_insert (vv, g_strdup (k + 6), g_memdup2 (&seq, sizeof seq));
    }
  if (own_seq)
    g_hash_table_insert (vv, g_strdup (c->device), g_memdup2 (&own_seq, sizeof own_seq));
  return g_steal_pointer (&vv);
}

/* Sends the sealed batch waiting in the outbox, if any, and records it. */
static gboolean
flush_outbox (Ctx *c, SyncReport *report, GError **error)
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
  path = ws_path (c, "/batches");
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
        return fail (error, SYNC_ERROR_CHAIN,
                     _ ("The relay holds a different batch under this device's next number; "
                        "this device's chain was forked (restored from an old copy?)"));
      g_set_error (error, SYNC_ERROR, SYNC_ERROR_REFUSED, _ ("The relay refused: HTTP %ld (%s)"),
                   status, code && strlen (code) < 40 ? code : "?");
      return FALSE;
    }
  last = state_get_int (c->vault, "outbox/last");
  sync_batch_hash (env, hash);
  if (!sp_vault_begin (c->vault, error))
    return FALSE;
  ok = state_set_chain (c->vault, "own/chain", info.seq, hash, error)
       && state_set_int (c->vault, "own/pushed", last, error)
       && sp_vault_sync_set (c->vault, "outbox", NULL, 0, error)
       && sp_vault_sync_set (c->vault, "outbox/last", NULL, 0, error);
  if (!ok)
    {
      sp_vault_rollback (c->vault);
      return FALSE;
    }
  if (!sp_vault_commit (c->vault, error))
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

static gboolean
push (Ctx *c, guint max_changes, SyncReport *report, GError **error)
{
  gint64 pushed, last_seq = 0;
  g_autoptr (GPtrArray) changes = NULL;
  g_autoptr (SpSecret) key = NULL;
  guint i = 0;

  if (!flush_outbox (c, report, error))
    return FALSE;
  pushed = state_get_int (c->vault, "own/pushed");
  changes = sp_vault_local_changes (c->vault, pushed, &last_seq, error);
  if (changes == NULL)
    return FALSE;
  if (changes->len == 0)
    return TRUE;
  key = epoch_key (c, c->epoch);
  if (key == NULL)
    return fail (error, SYNC_ERROR_FAILED,
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
      state_get_chain (c->vault, "own/chain", &own_seq, own_hash);
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
           && state_set_int (c->vault, "outbox/last", through, error);
      if (!ok)
        {
          sp_vault_rollback (c->vault);
          return FALSE;
        }
      if (!sp_vault_commit (c->vault, error) || !flush_outbox (c, report, error))
        return FALSE;
      if (report)
        report->pushed_changes += part->len;
    }
  return TRUE;
}

/* ---- Snapshots ----
 * A snapshot is every change the maker's vault holds, with the device chains it
 * had applied and the relay cursor they reach, sealed under the epoch key and
 * signed by an admin (docs/PROTOCOL.md):
 *
 *    0  magic "SPLS"     4 | 4 version 1, 3 zero | 8 workspace 16 | 24 device 16
 *   40  epoch u32        4 | 44 cursor u64  8    | 52 log_head 32 | 84 commitment 32
 *  116  nonce           24 | 140 ct_len u64 8    | 148 ciphertext | signature 64
 *
 * Associated data: bytes 0–147; the signature is over BLAKE2b-512 of all before it. */

#define SNAP_HEADER 148
#define SNAP_MAX_PLAIN (512u * 1024u * 1024u)
#define SNAP_MAX_BYTES (600u * 1024u * 1024u)

static void
snapshot_key (const guint8 epoch_key[SYNC_KEY_BYTES], const guint8 *header, guint8 out[32])
{
  crypto_generichash_state st;

  crypto_generichash_init (&st, epoch_key, SYNC_KEY_BYTES, 32);
  crypto_generichash_update (&st, (const guint8 *)"SPLK-snapshot-key-1", 19);
  crypto_generichash_update (&st, header + 8, 44); /* workspace, device, epoch, cursor */
  crypto_generichash_final (&st, out, 32);
}

static void
key_commit (const guint8 key[32], guint8 out[32])
{
  crypto_generichash (out, 32, (const guint8 *)"SPLK-key-commitment-1", 21, key, 32);
}

static char *
snapshot_json (Ctx *c, gint64 cursor, GError **error)
{
  g_autoptr (GPtrArray) changes = sp_vault_all_changes (c->vault, error);
  g_autoptr (GPtrArray) chains = changes ? sp_vault_sync_keys (c->vault, "chain/", error) : NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  guint64 seq;
  guint8 hash[SYNC_HASH_BYTES];

  if (chains == NULL)
    return NULL;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "cursor");
  json_builder_add_int_value (b, cursor);
  json_builder_set_member_name (b, "chains");
  json_builder_begin_object (b);
  for (guint i = 0; i <= chains->len; i++)
    {
      const char *key = i < chains->len ? chains->pdata[i] : "own/chain";
      const char *dev = i < chains->len ? key + 6 : c->device;
      g_autofree char *hex = NULL, *seq_s = NULL;

      if (!state_get_chain (c->vault, key, &seq, hash))
        continue;
      hex = sync_hex_encode (hash, sizeof hash);
      seq_s = g_strdup_printf ("%" G_GUINT64_FORMAT, seq);
      json_builder_set_member_name (b, dev);
      json_builder_begin_array (b);
      json_builder_add_string_value (b, seq_s);
      json_builder_add_string_value (b, hex);
      json_builder_end_array (b);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "changes");
  json_builder_begin_array (b);
  for (guint i = 0; i < changes->len; i++)
    {
      const SpChange *ch = changes->pdata[i];
      g_autofree char *hlc = g_strdup_printf ("%" G_GUINT64_FORMAT, ch->hlc);

      json_builder_begin_array (b);
      json_builder_add_string_value (b, ch->record);
      json_builder_add_string_value (b, ch->kind);
      json_builder_add_string_value (b, ch->field);
      if (ch->value)
        json_builder_add_string_value (b, ch->value);
      else
        json_builder_add_null_value (b);
      json_builder_add_string_value (b, hlc);
      json_builder_add_string_value (b, ch->supersedes ? ch->supersedes : "");
      json_builder_add_int_value (b, ch->tx);
      json_builder_add_string_value (b, ch->device);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return to_json (b);
}

gboolean
sync_snapshot_upload (SpVault *vault, gboolean prune, const SyncOptions *opts, GError **error)
{
  g_autoptr (Ctx) c = ctx_load (vault, opts, error);
  g_autoptr (SpSecret) ekey = NULL;
  g_autofree char *json = NULL, *path = NULL;
  g_autoptr (GBytes) packed = NULL;
  g_autoptr (JsonObject) ans = NULL;
  guint8 key[32], digest[64];
  guint8 *snap;
  gsize plen, total;
  gint64 cursor;

  if (c == NULL || !refresh_log (c, error) || !require_admin (c, error))
    return FALSE;
  ekey = epoch_key (c, c->epoch);
  if (ekey == NULL)
    return fail (error, SYNC_ERROR_FAILED,
                 _ ("This device does not hold the current workspace key"));
  /* Own changes must be on the relay before a snapshot may stand for them. */
  if (!push (c, BATCH_MAX_CHANGES, NULL, error))
    return FALSE;
  cursor = state_get_int (vault, "cursor");
  json = snapshot_json (c, cursor, error);
  if (json == NULL)
    return FALSE;
  packed = sync_deflate ((const guint8 *)json, strlen (json), SNAP_MAX_PLAIN, error);
  sodium_memzero (json, strlen (json));
  if (packed == NULL)
    return FALSE;
  plen = g_bytes_get_size (packed);
  total = SNAP_HEADER + plen + crypto_aead_xchacha20poly1305_ietf_ABYTES + 64;
  snap = g_malloc0 (total);
  memcpy (snap, "SPLS", 4);
  snap[4] = 1;
  memcpy (snap + 8, c->ws, 16);
  memcpy (snap + 24, c->dev_raw, 16);
  for (int i = 0; i < 4; i++)
    snap[40 + i] = (guint8)(c->epoch >> (8 * i));
  le64_put (snap + 44, (guint64)cursor);
  memcpy (snap + 52, c->head_hash, 32);
  snapshot_key (sp_secret_data (ekey), snap, key);
  key_commit (key, snap + 84);
  randombytes_buf (snap + 116, 24);
  le64_put (snap + 140, plen + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  crypto_aead_xchacha20poly1305_ietf_encrypt (snap + SNAP_HEADER, NULL,
                                              g_bytes_get_data (packed, NULL), plen, snap,
                                              SNAP_HEADER, NULL, snap + 116, key);
  sodium_memzero (key, sizeof key);
  crypto_generichash (digest, 64, snap, total - 64, NULL, 0);
  crypto_sign_detached (snap + total - 64, NULL, digest, 64, sp_secret_data (c->sign_sk));

  path = g_strdup_printf ("/v1/workspaces/%s/snapshot?cursor=%" G_GINT64_FORMAT, c->ws_hex, cursor);
  {
    g_autoptr (GBytes) answer = NULL;
    long status = 0;
    gboolean ok = sync_http_request (c->http, "PUT", path, snap, total, "application/octet-stream",
                                     &status, &answer, error);
    g_free (snap);
    if (!ok)
      return FALSE;
    if (status != 201 && status != 200)
      {
        g_set_error (error, SYNC_ERROR, SYNC_ERROR_REFUSED,
                     _ ("The relay refused the snapshot: HTTP %ld"), status);
        return FALSE;
      }
  }
  if (prune)
    {
      g_autofree char *body = g_strdup_printf ("{\"cursor\": %" G_GINT64_FORMAT "}", cursor);
      g_autofree char *ppath = ws_path (c, "/prune");

      ans = sync_http_json (c->http, "POST", ppath, body, NULL, NULL, error);
      if (ans == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
snap_bad (GError **error, const char *why)
{
  g_set_error (error, SYNC_ERROR, SYNC_ERROR_FORGED,
               _ ("The workspace snapshot from the relay does not verify (%s); nothing was "
                  "applied"),
               why);
  return FALSE;
}

static gboolean
parse_snapshot_change (JsonArray *a, SpChange *ch)
{
  JsonNode *v;
  const char *hlc_s;
  guint64 hlc;

  if (json_array_get_length (a) != 8)
    return FALSE;
  for (guint i = 0; i < 8; i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      if (i == 3 && JSON_NODE_HOLDS_NULL (n))
        continue;
      if (!JSON_NODE_HOLDS_VALUE (n)
          || json_node_get_value_type (n) != (i == 6 ? G_TYPE_INT64 : G_TYPE_STRING))
        return FALSE;
    }
  hlc_s = json_array_get_string_element (a, 4);
  if (!g_ascii_string_to_unsigned (hlc_s, 10, 1, G_MAXINT64, &hlc, NULL))
    return FALSE;
  v = json_array_get_element (a, 3);
  ch->record = g_strdup (json_array_get_string_element (a, 0));
  ch->kind = g_strdup (json_array_get_string_element (a, 1));
  ch->field = g_strdup (json_array_get_string_element (a, 2));
  ch->value = JSON_NODE_HOLDS_NULL (v) ? NULL : g_strdup (json_node_get_string (v));
  ch->hlc = hlc;
  ch->supersedes = g_strdup (json_array_get_string_element (a, 5));
  ch->tx = json_array_get_int_element (a, 6);
  ch->device = g_strdup (json_array_get_string_element (a, 7));
  return sync_id_is_valid (ch->device);
}

static void
change_free_cb (gpointer p)
{
  sp_change_free (p);
}

/* Downloads the workspace snapshot, verifies it and applies it: every change
 * of other devices, the chains it covers, and the cursor it reaches. */
static gboolean
apply_snapshot (Ctx *c, SyncReport *report, GError **error)
{
  g_autofree char *path = ws_path (c, "/snapshot");
  g_autoptr (GBytes) answer = NULL, plain = NULL;
  g_autoptr (SpSecret) ekey = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) changes = g_ptr_array_new_with_free_func (change_free_cb);
  g_autofree guint8 *packed = NULL;
  g_autofree char *signer_hex = NULL, *head_hex = NULL;
  const guint8 *d;
  guint8 key[32], commit[32], digest[64];
  const Member *signer;
  const gint64 *head_version;
  JsonObject *root, *chains;
  JsonNode *rn, *cn, *chn;
  JsonArray *arr;
  guint64 ct_len, cursor;
  guint32 epoch = 0;
  long status = 0;
  gsize len;
  GList *members = NULL;
  gboolean ok;

  if (!sync_http_request (c->http, "GET", path, NULL, 0, NULL, &status, &answer, error))
    return FALSE;
  if (status != 200)
    {
      g_set_error (error, SYNC_ERROR, SYNC_ERROR_REFUSED,
                   _ ("The relay pruned old batches but sends no snapshot (HTTP %ld)"), status);
      return FALSE;
    }
  d = g_bytes_get_data (answer, &len);
  if (len < SNAP_HEADER + crypto_aead_xchacha20poly1305_ietf_ABYTES + 64 || len > SNAP_MAX_BYTES
      || memcmp (d, "SPLS", 4) != 0 || d[4] != 1 || d[5] || d[6] || d[7])
    return snap_bad (error, "shape");
  ct_len = le64_get (d + 140);
  if (ct_len != len - SNAP_HEADER - 64 || memcmp (d + 8, c->ws, 16) != 0)
    return snap_bad (error, "length");
  for (int i = 0; i < 4; i++)
    epoch |= (guint32)d[40 + i] << (8 * i);
  cursor = le64_get (d + 44);
  signer_hex = sync_hex_encode (d + 24, 16);
  head_hex = sync_hex_encode (d + 52, 32);
  signer = g_hash_table_lookup (c->members, signer_hex);
  head_version = g_hash_table_lookup (c->log_heads, head_hex);
  crypto_generichash (digest, 64, d, len - 64, NULL, 0);
  if (signer == NULL || !signer->admin || head_version == NULL
      || (signer->removed_at && *head_version >= signer->removed_at)
      || crypto_sign_verify_detached (d + len - 64, digest, 64, signer->sign_pk) != 0)
    return snap_bad (error, "signature");
  ekey = epoch_key (c, epoch);
  if (ekey == NULL)
    return snap_bad (error, "key");
  snapshot_key (sp_secret_data (ekey), d, key);
  key_commit (key, commit);
  if (sodium_memcmp (commit, d + 84, 32) != 0)
    return snap_bad (error, "commitment");
  packed = g_malloc (ct_len);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt (packed, NULL, NULL, d + SNAP_HEADER, ct_len, d,
                                                  SNAP_HEADER, d + 116, key)
      != 0)
    {
      sodium_memzero (key, sizeof key);
      return snap_bad (error, "tag");
    }
  sodium_memzero (key, sizeof key);
  plain = sync_inflate (packed, ct_len - crypto_aead_xchacha20poly1305_ietf_ABYTES, SNAP_MAX_PLAIN,
                        error);
  if (plain == NULL)
    return FALSE;
  d = g_bytes_get_data (plain, &len);
  if (!g_utf8_validate ((const char *)d, (gssize)len, NULL)
      || !sync_json_nesting_ok ((const char *)d, len, 4)
      || !json_parser_load_from_data (parser, (const char *)d, (gssize)len, NULL)
      || (rn = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (rn))
    return snap_bad (error, "content");
  root = json_node_get_object (rn);
  cn = json_object_get_member (root, "changes");
  chn = json_object_get_member (root, "chains");
  {
    gint64 v, cur;
    if (!json_int (root, "v", &v) || v != 1 || !json_int (root, "cursor", &cur)
        || (guint64)cur != cursor || cn == NULL || !JSON_NODE_HOLDS_ARRAY (cn) || chn == NULL
        || !JSON_NODE_HOLDS_OBJECT (chn))
      return snap_bad (error, "content");
  }
  arr = json_node_get_array (cn);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonNode *n = json_array_get_element (arr, i);
      SpChange *ch = g_new0 (SpChange, 1);

      g_ptr_array_add (changes, ch);
      if (!JSON_NODE_HOLDS_ARRAY (n) || !parse_snapshot_change (json_node_get_array (n), ch))
        return snap_bad (error, "change");
      if (strcmp (ch->device, c->device) == 0)
        g_ptr_array_remove_index_fast (changes, changes->len - 1); /* ours: we have them */
    }
  chains = json_node_get_object (chn);
  members = json_object_get_members (chains);

  if (!sp_vault_begin (c->vault, error))
    {
      g_list_free (members);
      return FALSE;
    }
  ok = sp_vault_apply_changes (c->vault, changes, error);
  for (GList *l = members; ok && l; l = l->next)
    {
      const char *dev = l->data;
      JsonNode *n = json_object_get_member (chains, dev);
      JsonArray *pair = JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
      g_autofree char *key_name = g_strconcat ("chain/", dev, NULL);
      guint64 seq, have;
      guint8 hash[SYNC_HASH_BYTES], have_hash[SYNC_HASH_BYTES];
      JsonNode *s0, *s1;

      if (pair == NULL || json_array_get_length (pair) != 2 || !sync_id_is_valid (dev))
        {
          ok = snap_bad (error, "chains");
          break;
        }
      s0 = json_array_get_element (pair, 0);
      s1 = json_array_get_element (pair, 1);
      if (!JSON_NODE_HOLDS_VALUE (s0) || json_node_get_value_type (s0) != G_TYPE_STRING
          || !JSON_NODE_HOLDS_VALUE (s1) || json_node_get_value_type (s1) != G_TYPE_STRING
          || !g_ascii_string_to_unsigned (json_node_get_string (s0), 10, 1, G_MAXINT64, &seq, NULL)
          || !sync_hex_decode (json_node_get_string (s1), hash, sizeof hash, NULL))
        {
          ok = snap_bad (error, "chains");
          break;
        }
      if (strcmp (dev, c->device) == 0)
        continue;
      state_get_chain (c->vault, key_name, &have, have_hash);
      if (seq > have)
        ok = state_set_chain (c->vault, key_name, seq, hash, error);
    }
  g_list_free (members);
  if (ok && (gint64)cursor > state_get_int (c->vault, "cursor"))
    ok = state_set_int (c->vault, "cursor", (gint64)cursor, error);
  if (!ok)
    {
      sp_vault_rollback (c->vault);
      return FALSE;
    }
  if (!sp_vault_commit (c->vault, error))
    return FALSE;
  if (report)
    report->applied_changes += changes->len;
  return TRUE;
}

/* ---- Pull ---- */

typedef struct
{
  GHashTable *claimed; /* device -> highest seq some peer's vv says it applied */
} PullState;

static void
refuse (Ctx *c, SyncReport *report, const char *device, guint64 seq, const char *why)
{
  if (report)
    report->refused_batches++;
  problem (report, _ ("Batch %llu of device %.8s… was refused and not applied: %s"),
           (unsigned long long)seq, device, why);
  (void)c;
}

static gboolean
handle_batch (Ctx *c, const char *device, guint64 seq, GBytes *env, gint64 cursor,
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
  const Member *m;
  const gint64 *head_version;
  gboolean ok;

  if (report)
    report->pulled_batches++;
  if (!sync_batch_peek (env, &info, &local) || !sync_hex_decode (device, raw_dev, 16, NULL)
      || memcmp (info.device, raw_dev, 16) != 0 || info.seq != seq
      || memcmp (info.workspace, c->ws, 16) != 0)
    {
      refuse (c, report, device, seq, _ ("it is malformed or mislabelled"));
      return state_set_int (c->vault, "cursor", cursor, error);
    }
  state_get_chain (c->vault, chain_key, &last_seq, last_hash);
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
  else if ((key = epoch_key (c, info.epoch)) == NULL)
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
          return state_set_int (c->vault, "cursor", cursor, error);
        }
      ok = state_set_chain (c->vault, chain_key, seq, hash, error)
           && state_set_int (c->vault, "cursor", cursor, error)
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
  return state_set_int (c->vault, "cursor", cursor, error);
}

static gboolean
pull (Ctx *c, SyncReport *report, GError **error)
{
  PullState ps = { g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free) };
  static const long gone[] = { 410, 0 };
  gboolean ok = TRUE, more = TRUE;
  guint snapshots = 0;
  long status = 0;
  GHashTableIter it;
  gpointer k, v;

  for (guint page = 0; ok && more && page < 1000000; page++)
    {
      g_autofree char *path = NULL;
      g_autoptr (JsonObject) ans = NULL;
      gint64 cursor = state_get_int (c->vault, "cursor");
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
          if (snapshots++ > 0 || !apply_snapshot (c, report, error))
            {
              if (snapshots > 1)
                fail (error, SYNC_ERROR_MALFORMED,
                      _ ("The relay's snapshot does not reach its pruned history"));
              ok = FALSE;
              break;
            }
          more = TRUE;
          continue;
        }
      if (bn == NULL || !JSON_NODE_HOLDS_ARRAY (bn) || !json_bool (ans, "more", &more))
        {
          ok = fail (error, SYNC_ERROR_MALFORMED, _ ("The relay sent an answer that is not valid"));
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
      for (guint i = 0; ok && i < json_array_get_length (arr); i++)
        {
          JsonNode *item = json_array_get_element (arr, i);
          JsonObject *o = JSON_NODE_HOLDS_OBJECT (item) ? json_node_get_object (item) : NULL;
          const char *dev = json_str (o, "device", 64);
          const char *data = json_str (o, "data", (SYNC_ENVELOPE_MAX_LEN / 3 + 2) * 4);
          gint64 cur, seq;
          g_autofree guint8 *raw = NULL;
          size_t raw_len = 0;
          g_autoptr (GBytes) env = NULL;

          if (dev == NULL || !sync_id_is_valid (dev) || data == NULL
              || !json_int (o, "cursor", &cur) || !json_int (o, "seq", &seq) || cur <= cursor
              || seq < 1)
            {
              bad_item = TRUE; /* after what came before it is committed */
              break;
            }
          cursor = cur;
          raw = g_malloc (strlen (data) / 4 * 3 + 3);
          if (sodium_base642bin (raw, strlen (data) / 4 * 3 + 3, data, strlen (data), NULL,
                                 &raw_len, NULL, sodium_base64_VARIANT_ORIGINAL)
              != 0)
            {
              refuse (c, report, dev, (guint64)seq, _ ("it is malformed or mislabelled"));
              ok = state_set_int (c->vault, "cursor", cur, error);
              continue;
            }
          env = g_bytes_new_take (g_steal_pointer (&raw), raw_len);
          if (strcmp (dev, c->device) == 0)
            {
              ok = state_set_int (c->vault, "cursor", cur, error); /* our own */
              continue;
            }
          ok = handle_batch (c, dev, (guint64)seq, env, cur, report, &ps, error);
        }
      if (!ok)
        sp_vault_rollback (c->vault);
      else if (!sp_vault_commit (c->vault, error))
        ok = FALSE;
      else if (bad_item)
        ok = fail (error, SYNC_ERROR_MALFORMED, _ ("The relay sent an answer that is not valid"));
    }

  /* A peer applied batches the relay never handed us: withheld. */
  g_hash_table_iter_init (&it, ps.claimed);
  while (ok && g_hash_table_iter_next (&it, &k, &v))
    {
      g_autofree char *chain_key = g_strconcat ("chain/", (const char *)k, NULL);
      guint64 have;
      guint8 hash[SYNC_HASH_BYTES];

      if (strcmp (k, c->device) == 0 || !sync_id_is_valid (k))
        continue;
      state_get_chain (c->vault, chain_key, &have, hash);
      if (have < *(guint64 *)v)
        problem (report,
                 _ ("The relay has not delivered batches %llu–%llu of device %.8s… that another "
                    "device already has: it may be withholding them"),
                 (unsigned long long)(have + 1), (unsigned long long)*(guint64 *)v,
                 (const char *)k);
    }
  g_hash_table_unref (ps.claimed);
  return ok;
}

gboolean
sync_run (SpVault *vault, const SyncOptions *opts, SyncReport *report, GError **error)
{
  g_autoptr (Ctx) c = ctx_load (vault, opts, error);
  guint max_changes;
  Member *me;

  if (report)
    memset (report, 0, sizeof *report);
  if (c == NULL || !refresh_log (c, error))
    return FALSE;
  me = self_member (c);
  if (me == NULL)
    {
      if (report)
        report->waiting_for_approval = TRUE;
      return TRUE;
    }
  if (me->removed_at)
    return fail (error, SYNC_ERROR_REFUSED, _ ("This device was removed from the workspace"));
  max_changes = opts && opts->max_batch_changes ? MIN (opts->max_batch_changes, BATCH_MAX_CHANGES)
                                                : BATCH_MAX_CHANGES;
  if (!push (c, max_changes, report, error) || !pull (c, report, error))
    return FALSE;
  return state_set_int (vault, "last_sync", g_get_real_time () / G_USEC_PER_SEC, error);
}

/* ---- Fuzzing entry (tests/fuzz/fuzz-relay-answer.c) ----
 * Feeds hostile bytes to the parsers that take relay input without a vault:
 * JSON answers, membership-log entries (as the first entry and as a later one
 * under a known admin) and snapshot change rows. */
void sync_client_fuzz_answer (const guint8 *data, gsize len);

void
sync_client_fuzz_answer (const guint8 *data, gsize len)
{
  Ctx *c = g_new0 (Ctx, 1);
  g_autoptr (JsonObject) o = NULL;
  Member *admin = g_new0 (Member, 1);
  JsonNode *n;

  c->members = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  c->log_heads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  c->wraps
      = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)g_bytes_unref);
  g_strlcpy (c->ws_hex, "00112233445566778899aabbccddeeff", sizeof c->ws_hex);
  g_strlcpy (c->device, "ffeeddccbbaa99887766554433221100", sizeof c->device);
  memset (c->anchor, 7, sizeof c->anchor);
  apply_entry (c, 1, (const char *)data, len, NULL);

  g_strlcpy (admin->id, "0123456789abcdef0123456789abcdef", sizeof admin->id);
  memset (admin->sign_pk, 9, sizeof admin->sign_pk);
  admin->admin = TRUE;
  g_hash_table_insert (c->members, admin->id, admin);
  c->head = 1;
  c->epoch = 1;
  apply_entry (c, 2, (const char *)data, len, NULL);

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
            parse_snapshot_change (json_node_get_array (e), &ch);
          g_free (ch.record);
          g_free (ch.kind);
          g_free (ch.field);
          g_free (ch.value);
          g_free (ch.supersedes);
          g_free (ch.device);
        }
    }
  ctx_free (c);
}
