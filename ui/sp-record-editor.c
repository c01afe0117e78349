/* sp-record-editor.c — a form for one record, built from the data model.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <string.h>

#include "sp-compartments.h"
#include "sp-labels.h"
#include "sp-record-editor.h"
#include "sp-secret-window.h"
#include "sp-ref-chooser.h"

typedef struct
{
  const SpFieldInfo *info;
  GtkWidget *box;   /* label + input + hint + error */
  GtkWidget *input; /* GtkEntry, GtkTextView, GtkDropDown, GtkFlowBox, SpRefChooser */
  GtkWidget *error_label;
  char *error;
  char *fixed; /* hidden preset value */
  gboolean is_fixed;
} Field;

struct _SpRecordEditor
{
  GtkWidget parent_instance;
  SpVault *vault; /* borrowed */
  const SpKindInfo *kind;
  SpRecord *record;
  GtkWidget *scrolled;
  GtkWidget *form;
  GtkWidget *error_label; /* errors that name no field */
  GArray *fields;         /* of Field */
  GtkWidget *compartment; /* the chooser, or NULL when only main is held */
};

G_DEFINE_FINAL_TYPE (SpRecordEditor, sp_record_editor, GTK_TYPE_WIDGET)

static void
field_clear (gpointer p)
{
  Field *f = p;

  g_free (f->error);
  g_free (f->fixed);
}

static Field *
find_field (SpRecordEditor *self, const char *name)
{
  for (guint i = 0; name && i < self->fields->len; i++)
    {
      Field *f = &g_array_index (self->fields, Field, i);
      if (g_str_equal (f->info->name, name))
        return f;
    }
  return NULL;
}

/* Enum choices: index 0 is "not set", then the allowed values. */
static GtkWidget *
make_enum_input (const SpFieldInfo *info)
{
  g_autoptr (GtkStringList) list = gtk_string_list_new (NULL);
  GtkWidget *dd;

  gtk_string_list_append (list, _ ("Not set"));
  for (guint i = 0; info->values && info->values[i]; i++)
    gtk_string_list_append (list, sp_label_value (info->name, info->values[i]));
  dd = gtk_drop_down_new (G_LIST_MODEL (g_steal_pointer (&list)), NULL);
  return dd;
}

static GtkWidget *
make_regions_input (void)
{
  const char *const *regions = sp_regions ();
  GtkWidget *flow = gtk_flow_box_new ();

  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (flow), GTK_SELECTION_NONE);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (flow), 4);
  gtk_flow_box_set_min_children_per_line (GTK_FLOW_BOX (flow), 1);
  for (guint i = 0; regions[i]; i++)
    {
      GtkWidget *check = gtk_check_button_new_with_label (sp_label_value ("regions", regions[i]));
      g_object_set_data_full (G_OBJECT (check), "sp-region", g_strdup (regions[i]), g_free);
      gtk_flow_box_append (GTK_FLOW_BOX (flow), check);
    }
  return flow;
}

static void
regions_foreach (GtkWidget *flow, void (*fn) (GtkCheckButton *, const char *, gpointer),
                 gpointer data)
{
  for (GtkWidget *child = gtk_widget_get_first_child (flow); child;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *check = gtk_flow_box_child_get_child (GTK_FLOW_BOX_CHILD (child));
      fn (GTK_CHECK_BUTTON (check), g_object_get_data (G_OBJECT (check), "sp-region"), data);
    }
}

static void
region_set_cb (GtkCheckButton *check, const char *code, gpointer data)
{
  g_auto (GStrv) parts = g_strsplit (data ? data : "", ",", -1);
  gboolean on = FALSE;

  for (guint i = 0; parts[i]; i++)
    if (g_str_equal (g_strstrip (parts[i]), code))
      on = TRUE;
  gtk_check_button_set_active (check, on);
}

static void
region_get_cb (GtkCheckButton *check, const char *code, gpointer data)
{
  GString *out = data;

  if (!gtk_check_button_get_active (check))
    return;
  if (out->len)
    g_string_append (out, ", ");
  g_string_append (out, code);
}

static GtkWidget *
make_input (SpRecordEditor *self, const SpFieldInfo *info, GtkWidget **focus)
{
  GtkWidget *w;

  switch (info->type)
    {
      case SP_FIELD_LONG_TEXT:
        {
          GtkWidget *sw = gtk_scrolled_window_new ();
          w = gtk_text_view_new ();
          gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (w), GTK_WRAP_WORD_CHAR);
          gtk_text_view_set_accepts_tab (GTK_TEXT_VIEW (w), FALSE);
          gtk_text_view_set_top_margin (GTK_TEXT_VIEW (w), 6);
          gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (w), 6);
          gtk_text_view_set_left_margin (GTK_TEXT_VIEW (w), 6);
          gtk_text_view_set_right_margin (GTK_TEXT_VIEW (w), 6);
          gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (sw), w);
          gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (sw), 96);
          gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (sw), GTK_POLICY_NEVER,
                                          GTK_POLICY_AUTOMATIC);
          gtk_widget_add_css_class (sw, "card");
          *focus = w;
          g_object_set_data (G_OBJECT (w), "sp-outer", sw);
          return w;
        }
      case SP_FIELD_ENUM:
        w = make_enum_input (info);
        break;
      case SP_FIELD_REGIONS:
        w = make_regions_input ();
        break;
      case SP_FIELD_REF:
        if (info->ref_kind)
          {
            w = sp_ref_chooser_new (self->vault, info->ref_kind);
            *focus = sp_ref_chooser_get_button (SP_REF_CHOOSER (w));
            return w;
          }
        /* A ref to any kind (note.target) is only ever preset: show it read-only. */
        w = gtk_entry_new ();
        gtk_editable_set_editable (GTK_EDITABLE (w), FALSE);
        break;
      default:
        w = gtk_entry_new ();
        gtk_entry_set_activates_default (GTK_ENTRY (w), TRUE);
        if (info->type == SP_FIELD_EMAIL)
          gtk_entry_set_input_purpose (GTK_ENTRY (w), GTK_INPUT_PURPOSE_EMAIL);
        else if (info->type == SP_FIELD_PHONE)
          gtk_entry_set_input_purpose (GTK_ENTRY (w), GTK_INPUT_PURPOSE_PHONE);
        else if (info->type == SP_FIELD_URL)
          gtk_entry_set_input_purpose (GTK_ENTRY (w), GTK_INPUT_PURPOSE_URL);
        else if (info->type == SP_FIELD_INT)
          gtk_entry_set_input_purpose (GTK_ENTRY (w), GTK_INPUT_PURPOSE_DIGITS);
        if (info->type == SP_FIELD_DATE)
          gtk_entry_set_placeholder_text (GTK_ENTRY (w), _ ("YYYY-MM-DD"));
        break;
    }
  *focus = w;
  return w;
}

static GtkWidget *
outer_of (GtkWidget *input)
{
  GtkWidget *outer = g_object_get_data (G_OBJECT (input), "sp-outer");
  return outer ? outer : input;
}

void
sp_record_editor_set_value (SpRecordEditor *self, const char *field, const char *value)
{
  Field *f;

  g_return_if_fail (SP_IS_RECORD_EDITOR (self));
  f = find_field (self, field);
  g_return_if_fail (f != NULL);
  switch (f->info->type)
    {
      case SP_FIELD_LONG_TEXT:
        gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (f->input)),
                                  value ? value : "", -1);
        break;
      case SP_FIELD_ENUM:
        {
          guint pos = 0;
          for (guint i = 0; value && f->info->values && f->info->values[i]; i++)
            if (g_ascii_strcasecmp (f->info->values[i], value) == 0)
              pos = i + 1;
          gtk_drop_down_set_selected (GTK_DROP_DOWN (f->input), pos);
          break;
        }
      case SP_FIELD_REGIONS:
        regions_foreach (f->input, region_set_cb, (gpointer)value);
        break;
      case SP_FIELD_REF:
        if (SP_IS_REF_CHOOSER (f->input))
          {
            sp_ref_chooser_set_value (SP_REF_CHOOSER (f->input), value);
            break;
          }
        G_GNUC_FALLTHROUGH;
      default:
        gtk_editable_set_text (GTK_EDITABLE (f->input), value ? value : "");
        break;
    }
}

char *
sp_record_editor_get_value (SpRecordEditor *self, const char *field)
{
  Field *f;
  char *v = NULL;

  g_return_val_if_fail (SP_IS_RECORD_EDITOR (self), NULL);
  f = find_field (self, field);
  g_return_val_if_fail (f != NULL, NULL);
  if (f->is_fixed)
    return g_strdup (f->fixed);
  switch (f->info->type)
    {
      case SP_FIELD_LONG_TEXT:
        {
          GtkTextBuffer *buf = gtk_text_view_get_buffer (GTK_TEXT_VIEW (f->input));
          GtkTextIter a, b;
          gtk_text_buffer_get_bounds (buf, &a, &b);
          v = gtk_text_buffer_get_text (buf, &a, &b, FALSE);
          break;
        }
      case SP_FIELD_ENUM:
        {
          guint pos = gtk_drop_down_get_selected (GTK_DROP_DOWN (f->input));
          if (pos != GTK_INVALID_LIST_POSITION && pos > 0)
            v = g_strdup (f->info->values[pos - 1]);
          break;
        }
      case SP_FIELD_REGIONS:
        {
          GString *out = g_string_new (NULL);
          regions_foreach (f->input, region_get_cb, out);
          v = g_string_free (out, FALSE);
          break;
        }
      case SP_FIELD_REF:
        if (SP_IS_REF_CHOOSER (f->input))
          {
            v = g_strdup (sp_ref_chooser_get_value (SP_REF_CHOOSER (f->input)));
            break;
          }
        G_GNUC_FALLTHROUGH;
      default:
        v = g_strdup (gtk_editable_get_text (GTK_EDITABLE (f->input)));
        break;
    }
  if (v && *v == '\0')
    g_clear_pointer (&v, g_free);
  return v;
}

void
sp_record_editor_set_fixed (SpRecordEditor *self, const char *field, const char *value)
{
  Field *f;

  g_return_if_fail (SP_IS_RECORD_EDITOR (self));
  f = find_field (self, field);
  g_return_if_fail (f != NULL);
  g_free (f->fixed);
  f->fixed = g_strdup (value);
  f->is_fixed = TRUE;
  gtk_widget_set_visible (f->box, FALSE);
}

static void
set_field_error (Field *f, const char *message)
{
  g_free (f->error);
  f->error = g_strdup (message);
  gtk_label_set_text (GTK_LABEL (f->error_label), message ? message : "");
  gtk_widget_set_visible (f->error_label, message != NULL);
  if (message)
    gtk_widget_add_css_class (outer_of (f->input), "error");
  else
    gtk_widget_remove_css_class (outer_of (f->input), "error");
  gtk_accessible_update_state (GTK_ACCESSIBLE (f->input), GTK_ACCESSIBLE_STATE_INVALID,
                               message ? GTK_ACCESSIBLE_INVALID_TRUE : GTK_ACCESSIBLE_INVALID_FALSE,
                               -1);
}

static void
clear_errors (SpRecordEditor *self)
{
  for (guint i = 0; i < self->fields->len; i++)
    set_field_error (&g_array_index (self->fields, Field, i), NULL);
  gtk_widget_set_visible (self->error_label, FALSE);
}

static void
focus_field (Field *f)
{
  GtkWidget *w = SP_IS_REF_CHOOSER (f->input)
                     ? sp_ref_chooser_get_button (SP_REF_CHOOSER (f->input))
                     : f->input;
  gtk_widget_grab_focus (w);
}

/* Core messages start with the field's name ("end_date: ..."): show the
 * rest on that field. Returns TRUE when a field took the message. */
static gboolean
show_core_error (SpRecordEditor *self, const GError *error)
{
  const char *colon = strchr (error->message, ':');
  g_autofree char *name = colon ? g_strndup (error->message, colon - error->message) : NULL;
  Field *f = find_field (self, name);

  if (f && !f->is_fixed)
    {
      const char *rest = colon + 1;
      while (*rest == ' ')
        rest++;
      set_field_error (f, rest);
      focus_field (f);
      return TRUE;
    }
  gtk_label_set_text (GTK_LABEL (self->error_label), error->message);
  gtk_widget_set_visible (self->error_label, TRUE);
  return FALSE;
}

/* ---- The compartment chooser (docs/COMPARTMENTS.md) ---- */

static gint64
chosen_compartment (SpRecordEditor *self)
{
  return self->compartment ? sp_compartment_dropdown_get (self->compartment)
                           : sp_vault_get_default_compartment (self->vault);
}

/* An existing record whose compartment was changed in the chooser moves. */
static gboolean
move_if_chosen (SpRecordEditor *self, GError **error)
{
  gint64 comp;

  if (self->compartment == NULL)
    return TRUE;
  comp = sp_compartment_dropdown_get (self->compartment);
  if (comp == sp_record_get_compartment (self->record))
    return TRUE;
  return sp_vault_move (self->vault, sp_record_get_id (self->record), comp, error);
}

/* Shown only when this device holds more than main. */
static void
add_compartment_chooser (SpRecordEditor *self)
{
  gint64 current = self->record ? sp_record_get_compartment (self->record)
                                : sp_vault_get_default_compartment (self->vault);
  GtkWidget *dd = sp_compartment_dropdown_new (self->vault, current);
  GtkWidget *box, *label, *hint;

  if (sp_compartment_dropdown_count (dd) < 2)
    {
      g_object_ref_sink (dd);
      g_object_unref (dd);
      return;
    }
  self->compartment = dd;
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  label = gtk_label_new_with_mnemonic (_ ("Co_mpartment"));
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), dd);
  hint = gtk_label_new (_ ("Only the devices that hold this compartment receive the record."));
  gtk_label_set_xalign (GTK_LABEL (hint), 0);
  gtk_label_set_wrap (GTK_LABEL (hint), TRUE);
  gtk_widget_add_css_class (hint, "caption");
  gtk_widget_add_css_class (hint, "dim-label");
  gtk_widget_set_halign (dd, GTK_ALIGN_START);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), dd);
  gtk_box_append (GTK_BOX (box), hint);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (dd), GTK_ACCESSIBLE_RELATION_LABELLED_BY, label,
                                  NULL, GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, hint, NULL, -1);
  gtk_box_append (GTK_BOX (self->form), box);
}

GtkWidget *
sp_record_editor_get_compartment_chooser (SpRecordEditor *self)
{
  g_return_val_if_fail (SP_IS_RECORD_EDITOR (self), NULL);
  return self->compartment;
}

char *
sp_record_editor_save (SpRecordEditor *self, GError **error)
{
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) fv = g_array_new (FALSE, FALSE, sizeof (SpFieldValue));
  Field *first_bad = NULL;
  g_autoptr (GError) first_error = NULL;
  char *id = NULL;

  g_return_val_if_fail (SP_IS_RECORD_EDITOR (self), NULL);
  clear_errors (self);

  /* Each field on its own first, so every wrong field is marked at once. */
  for (guint i = 0; i < self->fields->len; i++)
    {
      Field *f = &g_array_index (self->fields, Field, i);
      g_autofree char *v = sp_record_editor_get_value (self, f->info->name);
      const char *old = self->record ? sp_record_get (self->record, f->info->name) : NULL;
      g_autoptr (GError) ferr = NULL;
      SpFieldValue value;

      if (v)
        {
          g_autofree char *norm = sp_field_normalize (self->kind, f->info, v, &ferr);
          if (norm == NULL)
            {
              if (!first_bad)
                {
                  first_bad = f;
                  first_error = g_error_copy (ferr);
                }
              show_core_error (self, ferr);
              continue;
            }
        }
      if (self->record && g_strcmp0 (old, v) == 0)
        continue; /* unchanged: not written, keeps its clock */
      if (self->record == NULL && v == NULL)
        continue;
      value.field = f->info->name;
      value.value = v;
      g_ptr_array_add (values, g_steal_pointer (&v));
      g_array_append_val (fv, value);
    }
  if (first_bad)
    {
      focus_field (first_bad);
      g_propagate_error (error, g_steal_pointer (&first_error));
      return NULL;
    }

  if (self->record == NULL)
    id = sp_vault_insert_in (self->vault, self->kind->name, chosen_compartment (self),
                             (SpFieldValue *)fv->data, fv->len, &first_error);
  else if ((fv->len == 0
            || sp_vault_update (self->vault, sp_record_get_id (self->record),
                                (SpFieldValue *)fv->data, fv->len, &first_error))
           && move_if_chosen (self, &first_error))
    id = g_strdup (sp_record_get_id (self->record));

  if (id == NULL)
    {
      show_core_error (self, first_error);
      g_propagate_error (error, g_steal_pointer (&first_error));
      return NULL;
    }
  if (self->record == NULL || fv->len)
    {
      g_autoptr (SpRecord) fresh = sp_vault_get (self->vault, id, NULL);
      if (fresh)
        {
          g_clear_pointer (&self->record, sp_record_unref);
          self->record = g_steal_pointer (&fresh);
        }
    }
  return id;
}

const char *
sp_record_editor_get_field_error (SpRecordEditor *self, const char *field)
{
  Field *f;

  g_return_val_if_fail (SP_IS_RECORD_EDITOR (self), NULL);
  f = find_field (self, field);
  return f ? f->error : NULL;
}

GtkWidget *
sp_record_editor_get_field_widget (SpRecordEditor *self, const char *field)
{
  Field *f;

  g_return_val_if_fail (SP_IS_RECORD_EDITOR (self), NULL);
  f = find_field (self, field);
  return f ? f->input : NULL;
}

const char *
sp_record_editor_get_kind (SpRecordEditor *self)
{
  g_return_val_if_fail (SP_IS_RECORD_EDITOR (self), NULL);
  return self->kind->name;
}

const char *
sp_record_editor_get_record_id (SpRecordEditor *self)
{
  g_return_val_if_fail (SP_IS_RECORD_EDITOR (self), NULL);
  return self->record ? sp_record_get_id (self->record) : NULL;
}

void
sp_record_editor_focus_first (SpRecordEditor *self)
{
  g_return_if_fail (SP_IS_RECORD_EDITOR (self));
  for (guint i = 0; i < self->fields->len; i++)
    {
      Field *f = &g_array_index (self->fields, Field, i);
      if (!f->is_fixed)
        {
          focus_field (f);
          return;
        }
    }
}

static void
sp_record_editor_dispose (GObject *object)
{
  SpRecordEditor *self = SP_RECORD_EDITOR (object);

  g_clear_pointer (&self->scrolled, gtk_widget_unparent);
  G_OBJECT_CLASS (sp_record_editor_parent_class)->dispose (object);
}

static void
sp_record_editor_finalize (GObject *object)
{
  SpRecordEditor *self = SP_RECORD_EDITOR (object);

  g_array_unref (self->fields);
  g_clear_pointer (&self->record, sp_record_unref);
  G_OBJECT_CLASS (sp_record_editor_parent_class)->finalize (object);
}

static void
sp_record_editor_class_init (SpRecordEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sp_record_editor_dispose;
  object_class->finalize = sp_record_editor_finalize;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
sp_record_editor_init (SpRecordEditor *self)
{
  self->fields = g_array_new (FALSE, TRUE, sizeof (Field));
  g_array_set_clear_func (self->fields, field_clear);
}

GtkWidget *
sp_record_editor_new (SpVault *vault, const char *kind, SpRecord *record)
{
  SpRecordEditor *self;
  const SpKindInfo *info = sp_kind_lookup (kind);
  GtkWidget *clamp;

  g_return_val_if_fail (info != NULL, NULL);
  self = g_object_new (SP_TYPE_RECORD_EDITOR, NULL);
  self->vault = vault;
  self->kind = info;
  self->record = record ? sp_record_ref (record) : NULL;

  self->scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_widget_set_parent (self->scrolled, GTK_WIDGET (self));
  clamp = adw_clamp_new ();
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 600);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scrolled), clamp);
  self->form = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  gtk_widget_set_margin_top (self->form, 18);
  gtk_widget_set_margin_bottom (self->form, 18);
  gtk_widget_set_margin_start (self->form, 12);
  gtk_widget_set_margin_end (self->form, 12);
  adw_clamp_set_child (ADW_CLAMP (clamp), self->form);

  self->error_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->error_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->error_label), 0);
  gtk_widget_add_css_class (self->error_label, "error");
  gtk_widget_set_visible (self->error_label, FALSE);
  gtk_box_append (GTK_BOX (self->form), self->error_label);

  for (guint i = 0; i < info->n_fields; i++)
    {
      Field f = { 0 };
      GtkWidget *label, *hint_label = NULL, *focus = NULL;
      const char *hint = sp_label_field_hint (kind, info->fields[i].name);
      g_autofree char *text = NULL;

      f.info = &info->fields[i];
      f.box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
      text = f.info->required
                 ? g_strdup_printf (_ ("%s (required)"), sp_label_field (kind, f.info->name))
                 : g_strdup (sp_label_field (kind, f.info->name));
      label = gtk_label_new (text);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_widget_add_css_class (label, "heading");
      gtk_box_append (GTK_BOX (f.box), label);
      f.input = make_input (self, f.info, &focus);
      gtk_box_append (GTK_BOX (f.box), outer_of (f.input));
      gtk_label_set_mnemonic_widget (GTK_LABEL (label), focus);
      if (hint)
        {
          hint_label = gtk_label_new (hint);
          gtk_label_set_xalign (GTK_LABEL (hint_label), 0);
          gtk_label_set_wrap (GTK_LABEL (hint_label), TRUE);
          gtk_widget_add_css_class (hint_label, "caption");
          gtk_widget_add_css_class (hint_label, "dim-label");
          gtk_box_append (GTK_BOX (f.box), hint_label);
        }
      f.error_label = gtk_label_new (NULL);
      gtk_label_set_xalign (GTK_LABEL (f.error_label), 0);
      gtk_label_set_wrap (GTK_LABEL (f.error_label), TRUE);
      gtk_widget_add_css_class (f.error_label, "error");
      gtk_widget_set_visible (f.error_label, FALSE);
      gtk_box_append (GTK_BOX (f.box), f.error_label);
      gtk_accessible_update_relation (GTK_ACCESSIBLE (focus), GTK_ACCESSIBLE_RELATION_LABELLED_BY,
                                      label, NULL, -1);
      if (hint_label)
        gtk_accessible_update_relation (GTK_ACCESSIBLE (focus),
                                        GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, hint_label,
                                        f.error_label, NULL, -1);
      else
        gtk_accessible_update_relation (
            GTK_ACCESSIBLE (focus), GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, f.error_label, NULL, -1);
      gtk_box_append (GTK_BOX (self->form), f.box);
      g_array_append_val (self->fields, f);
    }
  add_compartment_chooser (self);
  if (record)
    for (guint i = 0; i < info->n_fields; i++)
      sp_record_editor_set_value (self, info->fields[i].name,
                                  sp_record_get (record, info->fields[i].name));
  return GTK_WIDGET (self);
}

/* ---- Dialog ----------------------------------------------------------------- */

typedef struct
{
  SpRecordEditor *editor;
  SpRecordEditorDone done;
  gpointer user_data;
  GDestroyNotify user_data_free;
  gboolean finished;
} DialogData;

static void
dialog_data_free (gpointer p)
{
  DialogData *d = p;

  if (!d->finished && d->done)
    d->done (NULL, d->user_data);
  if (d->user_data_free)
    d->user_data_free (d->user_data);
  g_free (d);
}

static void
dialog_save (GtkWidget *button, GtkWindow *window)
{
  DialogData *d = g_object_get_data (G_OBJECT (window), "sp-dialog");
  g_autofree char *id = sp_record_editor_save (d->editor, NULL);

  if (id == NULL)
    return;
  d->finished = TRUE;
  if (d->done)
    d->done (id, d->user_data);
  gtk_window_destroy (window);
}

GtkWindow *
sp_record_editor_dialog_show (GtkWindow *parent, SpVault *vault, const char *kind, SpRecord *record,
                              const char *const *fixed, SpRecordEditorDone done, gpointer user_data,
                              GDestroyNotify user_data_free)
{
  GtkWidget *window = adw_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *cancel = gtk_button_new_with_mnemonic (_ ("_Cancel"));
  GtkWidget *save = gtk_button_new_with_mnemonic (record ? _ ("_Save") : _ ("_Add"));
  GtkWidget *editor = sp_record_editor_new (vault, kind, record);
  GtkShortcutController *sc;
  DialogData *d = g_new0 (DialogData, 1);
  g_autofree char *title = NULL;

  for (guint i = 0; fixed && fixed[i] && fixed[i + 1]; i += 2)
    sp_record_editor_set_fixed (SP_RECORD_EDITOR (editor), fixed[i], fixed[i + 1]);
  d->editor = SP_RECORD_EDITOR (editor);
  d->done = done;
  d->user_data = user_data;
  d->user_data_free = user_data_free;
  g_object_set_data_full (G_OBJECT (window), "sp-dialog", d, dialog_data_free);

  title = g_strdup (sp_label_kind_singular (kind));
  gtk_window_set_title (GTK_WINDOW (window), title);
  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  /* Holds personal data: the application destroys it at lock time. */
  sp_secret_window_attach (GTK_WINDOW (window), parent);
  gtk_window_set_default_size (GTK_WINDOW (window), 460, 560);
  adw_header_bar_set_show_end_title_buttons (ADW_HEADER_BAR (header), FALSE);
  adw_header_bar_set_show_start_title_buttons (ADW_HEADER_BAR (header), FALSE);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), cancel);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), save);
  gtk_widget_add_css_class (save, "suggested-action");
  g_signal_connect_swapped (cancel, "clicked", G_CALLBACK (gtk_window_destroy), window);
  g_signal_connect (save, "clicked", G_CALLBACK (dialog_save), window);
  gtk_box_append (GTK_BOX (box), header);
  gtk_widget_set_vexpand (editor, TRUE);
  gtk_box_append (GTK_BOX (box), editor);
  adw_window_set_content (ADW_WINDOW (window), box);
  gtk_window_set_default_widget (GTK_WINDOW (window), save);

  sc = GTK_SHORTCUT_CONTROLLER (gtk_shortcut_controller_new ());
  gtk_shortcut_controller_add_shortcut (
      sc, gtk_shortcut_new (gtk_keyval_trigger_new (GDK_KEY_Escape, 0),
                            gtk_named_action_new ("window.close")));
  gtk_widget_add_controller (window, GTK_EVENT_CONTROLLER (sc));
  gtk_window_present (GTK_WINDOW (window));
  sp_record_editor_focus_first (SP_RECORD_EDITOR (editor));
  return GTK_WINDOW (window);
}
