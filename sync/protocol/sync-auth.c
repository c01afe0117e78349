/* Request authentication: the canonical string, signing and verifying.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include <sodium.h>
#include <string.h>

#include "sync-protocol.h"

#define AUTH_PREFIX "SUPOLKA-AUTH-1\n"
#define METHOD_MAX 16
/* Times are unix seconds; anything at or above 2^62 is nonsense and would only
 * invite overflow in the caller's window arithmetic. */
#define TIME_MAX (G_GINT64_CONSTANT (1) << 62)

static gboolean
malformed (GError **error, const char *what)
{
  g_set_error (error, SYNC_PROTOCOL_ERROR, SYNC_PROTOCOL_ERROR_MALFORMED,
               "Malformed authentication: %s", what);
  return FALSE;
}

static gboolean
method_is_valid (const char *method)
{
  gsize i;

  if (method == NULL || method[0] == '\0')
    return FALSE;
  for (i = 0; method[i]; i++)
    if (i >= METHOD_MAX || method[i] < 'A' || method[i] > 'Z')
      return FALSE;
  return TRUE;
}

static gboolean
path_is_valid (const char *path)
{
  gsize i;

  if (path == NULL || path[0] != '/')
    return FALSE;
  for (i = 0; path[i]; i++)
    if (i >= SYNC_AUTH_MAX_PATH || path[i] <= ' ' || path[i] > '~')
      return FALSE;
  return TRUE;
}

/* Strict decimal: digits only, no sign, no leading zero (except "0"), < 2^62.
 * So formatting the parsed value gives back exactly the header's text. */
static gboolean
parse_time (const char *s, gint64 *out)
{
  gint64 value = 0;
  gsize i;

  if (s == NULL || s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
    return FALSE;
  for (i = 0; s[i]; i++)
    {
      if (i >= 19 || s[i] < '0' || s[i] > '9')
        return FALSE;
      /* Checked before it can overflow (19 digits can exceed G_MAXINT64). */
      if (value > (TIME_MAX - 1 - (s[i] - '0')) / 10)
        return FALSE;
      value = value * 10 + (s[i] - '0');
    }
  *out = value;
  return TRUE;
}

gboolean
sync_auth_parse_headers (const char *device, const char *time, const char *nonce,
                         const char *sig_b64, SyncAuthHeaders *out, GError **error)
{
  g_return_val_if_fail (out != NULL, FALSE);

  memset (out, 0, sizeof *out);
  if (!sync_id_is_valid (device))
    return malformed (error, SYNC_AUTH_HEADER_DEVICE " must be 32 lowercase hex characters");
  if (!parse_time (time, &out->time))
    return malformed (error, SYNC_AUTH_HEADER_TIME " must be unix seconds in decimal");
  if (!sync_is_lower_hex (nonce, SYNC_AUTH_NONCE_HEX_LEN))
    return malformed (error, SYNC_AUTH_HEADER_NONCE " must be 32 lowercase hex characters");
  if (!sync_base64_decode_exact (sig_b64, out->signature, sizeof out->signature, NULL))
    return malformed (error, SYNC_AUTH_HEADER_SIGNATURE " must be base64 of 64 bytes");
  memcpy (out->device, device, SYNC_ID_HEX_LEN + 1);
  memcpy (out->nonce, nonce, SYNC_AUTH_NONCE_HEX_LEN + 1);
  return TRUE;
}

char *
sync_auth_canonical (const char *method, const char *path_with_query, const guint8 *body,
                     gsize body_len, gint64 time, const char *nonce, const char *device,
                     GError **error)
{
  guint8 body_hash[SYNC_HASH_LEN];
  const char *problem = NULL;
  g_autofree char *body_hex = NULL;

  g_return_val_if_fail (body != NULL || body_len == 0, NULL);

  if (!method_is_valid (method))
    problem = "the method must be 1 to 16 uppercase letters";
  else if (!path_is_valid (path_with_query))
    problem = "the path must be printable ASCII starting with '/', at most 2 KiB";
  else if (time < 0 || time >= TIME_MAX)
    problem = "the time is out of range";
  else if (!sync_is_lower_hex (nonce, SYNC_AUTH_NONCE_HEX_LEN))
    problem = "the nonce must be 32 lowercase hex characters";
  else if (!sync_id_is_valid (device))
    problem = "the device id must be 32 lowercase hex characters";
  if (problem != NULL)
    {
      malformed (error, problem);
      return NULL;
    }

  sync_hash (body_len ? body : (const guint8 *)"", body_len, body_hash);
  body_hex = sync_hex_encode (body_hash, sizeof body_hash);
  return g_strdup_printf (AUTH_PREFIX "%s\n%s\n%s\n%" G_GINT64_FORMAT "\n%s\n%s\n", method,
                          path_with_query, body_hex, time, nonce, device);
}

void
sync_auth_new_nonce (char nonce[SYNC_AUTH_NONCE_HEX_LEN + 1])
{
  guint8 raw[SYNC_AUTH_NONCE_LEN];
  g_autofree char *hex = NULL;

  randombytes_buf (raw, sizeof raw);
  hex = sync_hex_encode (raw, sizeof raw);
  memcpy (nonce, hex, SYNC_AUTH_NONCE_HEX_LEN + 1);
}

gboolean
sync_auth_sign (const guint8 sk[SYNC_AUTH_SECRET_KEY_LEN], const char *method,
                const char *path_with_query, const guint8 *body, gsize body_len, gint64 time,
                const char *nonce, const char *device, char **sig_b64, GError **error)
{
  guint8 sig[SYNC_AUTH_SIGNATURE_LEN];
  g_autofree char *canonical = NULL;

  g_return_val_if_fail (sk != NULL, FALSE);
  g_return_val_if_fail (sig_b64 != NULL, FALSE);

  canonical
      = sync_auth_canonical (method, path_with_query, body, body_len, time, nonce, device, error);
  if (canonical == NULL)
    return FALSE;
  crypto_sign_detached (sig, NULL, (const guint8 *)canonical, strlen (canonical), sk);
  *sig_b64 = g_base64_encode (sig, sizeof sig);
  return TRUE;
}

gboolean
sync_auth_verify (const guint8 pk[SYNC_AUTH_PUBLIC_KEY_LEN], const char *method,
                  const char *path_with_query, const guint8 *body, gsize body_len, const char *time,
                  const char *nonce, const char *device, const char *sig_b64, GError **error)
{
  SyncAuthHeaders headers;
  g_autofree char *canonical = NULL;

  g_return_val_if_fail (pk != NULL, FALSE);

  if (!sync_auth_parse_headers (device, time, nonce, sig_b64, &headers, error))
    return FALSE;
  canonical = sync_auth_canonical (method, path_with_query, body, body_len, headers.time,
                                   headers.nonce, headers.device, error);
  if (canonical == NULL)
    return FALSE;
  if (crypto_sign_verify_detached (headers.signature, (const guint8 *)canonical, strlen (canonical),
                                   pk)
      != 0)
    {
      g_set_error (error, SYNC_PROTOCOL_ERROR, SYNC_PROTOCOL_ERROR_SIGNATURE,
                   "The request signature does not verify");
      return FALSE;
    }
  return TRUE;
}
