/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sp-csv-private.h — the CSV reader and writer behind sp_vault_import_csv and
 * sp_vault_export_csv. Private to libsupolka-core (and its tests).
 *
 * The reader takes bytes as coordinators really have them: UTF-8 with or
 * without a BOM, UTF-16LE/BE with a BOM (Excel "Unicode text"), Windows-1251
 * when the bytes are not UTF-8 and the text reads as Belarusian or Russian
 * (sp-csv-decode.c; never a silent guess), or the encoding the caller names;
 * comma, semicolon or tab as the delimiter, whichever occurs most often
 * outside quotes in the header line (an Excel "sep=X" first line also works).
 * Quoting follows libcsv: quoted fields may hold delimiters, doubled quotes
 * and newlines; spaces around unquoted fields are dropped, spaces inside
 * quotes are kept.
 *
 * It streams: the file is read in pieces of 64 KiB and each row handed to a
 * callback, so memory does not grow with the file. Input is treated as
 * hostile. Beyond these limits the reader stops with SP_CORE_ERROR_INVALID
 * and a message naming the line (SP_CSV_MAX_BYTES is in supolka-core.h). */
#pragma once

#include <gio/gio.h>

#include "supolka-core.h"

G_BEGIN_DECLS

#define SP_CSV_MAX_ROWS 1000000             /* data rows; the header is not counted */
#define SP_CSV_MAX_COLUMNS 256              /* cells in any one row */
#define SP_CSV_MAX_CELL (64 * 1024)         /* bytes of one cell, in UTF-8 */
#define SP_CSV_MAX_CELLS (16 * 1024 * 1024) /* cells in the whole file */

typedef struct
{
  guint line;       /* 1-based line where the row starts */
  GPtrArray *cells; /* of const char *: UTF-8, NUL-terminated, never NULL; they point into
                     * storage, so do not free them nor add to the array */
  char *storage;    /* owns the text of every cell */
} SpCsvRow;

void sp_csv_row_free (SpCsvRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpCsvRow, sp_csv_row_free)

/* Parses a whole CSV file held in memory (the encoding is chosen as
 * sp_csv_read does with SP_CSV_ENCODING_AUTO). Returns every non-blank row,
 * the header included, as SpCsvRow (the array frees them); an empty file gives
 * an empty array. Rows may be ragged. *encoding (optional, free it) gets
 * "UTF-8", "UTF-16" or "WINDOWS-1251"; *delimiter (optional) the delimiter
 * used. On bad input returns NULL with SP_CORE_ERROR_INVALID; the message
 * names the line. */
GPtrArray *sp_csv_parse (const char *data, gsize len, char **encoding, char *delimiter,
                         GError **error);

/* Called for every non-blank row; the row and its cells are valid only
 * during the call. FALSE (with error set) stops the reading. */
typedef gboolean (*SpCsvRowFunc) (SpCsvRow *row, gpointer user_data, GError **error);

typedef struct
{
  SpCsvEncoding encoding; /* in: named, or AUTO; out: the one used (AUTO if not settled) */
  char delimiter;         /* out */
  guint error_line;       /* out: line of a reading error; 0 when the callback failed */
  gboolean func_failed;   /* out: the error came from the callback */
  guint8 digest[32];      /* out: BLAKE2b-256 of every byte read */
  guint64 bytes;          /* out: bytes read */
} SpCsvReadInfo;

/* Reads in from its start to its end (it must be seekable: an unnamed
 * encoding without a BOM is chosen by reading the file once before). On bad
 * input returns FALSE with SP_CORE_ERROR_INVALID; the message does not name
 * the line, info->error_line does. */
gboolean sp_csv_read (GInputStream *in, SpCsvReadInfo *info, SpCsvRowFunc func, gpointer user_data,
                      GError **error);

/* ---- Decoding (sp-csv-decode.c) ---- */

typedef struct
{
  guint need, len;
  gunichar cp;
  guint8 lo, hi;
  gboolean refeed;
} SpCsvUtf8;

/* Bytes to UTF-8, piece by piece, knowing the line and column (characters,
 * 1-based) of what comes next. */
typedef struct
{
  SpCsvEncoding encoding; /* UTF8, UTF16 or WINDOWS_1251 */
  gboolean big_endian;    /* UTF-16 only */
  guint line, column;
  gboolean prev_cr;
  SpCsvUtf8 utf8;
  guint8 unit[2];
  guint n_unit;
  gunichar high_surrogate;
  guint error_line, error_column;
} SpCsvDecoder;

void sp_csv_decoder_init (SpCsvDecoder *d, SpCsvEncoding encoding, gboolean big_endian);
/* Appends the decoded text to out; last says the input ends after in. On
 * error d->error_line is set and the message names the column. */
gboolean sp_csv_decoder_feed (SpCsvDecoder *d, const guint8 *in, gsize len, gboolean last,
                              GString *out, GError **error);

/* Counts over a whole file that choose between UTF-8 and Windows-1251. */
typedef struct
{
  SpCsvDecoder pos; /* line and column as UTF-8 */
  guint64 utf8_multi, utf8_bad;
  guint bad_line, bad_column; /* of the first byte that is not UTF-8 */
  guint64 cyr, vowels, foreign, mixed_letters, cyr_words, odd_case_words;
  guint word_cyr;
  gboolean word_latin, word_odd_case, prev_lower;
} SpCsvSniff;

void sp_csv_sniff_init (SpCsvSniff *s);
void sp_csv_sniff_feed (SpCsvSniff *s, const guint8 *in, gsize len);
/* UTF-8 or Windows-1251 into *encoding, or FALSE with an error whose message
 * names the column and *error_line the line of the first bad byte. */
gboolean sp_csv_sniff_finish (SpCsvSniff *s, SpCsvEncoding *encoding, guint *error_line,
                              GError **error);

/* Appends one row to out: every cell quoted by libcsv (csv_write), cells
 * separated by delimiter, then CRLF. A NULL cell is written as empty. */
void sp_csv_append_row (GString *out, const char *const *cells, gsize n_cells, char delimiter);

/* Formula-injection guard for exported cells (see sp-csv.c). */
gboolean sp_csv_needs_guard (const char *value);
const char *sp_csv_unguard (const char *value);

G_END_DECLS
