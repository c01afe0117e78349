/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-data.c — see bench-data.h. Word lists are in three spellings:
 * Belarusian Cyrillic, Russian Cyrillic and Latin transliteration. */
#include "bench-data.h"

#include <string.h>

struct _BenchData
{
  GRand *rand;
  GPtrArray *strings; /* of the last record */
  guint serial;
};

typedef struct
{
  const char *be, *ru, *lat;
} Word;

typedef struct
{
  Word name;
  const char *region;
} Place;

static const Word first_names[] = {
  { "Аляксандр", "Александр", "Aliaksandr" },
  { "Сяргей", "Сергей", "Siarhei" },
  { "Андрэй", "Андрей", "Andrei" },
  { "Дзмітрый", "Дмитрий", "Dzmitry" },
  { "Уладзімір", "Владимир", "Uladzimir" },
  { "Ігар", "Игорь", "Ihar" },
  { "Мікалай", "Николай", "Mikalai" },
  { "Міхаіл", "Михаил", "Mikhail" },
  { "Павел", "Павел", "Pavel" },
  { "Алесь", "Алесь", "Ales" },
  { "Васіль", "Василий", "Vasil" },
  { "Юрый", "Юрий", "Yury" },
  { "Марына", "Марина", "Maryna" },
  { "Вольга", "Ольга", "Volha" },
  { "Алена", "Елена", "Alena" },
  { "Наталля", "Наталья", "Natallia" },
  { "Святлана", "Светлана", "Sviatlana" },
  { "Таццяна", "Татьяна", "Tatsiana" },
  { "Ірына", "Ирина", "Iryna" },
  { "Кацярына", "Екатерина", "Katsiaryna" },
  { "Ганна", "Анна", "Hanna" },
  { "Людміла", "Людмила", "Liudmila" },
  { "Дар'я", "Дарья", "Daria" },
  { "Юлія", "Юлия", "Yulia" },
};

static const Word surnames[] = {
  { "Каваленка", "Коваленко", "Kavalenka" },
  { "Шаўчук", "Шевчук", "Shauchuk" },
  { "Багдановіч", "Богданович", "Bahdanovich" },
  { "Лукашэвіч", "Лукашевич", "Lukashevich" },
  { "Навіцкі", "Новицкий", "Navitski" },
  { "Казлоў", "Козлов", "Kazlou" },
  { "Гурыновіч", "Гуринович", "Hurynovich" },
  { "Мацкевіч", "Мацкевич", "Matskevich" },
  { "Жук", "Жук", "Zhuk" },
  { "Ткачук", "Ткачук", "Tkachuk" },
  { "Кавалёў", "Ковалёв", "Kavaliou" },
  { "Васілеўскі", "Василевский", "Vasileuski" },
  { "Дамброўскі", "Домбровский", "Dambrouski" },
  { "Мароз", "Мороз", "Maroz" },
  { "Шыманскі", "Шиманский", "Shymanski" },
  { "Пятровіч", "Петрович", "Piatrovich" },
  { "Сідарэнка", "Сидоренко", "Sidarenka" },
  { "Радзевіч", "Радевич", "Radzevich" },
  { "Бурак", "Бурак", "Burak" },
  { "Іваноў", "Иванов", "Ivanou" },
  { "Пятроў", "Петров", "Piatrou" },
  { "Навумчык", "Наумчик", "Navumchyk" },
  { "Саколаў", "Соколов", "Sakalau" },
  { "Лебедзеў", "Лебедев", "Liebiedzieu" },
  { "Кузняцоў", "Кузнецов", "Kuzniatsou" },
  { "Паўлаў", "Павлов", "Paulau" },
  { "Сямёнаў", "Семёнов", "Siamionau" },
  { "Вінаградаў", "Виноградов", "Vinahradau" },
  { "Ярашэвіч", "Ярошевич", "Yarashevich" },
  { "Станкевіч", "Станкевич", "Stankievich" },
  { "Хмяльніцкі", "Хмельницкий", "Khmialnitski" },
  { "Цітоў", "Титов", "Tsitou" },
  { "Грыгор'еў", "Григорьев", "Hryhoryeu" },
  { "Шэўчык", "Шевчик", "Sheuchyk" },
  { "Літвін", "Литвин", "Litvin" },
  { "Зайцаў", "Зайцев", "Zaitsau" },
};

static const Place places[] = {
  { { "Мінск", "Минск", "Minsk" }, "minsk_city" },
  { { "Гомель", "Гомель", "Homiel" }, "gomel" },
  { { "Брэст", "Брест", "Brest" }, "brest" },
  { { "Гродна", "Гродно", "Hrodna" }, "grodno" },
  { { "Віцебск", "Витебск", "Viciebsk" }, "vitebsk" },
  { { "Магілёў", "Могилёв", "Mahiliou" }, "mogilev" },
  { { "Баранавічы", "Барановичи", "Baranavichy" }, "brest" },
  { { "Бабруйск", "Бобруйск", "Babruisk" }, "mogilev" },
  { { "Пінск", "Пинск", "Pinsk" }, "brest" },
  { { "Орша", "Орша", "Orsha" }, "vitebsk" },
  { { "Мазыр", "Мозырь", "Mazyr" }, "gomel" },
  { { "Салігорск", "Солигорск", "Salihorsk" }, "minsk_region" },
  { { "Наваполацк", "Новополоцк", "Navapolatsk" }, "vitebsk" },
  { { "Ліда", "Лида", "Lida" }, "grodno" },
  { { "Маладзечна", "Молодечно", "Maladziechna" }, "minsk_region" },
  { { "Полацк", "Полоцк", "Polatsk" }, "vitebsk" },
  { { "Слуцк", "Слуцк", "Slutsk" }, "minsk_region" },
  { { "Жлобін", "Жлобин", "Zhlobin" }, "gomel" },
  { { "Рэчыца", "Речица", "Rechytsa" }, "gomel" },
  { { "Слонім", "Слоним", "Slonim" }, "grodno" },
  { { "Кобрын", "Кобрин", "Kobryn" }, "brest" },
  { { "Ваўкавыск", "Волковыск", "Vaukavysk" }, "grodno" },
  { { "Нясвіж", "Несвиж", "Niasvizh" }, "minsk_region" },
  { { "Глыбокае", "Глубокое", "Hlybokaye" }, "vitebsk" },
  { { "Браслаў", "Браслав", "Braslau" }, "vitebsk" },
  { { "Смаргонь", "Сморгонь", "Smarhon" }, "grodno" },
  { { "Навагрудак", "Новогрудок", "Navahrudak" }, "grodno" },
  { { "Крычаў", "Кричев", "Krychau" }, "mogilev" },
  { { "Барысаў", "Борисов", "Barysau" }, "minsk_region" },
  { { "Вільня", "Вильнюс", "Vilnius" }, "abroad" },
  { { "Варшава", "Варшава", "Warsaw" }, "abroad" },
};

static const Word adjectives[] = {
  { "Зялёная", "Зелёная", "Green" },       { "Новая", "Новая", "New" },
  { "Вольная", "Свободная", "Free" },      { "Добрая", "Добрая", "Kind" },
  { "Сонечная", "Солнечная", "Sunny" },    { "Адкрытая", "Открытая", "Open" },
  { "Жывая", "Живая", "Living" },          { "Сямейная", "Семейная", "Family" },
  { "Моладзевая", "Молодёжная", "Youth" }, { "Жаночая", "Женская", "Women's" },
  { "Лясная", "Лесная", "Forest" },        { "Рачная", "Речная", "River" },
};

static const Word nouns[] = {
  { "Сетка", "Сеть", "Network" },
  { "Суполка", "Община", "Community" },
  { "Прастора", "Пространство", "Space" },
  { "Дарога", "Дорога", "Road" },
  { "Крыніца", "Родник", "Spring" },
  { "Майстэрня", "Мастерская", "Workshop" },
  { "Школа", "Школа", "School" },
  { "Ініцыятыва", "Инициатива", "Initiative" },
  { "Хата", "Дом", "House" },
  { "Ліга", "Лига", "League" },
  { "Платформа", "Платформа", "Platform" },
  { "Рада", "Совет", "Council" },
};

static const Word org_forms[] = {
  { "Грамадскае аб'яднанне", "Общественное объединение", "NGO" },
  { "Фонд", "Фонд", "Foundation" },
  { "Установа", "Учреждение", "Institution" },
  { "Ініцыятыва", "Инициатива", "Initiative" },
};
static const char *const org_kinds[]
    = { "registered_ngo", "foundation", "institution", "initiative", "other" };
static const char *const statuses[]
    = { "member", "member", "member", "candidate", "partner", "suspended", "former", "non_member" };

static const char *const themes[]
    = { "экалогія", "адукацыя",          "культура", "права чалавека", "моладзь",
        "экология", "образование",       "культура", "права человека", "молодёжь",
        "ecology",  "education",         "culture",  "human rights",   "youth",
        "гендар",   "мясцовая гісторыя", "спорт",    "волонтёрство",   "digital" };

/* Text before and after a town's name. */
static const char *const notes[][2] = {
  { "Сустрэча ў ", ", дамовіліся пра супольны праект." },
  { "Встреча в ", ", обсудили план на следующий год." },
  { "Met in ", "; interested in the training programme." },
  { "Кантакт праз партнёраў у ", "; пісаць толькі праз бяспечны канал." },
  { "Контакт через партнёров в ", "." },
};

BenchData *
bench_data_new (guint32 seed)
{
  BenchData *d = g_new0 (BenchData, 1);

  d->rand = g_rand_new_with_seed (seed);
  d->strings = g_ptr_array_new_with_free_func (g_free);
  return d;
}

void
bench_data_free (BenchData *d)
{
  if (d == NULL)
    return;
  g_rand_free (d->rand);
  g_ptr_array_unref (d->strings);
  g_free (d);
}

static guint
pick (BenchData *d, guint n)
{
  return (guint)g_rand_int_range (d->rand, 0, (gint32)n);
}

static gboolean
chance (BenchData *d, double p)
{
  return g_rand_double (d->rand) < p;
}

/* 0: Belarusian, 1: Russian, 2: Latin — in the proportions of a real list. */
static guint
script (BenchData *d)
{
  double x = g_rand_double (d->rand);

  return x < 0.45 ? 0 : x < 0.80 ? 1 : 2;
}

static const char *
spelling (const Word *w, guint s)
{
  return s == 0 ? w->be : s == 1 ? w->ru : w->lat;
}

static const char *
own (BenchData *d, char *s)
{
  g_ptr_array_add (d->strings, s);
  return s;
}

static const char *
note (BenchData *d, const char *town)
{
  guint i = pick (d, G_N_ELEMENTS (notes));

  return own (d, g_strconcat (notes[i][0], town, notes[i][1], NULL));
}

static void
add (SpFieldValue *values, gsize *n, const char *field, const char *value)
{
  g_assert (*n < BENCH_DATA_MAX_VALUES);
  values[*n].field = field;
  values[*n].value = value;
  (*n)++;
}

static const char *
date (BenchData *d)
{
  return own (d, g_strdup_printf ("%04d-%02d-%02d", 1995 + pick (d, 30), 1 + pick (d, 12),
                                  1 + pick (d, 28)));
}

static const char *
phone (BenchData *d)
{
  static const char *const codes[] = { "29", "33", "44", "25", "17" };

  return own (d, g_strdup_printf ("+375 %s %03u-%02u-%02u", codes[pick (d, 5)], pick (d, 1000),
                                  pick (d, 100), pick (d, 100)));
}

static const char *
email (BenchData *d, const char *latin)
{
  static const char *const domains[] = { "example.org", "example.net", "example.com" };
  g_autofree char *local = g_ascii_strdown (latin, -1);

  g_strdelimit (local, "' ", '.');
  return own (d, g_strdup_printf ("%s%u@%s", local, ++d->serial % 997, domains[pick (d, 3)]));
}

static const char *
tags (BenchData *d)
{
  guint n = 1 + pick (d, 3);
  g_autoptr (GString) s = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (s, "%s%s", i ? ", " : "", themes[pick (d, G_N_ELEMENTS (themes))]);
  return own (d, g_string_free (g_steal_pointer (&s), FALSE));
}

gsize
bench_data_org (BenchData *d, SpFieldValue values[BENCH_DATA_MAX_VALUES])
{
  guint s = script (d);
  const Place *place = &places[pick (d, G_N_ELEMENTS (places))];
  const Word *adj = &adjectives[pick (d, G_N_ELEMENTS (adjectives))];
  const Word *noun = &nouns[pick (d, G_N_ELEMENTS (nouns))];
  guint form = pick (d, G_N_ELEMENTS (org_forms));
  gsize n = 0;

  g_ptr_array_set_size (d->strings, 0);
  if (s == 2)
    add (values, &n, "name",
         own (d, g_strdup_printf ("%s %s %s %s", adj->lat, noun->lat, org_forms[form].lat,
                                  place->name.lat)));
  else
    add (values, &n, "name",
         own (d,
              g_strdup_printf ("%s «%s %s» (%s)", spelling (&org_forms[form], s), spelling (adj, s),
                               spelling (noun, s), spelling (&place->name, s))));
  if (s != 2 && chance (d, 0.3))
    add (values, &n, "name_alt",
         own (d, g_strdup_printf ("%s %s, %s", adj->lat, noun->lat, place->name.lat)));
  add (values, &n, "kind", org_kinds[MIN (form, G_N_ELEMENTS (org_kinds) - 1)]);
  add (values, &n, "status", statuses[pick (d, G_N_ELEMENTS (statuses))]);
  if (chance (d, 0.6))
    add (values, &n, "member_since", date (d));
  add (values, &n, "region", place->region);
  add (values, &n, "locality", spelling (&place->name, s));
  add (values, &n, "themes", tags (d));
  if (chance (d, 0.5))
    add (values, &n, "email", email (d, noun->lat));
  if (chance (d, 0.5))
    add (values, &n, "phone", phone (d));
  if (chance (d, 0.2))
    add (values, &n, "website",
         own (d, g_strdup_printf ("https://%s-%u.example.org", place->name.lat, pick (d, 1000))));
  if (chance (d, 0.3))
    add (values, &n, "notes", note (d, spelling (&place->name, s)));
  add (values, &n, "sensitivity", chance (d, 0.1) ? "high" : "normal");
  return n;
}

gsize
bench_data_person (BenchData *d, SpFieldValue values[BENCH_DATA_MAX_VALUES])
{
  guint s = script (d);
  const Word *first = &first_names[pick (d, G_N_ELEMENTS (first_names))];
  const Word *last = &surnames[pick (d, G_N_ELEMENTS (surnames))];
  const Place *place = &places[pick (d, G_N_ELEMENTS (places))];
  gsize n = 0;
  gboolean high = chance (d, 0.05);

  g_ptr_array_set_size (d->strings, 0);
  add (values, &n, "full_name",
       own (d, g_strdup_printf ("%s %s", spelling (first, s), spelling (last, s))));
  if (high) /* a pseudonym is required */
    add (values, &n, "display_name",
         own (d, g_strdup_printf ("%s-%u", spelling (&nouns[pick (d, G_N_ELEMENTS (nouns))], s),
                                  pick (d, 1000))));
  else if (chance (d, 0.1))
    add (values, &n, "display_name", spelling (first, script (d)));
  add (values, &n, "region", place->region);
  add (values, &n, "locality", spelling (&place->name, s));
  if (chance (d, 0.6))
    add (values, &n, "email", email (d, last->lat));
  if (chance (d, 0.6))
    add (values, &n, "phone", phone (d));
  if (chance (d, 0.1))
    add (values, &n, "secure_contact",
         own (d, g_strdup_printf ("@%s_%u", first->lat, pick (d, 10000))));
  if (chance (d, 0.2))
    add (values, &n, "notes", note (d, spelling (&place->name, s)));
  add (values, &n, "sensitivity", high ? "high" : "normal");
  return n;
}

/* Appends every prefix of @text, one letter more each time. */
static void
type_letters (GPtrArray *out, const char *text, guint n)
{
  for (const char *p = g_utf8_next_char (text); out->len < n; p = g_utf8_next_char (p))
    {
      g_ptr_array_add (out, g_strndup (text, (gsize)(p - text)));
      if (*p == '\0')
        break;
    }
}

GPtrArray *
bench_data_queries (BenchData *d, guint n)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  while (out->len < n)
    {
      double x = g_rand_double (d->rand);
      guint s = script (d);
      g_autofree char *text = NULL;

      if (x < 0.40) /* a person by surname */
        text = g_strdup (spelling (&surnames[pick (d, G_N_ELEMENTS (surnames))], s));
      else if (x < 0.55) /* a person by first name and surname */
        text = g_strdup_printf ("%s %s",
                                spelling (&first_names[pick (d, G_N_ELEMENTS (first_names))], s),
                                spelling (&surnames[pick (d, G_N_ELEMENTS (surnames))], s));
      else if (x < 0.70) /* a town */
        text = g_strdup (spelling (&places[pick (d, G_N_ELEMENTS (places))].name, s));
      else if (x < 0.85) /* a word of an organisation's name */
        text = g_strdup (spelling (&nouns[pick (d, G_N_ELEMENTS (nouns))], s));
      else /* mixed scripts: a Latin surname and a Cyrillic town, or the other way */
        text = g_strdup_printf (
            "%s %s", spelling (&surnames[pick (d, G_N_ELEMENTS (surnames))], s == 2 ? 0 : 2),
            spelling (&places[pick (d, G_N_ELEMENTS (places))].name, s == 2 ? 1 : 2));
      type_letters (out, text, n);
    }
  return out;
}
