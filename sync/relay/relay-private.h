/* relay-private.h — shared between the files of sync/relay only.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <microhttpd.h>
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
/* Snapshot bodies held in memory at once (uploads being read plus downloads being
 * sent), as a multiple of --max-snapshot-mb; one transfer is always admitted. */
#define RELAY_SNAPSHOT_BUDGET_FACTOR 4
#define RELAY_HEADER_SNAPSHOT_CURSOR "X-Supolka-Snapshot-Cursor"
#define RELAY_HEADER_SNAPSHOT_DEVICE "X-Supolka-Snapshot-Device"
#define RELAY_HEADER_SNAPSHOT_TIME "X-Supolka-Snapshot-Time"
/* body_limit of an endpoint whose limit is --max-snapshot-mb (relay-server.c). */
#define RELAY_BODY_LIMIT_SNAPSHOT G_MAXSIZE

/* ---- Storage (relay-store.c) ---------------------------------------------------
 * One SQLite connection. Every function here expects the relay's lock held. */

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

RelayStore *relay_store_open (const char *dir, GError **error);
void relay_store_close (RelayStore *store);

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
/* Deletes the workspace's batches with cursor ≤ @cursor (their per-device last seq,
 * hash and cursor stay in device_chains), lowers the byte count, raises the pruned
 * cursor. *count: batches deleted. */
gboolean relay_store_prune (RelayStore *store, const char *ws, gint64 cursor, gint64 *count,
                            GError **error);
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
  char *body; /* JSON text */
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
  gint64 now; /* relay clock, unix seconds */
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

typedef struct
{
  RelayRoute route;
  const char *method;
  RelayHandler handler;
  gsize body_limit;
} RelayEndpoint;

struct _SyncRelay
{
  SyncRelayConfig config; /* strings below are owned copies */
  char *listen_host;
  guint16 listen_port;
  gboolean listen_v6;
  char *tls_cert_pem;
  char *tls_key_pem;
  char *create_token;
  char *data_dir;
  int lock_fd;

  struct MHD_Daemon *daemon;
  GMutex lock; /* guards everything below */
  RelayStore *store;
  GHashTable *buckets; /* "ws/device" → RateBucket */
  gint64 last_prune;

  /* Operations (metrics and logs); the counters are guarded by stats_lock. */
  char *metrics_host;
  guint16 metrics_port;
  gboolean metrics_v6;
  guint8 metrics_token_hash[32]; /* BLAKE2b-256 of --metrics-token */
  gboolean metrics_token_set;
  struct MHD_Daemon *metrics_daemon;
  gint64 started_us; /* monotonic */
  GMutex stats_lock;
  guint64 requests[6]; /* by status class: 1xx … 5xx, then aborted */

  /* What the upper layer registered (relay-api.c): route, method, handler. */
  const RelayEndpoint *endpoints;
  gsize n_endpoints;

  /* Snapshot transfers in memory. */
  GMutex transfer_lock;    /* guards snapshot_memory */
  guint64 snapshot_memory; /* snapshot bytes held for uploads and downloads */
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
