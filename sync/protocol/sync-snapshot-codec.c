/* The workspace snapshot's binary frame. Layout: sync-protocol.h.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include <sodium.h>
#include <string.h>

#include "sync-frame.h"
#include "sync-protocol.h"

/* Field offsets (see the table in sync-protocol.h). */
enum
{
  OFF_MAGIC = 0,
  OFF_VERSION = 4,
  OFF_RESERVED = 5,
  OFF_WORKSPACE = 8,
  OFF_DEVICE = 24,
  OFF_EPOCH = 40,
  OFF_CURSOR = 44,
  OFF_LOG_HEAD = 52,
  OFF_COMMITMENT = 84,
  OFF_NONCE = 116,
  OFF_CT_LEN = 140,
  OFF_CT = 148,
};

G_STATIC_ASSERT (OFF_CT == SYNC_SNAPSHOT_HEADER_LEN);
G_STATIC_ASSERT (OFF_NONCE + SYNC_SNAPSHOT_NONCE_LEN == OFF_CT_LEN);
G_STATIC_ASSERT (OFF_COMMITMENT + SYNC_HASH_LEN == OFF_NONCE);
G_STATIC_ASSERT (OFF_WORKSPACE == SYNC_SNAPSHOT_KEY_CONTEXT_OFFSET);
G_STATIC_ASSERT (OFF_LOG_HEAD - OFF_WORKSPACE == SYNC_SNAPSHOT_KEY_CONTEXT_LEN);
G_STATIC_ASSERT (SYNC_SNAPSHOT_TAG_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES);

#define OVERHEAD (SYNC_SNAPSHOT_HEADER_LEN + SYNC_SNAPSHOT_SIGNATURE_LEN)
#define SIGNED_DIGEST_LEN 64 /* BLAKE2b-512 */

static gboolean
bad_snapshot (GError **error, const char *what)
{
  g_set_error (error, SYNC_PROTOCOL_ERROR, SYNC_PROTOCOL_ERROR_MALFORMED,
               "Malformed workspace snapshot: %s", what);
  return FALSE;
}

gboolean
sync_snapshot_parse_header (const guint8 *data, gsize len, SyncSnapshotHeader *out, GError **error)
{
  const char *problem;
  guint64 ct_len;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  memset (out, 0, sizeof *out);
  if (len < OVERHEAD + SYNC_SNAPSHOT_TAG_LEN || len > SYNC_SNAPSHOT_MAX_LEN)
    return bad_snapshot (error, "too short or too long");
  if ((problem = sync_frame_prefix_problem (data, SYNC_SNAPSHOT_MAGIC, SYNC_SNAPSHOT_VERSION)))
    return bad_snapshot (error, problem);
  ct_len = sync_frame_read_le (data + OFF_CT_LEN, 8);
  /* len ≤ 600 MiB, so the subtraction is exact and nothing overflows. */
  if (ct_len != len - OVERHEAD)
    return bad_snapshot (error, "ct_len does not match the snapshot's length");

  memcpy (out->workspace, data + OFF_WORKSPACE, SYNC_ID_LEN);
  memcpy (out->device, data + OFF_DEVICE, SYNC_ID_LEN);
  out->epoch = (guint32)sync_frame_read_le (data + OFF_EPOCH, 4);
  out->cursor = sync_frame_read_le (data + OFF_CURSOR, 8);
  memcpy (out->log_head, data + OFF_LOG_HEAD, SYNC_HASH_LEN);
  memcpy (out->commitment, data + OFF_COMMITMENT, SYNC_HASH_LEN);
  memcpy (out->nonce, data + OFF_NONCE, SYNC_SNAPSHOT_NONCE_LEN);
  out->ct_len = ct_len;
  return TRUE;
}

void
sync_snapshot_write_header (const SyncSnapshotHeader *header, guint8 out[SYNC_SNAPSHOT_HEADER_LEN])
{
  g_return_if_fail (header != NULL && out != NULL);

  sync_frame_write_prefix (out, SYNC_SNAPSHOT_MAGIC, SYNC_SNAPSHOT_VERSION);
  memcpy (out + OFF_WORKSPACE, header->workspace, SYNC_ID_LEN);
  memcpy (out + OFF_DEVICE, header->device, SYNC_ID_LEN);
  sync_frame_write_le (out + OFF_EPOCH, header->epoch, 4);
  sync_frame_write_le (out + OFF_CURSOR, header->cursor, 8);
  memcpy (out + OFF_LOG_HEAD, header->log_head, SYNC_HASH_LEN);
  memcpy (out + OFF_COMMITMENT, header->commitment, SYNC_HASH_LEN);
  memcpy (out + OFF_NONCE, header->nonce, SYNC_SNAPSHOT_NONCE_LEN);
  sync_frame_write_le (out + OFF_CT_LEN, header->ct_len, 8);
}

gsize
sync_snapshot_total_len (guint64 ct_len)
{
  return OVERHEAD + (gsize)ct_len;
}

void
sync_snapshot_sign (guint8 *data, gsize len, const guint8 sign_sk[64])
{
  guint8 digest[SIGNED_DIGEST_LEN];

  g_return_if_fail (data != NULL && len >= OVERHEAD && sign_sk != NULL);

  crypto_generichash (digest, sizeof digest, data, len - SYNC_SNAPSHOT_SIGNATURE_LEN, NULL, 0);
  crypto_sign_detached (data + len - SYNC_SNAPSHOT_SIGNATURE_LEN, NULL, digest, sizeof digest,
                        sign_sk);
}

gboolean
sync_snapshot_signature_ok (const guint8 *data, gsize len, const guint8 sign_pk[32])
{
  guint8 digest[SIGNED_DIGEST_LEN];

  g_return_val_if_fail (sign_pk != NULL, FALSE);

  if (data == NULL || len < OVERHEAD)
    return FALSE;
  crypto_generichash (digest, sizeof digest, data, len - SYNC_SNAPSHOT_SIGNATURE_LEN, NULL, 0);
  return crypto_sign_verify_detached (data + len - SYNC_SNAPSHOT_SIGNATURE_LEN, digest,
                                      sizeof digest, sign_pk)
         == 0;
}
