/* sync-travel.c — travel mode (docs/COMPARTMENTS.md, "Travel mode"): the
 * compartments not kept are sealed into a travel bundle under a key only the
 * return code gives, stored at the relay as this device's stash, and removed
 * from the vault; the return code brings them back and rescans their history.
 *
 * Return code: 16 random bytes T as 12 words of the BIP-39 English list
 * (words.txt), 11 bits a word, the last 4 bits the first 4 of SHA-256(T), as
 * BIP-39 encodes 128 bits. Stash: "SPLT" ‖ 1 ‖ nonce (24) ‖ secretbox(key,
 * bundle JSON padded to 4 KiB steps), key = BLAKE2b-256 keyed with T over
 * "SPLK-travel-1" ‖ workspace ‖ device.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "sync-client-private.h"

extern const char *const sync_words[];
extern const guint sync_words_len;

#define TRAVEL_T_BYTES 16
#define TRAVEL_WORDS 12
#define STASH_MAX (256 * 1024)
#define STASH_HEAD (4 + 1 + crypto_secretbox_NONCEBYTES)

/* ---- The return code ---- */

char *
sync_travel_code_format (const guint8 t[TRAVEL_T_BYTES])
{
  guint8 sum[crypto_hash_sha256_BYTES];
  guint8 bits[TRAVEL_T_BYTES + 1];
  GString *out = g_string_new (NULL);

  crypto_hash_sha256 (sum, t, TRAVEL_T_BYTES);
  memcpy (bits, t, TRAVEL_T_BYTES);
  bits[TRAVEL_T_BYTES] = sum[0] & 0xf0;
  for (guint w = 0; w < TRAVEL_WORDS; w++)
    {
      guint idx = 0;
      for (guint b = 0; b < 11; b++)
        {
          guint bit = w * 11 + b;
          idx = (idx << 1) | ((bits[bit / 8] >> (7 - bit % 8)) & 1);
        }
      g_string_append_printf (out, "%s%s", w ? " " : "", sync_words[idx]);
    }
  sodium_memzero (bits, sizeof bits);
  return g_string_free (out, FALSE);
}

/* A word of the list, or (as BIP-39 allows) its first four letters. */
static gint
word_index (const char *word)
{
  gsize len = strlen (word);

  for (guint i = 0; i < sync_words_len; i++)
    if (strcmp (sync_words[i], word) == 0
        || (len == 4 && strlen (sync_words[i]) > 4 && strncmp (sync_words[i], word, 4) == 0))
      return (gint)i;
  return -1;
}

gboolean
sync_travel_code_parse (const char *code, guint8 t[TRAVEL_T_BYTES], GError **error)
{
  g_autofree char *lower = g_ascii_strdown (code ? code : "", -1);
  g_auto (GStrv) parts = NULL;
  guint8 bits[TRAVEL_T_BYTES + 1] = { 0 };
  guint8 sum[crypto_hash_sha256_BYTES];
  guint n = 0;

  g_strdelimit (lower, "-,.;:\t\r\n", ' ');
  parts = g_strsplit (lower, " ", -1);
  for (guint i = 0; parts[i]; i++)
    {
      gint idx;

      if (parts[i][0] == '\0')
        continue;
      if (n == TRAVEL_WORDS || (idx = word_index (parts[i])) < 0)
        {
          g_set_error (error, SYNC_ERROR, SYNC_ERROR_FAILED,
                       n == TRAVEL_WORDS ? _ ("A return code has exactly 12 words")
                                         : _ ("Word %u of the return code is not in its word list"),
                       n + 1);
          return FALSE;
        }
      for (guint b = 0; b < 11; b++)
        {
          guint bit = n * 11 + b;
          if ((idx >> (10 - b)) & 1)
            bits[bit / 8] |= (guint8)(1 << (7 - bit % 8));
        }
      n++;
    }
  if (n != TRAVEL_WORDS)
    return sync_fail (error, SYNC_ERROR_FAILED, _ ("A return code has exactly 12 words"));
  crypto_hash_sha256 (sum, bits, TRAVEL_T_BYTES);
  if ((sum[0] & 0xf0) != bits[TRAVEL_T_BYTES])
    {
      sodium_memzero (bits, sizeof bits);
      return sync_fail (error, SYNC_ERROR_FAILED,
                        _ ("The return code's check does not match: a word is mistyped or out of "
                           "order"));
    }
  memcpy (t, bits, TRAVEL_T_BYTES);
  sodium_memzero (bits, sizeof bits);
  return TRUE;
}

static void
travel_key (SyncCtx *c, const guint8 t[TRAVEL_T_BYTES], guint8 key[SYNC_KEY_BYTES])
{
  crypto_generichash_state st;

  crypto_generichash_init (&st, t, TRAVEL_T_BYTES, SYNC_KEY_BYTES);
  crypto_generichash_update (&st, (const guint8 *)"SPLK-travel-1", 13);
  crypto_generichash_update (&st, c->ws, SYNC_ID_BYTES);
  crypto_generichash_update (&st, c->dev_raw, SYNC_ID_BYTES);
  crypto_generichash_final (&st, key, SYNC_KEY_BYTES);
}

/* ---- The stash at the relay ---- */

static gboolean
stash_request (SyncCtx *c, const char *method, GBytes *body, GBytes **answer, long *status,
               GError **error)
{
  g_autofree char *path = sync_ws_path (c, "/stash");

  return sync_http_request (c->http, method, path, body ? g_bytes_get_data (body, NULL) : NULL,
                            body ? g_bytes_get_size (body) : 0, "application/octet-stream", status,
                            answer, error);
}

static gboolean
stash_expect (long status, long want, GError **error)
{
  if (status == want)
    return TRUE;
  g_set_error (error, SYNC_ERROR, SYNC_ERROR_REFUSED, _ ("The relay refused: HTTP %ld (%s)"),
               status, "stash");
  return FALSE;
}

static GBytes *
stash_seal (SyncCtx *c, const char *json, const guint8 t[TRAVEL_T_BYTES], GError **error)
{
  gsize padded = (strlen (json) + 4095) / 4096 * 4096;
  gsize total = STASH_HEAD + padded + crypto_secretbox_MACBYTES;
  g_autofree guint8 *plain = g_malloc0 (padded);
  guint8 *out;
  guint8 key[SYNC_KEY_BYTES];

  if (total > STASH_MAX)
    {
      sync_fail (error, SYNC_ERROR_FAILED, _ ("Too much to leave behind in one travel stash"));
      return NULL;
    }
  memset (plain, ' ', padded); /* white space after JSON is still JSON */
  memcpy (plain, json, strlen (json));
  out = g_malloc (total);
  memcpy (out, "SPLT\1", 5);
  randombytes_buf (out + 5, crypto_secretbox_NONCEBYTES);
  travel_key (c, t, key);
  crypto_secretbox_easy (out + STASH_HEAD, plain, padded, out + 5, key);
  sodium_memzero (key, sizeof key);
  sodium_memzero (plain, padded);
  return g_bytes_new_take (out, total);
}

/* The bundle's JSON, or NULL (nothing changed) for a wrong code. */
static char *
stash_open (SyncCtx *c, GBytes *blob, const guint8 t[TRAVEL_T_BYTES], GError **error)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (blob, &len);
  guint8 key[SYNC_KEY_BYTES];
  char *plain;
  gboolean ok;

  if (len < STASH_HEAD + crypto_secretbox_MACBYTES || len > STASH_MAX
      || memcmp (d, "SPLT\1", 5) != 0)
    {
      sync_fail (error, SYNC_ERROR_MALFORMED, _ ("This device's travel stash is damaged"));
      return NULL;
    }
  plain = g_malloc0 (len - STASH_HEAD - crypto_secretbox_MACBYTES + 1);
  travel_key (c, t, key);
  ok = crypto_secretbox_open_easy ((guint8 *)plain, d + STASH_HEAD, len - STASH_HEAD, d + 5, key)
       == 0;
  sodium_memzero (key, sizeof key);
  if (!ok)
    {
      g_free (plain);
      sync_fail (error, SYNC_ERROR_FAILED,
                 _ ("This return code does not open this device's travel stash; nothing was "
                    "changed"));
      return NULL;
    }
  return plain;
}

/* ---- The bundle ---- */

static void
add_b64 (JsonBuilder *b, const char *name, const guint8 *data, gsize len)
{
  g_autofree char *s = sync_b64 (data, len);

  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, s);
  sodium_memzero (s, strlen (s));
}

/* Every compartment box key this device has: the current one, then old ones. */
static gboolean
bundle_cbox (SyncCtx *c, JsonBuilder *b, GError **error)
{
  g_autoptr (GPtrArray) old = sp_vault_sync_keys (c->vault, "dev/cbox_old/", error);

  if (old == NULL)
    return FALSE;
  json_builder_set_member_name (b, "cbox");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  add_b64 (b, "pk", c->cbox_pk, 32);
  add_b64 (b, "sk", sp_secret_data (c->cbox_sk), 32);
  json_builder_end_object (b);
  for (guint i = 0; i < old->len; i++)
    {
      g_autoptr (SpSecret) sk = sp_vault_sync_get_secret (c->vault, old->pdata[i], NULL);
      guint8 pk[32];

      if (sk == NULL || sp_secret_len (sk) != 32
          || !sync_hex_decode ((const char *)old->pdata[i] + strlen ("dev/cbox_old/"), pk, 32,
                               NULL))
        continue;
      json_builder_begin_object (b);
      add_b64 (b, "pk", pk, 32);
      add_b64 (b, "sk", sp_secret_data (sk), 32);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return TRUE;
}

/* One compartment left behind: cid, name, every key held. */
static gboolean
bundle_comp (SyncCtx *c, JsonBuilder *b, const SpCompartment *sc, GError **error)
{
  g_autofree char *prefix = g_strdup_printf ("ckey/%s/", sc->uid);
  g_autoptr (GPtrArray) keys = sp_vault_sync_keys (c->vault, prefix, error);

  if (keys == NULL)
    return FALSE;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "cid");
  json_builder_add_string_value (b, sc->uid);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, sc->name);
  json_builder_set_member_name (b, "keys");
  json_builder_begin_object (b);
  for (guint i = 0; i < keys->len; i++)
    {
      const char *epoch = (const char *)keys->pdata[i] + strlen (prefix);
      g_autoptr (SpSecret) k = sp_vault_sync_get_secret (c->vault, keys->pdata[i], NULL);

      if (k && sp_secret_len (k) == SYNC_KEY_BYTES)
        add_b64 (b, epoch, sp_secret_data (k), SYNC_KEY_BYTES);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  return TRUE;
}

static char *
bundle_json (SyncCtx *c, GPtrArray *dropped, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "ws");
  json_builder_add_string_value (b, c->ws_hex);
  json_builder_set_member_name (b, "device");
  json_builder_add_string_value (b, c->device);
  if (!bundle_cbox (c, b, error))
    return NULL;
  json_builder_set_member_name (b, "comps");
  json_builder_begin_array (b);
  for (guint i = 0; i < dropped->len; i++)
    if (!bundle_comp (c, b, dropped->pdata[i], error))
      return NULL;
  json_builder_end_array (b);
  json_builder_end_object (b);
  return sync_to_json (b);
}

/* ---- Start ---- */

/* Refuses while anything of this device is unsent, naming the records. */
static gboolean
nothing_unsent (SyncCtx *c, GError **error)
{
  gint64 pushed = sync_state_get_int (c->vault, "own/pushed"), last = 0;
  g_autoptr (GBytes) outbox = sp_vault_sync_get (c->vault, "outbox", NULL);
  g_autoptr (GPtrArray) changes = sp_vault_local_changes (c->vault, pushed, &last, error);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GString) list = g_string_new (NULL);

  if (changes == NULL)
    return FALSE;
  if (changes->len == 0 && outbox == NULL)
    return TRUE;
  for (guint i = 0; i < changes->len && g_hash_table_size (seen) < 10; i++)
    {
      const SpChange *ch = changes->pdata[i];
      g_autoptr (SpRecord) rec = NULL;

      if (!g_hash_table_add (seen, ch->record))
        continue;
      rec = sp_vault_get (c->vault, ch->record, NULL);
      g_string_append_printf (list, "%s%s (%s)", list->len ? ", " : "",
                              rec ? sp_record_get_title (rec) : "?", ch->record);
    }
  g_set_error (error, SYNC_ERROR, SYNC_ERROR_FAILED,
               g_dngettext (GETTEXT_PACKAGE,
                            "%u change on this device is not sent yet (%s); sync first, then "
                            "start travel",
                            "%u changes on this device are not sent yet (%s); sync first, then "
                            "start travel",
                            MAX (changes->len, 1)),
               MAX (changes->len, 1), list->len ? list->str : _ ("a batch in the outbox"));
  return FALSE;
}

/* The held compartments not in @keep; refuses one this device alone has. */
static GPtrArray *
compartments_to_leave (SyncCtx *c, const char *const *keep, GError **error)
{
  g_autoptr (GPtrArray) held = sp_vault_compartments (c->vault, error);
  g_autoptr (GPtrArray) out = NULL;

  if (held == NULL)
    return NULL;
  for (guint k = 0; keep && keep[k]; k++)
    if (sp_vault_compartment_lookup (c->vault, keep[k], error) < 0)
      return NULL;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify)sp_compartment_free);
  for (guint i = 0; i < held->len; i++)
    {
      SpCompartment *sc = held->pdata[i];
      gboolean kept = sc->id == 0;

      for (guint k = 0; !kept && keep && keep[k]; k++)
        kept = sp_vault_compartment_lookup (c->vault, keep[k], NULL) == sc->id;
      if (kept)
        continue;
      if (!g_hash_table_contains (c->comps, sc->uid))
        {
          g_set_error (error, SYNC_ERROR, SYNC_ERROR_FAILED,
                       _ ("The compartment “%s” exists only on this device: keep it, or have it "
                          "created in the workspace first"),
                       sc->name);
          return NULL;
        }
      g_ptr_array_add (out, g_steal_pointer (&held->pdata[i]));
    }
  return g_steal_pointer (&out);
}

/* Purges what is left behind, their keys and the compartment box keys;
 * a new box key is made for grants during the journey. */
static gboolean
leave_behind (SyncCtx *c, GPtrArray *dropped, GError **error)
{
  g_autoptr (GPtrArray) old = sp_vault_sync_keys (c->vault, "dev/cbox_old/", error);
  gboolean ok = old != NULL && sp_vault_begin (c->vault, error);

  if (!ok)
    return FALSE;
  for (guint i = 0; ok && i < dropped->len; i++)
    {
      const SpCompartment *sc = dropped->pdata[i];
      ok = sp_vault_compartment_purge (c->vault, sc->id, error)
           && sync_comp_forget_keys (c, sc->uid, error);
    }
  for (guint i = 0; ok && i < old->len; i++)
    ok = sp_vault_sync_set (c->vault, old->pdata[i], NULL, 0, error);
  ok = ok && sp_vault_sync_set (c->vault, "dev/cbox_sk", NULL, 0, error)
       && sp_vault_sync_set (c->vault, "dev/cbox_pk", NULL, 0, error)
       && sp_vault_sync_set (c->vault, "own/cbox_sent", NULL, 0, error);
  if (!sync_vault_end (c->vault, ok, error))
    return FALSE;
  g_clear_pointer (&c->cbox_sk, sp_secret_free);
  return sync_cbox_ensure (c, error) && sp_vault_compact (c->vault, error);
}

gboolean
sync_travel_start (SpVault *vault, const char *const *keep, const SyncOptions *opts,
                   char **return_code, GError **error)
{
  g_autoptr (SyncCtx) c = sync_ctx_load (vault, opts, error);
  g_autoptr (GPtrArray) dropped = NULL;
  g_autoptr (GBytes) answer = NULL, blob = NULL;
  g_autofree char *json = NULL;
  guint8 t[TRAVEL_T_BYTES];
  long status = 0;

  *return_code = NULL;
  if (c == NULL || !sync_log_refresh (c, error))
    return FALSE;
  if (sync_self_member (c) == NULL || sync_self_member (c)->removed_at)
    return sync_fail (error, SYNC_ERROR_REFUSED,
                      _ ("This device is not a member of the workspace"));
  if (!sync_cbox_ensure (c, error) || !sync_comps_reconcile (c, NULL, error)
      || !nothing_unsent (c, error) || (dropped = compartments_to_leave (c, keep, error)) == NULL)
    return FALSE;
  if (!stash_request (c, "GET", NULL, &answer, &status, error))
    return FALSE;
  if (status != 404)
    return status == 200 ? sync_fail (error, SYNC_ERROR_FAILED,
                                      _ ("This device already left a travel stash: end that "
                                         "journey first"))
                         : stash_expect (status, 404, error);
  json = bundle_json (c, dropped, error);
  if (json == NULL)
    return FALSE;
  randombytes_buf (t, sizeof t);
  blob = stash_seal (c, json, t, error);
  sodium_memzero (json, strlen (json));
  g_clear_pointer (&answer, g_bytes_unref);
  if (blob == NULL || !stash_request (c, "PUT", blob, &answer, &status, error)
      || !stash_expect (status, 201, error) || !leave_behind (c, dropped, error))
    {
      sodium_memzero (t, sizeof t);
      return FALSE;
    }
  *return_code = sync_travel_code_format (t);
  sodium_memzero (t, sizeof t);
  return TRUE;
}

/* ---- End ---- */

/* Stores the bundle's box keys (as old ones) and compartment keys. */
static gboolean
restore_keys (SyncCtx *c, JsonObject *bundle, GPtrArray *cids, GError **error)
{
  JsonNode *bn = json_object_get_member (bundle, "cbox");
  JsonNode *cn = json_object_get_member (bundle, "comps");
  JsonArray *boxes, *comps;
  gboolean ok = TRUE;

  if (bn == NULL || !JSON_NODE_HOLDS_ARRAY (bn) || cn == NULL || !JSON_NODE_HOLDS_ARRAY (cn))
    return sync_fail (error, SYNC_ERROR_MALFORMED, _ ("This device's travel stash is damaged"));
  boxes = json_node_get_array (bn);
  comps = json_node_get_array (cn);
  for (guint i = 0; ok && i < json_array_get_length (boxes); i++)
    {
      JsonObject *o = json_array_get_object_element (boxes, i);
      guint8 pk[32], sk[32];
      g_autofree char *name = NULL, *hex = NULL;

      if (!sync_json_key (o, "pk", pk) || !sync_json_key (o, "sk", sk))
        return sync_fail (error, SYNC_ERROR_MALFORMED, _ ("This device's travel stash is damaged"));
      hex = sync_hex_encode (pk, 32);
      name = g_strconcat ("dev/cbox_old/", hex, NULL);
      ok = sodium_memcmp (pk, c->cbox_pk, 32) == 0
           || sync_state_set_secret (c->vault, name, sk, 32, error);
      sodium_memzero (sk, sizeof sk);
    }
  for (guint i = 0; ok && i < json_array_get_length (comps); i++)
    {
      JsonObject *o = json_array_get_object_element (comps, i);
      const char *cid = sync_json_str (o, "cid", 64);
      JsonNode *kn = o ? json_object_get_member (o, "keys") : NULL;
      g_autoptr (GList) epochs = NULL;

      if (cid == NULL || !sync_id_is_valid (cid) || kn == NULL || !JSON_NODE_HOLDS_OBJECT (kn))
        return sync_fail (error, SYNC_ERROR_MALFORMED, _ ("This device's travel stash is damaged"));
      g_ptr_array_add (cids, g_strdup (cid));
      epochs = json_object_get_members (json_node_get_object (kn));
      for (GList *l = epochs; ok && l; l = l->next)
        {
          guint64 e;
          guint8 key[SYNC_KEY_BYTES];
          g_autofree char *name = NULL;

          if (!g_ascii_string_to_unsigned (l->data, 10, 1, G_MAXUINT32, &e, NULL)
              || !sync_json_key (json_node_get_object (kn), l->data, key))
            return sync_fail (error, SYNC_ERROR_MALFORMED,
                              _ ("This device's travel stash is damaged"));
          name = g_strdup_printf ("ckey/%s/%010u", cid, (guint32)e);
          ok = sync_state_set_secret (c->vault, name, key, SYNC_KEY_BYTES, error);
          sodium_memzero (key, sizeof key);
        }
    }
  return ok;
}

/* Keys of a compartment this device no longer holds (revoked meanwhile)
 * are not kept. */
static gboolean
drop_stale (SyncCtx *c, GPtrArray *cids, GError **error)
{
  for (guint i = 0; i < cids->len; i++)
    if (sp_vault_compartment_lookup_uid (c->vault, cids->pdata[i], NULL) < 0
        && !sync_comp_forget_keys (c, cids->pdata[i], error))
      return FALSE;
  return TRUE;
}

gboolean
sync_travel_end (SpVault *vault, const char *code, const SyncOptions *opts, GError **error)
{
  g_autoptr (SyncCtx) c = NULL;
  g_autoptr (GBytes) blob = NULL, answer = NULL;
  g_autoptr (GPtrArray) cids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (JsonObject) bundle = NULL;
  g_autofree char *json = NULL;
  SyncReport report = { 0 };
  guint8 t[TRAVEL_T_BYTES];
  long status = 0;
  gboolean ok;

  if (!sync_travel_code_parse (code, t, error))
    return FALSE; /* before anything else: a mistyped code changes nothing */
  c = sync_ctx_load (vault, opts, error);
  if (c == NULL || !sync_log_refresh (c, error) || !sync_cbox_ensure (c, error)
      || !stash_request (c, "GET", NULL, &blob, &status, error))
    return FALSE;
  if (status == 404)
    return sync_fail (error, SYNC_ERROR_NOT_FOUND, _ ("This device has no travel stash"));
  if (!stash_expect (status, 200, error))
    return FALSE;
  json = stash_open (c, blob, t, error);
  sodium_memzero (t, sizeof t);
  if (json == NULL)
    return FALSE;
  bundle = sync_parse_json_object ((const guint8 *)json, strlen (json), STASH_MAX, NULL);
  sodium_memzero (json, strlen (json));
  if (bundle == NULL || g_strcmp0 (sync_json_str (bundle, "ws", 64), c->ws_hex) != 0
      || g_strcmp0 (sync_json_str (bundle, "device", 64), c->device) != 0)
    return sync_fail (error, SYNC_ERROR_MALFORMED, _ ("This device's travel stash is damaged"));
  if (!sp_vault_begin (vault, error))
    return FALSE;
  ok = restore_keys (c, bundle, cids, error);
  if (!sync_vault_end (vault, ok, error))
    return FALSE;
  /* The compartments come back with their keys, then their history. */
  ok = sync_comps_reconcile (c, &report, error) && drop_stale (c, cids, error)
       && sync_push (c, BATCH_MAX_CHANGES, &report, error) && sync_pull (c, &report, error)
       && sync_rescan (c, &report, error);
  sync_report_clear (&report);
  g_clear_pointer (&answer, g_bytes_unref);
  return ok && stash_request (c, "DELETE", NULL, &answer, &status, error)
         && stash_expect (status, 200, error);
}
