/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sync-dev-tool.c — one device as its own process, for test-sync-compartment's
 * memory checks: reads the vault's passphrase from standard input, opens the
 * vault in argv[1], runs one sync_run (or, with "travel-end", reads a return
 * code as the next line and ends a journey), prints "synced" and waits until
 * standard input closes, so the test can read /proc/PID/mem while every
 * buffer the sync used is still in this process. Exit 0 on success. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "supolka-core.h"
#include "supolka-sync.h"

static char *
read_line (void)
{
  char buf[512];

  if (fgets (buf, sizeof buf, stdin) == NULL)
    return NULL;
  buf[strcspn (buf, "\n")] = '\0';
  return g_strdup (buf);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *pass_text = read_line ();
  g_autoptr (SpSecret) pass = NULL;
  SyncReport report = { 0 };
  SpVault *vault;
  gboolean ok;
  char buf[64];

  if (argc < 2 || pass_text == NULL || !sp_core_init (&error))
    return 2;
  curl_global_init (CURL_GLOBAL_DEFAULT);
  pass = sp_secret_new_from_data (pass_text, strlen (pass_text));
  vault = sp_vault_open (argv[1], pass, &error);
  if (vault == NULL)
    {
      fprintf (stderr, "open: %s\n", error->message);
      return 1;
    }
  if (argc > 2 && strcmp (argv[2], "travel-end") == 0)
    {
      g_autofree char *code = read_line ();
      ok = code && sync_travel_end (vault, code, NULL, &error);
    }
  else
    ok = sync_run (vault, NULL, &report, &error);
  sync_report_clear (&report);
  if (!ok)
    {
      fprintf (stderr, "sync: %s\n", error ? error->message : "?");
      sp_vault_close (vault);
      return 1;
    }
  printf ("synced\n");
  fflush (stdout);
  while (fgets (buf, sizeof buf, stdin) != NULL)
    ;
  sp_vault_close (vault);
  curl_global_cleanup ();
  return 0;
}
