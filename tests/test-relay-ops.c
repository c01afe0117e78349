/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-relay-ops.c — the relay's operations side, end to end: the real binary
 * ($SUPOLKA_RELAY) on 127.0.0.1 with a free port and a temporary data folder.
 *
 *   /metrics   on its own listener, Prometheus text, counts that follow the
 *              requests made, no ids or addresses, the optional bearer token;
 *   --config   values from the key file, the command line winning over them,
 *              unknown groups and keys and bad values refused;
 *   logs       key=value lines, no client address unless --log-ips, the
 *              journald priority prefix when stderr is the journal.
 */
#include <curl/curl.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "relay-test-util.h"
#include "sync-protocol.h"

#define METRICS_TOKEN "metrics-token-0123456789abcdef"

/* ---- Processes ------------------------------------------------------------------ */

static char *
new_dir (const char *name)
{
  char *dir = new_data_dir (name);

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  return dir;
}

/* NULL-terminated argument lists, built up in tests. */
static GPtrArray *
args_new (void)
{
  return g_ptr_array_new_null_terminated (8, g_free, TRUE);
}

static void
args_add (GPtrArray *args, ...)
{
  va_list ap;
  const char *a;

  va_start (ap, args);
  while ((a = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, g_strdup (a));
  va_end (ap);
}

static const char *const *
args_get (GPtrArray *args)
{
  return (const char *const *)args->pdata;
}

/* The relay with @args (they name --listen and --data, or a --config), its
 * environment without JOURNAL_STREAM or tokens, its log captured; with
 * @journal, $JOURNAL_STREAM names that log's pipe. */
static Relay *
relay_start_full (GPtrArray *args, gboolean journal, gboolean metrics)
{
  const RelayOptions opts = { .args = args_get (args),
                              .clean_env = TRUE,
                              .capture_log = TRUE,
                              .journal = journal,
                              .metrics = metrics,
                              /* A --config file names its own create token. */
                              .closed_creation = g_str_equal (args->pdata[0], "--config") };

  return relay_start_with (&opts);
}

/* Runs a relay that must refuse to start: exit status 1, @needle in stderr. */
static void
expect_refused (GPtrArray *args, const char *needle)
{
  const RelayOptions opts = { .args = args_get (args), .clean_env = TRUE };

  relay_expect_refused (&opts, needle);
}

/* ---- HTTP ---------------------------------------------------------------------------- */

typedef struct
{
  guint8 raw_id[SYNC_ID_LEN];
  char id[SYNC_ID_HEX_LEN + 1];
  guint8 auth_pk[32], auth_sk[64];
  guint8 sign_pk[32], sign_sk[64];
  guint8 box_pk[32], box_sk[32];
} Device;

typedef struct
{
  long status;
  GString *body;
  char *content_type;
  char *www_authenticate;
} Resp;

static void
resp_free (Resp *r)
{
  g_string_free (r->body, TRUE);
  g_free (r->content_type);
  g_free (r->www_authenticate);
  g_free (r);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Resp, resp_free)

static void
random_id (guint8 raw[SYNC_ID_LEN], char hex[SYNC_ID_HEX_LEN + 1])
{
  g_autofree char *text = NULL;

  randombytes_buf (raw, SYNC_ID_LEN);
  text = sync_hex_encode (raw, SYNC_ID_LEN);
  memcpy (hex, text, SYNC_ID_HEX_LEN + 1);
}

static Device *
device_new (void)
{
  Device *d = g_new0 (Device, 1);

  random_id (d->raw_id, d->id);
  crypto_sign_keypair (d->auth_pk, d->auth_sk);
  crypto_sign_keypair (d->sign_pk, d->sign_sk);
  crypto_box_keypair (d->box_pk, d->box_sk);
  return d;
}

static size_t
on_body (char *ptr, size_t size, size_t nmemb, void *user_data)
{
  g_string_append_len (user_data, ptr, (gssize)(size * nmemb));
  return size * nmemb;
}

static char *
header_value (const char *line, gsize len, const char *name)
{
  gsize n = strlen (name);

  if (len > n && g_ascii_strncasecmp (line, name, n) == 0)
    return g_strstrip (g_strndup (line + n, len - n));
  return NULL;
}

static size_t
on_header (char *ptr, size_t size, size_t nmemb, void *user_data)
{
  Resp *r = user_data;
  gsize len = size * nmemb;
  char *v;

  if ((v = header_value (ptr, len, "Content-Type:")) != NULL)
    {
      g_free (r->content_type);
      r->content_type = v;
    }
  if ((v = header_value (ptr, len, "WWW-Authenticate:")) != NULL)
    {
      g_free (r->www_authenticate);
      r->www_authenticate = v;
    }
  return len;
}

/* One request; signed by @d when given. @extra_header: one more header or NULL. */
static Resp *
http (const char *base, const Device *d, const char *method, const char *path, const void *body,
      gsize len, const char *content_type, const char *extra_header)
{
  Resp *r = g_new0 (Resp, 1);
  g_autofree char *url = g_strconcat (base, path, NULL);
  struct curl_slist *headers = NULL;
  CURL *curl = curl_easy_init ();
  CURLcode rc;

  r->body = g_string_new (NULL);
  if (d != NULL)
    {
      char nonce[SYNC_AUTH_NONCE_HEX_LEN + 1];
      gint64 now = g_get_real_time () / G_USEC_PER_SEC;
      g_autofree char *sig = NULL;
      g_autoptr (GError) error = NULL;
      char *h;

      sync_auth_new_nonce (nonce);
      g_assert_true (
          sync_auth_sign (d->auth_sk, method, path, body, len, now, nonce, d->id, &sig, &error));
      g_assert_no_error (error);
      h = g_strdup_printf (SYNC_AUTH_HEADER_DEVICE ": %s", d->id);
      headers = curl_slist_append (headers, h);
      g_free (h);
      h = g_strdup_printf (SYNC_AUTH_HEADER_TIME ": %" G_GINT64_FORMAT, now);
      headers = curl_slist_append (headers, h);
      g_free (h);
      h = g_strdup_printf (SYNC_AUTH_HEADER_NONCE ": %s", nonce);
      headers = curl_slist_append (headers, h);
      g_free (h);
      h = g_strdup_printf (SYNC_AUTH_HEADER_SIGNATURE ": %s", sig);
      headers = curl_slist_append (headers, h);
      g_free (h);
    }
  if (content_type != NULL)
    {
      g_autofree char *h = g_strdup_printf ("Content-Type: %s", content_type);

      headers = curl_slist_append (headers, h);
    }
  if (extra_header != NULL)
    headers = curl_slist_append (headers, extra_header);

  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, r->body);
  curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (curl, CURLOPT_HEADERDATA, r);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, 30L);
  if (body != NULL)
    {
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
      curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
  rc = curl_easy_perform (curl);
  if (rc != CURLE_OK)
    g_error ("%s %s%s: %s", method, base, path, curl_easy_strerror (rc));
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &r->status);
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);
  return r;
}

static void
expect_status (Resp *r, long status)
{
  if (r->status != status)
    g_error ("expected %ld, got %ld: %.400s", status, r->status, r->body->str);
}

static void
get_expect (const char *base, const char *path, long status)
{
  g_autoptr (Resp) r = http (base, NULL, "GET", path, NULL, 0, NULL, NULL);

  expect_status (r, status);
}

/* Creates workspace @ws_raw with @admin as its first device; returns the status. */
static long
create_workspace (const char *base, const guint8 ws_raw[SYNC_ID_LEN], const Device *admin,
                  const char *token)
{
  g_autofree char *ws = sync_hex_encode (ws_raw, SYNC_ID_LEN);
  g_autofree char *path = g_strdup_printf ("/v1/workspaces/%s", ws);
  g_autofree char *auth = g_base64_encode (admin->auth_pk, 32);
  g_autofree char *sign = g_base64_encode (admin->sign_pk, 32);
  g_autofree char *box = g_base64_encode (admin->box_pk, 32);
  g_autofree char *json = g_strdup_printf (
      "{\"device\":\"%s\",\"auth_pk\":\"%s\",\"sign_pk\":\"%s\",\"box_pk\":\"%s\",\"entry\":\"e\"}",
      admin->id, auth, sign, box);
  g_autofree char *header = token ? g_strdup_printf ("X-Supolka-Create-Token: %s", token) : NULL;
  g_autoptr (Resp) r
      = http (base, admin, "POST", path, json, strlen (json), "application/json", header);

  return r->status;
}

/* Pushes one batch of @plain_len random bytes (seq 1); returns the envelope's size. */
static gsize
push_batch (const char *base, const guint8 ws_raw[SYNC_ID_LEN], const Device *d, gsize plain_len)
{
  g_autofree char *ws = sync_hex_encode (ws_raw, SYNC_ID_LEN);
  g_autofree char *path = g_strdup_printf ("/v1/workspaces/%s/batches", ws);
  SyncEnvelopeHeader header = { 0 };
  g_autofree guint8 *ct = g_malloc (plain_len);
  g_autoptr (GBytes) envelope = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (Resp) r = NULL;
  const guint8 *data;
  gsize len;

  memcpy (header.workspace, ws_raw, SYNC_ID_LEN);
  memcpy (header.device, d->raw_id, SYNC_ID_LEN);
  header.epoch = 1;
  header.seq = 1;
  randombytes_buf (header.nonce, sizeof header.nonce);
  randombytes_buf (header.commitment, sizeof header.commitment);
  randombytes_buf (ct, plain_len); /* the relay never looks inside */
  envelope = sync_envelope_build (&header, ct, plain_len, d->sign_sk, &error);
  g_assert_no_error (error);
  data = g_bytes_get_data (envelope, &len);
  r = http (base, d, "POST", path, data, len, "application/octet-stream", NULL);
  expect_status (r, 201);
  return len;
}

/* ---- Metrics ---------------------------------------------------------------------- */

/* Parses the exposition text strictly: every sample line is NAME or
 * NAME{label="value"} and a whole number, every sample's name has a # TYPE
 * line before it. Returns "name{labels}" → value. */
static GHashTable *
parse_metrics (const char *text)
{
  g_autoptr (GRegex) sample
      = g_regex_new ("^([a-z_]+)(\\{[a-z_]+=\"[a-z0-9]+\"\\})? ([0-9]+)$", 0, 0, NULL);
  g_autoptr (GRegex) comment = g_regex_new ("^# (HELP|TYPE) ([a-z_]+) (.+)$", 0, 0, NULL);
  g_autoptr (GHashTable) typed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTable *values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  guint i;

  g_assert_true (g_str_has_suffix (text, "\n"));
  for (i = 0; lines[i] != NULL; i++)
    {
      g_autoptr (GMatchInfo) m = NULL;

      if (lines[i][0] == '\0')
        {
          g_assert_null (lines[i + 1]); /* only after the last newline */
          continue;
        }
      if (g_regex_match (comment, lines[i], 0, &m))
        {
          g_autofree char *kind = g_match_info_fetch (m, 1);
          g_autofree char *type = g_match_info_fetch (m, 3);

          if (strcmp (kind, "TYPE") == 0)
            {
              g_assert_true (strcmp (type, "counter") == 0 || strcmp (type, "gauge") == 0);
              g_hash_table_add (typed, g_match_info_fetch (m, 2));
            }
          continue;
        }
      g_clear_pointer (&m, g_match_info_free);
      if (!g_regex_match (sample, lines[i], 0, &m))
        g_error ("not an exposition line: '%s'", lines[i]);
      {
        g_autofree char *name = g_match_info_fetch (m, 1);
        g_autofree char *labels = g_match_info_fetch (m, 2);
        g_autofree char *value = g_match_info_fetch (m, 3);

        if (!g_hash_table_contains (typed, name))
          g_error ("%s has no # TYPE line before it", name);
        g_assert_false (g_hash_table_contains (values, lines[i]));
        g_hash_table_insert (values, g_strconcat (name, labels, NULL), g_steal_pointer (&value));
      }
    }
  return values;
}

static gint64
metric (GHashTable *values, const char *key)
{
  const char *v = g_hash_table_lookup (values, key);
  guint64 n = 0;

  if (v == NULL)
    g_error ("no metric %s", key);
  g_assert_true (g_ascii_string_to_unsigned (v, 10, 0, G_MAXINT64, &n, NULL));
  return (gint64)n;
}

static GHashTable *
scrape (Relay *relay, const char *auth_header)
{
  g_autoptr (Resp) r
      = http (relay->metrics_base, NULL, "GET", "/metrics", NULL, 0, NULL, auth_header);

  expect_status (r, 200);
  g_assert_nonnull (r->content_type);
  g_assert_true (g_str_has_prefix (r->content_type, "text/plain; version=0.0.4"));
  return parse_metrics (r->body->str);
}

static void
test_metrics_counts (void)
{
  g_autofree char *dir = new_dir ("metrics");
  g_autoptr (GPtrArray) args = args_new ();
  g_autoptr (GHashTable) before = NULL;
  g_autoptr (GHashTable) after = NULL;
  g_autofree Device *admin = device_new ();
  g_autofree char *ws_hex = NULL;
  g_autofree char *err = NULL;
  g_autoptr (Resp) raw = NULL;
  guint8 ws[SYNC_ID_LEN];
  Relay *relay;
  gsize bytes;
  int i;

  args_add (args, "--listen", HOST ":0", "--data", dir, "--metrics-listen", HOST ":0", NULL);
  relay = relay_start_full (args, FALSE, TRUE);

  before = scrape (relay, NULL);
  g_assert_cmpint (metric (before, "supolka_relay_workspaces"), ==, 0);
  g_assert_cmpint (metric (before, "supolka_relay_batches_stored"), ==, 0);
  g_assert_cmpint (metric (before, "supolka_relay_requests_total{class=\"2xx\"}"), ==, 0);

  /* 2 × 200, 3 × 404, 1 × 405; then 201 create and 201 push. */
  get_expect (relay->base, "/healthz", 200);
  get_expect (relay->base, "/healthz", 200);
  for (i = 0; i < 3; i++)
    get_expect (relay->base, "/nothing-here", 404);
  {
    g_autoptr (Resp) r = http (relay->base, NULL, "DELETE", "/healthz", NULL, 0, NULL, NULL);

    expect_status (r, 405);
  }
  random_id (ws, (char[SYNC_ID_HEX_LEN + 1]){ 0 });
  g_assert_cmpint (create_workspace (relay->base, ws, admin, NULL), ==, 201);
  bytes = push_batch (relay->base, ws, admin, 1000);
  /* /metrics exists only on the metrics listener. */
  get_expect (relay->base, "/metrics", 404);

  after = scrape (relay, NULL);
  g_assert_cmpint (metric (after, "supolka_relay_requests_total{class=\"2xx\"}"), ==, 4);
  g_assert_cmpint (metric (after, "supolka_relay_requests_total{class=\"4xx\"}"), ==, 5);
  g_assert_cmpint (metric (after, "supolka_relay_requests_total{class=\"5xx\"}"), ==, 0);
  g_assert_cmpint (metric (after, "supolka_relay_requests_total{class=\"aborted\"}"), ==, 0);
  g_assert_cmpint (metric (after, "supolka_relay_workspaces"), ==, 1);
  g_assert_cmpint (metric (after, "supolka_relay_devices{status=\"active\"}"), ==, 1);
  g_assert_cmpint (metric (after, "supolka_relay_devices{status=\"pending\"}"), ==, 0);
  g_assert_cmpint (metric (after, "supolka_relay_devices{status=\"revoked\"}"), ==, 0);
  g_assert_cmpint (metric (after, "supolka_relay_batches_stored"), ==, 1);
  g_assert_cmpint (metric (after, "supolka_relay_bytes_stored"), ==, (gint64)bytes);
  g_assert_cmpint (metric (after, "supolka_relay_uptime_seconds"), >=,
                   metric (before, "supolka_relay_uptime_seconds"));

  /* Nothing that names a workspace, a device or a client. */
  raw = http (relay->metrics_base, NULL, "GET", "/metrics", NULL, 0, NULL, NULL);
  ws_hex = sync_hex_encode (ws, SYNC_ID_LEN);
  g_assert_null (strstr (raw->body->str, ws_hex));
  g_assert_null (strstr (raw->body->str, admin->id));
  g_assert_null (strstr (raw->body->str, HOST));

  /* The metrics listener serves nothing else. */
  get_expect (relay->metrics_base, "/healthz", 404);
  get_expect (relay->metrics_base, "/v1/workspaces", 404);
  {
    g_autoptr (Resp) r
        = http (relay->metrics_base, NULL, "POST", "/metrics", "x", 1, "text/plain", NULL);

    expect_status (r, 405);
  }
  err = relay_stop_log (relay);
}

static void
test_metrics_token (void)
{
  g_autofree char *dir = new_dir ("token");
  g_autoptr (GPtrArray) args = args_new ();
  g_autoptr (GHashTable) values = NULL;
  g_autofree char *err = NULL;
  Relay *relay;

  args_add (args, "--listen", HOST ":0", "--data", dir, "--metrics-listen", HOST ":0",
            "--metrics-token", METRICS_TOKEN, NULL);
  relay = relay_start_full (args, FALSE, TRUE);
  {
    g_autoptr (Resp) none
        = http (relay->metrics_base, NULL, "GET", "/metrics", NULL, 0, NULL, NULL);
    g_autoptr (Resp) wrong = http (relay->metrics_base, NULL, "GET", "/metrics", NULL, 0, NULL,
                                   "Authorization: Bearer " METRICS_TOKEN "x");
    g_autoptr (Resp) prefix = http (relay->metrics_base, NULL, "GET", "/metrics", NULL, 0, NULL,
                                    "Authorization: Bearer metrics-token");
    g_autoptr (Resp) basic = http (relay->metrics_base, NULL, "GET", "/metrics", NULL, 0, NULL,
                                   "Authorization: Basic " METRICS_TOKEN);

    expect_status (none, 401);
    g_assert_nonnull (none->www_authenticate);
    g_assert_true (g_str_has_prefix (none->www_authenticate, "Bearer"));
    g_assert_null (strstr (none->body->str, "supolka_relay_"));
    expect_status (wrong, 401);
    expect_status (prefix, 401);
    expect_status (basic, 401);
  }
  values = scrape (relay, "Authorization: Bearer " METRICS_TOKEN);
  g_assert_cmpint (metric (values, "supolka_relay_workspaces"), ==, 0);
  err = relay_stop_log (relay);
  /* The token is never logged. */
  g_assert_null (strstr (err, METRICS_TOKEN));
}

static void
test_metrics_refused (void)
{
  g_autofree char *dir = new_dir ("refused");
  g_autoptr (GPtrArray) a = args_new ();
  g_autoptr (GPtrArray) b = args_new ();
  g_autoptr (GPtrArray) c = args_new ();
  g_autoptr (GPtrArray) d = args_new ();

  /* Plain HTTP metrics off loopback, a token without a listener, a short token,
   * a listener off loopback without a token. */
  args_add (a, "--listen", HOST ":0", "--data", dir, "--metrics-listen", "0.0.0.0:0", NULL);
  expect_refused (a, "metrics-listen");
  args_add (b, "--listen", HOST ":0", "--data", dir, "--metrics-token", METRICS_TOKEN, NULL);
  expect_refused (b, "--metrics-token needs --metrics-listen");
  args_add (c, "--listen", HOST ":0", "--data", dir, "--metrics-listen", HOST ":0",
            "--metrics-token", "short", NULL);
  expect_refused (c, "at least 16");
  args_add (d, "--listen", HOST ":0", "--data", dir, "--insecure-http", "--metrics-listen",
            "0.0.0.0:0", NULL);
  expect_refused (d, "needs --metrics-token");
}

/* ---- --config --------------------------------------------------------------------------- */

static char *
write_config (const char *dir, const char *text)
{
  static guint counter;
  g_autofree char *name = g_strdup_printf ("relay-%u.conf", ++counter);
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  return path;
}

static gboolean
has_db (const char *dir)
{
  g_autofree char *db = g_build_filename (dir, "relay.db", NULL);

  return g_file_test (db, G_FILE_TEST_IS_REGULAR);
}

/* Sends @n signed requests quickly; returns how many were rate limited. */
static int
count_rate_limited (const char *base, const guint8 ws_raw[SYNC_ID_LEN], const Device *d, int n)
{
  g_autofree char *ws = sync_hex_encode (ws_raw, SYNC_ID_LEN);
  g_autofree char *path = g_strdup_printf ("/v1/workspaces/%s/devices", ws);
  int limited = 0;
  int i;

  for (i = 0; i < n; i++)
    {
      g_autoptr (Resp) r = http (base, d, "GET", path, NULL, 0, NULL, NULL);

      if (r->status == 429)
        limited++;
      else
        expect_status (r, 200);
    }
  return limited;
}

static void
test_config_values (void)
{
  g_autofree char *dir = new_dir ("config");
  g_autofree char *data = g_build_filename (dir, "from-file", NULL);
  g_autofree char *conf = NULL;
  g_autofree Device *admin = device_new ();
  g_autoptr (GPtrArray) args = args_new ();
  g_autofree char *err = NULL;
  guint8 ws[SYNC_ID_LEN];
  Relay *relay;

  /* A relative data path is taken from the file's folder. */
  conf = write_config (dir, "# a comment\n"
                            "[relay]\n"
                            "listen = " HOST ":0\n"
                            "data = from-file\n"
                            "create-token = file-token-1234\n"
                            "rate = 1\n"
                            "max-devices = 3\n"
                            "metrics-listen = " HOST ":0\n"
                            "log-ips = false\n");
  args_add (args, "--config", conf, NULL);
  relay = relay_start_full (args, FALSE, TRUE);
  g_assert_true (has_db (data));

  random_id (ws, (char[SYNC_ID_HEX_LEN + 1]){ 0 });
  g_assert_cmpint (create_workspace (relay->base, ws, admin, NULL), ==, 403);
  g_assert_cmpint (create_workspace (relay->base, ws, admin, "wrong-token"), ==, 403);
  g_assert_cmpint (create_workspace (relay->base, ws, admin, "file-token-1234"), ==, 201);
  /* rate = 1: a burst of 4, then 429. Sixteen requests in a row could all pass
   * only if they took more than twelve seconds. */
  g_assert_cmpint (count_rate_limited (relay->base, ws, admin, 16), >, 0);
  err = relay_stop_log (relay);
}

static void
test_config_override (void)
{
  g_autofree char *dir = new_dir ("override");
  g_autofree char *file_data = g_build_filename (dir, "from-file", NULL);
  g_autofree char *cli_data = g_build_filename (dir, "from-cli", NULL);
  g_autofree char *conf = NULL;
  g_autofree Device *admin = device_new ();
  g_autoptr (GPtrArray) args = args_new ();
  g_autofree char *err = NULL;
  guint8 ws[SYNC_ID_LEN];
  Relay *relay;

  conf = write_config (dir, "[relay]\n"
                            "listen = 192.0.2.1:1\n" /* would be refused: plain HTTP off loopback */
                            "data = from-file\n"
                            "create-token = file-token-1234\n"
                            "rate = 1\n");
  args_add (args, "--config", conf, "--listen", HOST ":0", "--data", cli_data, "--create-token",
            "cli-token-5678", "--rate", "1000", NULL);
  relay = relay_start_full (args, FALSE, FALSE);
  g_assert_true (has_db (cli_data));
  g_assert_false (has_db (file_data));

  random_id (ws, (char[SYNC_ID_HEX_LEN + 1]){ 0 });
  g_assert_cmpint (create_workspace (relay->base, ws, admin, "file-token-1234"), ==, 403);
  g_assert_cmpint (create_workspace (relay->base, ws, admin, "cli-token-5678"), ==, 201);
  /* --rate 1000 wins over rate = 1: a burst of 4000. */
  g_assert_cmpint (count_rate_limited (relay->base, ws, admin, 16), ==, 0);
  err = relay_stop_log (relay);
}

static void
test_config_refused (void)
{
  static const struct
  {
    const char *text;
    const char *needle;
  } cases[] = {
    { "[relay]\nlisten = 127.0.0.1:0\ndata = d\ncolour = blue\n", "unknown key 'colour'" },
    { "[relay]\nlisten = 127.0.0.1:0\ndata = d\nListen = 127.0.0.1:0\n", "unknown key 'Listen'" },
    { "[relay]\nlisten = 127.0.0.1:0\ndata = d\n[server]\nport = 1\n", "unknown group [server]" },
    { "[server]\nlisten = 127.0.0.1:0\n", "unknown group [server]" },
    { "# nothing\n", "no [relay] group" },
    { "listen = 127.0.0.1:0\n", "not a key file" },
    { "[relay]\nlisten = 127.0.0.1:0\ndata = d\nquota-mb = lots\n", "quota-mb" },
    { "[relay]\nlisten = 127.0.0.1:0\ndata = d\nquota-mb = 12abc\n", "quota-mb" },
    { "[relay]\nlisten = 127.0.0.1:0\ndata = d\nrate = 0\n", "rate" },
    { "[relay]\nlisten = 127.0.0.1:0\ndata = d\nmax-devices = -3\n", "max-devices" },
    { "[relay]\nlisten = 127.0.0.1:0\ndata = d\nrate = 99999999999\n", "rate" },
    { "[relay]\nlisten = 127.0.0.1:0\ndata = d\ninsecure-http = maybe\n", "insecure-http" },
    { "[relay]\nlisten = 127.0.0.1:0\ndata = d\nlog-ips = yes\n", "log-ips" },
    { "[relay]\nlisten = 127.0.0.1:0\ndata =\n", "data: a value is needed" },
    { "[relay]\nlisten = localhost:8443\ndata = d\n", "numeric" },
    { "[relay]\nlisten = 127.0.0.1:0\ndata = d\nmetrics-token = short\n",
      "--metrics-token needs --metrics-listen" },
  };
  g_autofree char *dir = new_dir ("bad-config");
  g_autofree char *missing = g_build_filename (dir, "missing.conf", NULL);
  g_autofree char *binary = g_build_filename (dir, "binary.conf", NULL);
  gsize i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *conf = write_config (dir, cases[i].text);
      g_autoptr (GPtrArray) args = args_new ();

      args_add (args, "--config", conf, NULL);
      expect_refused (args, cases[i].needle);
    }
  {
    g_autoptr (GPtrArray) args = args_new ();

    args_add (args, "--config", missing, "--listen", HOST ":0", "--data", dir, NULL);
    expect_refused (args, "missing.conf");
  }
  {
    g_autoptr (GPtrArray) args = args_new ();
    g_autoptr (GError) error = NULL;

    static const char text[] = "[relay]\nlisten = 127.0.0.1:0\n\0\n";

    g_file_set_contents (binary, text, sizeof text - 1, &error);
    g_assert_no_error (error);
    args_add (args, "--config", binary, NULL);
    expect_refused (args, "not a configuration file");
  }
  /* The command line still rejects its own bad values. */
  {
    g_autoptr (GPtrArray) args = args_new ();

    args_add (args, "--listen", HOST ":0", "--data", dir, "--rate", "0", NULL);
    expect_refused (args, "at least 1");
  }
}

/* ---- Logs ---------------------------------------------------------------------------- */

/* Splits "key=value key=value" (values may be quoted) and checks the shape. */
static GHashTable *
parse_log_line (const char *line)
{
  GHashTable *fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *p = line;

  while (*p)
    {
      const char *eq = strchr (p, '=');
      const char *end;
      char *key;

      g_assert_nonnull (eq);
      key = g_strndup (p, (gsize)(eq - p));
      g_assert_true (g_regex_match_simple ("^[a-z_]+$", key, 0, 0));
      if (eq[1] == '"')
        {
          end = eq + 2;
          while (*end && *end != '"')
            end += (*end == '\\' && end[1]) ? 2 : 1;
          g_assert_true (*end == '"');
          end++;
        }
      else
        end = eq + 1 + strcspn (eq + 1, " ");
      g_hash_table_insert (fields, key, g_strndup (eq + 1, (gsize)(end - eq - 1)));
      g_assert_true (*end == '\0' || *end == ' ');
      p = *end ? end + 1 : end;
    }
  return fields;
}

/* Runs a few requests against a relay started with @extra and returns its log. */
static char *
log_of_session (const char *extra, gboolean journal)
{
  g_autofree char *dir = new_dir ("logs");
  g_autoptr (GPtrArray) args = args_new ();
  g_autofree Device *admin = device_new ();
  guint8 ws[SYNC_ID_LEN];
  Relay *relay;

  args_add (args, "--listen", HOST ":0", "--data", dir, extra, NULL);
  relay = relay_start_full (args, journal, FALSE);
  get_expect (relay->base, "/healthz", 200);
  get_expect (relay->base, "/no/such/path", 404);
  random_id (ws, (char[SYNC_ID_HEX_LEN + 1]){ 0 });
  g_assert_cmpint (create_workspace (relay->base, ws, admin, NULL), ==, 201);
  return relay_stop_log (relay);
}

static void
check_log (const char *log, const char *prefix, gboolean with_ips)
{
  g_auto (GStrv) lines = g_strsplit (log, "\n", -1);
  guint requests = 0;
  guint i;

  for (i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      g_autoptr (GHashTable) f = NULL;

      if (!g_str_has_prefix (lines[i], prefix))
        g_error ("log line without '%s': %s", prefix, lines[i]);
      f = parse_log_line (lines[i] + strlen (prefix));
      g_assert_nonnull (g_hash_table_lookup (f, "level"));
      g_assert_nonnull (g_hash_table_lookup (f, "event"));
      if (strcmp (g_hash_table_lookup (f, "event"), "request") != 0)
        continue;
      requests++;
      g_assert_nonnull (g_hash_table_lookup (f, "method"));
      g_assert_nonnull (g_hash_table_lookup (f, "path"));
      g_assert_true (g_regex_match_simple ("^[0-9]{3}$", g_hash_table_lookup (f, "status"), 0, 0));
      g_assert_true (
          g_regex_match_simple ("^[0-9]+\\.[0-9]$", g_hash_table_lookup (f, "duration_ms"), 0, 0));
      if (with_ips)
        g_assert_cmpstr (g_hash_table_lookup (f, "client"), ==, HOST);
      else
        g_assert_false (g_hash_table_contains (f, "client"));
    }
  g_assert_null (lines[i] == NULL ? NULL : lines[i + 1]); /* nothing after the last newline */
  g_assert_cmpuint (requests, ==, 3);
}

static void
test_logs_no_ips (void)
{
  g_autofree char *log = log_of_session ("--rate=50", FALSE);

  check_log (log, "supolka-relay: ", FALSE);
  g_assert_null (strstr (log, HOST));
  g_assert_null (strstr (log, "client"));
  g_assert_nonnull (strstr (log, "level=info event=request method=GET path=/healthz status=200 "));
  g_assert_nonnull (strstr (log, "path=/no/such/path status=404 "));
  g_assert_nonnull (strstr (log, "event=start "));
  g_assert_nonnull (strstr (log, "event=stop"));
}

static void
test_logs_with_ips (void)
{
  g_autofree char *log = log_of_session ("--log-ips", FALSE);

  check_log (log, "supolka-relay: ", TRUE);
  g_assert_nonnull (strstr (log, " client=" HOST));
}

static void
test_logs_journal (void)
{
  g_autofree char *log = log_of_session ("--rate=50", TRUE);

  /* Priority prefixes for journald, no program name (the journal has it). */
  check_log (log, "<6>", FALSE);
  g_assert_null (strstr (log, "supolka-relay:"));
  g_assert_null (strstr (log, HOST));
}

/* ---- Main ------------------------------------------------------------------------- */

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_assert_true (sync_protocol_init (NULL));
  g_assert_cmpint (curl_global_init (CURL_GLOBAL_DEFAULT), ==, CURLE_OK);
  tmp_root = g_dir_make_tmp ("supolka-relay-ops-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add_func ("/relay-ops/metrics/counts", test_metrics_counts);
  g_test_add_func ("/relay-ops/metrics/token", test_metrics_token);
  g_test_add_func ("/relay-ops/metrics/refused", test_metrics_refused);
  g_test_add_func ("/relay-ops/config/values", test_config_values);
  g_test_add_func ("/relay-ops/config/override", test_config_override);
  g_test_add_func ("/relay-ops/config/refused", test_config_refused);
  g_test_add_func ("/relay-ops/logs/no-ips", test_logs_no_ips);
  g_test_add_func ("/relay-ops/logs/with-ips", test_logs_with_ips);
  g_test_add_func ("/relay-ops/logs/journal", test_logs_journal);

  ret = g_test_run ();

  remove_tree (tmp_root);
  g_free (tmp_root);
  curl_global_cleanup ();
  return ret;
}
