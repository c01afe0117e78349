/* Shared helpers for the core tests. SPDX-License-Identifier: GPL-3.0-or-later */
#define _GNU_SOURCE
#include <string.h>
#include <glib/gstdio.h>
#include <stdarg.h>

#include "test-util.h"

char *
sp_test_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("supolka-test-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

void
sp_test_rmtree (const char *dir)
{
  g_autoptr (GDir) d = NULL;
  const char *name;

  if (dir == NULL)
    return;
  d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    {
      g_unlink (dir);
      return;
    }
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        sp_test_rmtree (path);
      else
        g_unlink (path);
    }
  g_rmdir (dir);
}

SpSecret *
sp_test_passphrase (const char *text)
{
  return sp_secret_new_from_data (text, strlen (text));
}

SpVault *
sp_test_vault_new (char **dir_out)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = sp_test_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "vault", NULL);
  g_autoptr (SpSecret) pass = sp_test_passphrase ("correct horse");
  SpVault *vault;

  g_assert_true (sp_core_init (NULL));
  vault = sp_vault_create (dir, pass, SP_KDF_INTERACTIVE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (vault);
  if (dir_out)
    *dir_out = g_steal_pointer (&dir);
  return vault;
}

GBytes *
sp_test_read_file (const char *path)
{
  char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return NULL;
  return g_bytes_new_take (data, len);
}

gboolean
sp_test_tree_contains (const char *dir, const char *needle, gsize needle_len)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return FALSE;
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr (GBytes) bytes = NULL;
      gsize len;
      const char *data;

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (sp_test_tree_contains (path, needle, needle_len))
            return TRUE;
          continue;
        }
      bytes = sp_test_read_file (path);
      if (bytes == NULL)
        continue;
      data = g_bytes_get_data (bytes, &len);
      if (len >= needle_len && memmem (data, len, needle, needle_len) != NULL)
        return TRUE;
    }
  return FALSE;
}

char *
sp_test_insert (SpVault *vault, const char *kind, ...)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (SpFieldValue));
  va_list ap;
  const char *field;
  char *id;

  va_start (ap, kind);
  while ((field = va_arg (ap, const char *)))
    {
      SpFieldValue fv = { field, va_arg (ap, const char *) };
      g_array_append_val (values, fv);
    }
  va_end (ap);
  id = sp_vault_insert (vault, kind, (SpFieldValue *)values->data, values->len, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id);
  return id;
}
