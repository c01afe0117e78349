/* Private to the sync client: signed HTTP requests to the relay.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "supolka-sync.h"

#define SYNC_HTTP_MAX_RESPONSE (24 * 1024 * 1024)

typedef struct _SyncHttp SyncHttp;

/* @base is the relay URL, as sync_relay_url_check allows; a plain http .onion
 * relay only with a proxy in @opts (sync_proxy_url_check). */
SyncHttp *sync_http_new (const char *base, const SyncOptions *opts, GError **error);
void sync_http_free (SyncHttp *http);
/* sync_relay_url_check and sync_proxy_url_check, and a plain http .onion relay
 * only through a proxy (sync-rules.c). */
gboolean sync_relay_reach_check (const char *url, const char *proxy, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyncHttp, sync_http_free)

/* The identity requests are signed with: device id (hex) and auth secret key
 * (64 bytes, borrowed: must outlive the SyncHttp). */
void sync_http_set_identity (SyncHttp *http, const char *device, SpSecret *auth_sk);

/* One request with retries and exponential backoff on network errors, 429 and
 * 5xx. *status gets the HTTP status; *body the answer (bounded). FALSE only when
 * no answer came (SYNC_ERROR_NETWORK). */
gboolean sync_http_request (SyncHttp *http, const char *method, const char *path, const void *body,
                            gsize body_len, const char *content_type, long *status, GBytes **answer,
                            GError **error);

/* The same, with a JSON body and a JSON object answer. A 2xx answer that is not
 * a JSON object is SYNC_ERROR_MALFORMED; a non-2xx answer is SYNC_ERROR_REFUSED
 * with the relay's error code in the message, unless it is in @accept (a
 * 0-terminated list of statuses the caller handles). */
JsonObject *sync_http_json (SyncHttp *http, const char *method, const char *path,
                            const char *json_body, const long *accept, long *status,
                            GError **error);

/* Parses a relay answer: a JSON object of at most @max bytes. */
JsonObject *sync_parse_json_object (const guint8 *data, gsize len, gsize max, GError **error);
/* The relay's error code in a JSON error answer, or NULL. */
const char *sync_json_error_code (JsonObject *obj);
