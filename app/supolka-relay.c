/* supolka-relay — the sync relay, a thin main around sync/relay.
 *
 *   supolka-relay --listen ADDR:PORT --data DIR [--tls-cert F --tls-key F]
 *                 [--insecure-http] [--create-token TOKEN] [--quota-mb N]
 *                 [--max-devices N] [--rate N]
 *
 * Prints "listening on ADDR:PORT" on stdout once it accepts connections; logs one
 * line per request on stderr. SIGTERM or SIGINT stop it cleanly. Exit status 0
 * after a clean stop, 1 on a bad option or when it cannot start.
 * API and operation: docs/RELAY-API.md.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "sync-protocol.h"
#include "sync-relay.h"

#define MAX_PEM_SIZE (1024 * 1024)

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

static char *
read_pem (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  if (len == 0 || len > MAX_PEM_SIZE || memchr (text, '\0', len) != NULL)
    {
      g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_CONFIG, "%s is not a PEM file", path);
      return NULL;
    }
  return g_steal_pointer (&text);
}

static int
fail (const char *message)
{
  g_printerr ("supolka-relay: %s\n", message);
  return 1;
}

int
main (int argc, char **argv)
{
  g_autofree char *listen = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *tls_cert = NULL;
  g_autofree char *tls_key = NULL;
  g_autofree char *create_token = NULL;
  g_autofree char *cert_pem = NULL;
  g_autofree char *key_pem = NULL;
  g_autofree char *address = NULL;
  gboolean insecure_http = FALSE;
  gint quota_mb = SYNC_RELAY_DEFAULT_QUOTA_MB;
  gint max_devices = SYNC_RELAY_DEFAULT_MAX_DEVICES;
  gint rate = SYNC_RELAY_DEFAULT_RATE;
  GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen,
      "Address to listen on (127.0.0.1:0 picks a port)", "ADDR:PORT" },
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "Folder for relay.db", "DIR" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert, "TLS certificate chain (PEM)", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, "TLS private key (PEM)", "FILE" },
    { "insecure-http", 0, 0, G_OPTION_ARG_NONE, &insecure_http,
      "Allow plain HTTP off loopback (only behind a TLS proxy)", NULL },
    { "create-token", 0, 0, G_OPTION_ARG_STRING, &create_token,
      "Secret needed to create a workspace (or $SUPOLKA_RELAY_CREATE_TOKEN)", "TOKEN" },
    { "quota-mb", 0, 0, G_OPTION_ARG_INT, &quota_mb, "Stored batches per workspace, MiB (1024)",
      "N" },
    { "max-devices", 0, 0, G_OPTION_ARG_INT, &max_devices, "Devices per workspace (64)", "N" },
    { "rate", 0, 0, G_OPTION_ARG_INT, &rate, "Requests per second per device, burst 4x (50)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("— Supolka sync relay");
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (SyncRelay) relay = NULL;
  g_autoptr (GError) error = NULL;
  SyncRelayConfig config = { 0 };
  struct rlimit no_core = { 0, 0 };

  setlocale (LC_ALL, "");
  /* Our files are for this user alone; SIGPIPE must not kill us mid-answer. */
  umask (077);
  signal (SIGPIPE, SIG_IGN);
  setrlimit (RLIMIT_CORE, &no_core);

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return fail (error->message);
  if (argc > 1)
    return fail ("unexpected arguments; see --help");
  if (listen == NULL || data_dir == NULL)
    return fail ("--listen ADDR:PORT and --data DIR are required");
  if (quota_mb < 1 || max_devices < 1 || rate < 1)
    return fail ("--quota-mb, --max-devices and --rate must be at least 1");
  if (create_token == NULL && g_getenv ("SUPOLKA_RELAY_CREATE_TOKEN") != NULL)
    create_token = g_strdup (g_getenv ("SUPOLKA_RELAY_CREATE_TOKEN"));
  if ((tls_cert == NULL) != (tls_key == NULL))
    return fail ("--tls-cert and --tls-key go together");
  if (tls_cert != NULL
      && ((cert_pem = read_pem (tls_cert, &error)) == NULL
          || (key_pem = read_pem (tls_key, &error)) == NULL))
    return fail (error->message);

  if (!sync_protocol_init (&error))
    return fail (error->message);

  config.listen = listen;
  config.data_dir = data_dir;
  config.tls_cert_pem = cert_pem;
  config.tls_key_pem = key_pem;
  config.insecure_http = insecure_http;
  config.create_token = create_token;
  config.quota_bytes = (guint64)quota_mb * 1024 * 1024;
  config.max_devices = (guint)max_devices;
  config.rate = (guint)rate;

  relay = sync_relay_new (&config, &error);
  if (key_pem != NULL) /* the relay keeps its own copy */
    sodium_memzero (key_pem, strlen (key_pem));
  if (relay == NULL || !sync_relay_start (relay, &error))
    return fail (error->message);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);

  address = sync_relay_get_address (relay);
  printf ("listening on %s\n", address);
  fflush (stdout);

  g_main_loop_run (loop);
  g_printerr ("supolka-relay: stopping\n");
  g_clear_pointer (&relay, sync_relay_free);
  return 0;
}
