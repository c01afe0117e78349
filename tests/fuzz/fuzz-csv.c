/* libFuzzer: the CSV reader (encoding choice and decoding, delimiters,
 * quoting, limits), as sp_csv_parse reads a file in memory and, picked by the
 * first byte, with each encoding named as import-csv --encoding names it.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "sp-csv-private.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static gboolean
count_row (SpCsvRow *row, gpointer user_data, GError **error)
{
  (void)error;
  *(guint *)user_data += row->cells->len;
  return TRUE;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static const SpCsvEncoding named[] = { SP_CSV_ENCODING_AUTO, SP_CSV_ENCODING_UTF8,
                                         SP_CSV_ENCODING_UTF16, SP_CSV_ENCODING_WINDOWS_1251 };
  g_autofree char *encoding = NULL;
  char delimiter = 0;
  GPtrArray *rows = sp_csv_parse ((const char *)data, size, &encoding, &delimiter, NULL);

  if (rows)
    g_ptr_array_unref (rows);
  if (size > 0)
    {
      g_autoptr (GInputStream) in
          = g_memory_input_stream_new_from_data (data + 1, (gssize)(size - 1), NULL);
      SpCsvReadInfo info = { .encoding = named[data[0] % G_N_ELEMENTS (named)] };
      guint cells = 0;

      sp_csv_read (in, &info, count_row, &cells, NULL);
    }
  return 0;
}
