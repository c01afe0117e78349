/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-sync.c — the sync client end to end (issue #3): the C API of
 * supolka-sync.h on real vaults in temporary folders, against the real relay
 * ($SUPOLKA_RELAY) on 127.0.0.1 with a temporary data folder, and the real
 * supolka-cli ($SUPOLKA_CLI).
 *
 * Around them the test puts its own small pieces of network: a recording TCP
 * forwarder (to see every byte on the wire), a fake relay (libmicrohttpd) that
 * answers with garbage or passes requests on to the real one, and microsocks
 * as a SOCKS5 proxy. The relay's database is opened directly (plain SQLite
 * through SQLCipher without a key) to play a hostile relay.
 */
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
#include "test-util.h"

#define HOST "127.0.0.1"
#define PASS "correct horse" /* sp_test_vault_new's passphrase */
#define KIB 1024
#define MIB (1024 * 1024)

/* The CLI's exit statuses (docs/CLI.md). */
enum
{
  EXIT_OK = 0,
  EXIT_USAGE = 1,
  EXIT_NOT_FOUND = 3,
  EXIT_INVALID = 4,
  EXIT_SYNC = 5,
};

static char *tmp_root; /* everything of this run; removed at the end */

static char *
new_tmp (const char *name)
{
  static guint counter;
  char *dir = g_strdup_printf ("%s/%s-%u", tmp_root, name, ++counter);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  return dir;
}

/* A child never outlives the test, even when an assertion aborts it. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* Waits for a child; returns its wait status. */
static int
wait_child (GPid pid, int timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;
  int status = 0;

  while (waitpid (pid, &status, WNOHANG) == 0)
    {
      if (g_get_monotonic_time () > deadline)
        {
          kill (pid, SIGKILL);
          waitpid (pid, &status, 0);
          g_error ("child %d did not exit in time", (int)pid);
        }
      g_usleep (10000);
    }
  g_spawn_close_pid (pid);
  return status;
}

/* A TCP port on 127.0.0.1 that nobody listens on (bound, then closed). */
static guint
closed_port (void)
{
  struct sockaddr_in addr = { 0 };
  socklen_t len = sizeof addr;
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  guint port;

  g_assert_cmpint (fd, >=, 0);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fd, (struct sockaddr *)&addr, sizeof addr), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *)&addr, &len), ==, 0);
  port = ntohs (addr.sin_port);
  close (fd);
  return port;
}

static gboolean
port_accepts (guint port)
{
  struct sockaddr_in addr = { 0 };
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  gboolean ok;

  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  addr.sin_port = htons ((guint16)port);
  ok = connect (fd, (struct sockaddr *)&addr, sizeof addr) == 0;
  close (fd);
  return ok;
}

static gboolean
bytes_contain (const GByteArray *hay, const void *needle, gsize len)
{
  return len > 0 && hay->len >= len && memmem (hay->data, hay->len, needle, len) != NULL;
}

/* ---- The relay ------------------------------------------------------------------ */

typedef struct
{
  GPid pid;
  int out_fd;
  char *data_dir;
  char *url; /* "http://127.0.0.1:PORT" */
  guint port;
} Relay;

static const char *
relay_path (void)
{
  const char *path = g_getenv ("SUPOLKA_RELAY");

  if (path == NULL || !g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
    g_error (
        "SUPOLKA_RELAY is not set to the built supolka-relay: run this test with 'meson test'");
  return path;
}

/* Reads one line from @fd within @timeout_ms; NULL on EOF or timeout. */
static char *
read_line (int fd, int timeout_ms)
{
  GString *line = g_string_new (NULL);
  gint64 deadline = g_get_monotonic_time () + (gint64)timeout_ms * 1000;

  for (;;)
    {
      struct pollfd pfd = { fd, POLLIN, 0 };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      char c;
      ssize_t n;

      if (left <= 0 || poll (&pfd, 1, (int)left) <= 0)
        break;
      n = read (fd, &c, 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      if (c == '\n')
        return g_string_free (line, FALSE);
      g_string_append_c (line, c);
    }
  g_string_free (line, TRUE);
  return NULL;
}

/* Starts supolka-relay on 127.0.0.1:@port (0: any free port) with @data_dir.
 * A restart on the same port is retried while the port is still taken. */
static Relay *
relay_start_at (const char *data_dir, guint port)
{
  Relay *relay = g_new0 (Relay, 1);
  const char *prefix = "listening on " HOST ":";
  g_autofree char *listen = g_strdup_printf (HOST ":%u", port);
  guint64 bound = 0;

  relay->data_dir = g_strdup (data_dir);
  for (int attempt = 0;; attempt++)
    {
      const char *argv[]
          = { relay_path (), "--listen", listen, "--data", data_dir, "--rate", "1000", NULL };
      g_autoptr (GError) error = NULL;
      g_autofree char *line = NULL;

      g_spawn_async_with_pipes (NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                die_with_parent, NULL, &relay->pid, NULL, &relay->out_fd, NULL,
                                &error);
      g_assert_no_error (error);
      line = read_line (relay->out_fd, 20000);
      if (line != NULL)
        {
          g_assert_true (g_str_has_prefix (line, prefix));
          g_assert_true (
              g_ascii_string_to_unsigned (line + strlen (prefix), 10, 1, 65535, &bound, NULL));
          break;
        }
      /* It exited (the port is still held by the killed one): try again. */
      close (relay->out_fd);
      wait_child (relay->pid, 20000);
      g_assert_cmpint (attempt, <, 50);
      g_usleep (200 * 1000);
    }
  if (port != 0)
    g_assert_cmpuint (bound, ==, port);
  relay->port = (guint)bound;
  relay->url = g_strdup_printf ("http://" HOST ":%u", relay->port);
  return relay;
}

static Relay *
relay_start (const char *data_dir)
{
  return relay_start_at (data_dir, 0);
}

static void
relay_free (Relay *relay)
{
  close (relay->out_fd);
  g_free (relay->data_dir);
  g_free (relay->url);
  g_free (relay);
}

/* SIGTERM: a clean stop (the WAL is checkpointed into relay.db). */
static void
relay_stop (Relay *relay)
{
  int status;

  if (relay == NULL)
    return;
  kill (relay->pid, SIGTERM);
  status = wait_child (relay->pid, 20000);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  relay_free (relay);
}

static void
relay_kill (Relay *relay)
{
  kill (relay->pid, SIGKILL);
  wait_child (relay->pid, 20000);
  relay_free (relay);
}

/* ---- The relay's database, opened directly ------------------------------------------
 * Plain SQLite, read through SQLCipher (no key given = no encryption). */

static sqlite3 *
relay_db_open (const char *data_dir)
{
  g_autofree char *path = g_build_filename (data_dir, "relay.db", NULL);
  sqlite3 *db = NULL;

  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  return db;
}

static void
db_exec (sqlite3 *db, const char *sql)
{
  char *msg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
}

/* One stored batch as the relay has it. */
typedef struct
{
  gint64 cursor;
  char *device;
  gint64 epoch;
  gint64 seq;
  GBytes *data;
} StoredBatch;

static void
stored_batch_free (gpointer p)
{
  StoredBatch *b = p;

  g_free (b->device);
  g_bytes_unref (b->data);
  g_free (b);
}

/* Every batch in cursor order; @device NULL: of every device. */
static GPtrArray *
relay_db_batches (sqlite3 *db, const char *device)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (stored_batch_free);
  sqlite3_stmt *st = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db,
                                       "SELECT cursor, device, epoch, seq, data FROM batches "
                                       "WHERE ?1 IS NULL OR device = ?1 ORDER BY cursor",
                                       -1, &st, NULL),
                   ==, SQLITE_OK);
  sqlite3_bind_text (st, 1, device, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      StoredBatch *b = g_new0 (StoredBatch, 1);

      b->cursor = sqlite3_column_int64 (st, 0);
      b->device = g_strdup ((const char *)sqlite3_column_text (st, 1));
      b->epoch = sqlite3_column_int64 (st, 2);
      b->seq = sqlite3_column_int64 (st, 3);
      b->data = g_bytes_new (sqlite3_column_blob (st, 4), (gsize)sqlite3_column_bytes (st, 4));
      g_ptr_array_add (out, b);
    }
  sqlite3_finalize (st);
  return out;
}

static gint64
relay_db_count (sqlite3 *db, const char *device)
{
  sqlite3_stmt *st = NULL;
  gint64 n = -1;

  g_assert_cmpint (
      sqlite3_prepare_v2 (db, "SELECT count(*) FROM batches WHERE device = ?1", -1, &st, NULL), ==,
      SQLITE_OK);
  sqlite3_bind_text (st, 1, device, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (st) == SQLITE_ROW)
    n = sqlite3_column_int64 (st, 0);
  sqlite3_finalize (st);
  return n;
}

/* The identity (signing) public key the relay holds for @device. */
static void
relay_db_sign_pk (sqlite3 *db, const char *device, guint8 pk[32])
{
  sqlite3_stmt *st = NULL;

  g_assert_cmpint (
      sqlite3_prepare_v2 (db, "SELECT sign_pk FROM devices WHERE id = ?1", -1, &st, NULL), ==,
      SQLITE_OK);
  sqlite3_bind_text (st, 1, device, -1, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_bytes (st, 0), ==, 32);
  memcpy (pk, sqlite3_column_blob (st, 0), 32);
  sqlite3_finalize (st);
}

/* ---- Vaults ------------------------------------------------------------------------- */

typedef struct
{
  const char *name; /* "A", "B", … for messages */
  char *dir;        /* the vault folder (tmp/vault) */
  SpVault *vault;
} Dev;

static Dev *
dev_new (const char *name)
{
  Dev *dev = g_new0 (Dev, 1);

  dev->name = name;
  dev->vault = sp_test_vault_new (&dev->dir);
  return dev;
}

static void
dev_close (Dev *dev)
{
  g_clear_pointer (&dev->vault, sp_vault_close);
}

static void
dev_open (Dev *dev)
{
  g_autoptr (SpSecret) pass = sp_test_passphrase (PASS);
  g_autoptr (GError) error = NULL;

  g_assert_null (dev->vault);
  dev->vault = sp_vault_open (dev->dir, pass, &error);
  g_assert_no_error (error);
}

static void
dev_free (Dev *dev)
{
  g_autofree char *parent = NULL;

  if (dev == NULL)
    return;
  dev_close (dev);
  parent = g_path_get_dirname (dev->dir);
  sp_test_rmtree (parent);
  g_free (dev->dir);
  g_free (dev);
}

static const char *
dev_id (Dev *dev)
{
  return sp_vault_get_device_id (dev->vault);
}

static char *
insert_org (Dev *dev, const char *name, const char *notes)
{
  return sp_test_insert (dev->vault, "org", "name", name, "notes", notes, NULL);
}

/* The value of one field, or NULL when the record or the value is absent. */
static char *
field_of (Dev *dev, const char *id, const char *field)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpRecord) rec = sp_vault_get (dev->vault, id, &error);

  if (rec == NULL)
    {
      g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
      return NULL;
    }
  return g_strdup (sp_record_get (rec, field));
}

static gboolean
has_record (Dev *dev, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpRecord) rec = sp_vault_get (dev->vault, id, &error);

  if (rec == NULL)
    g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
  return rec != NULL;
}

static gint64
count_kind (Dev *dev, const char *kind)
{
  g_autoptr (GError) error = NULL;
  SpFilter filter = { .include_deleted = TRUE };
  gint64 n = sp_vault_count (dev->vault, kind, &filter, &error);

  g_assert_no_error (error);
  return n;
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

static int
cmp_record_id (gconstpointer a, gconstpointer b)
{
  return strcmp (sp_record_get_id (*(SpRecord *const *)a),
                 sp_record_get_id (*(SpRecord *const *)b));
}

/* Everything a vault shows through the public API, as one string: every record
 * of every kind (tombstones included) with every field, and the conflicts as
 * a sorted set. Local numbering (conflict ids) is left out. */
static char *
dump_vault (Dev *dev)
{
  GString *out = g_string_new (NULL);
  const SpKindInfo *const *kinds = sp_kinds ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) conflicts = NULL;
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

  for (guint k = 0; kinds[k] != NULL; k++)
    {
      SpFilter filter = { .include_deleted = TRUE };
      g_autoptr (GPtrArray) records = sp_vault_list (dev->vault, kinds[k]->name, &filter, &error);

      g_assert_no_error (error);
      g_ptr_array_sort (records, cmp_record_id);
      for (guint i = 0; i < records->len; i++)
        {
          SpRecord *r = records->pdata[i];

          g_string_append_printf (
              out, "%s %s deleted=%d conflicts=%d updated=%" G_GUINT64_FORMAT " created=%s\n",
              sp_record_get_id (r), sp_record_get_kind (r), sp_record_is_deleted (r),
              sp_record_has_conflicts (r), sp_record_get_updated (r), sp_record_get_created (r));
          for (guint f = 0; f < kinds[k]->n_fields; f++)
            {
              const char *v = sp_record_get (r, kinds[k]->fields[f].name);
              if (v != NULL)
                g_string_append_printf (out, "  %s=%s\n", kinds[k]->fields[f].name, v);
            }
        }
    }
  conflicts = sp_vault_conflicts (dev->vault, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < conflicts->len; i++)
    {
      SpConflict *c = conflicts->pdata[i];
      g_ptr_array_add (
          lines, g_strdup_printf (
                     "conflict %s %s %s|%s|%" G_GUINT64_FORMAT "|%s vs %s|%" G_GUINT64_FORMAT "|%s",
                     c->record, c->kind, c->field, c->winner_value ? c->winner_value : "<null>",
                     c->winner_hlc, c->winner_device, c->other_value ? c->other_value : "<null>",
                     c->other_hlc, c->other_device));
    }
  g_ptr_array_sort (lines, cmp_str);
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (out, "%s\n", (const char *)lines->pdata[i]);
  return g_string_free (out, FALSE);
}

/* ---- Sync helpers ------------------------------------------------------------------- */

static void
report_log (Dev *dev, const SyncReport *r)
{
  g_test_message ("sync %s: pushed %u/%u pulled %u applied %u/%u refused %u%s", dev->name,
                  r->pushed_batches, r->pushed_changes, r->pulled_batches, r->applied_batches,
                  r->applied_changes, r->refused_batches,
                  r->waiting_for_approval ? " (waiting for approval)" : "");
  for (guint i = 0; r->problems != NULL && i < r->problems->len; i++)
    g_test_message ("  problem: %s", (const char *)r->problems->pdata[i]);
}

/* One sync that must succeed; @out (optional) gets the report. */
static void
sync_ok (Dev *dev, const SyncOptions *opts, SyncReport *out)
{
  SyncReport report = { 0 };
  g_autoptr (GError) error = NULL;
  gboolean ok = sync_run (dev->vault, opts, &report, &error);

  if (!ok)
    g_test_message ("sync %s failed: %s", dev->name, error ? error->message : "(no error)");
  g_assert_no_error (error);
  g_assert_true (ok);
  report_log (dev, &report);
  if (out != NULL)
    *out = report;
  else
    sync_report_clear (&report);
}

/* A sync that must fail; returns the error. */
static GError *
sync_fails (Dev *dev, const SyncOptions *opts)
{
  SyncReport report = { 0 };
  GError *error = NULL;
  gboolean ok = sync_run (dev->vault, opts, &report, &error);

  report_log (dev, &report);
  sync_report_clear (&report);
  g_assert_false (ok);
  g_assert_nonnull (error);
  g_test_message ("sync %s failed as expected: %s", dev->name, error->message);
  return error;
}

static void
status_of (Dev *dev, SyncStatus *status)
{
  g_autoptr (GError) error = NULL;

  memset (status, 0, sizeof *status);
  g_assert_true (sync_get_status (dev->vault, status, &error));
  g_assert_no_error (error);
}

static void
create_workspace (Dev *admin, const char *url, const SyncOptions *opts)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sync_workspace_create (admin->vault, url, opts, &error));
  g_assert_no_error (error);
}

static char *
invite (Dev *admin, const SyncOptions *opts)
{
  g_autoptr (GError) error = NULL;
  char *code = sync_workspace_invite (admin->vault, 24, opts, &error);

  g_assert_no_error (error);
  g_assert_nonnull (code);
  g_assert_true (g_str_has_prefix (code, "supolka1:"));
  return code;
}

/* The whole enrolment of @joiner by @admin; the joiner ends approved and synced. */
static void
enrol (Dev *admin, Dev *joiner, const SyncOptions *opts)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *code = invite (admin, opts);
  g_autofree char *safety = NULL;
  g_autofree char *approved = NULL;
  SyncStatus status;

  safety = sync_workspace_join (joiner->vault, code, opts, &error);
  g_assert_no_error (error);
  g_assert_nonnull (safety);
  approved = sync_workspace_approve (admin->vault, safety, opts, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (approved, ==, dev_id (joiner));
  sync_ok (joiner, opts, NULL);
  status_of (joiner, &status);
  g_assert_true (status.approved);
  sync_status_clear (&status);
}

static void
sync_error_is (const GError *error, int code1, int code2)
{
  g_assert_nonnull (error);
  if (error->domain != SYNC_ERROR || (error->code != code1 && error->code != code2))
    g_error ("expected SYNC_ERROR %d or %d, got %s %d: %s", code1, code2,
             g_quark_to_string (error->domain), error->code, error->message);
}

/* ---- Opening stored batches with a device's epoch keys ---------------------------------
 * The client keeps epoch keys in the vault's sync state as "epoch/<10-digit
 * epoch>" -> 32 bytes (sync/client). */

static GPtrArray *
epoch_keys (Dev *dev)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) keys = sp_vault_sync_keys (dev->vault, "epoch/", &error);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)sp_secret_free);

  g_assert_no_error (error);
  for (guint i = 0; i < keys->len; i++)
    {
      SpSecret *s = sp_vault_sync_get_secret (dev->vault, keys->pdata[i], &error);
      g_assert_no_error (error);
      g_assert_nonnull (s);
      g_test_message ("%s holds %s", dev->name, (const char *)keys->pdata[i]);
      if (sp_secret_len (s) == SYNC_KEY_BYTES)
        g_ptr_array_add (out, s);
      else
        sp_secret_free (s);
    }
  return out;
}

/* Opens @env with any of @keys; NULL when none opens it. */
static SyncBatch *
open_with_any (GBytes *env, GPtrArray *keys, const guint8 sign_pk[32])
{
  for (guint i = 0; i < keys->len; i++)
    {
      g_autoptr (GError) error = NULL;
      SyncBatch *b = sync_batch_open (env, sp_secret_data (keys->pdata[i]), sign_pk, &error);
      if (b != NULL)
        return b;
    }
  return NULL;
}

static gboolean
batch_has_record (SyncBatch *b, const char *id)
{
  for (guint i = 0; i < b->changes->len; i++)
    if (g_strcmp0 (((SpChange *)b->changes->pdata[i])->record, id) == 0)
      return TRUE;
  return FALSE;
}

/* The stored batch of @device (in @batches) that carries @record; NULL if none. */
static StoredBatch *
find_batch_with (GPtrArray *batches, GPtrArray *keys, const guint8 sign_pk[32], const char *record)
{
  for (guint i = 0; i < batches->len; i++)
    {
      StoredBatch *sb = batches->pdata[i];
      g_autoptr (SyncBatch) b = open_with_any (sb->data, keys, sign_pk);
      if (b != NULL && batch_has_record (b, record))
        return sb;
    }
  return NULL;
}

/* ---- A recording TCP forwarder --------------------------------------------------------
 * Listens on 127.0.0.1:PORT and passes every connection on to 127.0.0.1:target,
 * keeping a copy of every byte each way. */

typedef struct
{
  int listen_fd;
  guint port;
  guint target;
  GThread *acceptor;
  GPtrArray *pumps; /* GThread* */
  GMutex lock;
  GByteArray *up;   /* client → server */
  GByteArray *down; /* server → client */
  guint connections;
  gint stop;
} Forwarder;

typedef struct
{
  Forwarder *fw;
  int client, server;
} Pump;

static gboolean
write_all (int fd, const guint8 *data, gsize len)
{
  while (len > 0)
    {
      ssize_t w = send (fd, data, len, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return FALSE;
      data += w;
      len -= (gsize)w;
    }
  return TRUE;
}

static gpointer
pump_thread (gpointer data)
{
  Pump *p = data;
  gboolean open[2] = { TRUE, TRUE }; /* reading from client, from server */
  guint8 buf[64 * KIB];

  while ((open[0] || open[1]) && !g_atomic_int_get (&p->fw->stop))
    {
      struct pollfd pfd[2]
          = { { open[0] ? p->client : -1, POLLIN, 0 }, { open[1] ? p->server : -1, POLLIN, 0 } };

      if (poll (pfd, 2, 100) <= 0)
        continue;
      for (int side = 0; side < 2; side++)
        {
          int from = side == 0 ? p->client : p->server;
          int to = side == 0 ? p->server : p->client;
          ssize_t n;

          if (!open[side] || !(pfd[side].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
          n = recv (from, buf, sizeof buf, 0);
          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            {
              open[side] = FALSE;
              shutdown (to, SHUT_WR);
              continue;
            }
          g_mutex_lock (&p->fw->lock);
          g_byte_array_append (side == 0 ? p->fw->up : p->fw->down, buf, (guint)n);
          g_mutex_unlock (&p->fw->lock);
          if (!write_all (to, buf, (gsize)n))
            open[0] = open[1] = FALSE;
        }
    }
  close (p->client);
  close (p->server);
  g_free (p);
  return NULL;
}

static int
connect_loopback (guint port)
{
  struct sockaddr_in addr = { 0 };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  addr.sin_port = htons ((guint16)port);
  if (connect (fd, (struct sockaddr *)&addr, sizeof addr) != 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

static gpointer
acceptor_thread (gpointer data)
{
  Forwarder *fw = data;

  while (!g_atomic_int_get (&fw->stop))
    {
      struct pollfd pfd = { fw->listen_fd, POLLIN, 0 };
      Pump *p;
      int client, server;

      if (poll (&pfd, 1, 100) <= 0)
        continue;
      client = accept4 (fw->listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (client < 0)
        continue;
      server = connect_loopback (fw->target);
      if (server < 0)
        {
          close (client);
          continue;
        }
      p = g_new0 (Pump, 1);
      p->fw = fw;
      p->client = client;
      p->server = server;
      g_mutex_lock (&fw->lock);
      fw->connections++;
      g_ptr_array_add (fw->pumps, g_thread_new ("pump", pump_thread, p));
      g_mutex_unlock (&fw->lock);
    }
  return NULL;
}

static Forwarder *
forwarder_start (guint target)
{
  Forwarder *fw = g_new0 (Forwarder, 1);
  struct sockaddr_in addr = { 0 };
  socklen_t len = sizeof addr;

  fw->target = target;
  fw->up = g_byte_array_new ();
  fw->down = g_byte_array_new ();
  fw->pumps = g_ptr_array_new ();
  g_mutex_init (&fw->lock);
  fw->listen_fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  g_assert_cmpint (bind (fw->listen_fd, (struct sockaddr *)&addr, sizeof addr), ==, 0);
  g_assert_cmpint (listen (fw->listen_fd, 64), ==, 0);
  g_assert_cmpint (getsockname (fw->listen_fd, (struct sockaddr *)&addr, &len), ==, 0);
  fw->port = ntohs (addr.sin_port);
  fw->acceptor = g_thread_new ("acceptor", acceptor_thread, fw);
  return fw;
}

static char *
forwarder_url (Forwarder *fw)
{
  return g_strdup_printf ("http://" HOST ":%u", fw->port);
}

static void
forwarder_stop (Forwarder *fw)
{
  g_atomic_int_set (&fw->stop, 1);
  g_thread_join (fw->acceptor);
  for (guint i = 0; i < fw->pumps->len; i++)
    g_thread_join (fw->pumps->pdata[i]);
  close (fw->listen_fd);
  g_ptr_array_unref (fw->pumps);
  g_byte_array_unref (fw->up);
  g_byte_array_unref (fw->down);
  g_mutex_clear (&fw->lock);
  g_free (fw);
}

/* ---- A fake relay -----------------------------------------------------------------------
 * libmicrohttpd on 127.0.0.1. Requests whose target matches @bad_path (all of
 * them when NULL) get the bad answer of @mode; the others are passed on to the
 * real relay at @upstream with libcurl and its answer returned as it was. */

typedef enum
{
  BAD_GARBAGE,      /* 200, not JSON */
  BAD_TYPES,        /* 200, every expected member of the wrong type */
  BAD_ARRAY,        /* 200, a JSON array */
  BAD_DEEP,         /* 200, JSON nested a million levels */
  BAD_HUGE_LENGTH,  /* 200, Content-Length of a terabyte, bytes sent until the client hangs up */
  BAD_TRUNCATED,    /* 200, Content-Length 1000, 20 bytes, then the connection closes */
  BAD_500,          /* 500 {"error": "internal"} */
  BAD_SLOW_CLOSE,   /* nothing for 2 s, then the connection closes without an answer */
  BAD_BATCH_DATA,   /* 200, a batches page of the right shape whose data is not an envelope */
  BAD_ENDLESS_MORE, /* 200, {"batches": [], "more": true} for ever */
  BAD_EMPTY,        /* 200, empty body */
  BAD_N_MODES
} BadMode;

static const char *const bad_mode_names[] = {
  "garbage", "types",      "array",      "deep",         "huge-length", "truncated",
  "500",     "slow-close", "batch-data", "endless-more", "empty",
};

typedef struct
{
  struct MHD_Daemon *daemon;
  guint port;
  char *url;
  BadMode mode;
  const char *bad_path; /* parts of "METHOD TARGET" ('|'-separated), NULL = every request */
  guint upstream;       /* real relay port, 0 = none */
  gint bad_answers;     /* how many bad answers were given */
  gint64 huge_sent;     /* bytes sent of BAD_HUGE_LENGTH bodies */
  gboolean tail_item;   /* forwarded pages of batches get a malformed last item */
} FakeRelay;

typedef struct
{
  char *target; /* path and query, exactly as requested */
  GByteArray *body;
  gboolean started;
} FakeRequest;

static void *
fake_uri_cb (void *cls, const char *uri, struct MHD_Connection *connection)
{
  FakeRequest *req = g_new0 (FakeRequest, 1);

  req->target = g_strdup (uri);
  req->body = g_byte_array_new ();
  return req;
}

static void
fake_completed_cb (void *cls, struct MHD_Connection *connection, void **req_cls,
                   enum MHD_RequestTerminationCode toe)
{
  FakeRequest *req = *req_cls;

  if (req == NULL)
    return;
  g_free (req->target);
  g_byte_array_unref (req->body);
  g_free (req);
  *req_cls = NULL;
}

static ssize_t
huge_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
  FakeRelay *fake = cls;

  /* A client without a bound would read for ever: stop at 512 MiB, the
   * test then sees how much it took. */
  if (pos >= 512 * (guint64)MIB)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  memset (buf, ' ', max);
  g_atomic_pointer_add (&fake->huge_sent, (gssize)max);
  return (ssize_t)max;
}

static ssize_t
truncated_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
  static const char part[] = "{\"entries\": [{\"vers";

  if (pos >= sizeof part - 1)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  memcpy (buf, part + pos, MIN (max, sizeof part - 1 - pos));
  return (ssize_t)MIN (max, sizeof part - 1 - pos);
}

static enum MHD_Result
queue_text (struct MHD_Connection *connection, unsigned int status, const char *text, gsize len)
{
  struct MHD_Response *response
      = MHD_create_response_from_buffer (len, (void *)text, MHD_RESPMEM_MUST_COPY);
  enum MHD_Result ret;

  MHD_add_response_header (response, "Content-Type", "application/json");
  ret = MHD_queue_response (connection, status, response);
  MHD_destroy_response (response);
  return ret;
}

static enum MHD_Result
fake_bad_answer (FakeRelay *fake, struct MHD_Connection *connection)
{
  struct MHD_Response *response;
  enum MHD_Result ret;

  g_atomic_int_inc (&fake->bad_answers);
  switch (fake->mode)
    {
      case BAD_GARBAGE:
        return queue_text (connection, 200, "this is {not \x01 json", 19);
      case BAD_TYPES:
        {
          static const char types[]
              = "{\"entries\": {\"version\": \"2\"}, \"head\": \"3\", \"batches\": \"none\", "
                "\"more\": 1, \"cursor\": \"7\", \"devices\": 5, \"status\": [], "
                "\"workspace\": 1, \"device\": null, \"expires\": \"soon\"}";
          return queue_text (connection, 200, types, strlen (types));
        }
      case BAD_ARRAY:
        return queue_text (connection, 200, "[1, 2, 3]", 9);
      case BAD_EMPTY:
        return queue_text (connection, 200, "", 0);
      case BAD_DEEP:
        {
          g_autofree char *deep = g_malloc (MIB);
          memset (deep, '[', MIB);
          return queue_text (connection, 200, deep, MIB);
        }
      case BAD_HUGE_LENGTH:
        response = MHD_create_response_from_callback ((guint64)1 << 40, 64 * KIB, huge_reader, fake,
                                                      NULL);
        break;
      case BAD_TRUNCATED:
        response = MHD_create_response_from_callback (1000, 1024, truncated_reader, fake, NULL);
        break;
      case BAD_500:
        {
          static const char err[] = "{\"error\": \"internal\", \"message\": \"boom\"}";
          return queue_text (connection, 500, err, strlen (err));
        }
      case BAD_SLOW_CLOSE:
        g_usleep (2 * G_USEC_PER_SEC);
        return MHD_NO;
      case BAD_BATCH_DATA:
        {
          g_autofree char *page = NULL;
          g_autofree char *junk = NULL;
          guint8 raw[600];

          randombytes_buf (raw, sizeof raw);
          junk = g_base64_encode (raw, sizeof raw);
          page = g_strdup_printf ("{\"batches\": [{\"cursor\": 999999, \"device\": "
                                  "\"0123456789abcdef0123456789abcdef\", \"seq\": 1, \"data\": "
                                  "\"%s\"}, {\"cursor\": 1000000, \"device\": "
                                  "\"0123456789abcdef0123456789abcdef\", \"seq\": 2, \"data\": "
                                  "\"!!not base64!!\"}], \"more\": false}",
                                  junk);
          return queue_text (connection, 200, page, strlen (page));
        }
      case BAD_ENDLESS_MORE:
        {
          static const char page[] = "{\"batches\": [], \"more\": true}";
          return queue_text (connection, 200, page, strlen (page));
        }
      case BAD_N_MODES:
      default:
        g_assert_not_reached ();
    }
  MHD_add_response_header (response, "Content-Type", "application/json");
  ret = MHD_queue_response (connection, 200, response);
  MHD_destroy_response (response);
  return ret;
}

static size_t
collect_cb (char *ptr, size_t size, size_t n, void *user)
{
  g_byte_array_append (user, (const guint8 *)ptr, (guint)(size * n));
  return size * n;
}

/* Passes the request on to the real relay; its answer goes back unchanged. */
static enum MHD_Result
fake_forward (FakeRelay *fake, struct MHD_Connection *connection, const char *method,
              FakeRequest *req)
{
  static const char *const pass_headers[] = {
    "X-Supolka-Device",    "X-Supolka-Time",         "X-Supolka-Nonce",
    "X-Supolka-Signature", "X-Supolka-Create-Token", "Content-Type",
  };
  CURL *curl = curl_easy_init ();
  struct curl_slist *headers = NULL;
  g_autofree char *url = g_strdup_printf ("http://" HOST ":%u%s", fake->upstream, req->target);
  g_autoptr (GByteArray) answer = g_byte_array_new ();
  long status = 0;
  char *ctype = NULL;
  struct MHD_Response *response;
  enum MHD_Result ret;

  for (guint i = 0; i < G_N_ELEMENTS (pass_headers); i++)
    {
      const char *v = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, pass_headers[i]);
      if (v != NULL)
        {
          g_autofree char *h = g_strdup_printf ("%s: %s", pass_headers[i], v);
          headers = curl_slist_append (headers, h);
        }
    }
  headers = curl_slist_append (headers, "Expect:");
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, collect_cb);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, answer);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, 60L);
  if (g_str_equal (method, "POST") || req->body->len > 0)
    {
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, req->body->data);
      curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long)req->body->len);
    }
  if (curl_easy_perform (curl) != CURLE_OK)
    {
      curl_slist_free_all (headers);
      curl_easy_cleanup (curl);
      return MHD_NO;
    }
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo (curl, CURLINFO_CONTENT_TYPE, &ctype);
  if (fake->tail_item && status == 200 && strstr (req->target, "/batches?"))
    {
      /* The genuine page, then an item that is not one (no cursor). */
      g_autoptr (JsonParser) parser = json_parser_new ();
      g_autoptr (JsonGenerator) gen = json_generator_new ();
      JsonObject *page, *bad = json_object_new ();
      g_autofree char *text = NULL;
      gsize len;

      g_assert_true (json_parser_load_from_data (parser, (const char *)answer->data,
                                                 (gssize)answer->len, NULL));
      page = json_node_get_object (json_parser_get_root (parser));
      json_object_set_string_member (bad, "device", "0123456789abcdef0123456789abcdef");
      json_object_set_int_member (bad, "seq", 1);
      json_object_set_string_member (bad, "data", "AAAA");
      json_array_add_object_element (json_object_get_array_member (page, "batches"), bad);
      json_generator_set_root (gen, json_parser_get_root (parser));
      text = json_generator_to_data (gen, &len);
      g_byte_array_set_size (answer, 0);
      g_byte_array_append (answer, (const guint8 *)text, (guint)len);
      g_atomic_int_inc (&fake->bad_answers);
    }
  response = MHD_create_response_from_buffer (answer->len, answer->data, MHD_RESPMEM_MUST_COPY);
  if (ctype != NULL)
    MHD_add_response_header (response, "Content-Type", ctype);
  ret = MHD_queue_response (connection, (unsigned int)status, response);
  MHD_destroy_response (response);
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);
  return ret;
}

/* TRUE when every '|'-separated part of @pattern occurs in @line. */
static gboolean
request_matches (const char *line, const char *pattern)
{
  g_auto (GStrv) parts = g_strsplit (pattern, "|", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    if (strstr (line, parts[i]) == NULL)
      return FALSE;
  return TRUE;
}

static enum MHD_Result
fake_handler (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
              const char *version, const char *upload_data, size_t *upload_data_size,
              void **req_cls)
{
  FakeRelay *fake = cls;
  FakeRequest *req = *req_cls;
  g_autofree char *line = NULL;

  if (!req->started)
    {
      req->started = TRUE;
      return MHD_YES;
    }
  if (*upload_data_size > 0)
    {
      if (req->body->len + *upload_data_size > 16 * MIB)
        return MHD_NO;
      g_byte_array_append (req->body, (const guint8 *)upload_data, (guint)*upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }
  line = g_strdup_printf ("%s %s", method, req->target);
  if (fake->upstream == 0 || fake->bad_path == NULL || request_matches (line, fake->bad_path))
    return fake_bad_answer (fake, connection);
  return fake_forward (fake, connection, method, req);
}

static FakeRelay *
fake_relay_start (BadMode mode, const char *bad_path, guint upstream)
{
  FakeRelay *fake = g_new0 (FakeRelay, 1);
  struct sockaddr_in addr = { 0 };
  const union MHD_DaemonInfo *info;

  fake->mode = mode;
  fake->bad_path = bad_path;
  fake->upstream = upstream;
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  fake->daemon = MHD_start_daemon (
      MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, fake_handler,
      fake, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_URI_LOG_CALLBACK,
      fake_uri_cb, fake, MHD_OPTION_NOTIFY_COMPLETED, fake_completed_cb, fake,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60, MHD_OPTION_END);
  g_assert_nonnull (fake->daemon);
  info = MHD_get_daemon_info (fake->daemon, MHD_DAEMON_INFO_BIND_PORT);
  g_assert_nonnull (info);
  fake->port = info->port;
  fake->url = g_strdup_printf ("http://" HOST ":%u", fake->port);
  return fake;
}

static void
fake_relay_stop (FakeRelay *fake)
{
  MHD_stop_daemon (fake->daemon);
  g_free (fake->url);
  g_free (fake);
}

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
  Relay *relay = relay_start (data);
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

  create_workspace (a, relay->url, NULL);
  status_of (a, &st);
  g_assert_true (sp_id_is_valid (st.workspace));
  g_assert_cmpstr (st.relay, ==, relay->url);
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
  g_assert_cmpstr (inv_relay, ==, relay->url);
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
  g_assert_cmpstr (st.relay, ==, relay->url);
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
  create_workspace (dev[0], relay->url, NULL);
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
  Relay *relay = relay_start (data);

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
  Relay *relay = relay_start (data);
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

/* ---- 4. A hostile relay ---------------------------------------------------------------------
 * A writes r0 (B receives it), then r1, r2, r3, one sync each. With the relay
 * stopped, the batch that carries r2 is tampered with; B syncs. */

typedef enum
{
  TAMPER_CIPHERTEXT, /* a bit of the ciphertext flipped */
  TAMPER_HEADER,     /* a bit of the signed header (log_head) flipped */
  TAMPER_SIGNATURE,  /* a bit of the signature flipped */
  TAMPER_TRUNCATE,   /* the last 7 bytes cut off */
  TAMPER_GAP,        /* the batch deleted */
  TAMPER_SWAP,       /* it and the next batch trade places (seq labels follow their data) */
  TAMPER_MISLABEL,   /* its contents swapped with the next batch's, the relay's seq labels kept */
  TAMPER_REPLAY,     /* after B has everything: an old batch moved to a new cursor */
  TAMPER_REPLAY_NEW_SEQ, /* after B has everything: an old batch again, labelled as the next seq */
} Tamper;

static void
set_batch_data (sqlite3 *db, gint64 cursor, const guint8 *data, gsize len)
{
  sqlite3_stmt *st = NULL;

  g_assert_cmpint (
      sqlite3_prepare_v2 (db, "UPDATE batches SET data = ?2 WHERE cursor = ?1", -1, &st, NULL), ==,
      SQLITE_OK);
  sqlite3_bind_int64 (st, 1, cursor);
  sqlite3_bind_blob64 (st, 2, data, len, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
  g_assert_cmpint (sqlite3_changes (db), ==, 1);
  sqlite3_finalize (st);
}

static void
tamper (sqlite3 *db, Tamper how, StoredBatch *target, StoredBatch *next, StoredBatch *old)
{
  gsize len;
  g_autofree guint8 *buf = g_bytes_unref_to_data (g_bytes_ref (target->data), &len);

  switch (how)
    {
      case TAMPER_CIPHERTEXT:
        g_assert_cmpuint (len, >, 300);
        buf[176 + 100] ^= 0x01;
        set_batch_data (db, target->cursor, buf, len);
        break;
      case TAMPER_HEADER:
        buf[90] ^= 0x20;
        set_batch_data (db, target->cursor, buf, len);
        break;
      case TAMPER_SIGNATURE:
        buf[len - 1] ^= 0x80;
        set_batch_data (db, target->cursor, buf, len);
        break;
      case TAMPER_TRUNCATE:
        set_batch_data (db, target->cursor, buf, len - 7);
        break;
      case TAMPER_GAP:
        {
          g_autofree char *sql = g_strdup_printf (
              "DELETE FROM batches WHERE cursor = %" G_GINT64_FORMAT, target->cursor);
          db_exec (db, sql);
          g_assert_cmpint (sqlite3_changes (db), ==, 1);
        }
        break;
      case TAMPER_SWAP:
        {
          g_autofree char *sql = g_strdup_printf (
              "UPDATE batches SET seq = -seq WHERE cursor IN (%" G_GINT64_FORMAT
              ", %" G_GINT64_FORMAT ");"
              "UPDATE batches SET seq = %" G_GINT64_FORMAT " WHERE cursor = %" G_GINT64_FORMAT ";"
              "UPDATE batches SET seq = %" G_GINT64_FORMAT " WHERE cursor = %" G_GINT64_FORMAT ";",
              target->cursor, next->cursor, next->seq, target->cursor, target->seq, next->cursor);
          gsize next_len;
          const guint8 *next_data = g_bytes_get_data (next->data, &next_len);

          db_exec (db, sql);
          set_batch_data (db, target->cursor, next_data, next_len);
          set_batch_data (db, next->cursor, buf, len);
        }
        break;
      case TAMPER_REPLAY:
        {
          g_autofree char *sql = g_strdup_printf (
              "UPDATE batches SET cursor = (SELECT max(cursor) + 1 FROM batches) "
              "WHERE cursor = %" G_GINT64_FORMAT,
              old->cursor);
          db_exec (db, sql);
          g_assert_cmpint (sqlite3_changes (db), ==, 1);
        }
        break;
      case TAMPER_MISLABEL:
        {
          gsize next_len;
          const guint8 *next_data = g_bytes_get_data (next->data, &next_len);
          set_batch_data (db, target->cursor, next_data, next_len);
          set_batch_data (db, next->cursor, buf, len);
        }
        break;
      case TAMPER_REPLAY_NEW_SEQ:
        {
          sqlite3_stmt *st = NULL;
          gsize old_len;
          const guint8 *old_data = g_bytes_get_data (old->data, &old_len);
          guint8 hash[32];

          crypto_generichash (hash, sizeof hash, old_data, old_len, NULL, 0);
          g_assert_cmpint (
              sqlite3_prepare_v2 (db,
                                  "INSERT INTO batches (workspace, device, epoch, seq, hash, data) "
                                  "SELECT workspace, device, epoch, "
                                  "(SELECT max(seq) + 1 FROM batches WHERE device = ?1), ?2, ?3 "
                                  "FROM batches WHERE cursor = ?4",
                                  -1, &st, NULL),
              ==, SQLITE_OK);
          sqlite3_bind_text (st, 1, old->device, -1, SQLITE_TRANSIENT);
          sqlite3_bind_blob (st, 2, hash, sizeof hash, SQLITE_TRANSIENT);
          sqlite3_bind_blob64 (st, 3, old_data, old_len, SQLITE_TRANSIENT);
          sqlite3_bind_int64 (st, 4, old->cursor);
          g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
          g_assert_cmpint (sqlite3_changes (db), ==, 1);
          sqlite3_finalize (st);
        }
        break;
      default:
        g_assert_not_reached ();
    }
}

static void
test_hostile_relay (gconstpointer data)
{
  Tamper how = GPOINTER_TO_INT (data);
  g_autofree char *dir = new_tmp ("relay");
  Relay *relay = relay_start (dir);
  guint port = relay->port;
  Dev *a = dev_new ("A"), *b = dev_new ("B");
  g_autofree char *r0 = NULL, *r1 = NULL, *r2 = NULL, *r3 = NULL, *r4 = NULL;
  g_autofree char *before = NULL, *after = NULL, *name0 = NULL;
  g_autoptr (GPtrArray) keys = NULL;
  g_autoptr (GPtrArray) batches = NULL;
  StoredBatch *target, *next = NULL, *old;
  SyncReport report = { 0 };
  guint8 a_pk[32];
  sqlite3 *db;

  create_workspace (a, relay->url, NULL);
  enrol (a, b, NULL);
  r0 = insert_org (a, "Hostile r0", "stored before the attack");
  sync_ok (a, NULL, NULL);
  sync_ok (b, NULL, NULL);
  g_assert_true (has_record (b, r0));
  r1 = insert_org (a, "Hostile r1", "one");
  sync_ok (a, NULL, NULL);
  r2 = insert_org (a, "Hostile r2", "two");
  sync_ok (a, NULL, NULL);
  r3 = insert_org (a, "Hostile r3", "three");
  sync_ok (a, NULL, NULL);
  if (how == TAMPER_REPLAY || how == TAMPER_REPLAY_NEW_SEQ)
    sync_ok (b, NULL, NULL);
  before = dump_vault (b);

  relay_stop (relay);
  db = relay_db_open (dir);
  keys = epoch_keys (a);
  relay_db_sign_pk (db, dev_id (a), a_pk);
  batches = relay_db_batches (db, dev_id (a));
  target = find_batch_with (batches, keys, a_pk, r2);
  g_assert_nonnull (target);
  old = find_batch_with (batches, keys, a_pk, r1);
  g_assert_nonnull (old);
  for (guint i = 0; i + 1 < batches->len; i++)
    if (batches->pdata[i] == target)
      next = batches->pdata[i + 1];
  if (how == TAMPER_SWAP || how == TAMPER_MISLABEL)
    g_assert_nonnull (next);
  g_test_message ("tampering with A's batch seq %" G_GINT64_FORMAT " (cursor %" G_GINT64_FORMAT ")",
                  target->seq, target->cursor);
  tamper (db, how, target, next, old);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
  relay = relay_start_at (dir, port);

  sync_ok (b, NULL, &report);
  g_assert_cmpuint (report.refused_batches, >, 0);
  g_assert_nonnull (report.problems);
  g_assert_cmpuint (report.problems->len, >, 0);
  sync_report_clear (&report);

  /* What B had is intact. */
  name0 = field_of (b, r0, "name");
  g_assert_cmpstr (name0, ==, "Hostile r0");
  if (how == TAMPER_REPLAY || how == TAMPER_REPLAY_NEW_SEQ)
    {
      after = dump_vault (b);
      g_assert_cmpstr (after, ==, before);
    }
  else
    {
      /* Before the bad batch: applied. The bad one and everything after it in
       * A's chain: not. (A swap hands r2's genuine batch over after the
       * refused one; whether it is then taken is the client's choice.) */
      g_assert_true (has_record (b, r1));
      if (how != TAMPER_SWAP && how != TAMPER_MISLABEL)
        g_assert_false (has_record (b, r2));
      g_assert_false (has_record (b, r3));
      g_assert_cmpint (count_kind (b, "org"), <=,
                       how == TAMPER_SWAP || how == TAMPER_MISLABEL ? 3 : 2);

      /* A goes on writing; its chain at B stays broken, nothing after the
       * bad batch slips in. */
      r4 = insert_org (a, "Hostile r4", "four");
      sync_ok (a, NULL, NULL);
      sync_ok (b, NULL, &report);
      g_assert_false (has_record (b, r3));
      g_assert_false (has_record (b, r4));
      sync_report_clear (&report);
    }
  dev_free (a);
  dev_free (b);
  relay_stop (relay);
}

/* ---- 5. Malformed relay answers ------------------------------------------------------------- */

static void
malformed_case (Dev *a, Relay *relay, BadMode mode, const char *bad_path)
{
  FakeRelay *fake = fake_relay_start (mode, bad_path, relay->port);
  SyncOptions opts = { .relay = fake->url };
  SyncReport report = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL, *after = NULL, *id = NULL;
  gint64 n_before;
  gboolean ok;

  g_test_message ("fake relay: %s for %s", bad_mode_names[mode],
                  bad_path ? bad_path : "everything");
  /* Something to push, so the run has work to do. */
  id = insert_org (a, "Malformed case", bad_mode_names[mode]);
  n_before = count_kind (a, "org");
  before = dump_vault (a);

  ok = sync_run (a->vault, &opts, &report, &error);
  report_log (a, &report);
  if (error != NULL)
    g_test_message ("sync_run: %s %d: %s", g_quark_to_string (error->domain), error->code,
                    error->message);
  g_assert_cmpint (g_atomic_int_get (&fake->bad_answers), >, 0);
  if (mode == BAD_ENDLESS_MORE || mode == BAD_BATCH_DATA)
    {
      /* Nothing to apply in either: the run may end cleanly (refusing what it
       * got) or fail as malformed. What matters: it ends. */
      if (!ok)
        sync_error_is (error, SYNC_ERROR_MALFORMED, SYNC_ERROR_NETWORK);
      else
        g_assert_no_error (error);
    }
  else
    {
      g_assert_false (ok);
      if (mode == BAD_500)
        {
          if (error->code != SYNC_ERROR_REFUSED)
            sync_error_is (error, SYNC_ERROR_NETWORK, SYNC_ERROR_MALFORMED);
        }
      else
        sync_error_is (error, SYNC_ERROR_NETWORK, SYNC_ERROR_MALFORMED);
    }
  sync_report_clear (&report);
  if (mode == BAD_HUGE_LENGTH)
    {
      g_test_message ("the client read %" G_GINT64_FORMAT " bytes of the endless body",
                      (gint64)g_atomic_pointer_get (&fake->huge_sent));
      /* Within a bound: no relay answer needs more than a few MiB. */
      g_assert_cmpint ((gint64)g_atomic_pointer_get (&fake->huge_sent), <, 64 * MIB);
    }
  fake_relay_stop (fake);

  g_assert_cmpint (count_kind (a, "org"), ==, n_before);
  after = dump_vault (a);
  g_assert_cmpstr (after, ==, before);

  /* And the vault still syncs with the real relay afterwards. */
  sync_ok (a, NULL, NULL);
}

/* One kind of bad answer, for every request and for one kind of request.
 * Each runs in a child process: a client that aborts (a failed assertion or a
 * critical warning inside it) fails this case only, not the tests after it. */
static void
test_malformed_answers (gconstpointer data)
{
  BadMode mode = GPOINTER_TO_INT (data);
  g_autofree char *dir = NULL;
  Relay *relay;
  Dev *a, *b;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 600 * G_USEC_PER_SEC,
                              G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
      /* Not an assertion: a failure here must not stop the cases after it. */
      if (!g_test_trap_has_passed ())
        g_test_fail_printf ("the sync client failed or crashed on a '%s' answer (its error is "
                            "on stderr above)",
                            bad_mode_names[mode]);
      return;
    }
  dir = new_tmp ("relay");
  relay = relay_start (dir);
  a = dev_new ("A");
  b = dev_new ("B");
  create_workspace (a, relay->url, NULL);
  enrol (a, b, NULL);
  g_free (insert_org (b, "Something to pull", "from B"));
  sync_ok (b, NULL, NULL);

  /* Every request answered badly (the first is the log refresh) … */
  if (mode != BAD_BATCH_DATA && mode != BAD_ENDLESS_MORE)
    malformed_case (a, relay, mode, NULL);
  /* … or only the log refresh … */
  if (mode != BAD_BATCH_DATA && mode != BAD_ENDLESS_MORE)
    malformed_case (a, relay, mode, "GET /|/log");
  /* … or only the pull of batches, after a real log refresh and push. */
  malformed_case (a, relay, mode, "GET /|/batches");
  dev_free (a);
  dev_free (b);
  relay_stop (relay);
}

/* A page whose last item is malformed: the batches before it are applied
 * (one vault transaction per page must not take them back), the run fails as
 * malformed, and a later sync through the real relay neither loses nor
 * repeats anything. */
static void
test_malformed_tail (void)
{
  g_autofree char *dir = new_tmp ("relay");
  Relay *relay = relay_start (dir);
  Dev *a = dev_new ("A"), *b = dev_new ("B");
  g_autofree char *r1 = NULL, *r2 = NULL, *r3 = NULL;
  g_autoptr (GError) error = NULL;
  SyncReport report = { 0 };
  SyncOptions opts = { 0 };
  FakeRelay *fake;

  create_workspace (a, relay->url, NULL);
  enrol (a, b, NULL);
  r1 = insert_org (a, "Tail r1", "one");
  sync_ok (a, NULL, NULL);
  r2 = insert_org (a, "Tail r2", "two");
  sync_ok (a, NULL, NULL);
  r3 = insert_org (a, "Tail r3", "three");
  sync_ok (a, NULL, NULL);

  fake = fake_relay_start (BAD_GARBAGE, "NO-SUCH-REQUEST", relay->port);
  fake->tail_item = TRUE;
  opts.relay = fake->url;
  g_assert_false (sync_run (b->vault, &opts, &report, &error));
  sync_error_is (error, SYNC_ERROR_MALFORMED, SYNC_ERROR_MALFORMED);
  g_assert_cmpint (g_atomic_int_get (&fake->bad_answers), >, 0);
  sync_report_clear (&report);
  fake_relay_stop (fake);
  g_assert_true (has_record (b, r1));
  g_assert_true (has_record (b, r2));
  g_assert_true (has_record (b, r3));

  sync_ok (b, NULL, &report);
  g_assert_cmpuint (report.refused_batches, ==, 0);
  g_assert_cmpuint (report.applied_batches, ==, 0); /* nothing twice */
  sync_report_clear (&report);
  g_assert_cmpint (count_kind (b, "org"), ==, count_kind (a, "org"));
  dev_free (a);
  dev_free (b);
  relay_stop (relay);
}

/* ---- The CLI ---------------------------------------------------------------------------------
 * Every child runs with SUPOLKA_VAULT unset and HOME / XDG_* in a temporary
 * folder, the passphrase on a pipe (--passphrase-fd 0). */

static const char *
cli_path (void)
{
  const char *path = g_getenv ("SUPOLKA_CLI");

  if (path == NULL || !g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
    g_error ("SUPOLKA_CLI is not set to the built supolka-cli: run this test with 'meson test'");
  return path;
}

/* A pipe that already holds @text, write end closed. */
static int
prefilled_pipe (const char *text)
{
  g_autoptr (GError) error = NULL;
  gsize len = strlen (text), done = 0;
  int fds[2];

  g_assert_cmpuint (len, <, 60000);
  g_unix_open_pipe (fds, FD_CLOEXEC, &error);
  g_assert_no_error (error);
  while (done < len)
    {
      ssize_t w = write (fds[1], text + done, len - done);
      if (w < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (w, >, 0);
      done += (gsize)w;
    }
  close (fds[1]);
  return fds[0];
}

/* Starts supolka-cli [--vault DIR --passphrase-fd 0] ARGS… with @input on stdin. */
static GSubprocess *
cli_spawnv (const char *vault_dir, const char *input, const char *const *args)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) cmdline = g_string_new ("supolka-cli");
  g_autofree char *home = g_build_filename (tmp_root, "home", NULL);
  static const char *const xdg[][2] = { { "XDG_DATA_HOME", "data" },
                                        { "XDG_CONFIG_HOME", "config" },
                                        { "XDG_CACHE_HOME", "cache" },
                                        { "XDG_STATE_HOME", "state" } };
  g_autoptr (GError) error = NULL;
  GSubprocess *proc = NULL;

  launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_unsetenv (launcher, "SUPOLKA_VAULT");
  g_subprocess_launcher_unsetenv (launcher, "LANGUAGE");
  g_subprocess_launcher_setenv (launcher, "HOME", home, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (xdg); i++)
    {
      g_autofree char *p = g_build_filename (home, xdg[i][1], NULL);
      g_subprocess_launcher_setenv (launcher, xdg[i][0], p, TRUE);
    }
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  g_subprocess_launcher_take_stdin_fd (launcher, prefilled_pipe (input ? input : ""));

  g_ptr_array_add (argv, g_strdup (cli_path ()));
  if (vault_dir != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--vault"));
      g_ptr_array_add (argv, g_strdup (vault_dir));
      g_ptr_array_add (argv, g_strdup ("--passphrase-fd"));
      g_ptr_array_add (argv, g_strdup ("0"));
    }
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  for (guint i = 1; i < argv->len; i++)
    g_string_append_printf (cmdline, " '%s'", (const char *)argv->pdata[i]);
  g_ptr_array_add (argv, NULL);
  g_test_message ("$ %s", cmdline->str);
  /* Other engineers may relink the binary while this runs: retry a failed spawn. */
  for (int attempt = 0; attempt < 5 && proc == NULL; attempt++)
    {
      g_clear_error (&error);
      proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, &error);
      if (proc == NULL)
        g_usleep (300 * 1000);
    }
  g_assert_no_error (error);
  return proc;
}

/* Collects the output of a finished (or killed) child; returns its exit
 * status, or -signal. */
static char *
bytes_text (GBytes *bytes)
{
  gsize len = 0;
  const char *data = bytes ? g_bytes_get_data (bytes, &len) : NULL;

  return g_strndup (data ? data : "", len);
}

static int
cli_finish (GSubprocess *proc, char **out, char **err)
{
  g_autoptr (GBytes) out_bytes = NULL, err_bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out_text = NULL, *err_text = NULL;
  int status;

  g_subprocess_communicate (proc, NULL, NULL, &out_bytes, &err_bytes, &error);
  g_assert_no_error (error);
  if (g_subprocess_get_if_exited (proc))
    status = g_subprocess_get_exit_status (proc);
  else
    status = -g_subprocess_get_term_sig (proc);
  out_text = bytes_text (out_bytes);
  err_text = bytes_text (err_bytes);
  g_test_message ("  => %d; stdout: %.300s; stderr: %.300s", status, out_text, err_text);
  if (out)
    *out = g_steal_pointer (&out_text);
  if (err)
    *err = g_steal_pointer (&err_text);
  return status;
}

static int cli_run (const char *vault_dir, char **out, char **err, ...) G_GNUC_NULL_TERMINATED;

/* Runs a command on a vault (passphrase PASS) to its end. */
static int
cli_run (const char *vault_dir, char **out, char **err, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GSubprocess) proc = NULL;
  va_list ap;
  const char *a;

  va_start (ap, err);
  while ((a = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, (gpointer)a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  proc = cli_spawnv (vault_dir, PASS "\n", (const char *const *)args->pdata);
  return cli_finish (proc, out, err);
}

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
  status = cli_finish (proc, NULL, NULL);
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
  Relay *relay = relay_start (dir);
  guint port = relay->port;
  Dev *a = dev_new ("A"), *b = dev_new ("B");
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *a_id = NULL;
  gint64 before, after;
  guint applied;
  SyncStatus st;
  int status;

  create_workspace (a, relay->url, NULL);
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

/* ---- 7. Revocation --------------------------------------------------------------------------- */

static void
test_revocation (void)
{
  g_autofree char *dir = new_tmp ("relay");
  Relay *relay = relay_start (dir);
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

  create_workspace (a, relay->url, NULL);
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
  Relay *relay = relay_start (dir);
  Dev *a = dev_new ("A"), *b = dev_new ("B");
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) pass = sp_test_passphrase (PASS);
  g_autofree char *r1 = NULL, *r2 = NULL, *old_id = NULL;
  GPtrArray *list;
  gint64 t0;

  create_workspace (a, relay->url, NULL);
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
  relay = relay_start (dir);
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
  create_workspace (a, relay->url, &via);
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
  Relay *relay = relay_start (dir);
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

  g_assert_cmpint (cli_run (va, NULL, NULL, "workspace", "create", "--relay", relay->url, NULL), ==,
                   EXIT_OK);
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
  g_autoptr (GError) error = NULL;
  static const struct
  {
    const char *name;
    Tamper how;
  } tampers[] = {
    { "ciphertext", TAMPER_CIPHERTEXT },
    { "header", TAMPER_HEADER },
    { "signature", TAMPER_SIGNATURE },
    { "truncate", TAMPER_TRUNCATE },
    { "gap", TAMPER_GAP },
    { "reorder", TAMPER_SWAP },
    { "mislabel", TAMPER_MISLABEL },
    { "replay", TAMPER_REPLAY },
    { "replay-new-seq", TAMPER_REPLAY_NEW_SEQ },
  };
  int ret;

  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);
  g_assert_true (sp_core_init (&error));
  g_assert_no_error (error);
  curl_global_init (CURL_GLOBAL_DEFAULT);
  signal (SIGPIPE, SIG_IGN);
  tmp_root = g_dir_make_tmp ("supolka-sync-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/sync/enrolment", test_enrolment);
  g_test_add_func ("/sync/convergence", test_convergence);
  g_test_add_func ("/sync/no-plaintext", test_no_plaintext);
  for (guint i = 0; i < G_N_ELEMENTS (tampers); i++)
    {
      g_autofree char *path = g_strdup_printf ("/sync/hostile-relay/%s", tampers[i].name);
      g_test_add_data_func (path, GINT_TO_POINTER (tampers[i].how), test_hostile_relay);
    }
  g_test_add_func ("/sync/sigkill", test_sigkill);
  g_test_add_func ("/sync/revocation", test_revocation);
  g_test_add_func ("/sync/panic-reenrol", test_panic_reenrol);
  g_test_add_func ("/sync/socks5", test_socks5);
  g_test_add_func ("/sync/cli", test_cli);
  g_test_add_func ("/sync/malformed-tail", test_malformed_tail);

  /* After the others: a subsuite runs after the plain cases of /sync. */
  for (int mode = 0; mode < BAD_N_MODES; mode++)
    {
      g_autofree char *path = g_strdup_printf ("/sync/malformed-answers/%s", bad_mode_names[mode]);
      g_test_add_data_func (path, GINT_TO_POINTER (mode), test_malformed_answers);
    }

  ret = g_test_run ();
  sp_test_rmtree (tmp_root);
  g_free (tmp_root);
  curl_global_cleanup ();
  return ret;
}
