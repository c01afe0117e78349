/* sp-format.h — numbers and dates written for the interface's language.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The formats come from the message catalogue of the language the interface
 * is shown in (its translators chose them), not from LC_NUMERIC/LC_TIME:
 * the language can be chosen in the preferences, and the matching C locale
 * is often not installed (Debian generates only the system's). */

/* A whole number with digit grouping: "12,345" in English, "12 345" (no-break
 * space) in Belarusian and Russian. Free with g_free. */
char *sp_format_count (gint64 n);

/* A stored date — "YYYY", "YYYY-MM" or "YYYY-MM-DD" — in words: "17 May 2024",
 * "17 траўня 2024 г.", "May 2024", "2024". Anything else comes back as it
 * is. Free with g_free. */
char *sp_format_date (const char *iso);

/* A moment in local time: "17 May 2024, 14:03". Free with g_free. */
char *sp_format_date_time (GDateTime *dt);

G_END_DECLS
