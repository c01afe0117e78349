/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sp-csv-private.h — the CSV reader and writer behind sp_vault_import_csv and
 * sp_vault_export_csv. Private to libsupolka-core (and its tests).
 *
 * The reader takes bytes as coordinators really have them: UTF-8 with or
 * without a BOM, Windows-1251 (when the bytes are not valid UTF-8), UTF-16LE/BE
 * with a BOM (Excel "Unicode text"); comma, semicolon or tab as the delimiter,
 * whichever occurs most often outside quotes in the header line (an Excel
 * "sep=X" first line also works). Quoting follows libcsv: quoted fields may
 * hold delimiters, doubled quotes and newlines; spaces around unquoted fields
 * are dropped, spaces inside quotes are kept.
 *
 * Input is treated as hostile. Beyond these limits the reader stops with
 * SP_CORE_ERROR_INVALID and a message naming the line. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SP_CSV_MAX_BYTES (64 * 1024 * 1024) /* the whole file, as given */
#define SP_CSV_MAX_ROWS 1000000             /* data rows; the header is not counted */
#define SP_CSV_MAX_COLUMNS 256              /* cells in any one row */
#define SP_CSV_MAX_CELL (64 * 1024)         /* bytes of one cell, in UTF-8 */
#define SP_CSV_MAX_CELLS (16 * 1024 * 1024) /* cells in the whole file (bounds memory) */

typedef struct
{
  guint line;       /* 1-based line where the row starts */
  GPtrArray *cells; /* of const char *: UTF-8, NUL-terminated, never NULL; they point into
                     * storage, so do not free them nor add to the array */
  char *storage;    /* owns the text of every cell */
} SpCsvRow;

void sp_csv_row_free (SpCsvRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpCsvRow, sp_csv_row_free)

/* Parses a whole CSV file. Returns every non-blank row, the header included,
 * as SpCsvRow (the array frees them); an empty file gives an empty array.
 * Rows may be ragged. *encoding (optional, free it) gets "UTF-8", "UTF-16" or
 * "WINDOWS-1251"; *delimiter (optional) the delimiter used. On bad input
 * returns NULL with SP_CORE_ERROR_INVALID; the message names the line. */
GPtrArray *sp_csv_parse (const char *data, gsize len, char **encoding, char *delimiter,
                         GError **error);

/* Appends one row to out: every cell quoted by libcsv (csv_write), cells
 * separated by delimiter, then CRLF. A NULL cell is written as empty. */
void sp_csv_append_row (GString *out, const char *const *cells, gsize n_cells, char delimiter);

/* Formula-injection guard for exported cells (see sp-csv.c). */
gboolean sp_csv_needs_guard (const char *value);
const char *sp_csv_unguard (const char *value);

G_END_DECLS
