/* supolka-relay — the sync relay, a thin main around sync/relay.
 *
 *   supolka-relay [--config FILE] --listen ADDR:PORT --data DIR
 *                 [--tls-cert F --tls-key F] [--insecure-http]
 *                 [--create-token TOKEN | --open-creation] [--create-rate N]
 *                 [--quota-mb N] [--max-devices N] [--rate N] [--max-snapshot-mb N]
 *                 [--max-workspaces N] [--max-total-mb N] [--min-free-mb N]
 *                 [--max-connections N] [--max-connections-per-ip N]
 *                 [--metrics-listen ADDR:PORT] [--metrics-token TOKEN] [--log-ips]
 *
 * Without --create-token and --open-creation, creating a workspace needs the
 * token in DIR/create-token (written 0600 at first start; its path is logged).
 *
 * --config FILE is a key file with one group, [relay], whose keys are the long
 * options' names (listen=…, quota-mb=…, log-ips=true); an option given on the
 * command line wins over the file; an unknown group or key, or a value of the
 * wrong type, is an error. Relative paths in the file are taken from the file's
 * folder.
 *
 * Prints "listening on ADDR:PORT" on stdout once it accepts connections (then
 * "metrics on ADDR:PORT" if asked); logs one key=value line per request on stderr.
 * SIGTERM or SIGINT stop it cleanly. Exit status 0 after a clean stop, 1 on a bad
 * option or when it cannot start. API: docs/RELAY-API.md; operation: docs/RELAY.md.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib-unix.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "supolka-core.h"
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

#define MAX_CONFIG_SIZE (64 * 1024)
#define UNSET_INT G_MININT

/* The options. Strings are NULL, numbers UNSET_INT, flags FALSE until given. */
typedef struct
{
  char *listen;
  char *data_dir;
  char *tls_cert;
  char *tls_key;
  gboolean insecure_http;
  char *create_token;
  gint quota_mb;
  gint max_devices;
  gint rate;
  gint max_snapshot_mb;
  char *metrics_listen;
  char *metrics_token;
  gboolean log_ips;
  gboolean open_creation;
  gint create_rate;
  gint max_workspaces;
  gint max_total_mb;
  gint min_free_mb;
  gint max_connections;
  gint max_connections_per_ip;
} Options;

static void
options_clear (Options *o)
{
  g_free (o->listen);
  g_free (o->data_dir);
  g_free (o->tls_cert);
  g_free (o->tls_key);
  if (o->create_token != NULL)
    sodium_memzero (o->create_token, strlen (o->create_token));
  g_free (o->create_token);
  g_free (o->metrics_listen);
  if (o->metrics_token != NULL)
    sodium_memzero (o->metrics_token, strlen (o->metrics_token));
  g_free (o->metrics_token);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Options, options_clear)

typedef enum
{
  KEY_STRING,
  KEY_PATH,
  KEY_INT,
  KEY_BOOL,
} KeyType;

/* The keys of [relay], in the order of --help. */
static const struct
{
  const char *name;
  KeyType type;
  gsize offset;
} config_keys[] = {
  { "listen", KEY_STRING, G_STRUCT_OFFSET (Options, listen) },
  { "data", KEY_PATH, G_STRUCT_OFFSET (Options, data_dir) },
  { "tls-cert", KEY_PATH, G_STRUCT_OFFSET (Options, tls_cert) },
  { "tls-key", KEY_PATH, G_STRUCT_OFFSET (Options, tls_key) },
  { "insecure-http", KEY_BOOL, G_STRUCT_OFFSET (Options, insecure_http) },
  { "create-token", KEY_STRING, G_STRUCT_OFFSET (Options, create_token) },
  { "quota-mb", KEY_INT, G_STRUCT_OFFSET (Options, quota_mb) },
  { "max-devices", KEY_INT, G_STRUCT_OFFSET (Options, max_devices) },
  { "rate", KEY_INT, G_STRUCT_OFFSET (Options, rate) },
  { "max-snapshot-mb", KEY_INT, G_STRUCT_OFFSET (Options, max_snapshot_mb) },
  { "metrics-listen", KEY_STRING, G_STRUCT_OFFSET (Options, metrics_listen) },
  { "metrics-token", KEY_STRING, G_STRUCT_OFFSET (Options, metrics_token) },
  { "log-ips", KEY_BOOL, G_STRUCT_OFFSET (Options, log_ips) },
  { "open-creation", KEY_BOOL, G_STRUCT_OFFSET (Options, open_creation) },
  { "create-rate", KEY_INT, G_STRUCT_OFFSET (Options, create_rate) },
  { "max-workspaces", KEY_INT, G_STRUCT_OFFSET (Options, max_workspaces) },
  { "max-total-mb", KEY_INT, G_STRUCT_OFFSET (Options, max_total_mb) },
  { "min-free-mb", KEY_INT, G_STRUCT_OFFSET (Options, min_free_mb) },
  { "max-connections", KEY_INT, G_STRUCT_OFFSET (Options, max_connections) },
  { "max-connections-per-ip", KEY_INT, G_STRUCT_OFFSET (Options, max_connections_per_ip) },
};

static gboolean
config_fail (GError **error, const char *path, const char *message)
{
  g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_CONFIG, "%s: %s", path, message);
  return FALSE;
}

/* Fills what the command line left unset from the key file @path. */
static gboolean
load_config (const char *path, Options *o, GError **error)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autofree char *text = NULL;
  g_autofree char *dir = NULL;
  g_auto (GStrv) groups = NULL;
  g_auto (GStrv) keys = NULL;
  g_autoptr (GError) local = NULL;
  gsize len = 0;
  gsize i;
  gsize k;

  if (!g_file_get_contents (path, &text, &len, error))
    return FALSE;
  if (len > MAX_CONFIG_SIZE || memchr (text, '\0', len) != NULL)
    return config_fail (error, path, "not a configuration file (binary, or over 64 KiB)");
  if (!g_key_file_load_from_data (file, text, len, G_KEY_FILE_NONE, &local))
    {
      g_autofree char *message = g_strdup_printf ("not a key file: %s", local->message);

      return config_fail (error, path, message);
    }
  if (text != NULL)
    sodium_memzero (text, len); /* it may hold tokens */
  dir = g_path_get_dirname (path);

  groups = g_key_file_get_groups (file, NULL);
  for (i = 0; groups[i] != NULL; i++)
    if (strcmp (groups[i], "relay") != 0)
      {
        g_autofree char *message
            = g_strdup_printf ("unknown group [%s]: the only group is [relay]", groups[i]);

        return config_fail (error, path, message);
      }
  if (!g_key_file_has_group (file, "relay"))
    return config_fail (error, path, "no [relay] group");

  keys = g_key_file_get_keys (file, "relay", NULL, NULL);
  for (k = 0; keys != NULL && keys[k] != NULL; k++)
    {
      const char *key = keys[k];
      gpointer field = NULL;
      KeyType type = KEY_STRING;

      for (i = 0; i < G_N_ELEMENTS (config_keys); i++)
        if (strcmp (key, config_keys[i].name) == 0)
          {
            field = G_STRUCT_MEMBER_P (o, config_keys[i].offset);
            type = config_keys[i].type;
          }
      if (field == NULL)
        {
          g_autofree char *message = g_strdup_printf ("unknown key '%s' in [relay]", key);

          return config_fail (error, path, message);
        }

      switch (type)
        {
          case KEY_STRING:
          case KEY_PATH:
            {
              char **target = field;
              g_autofree char *value = g_key_file_get_string (file, "relay", key, &local);

              if (value == NULL || value[0] == '\0')
                {
                  g_autofree char *message = g_strdup_printf ("%s: a value is needed", key);

                  return config_fail (error, path, message);
                }
              if (*target != NULL) /* the command line wins */
                break;
              if (type == KEY_PATH && !g_path_is_absolute (value))
                *target = g_build_filename (dir, value, NULL);
              else
                *target = g_steal_pointer (&value);
            }
            break;
          case KEY_INT:
            {
              gint *target = field;
              g_autofree char *raw = g_key_file_get_value (file, "relay", key, NULL);
              gint64 value = 0;

              if (raw == NULL
                  || !g_ascii_string_to_signed (g_strstrip (raw), 10, 1, G_MAXINT, &value, NULL))
                {
                  g_autofree char *message = g_strdup_printf (
                      "%s: '%s' is not a whole number of at least 1", key, raw ? raw : "");

                  return config_fail (error, path, message);
                }
              if (*target == UNSET_INT)
                *target = (gint)value;
            }
            break;
          case KEY_BOOL:
            {
              gboolean *target = field;
              gboolean value = g_key_file_get_boolean (file, "relay", key, &local);

              if (local != NULL)
                {
                  g_autofree char *message = g_strdup_printf ("%s: true or false", key);

                  return config_fail (error, path, message);
                }
              /* A flag on the command line can only turn it on. */
              *target = *target || value;
            }
            break;
        }
    }
  return TRUE;
}

/* The relay-wide limits: defaults for what was not given, then checks; and
 * enough file descriptors for --max-connections (RLIMIT_NOFILE raised to what
 * the hard limit allows). */
static gboolean
check_limits (Options *o, GError **error)
{
  struct rlimit files = { 0 };
  guint64 needed;

  if (o->create_rate == UNSET_INT)
    o->create_rate = SYNC_RELAY_DEFAULT_CREATE_RATE;
  if (o->max_workspaces == UNSET_INT)
    o->max_workspaces = SYNC_RELAY_DEFAULT_MAX_WORKSPACES;
  if (o->max_total_mb == UNSET_INT)
    o->max_total_mb = SYNC_RELAY_DEFAULT_MAX_TOTAL_MB;
  if (o->min_free_mb == UNSET_INT)
    o->min_free_mb = SYNC_RELAY_DEFAULT_MIN_FREE_MB;
  if (o->max_connections == UNSET_INT)
    o->max_connections = SYNC_RELAY_DEFAULT_MAX_CONNECTIONS;
  if (o->max_connections_per_ip == UNSET_INT)
    o->max_connections_per_ip = MIN (SYNC_RELAY_DEFAULT_MAX_CONNECTIONS_PER_IP, o->max_connections);
  if (o->create_rate < 1 || o->max_workspaces < 1 || o->max_total_mb < 1 || o->min_free_mb < 1
      || o->max_connections < 1 || o->max_connections_per_ip < 1)
    return config_fail (error, "options",
                        "--create-rate, --max-workspaces, --max-total-mb, --min-free-mb and the "
                        "connection limits must be at least 1");
  if (o->open_creation && o->create_token != NULL)
    return config_fail (error, "options",
                        "--create-token and --open-creation exclude each other: choose one");
  /* Each connection is a descriptor; the database, the log and MHD need some too. */
  needed = (guint64)o->max_connections + 64;
  if (getrlimit (RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < needed)
    {
      files.rlim_cur = MIN ((rlim_t)needed, files.rlim_max);
      setrlimit (RLIMIT_NOFILE, &files);
      if (files.rlim_cur < needed)
        {
          g_autofree char *message
              = g_strdup_printf ("--max-connections %d needs %" G_GUINT64_FORMAT
                                 " file descriptors; the hard limit is %" G_GUINT64_FORMAT
                                 " (raise LimitNOFILE= or ulimit -Hn, or lower --max-connections)",
                                 o->max_connections, needed, (guint64)files.rlim_max);

          return config_fail (error, "options", message);
        }
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_auto (Options) o = { 0 };
  g_autofree char *config_path = NULL;
  g_autofree char *cert_pem = NULL;
  g_autofree char *key_pem = NULL;
  g_autofree char *address = NULL;
  g_autofree char *metrics_address = NULL;
  GOptionEntry entries[] = {
    { "config", 0, 0, G_OPTION_ARG_FILENAME, &config_path,
      "Read options from this key file ([relay] group; the command line wins)", "FILE" },
    { "listen", 0, 0, G_OPTION_ARG_STRING, &o.listen,
      "Address to listen on (127.0.0.1:0 picks a port)", "ADDR:PORT" },
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &o.data_dir, "Folder for relay.db", "DIR" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &o.tls_cert, "TLS certificate chain (PEM)", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &o.tls_key, "TLS private key (PEM)", "FILE" },
    { "insecure-http", 0, 0, G_OPTION_ARG_NONE, &o.insecure_http,
      "Allow plain HTTP off loopback (only behind a TLS proxy)", NULL },
    { "create-token", 0, 0, G_OPTION_ARG_STRING, &o.create_token,
      "Secret needed to create a workspace (or $SUPOLKA_RELAY_CREATE_TOKEN)", "TOKEN" },
    { "quota-mb", 0, 0, G_OPTION_ARG_INT, &o.quota_mb, "Stored batches per workspace, MiB (1024)",
      "N" },
    { "max-devices", 0, 0, G_OPTION_ARG_INT, &o.max_devices, "Devices per workspace (64)", "N" },
    { "rate", 0, 0, G_OPTION_ARG_INT, &o.rate, "Requests per second per device, burst 4x (50)",
      "N" },
    { "max-snapshot-mb", 0, 0, G_OPTION_ARG_INT, &o.max_snapshot_mb,
      "Largest workspace snapshot, MiB (64, at most 512)", "N" },
    { "metrics-listen", 0, 0, G_OPTION_ARG_STRING, &o.metrics_listen,
      "Serve GET /metrics on this separate address (none by default)", "ADDR:PORT" },
    { "metrics-token", 0, 0, G_OPTION_ARG_STRING, &o.metrics_token,
      "Bearer token /metrics requires (or $SUPOLKA_RELAY_METRICS_TOKEN)", "TOKEN" },
    { "log-ips", 0, 0, G_OPTION_ARG_NONE, &o.log_ips, "Log client addresses (off by default)",
      NULL },
    { "open-creation", 0, 0, G_OPTION_ARG_NONE, &o.open_creation,
      "Anyone may create workspaces (no create token; the limits still hold)", NULL },
    { "create-rate", 0, 0, G_OPTION_ARG_INT, &o.create_rate,
      "Workspaces created per hour per address (10); 10x that relay-wide", "N" },
    { "max-workspaces", 0, 0, G_OPTION_ARG_INT, &o.max_workspaces,
      "Workspaces on this relay (1000)", "N" },
    { "max-total-mb", 0, 0, G_OPTION_ARG_INT, &o.max_total_mb,
      "Stored bytes of all workspaces together, MiB (10240)", "N" },
    { "min-free-mb", 0, 0, G_OPTION_ARG_INT, &o.min_free_mb,
      "Refuse writes when the data folder's disk has less free, MiB (256)", "N" },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &o.max_connections, "Connections at once (1024)",
      "N" },
    { "max-connections-per-ip", 0, 0, G_OPTION_ARG_INT, &o.max_connections_per_ip,
      "Connections at once from one address (32; behind a proxy, raise it)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("— Supolka sync relay");
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (SyncRelay) relay = NULL;
  g_autoptr (GError) error = NULL;
  SyncRelayConfig config = { 0 };
  struct rlimit no_core = { 0, 0 };

  sp_i18n_init ();
  /* Our files are for this user alone; SIGPIPE must not kill us mid-answer. */
  umask (077);
  signal (SIGPIPE, SIG_IGN);
  setrlimit (RLIMIT_CORE, &no_core);

  o.quota_mb = o.max_devices = o.rate = o.max_snapshot_mb = UNSET_INT;
  o.create_rate = o.max_workspaces = o.max_total_mb = o.min_free_mb = UNSET_INT;
  o.max_connections = o.max_connections_per_ip = UNSET_INT;
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (
      context, "Every option may also be set in the --config file, as KEY=VALUE under [relay],\n"
               "e.g. listen=127.0.0.1:8443 or log-ips=true. See supolka-relay(1).");
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return fail (error->message);
  if (argc > 1)
    return fail ("unexpected arguments; see --help");
  if (config_path != NULL && !load_config (config_path, &o, &error))
    return fail (error->message);
  if (o.quota_mb == UNSET_INT)
    o.quota_mb = SYNC_RELAY_DEFAULT_QUOTA_MB;
  if (o.max_devices == UNSET_INT)
    o.max_devices = SYNC_RELAY_DEFAULT_MAX_DEVICES;
  if (o.rate == UNSET_INT)
    o.rate = SYNC_RELAY_DEFAULT_RATE;
  if (o.max_snapshot_mb == UNSET_INT)
    o.max_snapshot_mb = SYNC_RELAY_DEFAULT_MAX_SNAPSHOT_MB;
  if (o.max_snapshot_mb < 1 || o.max_snapshot_mb > 512)
    return fail ("--max-snapshot-mb must be from 1 to 512");
  if (o.listen == NULL || o.data_dir == NULL)
    return fail ("--listen ADDR:PORT and --data DIR are required");
  if (o.quota_mb < 1 || o.max_devices < 1 || o.rate < 1)
    return fail ("--quota-mb, --max-devices and --rate must be at least 1");
  if (o.quota_mb > 1024 * 1024)
    return fail ("--quota-mb is at most 1048576 (1 TiB)");
  if (!check_limits (&o, &error))
    return fail (error->message);
  if (o.create_token == NULL && g_getenv ("SUPOLKA_RELAY_CREATE_TOKEN") != NULL)
    o.create_token = g_strdup (g_getenv ("SUPOLKA_RELAY_CREATE_TOKEN"));
  if (o.metrics_token == NULL && g_getenv ("SUPOLKA_RELAY_METRICS_TOKEN") != NULL)
    o.metrics_token = g_strdup (g_getenv ("SUPOLKA_RELAY_METRICS_TOKEN"));
  if ((o.tls_cert == NULL) != (o.tls_key == NULL))
    return fail ("--tls-cert and --tls-key go together");
  if (o.tls_cert != NULL
      && ((cert_pem = read_pem (o.tls_cert, &error)) == NULL
          || (key_pem = read_pem (o.tls_key, &error)) == NULL))
    return fail (error->message);

  if (!sync_protocol_init (&error))
    return fail (error->message);

  config.listen = o.listen;
  config.data_dir = o.data_dir;
  config.tls_cert_pem = cert_pem;
  config.tls_key_pem = key_pem;
  config.insecure_http = o.insecure_http;
  config.create_token = o.create_token;
  config.quota_bytes = (guint64)o.quota_mb * 1024 * 1024;
  config.max_devices = (guint)o.max_devices;
  config.rate = (guint)o.rate;
  config.max_snapshot_bytes = (guint64)o.max_snapshot_mb * 1024 * 1024;
  config.metrics_listen = o.metrics_listen;
  config.metrics_token = o.metrics_token;
  config.log_ips = o.log_ips;
  config.open_creation = o.open_creation;
  config.create_rate = (guint)o.create_rate;
  config.max_workspaces = (guint)o.max_workspaces;
  config.max_total_bytes = (guint64)o.max_total_mb * 1024 * 1024;
  config.min_free_bytes = (guint64)o.min_free_mb * 1024 * 1024;
  config.max_connections = (guint)o.max_connections;
  config.max_connections_per_ip = (guint)o.max_connections_per_ip;

  relay = sync_relay_new (&config, &error);
  if (key_pem != NULL) /* the relay keeps its own copy */
    sodium_memzero (key_pem, strlen (key_pem));
  if (relay == NULL || !sync_relay_start (relay, &error))
    return fail (error->message);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_unix_signal_add (SIGINT, on_signal, loop);

  address = sync_relay_get_address (relay);
  metrics_address = sync_relay_get_metrics_address (relay);
  printf ("listening on %s\n", address);
  if (metrics_address != NULL)
    printf ("metrics on %s\n", metrics_address);
  fflush (stdout);
  sync_relay_log (SYNC_RELAY_LOG_INFO, "start", "version=%s metrics=%s log_ips=%s", PACKAGE_VERSION,
                  metrics_address ? "on" : "off", o.log_ips ? "on" : "off");

  g_main_loop_run (loop);
  sync_relay_log (SYNC_RELAY_LOG_INFO, "stop", NULL);
  g_clear_pointer (&relay, sync_relay_free);
  return 0;
}
