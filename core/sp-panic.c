/* Panic wipe and the duress passphrase (docs/SECURITY.md).
 *
 * Panic is cryptographic erasure: the database is useless without the master
 * key, and the master key exists on disk only sealed in vault.key. So the key
 * file goes first — overwritten in place with random bytes, flushed, unlinked,
 * the folder flushed — and only then the database and its WAL.
 *
 * The duress passphrase opens slot 1 of vault.key, which seals a random decoy
 * key. Unlocking with it wipes the real vault as panic does, creates an empty
 * database under the decoy key and rewrites vault.key so that the duress
 * passphrase is the vault's only passphrase (sp-keyfile.c reuses the key
 * already derived for slot 1: no extra KDF run).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp-vault-private.h"

/* Everything a vault folder of ours may hold. Key files first. */
static const char *const key_files[] = { "vault.key", "vault.key.new" };
static const char *const db_files[]
    = { "vault.db", "vault.db-wal", "vault.db-shm", "vault.db-journal" };

/* Bigger than any key file: a file this big is not ours to overwrite. */
#define MAX_OVERWRITE (1024 * 1024)

static void
set_errno_error (GError **error, const char *path, int err)
{
  if (error && *error == NULL)
    g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO, _ ("Could not destroy %s: %s"), path,
                 g_strerror (err));
}

/* Overwrites a regular file in place with random bytes and flushes it. The
 * same blocks are rewritten on ext4 and most file systems without copy on
 * write; flash translation layers may still keep old blocks (SECURITY.md). */
static gboolean
overwrite_in_place (const char *path, gboolean *found, GError **error)
{
  struct stat st;
  guint8 buf[4096];
  off_t done = 0;
  int fd = open (path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      if (errno == ELOOP) /* a symbolic link: removed below, never followed */
        {
          *found = TRUE;
          return TRUE;
        }
      set_errno_error (error, path, errno);
      return FALSE;
    }
  *found = TRUE;
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      return TRUE;
    }
  while (done < st.st_size && done < MAX_OVERWRITE)
    {
      gsize n = (gsize)MIN ((off_t)sizeof buf, st.st_size - done);
      ssize_t w;

      randombytes_buf (buf, n);
      w = pwrite (fd, buf, n, done);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        {
          set_errno_error (error, path, errno);
          close (fd);
          return FALSE;
        }
      done += w;
    }
  if (fsync (fd) != 0)
    {
      set_errno_error (error, path, errno);
      close (fd);
      return FALSE;
    }
  close (fd);
  return TRUE;
}

static void
sync_dir (const char *dir)
{
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (dfd >= 0)
    {
      fsync (dfd);
      close (dfd);
    }
}

static gboolean
remove_file (const char *path, gboolean *found, GError **error)
{
  if (unlink (path) == 0)
    {
      *found = TRUE;
      return TRUE;
    }
  if (errno == ENOENT)
    return TRUE;
  set_errno_error (error, path, errno);
  return FALSE;
}

gboolean
sp_vault_wipe_files (const char *dir, gboolean remove_dir, gboolean *found_any, GError **error)
{
  gboolean found = FALSE, ok = TRUE;

  /* Keep going after a failure: destroy as much as can be destroyed, then
   * report the first problem. */
  for (gsize i = 0; i < G_N_ELEMENTS (key_files); i++)
    {
      g_autofree char *path = g_build_filename (dir, key_files[i], NULL);
      ok &= overwrite_in_place (path, &found, error);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (key_files); i++)
    {
      g_autofree char *path = g_build_filename (dir, key_files[i], NULL);
      ok &= remove_file (path, &found, error);
    }
  sync_dir (dir); /* from here on the master key is gone */
  for (gsize i = 0; i < G_N_ELEMENTS (db_files); i++)
    {
      g_autofree char *path = g_build_filename (dir, db_files[i], NULL);
      ok &= remove_file (path, &found, error);
    }
  sync_dir (dir);
  if (remove_dir && found)
    g_rmdir (dir); /* only when empty: other files in it are not ours */
  if (found_any)
    *found_any = found;
  return ok;
}

gboolean
sp_vault_panic (const char *dir, GError **error)
{
  gboolean found = FALSE;

  g_return_val_if_fail (dir != NULL, FALSE);
  if (!sp_vault_wipe_files (dir, TRUE, &found, error))
    return FALSE;
  if (!found)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND, _ ("No vault found at %s"), dir);
      return FALSE;
    }
  return TRUE;
}

SpVault *
sp_vault_duress_takeover (const char *dir, const guint8 file[SP_KEYFILE_SIZE], SpSecret *slot_key,
                          SpSecret *decoy_master, GError **error)
{
  g_autofree char *key_path = g_build_filename (dir, "vault.key", NULL);
  g_autoptr (SpVault) vault = NULL;

  if (!sp_vault_wipe_files (dir, FALSE, NULL, error))
    {
      sp_secret_free (decoy_master);
      return NULL;
    }
  vault = sp_vault_create_db_with_key (dir, decoy_master, sp_vault_schema_version_latest (), error);
  if (vault == NULL)
    return NULL;
  if (!sp_keyfile_promote_duress (key_path, file, slot_key, vault->master_key, error))
    {
      g_clear_pointer (&vault, sp_vault_close);
      sp_vault_wipe_files (dir, FALSE, NULL, NULL);
      return NULL;
    }
  return g_steal_pointer (&vault);
}

gboolean
sp_vault_set_duress (SpVault *vault, SpSecret *duress_passphrase, GError **error)
{
  g_autofree char *key_path = NULL;
  g_autoptr (SpSecret) decoy = NULL;

  g_return_val_if_fail (vault != NULL && duress_passphrase != NULL, FALSE);
  if (vault->master_key == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_LOCKED, _ ("The vault is locked"));
      return FALSE;
    }
  key_path = g_build_filename (vault->dir, "vault.key", NULL);
  decoy = sp_secret_new (SP_MASTER_KEY_BYTES);
  randombytes_buf (sp_secret_data (decoy), SP_MASTER_KEY_BYTES);
  return sp_keyfile_set_duress (key_path, duress_passphrase, decoy, error);
}

gboolean
sp_vault_clear_duress (SpVault *vault, GError **error)
{
  g_autofree char *key_path = NULL;

  g_return_val_if_fail (vault != NULL, FALSE);
  if (vault->master_key == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_LOCKED, _ ("The vault is locked"));
      return FALSE;
    }
  key_path = g_build_filename (vault->dir, "vault.key", NULL);
  return sp_keyfile_set_duress (key_path, NULL, NULL, error);
}
