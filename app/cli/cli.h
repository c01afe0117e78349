/* supolka-cli's private header: what the command groups share (docs/DESIGN.md, app/).
 *
 * A command is one CliCommand row in supolka-cli.c's table and its handlers in
 * the group's file (cli-records.c, cli-csv.c, cli-conflicts.c, cli-vault.c,
 * cli-sync.c, cli-compartment.c). cli_run_command() walks a row: the argument count, the
 * handler's check (every argument looked at before a passphrase is asked),
 * the vault when the row asks for one, then the handler's run.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "supolka-core.h"
#include "supolka-sync.h"

G_BEGIN_DECLS

/* Exit status (docs/CLI.md). */
enum
{
  CLI_EXIT_OK = 0,
  CLI_EXIT_USAGE = 1,
  CLI_EXIT_LOCKED = 2,
  CLI_EXIT_NOT_FOUND = 3,
  CLI_EXIT_INVALID = 4,
  CLI_EXIT_SYNC = 5,
};

/* The options of the sync commands (sync, workspace, device). */
typedef struct
{
  char *relay;
  char *proxy;
  char *ca_file;
  char *hours;
  char *create_token_fd; /* workspace create: the fd the create token is read from */
  guint invite_hours;    /* --hours as a number */
  gboolean prune;
  GPtrArray *words; /* positional arguments after the command */
  SyncOptions opts; /* relay, proxy and CA file as the sync client takes them */
} CliSyncArgs;

/* What a command's check found in its arguments, for its run. */
typedef struct
{
  const char *kind;
  const char *file;
  gboolean flag; /* --dry-run, --remove */
  SpKdfProfile profile;
  GArray *values;   /* SpFieldValue from --FIELD VALUE pairs */
  GPtrArray *owned; /* strings that values and filter point into */
  SpFilter filter;
  char *data; /* a file read before the vault is opened */
  gsize len;
  GFileInputStream *stream; /* import-csv: the file, opened before the vault */
  SpCsvEncoding encoding;   /* import-csv --encoding */
  char *text;               /* a safety code put together from its words */
  const char *compartment;  /* add, list, search: --compartment NAME */
  GPtrArray *keep;          /* travel start: the --keep names (borrowed), NULL-terminated */
  CliSyncArgs sync;
} CliRequest;

typedef struct
{
  char *vault_dir;
  int passphrase_fd;
  gboolean json;
  GPtrArray *args;               /* the command and its own arguments */
  SpVault *vault;                /* opened by cli_run_command() when the row says so */
  const struct _CliCommand *cmd; /* the row being run */
  CliRequest req;
} Cli;

typedef int (*CliHandler) (Cli *cli);

typedef struct _CliCommand
{
  const char *name;
  const char *usage; /* marked for gettext: what to say when the arguments are wrong */
  /* When count_args is set, cli_run_command() says usage unless the command
   * has min_args to max_args arguments after its name: CLI_ARGS (1, 1). */
  gboolean count_args;
  guint min_args;
  guint max_args;
  CliHandler check;    /* may be NULL; runs before the vault is opened */
  gboolean open_vault; /* ask the passphrase and open cli->vault before run */
  CliHandler run;
  const char *const *flags;        /* this command's options that take no value */
  const struct _CliCommand *group; /* a group's sub-commands (workspace, device) */
} CliCommand;

#define CLI_ARGS(min, max) .count_args = TRUE, .min_args = (min), .max_args = (max)

void cli_init (Cli *cli);
void cli_clear (Cli *cli);

/* Finds @name in a table that ends with a row whose name is NULL. */
const CliCommand *cli_find_command (const CliCommand *table, const char *name);
int cli_run_command (Cli *cli, const CliCommand *cmd);

/* ---- Errors ---- */
int cli_usage_error (const char *fmt, ...) G_GNUC_PRINTF (1, 2);
/* The usage message of the row being run. */
int cli_usage (Cli *cli);
int cli_fail (const GError *error);
int cli_exit_code_for (const GError *error);
/* "unknown kind of record" unless @kind is one; returns CLI_EXIT_OK if it is. */
int cli_check_kind (const char *kind);

/* ---- Arguments and passphrases ---- */
/* add, edit, resolve: the --FIELD VALUE pairs into cli->req.values. */
int cli_field_values_check (Cli *cli);
/* cli-input.c: record text from a file or standard input (never argv).
 * --from-json FILE|- into cli->req.values; one line of standard input. */
int cli_fields_from_json (Cli *cli, const char *source);
const char *cli_read_search_text (Cli *cli, GError **error);
SpSecret *cli_read_passphrase (Cli *cli, const char *prompt, GError **error);
SpSecret *cli_read_new_passphrase (Cli *cli, const char *prompt, const char *again_prompt,
                                   GError **error);
SpVault *cli_open_vault (Cli *cli, GError **error);

/* ---- Output ---- */
char *cli_safe (const char *s, gboolean one_line);

/* One JSON member: cli_json_members (b, CLI_STR ("id", id), CLI_INT ("rows", n)). */
typedef enum
{
  CLI_JSON_STR,
  CLI_JSON_STR_OR_NULL,
  CLI_JSON_INT,
  CLI_JSON_BOOL,
} CliJsonType;

typedef struct
{
  const char *name;
  CliJsonType type;
  union
  {
    const char *s;
    gint64 i;
    gboolean b;
  };
} CliJsonField;

/* clang-format off */
#define CLI_STR(n, v) { (n), CLI_JSON_STR, .s = (v) }
#define CLI_STR_OR_NULL(n, v) { (n), CLI_JSON_STR_OR_NULL, .s = (v) }
#define CLI_INT(n, v) { (n), CLI_JSON_INT, .i = (gint64)(v) }
#define CLI_BOOL(n, v) { (n), CLI_JSON_BOOL, .b = (v) ? TRUE : FALSE }
#define CLI_JSON_FIELDS(...) (const CliJsonField[]){ __VA_ARGS__ }
/* clang-format on */
#define CLI_JSON_N(...) G_N_ELEMENTS (CLI_JSON_FIELDS (__VA_ARGS__))
/* Adds members to the object @b is building. */
#define cli_json_members(b, ...)                                                                   \
  cli_json_add ((b), CLI_JSON_FIELDS (__VA_ARGS__), CLI_JSON_N (__VA_ARGS__))
/* Adds one object with these members (to an array, or after a member name). */
#define cli_json_object(b, ...)                                                                    \
  cli_json_add_object ((b), CLI_JSON_FIELDS (__VA_ARGS__), CLI_JSON_N (__VA_ARGS__))
/* Prints one object with these members. */
#define cli_json_print_object(...)                                                                 \
  cli_json_print_fields (CLI_JSON_FIELDS (__VA_ARGS__), CLI_JSON_N (__VA_ARGS__))

void cli_json_add (JsonBuilder *b, const CliJsonField *fields, gsize n);
void cli_json_add_object (JsonBuilder *b, const CliJsonField *fields, gsize n);
void cli_json_print_fields (const CliJsonField *fields, gsize n);
/* Prints what @b built, pretty, and a line break. */
void cli_json_print (JsonBuilder *b);
/* A command that did what it was asked: {"ok": true} with --json, else @text. */
int cli_print_done (Cli *cli, const char *text);

/* ---- The commands (one group a file) ---- */
/* cli-records.c */
int cli_add_check (Cli *cli);
int cli_add_run (Cli *cli);
int cli_edit_run (Cli *cli);
int cli_delete_check (Cli *cli);
int cli_delete_run (Cli *cli);
int cli_show_run (Cli *cli);
int cli_list_check (Cli *cli);
int cli_list_run (Cli *cli);
int cli_fields_run (Cli *cli);
/* cli-csv.c */
int cli_import_check (Cli *cli);
int cli_import_run (Cli *cli);
int cli_export_check (Cli *cli);
int cli_export_run (Cli *cli);
/* cli-conflicts.c */
int cli_conflicts_run (Cli *cli);
int cli_resolve_run (Cli *cli);
/* cli-vault.c */
int cli_init_run (Cli *cli);
int cli_passwd_check (Cli *cli);
int cli_passwd_run (Cli *cli);
int cli_check_run (Cli *cli);
int cli_stats_run (Cli *cli);
int cli_panic_run (Cli *cli);
int cli_set_duress_check (Cli *cli);
int cli_set_duress_run (Cli *cli);
int cli_backup_check (Cli *cli);
int cli_backup_run (Cli *cli);
int cli_restore_run (Cli *cli);
/* cli-sync.c */
int cli_sync_check (Cli *cli);
int cli_sync_run (Cli *cli);
int cli_sync_group_run (Cli *cli);
extern const CliCommand cli_workspace_commands[];
extern const CliCommand cli_device_commands[];
/* cli-compartment.c */
gint64 cli_compartment_lookup (Cli *cli, const char *name, GError **error);
/* How many compartments this device holds, and the workspace has (without a
 * workspace: this vault's). */
gboolean cli_compartment_counts (SpVault *vault, guint *held, guint *total, GError **error);
/* "figures from 2 of 5 compartments", or NULL when the device holds them all. */
char *cli_compartment_figures (SpVault *vault, guint *held, guint *total);
int cli_move_run (Cli *cli);
int cli_travel_group_run (Cli *cli);
extern const CliCommand cli_compartment_commands[];
extern const CliCommand cli_travel_commands[];

G_END_DECLS
