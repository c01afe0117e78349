/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-import.c — import-csv on large files (issue #20): time, peak RSS and
 * disk for 5, 50 and 200 MB of generated organisations (quick: 5 MB; smoke:
 * 1 MB), each against baselines measured in the same run: the same file only
 * read and parsed (sp_csv_read: decoding, libcsv, no checks, no vault), and
 * the same import into a vault whose database is not encrypted.
 *
 * Peak RSS is VmHWM, reset (/proc/self/clear_refs) before each import, so it
 * is that import's own high-water mark. Disk is vault.db plus vault.db-wal
 * after the commit and before the vault is closed: the WAL is not truncated
 * after its checkpoint, so its size then is its high-water mark. */
#include <glib/gstdio.h>
#include <string.h>

#include "bench.h"
#include "csv-gen.h"
#include "sp-csv-private.h"
#include "sp-vault-private.h"
#include "supolka-core.h"

#define PASSPHRASE "bench-import-passphrase"
#define NOTES_BYTES 400 /* a row of ≈ 460 bytes: 200 MB is ≈ 455,000 rows */

typedef struct
{
  double seconds;
  double peak_mib;
  double db_mib, wal_mib;
  guint rows;
} Run;

static double
mib_of (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GStatBuf st;

  return g_stat (path, &st) == 0 ? st.st_size / 1048576.0 : 0;
}

static void
remove_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

static gboolean
count_row (SpCsvRow *row, gpointer user_data, GError **error)
{
  (void)row;
  (void)error;
  (*(guint *)user_data)++;
  return TRUE;
}

static GInputStream *
open_csv (const char *path, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);

  return G_INPUT_STREAM (g_file_read (file, NULL, error));
}

static gboolean
parse_only (const char *path, Run *run, GError **error)
{
  g_autoptr (GInputStream) in = open_csv (path, error);
  SpCsvReadInfo info = { .encoding = SP_CSV_ENCODING_AUTO };
  double t0;
  guint rows = 0;

  if (in == NULL)
    return FALSE;
  bench_reset_hwm ();
  t0 = bench_now ();
  if (!sp_csv_read (in, &info, count_row, &rows, error))
    return FALSE;
  run->seconds = bench_now () - t0;
  run->peak_mib = bench_status_kib ("VmHWM") / 1024.0;
  run->rows = rows - 1;
  return TRUE;
}

static gboolean
import_into (Bench *b, const char *path, gboolean encrypted, Run *run, GError **error)
{
  g_autofree char *dir = bench_tmp_dir (b, encrypted ? "import-vault" : "import-plain");
  g_autoptr (SpSecret) pass = sp_secret_new_from_data (PASSPHRASE, strlen (PASSPHRASE));
  g_autoptr (SpImportReport) report = NULL;
  g_autoptr (GInputStream) in = NULL;
  SpVault *vault;
  gboolean ok;
  double t0;

  g_mkdir_with_parents (dir, 0700);
  vault = encrypted ? sp_vault_create (dir, pass, SP_KDF_INTERACTIVE, error)
                    : sp_vault_create_unencrypted_for_bench (dir, error);
  if (vault == NULL)
    return FALSE;
  in = open_csv (path, error);
  ok = in != NULL;
  if (ok)
    {
      bench_reset_hwm ();
      t0 = bench_now ();
      ok = sp_vault_import_csv_stream (vault, "org", in, SP_CSV_ENCODING_AUTO, FALSE, &report,
                                       error);
      run->seconds = bench_now () - t0;
      run->peak_mib = bench_status_kib ("VmHWM") / 1024.0;
      run->rows = report ? report->imported : 0;
      run->db_mib = mib_of (dir, "vault.db");
      run->wal_mib = mib_of (dir, "vault.db-wal");
    }
  sp_vault_close (vault);
  remove_dir (dir);
  return ok;
}

static void
report_size (Bench *b, guint mb, const Run *parse, const Run *plain, const Run *enc)
{
  g_autofree char *t = g_strdup_printf ("import %u MB (%u rows): time", mb, enc->rows);
  g_autofree char *tp = g_strdup_printf ("import %u MB: time against only parsing the file", mb);
  g_autofree char *m = g_strdup_printf ("import %u MB: peak RSS (VmHWM)", mb);
  g_autofree char *d = g_strdup_printf ("import %u MB: disk, vault.db + WAL high-water", mb);

  bench_report (b, &(BenchRow){ "import", t, enc->seconds, "s", plain->seconds, "unencrypted",
                                BENCH_TARGET_NONE, 0 });
  bench_report (b, &(BenchRow){ "import", tp, enc->seconds, "s", parse->seconds, "parse only",
                                BENCH_TARGET_NONE, 0 });
  bench_report (b, &(BenchRow){ "import", m, enc->peak_mib, "MiB", plain->peak_mib, "unencrypted",
                                BENCH_TARGET_VALUE_MAX, 150 });
  bench_report (b, &(BenchRow){ "import", d, enc->db_mib + enc->wal_mib, "MiB", enc->db_mib,
                                "final vault.db", BENCH_TARGET_RATIO_MAX, 2 });
  bench_note (b,
              "import %u MB: %.0f rows/s; parse only %.1f MiB peak; unencrypted vault.db %.1f + "
              "WAL %.1f MiB",
              mb, enc->rows / enc->seconds, parse->peak_mib, plain->db_mib, plain->wal_mib);
}

void
bench_import (Bench *b)
{
  static const guint full[] = { 5, 50, 200, 0 }, quick[] = { 5, 0 }, smoke[] = { 1, 0 };
  const guint *sizes = bench_mode (b) == BENCH_MODE_FULL    ? full
                       : bench_mode (b) == BENCH_MODE_QUICK ? quick
                                                            : smoke;
  g_autofree char *dir = bench_tmp_dir (b, "import-csv");

  g_mkdir_with_parents (dir, 0700);
  for (guint i = 0; sizes[i]; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/orgs-%u.csv", dir, sizes[i]);
      g_autoptr (GError) error = NULL;
      Run parse = { 0 }, plain = { 0 }, enc = { 0 };
      guint rows;

      bench_progress (b, "import: generating %u MB of CSV", sizes[i]);
      rows = csv_gen_orgs (path, (guint64)sizes[i] * 1000 * 1000, NOTES_BYTES, 0, NULL, &error);
      if (!bench_check (b, rows > 0, "generate: %s", error ? error->message : "?"))
        break;
      bench_progress (b, "import: %u MB, parse only, unencrypted, encrypted", sizes[i]);
      if (!bench_check (b, parse_only (path, &parse, &error), "parse: %s",
                        error ? error->message : "?")
          || !bench_check (b, import_into (b, path, FALSE, &plain, &error), "plain: %s",
                           error ? error->message : "?")
          || !bench_check (b, import_into (b, path, TRUE, &enc, &error), "import: %s",
                           error ? error->message : "?"))
        break;
      bench_check (b, parse.rows == rows && plain.rows == rows && enc.rows == rows,
                   "import %u MB: %u rows written, %u plain, %u parsed, %u generated", sizes[i],
                   enc.rows, plain.rows, parse.rows, rows);
      report_size (b, sizes[i], &parse, &plain, &enc);
      g_unlink (path);
    }
  g_rmdir (dir);
}
