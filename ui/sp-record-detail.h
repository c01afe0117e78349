/* sp-record-detail.h — shows one record: its fields (enum values
 * translated, references as titles), and the records linked to it
 * (affiliations, participations, projects, events, notes) with buttons to
 * add, edit and remove them.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "supolka-core.h"

G_BEGIN_DECLS

#define SP_TYPE_RECORD_DETAIL (sp_record_detail_get_type ())
G_DECLARE_FINAL_TYPE (SpRecordDetail, sp_record_detail, SP, RECORD_DETAIL, GtkWidget)

/* vault is borrowed. Signals: ::open-record (const char *id) when a linked
 * record is activated; ::toast (const char *message, const char *undo_id or
 * NULL) after a link was added, changed or removed. */
GtkWidget *sp_record_detail_new (SpVault *vault, SpRecord *record);
SpRecord *sp_record_detail_get_record (SpRecordDetail *self);
/* Reads the record and its links again. */
void sp_record_detail_reload (SpRecordDetail *self);
/* Number of rows in the linked group named "affiliations", "participations",
 * "notes", ... (for tests). -1 when there is no such group. */
int sp_record_detail_count_links (SpRecordDetail *self, const char *group);

G_END_DECLS
