/* A JSON dump of everything a vault holds that the public core API can read:
 * records (with deleted ones), their fields, the whole change log, conflicts
 * and the sync state. Used to check that a migration keeps every byte of
 * meaning (tests/test-migrate.c, tests/data/make-vault-v6.sh).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "supolka-core.h"

/* Pretty-printed JSON, stable order (records by kind then id; changes in
 * local order; sync keys sorted). NULL with error on a vault error. */
char *vault_dump_json (SpVault *vault, GError **error);
