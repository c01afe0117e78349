/* libFuzzer: changes from a peer, applied to a real vault. Input lines are
 * tab-separated: record, kind, field, value ("\N" = NULL), hlc, device,
 * supersedes. The vault must refuse what is malformed and stay consistent.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include <glib/gstdio.h>

#include "sp-vault-private.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static SpVault *vault;

static void
change_free_cb (gpointer p)
{
  sp_change_free (p);
}

static void
open_vault (void)
{
  g_autofree char *dir = g_dir_make_tmp ("supolka-fuzz-XXXXXX", NULL);
  g_autofree char *vdir = g_build_filename (dir, "vault", NULL);
  g_autoptr (SpSecret) pass = sp_secret_new_from_data ("fuzz", 4);

  sp_core_init (NULL);
  vault = sp_vault_create (vdir, pass, SP_KDF_INTERACTIVE, NULL);
  g_assert (vault != NULL);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *)data, size);
  g_auto (GStrv) lines = g_strsplit (text, "\n", 64);
  g_autoptr (GPtrArray) changes = g_ptr_array_new_with_free_func (change_free_cb);
  g_autoptr (GError) error = NULL;

  if (vault == NULL)
    open_vault ();
  for (guint i = 0; lines[i]; i++)
    {
      g_auto (GStrv) f = g_strsplit (lines[i], "\t", 8);
      SpChange *c;

      if (g_strv_length (f) < 7)
        continue;
      c = g_new0 (SpChange, 1);
      c->record = g_strdup (f[0]);
      c->kind = g_strdup (f[1]);
      c->field = g_strdup (f[2]);
      c->value = g_str_equal (f[3], "\\N") ? NULL : g_strdup (f[3]);
      c->hlc = g_ascii_strtoull (f[4], NULL, 10);
      c->device = g_strdup (f[5]);
      c->supersedes = g_strdup (f[6]);
      c->tx = 1;
      g_ptr_array_add (changes, c);
    }
  if (!sp_vault_apply_changes (vault, changes, &error))
    g_assert (error != NULL);
  return 0;
}
