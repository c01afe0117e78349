/* Secrets in sodium_malloc memory. SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <unistd.h>

#include "sp-vault-private.h"

#define SP_SECRET_LINE_MAX 1024

struct _SpSecret
{
  gsize len;
  guint8 *data; /* sodium_malloc: guard pages, mlock, wiped on free */
};

SpSecret *
sp_secret_new (gsize len)
{
  SpSecret *secret;

  /* Idempotent; guards against use before sp_core_init(). */
  if (sodium_init () < 0)
    g_error ("libsodium failed to initialise");
  secret = g_new0 (SpSecret, 1);
  secret->len = len;
  secret->data = sodium_malloc (len + 1);
  if (secret->data == NULL)
    g_error ("sodium_malloc failed: out of memory");
  sodium_memzero (secret->data, len + 1);
  return secret;
}

SpSecret *
sp_secret_new_from_data (const void *data, gsize len)
{
  SpSecret *secret = sp_secret_new (len);

  if (len)
    memcpy (secret->data, data, len);
  return secret;
}

guint8 *
sp_secret_data (SpSecret *secret)
{
  g_return_val_if_fail (secret != NULL, NULL);
  return secret->data;
}

gsize
sp_secret_len (const SpSecret *secret)
{
  g_return_val_if_fail (secret != NULL, 0);
  return secret->len;
}

void
sp_secret_free (SpSecret *secret)
{
  if (secret == NULL)
    return;
  sodium_free (secret->data); /* zeroes before unmapping */
  g_free (secret);
}

SpSecret *
sp_secret_read_line_fd (int fd, GError **error)
{
  g_autoptr (SpSecret) buf = sp_secret_new (SP_SECRET_LINE_MAX + 1);
  gsize n = 0;

  for (;;)
    {
      char c;
      ssize_t r = read (fd, &c, 1);

      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int saved = errno;
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO,
                       _ ("Could not read the passphrase: %s"), g_strerror (saved));
          return NULL;
        }
      if (r == 0 || c == '\n')
        {
          if (r == 0 && n == 0)
            {
              g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                           _ ("No passphrase was given"));
              return NULL;
            }
          break;
        }
      if (n >= SP_SECRET_LINE_MAX)
        {
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                       _ ("The passphrase is longer than %d bytes"), SP_SECRET_LINE_MAX);
          return NULL;
        }
      buf->data[n++] = (guint8)c;
    }
  if (n > 0 && buf->data[n - 1] == '\r')
    n--;
  return sp_secret_new_from_data (buf->data, n);
}
