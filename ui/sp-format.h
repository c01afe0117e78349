/* sp-format.h — numbers written for the user's locale.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A whole number with LC_NUMERIC's digit grouping ("12 345" in be_BY,
 * "12,345" in en_GB, "12345" in C). Free with g_free. */
char *sp_format_count (gint64 n);

G_END_DECLS
