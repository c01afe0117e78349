/* The relay's metrics listener: GET /metrics in the Prometheus text format,
 * counts and totals only (docs/RELAY.md, "Metrics").
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <sodium.h>
#include <string.h>

#include "relay-private.h"

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
  value = relay_single_header (connection, MHD_HTTP_HEADER_AUTHORIZATION);
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

/* What shows strangers at work (docs/RELAY.md, "Watching for abuse"). */
static void
metrics_abuse (GString *out, const guint64 refused[3], const RelayGuardStats *guard)
{
  static const char *const reasons[] = { "headers", "full", "address" };

  metric_header (out, "supolka_relay_refused_total", "counter",
                 "Requests refused before any body was read (headers: bad or unknown "
                 "authentication), for want of room (full: caps or disk), or an address's limits.");
  for (gsize i = 0; i < G_N_ELEMENTS (reasons); i++)
    g_string_append_printf (out,
                            "supolka_relay_refused_total{reason=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            reasons[i], refused[i]);
  metric_header (out, "supolka_relay_connections", "gauge", "Connections open now.");
  g_string_append_printf (out, "supolka_relay_connections %" G_GUINT64_FORMAT "\n", guard->open);
  metric_header (out, "supolka_relay_connections_dropped_total", "counter",
                 "Connections shut down for sending their headers or body too slowly.");
  g_string_append_printf (out, "supolka_relay_connections_dropped_total %" G_GUINT64_FORMAT "\n",
                          guard->dropped_slow);
  metric_header (out, "supolka_relay_body_bytes", "gauge", "Request body bytes held in memory.");
  g_string_append_printf (out, "supolka_relay_body_bytes %" G_GUINT64_FORMAT "\n",
                          guard->body_bytes);
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
  RelayGuardStats guard;
  guint64 refused[3];
  RelayStore *store;
  gboolean ok;
  gsize i;

  G_STATIC_ASSERT (G_N_ELEMENTS (classes) == G_N_ELEMENTS (relay->requests));
  store = relay_lease_store (relay);
  ok = relay_store_totals (store, &totals, error);
  relay_return_store (relay, store);
  if (!ok)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  g_mutex_lock (&relay->stats_lock);
  memcpy (requests, relay->requests, sizeof requests);
  refused[0] = relay->refused_early;
  refused[1] = relay->refused_full;
  refused[2] = relay->refused_peer;
  g_mutex_unlock (&relay->stats_lock);
  relay_guard_stats (relay->guard, &guard);

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
  metrics_abuse (out, refused, &guard);
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

gboolean
relay_metrics_start (SyncRelay *relay, GError **error)
{
  struct sockaddr_storage addr;
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;

  relay_fill_sockaddr (&addr, relay->metrics_host, relay->metrics_port, relay->metrics_v6);
  if (relay->metrics_v6)
    flags |= MHD_USE_IPv6;
  if (relay->tls_cert_pem != NULL)
    flags |= MHD_USE_TLS;
  relay->metrics_daemon = MHD_start_daemon (
      flags, relay->metrics_port, NULL, NULL, on_metrics_request, relay, MHD_OPTION_EXTERNAL_LOGGER,
      relay_mhd_log, relay, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)RELAY_CONNECTION_MEMORY,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned int)RELAY_METRICS_CONNECTION_LIMIT,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)RELAY_IDLE_TIMEOUT, MHD_OPTION_STRICT_FOR_CLIENT,
      (int)1, relay->tls_cert_pem != NULL ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END,
      relay->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY, relay->tls_key_pem,
      MHD_OPTION_HTTPS_PRIORITIES, RELAY_TLS_PRIORITIES, MHD_OPTION_END);
  if (relay->metrics_daemon == NULL)
    {
      g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_LISTEN,
                   "Cannot listen for metrics on %s port %u (in use, or not a local address)",
                   relay->metrics_host, relay->metrics_port);
      return FALSE;
    }
  return TRUE;
}