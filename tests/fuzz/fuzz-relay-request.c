/* libFuzzer: every relay parser that takes network input, without a server.
 * The first byte picks the parser, the rest is its input:
 *
 *   0  the four X-Supolka-* header values (split at '\n'), then verifying a
 *      request under a fixed key (sync_auth_parse_headers, sync_auth_verify)
 *   1  method, path with query, time, nonce, device and body (split at '\n')
 *      for the canonical string (sync_auth_canonical)
 *   2  a batch envelope's outer header (sync_envelope_parse_header)
 *   3…7  a JSON body of create, invite, join, log, prune (relay_parse_body)
 *   8  a query argument's value (relay_parse_query_int)
 *
 * Besides "no crash, no leak, no UB", each checks what a success promises.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include <sodium.h>
#include <string.h>

#include "relay-private.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* Up to @n NUL-terminated parts of @data split at '\n' (the last takes the rest);
 * missing parts are NULL. */
static char **
split (const guint8 *data, size_t size, guint n)
{
  g_autofree char *text = g_strndup ((const char *)data, size); /* stops at a NUL */
  char **parts = g_new0 (char *, n + 1);
  char **split_parts = g_strsplit (text, "\n", (gint)n);
  guint i;

  for (i = 0; i < n && split_parts[i] != NULL; i++)
    parts[i] = g_strdup (split_parts[i]);
  g_strfreev (split_parts);
  return parts;
}

static void
fuzz_auth_headers (const guint8 *data, size_t size)
{
  static guint8 pk[SYNC_AUTH_PUBLIC_KEY_LEN];
  g_auto (GStrv) parts = split (data, size, 6);
  g_autoptr (GError) error = NULL;
  SyncAuthHeaders headers;
  gboolean ok;

  ok = sync_auth_parse_headers (parts[0], parts[1], parts[2], parts[3], &headers, &error);
  g_assert ((error == NULL) == ok);
  if (ok)
    {
      g_autofree char *time_text = g_strdup_printf ("%" G_GINT64_FORMAT, headers.time);

      /* Strict parsing: the parsed values print back to exactly the headers. */
      g_assert (sync_id_is_valid (headers.device));
      g_assert (strcmp (headers.device, parts[0]) == 0);
      g_assert (strcmp (time_text, parts[1]) == 0);
      g_assert (strcmp (headers.nonce, parts[2]) == 0);
    }
  g_clear_error (&error);
  /* A fixed all-zero key: nothing verifies, everything must fail cleanly. */
  ok = sync_auth_verify (pk, parts[4] ? parts[4] : "GET", parts[5] ? parts[5] : "/", data, size,
                         parts[1], parts[2], parts[0], parts[3], &error);
  g_assert (!ok && error != NULL);
}

static void
fuzz_canonical (const guint8 *data, size_t size)
{
  g_auto (GStrv) parts = split (data, size, 6);
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;
  const char *body = parts[5] ? parts[5] : "";
  gint64 time = 0;
  guint lines = 0;
  gsize i;

  if (parts[2] != NULL)
    time = g_ascii_strtoll (parts[2], NULL, 10);
  canonical = sync_auth_canonical (parts[0], parts[1], (const guint8 *)body, strlen (body), time,
                                   parts[3], parts[4], &error);
  g_assert ((canonical == NULL) == (error != NULL));
  if (canonical == NULL)
    return;
  /* Seven lines exactly: no part can smuggle a line break into what is signed. */
  for (i = 0; canonical[i]; i++)
    lines += canonical[i] == '\n';
  g_assert (lines == 7);
  g_assert (g_str_has_prefix (canonical, "SUPOLKA-AUTH-1\n"));
}

static void
fuzz_envelope (const guint8 *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  SyncEnvelopeHeader header;
  gboolean ok = sync_envelope_parse_header (data, size, &header, &error);

  g_assert ((error == NULL) == ok);
  if (ok)
    {
      g_assert (size == SYNC_ENVELOPE_OVERHEAD + (gsize)header.ct_len);
      g_assert (header.ct_len <= SYNC_ENVELOPE_MAX_CT);
      g_assert (header.seq >= 1);
      g_assert (header.version == SYNC_ENVELOPE_VERSION);
    }
}

static void
fuzz_body (RelayBodyKind kind, const guint8 *data, size_t size)
{
  RelayReply reply = { 0 };
  RelayBody body;
  gboolean ok;

  ok = relay_parse_body (kind, data, size, &body, &reply);
  if (!ok)
    {
      g_assert (reply.status == 400 && reply.body != NULL);
      g_assert (body.root == NULL);
      g_free (reply.body);
      return;
    }
  g_assert (reply.body == NULL);
  g_assert (body.root != NULL);
  switch (kind)
    {
      case RELAY_BODY_CREATE:
      case RELAY_BODY_JOIN:
        g_assert (sync_id_is_valid (body.device.id));
        if (kind == RELAY_BODY_CREATE)
          g_assert (body.entry != NULL && body.entry[0] != '\0'
                    && strlen (body.entry) <= RELAY_MAX_ENTRY);
        break;
      case RELAY_BODY_LOG:
        g_assert (body.entry != NULL && body.entry[0] != '\0'
                  && strlen (body.entry) <= RELAY_MAX_ENTRY);
        g_assert (body.subject == NULL || sync_id_is_valid (body.subject));
        g_assert (body.subject != NULL
                  || (body.action != RELAY_LOG_ADD && body.action != RELAY_LOG_REMOVE));
        break;
      case RELAY_BODY_PRUNE:
        g_assert (body.cursor >= 0);
        break;
      case RELAY_BODY_INVITE:
      default:
        break;
    }
  relay_body_clear (&body);
}

static void
fuzz_query (const guint8 *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *)data, size);
  gint64 max = size > 0 && data[0] & 1 ? 500 : G_MAXINT64;
  gint64 value = -1;

  if (relay_parse_query_int (text, max, &value))
    {
      g_assert (value >= 0 && value <= max);
      g_assert (text[0] >= '0' && text[0] <= '9');
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static gboolean initialised;

  if (!initialised)
    {
      g_assert (sync_protocol_init (NULL));
      initialised = TRUE;
    }
  if (size == 0)
    return 0;
  switch (data[0] % 9)
    {
      case 0:
        fuzz_auth_headers (data + 1, size - 1);
        break;
      case 1:
        fuzz_canonical (data + 1, size - 1);
        break;
      case 2:
        fuzz_envelope (data + 1, size - 1);
        break;
      case 3:
      case 4:
      case 5:
      case 6:
      case 7:
        fuzz_body ((RelayBodyKind)(data[0] % 9 - 3), data + 1, size - 1);
        break;
      default:
        fuzz_query (data + 1, size - 1);
        break;
    }
  return 0;
}
