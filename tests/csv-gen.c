/* SPDX-License-Identifier: GPL-3.0-or-later */
/* csv-gen.c — see csv-gen.h. */
#include <stdio.h>
#include <string.h>

#include "csv-gen.h"

static const char *const words[] = {
  "суполка",  "ініцыятыва", "сустрэча", "праграма", "навучанне", "моладзь",   "экалогія",
  "горад",    "вёска",      "сябры",    "праект",   "развитие",  "поддержка", "встреча",
  "обучение", "сообщество", "культура", "гісторыя", "мова",      "кніга",     "школа",
};

static void
notes (GString *out, guint n, guint32 *seed)
{
  gsize start = out->len;

  for (;;)
    {
      const char *w;

      *seed = *seed * 1103515245u + 12345u;
      w = words[(*seed >> 16) % G_N_ELEMENTS (words)];
      if (out->len - start + strlen (w) + 1 > n)
        break;
      if (out->len > start)
        g_string_append_c (out, ' ');
      g_string_append (out, w);
    }
  while (out->len - start < n)
    g_string_append_c (out, '.');
}

guint
csv_gen_orgs (const char *path, guint64 bytes, guint notes_bytes, guint bad_from_end,
              guint *bad_line, GError **error)
{
  static const char header[] = "name;region;status;locality;notes\r\n";
  static const char *const regions[] = { "brest", "gomel" }; /* the same length */
  g_autoptr (GString) row = g_string_new (NULL);
  g_autoptr (GString) buf = g_string_new (header);
  guint32 seed = 20261207;
  guint64 row_bytes, rows;
  FILE *f = fopen (path, "wb");

  if (f == NULL)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot write %s", path);
      return 0;
    }
  /* Every row has the same length: fixed-width numbers, regions and status
   * of one length, notes of exactly notes_bytes. */
  g_string_printf (row, "Арганізацыя %08u;%s;member;Мінск;", 0u, "brest");
  row_bytes = row->len + notes_bytes + 2;
  rows = (bytes - strlen (header) + row_bytes - 1) / row_bytes;
  if (bad_line)
    *bad_line = bad_from_end ? (guint)(rows - bad_from_end) + 1 : 0;
  for (guint64 r = 1; r <= rows; r++)
    {
      gboolean bad = bad_from_end && r == rows - bad_from_end;

      g_string_append_printf (buf, "Арганізацыя %08u;%s;%s;Мінск;", (guint)r,
                              regions[r % G_N_ELEMENTS (regions)], bad ? "membr " : "member");
      notes (buf, notes_bytes, &seed);
      g_string_append (buf, "\r\n");
      if (buf->len > 1024 * 1024 || r == rows)
        {
          if (fwrite (buf->str, 1, buf->len, f) != buf->len)
            {
              fclose (f);
              g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot write %s", path);
              return 0;
            }
          g_string_truncate (buf, 0);
        }
    }
  if (fclose (f) != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot write %s", path);
      return 0;
    }
  return (guint)rows;
}
