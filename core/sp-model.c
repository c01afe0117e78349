/* The data model: kinds, their fields and allowed values, and validation.
 * Field names are the CLI's and the CSV's names (docs/DATA-MODEL.md).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>
#include <stdio.h>

#include "sp-vault-private.h"

static const char *const regions[] = { "brest",   "vitebsk",    "gomel",  "grodno", "minsk_region",
                                       "mogilev", "minsk_city", "abroad", NULL };
static const char *const org_kinds[]
    = { "registered_ngo", "initiative", "foundation", "institution", "other", NULL };
static const char *const org_statuses[]
    = { "member", "candidate", "suspended", "former", "partner", "non_member", NULL };
static const char *const sensitivities[] = { "normal", "high", NULL };
static const char *const project_statuses[]
    = { "planned", "active", "completed", "cancelled", NULL };
static const char *const event_kinds[]
    = { "congress", "round_table", "forum", "training", "meeting", "other", NULL };
static const char *const participation_roles[]
    = { "participant", "speaker", "organiser", "trainer", "partner", NULL };

#define F(n, t)                                                                                    \
  {                                                                                                \
    .name = n, .type = t                                                                           \
  }
#define FR(n, t)                                                                                   \
  {                                                                                                \
    .name = n, .type = t, .required = 1                                                            \
  }
#define FS(n, t)                                                                                   \
  {                                                                                                \
    .name = n, .type = t, .searchable = 1                                                          \
  }
#define FRS(n, t)                                                                                  \
  {                                                                                                \
    .name = n, .type = t, .required = 1, .searchable = 1                                           \
  }
#define FE(n, v)                                                                                   \
  {                                                                                                \
    .name = n, .type = SP_FIELD_ENUM, .values = v                                                  \
  }
#define FREF(n, k)                                                                                 \
  {                                                                                                \
    .name = n, .type = SP_FIELD_REF, .ref_kind = k                                                 \
  }
#define FSENS(n, t)                                                                                \
  {                                                                                                \
    .name = n, .type = t, .sensitive = 1                                                           \
  }

static const SpFieldInfo org_fields[] = {
  FRS ("name", SP_FIELD_TEXT),
  FS ("name_alt", SP_FIELD_TEXT),
  FE ("kind", org_kinds),
  FE ("status", org_statuses),
  F ("member_since", SP_FIELD_DATE),
  FE ("region", regions),
  FS ("locality", SP_FIELD_TEXT),
  FS ("themes", SP_FIELD_TAGS),
  FSENS ("email", SP_FIELD_EMAIL),
  FSENS ("phone", SP_FIELD_PHONE),
  F ("website", SP_FIELD_URL),
  FSENS ("secure_contact", SP_FIELD_TEXT),
  FS ("notes", SP_FIELD_LONG_TEXT),
  FE ("sensitivity", sensitivities),
};

static const SpFieldInfo person_fields[] = {
  FRS ("full_name", SP_FIELD_TEXT),
  FS ("display_name", SP_FIELD_TEXT),
  FE ("region", regions),
  FS ("locality", SP_FIELD_TEXT),
  FSENS ("email", SP_FIELD_EMAIL),
  FSENS ("phone", SP_FIELD_PHONE),
  FSENS ("secure_contact", SP_FIELD_TEXT),
  FS ("notes", SP_FIELD_LONG_TEXT),
  FE ("sensitivity", sensitivities),
};

static const SpFieldInfo affiliation_fields[] = {
  { .name = "person", .type = SP_FIELD_REF, .ref_kind = "person", .required = 1 },
  { .name = "org", .type = SP_FIELD_REF, .ref_kind = "org", .required = 1 },
  FS ("role", SP_FIELD_TEXT),
  F ("since", SP_FIELD_DATE),
  F ("until", SP_FIELD_DATE),
};

static const SpFieldInfo project_fields[] = {
  FRS ("title", SP_FIELD_TEXT),    FS ("description", SP_FIELD_LONG_TEXT),
  FE ("status", project_statuses), F ("start_date", SP_FIELD_DATE),
  F ("end_date", SP_FIELD_DATE),   F ("regions", SP_FIELD_REGIONS),
  FREF ("lead_org", "org"),        FS ("funder", SP_FIELD_TEXT),
  FS ("tags", SP_FIELD_TAGS),
};

static const SpFieldInfo event_fields[] = {
  FRS ("title", SP_FIELD_TEXT),     FE ("kind", event_kinds),
  F ("start_date", SP_FIELD_DATE),  F ("end_date", SP_FIELD_DATE),
  FE ("region", regions),           FS ("locality", SP_FIELD_TEXT),
  FREF ("project", "project"),      F ("declared_participants", SP_FIELD_INT),
  FS ("notes", SP_FIELD_LONG_TEXT),
};

static const SpFieldInfo participation_fields[] = {
  FREF ("person", "person"),        FREF ("org", "org"),
  FREF ("project", "project"),      FREF ("event", "event"),
  FE ("role", participation_roles),
};

static const SpFieldInfo note_fields[] = {
  { .name = "target", .type = SP_FIELD_REF, .ref_kind = NULL, .required = 1 },
  F ("date", SP_FIELD_DATE),
  { .name = "text", .type = SP_FIELD_LONG_TEXT, .required = 1, .searchable = 1 },
};

#define KIND(n, f, t)                                                                              \
  {                                                                                                \
    .name = n, .fields = f, .n_fields = G_N_ELEMENTS (f), .title_field = t                         \
  }

static const SpKindInfo kind_org = KIND ("org", org_fields, "name");
static const SpKindInfo kind_person = KIND ("person", person_fields, "full_name");
static const SpKindInfo kind_affiliation = KIND ("affiliation", affiliation_fields, "role");
static const SpKindInfo kind_project = KIND ("project", project_fields, "title");
static const SpKindInfo kind_event = KIND ("event", event_fields, "title");
static const SpKindInfo kind_participation = KIND ("participation", participation_fields, "role");
static const SpKindInfo kind_note = KIND ("note", note_fields, "text");

static const SpKindInfo *const all_kinds[] = {
  &kind_org,   &kind_person,        &kind_affiliation, &kind_project,
  &kind_event, &kind_participation, &kind_note,        NULL,
};

const SpKindInfo *const *
sp_kinds (void)
{
  return all_kinds;
}

const SpKindInfo *
sp_kind_lookup (const char *name)
{
  for (guint i = 0; all_kinds[i]; i++)
    if (g_strcmp0 (all_kinds[i]->name, name) == 0)
      return all_kinds[i];
  return NULL;
}

const SpFieldInfo *
sp_kind_field (const SpKindInfo *kind, const char *field)
{
  g_return_val_if_fail (kind != NULL, NULL);
  for (guint i = 0; i < kind->n_fields; i++)
    if (g_strcmp0 (kind->fields[i].name, field) == 0)
      return &kind->fields[i];
  return NULL;
}

const char *const *
sp_regions (void)
{
  return regions;
}

static gboolean
in_list (const char *const *list, const char *value)
{
  for (guint i = 0; list[i]; i++)
    if (g_str_equal (list[i], value))
      return TRUE;
  return FALSE;
}

static gboolean
invalid (GError **error, const SpFieldInfo *field, const char *value, const char *why)
{
  g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
               /* TRANSLATORS: field name, the value given, then why it is wrong */
               _ ("%s: \"%s\" is not valid: %s"), field->name, value, why);
  return FALSE;
}

static gboolean
has_control_chars (const char *s, gboolean allow_newlines)
{
  for (const char *p = s; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      if (allow_newlines && (c == '\n' || c == '\t' || c == '\r'))
        continue;
      if (g_unichar_iscntrl (c) || c == 0x2028 || c == 0x2029)
        return TRUE;
    }
  return FALSE;
}

/* YYYY, YYYY-MM, YYYY-MM-DD, or DD.MM.YYYY as Russian-locale Excel writes it. */
static char *
normalize_date (const char *s)
{
  int y = 0, m = 0, d = 0, n = 0;
  gsize len = strlen (s);

  if (len == 4 && sscanf (s, "%4d%n", &y, &n) == 1 && n == 4)
    return y >= 1800 && y <= 2200 ? g_strdup_printf ("%04d", y) : NULL;
  if (len == 7 && sscanf (s, "%4d-%2d%n", &y, &m, &n) == 2 && n == 7)
    return y >= 1800 && y <= 2200 && m >= 1 && m <= 12 ? g_strdup_printf ("%04d-%02d", y, m) : NULL;
  if ((len == 10 && sscanf (s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && n == 10 && s[4] == '-')
      || (len == 10 && sscanf (s, "%2d.%2d.%4d%n", &d, &m, &y, &n) == 3 && n == 10 && s[2] == '.'))
    {
      if (y < 1800 || y > 2200 || !g_date_valid_dmy ((GDateDay)d, (GDateMonth)m, (GDateYear)y))
        return NULL;
      return g_strdup_printf ("%04d-%02d-%02d", y, m, d);
    }
  return NULL;
}

static int
tag_cmp (gconstpointer a, gconstpointer b)
{
  g_autofree char *ka = g_utf8_casefold (*(const char **)a, -1);
  g_autofree char *kb = g_utf8_casefold (*(const char **)b, -1);
  int c = strcmp (ka, kb);

  return c ? c : strcmp (*(const char **)a, *(const char **)b);
}

static char *
normalize_tags (const SpFieldInfo *field, const char *value, GError **error)
{
  g_auto (GStrv) parts = g_strsplit_set (value, ",;", -1);
  g_autoptr (GPtrArray) tags = g_ptr_array_new ();
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; parts[i]; i++)
    {
      char *t = g_strstrip (parts[i]);
      gboolean dup = FALSE;

      if (*t == '\0')
        continue;
      if (field->type == SP_FIELD_REGIONS)
        {
          char *lower = g_ascii_strdown (t, -1);
          strcpy (t, lower);
          g_free (lower);
          if (!in_list (regions, t))
            {
              g_autofree char *allowed = g_strjoinv (", ", (char **)regions);
              g_autofree char *why = g_strdup_printf (_ ("allowed regions: %s"), allowed);
              return invalid (error, field, t, why), NULL;
            }
        }
      else if (g_utf8_strlen (t, -1) > 100)
        return invalid (error, field, t, _ ("a tag is longer than 100 characters")), NULL;
      for (guint j = 0; j < tags->len && !dup; j++)
        {
          g_autofree char *a = g_utf8_casefold (t, -1);
          g_autofree char *b = g_utf8_casefold (tags->pdata[j], -1);
          dup = g_str_equal (a, b);
        }
      if (!dup)
        g_ptr_array_add (tags, t);
    }
  g_ptr_array_sort (tags, tag_cmp);
  for (guint i = 0; i < tags->len; i++)
    {
      if (i)
        g_string_append (out, ", ");
      g_string_append (out, tags->pdata[i]);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
sp_field_normalize (const SpKindInfo *kind, const SpFieldInfo *field, const char *value,
                    GError **error)
{
  g_autofree char *v = NULL;

  g_return_val_if_fail (field != NULL, NULL);

  if (value == NULL)
    return g_strdup ("");
  if (!g_utf8_validate (value, -1, NULL))
    return invalid (error, field, "?", _ ("the text is not valid UTF-8")), NULL;
  if (strlen (value) > SP_MAX_VALUE_BYTES)
    return invalid (error, field, "…", _ ("the value is longer than 64 KiB")), NULL;

  v = g_strdup (value);
  if (field->type != SP_FIELD_LONG_TEXT)
    g_strstrip (v);
  if (*v == '\0')
    return g_steal_pointer (&v);
  if (has_control_chars (v, field->type == SP_FIELD_LONG_TEXT))
    return invalid (error, field, v, _ ("it contains control characters")), NULL;

  switch (field->type)
    {
      case SP_FIELD_TEXT:
        if (g_utf8_strlen (v, -1) > SP_MAX_TEXT_CHARS)
          return invalid (error, field, v, _ ("it is longer than 1000 characters")), NULL;
        return g_steal_pointer (&v);

      case SP_FIELD_LONG_TEXT:
        return g_steal_pointer (&v);

      case SP_FIELD_ENUM:
        {
          g_autofree char *lower = g_ascii_strdown (v, -1);
          if (!in_list (field->values, lower))
            {
              g_autofree char *allowed = g_strjoinv (", ", (char **)field->values);
              g_autofree char *why = g_strdup_printf (_ ("allowed values: %s"), allowed);
              return invalid (error, field, v, why), NULL;
            }
          return g_steal_pointer (&lower);
        }

      case SP_FIELD_DATE:
        {
          char *d = normalize_date (v);
          if (d == NULL)
            return invalid (error, field, v,
                            _ ("use a date such as 2024-05-17, 2024-05, 2024 or 17.05.2024")),
                   NULL;
          return d;
        }

      case SP_FIELD_INT:
        {
          guint64 n = 0;
          if (!g_ascii_string_to_unsigned (v, 10, 0, 100000000, &n, NULL))
            return invalid (error, field, v, _ ("use a whole number from 0 to 100000000")), NULL;
          return g_strdup_printf ("%" G_GUINT64_FORMAT, n);
        }

      case SP_FIELD_TAGS:
      case SP_FIELD_REGIONS:
        return normalize_tags (field, v, error);

      case SP_FIELD_REF:
        {
          g_autofree char *lower = g_ascii_strdown (v, -1);
          if (!sp_is_hex_id (lower))
            return invalid (error, field, v, _ ("use a record id (32 hexadecimal characters)")),
                   NULL;
          return g_steal_pointer (&lower);
        }

      case SP_FIELD_EMAIL:
        {
          const char *at = strchr (v, '@');
          if (strlen (v) > 254 || at == NULL || at == v || strchr (at + 1, '@')
              || strchr (at + 1, '.') == NULL || g_str_has_suffix (v, ".")
              || strpbrk (v, " \t<>,;\""))
            return invalid (error, field, v, _ ("use an address such as name@example.org")), NULL;
          return g_steal_pointer (&v);
        }

      case SP_FIELD_PHONE:
        {
          int digits = 0;
          for (const char *p = v; *p; p++)
            {
              if (g_ascii_isdigit (*p))
                digits++;
              else if (!strchr ("+-() .", *p))
                return invalid (
                           error, field, v,
                           _ ("use digits, spaces and + - ( ) . only, e.g. +375 29 123-45-67")),
                       NULL;
            }
          if (digits < 5 || digits > 20)
            return invalid (error, field, v, _ ("a phone number has 5 to 20 digits")), NULL;
          return g_steal_pointer (&v);
        }

      case SP_FIELD_URL:
        {
          const char *host = v;
          if (g_str_has_prefix (v, "https://"))
            host = v + 8;
          else if (g_str_has_prefix (v, "http://"))
            host = v + 7;
          else if (strstr (v, "://"))
            return invalid (error, field, v, _ ("only http:// and https:// addresses")), NULL;
          if (strlen (v) > 2000 || strpbrk (v, " \t<>\"") || strchr (host, '.') == NULL
              || *host == '.' || *host == '/')
            return invalid (error, field, v, _ ("use an address such as https://example.org")),
                   NULL;
          return g_steal_pointer (&v);
        }
    }
  g_assert_not_reached ();
}

static const char *
get (GHashTable *fields, const char *name)
{
  const char *v = g_hash_table_lookup (fields, name);

  return v && *v ? v : NULL;
}

static gboolean
order_check (GHashTable *fields, const char *from, const char *to, GError **error)
{
  const char *a = get (fields, from), *b = get (fields, to);

  /* ISO dates of any precision compare by prefix. */
  if (a && b && strncmp (b, a, MIN (strlen (a), strlen (b))) < 0)
    {
      g_set_error (
          error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
          /* TRANSLATORS: e.g. "end_date: "2023-01-01" is before start_date "2024-01-01"" */
          _ ("%s: \"%s\" is before %s \"%s\""), to, b, from, a);
      return FALSE;
    }
  return TRUE;
}

/* Rules across fields, checked on the whole record after a local write. */
gboolean
sp_kind_validate_record (const SpKindInfo *kind, GHashTable *fields, GError **error)
{
  for (guint i = 0; i < kind->n_fields; i++)
    if (kind->fields[i].required && get (fields, kind->fields[i].name) == NULL)
      {
        g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("%s: a value is required"),
                     kind->fields[i].name);
        return FALSE;
      }

  if (g_str_equal (kind->name, "project") || g_str_equal (kind->name, "event"))
    return order_check (fields, "start_date", "end_date", error);
  if (g_str_equal (kind->name, "affiliation"))
    return order_check (fields, "since", "until", error);
  if (g_str_equal (kind->name, "person") && g_strcmp0 (get (fields, "sensitivity"), "high") == 0
      && get (fields, "display_name") == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("display_name: a pseudonym is required when sensitivity is high"));
      return FALSE;
    }
  if (g_str_equal (kind->name, "participation"))
    {
      gboolean who = (get (fields, "person") != NULL) + (get (fields, "org") != NULL) == 1;
      gboolean what = (get (fields, "project") != NULL) + (get (fields, "event") != NULL) == 1;
      if (!who || !what)
        {
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                       _ ("participation: give exactly one of person or org, and exactly one of "
                          "project or event"));
          return FALSE;
        }
    }
  return TRUE;
}

char *
sp_record_compute_title (const char *kind, GHashTable *fields)
{
  const SpKindInfo *info = sp_kind_lookup (kind);
  const char *t;

  if (info == NULL)
    return g_strdup ("");
  if (g_str_equal (kind, "person") && g_strcmp0 (get (fields, "sensitivity"), "high") == 0
      && get (fields, "display_name"))
    t = get (fields, "display_name");
  else
    t = get (fields, info->title_field);
  if (t == NULL)
    return g_strdup ("");
  /* One line, at most 80 characters. */
  {
    g_autofree char *line = g_strndup (t, strcspn (t, "\r\n"));
    if (g_utf8_strlen (line, -1) > 80)
      {
        char *end = g_utf8_offset_to_pointer (line, 79);
        *end = '\0';
        return g_strconcat (line, "…", NULL);
      }
    return g_steal_pointer (&line);
  }
}

char *
sp_search_body (const char *kind, GHashTable *fields)
{
  const SpKindInfo *info = sp_kind_lookup (kind);
  g_autoptr (GString) raw = g_string_new (NULL);

  if (info == NULL)
    return g_strdup ("");
  for (guint i = 0; i < info->n_fields; i++)
    {
      const char *v;
      if (!info->fields[i].searchable)
        continue;
      v = get (fields, info->fields[i].name);
      if (v)
        {
          g_string_append (raw, v);
          g_string_append_c (raw, ' ');
        }
    }
  return sp_fold (raw->str);
}
