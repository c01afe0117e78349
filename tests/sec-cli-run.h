/* Running the real supolka-cli ($SUPOLKA_CLI) in a sealed-off environment:
 * HOME, XDG_* and TMPDIR inside one temporary folder, SUPOLKA_VAULT unset.
 * Used by test-cli-security and test-forensic.
 * SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

typedef struct
{
  char *root; /* the fresh HOME; XDG_DATA_HOME etc. and TMPDIR are below it */
} SecEnv;

/* Fails the test (does not skip) when $SUPOLKA_CLI is missing. */
gboolean sec_require_cli (void);
SecEnv *sec_env_new (void);
/* Removes the whole folder. */
void sec_env_free (SecEnv *env);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SecEnv, sec_env_free)

/* Runs supolka-cli with NULL-terminated arguments; fd3_text (may be NULL) is
 * what it reads on fd 3 (a pipe, never a file). Returns the exit status; out
 * and err (optional) get its output. */
int sec_run (SecEnv *env, const char *fd3_text, char **out, char **err, const char *arg,
             ...) G_GNUC_NULL_TERMINATED;
