/* SPDX-License-Identifier: GPL-3.0-or-later */
/* relay-test-client.c — talking to the real supolka-relay from GTest tests as a
 * client will: devices and workspaces, requests signed with sync_auth_sign(),
 * envelopes framed and pushed, pages pulled. Every helper asserts; see
 * relay-test-client.h. The relay itself is started by relay-test-util.c. */
#include <curl/curl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>

#include "relay-test-client.h"

/* ---- Devices and workspaces ----------------------------------------------------- */

void
random_id (guint8 raw[SYNC_ID_LEN], char hex[SYNC_ID_HEX_LEN + 1])
{
  g_autofree char *text = NULL;

  randombytes_buf (raw, SYNC_ID_LEN);
  text = sync_hex_encode (raw, SYNC_ID_LEN);
  memcpy (hex, text, SYNC_ID_HEX_LEN + 1);
}

Device *
device_new (void)
{
  Device *d = g_new0 (Device, 1);

  random_id (d->raw_id, d->id);
  crypto_sign_keypair (d->auth_pk, d->auth_sk);
  crypto_sign_keypair (d->sign_pk, d->sign_sk);
  crypto_box_keypair (d->box_pk, d->box_sk);
  return d;
}

void
device_free (Device *d)
{
  sodium_memzero (d, sizeof *d);
  g_free (d);
}

Workspace
workspace_new (void)
{
  Workspace ws;

  random_id (ws.raw_id, ws.id);
  return ws;
}

/* "\"device\":…,\"auth_pk\":…,\"sign_pk\":…,\"box_pk\":…" */
char *
device_members (const Device *d)
{
  g_autofree char *auth = g_base64_encode (d->auth_pk, 32);
  g_autofree char *sign = g_base64_encode (d->sign_pk, 32);
  g_autofree char *box = g_base64_encode (d->box_pk, 32);

  return g_strdup_printf (
      "\"device\":\"%s\",\"auth_pk\":\"%s\",\"sign_pk\":\"%s\",\"box_pk\":\"%s\"", d->id, auth,
      sign, box);
}

void
bytes_unref (gpointer bytes)
{
  g_bytes_unref (bytes);
}

/* ---- HTTP ------------------------------------------------------------------------ */

void
resp_free (Resp *resp)
{
  g_byte_array_unref (resp->body);
  if (resp->json)
    json_node_unref (resp->json);
  g_free (resp->retry_after);
  if (resp->headers)
    g_hash_table_unref (resp->headers);
  g_free (resp);
}

size_t
on_body (char *ptr, size_t size, size_t nmemb, void *user_data)
{
  g_byte_array_append (user_data, (const guint8 *)ptr, (guint)(size * nmemb));
  return size * nmemb;
}

size_t
on_header (char *ptr, size_t size, size_t nmemb, void *user_data)
{
  Resp *resp = user_data;
  gsize len = size * nmemb;
  const char *colon;

  if (len > 12 && g_ascii_strncasecmp (ptr, "Retry-After:", 12) == 0)
    {
      g_free (resp->retry_after);
      resp->retry_after = g_strstrip (g_strndup (ptr + 12, len - 12));
    }
  colon = memchr (ptr, ':', len);
  if (colon != NULL)
    {
      if (resp->headers == NULL)
        resp->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_replace (resp->headers, g_ascii_strdown (ptr, colon - ptr),
                            g_strstrip (g_strndup (colon + 1, len - (gsize)(colon + 1 - ptr))));
    }
  return len;
}

Resp *
http (Relay *relay, const Device *d, const char *method, const char *path, const void *body,
      gsize len, const Opts *opts)
{
  static const Opts no_opts = { 0 };
  Resp *resp = g_new0 (Resp, 1);
  g_autofree char *url = NULL;
  struct curl_slist *headers = NULL;
  CURL *curl = curl_easy_init ();
  CURLcode rc;

  if (opts == NULL)
    opts = &no_opts;
  url = g_strconcat (opts->base ? opts->base : relay->base, path, NULL);
  resp->body = g_byte_array_new ();

  if (d != NULL && !opts->no_auth)
    {
      char nonce[SYNC_AUTH_NONCE_HEX_LEN + 1];
      gint64 now = g_get_real_time () / G_USEC_PER_SEC + opts->time_offset;
      g_autofree char *sig = NULL;
      g_autofree char *h = NULL;
      g_autoptr (GError) error = NULL;

      if (opts->nonce)
        g_strlcpy (nonce, opts->nonce, sizeof nonce);
      else
        sync_auth_new_nonce (nonce);
      g_assert_true (sync_auth_sign (d->auth_sk, method, opts->sign_path ? opts->sign_path : path,
                                     body, len, now, nonce, d->id, &sig, &error));
      g_assert_no_error (error);
      if (opts->bad_signature)
        {
          gsize n = 0;
          g_autofree guint8 *raw = g_base64_decode (sig, &n);

          raw[10] ^= 0x01;
          g_free (sig);
          sig = g_base64_encode (raw, n);
        }
      h = g_strdup_printf (SYNC_AUTH_HEADER_DEVICE ": %s", d->id);
      headers = curl_slist_append (headers, h);
      g_free (h);
      h = g_strdup_printf (SYNC_AUTH_HEADER_TIME ": %" G_GINT64_FORMAT, now);
      headers = curl_slist_append (headers, h);
      g_free (h);
      h = g_strdup_printf (SYNC_AUTH_HEADER_NONCE ": %s",
                           opts->send_nonce ? opts->send_nonce : nonce);
      headers = curl_slist_append (headers, h);
      g_free (h);
      h = g_strdup_printf (SYNC_AUTH_HEADER_SIGNATURE ": %s", sig);
      headers = curl_slist_append (headers, h);
    }
  if (opts->create_token)
    {
      g_autofree char *h = g_strdup_printf ("X-Supolka-Create-Token: %s", opts->create_token);

      headers = curl_slist_append (headers, h);
    }
  if (body != NULL || opts->content_type)
    {
      g_autofree char *h = g_strdup_printf (
          "Content-Type: %s", opts->content_type ? opts->content_type : "application/json");

      headers = curl_slist_append (headers, h);
    }

  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_NOPROXY, "*");
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, resp->body);
  curl_easy_setopt (curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (curl, CURLOPT_HEADERDATA, resp);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT_MS, opts->timeout_ms ? opts->timeout_ms : 30000L);
  if (opts->ca_file)
    curl_easy_setopt (curl, CURLOPT_CAINFO, opts->ca_file);
  if (body != NULL)
    {
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, body);
      curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
  rc = curl_easy_perform (curl);
  if (rc != CURLE_OK && !opts->may_fail)
    g_error ("%s %s: %s", method, path, curl_easy_strerror (rc));
  if (rc == CURLE_OK)
    curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &resp->status);
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);

  if (resp->body->len > 0)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();

      if (json_parser_load_from_data (parser, (const char *)resp->body->data,
                                      (gssize)resp->body->len, NULL))
        resp->json = json_parser_steal_root (parser);
    }
  return resp;
}

Resp *
http_json (Relay *relay, const Device *d, const char *method, const char *path, const char *json,
           const Opts *opts)
{
  return http (relay, d, method, path, json, json ? strlen (json) : 0, opts);
}

JsonObject *
resp_object (Resp *resp)
{
  g_assert_nonnull (resp->json);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (resp->json));
  return json_node_get_object (resp->json);
}

const char *
resp_error (Resp *resp)
{
  JsonObject *obj = resp_object (resp);

  g_assert_true (json_object_has_member (obj, "message"));
  return json_object_get_string_member (obj, "error");
}

gint64
resp_int (Resp *resp, const char *name)
{
  JsonObject *obj = resp_object (resp);

  g_assert_true (json_object_has_member (obj, name));
  return json_object_get_int_member (obj, name);
}

/* Asserts status and (when given) the error code. */
void
expect (Resp *resp, long status, const char *error_code)
{
  if (resp->status != status)
    g_error ("expected %ld, got %ld: %.*s", status, resp->status, (int)MIN (resp->body->len, 400),
             (const char *)resp->body->data);
  if (error_code != NULL)
    g_assert_cmpstr (resp_error (resp), ==, error_code);
}

char *
ws_path (const Workspace *ws, const char *suffix)
{
  return g_strdup_printf ("/v1/workspaces/%s%s", ws->id, suffix);
}

/* ---- Protocol steps ---------------------------------------------------------------- */

Resp *
create_workspace (Relay *relay, const Workspace *ws, const Device *admin, const char *token)
{
  g_autofree char *members = device_members (admin);
  g_autofree char *json
      = g_strdup_printf ("{%s,\"entry\":\"genesis entry of %s\"}", members, admin->id);
  g_autofree char *path = ws_path (ws, "");
  Opts opts = { .create_token = token };

  return http_json (relay, admin, "POST", path, json, &opts);
}

void
make_invite (Relay *relay, const Workspace *ws, const Device *admin, guint8 token[32], gint64 ttl)
{
  guint8 hash[SYNC_HASH_LEN];
  g_autofree char *hash_hex = NULL;
  g_autofree char *json = NULL;
  g_autofree char *path = ws_path (ws, "/invites");
  g_autoptr (Resp) resp = NULL;

  randombytes_buf (token, 32);
  sync_hash (token, 32, hash);
  hash_hex = sync_hex_encode (hash, sizeof hash);
  json = g_strdup_printf ("{\"token_hash\":\"%s\",\"expires\":%" G_GINT64_FORMAT "}", hash_hex,
                          g_get_real_time () / G_USEC_PER_SEC + ttl);
  resp = http_json (relay, admin, "POST", path, json, NULL);
  expect (resp, 201, NULL);
}

Resp *
join (Relay *relay, const Workspace *ws, const Device *d, const guint8 token[32])
{
  g_autofree char *members = device_members (d);
  g_autofree char *token_hex = sync_hex_encode (token, 32);
  g_autofree char *json = g_strdup_printf ("{\"token\":\"%s\",%s}", token_hex, members);
  g_autofree char *path = ws_path (ws, "/join");

  return http_json (relay, d, "POST", path, json, NULL);
}

gint64
log_head (Relay *relay, const Workspace *ws, const Device *d)
{
  g_autofree char *path = ws_path (ws, "/log?since=0");
  g_autoptr (Resp) resp = http (relay, d, "GET", path, NULL, 0, NULL);

  expect (resp, 200, NULL);
  return resp_int (resp, "head");
}

Resp *
post_log (Relay *relay, const Workspace *ws, const Device *signer, gint64 version,
          const char *action, const char *subject)
{
  g_autofree char *path = ws_path (ws, "/log");
  g_autofree char *subject_json = subject ? g_strdup_printf ("\"%s\"", subject) : g_strdup ("null");
  g_autofree char *json = g_strdup_printf ("{\"version\":%" G_GINT64_FORMAT
                                           ",\"entry\":\"signed %s entry %" G_GINT64_FORMAT
                                           "\",\"action\":\"%s\",\"subject\":%s}",
                                           version, action, version, action, subject_json);

  return http_json (relay, signer, "POST", path, json, NULL);
}

/* Invites, joins and approves @d: afterwards it is an active member. */
void
enrol (Relay *relay, const Workspace *ws, const Device *admin, const Device *d)
{
  guint8 token[32];
  g_autoptr (Resp) joined = NULL;
  g_autoptr (Resp) approved = NULL;

  make_invite (relay, ws, admin, token, 3600);
  joined = join (relay, ws, d, token);
  expect (joined, 202, NULL);
  approved = post_log (relay, ws, admin, log_head (relay, ws, admin) + 1, "add", d->id);
  expect (approved, 201, NULL);
}

void
setup_workspace (Relay *relay, Workspace *ws, Device **admin)
{
  g_autoptr (Resp) resp = NULL;

  *ws = workspace_new ();
  *admin = device_new ();
  resp = create_workspace (relay, ws, *admin, NULL);
  expect (resp, 201, NULL);
}

/* An envelope whose ciphertext is @plain under a fresh secretbox key. */
GBytes *
make_envelope (const Workspace *ws, const guint8 device_id[SYNC_ID_LEN], const Device *signer,
               guint64 seq, const guint8 *plain, gsize plain_len)
{
  SyncEnvelopeHeader header = { 0 };
  guint8 key[crypto_secretbox_KEYBYTES];
  g_autofree guint8 *ct = g_malloc (plain_len + crypto_secretbox_MACBYTES);
  g_autoptr (GError) error = NULL;
  GBytes *envelope;

  G_STATIC_ASSERT (crypto_secretbox_NONCEBYTES == SYNC_ENVELOPE_NONCE_LEN);
  memcpy (header.workspace, ws->raw_id, SYNC_ID_LEN);
  memcpy (header.device, device_id, SYNC_ID_LEN);
  header.epoch = 1;
  header.seq = seq;
  randombytes_buf (header.nonce, sizeof header.nonce);
  randombytes_buf (header.commitment, sizeof header.commitment);
  crypto_secretbox_keygen (key);
  crypto_secretbox_easy (ct, plain, plain_len, header.nonce, key);
  envelope = sync_envelope_build (&header, ct, plain_len + crypto_secretbox_MACBYTES,
                                  signer->sign_sk, &error);
  g_assert_no_error (error);
  return envelope;
}

GBytes *
random_envelope (const Workspace *ws, const Device *d, guint64 seq, gsize plain_len)
{
  g_autofree guint8 *plain = g_malloc (plain_len);

  randombytes_buf (plain, plain_len);
  return make_envelope (ws, d->raw_id, d, seq, plain, plain_len);
}

Resp *
post_envelope (Relay *relay, const Workspace *ws, const Device *d, GBytes *envelope)
{
  g_autofree char *path = ws_path (ws, "/batches");
  Opts opts = { .content_type = "application/octet-stream" };
  gsize len;
  const guint8 *data = g_bytes_get_data (envelope, &len);

  return http (relay, d, "POST", path, data, len, &opts);
}

Resp *
post_raw_batch (Relay *relay, const Workspace *ws, const Device *d, const guint8 *data, gsize len)
{
  g_autofree char *path = ws_path (ws, "/batches");
  Opts opts = { .content_type = "application/octet-stream" };

  return http (relay, d, "POST", path, data, len, &opts);
}

gint64
push (Relay *relay, const Workspace *ws, const Device *d, GBytes *envelope)
{
  g_autoptr (Resp) resp = post_envelope (relay, ws, d, envelope);

  expect (resp, 201, NULL);
  return resp_int (resp, "cursor");
}

/* Every batch of the workspace after @since, in pages of @limit; *pages counts them. */
GPtrArray *
pull_all (Relay *relay, const Workspace *ws, const Device *d, gint64 since, guint limit,
          guint *pages)
{
  GPtrArray *all = g_ptr_array_new_with_free_func (bytes_unref);
  gboolean more = TRUE;

  *pages = 0;
  while (more)
    {
      g_autofree char *path = NULL;
      g_autoptr (Resp) resp = NULL;
      JsonArray *batches;
      gsize page_bytes = 0;
      guint i;

      path = g_strdup_printf ("/v1/workspaces/%s/batches?since=%" G_GINT64_FORMAT "&limit=%u",
                              ws->id, since, limit);
      resp = http (relay, d, "GET", path, NULL, 0, NULL);
      expect (resp, 200, NULL);
      batches = json_object_get_array_member (resp_object (resp), "batches");
      more = json_object_get_boolean_member (resp_object (resp), "more");
      g_assert_cmpuint (json_array_get_length (batches), <=, limit);
      (*pages)++;
      for (i = 0; i < json_array_get_length (batches); i++)
        {
          JsonObject *b = json_array_get_object_element (batches, i);
          gint64 cursor = json_object_get_int_member (b, "cursor");
          gsize n = 0;
          guint8 *data = g_base64_decode (json_object_get_string_member (b, "data"), &n);
          SyncEnvelopeHeader header;
          g_autofree char *device_hex = NULL;

          g_assert_cmpint (cursor, >, since);
          since = cursor;
          g_assert_true (sync_envelope_parse_header (data, n, &header, NULL));
          device_hex = sync_hex_encode (header.device, SYNC_ID_LEN);
          g_assert_cmpstr (json_object_get_string_member (b, "device"), ==, device_hex);
          g_assert_cmpint (json_object_get_int_member (b, "seq"), ==, (gint64)header.seq);
          page_bytes += n;
          g_ptr_array_add (all, g_bytes_new_take (data, n));
        }
      /* A page holds at most ~4 MiB, unless one batch alone is bigger. */
      g_assert_true (page_bytes <= 4 * MIB || json_array_get_length (batches) == 1);
      g_assert_true (!more || json_array_get_length (batches) > 0);
    }
  return all;
}

const char *
resp_header (Resp *resp, const char *name)
{
  g_autofree char *key = g_ascii_strdown (name, -1);

  return resp->headers ? g_hash_table_lookup (resp->headers, key) : NULL;
}
