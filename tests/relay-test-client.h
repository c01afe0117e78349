/* SPDX-License-Identifier: GPL-3.0-or-later */
/* relay-test-client.h — the relay's end-to-end tests (test-relay.c,
 * test-relay-snapshot.c, the benchmarks) as a client of the real relay that
 * relay-test-util.h starts: devices, workspaces, requests over libcurl signed
 * with sync_auth_sign(), envelopes. Every helper asserts on failure. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "relay-test-util.h"
#include "sync-protocol.h"

G_BEGIN_DECLS

typedef struct
{
  char id[SYNC_ID_HEX_LEN + 1];
  guint8 raw_id[SYNC_ID_LEN];
  guint8 auth_pk[32], auth_sk[64];
  guint8 sign_pk[32], sign_sk[64];
  guint8 box_pk[32], box_sk[32];
} Device;

typedef struct
{
  char id[SYNC_ID_HEX_LEN + 1];
  guint8 raw_id[SYNC_ID_LEN];
} Workspace;

typedef struct
{
  gint64 time_offset;       /* seconds added to the real clock */
  const char *nonce;        /* a fixed nonce instead of a fresh one */
  const char *send_nonce;   /* sign with a fresh nonce, send this X-Supolka-Nonce */
  gboolean bad_signature;   /* flip one bit of the signature */
  gboolean no_auth;         /* send no X-Supolka-* header */
  const char *sign_path;    /* sign this path instead of the one sent */
  const char *create_token; /* X-Supolka-Create-Token */
  const char *content_type;
  const char *base; /* another base URL (TLS) */
  const char *ca_file;
  gboolean may_fail; /* a transport error is an answer too (status 0) */
  long timeout_ms;   /* the whole request; 0: 30 s */
} Opts;

typedef struct
{
  long status;
  GByteArray *body;
  JsonNode *json;
  char *retry_after;
  GHashTable *headers; /* lowercased name → last value */
} Resp;

void random_id (guint8 raw[SYNC_ID_LEN], char hex[SYNC_ID_HEX_LEN + 1]);
Device *device_new (void);
void device_free (Device *d);
Workspace workspace_new (void);
char *device_members (const Device *d);
void bytes_unref (gpointer bytes);
void resp_free (Resp *resp);
size_t on_body (char *ptr, size_t size, size_t nmemb, void *user_data);
size_t on_header (char *ptr, size_t size, size_t nmemb, void *user_data);
Resp *http (Relay *relay, const Device *d, const char *method, const char *path, const void *body,
            gsize len, const Opts *opts);
Resp *http_json (Relay *relay, const Device *d, const char *method, const char *path,
                 const char *json, const Opts *opts);
JsonObject *resp_object (Resp *resp);
const char *resp_error (Resp *resp);
gint64 resp_int (Resp *resp, const char *name);
void expect (Resp *resp, long status, const char *error_code);
char *ws_path (const Workspace *ws, const char *suffix);
Resp *create_workspace (Relay *relay, const Workspace *ws, const Device *admin, const char *token);
void make_invite (Relay *relay, const Workspace *ws, const Device *admin, guint8 token[32],
                  gint64 ttl);
Resp *join (Relay *relay, const Workspace *ws, const Device *d, const guint8 token[32]);
gint64 log_head (Relay *relay, const Workspace *ws, const Device *d);
Resp *post_log (Relay *relay, const Workspace *ws, const Device *signer, gint64 version,
                const char *action, const char *subject);
void enrol (Relay *relay, const Workspace *ws, const Device *admin, const Device *d);
void setup_workspace (Relay *relay, Workspace *ws, Device **admin);
GBytes *make_envelope (const Workspace *ws, const guint8 device_id[SYNC_ID_LEN],
                       const Device *signer, guint64 seq, const guint8 *plain, gsize plain_len);
GBytes *random_envelope (const Workspace *ws, const Device *d, guint64 seq, gsize plain_len);
Resp *post_envelope (Relay *relay, const Workspace *ws, const Device *d, GBytes *envelope);
Resp *post_raw_batch (Relay *relay, const Workspace *ws, const Device *d, const guint8 *data,
                      gsize len);
gint64 push (Relay *relay, const Workspace *ws, const Device *d, GBytes *envelope);
GPtrArray *pull_all (Relay *relay, const Workspace *ws, const Device *d, gint64 since, guint limit,
                     guint *pages);
/* The answer's header @name (any case), or NULL. */
const char *resp_header (Resp *resp, const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Device, device_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Resp, resp_free)

G_END_DECLS
