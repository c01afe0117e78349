/* sync-snapshot.c — building, uploading, verifying and applying workspace
 * snapshots.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "sync-client-private.h"

/* ---- Snapshots ----
 * A snapshot is every change the maker's vault holds, with the device chains it
 * had applied and the relay cursor they reach, sealed under the epoch key and
 * signed by an admin (docs/PROTOCOL.md). Its binary frame is the codec in
 * sync/protocol (SyncSnapshotHeader); the JSON inside and the cryptography
 * are here. */

#define SNAP_MAX_PLAIN (512u * 1024u * 1024u)
#define SBOX_LEN (crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)

/* A key bound to one snapshot's workspace, device, epoch and cursor as the
 * written @header holds them: BLAKE2b keyed with @secret over @label ‖ those. */
static void
snapshot_derive (const guint8 secret[SYNC_KEY_BYTES], const char *label,
                 const guint8 header[SYNC_SNAPSHOT_HEADER_LEN], guint8 out[32])
{
  crypto_generichash_state st;

  crypto_generichash_init (&st, secret, SYNC_KEY_BYTES, 32);
  crypto_generichash_update (&st, (const guint8 *)label, strlen (label));
  crypto_generichash_update (&st, header + SYNC_SNAPSHOT_KEY_CONTEXT_OFFSET,
                             SYNC_SNAPSHOT_KEY_CONTEXT_LEN);
  crypto_generichash_final (&st, out, 32);
}

/* The key for one snapshot. */
static void
snapshot_key (const guint8 epoch_secret[SYNC_KEY_BYTES],
              const guint8 header[SYNC_SNAPSHOT_HEADER_LEN], guint8 out[32])
{
  snapshot_derive (epoch_secret, "SPLK-snapshot-key-1", header, out);
}

static void
key_commit (const guint8 key[32], guint8 out[32])
{
  crypto_generichash (out, 32, (const guint8 *)"SPLK-key-commitment-1", 21, key, 32);
}

static void
add_change_row (JsonBuilder *b, const SpChange *ch)
{
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

static void
add_chains (SyncCtx *c, JsonBuilder *b, GPtrArray *chains)
{
  guint64 seq;
  guint8 hash[SYNC_HASH_BYTES];

  json_builder_set_member_name (b, "chains");
  json_builder_begin_object (b);
  for (guint i = 0; i <= chains->len; i++)
    {
      const char *key = i < chains->len ? chains->pdata[i] : "own/chain";
      const char *dev = i < chains->len ? key + 6 : c->device;
      g_autofree char *hex = NULL, *seq_s = NULL;

      if (!sync_state_get_chain (c->vault, key, &seq, hash))
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
}

/* The key of a compartment's section, bound to the snapshot as its key is. */
static void
section_key (const guint8 comp_key[SYNC_KEY_BYTES], const guint8 header[SYNC_SNAPSHOT_HEADER_LEN],
             guint8 out[32])
{
  snapshot_derive (comp_key, "SPLK-snapshot-section-1", header, out);
}

/* One compartment's changes, deflated and sealed under its section key. */
static char *
section_box (const SyncHeldKey *h, GPtrArray *changes, const guint8 *header, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *json = NULL, *out = NULL;
  g_autoptr (GBytes) packed = NULL;
  g_autofree guint8 *box = NULL;
  guint8 key[32];
  gsize n;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "c");
  json_builder_add_string_value (b, h->cid);
  json_builder_set_member_name (b, "ce");
  json_builder_add_int_value (b, h->cepoch);
  json_builder_set_member_name (b, "changes");
  json_builder_begin_array (b);
  for (guint i = 0; i < changes->len; i++)
    if (((SpChange *)changes->pdata[i])->comp == h->local)
      add_change_row (b, changes->pdata[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json = sync_to_json (b);
  packed = sync_deflate ((const guint8 *)json, strlen (json), SNAP_MAX_PLAIN, error);
  sodium_memzero (json, strlen (json));
  if (packed == NULL)
    return NULL;
  n = crypto_secretbox_NONCEBYTES + g_bytes_get_size (packed) + crypto_secretbox_MACBYTES;
  box = g_malloc (n);
  randombytes_buf (box, crypto_secretbox_NONCEBYTES);
  section_key (sp_secret_data (h->key), header, key);
  crypto_secretbox_easy (box + crypto_secretbox_NONCEBYTES, g_bytes_get_data (packed, NULL),
                         g_bytes_get_size (packed), box, key);
  sodium_memzero (key, sizeof key);
  return sync_b64 (box, n);
}

/* Main's changes in the clear of the snapshot, each held compartment's in a
 * section only its holders open (COMPARTMENTS.md, "Batches"). */
static char *
snapshot_json (SyncCtx *c, gint64 cursor, GPtrArray *current, const guint8 *header, GError **error)
{
  g_autoptr (GPtrArray) changes = sp_vault_all_changes (c->vault, error);
  g_autoptr (GPtrArray) chains = changes ? sp_vault_sync_keys (c->vault, "chain/", error) : NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (chains == NULL)
    return NULL;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "cursor");
  json_builder_add_int_value (b, cursor);
  add_chains (c, b, chains);
  json_builder_set_member_name (b, "changes");
  json_builder_begin_array (b);
  for (guint i = 0; i < changes->len; i++)
    if (((SpChange *)changes->pdata[i])->comp == 0)
      add_change_row (b, changes->pdata[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "sections");
  json_builder_begin_array (b);
  for (guint i = 0; i < current->len; i++)
    {
      g_autofree char *box = section_box (current->pdata[i], changes, header, error);
      if (box == NULL)
        return NULL;
      json_builder_add_string_value (b, box);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return sync_to_json (b);
}

/* The current key of every compartment this device holds. */
static GPtrArray *
current_keys (SyncCtx *c, GError **error)
{
  g_autoptr (GPtrArray) held = sync_comp_held_keys (c, error);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (sync_held_key_free);

  if (held == NULL)
    return NULL;
  for (guint i = 0; i < held->len; i++)
    {
      SyncHeldKey *h = held->pdata[i];
      SyncComp *comp = g_hash_table_lookup (c->comps, h->cid);

      if (comp && comp->cepoch == h->cepoch)
        g_ptr_array_add (out, g_steal_pointer (&held->pdata[i]));
    }
  return g_steal_pointer (&out);
}

static void
snapshot_header (SyncCtx *c, gint64 cursor, SyncSnapshotHeader *h)
{
  memset (h, 0, sizeof *h);
  memcpy (h->workspace, c->ws, SYNC_ID_BYTES);
  memcpy (h->device, c->dev_raw, SYNC_ID_BYTES);
  h->epoch = c->epoch;
  h->cursor = (guint64)cursor;
  memcpy (h->log_head, c->head_hash, SYNC_HASH_BYTES);
  randombytes_buf (h->nonce, sizeof h->nonce);
}

/* Encrypts the deflated JSON @packed and frames and signs it. */
static GBytes *
snapshot_seal (SyncCtx *c, SpSecret *ekey, SyncSnapshotHeader h, GBytes *packed)
{
  gsize plen = g_bytes_get_size (packed), total;
  guint8 key[32];
  guint8 *snap;

  h.ct_len = plen + SYNC_SNAPSHOT_TAG_LEN;
  total = sync_snapshot_total_len (h.ct_len);
  snap = g_malloc0 (total);
  /* The key hangs on the header's fields; the commitment to it then goes in. */
  sync_snapshot_write_header (&h, snap);
  snapshot_key (sp_secret_data (ekey), snap, key);
  key_commit (key, h.commitment);
  sync_snapshot_write_header (&h, snap);
  crypto_aead_xchacha20poly1305_ietf_encrypt (snap + SYNC_SNAPSHOT_HEADER_LEN, NULL,
                                              g_bytes_get_data (packed, NULL), plen, snap,
                                              SYNC_SNAPSHOT_HEADER_LEN, NULL, h.nonce, key);
  sodium_memzero (key, sizeof key);
  sync_snapshot_sign (snap, total, sp_secret_data (c->sign_sk));
  return g_bytes_new_take (snap, total);
}

gboolean
sync_snapshot_upload (SpVault *vault, gboolean prune, const SyncOptions *opts, GError **error)
{
  g_autoptr (SyncCtx) c = sync_ctx_load (vault, opts, error);
  g_autoptr (SpSecret) ekey = NULL;
  g_autofree char *json = NULL, *path = NULL;
  g_autoptr (GBytes) packed = NULL;
  g_autoptr (GBytes) sealed = NULL;
  g_autoptr (JsonObject) ans = NULL;
  g_autoptr (GPtrArray) current = NULL;
  SyncSnapshotHeader h;
  guint8 header[SYNC_SNAPSHOT_HEADER_LEN];
  const guint8 *snap;
  gsize total;
  gint64 cursor;

  if (c == NULL || !sync_log_refresh (c, error) || !sync_require_admin (c, error))
    return FALSE;
  ekey = sync_epoch_key (c, c->epoch);
  if (ekey == NULL)
    return sync_fail (error, SYNC_ERROR_FAILED,
                      _ ("This device does not hold the current workspace key"));
  /* Own changes must be on the relay before a snapshot may stand for them. */
  if (!sync_comps_reconcile (c, NULL, error) || !sync_push (c, BATCH_MAX_CHANGES, NULL, error)
      || (current = current_keys (c, error)) == NULL)
    return FALSE;
  /* Pruning drops batches only the snapshot would then hold: every
   * compartment must be in it. */
  if (prune && g_hash_table_size (c->comps) > current->len)
    return sync_fail (error, SYNC_ERROR_FAILED,
                      _ ("This admin does not hold every compartment of the workspace: pruning "
                         "would lose their history; prune from an admin who holds them all"));
  cursor = sync_state_get_int (vault, "cursor");
  snapshot_header (c, cursor, &h);
  sync_snapshot_write_header (&h, header);
  json = snapshot_json (c, cursor, current, header, error);
  if (json == NULL)
    return FALSE;
  packed = sync_deflate ((const guint8 *)json, strlen (json), SNAP_MAX_PLAIN, error);
  sodium_memzero (json, strlen (json));
  if (packed == NULL)
    return FALSE;
  sealed = snapshot_seal (c, ekey, h, packed);
  snap = g_bytes_get_data (sealed, &total);

  path = g_strdup_printf ("/v1/workspaces/%s/snapshot?cursor=%" G_GINT64_FORMAT, c->ws_hex, cursor);
  {
    g_autoptr (GBytes) answer = NULL;
    long status = 0;
    gboolean ok = sync_http_request (c->http, "PUT", path, snap, total, "application/octet-stream",
                                     &status, &answer, error);
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
      g_autofree char *ppath = sync_ws_path (c, "/prune");

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

gboolean
sync_snapshot_parse_change (JsonArray *a, SpChange *ch)
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

/* Downloads the workspace snapshot, checks its header, signer and key
 * commitment, decrypts and inflates it. Gives the plain JSON and its cursor. */
static gboolean
snapshot_fetch (SyncCtx *c, GBytes **plain, guint64 *cursor_out,
                guint8 header_out[SYNC_SNAPSHOT_HEADER_LEN], GError **error)
{
  g_autofree char *path = sync_ws_path (c, "/snapshot");
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (SpSecret) ekey = NULL;
  g_autofree guint8 *packed = NULL;
  g_autofree char *signer_hex = NULL, *head_hex = NULL;
  SyncSnapshotHeader h;
  const guint8 *d;
  guint8 key[32], commit[32];
  const SyncMember *signer;
  const gint64 *head_version;
  long status = 0;
  gsize len;

  if (!sync_http_request (c->http, "GET", path, NULL, 0, NULL, &status, &answer, error))
    return FALSE;
  if (status != 200)
    {
      g_set_error (error, SYNC_ERROR, SYNC_ERROR_REFUSED,
                   _ ("The relay pruned old batches but sends no snapshot (HTTP %ld)"), status);
      return FALSE;
    }
  d = g_bytes_get_data (answer, &len);
  if (!sync_snapshot_parse_header (d, len, &h, NULL))
    return snap_bad (error, "shape");
  if (memcmp (h.workspace, c->ws, SYNC_ID_BYTES) != 0)
    return snap_bad (error, "workspace");
  signer_hex = sync_hex_encode (h.device, SYNC_ID_BYTES);
  head_hex = sync_hex_encode (h.log_head, SYNC_HASH_BYTES);
  signer = g_hash_table_lookup (c->members, signer_hex);
  head_version = g_hash_table_lookup (c->log_heads, head_hex);
  if (signer == NULL || !signer->admin || head_version == NULL
      || (signer->removed_at && *head_version >= signer->removed_at)
      || !sync_snapshot_signature_ok (d, len, signer->sign_pk))
    return snap_bad (error, "signature");
  ekey = sync_epoch_key (c, h.epoch);
  if (ekey == NULL)
    return snap_bad (error, "key");
  snapshot_key (sp_secret_data (ekey), d, key);
  key_commit (key, commit);
  if (sodium_memcmp (commit, h.commitment, 32) != 0)
    return snap_bad (error, "commitment");
  packed = g_malloc (h.ct_len);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt (packed, NULL, NULL, d + SYNC_SNAPSHOT_HEADER_LEN,
                                                  h.ct_len, d, SYNC_SNAPSHOT_HEADER_LEN, h.nonce,
                                                  key)
      != 0)
    {
      sodium_memzero (key, sizeof key);
      return snap_bad (error, "tag");
    }
  sodium_memzero (key, sizeof key);
  *cursor_out = h.cursor;
  memcpy (header_out, d, SYNC_SNAPSHOT_HEADER_LEN);
  *plain = sync_inflate (packed, h.ct_len - SYNC_SNAPSHOT_TAG_LEN, SNAP_MAX_PLAIN, error);
  return *plain != NULL;
}

/* Parses the snapshot's JSON into @changes (other devices' only) and gives
 * its "chains" object, which @parser owns. */
static gboolean
snapshot_parse (SyncCtx *c, GBytes *plain, guint64 cursor, JsonParser *parser, GPtrArray *changes,
                JsonObject **chains, JsonArray **sections, GError **error)
{
  gsize len;
  const char *d = g_bytes_get_data (plain, &len);
  JsonObject *root;
  JsonNode *rn, *cn, *chn;
  JsonArray *arr;
  gint64 v, cur;

  if (!g_utf8_validate (d, (gssize)len, NULL) || !sync_json_nesting_ok (d, len, 4)
      || !json_parser_load_from_data (parser, d, (gssize)len, NULL)
      || (rn = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (rn))
    return snap_bad (error, "content");
  root = json_node_get_object (rn);
  cn = json_object_get_member (root, "changes");
  chn = json_object_get_member (root, "chains");
  if (!sync_json_int (root, "v", &v) || v != 1 || !sync_json_int (root, "cursor", &cur)
      || (guint64)cur != cursor || cn == NULL || !JSON_NODE_HOLDS_ARRAY (cn) || chn == NULL
      || !JSON_NODE_HOLDS_OBJECT (chn))
    return snap_bad (error, "content");
  arr = json_node_get_array (cn);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonNode *n = json_array_get_element (arr, i);
      SpChange *ch = g_new0 (SpChange, 1);

      g_ptr_array_add (changes, ch);
      if (!JSON_NODE_HOLDS_ARRAY (n) || !sync_snapshot_parse_change (json_node_get_array (n), ch))
        return snap_bad (error, "change");
      if (strcmp (ch->device, c->device) == 0)
        g_ptr_array_remove_index_fast (changes, changes->len - 1); /* ours: we have them */
    }
  *chains = json_node_get_object (chn);
  cn = json_object_get_member (root, "sections");
  if (cn && !JSON_NODE_HOLDS_ARRAY (cn))
    return snap_bad (error, "sections");
  *sections = cn ? json_node_get_array (cn) : NULL;
  return TRUE;
}

/* The changes of one section, if @h opens it (NULL otherwise, or on error). */
static GPtrArray *
section_open (SyncCtx *c, const char *b64, const SyncHeldKey *h, const guint8 *header,
              gboolean keep_own, GError **error)
{
  g_autoptr (GPtrArray) changes = g_ptr_array_new_with_free_func (change_free_cb);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GBytes) boxed = sync_b64_decode (b64, SNAP_MAX_PLAIN);
  g_autofree guint8 *plain = NULL;
  g_autoptr (GBytes) json = NULL;
  const guint8 *box;
  gsize n = 0;
  guint8 key[32];
  JsonObject *root;
  JsonNode *rn, *cn;
  gint64 ce;
  gboolean opened;

  box = boxed ? g_bytes_get_data (boxed, &n) : NULL;
  if (box == NULL || n < SBOX_LEN)
    return snap_bad (error, "section"), NULL;
  plain = g_malloc (n);
  section_key (sp_secret_data (h->key), header, key);
  opened = crypto_secretbox_open_easy (plain, box + crypto_secretbox_NONCEBYTES,
                                       n - crypto_secretbox_NONCEBYTES, box, key)
           == 0;
  sodium_memzero (key, sizeof key);
  if (!opened)
    return NULL; /* another compartment's */
  json = sync_inflate (plain, n - SBOX_LEN, SNAP_MAX_PLAIN, error);
  if (json == NULL
      || !sync_json_nesting_ok (g_bytes_get_data (json, NULL), g_bytes_get_size (json), 4)
      || !json_parser_load_from_data (parser, g_bytes_get_data (json, NULL),
                                      (gssize)g_bytes_get_size (json), NULL)
      || (rn = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (rn))
    return snap_bad (error, "section"), NULL;
  root = json_node_get_object (rn);
  cn = json_object_get_member (root, "changes");
  if (g_strcmp0 (sync_json_str (root, "c", 64), h->cid) != 0 || !sync_json_int (root, "ce", &ce)
      || ce != h->cepoch || cn == NULL || !JSON_NODE_HOLDS_ARRAY (cn))
    return snap_bad (error, "section"), NULL;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (cn)); i++)
    {
      JsonNode *e = json_array_get_element (json_node_get_array (cn), i);
      SpChange *ch = g_new0 (SpChange, 1);

      g_ptr_array_add (changes, ch);
      if (!JSON_NODE_HOLDS_ARRAY (e) || !sync_snapshot_parse_change (json_node_get_array (e), ch))
        return snap_bad (error, "change"), NULL;
      if (!keep_own && strcmp (ch->device, c->device) == 0)
        g_ptr_array_remove_index_fast (changes, changes->len - 1);
    }
  return g_steal_pointer (&changes);
}

/* Applies the sections this device can open with @keys (inside the
 * caller's transaction); *applied counts their changes. With @own (a
 * rescan), this device's own changes too. */
static gboolean
apply_sections (SyncCtx *c, JsonArray *sections, GPtrArray *keys, const guint8 *header,
                gboolean own, guint *applied, GError **error)
{
  for (guint i = 0; sections && i < json_array_get_length (sections); i++)
    for (guint k = 0; k < keys->len; k++)
      {
        const SyncHeldKey *h = keys->pdata[k];
        g_autoptr (GError) local = NULL;
        g_autoptr (GPtrArray) changes
            = section_open (c, json_array_get_string_element (sections, i), h, header, own, &local);

        if (local)
          {
            g_propagate_error (error, g_steal_pointer (&local));
            return FALSE;
          }
        if (changes == NULL)
          continue;
        if (!(own ? sp_vault_restore_own_changes_in (c->vault, changes, h->local, error)
                  : sp_vault_apply_changes_in (c->vault, changes, h->local, error)))
          return FALSE;
        *applied += changes->len;
        break;
      }
  return TRUE;
}

/* Moves each peer's chain forward to where the snapshot has it (inside the
 * caller's transaction); with @out, gives every device's position there
 * instead. */
static gboolean
snapshot_apply_chains (SyncCtx *c, JsonObject *chains, GHashTable *out, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (chains);
  gboolean ok = TRUE;

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
        return snap_bad (error, "chains");
      s0 = json_array_get_element (pair, 0);
      s1 = json_array_get_element (pair, 1);
      if (!JSON_NODE_HOLDS_VALUE (s0) || json_node_get_value_type (s0) != G_TYPE_STRING
          || !JSON_NODE_HOLDS_VALUE (s1) || json_node_get_value_type (s1) != G_TYPE_STRING
          || !g_ascii_string_to_unsigned (json_node_get_string (s0), 10, 1, G_MAXINT64, &seq, NULL)
          || !sync_hex_decode (json_node_get_string (s1), hash, sizeof hash, NULL))
        return snap_bad (error, "chains");
      if (out)
        {
          SyncChainPos *pos = g_new (SyncChainPos, 1);
          pos->seq = seq;
          memcpy (pos->hash, hash, sizeof hash);
          g_hash_table_insert (out, g_strdup (dev), pos);
          continue;
        }
      if (strcmp (dev, c->device) == 0)
        continue;
      sync_state_get_chain (c->vault, key_name, &have, have_hash);
      if (seq > have)
        ok = sync_state_set_chain (c->vault, key_name, seq, hash, error);
    }
  return ok;
}

/* Downloads the workspace snapshot, verifies it and applies it: every change
 * of other devices, the chains it covers, and the cursor it reaches. */
gboolean
sync_snapshot_apply (SyncCtx *c, SyncReport *report, GError **error)
{
  return sync_snapshot_apply_only (c, NULL, NULL, NULL, report, error);
}

gboolean
sync_snapshot_apply_only (SyncCtx *c, GPtrArray *only, gint64 *cursor_out, GHashTable *chains_out,
                          SyncReport *report, GError **error)
{
  g_autoptr (GBytes) plain = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) changes = g_ptr_array_new_with_free_func (change_free_cb);
  g_autoptr (GPtrArray) current = only ? NULL : current_keys (c, error);
  guint8 header[SYNC_SNAPSHOT_HEADER_LEN];
  JsonObject *chains = NULL;
  JsonArray *sections = NULL;
  guint64 cursor = 0;
  guint applied = 0;
  gboolean ok;

  if ((only == NULL && current == NULL) || !snapshot_fetch (c, &plain, &cursor, header, error)
      || !snapshot_parse (c, plain, cursor, parser, changes, &chains, &sections, error)
      || !sp_vault_begin (c->vault, error))
    return FALSE;
  ok = apply_sections (c, sections, only ? only : current, header, only != NULL, &applied, error);
  if (only == NULL)
    {
      ok = ok && sp_vault_apply_changes (c->vault, changes, error)
           && snapshot_apply_chains (c, chains, NULL, error);
      if (ok && (gint64)cursor > sync_state_get_int (c->vault, "cursor"))
        ok = sync_state_set_int (c->vault, "cursor", (gint64)cursor, error);
      applied += changes->len;
    }
  else
    ok = ok && snapshot_apply_chains (c, chains, chains_out, error);
  if (!sync_vault_end (c->vault, ok, error))
    return FALSE;
  if (cursor_out)
    *cursor_out = (gint64)cursor;
  if (report)
    report->applied_changes += applied;
  return TRUE;
}
