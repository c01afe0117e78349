/* The relay's endpoints, one function each; docs/RELAY-API.md is their contract.
 * Each runs with the relay's lock held, after the size checks of relay-server.c.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>

#include "relay-private.h"

#define HEADER_CREATE_TOKEN "X-Supolka-Create-Token"

/* ---- JSON in ------------------------------------------------------------------------- */

/* json-glib recurses once per nesting level; a hostile body of 1 MiB of '[' must
 * not be able to exhaust the stack, so nesting is bounded before parsing. */
static gboolean
json_depth_ok (const guint8 *p, gsize len)
{
  gboolean in_string = FALSE;
  gboolean escaped = FALSE;
  guint depth = 0;
  gsize i;

  for (i = 0; i < len; i++)
    {
      guint8 c = p[i];

      if (in_string)
        {
          if (escaped)
            escaped = FALSE;
          else if (c == '\\')
            escaped = TRUE;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > RELAY_MAX_JSON_DEPTH)
            return FALSE;
        }
      else if ((c == '}' || c == ']') && depth > 0)
        depth--;
    }
  return TRUE;
}

/* The body as a JSON object, or NULL with @reply set. */
static JsonNode *
parse_body (const RelayCall *call, RelayReply *reply)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;

  if (call->body_len == 0)
    {
      relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "invalid", "A JSON body is required");
      return NULL;
    }
  if (!g_utf8_validate_len ((const char *)call->body, call->body_len, NULL)
      || !json_depth_ok (call->body, call->body_len))
    {
      relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "invalid",
                         "The body is not UTF-8 JSON, or nests too deeply");
      return NULL;
    }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, (const char *)call->body, (gssize)call->body_len,
                                   &error))
    {
      relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "invalid", "The body is not valid JSON");
      return NULL;
    }
  root = json_parser_steal_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "invalid", "The body must be a JSON object");
      return NULL;
    }
  return g_steal_pointer (&root);
}

static gboolean
bad_member (RelayReply *reply, const char *name, const char *what)
{
  g_autofree char *message = g_strdup_printf ("\"%s\" must be %s", name, what);

  relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "invalid", message);
  return FALSE;
}

/* A required string member. */
static gboolean
member_string (JsonObject *obj, const char *name, const char **out, RelayReply *reply)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return bad_member (reply, name, "a string");
  *out = json_node_get_string (node);
  return *out != NULL || bad_member (reply, name, "a string");
}

/* A string member that may be missing or null (*out = NULL then). */
static gboolean
member_string_or_null (JsonObject *obj, const char *name, const char **out, RelayReply *reply)
{
  JsonNode *node = json_object_get_member (obj, name);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  return member_string (obj, name, out, reply);
}

static gboolean
member_int (JsonObject *obj, const char *name, gint64 *out, RelayReply *reply)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64)
    return bad_member (reply, name, "an integer");
  *out = json_node_get_int (node);
  return TRUE;
}

static gboolean
member_id (JsonObject *obj, const char *name, const char **out, RelayReply *reply)
{
  if (!member_string (obj, name, out, reply))
    return FALSE;
  return sync_id_is_valid (*out) || bad_member (reply, name, "32 lowercase hex characters");
}

static gboolean
member_key (JsonObject *obj, const char *name, guint8 out[SYNC_KEY_LEN], RelayReply *reply)
{
  const char *b64;

  if (!member_string (obj, name, &b64, reply))
    return FALSE;
  return sync_base64_decode_exact (b64, out, SYNC_KEY_LEN, NULL)
         || bad_member (reply, name, "base64 of 32 bytes");
}

static gboolean
member_hex (JsonObject *obj, const char *name, guint8 *out, gsize len, RelayReply *reply)
{
  const char *hex;

  if (!member_string (obj, name, &hex, reply))
    return FALSE;
  return sync_hex_decode (hex, out, len, NULL)
         || bad_member (reply, name, len == 32 ? "64 lowercase hex characters" : "lowercase hex");
}

static gboolean
member_entry (JsonObject *obj, const char *name, const char **out, RelayReply *reply)
{
  gsize len;

  if (!member_string (obj, name, out, reply))
    return FALSE;
  len = strlen (*out);
  return (len > 0 && len <= RELAY_MAX_ENTRY)
         || bad_member (reply, name, "a non-empty string of at most 64 KiB");
}

/* The device's id and three public keys, as sent when creating or joining. */
static gboolean
member_device (JsonObject *obj, RelayDevice *device, RelayReply *reply)
{
  const char *id;

  memset (device, 0, sizeof *device);
  if (!member_id (obj, "device", &id, reply) || !member_key (obj, "auth_pk", device->auth_pk, reply)
      || !member_key (obj, "sign_pk", device->sign_pk, reply)
      || !member_key (obj, "box_pk", device->box_pk, reply))
    return FALSE;
  g_strlcpy (device->id, id, sizeof device->id);
  return TRUE;
}

/* A signed request that carries its own key: the body's device must be the one
 * that signs. */
static gboolean
header_device_matches (const RelayCall *call, const char *device, RelayReply *reply)
{
  const char *header
      = MHD_lookup_connection_value (call->connection, MHD_HEADER_KIND, SYNC_AUTH_HEADER_DEVICE);

  if (header != NULL && strcmp (header, device) != 0)
    {
      relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "device_mismatch",
                         "X-Supolka-Device is not the device in the body");
      return FALSE;
    }
  return TRUE;
}

/* A non-negative integer query argument; @fallback when absent. */
static gboolean
query_int (const RelayCall *call, const char *name, gint64 fallback, gint64 max, gint64 *out,
           RelayReply *reply)
{
  const char *text = MHD_lookup_connection_value (call->connection, MHD_GET_ARGUMENT_KIND, name);
  guint64 value;

  if (text == NULL)
    {
      *out = fallback;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (text, 10, 0, (guint64)max, &value, NULL))
    {
      g_autofree char *message = g_strdup_printf (
          "Query argument \"%s\" must be an integer from 0 to %" G_GINT64_FORMAT, name, max);

      relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "invalid", message);
      return FALSE;
    }
  *out = (gint64)value;
  return TRUE;
}

/* ---- JSON out ------------------------------------------------------------------------ */

static void
reply_builder (RelayReply *reply, guint status, JsonBuilder *builder)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (builder);

  json_generator_set_root (generator, root);
  relay_reply_take_json (reply, status, json_generator_to_data (generator, NULL));
}

static void
add_string (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

static void
add_int (JsonBuilder *builder, const char *name, gint64 value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

static void
add_key (JsonBuilder *builder, const char *name, const guint8 key[SYNC_KEY_LEN])
{
  g_autofree char *b64 = g_base64_encode (key, SYNC_KEY_LEN);

  add_string (builder, name, b64);
}

static void
reply_cursor (RelayReply *reply, guint status, gint64 cursor)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  add_int (builder, "cursor", cursor);
  json_builder_end_object (builder);
  reply_builder (reply, status, builder);
}

/* ---- Endpoints ------------------------------------------------------------------------ */

void
relay_api_healthz (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  relay_reply_take_json (reply, MHD_HTTP_OK, g_strdup ("{\"status\":\"ok\"}"));
}

static gboolean
create_token_ok (SyncRelay *relay, const RelayCall *call)
{
  const char *given;
  guint8 want[SYNC_HASH_LEN];
  guint8 got[SYNC_HASH_LEN];

  if (relay->create_token == NULL)
    return TRUE;
  given = MHD_lookup_connection_value (call->connection, MHD_HEADER_KIND, HEADER_CREATE_TOKEN);
  if (given == NULL)
    return FALSE;
  /* Compare digests in constant time: neither length nor content leaks. */
  sync_hash ((const guint8 *)relay->create_token, strlen (relay->create_token), want);
  sync_hash ((const guint8 *)given, strlen (given), got);
  return sodium_memcmp (want, got, SYNC_HASH_LEN) == 0;
}

void
relay_api_create_workspace (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  JsonObject *obj;
  RelayDevice device;
  const char *entry;
  gboolean exists = FALSE;

  if (!create_token_ok (relay, call))
    {
      relay_reply_error (reply, MHD_HTTP_FORBIDDEN, "create_token",
                         "This relay needs the right X-Supolka-Create-Token to create a workspace");
      return;
    }
  root = parse_body (call, reply);
  if (root == NULL)
    return;
  obj = json_node_get_object (root);
  if (!member_device (obj, &device, reply) || !member_entry (obj, "entry", &entry, reply)
      || !header_device_matches (call, device.id, reply))
    return;
  if (!relay_authenticate (relay, call, device.auth_pk, 0, NULL, reply))
    return;

  if (!relay_store_begin (relay->store, &error))
    goto failed;
  if (!relay_store_workspace_exists (relay->store, call->ws, &exists, &error))
    goto failed;
  if (exists)
    {
      relay_store_rollback (relay->store);
      relay_reply_error (reply, MHD_HTTP_CONFLICT, "exists", "This workspace already exists");
      return;
    }
  device.status = RELAY_DEVICE_ACTIVE; /* the creator is the first admin */
  device.created = call->now;
  if (!relay_store_add_workspace (relay->store, call->ws, call->now, &error)
      || !relay_store_add_device (relay->store, call->ws, &device, &error)
      || !relay_store_log_append (relay->store, call->ws, 1, entry, device.id, call->now, &error)
      || !relay_store_commit (relay->store, &error))
    goto failed;

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  add_string (builder, "workspace", call->ws);
  add_string (builder, "device", device.id);
  add_int (builder, "head", 1);
  json_builder_end_object (builder);
  reply_builder (reply, MHD_HTTP_CREATED, builder);
  return;

failed:
  relay_store_rollback (relay->store);
  relay_reply_internal (reply, error);
}

void
relay_api_create_invite (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  guint8 token_hash[SYNC_HASH_LEN];
  RelayDevice device;
  JsonObject *obj;
  gint64 expires;
  gboolean duplicate = FALSE;

  if (!relay_authenticate (relay, call, NULL, RELAY_DEVICE_ACTIVE, &device, reply))
    return;
  root = parse_body (call, reply);
  if (root == NULL)
    return;
  obj = json_node_get_object (root);
  if (!member_hex (obj, "token_hash", token_hash, sizeof token_hash, reply)
      || !member_int (obj, "expires", &expires, reply))
    return;
  if (expires <= call->now || expires > call->now + RELAY_INVITE_MAX_TTL)
    {
      relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "invalid",
                         "\"expires\" must be in the future and at most 7 days away");
      return;
    }
  if (!relay_store_add_invite (relay->store, call->ws, token_hash, expires, device.id, call->now,
                               &duplicate, &error))
    {
      relay_reply_internal (reply, error);
      return;
    }
  if (duplicate)
    {
      relay_reply_error (reply, MHD_HTTP_CONFLICT, "exists", "This invite already exists");
      return;
    }
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  add_int (builder, "expires", expires);
  json_builder_end_object (builder);
  reply_builder (reply, MHD_HTTP_CREATED, builder);
}

void
relay_api_join (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  guint8 token[32];
  guint8 token_hash[SYNC_HASH_LEN];
  RelayDevice device;
  JsonObject *obj;
  gboolean found = FALSE;
  gboolean ok = FALSE;
  gint64 count = 0;

  root = parse_body (call, reply);
  if (root == NULL)
    return;
  obj = json_node_get_object (root);
  if (!member_hex (obj, "token", token, sizeof token, reply) || !member_device (obj, &device, reply)
      || !header_device_matches (call, device.id, reply))
    return;
  if (!relay_authenticate (relay, call, device.auth_pk, 0, NULL, reply))
    return;
  sync_hash (token, sizeof token, token_hash);
  sodium_memzero (token, sizeof token);

  /* Checked and spent in one transaction: one token, one device. Every refusal
   * below rolls back, so a refused join does not spend the token, and nobody
   * without a valid token learns which devices a workspace has. */
  if (!relay_store_begin (relay->store, &error)
      || !relay_store_use_invite (relay->store, call->ws, token_hash, call->now, &ok, &error))
    goto failed;
  if (!ok)
    {
      relay_store_rollback (relay->store);
      relay_reply_error (reply, MHD_HTTP_FORBIDDEN, "invite",
                         "The invite is unknown, already used or expired");
      return;
    }
  if (!relay_store_get_device (relay->store, call->ws, device.id, NULL, &found, &error))
    goto failed;
  if (found)
    {
      relay_store_rollback (relay->store);
      relay_reply_error (reply, MHD_HTTP_CONFLICT, "exists",
                         "A device with this id is already in the workspace");
      return;
    }
  if (!relay_store_count_devices (relay->store, call->ws, &count, &error))
    goto failed;
  if (count >= relay->config.max_devices)
    {
      relay_store_rollback (relay->store);
      relay_reply_error (reply, MHD_HTTP_FORBIDDEN, "too_many_devices",
                         "This workspace has as many devices as the relay allows");
      return;
    }
  device.status = RELAY_DEVICE_PENDING;
  device.created = call->now;
  if (!relay_store_add_device (relay->store, call->ws, &device, &error)
      || !relay_store_commit (relay->store, &error))
    goto failed;
  relay_reply_take_json (reply, MHD_HTTP_ACCEPTED, g_strdup ("{\"status\":\"pending\"}"));
  return;

failed:
  relay_store_rollback (relay->store);
  relay_reply_internal (reply, error);
}

void
relay_api_list_devices (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) devices = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  guint i;

  if (!relay_authenticate (relay, call, NULL, RELAY_DEVICE_ACTIVE | RELAY_DEVICE_PENDING, NULL,
                           reply))
    return;
  devices = relay_store_list_devices (relay->store, call->ws, &error);
  if (devices == NULL)
    {
      relay_reply_internal (reply, error);
      return;
    }
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "devices");
  json_builder_begin_array (builder);
  for (i = 0; i < devices->len; i++)
    {
      const RelayDevice *d = &g_array_index (devices, RelayDevice, i);

      json_builder_begin_object (builder);
      add_string (builder, "device", d->id);
      add_string (builder, "status", relay_device_status_to_string (d->status));
      add_key (builder, "auth_pk", d->auth_pk);
      add_key (builder, "sign_pk", d->sign_pk);
      add_key (builder, "box_pk", d->box_pk);
      add_int (builder, "created", d->created);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  reply_builder (reply, MHD_HTTP_OK, builder);
}

void
relay_api_get_log (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  gint64 since;
  gint64 head = 0;
  guint i;

  if (!relay_authenticate (relay, call, NULL, RELAY_DEVICE_ACTIVE | RELAY_DEVICE_PENDING, NULL,
                           reply))
    return;
  if (!query_int (call, "since", 0, G_MAXINT64, &since, reply))
    return;
  if (!relay_store_log_head (relay->store, call->ws, &head, &error))
    {
      relay_reply_internal (reply, error);
      return;
    }
  entries = relay_store_log_since (relay->store, call->ws, since, RELAY_LOG_PAGE_MAX,
                                   RELAY_PAGE_MAX_BYTES, &error);
  if (entries == NULL)
    {
      relay_reply_internal (reply, error);
      return;
    }
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "entries");
  json_builder_begin_array (builder);
  for (i = 0; i < entries->len; i++)
    {
      const RelayLogEntry *e = g_ptr_array_index (entries, i);

      json_builder_begin_object (builder);
      add_int (builder, "version", e->version);
      add_string (builder, "entry", e->entry);
      add_string (builder, "signer", e->signer);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  add_int (builder, "head", head);
  json_builder_end_object (builder);
  reply_builder (reply, MHD_HTTP_OK, builder);
}

typedef enum
{
  ACTION_ADD,
  ACTION_REMOVE,
  ACTION_EPOCH,
  ACTION_OTHER,
} LogAction;

static gboolean
parse_action (const char *s, LogAction *out)
{
  static const char *const names[] = { "add", "remove", "epoch", "other" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (s, names[i]) == 0)
      {
        *out = (LogAction)i;
        return TRUE;
      }
  return FALSE;
}

void
relay_api_post_log (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  RelayDevice signer;
  RelayDevice subject_device;
  JsonObject *obj;
  const char *entry;
  const char *action_name;
  const char *subject;
  LogAction action;
  gint64 version;
  gint64 head = 0;
  gboolean found = FALSE;

  if (!relay_authenticate (relay, call, NULL, RELAY_DEVICE_ACTIVE, &signer, reply))
    return;
  root = parse_body (call, reply);
  if (root == NULL)
    return;
  obj = json_node_get_object (root);
  if (!member_int (obj, "version", &version, reply) || !member_entry (obj, "entry", &entry, reply)
      || !member_string (obj, "action", &action_name, reply)
      || !member_string_or_null (obj, "subject", &subject, reply))
    return;
  if (!parse_action (action_name, &action))
    {
      bad_member (reply, "action", "\"add\", \"remove\", \"epoch\" or \"other\"");
      return;
    }
  if (subject != NULL && !sync_id_is_valid (subject))
    {
      bad_member (reply, "subject", "a device id or null");
      return;
    }
  if ((action == ACTION_ADD || action == ACTION_REMOVE) && subject == NULL)
    {
      bad_member (reply, "subject", "the device to add or remove");
      return;
    }

  if (!relay_store_begin (relay->store, &error)
      || !relay_store_log_head (relay->store, call->ws, &head, &error))
    goto failed;
  if (version != head + 1)
    {
      relay_store_rollback (relay->store);
      relay_reply_error_int (reply, MHD_HTTP_CONFLICT, "conflict",
                             "The log moved on: \"version\" must be head + 1", "head", head);
      return;
    }
  if (action == ACTION_ADD || action == ACTION_REMOVE)
    {
      if (!relay_store_get_device (relay->store, call->ws, subject, &subject_device, &found,
                                   &error))
        goto failed;
      if (!found || (action == ACTION_ADD && subject_device.status == RELAY_DEVICE_REVOKED))
        {
          relay_store_rollback (relay->store);
          bad_member (reply, "subject",
                      action == ACTION_ADD ? "a pending or active device of this workspace"
                                           : "a device of this workspace");
          return;
        }
    }
  if (!relay_store_log_append (relay->store, call->ws, version, entry, signer.id, call->now,
                               &error))
    goto failed;
  if (action == ACTION_ADD
      && !relay_store_set_device_status (relay->store, call->ws, subject, RELAY_DEVICE_ACTIVE,
                                         &error))
    goto failed;
  if (action == ACTION_REMOVE
      && !relay_store_set_device_status (relay->store, call->ws, subject, RELAY_DEVICE_REVOKED,
                                         &error))
    goto failed;
  if (!relay_store_commit (relay->store, &error))
    goto failed;

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  add_int (builder, "head", version);
  json_builder_end_object (builder);
  reply_builder (reply, MHD_HTTP_CREATED, builder);
  return;

failed:
  relay_store_rollback (relay->store);
  relay_reply_internal (reply, error);
}

void
relay_api_post_batch (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *env_ws = NULL;
  g_autofree char *env_device = NULL;
  guint8 hash[SYNC_HASH_LEN];
  guint8 stored_hash[SYNC_HASH_LEN];
  SyncEnvelopeHeader header;
  RelayDevice device;
  gint64 last = 0;
  gint64 cursor = 0;
  gint64 bytes = 0;
  gint64 seq;
  gboolean found = FALSE;

  if (!relay_authenticate (relay, call, NULL, RELAY_DEVICE_ACTIVE, &device, reply))
    return;
  if (!sync_envelope_parse_header (call->body, call->body_len, &header, &error))
    {
      relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "envelope", error->message);
      return;
    }
  env_ws = sync_hex_encode (header.workspace, SYNC_ID_LEN);
  env_device = sync_hex_encode (header.device, SYNC_ID_LEN);
  if (strcmp (env_ws, call->ws) != 0)
    {
      relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "workspace_mismatch",
                         "The envelope names another workspace");
      return;
    }
  if (strcmp (env_device, device.id) != 0)
    {
      relay_reply_error (reply, MHD_HTTP_FORBIDDEN, "device_mismatch",
                         "A device may only post batches of its own chain");
      return;
    }
  sync_envelope_hash (call->body, call->body_len, hash);

  if (!relay_store_begin (relay->store, &error)
      || !relay_store_last_seq (relay->store, call->ws, device.id, &last, &error))
    goto failed;
  if (header.seq <= (guint64)last)
    {
      seq = (gint64)header.seq;
      if (!relay_store_find_batch (relay->store, call->ws, device.id, seq, &found, &cursor,
                                   stored_hash, &error))
        goto failed;
      relay_store_rollback (relay->store);
      if (found && sodium_memcmp (stored_hash, hash, SYNC_HASH_LEN) == 0)
        /* The same blob again: an answer was lost; give the same cursor. */
        reply_cursor (reply, MHD_HTTP_OK, cursor);
      else
        relay_reply_error_int (reply, MHD_HTTP_CONFLICT, "seq_taken",
                               "Another batch is stored under this seq", "expected", last + 1);
      return;
    }
  if (header.seq != (guint64)last + 1)
    {
      relay_store_rollback (relay->store);
      relay_reply_error_int (reply, MHD_HTTP_CONFLICT, "seq",
                             "seq must follow the device's last batch", "expected", last + 1);
      return;
    }
  if (!relay_store_workspace_bytes (relay->store, call->ws, &bytes, &error))
    goto failed;
  if ((guint64)bytes + call->body_len > relay->config.quota_bytes)
    {
      relay_store_rollback (relay->store);
      relay_reply_error (reply, MHD_HTTP_INSUFFICIENT_STORAGE, "quota",
                         "This workspace has used its storage quota on the relay");
      return;
    }
  if (!relay_store_add_batch (relay->store, call->ws, device.id, header.epoch, (gint64)header.seq,
                              hash, call->body, call->body_len, &cursor, &error)
      || !relay_store_commit (relay->store, &error))
    goto failed;
  reply_cursor (reply, MHD_HTTP_CREATED, cursor);
  return;

failed:
  relay_store_rollback (relay->store);
  relay_reply_internal (reply, error);
}

void
relay_api_get_batches (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) batches = NULL;
  GString *json;
  gint64 since;
  gint64 limit;
  gboolean more = FALSE;
  guint i;

  if (!relay_authenticate (relay, call, NULL, RELAY_DEVICE_ACTIVE, NULL, reply))
    return;
  if (!query_int (call, "since", 0, G_MAXINT64, &since, reply)
      || !query_int (call, "limit", RELAY_PAGE_DEFAULT_LIMIT, RELAY_PAGE_MAX_LIMIT, &limit, reply))
    return;
  if (limit < 1)
    {
      relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "invalid",
                         "Query argument \"limit\" must be from 1 to 500");
      return;
    }
  batches = relay_store_batches_since (relay->store, call->ws, since, (guint)limit,
                                       RELAY_PAGE_MAX_BYTES, &more, &error);
  if (batches == NULL)
    {
      relay_reply_internal (reply, error);
      return;
    }
  /* Written by hand: a page can hold ~5.6 MiB of base64, and nothing in it
   * (hex ids, integers, base64) needs escaping. */
  json = g_string_new ("{\"batches\":[");
  for (i = 0; i < batches->len; i++)
    {
      const RelayBatch *b = g_ptr_array_index (batches, i);
      gsize len;
      const guint8 *data = g_bytes_get_data (b->data, &len);
      g_autofree char *b64 = g_base64_encode (data, len);

      g_string_append_printf (json,
                              "%s{\"cursor\":%" G_GINT64_FORMAT
                              ",\"device\":\"%s\",\"seq\":%" G_GINT64_FORMAT ",\"data\":\"",
                              i ? "," : "", b->cursor, b->device, b->seq);
      g_string_append (json, b64);
      g_string_append (json, "\"}");
    }
  g_string_append_printf (json, "],\"more\":%s}", more ? "true" : "false");
  relay_reply_take_json (reply, MHD_HTTP_OK, g_string_free (json, FALSE));
}
