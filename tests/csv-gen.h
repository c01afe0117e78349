/* SPDX-License-Identifier: GPL-3.0-or-later */
/* csv-gen.h — generated CSV files of organisations for the large-import test
 * and the import benchmark (made-up names and text only). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes to path a header and rows of orgs until the file holds at least
 * `bytes`. Every row has the same length, with a notes cell of notes_bytes
 * bytes of Belarusian and Russian words. When bad_from_end > 0, the data row
 * that many rows before the last has an invalid status. Returns the number of
 * data rows; *bad_line (optional) gets the line of the bad row (0 if none). */
guint csv_gen_orgs (const char *path, guint64 bytes, guint notes_bytes, guint bad_from_end,
                    guint *bad_line, GError **error);

G_END_DECLS
