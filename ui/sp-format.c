/* Numbers for the user's locale.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "sp-format.h"

char *
sp_format_count (gint64 n)
{
  /* The ' flag asks glibc's printf for LC_NUMERIC's thousands grouping. */
  return g_strdup_printf ("%'" G_GINT64_FORMAT, n);
}
