/* sp-labels.c — translated names for kinds, fields and enum values.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>

#include "supolka-core.h"
#include "sp-format.h"
#include "sp-labels.h"

typedef struct
{
  const char *key;
  const char *label;
} Label;

static const char *
lookup (const Label *table, gsize n, const char *key)
{
  for (gsize i = 0; i < n; i++)
    if (g_strcmp0 (table[i].key, key) == 0)
      return _ (table[i].label);
  return NULL;
}

static const Label kinds_plural[] = {
  { "org", N_ ("Organisations") },
  { "person", N_ ("People") },
  { "affiliation", N_ ("Affiliations") },
  { "project", N_ ("Projects") },
  { "event", N_ ("Events") },
  { "participation", N_ ("Participations") },
  { "note", N_ ("Notes") },
};

static const Label kinds_singular[] = {
  { "org", N_ ("Organisation") },
  { "person", N_ ("Person") },
  { "affiliation", N_ ("Affiliation") },
  { "project", N_ ("Project") },
  { "event", N_ ("Event") },
  { "participation", N_ ("Participation") },
  { "note", N_ ("Note") },
};

static const Label fields[] = {
  { "name", N_ ("Name") },
  { "name_alt", N_ ("Other name or spelling") },
  { "status", N_ ("Status") },
  { "member_since", N_ ("Member since") },
  { "region", N_ ("Region") },
  { "locality", N_ ("Town or village") },
  { "themes", N_ ("Themes") },
  { "email", N_ ("Email") },
  { "phone", N_ ("Phone") },
  { "website", N_ ("Website") },
  { "secure_contact", N_ ("Secure contact") },
  { "notes", N_ ("Notes") },
  { "sensitivity", N_ ("Sensitivity") },
  { "full_name", N_ ("Full name") },
  { "display_name", N_ ("Pseudonym") },
  { "person", N_ ("Person") },
  { "org", N_ ("Organisation") },
  { "role", N_ ("Role") },
  { "since", N_ ("Since") },
  { "until", N_ ("Until") },
  { "title", N_ ("Title") },
  { "description", N_ ("Description") },
  { "start_date", N_ ("Start date") },
  { "end_date", N_ ("End date") },
  { "regions", N_ ("Regions") },
  { "lead_org", N_ ("Lead organisation") },
  { "funder", N_ ("Funder") },
  { "tags", N_ ("Tags") },
  { "project", N_ ("Project") },
  { "declared_participants", N_ ("Declared participants") },
  { "event", N_ ("Event") },
  { "target", N_ ("Attached to") },
  { "date", N_ ("Date") },
  { "text", N_ ("Text") },
};

static const Label regions[] = {
  { "brest", N_ ("Brest region") },        { "vitebsk", N_ ("Vitebsk region") },
  { "gomel", N_ ("Gomel region") },        { "grodno", N_ ("Grodno region") },
  { "minsk_region", N_ ("Minsk region") }, { "mogilev", N_ ("Mogilev region") },
  { "minsk_city", N_ ("Minsk (city)") },   { "abroad", N_ ("Abroad") },
};

static const Label org_kinds[] = {
  { "registered_ngo", N_ ("Registered NGO") },
  { "initiative", N_ ("Initiative") },
  { "foundation", N_ ("Foundation") },
  { "institution", N_ ("Institution") },
  { "other", N_ ("Other") },
};

static const Label event_kinds[] = {
  { "congress", N_ ("Congress") }, { "round_table", N_ ("Round table") }, { "forum", N_ ("Forum") },
  { "training", N_ ("Training") }, { "meeting", N_ ("Meeting") },         { "other", N_ ("Other") },
};

static const Label statuses[] = {
  { "member", N_ ("Member") },       { "candidate", N_ ("Candidate") },
  { "suspended", N_ ("Suspended") }, { "former", N_ ("Former member") },
  { "partner", N_ ("Partner") },     { "non_member", N_ ("Not a member") },
  { "planned", N_ ("Planned") },     { "active", N_ ("Active") },
  { "completed", N_ ("Completed") }, { "cancelled", N_ ("Cancelled") },
};

static const Label roles[] = {
  { "participant", N_ ("Participant") }, { "speaker", N_ ("Speaker") },
  { "organiser", N_ ("Organiser") },     { "trainer", N_ ("Trainer") },
  { "partner", N_ ("Partner") },
};

static const Label sensitivities[] = {
  { "normal", N_ ("Normal") },
  { "high", N_ ("High: show only the pseudonym") },
};

const char *
sp_label_kind_plural (const char *kind)
{
  const char *l = lookup (kinds_plural, G_N_ELEMENTS (kinds_plural), kind);
  return l ? l : kind;
}

const char *
sp_label_kind_singular (const char *kind)
{
  const char *l = lookup (kinds_singular, G_N_ELEMENTS (kinds_singular), kind);
  return l ? l : kind;
}

const char *
sp_label_field (const char *kind, const char *field)
{
  const char *l;

  if (g_strcmp0 (field, "kind") == 0)
    return g_strcmp0 (kind, "event") == 0 ? _ ("Kind of event") : _ ("Kind of organisation");
  l = lookup (fields, G_N_ELEMENTS (fields), field);
  return l ? l : field;
}

const char *
sp_label_value (const char *field, const char *value)
{
  const char *l = NULL;

  if (value == NULL)
    return NULL;
  if (g_strcmp0 (field, "region") == 0 || g_strcmp0 (field, "regions") == 0)
    l = lookup (regions, G_N_ELEMENTS (regions), value);
  else if (g_strcmp0 (field, "status") == 0)
    l = lookup (statuses, G_N_ELEMENTS (statuses), value);
  else if (g_strcmp0 (field, "role") == 0)
    l = lookup (roles, G_N_ELEMENTS (roles), value);
  else if (g_strcmp0 (field, "sensitivity") == 0)
    l = lookup (sensitivities, G_N_ELEMENTS (sensitivities), value);
  else if (g_strcmp0 (field, "kind") == 0)
    {
      l = lookup (org_kinds, G_N_ELEMENTS (org_kinds), value);
      if (l == NULL)
        l = lookup (event_kinds, G_N_ELEMENTS (event_kinds), value);
    }
  return l ? l : value;
}

char *
sp_label_format_value (const char *kind, const char *field, const char *value)
{
  const SpKindInfo *info = sp_kind_lookup (kind);
  const SpFieldInfo *f = info ? sp_kind_field (info, field) : NULL;

  if (value == NULL)
    return NULL;
  if (f && f->type == SP_FIELD_ENUM)
    return g_strdup (sp_label_value (field, value));
  if (f && f->type == SP_FIELD_DATE)
    return sp_format_date (value);
  if (f && f->type == SP_FIELD_INT)
    {
      guint64 n;
      if (g_ascii_string_to_unsigned (value, 10, 0, G_MAXINT64, &n, NULL))
        return sp_format_count ((gint64)n);
    }
  if (f && f->type == SP_FIELD_REGIONS)
    {
      g_auto (GStrv) parts = g_strsplit (value, ", ", -1);
      g_autoptr (GString) out = g_string_new (NULL);
      for (guint i = 0; parts[i]; i++)
        g_string_append_printf (out, "%s%s", i ? ", " : "", sp_label_value ("regions", parts[i]));
      return g_string_free (g_steal_pointer (&out), FALSE);
    }
  return g_strdup (value);
}

const char *
sp_label_field_hint (const char *kind, const char *field)
{
  const SpKindInfo *info = sp_kind_lookup (kind);
  const SpFieldInfo *f = info ? sp_kind_field (info, field) : NULL;

  if (f == NULL)
    return NULL;
  switch (f->type)
    {
      case SP_FIELD_DATE:
        return _ ("A year, a month or a day: 2024, 2024-05 or 2024-05-17");
      case SP_FIELD_TAGS:
        return _ ("Separate tags with commas");
      case SP_FIELD_PHONE:
        return _ ("For example +375 29 000-00-00");
      default:
        break;
    }
  if (g_strcmp0 (field, "display_name") == 0)
    return _ ("Shown instead of the real name when sensitivity is high");
  if (g_strcmp0 (field, "secure_contact") == 0)
    return _ ("For example a messenger handle");
  return NULL;
}
