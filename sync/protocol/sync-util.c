/* Error domain, hex, base64, hashing and the frames' shared prefix. SPDX-License-Identifier: GPL-3.0-or-later */
#include <sodium.h>
#include <string.h>

#include "sync-frame.h"
#include "sync-protocol.h"

G_DEFINE_QUARK (sync - protocol - error - quark, sync_protocol_error)

gboolean
sync_protocol_init (GError **error)
{
  if (sodium_init () < 0)
    {
      g_set_error (error, SYNC_PROTOCOL_ERROR, SYNC_PROTOCOL_ERROR_FAILED,
                   "The cryptography library could not be initialised");
      return FALSE;
    }
  return TRUE;
}

static gboolean
is_lower_hex_char (char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

gboolean
sync_is_lower_hex (const char *s, gsize hex_len)
{
  gsize i;

  if (s == NULL)
    return FALSE;
  for (i = 0; i < hex_len; i++)
    if (!is_lower_hex_char (s[i])) /* also stops at the NUL of a short string */
      return FALSE;
  return s[hex_len] == '\0';
}

gboolean
sync_id_is_valid (const char *s)
{
  return sync_is_lower_hex (s, SYNC_ID_HEX_LEN);
}

static guint8
hex_value (char c)
{
  return (guint8)(c <= '9' ? c - '0' : c - 'a' + 10);
}

gboolean
sync_hex_decode (const char *hex, guint8 *out, gsize len, GError **error)
{
  gsize i;

  g_return_val_if_fail (out != NULL || len == 0, FALSE);

  if (!sync_is_lower_hex (hex, 2 * len))
    {
      g_set_error (error, SYNC_PROTOCOL_ERROR, SYNC_PROTOCOL_ERROR_MALFORMED,
                   "Expected %" G_GSIZE_FORMAT " lowercase hex characters", 2 * len);
      return FALSE;
    }
  for (i = 0; i < len; i++)
    out[i] = (guint8)(hex_value (hex[2 * i]) << 4 | hex_value (hex[2 * i + 1]));
  return TRUE;
}

char *
sync_hex_encode (const guint8 *data, gsize len)
{
  static const char digits[] = "0123456789abcdef";
  char *hex = g_malloc (2 * len + 1);
  gsize i;

  for (i = 0; i < len; i++)
    {
      hex[2 * i] = digits[data[i] >> 4];
      hex[2 * i + 1] = digits[data[i] & 0x0f];
    }
  hex[2 * len] = '\0';
  return hex;
}

static gboolean
is_base64_char (char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+'
         || c == '/';
}

gboolean
sync_base64_decode_exact (const char *b64, guint8 *out, gsize len, GError **error)
{
  gsize expected = 4 * ((len + 2) / 3);
  gsize padding = (3 - len % 3) % 3;
  gsize actual;
  gsize i;
  gsize decoded_len = 0;
  g_autofree guint8 *decoded = NULL;
  g_autofree char *again = NULL;

  g_return_val_if_fail (out != NULL || len == 0, FALSE);

  /* Bounds first: g_base64_decode is only ever handed text of the one length
   * that can decode to @len bytes. */
  actual = b64 ? strnlen (b64, expected + 1) : 0;
  if (b64 == NULL || actual != expected)
    goto malformed;
  for (i = 0; i < expected - padding; i++)
    if (!is_base64_char (b64[i]))
      goto malformed;
  for (; i < expected; i++)
    if (b64[i] != '=')
      goto malformed;
  if (expected == 0)
    return TRUE;

  decoded = g_base64_decode (b64, &decoded_len);
  if (decoded == NULL || decoded_len != len)
    goto malformed;
  /* Canonical form only: no set bits hiding in the last character. */
  again = g_base64_encode (decoded, decoded_len);
  if (strcmp (again, b64) != 0)
    {
      sodium_memzero (decoded, decoded_len);
      goto malformed;
    }
  memcpy (out, decoded, len);
  sodium_memzero (decoded, decoded_len);
  return TRUE;

malformed:
  g_set_error (error, SYNC_PROTOCOL_ERROR, SYNC_PROTOCOL_ERROR_MALFORMED,
               "Expected canonical base64 of %" G_GSIZE_FORMAT " bytes", len);
  return FALSE;
}

void
sync_hash (const guint8 *data, gsize len, guint8 out[SYNC_HASH_LEN])
{
  crypto_generichash (out, SYNC_HASH_LEN, data, len, NULL, 0);
}

guint64
sync_frame_read_le (const guint8 *p, guint n)
{
  guint64 v = 0;

  for (guint i = n; i-- > 0;)
    v = (v << 8) | p[i];
  return v;
}

void
sync_frame_write_le (guint8 *p, guint64 v, guint n)
{
  for (guint i = 0; i < n; i++)
    p[i] = (guint8)(v >> (8 * i));
}

const char *
sync_frame_prefix_problem (const guint8 *data, const char *magic, guint8 version)
{
  if (memcmp (data, magic, 4) != 0)
    return "wrong magic";
  if (data[4] != version)
    return "unknown version";
  if (data[5] != 0 || data[6] != 0 || data[7] != 0)
    return "reserved bytes are not zero";
  return NULL;
}

void
sync_frame_write_prefix (guint8 *data, const char *magic, guint8 version)
{
  memcpy (data, magic, 4);
  data[4] = version;
  memset (data + 5, 0, 3);
}
