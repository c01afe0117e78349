/* The relay's endpoints, one function each; docs/RELAY-API.md is their contract.
 * The upper layer of the relay: sync_relay_new hands the table at the end of
 * this file to the server (relay-server.c), which routes requests through it.
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
parse_json_object (const guint8 *body, gsize len, RelayReply *reply)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;

  if (body == NULL || len == 0)
    {
      relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "invalid", "A JSON body is required");
      return NULL;
    }
  if (len > RELAY_MAX_JSON_BODY || len > G_MAXSSIZE
      || !g_utf8_validate_len ((const char *)body, len, NULL) || !json_depth_ok (body, len))
    {
      relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "invalid",
                         "The body is not UTF-8 JSON, or nests too deeply");
      return NULL;
    }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, (const char *)body, (gssize)len, &error))
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

static gboolean
parse_action (const char *s, RelayLogAction *out)
{
  static const char *const names[] = { "add", "remove", "epoch", "other" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (s, names[i]) == 0)
      {
        *out = (RelayLogAction)i;
        return TRUE;
      }
  return FALSE;
}

static gboolean
parse_log_members (JsonObject *obj, RelayBody *out, RelayReply *reply)
{
  const char *action_name;

  if (!member_int (obj, "version", &out->version, reply)
      || !member_entry (obj, "entry", &out->entry, reply)
      || !member_string (obj, "action", &action_name, reply)
      || !member_string_or_null (obj, "subject", &out->subject, reply))
    return FALSE;
  if (!parse_action (action_name, &out->action))
    return bad_member (reply, "action", "\"add\", \"remove\", \"epoch\" or \"other\"");
  if (out->subject != NULL && !sync_id_is_valid (out->subject))
    return bad_member (reply, "subject", "a device id or null");
  if ((out->action == RELAY_LOG_ADD || out->action == RELAY_LOG_REMOVE) && out->subject == NULL)
    return bad_member (reply, "subject", "the device to add or remove");
  return TRUE;
}

gboolean
relay_parse_body (RelayBodyKind kind, const guint8 *body, gsize len, RelayBody *out,
                  RelayReply *reply)
{
  JsonObject *obj;
  gboolean ok = FALSE;

  g_return_val_if_fail (out != NULL && reply != NULL, FALSE);

  memset (out, 0, sizeof *out);
  out->root = parse_json_object (body, len, reply);
  if (out->root == NULL)
    return FALSE;
  obj = json_node_get_object (out->root);
  switch (kind)
    {
      case RELAY_BODY_CREATE:
        ok = member_device (obj, &out->device, reply)
             && member_entry (obj, "entry", &out->entry, reply);
        break;
      case RELAY_BODY_INVITE:
        ok = member_hex (obj, "token_hash", out->token_hash, sizeof out->token_hash, reply)
             && member_int (obj, "expires", &out->expires, reply);
        break;
      case RELAY_BODY_JOIN:
        ok = member_hex (obj, "token", out->token, sizeof out->token, reply)
             && member_device (obj, &out->device, reply);
        break;
      case RELAY_BODY_LOG:
        ok = parse_log_members (obj, out, reply);
        break;
      case RELAY_BODY_PRUNE:
        ok = member_int (obj, "cursor", &out->cursor, reply)
             && (out->cursor >= 0 || bad_member (reply, "cursor", "an integer ≥ 0"));
        break;
      default:
        relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "invalid", "Unexpected body");
        break;
    }
  if (!ok)
    relay_body_clear (out);
  return ok;
}

void
relay_body_clear (RelayBody *body)
{
  g_clear_pointer (&body->root, json_node_unref);
  sodium_memzero (body, sizeof *body);
}

gboolean
relay_parse_query_int (const char *text, gint64 max, gint64 *out)
{
  guint64 value;

  /* g_ascii_string_to_unsigned() refuses signs, spaces and trailing bytes. */
  if (text == NULL || max < 0 || text[0] < '0' || text[0] > '9'
      || !g_ascii_string_to_unsigned (text, 10, 0, (guint64)max, &value, NULL))
    return FALSE;
  *out = (gint64)value;
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

/* A non-negative integer query argument; @fallback when absent (@required:
 * absent is an error). */
static gboolean
query_int (const RelayCall *call, const char *name, gboolean required, gint64 fallback, gint64 max,
           gint64 *out, RelayReply *reply)
{
  const char *text = MHD_lookup_connection_value (call->connection, MHD_GET_ARGUMENT_KIND, name);

  if (text == NULL && !required)
    {
      *out = fallback;
      return TRUE;
    }
  if (!relay_parse_query_int (text, max, out))
    {
      g_autofree char *message = g_strdup_printf (
          "Query argument \"%s\" must be an integer from 0 to %" G_GINT64_FORMAT, name, max);

      relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "invalid", message);
      return FALSE;
    }
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

static void
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

static void
relay_api_create_workspace (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_auto (RelayBody) body = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  RelayDevice device;
  gboolean exists = FALSE;

  if (!create_token_ok (relay, call))
    {
      relay_reply_error (reply, MHD_HTTP_FORBIDDEN, "create_token",
                         "This relay needs the right X-Supolka-Create-Token to create a workspace");
      return;
    }
  if (!relay_parse_body (RELAY_BODY_CREATE, call->body, call->body_len, &body, reply)
      || !header_device_matches (call, body.device.id, reply))
    return;
  device = body.device;
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
      || !relay_store_log_append (relay->store, call->ws, 1, body.entry, device.id, call->now,
                                  &error)
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

static void
relay_api_create_invite (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_auto (RelayBody) body = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  RelayDevice device;
  gint64 expires;
  gboolean duplicate = FALSE;

  if (!relay_authenticate (relay, call, NULL, RELAY_DEVICE_ACTIVE, &device, reply))
    return;
  if (!relay_parse_body (RELAY_BODY_INVITE, call->body, call->body_len, &body, reply))
    return;
  expires = body.expires;
  if (expires <= call->now || expires > call->now + RELAY_INVITE_MAX_TTL)
    {
      relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "invalid",
                         "\"expires\" must be in the future and at most 7 days away");
      return;
    }
  if (!relay_store_add_invite (relay->store, call->ws, body.token_hash, expires, device.id,
                               call->now, &duplicate, &error))
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

static void
relay_api_join (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_auto (RelayBody) body = { 0 };
  g_autoptr (GError) error = NULL;
  guint8 token_hash[SYNC_HASH_LEN];
  RelayDevice device;
  gboolean found = FALSE;
  gboolean ok = FALSE;
  gint64 count = 0;

  if (!relay_parse_body (RELAY_BODY_JOIN, call->body, call->body_len, &body, reply)
      || !header_device_matches (call, body.device.id, reply))
    return;
  device = body.device;
  if (!relay_authenticate (relay, call, device.auth_pk, 0, NULL, reply))
    return;
  sync_hash (body.token, sizeof body.token, token_hash);
  sodium_memzero (body.token, sizeof body.token);

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
  device.has_invite = TRUE;
  memcpy (device.invite, token_hash, sizeof token_hash);
  if (!relay_store_add_device (relay->store, call->ws, &device, &error)
      || !relay_store_commit (relay->store, &error))
    goto failed;
  relay_reply_take_json (reply, MHD_HTTP_ACCEPTED, g_strdup ("{\"status\":\"pending\"}"));
  return;

failed:
  relay_store_rollback (relay->store);
  relay_reply_internal (reply, error);
}

static void
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
      if (d->has_invite && d->status == RELAY_DEVICE_PENDING)
        {
          g_autofree char *hex = sync_hex_encode (d->invite, SYNC_HASH_LEN);
          add_string (builder, "invite", hex);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  reply_builder (reply, MHD_HTTP_OK, builder);
}

static void
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
  if (!query_int (call, "since", FALSE, 0, G_MAXINT64, &since, reply))
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

static void
relay_api_post_log (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_auto (RelayBody) body = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  RelayDevice signer;
  RelayDevice subject_device;
  const char *entry;
  const char *subject;
  RelayLogAction action;
  gint64 version;
  gint64 head = 0;
  gboolean found = FALSE;

  if (!relay_authenticate (relay, call, NULL, RELAY_DEVICE_ACTIVE, &signer, reply))
    return;
  if (!relay_parse_body (RELAY_BODY_LOG, call->body, call->body_len, &body, reply))
    return;
  entry = body.entry;
  subject = body.subject;
  action = body.action;
  version = body.version;

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
  if (action == RELAY_LOG_ADD || action == RELAY_LOG_REMOVE)
    {
      if (!relay_store_get_device (relay->store, call->ws, subject, &subject_device, &found,
                                   &error))
        goto failed;
      if (!found || (action == RELAY_LOG_ADD && subject_device.status == RELAY_DEVICE_REVOKED))
        {
          relay_store_rollback (relay->store);
          bad_member (reply, "subject",
                      action == RELAY_LOG_ADD ? "a pending or active device of this workspace"
                                              : "a device of this workspace");
          return;
        }
    }
  if (!relay_store_log_append (relay->store, call->ws, version, entry, signer.id, call->now,
                               &error))
    goto failed;
  if (action == RELAY_LOG_ADD
      && !relay_store_set_device_status (relay->store, call->ws, subject, RELAY_DEVICE_ACTIVE,
                                         &error))
    goto failed;
  if (action == RELAY_LOG_REMOVE
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

static void
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

static void
relay_api_get_batches (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) batches = NULL;
  GString *json;
  gint64 since;
  gint64 limit;
  gint64 pruned = 0;
  gboolean more = FALSE;
  guint i;

  if (!relay_authenticate (relay, call, NULL, RELAY_DEVICE_ACTIVE, NULL, reply))
    return;
  if (!query_int (call, "since", FALSE, 0, G_MAXINT64, &since, reply)
      || !query_int (call, "limit", FALSE, RELAY_PAGE_DEFAULT_LIMIT, RELAY_PAGE_MAX_LIMIT, &limit,
                     reply))
    return;
  if (limit < 1)
    {
      relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "invalid",
                         "Query argument \"limit\" must be from 1 to 500");
      return;
    }
  /* After a prune, a pull from before the pruned cursor would be a partial
   * history: send the client to the snapshot instead. */
  if (!relay_store_pruned_cursor (relay->store, call->ws, &pruned, &error))
    {
      relay_reply_internal (reply, error);
      return;
    }
  if (since < pruned)
    {
      RelaySnapshotInfo snapshot;
      gboolean found = FALSE;

      if (!relay_store_snapshot_info (relay->store, call->ws, &snapshot, &found, &error))
        {
          relay_reply_internal (reply, error);
          return;
        }
      relay_reply_error_int (reply, MHD_HTTP_GONE, "pruned",
                             "Batches up to the snapshot's cursor were pruned: fetch the snapshot"
                             " and pull from its cursor",
                             "snapshot_cursor", found ? snapshot.cursor : pruned);
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

/* ---- Snapshots and pruning -------------------------------------------------------------- */

static void
relay_api_put_snapshot (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  RelaySnapshotInfo old;
  RelayDevice device;
  gboolean found = FALSE;
  gint64 cursor;
  gint64 head = 0;
  gint64 bytes = 0;

  if (!relay_authenticate (relay, call, NULL, RELAY_DEVICE_ACTIVE, &device, reply))
    return;
  if (!query_int (call, "cursor", TRUE, 0, G_MAXINT64, &cursor, reply))
    return;
  if (call->body_len == 0)
    {
      relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "invalid", "A snapshot cannot be empty");
      return;
    }
  if (call->body_len > relay->config.max_snapshot_bytes)
    {
      relay_reply_error (reply, MHD_HTTP_CONTENT_TOO_LARGE, "too_large",
                         "The snapshot is larger than this relay allows");
      return;
    }

  if (!relay_store_begin (relay->store, &error)
      || !relay_store_cursor_head (relay->store, call->ws, &head, &error)
      || !relay_store_snapshot_info (relay->store, call->ws, &old, &found, &error))
    goto failed;
  if (cursor > head)
    {
      relay_store_rollback (relay->store);
      relay_reply_error_int (reply, MHD_HTTP_BAD_REQUEST, "cursor_ahead",
                             "\"cursor\" is past the workspace's last batch", "head", head);
      return;
    }
  if (found && cursor < old.cursor)
    {
      relay_store_rollback (relay->store);
      relay_reply_error_int (reply, MHD_HTTP_CONFLICT, "snapshot_older",
                             "A snapshot covering more batches is stored already",
                             "snapshot_cursor", old.cursor);
      return;
    }
  if (!relay_store_workspace_bytes (relay->store, call->ws, &bytes, &error))
    goto failed;
  /* The new snapshot replaces the old one: only the difference counts. */
  if ((guint64)MAX (0, bytes - (found ? old.size : 0)) + call->body_len > relay->config.quota_bytes)
    {
      relay_store_rollback (relay->store);
      relay_reply_error (reply, MHD_HTTP_INSUFFICIENT_STORAGE, "quota",
                         "This workspace has used its storage quota on the relay");
      return;
    }
  if (!relay_store_put_snapshot (relay->store, call->ws, cursor, device.id, call->now, call->body,
                                 call->body_len, &error)
      || !relay_store_commit (relay->store, &error))
    goto failed;

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  add_int (builder, "cursor", cursor);
  add_int (builder, "size", (gint64)call->body_len);
  json_builder_end_object (builder);
  reply_builder (reply, MHD_HTTP_CREATED, builder);
  return;

failed:
  relay_store_rollback (relay->store);
  relay_reply_internal (reply, error);
}

typedef struct
{
  SyncRelay *relay;
  guint8 *data;
  gsize len;
} SnapshotDownload;

/* MHD is done sending: the buffer goes, and so does its share of the budget. */
static void
snapshot_download_free (gpointer user_data)
{
  SnapshotDownload *download = user_data;

  g_free (download->data);
  relay_snapshot_memory_release (download->relay, download->len);
  g_free (download);
}

static void
relay_api_get_snapshot (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *cursor_text = NULL;
  g_autofree char *time_text = NULL;
  RelaySnapshotInfo info;
  SnapshotDownload *download;
  gboolean found = FALSE;
  guint8 *data;

  if (!relay_authenticate (relay, call, NULL, RELAY_DEVICE_ACTIVE, NULL, reply))
    return;
  if (!relay_store_snapshot_info (relay->store, call->ws, &info, &found, &error))
    {
      relay_reply_internal (reply, error);
      return;
    }
  if (!found)
    {
      relay_reply_error (reply, MHD_HTTP_NOT_FOUND, "not_found", "This workspace has no snapshot");
      return;
    }
  /* The whole snapshot is copied out of SQLite under the lock (a reader that
   * held a blob handle across MHD's callbacks would race the next upload), so
   * the bytes in memory at once are bounded instead. */
  if (info.size < 0 || !relay_snapshot_memory_reserve (relay, (guint64)info.size))
    {
      relay_reply_error (reply, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                         "The relay is sending other snapshots; try again shortly");
      reply->retry_after = TRUE;
      return;
    }
  data = g_try_malloc (MAX (info.size, 1));
  if (data == NULL
      || !relay_store_read_snapshot (relay->store, info.id, data, (gsize)info.size, &error))
    {
      g_free (data);
      relay_snapshot_memory_release (relay, (guint64)info.size);
      if (error == NULL)
        g_set_error (&error, SYNC_RELAY_ERROR, SYNC_RELAY_ERROR_FAILED, "Out of memory");
      relay_reply_internal (reply, error);
      return;
    }
  download = g_new0 (SnapshotDownload, 1);
  download->relay = relay;
  download->data = data;
  download->len = (gsize)info.size;
  reply->status = MHD_HTTP_OK;
  reply->blob
      = g_bytes_new_with_free_func (data, (gsize)info.size, snapshot_download_free, download);
  cursor_text = g_strdup_printf ("%" G_GINT64_FORMAT, info.cursor);
  time_text = g_strdup_printf ("%" G_GINT64_FORMAT, info.created);
  relay_reply_add_header (reply, RELAY_HEADER_SNAPSHOT_CURSOR, cursor_text);
  relay_reply_add_header (reply, RELAY_HEADER_SNAPSHOT_DEVICE, info.device);
  relay_reply_add_header (reply, RELAY_HEADER_SNAPSHOT_TIME, time_text);
}

static void
relay_api_prune (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_auto (RelayBody) body = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  RelaySnapshotInfo snapshot;
  gboolean found = FALSE;
  gint64 count = 0;
  gint64 pruned = 0;

  if (!relay_authenticate (relay, call, NULL, RELAY_DEVICE_ACTIVE, NULL, reply))
    return;
  if (!relay_parse_body (RELAY_BODY_PRUNE, call->body, call->body_len, &body, reply))
    return;
  if (!relay_store_begin (relay->store, &error)
      || !relay_store_snapshot_info (relay->store, call->ws, &snapshot, &found, &error))
    goto failed;
  if (body.cursor > (found ? snapshot.cursor : 0))
    {
      relay_store_rollback (relay->store);
      relay_reply_error_int (reply, MHD_HTTP_CONFLICT, "beyond_snapshot",
                             "Only batches the stored snapshot covers can be pruned",
                             "snapshot_cursor", found ? snapshot.cursor : 0);
      return;
    }
  if (!relay_store_prune (relay->store, call->ws, body.cursor, &count, &error)
      || !relay_store_pruned_cursor (relay->store, call->ws, &pruned, &error)
      || !relay_store_commit (relay->store, &error))
    goto failed;
  /* The deleted blobs' pages are zeroed (secure_delete); flush the WAL too. */
  if (count > 0)
    relay_store_checkpoint (relay->store);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  add_int (builder, "pruned", count);
  add_int (builder, "pruned_cursor", pruned);
  json_builder_end_object (builder);
  reply_builder (reply, MHD_HTTP_OK, builder);
  return;

failed:
  relay_store_rollback (relay->store);
  relay_reply_internal (reply, error);
}

/* ---- Travel stashes: one opaque blob per device, for that device only ---------------- */

static void
relay_api_put_stash (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  RelayDevice device;
  gint64 bytes = 0, old = -1;

  if (!relay_authenticate (relay, call, NULL, RELAY_DEVICE_ACTIVE, &device, reply))
    return;
  if (call->body_len == 0)
    {
      relay_reply_error (reply, MHD_HTTP_BAD_REQUEST, "invalid", "A stash cannot be empty");
      return;
    }
  if (!relay_store_begin (relay->store, &error)
      || !relay_store_workspace_bytes (relay->store, call->ws, &bytes, &error)
      || !relay_store_stash_size (relay->store, call->ws, device.id, &old, &error))
    goto failed;
  /* The new stash replaces the old one: only the difference counts. */
  if ((guint64)MAX (0, bytes - MAX (old, 0)) + call->body_len > relay->config.quota_bytes)
    {
      relay_store_rollback (relay->store);
      relay_reply_error (reply, MHD_HTTP_INSUFFICIENT_STORAGE, "quota",
                         "This workspace has used its storage quota on the relay");
      return;
    }
  if (!relay_store_put_stash (relay->store, call->ws, device.id, call->now, call->body,
                              call->body_len, &error)
      || !relay_store_commit (relay->store, &error))
    goto failed;
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  add_int (builder, "size", (gint64)call->body_len);
  json_builder_end_object (builder);
  reply_builder (reply, old >= 0 ? MHD_HTTP_OK : MHD_HTTP_CREATED, builder);
  return;

failed:
  relay_store_rollback (relay->store);
  relay_reply_internal (reply, error);
}

static void
relay_api_get_stash (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = NULL;
  RelayDevice device;

  if (!relay_authenticate (relay, call, NULL, RELAY_DEVICE_ACTIVE, &device, reply))
    return;
  if (!relay_store_get_stash (relay->store, call->ws, device.id, &data, &error))
    {
      relay_reply_internal (reply, error);
      return;
    }
  if (data == NULL)
    {
      relay_reply_error (reply, MHD_HTTP_NOT_FOUND, "not_found", "This device has no stash");
      return;
    }
  reply->status = MHD_HTTP_OK;
  reply->blob = g_steal_pointer (&data);
}

static void
relay_api_delete_stash (SyncRelay *relay, const RelayCall *call, RelayReply *reply)
{
  g_autoptr (GError) error = NULL;
  RelayDevice device;
  gboolean found = FALSE;

  if (!relay_authenticate (relay, call, NULL, RELAY_DEVICE_ACTIVE, &device, reply))
    return;
  if (!relay_store_begin (relay->store, &error)
      || !relay_store_delete_stash (relay->store, call->ws, device.id, &found, &error)
      || !relay_store_commit (relay->store, &error))
    {
      relay_store_rollback (relay->store);
      relay_reply_internal (reply, error);
      return;
    }
  if (!found)
    {
      relay_reply_error (reply, MHD_HTTP_NOT_FOUND, "not_found", "This device has no stash");
      return;
    }
  relay_reply_take_json (reply, MHD_HTTP_OK, g_strdup ("{}"));
}

/* ---- The endpoints, registered with the server ---------------------------------------- */

/* relay-server.c walks this table to route a request; it knows no handler by name. */
static const RelayEndpoint endpoints[] = {
  { ROUTE_HEALTHZ, "GET", relay_api_healthz, 0 },
  { ROUTE_WORKSPACE, "POST", relay_api_create_workspace, RELAY_MAX_JSON_BODY },
  { ROUTE_INVITES, "POST", relay_api_create_invite, RELAY_MAX_JSON_BODY },
  { ROUTE_JOIN, "POST", relay_api_join, RELAY_MAX_JSON_BODY },
  { ROUTE_DEVICES, "GET", relay_api_list_devices, 0 },
  { ROUTE_LOG, "GET", relay_api_get_log, 0 },
  { ROUTE_LOG, "POST", relay_api_post_log, RELAY_MAX_JSON_BODY },
  { ROUTE_BATCHES, "GET", relay_api_get_batches, 0 },
  { ROUTE_BATCHES, "POST", relay_api_post_batch, RELAY_MAX_BATCH_BODY },
  { ROUTE_SNAPSHOT, "GET", relay_api_get_snapshot, 0 },
  { ROUTE_SNAPSHOT, "PUT", relay_api_put_snapshot, RELAY_BODY_LIMIT_SNAPSHOT },
  { ROUTE_PRUNE, "POST", relay_api_prune, RELAY_MAX_JSON_BODY },
  { ROUTE_STASH, "GET", relay_api_get_stash, 0 },
  { ROUTE_STASH, "PUT", relay_api_put_stash, RELAY_MAX_STASH_BODY },
  { ROUTE_STASH, "DELETE", relay_api_delete_stash, 0 },
};

SyncRelay *
sync_relay_new (const SyncRelayConfig *config, GError **error)
{
  g_return_val_if_fail (config != NULL, NULL);

  return relay_server_new (config, endpoints, G_N_ELEMENTS (endpoints), error);
}
