/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sync-test-util.c — see sync-test-util.h. */
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

char *
new_tmp (const char *name)
{
  static guint counter;
  char *dir = g_strdup_printf ("%s/%s-%u", tmp_root, name, ++counter);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  return dir;
}

/* A TCP port on 127.0.0.1 that nobody listens on (bound, then closed). */
guint
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

gboolean
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

gboolean
bytes_contain (const GByteArray *hay, const void *needle, gsize len)
{
  return len > 0 && hay->len >= len && memmem (hay->data, hay->len, needle, len) != NULL;
}

/* ---- The relay ------------------------------------------------------------------ */

/* The shared starter (relay-test-util.h) with a rate limit no test reaches;
 * @port 0 is any free port, another one is retried while a killed relay still
 * holds it. */
Relay *
relay_start_at (const char *data_dir, guint port)
{
  static const char *const args[] = { "--rate", "1000", NULL };
  const RelayOptions opts = { .data_dir = data_dir, .args = args, .port = port };

  return relay_start_with (&opts);
}

Relay *
sync_relay_start (const char *data_dir)
{
  return relay_start_at (data_dir, 0);
}

/* ---- The relay's database, opened directly ------------------------------------------
 * Plain SQLite, read through SQLCipher (no key given = no encryption). */

sqlite3 *
relay_db_open (const char *data_dir)
{
  g_autofree char *path = g_build_filename (data_dir, "relay.db", NULL);
  sqlite3 *db = NULL;

  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  return db;
}

void
db_exec (sqlite3 *db, const char *sql)
{
  char *msg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
}

static void
stored_batch_free (gpointer p)
{
  StoredBatch *b = p;

  g_free (b->device);
  g_bytes_unref (b->data);
  g_free (b);
}

/* Every batch in cursor order; @device NULL: of every device. */
GPtrArray *
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

gint64
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
void
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

Dev *
dev_new (const char *name)
{
  Dev *dev = g_new0 (Dev, 1);

  dev->name = name;
  dev->vault = sp_test_vault_new (&dev->dir);
  return dev;
}

void
dev_close (Dev *dev)
{
  g_clear_pointer (&dev->vault, sp_vault_close);
}

void
dev_open (Dev *dev)
{
  g_autoptr (SpSecret) pass = sp_test_passphrase (PASS);
  g_autoptr (GError) error = NULL;

  g_assert_null (dev->vault);
  dev->vault = sp_vault_open (dev->dir, pass, &error);
  g_assert_no_error (error);
}

void
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

const char *
dev_id (Dev *dev)
{
  return sp_vault_get_device_id (dev->vault);
}

char *
insert_org (Dev *dev, const char *name, const char *notes)
{
  return sp_test_insert (dev->vault, "org", "name", name, "notes", notes, NULL);
}

/* The value of one field, or NULL when the record or the value is absent. */
char *
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

gboolean
has_record (Dev *dev, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpRecord) rec = sp_vault_get (dev->vault, id, &error);

  if (rec == NULL)
    g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
  return rec != NULL;
}

gint64
count_kind (Dev *dev, const char *kind)
{
  g_autoptr (GError) error = NULL;
  SpFilter filter = { .include_deleted = TRUE };
  gint64 n = sp_vault_count (dev->vault, kind, &filter, &error);

  g_assert_no_error (error);
  return n;
}

int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

int
cmp_record_id (gconstpointer a, gconstpointer b)
{
  return strcmp (sp_record_get_id (*(SpRecord *const *)a),
                 sp_record_get_id (*(SpRecord *const *)b));
}

/* Everything a vault shows through the public API, as one string: every record
 * of every kind (tombstones included) with every field, and the conflicts as
 * a sorted set. Local numbering (conflict ids) is left out. */
char *
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

void
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
void
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
GError *
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

void
status_of (Dev *dev, SyncStatus *status)
{
  g_autoptr (GError) error = NULL;

  memset (status, 0, sizeof *status);
  g_assert_true (sync_get_status (dev->vault, status, &error));
  g_assert_no_error (error);
}

void
create_workspace (Dev *admin, const char *url, const SyncOptions *opts)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sync_workspace_create (admin->vault, url, opts, &error));
  g_assert_no_error (error);
}

char *
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
void
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

void
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

GPtrArray *
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
SyncBatch *
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

gboolean
batch_has_record (SyncBatch *b, const char *id)
{
  for (guint i = 0; i < b->changes->len; i++)
    if (g_strcmp0 (((SpChange *)b->changes->pdata[i])->record, id) == 0)
      return TRUE;
  return FALSE;
}

/* The stored batch of @device (in @batches) that carries @record; NULL if none. */
StoredBatch *
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

Forwarder *
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

char *
forwarder_url (Forwarder *fw)
{
  return g_strdup_printf ("http://" HOST ":%u", fw->port);
}

void
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

/* ---- The CLI ---------------------------------------------------------------------------------
 * supolka-cli through the shared runner (sec-cli-run.h): HOME / XDG_* in one
 * sealed-off folder of this run, the passphrase on a pipe (--passphrase-fd 0). */

static SecEnv *cli_env;

/* Starts supolka-cli [--vault DIR --passphrase-fd 0] ARGS… with @input on stdin. */
GSubprocess *
cli_spawnv (const char *vault_dir, const char *input, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  if (cli_env == NULL)
    cli_env = sec_env_new ();
  if (vault_dir != NULL)
    {
      g_ptr_array_add (argv, "--vault");
      g_ptr_array_add (argv, (gpointer)vault_dir);
      g_ptr_array_add (argv, "--passphrase-fd");
      g_ptr_array_add (argv, "0");
    }
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)args[i]);
  g_ptr_array_add (argv, NULL);
  return sec_spawn (cli_env, input ? input : "", NULL, (const char *const *)argv->pdata);
}

int
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
  return sec_finish (proc, out, err);
}

void
sync_test_init (int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;

  setlocale (LC_ALL, "");
  g_test_init (argc, argv, NULL);
  g_assert_true (sp_core_init (&error));
  g_assert_no_error (error);
  curl_global_init (CURL_GLOBAL_DEFAULT);
  signal (SIGPIPE, SIG_IGN);
  tmp_root = g_dir_make_tmp ("supolka-sync-XXXXXX", &error);
  g_assert_no_error (error);
}

int
sync_test_finish (int status)
{
  g_clear_pointer (&cli_env, sec_env_free);
  sp_test_rmtree (tmp_root);
  g_clear_pointer (&tmp_root, g_free);
  curl_global_cleanup ();
  return status;
}
