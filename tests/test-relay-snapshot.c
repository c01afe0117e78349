/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-relay-snapshot.c — workspace snapshots and pruning on the real relay
 * ($SUPOLKA_RELAY) over HTTP: upload and download, the size, cursor and quota
 * rules, who may use them, pruning (seq rules keep working, old pulls get 410),
 * durability across SIGKILL, what reaches the disk and the log, and migrating a
 * version-1 database.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relay-test-client.h"

static Relay *main_relay;  /* default limits */
static Relay *small_relay; /* --max-snapshot-mb 1 --quota-mb 2 */

/* ---- Helpers ------------------------------------------------------------------------ */

static Resp *
put_snapshot (Relay *relay, const Workspace *ws, const Device *d, const char *query,
              const guint8 *data, gsize len)
{
  g_autofree char *path = g_strdup_printf ("/v1/workspaces/%s/snapshot%s", ws->id, query);
  Opts opts = { .content_type = "application/octet-stream" };

  return http (relay, d, "PUT", path, data, len, &opts);
}

static Resp *
put_snapshot_at (Relay *relay, const Workspace *ws, const Device *d, gint64 cursor, GBytes *body)
{
  g_autofree char *query = g_strdup_printf ("?cursor=%" G_GINT64_FORMAT, cursor);
  gsize len;
  const guint8 *data = g_bytes_get_data (body, &len);

  return put_snapshot (relay, ws, d, query, data, len);
}

static Resp *
get_snapshot (Relay *relay, const Workspace *ws, const Device *d)
{
  g_autofree char *path = ws_path (ws, "/snapshot");

  return http (relay, d, "GET", path, NULL, 0, NULL);
}

static Resp *
prune (Relay *relay, const Workspace *ws, const Device *d, gint64 cursor)
{
  g_autofree char *path = ws_path (ws, "/prune");
  g_autofree char *json = g_strdup_printf ("{\"cursor\":%" G_GINT64_FORMAT "}", cursor);

  return http_json (relay, d, "POST", path, json, NULL);
}

static Resp *
get_batches (Relay *relay, const Workspace *ws, const Device *d, gint64 since)
{
  g_autofree char *path
      = g_strdup_printf ("/v1/workspaces/%s/batches?since=%" G_GINT64_FORMAT, ws->id, since);

  return http (relay, d, "GET", path, NULL, 0, NULL);
}

/* Random bytes with @marker (if any) copied in at a few places. */
static GBytes *
snapshot_body (gsize len, const char *marker)
{
  guint8 *data = g_malloc (len);

  randombytes_buf (data, len);
  if (marker != NULL)
    {
      gsize m = strlen (marker);

      g_assert_cmpuint (len, >=, 3 * m);
      memcpy (data, marker, m);
      memcpy (data + len / 2, marker, m);
      memcpy (data + len - m, marker, m);
    }
  return g_bytes_new_take (data, len);
}

static void
expect_snapshot (Relay *relay, const Workspace *ws, const Device *d, GBytes *want, gint64 cursor,
                 const Device *uploader)
{
  g_autoptr (Resp) resp = get_snapshot (relay, ws, d);
  g_autofree char *cursor_text = g_strdup_printf ("%" G_GINT64_FORMAT, cursor);
  gsize len;
  const guint8 *data = g_bytes_get_data (want, &len);

  expect (resp, 200, NULL);
  g_assert_cmpuint (resp->body->len, ==, len);
  g_assert_true (memcmp (resp->body->data, data, len) == 0);
  g_assert_cmpstr (resp_header (resp, "Content-Type"), ==, "application/octet-stream");
  g_assert_cmpstr (resp_header (resp, "X-Supolka-Snapshot-Cursor"), ==, cursor_text);
  g_assert_cmpstr (resp_header (resp, "X-Supolka-Snapshot-Device"), ==, uploader->id);
}

/* Pushes seq @first … @last of @d's chain; returns the last cursor. */
static gint64
push_range (Relay *relay, const Workspace *ws, const Device *d, guint64 first, guint64 last,
            gsize plain_len, GPtrArray *keep)
{
  gint64 cursor = 0;
  guint64 seq;

  for (seq = first; seq <= last; seq++)
    {
      GBytes *envelope = random_envelope (ws, d, seq, plain_len);

      cursor = push (relay, ws, d, envelope);
      if (keep != NULL)
        g_ptr_array_add (keep, envelope);
      else
        g_bytes_unref (envelope);
    }
  return cursor;
}

/* ---- Tests ---------------------------------------------------------------------------- */

static void
test_round_trip (void)
{
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (Device) member = device_new ();
  g_autoptr (GBytes) first = snapshot_body (3 * MIB + 17, NULL);
  g_autoptr (GBytes) second = snapshot_body (1000, NULL);
  g_autoptr (Resp) none = NULL;
  g_autoptr (Resp) put1 = NULL;
  g_autoptr (Resp) put2 = NULL;
  gint64 c3;

  setup_workspace (main_relay, &ws, &admin);
  enrol (main_relay, &ws, admin, member);
  none = get_snapshot (main_relay, &ws, admin);
  expect (none, 404, "not_found");

  c3 = push_range (main_relay, &ws, admin, 1, 3, 200, NULL);
  put1 = put_snapshot_at (main_relay, &ws, admin, c3, first);
  expect (put1, 201, NULL);
  g_assert_cmpint (resp_int (put1, "cursor"), ==, c3);
  g_assert_cmpint (resp_int (put1, "size"), ==, (gint64)g_bytes_get_size (first));
  /* Byte-exact, with the cursor and the uploader, for every active device. */
  expect_snapshot (main_relay, &ws, admin, first, c3, admin);
  expect_snapshot (main_relay, &ws, member, first, c3, admin);

  /* Replaced, by another device, at the same cursor. */
  put2 = put_snapshot_at (main_relay, &ws, member, c3, second);
  expect (put2, 201, NULL);
  expect_snapshot (main_relay, &ws, admin, second, c3, member);
}

static void
test_cursor_rules (void)
{
  Workspace ws;
  Workspace other_ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (Device) other_admin = NULL;
  g_autoptr (GBytes) body = snapshot_body (500, NULL);
  g_autoptr (Resp) no_cursor = NULL;
  g_autoptr (Resp) bad_cursor = NULL;
  g_autoptr (Resp) negative = NULL;
  g_autoptr (Resp) empty = NULL;
  g_autoptr (Resp) ahead = NULL;
  g_autoptr (Resp) zero = NULL;
  g_autoptr (Resp) at_c4 = NULL;
  g_autoptr (Resp) older = NULL;
  g_autoptr (Resp) same = NULL;
  g_autoptr (Resp) newer = NULL;
  g_autoptr (Resp) other_ahead = NULL;
  g_autoptr (Resp) wrong_method = NULL;
  gint64 c2, c4, c5, other_c;
  const guint8 *data;
  gsize len;

  setup_workspace (main_relay, &ws, &admin);
  setup_workspace (main_relay, &other_ws, &other_admin);
  data = g_bytes_get_data (body, &len);

  /* An empty workspace may have a snapshot at cursor 0, not beyond. */
  zero = put_snapshot_at (main_relay, &ws, admin, 0, body);
  expect (zero, 201, NULL);
  c2 = push_range (main_relay, &ws, admin, 1, 2, 100, NULL);
  c4 = push_range (main_relay, &ws, admin, 3, 4, 100, NULL);
  /* Another workspace's later batch does not move this workspace's head. */
  other_c = push_range (main_relay, &other_ws, other_admin, 1, 1, 100, NULL);
  g_assert_cmpint (other_c, >, c4);

  no_cursor = put_snapshot (main_relay, &ws, admin, "", data, len);
  expect (no_cursor, 400, "invalid");
  bad_cursor = put_snapshot (main_relay, &ws, admin, "?cursor=12abc", data, len);
  expect (bad_cursor, 400, "invalid");
  negative = put_snapshot (main_relay, &ws, admin, "?cursor=-1", data, len);
  expect (negative, 400, "invalid");
  empty = put_snapshot (main_relay, &ws, admin, "?cursor=1", NULL, 0);
  expect (empty, 400, "invalid");
  ahead = put_snapshot_at (main_relay, &ws, admin, c4 + 1, body);
  expect (ahead, 400, "cursor_ahead");
  g_assert_cmpint (resp_int (ahead, "head"), ==, c4);
  other_ahead = put_snapshot_at (main_relay, &ws, admin, other_c, body);
  expect (other_ahead, 400, "cursor_ahead");

  at_c4 = put_snapshot_at (main_relay, &ws, admin, c4, body);
  expect (at_c4, 201, NULL);
  older = put_snapshot_at (main_relay, &ws, admin, c2, body);
  expect (older, 409, "snapshot_older");
  g_assert_cmpint (resp_int (older, "snapshot_cursor"), ==, c4);
  same = put_snapshot_at (main_relay, &ws, admin, c4, body);
  expect (same, 201, NULL);
  c5 = push_range (main_relay, &ws, admin, 5, 5, 100, NULL);
  newer = put_snapshot_at (main_relay, &ws, admin, c5, body);
  expect (newer, 201, NULL);
  expect_snapshot (main_relay, &ws, admin, body, c5, admin);

  wrong_method = http (main_relay, admin, "POST",
                       "/v1/workspaces/00000000000000000000000000000000/snapshot", NULL, 0, NULL);
  expect (wrong_method, 405, "method_not_allowed");
}

static void
test_size_and_quota (void)
{
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (GBytes) max = snapshot_body (MIB, NULL);
  g_autoptr (GBytes) over = snapshot_body (MIB + 1, NULL);
  g_autoptr (GBytes) small = snapshot_body (50 * KIB, NULL);
  g_autoptr (GBytes) big_batch = NULL;
  g_autoptr (Resp) too_large = NULL;
  g_autoptr (Resp) fits = NULL;
  g_autoptr (Resp) quota = NULL;
  g_autoptr (Resp) replaced = NULL;
  g_autoptr (Resp) pushed = NULL;
  g_autoptr (Resp) pruned = NULL;
  g_autoptr (Resp) after = NULL;
  gint64 c;

  /* small_relay: --max-snapshot-mb 1 --quota-mb 2. */
  setup_workspace (small_relay, &ws, &admin);
  too_large = put_snapshot_at (small_relay, &ws, admin, 0, over);
  expect (too_large, 413, "too_large");
  fits = put_snapshot_at (small_relay, &ws, admin, 0, max);
  expect (fits, 201, NULL);

  /* 1 MiB snapshot + 3 × ~300 KiB of batches fit in 2 MiB; a 4th does not. */
  c = push_range (small_relay, &ws, admin, 1, 3, 300 * KIB, NULL);
  big_batch = random_envelope (&ws, admin, 4, 300 * KIB);
  pushed = post_envelope (small_relay, &ws, admin, big_batch);
  expect (pushed, 507, "quota");
  /* A replacement counts by its difference: 1 MiB → 50 KiB frees room … */
  replaced = put_snapshot_at (small_relay, &ws, admin, c, small);
  expect (replaced, 201, NULL);
  g_clear_pointer (&pushed, resp_free);
  pushed = post_envelope (small_relay, &ws, admin, big_batch);
  expect (pushed, 201, NULL);
  /* … and replacing it with 1 MiB again would not fit (50 KiB + 1.2 MiB + 1 MiB). */
  quota = put_snapshot_at (small_relay, &ws, admin, c, max);
  expect (quota, 507, "quota");
  /* Pruning gives the batches' bytes back. */
  pruned = prune (small_relay, &ws, admin, c);
  expect (pruned, 200, NULL);
  g_assert_cmpint (resp_int (pruned, "pruned"), ==, 3);
  after = put_snapshot_at (small_relay, &ws, admin, c, max);
  expect (after, 201, NULL);
}

static void
test_who (void)
{
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (Device) pending = device_new ();
  g_autoptr (Device) revoked = device_new ();
  g_autoptr (Device) stranger = device_new ();
  g_autoptr (GBytes) body = snapshot_body (256, NULL);
  g_autoptr (Resp) joined = NULL;
  g_autoptr (Resp) removed = NULL;
  g_autoptr (Resp) ok = NULL;
  guint8 token[32];
  const Device *refused[] = { pending, revoked, stranger };
  const long status[] = { 403, 403, 401 };
  const char *code[] = { "pending", "revoked", "unknown_device" };
  guint i;

  setup_workspace (main_relay, &ws, &admin);
  make_invite (main_relay, &ws, admin, token, 3600);
  joined = join (main_relay, &ws, pending, token);
  expect (joined, 202, NULL);
  enrol (main_relay, &ws, admin, revoked);
  removed = post_log (main_relay, &ws, admin, log_head (main_relay, &ws, admin) + 1, "remove",
                      revoked->id);
  expect (removed, 201, NULL);
  ok = put_snapshot_at (main_relay, &ws, admin, 0, body);
  expect (ok, 201, NULL);

  for (i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr (Resp) put = put_snapshot_at (main_relay, &ws, refused[i], 0, body);
      g_autoptr (Resp) get = get_snapshot (main_relay, &ws, refused[i]);
      g_autoptr (Resp) cut = prune (main_relay, &ws, refused[i], 0);

      expect (put, status[i], code[i]);
      expect (get, status[i], code[i]);
      expect (cut, status[i], code[i]);
      /* Nothing of the snapshot in a refusal. */
      g_assert_cmpuint (get->body->len, <, 256);
    }
  /* The refused upload did not replace anything. */
  expect_snapshot (main_relay, &ws, admin, body, 0, admin);
}

static void
test_prune (void)
{
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (Device) member = device_new ();
  g_autoptr (GPtrArray) admin_batches = g_ptr_array_new_with_free_func (bytes_unref);
  g_autoptr (GBytes) body = snapshot_body (4 * KIB, NULL);
  g_autoptr (GBytes) wrong3 = NULL;
  g_autoptr (GBytes) seq5 = NULL;
  g_autoptr (GBytes) seq4 = NULL;
  g_autoptr (Resp) no_snapshot = NULL;
  g_autoptr (Resp) nothing = NULL;
  g_autoptr (Resp) snap = NULL;
  g_autoptr (Resp) beyond = NULL;
  g_autoptr (Resp) bad_body = NULL;
  g_autoptr (Resp) negative = NULL;
  g_autoptr (Resp) cut = NULL;
  g_autoptr (Resp) again = NULL;
  g_autoptr (Resp) gone = NULL;
  g_autoptr (Resp) gone_mid = NULL;
  g_autoptr (Resp) from_cut = NULL;
  g_autoptr (Resp) retry = NULL;
  g_autoptr (Resp) taken = NULL;
  g_autoptr (Resp) gap = NULL;
  g_autoptr (Resp) member_gap = NULL;
  g_autoptr (GPtrArray) rest = NULL;
  g_autoptr (GBytes) member4 = NULL;
  g_autofree char *prune_path = NULL;
  gint64 admin_c3, member_c2, c_cut, c_after, c_member3;
  guint pages;

  setup_workspace (main_relay, &ws, &admin);
  enrol (main_relay, &ws, admin, member);
  prune_path = ws_path (&ws, "/prune");

  /* Without a snapshot only cursor 0 (nothing) may be pruned. */
  no_snapshot = prune (main_relay, &ws, admin, 1);
  expect (no_snapshot, 409, "beyond_snapshot");
  g_assert_cmpint (resp_int (no_snapshot, "snapshot_cursor"), ==, 0);
  nothing = prune (main_relay, &ws, admin, 0);
  expect (nothing, 200, NULL);
  g_assert_cmpint (resp_int (nothing, "pruned"), ==, 0);

  admin_c3 = push_range (main_relay, &ws, admin, 1, 3, 500, admin_batches);
  member_c2 = push_range (main_relay, &ws, member, 1, 2, 500, NULL);
  c_cut = member_c2; /* covers admin 1–3 and member 1–2 */
  g_assert_cmpint (admin_c3, <, c_cut);
  c_member3 = push_range (main_relay, &ws, member, 3, 3, 500, NULL);

  snap = put_snapshot_at (main_relay, &ws, member, c_cut, body);
  expect (snap, 201, NULL);
  beyond = prune (main_relay, &ws, admin, c_member3);
  expect (beyond, 409, "beyond_snapshot");
  g_assert_cmpint (resp_int (beyond, "snapshot_cursor"), ==, c_cut);
  bad_body = http_json (main_relay, admin, "POST", prune_path, "{\"cursor\":\"5\"}", NULL);
  expect (bad_body, 400, "invalid");
  negative = http_json (main_relay, admin, "POST", prune_path, "{\"cursor\":-3}", NULL);
  expect (negative, 400, "invalid");

  cut = prune (main_relay, &ws, admin, c_cut);
  expect (cut, 200, NULL);
  g_assert_cmpint (resp_int (cut, "pruned"), ==, 5);
  again = prune (main_relay, &ws, admin, c_cut);
  expect (again, 200, NULL);
  g_assert_cmpint (resp_int (again, "pruned"), ==, 0);

  /* A pull from before the pruned cursor is refused, not answered partially. */
  gone = get_batches (main_relay, &ws, admin, 0);
  expect (gone, 410, "pruned");
  g_assert_cmpint (resp_int (gone, "snapshot_cursor"), ==, c_cut);
  gone_mid = get_batches (main_relay, &ws, member, admin_c3);
  expect (gone_mid, 410, "pruned");
  from_cut = get_batches (main_relay, &ws, admin, c_cut);
  expect (from_cut, 200, NULL);
  rest = pull_all (main_relay, &ws, admin, c_cut, 100, &pages);
  g_assert_cmpuint (rest->len, ==, 1); /* member's seq 3 */

  /* The seq rules go on across the prune. The last pruned batch sent again (an
   * answer lost) gets its first cursor; another envelope under an old seq is
   * refused; so is a gap; the next seq is stored. */
  retry = post_envelope (main_relay, &ws, admin, g_ptr_array_index (admin_batches, 2));
  expect (retry, 200, NULL);
  g_assert_cmpint (resp_int (retry, "cursor"), ==, admin_c3);
  wrong3 = random_envelope (&ws, admin, 3, 500);
  taken = post_envelope (main_relay, &ws, admin, wrong3);
  expect (taken, 409, "seq_taken");
  g_assert_cmpint (resp_int (taken, "expected"), ==, 4);
  seq5 = random_envelope (&ws, admin, 5, 500);
  gap = post_envelope (main_relay, &ws, admin, seq5);
  expect (gap, 409, "seq");
  g_assert_cmpint (resp_int (gap, "expected"), ==, 4);
  seq4 = random_envelope (&ws, admin, 4, 500);
  c_after = push (main_relay, &ws, admin, seq4);
  g_assert_cmpint (c_after, >, c_member3);
  member4 = random_envelope (&ws, member, 5, 500);
  member_gap = post_envelope (main_relay, &ws, member, member4);
  expect (member_gap, 409, "seq");
  g_assert_cmpint (resp_int (member_gap, "expected"), ==, 4);
}

/* SIGKILL right after the 201: the snapshot is there after a restart. */
static void
test_sigkill (void)
{
  g_autofree char *dir = new_data_dir ("snapshot-crash");
  Relay *relay = relay_start (dir, NULL);
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  g_autoptr (GBytes) body = snapshot_body (2 * MIB + 3, NULL);
  g_autoptr (Resp) put = NULL;
  g_autoptr (Resp) pruned = NULL;
  g_autoptr (Resp) gone = NULL;
  gint64 c;

  setup_workspace (relay, &ws, &admin);
  c = push_range (relay, &ws, admin, 1, 4, 1000, NULL);
  put = put_snapshot_at (relay, &ws, admin, c, body);
  expect (put, 201, NULL);
  pruned = prune (relay, &ws, admin, c);
  expect (pruned, 200, NULL);
  relay_kill (relay);

  relay = relay_start (dir, NULL);
  expect_snapshot (relay, &ws, admin, body, c, admin);
  gone = get_batches (relay, &ws, admin, 0);
  expect (gone, 410, "pruned");
  push_range (relay, &ws, admin, 5, 5, 100, NULL);
  relay_stop (relay);
}

/* What reaches the disk and the log: the snapshot body only where it is stored,
 * never in the log; a replaced snapshot and pruned batches are gone from every
 * file once the relay has stopped. */
static void
test_forensic (void)
{
  g_autofree char *dir = new_data_dir ("snapshot-forensic");
  g_autofree char *log_path = g_strdup_printf ("%s.log", dir);
  g_autofree char *log_text = NULL;
  g_autofree char *marker_a = NULL;
  g_autofree char *marker_b = NULL;
  g_autofree char *marker_batch = NULL;
  g_autoptr (GBytes) body_a = NULL;
  g_autoptr (GBytes) body_b = NULL;
  g_autoptr (GBytes) envelope = NULL;
  g_autoptr (Resp) put_a = NULL;
  g_autoptr (Resp) put_b = NULL;
  g_autoptr (Resp) cut = NULL;
  g_autoptr (GDir) d = NULL;
  Workspace ws;
  g_autoptr (Device) admin = NULL;
  guint8 raw[16];
  g_autofree char *hex = NULL;
  const char *name;
  const guint8 *env_data;
  gsize env_len;
  gsize log_len = 0;
  guint files = 0;
  gint64 c;
  Relay *relay;
  int fd;

  randombytes_buf (raw, sizeof raw);
  hex = sync_hex_encode (raw, sizeof raw);
  marker_a = g_strdup_printf ("SNAPSHOT-A-MARKER-%s", hex);
  marker_b = g_strdup_printf ("SNAPSHOT-B-MARKER-%s", hex);
  marker_batch = g_strdup_printf ("BATCH-MARKER-%s", hex);
  body_a = snapshot_body (256 * KIB, marker_a);
  body_b = snapshot_body (256 * KIB, marker_b);

  fd = open (log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);
  relay_stderr_fd = fd;
  relay = relay_start (dir, NULL);
  relay_stderr_fd = -1;
  close (fd);

  setup_workspace (relay, &ws, &admin);
  /* A batch whose *ciphertext* holds the marker: stored as given, then pruned. */
  {
    SyncEnvelopeHeader header = { 0 };
    g_autofree guint8 *ct = g_malloc (200);
    g_autoptr (GError) error = NULL;

    memcpy (header.workspace, ws.raw_id, SYNC_ID_LEN);
    memcpy (header.device, admin->raw_id, SYNC_ID_LEN);
    header.epoch = 1;
    header.seq = 1;
    randombytes_buf (ct, 200);
    memcpy (ct + 50, marker_batch, strlen (marker_batch));
    envelope = sync_envelope_build (&header, ct, 200, admin->sign_sk, &error);
    g_assert_no_error (error);
  }
  c = push (relay, &ws, admin, envelope);
  env_data = g_bytes_get_data (envelope, &env_len);
  g_assert_true (dir_contains (dir, (const guint8 *)marker_batch, strlen (marker_batch), &files));

  put_a = put_snapshot_at (relay, &ws, admin, c, body_a);
  expect (put_a, 201, NULL);
  /* Stored: the scan does read what the relay wrote. */
  g_assert_true (dir_contains (dir, (const guint8 *)marker_a, strlen (marker_a), &files));
  put_b = put_snapshot_at (relay, &ws, admin, c, body_b);
  expect (put_b, 201, NULL);
  cut = prune (relay, &ws, admin, c);
  expect (cut, 200, NULL);
  g_assert_cmpint (resp_int (cut, "pruned"), ==, 1);
  relay_stop (relay);

  files = 0;
  g_assert_true (dir_contains (dir, (const guint8 *)marker_b, strlen (marker_b), &files));
  g_assert_false (dir_contains (dir, (const guint8 *)marker_a, strlen (marker_a), &files));
  g_assert_false (dir_contains (dir, (const guint8 *)marker_batch, strlen (marker_batch), &files));
  g_assert_false (dir_contains (dir, env_data + SYNC_ENVELOPE_CT_OFFSET, 32, &files));
  /* Only the relay's own files, nothing beside them. */
  d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_assert_true (g_str_equal (name, "relay.db") || g_str_equal (name, "relay.lock")
                   || g_str_equal (name, "relay.db-wal") || g_str_equal (name, "relay.db-shm"));

  /* The log has request lines, and no body: neither marker, no ciphertext. */
  g_assert_true (g_file_get_contents (log_path, &log_text, &log_len, NULL));
  g_assert_nonnull (strstr (log_text, "/snapshot"));
  g_assert_null (strstr (log_text, marker_a));
  g_assert_null (strstr (log_text, marker_b));
  g_assert_null (strstr (log_text, marker_batch));
  g_assert_null (strstr (log_text, hex));
  g_unlink (log_path);
}

/* ---- Migration ------------------------------------------------------------------------ */

/* The schema of version 1, as shipped (sync/relay/relay-store.c, migration 0 → 1). */
static const char v1_schema[]
    = "CREATE TABLE workspaces (id TEXT PRIMARY KEY, created INTEGER NOT NULL,"
      "  bytes INTEGER NOT NULL DEFAULT 0);"
      "CREATE TABLE devices (workspace TEXT NOT NULL REFERENCES workspaces (id),"
      "  id TEXT NOT NULL, auth_pk BLOB NOT NULL, sign_pk BLOB NOT NULL, box_pk BLOB NOT NULL,"
      "  status TEXT NOT NULL CHECK (status IN ('pending', 'active', 'revoked')),"
      "  created INTEGER NOT NULL, PRIMARY KEY (workspace, id));"
      "CREATE TABLE invites (workspace TEXT NOT NULL REFERENCES workspaces (id),"
      "  token_hash BLOB NOT NULL, expires INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0,"
      "  created_by TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (workspace, token_hash));"
      "CREATE TABLE membership_log (workspace TEXT NOT NULL REFERENCES workspaces (id),"
      "  version INTEGER NOT NULL, entry TEXT NOT NULL, signer TEXT NOT NULL,"
      "  created INTEGER NOT NULL, UNIQUE (workspace, version));"
      "CREATE TABLE batches (cursor INTEGER PRIMARY KEY AUTOINCREMENT,"
      "  workspace TEXT NOT NULL REFERENCES workspaces (id), device TEXT NOT NULL,"
      "  epoch INTEGER NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL, data BLOB NOT NULL,"
      "  UNIQUE (workspace, device, seq));"
      "CREATE INDEX batches_by_workspace ON batches (workspace, cursor);"
      "CREATE TABLE seen_nonces (device TEXT NOT NULL, nonce TEXT NOT NULL, time INTEGER NOT NULL,"
      "  PRIMARY KEY (device, nonce)) WITHOUT ROWID;"
      "CREATE INDEX seen_nonces_by_time ON seen_nonces (time);"
      "PRAGMA user_version = 1;";

static void
db_exec (sqlite3 *db, const char *sql)
{
  char *message = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

static gint64
db_int (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

/* A version-1 database with a workspace, its admin and three batches by the
 * admin plus two by a second device, made the way a version-1 relay made it. */
static void
write_v1_db (const char *dir, const Workspace *ws, const Device *admin, const Device *second,
             GPtrArray *admin_batches)
{
  g_autofree char *path = g_build_filename (dir, "relay.db", NULL);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gint64 bytes = 0;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  guint i;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  db_exec (db, "PRAGMA journal_mode = WAL");
  db_exec (db, v1_schema);
  db_exec (db, "BEGIN");
  for (i = 0; i < 2; i++)
    {
      const Device *d = i == 0 ? admin : second;

      g_assert_cmpint (
          sqlite3_prepare_v2 (db,
                              "INSERT INTO devices (workspace, id, auth_pk, sign_pk,"
                              " box_pk, status, created) VALUES (?,?,?,?,?,'active',?)",
                              -1, &stmt, NULL),
          ==, SQLITE_OK);
      sqlite3_bind_text (stmt, 1, ws->id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, d->id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_blob (stmt, 3, d->auth_pk, 32, SQLITE_TRANSIENT);
      sqlite3_bind_blob (stmt, 4, d->sign_pk, 32, SQLITE_TRANSIENT);
      sqlite3_bind_blob (stmt, 5, d->box_pk, 32, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 6, now);
      g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
      sqlite3_finalize (stmt);
    }
  {
    g_autofree char *sql = g_strdup_printf (
        "INSERT INTO membership_log VALUES ('%s', 1, 'genesis', '%s', %" G_GINT64_FORMAT ")",
        ws->id, admin->id, now);

    db_exec (db, sql);
  }
  /* Interleaved: admin 1, second 1, admin 2, second 2, admin 3. */
  for (i = 0; i < 5; i++)
    {
      const Device *d = i % 2 == 0 ? admin : second;
      guint64 seq = i / 2 + 1;
      g_autoptr (GBytes) envelope = random_envelope (ws, d, seq, 300 + i);
      guint8 hash[SYNC_HASH_LEN];
      gsize len;
      const guint8 *data = g_bytes_get_data (envelope, &len);

      sync_envelope_hash (data, len, hash);
      g_assert_cmpint (sqlite3_prepare_v2 (db,
                                           "INSERT INTO batches (workspace, device, epoch, seq,"
                                           " hash, data) VALUES (?,?,1,?,?,?)",
                                           -1, &stmt, NULL),
                       ==, SQLITE_OK);
      sqlite3_bind_text (stmt, 1, ws->id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, d->id, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 3, (gint64)seq);
      sqlite3_bind_blob (stmt, 4, hash, sizeof hash, SQLITE_TRANSIENT);
      sqlite3_bind_blob (stmt, 5, data, (int)len, SQLITE_TRANSIENT);
      g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
      sqlite3_finalize (stmt);
      bytes += (gint64)len;
      if (d == admin)
        g_ptr_array_add (admin_batches, g_bytes_ref (envelope));
    }
  {
    g_autofree char *sql = g_strdup_printf ("INSERT INTO workspaces VALUES ('%s', %" G_GINT64_FORMAT
                                            ", %" G_GINT64_FORMAT ")",
                                            ws->id, now, bytes);

    db_exec (db, sql);
  }
  db_exec (db, "COMMIT");
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
}

static void
test_migrate_v1 (void)
{
  g_autofree char *dir = new_data_dir ("migrate-v1");
  g_autofree char *db_path = g_build_filename (dir, "relay.db", NULL);
  g_autoptr (Device) admin = device_new ();
  g_autoptr (Device) second = device_new ();
  g_autoptr (GPtrArray) admin_batches = g_ptr_array_new_with_free_func (bytes_unref);
  g_autoptr (GPtrArray) pulled = NULL;
  g_autoptr (GBytes) body = snapshot_body (1000, NULL);
  g_autoptr (GBytes) admin4 = NULL;
  g_autoptr (GBytes) second2 = NULL;
  g_autoptr (Resp) retry = NULL;
  g_autoptr (Resp) second_gap = NULL;
  g_autoptr (Resp) put = NULL;
  g_autoptr (Resp) cut = NULL;
  Workspace ws = workspace_new ();
  Relay *relay;
  gint64 c3, c4;
  guint pages;

  write_v1_db (dir, &ws, admin, second, admin_batches);
  g_assert_cmpint (db_int (db_path, "PRAGMA user_version"), ==, 1);
  relay = relay_start (dir, NULL);

  /* Everything is still there, in order. */
  pulled = pull_all (relay, &ws, admin, 0, 100, &pages);
  g_assert_cmpuint (pulled->len, ==, 5);
  g_assert_true (
      g_bytes_equal (g_ptr_array_index (pulled, 4), g_ptr_array_index (admin_batches, 2)));

  /* The chain heads came over: a retry of admin's seq 3 gets its cursor, the
   * second device must go on at 3. */
  retry = post_envelope (relay, &ws, admin, g_ptr_array_index (admin_batches, 2));
  expect (retry, 200, NULL);
  c3 = resp_int (retry, "cursor");
  second2 = random_envelope (&ws, second, 2, 10);
  second_gap = post_envelope (relay, &ws, second, second2);
  expect (second_gap, 409, "seq_taken");
  g_assert_cmpint (resp_int (second_gap, "expected"), ==, 3);
  admin4 = random_envelope (&ws, admin, 4, 10);
  c4 = push (relay, &ws, admin, admin4);
  g_assert_cmpint (c4, >, c3);

  /* Snapshots and pruning work on the migrated workspace. */
  put = put_snapshot_at (relay, &ws, admin, c3, body);
  expect (put, 201, NULL);
  cut = prune (relay, &ws, admin, c3);
  expect (cut, 200, NULL);
  g_assert_cmpint (resp_int (cut, "pruned"), ==, 5);
  push_range (relay, &ws, second, 3, 3, 10, NULL);
  relay_stop (relay);

  g_assert_cmpint (db_int (db_path, "PRAGMA user_version"), ==, 4);
  g_assert_cmpint (db_int (db_path, "SELECT count(*) FROM batches"), ==, 2);
  g_assert_cmpint (db_int (db_path, "SELECT count(*) FROM device_chains"), ==, 2);
}

static void
test_too_new (void)
{
  g_autofree char *dir = new_data_dir ("too-new");
  g_autofree char *path = g_build_filename (dir, "relay.db", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  const char *argv[] = { relay_path (), "--listen", HOST ":0", "--data", dir, NULL };
  sqlite3 *db = NULL;
  int status = 0;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  db_exec (db, "PRAGMA user_version = 99");
  sqlite3_close (db);
  g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 1);
  g_assert_cmpstr (out, ==, "");
  g_assert_nonnull (strstr (err, "newer"));
}

/* ---- Main ------------------------------------------------------------------------------ */

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *main_dir = NULL;
  g_autofree char *small_dir = NULL;
  const char *small_args[] = { "--max-snapshot-mb", "1", "--quota-mb", "2", NULL };
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_assert_true (sync_protocol_init (NULL));
  g_assert_cmpint (curl_global_init (CURL_GLOBAL_DEFAULT), ==, CURLE_OK);
  tmp_root = g_dir_make_tmp ("supolka-relay-snapshot-XXXXXX", &error);
  g_assert_no_error (error);

  main_dir = new_data_dir ("main");
  small_dir = new_data_dir ("small");
  main_relay = relay_start (main_dir, NULL);
  small_relay = relay_start (small_dir, small_args);

  g_test_add_func ("/relay/snapshot/round-trip", test_round_trip);
  g_test_add_func ("/relay/snapshot/cursor-rules", test_cursor_rules);
  g_test_add_func ("/relay/snapshot/size-and-quota", test_size_and_quota);
  g_test_add_func ("/relay/snapshot/who", test_who);
  g_test_add_func ("/relay/snapshot/prune", test_prune);
  g_test_add_func ("/relay/snapshot/sigkill-restart", test_sigkill);
  g_test_add_func ("/relay/snapshot/forensic", test_forensic);
  g_test_add_func ("/relay/snapshot/migrate-v1", test_migrate_v1);
  g_test_add_func ("/relay/snapshot/too-new", test_too_new);

  ret = g_test_run ();

  relay_stop (main_relay);
  relay_stop (small_relay);
  remove_tree (tmp_root);
  g_free (tmp_root);
  curl_global_cleanup ();
  return ret;
}
