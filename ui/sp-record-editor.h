/* sp-record-editor.h — a form for one record of any kind, built from the
 * data model (sp_kinds()). Each field gets a label, an input, a hint and an
 * error line; validation errors from core are shown on the field at fault.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "supolka-core.h"

G_BEGIN_DECLS

#define SP_TYPE_RECORD_EDITOR (sp_record_editor_get_type ())
G_DECLARE_FINAL_TYPE (SpRecordEditor, sp_record_editor, SP, RECORD_EDITOR, GtkWidget)

/* vault is borrowed; record NULL for a new record. */
GtkWidget *sp_record_editor_new (SpVault *vault, const char *kind, SpRecord *record);
const char *sp_record_editor_get_kind (SpRecordEditor *self);
/* NULL while the record is new. */
const char *sp_record_editor_get_record_id (SpRecordEditor *self);
/* Sets a field and hides it (the person of an affiliation made from the
 * person's page, the target of a note). */
void sp_record_editor_set_fixed (SpRecordEditor *self, const char *field, const char *value);
void sp_record_editor_set_value (SpRecordEditor *self, const char *field, const char *value);
/* The value as typed (enum: the stable name); a new string, NULL if empty. */
char *sp_record_editor_get_value (SpRecordEditor *self, const char *field);
/* Checks each field, then writes the record. Returns the record's id, or NULL
 * with the error (also shown on the field at fault). */
char *sp_record_editor_save (SpRecordEditor *self, GError **error);
/* The message shown on a field, or NULL. */
const char *sp_record_editor_get_field_error (SpRecordEditor *self, const char *field);
GtkWidget *sp_record_editor_get_field_widget (SpRecordEditor *self, const char *field);
void sp_record_editor_focus_first (SpRecordEditor *self);
/* The compartment chooser (sp-compartments.h), or NULL when this device holds
 * main only; a new record goes to the device's default compartment unless
 * another is chosen, an existing one moves when saved. */
GtkWidget *sp_record_editor_get_compartment_chooser (SpRecordEditor *self);

/* Opens the editor in a small modal window (for affiliations, participations
 * and notes). fixed: field, value, ... NULL. done is called with the saved
 * id (or NULL when cancelled). */
typedef void (*SpRecordEditorDone) (const char *id, gpointer user_data);
GtkWindow *sp_record_editor_dialog_show (GtkWindow *parent, SpVault *vault, const char *kind,
                                         SpRecord *record, const char *const *fixed,
                                         SpRecordEditorDone done, gpointer user_data,
                                         GDestroyNotify user_data_free);

G_END_DECLS
