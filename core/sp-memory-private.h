/* sp-memory-private.h — wiping freed memory (sp-memory.c). Private to core.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

/* The process-wide wipe-on-free replaces libc's malloc only with glibc and
 * without a sanitizer or valgrind-style allocator of its own. */
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)                            \
    || __has_feature(thread_sanitizer)
#define SP_MEMORY_INTERPOSE 0
#endif
#endif
#ifndef SP_MEMORY_INTERPOSE
#define SP_MEMORY_INTERPOSE 1
#endif
#else
#define SP_MEMORY_INTERPOSE 0
#endif

/* Installs SQLite's wiping allocator; sp_core_init() calls it first. Fails if
 * SQLite was initialised before. Idempotent. */
gboolean sp_memory_init (GError **error);
/* TRUE when every free() in the process wipes (the interposed allocator). */
gboolean sp_memory_wipes_freed (void);
