/* Numbers and dates for the interface's language (see sp-format.h).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <string.h>

#include "sp-format.h"

char *
sp_format_count (gint64 n)
{
  /* Translators: put between groups of three digits in numbers such as
   * 12,345. Use what your language writes there (a no-break space, U+00A0,
   * for Belarusian and Russian). */
  const char *sep = C_ ("thousands separator", ",");
  g_autofree char *digits = NULL;
  GString *out = g_string_new (NULL);
  guint64 u = n < 0 ? -(guint64)n : (guint64)n;
  gsize len;

  digits = g_strdup_printf ("%" G_GUINT64_FORMAT, u);
  len = strlen (digits);
  if (n < 0)
    g_string_append_c (out, '-');
  for (gsize i = 0; i < len; i++)
    {
      if (i > 0 && (len - i) % 3 == 0)
        g_string_append (out, sep);
      g_string_append_c (out, digits[i]);
    }
  return g_string_free (out, FALSE);
}

/* Month names as a date uses them: "17 May" (in Belarusian and Russian the
 * genitive, "17 траўня", "17 мая"). */
static const char *
month_in_date (int m)
{
  switch (m)
    {
      case 1:
        return C_ ("month in a date such as 17 January 2024", "January");
      case 2:
        return C_ ("month in a date such as 17 February 2024", "February");
      case 3:
        return C_ ("month in a date such as 17 March 2024", "March");
      case 4:
        return C_ ("month in a date such as 17 April 2024", "April");
      case 5:
        return C_ ("month in a date such as 17 May 2024", "May");
      case 6:
        return C_ ("month in a date such as 17 June 2024", "June");
      case 7:
        return C_ ("month in a date such as 17 July 2024", "July");
      case 8:
        return C_ ("month in a date such as 17 August 2024", "August");
      case 9:
        return C_ ("month in a date such as 17 September 2024", "September");
      case 10:
        return C_ ("month in a date such as 17 October 2024", "October");
      case 11:
        return C_ ("month in a date such as 17 November 2024", "November");
      case 12:
        return C_ ("month in a date such as 17 December 2024", "December");
      default:
        return NULL;
    }
}

/* Month names alone: "May 2024" (the nominative: "травень 2024", "май 2024"). */
static const char *
month_alone (int m)
{
  switch (m)
    {
      case 1:
        return C_ ("month and year such as January 2024", "January");
      case 2:
        return C_ ("month and year such as February 2024", "February");
      case 3:
        return C_ ("month and year such as March 2024", "March");
      case 4:
        return C_ ("month and year such as April 2024", "April");
      case 5:
        return C_ ("month and year such as May 2024", "May");
      case 6:
        return C_ ("month and year such as June 2024", "June");
      case 7:
        return C_ ("month and year such as July 2024", "July");
      case 8:
        return C_ ("month and year such as August 2024", "August");
      case 9:
        return C_ ("month and year such as September 2024", "September");
      case 10:
        return C_ ("month and year such as October 2024", "October");
      case 11:
        return C_ ("month and year such as November 2024", "November");
      case 12:
        return C_ ("month and year such as December 2024", "December");
      default:
        return NULL;
    }
}

static gboolean
parse_part (const char *s, gsize len, guint64 min, guint64 max, int *out)
{
  char buf[8];
  guint64 v;

  if (len == 0 || len >= sizeof buf)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isdigit (s[i]))
      return FALSE;
  memcpy (buf, s, len);
  buf[len] = '\0';
  if (!g_ascii_string_to_unsigned (buf, 10, min, max, &v, NULL))
    return FALSE;
  *out = (int)v;
  return TRUE;
}

static char *
day_month_year (int d, int m, int y)
{
  /* Translators: a date: %1$d the day, %2$s the month's name (as in
   * "month in a date"), %3$d the year. Reorder freely. */
  return g_strdup_printf (C_ ("date", "%1$d %2$s %3$d"), d, month_in_date (m), y);
}

char *
sp_format_date (const char *iso)
{
  gsize len;
  int y, m, d;

  if (iso == NULL)
    return NULL;
  len = strlen (iso);
  if (len == 4 && parse_part (iso, 4, 1, 9999, &y))
    return g_strdup (iso);
  if (len == 7 && iso[4] == '-' && parse_part (iso, 4, 1, 9999, &y)
      && parse_part (iso + 5, 2, 1, 12, &m))
    /* Translators: a month of a year: %1$s the month's name (as in "month
     * and year"), %2$d the year. */
    return g_strdup_printf (C_ ("date", "%1$s %2$d"), month_alone (m), y);
  if (len == 10 && iso[4] == '-' && iso[7] == '-' && parse_part (iso, 4, 1, 9999, &y)
      && parse_part (iso + 5, 2, 1, 12, &m) && parse_part (iso + 8, 2, 1, 31, &d)
      && g_date_valid_dmy ((GDateDay)d, (GDateMonth)m, (GDateYear)y))
    return day_month_year (d, m, y);
  return g_strdup (iso);
}

char *
sp_format_date_time (GDateTime *dt)
{
  g_autofree char *date = NULL;

  g_return_val_if_fail (dt != NULL, NULL);
  date = day_month_year (g_date_time_get_day_of_month (dt), g_date_time_get_month (dt),
                         g_date_time_get_year (dt));
  /* Translators: a moment: %1$s the date, %2$02d:%3$02d the hour (0-23) and
   * minute. */
  return g_strdup_printf (C_ ("date and time", "%1$s, %2$02d:%3$02d"), date,
                          g_date_time_get_hour (dt), g_date_time_get_minute (dt));
}
