/* SPDX-License-Identifier: GPL-3.0-or-later */
/* mem-scan.h — the memory scanner of the forensic memory tests (test-memory.c,
 * test-memory-app.c): counts plaintext markers in a live process's memory,
 * read through /proc/PID/maps and /proc/PID/mem, as an examiner with root
 * (or the process itself) would.
 *
 * The markers are handed over XOR-masked (mem_scan_mask) and compared masked,
 * byte by byte, so that a process scanning itself never holds a plaintext copy
 * of what it looks for; the buffer it reads into is its own mapping and is
 * skipped. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Masked form of @text, as lowercase hex (safe for argv and the environment). */
char *mem_scan_mask (const char *text);
/* Masked needles from "hex,hex,…" (mem_scan_mask'ed). */
GPtrArray *mem_scan_needles_parse (const char *list);

/* Adds to @counts[i] the occurrences of needle i in every readable, writable
 * or anonymous mapping of process @pid (heap, stacks, anonymous memory, the
 * data of every library); @where (optional) gets one line per hit, the
 * mapping's name. FALSE if the process's memory could not be read at all. */
gboolean mem_scan_pid (int pid, GPtrArray *needles, guint *counts, GString *where, GError **error);

G_END_DECLS
