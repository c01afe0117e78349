/* libFuzzer: vault.key shape checks (the part that runs before any KDF).
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "sp-vault-private.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  guint8 file[SP_KEYFILE_SIZE];
  g_autoptr (GError) error = NULL;

  if (!sp_keyfile_parse ("fuzz", data, size, file, &error))
    g_assert (error != NULL);
  return 0;
}
