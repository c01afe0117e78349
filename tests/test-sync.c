/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-sync.c — the sync client end to end (issue #3): the C API of
 * supolka-sync.h on real vaults in temporary folders, against the real relay
 * ($SUPOLKA_RELAY) on 127.0.0.1 with a temporary data folder: enrolment,
 * convergence, no plaintext at the relay or on the wire (a recording TCP
 * forwarder sees every byte), revocation, panic and re-enrolment. The hostile
 * relay is in test-sync-attacks.c, the CLI, SIGKILL and SOCKS5 in
 * test-sync-cli.c; what they share in sync-test-util.c. */
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

/* ---- 1. Enrolment ------------------------------------------------------------------------ */

static gboolean
is_safety_code (const char *code)
{
  return code != NULL && g_regex_match_simple ("^[0-9]{3} [0-9]{3} [0-9]{3}$", code, 0, 0);
}

static GPtrArray *
devices_of (Dev *dev)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *list = sync_device_list (dev->vault, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (list);
  return list;
}

static SyncDevice *
find_device (GPtrArray *list, const char *id)
{
  for (guint i = 0; i < list->len; i++)
    if (g_strcmp0 (((SyncDevice *)list->pdata[i])->device, id) == 0)
      return list->pdata[i];
  return NULL;
}

static void
test_enrolment (void)
{
  g_autofree char *data = new_tmp ("relay");
  Relay *relay = sync_relay_start (data);
  Dev *a = dev_new ("A"), *b = dev_new ("B"), *c = dev_new ("C");
  g_autoptr (GError) error = NULL;
  g_autofree char *org1 = NULL, *org2 = NULL, *code = NULL, *safety = NULL, *wrong = NULL;
  g_autofree char *approved = NULL, *nospace = NULL, *inv_relay = NULL, *bad = NULL;
  guint8 ws[16], token[32], admin_pk[32];
  g_autofree char *ws_hex = NULL;
  SyncStatus st;
  SyncReport report = { 0 };
  GPtrArray *list;
  SyncDevice *d;

  /* No workspace yet. */
  status_of (a, &st);
  g_assert_null (st.workspace);
  g_assert_false (st.approved);
  sync_status_clear (&st);

  create_workspace (a, relay->base, NULL);
  status_of (a, &st);
  g_assert_true (sp_id_is_valid (st.workspace));
  g_assert_cmpstr (st.relay, ==, relay->base);
  g_assert_cmpstr (st.device, ==, dev_id (a));
  g_assert_true (st.admin);
  g_assert_true (st.approved);
  g_assert_cmpuint (st.epoch, >=, 1);

  /* Written before B exists: B must still read it once approved. */
  org1 = insert_org (a, "Enrolment org one", "written before the invite");
  sync_ok (a, NULL, NULL);

  /* Invite: it names this relay and workspace. */
  code = invite (a, NULL);
  g_assert_true (sync_invite_parse (code, &inv_relay, ws, token, admin_pk, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (inv_relay, ==, relay->base);
  ws_hex = g_malloc (33);
  sodium_bin2hex (ws_hex, 33, ws, 16);
  g_assert_cmpstr (ws_hex, ==, st.workspace);
  sync_status_clear (&st);

  /* B joins and gets the safety code. */
  safety = sync_workspace_join (b->vault, code, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (is_safety_code (safety));
  status_of (b, &st);
  g_assert_cmpstr (st.workspace, ==, ws_hex);
  g_assert_false (st.approved);
  g_assert_false (st.admin);
  sync_status_clear (&st);

  /* The invite is spent: C cannot use it again. */
  bad = sync_workspace_join (c->vault, code, NULL, &error);
  g_assert_null (bad);
  sync_error_is (error, SYNC_ERROR_REFUSED, SYNC_ERROR_REFUSED);
  g_clear_error (&error);

  /* Before approval B waits and receives nothing. */
  sync_ok (b, NULL, &report);
  g_assert_true (report.waiting_for_approval);
  g_assert_cmpuint (report.applied_batches, ==, 0);
  sync_report_clear (&report);
  g_assert_false (has_record (b, org1));

  /* A sees B pending, with the same safety code. */
  list = devices_of (a);
  g_assert_cmpuint (list->len, ==, 2);
  d = find_device (list, dev_id (a));
  g_assert_nonnull (d);
  g_assert_true (d->is_self);
  g_assert_true (d->admin);
  g_assert_cmpstr (d->status, ==, "active");
  d = find_device (list, dev_id (b));
  g_assert_nonnull (d);
  g_assert_false (d->is_self);
  g_assert_cmpstr (d->status, ==, "pending");
  /* (Marked failed but not fatal, so the rest of the enrolment still runs.) */
  if (g_strcmp0 (d->safety_code, safety) != 0)
    g_test_fail_printf ("A's device list shows B's safety code as '%s', B was shown '%s'",
                        d->safety_code ? d->safety_code : "(none)", safety);
  g_ptr_array_unref (list);

  /* A wrong code is refused and approves nobody. */
  wrong = g_strdup (safety);
  wrong[0] = (char)('0' + (wrong[0] - '0' + 1) % 10);
  approved = sync_workspace_approve (a->vault, wrong, NULL, &error);
  g_assert_null (approved);
  g_assert_nonnull (error);
  g_test_message ("wrong code: %s", error->message);
  g_clear_error (&error);
  list = devices_of (a);
  g_assert_cmpstr (find_device (list, dev_id (b))->status, ==, "pending");
  g_ptr_array_unref (list);

  /* The right one, typed without spaces. */
  nospace = g_strdup_printf ("%.3s%.3s%.3s", safety, safety + 4, safety + 8);
  approved = sync_workspace_approve (a->vault, nospace, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (approved, ==, dev_id (b));
  list = devices_of (a);
  d = find_device (list, dev_id (b));
  g_assert_cmpstr (d->status, ==, "active");
  g_assert_false (d->admin);
  g_assert_null (d->safety_code);
  g_ptr_array_unref (list);

  /* B is approved on its next sync and reads what A wrote before. */
  sync_ok (b, NULL, &report);
  g_assert_false (report.waiting_for_approval);
  g_assert_cmpuint (report.applied_batches, >=, 1);
  g_assert_cmpuint (report.refused_batches, ==, 0);
  sync_report_clear (&report);
  status_of (b, &st);
  g_assert_true (st.approved);
  g_assert_false (st.admin);
  g_assert_cmpstr (st.device, ==, dev_id (b));
  g_assert_cmpstr (st.relay, ==, relay->base);
  sync_status_clear (&st);
  g_assert_true (has_record (b, org1));

  /* B's view of the devices. */
  list = devices_of (b);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_true (find_device (list, dev_id (b))->is_self);
  g_assert_true (find_device (list, dev_id (a))->admin);
  g_ptr_array_unref (list);

  /* And the other way round. */
  org2 = insert_org (b, "Enrolment org two", "written by B");
  sync_ok (b, NULL, NULL);
  sync_ok (a, NULL, NULL);
  g_assert_true (has_record (a, org2));
  status_of (b, &st);
  g_assert_cmpint (st.pending_changes, ==, 0);
  g_assert_cmpint (st.last_sync, >, 0);
  sync_status_clear (&st);

  /* B is no admin: it can neither invite nor approve. */
  bad = sync_workspace_invite (b->vault, 24, NULL, &error);
  g_assert_null (bad);
  g_assert_nonnull (error);
  g_clear_error (&error);

  dev_free (a);
  dev_free (b);
  dev_free (c);
  relay_stop (relay);
}

/* ---- 2. Convergence ------------------------------------------------------------------------ */

#define N_DEVS 3

static const char *const conv_names[] = { "Alpha", "Bravo", "Charlie", "Delta", "Echo" };
static const char *const conv_statuses[] = { "member", "candidate", "partner", NULL };
static const char *const conv_regions[] = { "brest", "minsk_city", "gomel", NULL };

/* A random record id this vault knows; @deleted: -1 any, 0 live, 1 deleted. */
static char *
random_record (Dev *dev, GRand *rand, int deleted)
{
  g_autoptr (GError) error = NULL;
  SpFilter filter = { .include_deleted = TRUE };
  g_autoptr (GPtrArray) records = sp_vault_list (dev->vault, "org", &filter, &error);
  g_autoptr (GPtrArray) pick = g_ptr_array_new ();

  g_assert_no_error (error);
  g_ptr_array_sort (records, cmp_record_id);
  for (guint i = 0; i < records->len; i++)
    if (deleted < 0 || sp_record_is_deleted (records->pdata[i]) == deleted)
      g_ptr_array_add (pick, records->pdata[i]);
  if (pick->len == 0)
    return NULL;
  return g_strdup (sp_record_get_id (pick->pdata[g_rand_int_range (rand, 0, (gint32)pick->len)]));
}

static void
random_edit (Dev *dev, GRand *rand, guint round, guint *serial)
{
  g_autoptr (GError) error = NULL;
  int op = g_rand_int_range (rand, 0, 100);
  g_autofree char *id = NULL;

  if (op < 25)
    {
      g_autofree char *name = g_strdup_printf (
          "%s %s r%u n%u", dev->name, conv_names[g_rand_int_range (rand, 0, 5)], round, ++*serial);
      g_free (insert_org (dev, name, "first version"));
      return;
    }
  if (op < 75 && (id = random_record (dev, rand, 0)) != NULL)
    {
      /* Few distinct values, so devices often write the same field at once,
       * sometimes even the same value. */
      g_autofree char *name
          = g_strdup_printf ("Shared %s", conv_names[g_rand_int_range (rand, 0, 5)]);
      g_autofree char *notes = g_strdup_printf ("notes by %s in round %u", dev->name, round);
      SpFieldValue values[2];
      guint n = 0;

      switch (g_rand_int_range (rand, 0, 4))
        {
          case 0:
            values[n++] = (SpFieldValue){ "name", name };
            break;
          case 1:
            values[n++] = (SpFieldValue){ "notes", notes };
            break;
          case 2:
            values[n++] = (SpFieldValue){ "status", conv_statuses[g_rand_int_range (rand, 0, 3)] };
            values[n++] = (SpFieldValue){ "region", conv_regions[g_rand_int_range (rand, 0, 3)] };
            break;
          default:
            values[n++] = (SpFieldValue){ "notes", g_rand_boolean (rand) ? notes : NULL };
            values[n++] = (SpFieldValue){ "name", name };
            break;
        }
      g_assert_true (sp_vault_update (dev->vault, id, values, n, &error));
      g_assert_no_error (error);
      return;
    }
  g_clear_pointer (&id, g_free);
  if (op < 88 && (id = random_record (dev, rand, 0)) != NULL)
    {
      g_assert_true (sp_vault_delete (dev->vault, id, &error));
      g_assert_no_error (error);
      return;
    }
  g_clear_pointer (&id, g_free);
  if ((id = random_record (dev, rand, 1)) != NULL)
    {
      g_assert_true (sp_vault_undelete (dev->vault, id, &error));
      g_assert_no_error (error);
    }
}

static void
convergence_run (Relay *relay, guint32 seed)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  static const char *const names[N_DEVS] = { "A", "B", "C" };
  Dev *dev[N_DEVS];
  g_autofree char *dump0 = NULL;
  guint serial = 0, pass;
  gint64 n_conflicts = 0;

  g_test_message ("convergence seed %u", seed);
  for (guint i = 0; i < N_DEVS; i++)
    dev[i] = dev_new (names[i]);
  create_workspace (dev[0], relay->base, NULL);
  for (guint i = 1; i < N_DEVS; i++)
    enrol (dev[0], dev[i], NULL);

  for (guint round = 0; round < 4; round++)
    {
      guint n_syncs = (guint)g_rand_int_range (rand, 2, 8);

      /* Offline edits, sometimes grouped in one transaction. */
      for (guint i = 0; i < N_DEVS; i++)
        {
          guint n_ops = (guint)g_rand_int_range (rand, 3, 10);
          gboolean tx = g_rand_int_range (rand, 0, 3) == 0;
          g_autoptr (GError) error = NULL;

          if (tx)
            g_assert_true (sp_vault_begin (dev[i]->vault, &error));
          for (guint k = 0; k < n_ops; k++)
            random_edit (dev[i], rand, round, &serial);
          if (tx)
            g_assert_true (sp_vault_commit (dev[i]->vault, &error));
          g_assert_no_error (error);
        }
      /* Syncs of random devices in a random order, repeats allowed. */
      for (guint k = 0; k < n_syncs; k++)
        sync_ok (dev[g_rand_int_range (rand, 0, N_DEVS)], NULL, NULL);
    }

  /* Everyone syncs until a whole pass moves nothing. */
  for (pass = 0; pass < 5; pass++)
    {
      guint moved = 0;

      for (guint i = 0; i < N_DEVS; i++)
        {
          SyncReport r = { 0 };
          sync_ok (dev[i], NULL, &r);
          moved += r.pushed_batches + r.applied_batches + r.refused_batches;
          g_assert_cmpuint (r.refused_batches, ==, 0);
          sync_report_clear (&r);
        }
      if (pass >= 1 && moved == 0)
        break;
    }
  g_assert_cmpuint (pass, <, 5);

  dump0 = dump_vault (dev[0]);
  for (guint i = 1; i < N_DEVS; i++)
    {
      g_autofree char *dump = dump_vault (dev[i]);
      if (g_strcmp0 (dump0, dump) != 0)
        g_test_message ("%s:\n%s\n%s:\n%s", dev[0]->name, dump0, dev[i]->name, dump);
      g_assert_cmpstr (dump, ==, dump0);
    }
  for (guint i = 0; i < N_DEVS; i++)
    {
      SyncStatus st;
      status_of (dev[i], &st);
      g_assert_cmpint (st.pending_changes, ==, 0);
      sync_status_clear (&st);
    }
  g_assert_cmpint (count_kind (dev[0], "org"), >, 0);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) conflicts = sp_vault_conflicts (dev[0]->vault, NULL, &error);
    g_assert_no_error (error);
    n_conflicts = conflicts->len;
  }
  g_test_message ("seed %u: %" G_GINT64_FORMAT " records, %" G_GINT64_FORMAT " conflicts, "
                  "converged after %u passes",
                  seed, count_kind (dev[0], "org"), n_conflicts, pass + 1);
  for (guint i = 0; i < N_DEVS; i++)
    dev_free (dev[i]);
}

static void
test_convergence (void)
{
  g_autofree char *data = new_tmp ("relay");
  Relay *relay = sync_relay_start (data);

  /* Three seeds from the test's own: 'meson test' runs print it, and
   * '--seed' replays a failing run. */
  for (guint i = 0; i < 3; i++)
    convergence_run (relay, g_test_rand_int ());
  relay_stop (relay);
}

/* ---- 3. No plaintext at the relay or on the wire ---------------------------------------- */

static const char *const markers[] = {
  "Zmitrok-Marker-QX7Z93",               /* an org name */
  "sekret-note-marker-8841-VQ",          /* its notes */
  "Маркер Рагнеда Полацкая ЖЮЪ",         /* a person's full name (Cyrillic) */
  "marker.qx7z93@example.org",           /* an e-mail */
  "Нататка-маркер Лацінка-Łacinka-9931", /* written by B */
};

/* Every marker as raw UTF-8 and in its folded search form. */
static GPtrArray *
marker_needles (void)
{
  GPtrArray *needles = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < G_N_ELEMENTS (markers); i++)
    {
      g_autofree char *folded = sp_fold (markers[i]);
      g_ptr_array_add (needles, g_strdup (markers[i]));
      if (folded != NULL && strlen (folded) >= 8 && g_strcmp0 (folded, markers[i]) != 0)
        g_ptr_array_add (needles, g_steal_pointer (&folded));
    }
  return needles;
}

static void
assert_tree_clean (const char *dir, GPtrArray *needles)
{
  for (guint i = 0; i < needles->len; i++)
    {
      const char *n = needles->pdata[i];
      if (sp_test_tree_contains (dir, n, strlen (n)))
        g_error ("the relay's data folder holds the plaintext '%s'", n);
    }
}

static void
test_no_plaintext (void)
{
  g_autofree char *data = new_tmp ("relay");
  Relay *relay = sync_relay_start (data);
  Forwarder *fw = forwarder_start (relay->port);
  g_autofree char *url = forwarder_url (fw);
  SyncOptions opts = { .relay = url };
  Dev *a = dev_new ("A"), *b = dev_new ("B");
  g_autoptr (GPtrArray) needles = marker_needles ();
  g_autofree char *org = NULL, *person = NULL, *note = NULL, *name = NULL;
  SyncStatus st;
  gsize up_len, down_len;

  create_workspace (a, url, &opts);
  enrol (a, b, &opts);

  org = insert_org (a, markers[0], markers[1]);
  person = sp_test_insert (a->vault, "person", "full_name", markers[2], "email", markers[3],
                           "sensitivity", "normal", NULL);
  sync_ok (a, &opts, NULL);
  sync_ok (b, &opts, NULL);
  note = sp_test_insert (b->vault, "note", "target", org, "text", markers[4], NULL);
  sync_ok (b, &opts, NULL);
  sync_ok (a, &opts, NULL);

  /* It did travel. */
  name = field_of (b, person, "full_name");
  g_assert_cmpstr (name, ==, markers[2]);
  g_assert_true (has_record (a, note));

  /* At rest, while the relay runs (WAL not yet checkpointed) … */
  assert_tree_clean (data, needles);

  /* … and on the wire, both ways. The workspace id in every path shows the
   * recording works. */
  g_mutex_lock (&fw->lock);
  up_len = fw->up->len;
  down_len = fw->down->len;
  status_of (a, &st);
  g_assert_true (bytes_contain (fw->up, st.workspace, strlen (st.workspace)));
  for (guint i = 0; i < needles->len; i++)
    {
      const char *n = needles->pdata[i];
      if (bytes_contain (fw->up, n, strlen (n)) || bytes_contain (fw->down, n, strlen (n)))
        g_error ("the traffic holds the plaintext '%s'", n);
    }
  g_mutex_unlock (&fw->lock);
  sync_status_clear (&st);
  g_test_message ("traffic recorded: %zu bytes up, %zu bytes down, %u connections", up_len,
                  down_len, fw->connections);
  g_assert_cmpuint (up_len, >, 1000);
  g_assert_cmpuint (down_len, >, 1000);

  forwarder_stop (fw);
  /* … and once stopped, with everything checkpointed into relay.db. */
  relay_stop (relay);
  assert_tree_clean (data, needles);
  {
    g_autofree char *db = g_build_filename (data, "relay.db", NULL);
    g_autoptr (GBytes) bytes = sp_test_read_file (db);
    g_assert_nonnull (bytes);
    g_assert_cmpuint (g_bytes_get_size (bytes), >, 0);
  }
  dev_free (a);
  dev_free (b);
}

/* ---- 7. Revocation --------------------------------------------------------------------------- */

static void
test_revocation (void)
{
  g_autofree char *dir = new_tmp ("relay");
  Relay *relay = sync_relay_start (dir);
  Dev *a = dev_new ("A"), *b = dev_new ("B"), *c = dev_new ("C");
  g_autoptr (GError) error = NULL;
  g_autofree char *r1 = NULL, *r2 = NULL, *c_id = NULL;
  g_autoptr (GPtrArray) c_keys = NULL, a_keys = NULL, batches = NULL;
  StoredBatch *old_batch, *new_batch;
  SyncBatchInfo info;
  SyncStatus sa, sb, sc;
  GPtrArray *list;
  guint8 a_pk[32];
  guint32 c_max_epoch = 0;
  sqlite3 *db;

  create_workspace (a, relay->base, NULL);
  enrol (a, b, NULL);
  enrol (a, c, NULL);
  r1 = insert_org (a, "Before the revocation", "C may read this");
  sync_ok (a, NULL, NULL);
  sync_ok (b, NULL, NULL);
  sync_ok (c, NULL, NULL);
  g_assert_true (has_record (c, r1));
  c_id = g_strdup (dev_id (c));

  /* A non-admin cannot revoke. */
  g_assert_false (sync_device_revoke (b->vault, c_id, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  g_assert_true (sync_device_revoke (a->vault, c_id, NULL, &error));
  g_assert_no_error (error);
  list = devices_of (a);
  g_assert_cmpstr (find_device (list, c_id)->status, ==, "revoked");
  g_ptr_array_unref (list);

  /* C is refused, through the API and the CLI. */
  error = sync_fails (c, NULL);
  sync_error_is (error, SYNC_ERROR_REFUSED, SYNC_ERROR_REFUSED);
  g_clear_error (&error);
  dev_close (c);
  g_assert_cmpint (cli_run (c->dir, NULL, NULL, "sync", NULL), ==, EXIT_SYNC);
  dev_open (c);

  /* A writes under the new epoch; B reads it. */
  r2 = insert_org (a, "After the revocation", "C must not read this");
  sync_ok (a, NULL, NULL);
  sync_ok (b, NULL, NULL);
  g_assert_true (has_record (b, r2));
  g_assert_false (has_record (c, r2));
  status_of (a, &sa);
  status_of (b, &sb);
  status_of (c, &sc);
  g_assert_cmpuint (sa.epoch, >, sc.epoch);
  g_assert_cmpuint (sb.epoch, ==, sa.epoch);

  /* C, given the relay's whole store, cannot open the new batch with any key
   * it has, though its keys do open the old one. */
  relay_stop (relay);
  db = relay_db_open (dir);
  relay_db_sign_pk (db, dev_id (a), a_pk);
  batches = relay_db_batches (db, NULL);
  sqlite3_close (db);
  c_keys = epoch_keys (c);
  a_keys = epoch_keys (a);
  g_assert_cmpuint (c_keys->len, >, 0);
  g_assert_cmpuint (a_keys->len, >, c_keys->len);
  old_batch = find_batch_with (batches, c_keys, a_pk, r1);
  g_assert_nonnull (old_batch);
  new_batch = find_batch_with (batches, a_keys, a_pk, r2);
  g_assert_nonnull (new_batch);
  g_assert_true (sync_batch_peek (new_batch->data, &info, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.epoch, ==, sa.epoch);
  for (guint i = 0; i < batches->len; i++)
    {
      StoredBatch *sbt = batches->pdata[i];
      g_autoptr (SyncBatch) opened = open_with_any (sbt->data, c_keys, a_pk);
      SyncBatchInfo bi;

      g_assert_true (sync_batch_peek (sbt->data, &bi, NULL));
      if (bi.epoch > sc.epoch)
        g_assert_null (opened);
      if (opened != NULL)
        c_max_epoch = MAX (c_max_epoch, bi.epoch);
      /* Nothing C can open carries r2. */
      g_assert_true (opened == NULL || !batch_has_record (opened, r2));
    }
  g_assert_cmpuint (c_max_epoch, <, info.epoch);

  sync_status_clear (&sa);
  sync_status_clear (&sb);
  sync_status_clear (&sc);
  dev_free (a);
  dev_free (b);
  dev_free (c);
}

/* ---- Panic, then re-enrolment: the data comes back from the relay ------------------------- */

static void
test_panic_reenrol (void)
{
  g_autofree char *dir = new_tmp ("relay");
  Relay *relay = sync_relay_start (dir);
  Dev *a = dev_new ("A"), *b = dev_new ("B");
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) pass = sp_test_passphrase (PASS);
  g_autofree char *r1 = NULL, *r2 = NULL, *old_id = NULL;
  GPtrArray *list;
  gint64 t0;

  create_workspace (a, relay->base, NULL);
  enrol (a, b, NULL);
  r1 = insert_org (a, "Written by A", "before the seizure");
  sync_ok (a, NULL, NULL);
  r2 = insert_org (b, "Written by B", "B's own work");
  sync_ok (b, NULL, NULL);
  sync_ok (a, NULL, NULL);
  old_id = g_strdup (dev_id (b));

  /* Panic on B: the key is destroyed at once; the passphrase opens nothing. */
  dev_close (b);
  t0 = g_get_monotonic_time ();
  g_assert_true (sp_vault_panic (b->dir, &error));
  g_assert_no_error (error);
  g_test_message ("panic took %.1f ms", (g_get_monotonic_time () - t0) / 1000.0);
  g_assert_false (sp_vault_exists (b->dir));
  g_assert_null (sp_vault_open (b->dir, pass, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* The admin removes the lost device; the owner makes a new vault and joins again. */
  g_assert_true (sync_device_revoke (a->vault, old_id, NULL, &error));
  g_assert_no_error (error);
  b->vault = sp_vault_create (b->dir, pass, SP_KDF_INTERACTIVE, &error);
  g_assert_no_error (error);
  enrol (a, b, NULL);
  g_assert_cmpstr (dev_id (b), !=, old_id);
  sync_ok (b, NULL, NULL);

  /* Everything is back, including what B itself had written before the panic. */
  g_assert_true (has_record (b, r1));
  g_assert_true (has_record (b, r2));
  {
    g_autofree char *notes = field_of (b, r2, "notes");
    g_assert_cmpstr (notes, ==, "B's own work");
  }
  list = devices_of (a);
  g_assert_cmpstr (find_device (list, old_id)->status, ==, "revoked");
  g_ptr_array_unref (list);

  relay_stop (relay);
  dev_free (a);
  dev_free (b);
}

int
main (int argc, char **argv)
{
  sync_test_init (&argc, &argv);

  g_test_add_func ("/sync/enrolment", test_enrolment);
  g_test_add_func ("/sync/convergence", test_convergence);
  g_test_add_func ("/sync/no-plaintext", test_no_plaintext);
  g_test_add_func ("/sync/revocation", test_revocation);
  g_test_add_func ("/sync/panic-reenrol", test_panic_reenrol);

  return sync_test_finish (g_test_run ());
}
