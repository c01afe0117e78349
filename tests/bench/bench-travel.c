/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-travel.c — travel mode (issue #19) on a large vault: travel start
 * (stash, purge of the compartment left behind, compaction) and travel end
 * (stash, keys, rescan of the relay applying that compartment's batches),
 * each against an encrypted backup of the same vault in the same run (the
 * other operation that rewrites every page of a vault). */
#include <curl/curl.h>
#include <fcntl.h>
#include <string.h>

#include "bench-data.h"
#include "bench.h"
#include "relay-test-util.h"
#include "supolka-sync.h"
#include "sync-protocol.h"

#define PASSPHRASE "bench-travel-1863"
#define PER_TX 1000

static guint
n_records (Bench *b)
{
  switch (bench_mode (b))
    {
      case BENCH_MODE_SMOKE:
        return 1000;
      case BENCH_MODE_QUICK:
        return 10000;
      case BENCH_MODE_FULL:
      default:
        return 50000;
    }
}

/* Half the records in main, half in the compartment "away". */
static gboolean
fill (Bench *b, SpVault *vault, guint n, gint64 away)
{
  g_autoptr (BenchData) data = bench_data_new (1863);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < n && error == NULL; i += PER_TX)
    {
      if (!sp_vault_begin (vault, &error))
        break;
      for (guint k = i; k < i + PER_TX && k < n && error == NULL; k++)
        {
          SpFieldValue values[BENCH_DATA_MAX_VALUES];
          gsize nv = k % 2 ? bench_data_org (data, values) : bench_data_person (data, values);
          g_autofree char *id = NULL;

          if (sp_vault_set_default_compartment (vault, k % 4 < 2 ? away : 0, &error))
            id = sp_vault_insert (vault, k % 2 ? "org" : "person", values, nv, &error);
        }
      if (error || !sp_vault_commit (vault, &error))
        sp_vault_rollback (vault);
    }
  return bench_check (b, error == NULL, "travel: fill: %s", error ? error->message : "?");
}

static gint64
count_all (SpVault *vault)
{
  return sp_vault_count (vault, "org", NULL, NULL) + sp_vault_count (vault, "person", NULL, NULL);
}

/* An encrypted backup of the same vault: the baseline. */
static double
backup_seconds (Bench *b, SpVault *vault)
{
  g_autofree char *dir = bench_tmp_dir (b, "travel-backup");
  g_autofree char *path = g_build_filename (dir, "vault.backup", NULL);
  g_autoptr (SpSecret) pass = sp_secret_new_from_data (PASSPHRASE, strlen (PASSPHRASE));
  g_autoptr (GError) error = NULL;
  double t0;
  gboolean ok;

  g_mkdir_with_parents (dir, 0700);
  t0 = bench_now ();
  ok = sp_vault_backup (vault, path, pass, SP_KDF_INTERACTIVE, &error);

  bench_check (b, ok, "travel: backup: %s", error ? error->message : "?");
  return bench_now () - t0;
}

static gboolean
prepare (Bench *b, Relay *relay, SpVault *vault, guint n)
{
  g_autoptr (GError) error = NULL;
  SyncReport report = { 0 };
  gint64 away;
  gboolean ok;

  ok = sync_workspace_create (vault, relay->base, NULL, &error)
       && sync_run (vault, NULL, &report, &error)
       && sync_compartment_create (vault, "away", NULL, &error);
  sync_report_clear (&report);
  if (!bench_check (b, ok, "travel: workspace: %s", error ? error->message : "?"))
    return FALSE;
  away = sp_vault_compartment_lookup (vault, "away", &error);
  if (!fill (b, vault, n, away))
    return FALSE;
  bench_progress (b, "travel: pushing %u records", n);
  ok = sp_vault_set_default_compartment (vault, 0, &error)
       && sync_run (vault, NULL, &report, &error);
  sync_report_clear (&report);
  return bench_check (b, ok, "travel: push: %s", error ? error->message : "?");
}

void
bench_travel (Bench *b)
{
  const char *extra[] = { "--rate", "1000000", "--quota-mb", "100000", NULL };
  g_autofree char *relay_dir = bench_tmp_dir (b, "travel-relay");
  g_autofree char *dir = bench_tmp_dir (b, "travel-vault");
  g_autoptr (SpSecret) pass = sp_secret_new_from_data (PASSPHRASE, strlen (PASSPHRASE));
  g_autoptr (GError) error = NULL;
  g_autofree char *code = NULL;
  g_autofree char *w_start = NULL, *w_end = NULL;
  guint n = n_records (b);
  SpVault *vault;
  Relay *relay;
  double base, t0, start_s, end_s;
  gint64 before, during, after;

  relay_stderr_fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  if (g_getenv ("SUPOLKA_RELAY") == NULL)
    {
      g_autofree char *bin = g_path_get_dirname (bench_self (b));
      g_autofree char *path = g_build_filename (bin, "..", "..", "app", "supolka-relay", NULL);
      g_setenv ("SUPOLKA_RELAY", path, TRUE);
    }
  g_assert_true (sync_protocol_init (NULL));
  g_assert_cmpint (curl_global_init (CURL_GLOBAL_DEFAULT), ==, CURLE_OK);
  relay = relay_start (relay_dir, extra);
  vault = sp_vault_create (dir, pass, SP_KDF_INTERACTIVE, &error);
  if (!bench_check (b, vault != NULL, "travel: vault: %s", error ? error->message : "?")
      || !prepare (b, relay, vault, n))
    goto out;
  before = count_all (vault);
  base = backup_seconds (b, vault);

  bench_progress (b, "travel: start (leaving %u records behind)", n / 2);
  t0 = bench_now ();
  if (!bench_check (b, sync_travel_start (vault, NULL, NULL, &code, &error), "travel: start: %s",
                    error ? error->message : "?"))
    goto out;
  start_s = bench_now () - t0;
  during = count_all (vault);
  bench_progress (b, "travel: end (rescan)");
  t0 = bench_now ();
  if (!bench_check (b, sync_travel_end (vault, code, NULL, &error), "travel: end: %s",
                    error ? error->message : "?"))
    goto out;
  end_s = bench_now () - t0;
  after = count_all (vault);
  bench_check (b, during == before - n / 2 && after == before,
               "travel: %" G_GINT64_FORMAT " records before, %" G_GINT64_FORMAT
               " while travelling, %" G_GINT64_FORMAT " after; expected %u, %u, %u",
               before, during, after, n, n - n / 2, n);
  w_start = g_strdup_printf ("travel: start, %u records (%u left behind: stash, purge, compact)", n,
                             n / 2);
  w_end
      = g_strdup_printf ("travel: end, %u records back (stash, keys, rescan of the relay)", n / 2);
  bench_report (b, &(BenchRow){ "travel", w_start, start_s, "s", base,
                                "encrypted backup of the same vault", BENCH_TARGET_RATIO_MAX, 3 });
  bench_report (b, &(BenchRow){ "travel", w_end, end_s, "s", base,
                                "encrypted backup of the same vault", BENCH_TARGET_RATIO_MAX, 10 });
out:
  if (vault)
    sp_vault_close (vault);
  relay_stop (relay);
  curl_global_cleanup ();
}
