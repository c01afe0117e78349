/* sync-frame.h — private to sync/protocol: what the batch envelope and the
 * snapshot frame share (little-endian integers, the magic-and-version prefix).
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @n (≤ 8) bytes, little-endian. */
guint64 sync_frame_read_le (const guint8 *p, guint n);
void sync_frame_write_le (guint8 *p, guint64 v, guint n);

/* NULL when @data (8 bytes at least) starts with the 4-byte @magic, @version
 * and three zero bytes; otherwise what is wrong, for the error message. */
const char *sync_frame_prefix_problem (const guint8 *data, const char *magic, guint8 version);

/* Writes that prefix. */
void sync_frame_write_prefix (guint8 *data, const char *magic, guint8 version);

G_END_DECLS
