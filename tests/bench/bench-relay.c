/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-relay.c — the relay under load.
 *
 * The real supolka-relay on 127.0.0.1 (a free port, a temporary data folder,
 * stderr to /dev/null). 50 clients, each a thread with its own device and its
 * own kept-alive connection, in 5 workspaces of 10 devices; each client
 * alternates pushing an envelope (2 KiB of ciphertext, its own chain, seq 1, 2,
 * …) and pulling the next page of its workspace (since its last cursor,
 * limit 100), for the load time. Every request is signed as a real client signs
 * it. Afterwards one device per workspace pulls everything and every pushed
 * envelope is looked up by device, seq and hash: lost = pushed − found.
 *
 * Baseline: the same clients making the same requests (same bodies, same
 * signing, same client-side JSON parsing) against a minimal libmicrohttpd
 * server in its own process (this executable with --serve-baseline): the same
 * libmicrohttpd threading as the relay (internal polling thread, a pool of 4),
 * reading each body whole and answering 200 with a fixed short JSON: no
 * authentication, no storage. The ratio is what the relay's own work costs.
 *
 * The relay runs with --rate 1000000 (its per-device limit, 50/s by default,
 * would otherwise be what is measured), --max-connections-per-ip 1024 (all
 * fifty clients share 127.0.0.1) and a quota large enough. */
#include <curl/curl.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "relay-test-client.h" /* shared with test-relay.c: devices, workspaces, envelopes */

#define CLIENTS 50
#define PER_WORKSPACE 10
#define WORKSPACES (CLIENTS / PER_WORKSPACE)
#define PLAIN_LEN 2048
#define PULL_LIMIT 100

typedef struct
{
  Bench *b;
  const char *base;
  const Workspace *ws;
  const Device *device;
  double deadline;
  gboolean baseline;
  /* results */
  GArray *latency; /* seconds, every request */
  GArray *push_latency;
  GArray *pull_latency;
  guint pushed, errors;
  char *first_error;
  GPtrArray *hashes; /* [seq - 1] -> 32-byte BLAKE2b-256 of the envelope pushed */
  gint64 since;
} Client;

static void client_error (Client *c, const char *format, ...) G_GNUC_PRINTF (2, 3);

static void
client_error (Client *c, const char *format, ...)
{
  va_list args;

  c->errors++;
  if (c->first_error)
    return;
  va_start (args, format);
  c->first_error = g_strdup_vprintf (format, args);
  va_end (args);
}

/* One signed request on the thread's own handle, so the connection is kept
 * alive between requests as a client's would be (relay-test-util's http()
 * opens a connection per request and asserts; a load test counts errors).
 * Returns the status, 0 on a transport failure. */
static long
load_request (CURL *curl, Client *c, const char *method, const char *path, const guint8 *body,
              gsize len, GByteArray *answer, char **why)
{
  char nonce[SYNC_AUTH_NONCE_HEX_LEN + 1];
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree char *url = g_strconcat (c->base, path, NULL);
  g_autofree char *sig = NULL;
  g_autofree char *h_dev = NULL;
  g_autofree char *h_time = NULL;
  g_autofree char *h_nonce = NULL;
  g_autofree char *h_sig = NULL;
  struct curl_slist *headers = NULL;
  long status = 0;
  CURLcode rc;

  sync_auth_new_nonce (nonce);
  if (!sync_auth_sign (c->device->auth_sk, method, path, body, len, now, nonce, c->device->id, &sig,
                       NULL))
    {
      *why = g_strdup ("signing failed");
      return 0;
    }
  h_dev = g_strdup_printf (SYNC_AUTH_HEADER_DEVICE ": %s", c->device->id);
  h_time = g_strdup_printf (SYNC_AUTH_HEADER_TIME ": %" G_GINT64_FORMAT, now);
  h_nonce = g_strdup_printf (SYNC_AUTH_HEADER_NONCE ": %s", nonce);
  h_sig = g_strdup_printf (SYNC_AUTH_HEADER_SIGNATURE ": %s", sig);
  headers = curl_slist_append (headers, h_dev);
  headers = curl_slist_append (headers, h_time);
  headers = curl_slist_append (headers, h_nonce);
  headers = curl_slist_append (headers, h_sig);
  headers = curl_slist_append (headers, "Expect:"); /* no 100-continue round trip */
  if (body != NULL)
    headers = curl_slist_append (headers, "Content-Type: application/octet-stream");

  curl_easy_reset (curl); /* keeps the connection */
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, answer);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, 60L);
  if (body != NULL)
    {
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
      curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
  rc = curl_easy_perform (curl);
  if (rc == CURLE_OK)
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  else
    *why = g_strdup (curl_easy_strerror (rc));
  curl_slist_free_all (headers);
  return status;
}

/* The last cursor of a page of batches, 0 when the page is empty, -1 when
 * the answer is not a page. */
static gint64
last_cursor (GByteArray *answer)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj;
  JsonArray *batches;
  guint n;

  if (!json_parser_load_from_data (parser, (const char *)answer->data, (gssize)answer->len, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return -1;
  obj = json_node_get_object (json_parser_get_root (parser));
  if (!json_object_has_member (obj, "batches"))
    return -1;
  batches = json_object_get_array_member (obj, "batches");
  n = json_array_get_length (batches);
  if (n == 0)
    return 0;
  return json_object_get_int_member (json_array_get_object_element (batches, n - 1), "cursor");
}

static gpointer
client_run (gpointer user_data)
{
  Client *c = user_data;
  CURL *curl = curl_easy_init ();
  g_autofree char *push_path = ws_path (c->ws, "/batches");
  guint64 seq = 1;

  for (guint i = 0; bench_now () < c->deadline; i++)
    {
      g_autoptr (GByteArray) answer = g_byte_array_new ();
      g_autofree char *why = NULL;
      double t0, t;
      long status;

      if (i % 2 == 0)
        {
          g_autoptr (GBytes) env = random_envelope (c->ws, c->device, seq, PLAIN_LEN);
          gsize len;
          const guint8 *data = g_bytes_get_data (env, &len);
          guint8 hash[SYNC_HASH_LEN];

          t0 = bench_now ();
          status = load_request (curl, c, "POST", push_path, data, len, answer, &why);
          t = bench_now () - t0;
          if (status != (c->baseline ? 200 : 201))
            {
              client_error (c, "push seq %" G_GUINT64_FORMAT ": %ld %s %.*s", seq, status,
                            why ? why : "", (int)MIN (answer->len, 200),
                            (const char *)answer->data);
              continue;
            }
          sync_envelope_hash (data, len, hash);
          g_ptr_array_add (c->hashes, g_bytes_new (hash, sizeof hash));
          seq++;
          c->pushed++;
          g_array_append_val (c->push_latency, t);
        }
      else
        {
          g_autofree char *path
              = g_strdup_printf ("/v1/workspaces/%s/batches?since=%" G_GINT64_FORMAT "&limit=%u",
                                 c->ws->id, c->since, PULL_LIMIT);
          gint64 cursor;

          t0 = bench_now ();
          status = load_request (curl, c, "GET", path, NULL, 0, answer, &why);
          /* Reading the page is part of a pull. */
          cursor = status == 200 ? last_cursor (answer) : -1;
          t = bench_now () - t0;
          if (status != 200 || cursor < 0)
            {
              client_error (c, "pull: %ld %s %.*s", status, why ? why : "",
                            (int)MIN (answer->len, 200), (const char *)answer->data);
              continue;
            }
          if (cursor > 0)
            c->since = cursor;
          g_array_append_val (c->pull_latency, t);
        }
      g_array_append_val (c->latency, t);
    }
  curl_easy_cleanup (curl);
  return NULL;
}

typedef struct
{
  double rps, median_ms, p99_ms, push_p99_ms, pull_p99_ms;
  guint requests, pushed, errors;
  gint64 peak_rss_kib;
} LoadResult;

/* VmHWM (peak resident set) of a live process in KiB, or -1. */
static gint64
peak_rss_kib (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int)pid);
  g_autofree char *text = NULL;
  const char *p;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (p = strstr (text, "\nVmHWM:")) == NULL)
    return -1;
  return g_ascii_strtoll (p + 7, NULL, 10);
}

static void
run_load (Bench *b, const char *base, GPid server, const Workspace *ws, Device **devices,
          gboolean baseline, LoadResult *out, Client *clients)
{
  g_autoptr (GArray) all = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) push = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) pull = g_array_new (FALSE, FALSE, sizeof (double));
  GThread *threads[CLIENTS];
  double t0, elapsed;

  memset (out, 0, sizeof *out);
  t0 = bench_now ();
  for (guint i = 0; i < CLIENTS; i++)
    {
      clients[i] = (Client){ .b = b,
                             .base = base,
                             .ws = &ws[i / PER_WORKSPACE],
                             .device = devices[i],
                             .deadline = t0 + bench_load_seconds (b),
                             .baseline = baseline,
                             .latency = g_array_new (FALSE, FALSE, sizeof (double)),
                             .push_latency = g_array_new (FALSE, FALSE, sizeof (double)),
                             .pull_latency = g_array_new (FALSE, FALSE, sizeof (double)),
                             .hashes = g_ptr_array_new_with_free_func (bytes_unref) };
      threads[i] = g_thread_new ("bench-client", client_run, &clients[i]);
    }
  for (guint i = 0; i < CLIENTS; i++)
    g_thread_join (threads[i]);
  elapsed = bench_now () - t0;
  out->peak_rss_kib = peak_rss_kib (server);
  for (guint i = 0; i < CLIENTS; i++)
    {
      Client *c = &clients[i];

      g_array_append_vals (all, c->latency->data, c->latency->len);
      g_array_append_vals (push, c->push_latency->data, c->push_latency->len);
      g_array_append_vals (pull, c->pull_latency->data, c->pull_latency->len);
      out->pushed += c->pushed;
      out->errors += c->errors;
      if (c->first_error)
        bench_check (b, FALSE, "%s client %u: %u errors, the first: %s",
                     baseline ? "baseline" : "relay", i, c->errors, c->first_error);
    }
  out->requests = all->len;
  out->rps = all->len / elapsed;
  out->median_ms = bench_quantile (all, 0.5) * 1000;
  out->p99_ms = bench_quantile (all, 0.99) * 1000;
  out->push_p99_ms = bench_quantile (push, 0.99) * 1000;
  out->pull_p99_ms = bench_quantile (pull, 0.99) * 1000;
}

static void
clients_clear (Client *clients)
{
  for (guint i = 0; i < CLIENTS; i++)
    {
      g_array_unref (clients[i].latency);
      g_array_unref (clients[i].push_latency);
      g_array_unref (clients[i].pull_latency);
      g_ptr_array_unref (clients[i].hashes);
      g_free (clients[i].first_error);
    }
}

/* Pulls every batch of every workspace (pull_all checks the pages) and finds
 * each pushed envelope by device, seq and hash. Returns how many were found. */
static guint
count_stored (Relay *relay, const Workspace *ws, Device **devices, Client *clients)
{
  guint found = 0;

  for (guint w = 0; w < WORKSPACES; w++)
    {
      guint pages = 0;
      g_autoptr (GPtrArray) all
          = pull_all (relay, &ws[w], devices[w * PER_WORKSPACE], 0, 500, &pages);

      for (guint i = 0; i < all->len; i++)
        {
          gsize n;
          const guint8 *data = g_bytes_get_data (all->pdata[i], &n);
          SyncEnvelopeHeader header;
          guint8 hash[SYNC_HASH_LEN];

          if (!sync_envelope_parse_header (data, n, &header, NULL))
            continue;
          sync_envelope_hash (data, n, hash);
          for (guint k = w * PER_WORKSPACE; k < (w + 1) * PER_WORKSPACE; k++)
            if (memcmp (devices[k]->raw_id, header.device, SYNC_ID_LEN) == 0 && header.seq >= 1
                && header.seq <= clients[k].hashes->len
                && memcmp (g_bytes_get_data (clients[k].hashes->pdata[header.seq - 1], NULL), hash,
                           SYNC_HASH_LEN)
                       == 0)
              found++;
        }
    }
  return found;
}

/* This executable as the baseline server, started as the relay is. */
static Relay *
baseline_start (Bench *b)
{
  const char *const args[] = { "--serve-baseline", NULL };
  const RelayOptions opts = { .program = bench_self (b), .args = args };

  return relay_start_with (&opts);
}

void
bench_relay_env (Bench *b)
{
  if (g_getenv ("SUPOLKA_RELAY") == NULL)
    {
      /* build/tests/bench/supolka-bench → build/app/supolka-relay */
      g_autofree char *dir = g_path_get_dirname (bench_self (b));
      g_autofree char *path = g_build_filename (dir, "..", "..", "app", "supolka-relay", NULL);
      g_setenv ("SUPOLKA_RELAY", path, TRUE);
    }
}

void
bench_relay (Bench *b)
{
  /* Fifty devices from one address: its per-address connection limit (32) is
   * not what is measured either. */
  const char *extra[] = {
    "--rate", "1000000", "--quota-mb", "100000", "--max-devices", "64", "--max-connections-per-ip",
    "1024",   NULL
  };
  g_autofree char *data_dir = bench_tmp_dir (b, "relay");
  Relay *relay, *baseline;
  Workspace ws[WORKSPACES];
  Device *devices[CLIENTS];
  Client *clients = g_new0 (Client, CLIENTS);
  LoadResult r, base;
  guint found;

  /* The relay logs a line per request; not to our terminal. */
  relay_stderr_fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  bench_relay_env (b);
  g_assert_true (sync_protocol_init (NULL));
  g_assert_cmpint (curl_global_init (CURL_GLOBAL_DEFAULT), ==, CURLE_OK);
  for (guint i = 0; i < CLIENTS; i++)
    devices[i] = device_new ();

  relay = relay_start (data_dir, extra);
  bench_progress (b, "relay on port %u: enrolling %u devices in %u workspaces", relay->port,
                  CLIENTS, WORKSPACES);
  for (guint w = 0; w < WORKSPACES; w++)
    {
      Device *admin = devices[w * PER_WORKSPACE];
      g_autoptr (Resp) created = NULL;

      ws[w] = workspace_new ();
      created = create_workspace (relay, &ws[w], admin, NULL);
      expect (created, 201, NULL);
      for (guint k = 1; k < PER_WORKSPACE; k++)
        enrol (relay, &ws[w], admin, devices[w * PER_WORKSPACE + k]);
    }

  bench_progress (b, "relay: %u clients for %.0f s", CLIENTS, bench_load_seconds (b));
  run_load (b, relay->base, relay->pid, ws, devices, FALSE, &r, clients);
  found = count_stored (relay, ws, devices, clients);
  bench_check (b, r.pushed > 0, "nothing was pushed");
  bench_check (b, found == r.pushed, "the relay lost %d of %u envelopes acknowledged",
               (int)r.pushed - (int)found, r.pushed);
  clients_clear (clients);
  relay_stop (relay); /* asserts a clean exit */

  baseline = baseline_start (b);
  bench_progress (b, "baseline server: %u clients for %.0f s", CLIENTS, bench_load_seconds (b));
  run_load (b, baseline->base, baseline->pid, ws, devices, TRUE, &base, clients);
  clients_clear (clients);
  relay_kill (baseline);

  {
    g_autofree char *what = g_strdup_printf (
        "relay: requests/s, %u clients × %.0f s, push 2 KiB / pull ≤ %u alternating (%u requests)",
        CLIENTS, bench_load_seconds (b), PULL_LIMIT, r.requests);
    g_autofree char *lost = g_strdup_printf (
        "relay: lost envelopes (%u acknowledged; all pulled back, matched by device, seq, hash)",
        r.pushed);

    bench_report (b, &(BenchRow){ "relay", what, r.rps, "req/s", base.rps, "minimal MHD server",
                                  BENCH_TARGET_NONE, 0 });
    bench_report (b, &(BenchRow){ "relay", "relay: median latency", r.median_ms, "ms",
                                  base.median_ms, "minimal MHD server", BENCH_TARGET_NONE, 0 });
    bench_report (b, &(BenchRow){ "relay", "relay: p99 latency, all requests", r.p99_ms, "ms",
                                  base.p99_ms, "minimal MHD server", BENCH_TARGET_NONE, 0 });
    bench_report (b, &(BenchRow){ "relay", "relay: p99 latency, push", r.push_p99_ms, "ms",
                                  base.push_p99_ms, "minimal MHD server", BENCH_TARGET_NONE, 0 });
    bench_report (b, &(BenchRow){ "relay", "relay: p99 latency, pull", r.pull_p99_ms, "ms",
                                  base.pull_p99_ms, "minimal MHD server", BENCH_TARGET_NONE, 0 });
    bench_report (b, &(BenchRow){ "relay", "relay: errors (any answer but 201 / 200)", r.errors,
                                  "errors", base.errors, "minimal MHD server",
                                  BENCH_TARGET_VALUE_MAX, 0 });
    bench_report (b, &(BenchRow){ "relay", lost, (double)r.pushed - found, "lost", NAN, NULL,
                                  BENCH_TARGET_VALUE_MAX, 0 });
    bench_report (b, &(BenchRow){ "relay", "relay: peak RSS (VmHWM) after the load",
                                  r.peak_rss_kib / 1024.0, "MiB", base.peak_rss_kib / 1024.0,
                                  "minimal MHD server", BENCH_TARGET_NONE, 0 });
  }
  bench_note (b,
              "relay: clients, relay and baseline share the same %d cores; the relay ran with "
              "--rate 1000000 (its default of 50 requests/s per device would be what is measured)",
              g_get_num_processors ());

  for (guint i = 0; i < CLIENTS; i++)
    device_free (devices[i]);
  g_free (clients);
  close (relay_stderr_fd);
  relay_stderr_fd = -1;
  curl_global_cleanup ();
}

/* ---- The baseline server ---- */

typedef struct
{
  gsize received;
} Upload;

static enum MHD_Result
baseline_answer (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                 const char *version, const char *upload_data, size_t *upload_data_size,
                 void **con_cls)
{
  static const char post_body[] = "{\"cursor\":1}";
  static const char get_body[] = "{\"batches\":[],\"more\":false}";
  Upload *upload = *con_cls;
  struct MHD_Response *response;
  gboolean post = g_str_equal (method, "POST");
  enum MHD_Result ret;

  if (upload == NULL)
    {
      *con_cls = g_new0 (Upload, 1);
      return MHD_YES;
    }
  if (*upload_data_size > 0)
    {
      upload->received += *upload_data_size;
      *upload_data_size = 0;
      return MHD_YES;
    }
  response = MHD_create_response_from_buffer (post ? strlen (post_body) : strlen (get_body),
                                              (void *)(post ? post_body : get_body),
                                              MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header (response, "Content-Type", "application/json");
  ret = MHD_queue_response (connection, MHD_HTTP_OK, response);
  MHD_destroy_response (response);
  return ret;
}

static void
baseline_completed (void *cls, struct MHD_Connection *connection, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
  g_clear_pointer (con_cls, g_free);
}

int
bench_relay_serve_baseline (void)
{
  struct sockaddr_in addr = { 0 };
  struct MHD_Daemon *daemon;
  const union MHD_DaemonInfo *info;
  sigset_t set;
  int sig = 0;

  /* Blocked before the threads start, so only sigwait() below takes them. */
  sigemptyset (&set);
  sigaddset (&set, SIGTERM);
  sigaddset (&set, SIGINT);
  pthread_sigmask (SIG_BLOCK, &set, NULL);

  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  addr.sin_port = 0;
  daemon = MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG, 0,
                             NULL, NULL, baseline_answer, NULL, MHD_OPTION_SOCK_ADDR,
                             (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)4,
                             MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                             MHD_OPTION_CONNECTION_LIMIT, (unsigned int)256,
                             MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
                             MHD_OPTION_NOTIFY_COMPLETED, baseline_completed, NULL, MHD_OPTION_END);
  if (daemon == NULL)
    {
      g_printerr ("supolka-bench: the baseline server could not start\n");
      return 1;
    }
  info = MHD_get_daemon_info (daemon, MHD_DAEMON_INFO_BIND_PORT);
  printf ("listening on 127.0.0.1:%u\n", info ? (unsigned)info->port : 0u);
  fflush (stdout);
  sigwait (&set, &sig);
  MHD_stop_daemon (daemon);
  return 0;
}
