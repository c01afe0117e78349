/* relay-private.h — shared between the files of sync/relay only.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <microhttpd.h>
#include <sys/socket.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>

#include "sync-protocol.h"
#include "sync-relay.h"

G_BEGIN_DECLS

/* ---- Limits -------------------------------------------------------------------- */

#define RELAY_MAX_BATCH_BODY (SYNC_ENVELOPE_MAX_LEN + 512 * 1024) /* 4.5 MiB */
#define RELAY_MAX_JSON_BODY (1024 * 1024)
#define RELAY_MAX_STASH_BODY (256 * 1024) /* one travel stash (docs/COMPARTMENTS.md) */
#define RELAY_MAX_JSON_DEPTH 16
#define RELAY_MAX_ENTRY (64 * 1024)
#define RELAY_MAX_URI 2048
#define RELAY_TIME_WINDOW 300 /* seconds either side of the relay's clock */
#define RELAY_NONCE_KEEP 600  /* seen nonces are forgotten after this long */
#define RELAY_INVITE_MAX_TTL (7 * 24 * 3600)
#define RELAY_PAGE_MAX_BYTES (4 * 1024 * 1024)
#define RELAY_PAGE_DEFAULT_LIMIT 100
#define RELAY_PAGE_MAX_LIMIT 500
#define RELAY_LOG_PAGE_MAX 256
#define RELAY_MAX_SNAPSHOT_MB_LIMIT 512 /* --max-snapshot-mb: SQLite holds ≤ 1e9-byte values */
/* Request bodies held in memory at once, relay-wide, as a multiple of
 * --max-snapshot-mb (and, separately, snapshot downloads being sent; one
 * download is always admitted). */
#define RELAY_SNAPSHOT_BUDGET_FACTOR 4
/* A snapshot may be at most this plus twice the bytes of batches the
 * workspace ever stored: a new, empty workspace cannot take a large one. */
#define RELAY_SNAPSHOT_SLACK (4 * 1024 * 1024)
#define RELAY_CONNECTION_MEMORY (64 * 1024)
#define RELAY_TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define RELAY_METRICS_CONNECTION_LIMIT 16
#define RELAY_AUTH_HEADER_MAX 1024
#define RELAY_HEADER_SNAPSHOT_CURSOR "X-Supolka-Snapshot-Cursor"
#define RELAY_HEADER_SNAPSHOT_DEVICE "X-Supolka-Snapshot-Device"
#define RELAY_HEADER_SNAPSHOT_TIME "X-Supolka-Snapshot-Time"
/* body_limit of an endpoint whose limit is --max-snapshot-mb (relay-server.c). */
#define RELAY_BODY_LIMIT_SNAPSHOT G_MAXSIZE

/* ---- Storage (relay-store.c) ---------------------------------------------------
 * A RelayStore is one SQLite connection to DIR/relay.db. The server keeps a
 * small pool of them (relay_store_open_more), one per request being handled,
 * so requests of different workspaces run side by side; requests of one
 * workspace are serialised by the server (relay-exec.c). A connection is used
 * by one thread at a time. */

typedef enum
{
  RELAY_DEVICE_PENDING = 1 << 0,
  RELAY_DEVICE_ACTIVE = 1 << 1,
  RELAY_DEVICE_REVOKED = 1 << 2,
} RelayDeviceStatus;

typedef struct
{
  char id[SYNC_ID_HEX_LEN + 1];
  guint8 auth_pk[SYNC_KEY_LEN];
  guint8 sign_pk[SYNC_KEY_LEN];
  guint8 box_pk[SYNC_KEY_LEN];
  RelayDeviceStatus status;
  gint64 created;
  gboolean has_invite; /* joined with an invite: its token hash below */
  guint8 invite[SYNC_HASH_LEN];
} RelayDevice;

typedef struct
{
  gint64 version;
  char *entry;
  char signer[SYNC_ID_HEX_LEN + 1];
} RelayLogEntry;

typedef struct
{
  gint64 cursor;
  char device[SYNC_ID_HEX_LEN + 1];
  gint64 seq;
  GBytes *data;
} RelayBatch;

typedef struct
{
  gint64 id; /* rowid, for relay_store_read_snapshot() */
  gint64 cursor;
  char device[SYNC_ID_HEX_LEN + 1];
  gint64 created;
  gint64 size;
} RelaySnapshotInfo;

typedef struct _RelayStore RelayStore;

const char *relay_device_status_to_string (RelayDeviceStatus status);

/* The first connection: creates, locks and migrates the data folder. */
RelayStore *relay_store_open (const char *dir, GError **error);
/* Another connection to the database @first opened (no lock, no migration). */
RelayStore *relay_store_open_more (RelayStore *first, const char *dir, GError **error);
void relay_store_close (RelayStore *store);
/* SQLITE_FULL (the disk is full) or SQLITE_IOERR on write: the storage is out of space. */
gboolean relay_store_error_is_full (const GError *error);

gboolean relay_store_begin (RelayStore *store, GError **error);
gboolean relay_store_commit (RelayStore *store, GError **error);
void relay_store_rollback (RelayStore *store);

gboolean relay_store_get_device (RelayStore *store, const char *ws, const char *device,
                                 RelayDevice *out, gboolean *found, GError **error);
gboolean relay_store_add_device (RelayStore *store, const char *ws, const RelayDevice *device,
                                 GError **error);
gboolean relay_store_set_device_status (RelayStore *store, const char *ws, const char *device,
                                        RelayDeviceStatus status, GError **error);
gboolean relay_store_count_devices (RelayStore *store, const char *ws, gint64 *count,
                                    GError **error);
/* An array of RelayDevice, by creation. */
GArray *relay_store_list_devices (RelayStore *store, const char *ws, GError **error);

gboolean relay_store_nonce_seen (RelayStore *store, const char *device, const char *nonce,
                                 gboolean *seen, GError **error);
gboolean relay_store_add_nonce (RelayStore *store, const char *device, const char *nonce,
                                gint64 time, GError **error);
gboolean relay_store_prune_nonces (RelayStore *store, gint64 before, GError **error);

gboolean relay_store_workspace_exists (RelayStore *store, const char *ws, gboolean *exists,
                                       GError **error);
gboolean relay_store_add_workspace (RelayStore *store, const char *ws, gint64 now, GError **error);
gboolean relay_store_workspace_bytes (RelayStore *store, const char *ws, gint64 *bytes,
                                      GError **error);
/* Bytes of batches ever stored in the workspace (pruned ones included): what a
 * snapshot of it can reasonably be. */
gboolean relay_store_workspace_pushed (RelayStore *store, const char *ws, gint64 *pushed,
                                       GError **error);
/* Relay-wide: how many workspaces there are and the bytes they store. */
gboolean relay_store_usage (RelayStore *store, gint64 *workspaces, gint64 *bytes, GError **error);

gboolean relay_store_add_invite (RelayStore *store, const char *ws,
                                 const guint8 token_hash[SYNC_HASH_LEN], gint64 expires,
                                 const char *creator, gint64 now, gboolean *duplicate,
                                 GError **error);
/* Marks a valid invite used; *ok is FALSE if there is none unused and unexpired. */
gboolean relay_store_use_invite (RelayStore *store, const char *ws,
                                 const guint8 token_hash[SYNC_HASH_LEN], gint64 now, gboolean *ok,
                                 GError **error);

gboolean relay_store_log_head (RelayStore *store, const char *ws, gint64 *head, GError **error);
gboolean relay_store_log_append (RelayStore *store, const char *ws, gint64 version,
                                 const char *entry, const char *signer, gint64 now, GError **error);
/* A GPtrArray of RelayLogEntry (freed with the array), version > @since. */
GPtrArray *relay_store_log_since (RelayStore *store, const char *ws, gint64 since,
                                  guint max_entries, gsize max_bytes, GError **error);

gboolean relay_store_find_batch (RelayStore *store, const char *ws, const char *device, gint64 seq,
                                 gboolean *found, gint64 *cursor, guint8 hash[SYNC_HASH_LEN],
                                 GError **error);
gboolean relay_store_last_seq (RelayStore *store, const char *ws, const char *device, gint64 *last,
                               GError **error);
gboolean relay_store_add_batch (RelayStore *store, const char *ws, const char *device,
                                guint32 epoch, gint64 seq, const guint8 hash[SYNC_HASH_LEN],
                                const guint8 *data, gsize len, gint64 *cursor, GError **error);
/* The highest cursor of the workspace's batches, pruned ones included (0: none). */
gboolean relay_store_cursor_head (RelayStore *store, const char *ws, gint64 *head, GError **error);
/* Batches with cursor ≤ this were pruned (0: none ever). */
gboolean relay_store_pruned_cursor (RelayStore *store, const char *ws, gint64 *pruned,
                                    GError **error);
/* Raises the pruned cursor to @cursor (in the caller's transaction): batches
 * with cursor ≤ it are no longer served. */
gboolean relay_store_prune_mark (RelayStore *store, const char *ws, gint64 cursor, GError **error);
#define RELAY_PRUNE_CHUNK_BYTES (4 * 1024 * 1024)
/* Deletes at most @max_rows (and about RELAY_PRUNE_CHUNK_BYTES) of the workspace's batches with cursor ≤ @cursor in
 * its own short transaction (their per-device last seq, hash and cursor stay
 * in device_chains) and lowers the byte count. *count: batches deleted (0:
 * none are left). */
gboolean relay_store_prune_chunk (RelayStore *store, const char *ws, gint64 cursor, guint max_rows,
                                  gint64 *count, GError **error);
/* Best effort, outside a transaction: copies the WAL into the database and empties
 * it, so deleted blobs do not linger in relay.db-wal. */
void relay_store_checkpoint (RelayStore *store);

gboolean relay_store_snapshot_info (RelayStore *store, const char *ws, RelaySnapshotInfo *out,
                                    gboolean *found, GError **error);
/* Stores (or replaces) the workspace's snapshot and adjusts its byte count. @data
 * is not copied before SQLite writes it. */
gboolean relay_store_put_snapshot (RelayStore *store, const char *ws, gint64 cursor,
                                   const char *device, gint64 now, const guint8 *data, gsize len,
                                   GError **error);
/* Reads the snapshot row @id (exactly @len bytes) into @out, without a second copy. */
gboolean relay_store_read_snapshot (RelayStore *store, gint64 id, guint8 *out, gsize len,
                                    GError **error);

/* A GPtrArray of RelayBatch (freed with the array), cursor > @since, at most
 * @limit and — past the first — at most @max_bytes of data; *more if any remain. */
GPtrArray *relay_store_batches_since (RelayStore *store, const char *ws, gint64 since, guint limit,
                                      gsize max_bytes, gboolean *more, GError **error);

/* Relay-wide totals for /metrics: counts only, nothing that names a workspace or a device. */
typedef struct
{
  gint64 workspaces;
  gint64 devices[3]; /* pending, active, revoked */
  gint64 batches;
  gint64 batch_bytes;
} RelayStoreTotals;

gboolean relay_store_totals (RelayStore *store, RelayStoreTotals *out, GError **error);

/* Travel stashes: one opaque blob per device, counted in the workspace's bytes.
 * *size is -1 when the device has none. */
gboolean relay_store_stash_size (RelayStore *store, const char *ws, const char *device,
                                 gint64 *size, GError **error);
gboolean relay_store_put_stash (RelayStore *store, const char *ws, const char *device, gint64 now,
                                const guint8 *data, gsize len, GError **error);
gboolean relay_store_get_stash (RelayStore *store, const char *ws, const char *device, GBytes **out,
                                GError **error);
gboolean relay_store_delete_stash (RelayStore *store, const char *ws, const char *device,
                                   gboolean *found, GError **error);

/* ---- Requests and replies (relay-server.c) ------------------------------------- */

typedef struct
{
  guint status;
  gboolean failure; /* a stranger refused (a wrong create token or invite): counted per address */
  char *body;       /* JSON text */
  gsize len;
  gboolean retry_after; /* add "Retry-After: 1" (429) */
  const char *allow;    /* add "Allow: …" (405) */
  /* A binary answer instead of @body (GET snapshot): sent as
   * application/octet-stream; unreferenced when MHD is done with it. */
  GBytes *blob;
  /* Extra headers: name, value, name, value… (owned strings), or NULL. */
  GPtrArray *headers;
} RelayReply;

typedef struct
{
  struct MHD_Connection *connection;
  const char *method;
  const char *raw_uri; /* the request target as sent: what the client signed */
  const char *ws;      /* the workspace id from the path, or NULL */
  const guint8 *body;
  gsize body_len;
  gint64 now;        /* relay clock, unix seconds */
  RelayStore *store; /* this call's database connection */
  const char *peer;  /* the client's address, for per-address limits (never logged) */
} RelayCall;

/* What the server routes to: the upper layer's handler for a route and a
 * method, and the largest body it takes (RELAY_BODY_LIMIT_SNAPSHOT: the
 * configured snapshot limit). */
typedef enum
{
  ROUTE_NONE,
  ROUTE_BAD_ID,
  ROUTE_HEALTHZ,
  ROUTE_WORKSPACE,
  ROUTE_INVITES,
  ROUTE_JOIN,
  ROUTE_DEVICES,
  ROUTE_LOG,
  ROUTE_BATCHES,
  ROUTE_SNAPSHOT,
  ROUTE_PRUNE,
  ROUTE_STASH,
} RelayRoute;

typedef void (*RelayHandler) (SyncRelay *relay, const RelayCall *call, RelayReply *reply);

/* What relay-server.c checks from the headers alone, before any body is read
 * or memory reserved for it (docs/RELAY-API.md, "Before the body"). */
typedef enum
{
  RELAY_PRE_NONE,   /* /healthz */
  RELAY_PRE_DEVICE, /* signed by a device known in the workspace */
  RELAY_PRE_CREATE, /* signed with the body's key; the create token; creation limits */
  RELAY_PRE_JOIN,   /* signed with the body's key; the workspace exists */
} RelayPreCheck;

typedef struct
{
  RelayRoute route;
  const char *method;
  RelayHandler handler;
  gsize body_limit;
  RelayPreCheck pre;
  gboolean writes; /* stores something: refused when the relay is full */
} RelayEndpoint;

/* ---- Limits (relay-limits.c) ----------------------------------------------------
 * Token buckets by key, and the guard over connections: every connection is
 * known from accept to close, its headers must be complete within
 * RELAY_HEADER_DEADLINE of its start (or of its last answer), and a body must
 * keep arriving at RELAY_BODY_MIN_RATE after RELAY_BODY_GRACE; a watcher
 * thread shuts down the socket of one that does not (MHD then closes it).
 * Bodies are held in memory against a relay-wide and a per-workspace budget
 * that grow with the bytes that arrive. */

#define RELAY_HEADER_DEADLINE 10       /* seconds for the request line and headers */
#define RELAY_BODY_GRACE 10            /* seconds before a body's rate is checked */
#define RELAY_BODY_MIN_RATE (4 * 1024) /* bytes a second, on average, after that */
#define RELAY_IDLE_TIMEOUT 15          /* no byte moved for this long: closed (MHD) */
#define RELAY_FAILURE_BURST 50         /* refused unauthenticated requests per address */
#define RELAY_FAILURE_RATE 5.0         /* … regained per second */
#define RELAY_CREATE_GLOBAL_FACTOR 10  /* relay-wide creations: 10 × --create-rate */
#define RELAY_PEER_MAX_BUCKETS 65536   /* addresses remembered at once */
#define RELAY_WS_BODY_BUDGET_FACTOR 2  /* one workspace's bodies: 2 × max snapshot */

typedef struct _RelayBuckets RelayBuckets;

/* At most @max_keys keys; full buckets are forgotten first, and when every
 * bucket is in use a new key is refused (FALSE from relay_buckets_take). */
RelayBuckets *relay_buckets_new (guint max_keys);
void relay_buckets_free (RelayBuckets *buckets);
/* Takes one token from @key's bucket (@rate a second, up to @burst saved up). */
gboolean relay_buckets_take (RelayBuckets *buckets, const char *key, double rate, double burst);
/* TRUE if @key's bucket has a token left, without taking it. */
gboolean relay_buckets_peek (RelayBuckets *buckets, const char *key, double rate, double burst);

typedef struct _RelayGuard RelayGuard;
typedef struct _RelayConn RelayConn;

RelayGuard *relay_guard_new (guint64 body_budget, guint64 ws_body_budget);
/* Stops the watcher; with @drop, shuts every open socket down first. */
void relay_guard_stop (RelayGuard *guard, gboolean drop);
void relay_guard_free (RelayGuard *guard);
/* MHD_OPTION_NOTIFY_CONNECTION: tracks the connection from start to close. */
void relay_guard_notify (void *cls, struct MHD_Connection *connection, void **socket_context,
                         enum MHD_ConnectionNotificationCode toe);
/* The connection's record (NULL if it is not known). */
RelayConn *relay_guard_conn (struct MHD_Connection *connection);
/* The client's numeric address, as a bucket key: never logged without --log-ips. */
const char *relay_conn_peer (RelayConn *conn);
/* The request's headers are in: its body, if any, is timed from now. */
void relay_conn_body_started (RelayGuard *guard, RelayConn *conn);
/* The handler runs or the answer is being sent: no deadline applies. */
void relay_conn_busy (RelayGuard *guard, RelayConn *conn);
/* The request is over: the next one's headers are timed from now. */
void relay_conn_request_done (RelayGuard *guard, RelayConn *conn);
/* Counts @bytes more of body held for workspace @ws (NULL: none) against the
 * budgets; FALSE (nothing counted) if they would be exceeded. */
gboolean relay_guard_body_reserve (RelayGuard *guard, RelayConn *conn, const char *ws,
                                   guint64 bytes);
/* TRUE if @bytes more could be held now (checked from Content-Length). */
gboolean relay_guard_body_fits (RelayGuard *guard, const char *ws, guint64 bytes);
/* Gives back everything @conn's current request holds. */
void relay_guard_body_release (RelayGuard *guard, RelayConn *conn);
typedef struct
{
  guint64 open;         /* connections now */
  guint64 dropped_slow; /* shut down for missing a deadline */
  guint64 body_bytes;   /* request bodies held now */
} RelayGuardStats;
void relay_guard_stats (RelayGuard *guard, RelayGuardStats *out);

/* Free space on the data folder's file system, bytes (G_MAXUINT64 if unknown). */
guint64 relay_disk_free (const char *dir);

/* ---- Execution (relay-exec.c) ----------------------------------------------------
 * Handlers run on a small pool of threads, never on MHD's: the connection is
 * suspended while its handler runs and resumed with the answer. Calls of one
 * workspace run one at a time, in order of arrival; calls of different
 * workspaces run side by side, each on its own database connection. */

typedef struct _RelayExec RelayExec;
typedef void (*RelayExecFunc) (gpointer task);

RelayExec *relay_exec_new (guint threads, RelayExecFunc func);
/* Runs func (@task) on a worker, after the earlier tasks of @ws (NULL: at once). */
void relay_exec_push (RelayExec *exec, const char *ws, gpointer task);
/* Waits for every task pushed so far, then frees. */
void relay_exec_free (RelayExec *exec);

struct _SyncRelay
{
  SyncRelayConfig config; /* strings below are owned copies */
  char *listen_host;
  guint16 listen_port;
  gboolean listen_v6;
  char *tls_cert_pem;
  char *tls_key_pem;
  char *create_token; /* NULL: --open-creation */
  char *data_dir;
  int lock_fd;
  GMutex stop_lock; /* guards stopping */
  gboolean stopping;

  struct MHD_Daemon *daemon;
  RelayStore *store;           /* the first connection: opened the folder, used at start */
  GAsyncQueue *stores;         /* the pool of connections for calls (RelayStore *) */
  RelayBuckets *device_rate;   /* "ws/device": --rate */
  RelayBuckets *peer_failures; /* address: refused unauthenticated requests */
  RelayBuckets *peer_creates;  /* address, and "*" relay-wide: --create-rate */
  gint64 last_prune;           /* atomic: nonces last forgotten */
  RelayGuard *guard;           /* connections, deadlines, body memory (relay-limits.c) */
  RelayExec *exec;             /* handlers off MHD's threads, one at a time per workspace */

  /* Operations (metrics and logs); the counters are guarded by stats_lock. */
  char *metrics_host;
  guint16 metrics_port;
  gboolean metrics_v6;
  guint8 metrics_token_hash[32]; /* BLAKE2b-256 of --metrics-token */
  gboolean metrics_token_set;
  struct MHD_Daemon *metrics_daemon;
  gint64 started_us; /* monotonic */
  GMutex stats_lock;
  guint64 requests[6];   /* by status class: 1xx … 5xx, then aborted */
  guint64 refused_early; /* refused from the headers alone (before any body) */
  guint64 refused_full;  /* writes refused: relay-wide caps or the disk */
  guint64 refused_peer;  /* 429 to an address: failures or creations */

  /* What the upper layer registered (relay-api.c): route, method, handler. */
  const RelayEndpoint *endpoints;
  gsize n_endpoints;

  /* Snapshot downloads in memory. */
  GMutex transfer_lock;    /* guards snapshot_memory */
  guint64 snapshot_memory; /* snapshot bytes held for downloads being sent */
};

void relay_reply_error (RelayReply *reply, guint status, const char *code, const char *message);
/* An error answer with one extra integer member, e.g. {"error":"conflict","head":3}. */
void relay_reply_error_int (RelayReply *reply, guint status, const char *code, const char *message,
                            const char *key, gint64 value);
void relay_reply_take_json (RelayReply *reply, guint status, char *json);
void relay_reply_internal (RelayReply *reply, const GError *error);
/* Adds a header to the answer. */
void relay_reply_add_header (RelayReply *reply, const char *name, const char *value);

/* Authenticates @call (see docs/RELAY-API.md, "Authentication"). With @self_pk the
 * device is not looked up: the request must verify under that key (creating a
 * workspace, joining one). Otherwise the device must be known in call->ws with a
 * status in @allowed. On success *device (if not NULL) is the device row (left
 * zeroed for @self_pk) and TRUE is returned; otherwise @reply holds the answer. */
gboolean relay_authenticate (SyncRelay *relay, const RelayCall *call, const guint8 *self_pk,
                             guint allowed, RelayDevice *device, RelayReply *reply);

/* The checks of @pre that the headers alone allow (relay-auth.c), made before
 * any body is read: FALSE with @reply set when refused. */
gboolean relay_precheck (SyncRelay *relay, RelayPreCheck pre, struct MHD_Connection *connection,
                         const char *ws, RelayReply *reply);
/* The header's value if it is there exactly once, else NULL. */
const char *relay_single_header (struct MHD_Connection *connection, const char *name);
/* Creating a workspace, after its signature verified: the per-address and
 * relay-wide creation rates and the workspace count (in the caller's
 * transaction). FALSE with @reply set when refused. */
gboolean relay_creation_allowed (SyncRelay *relay, const RelayCall *call, RelayReply *reply);
/* Room for @more bytes: the disk (--min-free-mb) and the relay-wide total
 * (--max-total-mb), read in the caller's write transaction so that two
 * workspaces cannot both take the last bytes. FALSE with @reply set (507). */
gboolean relay_room_for (SyncRelay *relay, const RelayCall *call, guint64 more, RelayReply *reply);

/* A database connection from the pool, and back (relay-server.c). */
RelayStore *relay_lease_store (SyncRelay *relay);
void relay_return_store (SyncRelay *relay, RelayStore *store);
/* Adds one to a /metrics counter. */
void relay_count (SyncRelay *relay, guint64 *counter);

/* Configuration (relay-config.c): the addresses and limits into @relay, with
 * the defaults filled in; what may not be combined is refused. */
gboolean relay_config_check (SyncRelay *relay, const SyncRelayConfig *config, GError **error);
/* Without a given token and without open_creation: reads DIR/create-token, or
 * writes a new random one there (0600) at first start, and logs where it is. */
gboolean relay_create_token_setup (SyncRelay *relay, GError **error);
/* libmicrohttpd's own errors, as log lines (relay-server.c). */
void relay_mhd_log (void *cls, const char *fmt, va_list ap) G_GNUC_PRINTF (2, 0);
void relay_fill_sockaddr (struct sockaddr_storage *addr, const char *host, guint16 port,
                          gboolean v6);
/* The metrics listener (relay-metrics.c). */
gboolean relay_metrics_start (SyncRelay *relay, GError **error);

/* Checks @config and opens the store; requests are then routed through
 * @endpoints (borrowed: static), the upper layer's handlers. sync_relay_new
 * (relay-api.c) calls it with the relay's endpoints. */
SyncRelay *relay_server_new (const SyncRelayConfig *config, const RelayEndpoint *endpoints,
                             gsize n_endpoints, GError **error);

/* Snapshot bodies in memory (see RELAY_SNAPSHOT_BUDGET_FACTOR): TRUE and @bytes
 * counted if they fit, or if nothing else is held; FALSE: answer 503 busy. */
gboolean relay_snapshot_memory_reserve (SyncRelay *relay, guint64 bytes);
void relay_snapshot_memory_release (SyncRelay *relay, guint64 bytes);

/* ---- Request parsers (relay-api.c) ----------------------------------------------
 * Pure functions of the request's bytes: no connection, no store, no lock. Each
 * treats its input as hostile; on failure @reply holds the 400 answer. Also
 * driven by tests/fuzz/fuzz-relay-request.c. */

typedef enum
{
  RELAY_BODY_CREATE, /* POST /v1/workspaces/{ws} */
  RELAY_BODY_INVITE, /* POST …/invites */
  RELAY_BODY_JOIN,   /* POST …/join */
  RELAY_BODY_LOG,    /* POST …/log */
  RELAY_BODY_PRUNE,  /* POST …/prune */
} RelayBodyKind;

typedef enum
{
  RELAY_LOG_ADD,
  RELAY_LOG_REMOVE,
  RELAY_LOG_EPOCH,
  RELAY_LOG_OTHER,
} RelayLogAction;

typedef struct
{
  JsonNode *root;        /* owns the strings below */
  RelayDevice device;    /* CREATE, JOIN: id and keys (status, created unset) */
  const char *entry;     /* CREATE, LOG */
  guint8 token[32];      /* JOIN (wiped by relay_body_clear) */
  guint8 token_hash[32]; /* INVITE */
  gint64 expires;        /* INVITE */
  gint64 version;        /* LOG */
  RelayLogAction action; /* LOG */
  const char *subject;   /* LOG: a valid id, or NULL for epoch/other */
  gint64 cursor;         /* PRUNE: ≥ 0 */
} RelayBody;

gboolean relay_parse_body (RelayBodyKind kind, const guint8 *body, gsize len, RelayBody *out,
                           RelayReply *reply);
void relay_body_clear (RelayBody *body);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RelayBody, relay_body_clear)
/* A query argument's value: plain decimal 0 … @max (no sign, no spaces). */
gboolean relay_parse_query_int (const char *text, gint64 max, gint64 *out);

G_END_DECLS
