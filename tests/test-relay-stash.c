/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-relay-stash.c — the travel stash on the real relay ($SUPOLKA_RELAY)
 * over HTTP: one opaque blob per device, readable and deletable only by that
 * device, bounded in size, counted in the workspace quota, kept across a
 * SIGKILL (docs/RELAY-API.md, "Travel stash").
 */
#include <curl/curl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>

#include "relay-test-client.h"

static Relay *main_relay;  /* default limits */
static Relay *small_relay; /* --quota-mb 1 */

static Resp *
stash (Relay *relay, const Workspace *ws, const Device *d, const char *method, GBytes *body)
{
  g_autofree char *path = ws_path (ws, "/stash");
  Opts opts = { .content_type = "application/octet-stream" };
  gsize len = 0;
  const guint8 *data = body ? g_bytes_get_data (body, &len) : NULL;

  return http (relay, d, method, path, data, len, body ? &opts : NULL);
}

static GBytes *
random_bytes (gsize len)
{
  guint8 *data = g_malloc (len);

  randombytes_buf (data, len);
  return g_bytes_new_take (data, len);
}

static gint64
ws_bytes (const char *data_dir, const Workspace *ws)
{
  g_autofree char *path = g_build_filename (data_dir, "relay.db", NULL);
  g_autofree char *sql = g_strdup_printf ("SELECT bytes FROM workspaces WHERE id = '%s'", ws->id);
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  gint64 v;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  v = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  sqlite3_close (db);
  return v;
}

static void
expect_body (Resp *resp, GBytes *want)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (want, &len);

  expect (resp, 200, NULL);
  g_assert_cmpuint (resp->body->len, ==, len);
  g_assert_true (memcmp (resp->body->data, data, len) == 0);
}

/* Put, get, replace, delete; each device sees only its own. */
static void
test_round_trip (void)
{
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (Device) other = device_new ();
  g_autoptr (GBytes) one = random_bytes (3000);
  g_autoptr (GBytes) two = random_bytes (100);
  g_autoptr (GBytes) theirs = random_bytes (50);
  Resp *r;
  gint64 before;

  setup_workspace (main_relay, &ws, &admin);
  enrol (main_relay, &ws, admin, other);
  r = stash (main_relay, &ws, admin, "GET", NULL);
  expect (r, 404, "not_found");
  resp_free (r);
  before = ws_bytes (main_relay->data_dir, &ws);

  r = stash (main_relay, &ws, admin, "PUT", one);
  expect (r, 201, NULL);
  g_assert_cmpint (resp_int (r, "size"), ==, 3000);
  resp_free (r);
  g_assert_cmpint (ws_bytes (main_relay->data_dir, &ws), ==, before + 3000);
  r = stash (main_relay, &ws, admin, "GET", NULL);
  expect_body (r, one);
  resp_free (r);

  /* Another device has its own slot and never reads this one. */
  r = stash (main_relay, &ws, other, "GET", NULL);
  expect (r, 404, "not_found");
  resp_free (r);
  r = stash (main_relay, &ws, other, "PUT", theirs);
  expect (r, 201, NULL);
  resp_free (r);
  r = stash (main_relay, &ws, other, "GET", NULL);
  expect_body (r, theirs);
  resp_free (r);

  /* Replacing counts only the difference. */
  r = stash (main_relay, &ws, admin, "PUT", two);
  expect (r, 200, NULL);
  resp_free (r);
  g_assert_cmpint (ws_bytes (main_relay->data_dir, &ws), ==, before + 100 + 50);
  r = stash (main_relay, &ws, admin, "GET", NULL);
  expect_body (r, two);
  resp_free (r);

  r = stash (main_relay, &ws, admin, "DELETE", NULL);
  expect (r, 200, NULL);
  resp_free (r);
  g_assert_cmpint (ws_bytes (main_relay->data_dir, &ws), ==, before + 50);
  r = stash (main_relay, &ws, admin, "GET", NULL);
  expect (r, 404, "not_found");
  resp_free (r);
  r = stash (main_relay, &ws, admin, "DELETE", NULL);
  expect (r, 404, "not_found");
  resp_free (r);
  r = stash (main_relay, &ws, other, "GET", NULL);
  expect_body (r, theirs);
  resp_free (r);
}

/* Limits: not empty, at most 256 KiB, within the quota; authenticated, active. */
static void
test_limits (void)
{
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (Device) lost = device_new ();
  g_autoptr (Device) stranger = device_new ();
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr (GBytes) max = random_bytes (256 * KIB);
  g_autoptr (GBytes) over = random_bytes (256 * KIB + 1);
  g_autoptr (GBytes) small = random_bytes (10);
  Opts no_auth = { .no_auth = TRUE };
  g_autofree char *path = NULL;
  Resp *r;

  setup_workspace (small_relay, &ws, &admin);
  path = ws_path (&ws, "/stash");
  r = stash (small_relay, &ws, admin, "PUT", empty);
  expect (r, 400, "invalid");
  resp_free (r);
  r = stash (small_relay, &ws, admin, "PUT", over);
  expect (r, 413, "too_large");
  resp_free (r);
  r = http (small_relay, NULL, "GET", path, NULL, 0, &no_auth);
  g_assert_cmpint (r->status, ==, 401);
  resp_free (r);
  r = stash (small_relay, &ws, stranger, "GET", NULL);
  g_assert_cmpint (r->status, ==, 401);
  resp_free (r);

  /* The quota (1 MiB) counts batches and stashes together. */
  for (guint64 seq = 1; seq <= 3; seq++)
    {
      g_autoptr (GBytes) env = random_envelope (&ws, admin, seq, 300 * KIB);
      push (small_relay, &ws, admin, env);
    }
  r = stash (small_relay, &ws, admin, "PUT", max);
  expect (r, 507, "quota");
  resp_free (r);
  r = stash (small_relay, &ws, admin, "PUT", small);
  expect (r, 201, NULL);
  resp_free (r);

  /* A removed device can no longer read or leave a stash. */
  enrol (small_relay, &ws, admin, lost);
  r = stash (small_relay, &ws, lost, "PUT", small);
  expect (r, 201, NULL);
  resp_free (r);
  r = post_log (small_relay, &ws, admin, log_head (small_relay, &ws, admin) + 1, "remove",
                lost->id);
  expect (r, 201, NULL);
  resp_free (r);
  r = stash (small_relay, &ws, lost, "GET", NULL);
  expect (r, 403, "revoked");
  resp_free (r);
}

/* What was stored survives a crash of the relay. */
static void
test_sigkill (void)
{
  g_autofree char *dir = new_data_dir ("kill");
  Relay *relay = relay_start (dir, NULL);
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (GBytes) blob = random_bytes (5000);
  Resp *r;

  setup_workspace (relay, &ws, &admin);
  r = stash (relay, &ws, admin, "PUT", blob);
  expect (r, 201, NULL);
  resp_free (r);
  relay_kill (relay);
  relay = relay_start (dir, NULL);
  r = stash (relay, &ws, admin, "GET", NULL);
  expect_body (r, blob);
  resp_free (r);
  relay_stop (relay);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *main_dir = NULL;
  g_autofree char *small_dir = NULL;
  const char *small_args[] = { "--quota-mb", "1", NULL };
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_assert_true (sync_protocol_init (NULL));
  g_assert_cmpint (curl_global_init (CURL_GLOBAL_DEFAULT), ==, CURLE_OK);
  tmp_root = g_dir_make_tmp ("supolka-relay-stash-XXXXXX", &error);
  g_assert_no_error (error);
  main_dir = new_data_dir ("main");
  small_dir = new_data_dir ("small");
  main_relay = relay_start (main_dir, NULL);
  small_relay = relay_start (small_dir, small_args);

  g_test_add_func ("/relay/stash/round-trip", test_round_trip);
  g_test_add_func ("/relay/stash/limits", test_limits);
  g_test_add_func ("/relay/stash/sigkill", test_sigkill);
  ret = g_test_run ();

  relay_stop (main_relay);
  relay_stop (small_relay);
  remove_tree (tmp_root);
  g_free (tmp_root);
  curl_global_cleanup ();
  return ret;
}
