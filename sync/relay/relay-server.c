/* The relay's HTTP side, its lower layer: configuration, the libmicrohttpd
 * daemon, the life of a request (routing, size limits, body collection),
 * authentication, rate limits, replies and the request log. It knows no
 * endpoint by name: it routes through the table the upper layer registered
 * with relay_server_new (relay-api.c's sync_relay_new), and the handlers call
 * down into it (relay_authenticate, relay_reply_*), never the other way.
 *
 * A request goes through on_uri() (MHD hands us the raw request target, which
 * is what the client signed, and what is routed), then on_request() at least
 * twice: once when the headers are in (route, method, Content-Length, the
 * address's failures, the disk, and relay_precheck — authentication headers
 * well formed, time fresh, device known — are checked there, so nothing is
 * read or reserved for a stranger), once per chunk of body (each counted
 * against the body budgets of relay-limits.c), and once when the body is
 * complete: the connection is then suspended and the endpoint runs on a worker
 * of relay-exec.c, one at a time per workspace, on its own database
 * connection; the connection resumes and the answer is queued.
 * on_completed() counts the answer for /metrics, writes the log line and frees
 * the request. Every connection is watched by relay-limits.c's guard from
 * accept to close (deadlines for headers, a minimum rate for bodies).
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

#define RELAY_THREADS 4      /* MHD's: they only move bytes */
#define RELAY_EXEC_THREADS 4 /* the handlers' (relay-exec.c) */

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
  /* SQLite rolled the transaction back: nothing half-written, only refused. */
  if (relay_store_error_is_full (error))
    relay_reply_error (reply, MHD_HTTP_INSUFFICIENT_STORAGE, "disk_full",
                       "The relay's disk is full; it takes no new data");
  else
    relay_reply_error (reply, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                       "The relay failed to handle the request; try again later");
}

/* ---- Requests ------------------------------------------------------------------------ */

typedef struct
{
  char *raw_uri;
  char *path; /* raw_uri up to '?': what is routed, as it was signed */
  char *log_method;
  char *log_path;
  gint64 start_us;
  gboolean started;
  const RelayEndpoint *endpoint;
  GByteArray *body;
  guint status;
  char ws[SYNC_ID_HEX_LEN + 1];
  char *client;     /* the peer's address, only with log_ips */
  SyncRelay *relay; /* for the counters */
  gsize body_limit; /* the endpoint's, or --max-snapshot-mb */
  RelayConn *conn;  /* the guard's record of the connection */
  /* Handed to a worker (relay-exec.c) once the body is in. */
  struct MHD_Connection *connection;
  char *method;
  gboolean submitted;
  gboolean done; /* the handler ran: reply is the answer */
  RelayReply reply;
} RelayRequest;

static void
reply_clear (RelayReply *reply)
{
  g_clear_pointer (&reply->body, g_free);
  g_clear_pointer (&reply->blob, g_bytes_unref);
  g_clear_pointer (&reply->headers, g_ptr_array_unref);
}

static void
relay_request_free (RelayRequest *req)
{
  g_free (req->raw_uri);
  g_free (req->path);
  g_free (req->log_method);
  g_free (req->log_path);
  g_free (req->client);
  g_free (req->method);
  reply_clear (&req->reply);
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
  req->path = g_strndup (req->raw_uri, strcspn (req->raw_uri, "?"));
  return req;
}

void
relay_count (SyncRelay *relay, guint64 *counter)
{
  g_mutex_lock (&relay->stats_lock);
  (*counter)++;
  g_mutex_unlock (&relay->stats_lock);
}

/* Counts one request for /metrics by status class; 0: aborted, no answer. */
static void
count_request (SyncRelay *relay, guint status)
{
  guint klass = (status >= 100 && status < 600) ? status / 100 - 1 : 5;

  relay_count (relay, &relay->requests[klass]);
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
  relay_conn_request_done (relay->guard, req->conn);

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

static struct MHD_Response *
make_response (RelayReply *reply)
{
  struct MHD_Response *response;
  gboolean blob = reply->blob != NULL;

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
      reply_clear (reply);
      return NULL;
    }
  if (blob)
    g_clear_pointer (&reply->body, g_free);
  reply->body = NULL; /* MHD frees it with the response */
  reply->blob = NULL;
  for (guint i = 0; reply->headers != NULL && i + 1 < reply->headers->len; i += 2)
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
  return response;
}

static enum MHD_Result
queue_reply (struct MHD_Connection *connection, RelayRequest *req, RelayReply *reply)
{
  SyncRelay *relay = req->relay;
  struct MHD_Response *response = make_response (reply);
  enum MHD_Result ret;

  if (response == NULL)
    return MHD_NO;
  ret = MHD_queue_response (connection, reply->status, response);
  MHD_destroy_response (response);
  req->status = reply->status;
  /* A refused stranger: too many of these from one address and it is told to
   * wait (RELAY_FAILURE_*). */
  if (reply->status == MHD_HTTP_UNAUTHORIZED || reply->failure)
    relay_buckets_take (relay->peer_failures, relay_conn_peer (req->conn), RELAY_FAILURE_RATE,
                        RELAY_FAILURE_BURST);
  relay_conn_busy (relay->guard, req->conn);
  /* Counted here, before the answer leaves: a client that has its answer sees
   * it in /metrics. */
  count_request (relay, reply->status);
  return ret;
}

static enum MHD_Result
queue_error (struct MHD_Connection *connection, RelayRequest *req, guint status, const char *code,
             const char *message)
{
  RelayReply reply = { 0 };

  relay_reply_error (&reply, status, code, message);
  reply.retry_after
      = status == MHD_HTTP_TOO_MANY_REQUESTS || status == MHD_HTTP_SERVICE_UNAVAILABLE;
  return queue_reply (connection, req, &reply);
}

/* Route, method and target: NULL and an answer queued in *ret when refused. */
static const RelayEndpoint *
route_request (SyncRelay *relay, struct MHD_Connection *connection, RelayRequest *req,
               const char *method, enum MHD_Result *ret)
{
  const RelayEndpoint *endpoint;
  RelayReply reply = { 0 };
  RelayRoute route;

  if (strlen (req->raw_uri) > RELAY_MAX_URI)
    {
      *ret = queue_error (connection, req, MHD_HTTP_URI_TOO_LONG, "uri_too_long",
                          "The request target is longer than 2 KiB");
      return NULL;
    }
  /* Routed on the target as sent (and signed), not on MHD's decoded copy:
   * "%2f" is not a "/". */
  route = match_route (req->path, req->ws);
  if (route == ROUTE_NONE || route == ROUTE_BAD_ID)
    {
      *ret = route == ROUTE_NONE ? queue_error (connection, req, MHD_HTTP_NOT_FOUND, "not_found",
                                                "No such endpoint")
                                 : queue_error (connection, req, MHD_HTTP_BAD_REQUEST, "invalid_id",
                                                "A workspace id is 32 lowercase hex characters");
      return NULL;
    }
  endpoint = find_endpoint (relay, route, method);
  if (endpoint == NULL)
    {
      g_autofree char *allow = route_allow (relay, route);

      relay_reply_error (&reply, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                         "This endpoint does not take that method");
      reply.allow = allow;
      *ret = queue_reply (connection, req, &reply);
    }
  return endpoint;
}

/* What the headers alone allow us to refuse, cheapest first: an address that
 * failed too often, a full disk, bad or stale authentication headers, an
 * unknown device, a body the budgets cannot take. FALSE: *ret is queued. */
static gboolean
admit_request (SyncRelay *relay, struct MHD_Connection *connection, RelayRequest *req,
               guint64 length, enum MHD_Result *ret)
{
  RelayReply reply = { 0 };
  const char *ws = req->ws[0] ? req->ws : NULL;

  if (!relay_buckets_peek (relay->peer_failures, relay_conn_peer (req->conn), RELAY_FAILURE_RATE,
                           RELAY_FAILURE_BURST))
    {
      relay_count (relay, &relay->refused_peer);
      *ret = queue_error (connection, req, MHD_HTTP_TOO_MANY_REQUESTS, "too_many_failures",
                          "Too many refused requests from this address; wait a little");
      return FALSE;
    }
  if (req->endpoint->writes && relay_disk_free (relay->data_dir) < relay->config.min_free_bytes)
    {
      relay_count (relay, &relay->refused_full);
      *ret = queue_error (connection, req, MHD_HTTP_INSUFFICIENT_STORAGE, "disk_full",
                          "The relay's disk is nearly full; it takes no new data");
      return FALSE;
    }
  if (!relay_precheck (relay, req->endpoint->pre, connection, ws, &reply))
    {
      relay_count (relay, &relay->refused_early);
      *ret = queue_reply (connection, req, &reply);
      return FALSE;
    }
  if (length > 0 && !relay_guard_body_fits (relay->guard, ws, length))
    {
      *ret = queue_error (connection, req, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                          "The relay is receiving much data at once; try again shortly");
      return FALSE;
    }
  return TRUE;
}

/* First call for a request: headers are in, no body yet. Anything refused here
 * is refused before the body is read (MHD then closes the connection), and
 * nothing is buffered or reserved before admit_request() passed. */
static enum MHD_Result
start_request (SyncRelay *relay, struct MHD_Connection *connection, RelayRequest *req,
               const char *method)
{
  enum MHD_Result ret = MHD_NO;
  const char *length_header;
  guint64 length = 0;

  req->started = TRUE;
  req->conn = relay_guard_conn (connection);
  req->log_method = log_safe (method, 16);
  req->log_path = log_safe (req->path, 200);
  if (relay->config.log_ips)
    req->client = g_strdup (relay_conn_peer (req->conn));
  req->endpoint = route_request (relay, connection, req, method, &ret);
  if (req->endpoint == NULL)
    return ret;

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
  if (!admit_request (relay, connection, req, length, &ret))
    return ret;
  /* Grown as the body comes, each chunk counted against the budgets. */
  req->body = g_byte_array_sized_new ((guint)MIN (length, 64 * 1024));
  relay_conn_body_started (relay->guard, req->conn);
  return MHD_YES;
}

RelayStore *
relay_lease_store (SyncRelay *relay)
{
  return g_async_queue_pop (relay->stores);
}

void
relay_return_store (SyncRelay *relay, RelayStore *store)
{
  g_async_queue_push (relay->stores, store);
}

/* On a worker (relay-exec.c), one at a time per workspace: the handler, then
 * the connection resumes and on_request() queues the answer. */
static void
run_call (gpointer task)
{
  RelayRequest *req = task;
  SyncRelay *relay = req->relay;
  RelayCall call = { 0 };

  call.connection = req->connection;
  call.method = req->method;
  call.raw_uri = req->raw_uri;
  call.ws = req->ws[0] ? req->ws : NULL;
  call.body = req->body->len ? req->body->data : NULL;
  call.body_len = req->body->len;
  call.now = g_get_real_time () / G_USEC_PER_SEC;
  call.peer = relay_conn_peer (req->conn);
  call.store = relay_lease_store (relay);
  req->endpoint->handler (relay, &call, &req->reply);
  relay_return_store (relay, call.store);
  req->done = TRUE;
  MHD_resume_connection (req->connection);
}

/* The body is in: the connection waits (suspended, off every deadline) while a
 * worker runs the handler. */
static enum MHD_Result
submit_request (SyncRelay *relay, struct MHD_Connection *connection, RelayRequest *req,
                const char *method)
{
  g_mutex_lock (&relay->stop_lock);
  if (relay->stopping)
    {
      g_mutex_unlock (&relay->stop_lock);
      return MHD_NO;
    }
  req->submitted = TRUE;
  req->connection = connection;
  req->method = g_strdup (method);
  relay_conn_busy (relay->guard, req->conn);
  MHD_suspend_connection (connection);
  relay_exec_push (relay->exec, req->ws[0] ? req->ws : NULL, req);
  g_mutex_unlock (&relay->stop_lock);
  return MHD_YES;
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
    return start_request (relay, connection, req, method);
  if (req->endpoint == NULL || req->body == NULL) /* an answer was queued already */
    return MHD_NO;
  if (req->done)
    return queue_reply (connection, req, &req->reply);
  if (req->submitted)
    return MHD_YES;
  if (*upload_data_size != 0)
    {
      /* Only a chunked body can get here past its limit (Content-Length was
       * checked), or one the budgets can no longer take: stop reading and drop
       * the connection. */
      if (*upload_data_size > req->body_limit - req->body->len
          || !relay_guard_body_reserve (relay->guard, req->conn, req->ws[0] ? req->ws : NULL,
                                        *upload_data_size))
        return MHD_NO;
      g_byte_array_append (req->body, (const guint8 *)upload_data, (guint)*upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }
  return submit_request (relay, connection, req, method);
}

/* ---- Life cycle ---------------------------------------------------------------------- */

static gboolean
open_stores (SyncRelay *relay, GError **error)
{
  relay->store = relay_store_open (relay->data_dir, error);
  if (relay->store == NULL)
    return FALSE;
  relay->stores = g_async_queue_new_full ((GDestroyNotify)relay_store_close);
  /* One per worker, one per MHD thread (relay_precheck), one for metrics. */
  for (guint i = 0; i < RELAY_EXEC_THREADS + RELAY_THREADS + 1; i++)
    {
      RelayStore *more = relay_store_open_more (relay->store, relay->data_dir, error);

      if (more == NULL)
        return FALSE;
      g_async_queue_push (relay->stores, more);
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
  g_mutex_init (&relay->stats_lock);
  g_mutex_init (&relay->transfer_lock);
  g_mutex_init (&relay->stop_lock);
  relay->started_us = g_get_monotonic_time ();
  relay->device_rate = relay_buckets_new (RELAY_PEER_MAX_BUCKETS);
  relay->peer_failures = relay_buckets_new (RELAY_PEER_MAX_BUCKETS);
  relay->peer_creates = relay_buckets_new (RELAY_PEER_MAX_BUCKETS);
  relay->endpoints = endpoints;
  relay->n_endpoints = n_endpoints;
  if (!relay_config_check (relay, config, error) || !open_stores (relay, error)
      || !relay_create_token_setup (relay, error))
    return NULL;
  relay->guard = relay_guard_new (relay->config.max_snapshot_bytes * RELAY_SNAPSHOT_BUDGET_FACTOR,
                                  relay->config.max_snapshot_bytes * RELAY_WS_BODY_BUDGET_FACTOR);
  relay->exec = relay_exec_new (RELAY_EXEC_THREADS, run_call);
  return g_steal_pointer (&relay);
}

/* libmicrohttpd's own errors (TLS handshakes, sockets); none carries a body. */
void
relay_mhd_log (void *cls, const char *fmt, va_list ap)
{
  g_autofree char *message = g_strdup_vprintf (fmt, ap);
  g_autofree char *quoted = NULL;

  g_strchomp (message);
  quoted = sync_relay_log_quote (message, 400);
  sync_relay_log (SYNC_RELAY_LOG_WARNING, "http_error", "message=%s", quoted);
}

void
relay_fill_sockaddr (struct sockaddr_storage *addr, const char *host, guint16 port, gboolean v6)
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

gboolean
sync_relay_start (SyncRelay *relay, GError **error)
{
  struct sockaddr_storage addr;
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG
                       | MHD_ALLOW_SUSPEND_RESUME;

  g_return_val_if_fail (relay != NULL, FALSE);
  g_return_val_if_fail (relay->daemon == NULL, FALSE);

  relay_fill_sockaddr (&addr, relay->listen_host, relay->listen_port, relay->listen_v6);
  if (relay->listen_v6)
    flags |= MHD_USE_IPv6;
  if (relay->tls_cert_pem != NULL)
    flags |= MHD_USE_TLS;
  /* The logger must come first. The TLS options come last: without TLS the first
   * of them is replaced by MHD_OPTION_END, and MHD reads no further. MHD's own
   * timeout is the idle one; the guard's deadlines are the real ones. */
  relay->daemon = MHD_start_daemon (
      flags, relay->listen_port, NULL, NULL, on_request, relay, MHD_OPTION_EXTERNAL_LOGGER,
      relay_mhd_log, relay, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)RELAY_THREADS, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
      (size_t)RELAY_CONNECTION_MEMORY, MHD_OPTION_CONNECTION_LIMIT,
      (unsigned int)relay->config.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
      (unsigned int)relay->config.max_connections_per_ip, MHD_OPTION_CONNECTION_TIMEOUT,
      (unsigned int)RELAY_IDLE_TIMEOUT, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
      MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_URI_LOG_CALLBACK, on_uri, relay,
      MHD_OPTION_NOTIFY_COMPLETED, on_completed, relay, MHD_OPTION_NOTIFY_CONNECTION,
      relay_guard_notify, relay->guard,
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
  if (relay->metrics_host != NULL && !relay_metrics_start (relay, error))
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

/* Stops taking requests, drops every connection (a stranger's trickle must
 * not hold the shutdown up), lets the handlers that run finish, then stops
 * MHD's threads. */
static void
stop_serving (SyncRelay *relay)
{
  MHD_socket listen_fd = MHD_INVALID_SOCKET;

  g_mutex_lock (&relay->stop_lock);
  relay->stopping = TRUE;
  g_mutex_unlock (&relay->stop_lock);
  if (relay->daemon != NULL)
    listen_fd = MHD_quiesce_daemon (relay->daemon);
  relay_guard_stop (relay->guard, TRUE);
  g_clear_pointer (&relay->exec, relay_exec_free); /* resumes what it ran */
  if (relay->metrics_daemon != NULL)
    MHD_stop_daemon (relay->metrics_daemon);
  if (relay->daemon != NULL)
    MHD_stop_daemon (relay->daemon);
  if (listen_fd != MHD_INVALID_SOCKET)
    close (listen_fd);
}

void
sync_relay_free (SyncRelay *relay)
{
  if (relay == NULL)
    return;
  stop_serving (relay);
  g_clear_pointer (&relay->guard, relay_guard_free);
  g_clear_pointer (&relay->stores, g_async_queue_unref);
  relay_store_close (relay->store);
  g_clear_pointer (&relay->device_rate, relay_buckets_free);
  g_clear_pointer (&relay->peer_failures, relay_buckets_free);
  g_clear_pointer (&relay->peer_creates, relay_buckets_free);
  g_free (relay->listen_host);
  g_free (relay->metrics_host);
  sodium_memzero (relay->metrics_token_hash, sizeof relay->metrics_token_hash);
  if (relay->tls_key_pem != NULL)
    sodium_memzero (relay->tls_key_pem, strlen (relay->tls_key_pem));
  g_free (relay->tls_key_pem);
  g_free (relay->tls_cert_pem);
  if (relay->create_token != NULL)
    sodium_memzero (relay->create_token, strlen (relay->create_token));
  g_free (relay->create_token);
  g_free (relay->data_dir);
  g_mutex_clear (&relay->stats_lock);
  g_mutex_clear (&relay->transfer_lock);
  g_mutex_clear (&relay->stop_lock);
  g_free (relay);
}
