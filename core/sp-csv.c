/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sp-csv.c — CSV import and export.
 *
 * Reading: the bytes are decoded to UTF-8 (BOM-less UTF-8, UTF-8 with BOM,
 * Windows-1251, UTF-16 with BOM), the delimiter is guessed from the header
 * line, and libcsv splits fields. libcsv reports neither lines nor positions,
 * so the text is fed to it one physical line at a time (and in pieces of at
 * most 64 KiB): that is how each row learns the line it starts on, and how an
 * oversized cell is stopped before it is buffered whole.
 *
 * Importing is all or nothing: every cell of every row is checked first and
 * every problem is listed; the rows that passed are then written inside one
 * transaction, which is committed only when nothing at all failed.
 *
 * SpImportReport as filled here:
 *   rows      data rows read (rows whose cells are all empty are skipped and
 *             not counted);
 *   imported  rows written; on a dry run, the rows a real import would write
 *             (0 when any row has errors, since nothing would be written);
 *   errors    SpImportError: line where the row starts; field is the column's
 *             field name ("id" for the id column) or NULL when the problem is
 *             the whole row (the vault refused it, stray cells); value is the
 *             cell as read, or NULL. At most 10,000 are listed;
 *   encoding  "UTF-8", "UTF-16" or "WINDOWS-1251".
 */
#include <csv.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "sp-csv-private.h"
#include "sp-vault-private.h"

/* Pieces fed to libcsv at once. */
#define CHUNK_BYTES (64 * 1024)
/* A report never lists more than this many problems (the count stays exact). */
#define MAX_REPORTED_ERRORS 10000
/* libcsv's csv.h exposes the parser state; FIELD_BEGUN (2) with quoted set
 * means the input ended inside a quoted field. */
#define LIBCSV_FIELD_BEGUN 2

/* ---- Reading -------------------------------------------------------------- */

typedef struct
{
  GPtrArray *rows;   /* of SpCsvRow */
  GString *cells;    /* the current row's cells, each followed by a NUL */
  GArray *offsets;   /* gsize: where each cell of the current row starts */
  guint row_line;    /* line where the current row started */
  gboolean row_open; /* the current row has begun */
  gsize n_cells;     /* cells in the whole file so far */
  GError *error;
  guint error_line;
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
  SpCsvRow *row;

  (void)c; /* the character that ended the row */
  ctx->row_open = FALSE;
  if (ctx->error == NULL && ctx->rows->len > SP_CSV_MAX_ROWS)
    {
      g_autofree char *msg
          = g_strdup_printf (_ ("The file has more than %d rows"), SP_CSV_MAX_ROWS);
      parse_fail (ctx, msg);
    }
  if (ctx->error == NULL && ctx->offsets->len > 0)
    {
      row = g_new0 (SpCsvRow, 1);
      row->line = ctx->row_line;
      row->storage = g_memdup2 (ctx->cells->str, ctx->cells->len);
      row->cells = g_ptr_array_sized_new (ctx->offsets->len);
      for (guint i = 0; i < ctx->offsets->len; i++)
        g_ptr_array_add (row->cells, row->storage + g_array_index (ctx->offsets, gsize, i));
      g_ptr_array_add (ctx->rows, row);
    }
  g_string_truncate (ctx->cells, 0);
  g_array_set_size (ctx->offsets, 0);
}

/* Line of the byte at offset: LF, CRLF and a lone CR each end a line. */
static guint
line_at (const char *text, gsize len, gsize offset)
{
  guint line = 1;

  for (gsize i = 0; i < offset && i < len; i++)
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= len || text[i + 1] != '\n')))
      line++;
  return line;
}

static gboolean
check_no_nul (const char *text, gsize len, guint *error_line, GError **error)
{
  const char *nul = memchr (text, '\0', len);

  if (nul == NULL)
    return TRUE;
  *error_line = line_at (text, len, (gsize)(nul - text));
  g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
               _ ("The file contains a NUL byte, so it is not a text file"));
  return FALSE;
}

/* Decodes data to UTF-8. *text points into data or into *owned. */
static gboolean
decode (const char *data, gsize len, char **owned, const char **text, gsize *text_len,
        const char **encoding, guint *error_line, GError **error)
{
  const guchar *u = (const guchar *)data;
  gsize read = 0, written = 0;
  const char *end = NULL;

  *owned = NULL;
  if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF)))
    {
      g_autoptr (GError) local = NULL;

      *encoding = "UTF-16";
      *owned = g_convert (data + 2, (gssize)(len - 2), "UTF-8",
                          u[0] == 0xFF ? "UTF-16LE" : "UTF-16BE", &read, &written, &local);
      if (*owned == NULL || read != len - 2)
        {
          g_clear_pointer (owned, g_free);
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                       _ ("The file starts like UTF-16 text but is not valid UTF-16"));
          return FALSE;
        }
      *text = *owned;
      *text_len = written;
      return check_no_nul (*text, *text_len, error_line, error);
    }

  *encoding = "UTF-8";
  *text = data;
  *text_len = len;
  if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
    {
      *text = data + 3;
      *text_len = len - 3;
      if (!check_no_nul (*text, *text_len, error_line, error))
        return FALSE;
      if (!g_utf8_validate_len (*text, *text_len, &end))
        {
          *error_line = line_at (*text, *text_len, (gsize)(end - *text));
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                       _ ("The file is marked as UTF-8 but this line is not valid UTF-8"));
          return FALSE;
        }
      return TRUE;
    }

  if (!check_no_nul (*text, *text_len, error_line, error))
    return FALSE;
  if (g_utf8_validate_len (*text, *text_len, NULL))
    return TRUE;

  /* Not UTF-8: Windows-1251, as Russian- and Belarusian-locale Excel saves. */
  {
    g_autoptr (GError) local = NULL;

    *encoding = "WINDOWS-1251";
    *owned = g_convert (data, (gssize)len, "UTF-8", "WINDOWS-1251", &read, &written, &local);
    if (*owned == NULL || read != len)
      {
        g_clear_pointer (owned, g_free);
        *error_line = line_at (data, len, read);
        g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                     _ ("The text is neither UTF-8 nor Windows-1251"));
        return FALSE;
      }
    *text = *owned;
    *text_len = written;
  }
  return TRUE;
}

/* The delimiter that occurs most often outside quotes in the first line;
 * comma on a tie or when there is none. */
static char
detect_delimiter (const char *text, gsize len)
{
  static const char candidates[] = { ',', ';', '\t' };
  gsize counts[G_N_ELEMENTS (candidates)] = { 0 };
  gboolean in_quotes = FALSE;
  guint best = 0;

  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];

      if (c == '"')
        in_quotes = !in_quotes;
      else if (in_quotes)
        continue;
      else if (c == '\n' || c == '\r')
        break;
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

static GPtrArray *
parse_full (const char *data, gsize len, char **encoding_out, char *delimiter_out,
            guint *error_line, GError **error)
{
  g_autofree char *owned = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  const char *text = "", *encoding = "UTF-8", *p, *end;
  gsize text_len = 0;
  char delimiter;
  guint line = 1;
  struct csv_parser parser;
  ParseCtx ctx = { 0 };

  *error_line = 0;
  if (encoding_out)
    *encoding_out = NULL;
  if (data == NULL)
    len = 0;
  if (len > SP_CSV_MAX_BYTES)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("The file is larger than %d MiB"), SP_CSV_MAX_BYTES / (1024 * 1024));
      return NULL;
    }
  if (len > 0 && !decode (data, len, &owned, &text, &text_len, &encoding, error_line, error))
    return NULL;

  p = text;
  end = text + text_len;
  delimiter = detect_delimiter (text, text_len);
  /* Excel understands a first line "sep=;" naming the delimiter. */
  if (text_len >= 5 && g_ascii_strncasecmp (text, "sep=", 4) == 0 && strchr (",;\t|", text[4])
      && (text_len == 5 || text[5] == '\r' || text[5] == '\n'))
    {
      delimiter = text[4];
      p = text + 5;
      if (p < end && *p == '\r')
        p++;
      if (p < end && *p == '\n')
        p++;
      line = 2;
    }
  if (encoding_out)
    *encoding_out = g_strdup (encoding);
  if (delimiter_out)
    *delimiter_out = delimiter;

  rows = g_ptr_array_new_with_free_func ((GDestroyNotify)sp_csv_row_free);
  ctx.rows = rows;
  ctx.cells = g_string_new (NULL);
  ctx.offsets = g_array_new (FALSE, FALSE, sizeof (gsize));
  csv_init (&parser, 0);
  csv_set_delim (&parser, (unsigned char)delimiter);
  csv_set_blk_size (&parser, 4096);

  while (p < end && ctx.error == NULL)
    {
      const char *limit = end - p > CHUNK_BYTES ? p + CHUNK_BYTES : end;
      const char *q = p;
      gboolean line_end;
      gsize n;

      while (q < limit && *q != '\n' && *q != '\r')
        q++;
      line_end = q < limit;
      n = (gsize)((line_end ? q + 1 : limit) - p);

      if (!ctx.row_open && has_row_content (p, p + n, delimiter))
        {
          ctx.row_open = TRUE;
          ctx.row_line = line;
        }
      if (csv_parse (&parser, p, n, on_field, on_row, &ctx) != n && ctx.error == NULL)
        {
          g_autofree char *msg = g_strdup_printf (_ ("The CSV reader failed: %s"),
                                                  csv_strerror (csv_error (&parser)));
          parse_fail (&ctx, msg);
        }
      if (ctx.error == NULL && parser.entry_pos > SP_CSV_MAX_CELL)
        {
          g_autofree char *msg
              = g_strdup_printf (_ ("A cell is longer than %d KiB"), SP_CSV_MAX_CELL / 1024);
          parse_fail (&ctx, msg);
        }
      if (line_end && (*q == '\n' || q + 1 >= end || q[1] != '\n'))
        line++;
      p += n;
    }

  if (ctx.error == NULL && parser.pstate == LIBCSV_FIELD_BEGUN && parser.quoted)
    {
      g_autofree char *msg
          = g_strdup_printf (_ ("A quoted value is never closed (a \" is missing)"));
      parse_fail (&ctx, msg);
    }
  if (ctx.error == NULL)
    csv_fini (&parser, on_field, on_row, &ctx);
  csv_free (&parser);
  g_string_free (ctx.cells, TRUE);
  g_array_unref (ctx.offsets);

  if (ctx.error)
    {
      *error_line = ctx.error_line;
      g_propagate_error (error, ctx.error);
      if (encoding_out)
        g_clear_pointer (encoding_out, g_free);
      return NULL;
    }
  return g_steal_pointer (&rows);
}

GPtrArray *
sp_csv_parse (const char *data, gsize len, char **encoding, char *delimiter, GError **error)
{
  guint error_line = 0;
  GError *local = NULL;
  GPtrArray *rows;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  rows = parse_full (data, len, encoding, delimiter, &error_line, &local);
  if (rows == NULL)
    {
      /* The message names the line here; the import report keeps it apart. */
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("Line %u: %s"), error_line,
                   local->message);
      g_error_free (local);
    }
  return rows;
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

  if (ic->n_listed >= MAX_REPORTED_ERRORS)
    return;
  ic->n_listed++;
  e = g_new0 (SpImportError, 1);
  e->line = line;
  e->field = g_strdup (field);
  e->value = g_strdup (value);
  if (ic->n_listed == MAX_REPORTED_ERRORS)
    e->message = g_strdup_printf (_ ("Too many errors; the rest are not listed"));
  else
    e->message = g_strdup (message);
  g_ptr_array_add (ic->report->errors, e);
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

/* Checks one data row; problems go to the report and mark the row bad.
 * Returns FALSE only when the check itself could not be made. */
static gboolean
check_row (ImportCtx *ic, ImportRow *ir, GHashTable *seen_ids, GError **error)
{
  SpCsvRow *row = ir->row;
  const char *id_cell = row_cell (row, ic->id_column);
  g_autofree char **vals = g_new0 (char *, ic->kind->n_fields);
  g_autofree gboolean *bad = g_new0 (gboolean, ic->kind->n_fields);
  g_autoptr (SpRecord) existing = NULL;
  gboolean ok;

  if (id_cell && *id_cell)
    {
      g_autofree char *id = g_ascii_strdown (id_cell, -1);
      gpointer first;

      g_strstrip (id);
      if (!sp_is_hex_id (id))
        {
          g_autofree char *msg = g_strdup_printf (
              _ ("id: \"%s\" is not valid: use a record id (32 hexadecimal characters)"), id_cell);
          report_add (ic, row->line, "id", id_cell, msg);
          ir->bad = TRUE;
        }
      else if ((first = g_hash_table_lookup (seen_ids, id)) != NULL)
        {
          g_autofree char *msg = g_strdup_printf (_ ("id: \"%s\" is already used on line %u"),
                                                  id_cell, GPOINTER_TO_UINT (first));
          report_add (ic, row->line, "id", id_cell, msg);
          ir->bad = TRUE;
        }
      else
        {
          g_autoptr (GError) local = NULL;

          g_hash_table_insert (seen_ids, g_strdup (id), GUINT_TO_POINTER (row->line));
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
                  = g_strdup_printf (_ ("id: \"%s\" belongs to a record of kind %s, not %s"),
                                     id_cell, sp_record_get_kind (existing), ic->kind->name);
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
        }
    }

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

gboolean
sp_vault_import_csv (SpVault *vault, const char *kind, const char *data, gsize len,
                     gboolean dry_run, SpImportReport **report_out, GError **error)
{
  g_autoptr (SpImportReport) report = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (GArray) irows = NULL;
  g_autoptr (GHashTable) seen_ids = NULL;
  g_autoptr (GError) local = NULL;
  ImportCtx ic = { 0 };
  guint error_line = 0, n_bad = 0, n_good = 0, written = 0;
  gboolean ok = FALSE;

  g_return_val_if_fail (vault != NULL, FALSE);
  g_return_val_if_fail (kind != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (report_out)
    *report_out = NULL;
  report = g_new0 (SpImportReport, 1);
  report->errors = g_ptr_array_new_with_free_func (import_error_free);
  ic.vault = vault;
  ic.report = report;
  ic.kind = sp_kind_lookup (kind);

  if (ic.kind == NULL)
    {
      g_set_error (&local, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("Unknown record kind \"%s\""),
                   kind);
      goto out;
    }

  rows = parse_full (data, len, &report->encoding, &report->delimiter, &error_line, &local);
  if (rows == NULL)
    {
      report_add (&ic, error_line, NULL, NULL, local->message);
      {
        g_autofree char *msg = g_strdup (local->message);
        g_clear_error (&local);
        g_set_error (&local, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("Line %u: %s"), error_line,
                     msg);
      }
      goto out;
    }
  if (rows->len == 0)
    {
      g_set_error (&local, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("The file is empty: its first line must name the columns"));
      report_add (&ic, 1, NULL, NULL, local->message);
      goto out;
    }
  if (!map_header (&ic, g_ptr_array_index (rows, 0), &local))
    goto out;

  /* Check every row, listing every problem. */
  irows = g_array_new (FALSE, TRUE, sizeof (ImportRow));
  seen_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint r = 1; r < rows->len; r++)
    {
      ImportRow ir = { 0 };

      ir.row = g_ptr_array_index (rows, r);
      if (row_is_blank (ir.row))
        continue;
      report->rows++;
      if (!check_row (&ic, &ir, seen_ids, &local))
        {
          g_free (ir.id);
          goto out;
        }
      g_array_append_val (irows, ir);
      if (ir.bad)
        n_bad++;
      else
        n_good++;
    }

  /* Write the good rows in one transaction, also on a dry run and when some
   * rows are bad, so that the vault's own refusals (a reference to a record
   * that does not exist) are listed too. Committed only when all is well. */
  if (n_good > 0)
    {
      if (!sp_vault_begin (vault, &local))
        goto out;
      for (guint r = 0; r < irows->len; r++)
        {
          ImportRow *ir = &g_array_index (irows, ImportRow, r);
          g_autoptr (GError) row_error = NULL;

          if (ir->bad)
            continue;
          if (!write_row (&ic, ir, &row_error))
            {
              report_add (&ic, ir->row->line, NULL, NULL,
                          row_error ? row_error->message : _ ("The vault refused the row"));
              ir->bad = TRUE;
              n_bad++;
              break; /* the transaction may not be usable any more */
            }
          written++;
        }
      if (n_bad == 0 && !dry_run)
        {
          if (!sp_vault_commit (vault, &local))
            {
              sp_vault_rollback (vault);
              goto out;
            }
        }
      else
        sp_vault_rollback (vault);
    }

  if (n_bad > 0)
    {
      g_set_error (&local, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   g_dngettext (GETTEXT_PACKAGE, "%u row has errors; nothing was imported",
                                "%u rows have errors; nothing was imported", n_bad),
                   n_bad);
      goto out;
    }
  report->imported = written;
  ok = TRUE;

out:
  if (irows)
    for (guint r = 0; r < irows->len; r++)
      g_free (g_array_index (irows, ImportRow, r).id);
  g_free (ic.columns);
  g_free (ic.field_column);
  if (report->encoding == NULL)
    report->encoding = g_strdup ("UTF-8");
  if (report_out)
    *report_out = g_steal_pointer (&report);
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local));
  return ok;
}
