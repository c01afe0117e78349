/* sync-rules.c — the rules the app, the CLI and the transport share: which
 * relay and proxy addresses are allowed, and how long an invite lives.
 *
 * The addresses are parsed with libcurl's own URL parser, the one that will
 * connect to them, so the check and the connection cannot disagree.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <curl/curl.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#include "sync-http.h"

#define URL_MAX 1024

G_DEFINE_QUARK (sync - error - quark, sync_error)

/* The parts of an address that the rules look at. */
typedef struct
{
  char *scheme, *host, *port, *user, *query, *fragment;
} UrlParts;

static void
url_parts_clear (UrlParts *p)
{
  curl_free (p->scheme);
  curl_free (p->host);
  curl_free (p->port);
  curl_free (p->user);
  curl_free (p->query);
  curl_free (p->fragment);
  memset (p, 0, sizeof *p);
}

/* Printable ASCII only, bounded, and with a scheme and a host curl accepts
 * (@any_scheme: also schemes curl does not fetch, such as socks5h). */
static gboolean
url_split (const char *url, gboolean any_scheme, UrlParts *p)
{
  CURLU *u;
  gboolean ok;

  memset (p, 0, sizeof *p);
  if (url == NULL || strlen (url) > URL_MAX)
    return FALSE;
  for (const char *c = url; *c; c++)
    if ((guchar)*c <= 0x20 || (guchar)*c >= 0x7f)
      return FALSE;
  u = curl_url ();
  ok = u != NULL
       && curl_url_set (u, CURLUPART_URL, url, any_scheme ? CURLU_NON_SUPPORT_SCHEME : 0)
              == CURLUE_OK
       && curl_url_get (u, CURLUPART_SCHEME, &p->scheme, 0) == CURLUE_OK
       && curl_url_get (u, CURLUPART_HOST, &p->host, 0) == CURLUE_OK && *p->host != '\0';
  if (ok)
    {
      /* Absent parts leave their pointer NULL. */
      curl_url_get (u, CURLUPART_PORT, &p->port, 0);
      curl_url_get (u, CURLUPART_USER, &p->user, 0);
      curl_url_get (u, CURLUPART_QUERY, &p->query, 0);
      curl_url_get (u, CURLUPART_FRAGMENT, &p->fragment, 0);
    }
  curl_url_cleanup (u);
  return ok;
}

static gboolean
host_is_loopback (const char *host)
{
  return g_strcmp0 (host, "127.0.0.1") == 0 || g_strcmp0 (host, "[::1]") == 0
         || g_ascii_strcasecmp (host, "localhost") == 0;
}

static gboolean
host_is_onion (const char *host)
{
  gsize n = strlen (host);

  return n > 6 && g_ascii_strcasecmp (host + n - 6, ".onion") == 0;
}

static gboolean
plain_http_refused (const char *url, GError **error)
{
  g_set_error (error, SYNC_ERROR, SYNC_ERROR_FAILED,
               _ ("The relay address “%s” uses plain HTTP; only https:// is allowed "
                  "except on this computer (loopback) or for a .onion address through a "
                  "proxy"),
               url);
  return FALSE;
}

gboolean
sync_relay_url_check (const char *url, GError **error)
{
  UrlParts p;
  gboolean ok, https, plain_ok = FALSE;

  if (url == NULL || *url == '\0')
    {
      g_set_error_literal (error, SYNC_ERROR, SYNC_ERROR_FAILED, _ ("No relay address is set"));
      return FALSE;
    }
  ok = url_split (url, FALSE, &p) && p.user == NULL && p.query == NULL && p.fragment == NULL;
  https = ok && g_ascii_strcasecmp (p.scheme, "https") == 0;
  if (ok && !https && g_ascii_strcasecmp (p.scheme, "http") == 0)
    plain_ok = host_is_loopback (p.host) || host_is_onion (p.host);
  else if (ok && !https)
    ok = FALSE;
  url_parts_clear (&p);
  if (!ok)
    {
      g_set_error (error, SYNC_ERROR, SYNC_ERROR_FAILED, _ ("“%s” is not a relay address"), url);
      return FALSE;
    }
  if (!https && !plain_ok)
    return plain_http_refused (url, error);
  return TRUE;
}

gboolean
sync_proxy_url_check (const char *url, GError **error)
{
  static const char *const schemes[] = { "socks5h", "socks5", "http", NULL };
  UrlParts p;
  gboolean ok = url_split (url, TRUE, &p) && p.port != NULL && p.query == NULL && p.fragment == NULL
                && g_strv_contains (schemes, p.scheme);

  url_parts_clear (&p);
  if (!ok)
    g_set_error (error, SYNC_ERROR, SYNC_ERROR_FAILED,
                 _ ("“%s” is not a proxy address (use socks5h://HOST:PORT)"), url ? url : "");
  return ok;
}

gboolean
sync_relay_reach_check (const char *url, const char *proxy, GError **error)
{
  UrlParts p;
  gboolean onion_http;

  if (!sync_relay_url_check (url, error)
      || (proxy && *proxy && !sync_proxy_url_check (proxy, error)))
    return FALSE;
  onion_http = url_split (url, FALSE, &p) && g_ascii_strcasecmp (p.scheme, "http") == 0
               && host_is_onion (p.host);
  url_parts_clear (&p);
  /* Plain HTTP is safe to a .onion host only because Tor encrypts the hop. */
  if (onion_http && (proxy == NULL || *proxy == '\0'))
    return plain_http_refused (url, error);
  return TRUE;
}

guint
sync_invite_ttl_clamp (guint hours)
{
  if (hours == 0)
    return SYNC_INVITE_TTL_DEFAULT_HOURS;
  return CLAMP (hours, SYNC_INVITE_TTL_MIN_HOURS, SYNC_INVITE_TTL_MAX_HOURS);
}
