/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-sync-cli.c — the sync client end to end through supolka-cli and the
 * network around it (issue #3): a SIGKILL in the middle of a push (nothing
 * lost, nothing applied twice), a SOCKS5 proxy (microsocks), and the CLI's
 * workspace, device and sync commands against the real relay. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <microhttpd.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supolka-core.h"
#include "supolka-sync.h"
#include "sync-batch.h"
#include "sync-test-util.h"
#include "test-util.h"

/* ---- 6. SIGKILL in the middle of a push ---------------------------------------------------- */

#define BIG_N 300
#define BIG_NOTES (30 * KIB)

/* @n records with large, incompressible notes, each in its own transaction. */
static void
big_inserts (Dev *dev, guint n, GPtrArray *ids)
{
  for (guint i = 0; i < n; i++)
    {
      guint8 raw[BIG_NOTES * 3 / 4];
      g_autofree char *notes = NULL, *name = g_strdup_printf ("Big %s %u", dev->name, ids->len);

      randombytes_buf (raw, sizeof raw);
      notes = g_base64_encode (raw, sizeof raw);
      g_ptr_array_add (ids, insert_org (dev, name, notes));
    }
}

static gint64
relay_count_now (const char *data_dir, const char *device)
{
  sqlite3 *db = relay_db_open (data_dir);
  gint64 n = relay_db_count (db, device);

  sqlite3_close (db);
  return n;
}

/* Runs 'supolka-cli sync' on @dev (closed) and, as soon as the relay has
 * stored a new batch of it, kills the relay (@kill_relay) or the CLI. Returns
 * TRUE if the kill came while the CLI was still running. */
static gboolean
sync_and_kill (Dev *dev, const char *device, Relay **relay, gboolean kill_relay)
{
  const char *args[] = { "sync", NULL };
  gint64 n0 = relay_count_now ((*relay)->data_dir, device);
  g_autoptr (GSubprocess) proc = cli_spawnv (dev->dir, PASS "\n", args);
  gboolean killed = FALSE;
  int status;

  while (!killed)
    {
      const char *ident = g_subprocess_get_identifier (proc);
      GPid pid;
      siginfo_t info;

      if (relay_count_now ((*relay)->data_dir, device) > n0)
        {
          if (kill_relay)
            {
              relay_kill (*relay);
              *relay = NULL;
            }
          else
            g_subprocess_send_signal (proc, SIGKILL);
          killed = TRUE;
          break;
        }
      /* Ended before anything was stored? (GLib reaps it in the background:
       * the identifier is gone, or waitpid sees it without reaping.) */
      if (ident == NULL)
        break;
      pid = (GPid)g_ascii_strtoll (ident, NULL, 10);
      memset (&info, 0, sizeof info);
      if (waitid (P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid != 0)
        break;
      g_usleep (5000);
    }
  status = sec_finish (proc, NULL, NULL);
  if (!killed)
    g_test_message ("the sync ended (%d) before a batch reached the relay: nothing was killed",
                    status);
  else if (kill_relay)
    {
      /* The client saw the relay die (or had just finished). */
      g_assert_true (status == EXIT_SYNC || status == EXIT_OK);
      g_test_message ("relay killed; the CLI exited with %d", status);
    }
  else
    g_assert_cmpint (status, ==, -SIGKILL);
  return killed;
}

/* Exactly once at the relay: @device's chain has seq 1…n without a hole, and
 * every change it wrote (record, field, HLC) is in exactly one batch. */
static void
assert_chain_exactly_once (Relay *relay, Dev *dev, gint64 expected_changes)
{
  sqlite3 *db = relay_db_open (relay->data_dir);
  g_autoptr (GPtrArray) keys = epoch_keys (dev);
  g_autoptr (GPtrArray) batches = relay_db_batches (db, dev_id (dev));
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GArray) seqs = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint8 pk[32];
  gint64 total = 0;

  relay_db_sign_pk (db, dev_id (dev), pk);
  sqlite3_close (db);
  for (guint i = 0; i < batches->len; i++)
    {
      StoredBatch *sb = batches->pdata[i];
      g_autoptr (SyncBatch) b = open_with_any (sb->data, keys, pk);

      g_assert_nonnull (b);
      g_assert_cmpuint (b->info.seq, ==, (guint64)sb->seq);
      g_array_append_val (seqs, sb->seq);
      for (guint k = 0; k < b->changes->len; k++)
        {
          SpChange *c = b->changes->pdata[k];
          char *key = g_strdup_printf ("%s/%s/%" G_GUINT64_FORMAT, c->record, c->field, c->hlc);
          if (!g_hash_table_add (seen, key))
            g_error ("change %s was pushed twice", key);
          total++;
        }
    }
  for (guint i = 0; i < seqs->len; i++)
    g_assert_cmpint (g_array_index (seqs, gint64, i), ==, (gint64)i + 1);
  g_test_message ("%s's chain at the relay: %u batches, %" G_GINT64_FORMAT " changes", dev->name,
                  seqs->len, total);
  g_assert_cmpint (total, ==, expected_changes);
}

static gint64
local_changes (Dev *dev)
{
  g_autoptr (GError) error = NULL;
  gint64 n = sp_vault_count_local_changes (dev->vault, 0, &error);

  g_assert_no_error (error);
  return n;
}

/* B syncs until quiet; returns the changes it applied. */
static guint
sync_until_quiet (Dev *dev)
{
  guint applied = 0;

  for (int pass = 0; pass < 6; pass++)
    {
      SyncReport r = { 0 };
      guint moved;

      sync_ok (dev, NULL, &r);
      g_assert_cmpuint (r.refused_batches, ==, 0);
      applied += r.applied_changes;
      moved = r.applied_batches + r.pushed_batches;
      sync_report_clear (&r);
      if (moved == 0)
        return applied;
    }
  g_error ("%s did not get quiet", dev->name);
}

static void
assert_same_records (Dev *a, Dev *b, GPtrArray *ids)
{
  for (guint i = 0; i < ids->len; i++)
    {
      g_autofree char *na = field_of (a, ids->pdata[i], "notes");
      g_autofree char *nb = field_of (b, ids->pdata[i], "notes");
      g_assert_nonnull (na);
      g_assert_cmpstr (nb, ==, na);
    }
}

static void
test_sigkill (void)
{
  g_autofree char *dir = new_tmp ("relay");
  Relay *relay = sync_relay_start (dir);
  guint port = relay->port;
  Dev *a = dev_new ("A"), *b = dev_new ("B");
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *a_id = NULL;
  gint64 before, after;
  guint applied;
  SyncStatus st;
  int status;

  create_workspace (a, relay->base, NULL);
  enrol (a, b, NULL);
  sync_until_quiet (b);
  a_id = g_strdup (dev_id (a));

  /* The relay dies while the CLI pushes. */
  before = local_changes (a);
  big_inserts (a, BIG_N, ids);
  after = local_changes (a);
  dev_close (a);
  if (!sync_and_kill (a, a_id, &relay, TRUE))
    relay_stop (relay);
  relay = relay_start_at (dir, port);
  dev_open (a);
  sync_ok (a, NULL, NULL);
  status_of (a, &st);
  g_assert_cmpint (st.pending_changes, ==, 0);
  sync_status_clear (&st);
  applied = sync_until_quiet (b);
  g_assert_cmpint (applied, ==, after - before);
  g_assert_cmpint (count_kind (b, "org"), ==, BIG_N);
  assert_same_records (a, b, ids);
  assert_chain_exactly_once (relay, a, after);

  /* The CLI dies while it pushes; the next run finishes the job. */
  before = after;
  big_inserts (a, BIG_N, ids);
  after = local_changes (a);
  dev_close (a);
  sync_and_kill (a, a_id, &relay, FALSE);
  status = cli_run (a->dir, NULL, NULL, "sync", NULL);
  g_assert_cmpint (status, ==, EXIT_OK);
  dev_open (a);
  status_of (a, &st);
  g_assert_cmpint (st.pending_changes, ==, 0);
  sync_status_clear (&st);
  applied = sync_until_quiet (b);
  g_assert_cmpint (applied, ==, after - before);
  g_assert_cmpint (count_kind (b, "org"), ==, 2 * BIG_N);
  assert_same_records (a, b, ids);
  assert_chain_exactly_once (relay, a, after);

  dev_free (a);
  dev_free (b);
  relay_stop (relay);
}

/* ---- 8. Through a SOCKS5 proxy ------------------------------------------------------------------- */

static void
test_socks5 (void)
{
  g_autofree char *microsocks = g_find_program_in_path ("microsocks");
  g_autofree char *dir = NULL, *port_s = NULL, *proxy = NULL, *closed = NULL, *id = NULL;
  Relay *relay;
  Forwarder *fw;
  Dev *a, *b;
  GPid pid;
  guint port;
  SyncOptions via = { 0 }, broken = { 0 };
  g_autoptr (GError) error = NULL;
  guint8 greeting;

  if (microsocks == NULL)
    {
      g_test_skip ("microsocks is not installed (apt-get install microsocks)");
      return;
    }
  dir = new_tmp ("relay");
  relay = sync_relay_start (dir);
  port = closed_port ();
  port_s = g_strdup_printf ("%u", port);
  {
    const char *argv[] = { microsocks, "-i", HOST, "-p", port_s, NULL };
    g_spawn_async (NULL, (char **)argv, NULL,
                   G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                       | G_SPAWN_STDERR_TO_DEV_NULL,
                   die_with_parent, NULL, &pid, &error);
    g_assert_no_error (error);
  }
  for (int i = 0; !port_accepts (port); i++)
    {
      g_assert_cmpint (i, <, 500);
      g_usleep (10000);
    }
  /* A recording forwarder in front of the proxy shows the client spoke SOCKS5. */
  fw = forwarder_start (port);
  proxy = g_strdup_printf ("socks5h://" HOST ":%u", fw->port);
  via.proxy = proxy;

  a = dev_new ("A");
  b = dev_new ("B");
  create_workspace (a, relay->base, &via);
  enrol (a, b, &via);
  id = insert_org (a, "Through the proxy", "socks5h");
  sync_ok (a, &via, NULL);
  sync_ok (b, &via, NULL);
  g_assert_true (has_record (b, id));
  g_mutex_lock (&fw->lock);
  g_assert_cmpuint (fw->up->len, >, 3);
  greeting = fw->up->data[0];
  g_mutex_unlock (&fw->lock);
  g_assert_cmpuint (greeting, ==, 5); /* SOCKS version 5 */
  g_assert_cmpuint (fw->connections, >, 0);

  /* The proxy gone: a network error, never a direct connection (the relay
   * itself is still reachable, so a fallback would succeed). */
  closed = g_strdup_printf ("socks5h://" HOST ":%u", closed_port ());
  broken.proxy = closed;
  g_free (insert_org (a, "Must not leave", "without the proxy"));
  error = sync_fails (a, &broken);
  sync_error_is (error, SYNC_ERROR_NETWORK, SYNC_ERROR_NETWORK);
  g_clear_error (&error);
  {
    SyncStatus st;
    status_of (a, &st);
    g_assert_cmpint (st.pending_changes, >, 0);
    sync_status_clear (&st);
  }

  forwarder_stop (fw);
  kill (pid, SIGTERM);
  wait_child (pid, 10000);
  dev_free (a);
  dev_free (b);
  relay_stop (relay);
}

/* ---- 9. The CLI ------------------------------------------------------------------------------- */

static char *
find_match (const char *text, const char *pattern)
{
  g_autoptr (GRegex) re = g_regex_new (pattern, 0, 0, NULL);
  g_autoptr (GMatchInfo) m = NULL;

  g_assert_nonnull (re);
  if (!g_regex_match (re, text, 0, &m))
    return NULL;
  return g_match_info_fetch (m, 0);
}

static void
test_cli (void)
{
  g_autofree char *dir = new_tmp ("relay");
  Relay *relay = sync_relay_start (dir);
  g_autofree char *tmp_a = new_tmp ("cli-a"), *tmp_b = new_tmp ("cli-b");
  g_autofree char *va = g_build_filename (tmp_a, "vault", NULL);
  g_autofree char *vb = g_build_filename (tmp_b, "vault", NULL);
  g_autofree char *out = NULL, *err = NULL, *code = NULL, *safety = NULL, *wrong = NULL;
  g_autofree char *dead = g_strdup_printf ("http://" HOST ":%u", closed_port ());

  g_assert_cmpint (cli_run (va, NULL, NULL, "init", "--kdf", "interactive", NULL), ==, EXIT_OK);
  g_assert_cmpint (cli_run (vb, NULL, NULL, "init", "--kdf", "interactive", NULL), ==, EXIT_OK);

  /* Usage errors: 1, before any network. */
  g_assert_cmpint (cli_run (va, NULL, NULL, "workspace", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (cli_run (va, NULL, NULL, "workspace", "frobnicate", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (cli_run (va, NULL, NULL, "workspace", "create", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (cli_run (va, NULL, NULL, "workspace", "join", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (cli_run (va, NULL, NULL, "workspace", "approve", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (cli_run (va, NULL, NULL, "device", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (cli_run (va, NULL, NULL, "device", "revoke", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (cli_run (va, NULL, NULL, "sync", "--bogus", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (cli_run (va, NULL, NULL, "sync", "--relay", NULL), ==, EXIT_USAGE);

  /* An unreachable relay: 5. */
  g_assert_cmpint (cli_run (va, NULL, NULL, "workspace", "create", "--relay", dead, NULL), ==,
                   EXIT_SYNC);

  g_assert_cmpint (cli_run (va, NULL, NULL, "workspace", "create", "--relay", relay->base, NULL),
                   ==, EXIT_OK);
  g_assert_cmpint (cli_run (va, &out, NULL, "workspace", "invite", NULL), ==, EXIT_OK);
  code = find_match (out, "supolka1:[A-Za-z0-9_=-]+");
  g_assert_nonnull (code);
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (cli_run (vb, &out, NULL, "workspace", "join", code, NULL), ==, EXIT_OK);
  safety = find_match (out, "[0-9]{3} [0-9]{3} [0-9]{3}");
  g_assert_nonnull (safety);
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (cli_run (va, &out, NULL, "device", "list", NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (out, "pending"));
  if (strstr (out, safety) == NULL) /* not fatal: the rest still runs */
    g_test_fail_printf ("'device list' does not show the pending device's safety code %s", safety);
  g_clear_pointer (&out, g_free);

  wrong = g_strdup (safety);
  wrong[10] = (char)('0' + (wrong[10] - '0' + 1) % 10);
  {
    int status = cli_run (va, NULL, &err, "workspace", "approve", wrong, NULL);
    g_assert_true (status == EXIT_NOT_FOUND || status == EXIT_INVALID);
    g_clear_pointer (&err, g_free);
  }
  g_assert_cmpint (cli_run (va, NULL, NULL, "workspace", "approve", safety, NULL), ==, EXIT_OK);
  g_assert_cmpint (cli_run (vb, NULL, NULL, "sync", NULL), ==, EXIT_OK);

  g_assert_cmpint (cli_run (va, NULL, NULL, "add", "org", "--name", "CLI synced org", NULL), ==,
                   EXIT_OK);
  g_assert_cmpint (cli_run (va, NULL, NULL, "sync", NULL), ==, EXIT_OK);
  g_assert_cmpint (cli_run (vb, NULL, NULL, "sync", NULL), ==, EXIT_OK);
  g_assert_cmpint (cli_run (vb, &out, NULL, "list", "org", NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (out, "CLI synced org"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (cli_run (vb, &out, NULL, "device", "list", NULL), ==, EXIT_OK);
  g_clear_pointer (&out, g_free);

  /* A relay that went away: 5, and so does an unreachable --relay override. */
  g_assert_cmpint (cli_run (vb, NULL, NULL, "sync", "--relay", dead, NULL), ==, EXIT_SYNC);
  relay_stop (relay);
  g_assert_cmpint (cli_run (va, NULL, NULL, "sync", NULL), ==, EXIT_SYNC);
  g_assert_cmpint (cli_run (va, NULL, NULL, "sync", "--proxy", "socks5h://" HOST ":1", NULL), ==,
                   EXIT_SYNC);

  sp_test_rmtree (tmp_a);
  sp_test_rmtree (tmp_b);
}

int
main (int argc, char **argv)
{
  sync_test_init (&argc, &argv);

  g_test_add_func ("/sync/sigkill", test_sigkill);
  g_test_add_func ("/sync/socks5", test_socks5);
  g_test_add_func ("/sync/cli", test_cli);

  return sync_test_finish (g_test_run ());
}
