/* sp-record-model.c — lazy GListModel over record ids.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>

#include "sp-labels.h"
#include "sp-record-model.h"

/* ---- SpRecordItem ---------------------------------------------------------- */

struct _SpRecordItem
{
  GObject parent_instance;
  char *id;
  SpRecord *record;
  char *subtitle;
};

enum
{
  ITEM_PROP_0,
  ITEM_PROP_ID,
  ITEM_PROP_TITLE,
  ITEM_PROP_SUBTITLE,
  ITEM_N_PROPS
};

static GParamSpec *item_props[ITEM_N_PROPS];

G_DEFINE_FINAL_TYPE (SpRecordItem, sp_record_item, G_TYPE_OBJECT)

static void
sp_record_item_finalize (GObject *object)
{
  SpRecordItem *self = SP_RECORD_ITEM (object);

  g_free (self->id);
  g_free (self->subtitle);
  g_clear_pointer (&self->record, sp_record_unref);
  G_OBJECT_CLASS (sp_record_item_parent_class)->finalize (object);
}

static void
sp_record_item_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  SpRecordItem *self = SP_RECORD_ITEM (object);

  switch (prop_id)
    {
      case ITEM_PROP_ID:
        g_value_set_string (value, self->id);
        break;
      case ITEM_PROP_TITLE:
        g_value_set_string (value, sp_record_item_get_title (self));
        break;
      case ITEM_PROP_SUBTITLE:
        g_value_set_string (value, self->subtitle);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
sp_record_item_class_init (SpRecordItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = sp_record_item_finalize;
  object_class->get_property = sp_record_item_get_property;
  item_props[ITEM_PROP_ID]
      = g_param_spec_string ("id", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  item_props[ITEM_PROP_TITLE]
      = g_param_spec_string ("title", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  item_props[ITEM_PROP_SUBTITLE] = g_param_spec_string ("subtitle", NULL, NULL, NULL,
                                                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, ITEM_N_PROPS, item_props);
}

static void
sp_record_item_init (SpRecordItem *self)
{
}

char *
sp_record_describe (SpRecord *record)
{
  const char *kind = sp_record_get_kind (record);
  static const char *const org_fields[] = { "region", "locality", "status", NULL };
  static const char *const person_fields[] = { "region", "locality", NULL };
  static const char *const project_fields[] = { "status", "start_date", "funder", NULL };
  static const char *const event_fields[] = { "start_date", "kind", "locality", NULL };
  static const char *const other_fields[] = { "role", "date", "since", NULL };
  const char *const *list = other_fields;
  g_autoptr (GString) out = g_string_new (NULL);

  if (g_str_equal (kind, "org"))
    list = org_fields;
  else if (g_str_equal (kind, "person"))
    list = person_fields;
  else if (g_str_equal (kind, "project"))
    list = project_fields;
  else if (g_str_equal (kind, "event"))
    list = event_fields;
  for (guint i = 0; list[i]; i++)
    {
      g_autofree char *v = sp_label_format_value (kind, list[i], sp_record_get (record, list[i]));
      if (v == NULL)
        continue;
      if (out->len)
        g_string_append (out, " · ");
      g_string_append (out, v);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

SpRecordItem *
sp_record_item_new (const char *id, SpRecord *record)
{
  SpRecordItem *self = g_object_new (SP_TYPE_RECORD_ITEM, NULL);

  self->id = g_strdup (id);
  if (record)
    {
      self->record = sp_record_ref (record);
      self->subtitle = sp_record_describe (record);
    }
  return self;
}

const char *
sp_record_item_get_id (SpRecordItem *self)
{
  g_return_val_if_fail (SP_IS_RECORD_ITEM (self), NULL);
  return self->id;
}

const char *
sp_record_item_get_title (SpRecordItem *self)
{
  const char *t;

  g_return_val_if_fail (SP_IS_RECORD_ITEM (self), NULL);
  if (self->record == NULL)
    return _ ("(removed)");
  t = sp_record_get_title (self->record);
  return t && *t ? t : _ ("(untitled)");
}

const char *
sp_record_item_get_subtitle (SpRecordItem *self)
{
  g_return_val_if_fail (SP_IS_RECORD_ITEM (self), NULL);
  return self->subtitle;
}

SpRecord *
sp_record_item_get_record (SpRecordItem *self)
{
  g_return_val_if_fail (SP_IS_RECORD_ITEM (self), NULL);
  return self->record;
}

/* ---- SpRecordModel --------------------------------------------------------- */

struct _SpRecordModel
{
  GObject parent_instance;
  SpVault *vault; /* borrowed */
  char *kind;
  GPtrArray *ids;   /* char * */
  GPtrArray *items; /* SpRecordItem * or NULL, same length as ids */
  char *region, *status, *kind_value, *tag, *search;
  SpSortOrder sort;
};

static void
item_unref0 (gpointer p)
{
  if (p)
    g_object_unref (p);
}

static GType
sp_record_model_get_item_type (GListModel *list)
{
  return SP_TYPE_RECORD_ITEM;
}

static guint
sp_record_model_get_n_items (GListModel *list)
{
  return SP_RECORD_MODEL (list)->ids->len;
}

static gpointer
sp_record_model_get_item (GListModel *list, guint position)
{
  SpRecordModel *self = SP_RECORD_MODEL (list);
  SpRecordItem *item;

  if (position >= self->ids->len)
    return NULL;
  item = g_ptr_array_index (self->items, position);
  if (item == NULL)
    {
      const char *id = g_ptr_array_index (self->ids, position);
      g_autoptr (SpRecord) rec = self->vault ? sp_vault_get (self->vault, id, NULL) : NULL;

      item = sp_record_item_new (id, rec);
      self->items->pdata[position] = item;
    }
  return g_object_ref (item);
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = sp_record_model_get_item_type;
  iface->get_n_items = sp_record_model_get_n_items;
  iface->get_item = sp_record_model_get_item;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (SpRecordModel, sp_record_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

static void
sp_record_model_finalize (GObject *object)
{
  SpRecordModel *self = SP_RECORD_MODEL (object);

  g_ptr_array_unref (self->ids);
  g_ptr_array_unref (self->items);
  g_free (self->kind);
  g_free (self->region);
  g_free (self->status);
  g_free (self->kind_value);
  g_free (self->tag);
  g_free (self->search);
  G_OBJECT_CLASS (sp_record_model_parent_class)->finalize (object);
}

static void
sp_record_model_class_init (SpRecordModelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sp_record_model_finalize;
}

static void
sp_record_model_init (SpRecordModel *self)
{
  self->ids = g_ptr_array_new_with_free_func (g_free);
  self->items = g_ptr_array_new_with_free_func (item_unref0);
}

SpRecordModel *
sp_record_model_new (SpVault *vault, const char *kind)
{
  SpRecordModel *self = g_object_new (SP_TYPE_RECORD_MODEL, NULL);

  self->vault = vault;
  self->kind = g_strdup (kind);
  return self;
}

const char *
sp_record_model_get_kind (SpRecordModel *self)
{
  g_return_val_if_fail (SP_IS_RECORD_MODEL (self), NULL);
  return self->kind;
}

static char *
dup_nonempty (const char *s)
{
  return s && *s ? g_strdup (s) : NULL;
}

void
sp_record_model_set_filter (SpRecordModel *self, const SpFilter *filter)
{
  g_return_if_fail (SP_IS_RECORD_MODEL (self));
  g_clear_pointer (&self->region, g_free);
  g_clear_pointer (&self->status, g_free);
  g_clear_pointer (&self->kind_value, g_free);
  g_clear_pointer (&self->tag, g_free);
  g_clear_pointer (&self->search, g_free);
  if (filter == NULL)
    return;
  self->region = dup_nonempty (filter->region);
  self->status = dup_nonempty (filter->status);
  self->kind_value = dup_nonempty (filter->kind);
  self->tag = dup_nonempty (filter->tag);
  self->search = dup_nonempty (filter->search);
}

void
sp_record_model_set_sort (SpRecordModel *self, SpSortOrder sort)
{
  g_return_if_fail (SP_IS_RECORD_MODEL (self));
  self->sort = sort;
}

static void
replace_rows (SpRecordModel *self, GPtrArray *ids)
{
  guint old_n = self->ids->len;

  g_ptr_array_unref (self->ids);
  g_ptr_array_unref (self->items);
  self->ids = ids;
  self->items = g_ptr_array_new_full (ids->len, item_unref0);
  g_ptr_array_set_size (self->items, ids->len);
  if (old_n || ids->len)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, old_n, ids->len);
}

gboolean
sp_record_model_reload (SpRecordModel *self, GError **error)
{
  SpFilter f = { 0 };
  GPtrArray *ids;

  g_return_val_if_fail (SP_IS_RECORD_MODEL (self), FALSE);
  if (self->vault == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_LOCKED, _ ("The vault is locked"));
      return FALSE;
    }
  f.region = self->region;
  f.status = self->status;
  f.kind = self->kind_value;
  f.tag = self->tag;
  f.search = self->search;
  ids = sp_vault_list_ids (self->vault, self->kind, &f, self->sort, error);
  if (ids == NULL)
    return FALSE;
  replace_rows (self, ids);
  return TRUE;
}

guint
sp_record_model_find (SpRecordModel *self, const char *id)
{
  g_return_val_if_fail (SP_IS_RECORD_MODEL (self), G_MAXUINT);
  for (guint i = 0; id && i < self->ids->len; i++)
    if (g_str_equal (g_ptr_array_index (self->ids, i), id))
      return i;
  return G_MAXUINT;
}

void
sp_record_model_empty (SpRecordModel *self)
{
  g_return_if_fail (SP_IS_RECORD_MODEL (self));
  replace_rows (self, g_ptr_array_new_with_free_func (g_free));
}

void
sp_record_model_clear (SpRecordModel *self)
{
  g_return_if_fail (SP_IS_RECORD_MODEL (self));
  self->vault = NULL;
  replace_rows (self, g_ptr_array_new_with_free_func (g_free));
  sp_record_model_set_filter (self, NULL);
}
