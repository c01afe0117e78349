/* The batch envelope's outer header. Layout and offsets: sync-protocol.h.
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
  OFF_SEQ = 44,
  OFF_PREV_HASH = 52,
  OFF_LOG_HEAD = 84,
  OFF_COMMITMENT = 116,
  OFF_NONCE = 148,
  OFF_CT_LEN = 172,
  OFF_CT = 176,
};

G_STATIC_ASSERT (OFF_NONCE == SYNC_ENVELOPE_HEADER_LEN);
G_STATIC_ASSERT (OFF_NONCE == SYNC_ENVELOPE_NONCE_OFFSET);
G_STATIC_ASSERT (OFF_CT_LEN == SYNC_ENVELOPE_CT_LEN_OFFSET);
G_STATIC_ASSERT (OFF_CT == SYNC_ENVELOPE_CT_OFFSET);
G_STATIC_ASSERT (OFF_COMMITMENT + SYNC_HASH_LEN == OFF_NONCE);
G_STATIC_ASSERT (OFF_NONCE + SYNC_ENVELOPE_NONCE_LEN == OFF_CT_LEN);

static gboolean
bad_envelope (GError **error, int code, const char *what)
{
  g_set_error (error, SYNC_PROTOCOL_ERROR, code, "Malformed batch envelope: %s", what);
  return FALSE;
}

gboolean
sync_envelope_parse_header (const guint8 *data, gsize len, SyncEnvelopeHeader *out, GError **error)
{
  const char *problem;
  guint32 ct_len;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  memset (out, 0, sizeof *out);
  if (len < SYNC_ENVELOPE_OVERHEAD)
    return bad_envelope (error, SYNC_PROTOCOL_ERROR_MALFORMED, "too short");
  if ((problem = sync_frame_prefix_problem (data, SYNC_ENVELOPE_MAGIC, SYNC_ENVELOPE_VERSION)))
    return bad_envelope (error, SYNC_PROTOCOL_ERROR_MALFORMED, problem);

  ct_len = (guint32)sync_frame_read_le (data + OFF_CT_LEN, 4);
  if (ct_len > SYNC_ENVELOPE_MAX_CT)
    return bad_envelope (error, SYNC_PROTOCOL_ERROR_TOO_LARGE, "ciphertext over 4 MiB");
  /* ct_len ≤ 4 MiB, so the sum cannot overflow. */
  if (len != (gsize)SYNC_ENVELOPE_OVERHEAD + ct_len)
    return bad_envelope (error, SYNC_PROTOCOL_ERROR_MALFORMED,
                         "ct_len does not match the envelope's length");

  out->version = data[OFF_VERSION];
  memcpy (out->workspace, data + OFF_WORKSPACE, SYNC_ID_LEN);
  memcpy (out->device, data + OFF_DEVICE, SYNC_ID_LEN);
  out->epoch = (guint32)sync_frame_read_le (data + OFF_EPOCH, 4);
  out->seq = sync_frame_read_le (data + OFF_SEQ, 8);
  memcpy (out->prev_hash, data + OFF_PREV_HASH, SYNC_HASH_LEN);
  memcpy (out->log_head, data + OFF_LOG_HEAD, SYNC_HASH_LEN);
  memcpy (out->commitment, data + OFF_COMMITMENT, SYNC_HASH_LEN);
  memcpy (out->nonce, data + OFF_NONCE, SYNC_ENVELOPE_NONCE_LEN);
  out->ct_len = ct_len;
  if (out->seq < 1)
    {
      memset (out, 0, sizeof *out);
      return bad_envelope (error, SYNC_PROTOCOL_ERROR_MALFORMED, "seq must be at least 1");
    }
  return TRUE;
}

void
sync_envelope_hash (const guint8 *data, gsize len, guint8 out[SYNC_HASH_LEN])
{
  sync_hash (data, len, out);
}

#define SIGNED_DIGEST_LEN 64 /* BLAKE2b-512, as in sync/client/sync-batch.c */

static void
signed_digest (const guint8 *data, gsize len, guint8 out[SIGNED_DIGEST_LEN])
{
  crypto_generichash (out, SIGNED_DIGEST_LEN, data, len, NULL, 0);
}

GBytes *
sync_envelope_build (const SyncEnvelopeHeader *header, const guint8 *ciphertext, gsize ct_len,
                     const guint8 sign_sk[64], GError **error)
{
  guint8 digest[SIGNED_DIGEST_LEN];
  gsize total;
  guint8 *buf;

  g_return_val_if_fail (header != NULL, NULL);
  g_return_val_if_fail (ciphertext != NULL || ct_len == 0, NULL);
  g_return_val_if_fail (sign_sk != NULL, NULL);

  if (ct_len > SYNC_ENVELOPE_MAX_CT)
    {
      bad_envelope (error, SYNC_PROTOCOL_ERROR_TOO_LARGE, "ciphertext over 4 MiB");
      return NULL;
    }
  if (header->seq < 1)
    {
      bad_envelope (error, SYNC_PROTOCOL_ERROR_MALFORMED, "seq must be at least 1");
      return NULL;
    }

  total = SYNC_ENVELOPE_OVERHEAD + ct_len;
  buf = g_malloc0 (total);
  sync_frame_write_prefix (buf, SYNC_ENVELOPE_MAGIC, SYNC_ENVELOPE_VERSION);
  memcpy (buf + OFF_WORKSPACE, header->workspace, SYNC_ID_LEN);
  memcpy (buf + OFF_DEVICE, header->device, SYNC_ID_LEN);
  sync_frame_write_le (buf + OFF_EPOCH, header->epoch, 4);
  sync_frame_write_le (buf + OFF_SEQ, header->seq, 8);
  memcpy (buf + OFF_PREV_HASH, header->prev_hash, SYNC_HASH_LEN);
  memcpy (buf + OFF_LOG_HEAD, header->log_head, SYNC_HASH_LEN);
  memcpy (buf + OFF_COMMITMENT, header->commitment, SYNC_HASH_LEN);
  memcpy (buf + OFF_NONCE, header->nonce, SYNC_ENVELOPE_NONCE_LEN);
  sync_frame_write_le (buf + OFF_CT_LEN, ct_len, 4);
  if (ct_len)
    memcpy (buf + OFF_CT, ciphertext, ct_len);

  signed_digest (buf, OFF_CT + ct_len, digest);
  crypto_sign_detached (buf + OFF_CT + ct_len, NULL, digest, sizeof digest, sign_sk);
  return g_bytes_new_take (buf, total);
}

gboolean
sync_envelope_verify (const guint8 *data, gsize len, const guint8 sign_pk[32],
                      SyncEnvelopeHeader *out, GError **error)
{
  guint8 digest[SIGNED_DIGEST_LEN];
  gsize signed_len;

  g_return_val_if_fail (sign_pk != NULL, FALSE);

  if (!sync_envelope_parse_header (data, len, out, error))
    return FALSE;
  signed_len = len - SYNC_ENVELOPE_SIGNATURE_LEN;
  signed_digest (data, signed_len, digest);
  if (crypto_sign_verify_detached (data + signed_len, digest, sizeof digest, sign_pk) != 0)
    {
      memset (out, 0, sizeof *out);
      return bad_envelope (error, SYNC_PROTOCOL_ERROR_SIGNATURE, "the signature does not verify");
    }
  return TRUE;
}
