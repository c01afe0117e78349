/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sp-fold.c — the search skeleton.
 *
 * A name can reach the database, or the search box, in Belarusian or Russian
 * Cyrillic, in Łacinka, or in one of several Latin transliterations: Гомель,
 * Homel, Gomel, Homiel. Search must find it however it was typed, so stored
 * text and query words both go through sp_fold(), which reduces them to one
 * ASCII skeleton ([a-z0-9] words separated by single spaces). Equal skeletons
 * (or a query that is a prefix of a stored word) match in the FTS index.
 *
 * Pass 1, per code point (lowercased): Cyrillic and Łacinka letters map to
 * ASCII (ж zh, ш sh, ч ch, щ shch, ё io, ю iu, я ia, ў/ŭ v, š sh, č ch, ž zh,
 * ł l, ъ and ь vanish); other Latin letters lose their diacritics; w v, y i,
 * j i, q k, x ks. A Latin h stays after s, c, z (sh, ch, zh), turns "kh" into
 * "ch" and is g anywhere else (Belarusian г is romanised h: Homel = Gomel).
 * х is "ch" too: Łacinka writes it "ch" (Cichanoŭskaja) while Latin "ch" is
 * also ч (Shchuchin), so х and ч must share one skeleton. Apostrophes vanish
 * inside a word (з'езд is one word); digits pass; anything else separates.
 *
 * Pass 2, per word: runs of one letter collapse (Hanna = Ганна); u after a, e
 * or o becomes v, the usual romanisation of ў (Shauchuk = Шаўчук); "ie" and
 * "io" become "e" (Viciebsk = Віцебск, Mogilev = Магілёў, Piotr = Пётр);
 * "ts" becomes "c" (Tsybulka = Цыбулька);
 * o becomes a (akanne: Гродна = Гродно); runs collapse again.
 *
 * One pass over the code points with small tables; the output grows in a
 * single GString. Output length is at most 4 × the input bytes + 1.
 */

#include "supolka-core.h"

#include <string.h>

/* U+0430..U+045F: а..я, then ѐ ё ђ ѓ є ѕ і ї ј љ њ ћ ќ ѝ ў џ.
 * NULL never occurs; "" means the letter leaves no trace (ъ, ь). */
static const char *const cyrillic_map[0x30] = {
  "a", "b",  "v", "g", "d", "e",  "zh", "z",  "i",  "i",    "k", "l", "m", "n", "o",  "p",
  "r", "s",  "t", "u", "f", "ch", "c",  "ch", "sh", "shch", "",  "i", "",  "e", "iu", "ia",
  "e", "io", "d", "g", "e", "dz", "i",  "i",  "i",  "l",    "n", "c", "k", "i", "v",  "dz",
};

/* a..z; h is handled by emit_latin() because it depends on the letter before. */
static const char *const latin_map[26] = {
  "a", "b", "c", "d", "e", "f", "g", "h", "i", "i", "k",  "l", "m",
  "n", "o", "p", "k", "r", "s", "t", "u", "v", "v", "ks", "i", "z",
};

#define CYRILLIC_FIRST 0x0430
#define CYRILLIC_LAST 0x045F
#define CYRILLIC_GHE_UPTURN 0x0491 /* ґ */
#define COMBINING_BREVE 0x0306
#define COMBINING_CARON 0x030C

typedef struct
{
  GString *out;
  gsize word_start;
  gboolean in_word;
} Folder;

static inline gboolean
is_lower_alpha (char c)
{
  return c >= 'a' && c <= 'z';
}

/* Collapses runs of one letter in place (digits are left alone: 2000). */
static gsize
collapse_runs (char *w, gsize n)
{
  gsize r, o = 0;

  for (r = 0; r < n; r++)
    {
      char c = w[r];

      if (o > 0 && w[o - 1] == c && is_lower_alpha (c))
        continue;
      w[o++] = c;
    }
  return o;
}

/* Pass 2 on one word, in place; returns the new length (never 0 for n > 0). */
static gsize
fold_word (char *w, gsize n)
{
  gsize r, o = 0;

  n = collapse_runs (w, n);
  /* u after a, e or o is ў, however it was written: Shauchuk = Шаўчук,
   * Ivanou = Іваноў = Иванов. Not after i: "iu" is ю (Kaliuzhny). */
  for (r = 1; r < n; r++)
    if (w[r] == 'u' && (w[r - 1] == 'a' || w[r - 1] == 'e' || w[r - 1] == 'o'))
      w[r] = 'v';
  for (r = 0; r < n; r++)
    {
      char c = w[r];

      if (c == 'i' && r + 1 < n && (w[r + 1] == 'e' || w[r + 1] == 'o'))
        {
          c = 'e';
          r++;
        }
      else if (c == 't' && r + 1 < n && w[r + 1] == 's')
        {
          c = 'c'; /* English "ts" for ц: Tsybulka = Цыбулька (and тс alike) */
          r++;
        }
      else if (c == 'o')
        {
          c = 'a';
        }

      if (o > 0 && w[o - 1] == c && is_lower_alpha (c))
        continue;
      w[o++] = c;
    }
  return o;
}

static inline void
begin_word (Folder *f)
{
  if (f->in_word)
    return;
  if (f->out->len > 0)
    g_string_append_c (f->out, ' ');
  f->word_start = f->out->len;
  f->in_word = TRUE;
}

static void
end_word (Folder *f)
{
  gsize n;

  if (!f->in_word)
    return;
  n = fold_word (f->out->str + f->word_start, f->out->len - f->word_start);
  g_string_truncate (f->out, f->word_start + n);
  f->in_word = FALSE;
}

static inline void
emit_str (Folder *f, const char *s)
{
  if (s[0] == '\0')
    return;
  begin_word (f);
  g_string_append (f->out, s);
}

/* c is an ASCII lowercase letter or digit. */
static void
emit_latin (Folder *f, char c)
{
  if (c == 'h')
    {
      if (f->in_word)
        {
          char *last = &f->out->str[f->out->len - 1];

          if (*last == 'k')
            {
              *last = 'c'; /* kh = х = ch */
              g_string_append_c (f->out, 'h');
              return;
            }
          if (*last == 's' || *last == 'c' || *last == 'z')
            {
              g_string_append_c (f->out, 'h');
              return;
            }
        }
      begin_word (f);
      g_string_append_c (f->out, 'g');
      return;
    }

  if (c >= '0' && c <= '9')
    {
      begin_word (f);
      g_string_append_c (f->out, c);
      return;
    }

  emit_str (f, latin_map[c - 'a']);
}

/* A lowercase letter that the tables know: ASCII letter or digit, Cyrillic. */
static gboolean
is_table_letter (gunichar c)
{
  return (c < 0x80 && g_ascii_isalnum ((char)c)) || (c >= CYRILLIC_FIRST && c <= CYRILLIC_LAST)
         || c == CYRILLIC_GHE_UPTURN;
}

/* Anything the switch in fold_char() does not know: a Latin or Cyrillic letter
 * with diacritics (é, ñ, ӑ), a compatibility form of a letter or number (ﬁ,
 * Ａ, ², ①), or a separator. */
static void
fold_decomposed (Folder *f, gunichar c)
{
  gunichar d[G_UNICHAR_MAX_DECOMPOSITION_LENGTH];
  gsize n, i, letters = 0;

  switch (g_unichar_type (c))
    {
      case G_UNICODE_LOWERCASE_LETTER:
      case G_UNICODE_UPPERCASE_LETTER:
      case G_UNICODE_TITLECASE_LETTER:
      case G_UNICODE_MODIFIER_LETTER:
      case G_UNICODE_OTHER_LETTER:
      case G_UNICODE_DECIMAL_NUMBER:
      case G_UNICODE_LETTER_NUMBER:
      case G_UNICODE_OTHER_NUMBER:
        break;
      default:
        end_word (f); /* punctuation, symbols (№, ㎓), spaces, controls */
        return;
    }

  n = g_unichar_fully_decompose (c, TRUE, d, G_N_ELEMENTS (d));
  for (i = 0; i < n; i++)
    {
      if (g_unichar_ismark (d[i]))
        continue;
      d[i] = g_unichar_tolower (d[i]);
      if (!is_table_letter (d[i]))
        {
          end_word (f); /* other scripts, symbols, "½" = 1⁄2 */
          return;
        }
      letters++;
    }
  /* Keeps the output bound: no more letters than the code point has bytes. */
  if (letters > (gsize)g_unichar_to_utf8 (c, NULL))
    {
      end_word (f);
      return;
    }

  for (i = 0; i < n; i++)
    {
      gunichar b = d[i];
      gunichar next = i + 1 < n ? d[i + 1] : 0;

      if (g_unichar_ismark (b))
        continue;
      if (next == COMBINING_CARON && (b == 's' || b == 'c' || b == 'z'))
        {
          begin_word (f);
          g_string_append_c (f->out, (char)b);
          g_string_append_c (f->out, 'h'); /* ǆ = dž = dzh */
        }
      else if (next == COMBINING_BREVE && (b == 'u' || b == 0x0443))
        emit_str (f, "v");
      else if (b < 0x80)
        emit_latin (f, (char)b);
      else if (b == CYRILLIC_GHE_UPTURN)
        emit_str (f, "g");
      else
        emit_str (f, cyrillic_map[b - CYRILLIC_FIRST]);
    }
}

/* c is already lowercase. */
static void
fold_char (Folder *f, gunichar c)
{
  if (c < 0x80)
    {
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        emit_latin (f, (char)c);
      else if (c != '\'')
        end_word (f);
      return;
    }

  if (c >= CYRILLIC_FIRST && c <= CYRILLIC_LAST)
    {
      emit_str (f, cyrillic_map[c - CYRILLIC_FIRST]);
      return;
    }

  switch (c)
    {
      case 0x2019: /* ’ */
      case 0x02BC: /* ʼ */
      case 0x00AD: /* soft hyphen: invisible, not a break */
        return;
      case CYRILLIC_GHE_UPTURN:
        emit_str (f, "g");
        return;
      case 0x0142: /* ł */
      case 0x013A: /* ĺ */
      case 0x0140: /* ŀ */
        emit_str (f, "l");
        return;
      case 0x015B: /* ś */
        emit_str (f, "s");
        return;
      case 0x0107: /* ć */
        emit_str (f, "c");
        return;
      case 0x017A: /* ź */
        emit_str (f, "z");
        return;
      case 0x0144: /* ń */
        emit_str (f, "n");
        return;
      case 0x0161: /* š */
        emit_str (f, "sh");
        return;
      case 0x010D: /* č */
        emit_str (f, "ch");
        return;
      case 0x017E: /* ž */
        emit_str (f, "zh");
        return;
      case 0x016D: /* ŭ */
        emit_str (f, "v");
        return;
      case 0x00DF: /* ß */
        emit_str (f, "ss");
        return;
      case 0x00F8: /* ø */
        emit_str (f, "o");
        return;
      case 0x00E6: /* æ */
        emit_str (f, "ae");
        return;
      case 0x0153: /* œ */
        emit_str (f, "oe");
        return;
      case 0x0111: /* đ */
      case 0x00F0: /* ð */
        emit_str (f, "d");
        return;
      case 0x00FE: /* þ */
        emit_str (f, "t");
        return;
      case 0x0131: /* dotless ı */
        emit_str (f, "i");
        return;
      case 0x0138: /* ĸ */
        emit_str (f, "k");
        return;
      case 0x0127: /* ħ */
        emit_latin (f, 'h');
        return;
      default:
        break;
    }

  if (g_unichar_ismark (c))
    return; /* a stray combining mark belongs to the letter before it */

  fold_decomposed (f, c);
}

char *
sp_fold (const char *text)
{
  gsize len, cap;
  char *valid = NULL;
  char *nfc = NULL;
  const char *p;
  Folder f;

  if (text == NULL)
    return NULL;

  len = strlen (text);
  cap = 4 * len + 1;

  p = text;
  if (!g_utf8_validate (text, len, NULL))
    p = valid = g_utf8_make_valid (text, len);

  /* Decomposed input (U+0300..U+036F lead bytes 0xCC, 0xCD: е + ̈ for ё,
   * у + ̆ for ў) is composed first so that it folds like precomposed text. */
  if (strpbrk (p, "\xcc\xcd") != NULL)
    {
      nfc = g_utf8_normalize (p, -1, G_NORMALIZE_NFC);
      if (nfc != NULL)
        p = nfc;
    }

  f.out = g_string_sized_new (len + len / 4 + 16);
  f.word_start = 0;
  f.in_word = FALSE;

  while (*p != '\0')
    {
      guchar b = (guchar)*p;
      gunichar c;

      if (b < 0x80)
        {
          c = b;
          p++;
          if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        }
      else
        {
          c = g_unichar_tolower (g_utf8_get_char (p));
          p = g_utf8_next_char (p);
        }
      fold_char (&f, c);
    }
  end_word (&f);

  /* Cannot happen with the tables above; keeps the promise regardless. */
  if (f.out->len > cap)
    {
      g_string_truncate (f.out, cap);
      while (f.out->len > 0 && f.out->str[f.out->len - 1] == ' ')
        g_string_truncate (f.out, f.out->len - 1);
    }

  g_free (valid);
  g_free (nfc);
  return g_string_free (f.out, FALSE);
}
