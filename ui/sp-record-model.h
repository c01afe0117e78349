/* sp-record-model.h — a GListModel over the vault's records of one kind.
 *
 * The model asks the vault for the matching ids only (sp_vault_list_ids) and
 * builds an SpRecordItem when a view asks for that position, so a list of
 * 100,000 records costs one id query and the rows on screen.
 *
 * The vault is borrowed: drop the model before closing the vault.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "supolka-core.h"

G_BEGIN_DECLS

#define SP_TYPE_RECORD_ITEM (sp_record_item_get_type ())
G_DECLARE_FINAL_TYPE (SpRecordItem, sp_record_item, SP, RECORD_ITEM, GObject)

SpRecordItem *sp_record_item_new (const char *id, SpRecord *record);
const char *sp_record_item_get_id (SpRecordItem *self);
const char *sp_record_item_get_title (SpRecordItem *self);
const char *sp_record_item_get_subtitle (SpRecordItem *self);
/* May be NULL when the record vanished since the ids were read. */
SpRecord *sp_record_item_get_record (SpRecordItem *self);

#define SP_TYPE_RECORD_MODEL (sp_record_model_get_type ())
G_DECLARE_FINAL_TYPE (SpRecordModel, sp_record_model, SP, RECORD_MODEL, GObject)

SpRecordModel *sp_record_model_new (SpVault *vault, const char *kind);
const char *sp_record_model_get_kind (SpRecordModel *self);
/* Copies the filter's strings; takes effect at the next reload. */
void sp_record_model_set_filter (SpRecordModel *self, const SpFilter *filter);
void sp_record_model_set_sort (SpRecordModel *self, SpSortOrder sort);
/* Reads the ids again and emits items-changed. */
gboolean sp_record_model_reload (SpRecordModel *self, GError **error);
/* Position of the record with this id, or G_MAXUINT. */
guint sp_record_model_find (SpRecordModel *self, const char *id);
/* Drops every row until the next reload. */
void sp_record_model_empty (SpRecordModel *self);
/* Forgets the vault and every row (used at lock time). */
void sp_record_model_clear (SpRecordModel *self);

/* A subtitle for a record in a list: region, locality, status, dates. */
char *sp_record_describe (SpRecord *record);

G_END_DECLS
