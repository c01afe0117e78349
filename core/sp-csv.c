/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sp-csv.c — CSV import and export.
 *
 * Reading streams: the file is read in pieces of 64 KiB, decoded to UTF-8
 * (sp-csv-decode.c: a BOM, else the encoding named, else UTF-8, else
 * Windows-1251 only if the text reads as Belarusian or Russian), the
 * delimiter is chosen from the header line, and libcsv splits fields. libcsv
 * reports neither lines nor positions, so the text is fed to it one physical
 * line at a time (and in pieces of at most 64 KiB): that is how each row
 * learns the line it starts on, and how an oversized cell is stopped before it
 * is buffered whole. Each row goes to a callback; nothing is kept.
 *
 * Importing is all or nothing, in one transaction and two readings of the
 * file: the first checks every cell of every row and lists every problem
 * (ids are kept, 16 bytes each, to find one used twice); the second writes
 * the rows that passed, bringing the full-text index up to date every 1,000
 * rows, so memory stays flat whatever the file's size. The transaction is
 * committed only when nothing at all failed and the file read the same both
 * times (BLAKE2b of its bytes).
 *
 * SpImportReport as filled here:
 *   rows      data rows read (rows whose cells are all empty are skipped and
 *             not counted);
 *   imported  rows written; on a dry run, the rows a real import would write
 *             (0 when any row has errors, since nothing would be written);
 *   errors    SpImportError: line where the row starts; field is the column's
 *             field name ("id" for the id column) or NULL when the problem is
 *             the whole row (the vault refused it, stray cells); value is the
 *             cell as read, or NULL. At most 10,000 (and 16 MiB of text) are
 *             listed, in line order;
 *   encoding  "UTF-8", "UTF-16" or "WINDOWS-1251"; "" if the file was refused
 *             before its encoding was settled.
 */
#include <csv.h>
#include <sodium.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "sp-csv-private.h"
#include "sp-vault-private.h"

/* Bytes read from the file at once, and the most text fed to libcsv at once. */
#define CHUNK_BYTES (64 * 1024)
/* The delimiter is chosen from the first line, or from this much of it. */
#define HEAD_MAX (1024 * 1024)
/* libcsv's csv.h exposes the parser state; FIELD_BEGUN (2) with quoted set
 * means the input ended inside a quoted field. */
#define LIBCSV_FIELD_BEGUN 2
/* A report never lists more than this many problems, nor more than this much
 * text (a cell may be 64 KiB); the count of bad rows stays exact. */
#define MAX_REPORTED_ERRORS 10000
#define MAX_REPORTED_BYTES (16 * 1024 * 1024)
/* While writing, the full-text index takes the records every this many rows,
 * so that what it keeps in memory for the transaction stays small. */
#define INDEX_EVERY_ROWS 1000

/* ---- Reading -------------------------------------------------------------- */

typedef struct
{
  SpCsvRowFunc func;
  gpointer user_data;
  SpCsvRow row;      /* handed to func; cells point into `cells` */
  GString *cells;    /* the current row's cells, each followed by a NUL */
  GArray *offsets;   /* gsize: where each cell of the current row starts */
  guint line;        /* line of the next text fed */
  gboolean prev_cr;  /* the text fed last ended with a CR */
  guint row_line;    /* line where the current row started */
  gboolean row_open; /* the current row has begun */
  guint n_rows;      /* rows handed over so far */
  gsize n_cells;     /* cells in the whole file so far */
  GError *error;
  guint error_line;
  gboolean func_failed;
} ParseCtx;

void
sp_csv_row_free (SpCsvRow *row)
{
  if (row == NULL)
    return;
  g_clear_pointer (&row->cells, g_ptr_array_unref);
  g_free (row->storage);
  g_free (row);
}

static void
parse_fail (ParseCtx *ctx, const char *message)
{
  if (ctx->error)
    return;
  ctx->error_line = ctx->row_line;
  ctx->error = g_error_new_literal (SP_CORE_ERROR, SP_CORE_ERROR_INVALID, message);
}

static void
on_field (void *s, size_t len, void *data)
{
  ParseCtx *ctx = data;
  gsize offset;

  if (ctx->error)
    return;
  if (ctx->offsets->len >= SP_CSV_MAX_COLUMNS)
    {
      g_autofree char *msg
          = g_strdup_printf (_ ("A row has more than %d columns"), SP_CSV_MAX_COLUMNS);
      parse_fail (ctx, msg);
      return;
    }
  if (len > SP_CSV_MAX_CELL)
    {
      g_autofree char *msg
          = g_strdup_printf (_ ("A cell is longer than %d KiB"), SP_CSV_MAX_CELL / 1024);
      parse_fail (ctx, msg);
      return;
    }
  if (++ctx->n_cells > SP_CSV_MAX_CELLS)
    {
      g_autofree char *msg
          = g_strdup_printf (_ ("The file has more than %d cells"), SP_CSV_MAX_CELLS);
      parse_fail (ctx, msg);
      return;
    }
  offset = ctx->cells->len;
  g_array_append_val (ctx->offsets, offset);
  if (len > 0)
    g_string_append_len (ctx->cells, s, (gssize)len);
  g_string_append_c (ctx->cells, '\0');
}

static void
on_row (int c, void *data)
{
  ParseCtx *ctx = data;

  (void)c; /* the character that ended the row */
  ctx->row_open = FALSE;
  if (ctx->error == NULL && ctx->n_rows > SP_CSV_MAX_ROWS)
    {
      g_autofree char *msg
          = g_strdup_printf (_ ("The file has more than %d rows"), SP_CSV_MAX_ROWS);
      parse_fail (ctx, msg);
    }
  if (ctx->error == NULL && ctx->offsets->len > 0)
    {
      ctx->row.line = ctx->row_line;
      g_ptr_array_set_size (ctx->row.cells, 0);
      for (guint i = 0; i < ctx->offsets->len; i++)
        g_ptr_array_add (ctx->row.cells, ctx->cells->str + g_array_index (ctx->offsets, gsize, i));
      ctx->n_rows++;
      if (!ctx->func (&ctx->row, ctx->user_data, &ctx->error))
        {
          if (ctx->error == NULL)
            ctx->error = g_error_new_literal (SP_CORE_ERROR, SP_CORE_ERROR_FAILED,
                                              _ ("The import stopped"));
          ctx->func_failed = TRUE;
        }
    }
  g_string_truncate (ctx->cells, 0);
  g_array_set_size (ctx->offsets, 0);
}

/* The delimiter that occurs most often outside quotes in the first line;
 * comma on a tie or when there is none. *complete says whether the first
 * line ended within text. */
static char
detect_delimiter (const char *text, gsize len, gboolean *complete)
{
  static const char candidates[] = { ',', ';', '\t' };
  gsize counts[G_N_ELEMENTS (candidates)] = { 0 };
  gboolean in_quotes = FALSE;
  guint best = 0;

  *complete = FALSE;
  for (gsize i = 0; i < len && !*complete; i++)
    {
      char c = text[i];

      if (c == '"')
        in_quotes = !in_quotes;
      else if (in_quotes)
        continue;
      else if (c == '\n' || c == '\r')
        *complete = TRUE;
      else
        for (guint k = 0; k < G_N_ELEMENTS (candidates); k++)
          if (c == candidates[k])
            counts[k]++;
    }
  for (guint k = 1; k < G_N_ELEMENTS (candidates); k++)
    if (counts[k] > counts[best])
      best = k;
  return candidates[best];
}

/* TRUE if feeding this piece to libcsv begins a row: anything but line ends
 * and the spaces libcsv skips before a field. */
static gboolean
has_row_content (const char *p, const char *end, char delimiter)
{
  for (; p < end; p++)
    {
      if (*p == '\r' || *p == '\n')
        continue;
      if ((*p == ' ' || *p == '\t') && *p != delimiter)
        continue;
      return TRUE;
    }
  return FALSE;
}

/* Feeds decoded text to libcsv one physical line at a time (and in pieces
 * of at most CHUNK_BYTES): libcsv reports no positions, so this is how each
 * row learns its line, and how an oversized cell is stopped early. */
static void
feed_text (ParseCtx *ctx, struct csv_parser *parser, char delimiter, const char *p, const char *end)
{
  while (p < end && ctx->error == NULL)
    {
      const char *limit = end - p > CHUNK_BYTES ? p + CHUNK_BYTES : end;
      const char *q = p;
      gboolean line_end;
      gsize n;

      while (q < limit && *q != '\n' && *q != '\r')
        q++;
      line_end = q < limit;
      n = (gsize)((line_end ? q + 1 : limit) - p);

      if (!ctx->row_open && has_row_content (p, p + n, delimiter))
        {
          ctx->row_open = TRUE;
          ctx->row_line = ctx->line;
        }
      if (csv_parse (parser, p, n, on_field, on_row, ctx) != n && ctx->error == NULL)
        {
          g_autofree char *msg = g_strdup_printf (_ ("The CSV reader failed: %s"),
                                                  csv_strerror (csv_error (parser)));
          parse_fail (ctx, msg);
        }
      if (ctx->error == NULL && parser->entry_pos > SP_CSV_MAX_CELL)
        {
          g_autofree char *msg
              = g_strdup_printf (_ ("A cell is longer than %d KiB"), SP_CSV_MAX_CELL / 1024);
          parse_fail (ctx, msg);
        }
      /* LF, CRLF and a lone CR each end a line, also across pieces. */
      if (line_end && (*q == '\r' || !(q == p && ctx->prev_cr)))
        ctx->line++;
      ctx->prev_cr = line_end && *q == '\r';
      p += n;
    }
}

/* Reads up to one chunk (less only at the end), hashing what it read. */
static gssize
read_chunk (GInputStream *in, guint8 *buf, crypto_generichash_state *hash, GError **error)
{
  gsize got = 0;

  if (!g_input_stream_read_all (in, buf, CHUNK_BYTES, &got, NULL, error))
    return -1;
  if (hash)
    crypto_generichash_update (hash, buf, got);
  return (gssize)got;
}

static gboolean
rewind_stream (GInputStream *in, GError **error)
{
  if (!G_IS_SEEKABLE (in) || !g_seekable_can_seek (G_SEEKABLE (in)))
    {
      g_set_error_literal (error, SP_CORE_ERROR, SP_CORE_ERROR_FAILED,
                           _ ("The file cannot be read twice"));
      return FALSE;
    }
  return g_seekable_seek (G_SEEKABLE (in), 0, G_SEEK_SET, NULL, error);
}

/* Refuses a file over the limit before reading it, and chooses UTF-8 or
 * Windows-1251 for one that has no BOM when none is named. */
static gboolean
prepare_read (GInputStream *in, SpCsvReadInfo *info, GError **error)
{
  g_autofree guint8 *buf = g_malloc (CHUNK_BYTES);
  SpCsvSniff sniff;
  gssize got;
  gboolean first = TRUE;

  if (!rewind_stream (in, error) || !g_seekable_seek (G_SEEKABLE (in), 0, G_SEEK_END, NULL, error))
    return FALSE;
  if (g_seekable_tell (G_SEEKABLE (in)) > SP_CSV_MAX_BYTES)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("The file is larger than %d MiB"), (int)(SP_CSV_MAX_BYTES / (1024 * 1024)));
      return FALSE;
    }
  if (!rewind_stream (in, error))
    return FALSE;
  if (info->encoding != SP_CSV_ENCODING_AUTO)
    return TRUE;

  sp_csv_sniff_init (&sniff);
  while ((got = read_chunk (in, buf, NULL, error)) > 0)
    {
      if (first
          && ((got >= 2
               && ((buf[0] == 0xFF && buf[1] == 0xFE) || (buf[0] == 0xFE && buf[1] == 0xFF)))
              || (got >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF)))
        return rewind_stream (in, error); /* the BOM decides */
      first = FALSE;
      sp_csv_sniff_feed (&sniff, buf, (gsize)got);
    }
  if (got < 0)
    return FALSE;
  if (!sp_csv_sniff_finish (&sniff, &info->encoding, &info->error_line, error))
    return FALSE;
  return rewind_stream (in, error);
}

/* Settles the encoding from the first bytes (a BOM, which is skipped, when
 * the encoding allows one) and sets up the decoder. Returns bytes to skip. */
static gsize
start_decoder (SpCsvReadInfo *info, SpCsvDecoder *dec, const guint8 *buf, gsize got)
{
  gboolean utf16_bom
      = got >= 2 && ((buf[0] == 0xFF && buf[1] == 0xFE) || (buf[0] == 0xFE && buf[1] == 0xFF));
  gboolean utf8_bom = got >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF;

  if (utf16_bom
      && (info->encoding == SP_CSV_ENCODING_AUTO || info->encoding == SP_CSV_ENCODING_UTF16))
    {
      info->encoding = SP_CSV_ENCODING_UTF16;
      sp_csv_decoder_init (dec, info->encoding, buf[0] == 0xFE);
      return 2;
    }
  if (info->encoding == SP_CSV_ENCODING_AUTO)
    info->encoding = SP_CSV_ENCODING_UTF8; /* an empty file, or one with a UTF-8 BOM */
  sp_csv_decoder_init (dec, info->encoding, FALSE);
  return utf8_bom && info->encoding == SP_CSV_ENCODING_UTF8 ? 3 : 0;
}

/* Once the first line is in text (or HEAD_MAX of it, or all there is):
 * the delimiter, an Excel "sep=X" line. Returns where the rows begin. */
static gsize
start_rows (ParseCtx *ctx, struct csv_parser *parser, const GString *text, char *delimiter)
{
  gboolean complete;

  *delimiter = detect_delimiter (text->str, text->len, &complete);
  csv_set_delim (parser, (unsigned char)*delimiter);
  if (text->len >= 5 && g_ascii_strncasecmp (text->str, "sep=", 4) == 0
      && strchr (",;\t|", text->str[4])
      && (text->len == 5 || text->str[5] == '\r' || text->str[5] == '\n'))
    {
      gsize at = 5;

      *delimiter = text->str[4];
      csv_set_delim (parser, (unsigned char)*delimiter);
      if (at < text->len && text->str[at] == '\r')
        at++;
      if (at < text->len && text->str[at] == '\n')
        at++;
      ctx->line = 2;
      return at;
    }
  return 0;
}

static gboolean
read_rows (GInputStream *in, SpCsvReadInfo *info, ParseCtx *ctx, struct csv_parser *parser,
           GError **error)
{
  g_autofree guint8 *buf = g_malloc (CHUNK_BYTES);
  g_autoptr (GString) text = g_string_sized_new (CHUNK_BYTES);
  crypto_generichash_state hash;
  SpCsvDecoder dec;
  gboolean started = FALSE, eof = FALSE, first = TRUE;

  crypto_generichash_init (&hash, NULL, 0, sizeof info->digest);
  while (!eof && ctx->error == NULL)
    {
      gssize got = read_chunk (in, buf, &hash, error);
      gsize skip = 0, from = 0;

      if (got < 0)
        return FALSE;
      info->bytes += (guint64)got;
      if (info->bytes > SP_CSV_MAX_BYTES)
        {
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                       _ ("The file is larger than %d MiB"),
                       (int)(SP_CSV_MAX_BYTES / (1024 * 1024)));
          return FALSE;
        }
      eof = got < CHUNK_BYTES;
      if (first)
        skip = start_decoder (info, &dec, buf, (gsize)got);
      first = FALSE;
      if (!sp_csv_decoder_feed (&dec, buf + skip, (gsize)got - skip, eof, text, error))
        {
          info->error_line = dec.error_line;
          return FALSE;
        }
      if (!started)
        {
          gboolean complete;

          detect_delimiter (text->str, text->len, &complete);
          if (!complete && text->len < HEAD_MAX && !eof)
            continue;
          from = start_rows (ctx, parser, text, &info->delimiter);
          started = TRUE;
        }
      feed_text (ctx, parser, info->delimiter, text->str + from, text->str + text->len);
      g_string_truncate (text, 0);
    }
  crypto_generichash_final (&hash, info->digest, sizeof info->digest);
  return TRUE;
}

gboolean
sp_csv_read (GInputStream *in, SpCsvReadInfo *info, SpCsvRowFunc func, gpointer user_data,
             GError **error)
{
  struct csv_parser parser;
  ParseCtx ctx = { 0 };
  GError *local = NULL;
  gboolean ok;

  g_return_val_if_fail (G_IS_INPUT_STREAM (in), FALSE);
  g_return_val_if_fail (info != NULL && func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  info->delimiter = ',';
  info->error_line = 0;
  info->func_failed = FALSE;
  info->bytes = 0;
  memset (info->digest, 0, sizeof info->digest);
  if (!prepare_read (in, info, error))
    return FALSE;

  ctx.func = func;
  ctx.user_data = user_data;
  ctx.row.cells = g_ptr_array_new ();
  ctx.cells = g_string_new (NULL);
  ctx.offsets = g_array_new (FALSE, FALSE, sizeof (gsize));
  ctx.line = 1;
  csv_init (&parser, 0);
  csv_set_blk_size (&parser, 4096);

  ok = read_rows (in, info, &ctx, &parser, &local);
  if (ok && ctx.error == NULL && parser.pstate == LIBCSV_FIELD_BEGUN && parser.quoted)
    parse_fail (&ctx, _ ("A quoted value is never closed (a \" is missing)"));
  if (ok && ctx.error == NULL)
    csv_fini (&parser, on_field, on_row, &ctx);
  csv_free (&parser);
  g_string_free (ctx.cells, TRUE);
  g_array_unref (ctx.offsets);
  g_ptr_array_unref (ctx.row.cells);

  if (!ok)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  if (ctx.error)
    {
      info->func_failed = ctx.func_failed;
      info->error_line = ctx.func_failed ? 0 : ctx.error_line;
      g_propagate_error (error, ctx.error);
      return FALSE;
    }
  return TRUE;
}

static gboolean
collect_row (SpCsvRow *row, gpointer user_data, GError **error)
{
  GPtrArray *rows = user_data;
  SpCsvRow *copy = g_new0 (SpCsvRow, 1);
  const char *base = row->cells->pdata[0];
  const char *last = row->cells->pdata[row->cells->len - 1];
  gsize size = (gsize)(last - base) + strlen (last) + 1;

  (void)error;
  copy->line = row->line;
  copy->storage = g_memdup2 (base, size);
  copy->cells = g_ptr_array_sized_new (row->cells->len);
  for (guint i = 0; i < row->cells->len; i++)
    g_ptr_array_add (copy->cells, copy->storage + ((const char *)row->cells->pdata[i] - base));
  g_ptr_array_add (rows, copy);
  return TRUE;
}

GPtrArray *
sp_csv_parse (const char *data, gsize len, char **encoding, char *delimiter, GError **error)
{
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  SpCsvReadInfo info = { 0 };
  GError *local = NULL;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (encoding)
    *encoding = NULL;
  in = g_memory_input_stream_new_from_data (len ? data : "", (gssize)len, NULL);
  rows = g_ptr_array_new_with_free_func ((GDestroyNotify)sp_csv_row_free);
  info.encoding = SP_CSV_ENCODING_AUTO;
  if (!sp_csv_read (in, &info, collect_row, rows, &local))
    {
      /* The message names the line here; the import report keeps it apart. */
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("Line %u: %s"), info.error_line,
                   local->message);
      g_error_free (local);
      return NULL;
    }
  if (encoding)
    *encoding = g_strdup (sp_csv_encoding_name (info.encoding));
  if (delimiter)
    *delimiter = info.delimiter;
  return g_steal_pointer (&rows);
}

/* ---- Writing -------------------------------------------------------------- */

/* Spreadsheets run a cell that starts with = + - @ (or a tab or CR before
 * them) as a formula, which can send other cells to a web address. Export
 * puts an apostrophe in front, which spreadsheets show as plain text and
 * import takes away again; a value that itself starts with an apostrophe and
 * one of those gets one more, so the round trip is exact. */
#define GUARD_TRIGGERS "=+-@\t\r"

gboolean
sp_csv_needs_guard (const char *v)
{
  return (v[0] && strchr (GUARD_TRIGGERS, v[0]))
         || (v[0] == '\'' && v[1] && strchr (GUARD_TRIGGERS "'", v[1]));
}

const char *
sp_csv_unguard (const char *v)
{
  return v[0] == '\'' && v[1] && strchr (GUARD_TRIGGERS "'", v[1]) ? v + 1 : v;
}

void
sp_csv_append_row (GString *out, const char *const *cells, gsize n_cells, char delimiter)
{
  g_return_if_fail (out != NULL);
  g_return_if_fail (cells != NULL || n_cells == 0);

  for (gsize i = 0; i < n_cells; i++)
    {
      const char *cell = cells[i] ? cells[i] : "";
      gsize cell_len = strlen (cell);
      gsize need = csv_write (NULL, 0, cell, cell_len);
      gsize at;

      if (i > 0)
        g_string_append_c (out, delimiter);
      at = out->len;
      g_string_set_size (out, at + need);
      csv_write (out->str + at, need, cell, cell_len);
    }
  g_string_append (out, "\r\n");
}

GBytes *
sp_vault_export_csv (SpVault *vault, const char *kind, GError **error)
{
  const SpKindInfo *info;
  g_autoptr (GPtrArray) records = NULL;
  g_autoptr (GString) out = NULL;
  g_autofree const char **cells = NULL;

  g_return_val_if_fail (vault != NULL, NULL);
  g_return_val_if_fail (kind != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  info = sp_kind_lookup (kind);
  if (info == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("Unknown record kind \"%s\""),
                   kind);
      return NULL;
    }
  records = sp_vault_list (vault, kind, NULL, error);
  if (records == NULL)
    return NULL;

  /* A BOM, so that Excel in a Russian or Belarusian locale reads UTF-8. */
  out = g_string_new ("\xEF\xBB\xBF");
  cells = g_new0 (const char *, info->n_fields + 1);
  cells[0] = "id";
  for (guint i = 0; i < info->n_fields; i++)
    cells[i + 1] = info->fields[i].name;
  sp_csv_append_row (out, cells, info->n_fields + 1, ',');

  for (guint r = 0; r < records->len; r++)
    {
      SpRecord *record = g_ptr_array_index (records, r);
      g_autoptr (GPtrArray) guarded = g_ptr_array_new_with_free_func (g_free);

      if (sp_record_is_deleted (record))
        continue;

      cells[0] = sp_record_get_id (record);
      for (guint i = 0; i < info->n_fields; i++)
        {
          const char *v = sp_record_get (record, info->fields[i].name);
          if (v && sp_csv_needs_guard (v))
            {
              char *g = g_strconcat ("'", v, NULL);
              g_ptr_array_add (guarded, g);
              v = g;
            }
          cells[i + 1] = v;
        }
      sp_csv_append_row (out, cells, info->n_fields + 1, ',');
    }
  return g_string_free_to_bytes (g_steal_pointer (&out));
}

/* ---- Importing ------------------------------------------------------------ */

typedef struct
{
  const SpFieldInfo *field; /* NULL for the id column and for ignored columns */
  gboolean is_id;
} Column;

typedef struct
{
  SpCsvRow *row;
  char *id;         /* normalised, or NULL */
  gboolean exists;  /* id names a record of this kind: update it */
  gboolean deleted; /* ... which is deleted: bring it back */
  gboolean bad;
} ImportRow;

/* An id given in the file: 16 bytes, not 33 + a hash entry, since a file may
 * hold a million. Sorted after the first reading to find ids used twice. */
typedef struct
{
  guint8 id[16];
  guint32 line;
  guint32 ordinal; /* which data row (0-based, blank rows not counted) */
} IdEntry;

typedef struct
{
  SpVault *vault;
  const SpKindInfo *kind;
  SpImportReport *report;
  Column *columns;
  guint n_columns;
  gint *field_column; /* per field of the kind: its column, or -1 */
  gint id_column;
  guint n_listed;
  gsize listed_bytes;
  gboolean quiet; /* the second reading: problems are not listed again */
  gboolean header_seen;
  guint ordinal;   /* data rows seen in this reading */
  GArray *ids;     /* IdEntry */
  GByteArray *bad; /* one bit per data row: it has errors */
  guint n_bad, n_good, written;
  gboolean refused; /* the vault refused a row: the second reading stopped */
} ImportCtx;

static void
import_error_free (gpointer data)
{
  SpImportError *e = data;

  g_free (e->field);
  g_free (e->value);
  g_free (e->message);
  g_free (e);
}

void
sp_import_report_free (SpImportReport *report)
{
  if (report == NULL)
    return;
  g_clear_pointer (&report->errors, g_ptr_array_unref);
  g_free (report->encoding);
  g_free (report);
}

static void
report_add (ImportCtx *ic, guint line, const char *field, const char *value, const char *message)
{
  SpImportError *e;
  gboolean last;

  if (ic->quiet || ic->n_listed >= MAX_REPORTED_ERRORS)
    return;
  ic->n_listed++;
  ic->listed_bytes += (value ? strlen (value) : 0) + strlen (message);
  last = ic->n_listed == MAX_REPORTED_ERRORS || ic->listed_bytes > MAX_REPORTED_BYTES;
  if (last)
    ic->n_listed = MAX_REPORTED_ERRORS;
  e = g_new0 (SpImportError, 1);
  e->line = line;
  e->field = g_strdup (field);
  e->value = last ? NULL : g_strdup (value);
  if (last)
    e->message = g_strdup_printf (_ ("Too many errors; the rest are not listed"));
  else
    e->message = g_strdup (message);
  g_ptr_array_add (ic->report->errors, e);
}

static void
mark_bad (ImportCtx *ic, guint ordinal)
{
  if (ic->bad->len <= ordinal / 8)
    {
      guint old = ic->bad->len;

      g_byte_array_set_size (ic->bad, MAX (ordinal / 8 + 1, old * 2));
      memset (ic->bad->data + old, 0, ic->bad->len - old);
    }
  ic->bad->data[ordinal / 8] |= (guint8)(1u << (ordinal % 8));
}

static gboolean
is_bad (ImportCtx *ic, guint ordinal)
{
  return ordinal / 8 < ic->bad->len && (ic->bad->data[ordinal / 8] & (1u << (ordinal % 8)));
}

static const char *
row_cell (SpCsvRow *row, gint column)
{
  if (column < 0 || (guint)column >= row->cells->len)
    return NULL;
  return sp_csv_unguard (g_ptr_array_index (row->cells, column));
}

static gboolean
row_is_blank (SpCsvRow *row)
{
  for (guint i = 0; i < row->cells->len; i++)
    if (*(const char *)g_ptr_array_index (row->cells, i) != '\0')
      return FALSE;
  return TRUE;
}

/* Maps the header to fields. Every problem goes to the report; returns FALSE
 * (error says why) if there was any. */
static gboolean
map_header (ImportCtx *ic, SpCsvRow *header, GError **error)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GString) messages = g_string_new (NULL);
  g_autoptr (GString) allowed = g_string_new ("id");

  for (guint i = 0; i < ic->kind->n_fields; i++)
    g_string_append_printf (allowed, ", %s", ic->kind->fields[i].name);

  ic->n_columns = header->cells->len;
  ic->columns = g_new0 (Column, ic->n_columns);
  ic->field_column = g_new (gint, ic->kind->n_fields);
  for (guint i = 0; i < ic->kind->n_fields; i++)
    ic->field_column[i] = -1;
  ic->id_column = -1;

  for (guint c = 0; c < header->cells->len; c++)
    {
      g_autofree char *trimmed = g_strstrip (g_strdup (g_ptr_array_index (header->cells, c)));
      g_autofree char *name = g_utf8_strdown (trimmed, -1);
      g_autofree char *msg = NULL;
      const SpFieldInfo *field;

      if (*name == '\0')
        continue; /* a column without a name: its cells must stay empty */
      if (g_hash_table_contains (seen, name))
        msg = g_strdup_printf (_ ("The column \"%s\" appears twice"), trimmed);
      else if (g_str_equal (name, "id"))
        {
          ic->columns[c].is_id = TRUE;
          ic->id_column = (gint)c;
        }
      else if ((field = sp_kind_field (ic->kind, name)) != NULL)
        {
          ic->columns[c].field = field;
          ic->field_column[field - ic->kind->fields] = (gint)c;
        }
      else
        msg = g_strdup_printf (_ ("Unknown column \"%s\"; %s records have the columns: %s"),
                               trimmed, ic->kind->name, allowed->str);
      g_hash_table_add (seen, g_steal_pointer (&name));
      if (msg)
        {
          report_add (ic, header->line, trimmed, trimmed, msg);
          if (messages->len)
            g_string_append_c (messages, '\n');
          g_string_append (messages, msg);
        }
    }
  if (messages->len)
    {
      /* The report lists each column; the error sums up. */
      g_set_error_literal (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                           _ ("The first line names columns that cannot be imported; nothing was "
                              "imported"));
      return FALSE;
    }
  return TRUE;
}

/* Fills vals (one per field of the kind) with the row's normalised values,
 * NULL when empty or absent. Lists bad cells when report is set; bad[] marks
 * the fields whose cell was bad. Returns FALSE if any cell was bad. */
static gboolean
normalize_row (ImportCtx *ic, SpCsvRow *row, char **vals, gboolean *bad, gboolean report)
{
  gboolean ok = TRUE;

  for (guint i = 0; i < ic->kind->n_fields; i++)
    {
      const SpFieldInfo *field = &ic->kind->fields[i];
      const char *cell = row_cell (row, ic->field_column[i]);
      g_autoptr (GError) local = NULL;
      char *norm;

      vals[i] = NULL;
      bad[i] = FALSE;
      if (cell == NULL || *cell == '\0')
        continue;
      norm = sp_field_normalize (ic->kind, field, cell, &local);
      if (norm == NULL)
        {
          bad[i] = TRUE;
          ok = FALSE;
          if (report)
            report_add (ic, row->line, field->name, cell,
                        local ? local->message : _ ("The value is not valid"));
          continue;
        }
      if (*norm == '\0')
        g_free (norm);
      else
        vals[i] = norm;
    }

  /* Cells past the header's end or under a column without a name. */
  for (guint c = 0; c < row->cells->len; c++)
    {
      const char *cell = g_ptr_array_index (row->cells, c);

      if (*cell == '\0' || (c < ic->n_columns && (ic->columns[c].field || ic->columns[c].is_id)))
        continue;
      ok = FALSE;
      if (report)
        report_add (ic, row->line, NULL, cell,
                    c < ic->n_columns ? _ ("This value is in a column without a name")
                                      : _ ("This row has more cells than the header has columns"));
    }
  return ok;
}

static void
free_vals (ImportCtx *ic, char **vals)
{
  for (guint i = 0; i < ic->kind->n_fields; i++)
    g_clear_pointer (&vals[i], g_free);
}

static void
id_to_bytes (const char *hex, guint8 out[16])
{
  for (guint i = 0; i < 16; i++)
    out[i]
        = (guint8)(g_ascii_xdigit_value (hex[2 * i]) << 4 | g_ascii_xdigit_value (hex[2 * i + 1]));
}

/* The id cell: malformed, or a record of another kind, marks the row bad;
 * else ir->id, and whether that record exists (or is deleted). Returns FALSE
 * only when the vault could not be read. */
static gboolean
check_id (ImportCtx *ic, ImportRow *ir, SpRecord **existing_out, GError **error)
{
  SpCsvRow *row = ir->row;
  const char *id_cell = row_cell (row, ic->id_column);
  g_autofree char *id = NULL;
  g_autoptr (SpRecord) existing = NULL;
  g_autoptr (GError) local = NULL;

  if (id_cell == NULL || *id_cell == '\0')
    return TRUE;
  id = g_strstrip (g_ascii_strdown (id_cell, -1));
  if (!sp_is_hex_id (id))
    {
      g_autofree char *msg = g_strdup_printf (
          _ ("id: \"%s\" is not valid: use a record id (32 hexadecimal characters)"), id_cell);
      report_add (ic, row->line, "id", id_cell, msg);
      ir->bad = TRUE;
      return TRUE;
    }
  existing = sp_vault_get (ic->vault, id, &local);
  if (existing == NULL && !g_error_matches (local, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND))
    {
      if (local)
        g_propagate_error (error, g_steal_pointer (&local));
      else
        g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_FAILED,
                     _ ("The record \"%s\" could not be read"), id);
      return FALSE;
    }
  if (existing && g_strcmp0 (sp_record_get_kind (existing), ic->kind->name) != 0)
    {
      g_autofree char *msg
          = g_strdup_printf (_ ("id: \"%s\" belongs to a record of kind %s, not %s"), id_cell,
                             sp_record_get_kind (existing), ic->kind->name);
      report_add (ic, row->line, "id", id_cell, msg);
      ir->bad = TRUE;
      g_clear_pointer (&existing, sp_record_unref);
    }
  else if (existing)
    {
      ir->exists = TRUE;
      ir->deleted = sp_record_is_deleted (existing);
    }
  ir->id = g_steal_pointer (&id);
  if (existing_out)
    *existing_out = g_steal_pointer (&existing);
  return TRUE;
}

/* Checks one data row; problems go to the report and mark the row bad. An
 * id used twice is found later, from ic->ids. Returns FALSE only when the
 * check itself could not be made. */
static gboolean
check_row (ImportCtx *ic, ImportRow *ir, GError **error)
{
  SpCsvRow *row = ir->row;
  g_autofree char **vals = g_new0 (char *, ic->kind->n_fields);
  g_autofree gboolean *bad = g_new0 (gboolean, ic->kind->n_fields);
  g_autoptr (SpRecord) existing = NULL;
  gboolean ok;

  if (!check_id (ic, ir, &existing, error))
    return FALSE;
  ok = normalize_row (ic, row, vals, bad, TRUE);

  /* Required fields: a new record needs them all; an update may not clear one. */
  for (guint i = 0; i < ic->kind->n_fields; i++)
    {
      const SpFieldInfo *field = &ic->kind->fields[i];
      g_autofree char *msg = NULL;

      if (!field->required || vals[i] || bad[i])
        continue;
      if (ir->exists && ic->field_column[i] < 0)
        continue; /* not in the file: the stored value stays */
      msg = g_strdup_printf (_ ("%s: a value is required"), field->name);
      report_add (ic, row->line, field->name, row_cell (row, ic->field_column[i]), msg);
      ok = FALSE;
    }

  /* Rules across fields, on the record as it would be. */
  if (ok && !ir->bad)
    {
      g_autoptr (GHashTable) fields = g_hash_table_new (g_str_hash, g_str_equal);
      g_autoptr (GError) local = NULL;

      for (guint i = 0; i < ic->kind->n_fields; i++)
        {
          const char *name = ic->kind->fields[i].name;
          const char *v = ic->field_column[i] >= 0 ? vals[i]
                          : existing               ? sp_record_get (existing, name)
                                                   : NULL;
          if (v)
            g_hash_table_insert (fields, (gpointer)name, (gpointer)v);
        }
      if (!sp_kind_validate_record (ic->kind, fields, &local))
        {
          report_add (ic, row->line, NULL, NULL, local->message);
          ok = FALSE;
        }
    }

  free_vals (ic, vals);
  if (!ok)
    ir->bad = TRUE;
  return TRUE;
}

static gboolean
write_row (ImportCtx *ic, ImportRow *ir, GError **error)
{
  g_autofree char **vals = g_new0 (char *, ic->kind->n_fields);
  g_autofree gboolean *bad = g_new0 (gboolean, ic->kind->n_fields);
  g_autofree SpFieldValue *values = g_new0 (SpFieldValue, ic->kind->n_fields + 1);
  gsize n = 0;
  gboolean ok = TRUE;

  if (!normalize_row (ic, ir->row, vals, bad, FALSE))
    {
      /* Cannot happen: the row was checked. */
      free_vals (ic, vals);
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("The row is not valid"));
      return FALSE;
    }
  for (guint i = 0; i < ic->kind->n_fields; i++)
    {
      if (ic->field_column[i] < 0 || (!ir->exists && vals[i] == NULL))
        continue;
      values[n].field = ic->kind->fields[i].name;
      values[n].value = vals[i]; /* NULL clears the field */
      n++;
    }

  if (ir->exists)
    {
      if (ir->deleted)
        ok = sp_vault_undelete (ic->vault, ir->id, error);
      if (ok && n > 0)
        ok = sp_vault_update (ic->vault, ir->id, values, n, error);
    }
  else
    {
      g_autofree char *new_id = NULL;

      if (ir->id)
        {
          values[n].field = "id";
          values[n].value = ir->id;
          n++;
        }
      new_id = sp_vault_insert (ic->vault, ic->kind->name, values, n, error);
      ok = new_id != NULL;
    }
  free_vals (ic, vals);
  return ok;
}

/* ---- The two readings ---- */

/* First reading: the header, then every row checked and its problems listed. */
static gboolean
check_cb (SpCsvRow *row, gpointer user_data, GError **error)
{
  ImportCtx *ic = user_data;
  ImportRow ir = { .row = row };

  if (!ic->header_seen)
    {
      ic->header_seen = TRUE;
      return map_header (ic, row, error);
    }
  if (row_is_blank (row))
    return TRUE;
  ic->report->rows++;
  if (!check_row (ic, &ir, error))
    {
      g_free (ir.id);
      return FALSE;
    }
  if (ir.id)
    {
      IdEntry e = { .line = row->line, .ordinal = ic->ordinal };

      id_to_bytes (ir.id, e.id);
      g_array_append_val (ic->ids, e);
      g_free (ir.id);
    }
  if (ir.bad)
    {
      mark_bad (ic, ic->ordinal);
      ic->n_bad++;
    }
  else
    ic->n_good++;
  ic->ordinal++;
  return TRUE;
}

static int
cmp_id_entry (gconstpointer a, gconstpointer b)
{
  const IdEntry *x = a, *y = b;
  int c = memcmp (x->id, y->id, sizeof x->id);

  if (c != 0)
    return c;
  return x->line < y->line ? -1 : x->line > y->line;
}

static int
cmp_error_line (gconstpointer a, gconstpointer b)
{
  const SpImportError *x = *(SpImportError *const *)a, *y = *(SpImportError *const *)b;

  return x->line < y->line ? -1 : x->line > y->line;
}

/* An id on two rows: the later ones are bad. Then the report in line order. */
static void
check_duplicate_ids (ImportCtx *ic)
{
  g_array_sort (ic->ids, cmp_id_entry);
  for (guint i = 1; i < ic->ids->len; i++)
    {
      const IdEntry *first = &g_array_index (ic->ids, IdEntry, i - 1);
      IdEntry *e = &g_array_index (ic->ids, IdEntry, i);
      char hex[33];
      g_autofree char *msg = NULL;

      if (memcmp (first->id, e->id, sizeof e->id) != 0)
        continue;
      for (guint k = 0; k < 16; k++)
        g_snprintf (hex + 2 * k, 3, "%02x", e->id[k]);
      msg = g_strdup_printf (_ ("id: \"%s\" is already used on line %u"), hex, first->line);
      report_add (ic, e->line, "id", hex, msg);
      if (!is_bad (ic, e->ordinal))
        {
          mark_bad (ic, e->ordinal);
          ic->n_bad++;
          ic->n_good--;
        }
      memcpy (e, first, sizeof *e); /* so the next one names the first line too */
    }
  if (ic->n_listed < MAX_REPORTED_ERRORS)
    g_ptr_array_sort (ic->report->errors, cmp_error_line); /* stable */
}

/* Second reading: the good rows written, the full-text index kept up. */
static gboolean
write_cb (SpCsvRow *row, gpointer user_data, GError **error)
{
  ImportCtx *ic = user_data;
  ImportRow ir = { .row = row };
  g_autoptr (GError) row_error = NULL;
  guint ordinal;

  if (!ic->header_seen)
    {
      ic->header_seen = TRUE;
      return TRUE;
    }
  if (row_is_blank (row))
    return TRUE;
  ordinal = ic->ordinal++;
  if (is_bad (ic, ordinal))
    return TRUE;
  if (!check_id (ic, &ir, NULL, error))
    return FALSE;
  if (ir.bad || !write_row (ic, &ir, &row_error))
    {
      /* The first reading passed it: the vault refused it (a reference to a
       * missing record). The transaction may not be usable any more. */
      ic->quiet = FALSE;
      report_add (ic, row->line, NULL, NULL,
                  row_error ? row_error->message : _ ("The vault refused the row"));
      ic->n_bad++;
      ic->refused = TRUE;
      g_free (ir.id);
      g_set_error_literal (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                           _ ("The vault refused the row"));
      return FALSE;
    }
  g_free (ir.id);
  ic->written++;
  if (ic->written % INDEX_EVERY_ROWS == 0)
    return sp_search_flush (ic->vault, error);
  return TRUE;
}

static void
set_encoding (SpImportReport *report, SpCsvEncoding encoding)
{
  g_free (report->encoding);
  report->encoding = g_strdup (sp_csv_encoding_name (encoding));
}

/* Both readings. FALSE with error only when the import could not be made;
 * rows with problems only count in ic->n_bad. */
static gboolean
import_rows (ImportCtx *ic, GInputStream *in, SpCsvEncoding encoding, GError **error)
{
  SpCsvReadInfo info = { .encoding = encoding };
  guint8 digest[32];
  GError *local = NULL;

  if (!sp_csv_read (in, &info, check_cb, ic, &local))
    {
      if (!info.func_failed)
        {
          /* As when the file is read whole first: only the reading error. */
          g_ptr_array_set_size (ic->report->errors, 0);
          ic->n_listed = 0;
          ic->listed_bytes = 0;
          ic->report->rows = 0;
          report_add (ic, info.error_line, NULL, NULL, local->message);
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("Line %u: %s"),
                       info.error_line, local->message);
          g_error_free (local);
        }
      else
        g_propagate_error (error, local);
      if (info.encoding != SP_CSV_ENCODING_AUTO)
        set_encoding (ic->report, info.encoding);
      return FALSE;
    }
  set_encoding (ic->report, info.encoding);
  ic->report->delimiter = info.delimiter;
  if (!ic->header_seen)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("The file is empty: its first line must name the columns"));
      report_add (ic, 1, NULL, NULL, (*error)->message);
      return FALSE;
    }
  check_duplicate_ids (ic);
  g_clear_pointer (&ic->ids, g_array_unref);
  if (ic->n_good == 0)
    return TRUE;

  /* Write the good rows, also on a dry run and when some rows are bad, so
   * that the vault's own refusals are listed too. */
  memcpy (digest, info.digest, sizeof digest);
  ic->quiet = TRUE;
  ic->header_seen = FALSE;
  ic->ordinal = 0;
  /* info.encoding stays as the first reading settled it. */
  if (!sp_csv_read (in, &info, write_cb, ic, &local))
    {
      ic->quiet = FALSE;
      if (ic->refused)
        {
          g_error_free (local);
          return TRUE;
        }
      g_propagate_error (error, local);
      return FALSE;
    }
  ic->quiet = FALSE;
  if (memcmp (digest, info.digest, sizeof digest) != 0)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("The file changed while it was being imported; nothing was imported"));
      report_add (ic, 0, NULL, NULL, (*error)->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
sp_vault_import_csv_stream (SpVault *vault, const char *kind, GInputStream *in,
                            SpCsvEncoding encoding, gboolean dry_run, SpImportReport **report_out,
                            GError **error)
{
  g_autoptr (SpImportReport) report = NULL;
  g_autoptr (GError) local = NULL;
  ImportCtx ic = { 0 };
  gboolean ok = FALSE;

  g_return_val_if_fail (vault != NULL, FALSE);
  g_return_val_if_fail (kind != NULL, FALSE);
  g_return_val_if_fail (G_IS_INPUT_STREAM (in), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (report_out)
    *report_out = NULL;
  report = g_new0 (SpImportReport, 1);
  report->errors = g_ptr_array_new_with_free_func (import_error_free);
  report->encoding = g_strdup ("");
  ic.vault = vault;
  ic.report = report;
  ic.kind = sp_kind_lookup (kind);
  ic.ids = g_array_new (FALSE, FALSE, sizeof (IdEntry));
  ic.bad = g_byte_array_new ();

  if (ic.kind == NULL)
    g_set_error (&local, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("Unknown record kind \"%s\""),
                 kind);
  /* One transaction from the first check to the last write, so that what
   * was checked is what is written to; committed only when all is well. */
  else if (sp_vault_begin (vault, &local))
    {
      ok = import_rows (&ic, in, encoding, &local);
      if (ok && ic.n_bad == 0 && !dry_run)
        ok = sp_vault_commit (vault, &local);
      else
        sp_vault_rollback (vault);
      if (ok && ic.n_bad > 0)
        {
          g_set_error (&local, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                       g_dngettext (GETTEXT_PACKAGE, "%u row has errors; nothing was imported",
                                    "%u rows have errors; nothing was imported", ic.n_bad),
                       ic.n_bad);
          ok = FALSE;
        }
      if (ok)
        report->imported = ic.written;
    }

  g_clear_pointer (&ic.ids, g_array_unref);
  g_byte_array_unref (ic.bad);
  g_free (ic.columns);
  g_free (ic.field_column);
  if (report_out)
    *report_out = g_steal_pointer (&report);
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local));
  return ok;
}

gboolean
sp_vault_import_csv (SpVault *vault, const char *kind, const char *data, gsize len,
                     gboolean dry_run, SpImportReport **report, GError **error)
{
  g_autoptr (GInputStream) in = NULL;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  in = g_memory_input_stream_new_from_data (len ? data : "", (gssize)len, NULL);
  return sp_vault_import_csv_stream (vault, kind, in, SP_CSV_ENCODING_AUTO, dry_run, report, error);
}
