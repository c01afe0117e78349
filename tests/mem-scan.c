/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mem-scan.c — see mem-scan.h. */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mem-scan.h"

#define MASK 0x5a
#define CHUNK (1024 * 1024)

char *
mem_scan_mask (const char *text)
{
  GString *hex = g_string_new (NULL);

  for (const char *p = text; *p; p++)
    g_string_append_printf (hex, "%02x", (guint8)*p ^ MASK);
  return g_string_free (hex, FALSE);
}

GPtrArray *
mem_scan_needles_parse (const char *list)
{
  GPtrArray *needles = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  g_auto (GStrv) parts = g_strsplit (list, ",", -1);

  for (guint i = 0; parts[i]; i++)
    {
      gsize n = strlen (parts[i]) / 2;
      guint8 *b = g_malloc (n);

      for (gsize j = 0; j < n; j++)
        b[j] = (guint8)(g_ascii_xdigit_value (parts[i][2 * j]) << 4
                        | g_ascii_xdigit_value (parts[i][2 * j + 1]));
      g_ptr_array_add (needles, g_bytes_new_take (b, n));
    }
  return needles;
}

/* Occurrences of masked @needle in @buf, comparing unmasked byte by byte
 * (memchr finds the candidates for the first byte). */
static guint
count_in (const guint8 *buf, gsize len, GBytes *needle)
{
  gsize n;
  const guint8 *m = g_bytes_get_data (needle, &n);
  const guint8 *p = buf;
  const guint8 *end = buf + len;
  guint hits = 0;

  if (n == 0 || len < n)
    return 0;
  while ((gsize)(end - p) >= n && (p = memchr (p, m[0] ^ MASK, (gsize)(end - p) - n + 1)))
    {
      gsize j = 1;

      while (j < n && p[j] == (guint8)(m[j] ^ MASK))
        j++;
      hits += j == n;
      p++;
    }
  return hits;
}

/* A mapping worth reading: readable, and writable or anonymous (code and
 * read-only data of files hold nothing the process produced). */
static gboolean
mapping_wanted (const char *perms, const char *name)
{
  if (perms[0] != 'r')
    return FALSE;
  if (g_str_equal (name, "[vvar]") || g_str_equal (name, "[vsyscall]")
      || g_str_equal (name, "[vdso]"))
    return FALSE;
  return perms[1] == 'w' || name[0] == '\0' || name[0] == '[';
}

static void
scan_range (int mem, guint64 start, guint64 end, guint8 *buf, GPtrArray *needles, guint *counts,
            GString *where, const char *name)
{
  guint max_len = 0;

  for (guint i = 0; i < needles->len; i++)
    max_len = MAX (max_len, (guint)g_bytes_get_size (needles->pdata[i]));
  /* Chunks overlap by the longest needle less one byte, so nothing is missed
   * at an edge; in every chunk but the last, only matches that start before
   * the overlap count (the next chunk sees the others). */
  for (guint64 off = start; off < end;)
    {
      gsize want = (gsize)MIN ((guint64)CHUNK, end - off);
      ssize_t got = pread (mem, buf, want, (off_t)off);
      gboolean last;
      gsize advance;

      if (got <= 0)
        {
          off += 4096; /* an unreadable page (guard page): skip it */
          continue;
        }
      last = off + (guint64)got >= end || (gsize)got < max_len;
      advance = last ? (gsize)got : (gsize)got - (max_len - 1);
      for (guint i = 0; i < needles->len; i++)
        {
          gsize n = g_bytes_get_size (needles->pdata[i]);
          guint h = count_in (buf, last ? (gsize)got : advance + n - 1, needles->pdata[i]);

          counts[i] += h;
          if (h && where)
            g_string_append_printf (where, "needle %u: %u in %s\n", i, h,
                                    name[0] ? name : "[anonymous]");
        }
      off += advance;
    }
}

gboolean
mem_scan_pid (int pid, GPtrArray *needles, guint *counts, GString *where, GError **error)
{
  g_autofree char *maps_path = g_strdup_printf ("/proc/%d/maps", pid);
  g_autofree char *mem_path = g_strdup_printf ("/proc/%d/mem", pid);
  g_autofree char *maps = NULL;
  g_auto (GStrv) lines = NULL;
  guint8 *buf;
  int mem;

  if (!g_file_get_contents (maps_path, &maps, NULL, error))
    return FALSE;
  mem = open (mem_path, O_RDONLY | O_CLOEXEC);
  if (mem < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", mem_path,
                   g_strerror (saved));
      return FALSE;
    }
  /* Our own mapping, skipped when a process scans itself. */
  buf = mmap (NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  g_assert (buf != MAP_FAILED);
  lines = g_strsplit (maps, "\n", -1);
  for (guint l = 0; lines[l]; l++)
    {
      guint64 start, end;
      char perms[8] = "";
      int name_at = 0;

      if (sscanf (lines[l], "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x %7s %*s %*s %*s %n",
                  &start, &end, perms, &name_at)
          < 3)
        continue;
      if (start == (guint64)(guintptr)buf
          || !mapping_wanted (perms, name_at ? lines[l] + name_at : ""))
        continue;
      scan_range (mem, start, end, buf, needles, counts, where, name_at ? lines[l] + name_at : "");
    }
  munmap (buf, CHUNK);
  close (mem);
  return TRUE;
}
