/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-sync.c — push then pull through a local relay vs plain HTTP.
 *
 * Two vaults (core API, temporary folders, SP_KDF_INTERACTIVE) in one
 * workspace of the real supolka-relay on 127.0.0.1 (a free port, --rate
 * 1000000 so that its per-device limit is not what is measured). Device A
 * writes N changes in N/10 local transactions of exactly 10 changes (an
 * organisation with 9 fields: existence + 9 values); with
 * SyncOptions.max_batch_changes = 10 they travel as N/10 batches. Timed:
 * sync_run on A (the push) and sync_run on B (the pull, verify and apply).
 *
 * Baseline, same run: the very envelope bytes the relay stored (read back from
 * its relay.db) uploaded one request per batch with libcurl (one reused handle,
 * keep-alive) to a minimal libmicrohttpd server in this process that keeps them
 * in memory, then downloaded in pages of as many batches as the client asks
 * for (200) as raw bytes. Ratio: (push + pull) / (upload + download), ≤ 2.
 *
 * Bytes: every stored envelope is opened with A's epoch key and signing key;
 * its batch JSON is rebuilt as sync-batch.c serialises it (checked: deflate,
 * pad and frame of the rebuilt JSON give exactly the stored envelope's size),
 * which splits each envelope into JSON, compression, padding and framing. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench-data.h"
#include "bench.h"
#include "relay-test-util.h"
#include "sync-protocol.h"
#include "supolka-sync.h"
#include "sync-batch.h"

#define PER_TX 10
#define PAGE_BATCHES 200 /* the client's page (sync-client.c PAGE_LIMIT) */
#define PASSPHRASE "zubr-1863-kastus-kalinouski"
/* Envelope framing (sync-batch.c): header 148, nonce 24, length 4; tag 16, signature 64. */
#define ENV_FRAMING (176 + 16 + 64)

typedef struct
{
  char *dir;
  SpVault *vault;
} Dev;

static void
dev_close (Dev *d)
{
  g_clear_pointer (&d->vault, sp_vault_close);
  g_clear_pointer (&d->dir, g_free);
}

static guint
n_changes (Bench *b)
{
  switch (bench_mode (b))
    {
      case BENCH_MODE_SMOKE:
        return 200;
      case BENCH_MODE_QUICK:
        return 2000;
      case BENCH_MODE_FULL:
      default:
        return 10000;
    }
}

/* ---- Setting up the workspace ---- */

static gboolean
setup (Bench *b, Relay *relay, Dev *a, Dev *bdev, const SyncOptions *opts)
{
  g_autoptr (SpSecret) pass = sp_secret_new_from_data (PASSPHRASE, strlen (PASSPHRASE));
  g_autoptr (GError) error = NULL;
  g_autofree char *code = NULL;
  g_autofree char *safety = NULL;
  g_autofree char *approved = NULL;
  SyncReport report = { 0 };
  gboolean ok;

  a->dir = bench_tmp_dir (b, "sync-a");
  bdev->dir = bench_tmp_dir (b, "sync-b");
  a->vault = sp_vault_create (a->dir, pass, SP_KDF_INTERACTIVE, &error);
  if (a->vault)
    bdev->vault = sp_vault_create (bdev->dir, pass, SP_KDF_INTERACTIVE, &error);
  if (!bench_check (b, a->vault && bdev->vault, "sync: create vaults: %s",
                    error ? error->message : "?"))
    return FALSE;
  ok = sync_workspace_create (a->vault, relay->base, opts, &error)
       && (code = sync_workspace_invite (a->vault, 24, opts, &error)) != NULL
       && (safety = sync_workspace_join (bdev->vault, code, opts, &error)) != NULL
       && (approved = sync_workspace_approve (a->vault, safety, opts, &error)) != NULL
       && sync_run (bdev->vault, opts, &report, &error);
  sync_report_clear (&report);
  if (ok)
    ok = sync_run (a->vault, opts, &report, &error);
  sync_report_clear (&report);
  /* B takes A's first batch (its compartment box key) before the timing. */
  if (ok)
    ok = sync_run (bdev->vault, opts, &report, &error);
  sync_report_clear (&report);
  return bench_check (b, ok, "sync: enrolment: %s", error ? error->message : "?");
}

/* N/PER_TX transactions on A, each an organisation with exactly PER_TX − 1
 * values: PER_TX changes (existence and one per field). */
static gboolean
write_changes (Bench *b, SpVault *vault, guint n)
{
  g_autoptr (BenchData) data = bench_data_new (1991);
  g_autoptr (GError) error = NULL;

  for (guint t = 0; t < n / PER_TX; t++)
    {
      SpFieldValue values[BENCH_DATA_MAX_VALUES];
      g_autofree char *id = NULL;
      gsize k;

      do
        k = bench_data_org (data, values);
      while (k != PER_TX - 1);
      if (!sp_vault_begin (vault, &error))
        break;
      id = sp_vault_insert (vault, "org", values, k, &error);
      if (id == NULL)
        {
          sp_vault_rollback (vault);
          break;
        }
      if (!sp_vault_commit (vault, &error))
        break;
    }
  return bench_check (b, error == NULL, "sync: writing changes: %s", error ? error->message : "?");
}

/* ---- The bytes: rebuilding the batch JSON ---- */

static void
add_change (JsonBuilder *jb, const SpChange *c)
{
  g_autofree char *hlc = g_strdup_printf ("%" G_GUINT64_FORMAT, c->hlc);

  json_builder_begin_array (jb);
  json_builder_add_string_value (jb, c->record);
  json_builder_add_string_value (jb, c->kind);
  json_builder_add_string_value (jb, c->field);
  if (c->value)
    json_builder_add_string_value (jb, c->value);
  else
    json_builder_add_null_value (jb);
  json_builder_add_string_value (jb, hlc);
  json_builder_add_string_value (jb, c->supersedes ? c->supersedes : "");
  json_builder_add_int_value (jb, c->tx);
  json_builder_end_array (jb);
}

static char *
builder_text (JsonBuilder *jb, gsize *len)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (jb);

  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, len);
}

/* The batch as sync-batch.c serialise() writes it (same member order; the
 * version vector in hash-table order, which changes no length). */
static char *
batch_json (const SyncBatch *batch, gsize *len)
{
  g_autoptr (JsonBuilder) jb = json_builder_new ();
  GHashTableIter it;
  gpointer k, v;

  json_builder_begin_object (jb);
  json_builder_set_member_name (jb, "v");
  json_builder_add_int_value (jb, 1);
  json_builder_set_member_name (jb, "vv");
  json_builder_begin_object (jb);
  g_hash_table_iter_init (&it, batch->vv);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      g_autofree char *s = g_strdup_printf ("%" G_GUINT64_FORMAT, *(guint64 *)v);
      json_builder_set_member_name (jb, k);
      json_builder_add_string_value (jb, s);
    }
  json_builder_end_object (jb);
  json_builder_set_member_name (jb, "changes");
  json_builder_begin_array (jb);
  for (guint i = 0; i < batch->changes->len; i++)
    add_change (jb, batch->changes->pdata[i]);
  json_builder_end_array (jb);
  json_builder_end_object (jb);
  return builder_text (jb, len);
}

static gsize
change_json_len (const SpChange *c)
{
  g_autoptr (JsonBuilder) jb = json_builder_new ();
  g_autofree char *text = NULL;
  gsize len = 0;

  add_change (jb, c);
  text = builder_text (jb, &len);
  return len;
}

typedef struct
{
  guint batches, changes;
  guint64 envelope;      /* stored envelope bytes */
  guint64 change_json;   /* each change's JSON array, as in the batch */
  guint64 batch_json;    /* whole batch JSON: wrapper, version vector, changes */
  guint64 packed;        /* 4-byte length + deflated JSON */
  guint64 padded;        /* after Padmé */
  guint size_mismatches; /* rebuilt size ≠ stored size */
  guint unopened;
} Bytes;

/* Every envelope of @device in cursor order, from the relay's database
 * (plain SQLite, read through SQLCipher without a key). */
static GPtrArray *
stored_envelopes (Bench *b, const char *data_dir, const char *device)
{
  g_autofree char *path = g_build_filename (data_dir, "relay.db", NULL);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;

  if (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK
      || sqlite3_busy_timeout (db, 5000) != SQLITE_OK
      /* seq 1 is the empty batch of enrolment that carries A's compartment
       * box key (docs/PROTOCOL.md, "Compartments"), not one of the timed. */
      || sqlite3_prepare_v2 (
             db, "SELECT data FROM batches WHERE device = ?1 AND seq > 1 ORDER BY cursor", -1, &st,
             NULL)
             != SQLITE_OK)
    bench_check (b, FALSE, "sync: reading relay.db: %s", db ? sqlite3_errmsg (db) : "?");
  else
    {
      sqlite3_bind_text (st, 1, device, -1, SQLITE_TRANSIENT);
      while (sqlite3_step (st) == SQLITE_ROW)
        g_ptr_array_add (
            out, g_bytes_new (sqlite3_column_blob (st, 0), (gsize)sqlite3_column_bytes (st, 0)));
    }
  sqlite3_finalize (st);
  sqlite3_close (db);
  return out;
}

static void
measure_bytes (Bench *b, SpVault *vault, GPtrArray *envelopes, Bytes *out)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) sign_pk = sp_vault_sync_get (vault, "dev/sign_pk", &error);
  g_autoptr (SpSecret) key = NULL;
  SyncStatus status = { 0 };

  memset (out, 0, sizeof *out);
  if (sync_get_status (vault, &status, &error))
    {
      g_autofree char *name = g_strdup_printf ("epoch/%010u", status.epoch);
      key = sp_vault_sync_get_secret (vault, name, &error);
    }
  sync_status_clear (&status);
  if (!bench_check (b, sign_pk && g_bytes_get_size (sign_pk) == 32 && key, "sync: keys of A: %s",
                    error ? error->message : "missing"))
    return;
  for (guint i = 0; i < envelopes->len; i++)
    {
      GBytes *env = envelopes->pdata[i];
      g_autoptr (GError) local = NULL;
      g_autoptr (SyncBatch) batch
          = sync_batch_open (env, sp_secret_data (key), g_bytes_get_data (sign_pk, NULL), &local);
      g_autofree char *json = NULL;
      g_autoptr (GBytes) packed = NULL;
      gsize json_len = 0, padded;

      out->batches++;
      out->envelope += g_bytes_get_size (env);
      if (batch == NULL)
        {
          out->unopened++;
          continue;
        }
      out->changes += batch->changes->len;
      for (guint j = 0; j < batch->changes->len; j++)
        out->change_json += change_json_len (batch->changes->pdata[j]);
      json = batch_json (batch, &json_len);
      out->batch_json += json_len;
      packed = sync_deflate ((const guint8 *)json, json_len, SYNC_MAX_PLAINTEXT, NULL);
      if (packed == NULL)
        continue;
      padded = sync_pad_length (4 + g_bytes_get_size (packed));
      out->packed += 4 + g_bytes_get_size (packed);
      out->padded += padded;
      if (padded + ENV_FRAMING != g_bytes_get_size (env))
        out->size_mismatches++;
    }
}

/* CPU seconds of the calling thread (sync_run runs in it), of this whole
 * process (with the baseline server's threads), and of another process. */
static double
thread_cpu (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
process_cpu (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
child_cpu (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int)pid);
  g_autofree char *text = NULL;
  g_auto (GStrv) f = NULL;
  const char *p;

  /* Fields after the command name (which may hold spaces): utime is the 12th. */
  if (!g_file_get_contents (path, &text, NULL, NULL) || (p = strrchr (text, ')')) == NULL)
    return NAN;
  f = g_strsplit (p + 2, " ", -1);
  if (g_strv_length (f) < 13)
    return NAN;
  return (double)(g_ascii_strtoull (f[11], NULL, 10) + g_ascii_strtoull (f[12], NULL, 10))
         / (double)sysconf (_SC_CLK_TCK);
}

/* ---- The baseline: a minimal HTTP server keeping the bytes in memory ---- */

typedef struct
{
  GMutex lock;
  GPtrArray *stored; /* GBytes */
} Store;

typedef struct
{
  GByteArray *body;
} Upload;

static enum MHD_Result
store_answer (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
              const char *version, const char *upload_data, size_t *upload_data_size,
              void **con_cls)
{
  Store *store = cls;
  Upload *upload = *con_cls;
  struct MHD_Response *response;
  enum MHD_Result ret;
  unsigned int status = MHD_HTTP_OK;

  if (upload == NULL)
    {
      upload = g_new0 (Upload, 1);
      upload->body = g_byte_array_new ();
      *con_cls = upload;
      return MHD_YES;
    }
  if (*upload_data_size > 0)
    {
      g_byte_array_append (upload->body, (const guint8 *)upload_data, (guint)*upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }
  if (g_str_equal (method, "POST"))
    {
      g_autofree char *text = NULL;
      guint cursor;

      g_mutex_lock (&store->lock);
      g_ptr_array_add (store->stored, g_byte_array_free_to_bytes (upload->body));
      upload->body = NULL;
      cursor = store->stored->len;
      g_mutex_unlock (&store->lock);
      text = g_strdup_printf ("{\"cursor\":%u}", cursor);
      response = MHD_create_response_from_buffer (strlen (text), text, MHD_RESPMEM_MUST_COPY);
      MHD_add_response_header (response, "Content-Type", "application/json");
      status = MHD_HTTP_CREATED;
    }
  else
    {
      /* GET ?since=S&limit=L: the raw envelopes S+1 … S+L, back to back. */
      const char *since_s
          = MHD_lookup_connection_value (connection, MHD_GET_ARGUMENT_KIND, "since");
      const char *limit_s
          = MHD_lookup_connection_value (connection, MHD_GET_ARGUMENT_KIND, "limit");
      guint64 since = 0, limit = PAGE_BATCHES;
      GByteArray *page = g_byte_array_new ();

      if (since_s)
        g_ascii_string_to_unsigned (since_s, 10, 0, G_MAXUINT32, &since, NULL);
      if (limit_s)
        g_ascii_string_to_unsigned (limit_s, 10, 1, 1000, &limit, NULL);
      g_mutex_lock (&store->lock);
      for (guint64 i = since; i < store->stored->len && i < since + limit; i++)
        {
          gsize n;
          const guint8 *d = g_bytes_get_data (store->stored->pdata[i], &n);
          g_byte_array_append (page, d, (guint)n);
        }
      g_mutex_unlock (&store->lock);
      response = MHD_create_response_from_buffer (page->len, page->data, MHD_RESPMEM_MUST_COPY);
      g_byte_array_unref (page);
      MHD_add_response_header (response, "Content-Type", "application/octet-stream");
    }
  ret = MHD_queue_response (connection, status, response);
  MHD_destroy_response (response);
  return ret;
}

static void
store_completed (void *cls, struct MHD_Connection *connection, void **con_cls,
                 enum MHD_RequestTerminationCode toe)
{
  Upload *upload = *con_cls;

  if (upload == NULL)
    return;
  if (upload->body)
    g_byte_array_unref (upload->body);
  g_free (upload);
  *con_cls = NULL;
}

typedef struct
{
  double up_s, down_s;
  double cpu_s; /* this process: curl and the server's threads, both phases */
  guint64 up_body, down_body, up_headers, down_headers; /* curl's counts */
  guint requests, failures;
  gboolean same_bytes;
} Baseline;

static size_t
collect (char *ptr, size_t size, size_t nmemb, void *user_data)
{
  g_byte_array_append (user_data, (const guint8 *)ptr, (guint)(size * nmemb));
  return size * nmemb;
}

static long
baseline_request (CURL *curl, const char *url, GBytes *body, GByteArray *answer, Baseline *out)
{
  struct curl_slist *headers = NULL;
  curl_off_t up = 0, down = 0;
  long status = 0, req_size = 0, hdr_size = 0;

  curl_easy_reset (curl); /* keeps the connection */
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, answer);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, 60L);
  headers = curl_slist_append (headers, "Expect:");
  if (body)
    {
      headers = curl_slist_append (headers, "Content-Type: application/octet-stream");
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, g_bytes_get_data (body, NULL));
      curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)g_bytes_get_size (body));
    }
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  if (curl_easy_perform (curl) == CURLE_OK)
    {
      curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo (curl, CURLINFO_SIZE_UPLOAD_T, &up);
      curl_easy_getinfo (curl, CURLINFO_SIZE_DOWNLOAD_T, &down);
      curl_easy_getinfo (curl, CURLINFO_REQUEST_SIZE, &req_size);
      curl_easy_getinfo (curl, CURLINFO_HEADER_SIZE, &hdr_size);
      out->up_body += (guint64)up;
      out->down_body += (guint64)down;
      out->up_headers += (guint64)req_size;
      out->down_headers += (guint64)hdr_size;
    }
  curl_slist_free_all (headers);
  out->requests++;
  return status;
}

static void
run_baseline (Bench *b, GPtrArray *envelopes, Baseline *out)
{
  Store store = { .stored = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref) };
  struct sockaddr_in addr = { 0 };
  struct MHD_Daemon *daemon;
  const union MHD_DaemonInfo *info;
  g_autofree char *base = NULL;
  g_autofree char *post_url = NULL;
  CURL *curl;
  double t0;
  guint64 since = 0, got = 0;

  memset (out, 0, sizeof *out);
  g_mutex_init (&store.lock);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  /* The relay's threading: an internal polling thread with a pool of 4. */
  daemon = MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG, 0,
                             NULL, NULL, store_answer, &store, MHD_OPTION_SOCK_ADDR,
                             (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)4,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
                             MHD_OPTION_NOTIFY_COMPLETED, store_completed, NULL, MHD_OPTION_END);
  if (!bench_check (b, daemon != NULL, "sync: the baseline server did not start"))
    goto out;
  info = MHD_get_daemon_info (daemon, MHD_DAEMON_INFO_BIND_PORT);
  base = g_strdup_printf ("http://127.0.0.1:%u", info ? (unsigned)info->port : 0u);
  post_url = g_strconcat (base, "/batches", NULL);
  curl = curl_easy_init ();

  out->cpu_s = process_cpu ();
  t0 = bench_now ();
  for (guint i = 0; i < envelopes->len; i++)
    {
      g_autoptr (GByteArray) answer = g_byte_array_new ();
      if (baseline_request (curl, post_url, envelopes->pdata[i], answer, out) != 201)
        out->failures++;
    }
  out->up_s = bench_now () - t0;

  out->same_bytes = TRUE;
  t0 = bench_now ();
  for (;;)
    {
      g_autoptr (GByteArray) answer = g_byte_array_new ();
      g_autofree char *url = g_strdup_printf ("%s/batches?since=%" G_GUINT64_FORMAT "&limit=%d",
                                              base, since, PAGE_BATCHES);
      gsize at = 0;
      guint n = 0;

      if (baseline_request (curl, url, NULL, answer, out) != 200)
        {
          out->failures++;
          break;
        }
      if (answer->len == 0)
        break;
      /* Split the page as a client would, by the envelopes' own sizes. */
      while (at < answer->len && since + n < envelopes->len)
        {
          gsize len;
          const guint8 *want = g_bytes_get_data (envelopes->pdata[since + n], &len);
          if (at + len > answer->len || memcmp (answer->data + at, want, len) != 0)
            {
              out->same_bytes = FALSE;
              break;
            }
          at += len;
          n++;
        }
      if (n == 0 || !out->same_bytes)
        break;
      since += n;
      got += n;
    }
  out->down_s = bench_now () - t0;
  out->cpu_s = process_cpu () - out->cpu_s;
  out->same_bytes = out->same_bytes && got == envelopes->len;
  curl_easy_cleanup (curl);
  MHD_stop_daemon (daemon);
out:
  g_ptr_array_unref (store.stored);
  g_mutex_clear (&store.lock);
}

/* ---- The benchmark ---- */

typedef struct
{
  double wall, client_cpu, relay_cpu;
} Timed;

static gboolean
timed_sync (Bench *b, SpVault *vault, const SyncOptions *opts, GPid relay, const char *who,
            SyncReport *report, Timed *t)
{
  g_autoptr (GError) error = NULL;
  double r0 = child_cpu (relay), c0 = thread_cpu (), t0 = bench_now ();
  gboolean ok = sync_run (vault, opts, report, &error);

  t->wall = bench_now () - t0;
  t->client_cpu = thread_cpu () - c0;
  t->relay_cpu = child_cpu (relay) - r0;
  return bench_check (b, ok, "sync: %s: %s", who, error ? error->message : "?");
}

void
bench_sync (Bench *b)
{
  const char *extra[] = { "--rate", "1000000", "--quota-mb", "100000", NULL };
  g_autofree char *data_dir = bench_tmp_dir (b, "sync-relay");
  SyncOptions opts = { .max_batch_changes = PER_TX };
  guint n = n_changes (b), batches = n / PER_TX;
  SyncReport push = { 0 }, pull = { 0 };
  g_autoptr (GPtrArray) envelopes = NULL;
  g_autoptr (GError) error = NULL;
  Dev a = { 0 }, bdev = { 0 };
  Relay *relay;
  Timed tpush = { 0 }, tpull = { 0 };
  double push_s, pull_s;
  gint64 pending = -1, orgs_a, orgs_b;
  Bytes bytes;
  Baseline base;

  relay_stderr_fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  if (g_getenv ("SUPOLKA_RELAY") == NULL)
    {
      /* build/tests/bench/supolka-bench → build/app/supolka-relay */
      g_autofree char *dir = g_path_get_dirname (bench_self (b));
      g_autofree char *path = g_build_filename (dir, "..", "..", "app", "supolka-relay", NULL);
      g_setenv ("SUPOLKA_RELAY", path, TRUE);
    }
  g_assert_true (sync_protocol_init (NULL));
  g_assert_cmpint (curl_global_init (CURL_GLOBAL_DEFAULT), ==, CURLE_OK);
  relay = relay_start (data_dir, extra);

  bench_progress (b, "sync: relay on port %u; two vaults, enrolment", relay->port);
  if (!setup (b, relay, &a, &bdev, &opts))
    goto out;
  bench_progress (b, "sync: writing %u changes in %u transactions on A", n, batches);
  if (!write_changes (b, a.vault, n))
    goto out;
  {
    SyncStatus st = { 0 };
    if (sync_get_status (a.vault, &st, NULL))
      pending = st.pending_changes;
    sync_status_clear (&st);
  }

  bench_progress (b, "sync: A pushes, B pulls");
  if (!timed_sync (b, a.vault, &opts, relay->pid, "push (A)", &push, &tpush)
      || !timed_sync (b, bdev.vault, &opts, relay->pid, "pull (B)", &pull, &tpull))
    goto out;
  push_s = tpush.wall;
  pull_s = tpull.wall;
  orgs_a = sp_vault_count (a.vault, "org", NULL, NULL);
  orgs_b = sp_vault_count (bdev.vault, "org", NULL, NULL);
  bench_check (b, push.pushed_changes == n && push.pushed_batches == batches,
               "sync: A pushed %u changes in %u batches; expected %u in %u (pending before: "
               "%" G_GINT64_FORMAT ")",
               push.pushed_changes, push.pushed_batches, n, batches, pending);
  bench_check (
      b, pull.applied_changes == n && pull.applied_batches == batches && pull.refused_batches == 0,
      "sync: B applied %u changes in %u batches (%u refused); expected %u in %u",
      pull.applied_changes, pull.applied_batches, pull.refused_batches, n, batches);
  bench_check (b, orgs_a == batches && orgs_b == orgs_a,
               "sync: %" G_GINT64_FORMAT " orgs on A, %" G_GINT64_FORMAT " on B; expected %u",
               orgs_a, orgs_b, batches);

  envelopes = stored_envelopes (b, relay->data_dir, sp_vault_get_device_id (a.vault));
  bench_check (b, envelopes->len == batches, "sync: relay.db holds %u batches of A; expected %u",
               envelopes->len, batches);
  measure_bytes (b, a.vault, envelopes, &bytes);
  bench_check (b, bytes.unopened == 0 && bytes.changes == n,
               "sync: %u envelopes did not open; %u changes in them, expected %u", bytes.unopened,
               bytes.changes, n);

  bench_progress (b, "sync: baseline: the same %u envelopes through a minimal HTTP server",
                  envelopes->len);
  run_baseline (b, envelopes, &base);
  bench_check (b, base.failures == 0 && base.same_bytes,
               "sync: baseline: %u failed requests; downloaded bytes %s", base.failures,
               base.same_bytes ? "identical" : "differ");

  {
    g_autofree char *w_total = g_strdup_printf (
        "sync: push then pull %u changes (%u batches of %u) via the relay", n, batches, PER_TX);
    g_autofree char *w_push = g_strdup_printf ("sync: push (sync_run on A, %u batches)", batches);
    g_autofree char *w_pull
        = g_strdup_printf ("sync: pull, verify, apply (sync_run on B, %u batches)", batches);
    double total = push_s + pull_s, base_total = base.up_s + base.down_s;
    double plain = bytes.changes ? (double)bytes.change_json / bytes.changes : NAN;
    double pad_pct = bytes.packed ? 100.0 * (bytes.padded - bytes.packed) / bytes.packed : NAN;

    bench_report (b, &(BenchRow){ "sync", w_total, total, "s", base_total,
                                  "curl ↔ in-memory MHD, same bytes", BENCH_TARGET_RATIO_MAX, 2 });
    bench_report (b, &(BenchRow){ "sync", w_push, push_s, "s", base.up_s,
                                  "curl upload, 1 request per batch", BENCH_TARGET_NONE, 0 });
    bench_report (b, &(BenchRow){ "sync", w_pull, pull_s, "s", base.down_s,
                                  "curl download, pages of 200", BENCH_TARGET_NONE, 0 });
    bench_report (
        b, &(BenchRow){ "sync", "sync: CPU time, push + pull (client thread + relay process)",
                        tpush.client_cpu + tpull.client_cpu + tpush.relay_cpu + tpull.relay_cpu,
                        "s", base.cpu_s, "curl + server threads", BENCH_TARGET_NONE, 0 });
    bench_report (
        b,
        &(BenchRow){ "sync", "sync: CPU time of the client in push / in pull (sync_run's thread)",
                     tpush.client_cpu, "s", tpull.client_cpu, "pull", BENCH_TARGET_NONE, 0 });
    bench_report (b, &(BenchRow){ "sync", "sync: CPU time of the relay in push / in pull",
                                  tpush.relay_cpu, "s", tpull.relay_cpu, "pull", BENCH_TARGET_NONE,
                                  0 });
    bench_report (b, &(BenchRow){ "sync", "sync: batches/s, push + pull", 2.0 * batches / total,
                                  "batches/s", 2.0 * batches / base_total, "same baseline",
                                  BENCH_TARGET_NONE, 0 });
    bench_report (b, &(BenchRow){ "sync",
                                  "sync: envelope bytes per change (sum of envelopes / changes)",
                                  (double)bytes.envelope / n, "B", plain,
                                  "plaintext: JSON of the change", BENCH_TARGET_NONE, 0 });
    bench_report (
        b, &(BenchRow){ "sync",
                        "sync: plaintext bytes per change, whole batch JSON (with version vector)",
                        (double)bytes.batch_json / n, "B", NAN, NULL, BENCH_TARGET_NONE, 0 });
    bench_report (b, &(BenchRow){ "sync",
                                  "sync: compressed bytes per change (deflate + 4-byte length)",
                                  (double)bytes.packed / n, "B", NAN, NULL, BENCH_TARGET_NONE, 0 });
    bench_report (b, &(BenchRow){ "sync",
                                  "sync: padding overhead (Padmé, 1 KiB steps) over compressed",
                                  pad_pct, "%", NAN, NULL, BENCH_TARGET_NONE, 0 });
    bench_report (
        b,
        &(BenchRow){ "sync",
                     "sync: baseline HTTP bytes per change sent by curl (request headers + bodies)",
                     (double)(base.up_body + base.up_headers) / n, "B", (double)base.up_body / n,
                     "body only", BENCH_TARGET_NONE, 0 });
    bench_report (
        b, &(BenchRow){
               "sync",
               "sync: baseline HTTP bytes per change received by curl (answer headers + bodies)",
               (double)(base.down_body + base.down_headers) / n, "B", (double)base.down_body / n,
               "body only", BENCH_TARGET_NONE, 0 });
    bench_note (b,
                "sync: %u changes = %u local transactions of %u (an organisation with %u "
                "fields) on A, SyncOptions.max_batch_changes = %u; relay with --rate 1000000; "
                "vaults with KDF \"interactive\"; envelope = %u B framing (header, nonce, "
                "tag, signature) + padded ciphertext; %u of %u rebuilt batches differ in size "
                "from the stored envelope",
                n, batches, PER_TX, PER_TX - 1, PER_TX, ENV_FRAMING, bytes.size_mismatches,
                bytes.batches);
    bench_note (b,
                "sync: per change: %.0f B JSON of the change, %.0f B of batch JSON, %.0f B "
                "compressed, %.0f B padded, %.0f B envelope; envelope / change JSON = %.2f; "
                "the relay's pull pages carry envelopes in base64 inside JSON (+33%%)",
                (double)bytes.change_json / n, (double)bytes.batch_json / n,
                (double)bytes.packed / n, (double)bytes.padded / n, (double)bytes.envelope / n,
                (double)bytes.envelope / MAX (bytes.change_json, 1));
  }

out:
  sync_report_clear (&push);
  sync_report_clear (&pull);
  dev_close (&a);
  dev_close (&bdev);
  relay_stop (relay);
  close (relay_stderr_fd);
  relay_stderr_fd = -1;
  curl_global_cleanup ();
}
