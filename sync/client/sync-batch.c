/* Batches of changes: serialise, compress, pad, encrypt, commit, sign — and
 * the reverse, treating every byte as hostile.
 *
 * Envelope (little-endian), as the relay sees it:
 *   0   4  magic "SPLB"          8   16 workspace id      40  4  epoch
 *   4   1  version (1)           24  16 device id         44  8  seq
 *   5   3  zero                  52  32 prev_hash         84  32 log_head
 *   116 32 key commitment  — bytes 0..147 are the header (AEAD associated data)
 *   148 24 nonce
 *   172 4  ciphertext length n
 *   176 n  ciphertext (XChaCha20-Poly1305, tag included)
 *   176+n 64 Ed25519 signature over BLAKE2b-512(bytes 0 .. 176+n-1)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <gio/gio.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>

#include "sync-batch.h"

#define OFF_EPOCH 40
#define OFF_SEQ 44
#define OFF_PREV 52
#define OFF_HEAD 84
#define OFF_COMMIT 116
#define HEADER_LEN 148
#define OFF_NONCE 148
#define OFF_CTLEN 172
#define OFF_CT 176
#define SIG_LEN 64
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define MAX_CHANGES 100000

static void
put_le32 (guint8 *p, guint32 v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (guint8)(v >> (8 * i));
}

static void
put_le64 (guint8 *p, guint64 v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (guint8)(v >> (8 * i));
}

static guint32
get_le32 (const guint8 *p)
{
  return (guint32)p[0] | ((guint32)p[1] << 8) | ((guint32)p[2] << 16) | ((guint32)p[3] << 24);
}

static guint64
get_le64 (const guint8 *p)
{
  guint64 v = 0;

  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

gsize
sync_pad_length (gsize n)
{
  gsize e, s, mask, padme;

  if (n < 2)
    return 1024;
  e = (gsize)g_bit_nth_msf (n, -1);     /* floor(log2 n) */
  s = (gsize)g_bit_nth_msf (e, -1) + 1; /* floor(log2 e) + 1 */
  mask = (e > s) ? (((gsize)1 << (e - s)) - 1) : 0;
  padme = (n + mask) & ~mask;
  return (padme + 1023) / 1024 * 1024;
}

static void
derive_batch_key (const guint8 epoch_key[SYNC_KEY_BYTES], const guint8 *header,
                  guint8 key[SYNC_KEY_BYTES])
{
  crypto_generichash_state st;

  /* Keyed BLAKE2b, as crypto_kdf, over everything that names this batch. */
  crypto_generichash_init (&st, epoch_key, SYNC_KEY_BYTES, SYNC_KEY_BYTES);
  crypto_generichash_update (&st, (const guint8 *)"SPLK-batch-key-1", 16);
  crypto_generichash_update (&st, header + 8, OFF_PREV - 8); /* workspace, device, epoch, seq */
  crypto_generichash_final (&st, key, SYNC_KEY_BYTES);
}

static void
key_commitment (const guint8 key[SYNC_KEY_BYTES], guint8 out[SYNC_HASH_BYTES])
{
  crypto_generichash (out, SYNC_HASH_BYTES, (const guint8 *)"SPLK-key-commitment-1", 21, key,
                      SYNC_KEY_BYTES);
}

static void
signed_digest (const guint8 *data, gsize len, guint8 out[64])
{
  crypto_generichash (out, 64, data, len, NULL, 0);
}

void
sync_batch_free (SyncBatch *batch)
{
  if (batch == NULL)
    return;
  g_clear_pointer (&batch->changes, g_ptr_array_unref);
  g_clear_pointer (&batch->vv, g_hash_table_unref);
  g_free (batch);
}

void
sync_batch_hash (GBytes *envelope, guint8 out[SYNC_HASH_BYTES])
{
  gsize len;
  const guint8 *data = g_bytes_get_data (envelope, &len);

  crypto_generichash (out, SYNC_HASH_BYTES, data, len, NULL, 0);
}

/* ---- Serialisation ---- */

static void
serialise_inner (JsonBuilder *b, const SyncBatchInner *inner)
{
  if (inner && inner->cid && inner->cid[0])
    {
      json_builder_set_member_name (b, "c");
      json_builder_add_string_value (b, inner->cid);
      json_builder_set_member_name (b, "ce");
      json_builder_add_int_value (b, inner->cepoch);
    }
  if (inner && inner->cbox_pk)
    {
      char b64[sodium_base64_ENCODED_LEN (32, sodium_base64_VARIANT_ORIGINAL)];

      sodium_bin2base64 (b64, sizeof b64, inner->cbox_pk, 32, sodium_base64_VARIANT_ORIGINAL);
      json_builder_set_member_name (b, "dev");
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "cbox");
      json_builder_add_string_value (b, b64);
      json_builder_end_object (b);
    }
}

static char *
serialise (const SyncBatchInfo *info, GPtrArray *changes, GHashTable *vv,
           const SyncBatchInner *inner, gsize *len)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  GHashTableIter it;
  gpointer k, v;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, 1);
  serialise_inner (b, inner);
  json_builder_set_member_name (b, "vv");
  json_builder_begin_object (b);
  if (vv)
    {
      g_hash_table_iter_init (&it, vv);
      while (g_hash_table_iter_next (&it, &k, &v))
        {
          g_autofree char *s = g_strdup_printf ("%" G_GUINT64_FORMAT, *(guint64 *)v);
          json_builder_set_member_name (b, k);
          json_builder_add_string_value (b, s);
        }
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "changes");
  json_builder_begin_array (b);
  for (guint i = 0; i < changes->len; i++)
    {
      const SpChange *c = changes->pdata[i];
      g_autofree char *hlc = g_strdup_printf ("%" G_GUINT64_FORMAT, c->hlc);

      json_builder_begin_array (b);
      json_builder_add_string_value (b, c->record);
      json_builder_add_string_value (b, c->kind);
      json_builder_add_string_value (b, c->field);
      if (c->value)
        json_builder_add_string_value (b, c->value);
      else
        json_builder_add_null_value (b);
      json_builder_add_string_value (b, hlc);
      json_builder_add_string_value (b, c->supersedes ? c->supersedes : "");
      json_builder_add_int_value (b, c->tx);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, len);
}

static gboolean
malformed (GError **error, const char *what)
{
  g_set_error (error, SYNC_ERROR, SYNC_ERROR_MALFORMED, _ ("A received batch is malformed (%s)"),
               what);
  return FALSE;
}

static gboolean
parse_u64 (JsonNode *node, guint64 *out)
{
  const char *s;

  if (node == NULL || JSON_NODE_HOLDS_VALUE (node) == FALSE
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;
  s = json_node_get_string (node);
  return g_ascii_string_to_unsigned (s, 10, 0, G_MAXUINT64, out, NULL);
}

static const char *
get_str (JsonArray *a, guint i)
{
  JsonNode *n = json_array_get_element (a, i);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static void
change_free_cb (gpointer p)
{
  sp_change_free (p);
}

/* The batch JSON is three levels deep; json-glib recurses without a limit, so
 * deeper input is refused before it reaches the parser. */
gboolean
sync_json_nesting_ok (const char *data, gsize len, int max_depth)
{
  int depth = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < len; i++)
    {
      char c = data[i];
      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if ((c == '[' || c == '{') && ++depth > max_depth)
        return FALSE;
      else if (c == ']' || c == '}')
        depth--;
    }
  return TRUE;
}

/* "c" and "ce" together or neither; "dev" only in a main batch. */
static gboolean
deserialise_inner (JsonObject *root, SyncBatch *batch)
{
  JsonNode *c = json_object_get_member (root, "c");
  JsonNode *ce = json_object_get_member (root, "ce");
  JsonNode *dev = json_object_get_member (root, "dev");

  if ((c == NULL) != (ce == NULL))
    return FALSE;
  if (c)
    {
      const char *cid;
      gint64 e;

      if (!JSON_NODE_HOLDS_VALUE (c) || json_node_get_value_type (c) != G_TYPE_STRING
          || !JSON_NODE_HOLDS_VALUE (ce) || json_node_get_value_type (ce) != G_TYPE_INT64)
        return FALSE;
      cid = json_node_get_string (c);
      e = json_node_get_int (ce);
      if (!sp_id_is_valid (cid) || e < 1 || e > G_MAXUINT32)
        return FALSE;
      g_strlcpy (batch->cid, cid, sizeof batch->cid);
      batch->cepoch = (guint32)e;
    }
  if (dev)
    {
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (dev) ? json_node_get_object (dev) : NULL;
      JsonNode *k = o ? json_object_get_member (o, "cbox") : NULL;
      const char *b64;
      size_t n = 0;

      if (c || k == NULL || !JSON_NODE_HOLDS_VALUE (k)
          || json_node_get_value_type (k) != G_TYPE_STRING)
        return FALSE;
      b64 = json_node_get_string (k);
      if (strlen (b64) > 64
          || sodium_base642bin (batch->cbox_pk, 32, b64, strlen (b64), NULL, &n, NULL,
                                sodium_base64_VARIANT_ORIGINAL)
                 != 0
          || n != 32)
        return FALSE;
      batch->has_cbox = TRUE;
    }
  return TRUE;
}

static SyncBatch *
deserialise (const char *data, gsize len, const SyncBatchInfo *info, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (SyncBatch) batch = g_new0 (SyncBatch, 1);
  g_autofree char *device_hex = g_malloc (2 * SYNC_ID_BYTES + 1);
  JsonObject *root, *vv;
  JsonArray *changes;
  JsonNode *node;
  g_autoptr (GList) members = NULL;

  batch->info = *info;
  batch->changes = g_ptr_array_new_with_free_func (change_free_cb);
  batch->vv = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  sodium_bin2hex (device_hex, 2 * SYNC_ID_BYTES + 1, info->device, SYNC_ID_BYTES);

  if (!g_utf8_validate (data, (gssize)len, NULL) || !sync_json_nesting_ok (data, len, 4)
      || !json_parser_load_from_data (parser, data, (gssize)len, NULL))
    return malformed (error, "json"), NULL;
  node = json_parser_get_root (parser);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return malformed (error, "root"), NULL;
  root = json_node_get_object (node);
  if (!json_object_has_member (root, "v") || json_object_get_int_member (root, "v") != 1)
    return malformed (error, "version"), NULL;
  if (!deserialise_inner (root, batch))
    return malformed (error, "compartment"), NULL;
  node = json_object_get_member (root, "vv");
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return malformed (error, "vv"), NULL;
  vv = json_node_get_object (node);
  members = json_object_get_members (vv);
  if (g_list_length (members) > 1024)
    return malformed (error, "vv size"), NULL;
  for (GList *l = members; l; l = l->next)
    {
      guint64 seq;
      if (!sp_id_is_valid (l->data) || !parse_u64 (json_object_get_member (vv, l->data), &seq))
        return malformed (error, "vv entry"), NULL;
      g_hash_table_insert (batch->vv, g_strdup (l->data), g_memdup2 (&seq, sizeof seq));
    }
  node = json_object_get_member (root, "changes");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return malformed (error, "changes"), NULL;
  changes = json_node_get_array (node);
  if (json_array_get_length (changes) > MAX_CHANGES)
    return malformed (error, "too many changes"), NULL;
  for (guint i = 0; i < json_array_get_length (changes); i++)
    {
      JsonNode *cn = json_array_get_element (changes, i);
      JsonArray *a;
      JsonNode *value, *tx;
      SpChange *c;
      guint64 hlc;

      if (!JSON_NODE_HOLDS_ARRAY (cn) || json_array_get_length (a = json_node_get_array (cn)) != 7)
        return malformed (error, "change"), NULL;
      value = json_array_get_element (a, 3);
      tx = json_array_get_element (a, 6);
      if (!get_str (a, 0) || !get_str (a, 1) || !get_str (a, 2) || !get_str (a, 5)
          || !(JSON_NODE_HOLDS_NULL (value)
               || (JSON_NODE_HOLDS_VALUE (value)
                   && json_node_get_value_type (value) == G_TYPE_STRING))
          || !parse_u64 (json_array_get_element (a, 4), &hlc) || !JSON_NODE_HOLDS_VALUE (tx)
          || json_node_get_value_type (tx) != G_TYPE_INT64)
        return malformed (error, "change fields"), NULL;
      c = g_new0 (SpChange, 1);
      c->record = g_strdup (get_str (a, 0));
      c->kind = g_strdup (get_str (a, 1));
      c->field = g_strdup (get_str (a, 2));
      c->value = JSON_NODE_HOLDS_NULL (value) ? NULL : g_strdup (json_node_get_string (value));
      c->hlc = hlc;
      c->device = g_strdup (device_hex); /* a device can only write its own changes */
      c->supersedes = g_strdup (get_str (a, 5));
      c->tx = json_node_get_int (tx);
      g_ptr_array_add (batch->changes, c);
    }
  return g_steal_pointer (&batch);
}

/* ---- Compression (bounded) ---- */

static GBytes *
convert (GConverter *conv, const guint8 *in, gsize in_len, gsize max_out, GError **error)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  guint8 buf[16384];
  gsize read_total = 0;

  for (;;)
    {
      gsize r = 0, w = 0;
      GConverterResult res = g_converter_convert (
          conv, in + read_total, in_len - read_total, buf, sizeof buf,
          read_total == in_len ? G_CONVERTER_INPUT_AT_END : G_CONVERTER_NO_FLAGS, &r, &w, error);

      if (res == G_CONVERTER_ERROR)
        return NULL;
      read_total += r;
      if (out->len + w > max_out)
        {
          g_set_error (error, SYNC_ERROR, SYNC_ERROR_MALFORMED,
                       _ ("A received batch is malformed (%s)"), "too large");
          return NULL;
        }
      g_byte_array_append (out, buf, (guint)w);
      if (res == G_CONVERTER_FINISHED)
        break;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

GBytes *
sync_deflate (const guint8 *data, gsize len, gsize max_out, GError **error)
{
  g_autoptr (GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW, 6);

  return convert (G_CONVERTER (z), data, len, max_out, error);
}

GBytes *
sync_inflate (const guint8 *data, gsize len, gsize max_out, GError **error)
{
  g_autoptr (GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW);

  return convert (G_CONVERTER (z), data, len, max_out, error);
}

/* ---- Seal and open ---- */

GBytes *
sync_batch_seal (const SyncBatchInfo *info, GPtrArray *changes, GHashTable *vv,
                 const guint8 epoch_key[SYNC_KEY_BYTES], const guint8 sign_sk[64], GError **error)
{
  return sync_batch_seal_inner (info, changes, vv, NULL, epoch_key, sign_sk, error);
}

GBytes *
sync_batch_seal_inner (const SyncBatchInfo *info, GPtrArray *changes, GHashTable *vv,
                       const SyncBatchInner *inner, const guint8 epoch_key[SYNC_KEY_BYTES],
                       const guint8 sign_sk[64], GError **error)
{
  g_autofree char *json = NULL;
  g_autoptr (GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW, 6);
  g_autoptr (GBytes) packed = NULL;
  guint8 key[SYNC_KEY_BYTES];
  guint8 digest[64];
  gsize json_len, packed_len, padded, total;
  guint8 *env, *plain;

  g_return_val_if_fail (info != NULL && changes != NULL, NULL);
  json = serialise (info, changes, vv, inner, &json_len);
  packed = convert (G_CONVERTER (z), (const guint8 *)json, json_len, SYNC_MAX_PLAINTEXT, error);
  if (packed == NULL)
    return NULL;
  packed_len = g_bytes_get_size (packed);
  padded = sync_pad_length (4 + packed_len);
  if (padded + TAG_LEN > SYNC_MAX_CIPHERTEXT)
    {
      g_set_error (error, SYNC_ERROR, SYNC_ERROR_FAILED, _ ("A batch is too large to send"));
      return NULL;
    }

  total = OFF_CT + padded + TAG_LEN + SIG_LEN;
  env = g_malloc0 (total);
  memcpy (env, "SPLB", 4);
  env[4] = 1;
  memcpy (env + 8, info->workspace, SYNC_ID_BYTES);
  memcpy (env + 24, info->device, SYNC_ID_BYTES);
  put_le32 (env + OFF_EPOCH, info->epoch);
  put_le64 (env + OFF_SEQ, info->seq);
  memcpy (env + OFF_PREV, info->prev_hash, SYNC_HASH_BYTES);
  memcpy (env + OFF_HEAD, info->log_head, SYNC_HASH_BYTES);
  derive_batch_key (epoch_key, env, key);
  key_commitment (key, env + OFF_COMMIT);
  randombytes_buf (env + OFF_NONCE, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  put_le32 (env + OFF_CTLEN, (guint32)(padded + TAG_LEN));

  plain = g_malloc0 (padded);
  put_le32 (plain, (guint32)packed_len);
  memcpy (plain + 4, g_bytes_get_data (packed, NULL), packed_len);
  crypto_aead_xchacha20poly1305_ietf_encrypt (env + OFF_CT, NULL, plain, padded, env, HEADER_LEN,
                                              NULL, env + OFF_NONCE, key);
  sodium_memzero (plain, padded);
  g_free (plain);
  sodium_memzero (key, sizeof key);

  signed_digest (env, OFF_CT + padded + TAG_LEN, digest);
  crypto_sign_detached (env + OFF_CT + padded + TAG_LEN, NULL, digest, sizeof digest, sign_sk);
  return g_bytes_new_take (env, total);
}

gboolean
sync_batch_peek (GBytes *envelope, SyncBatchInfo *info, GError **error)
{
  gsize len;
  const guint8 *d = g_bytes_get_data (envelope, &len);
  guint32 ct_len;

  if (len < OFF_CT + TAG_LEN + SIG_LEN || memcmp (d, "SPLB", 4) != 0)
    return malformed (error, "header");
  if (d[4] != 1 || d[5] || d[6] || d[7])
    return malformed (error, "version");
  ct_len = get_le32 (d + OFF_CTLEN);
  if (ct_len < TAG_LEN || ct_len > SYNC_MAX_CIPHERTEXT || (gsize)OFF_CT + ct_len + SIG_LEN != len)
    return malformed (error, "length");
  memcpy (info->workspace, d + 8, SYNC_ID_BYTES);
  memcpy (info->device, d + 24, SYNC_ID_BYTES);
  info->epoch = get_le32 (d + OFF_EPOCH);
  info->seq = get_le64 (d + OFF_SEQ);
  memcpy (info->prev_hash, d + OFF_PREV, SYNC_HASH_BYTES);
  memcpy (info->log_head, d + OFF_HEAD, SYNC_HASH_BYTES);
  if (info->seq == 0)
    return malformed (error, "seq");
  return TRUE;
}

gboolean
sync_batch_key_matches (GBytes *envelope, const guint8 epoch_key[SYNC_KEY_BYTES])
{
  gsize len;
  const guint8 *d = g_bytes_get_data (envelope, &len);
  guint8 key[SYNC_KEY_BYTES], commit[SYNC_HASH_BYTES];
  gboolean ok;

  if (len < OFF_CT)
    return FALSE;
  derive_batch_key (epoch_key, d, key);
  key_commitment (key, commit);
  sodium_memzero (key, sizeof key);
  ok = sodium_memcmp (commit, d + OFF_COMMIT, SYNC_HASH_BYTES) == 0;
  return ok;
}

gboolean
sync_batch_verify_signature (GBytes *envelope, const guint8 sign_pk[32])
{
  SyncBatchInfo info;
  gsize len;
  const guint8 *d = g_bytes_get_data (envelope, &len);
  guint8 digest[64];
  guint32 ct_len;

  if (!sync_batch_peek (envelope, &info, NULL))
    return FALSE;
  ct_len = get_le32 (d + OFF_CTLEN);
  signed_digest (d, OFF_CT + ct_len, digest);
  return crypto_sign_verify_detached (d + OFF_CT + ct_len, digest, sizeof digest, sign_pk) == 0;
}

SyncBatch *
sync_batch_open (GBytes *envelope, const guint8 epoch_key[SYNC_KEY_BYTES], const guint8 sign_pk[32],
                 GError **error)
{
  SyncBatchInfo info;
  gsize len;
  const guint8 *d = g_bytes_get_data (envelope, &len);
  guint8 key[SYNC_KEY_BYTES], commit[SYNC_HASH_BYTES], digest[64];
  g_autofree guint8 *plain = NULL;
  SyncBatch *batch;
  guint32 ct_len;
  gboolean commit_ok;

  if (!sync_batch_peek (envelope, &info, error))
    return NULL;
  ct_len = get_le32 (d + OFF_CTLEN);

  /* 1. The writer signed exactly these bytes. */
  signed_digest (d, OFF_CT + ct_len, digest);
  if (crypto_sign_verify_detached (d + OFF_CT + ct_len, digest, sizeof digest, sign_pk) != 0)
    {
      g_set_error (error, SYNC_ERROR, SYNC_ERROR_FORGED,
                   _ ("A received batch has a bad signature"));
      return NULL;
    }
  /* 2. The key this header commits to is the one we derive. */
  derive_batch_key (epoch_key, d, key);
  key_commitment (key, commit);
  commit_ok = sodium_memcmp (commit, d + OFF_COMMIT, SYNC_HASH_BYTES) == 0;
  /* 3. Authenticated decryption, header as associated data. */
  plain = g_malloc (ct_len - TAG_LEN);
  if (!commit_ok
      || crypto_aead_xchacha20poly1305_ietf_decrypt (plain, NULL, NULL, d + OFF_CT, ct_len, d,
                                                     HEADER_LEN, d + OFF_NONCE, key)
             != 0)
    {
      sodium_memzero (key, sizeof key);
      g_set_error (error, SYNC_ERROR, SYNC_ERROR_FORGED,
                   _ ("A received batch could not be decrypted: wrong key or tampered with"));
      return NULL;
    }
  sodium_memzero (key, sizeof key);
  batch = sync_batch_decode_plaintext (plain, ct_len - TAG_LEN, &info, error);
  sodium_memzero (plain, ct_len - TAG_LEN);
  return batch;
}

SyncBatch *
sync_batch_decode_plaintext (const guint8 *plain, gsize len, const SyncBatchInfo *info,
                             GError **error)
{
  g_autoptr (GZlibDecompressor) z = NULL;
  g_autoptr (GBytes) json = NULL;
  guint32 packed_len;

  if (len < 4)
    return malformed (error, "padding"), NULL;
  packed_len = get_le32 (plain);
  if ((gsize)packed_len > len - 4)
    return malformed (error, "padding"), NULL;
  z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW);
  json = convert (G_CONVERTER (z), plain + 4, packed_len, SYNC_MAX_PLAINTEXT, NULL);
  if (json == NULL)
    return malformed (error, "compression"), NULL;
  return deserialise (g_bytes_get_data (json, NULL), g_bytes_get_size (json), info, error);
}
