/* supolka-cli: sync, workspace (create, invite, join, approve, status,
 * snapshot) and device (list, revoke). workspace and device are groups: their
 * sub-commands are rows of the same CliCommand kind (the tables at the end),
 * walked by cli_run_command() once the options of the group are read.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#include "cli.h"

/* Parses the options of the sync commands from argument @from on. */
static int
parse_sync_args (Cli *cli, guint from)
{
  CliSyncArgs *a = &cli->req.sync;

  a->words = g_ptr_array_new_with_free_func (g_free);
  for (guint i = from; i < cli->args->len; i++)
    {
      const char *arg = cli->args->pdata[i];
      char **slot = NULL;

      if (g_str_equal (arg, "--relay"))
        slot = &a->relay;
      else if (g_str_equal (arg, "--proxy"))
        slot = &a->proxy;
      else if (g_str_equal (arg, "--ca-file"))
        slot = &a->ca_file;
      else if (g_str_equal (arg, "--hours"))
        slot = &a->hours;
      else if (g_str_equal (arg, "--create-token-fd"))
        slot = &a->create_token_fd;
      else if (g_str_equal (arg, "--prune"))
        {
          a->prune = TRUE;
          continue;
        }
      else if (g_str_has_prefix (arg, "--"))
        return cli_usage_error (_ ("unknown option '%s'"), arg);
      else
        {
          g_ptr_array_add (a->words, g_strdup (arg));
          continue;
        }
      if (i + 1 >= cli->args->len)
        return cli_usage_error (_ ("'%s' needs a value"), arg);
      g_free (*slot);
      *slot = g_strdup (cli->args->pdata[++i]);
    }
  a->opts = (SyncOptions){ a->relay, a->proxy, a->ca_file };
  return CLI_EXIT_OK;
}

static void
print_problems (const SyncReport *r)
{
  for (guint i = 0; r->problems && i < r->problems->len; i++)
    {
      g_autofree char *m = cli_safe (r->problems->pdata[i], TRUE);
      g_printerr ("supolka-cli: %s\n", m);
    }
}

/* Sub-commands that take no word, or one. */
static int
no_words_check (Cli *cli)
{
  return cli->req.sync.words->len == 0 ? CLI_EXIT_OK : cli_usage (cli);
}

static int
one_word_check (Cli *cli)
{
  return cli->req.sync.words->len == 1 ? CLI_EXIT_OK : cli_usage (cli);
}

/* ---- sync ---- */

int
cli_sync_check (Cli *cli)
{
  int code;

  if ((code = parse_sync_args (cli, 1)) != CLI_EXIT_OK)
    return code;
  if (cli->req.sync.words->len > 0)
    return cli_usage_error (_ ("'sync' takes no arguments"));
  if (cli->req.sync.create_token_fd != NULL)
    return cli_usage_error (_ ("'--create-token-fd' is only for 'workspace create'"));
  return CLI_EXIT_OK;
}

static void
print_sync_report (Cli *cli, const SyncReport *r)
{
  if (cli->json)
    cli_json_print_object (CLI_BOOL ("waiting_for_approval", r->waiting_for_approval),
                           CLI_INT ("pushed_batches", r->pushed_batches),
                           CLI_INT ("pushed_changes", r->pushed_changes),
                           CLI_INT ("pulled_batches", r->pulled_batches),
                           CLI_INT ("applied_batches", r->applied_batches),
                           CLI_INT ("applied_changes", r->applied_changes),
                           CLI_INT ("refused_batches", r->refused_batches));
  else if (r->waiting_for_approval)
    g_print ("%s\n", _ ("Waiting for an admin to approve this device (compare the safety code)."));
  else
    {
      g_print (ngettext ("Sent %u change", "Sent %u changes", r->pushed_changes),
               r->pushed_changes);
      g_print ("; ");
      g_print (ngettext ("received %u change", "received %u changes", r->applied_changes),
               r->applied_changes);
      g_print (".\n");
      if (r->refused_batches)
        g_print (ngettext ("%u batch was refused (see above).\n",
                           "%u batches were refused (see above).\n", r->refused_batches),
                 r->refused_batches);
    }
}

int
cli_sync_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  SyncReport r = { 0 };
  gboolean ok = sync_run (cli->vault, &cli->req.sync.opts, &r, &error);

  print_problems (&r);
  if (ok)
    print_sync_report (cli, &r);
  sync_report_clear (&r);
  return ok ? CLI_EXIT_OK : cli_fail (error);
}

/* ---- workspace ---- */

static int
workspace_create_check (Cli *cli)
{
  const char *fd = cli->req.sync.create_token_fd;
  guint64 n = 0;

  if (cli->req.sync.relay == NULL || cli->req.sync.words->len)
    return cli_usage (cli);
  if (fd != NULL && !g_ascii_string_to_unsigned (fd, 10, 0, G_MAXINT, &n, NULL))
    return cli_usage_error (_ ("'--create-token-fd' needs a file descriptor number"));
  cli->req.sync.opts.relay = NULL;
  return CLI_EXIT_OK;
}

/* The create token: one line from --create-token-fd (never an argument, which
 * other users see in ps), in secure memory; NULL without the option. */
static SpSecret *
read_create_token (Cli *cli, GError **error)
{
  g_autoptr (SpSecret) line = NULL;
  g_autoptr (GError) local = NULL;
  SpSecret *token;
  guint64 fd = 0;

  if (cli->req.sync.create_token_fd == NULL)
    return NULL;
  g_ascii_string_to_unsigned (cli->req.sync.create_token_fd, 10, 0, G_MAXINT, &fd, NULL);
  line = sp_secret_read_line_fd ((int)fd, &local);
  if (line == NULL || sp_secret_len (line) == 0)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("No create token could be read from file descriptor %d"), (int)fd);
      return NULL;
    }
  token = sp_secret_new (sp_secret_len (line) + 1);
  memcpy (sp_secret_data (token), sp_secret_data (line), sp_secret_len (line));
  sp_secret_data (token)[sp_secret_len (line)] = '\0';
  return token;
}

static int
workspace_create_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) token = read_create_token (cli, &error);
  SyncOptions opts = cli->req.sync.opts;

  if (token == NULL && error != NULL)
    return cli_fail (error);
  opts.create_token = token ? (const char *)sp_secret_data (token) : NULL;
  if (!sync_workspace_create (cli->vault, cli->req.sync.relay, &opts, &error))
    return cli_fail (error);
  g_print ("%s\n", _ ("Workspace created. Invite other devices with 'workspace invite'."));
  return CLI_EXIT_OK;
}

static int
workspace_invite_check (Cli *cli)
{
  CliSyncArgs *a = &cli->req.sync;
  guint64 hours = SYNC_INVITE_TTL_DEFAULT_HOURS;

  if (a->words->len
      || (a->hours
          && !g_ascii_string_to_unsigned (a->hours, 10, SYNC_INVITE_TTL_MIN_HOURS,
                                          SYNC_INVITE_TTL_MAX_HOURS, &hours, NULL)))
    return cli_usage (cli);
  a->invite_hours = (guint)hours;
  return CLI_EXIT_OK;
}

static int
workspace_invite_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *invite
      = sync_workspace_invite (cli->vault, cli->req.sync.invite_hours, &cli->req.sync.opts, &error);

  if (invite == NULL)
    return cli_fail (error);
  g_print ("%s\n", invite);
  return CLI_EXIT_OK;
}

/* A malformed invite is refused before the passphrase is asked. */
static int
workspace_join_check (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *relay = NULL;
  guint8 ws[16], token[32], pk[32];
  gboolean ok;
  int code;

  if ((code = one_word_check (cli)) != CLI_EXIT_OK)
    return code;
  ok = sync_invite_parse (cli->req.sync.words->pdata[0], &relay, ws, token, pk, &error);
  sodium_memzero (token, sizeof token);
  if (!ok)
    {
      g_printerr ("supolka-cli: %s\n", error->message);
      return CLI_EXIT_INVALID;
    }
  return CLI_EXIT_OK;
}

static int
workspace_join_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *code_s = sync_workspace_join (cli->vault, cli->req.sync.words->pdata[0],
                                                 &cli->req.sync.opts, &error);

  if (code_s == NULL)
    return cli_fail (error);
  if (cli->json)
    cli_json_print_object (CLI_STR ("safety_code", code_s));
  else
    g_print (_ ("Asked to join. Safety code: %s\nRead it to the admin, who approves with "
                "'workspace approve %s'; then run 'sync'.\n"),
             code_s, code_s);
  return CLI_EXIT_OK;
}

/* The safety code may come as one word or three ("123 456 789"). */
static int
workspace_approve_check (Cli *cli)
{
  GPtrArray *words = cli->req.sync.words;
  GString *s;
  guint digits = 0;

  if (words->len < 1)
    return cli_usage (cli);
  s = g_string_new (NULL);
  for (guint i = 0; i < words->len; i++)
    g_string_append (s, words->pdata[i]);
  cli->req.text = g_string_free (s, FALSE);
  for (const char *p = cli->req.text; *p; p++)
    digits += g_ascii_isdigit (*p) ? 1 : 0;
  if (digits != 9 || strspn (cli->req.text, "0123456789 -") != strlen (cli->req.text))
    {
      g_printerr ("supolka-cli: %s\n", _ ("A safety code is nine digits, like 123 456 789"));
      return CLI_EXIT_INVALID;
    }
  return CLI_EXIT_OK;
}

static int
workspace_approve_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dev
      = sync_workspace_approve (cli->vault, cli->req.text, &cli->req.sync.opts, &error);

  if (dev == NULL)
    return cli_fail (error);
  g_print (_ ("Approved device %s.\n"), dev);
  return CLI_EXIT_OK;
}

static int
workspace_snapshot_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  gboolean prune = cli->req.sync.prune;

  if (!sync_snapshot_upload (cli->vault, prune, &cli->req.sync.opts, &error))
    return cli_fail (error);
  g_print ("%s\n", prune ? _ ("Snapshot uploaded; the relay deleted the batches it covers.")
                         : _ ("Snapshot uploaded."));
  return CLI_EXIT_OK;
}

static void
print_status_text (Cli *cli, const SyncStatus *st)
{
  g_autofree char *relay = NULL;

  if (st->workspace == NULL)
    {
      g_print ("%s\n", _ ("Not in a workspace."));
      return;
    }
  relay = cli_safe (st->relay, TRUE);
  g_print (_ ("Workspace %s at %s\nThis device: %s (%s)\nKey epoch: %u\n"), st->workspace, relay,
           sp_vault_get_device_id (cli->vault),
           !st->approved ? _ ("waiting for approval")
           : st->admin   ? _ ("admin")
                         : _ ("member"),
           st->epoch);
  g_print (ngettext ("%lld change not yet sent\n", "%lld changes not yet sent\n",
                     (gulong)st->pending_changes),
           (long long)st->pending_changes);
}

static int
workspace_status_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  SyncStatus st;

  if (!sync_get_status (cli->vault, &st, &error))
    return cli_fail (error);
  if (cli->json)
    cli_json_print_object (
        CLI_STR_OR_NULL ("workspace", st.workspace), CLI_STR_OR_NULL ("relay", st.relay),
        CLI_STR ("device", sp_vault_get_device_id (cli->vault)), CLI_BOOL ("admin", st.admin),
        CLI_BOOL ("approved", st.approved), CLI_INT ("epoch", st.epoch),
        CLI_INT ("last_sync", st.last_sync), CLI_INT ("pending_changes", st.pending_changes));
  else
    print_status_text (cli, &st);
  sync_status_clear (&st);
  return CLI_EXIT_OK;
}

/* ---- device ---- */

static void
print_devices (Cli *cli, GPtrArray *devs)
{
  g_autoptr (JsonBuilder) b = NULL;

  if (!cli->json)
    {
      for (guint i = 0; i < devs->len; i++)
        {
          const SyncDevice *d = devs->pdata[i];
          g_autofree char *code_s
              = d->safety_code ? g_strdup_printf (_ ("  safety code %s"), d->safety_code) : NULL;

          g_print ("%s  %-8s%s%s%s\n", d->device, d->status, d->admin ? _ ("  admin") : "",
                   d->is_self ? _ ("  (this device)") : "", code_s ? code_s : "");
        }
      return;
    }
  b = json_builder_new ();
  json_builder_begin_array (b);
  for (guint i = 0; i < devs->len; i++)
    {
      const SyncDevice *d = devs->pdata[i];

      cli_json_object (b, CLI_STR ("device", d->device), CLI_STR ("status", d->status),
                       CLI_BOOL ("admin", d->admin), CLI_BOOL ("self", d->is_self),
                       CLI_STR_OR_NULL ("safety_code", d->safety_code));
    }
  json_builder_end_array (b);
  cli_json_print (b);
}

static int
device_list_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) devs = sync_device_list (cli->vault, &cli->req.sync.opts, &error);

  if (devs == NULL)
    return cli_fail (error);
  print_devices (cli, devs);
  return CLI_EXIT_OK;
}

static int
device_revoke_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  guint not_rotated = 0;

  /* The compartments it held get new keys too (those this admin holds). */
  if (!sync_device_revoke_full (cli->vault, cli->req.sync.words->pdata[0], &cli->req.sync.opts,
                                &not_rotated, &error))
    return cli_fail (error);
  g_print ("%s\n", _ ("Device removed; the workspace key was replaced. It keeps what it had "
                      "already received."));
  if (not_rotated > 0)
    g_printerr (ngettext ("Compartments this device could not give new keys: %u. An admin who "
                          "holds them must revoke the device from them.\n",
                          "Compartments this device could not give new keys: %u. An admin who "
                          "holds them must revoke the device from them.\n",
                          not_rotated),
                not_rotated);
  return CLI_EXIT_OK;
}

/* ---- The groups ---- */

/* clang-format off */
const CliCommand cli_workspace_commands[] = {
  { .name = "create", .usage = N_ ("usage: workspace create --relay URL [--create-token-fd N]"),
    .check = workspace_create_check, .open_vault = TRUE, .run = workspace_create_run },
  { .name = "invite", .usage = N_ ("usage: workspace invite [--hours 1-168]"),
    .check = workspace_invite_check, .open_vault = TRUE, .run = workspace_invite_run },
  { .name = "join", .usage = N_ ("usage: workspace join INVITE"),
    .check = workspace_join_check, .open_vault = TRUE, .run = workspace_join_run },
  { .name = "approve", .usage = N_ ("usage: workspace approve CODE"),
    .check = workspace_approve_check, .open_vault = TRUE, .run = workspace_approve_run },
  { .name = "snapshot", .usage = N_ ("usage: workspace snapshot [--prune]"),
    .check = no_words_check, .open_vault = TRUE, .run = workspace_snapshot_run },
  { .name = "status", .usage = N_ ("usage: workspace status"),
    .check = no_words_check, .open_vault = TRUE, .run = workspace_status_run },
  { NULL },
};

const CliCommand cli_device_commands[] = {
  { .name = "list", .usage = N_ ("usage: device list"),
    .check = no_words_check, .open_vault = TRUE, .run = device_list_run },
  { .name = "revoke", .usage = N_ ("usage: device revoke DEVICE"),
    .check = one_word_check, .open_vault = TRUE, .run = device_revoke_run },
  { NULL },
};
/* clang-format on */

/* workspace and device: the group's options come first ("workspace bogus --x"
 * says "unknown option"), then the sub-command's row from the group's table;
 * an unknown sub-command gets the group row's usage. */
int
cli_sync_group_run (Cli *cli)
{
  const char *sub = cli->args->len > 1 ? cli->args->pdata[1] : "";
  const CliCommand *cmd;
  int code;

  if ((code = parse_sync_args (cli, 2)) != CLI_EXIT_OK)
    return code;
  cmd = cli_find_command (cli->cmd->group, sub);
  if (cmd == NULL)
    return cli_usage (cli);
  if (cli->req.sync.create_token_fd != NULL && !g_str_equal (cmd->name, "create"))
    return cli_usage_error (_ ("'--create-token-fd' is only for 'workspace create'"));
  return cli_run_command (cli, cmd);
}
