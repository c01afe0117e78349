/* sync-compartment.c — compartments in the membership log: "comp" entries
 * (create, grant, revoke), their keys and epochs, the compartment box key of
 * each device, and the vault's compartments following the keys held
 * (docs/COMPARTMENTS.md, docs/PROTOCOL.md "Compartments").
 *
 * A "comp" entry's body carries only {"box": nonce ‖ secretbox(main epoch
 * key, inner JSON)}. Inner: op, cid, cepoch, seals (K(cid, cepoch) sealed to
 * compartment box keys, no device named), wrap (revoke: the previous key
 * under the new one), meta (secretbox(K, {"name", "holders"})) and proof
 * (grant, revoke: BLAKE2b keyed with the compartment's previous key over the
 * rest, so only a holder can change a compartment).
 *
 * State: dev/cbox_sk|pk (this device's compartment box key), dev/cbox_old/<pk
 * hex> (older ones brought back from a travel stash), ckey/<cid>/<%010u>
 * (compartment keys), peer/cbox/<device> (peers' box keys, from their main
 * batches), rescan/<cid> (gained, history not fetched yet).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "sync-client-private.h"

#define META_MAX (16 * 1024)
#define SEALS_MAX 1000
#define SBOX_OVERHEAD (crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)

void
sync_comp_entry_free (gpointer p)
{
  SyncCompEntry *e = p;

  g_bytes_unref (e->box);
  g_free (e);
}

void
sync_comp_free (gpointer p)
{
  SyncComp *comp = p;

  g_free (comp->name);
  g_clear_pointer (&comp->holders, g_ptr_array_unref);
  g_clear_pointer (&comp->wraps, g_hash_table_unref);
  g_free (comp);
}

void
sync_held_key_free (gpointer p)
{
  SyncHeldKey *h = p;

  if (h == NULL)
    return;
  sp_secret_free (h->key);
  g_free (h);
}

/* ---- Secret boxes, base64 ---- */

static char *
sbox_seal (const guint8 *data, gsize len, const guint8 key[SYNC_KEY_BYTES])
{
  gsize n = crypto_secretbox_NONCEBYTES + len + crypto_secretbox_MACBYTES;
  g_autofree guint8 *box = g_malloc (n);

  randombytes_buf (box, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy (box + crypto_secretbox_NONCEBYTES, data, len, box, key);
  return sync_b64 (box, n);
}

/* Opens nonce ‖ secretbox; the plaintext is NUL-terminated (for JSON). */
static char *
sbox_open (const guint8 *box, gsize len, const guint8 key[SYNC_KEY_BYTES])
{
  char *out;

  if (len < SBOX_OVERHEAD)
    return NULL;
  out = g_malloc0 (len - SBOX_OVERHEAD + 1);
  if (crypto_secretbox_open_easy ((guint8 *)out, box + crypto_secretbox_NONCEBYTES,
                                  len - crypto_secretbox_NONCEBYTES, box, key)
      != 0)
    {
      g_free (out);
      return NULL;
    }
  return out;
}

/* ---- Keys in the vault ---- */

static char *
ckey_name (const char *cid, guint32 cepoch)
{
  return g_strdup_printf ("ckey/%s/%010u", cid, cepoch);
}

SpSecret *
sync_comp_key (SyncCtx *c, const char *cid, guint32 cepoch)
{
  g_autofree char *name = ckey_name (cid, cepoch);
  SpSecret *k = sp_vault_sync_get_secret (c->vault, name, NULL);

  if (k && sp_secret_len (k) != SYNC_KEY_BYTES)
    g_clear_pointer (&k, sp_secret_free);
  return k;
}

static gboolean
store_comp_key (SyncCtx *c, gint64 version, const char *cid, guint32 cepoch,
                const guint8 key[SYNC_KEY_BYTES], GError **error)
{
  g_autofree char *name = ckey_name (cid, cepoch);
  g_autoptr (SpSecret) old = sync_comp_key (c, cid, cepoch);

  if (old)
    return sodium_memcmp (sp_secret_data (old), key, SYNC_KEY_BYTES) == 0
               ? TRUE
               : sync_log_forged (error, version, "two keys for one compartment epoch");
  return sync_state_set_secret (c->vault, name, key, SYNC_KEY_BYTES, error);
}

gboolean
sync_comp_forget_keys (SyncCtx *c, const char *cid, GError **error)
{
  g_autofree char *prefix = g_strdup_printf ("ckey/%s/", cid);
  g_autofree char *rescan = g_strconcat ("rescan/", cid, NULL);
  g_autoptr (GPtrArray) keys = sp_vault_sync_keys (c->vault, prefix, error);

  if (keys == NULL)
    return FALSE;
  for (guint i = 0; i < keys->len; i++)
    if (!sp_vault_sync_set (c->vault, keys->pdata[i], NULL, 0, error))
      return FALSE;
  return sp_vault_sync_set (c->vault, rescan, NULL, 0, error);
}

/* This device's compartment box key; made on first use. */
gboolean
sync_cbox_ensure (SyncCtx *c, GError **error)
{
  g_autoptr (SpSecret) sk = NULL;

  if (c->cbox_sk)
    return TRUE;
  sk = sp_vault_sync_get_secret (c->vault, "dev/cbox_sk", error);
  if (sk && sp_secret_len (sk) == 32
      && sync_state_get_fixed (c->vault, "dev/cbox_pk", c->cbox_pk, 32))
    {
      c->cbox_sk = g_steal_pointer (&sk);
      return TRUE;
    }
  if (error && *error)
    return FALSE;
  g_clear_pointer (&sk, sp_secret_free);
  sk = sp_secret_new (32);
  if (sk == NULL)
    return sync_fail (error, SYNC_ERROR_FAILED, _ ("Out of secure memory"));
  crypto_box_keypair (c->cbox_pk, sp_secret_data (sk));
  if (!sync_state_set_secret (c->vault, "dev/cbox_sk", sp_secret_data (sk), 32, error)
      || !sp_vault_sync_set (c->vault, "dev/cbox_pk", c->cbox_pk, 32, error))
    return FALSE;
  c->cbox_sk = g_steal_pointer (&sk);
  return TRUE;
}

/* Opens one of @seals with any compartment box key this device has. */
static gboolean
open_seals (SyncCtx *c, JsonArray *seals, guint8 key[SYNC_KEY_BYTES])
{
  g_autoptr (GPtrArray) old = sp_vault_sync_keys (c->vault, "dev/cbox_old/", NULL);
  guint n = json_array_get_length (seals);

  for (guint k = 0; k <= (old ? old->len : 0); k++)
    {
      g_autoptr (SpSecret) sk = NULL;
      guint8 pk[32];

      if (k == 0)
        {
          if (c->cbox_sk == NULL)
            continue;
          sk = sp_secret_new_from_data (sp_secret_data (c->cbox_sk), 32);
          memcpy (pk, c->cbox_pk, 32);
        }
      else
        {
          const char *name = old->pdata[k - 1];
          sk = sp_vault_sync_get_secret (c->vault, name, NULL);
          if (sk == NULL || sp_secret_len (sk) != 32
              || !sync_hex_decode (name + strlen ("dev/cbox_old/"), pk, 32, NULL))
            continue;
        }
      for (guint i = 0; i < n; i++)
        {
          const char *s = json_array_get_string_element (seals, i);
          guint8 sealed[SEALED_LEN];

          if (s && sync_base64_decode_exact (s, sealed, sizeof sealed, NULL)
              && crypto_box_seal_open (key, sealed, sizeof sealed, pk, sp_secret_data (sk)) == 0)
            return TRUE;
        }
    }
  return FALSE;
}

/* ---- Entries ---- */

/* In sync_log_apply: a "comp" entry whose signer and chain are verified. Its
 * inner part is read in sync_comps_load, once the main keys are known. */
gboolean
sync_comp_log_accept (SyncCtx *c, gint64 version, JsonObject *body, gint64 epoch, GError **error)
{
  SyncCompEntry *e;
  GBytes *box;

  if ((guint32)epoch != c->epoch
      || (box = sync_b64_decode (sync_json_str (body, "box", ENTRY_MAX), ENTRY_MAX)) == NULL)
    return sync_log_forged (error, version, "comp");
  if (g_bytes_get_size (box) < SBOX_OVERHEAD)
    {
      g_bytes_unref (box);
      return sync_log_forged (error, version, "comp");
    }
  e = g_new0 (SyncCompEntry, 1);
  e->version = version;
  e->epoch = (guint32)epoch;
  e->box = box;
  g_ptr_array_add (c->comp_entries, e);
  return TRUE;
}

/* What a holder's proof covers: everything else of the inner JSON. */
static void
comp_proof (const guint8 key[SYNC_KEY_BYTES], const char *op, const char *cid, gint64 cepoch,
            const char *meta, const char *wrap, JsonArray *seals, guint8 out[SYNC_HASH_BYTES])
{
  g_autoptr (GString) s = g_string_new ("SPLK-comp-proof-1\n");
  crypto_generichash_state st;

  g_string_append_printf (s, "%s\n%s\n%" G_GINT64_FORMAT "\n%s\n%s\n", op, cid, cepoch,
                          meta ? meta : "", wrap ? wrap : "");
  for (guint i = 0; i < json_array_get_length (seals); i++)
    g_string_append_printf (s, "%s\n", json_array_get_string_element (seals, i));
  crypto_generichash_init (&st, key, SYNC_KEY_BYTES, SYNC_HASH_BYTES);
  crypto_generichash_update (&st, (const guint8 *)s->str, s->len);
  crypto_generichash_final (&st, out, SYNC_HASH_BYTES);
}

typedef struct
{
  const char *op, *cid, *wrap, *meta, *proof;
  gint64 cepoch;
  JsonArray *seals;
} CompInner;

static gboolean
parse_inner (JsonObject *o, CompInner *in)
{
  JsonNode *sn = json_object_get_member (o, "seals");

  memset (in, 0, sizeof *in);
  in->op = sync_json_str (o, "op", 16);
  in->cid = sync_json_str (o, "cid", 64);
  in->wrap = sync_json_str (o, "wrap", 200);
  in->meta = sync_json_str (o, "meta", META_MAX);
  in->proof = sync_json_str (o, "proof", 100);
  if (in->op == NULL || in->cid == NULL || !sync_id_is_valid (in->cid) || in->meta == NULL
      || !sync_json_int (o, "cepoch", &in->cepoch) || in->cepoch < 1 || in->cepoch > G_MAXUINT32
      || sn == NULL || !JSON_NODE_HOLDS_ARRAY (sn))
    return FALSE;
  in->seals = json_node_get_array (sn);
  if (json_array_get_length (in->seals) > SEALS_MAX)
    return FALSE;
  for (guint i = 0; i < json_array_get_length (in->seals); i++)
    {
      JsonNode *n = json_array_get_element (in->seals, i);
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        return FALSE;
    }
  return TRUE;
}

/* The op's place in the compartment's history, and a holder's proof. */
static gboolean
check_op (SyncCtx *c, const SyncCompEntry *e, const CompInner *in, SyncComp *comp, GError **error)
{
  g_autoptr (SpSecret) prev = NULL;
  guint8 want[SYNC_HASH_BYTES], got[SYNC_HASH_BYTES];

  if (strcmp (in->op, "create") == 0)
    {
      if (comp || in->cepoch != 1 || in->wrap)
        return sync_log_forged (error, e->version, "comp create");
      return TRUE;
    }
  if (comp == NULL)
    return sync_log_forged (error, e->version, "unknown compartment");
  if (strcmp (in->op, "grant") == 0)
    {
      if ((guint32)in->cepoch != comp->cepoch || in->wrap)
        return sync_log_forged (error, e->version, "comp grant");
    }
  else if (strcmp (in->op, "revoke") != 0 || (guint32)in->cepoch != comp->cepoch + 1
           || in->wrap == NULL)
    return sync_log_forged (error, e->version, "comp op");
  /* Only a holder of the compartment's current key can change it. */
  prev = sync_comp_key (c, comp->cid, comp->cepoch);
  if (prev == NULL)
    return TRUE; /* not a holder: nothing to check against */
  comp_proof (sp_secret_data (prev), in->op, in->cid, in->cepoch, in->meta, in->wrap, in->seals,
              want);
  if (in->proof == NULL || !sync_base64_decode_exact (in->proof, got, sizeof got, NULL)
      || sodium_memcmp (want, got, sizeof got) != 0)
    return sync_log_forged (error, e->version, "comp proof");
  return TRUE;
}

/* Name and holders, readable with K(cid, cepoch). */
static gboolean
read_meta (SyncComp *comp, const CompInner *in, const guint8 key[SYNC_KEY_BYTES], gint64 version,
           GError **error)
{
  g_autoptr (GBytes) box = sync_b64_decode (in->meta, META_MAX);
  g_autofree char *json
      = box ? sbox_open (g_bytes_get_data (box, NULL), g_bytes_get_size (box), key) : NULL;
  g_autoptr (JsonObject) o
      = json ? sync_parse_json_object ((const guint8 *)json, strlen (json), META_MAX, NULL) : NULL;
  JsonNode *hn = o ? json_object_get_member (o, "holders") : NULL;
  const char *name = sync_json_str (o, "name", 256);
  JsonArray *ha;
  g_autoptr (GPtrArray) holders = g_ptr_array_new_with_free_func (g_free);

  if (name == NULL || hn == NULL || !JSON_NODE_HOLDS_ARRAY (hn))
    return sync_log_forged (error, version, "comp meta");
  ha = json_node_get_array (hn);
  for (guint i = 0; i < json_array_get_length (ha) && i < SEALS_MAX; i++)
    {
      const char *d = json_array_get_string_element (ha, i);
      if (d == NULL || !sync_id_is_valid (d))
        return sync_log_forged (error, version, "comp holders");
      g_ptr_array_add (holders, g_strdup (d));
    }
  g_free (comp->name);
  comp->name = g_strdup (name);
  g_clear_pointer (&comp->holders, g_ptr_array_unref);
  comp->holders = g_steal_pointer (&holders);
  return TRUE;
}

/* Each key of the compartment wraps the one before: walk back. */
static gboolean
unwrap_back (SyncCtx *c, SyncComp *comp, gint64 version, GError **error)
{
  for (guint32 e = comp->cepoch; e > 1; e--)
    {
      g_autoptr (SpSecret) newer = sync_comp_key (c, comp->cid, e);
      g_autoptr (SpSecret) older = sync_comp_key (c, comp->cid, e - 1);
      GBytes *wrap = g_hash_table_lookup (comp->wraps, GUINT_TO_POINTER (e));
      const guint8 *w;
      guint8 prev[SYNC_KEY_BYTES];
      gboolean ok;

      if (newer == NULL || wrap == NULL || older)
        return TRUE;
      w = g_bytes_get_data (wrap, NULL);
      if (crypto_secretbox_open_easy (prev, w + crypto_secretbox_NONCEBYTES,
                                      WRAP_LEN - crypto_secretbox_NONCEBYTES, w,
                                      sp_secret_data (newer))
          != 0)
        return sync_log_forged (error, version, "comp wrap");
      ok = store_comp_key (c, version, comp->cid, e - 1, prev, error);
      sodium_memzero (prev, sizeof prev);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

static gboolean
comp_entry_apply (SyncCtx *c, const SyncCompEntry *e, JsonObject *inner, GError **error)
{
  CompInner in;
  SyncComp *comp;
  guint8 key[SYNC_KEY_BYTES];
  g_autoptr (SpSecret) held = NULL;
  gboolean ok = TRUE;

  if (!parse_inner (inner, &in))
    return sync_log_forged (error, e->version, "comp fields");
  comp = g_hash_table_lookup (c->comps, in.cid);
  if (!check_op (c, e, &in, comp, error))
    return FALSE;
  if (comp == NULL)
    {
      comp = g_new0 (SyncComp, 1);
      g_strlcpy (comp->cid, in.cid, sizeof comp->cid);
      comp->wraps = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                           (GDestroyNotify)g_bytes_unref);
      g_hash_table_insert (c->comps, comp->cid, comp);
    }
  comp->cepoch = (guint32)in.cepoch;
  if (in.wrap)
    {
      guint8 wrap[WRAP_LEN];
      if (!sync_base64_decode_exact (in.wrap, wrap, sizeof wrap, NULL))
        return sync_log_forged (error, e->version, "comp wrap");
      g_hash_table_insert (comp->wraps, GUINT_TO_POINTER (comp->cepoch),
                           g_bytes_new (wrap, sizeof wrap));
    }
  if (open_seals (c, in.seals, key))
    {
      ok = store_comp_key (c, e->version, comp->cid, comp->cepoch, key, error);
      sodium_memzero (key, sizeof key);
    }
  if (!ok || !unwrap_back (c, comp, e->version, error))
    return FALSE;
  held = sync_comp_key (c, comp->cid, comp->cepoch);
  return held == NULL || read_meta (comp, &in, sp_secret_data (held), e->version, error);
}

gboolean
sync_comps_load (SyncCtx *c, GError **error)
{
  g_hash_table_remove_all (c->comps);
  if (c->comp_entries->len && !sync_cbox_ensure (c, error))
    return FALSE;
  for (guint i = 0; i < c->comp_entries->len; i++)
    {
      const SyncCompEntry *e = c->comp_entries->pdata[i];
      g_autoptr (SpSecret) key = sync_epoch_key (c, e->epoch);
      g_autofree char *json = NULL;
      g_autoptr (JsonObject) inner = NULL;

      if (key == NULL)
        continue; /* an epoch this device cannot read (a removed device) */
      json = sbox_open (g_bytes_get_data (e->box, NULL), g_bytes_get_size (e->box),
                        sp_secret_data (key));
      inner = json ? sync_parse_json_object ((const guint8 *)json, strlen (json), ENTRY_MAX, NULL)
                   : NULL;
      if (inner == NULL)
        return sync_log_forged (error, e->version, "comp box");
      if (!comp_entry_apply (c, e, inner, error))
        return FALSE;
    }
  return TRUE;
}

/* ---- The vault follows the keys ---- */

static gboolean
add_vault_compartment (SyncCtx *c, SyncComp *comp, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *other = NULL;
  g_autofree char *rescan = g_strconcat ("rescan/", comp->cid, NULL);
  const char *name = comp->name ? comp->name : comp->cid;

  if (sp_vault_compartment_add (c->vault, name, comp->cid, &local) < 0)
    {
      if (!g_error_matches (local, SP_CORE_ERROR, SP_CORE_ERROR_INVALID))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      /* The name is taken here by another compartment: keep both apart. */
      other = g_strdup_printf ("%.50s (%.8s)", name, comp->cid);
      if (sp_vault_compartment_add (c->vault, other, comp->cid, error) < 0)
        return FALSE;
    }
  return sp_vault_sync_set_string (c->vault, rescan, "1", error);
}

gboolean
sync_comps_reconcile (SyncCtx *c, SyncReport *report, GError **error)
{
  GHashTableIter it;
  gpointer val;
  gboolean purged = FALSE, ok = TRUE;

  if (!sync_comps_load (c, error))
    return FALSE;
  if (g_hash_table_size (c->comps) == 0)
    return TRUE; /* a workspace without compartments: nothing to follow */
  if (!sp_vault_begin (c->vault, error))
    return FALSE;
  g_hash_table_iter_init (&it, c->comps);
  while (ok && g_hash_table_iter_next (&it, NULL, &val))
    {
      SyncComp *comp = val;
      g_autoptr (SpSecret) key = sync_comp_key (c, comp->cid, comp->cepoch);
      g_autoptr (GError) local = NULL;
      gint64 id = sp_vault_compartment_lookup_uid (c->vault, comp->cid, &local);
      g_autoptr (SpCompartment) held
          = id > 0 ? sp_vault_compartment_get (c->vault, id, NULL) : NULL;

      if (key && id < 0)
        ok = add_vault_compartment (c, comp, error);
      else if (key == NULL && id > 0)
        {
          /* No longer a holder: its records go, with its keys. */
          sync_problem (report,
                        _ ("This device no longer holds the compartment “%s”; its records "
                           "were removed from this vault"),
                        held ? held->name : comp->cid);
          ok = sp_vault_compartment_purge (c->vault, id, error)
               && sync_comp_forget_keys (c, comp->cid, error);
          purged = TRUE;
        }
      else if (key && comp->name && held && strcmp (held->name, comp->name) != 0)
        sp_vault_compartment_rename (c->vault, id, comp->name, NULL); /* a clash keeps ours */
    }
  if (!sync_vault_end (c->vault, ok, error))
    return FALSE;
  return !purged || sp_vault_compact (c->vault, error);
}

GPtrArray *
sync_comp_held_keys (SyncCtx *c, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (sync_held_key_free);
  g_autoptr (GPtrArray) names = sp_vault_sync_keys (c->vault, "ckey/", error);

  if (names == NULL)
    return NULL;
  for (guint i = 0; i < names->len; i++)
    {
      const char *n = (const char *)names->pdata[i] + 5;
      SyncHeldKey *h;
      g_autofree char *rescan = NULL;
      g_autofree char *mark = NULL;
      guint64 e;
      gint64 local;

      if (strlen (n) != SYNC_ID_HEX_LEN + 11 || n[SYNC_ID_HEX_LEN] != '/'
          || !g_ascii_string_to_unsigned (n + SYNC_ID_HEX_LEN + 1, 10, 1, G_MAXUINT32, &e, NULL))
        continue;
      h = g_new0 (SyncHeldKey, 1);
      memcpy (h->cid, n, SYNC_ID_HEX_LEN);
      h->cepoch = (guint32)e;
      local = sp_vault_compartment_lookup_uid (c->vault, h->cid, NULL);
      h->key = sp_vault_sync_get_secret (c->vault, names->pdata[i], NULL);
      if (local <= 0 || h->key == NULL || sp_secret_len (h->key) != SYNC_KEY_BYTES)
        {
          sync_held_key_free (h);
          continue;
        }
      h->local = local;
      rescan = g_strconcat ("rescan/", h->cid, NULL);
      mark = sp_vault_sync_get_string (c->vault, rescan, NULL);
      h->rescan = mark != NULL;
      g_ptr_array_add (out, h);
    }
  return g_steal_pointer (&out);
}

/* ---- Building entries ---- */

typedef struct
{
  const char *op;
  const char *cid;
  guint32 cepoch;
  const guint8 *key;  /* K(cid, cepoch) */
  const guint8 *prev; /* the compartment's key before (grant, revoke): proof, wrap */
  const char *name;
  GPtrArray *holders; /* char* */
  GPtrArray *seal_to; /* guint8[32] box keys */
} CompOp;

static char *
meta_box (const CompOp *op)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *json = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, op->name);
  json_builder_set_member_name (b, "holders");
  json_builder_begin_array (b);
  for (guint i = 0; i < op->holders->len; i++)
    json_builder_add_string_value (b, op->holders->pdata[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json = sync_to_json (b);
  return sbox_seal ((const guint8 *)json, strlen (json), op->key);
}

static char *
inner_json (const CompOp *op)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonArray) seals = json_array_new ();
  g_autofree char *meta = meta_box (op);
  g_autofree char *wrap = NULL;

  for (guint i = 0; i < op->seal_to->len; i++)
    {
      guint8 sealed[SEALED_LEN];
      g_autofree char *s64 = NULL;

      crypto_box_seal (sealed, op->key, SYNC_KEY_BYTES, op->seal_to->pdata[i]);
      s64 = sync_b64 (sealed, sizeof sealed);
      json_array_add_string_element (seals, s64);
    }
  if (strcmp (op->op, "revoke") == 0)
    {
      guint8 w[WRAP_LEN];

      randombytes_buf (w, crypto_secretbox_NONCEBYTES);
      crypto_secretbox_easy (w + crypto_secretbox_NONCEBYTES, op->prev, SYNC_KEY_BYTES, w, op->key);
      wrap = sync_b64 (w, sizeof w);
    }
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "op");
  json_builder_add_string_value (b, op->op);
  json_builder_set_member_name (b, "cid");
  json_builder_add_string_value (b, op->cid);
  json_builder_set_member_name (b, "cepoch");
  json_builder_add_int_value (b, op->cepoch);
  json_builder_set_member_name (b, "seals");
  json_builder_add_value (b, json_node_init_array (json_node_alloc (), seals));
  json_builder_set_member_name (b, "meta");
  json_builder_add_string_value (b, meta);
  if (wrap)
    {
      json_builder_set_member_name (b, "wrap");
      json_builder_add_string_value (b, wrap);
    }
  if (op->prev)
    {
      guint8 proof[SYNC_HASH_BYTES];
      g_autofree char *p64 = NULL;

      comp_proof (op->prev, op->op, op->cid, op->cepoch, meta, wrap, seals, proof);
      p64 = sync_b64 (proof, sizeof proof);
      json_builder_set_member_name (b, "proof");
      json_builder_add_string_value (b, p64);
    }
  json_builder_end_object (b);
  return sync_to_json (b);
}

/* After a race: the compartment is still where the op was built for. */
static gboolean
op_still_fits (SyncCtx *c, const CompOp *op)
{
  SyncComp *comp = g_hash_table_lookup (c->comps, op->cid);

  if (strcmp (op->op, "create") == 0)
    return comp == NULL;
  if (comp == NULL)
    return FALSE;
  return strcmp (op->op, "grant") == 0 ? comp->cepoch == op->cepoch
                                       : comp->cepoch + 1 == op->cepoch;
}

/* Builds, signs and appends the entry; rebuilt on a race. */
static gboolean
post_comp_op (SyncCtx *c, const CompOp *op, GError **error)
{
  for (guint attempt = 0; attempt < 5; attempt++)
    {
      g_autoptr (SpSecret) main_key = sync_epoch_key (c, c->epoch);
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autofree char *inner = NULL, *box = NULL, *body = NULL, *entry = NULL;
      gboolean raced = FALSE;

      if (main_key == NULL)
        return sync_fail (error, SYNC_ERROR_FAILED,
                          _ ("This device does not hold the current workspace key"));
      inner = inner_json (op);
      box = sbox_seal ((const guint8 *)inner, strlen (inner), sp_secret_data (main_key));
      sodium_memzero (inner, strlen (inner));
      sync_log_begin_body (c, b, "comp", c->epoch);
      json_builder_set_member_name (b, "device");
      json_builder_add_string_value (b, c->device);
      json_builder_set_member_name (b, "box");
      json_builder_add_string_value (b, box);
      json_builder_end_object (b);
      body = sync_to_json (b);
      entry = sync_log_sign (c, body);
      if (sync_log_post (c, entry, "other", c->device, &raced, error))
        return sync_comps_reconcile (c, NULL, error);
      if (!raced || !sync_comps_load (c, error))
        return FALSE;
      if (!op_still_fits (c, op))
        return sync_fail (error, SYNC_ERROR_FAILED,
                          _ ("Another admin changed this compartment meanwhile; try again"));
    }
  return sync_fail (error, SYNC_ERROR_FAILED, _ ("The membership log keeps changing; try again"));
}

/* ---- The public calls ---- */

void
sync_compartment_free (SyncCompartment *compartment)
{
  if (compartment == NULL)
    return;
  g_free (compartment->name);
  g_free (compartment->cid);
  g_strfreev (compartment->holders);
  g_free (compartment);
}

/* The context for a change: the log fresh, an admin, the vault reconciled. */
static SyncCtx *
load_for_change (SpVault *vault, const SyncOptions *opts, GError **error)
{
  g_autoptr (SyncCtx) c = sync_ctx_load (vault, opts, error);

  if (c == NULL || !sync_log_refresh (c, error) || !sync_require_admin (c, error)
      || !sync_cbox_ensure (c, error) || !sync_comps_reconcile (c, NULL, error))
    return NULL;
  return g_steal_pointer (&c);
}

/* A compartment held here by name, with its current key. */
static SyncComp *
held_comp (SyncCtx *c, const char *name, SpSecret **key, GError **error)
{
  g_autoptr (GError) local = NULL;
  gint64 id = name ? sp_vault_compartment_lookup (c->vault, name, &local) : -1;
  g_autoptr (SpCompartment) sc = id > 0 ? sp_vault_compartment_get (c->vault, id, NULL) : NULL;
  SyncComp *comp = sc ? g_hash_table_lookup (c->comps, sc->uid) : NULL;

  if (comp == NULL || (*key = sync_comp_key (c, comp->cid, comp->cepoch)) == NULL)
    {
      g_set_error (error, SYNC_ERROR, SYNC_ERROR_NOT_FOUND,
                   _ ("This device holds no workspace compartment named “%s”"), name ? name : "");
      return NULL;
    }
  return comp;
}

/* A device's compartment box key: its own, or the one its batches carried. */
static gboolean
device_cbox (SyncCtx *c, const char *device, guint8 pk[32], GError **error)
{
  g_autofree char *name = g_strconcat ("peer/cbox/", device, NULL);

  if (strcmp (device, c->device) == 0)
    {
      memcpy (pk, c->cbox_pk, 32);
      return TRUE;
    }
  if (sync_state_get_fixed (c->vault, name, pk, 32))
    return TRUE;
  g_set_error (error, SYNC_ERROR, SYNC_ERROR_FAILED,
               _ ("Device %.8s… has not sent its compartment key yet: let it sync once, then try "
                  "again"),
               device);
  return FALSE;
}

static gboolean
holders_have (GPtrArray *holders, const char *device)
{
  for (guint i = 0; holders && i < holders->len; i++)
    if (strcmp (holders->pdata[i], device) == 0)
      return TRUE;
  return FALSE;
}

gboolean
sync_compartment_create (SpVault *vault, const char *name, const SyncOptions *opts, GError **error)
{
  g_autoptr (SyncCtx) c = load_for_change (vault, opts, error);
  g_autoptr (SpSecret) key = sp_secret_new (SYNC_KEY_BYTES);
  g_autoptr (GPtrArray) holders = g_ptr_array_new ();
  g_autoptr (GPtrArray) seal_to = g_ptr_array_new ();
  g_autoptr (SpCompartment) sc = NULL;
  g_autoptr (GError) local = NULL;
  gint64 id;
  CompOp op = { "create", NULL, 1, NULL, NULL, NULL, holders, seal_to };

  if (c == NULL || key == NULL)
    return FALSE;
  /* A compartment made on this device alone is published under its uid. */
  id = sp_vault_compartment_lookup (vault, name, &local);
  if (id == 0 || (id > 0 && (sc = sp_vault_compartment_get (vault, id, error)) == NULL))
    return id == 0 ? sync_fail (error, SYNC_ERROR_FAILED,
                                _ ("“main” belongs to every device and cannot be created"))
                   : FALSE;
  if (sc && g_hash_table_contains (c->comps, sc->uid))
    {
      g_set_error (error, SYNC_ERROR, SYNC_ERROR_FAILED,
                   _ ("The compartment “%s” exists in the workspace already"), sc->name);
      return FALSE;
    }
  if (sc == NULL
      && ((id = sp_vault_compartment_add (vault, name, NULL, error)) < 0
          || (sc = sp_vault_compartment_get (vault, id, error)) == NULL))
    return FALSE;
  randombytes_buf (sp_secret_data (key), SYNC_KEY_BYTES);
  g_ptr_array_add (holders, c->device);
  g_ptr_array_add (seal_to, c->cbox_pk);
  op.cid = sc->uid;
  op.key = sp_secret_data (key);
  op.name = sc->name;
  return post_comp_op (c, &op, error);
}

gboolean
sync_compartment_grant (SpVault *vault, const char *name, const char *device,
                        const SyncOptions *opts, GError **error)
{
  g_autoptr (SyncCtx) c = load_for_change (vault, opts, error);
  g_autoptr (SpSecret) key = NULL;
  g_autoptr (GPtrArray) holders = g_ptr_array_new ();
  g_autoptr (GPtrArray) seal_to = g_ptr_array_new ();
  SyncComp *comp = c ? held_comp (c, name, &key, error) : NULL;
  const SyncMember *m = c ? g_hash_table_lookup (c->members, device ? device : "") : NULL;
  guint8 pk[32];
  CompOp op = { "grant", NULL, 0, NULL, NULL, NULL, holders, seal_to };

  if (comp == NULL)
    return FALSE;
  if (m == NULL || m->removed_at)
    return sync_fail (error, SYNC_ERROR_NOT_FOUND, _ ("No such device in the workspace"));
  /* A holder is granted again all the same: its box key may be new (a
   * journey), and the seal goes to the one it has now. */
  if (!device_cbox (c, device, pk, error))
    return FALSE;
  for (guint i = 0; comp->holders && i < comp->holders->len; i++)
    g_ptr_array_add (holders, comp->holders->pdata[i]);
  if (!holders_have (comp->holders, device))
    g_ptr_array_add (holders, (gpointer)m->id);
  g_ptr_array_add (seal_to, pk);
  op.cid = comp->cid;
  op.cepoch = comp->cepoch;
  op.key = sp_secret_data (key);
  op.prev = sp_secret_data (key);
  op.name = comp->name;
  return post_comp_op (c, &op, error);
}

/* A new epoch of @comp sealed to every holder but @device. */
static gboolean
rotate_without (SyncCtx *c, SyncComp *comp, SpSecret *prev, const char *device, GError **error)
{
  g_autoptr (SpSecret) fresh = sp_secret_new (SYNC_KEY_BYTES);
  g_autoptr (GPtrArray) holders = g_ptr_array_new ();
  g_autoptr (GPtrArray) seal_to = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *cid = g_strdup (comp->cid), *name = g_strdup (comp->name);
  CompOp op = { "revoke", cid, comp->cepoch + 1, NULL, NULL, name, holders, seal_to };

  if (fresh == NULL)
    return sync_fail (error, SYNC_ERROR_FAILED, _ ("Out of secure memory"));
  for (guint i = 0; comp->holders && i < comp->holders->len; i++)
    {
      const char *h = comp->holders->pdata[i];
      const SyncMember *m = g_hash_table_lookup (c->members, h);
      guint8 *pk = g_malloc (32);

      if (strcmp (h, device) == 0 || m == NULL || m->removed_at)
        {
          g_free (pk);
          continue;
        }
      if (!device_cbox (c, h, pk, error))
        {
          g_free (pk);
          return FALSE;
        }
      g_ptr_array_add (holders, (gpointer)h);
      g_ptr_array_add (seal_to, pk);
    }
  randombytes_buf (sp_secret_data (fresh), SYNC_KEY_BYTES);
  op.key = sp_secret_data (fresh);
  op.prev = sp_secret_data (prev);
  return post_comp_op (c, &op, error);
}

gboolean
sync_compartment_revoke (SpVault *vault, const char *name, const char *device,
                         const SyncOptions *opts, GError **error)
{
  g_autoptr (SyncCtx) c = load_for_change (vault, opts, error);
  g_autoptr (SpSecret) key = NULL;
  SyncComp *comp = c ? held_comp (c, name, &key, error) : NULL;

  if (comp == NULL)
    return FALSE;
  if (device == NULL || !holders_have (comp->holders, device))
    return sync_fail (error, SYNC_ERROR_NOT_FOUND,
                      _ ("That device does not hold this compartment"));
  if (strcmp (device, c->device) == 0)
    return sync_fail (error, SYNC_ERROR_FAILED,
                      _ ("A device cannot take a compartment from itself; ask another admin"));
  return rotate_without (c, comp, key, device, error);
}

gboolean
sync_comps_rotate_removed (SyncCtx *c, const char *device, guint *not_held, GError **error)
{
  g_autoptr (GPtrArray) cids = NULL;
  GHashTableIter it;
  gpointer val;

  if (not_held)
    *not_held = 0;
  if (!sync_cbox_ensure (c, error) || !sync_comps_load (c, error))
    return FALSE;
  cids = g_ptr_array_new_with_free_func (g_free);
  g_hash_table_iter_init (&it, c->comps);
  while (g_hash_table_iter_next (&it, NULL, &val))
    g_ptr_array_add (cids, g_strdup (((SyncComp *)val)->cid));
  for (guint i = 0; i < cids->len; i++)
    {
      SyncComp *comp = g_hash_table_lookup (c->comps, cids->pdata[i]);
      g_autoptr (SpSecret) key = comp ? sync_comp_key (c, comp->cid, comp->cepoch) : NULL;

      if (comp == NULL)
        continue;
      if (key == NULL)
        {
          if (not_held)
            (*not_held)++; /* another admin who holds it must rotate it */
          continue;
        }
      if (holders_have (comp->holders, device) && !rotate_without (c, comp, key, device, error))
        return FALSE;
    }
  return TRUE;
}

static int
compare_compartments (gconstpointer a, gconstpointer b)
{
  const SyncCompartment *x = *(SyncCompartment *const *)a, *y = *(SyncCompartment *const *)b;

  return (x->local > y->local) - (x->local < y->local);
}

GPtrArray *
sync_compartment_list (SpVault *vault, guint *workspace_total, const SyncOptions *opts,
                       GError **error)
{
  g_autoptr (SyncCtx) c = sync_ctx_load_full (vault, opts, FALSE, error);
  g_autoptr (GPtrArray) held = NULL;
  g_autoptr (GPtrArray) out = NULL;

  if (c == NULL || !sync_cbox_ensure (c, error) || !sync_comps_load (c, error)
      || (held = sp_vault_compartments (vault, error)) == NULL)
    return NULL;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify)sync_compartment_free);
  for (guint i = 0; i < held->len; i++)
    {
      const SpCompartment *sc = held->pdata[i];
      SyncComp *comp = sc->id ? g_hash_table_lookup (c->comps, sc->uid) : NULL;
      SyncCompartment *o = g_new0 (SyncCompartment, 1);

      o->name = g_strdup (sc->name);
      o->cid = g_strdup (sc->uid);
      o->local = sc->id;
      o->records = sc->records;
      o->published = sc->id == 0 || comp != NULL;
      o->cepoch = comp ? comp->cepoch : 0;
      o->holders = g_new0 (char *, comp && comp->holders ? comp->holders->len + 1 : 1);
      for (guint j = 0; comp && comp->holders && j < comp->holders->len; j++)
        o->holders[j] = g_strdup (comp->holders->pdata[j]);
      g_ptr_array_add (out, o);
    }
  g_ptr_array_sort (out, compare_compartments);
  if (workspace_total)
    *workspace_total = g_hash_table_size (c->comps);
  return g_steal_pointer (&out);
}
