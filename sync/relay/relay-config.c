/* The relay's configuration: addresses, what may not be combined, the
 * relay-wide caps and their defaults, and the create token (given, or read
 * from or written to DIR/create-token at first start).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "relay-private.h"

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
check_combinations (SyncRelay *relay, const SyncRelayConfig *config, GError **error)
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
  if (config->create_token != NULL && config->open_creation)
    {
      config_error (error, SYNC_RELAY_ERROR_CONFIG,
                    "--create-token and --open-creation exclude each other: choose one");
      return FALSE;
    }
  return TRUE;
}

#define DEFAULT(field, value)                                                                      \
  do                                                                                               \
    {                                                                                              \
      if (relay->config.field == 0)                                                                \
        relay->config.field = (value);                                                             \
    }                                                                                              \
  while (0)

gboolean
relay_config_check (SyncRelay *relay, const SyncRelayConfig *config, GError **error)
{
  relay->config = *config;
  /* The strings are copied below or parsed into @relay; none is kept borrowed. */
  relay->config.metrics_listen = NULL;
  relay->config.metrics_token = NULL;
  relay->config.listen = NULL;
  relay->config.data_dir = NULL;
  relay->config.tls_cert_pem = NULL;
  relay->config.tls_key_pem = NULL;
  relay->config.create_token = NULL;
  if (!check_combinations (relay, config, error))
    return FALSE;
  DEFAULT (max_workspaces, SYNC_RELAY_DEFAULT_MAX_WORKSPACES);
  DEFAULT (max_total_bytes, (guint64)SYNC_RELAY_DEFAULT_MAX_TOTAL_MB * 1024 * 1024);
  DEFAULT (min_free_bytes, (guint64)SYNC_RELAY_DEFAULT_MIN_FREE_MB * 1024 * 1024);
  DEFAULT (create_rate, SYNC_RELAY_DEFAULT_CREATE_RATE);
  DEFAULT (max_connections, SYNC_RELAY_DEFAULT_MAX_CONNECTIONS);
  DEFAULT (max_connections_per_ip, SYNC_RELAY_DEFAULT_MAX_CONNECTIONS_PER_IP);
  if (relay->config.max_connections_per_ip > relay->config.max_connections)
    return config_error (error, SYNC_RELAY_ERROR_CONFIG,
                         "--max-connections-per-ip cannot be more than --max-connections");
  relay->tls_cert_pem = g_strdup (config->tls_cert_pem);
  relay->tls_key_pem = g_strdup (config->tls_key_pem);
  relay->create_token = g_strdup (config->create_token);
  relay->data_dir = g_strdup (config->data_dir);
  relay->config.create_token = relay->create_token;
  relay->config.data_dir = relay->data_dir;
  return TRUE;
}

/* ---- The create token ----------------------------------------------------------------- */

#define TOKEN_FILE "create-token"
#define TOKEN_BYTES 16
#define TOKEN_FILE_MAX 256

static gboolean
token_error (GError **error, const char *path, const char *what)
{
  int saved = errno;

  g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_IO, "%s %s: %s", what, path,
               g_strerror (saved));
  return FALSE;
}

/* Reads the token of an existing file: one line, printable, not empty. */
static char *
read_token_file (int fd, const char *path, GError **error)
{
  char text[TOKEN_FILE_MAX + 1];
  ssize_t n = read (fd, text, TOKEN_FILE_MAX + 1);

  if (n < 0)
    {
      token_error (error, path, "Cannot read");
      return NULL;
    }
  if (n > TOKEN_FILE_MAX)
    n = 0; /* too long: refused below */
  text[n] = '\0';
  g_strstrip (text);
  for (const char *c = text; *c; c++)
    if (*c < '!' || *c > '~')
      n = 0;
  if (n == 0 || text[0] == '\0')
    {
      g_set_error (error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_CONFIG,
                   "%s must hold one token of printable characters (at most %d); remove it to "
                   "have a new one made",
                   path, TOKEN_FILE_MAX);
      return NULL;
    }
  return g_strdup (text);
}

/* A new random token, written 0600 (O_EXCL: never over another file). */
static char *
write_token_file (const char *path, GError **error)
{
  guint8 raw[TOKEN_BYTES];
  g_autofree char *token = NULL;
  g_autofree char *line = NULL;
  int fd;

  randombytes_buf (raw, sizeof raw);
  token = sync_hex_encode (raw, sizeof raw);
  sodium_memzero (raw, sizeof raw);
  line = g_strconcat (token, "\n", NULL);
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    {
      token_error (error, path, "Cannot create");
      return NULL;
    }
  if (write (fd, line, strlen (line)) != (ssize_t)strlen (line) || fsync (fd) != 0)
    {
      token_error (error, path, "Cannot write");
      close (fd);
      return NULL;
    }
  close (fd);
  sodium_memzero (line, strlen (line));
  return g_steal_pointer (&token);
}

gboolean
relay_create_token_setup (SyncRelay *relay, GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *quoted = NULL;
  gboolean made = FALSE;
  int fd;

  if (relay->create_token != NULL || relay->config.open_creation)
    {
      sync_relay_log (SYNC_RELAY_LOG_INFO, "creation", "mode=%s",
                      relay->create_token != NULL ? "token" : "open");
      return TRUE;
    }
  path = g_build_filename (relay->data_dir, TOKEN_FILE, NULL);
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0)
    {
      relay->create_token = read_token_file (fd, path, error);
      close (fd);
    }
  else if (errno == ENOENT)
    {
      relay->create_token = write_token_file (path, error);
      made = TRUE;
    }
  else
    token_error (error, path, "Cannot open");
  if (relay->create_token == NULL)
    return FALSE;
  relay->config.create_token = relay->create_token;
  quoted = sync_relay_log_quote (path, 400);
  /* Where the token is, never the token itself. */
  sync_relay_log (SYNC_RELAY_LOG_INFO, "creation", "mode=token-file file=%s new=%s", quoted,
                  made ? "yes" : "no");
  return TRUE;
}