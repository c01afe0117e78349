/* libFuzzer: the CSV reader (encoding detection, delimiters, quoting, limits).
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "sp-csv-private.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree char *encoding = NULL;
  char delimiter = 0;
  GPtrArray *rows = sp_csv_parse ((const char *)data, size, &encoding, &delimiter, NULL);

  if (rows)
    g_ptr_array_unref (rows);
  return 0;
}
