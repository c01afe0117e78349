/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sec-cli-run.h — the one way tests run the real supolka-cli ($SUPOLKA_CLI): in
 * a sealed-off environment (HOME, XDG_* and TMPDIR inside one temporary
 * folder, SUPOLKA_VAULT and LANGUAGE unset, LC_ALL=C.UTF-8), input only on
 * pipes (never a file), the child tied to the test (PR_SET_PDEATHSIG), a spawn
 * retried while a parallel build relinks the binary. Used by test-cli*,
 * test-cli-security, test-forensic and the sync tests. */
#pragma once

#include <gio/gio.h>
#include <glib.h>

G_BEGIN_DECLS

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

/* Starts supolka-cli ARGV… (NULL-terminated, without the program);
 * stdin_text and fd3_text (either may be NULL: no such input) are what it
 * reads on fd 0 and fd 3. */
GSubprocess *sec_spawn (SecEnv *env, const char *stdin_text, const char *fd3_text,
                        const char *const *argv);
/* Waits for it and collects its output (out, err optional); returns its exit
 * status, or -SIGNAL when it was killed. */
int sec_finish (GSubprocess *proc, char **out, char **err);
/* Both; a child killed by a signal fails the test. */
int sec_run_argv (SecEnv *env, const char *stdin_text, const char *fd3_text, char **out, char **err,
                  const char *const *argv);
/* The same with NULL-terminated arguments and nothing on stdin. */
int sec_run (SecEnv *env, const char *fd3_text, char **out, char **err, const char *arg,
             ...) G_GNUC_NULL_TERMINATED;

G_END_DECLS
