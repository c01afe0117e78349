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

#include "sync-protocol.h"

#define HOST "127.0.0.1"
#define CREATE_TOKEN "test-create-token-7f3a"
#define KIB 1024
#define MIB (1024 * 1024)

/* ---- Running relays ------------------------------------------------------------ */

typedef struct
{
  GPid pid;
  int out_fd;
  char *data_dir;
  char *base; /* "http://127.0.0.1:PORT" */
  guint port;
} Relay;

static char *tmp_root;
static Relay *main_relay;    /* default limits */
static Relay *limited_relay; /* --create-token, --quota-mb 1, --rate 2, --max-devices 2 */

static const char *
relay_path (void)
{
  const char *path = g_getenv ("SUPOLKA_RELAY");

  g_assert_nonnull (path);
  return path;
}

static char *
new_data_dir (const char *name)
{
  static guint counter;

  return g_strdup_printf ("%s/%s-%u", tmp_root, name, ++counter);
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

/* A relay never outlives the test, even when an assertion aborts it. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
spawn_relay (const char *data_dir, const char *listen, const char *const *extra, GPid *pid,
             int *out_fd)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (argv, (gpointer)relay_path ());
  g_ptr_array_add (argv, (gpointer) "--listen");
  g_ptr_array_add (argv, (gpointer)listen);
  g_ptr_array_add (argv, (gpointer) "--data");
  g_ptr_array_add (argv, (gpointer)data_dir);
  for (; extra != NULL && *extra != NULL; extra++)
    g_ptr_array_add (argv, (gpointer)*extra);
  g_ptr_array_add (argv, NULL);
  g_spawn_async_with_pipes (NULL, (char **)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                            die_with_parent, NULL, pid, NULL, out_fd, NULL, &error);
  g_assert_no_error (error);
}

static Relay *
relay_start (const char *data_dir, const char *const *extra)
{
  Relay *relay = g_new0 (Relay, 1);
  g_autofree char *line = NULL;
  const char *prefix = "listening on " HOST ":";
  guint64 port = 0;

  relay->data_dir = g_strdup (data_dir);
  spawn_relay (data_dir, HOST ":0", extra, &relay->pid, &relay->out_fd);
  line = read_line (relay->out_fd, 20000);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, prefix));
  g_assert_true (g_ascii_string_to_unsigned (line + strlen (prefix), 10, 1, 65535, &port, NULL));
  relay->port = (guint)port;
  relay->base = g_strdup_printf ("http://" HOST ":%u", relay->port);
  return relay;
}

/* Waits for the child; returns its wait status. */
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

static void
relay_free (Relay *relay)
{
  close (relay->out_fd);
  g_free (relay->data_dir);
  g_free (relay->base);
  g_free (relay);
}

/* SIGTERM: the relay must stop cleanly (exit 0; under ASan, also leak-free). */
static void
relay_stop (Relay *relay)
{
  int status;

  kill (relay->pid, SIGTERM);
  status = wait_child (relay->pid, 20000);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  relay_free (relay);
}

static void
relay_kill (Relay *relay)
{
  int status;

  kill (relay->pid, SIGKILL);
  status = wait_child (relay->pid, 20000);
  g_assert_true (WIFSIGNALED (status));
  relay_free (relay);
}

/* ---- Devices and workspaces ----------------------------------------------------- */

typedef struct
{
  char id[SYNC_ID_HEX_LEN + 1];
  guint8 raw_id[SYNC_ID_LEN];
  guint8 auth_pk[32], auth_sk[64];
  guint8 sign_pk[32], sign_sk[64];
  guint8 box_pk[32], box_sk[32];
} Device;

typedef struct
{
  char id[SYNC_ID_HEX_LEN + 1];
  guint8 raw_id[SYNC_ID_LEN];
} Workspace;

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

static void
device_free (Device *d)
{
  sodium_memzero (d, sizeof *d);
  g_free (d);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Device, device_free)

static Workspace
workspace_new (void)
{
  Workspace ws;

  random_id (ws.raw_id, ws.id);
  return ws;
}

/* "\"device\":…,\"auth_pk\":…,\"sign_pk\":…,\"box_pk\":…" */
static char *
device_members (const Device *d)
{
  g_autofree char *auth = g_base64_encode (d->auth_pk, 32);
  g_autofree char *sign = g_base64_encode (d->sign_pk, 32);
  g_autofree char *box = g_base64_encode (d->box_pk, 32);

  return g_strdup_printf (
      "\"device\":\"%s\",\"auth_pk\":\"%s\",\"sign_pk\":\"%s\",\"box_pk\":\"%s\"", d->id, auth,
      sign, box);
}

static void
bytes_unref (gpointer bytes)
{
  g_bytes_unref (bytes);
}

/* ---- HTTP ------------------------------------------------------------------------ */

typedef struct
{
  gint64 time_offset;       /* seconds added to the real clock */
  const char *nonce;        /* a fixed nonce instead of a fresh one */
  const char *send_nonce;   /* sign with a fresh nonce, send this X-Supolka-Nonce */
  gboolean bad_signature;   /* flip one bit of the signature */
  gboolean no_auth;         /* send no X-Supolka-* header */
  const char *sign_path;    /* sign this path instead of the one sent */
  const char *create_token; /* X-Supolka-Create-Token */
  const char *content_type;
  const char *base; /* another base URL (TLS) */
  const char *ca_file;
  gboolean may_fail; /* a transport error is an answer too (status 0) */
} Opts;

typedef struct
{
  long status;
  GByteArray *body;
  JsonNode *json;
  char *retry_after;
} Resp;

static void
resp_free (Resp *resp)
{
  g_byte_array_unref (resp->body);
  if (resp->json)
    json_node_unref (resp->json);
  g_free (resp->retry_after);
  g_free (resp);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Resp, resp_free)

static size_t
on_body (char *ptr, size_t size, size_t nmemb, void *user_data)
{
  g_byte_array_append (user_data, (const guint8 *)ptr, (guint)(size * nmemb));
  return size * nmemb;
}

static size_t
on_header (char *ptr, size_t size, size_t nmemb, void *user_data)
{
  Resp *resp = user_data;
  gsize len = size * nmemb;

  if (len > 12 && g_ascii_strncasecmp (ptr, "Retry-After:", 12) == 0)
    {
      g_free (resp->retry_after);
      resp->retry_after = g_strstrip (g_strndup (ptr + 12, len - 12));
    }
  return len;
}

static Resp *
http (Relay *relay, const Device *d, const char *method, const char *path, const void *body,
      gsize len, const Opts *opts)
{
  static const Opts no_opts = { 0 };
  Resp *resp = g_new0 (Resp, 1);
  g_autofree char *url = NULL;
  struct curl_slist *headers = NULL;
  CURL *curl = curl_easy_init ();
  CURLcode rc;

  if (opts == NULL)
    opts = &no_opts;
  url = g_strconcat (opts->base ? opts->base : relay->base, path, NULL);
  resp->body = g_byte_array_new ();

  if (d != NULL && !opts->no_auth)
    {
      char nonce[SYNC_AUTH_NONCE_HEX_LEN + 1];
      gint64 now = g_get_real_time () / G_USEC_PER_SEC + opts->time_offset;
      g_autofree char *sig = NULL;
      g_autofree char *h = NULL;
      g_autoptr (GError) error = NULL;

      if (opts->nonce)
        g_strlcpy (nonce, opts->nonce, sizeof nonce);
      else
        sync_auth_new_nonce (nonce);
      g_assert_true (sync_auth_sign (d->auth_sk, method, opts->sign_path ? opts->sign_path : path,
                                     body, len, now, nonce, d->id, &sig, &error));
      g_assert_no_error (error);
      if (opts->bad_signature)
        {
          gsize n = 0;
          g_autofree guint8 *raw = g_base64_decode (sig, &n);

          raw[10] ^= 0x01;
          g_free (sig);
          sig = g_base64_encode (raw, n);
        }
      h = g_strdup_printf (SYNC_AUTH_HEADER_DEVICE ": %s", d->id);
      headers = curl_slist_append (headers, h);
      g_free (h);
      h = g_strdup_printf (SYNC_AUTH_HEADER_TIME ": %" G_GINT64_FORMAT, now);
      headers = curl_slist_append (headers, h);
      g_free (h);
      h = g_strdup_printf (SYNC_AUTH_HEADER_NONCE ": %s",
                           opts->send_nonce ? opts->send_nonce : nonce);
      headers = curl_slist_append (headers, h);
      g_free (h);
      h = g_strdup_printf (SYNC_AUTH_HEADER_SIGNATURE ": %s", sig);
      headers = curl_slist_append (headers, h);
    }
  if (opts->create_token)
    {
      g_autofree char *h = g_strdup_printf ("X-Supolka-Create-Token: %s", opts->create_token);

      headers = curl_slist_append (headers, h);
    }
  if (body != NULL || opts->content_type)
    {
      g_autofree char *h = g_strdup_printf (
          "Content-Type: %s", opts->content_type ? opts->content_type : "application/json");

      headers = curl_slist_append (headers, h);
    }

  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, resp->body);
  curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (curl, CURLOPT_HEADERDATA, resp);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, 30L);
  if (opts->ca_file)
    curl_easy_setopt (curl, CURLOPT_CAINFO, opts->ca_file);
  if (body != NULL)
    {
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
      curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
  rc = curl_easy_perform (curl);
  if (rc != CURLE_OK && !opts->may_fail)
    g_error ("%s %s: %s", method, path, curl_easy_strerror (rc));
  if (rc == CURLE_OK)
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &resp->status);
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);

  if (resp->body->len > 0)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();

      if (json_parser_load_from_data (parser, (const char *)resp->body->data,
                                      (gssize)resp->body->len, NULL))
        resp->json = json_parser_steal_root (parser);
    }
  return resp;
}

static Resp *
http_json (Relay *relay, const Device *d, const char *method, const char *path, const char *json,
           const Opts *opts)
{
  return http (relay, d, method, path, json, json ? strlen (json) : 0, opts);
}

static JsonObject *
resp_object (Resp *resp)
{
  g_assert_nonnull (resp->json);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (resp->json));
  return json_node_get_object (resp->json);
}

static const char *
resp_error (Resp *resp)
{
  JsonObject *obj = resp_object (resp);

  g_assert_true (json_object_has_member (obj, "message"));
  return json_object_get_string_member (obj, "error");
}

static gint64
resp_int (Resp *resp, const char *name)
{
  JsonObject *obj = resp_object (resp);

  g_assert_true (json_object_has_member (obj, name));
  return json_object_get_int_member (obj, name);
}

/* Asserts status and (when given) the error code. */
static void
expect (Resp *resp, long status, const char *error_code)
{
  if (resp->status != status)
    g_error ("expected %ld, got %ld: %.*s", status, resp->status, (int)MIN (resp->body->len, 400),
             (const char *)resp->body->data);
  if (error_code != NULL)
    g_assert_cmpstr (resp_error (resp), ==, error_code);
}

static char *
ws_path (const Workspace *ws, const char *suffix)
{
  return g_strdup_printf ("/v1/workspaces/%s%s", ws->id, suffix);
}

/* ---- Protocol steps ---------------------------------------------------------------- */

static Resp *
create_workspace (Relay *relay, const Workspace *ws, const Device *admin, const char *token)
{
  g_autofree char *members = device_members (admin);
  g_autofree char *json
      = g_strdup_printf ("{%s,\"entry\":\"genesis entry of %s\"}", members, admin->id);
  g_autofree char *path = ws_path (ws, "");
  Opts opts = { .create_token = token };

  return http_json (relay, admin, "POST", path, json, &opts);
}

static void
make_invite (Relay *relay, const Workspace *ws, const Device *admin, guint8 token[32], gint64 ttl)
{
  guint8 hash[SYNC_HASH_LEN];
  g_autofree char *hash_hex = NULL;
  g_autofree char *json = NULL;
  g_autofree char *path = ws_path (ws, "/invites");
  g_autoptr (Resp) resp = NULL;

  randombytes_buf (token, 32);
  sync_hash (token, 32, hash);
  hash_hex = sync_hex_encode (hash, sizeof hash);
  json = g_strdup_printf ("{\"token_hash\":\"%s\",\"expires\":%" G_GINT64_FORMAT "}", hash_hex,
                          g_get_real_time () / G_USEC_PER_SEC + ttl);
  resp = http_json (relay, admin, "POST", path, json, NULL);
  expect (resp, 201, NULL);
}

static Resp *
join (Relay *relay, const Workspace *ws, const Device *d, const guint8 token[32])
{
  g_autofree char *members = device_members (d);
  g_autofree char *token_hex = sync_hex_encode (token, 32);
  g_autofree char *json = g_strdup_printf ("{\"token\":\"%s\",%s}", token_hex, members);
  g_autofree char *path = ws_path (ws, "/join");

  return http_json (relay, d, "POST", path, json, NULL);
}

static gint64
log_head (Relay *relay, const Workspace *ws, const Device *d)
{
  g_autofree char *path = ws_path (ws, "/log?since=0");
  g_autoptr (Resp) resp = http (relay, d, "GET", path, NULL, 0, NULL);

  expect (resp, 200, NULL);
  return resp_int (resp, "head");
}

static Resp *
post_log (Relay *relay, const Workspace *ws, const Device *signer, gint64 version,
          const char *action, const char *subject)
{
  g_autofree char *path = ws_path (ws, "/log");
  g_autofree char *subject_json = subject ? g_strdup_printf ("\"%s\"", subject) : g_strdup ("null");
  g_autofree char *json = g_strdup_printf ("{\"version\":%" G_GINT64_FORMAT
                                           ",\"entry\":\"signed %s entry %" G_GINT64_FORMAT
                                           "\",\"action\":\"%s\",\"subject\":%s}",
                                           version, action, version, action, subject_json);

  return http_json (relay, signer, "POST", path, json, NULL);
}

/* Invites, joins and approves @d: afterwards it is an active member. */
static void
enrol (Relay *relay, const Workspace *ws, const Device *admin, const Device *d)
{
  guint8 token[32];
  g_autoptr (Resp) joined = NULL;
  g_autoptr (Resp) approved = NULL;

  make_invite (relay, ws, admin, token, 3600);
  joined = join (relay, ws, d, token);
  expect (joined, 202, NULL);
  approved = post_log (relay, ws, admin, log_head (relay, ws, admin) + 1, "add", d->id);
  expect (approved, 201, NULL);
}

static void
setup_workspace (Relay *relay, Workspace *ws, Device **admin)
{
  g_autoptr (Resp) resp = NULL;

  *ws = workspace_new ();
  *admin = device_new ();
  resp = create_workspace (relay, ws, *admin, NULL);
  expect (resp, 201, NULL);
}

/* An envelope whose ciphertext is @plain under a fresh secretbox key. */
static GBytes *
make_envelope (const Workspace *ws, const guint8 device_id[SYNC_ID_LEN], const Device *signer,
               guint64 seq, const guint8 *plain, gsize plain_len)
{
  SyncEnvelopeHeader header = { 0 };
  guint8 key[crypto_secretbox_KEYBYTES];
  g_autofree guint8 *ct = g_malloc (plain_len + crypto_secretbox_MACBYTES);
  g_autoptr (GError) error = NULL;
  GBytes *envelope;

  G_STATIC_ASSERT (crypto_secretbox_NONCEBYTES == SYNC_ENVELOPE_NONCE_LEN);
  memcpy (header.workspace, ws->raw_id, SYNC_ID_LEN);
  memcpy (header.device, device_id, SYNC_ID_LEN);
  header.epoch = 1;
  header.seq = seq;
  randombytes_buf (header.nonce, sizeof header.nonce);
  randombytes_buf (header.commitment, sizeof header.commitment);
  crypto_secretbox_keygen (key);
  crypto_secretbox_easy (ct, plain, plain_len, header.nonce, key);
  envelope = sync_envelope_build (&header, ct, plain_len + crypto_secretbox_MACBYTES,
                                  signer->sign_sk, &error);
  g_assert_no_error (error);
  return envelope;
}

static GBytes *
random_envelope (const Workspace *ws, const Device *d, guint64 seq, gsize plain_len)
{
  g_autofree guint8 *plain = g_malloc (plain_len);

  randombytes_buf (plain, plain_len);
  return make_envelope (ws, d->raw_id, d, seq, plain, plain_len);
}

static Resp *
post_envelope (Relay *relay, const Workspace *ws, const Device *d, GBytes *envelope)
{
  g_autofree char *path = ws_path (ws, "/batches");
  Opts opts = { .content_type = "application/octet-stream" };
  gsize len;
  const guint8 *data = g_bytes_get_data (envelope, &len);

  return http (relay, d, "POST", path, data, len, &opts);
}

static Resp *
post_raw_batch (Relay *relay, const Workspace *ws, const Device *d, const guint8 *data, gsize len)
{
  g_autofree char *path = ws_path (ws, "/batches");
  Opts opts = { .content_type = "application/octet-stream" };

  return http (relay, d, "POST", path, data, len, &opts);
}

static gint64
push (Relay *relay, const Workspace *ws, const Device *d, GBytes *envelope)
{
  g_autoptr (Resp) resp = post_envelope (relay, ws, d, envelope);

  expect (resp, 201, NULL);
  return resp_int (resp, "cursor");
}

/* Every batch of the workspace after @since, in pages of @limit; *pages counts them. */
static GPtrArray *
pull_all (Relay *relay, const Workspace *ws, const Device *d, gint64 since, guint limit,
          guint *pages)
{
  GPtrArray *all = g_ptr_array_new_with_free_func (bytes_unref);
  gboolean more = TRUE;

  *pages = 0;
  while (more)
    {
      g_autofree char *path = NULL;
      g_autoptr (Resp) resp = NULL;
      JsonArray *batches;
      gsize page_bytes = 0;
      guint i;

      path = g_strdup_printf ("/v1/workspaces/%s/batches?since=%" G_GINT64_FORMAT "&limit=%u",
                              ws->id, since, limit);
      resp = http (relay, d, "GET", path, NULL, 0, NULL);
      expect (resp, 200, NULL);
      batches = json_object_get_array_member (resp_object (resp), "batches");
      more = json_object_get_boolean_member (resp_object (resp), "more");
      g_assert_cmpuint (json_array_get_length (batches), <=, limit);
      (*pages)++;
      for (i = 0; i < json_array_get_length (batches); i++)
        {
          JsonObject *b = json_array_get_object_element (batches, i);
          gint64 cursor = json_object_get_int_member (b, "cursor");
          gsize n = 0;
          guint8 *data = g_base64_decode (json_object_get_string_member (b, "data"), &n);
          SyncEnvelopeHeader header;
          g_autofree char *device_hex = NULL;

          g_assert_cmpint (cursor, >, since);
          since = cursor;
          g_assert_true (sync_envelope_parse_header (data, n, &header, NULL));
          device_hex = sync_hex_encode (header.device, SYNC_ID_LEN);
          g_assert_cmpstr (json_object_get_string_member (b, "device"), ==, device_hex);
          g_assert_cmpint (json_object_get_int_member (b, "seq"), ==, (gint64)header.seq);
          page_bytes += n;
          g_ptr_array_add (all, g_bytes_new_take (data, n));
        }
      /* A page holds at most ~4 MiB, unless one batch alone is bigger. */
      g_assert_true (page_bytes <= 4 * MIB || json_array_get_length (batches) == 1);
      g_assert_true (!more || json_array_get_length (batches) > 0);
    }
  return all;
}

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
  g_autoptr (Resp) expired = NULL;
  g_autoptr (Resp) too_far = NULL;
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
  g_autofree char *invites_path = NULL;
  g_autofree char *json = NULL;
  guint8 token[32];
  guint8 token2[32];
  guint8 short_token[32];
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

  /* An invite more than 7 days away is refused; one that lapsed cannot be used. */
  invites_path = ws_path (&ws, "/invites");
  json = g_strdup_printf ("{\"token_hash\":\"%064d\",\"expires\":%" G_GINT64_FORMAT "}", 0,
                          g_get_real_time () / G_USEC_PER_SEC + 8 * 24 * 3600);
  too_far = http_json (main_relay, admin, "POST", invites_path, json, NULL);
  expect (too_far, 400, "invalid");
  make_invite (main_relay, &ws, admin, short_token, 2);
  g_usleep (3100 * 1000);
  expired = join (main_relay, &ws, late, short_token);
  expect (expired, 403, "invite");

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

/* memmem() without _GNU_SOURCE. */
static gboolean
contains_bytes (const guint8 *hay, gsize hay_len, const guint8 *needle, gsize needle_len)
{
  gsize i;

  if (needle_len == 0 || needle_len > hay_len)
    return needle_len == 0;
  for (i = 0; i + needle_len <= hay_len; i++)
    if (hay[i] == needle[0] && memcmp (hay + i, needle, needle_len) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
dir_contains (const char *dir, const guint8 *needle, gsize needle_len, guint *files)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (dir_contains (path, needle, needle_len, files))
            return TRUE;
          continue;
        }
      g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
      (*files)++;
      if (contains_bytes ((const guint8 *)contents, len, needle, needle_len))
        return TRUE;
    }
  return FALSE;
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

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

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
