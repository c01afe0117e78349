/* The relay's defences against strangers, below the routes: token buckets by
 * key (per device, per address), and the guard that knows every connection
 * from accept to close and drops the ones that hold a slot without sending
 * (slowloris), plus the budgets for request bodies held in memory. See
 * relay-private.h ("Limits") and docs/RELAY.md ("Hostile conditions").
 *
 * Why a watcher thread: libmicrohttpd's own timeout is an idle timeout that
 * any byte resets, so one header byte every few seconds holds a connection
 * for ever. The watcher calls shutdown() on the socket of a connection past
 * its deadline; MHD sees the end of the stream and closes it in its own
 * thread. MHD tells us (MHD_CONNECTION_NOTIFY_CLOSED) before it closes the
 * descriptor, and both happen under guard->lock, so the watcher never touches
 * a descriptor that was closed and reused.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statvfs.h>

#include "relay-private.h"

/* ---- Token buckets ----------------------------------------------------------------- */

typedef struct
{
  double tokens;
  gint64 last_us;
  double rate;
  double burst;
} Bucket;

struct _RelayBuckets
{
  GMutex lock;
  GHashTable *table; /* key → Bucket */
  guint max_keys;
};

RelayBuckets *
relay_buckets_new (guint max_keys)
{
  RelayBuckets *b = g_new0 (RelayBuckets, 1);

  g_mutex_init (&b->lock);
  b->table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  b->max_keys = max_keys;
  return b;
}

void
relay_buckets_free (RelayBuckets *b)
{
  if (b == NULL)
    return;
  g_hash_table_unref (b->table);
  g_mutex_clear (&b->lock);
  g_free (b);
}

static void
refill (Bucket *bucket, gint64 now_us)
{
  double gained = (double)(now_us - bucket->last_us) / G_USEC_PER_SEC * bucket->rate;

  bucket->tokens = MIN (bucket->burst, bucket->tokens + gained);
  bucket->last_us = now_us;
}

static gboolean
bucket_is_full (gpointer key, gpointer value, gpointer user_data)
{
  Bucket *bucket = value;

  refill (bucket, *(const gint64 *)user_data);
  return bucket->tokens >= bucket->burst;
}

/* The bucket of @key, made full if new; NULL when no room is left. */
static Bucket *
bucket_lookup (RelayBuckets *b, const char *key, double rate, double burst, gint64 now_us)
{
  Bucket *bucket = g_hash_table_lookup (b->table, key);

  if (bucket != NULL)
    {
      bucket->rate = rate;
      bucket->burst = burst;
      refill (bucket, now_us);
      return bucket;
    }
  /* A full bucket is the same as no bucket: forget those first. */
  if (g_hash_table_size (b->table) >= b->max_keys)
    g_hash_table_foreach_remove (b->table, bucket_is_full, &now_us);
  if (g_hash_table_size (b->table) >= b->max_keys)
    return NULL;
  bucket = g_new0 (Bucket, 1);
  bucket->tokens = burst;
  bucket->last_us = now_us;
  bucket->rate = rate;
  bucket->burst = burst;
  g_hash_table_insert (b->table, g_strdup (key), bucket);
  return bucket;
}

static gboolean
buckets_use (RelayBuckets *b, const char *key, double rate, double burst, gboolean take)
{
  gint64 now_us = g_get_monotonic_time ();
  gboolean ok;
  Bucket *bucket;

  g_mutex_lock (&b->lock);
  bucket = bucket_lookup (b, key, rate, burst, now_us);
  ok = bucket != NULL && bucket->tokens >= 1.0;
  if (ok && take)
    bucket->tokens -= 1.0;
  g_mutex_unlock (&b->lock);
  return ok;
}

gboolean
relay_buckets_take (RelayBuckets *b, const char *key, double rate, double burst)
{
  return buckets_use (b, key, rate, burst, TRUE);
}

gboolean
relay_buckets_peek (RelayBuckets *b, const char *key, double rate, double burst)
{
  return buckets_use (b, key, rate, burst, FALSE);
}

/* ---- Connections ------------------------------------------------------------------- */

typedef enum
{
  CONN_HEADERS, /* waiting for a request's line and headers */
  CONN_BODY,    /* headers in, body arriving */
  CONN_BUSY,    /* handler running or answer being sent: MHD's idle timeout only */
} ConnState;

struct _RelayConn
{
  RelayGuard *guard;
  int fd;
  ConnState state;
  gint64 since_us; /* start of the current state */
  gboolean dropped;
  char peer[INET6_ADDRSTRLEN];
  char ws[SYNC_ID_HEX_LEN + 1]; /* whose budget body_bytes count against */
  guint64 body_bytes;           /* body bytes of this request held in memory */
  guint64 body_seen;            /* body bytes of this request received */
};

struct _RelayGuard
{
  GMutex lock; /* guards everything below and every RelayConn */
  GCond wake;
  GHashTable *conns;    /* RelayConn * → itself */
  GHashTable *ws_bytes; /* workspace id → guint64 * body bytes held */
  guint64 body_bytes;
  guint64 body_budget;
  guint64 ws_body_budget;
  guint64 dropped_slow;
  gboolean stopping;
  GThread *watcher;
};

static void
conn_drop (RelayConn *conn)
{
  if (!conn->dropped && conn->fd >= 0)
    shutdown (conn->fd, SHUT_RDWR);
  conn->dropped = TRUE;
}

/* Past its deadline: headers not complete in time, or a body below the rate. */
static gboolean
conn_is_late (const RelayConn *conn, gint64 now_us)
{
  double elapsed = (double)(now_us - conn->since_us) / G_USEC_PER_SEC;

  if (conn->state == CONN_HEADERS)
    return elapsed > RELAY_HEADER_DEADLINE;
  if (conn->state == CONN_BODY && elapsed > RELAY_BODY_GRACE)
    return (double)conn->body_seen < (elapsed - RELAY_BODY_GRACE) * RELAY_BODY_MIN_RATE;
  return FALSE;
}

static gpointer
watch (gpointer data)
{
  RelayGuard *guard = data;

  g_mutex_lock (&guard->lock);
  while (!guard->stopping)
    {
      gint64 now_us = g_get_monotonic_time ();
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, guard->conns);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        {
          RelayConn *conn = key;

          if (!conn->dropped && conn_is_late (conn, now_us))
            {
              conn_drop (conn);
              guard->dropped_slow++;
            }
        }
      g_cond_wait_until (&guard->wake, &guard->lock, now_us + G_USEC_PER_SEC / 4);
    }
  g_mutex_unlock (&guard->lock);
  return NULL;
}

RelayGuard *
relay_guard_new (guint64 body_budget, guint64 ws_body_budget)
{
  RelayGuard *guard = g_new0 (RelayGuard, 1);

  g_mutex_init (&guard->lock);
  g_cond_init (&guard->wake);
  guard->conns = g_hash_table_new (g_direct_hash, g_direct_equal);
  guard->ws_bytes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  guard->body_budget = body_budget;
  guard->ws_body_budget = ws_body_budget;
  guard->watcher = g_thread_new ("relay-watch", watch, guard);
  return guard;
}

void
relay_guard_stop (RelayGuard *guard, gboolean drop)
{
  GHashTableIter iter;
  gpointer key;

  if (guard == NULL)
    return;
  g_mutex_lock (&guard->lock);
  if (drop)
    {
      g_hash_table_iter_init (&iter, guard->conns);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        conn_drop (key);
    }
  guard->stopping = TRUE;
  g_cond_signal (&guard->wake);
  g_mutex_unlock (&guard->lock);
  g_clear_pointer (&guard->watcher, g_thread_join);
}

void
relay_guard_free (RelayGuard *guard)
{
  if (guard == NULL)
    return;
  relay_guard_stop (guard, FALSE);
  g_hash_table_unref (guard->conns);
  g_hash_table_unref (guard->ws_bytes);
  g_cond_clear (&guard->wake);
  g_mutex_clear (&guard->lock);
  g_free (guard);
}

static void
peer_text (struct MHD_Connection *connection, char out[INET6_ADDRSTRLEN])
{
  const union MHD_ConnectionInfo *info
      = MHD_get_connection_info (connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

  g_strlcpy (out, "-", INET6_ADDRSTRLEN);
  if (info == NULL || info->client_addr == NULL)
    return;
  if (info->client_addr->sa_family == AF_INET)
    inet_ntop (AF_INET, &((const struct sockaddr_in *)info->client_addr)->sin_addr, out,
               INET6_ADDRSTRLEN);
  else if (info->client_addr->sa_family == AF_INET6)
    inet_ntop (AF_INET6, &((const struct sockaddr_in6 *)info->client_addr)->sin6_addr, out,
               INET6_ADDRSTRLEN);
}

static void
body_release_locked (RelayGuard *guard, RelayConn *conn)
{
  guint64 *held = conn->ws[0] ? g_hash_table_lookup (guard->ws_bytes, conn->ws) : NULL;

  guard->body_bytes -= MIN (conn->body_bytes, guard->body_bytes);
  if (held != NULL)
    {
      *held -= MIN (conn->body_bytes, *held);
      if (*held == 0)
        g_hash_table_remove (guard->ws_bytes, conn->ws);
    }
  conn->body_bytes = 0;
  conn->body_seen = 0;
  conn->ws[0] = '\0';
}

void
relay_guard_notify (void *cls, struct MHD_Connection *connection, void **socket_context,
                    enum MHD_ConnectionNotificationCode toe)
{
  RelayGuard *guard = cls;
  RelayConn *conn = *socket_context;

  if (toe == MHD_CONNECTION_NOTIFY_STARTED)
    {
      const union MHD_ConnectionInfo *fd
          = MHD_get_connection_info (connection, MHD_CONNECTION_INFO_CONNECTION_FD);

      conn = g_new0 (RelayConn, 1);
      conn->guard = guard;
      conn->fd = fd != NULL ? fd->connect_fd : -1;
      conn->since_us = g_get_monotonic_time ();
      peer_text (connection, conn->peer);
      g_mutex_lock (&guard->lock);
      g_hash_table_add (guard->conns, conn);
      if (guard->stopping)
        conn_drop (conn);
      g_mutex_unlock (&guard->lock);
      *socket_context = conn;
      return;
    }
  if (toe == MHD_CONNECTION_NOTIFY_CLOSED && conn != NULL)
    {
      g_mutex_lock (&guard->lock);
      body_release_locked (guard, conn);
      g_hash_table_remove (guard->conns, conn);
      g_mutex_unlock (&guard->lock);
      g_free (conn);
      *socket_context = NULL;
    }
}

RelayConn *
relay_guard_conn (struct MHD_Connection *connection)
{
  const union MHD_ConnectionInfo *info
      = MHD_get_connection_info (connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

  return info != NULL ? info->socket_context : NULL;
}

const char *
relay_conn_peer (RelayConn *conn)
{
  return conn != NULL ? conn->peer : "-";
}

static void
conn_set_state (RelayGuard *guard, RelayConn *conn, ConnState state)
{
  if (conn == NULL)
    return;
  g_mutex_lock (&guard->lock);
  conn->state = state;
  conn->since_us = g_get_monotonic_time ();
  g_mutex_unlock (&guard->lock);
}

void
relay_conn_body_started (RelayGuard *guard, RelayConn *conn)
{
  conn_set_state (guard, conn, CONN_BODY);
}

void
relay_conn_busy (RelayGuard *guard, RelayConn *conn)
{
  conn_set_state (guard, conn, CONN_BUSY);
}

void
relay_conn_request_done (RelayGuard *guard, RelayConn *conn)
{
  if (conn == NULL)
    return;
  g_mutex_lock (&guard->lock);
  body_release_locked (guard, conn);
  conn->state = CONN_HEADERS;
  conn->since_us = g_get_monotonic_time ();
  g_mutex_unlock (&guard->lock);
}

static gboolean
fits_locked (RelayGuard *guard, const char *ws, guint64 bytes)
{
  guint64 *held = ws != NULL ? g_hash_table_lookup (guard->ws_bytes, ws) : NULL;

  if (guard->body_bytes + bytes > guard->body_budget)
    return FALSE;
  return held == NULL || *held + bytes <= guard->ws_body_budget;
}

gboolean
relay_guard_body_fits (RelayGuard *guard, const char *ws, guint64 bytes)
{
  gboolean ok;

  g_mutex_lock (&guard->lock);
  ok = fits_locked (guard, ws, bytes);
  g_mutex_unlock (&guard->lock);
  return ok;
}

gboolean
relay_guard_body_reserve (RelayGuard *guard, RelayConn *conn, const char *ws, guint64 bytes)
{
  gboolean ok;

  if (conn == NULL)
    return FALSE;
  g_mutex_lock (&guard->lock);
  conn->body_seen += bytes;
  ok = fits_locked (guard, ws, bytes);
  if (ok)
    {
      guard->body_bytes += bytes;
      conn->body_bytes += bytes;
      if (ws != NULL)
        {
          guint64 *held = g_hash_table_lookup (guard->ws_bytes, ws);

          if (held == NULL)
            {
              held = g_new0 (guint64, 1);
              g_hash_table_insert (guard->ws_bytes, g_strdup (ws), held);
            }
          *held += bytes;
          g_strlcpy (conn->ws, ws, sizeof conn->ws);
        }
    }
  g_mutex_unlock (&guard->lock);
  return ok;
}

void
relay_guard_body_release (RelayGuard *guard, RelayConn *conn)
{
  if (conn == NULL)
    return;
  g_mutex_lock (&guard->lock);
  body_release_locked (guard, conn);
  g_mutex_unlock (&guard->lock);
}

void
relay_guard_stats (RelayGuard *guard, RelayGuardStats *out)
{
  g_mutex_lock (&guard->lock);
  out->open = g_hash_table_size (guard->conns);
  out->dropped_slow = guard->dropped_slow;
  out->body_bytes = guard->body_bytes;
  g_mutex_unlock (&guard->lock);
}

/* ---- The disk ---------------------------------------------------------------------- */

guint64
relay_disk_free (const char *dir)
{
  struct statvfs st;

  if (statvfs (dir, &st) != 0)
    return G_MAXUINT64;
  return (guint64)st.f_bavail * (guint64)st.f_frsize;
}
