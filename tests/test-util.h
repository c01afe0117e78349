/* Shared helpers for the core tests. SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "supolka-core.h"

/* A fresh temporary directory (removed by sp_test_rmtree). */
char *sp_test_tmpdir (void);
void sp_test_rmtree (const char *dir);

/* A new vault in a fresh temporary directory, interactive KDF, passphrase
 * "correct horse". *dir_out (optional) receives the folder. */
SpVault *sp_test_vault_new (char **dir_out);
SpSecret *sp_test_passphrase (const char *text);

/* Reads a whole file; NULL if missing. */
GBytes *sp_test_read_file (const char *path);
/* TRUE if needle occurs in any file below dir (recursive, binary-safe). */
gboolean sp_test_tree_contains (const char *dir, const char *needle, gsize needle_len);

/* Inserts a record from "field", "value", ..., NULL pairs; asserts success. */
char *sp_test_insert (SpVault *vault, const char *kind, ...) G_GNUC_NULL_TERMINATED;
