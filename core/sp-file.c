/* sp-file.c — writing the plaintext files the user asked for (CSV exports,
 * the statistics CSV) so that a process killed halfway (SIGKILL, the OOM
 * killer, a power cut) leaves no named file behind (forensics F3).
 *
 * The data goes into an unnamed file (O_TMPFILE) in the destination's
 * folder, is flushed, and only then gets its name (linkat through
 * /proc/self/fd). Before that moment there is nothing to find by name; a
 * power cut may leave the blocks (plaintext) in free space, as any deleted
 * file does. A destination that exists (a file or a symbolic link, never
 * written through) is removed just before the link: a kill between the two
 * leaves neither the old nor the new file.
 *
 * File systems without O_TMPFILE (some FUSE, network and old file systems)
 * get the fallback: a hidden file ".NAME.XXXXXX" beside the destination,
 * renamed into place; a kill while writing leaves that hidden file.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp-vault-private.h"

/* A missing folder is "not found" (supolka-cli's exit 3), as before. */
static gboolean
io_error (const char *path, int err, GError **error)
{
  g_set_error (error, SP_CORE_ERROR, err == ENOENT ? SP_CORE_ERROR_NOT_FOUND : SP_CORE_ERROR_IO,
               _ ("Could not write %s: %s"), path, g_strerror (err));
  return FALSE;
}

static gboolean
write_flush (int fd, const char *path, const guint8 *data, gsize len, GError **error)
{
  while (len > 0)
    {
      ssize_t n = write (fd, data, MIN (len, (gsize)G_MAXSSIZE));

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return io_error (path, errno, error);
      data += n;
      len -= (gsize)n;
    }
  if (fsync (fd) != 0)
    return io_error (path, errno, error);
  return TRUE;
}

static void
sync_folder (const char *folder)
{
  int dfd = open (folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (dfd >= 0)
    {
      fsync (dfd);
      close (dfd);
    }
}

/* Gives the unnamed file @fd the name @path. */
static int
link_into_place (int fd, const char *path)
{
  char proc[64];
  struct stat st;

  g_snprintf (proc, sizeof proc, "/proc/self/fd/%d", fd);
  for (int attempt = 0; attempt < 2; attempt++)
    {
      if (linkat (AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0)
        return 0;
      if (errno == ENOENT && access ("/proc/self/fd", F_OK) != 0
          && linkat (fd, "", AT_FDCWD, path, AT_EMPTY_PATH) == 0)
        return 0; /* no /proc: needs CAP_DAC_READ_SEARCH */
      if (errno != EEXIST || attempt > 0)
        return errno;
      /* Replaced, as rename would: a file or a link, never a folder. */
      if (lstat (path, &st) != 0)
        continue;
      if (S_ISDIR (st.st_mode))
        return EISDIR;
      if (unlink (path) != 0 && errno != ENOENT)
        return errno;
    }
  return EEXIST;
}

/* The fallback: a hidden named file, renamed into place. */
static gboolean
write_named_temp (const char *folder, const char *path, const guint8 *data, gsize len,
                  GError **error)
{
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmp = g_strdup_printf ("%s/.%s.XXXXXX", folder, base);
  int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  gboolean ok;

  if (fd < 0)
    return io_error (path, errno, error);
  ok = write_flush (fd, path, data, len, error);
  close (fd);
  if (ok && rename (tmp, path) != 0)
    ok = io_error (path, errno, error);
  if (!ok)
    g_unlink (tmp);
  return ok;
}

gboolean
sp_file_write_private (const char *path, const void *data, gsize len, GError **error)
{
  g_autofree char *folder = NULL;
  gboolean ok;
  int fd, err;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  folder = g_path_get_dirname (path);
  fd = open (folder, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL))
    ok = write_named_temp (folder, path, data, len, error);
  else if (fd < 0)
    return io_error (path, errno, error);
  else
    {
      ok = write_flush (fd, path, data, len, error);
      if (ok && (err = link_into_place (fd, path)) != 0)
        ok = io_error (path, err, error);
      close (fd); /* unlinked and never named: its blocks are freed */
    }
  if (ok)
    sync_folder (folder);
  return ok;
}
