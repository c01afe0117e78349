/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli-test-util.h — what the supolka-cli tests (test-cli, test-cli-vault,
 * test-cli-csv) share: the CLI through the shared runner (sec-cli-run.h) with
 * one sealed-off HOME per test run, vaults in temporary folders (CliVault),
 * the passphrase always on a pipe, and JSON and file helpers. Every helper
 * asserts. */
#pragma once

#include <glib.h>
#include <stdarg.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define PASS "correct horse battery"
#define PASS_LINE PASS "\n"

/* The CLI's exit statuses (app/supolka-cli.c). */
enum
{
  EXIT_OK = 0,
  EXIT_USAGE = 1,
  EXIT_LOCKED = 2,
  EXIT_NOT_FOUND = 3,
  EXIT_INVALID = 4,
};

/* vault.key layout (core/sp-keyfile.c). */
#define KF_SIZE 264
#define KF_SLOT0 16
#define KF_SLOT1 (16 + 108)
#define KF_SLOT_CT 60
#define KF_SUM 232
#define DB_PAGE 4096

typedef struct
{
  char *tmp; /* removed at the end, with everything in it */
  char *dir; /* tmp/vault, created by 'init' */
} CliVault;

void cli_test_init (void);
const char *cli_home (void);
/* At the end of main(): fails when the default vault folder was made. */
int cli_test_finish (int status);
int run_argv (const char *stdin_text, const char *fd3_text, char **out, char **err,
              GPtrArray *args);
void append_va (GPtrArray *args, const char *first, va_list ap);
int run_cli (const char *stdin_text, char **out, char **err, const char *arg,
             ...) G_GNUC_NULL_TERMINATED;
void cli_vault_free (CliVault *cv);
CliVault *cli_vault_new_empty (void);
int cv_runv (CliVault *cv, const char *input, char **out, char **err, const char *prefix,
             const char *first, va_list ap);
int cv_run (CliVault *cv, char **out, char **err, const char *arg, ...) G_GNUC_NULL_TERMINATED;
int cv_run_input (CliVault *cv, const char *input, char **out, char **err, const char *arg,
                  ...) G_GNUC_NULL_TERMINATED;
CliVault *cli_vault_new (void);
JsonNode *parse_json (const char *text);
JsonNode *cv_json (CliVault *cv, const char *arg, ...) G_GNUC_NULL_TERMINATED;
gboolean is_record_id (const char *s);
char *cv_add (CliVault *cv, const char *kind, ...) G_GNUC_NULL_TERMINATED;
guint cv_count (CliVault *cv, const char *kind);
int cmp_strptr (gconstpointer a, gconstpointer b);
char *join_sorted (GPtrArray *ids);
char *json_ids (JsonNode *list);
char *expect_ids (const char *first, ...) G_GNUC_NULL_TERMINATED;
JsonObject *find_record (JsonNode *list, const char *id);
const char *rec_field (JsonObject *rec, const char *name);
char *canonical_record (JsonObject *o);
char *canonical_list (JsonNode *list);
GHashTable *snapshot_dir (const char *dir);
void assert_snapshot_equal (GHashTable *before, GHashTable *after, const char *what);
void write_file (const char *path, const void *data, gsize len);
GBytes *read_file (const char *path);
void assert_no_sqlite_side_files (const char *dir);
/* Runs --json list/search with the given arguments and compares the ids. */
void assert_list (CliVault *cv, const char *expected, ...) G_GNUC_NULL_TERMINATED;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliVault, cli_vault_free)

G_END_DECLS
