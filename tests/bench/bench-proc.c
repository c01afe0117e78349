/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-proc.c — this process's memory figures from /proc (proc(5)), for
 * supolka-bench and supolka-bench-gui alike. */
#include <stdio.h>
#include <string.h>

#include "bench.h"

gint64
bench_status_kib (const char *name)
{
  g_autofree char *text = NULL;
  g_autofree char *key = g_strdup_printf ("\n%s:", name);
  const char *p;

  if (!g_file_get_contents ("/proc/self/status", &text, NULL, NULL)
      || (p = strstr (text, key)) == NULL)
    return -1;
  return g_ascii_strtoll (p + strlen (key), NULL, 10);
}

gboolean
bench_reset_hwm (void)
{
  FILE *f = fopen ("/proc/self/clear_refs", "w");
  gboolean ok;

  if (f == NULL)
    return FALSE;
  ok = fputs ("5", f) >= 0;
  return fclose (f) == 0 && ok;
}
