/* supolka-cli: import-csv, export-csv.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "cli.h"

/* import-csv's options after FILE: --dry-run, --encoding ENC. */
static int
import_options (Cli *cli)
{
  for (guint i = 3; i < cli->args->len; i++)
    {
      const char *a = cli->args->pdata[i];

      if (g_str_equal (a, "--dry-run"))
        cli->req.flag = TRUE;
      else if (g_str_equal (a, "--encoding") && i + 1 < cli->args->len)
        {
          if (!sp_csv_encoding_from_string (cli->args->pdata[++i], &cli->req.encoding))
            return cli_usage_error (_ ("--encoding takes utf-8, utf-16 or windows-1251"));
        }
      else
        return cli_usage_error (_ ("unexpected argument '%s'"), a);
    }
  return CLI_EXIT_OK;
}

/* Opened before the passphrase is asked (a wrong path costs no KDF); read by
 * the import as a stream, so memory does not grow with the file. */
static GFileInputStream *
open_file_bounded (const char *path, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = NULL;
  g_autoptr (GError) e = NULL;
  struct stat st;

  if (g_stat (path, &st) == 0 && st.st_size > SP_CSV_MAX_BYTES)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("%s is larger than 1 GiB"),
                   path);
      return NULL;
    }
  in = g_file_read (file, NULL, &e);
  if (in == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND, "%s", e->message);
      return NULL;
    }
  return g_steal_pointer (&in);
}

int
cli_import_check (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  int code;

  cli->req.encoding = SP_CSV_ENCODING_AUTO;
  if ((code = import_options (cli)) != CLI_EXIT_OK)
    return code;
  cli->req.kind = cli->args->pdata[1];
  cli->req.file = cli->args->pdata[2];
  if ((code = cli_check_kind (cli->req.kind)) != CLI_EXIT_OK)
    return code;
  cli->req.stream = open_file_bounded (cli->req.file, &error);
  if (cli->req.stream == NULL)
    return cli_fail (error);
  return CLI_EXIT_OK;
}

static void
print_report_json (const SpImportReport *report, gboolean ok, gboolean dry_run)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  cli_json_members (b, CLI_BOOL ("ok", ok), CLI_BOOL ("dry_run", dry_run),
                    CLI_INT ("rows", report->rows),
                    CLI_INT (dry_run ? "would_import" : "imported", report->imported),
                    CLI_STR ("encoding", report->encoding ? report->encoding : ""));
  json_builder_set_member_name (b, "errors");
  json_builder_begin_array (b);
  for (guint i = 0; report->errors && i < report->errors->len; i++)
    {
      const SpImportError *e = report->errors->pdata[i];

      cli_json_object (b, CLI_INT ("line", e->line), CLI_STR ("field", e->field ? e->field : ""),
                       CLI_STR ("value", e->value ? e->value : ""),
                       CLI_STR ("message", e->message ? e->message : ""));
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  cli_json_print (b);
}

static void
print_report_text (const SpImportReport *report, gboolean ok, gboolean dry_run)
{
  for (guint i = 0; report->errors && i < report->errors->len; i++)
    {
      const SpImportError *e = report->errors->pdata[i];
      g_autofree char *message = cli_safe (e->message, TRUE);
      g_printerr (_ ("line %u: %s\n"), e->line, message);
    }
  if (ok)
    g_print (_ ("Encoding: %s\n"), report->encoding);
  else if (report->encoding && *report->encoding)
    g_printerr (_ ("Encoding: %s\n"), report->encoding);
  if (ok && dry_run)
    g_print (ngettext ("Dry run: %u row would be imported; nothing was written.\n",
                       "Dry run: %u rows would be imported; nothing was written.\n",
                       report->imported),
             report->imported);
  else if (ok)
    g_print (ngettext ("Imported %u row.\n", "Imported %u rows.\n", report->imported),
             report->imported);
}

int
cli_import_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpImportReport) report = NULL;
  gboolean dry_run = cli->req.flag;
  gboolean ok
      = sp_vault_import_csv_stream (cli->vault, cli->req.kind, G_INPUT_STREAM (cli->req.stream),
                                    cli->req.encoding, dry_run, &report, &error);

  if (cli->json && report)
    print_report_json (report, ok, dry_run);
  else if (report)
    print_report_text (report, ok, dry_run);
  if (!ok && report && report->errors && report->errors->len > 0
      && g_str_has_suffix (
          error->message,
          ((SpImportError *)report->errors->pdata[report->errors->len - 1])->message))
    return cli_exit_code_for (error); /* the report above already said it */
  if (!ok)
    return cli_fail (error);
  return CLI_EXIT_OK;
}

int
cli_export_check (Cli *cli)
{
  cli->req.kind = cli->args->pdata[1];
  cli->req.file = cli->args->pdata[2];
  return cli_check_kind (cli->req.kind);
}

int
cli_export_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) csv = sp_vault_export_csv (cli->vault, cli->req.kind, &error);
  const char *path = cli->req.file;
  gsize len;
  const char *data;

  if (csv == NULL)
    return cli_fail (error);
  data = g_bytes_get_data (csv, &len);
  if (g_str_equal (path, "-"))
    {
      if (fwrite (data, 1, len, stdout) != len)
        return CLI_EXIT_USAGE;
      return CLI_EXIT_OK;
    }
  /* Never a named partial file, even if killed (sp-file.c). */
  if (!sp_file_write_private (path, data, len, &error))
    return cli_fail (error);
  g_printerr (_ ("Warning: %s is not encrypted. Keep it only as long as you need it.\n"), path);
  return CLI_EXIT_OK;
}
