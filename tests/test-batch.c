/* Batch envelopes: round trip, padding, and every kind of tampering.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <string.h>
#include <gio/gio.h>
#include <sodium.h>

#include "sync-batch.h"
#include "sync-protocol.h"

typedef struct
{
  guint8 epoch_key[SYNC_KEY_BYTES];
  guint8 pk[32], sk[64];
  SyncBatchInfo info;
} Fixture;

static void
change_free_cb (gpointer p)
{
  sp_change_free (p);
}

static void
fixture_init (Fixture *f)
{
  randombytes_buf (f->epoch_key, sizeof f->epoch_key);
  crypto_sign_keypair (f->pk, f->sk);
  memset (&f->info, 0, sizeof f->info);
  randombytes_buf (f->info.workspace, SYNC_ID_BYTES);
  randombytes_buf (f->info.device, SYNC_ID_BYTES);
  f->info.epoch = 3;
  f->info.seq = 42;
  randombytes_buf (f->info.prev_hash, SYNC_HASH_BYTES);
  randombytes_buf (f->info.log_head, SYNC_HASH_BYTES);
}

static GPtrArray *
make_changes (const guint8 device[SYNC_ID_BYTES], guint n, const char *marker)
{
  GPtrArray *arr = g_ptr_array_new_with_free_func (change_free_cb);
  char dev[2 * SYNC_ID_BYTES + 1];

  sodium_bin2hex (dev, sizeof dev, device, SYNC_ID_BYTES);
  for (guint i = 0; i < n; i++)
    {
      SpChange *c = g_new0 (SpChange, 1);
      c->record = g_strdup_printf ("%032x", i + 1);
      c->kind = g_strdup ("org");
      c->field = g_strdup (i % 3 ? "name" : "_cl");
      c->value = i % 7 == 6 ? NULL : g_strdup_printf ("%s %u «Мінск»", marker, i);
      c->hlc = G_GUINT64_CONSTANT (117665376232341504) + i;
      c->device = g_strdup (dev);
      c->supersedes = g_strdup (i % 2 ? "117665376232341504@0123456789abcdef0123456789abcdef" : "");
      c->tx = 7 + i / 10;
      g_ptr_array_add (arr, c);
    }
  return arr;
}

static void
test_round_trip (void)
{
  Fixture f;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) changes = NULL;
  g_autoptr (GHashTable) vv = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GBytes) env = NULL;
  g_autoptr (SyncBatch) batch = NULL;
  guint64 seq = 17;
  SyncBatchInfo peek;

  fixture_init (&f);
  changes = make_changes (f.info.device, 50, "Plaintext-Marker-9931");
  g_hash_table_insert (vv, g_strdup ("0123456789abcdef0123456789abcdef"), g_memdup2 (&seq, 8));
  env = sync_batch_seal (&f.info, changes, vv, f.epoch_key, f.sk, &error);
  g_assert_no_error (error);
  /* Nothing readable travels. */
  g_assert_null (
      memmem (g_bytes_get_data (env, NULL), g_bytes_get_size (env), "Plaintext-Marker", 16));
  g_assert_true (sync_batch_peek (env, &peek, &error));
  g_assert_cmpuint (peek.seq, ==, 42);
  g_assert_cmpuint (peek.epoch, ==, 3);
  g_assert_cmpmem (peek.workspace, SYNC_ID_BYTES, f.info.workspace, SYNC_ID_BYTES);

  batch = sync_batch_open (env, f.epoch_key, f.pk, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (batch->changes->len, ==, 50);
  for (guint i = 0; i < 50; i++)
    {
      SpChange *a = changes->pdata[i], *b = batch->changes->pdata[i];
      g_assert_cmpstr (a->record, ==, b->record);
      g_assert_cmpstr (a->kind, ==, b->kind);
      g_assert_cmpstr (a->field, ==, b->field);
      g_assert_cmpstr (a->value, ==, b->value);
      g_assert_cmpuint (a->hlc, ==, b->hlc);
      g_assert_cmpstr (a->device, ==, b->device);
      g_assert_cmpstr (a->supersedes, ==, b->supersedes);
      g_assert_cmpint (a->tx, ==, b->tx);
    }
  g_assert_cmpuint (*(guint64 *)g_hash_table_lookup (batch->vv, "0123456789abcdef0123456789abcdef"),
                    ==, 17);
}

static void
test_padding (void)
{
  /* At least 1 KiB steps, never shorter than the input, Padmé above. */
  g_assert_cmpuint (sync_pad_length (0), ==, 1024);
  g_assert_cmpuint (sync_pad_length (1), ==, 1024);
  g_assert_cmpuint (sync_pad_length (1024), ==, 1024);
  g_assert_cmpuint (sync_pad_length (1025), ==, 2048);
  for (gsize n = 1; n < 5000000; n = n * 3 + 7)
    {
      gsize p = sync_pad_length (n);
      g_assert_cmpuint (p, >=, n);
      g_assert_cmpuint (p % 1024, ==, 0);
      /* Padmé overhead stays under 12 % above 1 KiB rounding. */
      if (n > 65536)
        g_assert_cmpfloat ((double)p / (double)n, <, 1.12);
    }
  /* Similar sizes share a bucket, so lengths say little. */
  g_assert_cmpuint (sync_pad_length (100000), ==, sync_pad_length (100100));
}

static GBytes *
sealed (Fixture *f)
{
  g_autoptr (GPtrArray) changes = make_changes (f->info.device, 5, "x");

  return sync_batch_seal (&f->info, changes, NULL, f->epoch_key, f->sk, NULL);
}

static void
test_tampering (void)
{
  Fixture f;
  g_autoptr (GBytes) env = NULL;
  gsize len;
  const guint8 *orig;

  fixture_init (&f);
  env = sealed (&f);
  orig = g_bytes_get_data (env, &len);
  /* Flip every byte position in turn: each must be refused, nothing crash. */
  for (gsize i = 0; i < len; i++)
    {
      g_autofree guint8 *copy = g_memdup2 (orig, len);
      g_autoptr (GBytes) bad = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (SyncBatch) b = NULL;

      copy[i] ^= 0x20;
      bad = g_bytes_new (copy, len);
      b = sync_batch_open (bad, f.epoch_key, f.pk, &error);
      g_assert_null (b);
      g_assert_true (error->domain == SYNC_ERROR);
    }
  /* Truncations and extensions. */
  for (gsize cut = 0; cut < len; cut += (cut < 200 ? 1 : 97))
    {
      g_autoptr (GBytes) bad = g_bytes_new (orig, cut);
      g_autoptr (GError) error = NULL;
      g_assert_null (sync_batch_open (bad, f.epoch_key, f.pk, &error));
      g_assert_error (error, SYNC_ERROR, SYNC_ERROR_MALFORMED);
    }
  {
    g_autofree guint8 *longer = g_malloc0 (len + 1);
    g_autoptr (GBytes) bad = NULL;
    g_autoptr (GError) error = NULL;
    memcpy (longer, orig, len);
    bad = g_bytes_new (longer, len + 1);
    g_assert_null (sync_batch_open (bad, f.epoch_key, f.pk, &error));
  }
}

static void
test_wrong_keys (void)
{
  Fixture f;
  g_autoptr (GBytes) env = NULL;
  g_autoptr (GError) error = NULL;
  guint8 other_key[SYNC_KEY_BYTES], other_pk[32], other_sk[64];

  fixture_init (&f);
  env = sealed (&f);
  randombytes_buf (other_key, sizeof other_key);
  crypto_sign_keypair (other_pk, other_sk);
  g_assert_null (sync_batch_open (env, other_key, f.pk, &error));
  g_assert_error (error, SYNC_ERROR, SYNC_ERROR_FORGED);
  g_clear_error (&error);
  g_assert_null (sync_batch_open (env, f.epoch_key, other_pk, &error));
  g_assert_error (error, SYNC_ERROR, SYNC_ERROR_FORGED);
  g_clear_error (&error);

  /* A re-signed forgery by someone without the epoch key fails the commitment. */
  {
    gsize len;
    g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (env, NULL), g_bytes_get_size (env));
    g_autoptr (GBytes) forged = NULL;
    guint8 digest[64];

    len = g_bytes_get_size (env);
    copy[50] ^= 1; /* seq */
    crypto_generichash (digest, 64, copy, len - 64, NULL, 0);
    crypto_sign_detached (copy + len - 64, NULL, digest, 64, other_sk);
    forged = g_bytes_new (copy, len);
    g_assert_null (sync_batch_open (forged, f.epoch_key, other_pk, &error));
    g_assert_error (error, SYNC_ERROR, SYNC_ERROR_FORGED);
  }
}

/* Authentic but hostile plaintext: a signer with the key sends garbage. */
static void
test_hostile_plaintext (void)
{
  Fixture f;
  g_autoptr (GPtrArray) changes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) env = NULL;
  g_autoptr (SyncBatch) b = NULL;

  fixture_init (&f);
  /* Device ids inside changes are ignored: the envelope's device wrote them. */
  changes = make_changes (f.info.device, 2, "y");
  g_free (((SpChange *)changes->pdata[0])->device);
  ((SpChange *)changes->pdata[0])->device = g_strdup ("ffffffffffffffffffffffffffffffff");
  env = sync_batch_seal (&f.info, changes, NULL, f.epoch_key, f.sk, &error);
  b = sync_batch_open (env, f.epoch_key, f.pk, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (((SpChange *)b->changes->pdata[0])->device, !=,
                   "ffffffffffffffffffffffffffffffff");
}

/* Nesting a JSON parser would recurse into until the stack overflows. */
static void
test_deep_nesting (void)
{
  SyncBatchInfo info = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *json = g_strnfill (200000, '[');
  g_autoptr (GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_RAW, 9);
  guint8 packed[65536], *plain;
  gsize r = 0, w = 0;
  SyncBatch *b;

  g_assert_cmpint (g_converter_convert (G_CONVERTER (z), json, strlen (json), packed, sizeof packed,
                                        G_CONVERTER_INPUT_AT_END, &r, &w, NULL),
                   ==, G_CONVERTER_FINISHED);
  plain = g_malloc0 (4 + w);
  plain[0] = (guint8)w;
  plain[1] = (guint8)(w >> 8);
  memcpy (plain + 4, packed, w);
  b = sync_batch_decode_plaintext (plain, 4 + w, &info, &error);
  g_assert_null (b);
  g_assert_error (error, SYNC_ERROR, SYNC_ERROR_MALFORMED);
  g_free (plain);
}

/* ---- The snapshot frame (sync/protocol's codec) ---- */

static guint8 *
make_snapshot (SyncSnapshotHeader *h, gsize ct_len, const guint8 sk[64], gsize *len)
{
  guint8 *snap;

  randombytes_buf (h, sizeof *h);
  h->ct_len = ct_len;
  *len = sync_snapshot_total_len (ct_len);
  snap = g_malloc (*len);
  sync_snapshot_write_header (h, snap);
  randombytes_buf (snap + SYNC_SNAPSHOT_HEADER_LEN, ct_len);
  sync_snapshot_sign (snap, *len, sk);
  return snap;
}

static void
test_snapshot_codec (void)
{
  guint8 pk[32], sk[64], other_pk[32], other_sk[64], again[SYNC_SNAPSHOT_HEADER_LEN];
  SyncSnapshotHeader h, got;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *snap = NULL;
  gsize len;

  crypto_sign_keypair (pk, sk);
  crypto_sign_keypair (other_pk, other_sk);
  snap = make_snapshot (&h, 100 + SYNC_SNAPSHOT_TAG_LEN, sk, &len);
  g_assert_cmpuint (len, ==, 148 + 116 + 64);
  g_assert_true (memcmp (snap, "SPLS\1\0\0\0", 8) == 0);

  /* Round trip: every field back, and the same bytes written again. */
  g_assert_true (sync_snapshot_parse_header (snap, len, &got, &error));
  g_assert_no_error (error);
  g_assert_true (memcmp (got.workspace, h.workspace, SYNC_ID_LEN) == 0);
  g_assert_true (memcmp (got.device, h.device, SYNC_ID_LEN) == 0);
  g_assert_cmpuint (got.epoch, ==, h.epoch);
  g_assert_cmpuint (got.cursor, ==, h.cursor);
  g_assert_true (memcmp (got.log_head, h.log_head, SYNC_HASH_LEN) == 0);
  g_assert_true (memcmp (got.commitment, h.commitment, SYNC_HASH_LEN) == 0);
  g_assert_true (memcmp (got.nonce, h.nonce, SYNC_SNAPSHOT_NONCE_LEN) == 0);
  g_assert_cmpuint (got.ct_len, ==, 100 + SYNC_SNAPSHOT_TAG_LEN);
  sync_snapshot_write_header (&got, again);
  g_assert_true (memcmp (again, snap, sizeof again) == 0);
  /* The documented layout: epoch at 40, cursor at 44, ct_len at 140 (LE). */
  g_assert_cmpuint (snap[40], ==, h.epoch & 0xff);
  g_assert_cmpuint (snap[44], ==, h.cursor & 0xff);
  g_assert_cmpuint (snap[140], ==, (100 + SYNC_SNAPSHOT_TAG_LEN) & 0xff);

  /* Signature: the signer's key only, and any changed byte breaks it. */
  g_assert_true (sync_snapshot_signature_ok (snap, len, pk));
  g_assert_false (sync_snapshot_signature_ok (snap, len, other_pk));
  for (gsize i = 0; i < len; i++)
    {
      snap[i] ^= 0x01;
      g_assert_false (sync_snapshot_signature_ok (snap, len, pk));
      snap[i] ^= 0x01;
    }

  /* Every truncation, and one byte too many, is refused. */
  for (gsize n = 0; n < len; n++)
    {
      g_assert_false (sync_snapshot_parse_header (snap, n, &got, &error));
      g_assert_error (error, SYNC_PROTOCOL_ERROR, SYNC_PROTOCOL_ERROR_MALFORMED);
      g_clear_error (&error);
    }
  {
    g_autofree guint8 *longer = g_malloc0 (len + 1);

    memcpy (longer, snap, len);
    g_assert_false (sync_snapshot_parse_header (longer, len + 1, &got, NULL));
  }
}

static void
test_snapshot_garbage (void)
{
  static const struct
  {
    gsize offset;
    guint8 value;
  } bad[] = {
    { 0, 'X' },  /* magic */
    { 3, 'B' },  /* "SPLB", a batch envelope's magic */
    { 4, 2 },    /* version */
    { 4, 0 },    /* version */
    { 5, 1 },    /* reserved */
    { 7, 0x80 }, /* reserved */
    { 140, 0 },  /* ct_len */
    { 147, 1 },  /* ct_len's top byte: a huge length */
  };
  guint8 sk[64], pk[32];
  SyncSnapshotHeader h, got;
  g_autofree guint8 *snap = NULL;
  gsize len;

  crypto_sign_keypair (pk, sk);
  snap = make_snapshot (&h, 40, sk, &len);
  g_assert_true (sync_snapshot_parse_header (snap, len, &got, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree guint8 *copy = g_memdup2 (snap, len);
      g_autoptr (GError) error = NULL;

      copy[bad[i].offset] = bad[i].value;
      g_assert_false (sync_snapshot_parse_header (copy, len, &got, &error));
      g_assert_error (error, SYNC_PROTOCOL_ERROR, SYNC_PROTOCOL_ERROR_MALFORMED);
    }
  /* A frame too short to hold the AEAD tag, even with a matching ct_len. */
  g_clear_pointer (&snap, g_free);
  snap = make_snapshot (&h, SYNC_SNAPSHOT_TAG_LEN - 1, sk, &len);
  g_assert_false (sync_snapshot_parse_header (snap, len, &got, NULL));
  /* Random bytes of every small length. */
  for (guint i = 0; i < 2000; i++)
    {
      guint8 junk[400];
      gsize n = randombytes_uniform (sizeof junk + 1);

      randombytes_buf (junk, sizeof junk);
      g_assert_false (sync_snapshot_parse_header (junk, n, &got, NULL));
      g_assert_false (sync_snapshot_signature_ok (junk, n, pk));
    }
  g_assert_false (sync_snapshot_parse_header (NULL, 0, &got, NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_add_func ("/batch/round-trip", test_round_trip);
  g_test_add_func ("/batch/padding", test_padding);
  g_test_add_func ("/batch/tampering", test_tampering);
  g_test_add_func ("/batch/wrong-keys", test_wrong_keys);
  g_test_add_func ("/batch/hostile-plaintext", test_hostile_plaintext);
  g_test_add_func ("/batch/deep-nesting", test_deep_nesting);
  g_test_add_func ("/batch/snapshot-codec", test_snapshot_codec);
  g_test_add_func ("/batch/snapshot-garbage", test_snapshot_garbage);
  return g_test_run ();
}
