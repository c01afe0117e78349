/* libFuzzer: the sync client's parsers of relay answers that need no vault —
 * JSON answers, membership-log entries, snapshot change rows.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib.h>
#include <sodium.h>
#include <stdint.h>

void sync_client_fuzz_answer (const guint8 *data, gsize len);

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

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
  return 0;
}
