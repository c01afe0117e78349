/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <json-glib/json-glib.h>

#include "vault-dump.h"

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *)a, *(const char *const *)b);
}

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

/* HLCs are unsigned 64-bit: printed as decimal strings so no JSON reader rounds them. */
static void
add_hlc (JsonBuilder *b, const char *name, guint64 hlc)
{
  g_autofree char *s = g_strdup_printf ("%" G_GUINT64_FORMAT, hlc);

  add_string (b, name, s);
}

static gboolean
dump_record (JsonBuilder *b, SpVault *vault, const SpKindInfo *kind, const char *id, GError **error)
{
  g_autoptr (SpRecord) r = sp_vault_get (vault, id, error);

  if (!r)
    return FALSE;
  json_builder_begin_object (b);
  add_string (b, "id", sp_record_get_id (r));
  add_string (b, "kind", sp_record_get_kind (r));
  add_string (b, "created", sp_record_get_created (r));
  add_hlc (b, "updated", sp_record_get_updated (r));
  add_int (b, "deleted", sp_record_is_deleted (r));
  add_int (b, "conflicts", sp_record_has_conflicts (r));
  add_int (b, "compartment", sp_record_get_compartment (r));
  add_string (b, "title", sp_record_get_title (r));
  json_builder_set_member_name (b, "fields");
  json_builder_begin_object (b);
  for (guint i = 0; i < kind->n_fields; i++)
    if (sp_record_get (r, kind->fields[i].name))
      add_string (b, kind->fields[i].name, sp_record_get (r, kind->fields[i].name));
  json_builder_end_object (b);
  json_builder_end_object (b);
  return TRUE;
}

static gboolean
dump_records (JsonBuilder *b, SpVault *vault, GError **error)
{
  SpFilter filter = { .include_deleted = TRUE };

  json_builder_set_member_name (b, "records");
  json_builder_begin_array (b);
  for (const SpKindInfo *const *k = sp_kinds (); *k; k++)
    {
      g_autoptr (GPtrArray) ids
          = sp_vault_list_ids (vault, (*k)->name, &filter, SP_SORT_TITLE, error);

      if (!ids)
        return FALSE;
      g_ptr_array_sort (ids, compare_strings);
      for (guint i = 0; i < ids->len; i++)
        if (!dump_record (b, vault, *k, ids->pdata[i], error))
          return FALSE;
    }
  json_builder_end_array (b);
  return TRUE;
}

static void
dump_change (JsonBuilder *b, const SpChange *c)
{
  json_builder_begin_object (b);
  add_int (b, "seq", c->seq);
  add_string (b, "record", c->record);
  add_string (b, "kind", c->kind);
  add_string (b, "field", c->field);
  add_string (b, "value", c->value);
  add_hlc (b, "hlc", c->hlc);
  add_string (b, "device", c->device);
  add_string (b, "supersedes", c->supersedes);
  add_int (b, "tx", c->tx);
  add_int (b, "comp", c->comp);
  add_int (b, "from_comp", c->from_comp);
  json_builder_end_object (b);
}

static gboolean
dump_changes (JsonBuilder *b, SpVault *vault, GError **error)
{
  g_autoptr (GPtrArray) all = sp_vault_all_changes (vault, error);
  gint64 last = 0;
  g_autoptr (GPtrArray) local = NULL;

  if (!all)
    return FALSE;
  json_builder_set_member_name (b, "changes");
  json_builder_begin_array (b);
  for (guint i = 0; i < all->len; i++)
    dump_change (b, all->pdata[i]);
  json_builder_end_array (b);

  local = sp_vault_local_changes (vault, 0, &last, error);
  if (!local)
    return FALSE;
  json_builder_set_member_name (b, "local_changes");
  json_builder_begin_array (b);
  for (guint i = 0; i < local->len; i++)
    dump_change (b, local->pdata[i]);
  json_builder_end_array (b);
  add_int (b, "local_last_seq", last);
  return TRUE;
}

static gboolean
dump_compartments (JsonBuilder *b, SpVault *vault, GError **error)
{
  g_autoptr (GPtrArray) all = sp_vault_compartments (vault, error);

  if (!all)
    return FALSE;
  json_builder_set_member_name (b, "compartments");
  json_builder_begin_array (b);
  for (guint i = 0; i < all->len; i++)
    {
      const SpCompartment *c = all->pdata[i];

      json_builder_begin_object (b);
      add_int (b, "id", c->id);
      add_string (b, "name", c->name);
      add_string (b, "uid", c->uid);
      add_int (b, "records", c->records);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return TRUE;
}

static gboolean
dump_conflicts (JsonBuilder *b, SpVault *vault, GError **error)
{
  g_autoptr (GPtrArray) conflicts = sp_vault_conflicts (vault, NULL, error);

  if (!conflicts)
    return FALSE;
  json_builder_set_member_name (b, "conflicts");
  json_builder_begin_array (b);
  for (guint i = 0; i < conflicts->len; i++)
    {
      const SpConflict *c = conflicts->pdata[i];

      json_builder_begin_object (b);
      add_int (b, "id", c->id);
      add_string (b, "record", c->record);
      add_string (b, "kind", c->kind);
      add_string (b, "field", c->field);
      add_string (b, "winner_value", c->winner_value);
      add_hlc (b, "winner_hlc", c->winner_hlc);
      add_string (b, "winner_device", c->winner_device);
      add_string (b, "other_value", c->other_value);
      add_hlc (b, "other_hlc", c->other_hlc);
      add_string (b, "other_device", c->other_device);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return TRUE;
}

/* Values are opaque (keys, chains): printed as hex. */
static gboolean
dump_sync_state (JsonBuilder *b, SpVault *vault, GError **error)
{
  g_autoptr (GPtrArray) keys = sp_vault_sync_keys (vault, "", error);

  if (!keys)
    return FALSE;
  json_builder_set_member_name (b, "sync_state");
  json_builder_begin_object (b);
  for (guint i = 0; i < keys->len; i++)
    {
      g_autoptr (GBytes) v = sp_vault_sync_get (vault, keys->pdata[i], error);
      gsize len = 0;
      const guint8 *d;
      g_autoptr (GString) hex = g_string_new (NULL);

      if (!v)
        return FALSE;
      d = g_bytes_get_data (v, &len);
      for (gsize j = 0; j < len; j++)
        g_string_append_printf (hex, "%02x", d[j]);
      add_string (b, keys->pdata[i], hex->str);
    }
  json_builder_end_object (b);
  return TRUE;
}

char *
vault_dump_json (SpVault *vault, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  add_string (b, "device_id", sp_vault_get_device_id (vault));
  if (!dump_records (b, vault, error) || !dump_compartments (b, vault, error)
      || !dump_changes (b, vault, error) || !dump_conflicts (b, vault, error)
      || !dump_sync_state (b, vault, error))
    return NULL;
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}
