/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sp-csv-decode.c — the bytes of a CSV file to UTF-8, in pieces, and the
 * choice of encoding when none is named.
 *
 * Decoding is by hand (UTF-8 checked, UTF-16 with surrogates, Windows-1251 by
 * table), so that every error knows its line and column and memory stays a
 * few bytes of state whatever the file's size.
 *
 * Choosing, for a file with no byte-order mark and no --encoding, reads the
 * whole file once and never guesses silently:
 *   - valid UTF-8: UTF-8;
 *   - otherwise, when valid UTF-8 sequences of two or more bytes outnumber
 *     the bytes that are not valid UTF-8, the file is UTF-8 with a few bad
 *     bytes (real Windows-1251 text gives a bad byte for nearly every
 *     lowercase letter): refused, naming the first bad byte;
 *   - otherwise Windows-1251 only when the text, read that way, looks like
 *     Belarusian or Russian: see looks_cyrillic(); else refused. */
#include <string.h>
#include <glib/gi18n-lib.h>

#include "sp-csv-private.h"
#include "sp-vault-private.h"

/* Windows-1251 0x80–0xBF (0xC0–0xFF are U+0410–U+044F); 0 = undefined. */
static const guint16 cp1251_high[64] = {
  0x0402, 0x0403, 0x201A, 0x0453, 0x201E, 0x2026, 0x2020, 0x2021, /* 80 */
  0x20AC, 0x2030, 0x0409, 0x2039, 0x040A, 0x040C, 0x040B, 0x040F, /* 88 */
  0x0452, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, /* 90 */
  0x0000, 0x2122, 0x0459, 0x203A, 0x045A, 0x045C, 0x045B, 0x045F, /* 98 */
  0x00A0, 0x040E, 0x045E, 0x0408, 0x00A4, 0x0490, 0x00A6, 0x00A7, /* A0 */
  0x0401, 0x00A9, 0x0404, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x0407, /* A8 */
  0x00B0, 0x00B1, 0x0406, 0x0456, 0x0491, 0x00B5, 0x00B6, 0x00B7, /* B0 */
  0x0451, 0x2116, 0x0454, 0x00BB, 0x0458, 0x0405, 0x0455, 0x0457, /* B8 */
};

static gunichar
cp1251_char (guint8 b)
{
  if (b < 0x80)
    return b;
  if (b >= 0xC0)
    return 0x0410 + (b - 0xC0);
  return cp1251_high[b - 0x80];
}

const char *
sp_csv_encoding_name (SpCsvEncoding encoding)
{
  switch (encoding)
    {
      case SP_CSV_ENCODING_UTF8:
        return "UTF-8";
      case SP_CSV_ENCODING_UTF16:
        return "UTF-16";
      case SP_CSV_ENCODING_WINDOWS_1251:
        return "WINDOWS-1251";
      case SP_CSV_ENCODING_AUTO:
      default:
        return "";
    }
}

gboolean
sp_csv_encoding_from_string (const char *name, SpCsvEncoding *out)
{
  static const struct
  {
    const char *name;
    SpCsvEncoding encoding;
  } names[] = {
    { "utf-8", SP_CSV_ENCODING_UTF8 },
    { "utf8", SP_CSV_ENCODING_UTF8 },
    { "utf-16", SP_CSV_ENCODING_UTF16 },
    { "utf16", SP_CSV_ENCODING_UTF16 },
    { "windows-1251", SP_CSV_ENCODING_WINDOWS_1251 },
    { "cp1251", SP_CSV_ENCODING_WINDOWS_1251 },
  };

  g_return_val_if_fail (name != NULL && out != NULL, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (name, names[i].name) == 0)
      {
        *out = names[i].encoding;
        return TRUE;
      }
  return FALSE;
}

/* ---- UTF-8, one byte at a time ---- */

typedef enum
{
  STEP_MORE, /* inside a sequence */
  STEP_CHAR, /* *c is complete */
  STEP_BAD,  /* the sequence that began at the lead byte is not UTF-8; the
              * current byte, unless it was that lead, must be fed again */
} Step;

/* g_utf8_validate's rules: no overlong forms, no surrogates, ≤ U+10FFFF. */
static Step
utf8_step (SpCsvUtf8 *s, guint8 b, gunichar *c)
{
  if (s->need == 0)
    {
      if (b < 0x80)
        {
          *c = b;
          return STEP_CHAR;
        }
      if (b >= 0xC2 && b <= 0xDF)
        s->need = 1, s->cp = b & 0x1F, s->lo = 0x80, s->hi = 0xBF;
      else if (b >= 0xE0 && b <= 0xEF)
        s->need = 2, s->cp = b & 0x0F, s->lo = b == 0xE0 ? 0xA0 : 0x80,
        s->hi = b == 0xED ? 0x9F : 0xBF;
      else if (b >= 0xF0 && b <= 0xF4)
        s->need = 3, s->cp = b & 0x07, s->lo = b == 0xF0 ? 0x90 : 0x80,
        s->hi = b == 0xF4 ? 0x8F : 0xBF;
      else
        {
          s->refeed = FALSE;
          return STEP_BAD;
        }
      s->len = 1;
      return STEP_MORE;
    }
  if (b < s->lo || b > s->hi)
    {
      s->need = 0;
      s->refeed = TRUE;
      return STEP_BAD;
    }
  s->lo = 0x80, s->hi = 0xBF;
  s->cp = (s->cp << 6) | (b & 0x3F);
  s->len++;
  if (--s->need > 0)
    return STEP_MORE;
  *c = s->cp;
  return STEP_CHAR;
}

/* Lines as the reader counts them: LF, CRLF and a lone CR each end one. */
static void
advance (SpCsvDecoder *d, gunichar c)
{
  if (c == '\n' && d->prev_cr)
    ;
  else if (c == '\n' || c == '\r')
    {
      d->line++;
      d->column = 1;
    }
  else
    d->column++;
  d->prev_cr = c == '\r';
}

void
sp_csv_decoder_init (SpCsvDecoder *d, SpCsvEncoding encoding, gboolean big_endian)
{
  memset (d, 0, sizeof *d);
  d->encoding = encoding;
  d->big_endian = big_endian;
  d->line = 1;
  d->column = 1;
}

static gboolean
decoder_fail (SpCsvDecoder *d, GError **error, const char *message)
{
  d->error_line = d->line;
  d->error_column = d->column;
  g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("Column %u: %s"), d->column,
               message);
  return FALSE;
}

static gboolean
emit (SpCsvDecoder *d, gunichar c, GString *out, GError **error)
{
  if (c == 0)
    return decoder_fail (d, error,
                         _ ("The file contains a NUL character, so it is not a text file"));
  if (c < 0x80)
    g_string_append_c (out, (char)c);
  else
    g_string_append_unichar (out, c);
  advance (d, c);
  return TRUE;
}

static gboolean
feed_utf8 (SpCsvDecoder *d, const guint8 *in, gsize len, GString *out, GError **error)
{
  for (gsize i = 0; i < len; i++)
    {
      gunichar c = 0;

      switch (utf8_step (&d->utf8, in[i], &c))
        {
          case STEP_MORE:
            break;
          case STEP_CHAR:
            if (!emit (d, c, out, error))
              return FALSE;
            break;
          case STEP_BAD:
          default:
            return decoder_fail (d, error, _ ("This is not valid UTF-8"));
        }
    }
  return TRUE;
}

static gboolean
feed_utf16 (SpCsvDecoder *d, const guint8 *in, gsize len, GString *out, GError **error)
{
  for (gsize i = 0; i < len; i++)
    {
      guint unit;

      d->unit[d->n_unit++] = in[i];
      if (d->n_unit < 2)
        continue;
      d->n_unit = 0;
      unit = d->big_endian ? (guint)(d->unit[0] << 8 | d->unit[1])
                           : (guint)(d->unit[1] << 8 | d->unit[0]);
      if (d->high_surrogate)
        {
          gunichar high = d->high_surrogate;

          d->high_surrogate = 0;
          if (unit < 0xDC00 || unit > 0xDFFF)
            return decoder_fail (d, error, _ ("This is not valid UTF-16 (a lone surrogate)"));
          if (!emit (d, 0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00), out, error))
            return FALSE;
        }
      else if (unit >= 0xD800 && unit <= 0xDBFF)
        d->high_surrogate = unit;
      else if (unit >= 0xDC00 && unit <= 0xDFFF)
        return decoder_fail (d, error, _ ("This is not valid UTF-16 (a lone surrogate)"));
      else if (!emit (d, unit, out, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
feed_cp1251 (SpCsvDecoder *d, const guint8 *in, gsize len, GString *out, GError **error)
{
  for (gsize i = 0; i < len; i++)
    {
      gunichar c = cp1251_char (in[i]);

      if (c == 0 && in[i] != 0)
        return decoder_fail (d, error, _ ("The byte 0x98 is not a character in Windows-1251"));
      if (!emit (d, c, out, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
sp_csv_decoder_feed (SpCsvDecoder *d, const guint8 *in, gsize len, gboolean last, GString *out,
                     GError **error)
{
  gboolean ok;

  switch (d->encoding)
    {
      case SP_CSV_ENCODING_UTF16:
        ok = feed_utf16 (d, in, len, out, error);
        break;
      case SP_CSV_ENCODING_WINDOWS_1251:
        ok = feed_cp1251 (d, in, len, out, error);
        break;
      case SP_CSV_ENCODING_UTF8:
      case SP_CSV_ENCODING_AUTO:
      default:
        ok = feed_utf8 (d, in, len, out, error);
        break;
    }
  if (!ok || !last)
    return ok;
  if (d->utf8.need > 0)
    return decoder_fail (d, error, _ ("The file ends inside a UTF-8 character"));
  if (d->n_unit > 0 || d->high_surrogate)
    return decoder_fail (d, error, _ ("The file ends inside a UTF-16 character"));
  return TRUE;
}

/* ---- Choosing an encoding ---- */

/* Classes of Windows-1251 bytes (and ASCII letters) for looks_cyrillic(). */
enum
{
  K_OTHER,     /* ASCII that is not a letter: ends a word */
  K_LATIN,     /* an ASCII letter that no Cyrillic letter looks like */
  K_HOMOGLYPH, /* a, c, e, i, o, p, x, y, A, B, C, E, H, I, K, M, O, P, T, X, Y:
               * typed for Cyrillic letters (a Latin i for і, often) */
  K_UPPER,     /* a Cyrillic capital */
  K_LOWER,     /* a Cyrillic small letter */
  K_PUNCT,     /* « » „ “ ” ‘ ’ – — … № and no-break space: usual in text */
  K_FOREIGN,   /* anything else above 0x7F: symbols, Serbian and Macedonian
               * letters, the undefined 0x98 */
};

static guint
cp1251_class (guint8 b)
{
  if (b < 0x80)
    {
      if (!g_ascii_isalpha (b))
        return K_OTHER;
      return strchr ("aceiopxyABCEHIKMOPTXY", b) ? K_HOMOGLYPH : K_LATIN;
    }
  if (b >= 0xC0)
    return b < 0xE0 ? K_UPPER : K_LOWER;
  switch (b)
    {
      case 0xA8: /* Ё */
      case 0xB2: /* І */
      case 0xA1: /* Ў */
      case 0xAA: /* Є */
      case 0xAF: /* Ї */
      case 0xA5: /* Ґ */
        return K_UPPER;
      case 0xB8: /* ё */
      case 0xB3: /* і */
      case 0xA2: /* ў */
      case 0xBA: /* є */
      case 0xBF: /* ї */
      case 0xB4: /* ґ */
        return K_LOWER;
      case 0x84:
      case 0x85:
      case 0x91:
      case 0x92:
      case 0x93:
      case 0x94:
      case 0x96:
      case 0x97:
      case 0xA0:
      case 0xAB:
      case 0xB9:
      case 0xBB:
        return K_PUNCT;
      default:
        return K_FOREIGN;
    }
}

static gboolean
cp1251_vowel (guint8 b)
{
  /* а е и о у ы э ю я (either case), ё і ў є ї */
  static const guint8 vowels[] = { 0xE0, 0xE5, 0xE8, 0xEE, 0xF3, 0xFB, 0xFD, 0xFE, 0xFF, 0xB8,
                                   0xB3, 0xA2, 0xBA, 0xBF, 0xA8, 0xB2, 0xA1, 0xAA, 0xAF };

  if (b >= 0xC0 && b < 0xE0)
    b += 0x20;
  return memchr (vowels, b, sizeof vowels) != NULL;
}

static void
word_end (SpCsvSniff *s)
{
  if (s->word_cyr > 0)
    {
      s->cyr_words++;
      if (s->word_latin)
        s->mixed_letters += s->word_cyr;
      if (s->word_odd_case)
        s->odd_case_words++;
    }
  s->word_cyr = 0;
  s->word_latin = FALSE;
  s->word_odd_case = FALSE;
  s->prev_lower = FALSE;
}

static void
sniff_cp1251 (SpCsvSniff *s, guint8 b)
{
  guint k = cp1251_class (b);

  switch (k)
    {
      case K_UPPER:
      case K_LOWER:
        s->cyr++;
        s->vowels += cp1251_vowel (b);
        s->word_cyr++;
        /* "пРИВЕТ": a small letter then a capital inside a word, which is
       * what KOI8-R or random bytes read as Windows-1251 look like. */
        if (k == K_UPPER && s->prev_lower)
          s->word_odd_case = TRUE;
        s->prev_lower = k == K_LOWER;
        break;
      case K_LATIN:
        s->word_latin = TRUE;
        s->prev_lower = FALSE;
        break;
      case K_HOMOGLYPH:
        s->prev_lower = g_ascii_islower (b);
        break;
      case K_FOREIGN:
        s->foreign++;
        word_end (s);
        break;
      case K_PUNCT:
      case K_OTHER:
      default:
        word_end (s);
        break;
    }
}

void
sp_csv_sniff_init (SpCsvSniff *s)
{
  memset (s, 0, sizeof *s);
  sp_csv_decoder_init (&s->pos, SP_CSV_ENCODING_UTF8, FALSE);
}

/* One byte as UTF-8: counts sequences of two bytes or more, and bad bytes. */
static void
sniff_utf8 (SpCsvSniff *s, guint8 b)
{
  for (;;)
    {
      gunichar c = 0;
      Step step = utf8_step (&s->pos.utf8, b, &c);

      if (step == STEP_MORE)
        return;
      if (step == STEP_CHAR)
        {
          if (c >= 0x80)
            s->utf8_multi++;
          advance (&s->pos, c);
          return;
        }
      if (s->utf8_bad++ == 0)
        {
          s->bad_line = s->pos.line;
          s->bad_column = s->pos.column;
        }
      advance (&s->pos, 0xFFFD); /* the bad lead byte takes one column */
      if (!s->pos.utf8.refeed)
        return;
      s->pos.utf8.refeed = FALSE; /* b broke the sequence: read it as a start */
    }
}

void
sp_csv_sniff_feed (SpCsvSniff *s, const guint8 *in, gsize len)
{
  for (gsize i = 0; i < len; i++)
    {
      sniff_cp1251 (s, in[i]);
      sniff_utf8 (s, in[i]);
    }
}

/* Windows-1251 is assumed only for text that reads as Belarusian or Russian:
 * Cyrillic letters, at most 5 % symbols that such text does not use (box
 * drawing read from CP866, Latin-1 signs, Serbian letters), at most 5 % of
 * the Cyrillic letters inside words that also hold Latin letters (Latin-1
 * "Müller" reads as "Mьller"), at most 10 % of Cyrillic words with a capital
 * after a small letter (KOI8-R "Привет" reads as "пРИВЕТ"), and, given at
 * least 20 letters, 20–70 % vowels among them. */
static gboolean
looks_cyrillic (const SpCsvSniff *s)
{
  if (s->cyr == 0 || s->cyr_words == 0)
    return FALSE;
  if (s->foreign * 20 > s->cyr + s->foreign)
    return FALSE;
  if (s->mixed_letters * 20 > s->cyr)
    return FALSE;
  if (s->odd_case_words * 10 > s->cyr_words)
    return FALSE;
  if (s->cyr >= 20 && (s->vowels * 5 < s->cyr || s->vowels * 10 > s->cyr * 7))
    return FALSE;
  return TRUE;
}

gboolean
sp_csv_sniff_finish (SpCsvSniff *s, SpCsvEncoding *encoding, guint *error_line, GError **error)
{
  SpCsvSniff copy = *s;

  word_end (&copy);
  if (copy.pos.utf8.need > 0 && copy.utf8_bad++ == 0)
    {
      copy.bad_line = copy.pos.line;
      copy.bad_column = copy.pos.column;
    }
  if (copy.utf8_bad == 0)
    {
      *encoding = SP_CSV_ENCODING_UTF8;
      return TRUE;
    }
  *error_line = copy.bad_line;
  if (copy.utf8_multi > copy.utf8_bad)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("Column %u: this byte is not valid UTF-8, though the rest of the file is "
                      "UTF-8; correct it, or name the file's encoding (--encoding)"),
                   copy.bad_column);
      return FALSE;
    }
  if (looks_cyrillic (&copy))
    {
      *encoding = SP_CSV_ENCODING_WINDOWS_1251;
      return TRUE;
    }
  g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
               _ ("Column %u: the file is not UTF-8 from here on, and read as Windows-1251 it "
                  "does not look like Belarusian or Russian text; name the file's encoding "
                  "(--encoding)"),
               copy.bad_column);
  return FALSE;
}
