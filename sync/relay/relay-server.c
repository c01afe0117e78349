/* The relay's HTTP side, its lower layer: configuration, the libmicrohttpd
 * daemon, the life of a request (routing, size limits, body collection),
 * authentication, rate limits, replies and the request log. It knows no
 * endpoint by name: it routes through the table the upper layer registered
 * with relay_server_new (relay-api.c's sync_relay_new), and the handlers call
 * down into it (relay_authenticate, relay_reply_*), never the other way.
 *
 * A request goes through on_uri() (MHD hands us the raw request target, which
 * is what the client signed), then on_request() at least twice: once when the
 * headers are in (route, method and Content-Length are checked there, so an
 * oversized body is refused before it is read), once per chunk of body, and a
 * last time when the body is complete, when the endpoint runs under the relay's
 * lock. on_completed() counts the answer for /metrics, writes the log line and
 * frees the request.
 *
 * Operations: an optional second listener serves GET /metrics (Prometheus text
 * format: counts and totals only, never an id or an address), and the log is one
 * key=value line per event, journald-friendly, without client addresses unless
 * log_ips is set.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <arpa/inet.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relay-private.h"

G_DEFINE_QUARK (sync - relay - error - quark, sync_relay_error)

#define RELAY_THREADS 4
#define RELAY_CONNECTION_MEMORY (64 * 1024)
#define RELAY_CONNECTION_LIMIT 256
#define RELAY_CONNECTION_TIMEOUT 30
#define RELAY_MAX_BUCKETS 4096
#define RELAY_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define RELAY_METRICS_CONNECTION_LIMIT 16
#define RELAY_AUTH_HEADER_MAX 1024

/* ---- Logging ------------------------------------------------------------------------ */

/* TRUE when stderr is the journal: systemd sets $JOURNAL_STREAM to its "dev:ino". */
static gboolean
log_to_journal (void)
{
  static gsize once = 0;
  static gboolean journal = FALSE;

  if (g_once_init_enter (&once))
    {
      const char *stream = g_getenv ("JOURNAL_STREAM");
      struct stat st;

      if (stream != NULL && fstat (STDERR_FILENO, &st) == 0)
        {
          g_autofree char *mine = g_strdup_printf ("%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT,
                                                   (guint64)st.st_dev, (guint64)st.st_ino);

          journal = strcmp (stream, mine) == 0;
        }
      g_once_init_leave (&once, 1);
    }
  return journal;
}

char *
sync_relay_log_quote (const char *text, gsize max)
{
  GString *out = g_string_new ("\"");
  gsize i;

  for (i = 0; text != NULL && text[i] && i < max; i++)
    {
      char c = text[i];

      if (c == '"' || c == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, (c >= ' ' && c <= '~') ? c : '?');
    }
  if (text != NULL && i == max && text[i])
    g_string_append (out, "...");
  g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}

void
sync_relay_log (SyncRelayLogLevel level, const char *event, const char *format, ...)
{
  const char *name = level <= SYNC_RELAY_LOG_ERROR     ? "error"
                     : level <= SYNC_RELAY_LOG_WARNING ? "warning"
                                                       : "info";
  g_autofree char *rest = NULL;
  va_list ap;

  if (format != NULL)
    {
      va_start (ap, format);
      rest = g_strdup_vprintf (format, ap);
      va_end (ap);
    }
  /* One write per line, so lines from MHD's threads do not interleave. */
  if (log_to_journal ())
    g_printerr ("<%d>level=%s event=%s%s%s\n", (int)level, name, event, rest ? " " : "",
                rest ? rest : "");
  else
    g_printerr ("supolka-relay: level=%s event=%s%s%s\n", name, event, rest ? " " : "",
                rest ? rest : "");
}

/* ---- Routes ------------------------------------------------------------------------ */

/* The handler the upper layer registered for this route and method, or NULL. */
static const RelayEndpoint *
find_endpoint (SyncRelay *relay, RelayRoute route, const char *method)
{
  for (gsize i = 0; i < relay->n_endpoints; i++)
    if (relay->endpoints[i].route == route && strcmp (relay->endpoints[i].method, method) == 0)
      return &relay->endpoints[i];
  return NULL;
}

/* The methods registered for @route, for a 405's Allow header: "GET, POST". */
static char *
route_allow (SyncRelay *relay, RelayRoute route)
{
  GString *allow = g_string_new (NULL);

  for (gsize i = 0; i < relay->n_endpoints; i++)
    if (relay->endpoints[i].route == route)
      g_string_append_printf (allow, "%s%s", allow->len ? ", " : "", relay->endpoints[i].method);
  return g_string_free (allow, FALSE);
}

/* Matches the (decoded) path. Workspace ids are checked here: 32 lowercase hex. */
static RelayRoute
match_route (const char *path, char ws[SYNC_ID_HEX_LEN + 1])
{
  static const char prefix[] = "/v1/workspaces/";
  static const struct
  {
    const char *suffix;
    RelayRoute route;
  } suffixes[] = {
    { "", ROUTE_WORKSPACE },         { "/invites", ROUTE_INVITES }, { "/join", ROUTE_JOIN },
    { "/devices", ROUTE_DEVICES },   { "/log", ROUTE_LOG },         { "/batches", ROUTE_BATCHES },
    { "/snapshot", ROUTE_SNAPSHOT }, { "/prune", ROUTE_PRUNE },     { "/stash", ROUTE_STASH },
  };
  const char *id;
  const char *rest;
  gsize i;

  ws[0] = '\0';
  if (strcmp (path, "/healthz") == 0)
    return ROUTE_HEALTHZ;
  if (!g_str_has_prefix (path, prefix))
    return ROUTE_NONE;
  id = path + strlen (prefix);
  rest = strchr (id, '/');
  if (rest == NULL)
    rest = id + strlen (id);
  for (i = 0; i < G_N_ELEMENTS (suffixes); i++)
    if (strcmp (rest, suffixes[i].suffix) == 0)
      {
        if (rest - id != SYNC_ID_HEX_LEN)
          return ROUTE_BAD_ID;
        memcpy (ws, id, SYNC_ID_HEX_LEN);
        ws[SYNC_ID_HEX_LEN] = '\0';
        return sync_id_is_valid (ws) ? suffixes[i].route : ROUTE_BAD_ID;
      }
  return ROUTE_NONE;
}

/* ---- Replies ---------------------------------------------------------------------- */

gboolean
relay_snapshot_memory_reserve (SyncRelay *relay, guint64 bytes)
{
  guint64 budget = relay->config.max_snapshot_bytes * RELAY_SNAPSHOT_BUDGET_FACTOR;
  gboolean ok;

  g_mutex_lock (&relay->transfer_lock);
  ok = relay->snapshot_memory == 0 || relay->snapshot_memory + bytes <= budget;
  if (ok)
    relay->snapshot_memory += bytes;
  g_mutex_unlock (&relay->transfer_lock);
  return ok;
}

void
relay_snapshot_memory_release (SyncRelay *relay, guint64 bytes)
{
  g_mutex_lock (&relay->transfer_lock);
  relay->snapshot_memory -= MIN (bytes, relay->snapshot_memory);
  g_mutex_unlock (&relay->transfer_lock);
}

void
relay_reply_add_header (RelayReply *reply, const char *name, const char *value)
{
  if (reply->headers == NULL)
    reply->headers = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (reply->headers, g_strdup (name));
  g_ptr_array_add (reply->headers, g_strdup (value));
}

static char *
error_json (const char *code, const char *message, const char *key, gint64 value)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_add_string_value (builder, code);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  if (key != NULL)
    {
      json_builder_set_member_name (builder, key);
      json_builder_add_int_value (builder, value);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

void
relay_reply_take_json (RelayReply *reply, guint status, char *json)
{
  g_free (reply->body);
  reply->status = status;
  reply->body = json;
  reply->len = strlen (json);
}

void
relay_reply_error (RelayReply *reply, guint status, const char *code, const char *message)
{
  relay_reply_take_json (reply, status, error_json (code, message, NULL, 0));
}

void
relay_reply_error_int (RelayReply *reply, guint status, const char *code, const char *message,
                       const char *key, gint64 value)
{
  relay_reply_take_json (reply, status, error_json (code, message, key, value));
}

void
relay_reply_internal (RelayReply *reply, const GError *error)
{
  /* The detail (a SQLite message) goes to the operator's log, not to the client. */
  g_autofree char *message = sync_relay_log_quote (error ? error->message : "unknown", 400);

  sync_relay_log (SYNC_RELAY_LOG_ERROR, "internal_error", "message=%s", message);
  relay_reply_error (reply, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                     "The relay failed to handle the request; try again later");
}

/* ---- Requests ------------------------------------------------------------------------ */

typedef struct
{
  char *raw_uri;
  char *log_method;
  char *log_path;
  gint64 start_us;
  gboolean started;
  const RelayEndpoint *endpoint;
  GByteArray *body;
  guint status;
  char ws[SYNC_ID_HEX_LEN + 1];
  char *client;           /* the peer's address, only with log_ips */
  SyncRelay *relay;       /* for the counters */
  gsize body_limit;       /* the endpoint's, or --max-snapshot-mb */
  guint64 snapshot_bytes; /* held in relay->snapshot_memory until completed */
} RelayRequest;

static void
relay_request_free (RelayRequest *req)
{
  g_free (req->raw_uri);
  g_free (req->log_method);
  g_free (req->log_path);
  g_free (req->client);
  if (req->body != NULL)
    g_byte_array_unref (req->body);
  g_free (req);
}

/* Printable ASCII only and bounded, so a hostile path cannot forge log lines. */
static char *
log_safe (const char *s, gsize max)
{
  GString *out = g_string_new (NULL);
  gsize i;

  for (i = 0; s != NULL && s[i] && i < max; i++)
    g_string_append_c (out, (s[i] > ' ' && s[i] <= '~') ? s[i] : '?');
  if (s != NULL && i == max && s[i])
    g_string_append (out, "...");
  return g_string_free (out, FALSE);
}

static void *
on_uri (void *cls, const char *uri, struct MHD_Connection *connection)
{
  RelayRequest *req = g_new0 (RelayRequest, 1);

  req->relay = cls;
  req->start_us = g_get_monotonic_time ();
  /* Keep one byte more than allowed: enough to tell that it is too long. */
  req->raw_uri = g_strndup (uri ? uri : "", RELAY_MAX_URI + 1);
  return req;
}

/* The peer's numeric address, for --log-ips only. */
static char *
client_address (struct MHD_Connection *connection)
{
  const union MHD_ConnectionInfo *info
      = MHD_get_connection_info (connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  char text[INET6_ADDRSTRLEN] = "";

  if (info == NULL || info->client_addr == NULL)
    return g_strdup ("-");
  if (info->client_addr->sa_family == AF_INET)
    inet_ntop (AF_INET, &((const struct sockaddr_in *)info->client_addr)->sin_addr, text,
               sizeof text);
  else if (info->client_addr->sa_family == AF_INET6)
    inet_ntop (AF_INET6, &((const struct sockaddr_in6 *)info->client_addr)->sin6_addr, text,
               sizeof text);
  return g_strdup (text[0] ? text : "-");
}

/* Counts one request for /metrics by status class; 0: aborted, no answer. */
static void
count_request (SyncRelay *relay, guint status)
{
  guint klass = (status >= 100 && status < 600) ? status / 100 - 1 : 5;

  g_mutex_lock (&relay->stats_lock);
  relay->requests[klass]++;
  g_mutex_unlock (&relay->stats_lock);
}

static void
on_completed (void *cls, struct MHD_Connection *connection, void **con_cls,
              enum MHD_RequestTerminationCode toe)
{
  SyncRelay *relay = cls;
  RelayRequest *req = *con_cls;
  g_autofree char *status = NULL;
  char ms[G_ASCII_DTOSTR_BUF_SIZE];

  if (req == NULL)
    return;
  *con_cls = NULL;
  if (req->status == 0) /* answers are counted when queued (queue_reply) */
    count_request (relay, 0);
  relay_snapshot_memory_release (relay, req->snapshot_bytes);

  g_ascii_formatd (ms, sizeof ms, "%.1f",
                   (double)(g_get_monotonic_time () - req->start_us) / 1000.0);
  status = req->status != 0 ? g_strdup_printf ("%u", req->status) : g_strdup ("aborted");
  /* Method, path, status, duration: never a body; the client's address only when
   * the operator asked for it (--log-ips). */
  sync_relay_log (SYNC_RELAY_LOG_INFO, "request", "method=%s path=%s status=%s duration_ms=%s%s%s",
                  req->log_method ? req->log_method : "-", req->log_path ? req->log_path : "-",
                  status, ms, req->client ? " client=" : "", req->client ? req->client : "");
  relay_request_free (req);
}

static void
unref_blob (void *blob)
{
  g_bytes_unref (blob);
}

static enum MHD_Result
queue_reply (struct MHD_Connection *connection, RelayRequest *req, RelayReply *reply)
{
  struct MHD_Response *response;
  enum MHD_Result ret;

  gboolean blob = reply->blob != NULL;
  guint i;

  if (reply->body == NULL && !blob)
    relay_reply_error (reply, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal", "No answer");
  if (blob) /* a binary answer (GET snapshot): MHD drops the GBytes when done */
    response = MHD_create_response_from_buffer_with_free_callback_cls (
        g_bytes_get_size (reply->blob), (void *)g_bytes_get_data (reply->blob, NULL), unref_blob,
        reply->blob);
  else
    response = MHD_create_response_from_buffer_with_free_callback (reply->len, reply->body, g_free);
  if (response == NULL)
    {
      g_clear_pointer (&reply->body, g_free);
      g_clear_pointer (&reply->blob, g_bytes_unref);
      g_clear_pointer (&reply->headers, g_ptr_array_unref);
      return MHD_NO;
    }
  if (blob)
    g_clear_pointer (&reply->body, g_free);
  reply->body = NULL; /* MHD frees it with the response */
  reply->blob = NULL;
  for (i = 0; reply->headers != NULL && i + 1 < reply->headers->len; i += 2)
    MHD_add_response_header (response, g_ptr_array_index (reply->headers, i),
                             g_ptr_array_index (reply->headers, i + 1));
  g_clear_pointer (&reply->headers, g_ptr_array_unref);
  MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE,
                           blob ? "application/octet-stream" : "application/json");
  MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
  if (reply->retry_after)
    MHD_add_response_header (response, MHD_HTTP_HEADER_RETRY_AFTER, "1");
  if (reply->allow != NULL)
    MHD_add_response_header (response, MHD_HTTP_HEADER_ALLOW, reply->allow);
  ret = MHD_queue_response (connection, reply->status, response);
  MHD_destroy_response (response);
  req->status = reply->status;
  /* Counted here, before the answer leaves: a client that has its answer sees
   * it in /metrics. */
  count_request (req->relay, reply->status);
  return ret;
}

static enum MHD_Result
queue_error (struct MHD_Connection *connection, RelayRequest *req, guint status, const char *code,
             const char *message)
{
  RelayReply reply = { 0 };

  relay_reply_error (&reply, status, code, message);
  return queue_reply (connection, req, &reply);
}

/* First call for a request: headers are in, no body yet. Anything refused here
 * is refused before the body is read (MHD then closes the connection). */
static enum MHD_Result
start_request (SyncRelay *relay, struct MHD_Connection *connection, RelayRequest *req,
               const char *url, const char *method)
{
  RelayReply reply = { 0 };
  const char *length_header;
  RelayRoute route;
  guint64 length = 0;

  req->started = TRUE;
  req->log_method = log_safe (method, 16);
  req->log_path = log_safe (url, 200);
  if (relay->config.log_ips)
    req->client = client_address (connection);

  if (strlen (req->raw_uri) > RELAY_MAX_URI)
    return queue_error (connection, req, MHD_HTTP_URI_TOO_LONG, "uri_too_long",
                        "The request target is longer than 2 KiB");
  route = match_route (url, req->ws);
  if (route == ROUTE_NONE)
    return queue_error (connection, req, MHD_HTTP_NOT_FOUND, "not_found", "No such endpoint");
  if (route == ROUTE_BAD_ID)
    return queue_error (connection, req, MHD_HTTP_BAD_REQUEST, "invalid_id",
                        "A workspace id is 32 lowercase hex characters");
  req->endpoint = find_endpoint (relay, route, method);
  if (req->endpoint == NULL)
    {
      g_autofree char *allow = route_allow (relay, route);

      relay_reply_error (&reply, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                         "This endpoint does not take that method");
      reply.allow = allow;
      return queue_reply (connection, req, &reply);
    }

  length_header
      = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (length_header != NULL
      && !g_ascii_string_to_unsigned (length_header, 10, 0, G_MAXUINT64, &length, NULL))
    return queue_error (connection, req, MHD_HTTP_BAD_REQUEST, "bad_request",
                        "Content-Length is not a number");
  req->body_limit = req->endpoint->body_limit == RELAY_BODY_LIMIT_SNAPSHOT
                        ? (gsize)relay->config.max_snapshot_bytes
                        : req->endpoint->body_limit;
  if (length > req->body_limit)
    return queue_error (connection, req, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                        req->body_limit ? "The request body is over the limit"
                                        : "This endpoint takes no request body");
  /* A snapshot body is held in memory until it is stored: bound how many bytes
   * of them are (a chunked one reserves the whole limit). */
  if (req->endpoint->body_limit == RELAY_BODY_LIMIT_SNAPSHOT)
    {
      guint64 want = length_header != NULL ? length : req->body_limit;

      if (!relay_snapshot_memory_reserve (relay, want))
        {
          relay_reply_error (&reply, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                             "The relay is receiving other snapshots; try again shortly");
          reply.retry_after = TRUE;
          return queue_reply (connection, req, &reply);
        }
      req->snapshot_bytes = want;
    }
  /* Grown as the body comes: a Content-Length alone reserves nothing. */
  req->body = g_byte_array_sized_new ((guint)MIN (length, 64 * 1024));
  return MHD_YES;
}

static enum MHD_Result
finish_request (SyncRelay *relay, struct MHD_Connection *connection, RelayRequest *req,
                const char *method)
{
  RelayReply reply = { 0 };
  RelayCall call = { 0 };

  call.connection = connection;
  call.method = method;
  call.raw_uri = req->raw_uri;
  call.ws = req->ws[0] ? req->ws : NULL;
  call.body = req->body->len ? req->body->data : NULL;
  call.body_len = req->body->len;
  call.now = g_get_real_time () / G_USEC_PER_SEC;

  g_mutex_lock (&relay->lock);
  req->endpoint->handler (relay, &call, &reply);
  g_mutex_unlock (&relay->lock);
  return queue_reply (connection, req, &reply);
}

static enum MHD_Result
on_request (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
            const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
  SyncRelay *relay = cls;
  RelayRequest *req = *con_cls;

  if (req == NULL) /* on_uri always runs first; be safe anyway */
    return MHD_NO;
  if (!req->started)
    return start_request (relay, connection, req, url, method);
  if (req->endpoint == NULL || req->body == NULL) /* an answer was queued already */
    return MHD_NO;
  if (*upload_data_size != 0)
    {
      /* Only a chunked body can get here past its limit (Content-Length was
       * checked): stop reading and drop the connection. */
      if (*upload_data_size > req->body_limit - req->body->len)
        return MHD_NO;
      g_byte_array_append (req->body, (const guint8 *)upload_data, (guint)*upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }
  return finish_request (relay, connection, req, method);
}

/* ---- Authentication ---------------------------------------------------------------- */

typedef struct
{
  const char *name;
  const char *value;
  guint count;
} HeaderLookup;

static enum MHD_Result
count_header (void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  HeaderLookup *lookup = cls;

  if (key != NULL && g_ascii_strcasecmp (key, lookup->name) == 0)
    {
      lookup->count++;
      lookup->value = value;
    }
  return MHD_YES;
}

/* The header's value if it is there exactly once, else NULL. */
static const char *
single_header (struct MHD_Connection *connection, const char *name)
{
  HeaderLookup lookup = { name, NULL, 0 };

  MHD_get_connection_values (connection, MHD_HEADER_KIND, count_header, &lookup);
  return lookup.count == 1 ? lookup.value : NULL;
}

typedef struct
{
  double tokens;
  gint64 last_us;
} RateBucket;

static gboolean
bucket_is_full (gpointer key, gpointer value, gpointer user_data)
{
  RateBucket *bucket = value;
  const double *args = user_data; /* { now_us, rate, capacity } */
  double refill = (args[0] - (double)bucket->last_us) / G_USEC_PER_SEC * args[1];

  return bucket->tokens + refill >= args[2];
}

/* Token bucket per device: @rate tokens a second, up to 4 × @rate saved up. */
static gboolean
rate_allow (SyncRelay *relay, const char *ws, const char *device)
{
  g_autofree char *key = g_strconcat (ws ? ws : "-", "/", device, NULL);
  double rate = relay->config.rate;
  double capacity = 4.0 * rate;
  gint64 now_us = g_get_monotonic_time ();
  RateBucket *bucket;

  if (g_hash_table_size (relay->buckets) >= RELAY_MAX_BUCKETS)
    {
      /* A full bucket is the same as no bucket: forget those. */
      double args[3] = { (double)now_us, rate, capacity };

      g_hash_table_foreach_remove (relay->buckets, bucket_is_full, args);
    }
  bucket = g_hash_table_lookup (relay->buckets, key);
  if (bucket == NULL)
    {
      bucket = g_new0 (RateBucket, 1);
      bucket->tokens = capacity;
      bucket->last_us = now_us;
      g_hash_table_insert (relay->buckets, g_steal_pointer (&key), bucket);
    }
  bucket->tokens
      = MIN (capacity, bucket->tokens + (double)(now_us - bucket->last_us) / G_USEC_PER_SEC * rate);
  bucket->last_us = now_us;
  if (bucket->tokens < 1.0)
    return FALSE;
  bucket->tokens -= 1.0;
  return TRUE;
}

/* Remembers the request's nonce, so that a replay of it is refused, and
 * forgets expired ones once a minute. */
static gboolean
record_nonce (SyncRelay *relay, const RelayCall *call, const SyncAuthHeaders *headers,
              RelayReply *reply)
{
  g_autoptr (GError) error = NULL;

  if (call->now - relay->last_prune >= 60)
    {
      if (!relay_store_prune_nonces (relay->store, call->now - RELAY_NONCE_KEEP, &error))
        {
          relay_reply_internal (reply, error);
          return FALSE;
        }
      relay->last_prune = call->now;
    }
  if (!relay_store_add_nonce (relay->store, headers->device, headers->nonce, headers->time, &error))
    {
      relay_reply_internal (reply, error);
      return FALSE;
    }
  return TRUE;
}

gboolean
relay_authenticate (SyncRelay *relay, const RelayCall *call, const guint8 *self_pk, guint allowed,
                    RelayDevice *device, RelayReply *reply)
{
  const char *h_device = single_header (call->connection, SYNC_AUTH_HEADER_DEVICE);
  const char *h_time = single_header (call->connection, SYNC_AUTH_HEADER_TIME);
  const char *h_nonce = single_header (call->connection, SYNC_AUTH_HEADER_NONCE);
  const char *h_sig = single_header (call->connection, SYNC_AUTH_HEADER_SIGNATURE);
  g_autoptr (GError) error = NULL;
  SyncAuthHeaders headers;
  RelayDevice known = { 0 };
  const guint8 *pk = self_pk;
  gboolean found = FALSE;
  gboolean seen = FALSE;
  gint64 skew;

  if (h_device == NULL || h_time == NULL || h_nonce == NULL || h_sig == NULL)
    {
      relay_reply_error (reply, MHD_HTTP_UNAUTHORIZED, "auth",
                         "Each of the four X-Supolka-* authentication headers must be sent once");
      return FALSE;
    }
  if (!sync_auth_parse_headers (h_device, h_time, h_nonce, h_sig, &headers, &error))
    {
      relay_reply_error (reply, MHD_HTTP_UNAUTHORIZED, "auth", error->message);
      return FALSE;
    }
  skew = call->now - headers.time;
  if (skew > RELAY_TIME_WINDOW || skew < -RELAY_TIME_WINDOW)
    {
      relay_reply_error (reply, MHD_HTTP_UNAUTHORIZED, "stale",
                         "X-Supolka-Time is more than 300 seconds from the relay's clock");
      return FALSE;
    }
  if (self_pk == NULL)
    {
      if (call->ws == NULL
          || !relay_store_get_device (relay->store, call->ws, headers.device, &known, &found,
                                      &error))
        {
          relay_reply_internal (reply, error);
          return FALSE;
        }
      if (!found)
        {
          relay_reply_error (reply, MHD_HTTP_UNAUTHORIZED, "unknown_device",
                             "No such device in this workspace");
          return FALSE;
        }
      pk = known.auth_pk;
    }
  if (!sync_auth_verify (pk, call->method, call->raw_uri, call->body, call->body_len, h_time,
                         h_nonce, h_device, h_sig, &error))
    {
      relay_reply_error (reply, MHD_HTTP_UNAUTHORIZED, "signature",
                         "The request signature does not verify");
      return FALSE;
    }
  if (!relay_store_nonce_seen (relay->store, headers.device, headers.nonce, &seen, &error))
    {
      relay_reply_internal (reply, error);
      return FALSE;
    }
  if (seen)
    {
      relay_reply_error (reply, MHD_HTTP_UNAUTHORIZED, "replay",
                         "This nonce was already used: a replayed request");
      return FALSE;
    }
  if (self_pk == NULL && known.status == RELAY_DEVICE_REVOKED)
    {
      relay_reply_error (reply, MHD_HTTP_FORBIDDEN, "revoked", "This device has been removed");
      return FALSE;
    }
  if (self_pk == NULL && (known.status & allowed) == 0)
    {
      relay_reply_error (
          reply, MHD_HTTP_FORBIDDEN, known.status == RELAY_DEVICE_PENDING ? "pending" : "forbidden",
          known.status == RELAY_DEVICE_PENDING ? "This device waits for an admin's approval"
                                               : "This device may not do that");
      return FALSE;
    }
  if (!rate_allow (relay, call->ws, headers.device))
    {
      relay_reply_error (reply, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited",
                         "Too many requests from this device; slow down");
      reply->retry_after = TRUE;
      return FALSE;
    }
  if (!record_nonce (relay, call, &headers, reply))
    return FALSE;
  if (device != NULL)
    *device = known;
  return TRUE;
}

/* ---- Configuration and life cycle -------------------------------------------------- */

static gboolean
config_error (GError **error, int code, const char *message)
{
  g_set_error_literal (error, SYNC_RELAY_ERROR, code, message);
  return FALSE;
}

/* "A.B.C.D:PORT" or "[V6]:PORT" (numeric addresses only), for --@option. */
static gboolean
parse_address (const char *option, const char *listen, char **host_out, guint16 *port_out,
               gboolean *v6_out, GError **error)
{
  g_autofree char *host = NULL;
  const char *port_text;
  guint64 port = 0;
  struct in6_addr a6;
  struct in_addr a4;

  *v6_out = FALSE;
  if (listen == NULL || listen[0] == '\0')
    {
      g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_CONFIG, "--%s ADDR:PORT is required",
                   option);
      return FALSE;
    }
  if (listen[0] == '[')
    {
      const char *close = strchr (listen, ']');

      if (close == NULL || close[1] != ':')
        {
          g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_CONFIG,
                       "--%s: an IPv6 address is written [ADDR]:PORT", option);
          return FALSE;
        }
      host = g_strndup (listen + 1, (gsize)(close - listen - 1));
      port_text = close + 2;
      if (inet_pton (AF_INET6, host, &a6) != 1)
        {
          g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_CONFIG,
                       "--%s: not an IPv6 address", option);
          return FALSE;
        }
      *v6_out = TRUE;
    }
  else
    {
      const char *colon = strrchr (listen, ':');

      if (colon == NULL)
        {
          g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_CONFIG,
                       "--%s: the address needs a :PORT", option);
          return FALSE;
        }
      host = g_strndup (listen, (gsize)(colon - listen));
      port_text = colon + 1;
      if (inet_pton (AF_INET, host, &a4) != 1)
        {
          g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_CONFIG,
                       "--%s: not a numeric IPv4 address (IPv6: [ADDR]:PORT)", option);
          return FALSE;
        }
    }
  if (!g_ascii_string_to_unsigned (port_text, 10, 0, 65535, &port, NULL))
    {
      g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_CONFIG,
                   "--%s: the port must be 0 to 65535", option);
      return FALSE;
    }
  *host_out = g_steal_pointer (&host);
  *port_out = (guint16)port;
  return TRUE;
}

static gboolean
address_is_loopback (const char *host, gboolean v6)
{
  struct in6_addr a6;
  struct in_addr a4;

  if (v6)
    {
      if (inet_pton (AF_INET6, host, &a6) != 1)
        return FALSE;
      if (IN6_IS_ADDR_LOOPBACK (&a6))
        return TRUE;
      return IN6_IS_ADDR_V4MAPPED (&a6) && a6.s6_addr[12] == 127;
    }
  if (inet_pton (AF_INET, host, &a4) != 1)
    return FALSE;
  return (ntohl (a4.s_addr) >> 24) == 127;
}

/* Parses the addresses into @relay and refuses what the configuration may
 * not combine (plain HTTP off loopback, a metrics token without a listener…). */
static gboolean
check_config (SyncRelay *relay, const SyncRelayConfig *config, GError **error)
{
  if (!parse_address ("listen", config->listen, &relay->listen_host, &relay->listen_port,
                      &relay->listen_v6, error))
    return FALSE;
  if (config->metrics_listen != NULL
      && !parse_address ("metrics-listen", config->metrics_listen, &relay->metrics_host,
                         &relay->metrics_port, &relay->metrics_v6, error))
    return FALSE;
  if ((config->tls_cert_pem == NULL) != (config->tls_key_pem == NULL))
    {
      config_error (error, SYNC_RELAY_ERROR_CONFIG, "--tls-cert and --tls-key go together");
      return FALSE;
    }
  if (config->tls_cert_pem == NULL && !config->insecure_http
      && !address_is_loopback (relay->listen_host, relay->listen_v6))
    {
      config_error (error, SYNC_RELAY_ERROR_INSECURE,
                    "Refusing plain HTTP on an address other than loopback: give --tls-cert and "
                    "--tls-key, or --insecure-http if a TLS proxy sits in front");
      return FALSE;
    }
  /* The metrics listener speaks what the main one speaks (TLS with the same
   * certificate, or plain HTTP); off loopback it also needs a token. */
  if (relay->metrics_host != NULL && !address_is_loopback (relay->metrics_host, relay->metrics_v6))
    {
      if (config->tls_cert_pem == NULL && !config->insecure_http)
        {
          config_error (error, SYNC_RELAY_ERROR_INSECURE,
                        "Refusing plain HTTP for --metrics-listen on an address other than "
                        "loopback: give --tls-cert and --tls-key, or --insecure-http");
          return FALSE;
        }
      if (config->metrics_token == NULL)
        {
          config_error (error, SYNC_RELAY_ERROR_CONFIG,
                        "--metrics-listen on an address other than loopback needs "
                        "--metrics-token");
          return FALSE;
        }
    }
  if (config->metrics_token != NULL && relay->metrics_host == NULL)
    {
      config_error (error, SYNC_RELAY_ERROR_CONFIG, "--metrics-token needs --metrics-listen");
      return FALSE;
    }
  if (config->metrics_token != NULL)
    {
      if (strlen (config->metrics_token) < 16)
        {
          config_error (error, SYNC_RELAY_ERROR_CONFIG,
                        "The metrics token must have at least 16 characters");
          return FALSE;
        }
      crypto_generichash (relay->metrics_token_hash, sizeof relay->metrics_token_hash,
                          (const guint8 *)config->metrics_token, strlen (config->metrics_token),
                          NULL, 0);
      relay->metrics_token_set = TRUE;
    }
  if (config->tls_cert_pem != NULL && !MHD_is_feature_supported (MHD_FEATURE_TLS))
    {
      config_error (error, SYNC_RELAY_ERROR_CONFIG, "This libmicrohttpd was built without TLS");
      return FALSE;
    }
  if (config->data_dir == NULL || config->data_dir[0] == '\0')
    {
      config_error (error, SYNC_RELAY_ERROR_CONFIG, "--data DIR is required");
      return FALSE;
    }
  if (config->rate == 0 || config->rate > 1000000 || config->max_devices == 0
      || config->quota_bytes == 0)
    {
      config_error (error, SYNC_RELAY_ERROR_CONFIG,
                    "--rate, --max-devices and --quota-mb must be positive");
      return FALSE;
    }
  if (relay->config.max_snapshot_bytes == 0)
    relay->config.max_snapshot_bytes = (guint64)SYNC_RELAY_DEFAULT_MAX_SNAPSHOT_MB * 1024 * 1024;
  if (relay->config.max_snapshot_bytes > (guint64)RELAY_MAX_SNAPSHOT_MB_LIMIT * 1024 * 1024)
    {
      config_error (error, SYNC_RELAY_ERROR_CONFIG, "--max-snapshot-mb must be at most 512");
      return FALSE;
    }
  if (config->create_token != NULL && config->create_token[0] == '\0')
    {
      config_error (error, SYNC_RELAY_ERROR_CONFIG, "The create token must not be empty");
      return FALSE;
    }
  return TRUE;
}

SyncRelay *
relay_server_new (const SyncRelayConfig *config, const RelayEndpoint *endpoints, gsize n_endpoints,
                  GError **error)
{
  g_autoptr (SyncRelay) relay = NULL;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (endpoints != NULL && n_endpoints > 0, NULL);

  relay = g_new0 (SyncRelay, 1);
  g_mutex_init (&relay->lock);
  g_mutex_init (&relay->stats_lock);
  g_mutex_init (&relay->transfer_lock);
  relay->started_us = g_get_monotonic_time ();
  relay->buckets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  relay->endpoints = endpoints;
  relay->n_endpoints = n_endpoints;
  relay->config = *config;
  relay->config.metrics_listen = NULL;
  relay->config.metrics_token = NULL;
  relay->config.listen = NULL;
  relay->config.data_dir = NULL;
  relay->config.tls_cert_pem = NULL;
  relay->config.tls_key_pem = NULL;
  relay->config.create_token = NULL;
  if (!check_config (relay, config, error))
    return NULL;
  relay->tls_cert_pem = g_strdup (config->tls_cert_pem);
  relay->tls_key_pem = g_strdup (config->tls_key_pem);
  relay->create_token = g_strdup (config->create_token);
  relay->data_dir = g_strdup (config->data_dir);
  relay->config.create_token = relay->create_token;
  relay->config.data_dir = relay->data_dir;

  relay->store = relay_store_open (relay->data_dir, error);
  if (relay->store == NULL)
    return NULL;
  return g_steal_pointer (&relay);
}

static void mhd_log (void *cls, const char *fmt, va_list ap) G_GNUC_PRINTF (2, 0);

/* libmicrohttpd's own errors (TLS handshakes, sockets); none carries a body. */
static void
mhd_log (void *cls, const char *fmt, va_list ap)
{
  g_autofree char *message = g_strdup_vprintf (fmt, ap);
  g_autofree char *quoted = NULL;

  g_strchomp (message);
  quoted = sync_relay_log_quote (message, 400);
  sync_relay_log (SYNC_RELAY_LOG_WARNING, "http_error", "message=%s", quoted);
}

static void
fill_sockaddr (struct sockaddr_storage *addr, const char *host, guint16 port, gboolean v6)
{
  memset (addr, 0, sizeof *addr);
  if (v6)
    {
      struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;

      a6->sin6_family = AF_INET6;
      a6->sin6_port = htons (port);
      inet_pton (AF_INET6, host, &a6->sin6_addr);
    }
  else
    {
      struct sockaddr_in *a4 = (struct sockaddr_in *)addr;

      a4->sin_family = AF_INET;
      a4->sin_port = htons (port);
      inet_pton (AF_INET, host, &a4->sin_addr);
    }
}

/* ---- Metrics --------------------------------------------------------------------------- */

static enum MHD_Result
metrics_reply (struct MHD_Connection *connection, guint status, char *text, const char *header,
               const char *value)
{
  struct MHD_Response *response
      = MHD_create_response_from_buffer_with_free_callback (strlen (text), text, g_free);
  enum MHD_Result ret;

  if (response == NULL)
    {
      g_free (text);
      return MHD_NO;
    }
  MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE,
                           "text/plain; version=0.0.4; charset=utf-8");
  MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  MHD_add_response_header (response, "X-Content-Type-Options", "nosniff");
  if (header != NULL)
    MHD_add_response_header (response, header, value);
  ret = MHD_queue_response (connection, status, response);
  MHD_destroy_response (response);
  return ret;
}

/* "Authorization: Bearer TOKEN", sent once, with the right token (compared as
 * BLAKE2b-256 hashes in constant time, so the length leaks nothing either). */
static gboolean
metrics_authorized (SyncRelay *relay, struct MHD_Connection *connection)
{
  static const char scheme[] = "Bearer ";
  const char *value;
  guint8 hash[32];

  if (!relay->metrics_token_set)
    return TRUE;
  value = single_header (connection, MHD_HTTP_HEADER_AUTHORIZATION);
  if (value == NULL || strlen (value) > RELAY_AUTH_HEADER_MAX
      || g_ascii_strncasecmp (value, scheme, strlen (scheme)) != 0)
    return FALSE;
  value += strlen (scheme);
  crypto_generichash (hash, sizeof hash, (const guint8 *)value, strlen (value), NULL, 0);
  return sodium_memcmp (hash, relay->metrics_token_hash, sizeof hash) == 0;
}

static void
metric_header (GString *out, const char *name, const char *type, const char *help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The exposition text: counts and totals only. No workspace or device id, no
 * address, nothing a seized monitoring server could tie to a person. */
static char *
metrics_text (SyncRelay *relay, GError **error)
{
  static const char *const classes[] = { "1xx", "2xx", "3xx", "4xx", "5xx", "aborted" };
  static const char *const statuses[] = { "pending", "active", "revoked" };
  GString *out = g_string_new (NULL);
  RelayStoreTotals totals;
  guint64 requests[G_N_ELEMENTS (classes)];
  gboolean ok;
  gsize i;

  G_STATIC_ASSERT (G_N_ELEMENTS (classes) == G_N_ELEMENTS (relay->requests));
  g_mutex_lock (&relay->lock);
  ok = relay_store_totals (relay->store, &totals, error);
  g_mutex_unlock (&relay->lock);
  if (!ok)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  g_mutex_lock (&relay->stats_lock);
  memcpy (requests, relay->requests, sizeof requests);
  g_mutex_unlock (&relay->stats_lock);

  metric_header (out, "supolka_relay_requests_total", "counter",
                 "Requests on the API listener by status class (aborted: no answer sent).");
  for (i = 0; i < G_N_ELEMENTS (classes); i++)
    g_string_append_printf (out,
                            "supolka_relay_requests_total{class=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            classes[i], requests[i]);
  metric_header (out, "supolka_relay_batches_stored", "gauge", "Batch envelopes stored.");
  g_string_append_printf (out, "supolka_relay_batches_stored %" G_GINT64_FORMAT "\n",
                          totals.batches);
  metric_header (out, "supolka_relay_bytes_stored", "gauge",
                 "Stored bytes counted against the workspace quotas.");
  g_string_append_printf (out, "supolka_relay_bytes_stored %" G_GINT64_FORMAT "\n",
                          totals.batch_bytes);
  metric_header (out, "supolka_relay_workspaces", "gauge", "Workspaces stored.");
  g_string_append_printf (out, "supolka_relay_workspaces %" G_GINT64_FORMAT "\n",
                          totals.workspaces);
  metric_header (out, "supolka_relay_devices", "gauge", "Devices stored, by status.");
  for (i = 0; i < G_N_ELEMENTS (statuses); i++)
    g_string_append_printf (out, "supolka_relay_devices{status=\"%s\"} %" G_GINT64_FORMAT "\n",
                            statuses[i], totals.devices[i]);
  metric_header (out, "supolka_relay_uptime_seconds", "gauge", "Seconds since the relay started.");
  g_string_append_printf (out, "supolka_relay_uptime_seconds %" G_GINT64_FORMAT "\n",
                          (g_get_monotonic_time () - relay->started_us) / G_USEC_PER_SEC);
  return g_string_free (out, FALSE);
}

/* The metrics listener answers GET /metrics and nothing else. Its requests are
 * not counted or logged. */
static enum MHD_Result
on_metrics_request (void *cls, struct MHD_Connection *connection, const char *url,
                    const char *method, const char *version, const char *upload_data,
                    size_t *upload_data_size, void **con_cls)
{
  SyncRelay *relay = cls;
  g_autoptr (GError) error = NULL;
  char *text;

  if (strcmp (url, "/metrics") != 0)
    return metrics_reply (connection, MHD_HTTP_NOT_FOUND, g_strdup ("Not found\n"), NULL, NULL);
  if (strcmp (method, "GET") != 0)
    return metrics_reply (connection, MHD_HTTP_METHOD_NOT_ALLOWED,
                          g_strdup ("Only GET is allowed\n"), MHD_HTTP_HEADER_ALLOW, "GET");
  if (!metrics_authorized (relay, connection))
    return metrics_reply (connection, MHD_HTTP_UNAUTHORIZED,
                          g_strdup ("A valid metrics token is needed\n"),
                          MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"supolka-relay\"");
  text = metrics_text (relay, &error);
  if (text == NULL)
    {
      g_autofree char *message = sync_relay_log_quote (error ? error->message : "unknown", 400);

      sync_relay_log (SYNC_RELAY_LOG_ERROR, "internal_error", "message=%s", message);
      return metrics_reply (connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
                            g_strdup ("The relay could not read its totals\n"), NULL, NULL);
    }
  return metrics_reply (connection, MHD_HTTP_OK, text, NULL, NULL);
}

static gboolean
start_metrics (SyncRelay *relay, GError **error)
{
  struct sockaddr_storage addr;
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;

  fill_sockaddr (&addr, relay->metrics_host, relay->metrics_port, relay->metrics_v6);
  if (relay->metrics_v6)
    flags |= MHD_USE_IPv6;
  if (relay->tls_cert_pem != NULL)
    flags |= MHD_USE_TLS;
  relay->metrics_daemon = MHD_start_daemon (
      flags, relay->metrics_port, NULL, NULL, on_metrics_request, relay, MHD_OPTION_EXTERNAL_LOGGER,
      mhd_log, relay, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)RELAY_CONNECTION_MEMORY,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned int)RELAY_METRICS_CONNECTION_LIMIT,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)RELAY_CONNECTION_TIMEOUT,
      MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
      relay->tls_cert_pem != NULL ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, relay->tls_cert_pem,
      MHD_OPTION_HTTPS_MEM_KEY, relay->tls_key_pem, MHD_OPTION_HTTPS_PRIORITIES,
      RELAY_TLS_PRIORITIES, MHD_OPTION_END);
  if (relay->metrics_daemon == NULL)
    {
      g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_LISTEN,
                   "Cannot listen for metrics on %s port %u (in use, or not a local address)",
                   relay->metrics_host, relay->metrics_port);
      return FALSE;
    }
  return TRUE;
}

gboolean
sync_relay_start (SyncRelay *relay, GError **error)
{
  struct sockaddr_storage addr;
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;

  g_return_val_if_fail (relay != NULL, FALSE);
  g_return_val_if_fail (relay->daemon == NULL, FALSE);

  fill_sockaddr (&addr, relay->listen_host, relay->listen_port, relay->listen_v6);
  if (relay->listen_v6)
    flags |= MHD_USE_IPv6;
  if (relay->tls_cert_pem != NULL)
    flags |= MHD_USE_TLS;
  /* The logger must come first. The TLS options come last: without TLS the first
   * of them is replaced by MHD_OPTION_END, and MHD reads no further. */
  relay->daemon = MHD_start_daemon (
      flags, relay->listen_port, NULL, NULL, on_request, relay, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
      relay, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
      (unsigned int)RELAY_THREADS, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      (size_t)RELAY_CONNECTION_MEMORY, MHD_OPTION_CONNECTION_LIMIT,
      (unsigned int)RELAY_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned int)RELAY_CONNECTION_TIMEOUT, MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
      MHD_OPTION_URI_LOG_CALLBACK, on_uri, relay, MHD_OPTION_NOTIFY_COMPLETED, on_completed, relay,
      relay->tls_cert_pem != NULL ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, relay->tls_cert_pem,
      MHD_OPTION_HTTPS_MEM_KEY, relay->tls_key_pem, MHD_OPTION_HTTPS_PRIORITIES,
      RELAY_TLS_PRIORITIES, MHD_OPTION_END);
  if (relay->daemon == NULL)
    {
      g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_LISTEN,
                   "Cannot listen on %s port %u (in use, not a local address, or a bad "
                   "certificate or key)",
                   relay->listen_host, relay->listen_port);
      return FALSE;
    }
  if (relay->metrics_host != NULL && !start_metrics (relay, error))
    {
      MHD_stop_daemon (relay->daemon);
      relay->daemon = NULL;
      return FALSE;
    }
  return TRUE;
}

static char *
daemon_address (struct MHD_Daemon *daemon, const char *host, guint port, gboolean v6)
{
  const union MHD_DaemonInfo *info;

  if (daemon != NULL)
    {
      info = MHD_get_daemon_info (daemon, MHD_DAEMON_INFO_BIND_PORT);
      if (info != NULL && info->port != 0)
        port = info->port;
    }
  if (v6)
    return g_strdup_printf ("[%s]:%u", host, port);
  return g_strdup_printf ("%s:%u", host, port);
}

char *
sync_relay_get_address (SyncRelay *relay)
{
  g_return_val_if_fail (relay != NULL, NULL);

  return daemon_address (relay->daemon, relay->listen_host, relay->listen_port, relay->listen_v6);
}

char *
sync_relay_get_metrics_address (SyncRelay *relay)
{
  g_return_val_if_fail (relay != NULL, NULL);

  if (relay->metrics_host == NULL)
    return NULL;
  return daemon_address (relay->metrics_daemon, relay->metrics_host, relay->metrics_port,
                         relay->metrics_v6);
}

void
sync_relay_free (SyncRelay *relay)
{
  if (relay == NULL)
    return;
  if (relay->metrics_daemon != NULL)
    MHD_stop_daemon (relay->metrics_daemon);
  if (relay->daemon != NULL)
    MHD_stop_daemon (relay->daemon); /* waits for requests in flight */
  relay_store_close (relay->store);
  g_clear_pointer (&relay->buckets, g_hash_table_unref);
  g_free (relay->listen_host);
  g_free (relay->metrics_host);
  sodium_memzero (relay->metrics_token_hash, sizeof relay->metrics_token_hash);
  if (relay->tls_key_pem != NULL)
    sodium_memzero (relay->tls_key_pem, strlen (relay->tls_key_pem));
  g_free (relay->tls_key_pem);
  g_free (relay->tls_cert_pem);
  g_free (relay->create_token);
  g_free (relay->data_dir);
  g_mutex_clear (&relay->lock);
  g_mutex_clear (&relay->stats_lock);
  g_mutex_clear (&relay->transfer_lock);
  g_free (relay);
}
