/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The relay against strangers (issue #21, the findings R1–R6 of the security
 * review): the real supolka-relay on 127.0.0.1, a stranger's sockets from
 * 127.0.0.2 (relay-test-load.h), an honest signed client from 127.0.0.1
 * (relay-test-client.h). Each test fails on the relay before those fixes. */
#include <curl/curl.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "relay-test-client.h"
#include "relay-test-load.h"
#include "sec-cli-run.h"

#define PASS "relay abuse test passphrase"

#define MS(us) ((double)(us) / 1000.0)
#define RELAY_TEST_HEADER_DEADLINE 10 /* RELAY_HEADER_DEADLINE */

static double
now_ms (void)
{
  return MS (g_get_monotonic_time ());
}

/* One signed request of an honest device, with a deadline: its status and
 * how long it took. */
static long
timed_get_log (Relay *relay, const Workspace *ws, const Device *d, double *ms)
{
  g_autofree char *path = ws_path (ws, "/log");
  Opts opts = { .may_fail = TRUE, .timeout_ms = 5000 };
  double start = now_ms ();
  g_autoptr (Resp) resp = http (relay, d, "GET", path, NULL, 0, &opts);

  *ms = now_ms () - start;
  return resp->status;
}

/* A sync as far as the relay sees one: push a batch, pull the page. */
static double
timed_sync (Relay *relay, const Workspace *ws, const Device *d, guint64 seq)
{
  g_autoptr (GBytes) env = random_envelope (ws, d, seq, 2 * KIB);
  double start = now_ms ();
  g_autoptr (GPtrArray) page = NULL;
  guint pages = 0;

  push (relay, ws, d, env);
  page = pull_all (relay, ws, d, 0, 100, &pages);
  g_assert_cmpuint (page->len, ==, seq);
  return now_ms () - start;
}

/* R2: 1,000 idle and 300 trickling connections from one address. */
static void
test_connections (void)
{
  g_autofree char *dir = new_data_dir ("crowd");
  const char *args[] = { "--rate", "1000", NULL };
  Relay *relay = relay_start (dir, args);
  g_autoptr (Device) admin = NULL;
  Workspace ws;
  LoadCrowd *crowd;
  double worst = 0;

  setup_workspace (relay, &ws, &admin);
  crowd = load_crowd_new (relay->port, LOAD_SOURCE);
  load_idle (crowd, 1000);
  load_slowloris (crowd, 300);
  for (guint i = 0; i < 5; i++)
    {
      double ms = 0;

      g_assert_cmpint (timed_get_log (relay, &ws, admin, &ms), ==, 200);
      worst = MAX (worst, ms);
    }
  g_test_message ("signed answers within %.0f ms; sync %.0f ms; relay RSS %" G_GUINT64_FORMAT
                  " KiB",
                  worst, timed_sync (relay, &ws, admin, 1), load_rss_kib (relay->pid));
  g_assert_cmpfloat (worst, <, 1000);
  g_assert_cmpuint (load_rss_kib (relay->pid), <, 150 * 1024);
  /* Past the header deadline, none of the stranger's sockets is left. */
  g_usleep ((RELAY_TEST_HEADER_DEADLINE + 3) * G_USEC_PER_SEC);
  g_assert_cmpuint (load_still_open (crowd), ==, 0);
  load_crowd_free (crowd);
  relay_stop (relay);
}

/* The request line and headers of a stranger's upload. */
static char *
upload_head (const char *method, const char *path, gsize len, const char *device)
{
  g_autofree char *auth = NULL;

  if (device != NULL)
    auth = g_strdup_printf (
        "X-Supolka-Device: %s\r\nX-Supolka-Time: %" G_GINT64_FORMAT
        "\r\nX-Supolka-Nonce: %032x\r\nX-Supolka-Signature: %s\r\n",
        device, g_get_real_time () / G_USEC_PER_SEC, g_random_int (),
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==");
  return g_strdup_printf ("%s %s HTTP/1.1\r\nHost: relay\r\nContent-Type: application/octet-stream"
                          "\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n%s\r\n",
                          method, path, len, auth ? auth : "X-Supolka-Device: junk\r\n");
}

/* R3: four sockets that announce 64 MiB snapshots no longer block every snapshot. */
static void
test_snapshot_reservation (void)
{
  g_autofree char *dir = new_data_dir ("reserve");
  const char *args[] = { "--rate", "1000", "--max-connections-per-ip", "100", NULL };
  Relay *relay = relay_start (dir, args);
  g_autoptr (Device) admin = NULL;
  g_autoptr (GBytes) snapshot = NULL;
  g_autofree char *path = NULL;
  g_autofree char *query = NULL;
  g_autofree char *junk = NULL;
  g_autofree char *known = NULL;
  g_autoptr (Resp) put = NULL;
  g_autoptr (Resp) get = NULL;
  Workspace ws;
  LoadCrowd *crowd;
  guint8 data[64 * KIB];

  setup_workspace (relay, &ws, &admin);
  path = ws_path (&ws, "/snapshot");
  query = g_strconcat (path, "?cursor=0", NULL);
  junk = upload_head ("PUT", query, 64 * MIB, NULL);
  /* Well-formed headers naming a real device, with a signature that cannot verify. */
  known = upload_head ("PUT", query, 64 * MIB, admin->id);
  crowd = load_crowd_new (relay->port, LOAD_SOURCE);
  load_half_bodies (crowd, 4, junk, 2);
  load_half_bodies (crowd, 4, known, 2);
  g_usleep (200 * 1000);

  randombytes_buf (data, sizeof data);
  put = http (relay, admin, "PUT", query, data, sizeof data, NULL);
  expect (put, 201, NULL);
  get = http (relay, admin, "GET", path, NULL, 0, NULL);
  expect (get, 200, NULL);
  g_assert_cmpuint (get->body->len, ==, sizeof data);
  load_crowd_free (crowd);
  relay_stop (relay);
}

/* R4: 250 unauthenticated batch bodies all but sent leave the relay small. */
static void
test_half_batches (void)
{
  g_autofree char *dir = new_data_dir ("half");
  const char *args[] = { "--max-connections-per-ip", "1000", NULL };
  Relay *relay = relay_start (dir, args);
  g_autoptr (Device) admin = NULL;
  g_autofree char *path = NULL;
  g_autofree char *head = NULL;
  gsize len = 4 * MIB + 512 * KIB;
  Workspace ws;
  LoadCrowd *crowd;
  guint64 rss;

  setup_workspace (relay, &ws, &admin);
  path = ws_path (&ws, "/batches");
  head = upload_head ("POST", path, len, NULL);
  crowd = load_crowd_new (relay->port, LOAD_SOURCE);
  load_half_bodies (crowd, 250, head, len);
  rss = load_rss_kib (relay->pid);
  g_test_message ("relay RSS with 250 half-sent batches: %" G_GUINT64_FORMAT " KiB", rss);
  g_assert_cmpuint (rss, <, 100 * 1024);
  load_crowd_free (crowd);
  relay_stop (relay);
}

/* R1: closed by default, the token in DATA/create-token (0600), its path logged. */
static void
test_creation_closed (void)
{
  g_autofree char *dir = new_data_dir ("closed");
  g_autofree char *file = g_build_filename (dir, "create-token", NULL);
  g_autofree char *token = NULL;
  g_autofree char *log = NULL;
  g_autoptr (Device) admin = device_new ();
  g_autoptr (Resp) none = NULL;
  g_autoptr (Resp) wrong = NULL;
  g_autoptr (Resp) right = NULL;
  const RelayOptions opts = { .data_dir = dir, .closed_creation = TRUE, .capture_log = TRUE };
  Relay *relay = relay_start_with (&opts);
  Workspace ws = workspace_new ();
  struct stat st;

  g_assert_cmpint (g_stat (file, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_true (g_file_get_contents (file, &token, NULL, NULL));
  g_strstrip (token);
  g_assert_cmpuint (strlen (token), >=, 32);
  none = create_workspace (relay, &ws, admin, NULL);
  expect (none, 403, "create_token");
  wrong = create_workspace (relay, &ws, admin, "not-the-token");
  expect (wrong, 403, "create_token");
  right = create_workspace (relay, &ws, admin, token);
  expect (right, 201, NULL);
  log = relay_stop_log (relay);
  g_assert_nonnull (strstr (log, "event=creation mode=token-file"));
  g_assert_nonnull (strstr (log, "create-token\""));
  g_assert_null (strstr (log, token));

  /* The same token at the next start. */
  relay = relay_start_with (&opts);
  g_clear_pointer (&right, resp_free);
  ws = workspace_new ();
  right = create_workspace (relay, &ws, admin, token);
  expect (right, 201, NULL);
  g_free (relay_stop_log (relay));
}

/* R1: how many workspaces, and how fast from one address. */
static void
test_creation_limits (void)
{
  g_autofree char *dir = new_data_dir ("limits");
  const char *args[] = { "--open-creation", "--create-rate", "3", "--max-workspaces", "4", NULL };
  Relay *relay = relay_start (dir, args);
  g_autoptr (Device) admin = device_new ();
  g_autoptr (Resp) fourth = NULL;

  for (guint i = 0; i < 3; i++)
    {
      Workspace ws = workspace_new ();
      g_autoptr (Resp) ok = create_workspace (relay, &ws, admin, NULL);

      expect (ok, 201, NULL);
    }
  {
    Workspace ws = workspace_new ();

    fourth = create_workspace (relay, &ws, admin, NULL);
    expect (fourth, 429, "create_rate");
  }
  relay_stop (relay);

  /* A fresh allowance after a restart; the workspace cap still holds. */
  relay = relay_start (dir, args);
  for (guint i = 0; i < 2; i++)
    {
      Workspace ws = workspace_new ();
      g_autoptr (Resp) r = create_workspace (relay, &ws, admin, NULL);

      expect (r, i == 0 ? 201 : 507, i == 0 ? NULL : "relay_full");
    }
  relay_stop (relay);
}

/* R1: the relay-wide byte cap holds across workspaces. */
static void
test_total_cap (void)
{
  g_autofree char *dir = new_data_dir ("total");
  const char *args[] = { "--rate", "1000", "--max-total-mb", "1", NULL };
  Relay *relay = relay_start (dir, args);
  g_autoptr (Device) a = NULL;
  g_autoptr (Device) b = NULL;
  Workspace wa, wb;
  gsize stored = 0;
  gboolean full = FALSE;

  setup_workspace (relay, &wa, &a);
  setup_workspace (relay, &wb, &b);
  for (guint64 seq = 1; seq <= 10 && !full; seq++)
    for (guint w = 0; w < 2 && !full; w++)
      {
        g_autoptr (GBytes) env = random_envelope (w ? &wb : &wa, w ? b : a, seq, 100 * KIB);
        g_autoptr (Resp) r = post_envelope (relay, w ? &wb : &wa, w ? b : a, env);

        if (r->status == 507)
          {
            g_assert_cmpstr (resp_error (r), ==, "relay_full");
            full = TRUE;
          }
        else
          {
            expect (r, 201, NULL);
            stored += g_bytes_get_size (env);
          }
      }
  g_assert_true (full);
  g_assert_cmpuint (stored, <=, MIB);
  relay_stop (relay);
}

/* R1: a new, empty workspace cannot take a large snapshot. */
static void
test_empty_snapshot (void)
{
  g_autofree char *dir = new_data_dir ("empty-snap");
  const char *args[] = { "--rate", "1000", NULL };
  Relay *relay = relay_start (dir, args);
  g_autoptr (Device) admin = NULL;
  g_autofree char *path = NULL;
  g_autofree guint8 *big = g_malloc0 (16 * MIB);
  g_autoptr (Resp) refused = NULL;
  g_autoptr (Resp) fits = NULL;
  Workspace ws;

  setup_workspace (relay, &ws, &admin);
  path = ws_path (&ws, "/snapshot?cursor=0");
  refused = http (relay, admin, "PUT", path, big, 16 * MIB, NULL);
  expect (refused, 413, "too_large");
  fits = http (relay, admin, "PUT", path, big, MIB, NULL);
  expect (fits, 201, NULL);
  relay_stop (relay);
}

/* R1: writes are refused cleanly when the disk is nearly full; reads go on. */
static void
test_min_free (void)
{
  g_autofree char *dir = new_data_dir ("min-free");
  const char *args[] = { "--rate", "1000", NULL };
  const char *tight[] = { "--rate", "1000", "--min-free-mb", "2000000000", NULL };
  Relay *relay = relay_start (dir, args);
  g_autoptr (Device) admin = NULL;
  g_autoptr (GBytes) env = NULL;
  g_autoptr (Resp) refused = NULL;
  g_autoptr (Resp) create = NULL;
  g_autoptr (Device) other = device_new ();
  g_autoptr (GBytes) first = NULL;
  g_autoptr (GPtrArray) pulled = NULL;
  guint pages = 0;
  Workspace ws, ws2 = workspace_new ();
  double ms = 0;

  setup_workspace (relay, &ws, &admin);
  first = random_envelope (&ws, admin, 1, KIB);
  push (relay, &ws, admin, first);
  relay_stop (relay);

  relay = relay_start (dir, tight);
  env = random_envelope (&ws, admin, 2, KIB);
  refused = post_envelope (relay, &ws, admin, env);
  expect (refused, 507, "disk_full");
  create = create_workspace (relay, &ws2, other, NULL);
  expect (create, 507, "disk_full");
  g_assert_cmpint (timed_get_log (relay, &ws, admin, &ms), ==, 200);
  pulled = pull_all (relay, &ws, admin, 0, 100, &pages);
  g_assert_cmpuint (pulled->len, ==, 1);
  relay_stop (relay);
}

typedef struct
{
  Relay *relay;
  const Workspace *ws;
  const Device *d;
  gint64 cursor;
  double ms;
} PruneJob;

static gpointer
prune_thread (gpointer data)
{
  PruneJob *job = data;
  g_autofree char *path = ws_path (job->ws, "/prune");
  g_autofree char *json = g_strdup_printf ("{\"cursor\":%" G_GINT64_FORMAT "}", job->cursor);
  double start = now_ms ();
  g_autoptr (Resp) resp = http_json (job->relay, job->d, "POST", path, json, NULL);

  job->ms = now_ms () - start;
  expect (resp, 200, NULL);
  return NULL;
}

/* R5: one workspace's large prune does not stall another workspace. */
static void
test_prune_isolation (void)
{
  g_autofree char *dir = new_data_dir ("prune");
  const char *args[] = { "--rate", "100000", NULL };
  Relay *relay = relay_start (dir, args);
  g_autoptr (Device) a = NULL;
  g_autoptr (Device) b = NULL;
  g_autofree char *snap_path = NULL;
  g_autoptr (Resp) snap = NULL;
  PruneJob job = { 0 };
  guint8 small[KIB] = { 0 };
  Workspace wa, wb;
  GThread *thread;
  double worst = 0;
  guint probes = 0;

  setup_workspace (relay, &wa, &a);
  setup_workspace (relay, &wb, &b);
  for (guint64 seq = 1; seq <= 120; seq++)
    {
      g_autoptr (GBytes) env = random_envelope (&wa, a, seq, MIB);

      job.cursor = push (relay, &wa, a, env);
    }
  snap_path
      = g_strdup_printf ("%s?cursor=%" G_GINT64_FORMAT, ws_path (&wa, "/snapshot"), job.cursor);
  snap = http (relay, a, "PUT", snap_path, small, sizeof small, NULL);
  expect (snap, 201, NULL);

  job.relay = relay;
  job.ws = &wa;
  job.d = a;
  thread = g_thread_new ("prune", prune_thread, &job);
  g_usleep (20 * 1000);
  while (job.ms == 0)
    {
      double ms = 0;

      g_assert_cmpint (timed_get_log (relay, &wb, b, &ms), ==, 200);
      worst = MAX (worst, ms);
      probes++;
    }
  g_thread_join (thread);
  g_test_message ("prune of 120 MiB: %.0f ms; the other workspace's %u answers: at most %.0f ms",
                  job.ms, probes, worst);
  g_assert_cmpfloat (job.ms, >, 300); /* else the test measures nothing */
  g_assert_cmpfloat (worst, <, job.ms / 3);
  relay_stop (relay);
}

/* R6: refused strangers are slowed down per address. */
static void
test_failures_limited (void)
{
  g_autofree char *dir = new_data_dir ("guesses");
  const char *args[] = { "--create-token", "the-right-token-1234", NULL };
  Relay *relay = relay_start (dir, args);
  g_autoptr (Device) admin = device_new ();
  g_autoptr (Resp) right = NULL;
  guint limited = 0;

  for (guint i = 0; i < 100; i++)
    {
      Workspace ws = workspace_new ();
      g_autofree char *guess = g_strdup_printf ("guess-%u", i);
      g_autoptr (Resp) r = create_workspace (relay, &ws, admin, guess);

      if (r->status == 429)
        {
          g_assert_cmpstr (resp_error (r), ==, "too_many_failures");
          limited++;
        }
      else
        expect (r, 403, "create_token");
    }
  g_assert_cmpuint (limited, >, 0);
  {
    Workspace ws = workspace_new ();

    right = create_workspace (relay, &ws, admin, "the-right-token-1234");
    expect (right, 429, "too_many_failures");
  }
  relay_stop (relay);
}

/* R6: a request refused after its signature verified has spent its nonce. */
static void
test_refused_nonce_spent (void)
{
  g_autofree char *dir = new_data_dir ("nonce");
  const char *args[] = { "--rate", "1", NULL };
  Relay *relay = relay_start (dir, args);
  g_autoptr (Device) admin = NULL;
  g_autofree char *path = NULL;
  char nonce[SYNC_AUTH_NONCE_HEX_LEN + 1];
  Workspace ws;
  long status = 0;

  setup_workspace (relay, &ws, &admin);
  path = ws_path (&ws, "/log");
  for (guint i = 0; i < 50 && status != 429; i++)
    {
      g_autoptr (Resp) r = NULL;

      sync_auth_new_nonce (nonce);
      r = http (relay, admin, "GET", path, NULL, 0, &(Opts){ .nonce = nonce });
      status = r->status;
    }
  g_assert_cmpint (status, ==, 429);
  g_usleep (2 * G_USEC_PER_SEC); /* tokens again */
  {
    g_autoptr (Resp) replay = http (relay, admin, "GET", path, NULL, 0, &(Opts){ .nonce = nonce });

    expect (replay, 401, "replay");
  }
  relay_stop (relay);
}

/* R6: the relay routes the target as signed: an escaped "/" is not a "/" (the
 * id is then not an id). */
static void
test_route_raw (void)
{
  g_autofree char *dir = new_data_dir ("raw");
  Relay *relay = relay_start (dir, NULL);
  g_autoptr (Device) admin = NULL;
  g_autofree char *path = NULL;
  g_autoptr (Resp) escaped = NULL;
  Workspace ws;

  setup_workspace (relay, &ws, &admin);
  path = g_strdup_printf ("/v1/workspaces/%s%%2flog", ws.id);
  escaped = http (relay, admin, "GET", path, NULL, 0, NULL);
  expect (escaped, 400, "invalid_id");
  relay_stop (relay);
}

/* Stopping under a stranger's load takes well under two seconds. */
static void
test_shutdown_under_load (void)
{
  g_autofree char *dir = new_data_dir ("shutdown");
  const char *args[] = { "--max-connections", "4096", "--max-connections-per-ip", "4096", NULL };
  Relay *relay = relay_start (dir, args);
  g_autoptr (Device) admin = NULL;
  g_autofree char *path = NULL;
  g_autofree char *head = NULL;
  Workspace ws;
  LoadCrowd *crowd;
  double start;

  setup_workspace (relay, &ws, &admin);
  path = ws_path (&ws, "/batches");
  head = upload_head ("POST", path, 4 * MIB, admin->id);
  crowd = load_crowd_new (relay->port, LOAD_SOURCE);
  load_idle (crowd, 1000);
  load_slowloris (crowd, 300);
  load_half_bodies (crowd, 250, head, 64 * KIB);
  start = now_ms ();
  relay_stop (relay);
  g_test_message ("stopped in %.0f ms under %u connections", now_ms () - start, load_count (crowd));
  g_assert_cmpfloat (now_ms () - start, <, 2000);
  load_crowd_free (crowd);
}

/* supolka-cli workspace create with the token on a file descriptor. */
static int
cli_create (SecEnv *env, const char *relay_base, const char *token, char **err)
{
  const char *argv[] = { "--passphrase-fd",
                         "3",
                         "workspace",
                         "create",
                         "--relay",
                         relay_base,
                         token ? "--create-token-fd" : NULL,
                         "0",
                         NULL };

  g_clear_pointer (err, g_free);
  return sec_run_argv (env, token, PASS "\n", NULL, err, argv);
}

/* R0: the deployment the docs recommend works with Supolka's own client. */
static void
test_cli_create_token (void)
{
  g_autofree char *dir = new_data_dir ("cli-token");
  g_autofree char *file = g_build_filename (dir, "create-token", NULL);
  g_autofree char *token = NULL;
  g_autofree char *line = NULL;
  g_autofree char *err = NULL;
  g_autoptr (SecEnv) env = NULL;
  const RelayOptions opts = { .data_dir = dir, .closed_creation = TRUE };
  Relay *relay;

  g_assert_true (sec_require_cli ());
  relay = relay_start_with (&opts);
  g_assert_true (g_file_get_contents (file, &token, NULL, NULL));
  g_strstrip (token);
  line = g_strconcat (token, "\n", NULL);
  env = sec_env_new ();
  g_assert_cmpint (sec_run (env, PASS "\n", NULL, NULL, "--passphrase-fd", "3", "init", "--kdf",
                            "interactive", NULL),
                   ==, 0);
  g_assert_cmpint (cli_create (env, relay->base, NULL, &err), ==, 5);
  g_assert_nonnull (strstr (err, "needs a create token"));
  g_assert_cmpint (cli_create (env, relay->base, "wrong-token\n", &err), ==, 5);
  g_assert_nonnull (strstr (err, "did not accept this create token"));
  g_assert_cmpint (cli_create (env, relay->base, line, &err), ==, 0);
  relay_stop (relay);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_assert_true (sync_protocol_init (NULL));
  g_assert_cmpint (curl_global_init (CURL_GLOBAL_DEFAULT), ==, CURLE_OK);
  tmp_root = g_dir_make_tmp ("supolka-relay-abuse-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/relay-abuse/r0/cli-create-token", test_cli_create_token);
  g_test_add_func ("/relay-abuse/r1/creation-closed", test_creation_closed);
  g_test_add_func ("/relay-abuse/r1/creation-limits", test_creation_limits);
  g_test_add_func ("/relay-abuse/r1/total-cap", test_total_cap);
  g_test_add_func ("/relay-abuse/r1/empty-snapshot", test_empty_snapshot);
  g_test_add_func ("/relay-abuse/r1/min-free", test_min_free);
  g_test_add_func ("/relay-abuse/r2/connections", test_connections);
  g_test_add_func ("/relay-abuse/r3/snapshot-reservation", test_snapshot_reservation);
  g_test_add_func ("/relay-abuse/r4/half-batches", test_half_batches);
  g_test_add_func ("/relay-abuse/r5/prune-isolation", test_prune_isolation);
  g_test_add_func ("/relay-abuse/r6/failures-limited", test_failures_limited);
  g_test_add_func ("/relay-abuse/r6/refused-nonce-spent", test_refused_nonce_spent);
  g_test_add_func ("/relay-abuse/r6/route-raw", test_route_raw);
  g_test_add_func ("/relay-abuse/shutdown-under-load", test_shutdown_under_load);

  ret = g_test_run ();
  remove_tree (tmp_root);
  g_free (tmp_root);
  curl_global_cleanup ();
  return ret;
}
