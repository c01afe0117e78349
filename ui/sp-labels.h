/* sp-labels.h — translated names for kinds, fields and enum values.
 *
 * Records store stable lower-case names ("minsk_city", "registered_ngo");
 * the interface shows them through these functions, in the user's language.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* "Organisations", "People", ... (plural, for the sidebar and headers). */
const char *sp_label_kind_plural (const char *kind);
/* "Organisation", "Person", ... */
const char *sp_label_kind_singular (const char *kind);
/* "Full name", "Region", ...; falls back to the field name. */
const char *sp_label_field (const char *kind, const char *field);
/* A translated enum value or region ("Minsk region"); falls back to value. */
const char *sp_label_value (const char *field, const char *value);
/* A whole field value ready to show: enum and region values translated,
 * region lists translated item by item. Returns a new string. */
char *sp_label_format_value (const char *kind, const char *field, const char *value);
/* A hint shown under a field in the editor (date format, etc.), or NULL. */
const char *sp_label_field_hint (const char *kind, const char *field);

G_END_DECLS
