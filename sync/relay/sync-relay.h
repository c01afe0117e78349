/* sync-relay.h — the public face of supolka-sync-relay, the server.
 *
 * The relay stores what devices push (opaque batch envelopes, the membership log,
 * device public keys) and hands it back to the workspace's other devices. It
 * authenticates every request, bounds every size and never sees a key that could
 * decrypt anything. HTTP API: docs/RELAY-API.md.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SYNC_RELAY_ERROR (sync_relay_error_quark ())

typedef enum
{
  SYNC_RELAY_ERROR_FAILED,
  SYNC_RELAY_ERROR_CONFIG,   /* a bad option: address, port, TLS files, limits */
  SYNC_RELAY_ERROR_INSECURE, /* plain HTTP on an address other than loopback */
  SYNC_RELAY_ERROR_IO,       /* the data folder or the database could not be used */
  SYNC_RELAY_ERROR_BUSY,     /* another relay already uses the data folder */
  SYNC_RELAY_ERROR_TOO_NEW,  /* the database was made by a newer relay */
  SYNC_RELAY_ERROR_LISTEN,   /* the HTTP server could not start */
} SyncRelayError;

GQuark sync_relay_error_quark (void);

typedef struct
{
  const char *listen;         /* "ADDR:PORT" or "[ADDR6]:PORT"; PORT 0 picks a free one */
  const char *data_dir;       /* created 0700 if missing; holds relay.db */
  const char *tls_cert_pem;   /* PEM text (not a file name), or NULL */
  const char *tls_key_pem;    /* PEM text, or NULL; both or neither */
  gboolean insecure_http;     /* allow plain HTTP on an address other than loopback */
  const char *create_token;   /* creating a workspace needs it; NULL: DIR/create-token */
  gboolean open_creation;     /* no create token at all: anyone may create (quotas still on) */
  guint64 quota_bytes;        /* stored bytes per workspace: batches and its snapshot */
  guint max_devices;          /* pending + active devices per workspace */
  guint rate;                 /* requests per second per device; bursts up to 4× */
  guint64 max_snapshot_bytes; /* one workspace snapshot (PUT …/snapshot); 0: the default */
  const char *metrics_listen; /* "ADDR:PORT" of a separate listener for GET /metrics, or NULL */
  const char *metrics_token;  /* if set, /metrics needs "Authorization: Bearer TOKEN" */
  gboolean log_ips;           /* put the client's address in request log lines */
  /* Relay-wide limits; 0 means the default below. */
  guint max_workspaces;         /* workspaces stored */
  guint64 max_total_bytes;      /* bytes stored by all workspaces together */
  guint64 min_free_bytes;       /* writes are refused when the disk has less free */
  guint create_rate;            /* workspaces created per hour per address (10× relay-wide) */
  guint max_connections;        /* connections at once */
  guint max_connections_per_ip; /* … from one address (behind a proxy: the proxy's) */
} SyncRelayConfig;

#define SYNC_RELAY_DEFAULT_QUOTA_MB 1024
#define SYNC_RELAY_DEFAULT_MAX_DEVICES 64
#define SYNC_RELAY_DEFAULT_RATE 50
#define SYNC_RELAY_DEFAULT_MAX_SNAPSHOT_MB 64
#define SYNC_RELAY_DEFAULT_MAX_WORKSPACES 1000
#define SYNC_RELAY_DEFAULT_MAX_TOTAL_MB 10240
#define SYNC_RELAY_DEFAULT_MIN_FREE_MB 256
#define SYNC_RELAY_DEFAULT_CREATE_RATE 10
#define SYNC_RELAY_DEFAULT_MAX_CONNECTIONS 1024
#define SYNC_RELAY_DEFAULT_MAX_CONNECTIONS_PER_IP 32

typedef struct _SyncRelay SyncRelay;

/* Checks the configuration (plain HTTP off loopback is refused here, before any
 * socket exists), locks and opens the data folder, migrates the database. */
SyncRelay *sync_relay_new (const SyncRelayConfig *config, GError **error);

/* Binds and starts serving on MHD's own threads. */
gboolean sync_relay_start (SyncRelay *relay, GError **error);

/* "127.0.0.1:PORT" or "[::1]:PORT", with the port actually bound. Call after
 * sync_relay_start(). */
char *sync_relay_get_address (SyncRelay *relay);

/* The metrics listener's address as above, or NULL when there is none. */
char *sync_relay_get_metrics_address (SyncRelay *relay);

typedef enum
{
  SYNC_RELAY_LOG_ERROR = 3, /* syslog priorities, as journald reads them */
  SYNC_RELAY_LOG_WARNING = 4,
  SYNC_RELAY_LOG_INFO = 6,
} SyncRelayLogLevel;

/* One structured line on stderr: "supolka-relay: level=info event=EVENT KEY=VALUE…",
 * or "<6>level=info event=EVENT …" when stderr is the systemd journal. @format
 * (may be NULL) appends "key=value" pairs; quote free text with
 * sync_relay_log_quote(). Never pass a client address unless --log-ips asked for it. */
void sync_relay_log (SyncRelayLogLevel level, const char *event, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

/* @text as a log value: in double quotes, with '"' and '\\' escaped and anything
 * outside printable ASCII replaced by '?', cut after @max bytes. */
char *sync_relay_log_quote (const char *text, gsize max);

/* Stops serving (waits for requests in flight), closes the database. NULL-safe. */
void sync_relay_free (SyncRelay *relay);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyncRelay, sync_relay_free)

G_END_DECLS
