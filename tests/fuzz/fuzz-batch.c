/* libFuzzer: batch envelopes. Half the inputs go to the full opener (shape,
 * signature, commitment, tag), half straight to the plaintext decoder that
 * runs after decryption (padding, raw deflate, JSON), which a fuzzer could
 * never reach through a valid signature.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include <sodium.h>

#include "sync-batch.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static guint8 key[SYNC_KEY_BYTES], pk[32];
  SyncBatchInfo info = { 0 };
  g_autoptr (GError) error = NULL;
  SyncBatch *batch;

  if (size == 0)
    return 0;
  if (data[0] & 1)
    {
      g_autoptr (GBytes) env = g_bytes_new (data + 1, size - 1);
      batch = sync_batch_open (env, key, pk, &error);
    }
  else
    batch = sync_batch_decode_plaintext (data + 1, size - 1, &info, &error);
  g_assert ((batch == NULL) == (error != NULL));
  sync_batch_free (batch);
  return 0;
}
