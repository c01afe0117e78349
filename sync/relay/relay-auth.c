/* The relay's authentication: the checks made from the headers alone, before
 * any body is read or memory reserved (relay_precheck), and the full check of
 * a signed request once its body is in (relay_authenticate), with the
 * per-device rate limit and the nonces. docs/RELAY-API.md, "Authentication".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <sodium.h>
#include <string.h>

#include "relay-private.h"

typedef struct
{
  const char *name;
  const char *value;
  guint count;
} HeaderLookup;

static enum MHD_Result
count_header (void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
  HeaderLookup *lookup = cls;

  if (key != NULL && g_ascii_strcasecmp (key, lookup->name) == 0)
    {
      lookup->count++;
      lookup->value = value;
    }
  return MHD_YES;
}

const char *
relay_single_header (struct MHD_Connection *connection, const char *name)
{
  HeaderLookup lookup = { name, NULL, 0 };

  MHD_get_connection_values (connection, MHD_HEADER_KIND, count_header, &lookup);
  return lookup.count == 1 ? lookup.value : NULL;
}

/* Remembers the request's nonce, so that a replay of it is refused, and
 * forgets expired ones once a minute. */
static gboolean
record_nonce (SyncRelay *relay, const RelayCall *call, const SyncAuthHeaders *headers,
              RelayReply *reply)
{
  g_autoptr (GError) error = NULL;
  gboolean due;

  g_mutex_lock (&relay->stats_lock);
  due = call->now - relay->last_prune >= 60;
  if (due)
    relay->last_prune = call->now;
  g_mutex_unlock (&relay->stats_lock);
  if (due)
    {
      if (!relay_store_prune_nonces (call->store, call->now - RELAY_NONCE_KEEP, &error))
        {
          relay_reply_internal (reply, error);
          return FALSE;
        }
    }
  if (!relay_store_add_nonce (call->store, headers->device, headers->nonce, headers->time, &error))
    {
      relay_reply_internal (reply, error);
      return FALSE;
    }
  return TRUE;
}

/* The four headers, each once and well formed, with a fresh time. */
static gboolean
auth_headers (struct MHD_Connection *connection, gint64 now, SyncAuthHeaders *headers,
              RelayReply *reply)
{
  const char *h_device = relay_single_header (connection, SYNC_AUTH_HEADER_DEVICE);
  const char *h_time = relay_single_header (connection, SYNC_AUTH_HEADER_TIME);
  const char *h_nonce = relay_single_header (connection, SYNC_AUTH_HEADER_NONCE);
  const char *h_sig = relay_single_header (connection, SYNC_AUTH_HEADER_SIGNATURE);
  g_autoptr (GError) error = NULL;
  gint64 skew;

  if (h_device == NULL || h_time == NULL || h_nonce == NULL || h_sig == NULL)
    {
      relay_reply_error (reply, MHD_HTTP_UNAUTHORIZED, "auth",
                         "Each of the four X-Supolka-* authentication headers must be sent once");
      return FALSE;
    }
  if (!sync_auth_parse_headers (h_device, h_time, h_nonce, h_sig, headers, &error))
    {
      relay_reply_error (reply, MHD_HTTP_UNAUTHORIZED, "auth", error->message);
      return FALSE;
    }
  skew = now - headers->time;
  if (skew > RELAY_TIME_WINDOW || skew < -RELAY_TIME_WINDOW)
    {
      relay_reply_error (reply, MHD_HTTP_UNAUTHORIZED, "stale",
                         "X-Supolka-Time is more than 300 seconds from the relay's clock");
      return FALSE;
    }
  return TRUE;
}

static gboolean
create_token_ok (SyncRelay *relay, struct MHD_Connection *connection)
{
  const char *given;
  guint8 want[SYNC_HASH_LEN];
  guint8 got[SYNC_HASH_LEN];

  if (relay->create_token == NULL)
    return TRUE;
  given = relay_single_header (connection, SYNC_AUTH_HEADER_CREATE_TOKEN);
  if (given == NULL || strlen (given) > RELAY_AUTH_HEADER_MAX)
    return FALSE;
  /* Compare digests in constant time: neither length nor content leaks. */
  sync_hash ((const guint8 *)relay->create_token, strlen (relay->create_token), want);
  sync_hash ((const guint8 *)given, strlen (given), got);
  return sodium_memcmp (want, got, SYNC_HASH_LEN) == 0;
}

/* The creation buckets of @peer and of the whole relay: peeked from the
 * headers, taken once a creation verified. FALSE with a 429 in @reply. */
static gboolean
create_rate_ok (SyncRelay *relay, const char *peer, gboolean take, RelayReply *reply)
{
  gboolean (*use) (RelayBuckets *, const char *, double, double)
      = take ? relay_buckets_take : relay_buckets_peek;
  double rate = relay->config.create_rate / 3600.0;
  double burst = relay->config.create_rate;

  if (use (relay->peer_creates, peer, rate, burst)
      && use (relay->peer_creates, "*", rate * RELAY_CREATE_GLOBAL_FACTOR,
              burst * RELAY_CREATE_GLOBAL_FACTOR))
    return TRUE;
  relay_count (relay, &relay->refused_peer);
  relay_reply_error (reply, MHD_HTTP_TOO_MANY_REQUESTS, "create_rate",
                     "Too many workspaces were created recently; try again later");
  reply->retry_after = TRUE;
  return FALSE;
}

/* The store lookups of relay_precheck, on a leased connection. */
static gboolean
precheck_store (SyncRelay *relay, RelayPreCheck pre, const char *ws, const char *device,
                RelayReply *reply)
{
  g_autoptr (GError) error = NULL;
  RelayStore *store = relay_lease_store (relay);
  gboolean found = FALSE;
  gboolean ok;

  if (pre == RELAY_PRE_DEVICE)
    ok = relay_store_get_device (store, ws, device, NULL, &found, &error);
  else
    ok = relay_store_workspace_exists (store, ws, &found, &error);
  relay_return_store (relay, store);
  if (!ok)
    {
      relay_reply_internal (reply, error);
      return FALSE;
    }
  if (!found && pre == RELAY_PRE_DEVICE)
    relay_reply_error (reply, MHD_HTTP_UNAUTHORIZED, "unknown_device",
                       "No such device in this workspace");
  else if (!found)
    {
      relay_reply_error (reply, MHD_HTTP_FORBIDDEN, "invite",
                         "The invite is unknown, already used or expired");
      reply->failure = TRUE;
    }
  return found;
}

gboolean
relay_precheck (SyncRelay *relay, RelayPreCheck pre, struct MHD_Connection *connection,
                const char *ws, RelayReply *reply)
{
  SyncAuthHeaders headers;

  if (pre == RELAY_PRE_NONE)
    return TRUE;
  if (pre == RELAY_PRE_CREATE && !create_token_ok (relay, connection))
    {
      relay_reply_error (reply, MHD_HTTP_FORBIDDEN, "create_token",
                         "This relay needs the right X-Supolka-Create-Token to create a workspace");
      reply->failure = TRUE;
      return FALSE;
    }
  if (!auth_headers (connection, g_get_real_time () / G_USEC_PER_SEC, &headers, reply))
    return FALSE;
  if (pre == RELAY_PRE_CREATE)
    return create_rate_ok (relay, relay_conn_peer (relay_guard_conn (connection)), FALSE, reply);
  return precheck_store (relay, pre, ws, headers.device, reply);
}

gboolean
relay_creation_allowed (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_autoptr (GError) error = NULL;
  gint64 workspaces = 0;
  gint64 bytes = 0;

  if (!relay_store_usage (call->store, &workspaces, &bytes, &error))
    {
      relay_reply_internal (reply, error);
      return FALSE;
    }
  if ((guint64)workspaces >= relay->config.max_workspaces)
    {
      relay_count (relay, &relay->refused_full);
      relay_reply_error (reply, MHD_HTTP_INSUFFICIENT_STORAGE, "relay_full",
                         "This relay holds as many workspaces as it allows");
      return FALSE;
    }
  /* Taken only now, for a creation whose signature verified: strangers'
   * junk cannot use up the relay-wide allowance. */
  return create_rate_ok (relay, call->peer, TRUE, reply);
}

gboolean
relay_room_for (SyncRelay *relay, const RelayCall *call, guint64 more, RelayReply *reply)
{
  g_autoptr (GError) error = NULL;
  guint64 free_bytes = relay_disk_free (relay->data_dir);
  gint64 workspaces = 0;
  gint64 bytes = 0;

  /* Twice @more: the WAL holds the bytes once more until its checkpoint. */
  if (free_bytes < relay->config.min_free_bytes
      || free_bytes - relay->config.min_free_bytes < 2 * more)
    {
      relay_count (relay, &relay->refused_full);
      relay_reply_error (reply, MHD_HTTP_INSUFFICIENT_STORAGE, "disk_full",
                         "The relay's disk is nearly full; it takes no new data");
      return FALSE;
    }
  if (!relay_store_usage (call->store, &workspaces, &bytes, &error))
    {
      relay_reply_internal (reply, error);
      return FALSE;
    }
  if ((guint64)MAX (bytes, 0) + more > relay->config.max_total_bytes)
    {
      relay_count (relay, &relay->refused_full);
      relay_reply_error (reply, MHD_HTTP_INSUFFICIENT_STORAGE, "relay_full",
                         "This relay stores as much as it allows");
      return FALSE;
    }
  return TRUE;
}

/* The device's stored row, or a 401/500 answer. */
static gboolean
known_device (const RelayCall *call, const char *id, RelayDevice *known, RelayReply *reply)
{
  g_autoptr (GError) error = NULL;
  gboolean found = FALSE;

  if (call->ws == NULL
      || !relay_store_get_device (call->store, call->ws, id, known, &found, &error))
    {
      relay_reply_internal (reply, error);
      return FALSE;
    }
  if (!found)
    relay_reply_error (reply, MHD_HTTP_UNAUTHORIZED, "unknown_device",
                       "No such device in this workspace");
  return found;
}

/* The device's token bucket (--rate a second, bursts of 4×). */
static gboolean
rate_ok (SyncRelay *relay, const char *key, RelayReply *reply)
{
  if (relay_buckets_take (relay->device_rate, key, relay->config.rate, 4.0 * relay->config.rate))
    return TRUE;
  relay_reply_error (reply, MHD_HTTP_TOO_MANY_REQUESTS, "rate_limited",
                     "Too many requests from this device; slow down");
  reply->retry_after = TRUE;
  return FALSE;
}

/* A refusal of a known device, after its signature verified and its nonce was
 * spent: revoked, a status the endpoint does not take, or its rate. */
static gboolean
device_allowed (SyncRelay *relay, const RelayCall *call, const RelayDevice *known, guint allowed,
                RelayReply *reply)
{
  g_autofree char *key = g_strconcat (call->ws ? call->ws : "-", "/", known->id, NULL);

  if (known->status == RELAY_DEVICE_REVOKED)
    {
      relay_reply_error (reply, MHD_HTTP_FORBIDDEN, "revoked", "This device has been removed");
      return FALSE;
    }
  if ((known->status & allowed) == 0)
    {
      relay_reply_error (reply, MHD_HTTP_FORBIDDEN,
                         known->status == RELAY_DEVICE_PENDING ? "pending" : "forbidden",
                         known->status == RELAY_DEVICE_PENDING
                             ? "This device waits for an admin's approval"
                             : "This device may not do that");
      return FALSE;
    }
  return rate_ok (relay, key, reply);
}

gboolean
relay_authenticate (SyncRelay *relay, const RelayCall *call, const guint8 *self_pk, guint allowed,
                    RelayDevice *device, RelayReply *reply)
{
  g_autoptr (GError) error = NULL;
  SyncAuthHeaders headers;
  RelayDevice known = { 0 };
  const guint8 *pk = self_pk;
  gboolean seen = FALSE;

  if (!auth_headers (call->connection, call->now, &headers, reply))
    return FALSE;
  if (self_pk == NULL)
    {
      if (!known_device (call, headers.device, &known, reply))
        return FALSE;
      pk = known.auth_pk;
    }
  if (!sync_auth_verify (pk, call->method, call->raw_uri, call->body, call->body_len,
                         relay_single_header (call->connection, SYNC_AUTH_HEADER_TIME),
                         relay_single_header (call->connection, SYNC_AUTH_HEADER_NONCE),
                         relay_single_header (call->connection, SYNC_AUTH_HEADER_DEVICE),
                         relay_single_header (call->connection, SYNC_AUTH_HEADER_SIGNATURE),
                         &error))
    {
      relay_reply_error (reply, MHD_HTTP_UNAUTHORIZED, "signature",
                         "The request signature does not verify");
      return FALSE;
    }
  if (!relay_store_nonce_seen (call->store, headers.device, headers.nonce, &seen, &error))
    {
      relay_reply_internal (reply, error);
      return FALSE;
    }
  if (seen)
    {
      relay_reply_error (reply, MHD_HTTP_UNAUTHORIZED, "replay",
                         "This nonce was already used: a replayed request");
      return FALSE;
    }
  /* Spent before any later refusal: a request refused for its rate or its
   * device's status cannot be replayed once that changes. */
  if (!record_nonce (relay, call, &headers, reply))
    return FALSE;
  if (self_pk == NULL && !device_allowed (relay, call, &known, allowed, reply))
    return FALSE;
  if (self_pk != NULL && !rate_ok (relay, headers.device, reply))
    return FALSE;
  if (device != NULL)
    *device = known;
  return TRUE;
}
