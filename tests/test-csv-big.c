/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-csv-big.c — a large import stays within its memory bound and is all
 * or nothing (issue #20). Its own executable, so that the peak RSS it checks
 * (getrusage) is this import's alone. */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>

#include "csv-gen.h"
#include "supolka-core.h"
#include "test-util.h"

#define FILE_BYTES (21 * 1024 * 1024)
#define NOTES_BYTES 2000
/* issue #20: at most 150 MiB whatever the file size. */
#define RSS_BOUND_KIB (150 * 1024)

static glong
peak_rss_kib (void)
{
  struct rusage ru;

  g_assert_cmpint (getrusage (RUSAGE_SELF, &ru), ==, 0);
  return ru.ru_maxrss;
}

static gint64
file_size (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (gint64)st.st_size : 0;
}

static gboolean
import_file (SpVault *vault, const char *path, SpImportReport **report, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, error);

  if (in == NULL)
    return FALSE;
  return sp_vault_import_csv_stream (vault, "org", G_INPUT_STREAM (in), SP_CSV_ENCODING_AUTO, FALSE,
                                     report, error);
}

static void
test_big_import (void)
{
  g_autofree char *vault_dir = NULL;
  g_autofree char *csv_dir = sp_test_tmpdir ();
  g_autofree char *good = g_build_filename (csv_dir, "good.csv", NULL);
  g_autofree char *bad = g_build_filename (csv_dir, "bad.csv", NULL);
  g_autoptr (SpVault) vault = sp_test_vault_new (&vault_dir);
  g_autoptr (SpImportReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) found = NULL;
  guint rows, bad_line = 0;
  gint64 db, wal;
  glong rss;

  rows = csv_gen_orgs (good, FILE_BYTES, NOTES_BYTES, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (file_size (csv_dir, "good.csv"), >=, 20 * 1024 * 1024);

  g_assert_true (import_file (vault, good, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (report->imported, ==, rows);
  g_assert_cmpint (sp_vault_count (vault, "org", NULL, NULL), ==, rows);
  rss = peak_rss_kib ();
  db = file_size (vault_dir, "vault.db");
  wal = file_size (vault_dir, "vault.db-wal");
  g_test_message ("%u rows, %.1f MiB file: peak RSS %.1f MiB; vault.db %.1f MiB, WAL %.1f MiB",
                  rows, FILE_BYTES / 1048576.0, rss / 1024.0, db / 1048576.0, wal / 1048576.0);
  g_assert_cmpint (rss, <=, RSS_BOUND_KIB);
  /* Every page of the transaction went through the WAL once (no page
   * written twice when the cache spilled): the WAL is the vault's size plus
   * its frame headers (24 bytes per 4 KiB page) and header, so the disk used
   * is twice the vault and 1 % at the most. */
  g_assert_cmpint (wal, <=, db + db / 100);
  /* Indexed as it went: the last row is found. */
  found = sp_vault_search (vault, "арганізацыя", "org", 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  g_clear_pointer (&report, sp_import_report_free);

  /* The same size again with one bad row near the end: nothing written. */
  csv_gen_orgs (bad, FILE_BYTES, NOTES_BYTES, 3, &bad_line, &error);
  g_assert_no_error (error);
  g_assert_false (import_file (vault, bad, &report, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_assert_cmpuint (report->errors->len, ==, 1);
  g_assert_cmpuint (((SpImportError *)report->errors->pdata[0])->line, ==, bad_line);
  g_assert_cmpstr (((SpImportError *)report->errors->pdata[0])->field, ==, "status");
  g_assert_cmpuint (report->imported, ==, 0);
  g_assert_cmpint (sp_vault_count (vault, "org", NULL, NULL), ==, rows);
  g_assert_cmpint (peak_rss_kib (), <=, RSS_BOUND_KIB);

  g_unlink (good);
  g_unlink (bad);
  g_clear_pointer (&vault, sp_vault_close);
  sp_test_rmtree (vault_dir);
  sp_test_rmtree (csv_dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/csv-big/import", test_big_import);
  return g_test_run ();
}
