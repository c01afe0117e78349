/* The rules the app, the CLI and the transport share (supolka-sync.h): which
 * relay and proxy addresses are allowed, and an invite's lifetime. The same
 * tables go through sync_http_new, the one caller that connects.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "supolka-sync.h"
#include "sync-http.h"

static const char *const good_relays[] = {
  "https://relay.example.org",
  "https://relay.example.org:8443/prefix",
  "https://relay.example.org/supolka/",
  "HTTPS://Relay.Example.org",
  "https://[2001:db8::1]:443",
  "http://127.0.0.1:8080",
  "http://[::1]:8080",
  "http://localhost:1",
  "http://LOCALHOST",
  "http://abcdefghijklmnopabcdefghijklmnopabcdefghijklmnopabcd.onion",
  "http://relay.example.onion:8080/prefix",
  "https://relay.example.onion",
};

static const char *const bad_relays[] = {
  "",
  "relay.example.org",
  "http://relay.example.org",
  "http://127.0.0.2:8080", /* loopback, but not the address the rule names */
  "http://10.0.0.1",
  "http://onion",
  "http://example.onion.evil.org",
  "ftp://relay.example.org",
  "file:///etc/passwd",
  "https://",
  "https://user@relay.example.org",
  "https://user:secret@relay.example.org",
  "https://relay.example.org/?x=1",
  "https://relay.example.org/#top",
  "https://relay.example.org/a b",
  "https://relay.example.org/\n",
  "https://relay.exämple.org",
  "javascript:alert(1)",
  "socks5h://127.0.0.1:9050",
};

static const char *const good_proxies[] = {
  "socks5h://127.0.0.1:9050",      "socks5://127.0.0.1:1080",
  "http://proxy.example.org:3128", "socks5h://user:pass@127.0.0.1:9050", /* Tor stream isolation */
  "socks5h://[::1]:9050",
};

static const char *const bad_proxies[] = {
  "",
  "socks5h://127.0.0.1", /* no port: curl would guess 1080, not Tor's 9050 */
  "socks4://127.0.0.1:9050",
  "socks4a://127.0.0.1:9050",
  "https://proxy.example.org:3128",
  "gopher://127.0.0.1:70",
  "127.0.0.1:9050",
  "socks5h://:9050",
  "socks5h://127.0.0.1:9050/?x",
  "socks5h://127.0.0.1:9050 ",
};

static void
test_relay_url (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (good_relays); i++)
    {
      g_autoptr (GError) error = NULL;

      if (!sync_relay_url_check (good_relays[i], &error))
        g_error ("%s refused: %s", good_relays[i], error->message);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_relays); i++)
    {
      g_autoptr (GError) error = NULL;

      if (sync_relay_url_check (bad_relays[i], &error))
        g_error ("%s accepted", bad_relays[i]);
      g_assert_error (error, SYNC_ERROR, SYNC_ERROR_FAILED);
      g_assert_cmpstr (error->message, !=, "");
    }
  g_assert_false (sync_relay_url_check (NULL, NULL));
}

static void
test_proxy_url (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (good_proxies); i++)
    {
      g_autoptr (GError) error = NULL;

      if (!sync_proxy_url_check (good_proxies[i], &error))
        g_error ("%s refused: %s", good_proxies[i], error->message);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_proxies); i++)
    {
      g_autoptr (GError) error = NULL;

      if (sync_proxy_url_check (bad_proxies[i], &error))
        g_error ("%s accepted", bad_proxies[i]);
      g_assert_error (error, SYNC_ERROR, SYNC_ERROR_FAILED);
    }
  g_assert_false (sync_proxy_url_check (NULL, NULL));
}

/* sync_http_new applies the same rules, and asks for a proxy for plain HTTP
 * to a .onion host (Tor encrypts that hop; nothing else would). */
static void
test_transport (void)
{
  SyncOptions direct = { 0 };
  SyncOptions tor = { .proxy = "socks5h://127.0.0.1:9050" };
  SyncOptions bad_proxy = { .proxy = "socks4://127.0.0.1:9050" };
  g_autoptr (GError) error = NULL;
  SyncHttp *http;

  for (guint i = 0; i < G_N_ELEMENTS (good_relays); i++)
    {
      gboolean onion_http = g_str_has_prefix (good_relays[i], "http://")
                            && strstr (good_relays[i], ".onion") != NULL;

      http = sync_http_new (good_relays[i], &tor, &error);
      g_assert_no_error (error);
      g_assert_nonnull (http);
      sync_http_free (http);
      http = sync_http_new (good_relays[i], &direct, onion_http ? &error : NULL);
      g_assert_true ((http == NULL) == onion_http);
      if (onion_http)
        {
          g_assert_error (error, SYNC_ERROR, SYNC_ERROR_FAILED);
          g_clear_error (&error);
        }
      sync_http_free (http);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_relays); i++)
    {
      g_assert_null (sync_http_new (bad_relays[i], &tor, &error));
      g_assert_error (error, SYNC_ERROR, SYNC_ERROR_FAILED);
      g_clear_error (&error);
    }
  g_assert_null (sync_http_new ("https://relay.example.org", &bad_proxy, &error));
  g_assert_error (error, SYNC_ERROR, SYNC_ERROR_FAILED);
}

static void
test_invite_ttl (void)
{
  g_assert_cmpuint (sync_invite_ttl_clamp (0), ==, SYNC_INVITE_TTL_DEFAULT_HOURS);
  g_assert_cmpuint (sync_invite_ttl_clamp (1), ==, 1);
  g_assert_cmpuint (sync_invite_ttl_clamp (24), ==, 24);
  g_assert_cmpuint (sync_invite_ttl_clamp (168), ==, 168);
  g_assert_cmpuint (sync_invite_ttl_clamp (169), ==, SYNC_INVITE_TTL_MAX_HOURS);
  g_assert_cmpuint (sync_invite_ttl_clamp (G_MAXUINT), ==, SYNC_INVITE_TTL_MAX_HOURS);
  g_assert_cmpuint (SYNC_INVITE_TTL_MIN_HOURS, ==, 1);
  g_assert_cmpuint (SYNC_INVITE_TTL_DEFAULT_HOURS, >=, SYNC_INVITE_TTL_MIN_HOURS);
  g_assert_cmpuint (SYNC_INVITE_TTL_DEFAULT_HOURS, <=, SYNC_INVITE_TTL_MAX_HOURS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sync-rules/relay-url", test_relay_url);
  g_test_add_func ("/sync-rules/proxy-url", test_proxy_url);
  g_test_add_func ("/sync-rules/transport", test_transport);
  g_test_add_func ("/sync-rules/invite-ttl", test_invite_ttl);
  return g_test_run ();
}
