/* supolka-cli — the headless face of the same core (docs/CLI.md).
 *
 * main() reads the global options and walks the command table below; each
 * command's handlers live in its group's file under cli/ (docs/DESIGN.md says
 * how to add one). Exit status: 0 success, 1 usage, 2 wrong passphrase or
 * locked, 3 not found, 4 invalid input, 5 sync/network error.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <locale.h>

#include "cli/cli.h"

/* Options that take no value; the next argument after any other "--option"
 * of a command is its value, never a global option. */
static const char *const flags_dry_run[] = { "--dry-run", NULL };
static const char *const flags_deleted[] = { "--deleted", NULL };
static const char *const flags_remove[] = { "--remove", NULL };
static const char *const flags_restore[] = { "--force", "--new-passphrase", NULL };
static const char *const flags_prune[] = { "--prune", NULL };

/* clang-format off */
static const CliCommand commands[] = {
  /* records: cli/cli-records.c */
  { .name = "add", CLI_ARGS (1, G_MAXUINT),
    .usage = N_ ("add: which kind? (org, person, affiliation, project, event, "
                 "participation, note)"),
    .check = cli_add_check, .open_vault = TRUE, .run = cli_add_run },
  { .name = "edit", CLI_ARGS (2, G_MAXUINT),
    .usage = N_ ("edit: give an id and at least one --FIELD VALUE"),
    .check = cli_field_values_check, .open_vault = TRUE, .run = cli_edit_run },
  { .name = "delete", .check = cli_delete_check, .open_vault = TRUE, .run = cli_delete_run },
  { .name = "undelete", .check = cli_delete_check, .open_vault = TRUE, .run = cli_delete_run },
  { .name = "show", CLI_ARGS (1, 1), .usage = N_ ("show: give exactly one id"),
    .open_vault = TRUE, .run = cli_show_run },
  { .name = "list", CLI_ARGS (1, G_MAXUINT), .usage = N_ ("list: which kind?"),
    .check = cli_list_check, .open_vault = TRUE, .run = cli_list_run, .flags = flags_deleted },
  { .name = "search", CLI_ARGS (0, G_MAXUINT), .usage = N_ ("search: what text?"),
    .check = cli_list_check, .open_vault = TRUE, .run = cli_list_run },
  { .name = "move", CLI_ARGS (2, 2), .usage = N_ ("move: give an id and a compartment"),
    .open_vault = TRUE, .run = cli_move_run },
  { .name = "fields", CLI_ARGS (0, 1), .usage = N_ ("fields: give at most one kind"),
    .run = cli_fields_run },
  /* CSV: cli/cli-csv.c */
  { .name = "import-csv", CLI_ARGS (2, 5), .usage = N_ ("import-csv: give a kind and a file"),
    .check = cli_import_check, .open_vault = TRUE, .run = cli_import_run,
    .flags = flags_dry_run },
  { .name = "export-csv", CLI_ARGS (2, 2), .usage = N_ ("export-csv: give a kind and a file"),
    .check = cli_export_check, .open_vault = TRUE, .run = cli_export_run },
  /* conflicts: cli/cli-conflicts.c */
  { .name = "conflicts", CLI_ARGS (0, 1), .usage = N_ ("conflicts: give at most one id"),
    .open_vault = TRUE, .run = cli_conflicts_run },
  { .name = "resolve", CLI_ARGS (3, G_MAXUINT),
    .usage = N_ ("resolve: give an id and --FIELD VALUE to keep"),
    .check = cli_field_values_check, .open_vault = TRUE, .run = cli_resolve_run },
  /* the vault: cli/cli-vault.c */
  { .name = "init", .run = cli_init_run },
  { .name = "stats", CLI_ARGS (0, 0), .usage = N_ ("stats takes no arguments"),
    .open_vault = TRUE, .run = cli_stats_run },
  { .name = "passwd", .check = cli_passwd_check, .open_vault = TRUE, .run = cli_passwd_run },
  { .name = "check", CLI_ARGS (0, 0), .usage = N_ ("check takes no arguments"),
    .open_vault = TRUE, .run = cli_check_run },
  { .name = "panic", CLI_ARGS (0, 0), .usage = N_ ("panic takes no arguments"),
    .run = cli_panic_run },
  { .name = "set-duress", .check = cli_set_duress_check, .open_vault = TRUE,
    .run = cli_set_duress_run, .flags = flags_remove },
  { .name = "backup", .check = cli_backup_check, .open_vault = TRUE, .run = cli_backup_run },
  { .name = "restore", .run = cli_restore_run, .flags = flags_restore },
  /* sync: cli/cli-sync.c (workspace and device walk tables of their own) */
  { .name = "sync", .check = cli_sync_check, .open_vault = TRUE, .run = cli_sync_run },
  { .name = "workspace",
    .usage = N_ ("usage: workspace create|invite|join|approve|status|snapshot"),
    .run = cli_sync_group_run, .group = cli_workspace_commands, .flags = flags_prune },
  { .name = "device", .usage = N_ ("usage: device list|revoke DEVICE"),
    .run = cli_sync_group_run, .group = cli_device_commands },
  /* compartments and travel mode: cli/cli-compartment.c */
  { .name = "compartment",
    .usage = N_ ("usage: compartment create|list|grant|revoke|default"),
    .run = cli_sync_group_run, .group = cli_compartment_commands },
  { .name = "travel", .usage = N_ ("usage: travel start [--keep COMPARTMENT...] | travel end"),
    .run = cli_travel_group_run, .group = cli_travel_commands },
  { NULL },
};
/* clang-format on */

/* A command's option that takes no value (in any command's row, as before the
 * command is known the next argument's role must be decided). */
static gboolean
is_flag (const char *arg)
{
  for (const CliCommand *c = commands; c->name; c++)
    for (guint i = 0; c->flags && c->flags[i]; i++)
      if (g_str_equal (c->flags[i], arg))
        return TRUE;
  return FALSE;
}

static void
print_usage (void)
{
  g_print (
      "%s",
      _ ("Usage: supolka-cli [--vault DIR] [--passphrase-fd N] [--json] COMMAND ...\n"
         "\n"
         "Commands:\n"
         "  init [--kdf interactive|moderate|sensitive]   create a vault\n"
         "  add KIND --FIELD VALUE ...                    add a record, print its id\n"
         "  edit ID --FIELD VALUE ...                     change fields (\"\" clears)\n"
         "  delete ID | undelete ID | show ID\n"
         "  list KIND [--region R] [--status S] [--tag T] [--kind K] [--search TEXT]\n"
         "            [--limit N] [--deleted]\n"
         "  search TEXT [--kind KIND] [--limit N]\n"
         "  import-csv KIND FILE [--dry-run] [--encoding ENC] | export-csv KIND FILE\n"
         "  stats\n"
         "  conflicts [ID]                                fields edited on two devices at once\n"
         "  resolve ID --FIELD VALUE ...                  keep this value, end the conflict\n"
         "  fields [KIND]                                 list kinds, fields, values\n"
         "  passwd [--kdf PROFILE]                        change the passphrase\n"
         "  check                                         read every page, verify\n"
         "  set-duress [--remove]                         a passphrase that destroys the vault\n"
         "  panic                                         destroy the vault now, no questions\n"
         "  backup FILE [--kdf PROFILE]                   write an encrypted backup\n"
         "  restore FILE [--force] [--new-passphrase] [--kdf PROFILE]\n"
         "  sync [--relay URL] [--proxy socks5h://HOST:PORT]   push and pull changes\n"
         "  workspace create --relay URL | invite [--hours N] | join CODE | approve CODE\n"
         "  workspace status | snapshot [--prune]\n"
         "  device list | revoke DEVICE                   (sync commands also take --proxy)\n"
         "\n"
         "Kinds: org, person, affiliation, project, event, participation, note.\n"
         "The vault folder is --vault DIR, else $SUPOLKA_VAULT, else the XDG data "
         "folder.\n"
         "Passphrases come from the terminal, or one line each from --passphrase-fd "
         "N.\n"
         "Exit status: 0 ok, 1 usage, 2 wrong passphrase or locked, 3 not found,\n"
         "4 invalid input, 5 sync or network error.\n"));
  /* A second message, so the first one's translations stay as they are. */
  g_print (
      "%s",
      _ ("\n"
         "Compartments (docs/COMPARTMENTS.md):\n"
         "  compartment create NAME | list | default NAME   a device's compartments\n"
         "  compartment grant NAME DEVICE | revoke NAME DEVICE   (admins)\n"
         "  add KIND ... --compartment NAME | move ID COMPARTMENT\n"
         "  list KIND ... --compartment NAME | search TEXT ... --compartment NAME\n"
         "  travel start [--keep COMPARTMENT...]          leave the others behind, print a\n"
         "                                                return code once\n"
         "  travel end                                    the return code on standard input\n"));
  g_print ("%s", _ ("Record text on the command line lands in the shell's history and in "
                    "'ps':\n"
                    "give it on standard input instead: add KIND --from-json -, edit ID "
                    "--from-json -,\n"
                    "search with no text (one line), list KIND --search -.\n"));
}

static gboolean
parse_global (Cli *cli, int argc, char **argv, int *exit_code)
{
  gboolean value_next = FALSE;

  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];
      const char *v = NULL;

      /* The value of a command's own option is never a global option:
       * "add org --notes --json" stores the text "--json". */
      if (value_next)
        {
          g_ptr_array_add (cli->args, argv[i]);
          value_next = FALSE;
          continue;
        }
      if (g_str_equal (a, "--json"))
        cli->json = TRUE;
      else if (g_str_equal (a, "--help") || g_str_equal (a, "-h"))
        {
          print_usage ();
          *exit_code = CLI_EXIT_OK;
          return FALSE;
        }
      else if (g_str_equal (a, "--version"))
        {
          g_print ("supolka-cli %s\n", PACKAGE_VERSION);
          *exit_code = CLI_EXIT_OK;
          return FALSE;
        }
      else if (g_str_equal (a, "--vault") || g_str_equal (a, "--passphrase-fd"))
        {
          if (i + 1 >= argc)
            {
              *exit_code = cli_usage_error (_ ("'%s' needs a value"), a);
              return FALSE;
            }
          v = argv[++i];
        }
      else if (g_str_has_prefix (a, "--vault=") || g_str_has_prefix (a, "--passphrase-fd="))
        v = strchr (a, '=') + 1;
      else
        {
          g_ptr_array_add (cli->args, argv[i]);
          value_next = cli->args->len > 1 && g_str_has_prefix (a, "--") && !strchr (a, '=')
                       && !is_flag (a);
          continue;
        }
      if (v && g_str_has_prefix (a, "--vault"))
        {
          g_free (cli->vault_dir);
          cli->vault_dir = g_strdup (v);
        }
      else if (v)
        {
          guint64 fd;
          if (!g_ascii_string_to_unsigned (v, 10, 0, 1024, &fd, NULL))
            {
              *exit_code = cli_usage_error (_ ("--passphrase-fd takes a file descriptor number"));
              return FALSE;
            }
          cli->passphrase_fd = (int)fd;
        }
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  Cli cli;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  const CliCommand *cmd;
  int code = CLI_EXIT_OK;

  sp_i18n_init ();

  if (!sp_core_init (&error))
    return cli_fail (error);

  cli_init (&cli);
  cli.args = args;
  if (!parse_global (&cli, argc, argv, &code))
    goto out;
  if (cli.vault_dir == NULL)
    cli.vault_dir = sp_vault_default_dir ();
  if (cli.args->len == 0)
    {
      print_usage ();
      code = CLI_EXIT_USAGE;
      goto out;
    }
  cmd = cli_find_command (commands, cli.args->pdata[0]);
  if (cmd == NULL)
    code = cli_usage_error (_ ("unknown command '%s'"), (const char *)cli.args->pdata[0]);
  else
    code = cli_run_command (&cli, cmd);

out:
  cli_clear (&cli);
  return code;
}
