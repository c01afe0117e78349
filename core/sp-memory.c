/* sp-memory.c — freed memory is wiped: what a memory dump of a process finds
 * after sp_vault_close() (forensics F1, docs/SECURITY.md "Memory").
 *
 * Two layers:
 *
 *  1. SQLite's allocator (sqlite3_config (SQLITE_CONFIG_MALLOC)), installed
 *     by sp_core_init() before SQLite initialises: every block SQLite frees —
 *     decrypted pages of its page cache, rows, statements, lookaside — is
 *     zeroed first. SQLCipher 3.4 has no cipher_memory_security to do it.
 *
 *  2. The process's own malloc/free/realloc (GLib, json-glib, GTK, OpenSSL,
 *     libc's strdup…): defined here, in the executable, they take the place
 *     of libc's for every library (ELF interposition, the way glibc's manual
 *     "Replacing malloc" describes). GLib has let no one install an allocator
 *     since 2.46, so this is the only way to reach the strings it frees. They
 *     call glibc's own allocator (__libc_malloc…) and zero a block
 *     (malloc_usable_size bytes) before it goes back; realloc never leaves a
 *     copy behind when it moves a block. KeePassXC wipes on delete the same
 *     way (src/core/Alloc.cpp). Left out under the sanitizers and valgrind,
 *     which bring allocators of their own; SQLite's layer still wipes there.
 *
 * Not reached: memory still in use (an open vault's strings, the widgets on
 * screen), GLib's slice allocator's free lists (structures, not text),
 * stacks of threads, and pages the kernel already holds (swap).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <glib/gi18n-lib.h>
#include <malloc.h>
#include <stdint.h>
#include <string.h>

#include "sp-memory-private.h"
#include "sp-vault-private.h"

/* ---- 1. SQLite's allocator ------------------------------------------------ */

/* Each block starts with its size (8 bytes keep SQLite's alignment). */
#define HEADER 8

static void *
sq_malloc (int n)
{
  guint64 *p = malloc ((size_t)n + HEADER);

  if (p == NULL)
    return NULL;
  p[0] = (guint64)n;
  return p + 1;
}

static void
sq_free (void *ptr)
{
  guint64 *p;

  if (ptr == NULL)
    return;
  p = (guint64 *)ptr - 1;
  explicit_bzero (p, (size_t)p[0] + HEADER);
  free (p);
}

static int
sq_size (void *ptr)
{
  return ptr ? (int)((guint64 *)ptr)[-1] : 0;
}

static void *
sq_realloc (void *ptr, int n)
{
  void *q;
  int old;

  if (ptr == NULL)
    return sq_malloc (n);
  old = sq_size (ptr);
  q = sq_malloc (n);
  if (q == NULL)
    return NULL;
  memcpy (q, ptr, (size_t)MIN (old, n));
  sq_free (ptr);
  return q;
}

static int
sq_roundup (int n)
{
  return (n + 7) & ~7;
}

static int
sq_init (void *data)
{
  return SQLITE_OK;
}

static void
sq_shutdown (void *data)
{
}

static const sqlite3_mem_methods wiping_methods = {
  sq_malloc, sq_free, sq_realloc, sq_size, sq_roundup, sq_init, sq_shutdown, NULL,
};

gboolean
sp_memory_wipes_freed (void)
{
#if SP_MEMORY_INTERPOSE
  return TRUE;
#else
  return FALSE;
#endif
}

gboolean
sp_memory_init (GError **error)
{
  static gsize done = 0;
  static int rc = SQLITE_OK;

  if (g_once_init_enter (&done))
    {
      /* Must come before anything initialises SQLite (sqlite3_open does). */
      rc = sqlite3_config (SQLITE_CONFIG_MALLOC, &wiping_methods);
      g_once_init_leave (&done, 1);
    }
  /* Too late for SQLite's layer (something used SQLite first: a test that
   * opens a database by hand): the process's free() still wipes SQLite's
   * blocks, which come from malloc. Without that, it is an error. */
  if (rc != SQLITE_OK && !sp_memory_wipes_freed ())
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_FAILED,
                   _ ("The database library was started before Supolka could make it wipe the "
                      "memory it frees (%s)"),
                   sqlite3_errstr (rc));
      return FALSE;
    }
  return TRUE;
}

/* ---- 2. The process's malloc ---------------------------------------------- */

#if SP_MEMORY_INTERPOSE

/* glibc's allocator under its other names (exported for exactly this use). */
extern void *__libc_malloc (size_t n);
extern void *__libc_calloc (size_t n, size_t size);
extern void *__libc_realloc (void *ptr, size_t n);
extern void __libc_free (void *ptr);

void *
malloc (size_t n)
{
  return __libc_malloc (n);
}

void *
calloc (size_t n, size_t size)
{
  return __libc_calloc (n, size);
}

void
free (void *ptr)
{
  if (ptr == NULL)
    return;
  explicit_bzero (ptr, malloc_usable_size (ptr));
  __libc_free (ptr);
}

void *
realloc (void *ptr, size_t n)
{
  size_t have;
  void *q;

  if (ptr == NULL)
    return __libc_malloc (n);
  if (n == 0)
    {
      free (ptr);
      return NULL;
    }
  have = malloc_usable_size (ptr);
  if (n <= have)
    {
      /* Shrinking stays in place in glibc; the tail it gives back is wiped. */
      explicit_bzero ((char *)ptr + n, have - n);
      return __libc_realloc (ptr, n);
    }
  /* Growing: glibc might copy and free the old block unwiped. */
  q = __libc_malloc (n);
  if (q == NULL)
    return NULL;
  memcpy (q, ptr, have);
  free (ptr);
  return q;
}

/* glibc's reallocarray calls its realloc directly, past ours. */
void *
reallocarray (void *ptr, size_t n, size_t size)
{
  if (size && n > SIZE_MAX / size)
    {
      errno = ENOMEM;
      return NULL;
    }
  return realloc (ptr, n * size);
}

#endif /* SP_MEMORY_INTERPOSE */
