/* sync-http.c — signed requests to the relay over libcurl.
 *
 * HTTPS with certificate and host checks (libcurl's defaults, never turned
 * off); plain HTTP only to a loopback address, or to a .onion host through a
 * proxy (Tor encrypts that hop itself). No redirects, only http and https,
 * bounded answers, timeouts, and retries with exponential backoff and jitter
 * on network errors, 429 and 5xx. Every request carries the device's
 * signature over method, path, body hash, time and nonce (sync-protocol.h).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <curl/curl.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#include "sync-batch.h"
#include "sync-http.h"
#include "sync-protocol.h"

#define MAX_ATTEMPTS 5
#define FIRST_DELAY_MS 250
#define MAX_DELAY_MS 8000

struct _SyncHttp
{
  CURL *curl;
  char *base; /* without a trailing slash */
  char *proxy;
  char *ca_file;
  char device[SYNC_ID_HEX_LEN + 1];
  SpSecret *auth_sk; /* borrowed */
};

typedef struct
{
  GByteArray *buf;
  gboolean too_large;
  long retry_after;
} Sink;

SyncHttp *
sync_http_new (const char *base, const SyncOptions *opts, GError **error)
{
  g_autoptr (SyncHttp) http = NULL;
  const char *proxy = opts ? opts->proxy : NULL;

  if (!sync_relay_reach_check (base, proxy, error))
    return NULL;
  http = g_new0 (SyncHttp, 1);
  http->base = g_strdup (base);
  while (g_str_has_suffix (http->base, "/"))
    http->base[strlen (http->base) - 1] = '\0';
  http->proxy = g_strdup (proxy && *proxy ? proxy : NULL);
  http->ca_file = g_strdup (opts ? opts->ca_file : NULL);
  http->curl = curl_easy_init ();
  if (http->curl == NULL)
    {
      g_set_error (error, SYNC_ERROR, SYNC_ERROR_FAILED, _ ("The network library failed to start"));
      return NULL;
    }
  return g_steal_pointer (&http);
}

void
sync_http_free (SyncHttp *http)
{
  if (http == NULL)
    return;
  if (http->curl)
    curl_easy_cleanup (http->curl);
  g_free (http->base);
  g_free (http->proxy);
  g_free (http->ca_file);
  g_free (http);
}

void
sync_http_set_identity (SyncHttp *http, const char *device, SpSecret *auth_sk)
{
  g_strlcpy (http->device, device, sizeof http->device);
  http->auth_sk = auth_sk;
}

static size_t
on_body (char *ptr, size_t size, size_t nmemb, void *user_data)
{
  Sink *sink = user_data;
  gsize n = size * nmemb;

  if (sink->buf->len + n > SYNC_HTTP_MAX_RESPONSE)
    {
      sink->too_large = TRUE;
      return 0; /* aborts the transfer */
    }
  g_byte_array_append (sink->buf, (const guint8 *)ptr, (guint)n);
  return n;
}

static size_t
on_header (char *ptr, size_t size, size_t nmemb, void *user_data)
{
  Sink *sink = user_data;
  gsize n = size * nmemb;

  if (n > 12 && g_ascii_strncasecmp (ptr, "Retry-After:", 12) == 0)
    {
      g_autofree char *v = g_strstrip (g_strndup (ptr + 12, n - 12));
      gint64 secs = g_ascii_strtoll (v, NULL, 10);
      sink->retry_after = CLAMP (secs, 0, 60);
    }
  return n;
}

static gboolean
transient (CURLcode rc)
{
  switch (rc)
    {
      case CURLE_COULDNT_CONNECT:
      case CURLE_OPERATION_TIMEDOUT:
      case CURLE_SEND_ERROR:
      case CURLE_RECV_ERROR:
      case CURLE_GOT_NOTHING:
      case CURLE_PARTIAL_FILE:
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
        return TRUE;
      default:
        return FALSE;
    }
}

static void
backoff (guint attempt, long retry_after)
{
  guint64 ms = (guint64)FIRST_DELAY_MS << attempt;

  ms = MIN (ms, MAX_DELAY_MS);
  ms = ms / 2 + g_random_int_range (0, (gint32)ms); /* jitter: 0.5×–1.5× */
  if (retry_after > 0)
    ms = MAX (ms, (guint64)retry_after * 1000);
  g_usleep (ms * 1000);
}

static gboolean
attempt (SyncHttp *http, const char *method, const char *path, const void *body, gsize body_len,
         const char *content_type, long *status, Sink *sink, CURLcode *rc, GError **error)
{
  g_autofree char *url = g_strconcat (http->base, path, NULL);
  g_autofree char *sig = NULL;
  char nonce[SYNC_AUTH_NONCE_HEX_LEN + 1];
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  struct curl_slist *headers = NULL;
  g_autofree char *target = NULL;
  CURL *c = http->curl;
  CURLU *u = curl_url ();
  char *upath = NULL, *uquery = NULL;

  /* The signed path is the request target exactly as libcurl will send it:
   * the base URL's own path prefix, then ours. */
  if (curl_url_set (u, CURLUPART_URL, url, 0) != CURLUE_OK
      || curl_url_get (u, CURLUPART_PATH, &upath, 0) != CURLUE_OK)
    {
      curl_url_cleanup (u);
      g_set_error (error, SYNC_ERROR, SYNC_ERROR_FAILED, _ ("Bad relay address"));
      return FALSE;
    }
  curl_url_get (u, CURLUPART_QUERY, &uquery, 0);
  target = uquery ? g_strconcat (upath, "?", uquery, NULL) : g_strdup (upath);
  curl_free (upath);
  curl_free (uquery);
  curl_url_cleanup (u);

  if (http->auth_sk)
    {
      g_autofree char *h_dev = NULL, *h_time = NULL, *h_nonce = NULL, *h_sig = NULL;

      sync_auth_new_nonce (nonce);
      if (!sync_auth_sign (sp_secret_data (http->auth_sk), method, target, body, body_len, now,
                           nonce, http->device, &sig, error))
        return FALSE;
      h_dev = g_strdup_printf ("%s: %s", SYNC_AUTH_HEADER_DEVICE, http->device);
      h_time = g_strdup_printf ("%s: %" G_GINT64_FORMAT, SYNC_AUTH_HEADER_TIME, now);
      h_nonce = g_strdup_printf ("%s: %s", SYNC_AUTH_HEADER_NONCE, nonce);
      h_sig = g_strdup_printf ("%s: %s", SYNC_AUTH_HEADER_SIGNATURE, sig);
      headers = curl_slist_append (headers, h_dev);
      headers = curl_slist_append (headers, h_time);
      headers = curl_slist_append (headers, h_nonce);
      headers = curl_slist_append (headers, h_sig);
    }
  if (content_type)
    {
      g_autofree char *ct = g_strdup_printf ("Content-Type: %s", content_type);
      headers = curl_slist_append (headers, ct);
    }
  headers = curl_slist_append (headers, "Expect:");

  curl_easy_reset (c);
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt (c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt (c, CURLOPT_TIMEOUT, 600L);
  curl_easy_setopt (c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)SYNC_HTTP_MAX_RESPONSE);
  curl_easy_setopt (c, CURLOPT_USERAGENT, "supolka");
  curl_easy_setopt (c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (http->ca_file)
    curl_easy_setopt (c, CURLOPT_CAINFO, http->ca_file);
  /* An explicit proxy, or none at all: never one from the environment, so a
   * Tor setting cannot be bypassed by accident and no stray proxy sees us. */
  curl_easy_setopt (c, CURLOPT_PROXY, http->proxy ? http->proxy : "");
  curl_easy_setopt (c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (c, CURLOPT_CUSTOMREQUEST, method);
  if (body != NULL)
    {
      curl_easy_setopt (c, CURLOPT_POSTFIELDS, body);
      curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
  else if (strcmp (method, "GET") == 0)
    curl_easy_setopt (c, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt (c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, sink);
  curl_easy_setopt (c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (c, CURLOPT_HEADERDATA, sink);

  *rc = curl_easy_perform (c);
  curl_slist_free_all (headers);
  *status = 0;
  if (*rc == CURLE_OK)
    curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, status);
  return TRUE;
}

gboolean
sync_http_request (SyncHttp *http, const char *method, const char *path, const void *body,
                   gsize body_len, const char *content_type, long *status, GBytes **answer,
                   GError **error)
{
  CURLcode rc = CURLE_OK;

  for (guint i = 0; i < MAX_ATTEMPTS; i++)
    {
      Sink sink = { g_byte_array_new (), FALSE, 0 };

      if (!attempt (http, method, path, body, body_len, content_type, status, &sink, &rc, error))
        {
          g_byte_array_unref (sink.buf);
          return FALSE;
        }
      if (sink.too_large)
        {
          g_byte_array_unref (sink.buf);
          g_set_error (error, SYNC_ERROR, SYNC_ERROR_MALFORMED,
                       _ ("The relay's answer is larger than allowed"));
          return FALSE;
        }
      if (rc == CURLE_OK && *status != 429 && *status < 500)
        {
          *answer = g_byte_array_free_to_bytes (sink.buf);
          return TRUE;
        }
      g_byte_array_unref (sink.buf);
      if (rc != CURLE_OK && !transient (rc))
        break;
      if (i + 1 < MAX_ATTEMPTS)
        backoff (i, sink.retry_after);
    }
  if (rc != CURLE_OK)
    g_set_error (error, SYNC_ERROR, SYNC_ERROR_NETWORK, _ ("Cannot reach the relay: %s"),
                 curl_easy_strerror (rc));
  else
    g_set_error (error, SYNC_ERROR, SYNC_ERROR_NETWORK,
                 _ ("The relay is busy or failing (HTTP %ld); try again later"), *status);
  return FALSE;
}

JsonObject *
sync_parse_json_object (const guint8 *data, gsize len, gsize max, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (data == NULL || len == 0 || len > max
      || !g_utf8_validate ((const char *)data, (gssize)len, NULL)
      || !sync_json_nesting_ok ((const char *)data, len, 8)
      || !json_parser_load_from_data (parser, (const char *)data, (gssize)len, NULL)
      || (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, SYNC_ERROR, SYNC_ERROR_MALFORMED,
                   _ ("The relay sent an answer that is not valid"));
      return NULL;
    }
  return json_object_ref (json_node_get_object (root));
}

const char *
sync_json_error_code (JsonObject *obj)
{
  JsonNode *n = obj ? json_object_get_member (obj, "error") : NULL;

  if (n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING)
    return json_node_get_string (n);
  return NULL;
}

JsonObject *
sync_http_json (SyncHttp *http, const char *method, const char *path, const char *json_body,
                const long *accept, long *status, GError **error)
{
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (JsonObject) obj = NULL;
  gboolean accepted = FALSE;
  long st = 0;
  gsize len;
  const guint8 *data;

  if (!sync_http_request (http, method, path, json_body, json_body ? strlen (json_body) : 0,
                          json_body ? "application/json" : NULL, &st, &answer, error))
    return NULL;
  if (status)
    *status = st;
  for (const long *a = accept; a && *a; a++)
    accepted |= (*a == st);
  data = g_bytes_get_data (answer, &len);
  obj = sync_parse_json_object (data, len, SYNC_HTTP_MAX_RESPONSE, NULL);
  if ((st < 200 || st > 299) && !accepted)
    {
      const char *code = sync_json_error_code (obj);
      g_autofree char *safe = NULL;

      /* The code is the relay's word: show it only if it looks like one. */
      if (code && strlen (code) <= 40
          && strspn (code, "abcdefghijklmnopqrstuvwxyz_") == strlen (code))
        safe = g_strdup (code);
      g_set_error (error, SYNC_ERROR, SYNC_ERROR_REFUSED, _ ("The relay refused: HTTP %ld (%s)"),
                   st, safe ? safe : "?");
      return NULL;
    }
  if (obj == NULL)
    {
      g_set_error (error, SYNC_ERROR, SYNC_ERROR_MALFORMED,
                   _ ("The relay sent an answer that is not valid"));
      return NULL;
    }
  return g_steal_pointer (&obj);
}
