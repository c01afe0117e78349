/* libFuzzer: invite codes ("supolka1:" + base64url JSON), which a user pastes
 * from a message or a QR code and which may come from anyone; and travel
 * return codes (12 words), which a user types.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include "supolka-sync.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree char *code = NULL;
  g_autofree char *relay = NULL;
  g_autoptr (GError) error = NULL;
  guint8 workspace[16], token[32], admin_pk[32];
  gboolean ok;

  /* The parser takes a C string: the fuzzer's bytes up to the first NUL. */
  code = g_strndup ((const char *)data, size);
  ok = sync_invite_parse (code, &relay, workspace, token, admin_pk, &error);
  g_assert (ok == (error == NULL));
  g_assert (ok == (relay != NULL));
  if (ok)
    g_assert (strlen (relay) > 0);
  {
    g_autoptr (GError) terror = NULL;
    guint8 t[16];

    ok = sync_travel_code_parse (code, t, &terror);
    g_assert (ok == (terror == NULL));
    if (ok)
      {
        /* A code that parses is the one its bytes format to. */
        g_autofree char *again = sync_travel_code_format (t);
        guint8 back[16];
        g_assert (sync_travel_code_parse (again, back, NULL) && memcmp (t, back, 16) == 0);
      }
  }
  return 0;
}
