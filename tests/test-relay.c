/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-relay.c — the sync relay end to end: the real binary ($SUPOLKA_RELAY) on
 * 127.0.0.1 with a temporary data folder, driven over HTTP with libcurl, every
 * request signed with sync_auth_sign() as a client will.
 *
 * One relay (default limits) serves most tests; each test makes its own
 * workspace and devices. A second relay with tight limits (create token, 1 MiB
 * quota, 2 requests/s, 2 devices) serves the limit tests; a few tests start
 * their own (crash and restart, forensic scan, TLS, refusal to listen).
 */
#include <curl/curl.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relay-test-client.h"

#define CREATE_TOKEN "test-create-token-7f3a"

/* ---- Relays --------------------------------------------------------------------- */

static Relay *main_relay;    /* default limits */
static Relay *limited_relay; /* --create-token, --quota-mb 1, --rate 2, --max-devices 2 */

/* ---- Tests ----------------------------------------------------------------------- */

static void
test_healthz (void)
{
  g_autoptr (Resp) resp = http (main_relay, NULL, "GET", "/healthz", NULL, 0, NULL);

  expect (resp, 200, NULL);
  g_assert_cmpstr (json_object_get_string_member (resp_object (resp), "status"), ==, "ok");
}

static void
test_routing (void)
{
  Workspace ws = workspace_new ();
  g_autoptr (Device) d = device_new ();
  g_autofree char *batches = ws_path (&ws, "/batches");
  g_autofree char *root = ws_path (&ws, "");
  g_autofree char *long_path = NULL;
  g_autoptr (Resp) r1 = http (main_relay, NULL, "GET", "/nope", NULL, 0, NULL);
  g_autoptr (Resp) r2 = http (main_relay, NULL, "GET", "/v1/workspaces/ABC/log", NULL, 0, NULL);
  g_autoptr (Resp) r3 = http (main_relay, d, "DELETE", batches, NULL, 0, NULL);
  g_autoptr (Resp) r4 = http (main_relay, d, "GET", root, NULL, 0, NULL);
  g_autoptr (Resp) r5 = NULL;
  g_autoptr (Resp) r6 = NULL;

  expect (r1, 404, "not_found");
  expect (r2, 400, "invalid_id");
  expect (r3, 405, "method_not_allowed");
  expect (r4, 405, "method_not_allowed");
  long_path = g_strdup_printf ("%s?pad=%0*d", batches, 2100, 0);
  r5 = http (main_relay, d, "GET", long_path, NULL, 0, &(Opts){ .no_auth = TRUE });
  expect (r5, 414, "uri_too_long");
  /* Not JSON at all, JSON nested too deep: clear 400s, no crash. */
  r6 = http_json (main_relay, d, "POST", root, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]", NULL);
  expect (r6, 400, "invalid");
}

static void
test_create (void)
{
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (Device) other = device_new ();
  g_autoptr (Resp) again = NULL;
  g_autoptr (Resp) by_other = NULL;
  g_autoptr (Resp) mismatch = NULL;
  g_autoptr (Resp) log = NULL;
  g_autoptr (Resp) bad_key = NULL;
  g_autofree char *log_path = NULL;
  g_autofree char *root = NULL;
  g_autofree char *members = NULL;
  g_autofree char *json = NULL;
  JsonArray *entries;

  setup_workspace (main_relay, &ws, &admin);
  again = create_workspace (main_relay, &ws, admin, NULL);
  expect (again, 409, "exists");
  by_other = create_workspace (main_relay, &ws, other, NULL);
  expect (by_other, 409, "exists");

  /* The body's device must be the signing device. */
  root = ws_path (&ws, "");
  members = device_members (other);
  json = g_strdup_printf ("{%s,\"entry\":\"x\"}", members);
  mismatch = http_json (main_relay, admin, "POST", root, json, NULL);
  expect (mismatch, 400, "device_mismatch");
  g_free (json);
  json = g_strdup_printf ("{\"device\":\"%s\",\"auth_pk\":\"AAAA\",\"sign_pk\":1,\"box_pk\":null,"
                          "\"entry\":\"x\"}",
                          other->id);
  bad_key = http_json (main_relay, other, "POST", root, json, NULL);
  expect (bad_key, 400, "invalid");

  /* Version 1 of the membership log is the creator's entry. */
  log_path = ws_path (&ws, "/log?since=0");
  log = http (main_relay, admin, "GET", log_path, NULL, 0, NULL);
  expect (log, 200, NULL);
  g_assert_cmpint (resp_int (log, "head"), ==, 1);
  entries = json_object_get_array_member (resp_object (log), "entries");
  g_assert_cmpuint (json_array_get_length (entries), ==, 1);
  g_assert_cmpint (
      json_object_get_int_member (json_array_get_object_element (entries, 0), "version"), ==, 1);
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (entries, 0), "signer"), ==,
      admin->id);
}

static void
test_create_token (void)
{
  Workspace ws = workspace_new ();
  g_autoptr (Device) admin = device_new ();
  g_autoptr (Resp) none = create_workspace (limited_relay, &ws, admin, NULL);
  g_autoptr (Resp) wrong = create_workspace (limited_relay, &ws, admin, "not-the-token");
  g_autoptr (Resp) right = create_workspace (limited_relay, &ws, admin, CREATE_TOKEN);

  expect (none, 403, "create_token");
  expect (wrong, 403, "create_token");
  expect (right, 201, NULL);
}

/* An invite more than 7 days away is refused; one that lapsed cannot be used. */
static void
check_invite_lifetime (const Workspace *ws, const Device *admin, const Device *late)
{
  g_autofree char *invites_path = ws_path (ws, "/invites");
  g_autofree char *json = NULL;
  g_autoptr (Resp) too_far = NULL;
  g_autoptr (Resp) expired = NULL;
  guint8 short_token[32];

  json = g_strdup_printf ("{\"token_hash\":\"%064d\",\"expires\":%" G_GINT64_FORMAT "}", 0,
                          g_get_real_time () / G_USEC_PER_SEC + 8 * 24 * 3600);
  too_far = http_json (main_relay, admin, "POST", invites_path, json, NULL);
  expect (too_far, 400, "invalid");
  make_invite (main_relay, ws, admin, short_token, 2);
  g_usleep (3100 * 1000);
  expired = join (main_relay, ws, late, short_token);
  expect (expired, 403, "invite");
}

static void
test_enrol (void)
{
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (Device) joiner = device_new ();
  g_autoptr (Device) late = device_new ();
  g_autoptr (Device) stranger = device_new ();
  g_autoptr (Resp) joined = NULL;
  g_autoptr (Resp) rejoined = NULL;
  g_autoptr (Resp) reused = NULL;
  g_autoptr (Resp) wrong = NULL;
  g_autoptr (Resp) devices = NULL;
  g_autoptr (Resp) devices2 = NULL;
  g_autoptr (Resp) pending_push = NULL;
  g_autoptr (Resp) pending_pull = NULL;
  g_autoptr (Resp) approved = NULL;
  g_autoptr (Resp) pushed = NULL;
  g_autoptr (Resp) second = NULL;
  g_autoptr (GBytes) envelope = NULL;
  g_autofree char *devices_path = NULL;
  g_autofree char *batches_path = NULL;
  guint8 token[32];
  guint8 token2[32];
  guint8 random_token[32];
  JsonArray *list;
  guint i;
  gboolean seen = FALSE;

  setup_workspace (main_relay, &ws, &admin);
  devices_path = ws_path (&ws, "/devices");
  batches_path = ws_path (&ws, "/batches?since=0");

  make_invite (main_relay, &ws, admin, token, 3600);
  joined = join (main_relay, &ws, joiner, token);
  expect (joined, 202, NULL);
  reused = join (main_relay, &ws, late, token);
  expect (reused, 403, "invite");
  randombytes_buf (random_token, sizeof random_token);
  wrong = join (main_relay, &ws, stranger, random_token);
  expect (wrong, 403, "invite");
  /* A second join of the same device is refused, and does not spend the token. */
  make_invite (main_relay, &ws, admin, token2, 3600);
  rejoined = join (main_relay, &ws, joiner, token2);
  expect (rejoined, 409, "exists");
  second = join (main_relay, &ws, stranger, token2);
  expect (second, 202, NULL);

  check_invite_lifetime (&ws, admin, late);

  /* Pending: may read the device list and the log, may not touch batches. */
  devices = http (main_relay, joiner, "GET", devices_path, NULL, 0, NULL);
  expect (devices, 200, NULL);
  list = json_object_get_array_member (resp_object (devices), "devices");
  g_assert_cmpuint (json_array_get_length (list), ==, 3);
  for (i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *o = json_array_get_object_element (list, i);
      g_autofree char *sign = g_base64_encode (joiner->sign_pk, 32);

      if (g_strcmp0 (json_object_get_string_member (o, "device"), joiner->id) == 0)
        {
          seen = TRUE;
          g_assert_cmpstr (json_object_get_string_member (o, "status"), ==, "pending");
          g_assert_cmpstr (json_object_get_string_member (o, "sign_pk"), ==, sign);
        }
    }
  g_assert_true (seen);
  g_assert_cmpint (log_head (main_relay, &ws, joiner), ==, 1);
  envelope = random_envelope (&ws, joiner, 1, 100);
  pending_push = post_envelope (main_relay, &ws, joiner, envelope);
  expect (pending_push, 403, "pending");
  pending_pull = http (main_relay, joiner, "GET", batches_path, NULL, 0, NULL);
  expect (pending_pull, 403, "pending");

  /* An admin appends "add" to the log: pending → active. */
  approved = post_log (main_relay, &ws, admin, 2, "add", joiner->id);
  expect (approved, 201, NULL);
  g_assert_cmpint (resp_int (approved, "head"), ==, 2);
  devices2 = http (main_relay, joiner, "GET", devices_path, NULL, 0, NULL);
  expect (devices2, 200, NULL);
  list = json_object_get_array_member (resp_object (devices2), "devices");
  for (i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *o = json_array_get_object_element (list, i);

      g_assert_cmpstr (json_object_get_string_member (o, "status"), ==,
                       g_strcmp0 (json_object_get_string_member (o, "device"), stranger->id) == 0
                           ? "pending"
                           : "active");
    }
  pushed = post_envelope (main_relay, &ws, joiner, envelope);
  expect (pushed, 201, NULL);
}

static void
test_max_devices (void)
{
  Workspace ws = workspace_new ();
  g_autoptr (Device) admin = device_new ();
  g_autoptr (Device) second = device_new ();
  g_autoptr (Device) third = device_new ();
  g_autoptr (Resp) created = create_workspace (limited_relay, &ws, admin, CREATE_TOKEN);
  g_autoptr (Resp) ok = NULL;
  g_autoptr (Resp) refused = NULL;
  guint8 t1[32];
  guint8 t2[32];

  expect (created, 201, NULL);
  make_invite (limited_relay, &ws, admin, t1, 600);
  make_invite (limited_relay, &ws, admin, t2, 600);
  ok = join (limited_relay, &ws, second, t1);
  expect (ok, 202, NULL);
  refused = join (limited_relay, &ws, third, t2); /* --max-devices 2 */
  expect (refused, 403, "too_many_devices");
}

static void
test_push_pull_pages (void)
{
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (Device) peer = device_new ();
  g_autoptr (GPtrArray) pushed = g_ptr_array_new_with_free_func (bytes_unref);
  g_autoptr (GPtrArray) by_size = NULL;
  g_autoptr (GPtrArray) by_count = NULL;
  g_autoptr (GPtrArray) tail = NULL;
  gint64 cursors[14];
  gint64 last = 0;
  guint pages = 0;
  guint i;

  setup_workspace (main_relay, &ws, &admin);
  enrol (main_relay, &ws, admin, peer);
  /* 12 batches of ~700 KiB from the admin, two small ones from the peer between. */
  for (i = 0; i < 14; i++)
    {
      GBytes *envelope;

      if (i == 4 || i == 9)
        envelope = random_envelope (&ws, peer, i == 4 ? 1 : 2, 300);
      else
        envelope = random_envelope (&ws, admin, i < 4 ? i + 1 : (i < 9 ? i : i - 1), 700 * KIB);
      cursors[i] = push (main_relay, &ws, i == 4 || i == 9 ? peer : admin, envelope);
      g_assert_cmpint (cursors[i], >, last);
      last = cursors[i];
      g_ptr_array_add (pushed, envelope);
    }

  /* Pages bounded by size: ~4 MiB each, so at least three. */
  by_size = pull_all (main_relay, &ws, peer, 0, 500, &pages);
  g_assert_cmpuint (by_size->len, ==, pushed->len);
  g_assert_cmpuint (pages, >=, 3);
  for (i = 0; i < pushed->len; i++)
    {
      gsize n;
      const guint8 *data = g_bytes_get_data (g_ptr_array_index (by_size, i), &n);
      const Device *author = i == 4 || i == 9 ? peer : admin;

      g_assert_true (g_bytes_equal (g_ptr_array_index (by_size, i), g_ptr_array_index (pushed, i)));
      g_assert_true (
          sync_envelope_verify (data, n, author->sign_pk, &(SyncEnvelopeHeader){ 0 }, NULL));
    }
  /* Pages bounded by count. */
  by_count = pull_all (main_relay, &ws, admin, 0, 5, &pages);
  g_assert_cmpuint (by_count->len, ==, 14);
  g_assert_cmpuint (pages, ==, 3);
  /* From a cursor in the middle. */
  tail = pull_all (main_relay, &ws, admin, cursors[10], 100, &pages);
  g_assert_cmpuint (tail->len, ==, 3);
  g_assert_true (g_bytes_equal (g_ptr_array_index (tail, 0), g_ptr_array_index (pushed, 11)));
}

static void
test_seq_rules (void)
{
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (GBytes) one = NULL;
  g_autoptr (GBytes) one_other = NULL;
  g_autoptr (GBytes) two = NULL;
  g_autoptr (GBytes) three = NULL;
  g_autoptr (Resp) gap = NULL;
  g_autoptr (Resp) again1 = NULL;
  g_autoptr (Resp) again2 = NULL;
  g_autoptr (Resp) swapped = NULL;
  g_autoptr (Resp) old = NULL;
  gint64 c1;
  gint64 c2;

  setup_workspace (main_relay, &ws, &admin);
  one = random_envelope (&ws, admin, 1, 64);
  one_other = random_envelope (&ws, admin, 1, 64);
  two = random_envelope (&ws, admin, 2, 64);
  three = random_envelope (&ws, admin, 3, 64);

  gap = post_envelope (main_relay, &ws, admin, two); /* first must be 1 */
  expect (gap, 409, "seq");
  g_assert_cmpint (resp_int (gap, "expected"), ==, 1);
  c1 = push (main_relay, &ws, admin, one);
  g_clear_pointer (&gap, resp_free);
  gap = post_envelope (main_relay, &ws, admin, three);
  expect (gap, 409, "seq");
  g_assert_cmpint (resp_int (gap, "expected"), ==, 2);
  c2 = push (main_relay, &ws, admin, two);

  /* The exact same blob again: same cursor, 200 (a retry after a lost answer). */
  again1 = post_envelope (main_relay, &ws, admin, one);
  expect (again1, 200, NULL);
  g_assert_cmpint (resp_int (again1, "cursor"), ==, c1);
  again2 = post_envelope (main_relay, &ws, admin, two);
  expect (again2, 200, NULL);
  g_assert_cmpint (resp_int (again2, "cursor"), ==, c2);
  /* Another blob under a stored seq (a reorder or fork): refused. */
  swapped = post_envelope (main_relay, &ws, admin, one_other);
  expect (swapped, 409, "seq_taken");
  g_assert_cmpint (resp_int (swapped, "expected"), ==, 3);
  old = post_envelope (main_relay, &ws, admin, three);
  expect (old, 201, NULL);
}

static void
test_bad_envelopes (void)
{
  Workspace ws;
  Workspace elsewhere = workspace_new ();
  g_autoptr (Device) admin = NULL;
  g_autoptr (Device) peer = device_new ();
  g_autoptr (GBytes) good = NULL;
  g_autoptr (GBytes) wrong_ws = NULL;
  g_autoptr (GBytes) foreign = NULL;
  g_autoptr (Resp) r = NULL;
  g_autofree guint8 *copy = NULL;
  const guint8 *data;
  gsize len;

  setup_workspace (main_relay, &ws, &admin);
  enrol (main_relay, &ws, admin, peer);
  good = random_envelope (&ws, admin, 1, 200);
  data = g_bytes_get_data (good, &len);
  copy = g_memdup2 (data, len);

  r = post_raw_batch (main_relay, &ws, admin, copy, len - 1); /* truncated */
  expect (r, 400, "envelope");
  g_clear_pointer (&r, resp_free);
  r = post_raw_batch (main_relay, &ws, admin, copy, 100); /* shorter than any header */
  expect (r, 400, "envelope");
  g_clear_pointer (&r, resp_free);
  r = post_raw_batch (main_relay, &ws, admin, (const guint8 *)"", 0);
  expect (r, 400, "envelope");

  copy[0] = 'X'; /* magic */
  g_clear_pointer (&r, resp_free);
  r = post_raw_batch (main_relay, &ws, admin, copy, len);
  expect (r, 400, "envelope");
  copy[0] = data[0];

  copy[SYNC_ENVELOPE_CT_LEN_OFFSET] ^= 0x01; /* ct_len off by one */
  g_clear_pointer (&r, resp_free);
  r = post_raw_batch (main_relay, &ws, admin, copy, len);
  expect (r, 400, "envelope");
  copy[SYNC_ENVELOPE_CT_LEN_OFFSET] = data[SYNC_ENVELOPE_CT_LEN_OFFSET];

  copy[4] = 2; /* version */
  g_clear_pointer (&r, resp_free);
  r = post_raw_batch (main_relay, &ws, admin, copy, len);
  expect (r, 400, "envelope");
  copy[4] = 1;
  copy[6] = 1; /* reserved */
  g_clear_pointer (&r, resp_free);
  r = post_raw_batch (main_relay, &ws, admin, copy, len);
  expect (r, 400, "envelope");
  copy[6] = 0;
  memset (copy + 44, 0, 8); /* seq 0 */
  g_clear_pointer (&r, resp_free);
  r = post_raw_batch (main_relay, &ws, admin, copy, len);
  expect (r, 400, "envelope");

  wrong_ws = random_envelope (&elsewhere, admin, 1, 200);
  g_clear_pointer (&r, resp_free);
  r = post_envelope (main_relay, &ws, admin, wrong_ws);
  expect (r, 400, "workspace_mismatch");

  /* The peer may not push into the admin's chain, even with a valid blob. */
  foreign = make_envelope (&ws, admin->raw_id, peer, 1, (const guint8 *)"hello", 5);
  g_clear_pointer (&r, resp_free);
  r = post_envelope (main_relay, &ws, peer, foreign);
  expect (r, 403, "device_mismatch");

  /* Nothing of that was stored: seq 1 is still free. */
  g_clear_pointer (&r, resp_free);
  r = post_envelope (main_relay, &ws, admin, good);
  expect (r, 201, NULL);
}

static void
test_auth_failures (void)
{
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (Device) stranger = device_new ();
  g_autofree char *path = NULL;
  char nonce[SYNC_AUTH_NONCE_HEX_LEN + 1];
  g_autoptr (Resp) first = NULL;
  g_autoptr (Resp) replay = NULL;
  g_autoptr (Resp) stale = NULL;
  g_autoptr (Resp) future = NULL;
  g_autoptr (Resp) bad_sig = NULL;
  g_autoptr (Resp) unknown = NULL;
  g_autoptr (Resp) none = NULL;
  g_autoptr (Resp) other_path = NULL;
  g_autoptr (Resp) bad_nonce = NULL;
  g_autoptr (Resp) recovered = NULL;

  setup_workspace (main_relay, &ws, &admin);
  path = ws_path (&ws, "/devices");
  sync_auth_new_nonce (nonce);

  first = http (main_relay, admin, "GET", path, NULL, 0, &(Opts){ .nonce = nonce });
  expect (first, 200, NULL);
  replay = http (main_relay, admin, "GET", path, NULL, 0, &(Opts){ .nonce = nonce });
  expect (replay, 401, "replay");
  stale = http (main_relay, admin, "GET", path, NULL, 0, &(Opts){ .time_offset = -1000 });
  expect (stale, 401, "stale");
  future = http (main_relay, admin, "GET", path, NULL, 0, &(Opts){ .time_offset = 1000 });
  expect (future, 401, "stale");
  bad_sig = http (main_relay, admin, "GET", path, NULL, 0, &(Opts){ .bad_signature = TRUE });
  expect (bad_sig, 401, "signature");
  unknown = http (main_relay, stranger, "GET", path, NULL, 0, NULL);
  expect (unknown, 401, "unknown_device");
  none = http (main_relay, admin, "GET", path, NULL, 0, &(Opts){ .no_auth = TRUE });
  expect (none, 401, "auth");
  other_path
      = http (main_relay, admin, "GET", path, NULL, 0,
              &(Opts){ .sign_path = "/v1/workspaces/00000000000000000000000000000000/devices" });
  expect (other_path, 401, "signature");
  bad_nonce = http (main_relay, admin, "GET", path, NULL, 0,
                    &(Opts){ .send_nonce = "ABCDEF0123456789ABCDEF0123456789" });
  expect (bad_nonce, 401, "auth");
  recovered = http (main_relay, admin, "GET", path, NULL, 0, NULL);
  expect (recovered, 200, NULL);
}

static void
test_revoked (void)
{
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (Device) lost = device_new ();
  g_autoptr (GBytes) envelope = NULL;
  g_autoptr (Resp) removed = NULL;
  g_autoptr (Resp) r = NULL;
  g_autofree char *devices = NULL;
  g_autofree char *log = NULL;
  g_autofree char *log_get = NULL;
  g_autofree char *batches = NULL;
  g_autofree char *invites = NULL;
  guint8 token[32];

  setup_workspace (main_relay, &ws, &admin);
  enrol (main_relay, &ws, admin, lost);
  envelope = random_envelope (&ws, lost, 1, 100);
  push (main_relay, &ws, lost, envelope);

  removed = post_log (main_relay, &ws, admin, 3, "remove", lost->id);
  expect (removed, 201, NULL);

  devices = ws_path (&ws, "/devices");
  log = ws_path (&ws, "/log");
  log_get = ws_path (&ws, "/log?since=0");
  batches = ws_path (&ws, "/batches?since=0");
  invites = ws_path (&ws, "/invites");
  r = http (main_relay, lost, "GET", devices, NULL, 0, NULL);
  expect (r, 403, "revoked");
  g_clear_pointer (&r, resp_free);
  r = http (main_relay, lost, "GET", log_get, NULL, 0, NULL);
  expect (r, 403, "revoked");
  g_clear_pointer (&r, resp_free);
  r = post_log (main_relay, &ws, lost, 4, "remove", admin->id);
  expect (r, 403, "revoked");
  g_clear_pointer (&r, resp_free);
  r = http (main_relay, lost, "GET", batches, NULL, 0, NULL);
  expect (r, 403, "revoked");
  g_clear_pointer (&r, resp_free);
  g_clear_pointer (&envelope, g_bytes_unref);
  envelope = random_envelope (&ws, lost, 2, 100);
  r = post_envelope (main_relay, &ws, lost, envelope);
  expect (r, 403, "revoked");
  g_clear_pointer (&r, resp_free);
  r = http_json (main_relay, lost, "POST", invites,
                 "{\"token_hash\":\""
                 "0000000000000000000000000000000000000000000000000000000000000000"
                 "\",\"expires\":1}",
                 NULL);
  expect (r, 403, "revoked");
  /* Joining again under the same id does not bring it back. */
  make_invite (main_relay, &ws, admin, token, 600);
  g_clear_pointer (&r, resp_free);
  r = join (main_relay, &ws, lost, token);
  expect (r, 409, "exists");
  /* Re-adding a revoked device through the log is refused too. */
  g_clear_pointer (&r, resp_free);
  r = post_log (main_relay, &ws, admin, 4, "add", lost->id);
  expect (r, 400, "invalid");
  g_assert_cmpint (log_head (main_relay, &ws, admin), ==, 3);
}

static void
test_log_cas (void)
{
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (Resp) ahead = NULL;
  g_autoptr (Resp) ok = NULL;
  g_autoptr (Resp) behind = NULL;
  g_autoptr (Resp) epoch = NULL;
  g_autoptr (Resp) bad_action = NULL;
  g_autoptr (Resp) since = NULL;
  g_autofree char *since_path = NULL;
  JsonArray *entries;

  setup_workspace (main_relay, &ws, &admin);
  ahead = post_log (main_relay, &ws, admin, 5, "other", NULL);
  expect (ahead, 409, "conflict");
  g_assert_cmpint (resp_int (ahead, "head"), ==, 1);
  ok = post_log (main_relay, &ws, admin, 2, "other", NULL);
  expect (ok, 201, NULL);
  behind = post_log (main_relay, &ws, admin, 2, "other", NULL);
  expect (behind, 409, "conflict");
  g_assert_cmpint (resp_int (behind, "head"), ==, 2);
  bad_action = post_log (main_relay, &ws, admin, 3, "promote", NULL);
  expect (bad_action, 400, "invalid");
  epoch = post_log (main_relay, &ws, admin, 3, "epoch", NULL);
  expect (epoch, 201, NULL);

  since_path = ws_path (&ws, "/log?since=1");
  since = http (main_relay, admin, "GET", since_path, NULL, 0, NULL);
  expect (since, 200, NULL);
  g_assert_cmpint (resp_int (since, "head"), ==, 3);
  entries = json_object_get_array_member (resp_object (since), "entries");
  g_assert_cmpuint (json_array_get_length (entries), ==, 2);
  g_assert_cmpint (
      json_object_get_int_member (json_array_get_object_element (entries, 0), "version"), ==, 2);
  g_assert_cmpstr (
      json_object_get_string_member (json_array_get_object_element (entries, 1), "entry"), ==,
      "signed epoch entry 3");
}

static void
test_size_limits (void)
{
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (GBytes) biggest = NULL;
  g_autoptr (Resp) big = NULL;
  g_autoptr (Resp) big_json = NULL;
  g_autoptr (Resp) max_ok = NULL;
  g_autoptr (Resp) over_ct = NULL;
  g_autoptr (Resp) after = NULL;
  g_autofree guint8 *blob = g_malloc0 (5 * MIB);
  g_autofree char *log = NULL;
  g_autofree guint8 *over = NULL;
  guint32 ct_len = SYNC_ENVELOPE_MAX_CT + 1;
  gsize over_len = SYNC_ENVELOPE_OVERHEAD + ct_len;

  setup_workspace (main_relay, &ws, &admin);
  /* 5 MiB: refused from Content-Length, before the body is read. */
  big = post_raw_batch (main_relay, &ws, admin, blob, 5 * MIB);
  expect (big, 413, "too_large");
  log = ws_path (&ws, "/log");
  memset (blob, ' ', 2 * MIB);
  big_json = http (main_relay, admin, "POST", log, blob, 2 * MIB, NULL);
  expect (big_json, 413, "too_large");

  /* The largest envelope (4 MiB of ciphertext) goes through… */
  biggest = random_envelope (&ws, admin, 1, SYNC_ENVELOPE_MAX_CT - crypto_secretbox_MACBYTES);
  max_ok = post_envelope (main_relay, &ws, admin, biggest);
  expect (max_ok, 201, NULL);
  /* …one byte more of ciphertext does not (within the body limit: 400). */
  over = g_malloc0 (over_len);
  memcpy (over, "SPLB\x01", 5);
  memcpy (over + 8, ws.raw_id, SYNC_ID_LEN);
  memcpy (over + 24, admin->raw_id, SYNC_ID_LEN);
  over[44] = 2;
  over[SYNC_ENVELOPE_CT_LEN_OFFSET] = (guint8)ct_len;
  over[SYNC_ENVELOPE_CT_LEN_OFFSET + 1] = (guint8)(ct_len >> 8);
  over[SYNC_ENVELOPE_CT_LEN_OFFSET + 2] = (guint8)(ct_len >> 16);
  over[SYNC_ENVELOPE_CT_LEN_OFFSET + 3] = (guint8)(ct_len >> 24);
  over_ct = post_raw_batch (main_relay, &ws, admin, over, over_len);
  expect (over_ct, 400, "envelope");
  /* The relay is still fine afterwards. */
  after = http (main_relay, admin, "GET", "/healthz", NULL, 0, NULL);
  expect (after, 200, NULL);
}

static void
test_rate_limit (void)
{
  Workspace ws = workspace_new ();
  Workspace ws2 = workspace_new ();
  g_autoptr (Device) admin = device_new ();
  g_autoptr (Device) other = device_new ();
  gint64 start = g_get_monotonic_time ();
  g_autoptr (Resp) created = create_workspace (limited_relay, &ws, admin, CREATE_TOKEN);
  g_autoptr (Resp) unaffected = NULL;
  g_autofree char *path = ws_path (&ws, "/devices");
  double elapsed;
  guint ok = 0;
  guint limited = 0;
  guint i;

  expect (created, 201, NULL);
  /* --rate 2: a burst of 8 (one went into creating), then 2 a second. */
  for (i = 0; i < 20; i++)
    {
      g_autoptr (Resp) r = http (limited_relay, admin, "GET", path, NULL, 0, NULL);

      if (r->status == 200)
        ok++;
      else
        {
          expect (r, 429, "rate_limited");
          g_assert_cmpstr (r->retry_after, ==, "1");
          limited++;
        }
    }
  elapsed = (double)(g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  g_assert_cmpuint (ok, >=, 7);
  g_assert_cmpfloat (ok, <=, 7 + 2 * elapsed + 1);
  g_assert_cmpuint (limited, >=, 1);
  /* Another device is not affected. */
  unaffected = create_workspace (limited_relay, &ws2, other, CREATE_TOKEN);
  expect (unaffected, 201, NULL);
}

static void
test_quota (void)
{
  Workspace ws = workspace_new ();
  g_autoptr (Device) admin = device_new ();
  g_autoptr (Resp) created = create_workspace (limited_relay, &ws, admin, CREATE_TOKEN);
  g_autoptr (GBytes) e1 = NULL;
  g_autoptr (GBytes) e2 = NULL;
  g_autoptr (GBytes) e3 = NULL;
  g_autoptr (Resp) full = NULL;

  expect (created, 201, NULL);
  e1 = random_envelope (&ws, admin, 1, 400 * KIB);
  e2 = random_envelope (&ws, admin, 2, 400 * KIB);
  e3 = random_envelope (&ws, admin, 3, 400 * KIB);
  push (limited_relay, &ws, admin, e1);
  push (limited_relay, &ws, admin, e2);
  full = post_envelope (limited_relay, &ws, admin, e3); /* --quota-mb 1 */
  expect (full, 507, "quota");
}

static void
test_refuse_plain_http (void)
{
  g_autofree char *dir = new_data_dir ("refuse");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  const char *argv[] = { relay_path (), "--listen", "0.0.0.0:0", "--data", dir, NULL };
  int status = 0;

  g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 1);
  g_assert_cmpstr (out, ==, "");
  g_assert_nonnull (strstr (err, "plain HTTP"));
}

static void
test_crash_restart (void)
{
  g_autofree char *dir = new_data_dir ("crash");
  Relay *relay = relay_start (dir, NULL);
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (GPtrArray) pushed = g_ptr_array_new_with_free_func (bytes_unref);
  g_autoptr (GPtrArray) pulled = NULL;
  g_autoptr (GBytes) next = NULL;
  guint pages;
  guint i;

  setup_workspace (relay, &ws, &admin);
  for (i = 0; i < 25; i++)
    {
      GBytes *envelope = random_envelope (&ws, admin, i + 1, 1000 + i * 37);

      push (relay, &ws, admin, envelope);
      g_ptr_array_add (pushed, envelope);
    }
  relay_kill (relay); /* right after the last acknowledgement */

  relay = relay_start (dir, NULL);
  pulled = pull_all (relay, &ws, admin, 0, 100, &pages);
  g_assert_cmpuint (pulled->len, ==, pushed->len);
  for (i = 0; i < pushed->len; i++)
    g_assert_true (g_bytes_equal (g_ptr_array_index (pulled, i), g_ptr_array_index (pushed, i)));
  next = random_envelope (&ws, admin, 26, 10);
  push (relay, &ws, admin, next);
  relay_stop (relay);
}

static void
test_no_plaintext_on_disk (void)
{
  g_autofree char *dir = new_data_dir ("forensic");
  Relay *relay = relay_start (dir, NULL);
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (GBytes) envelope = NULL;
  g_autofree char *marker = NULL;
  guint8 marker_raw[16];
  g_autofree char *marker_hex = NULL;
  const guint8 *data;
  gsize len;
  guint files = 0;

  randombytes_buf (marker_raw, sizeof marker_raw);
  marker_hex = sync_hex_encode (marker_raw, sizeof marker_raw);
  marker = g_strdup_printf ("PLAINTEXT-MARKER-%s Лявон Вольскі, +375 29 000 00 00", marker_hex);

  setup_workspace (relay, &ws, &admin);
  envelope = make_envelope (&ws, admin->raw_id, admin, 1, (const guint8 *)marker, strlen (marker));
  push (relay, &ws, admin, envelope);
  data = g_bytes_get_data (envelope, &len);

  /* While running (WAL and all), then after a clean stop. The ciphertext itself
   * must be found: that shows the scan reads what the relay wrote. */
  g_assert_false (dir_contains (dir, (const guint8 *)marker, strlen (marker), &files));
  g_assert_false (dir_contains (dir, (const guint8 *)marker_hex, strlen (marker_hex), &files));
  g_assert_true (dir_contains (dir, data + SYNC_ENVELOPE_CT_OFFSET, 32, &files));
  relay_stop (relay);
  files = 0;
  g_assert_false (dir_contains (dir, (const guint8 *)marker, strlen (marker), &files));
  g_assert_false (dir_contains (dir, (const guint8 *)marker_hex, strlen (marker_hex), &files));
  g_assert_true (dir_contains (dir, data + SYNC_ENVELOPE_CT_OFFSET, 32, &files));
  g_assert_cmpuint (files, >=, 1);
}

static void
test_data_dir_private (void)
{
  GStatBuf st;
  g_autofree char *db = g_build_filename (main_relay->data_dir, "relay.db", NULL);

  g_assert_cmpint (g_stat (main_relay->data_dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_cmpint (g_stat (db, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0077, ==, 0);
}

static void
test_second_relay_refused (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  const char *argv[]
      = { relay_path (), "--listen", HOST ":0", "--data", main_relay->data_dir, NULL };
  int status = 0;

  g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 1);
  g_assert_cmpstr (out, ==, "");
}

static void
test_tls (void)
{
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  g_autofree char *dir = new_data_dir ("tls");
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autofree char *https = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (Resp) ok = NULL;
  g_autoptr (Resp) plain = NULL;
  Relay *relay;
  int status = 0;

  if (openssl == NULL)
    {
      g_test_skip ("openssl is not installed: no certificate to test TLS with");
      return;
    }
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  cert = g_build_filename (dir, "cert.pem", NULL);
  key = g_build_filename (dir, "key.pem", NULL);
  {
    const char *argv[] = { openssl,
                           "req",
                           "-x509",
                           "-newkey",
                           "ec",
                           "-pkeyopt",
                           "ec_paramgen_curve:prime256v1",
                           "-nodes",
                           "-keyout",
                           key,
                           "-out",
                           cert,
                           "-days",
                           "1",
                           "-subj",
                           "/CN=127.0.0.1",
                           "-addext",
                           "subjectAltName=IP:127.0.0.1",
                           NULL };

    g_spawn_sync (NULL, (char **)argv, NULL,
                  G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                  &status, &error);
    g_assert_no_error (error);
    g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  }
  {
    const char *extra[] = { "--tls-cert", cert, "--tls-key", key, NULL };

    relay = relay_start (dir, extra);
  }
  https = g_strdup_printf ("https://" HOST ":%u", relay->port);
  ok = http (relay, NULL, "GET", "/healthz", NULL, 0, &(Opts){ .base = https, .ca_file = cert });
  expect (ok, 200, NULL);
  plain = http (relay, NULL, "GET", "/healthz", NULL, 0, &(Opts){ .may_fail = TRUE });
  g_assert_cmpint (plain->status, !=, 200);
  relay_stop (relay);
}

/* ---- Main ------------------------------------------------------------------------- */

int
main (int argc, char **argv)
{
  g_autofree char *main_dir = NULL;
  g_autofree char *limited_dir = NULL;
  g_autoptr (GError) error = NULL;
  const char *limited_args[] = { "--create-token", CREATE_TOKEN, "--quota-mb", "1", "--rate", "2",
                                 "--max-devices",  "2",          NULL };
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_assert_true (sync_protocol_init (NULL));
  g_assert_cmpint (curl_global_init (CURL_GLOBAL_DEFAULT), ==, CURLE_OK);
  tmp_root = g_dir_make_tmp ("supolka-relay-test-XXXXXX", &error);
  g_assert_no_error (error);

  main_dir = new_data_dir ("main");
  limited_dir = new_data_dir ("limited");
  main_relay = relay_start (main_dir, NULL);
  limited_relay = relay_start (limited_dir, limited_args);

  g_test_add_func ("/relay/healthz", test_healthz);
  g_test_add_func ("/relay/routing", test_routing);
  g_test_add_func ("/relay/data-dir-private", test_data_dir_private);
  g_test_add_func ("/relay/second-relay-refused", test_second_relay_refused);
  g_test_add_func ("/relay/create", test_create);
  g_test_add_func ("/relay/create-token", test_create_token);
  g_test_add_func ("/relay/enrol", test_enrol);
  g_test_add_func ("/relay/max-devices", test_max_devices);
  g_test_add_func ("/relay/batches/push-pull-pages", test_push_pull_pages);
  g_test_add_func ("/relay/batches/seq-rules", test_seq_rules);
  g_test_add_func ("/relay/batches/bad-envelopes", test_bad_envelopes);
  g_test_add_func ("/relay/auth/failures", test_auth_failures);
  g_test_add_func ("/relay/revoked", test_revoked);
  g_test_add_func ("/relay/log/cas", test_log_cas);
  g_test_add_func ("/relay/limits/size", test_size_limits);
  g_test_add_func ("/relay/limits/rate", test_rate_limit);
  g_test_add_func ("/relay/limits/quota", test_quota);
  g_test_add_func ("/relay/listen/refuse-plain-http", test_refuse_plain_http);
  g_test_add_func ("/relay/listen/tls", test_tls);
  g_test_add_func ("/relay/durability/sigkill-restart", test_crash_restart);
  g_test_add_func ("/relay/forensic/no-plaintext-on-disk", test_no_plaintext_on_disk);

  ret = g_test_run ();

  relay_stop (main_relay);
  relay_stop (limited_relay);
  remove_tree (tmp_root);
  g_free (tmp_root);
  curl_global_cleanup ();
  return ret;
}
