/* libFuzzer: the sync client's parsers of relay answers that need no vault —
 * JSON answers, membership-log entries, snapshot change rows — and the
 * snapshot frame's codec (sync-protocol.h), whose header must write back to
 * the very bytes it was parsed from.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sync-protocol.h"

void sync_client_fuzz_answer (const guint8 *data, gsize len);

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
fuzz_snapshot_frame (const guint8 *data, gsize size)
{
  static const guint8 pk[32] = { 9 };
  SyncSnapshotHeader h;
  guint8 again[SYNC_SNAPSHOT_HEADER_LEN];

  if (!sync_snapshot_parse_header (data, size, &h, NULL))
    return;
  if (h.ct_len < SYNC_SNAPSHOT_TAG_LEN || sync_snapshot_total_len (h.ct_len) != size)
    abort ();
  sync_snapshot_write_header (&h, again);
  if (memcmp (again, data, sizeof again) != 0)
    abort ();
  (void)sync_snapshot_signature_ok (data, size, pk);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static gboolean ready;

  if (!ready)
    {
      if (sodium_init () < 0)
        return 0;
      ready = TRUE;
    }
  if (size > 256 * 1024)
    return 0;
  sync_client_fuzz_answer (data, size);
  fuzz_snapshot_frame (data, size);
  return 0;
}
