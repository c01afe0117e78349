/* supolka-cli: compartments (create, list, grant, revoke, default), move, and
 * travel mode (start, end) — docs/COMPARTMENTS.md. compartment and travel
 * are groups walked by cli_sync_group_run() (so they take --relay, --proxy
 * and --ca-file like the other sync commands); their rows are at the end.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <sodium.h>
#include <unistd.h>

#include "cli.h"

/* A return code is 12 words of at most 8 letters; a line longer than this is
 * not one. */
#define RETURN_CODE_LINE_MAX 512

/* ---- Shared with add, list, search and stats ---- */

gint64
cli_compartment_lookup (Cli *cli, const char *name, GError **error)
{
  return sp_vault_compartment_lookup (cli->vault, name, error);
}

static gboolean
in_workspace (SpVault *vault)
{
  SyncStatus st;
  gboolean in;

  if (!sync_get_status (vault, &st, NULL))
    return FALSE;
  in = st.workspace != NULL;
  sync_status_clear (&st);
  return in;
}

/* The compartments held here (SyncCompartment*) and how many the workspace
 * has: the published ones the log names, main, and those made here only.
 * Without a workspace, only this vault's. */
static GPtrArray *
held_compartments (SpVault *vault, guint *total, GError **error)
{
  g_autoptr (GPtrArray) local = NULL;
  GPtrArray *out;
  guint ws_total = 0;

  if (in_workspace (vault))
    {
      out = sync_compartment_list (vault, &ws_total, NULL, error);
      if (out == NULL)
        return NULL;
      *total = ws_total + 1; /* the log's compartments, and main */
      for (guint i = 0; i < out->len; i++)
        *total += ((SyncCompartment *)out->pdata[i])->published ? 0 : 1;
      return out;
    }
  local = sp_vault_compartments (vault, error);
  if (local == NULL)
    return NULL;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify)sync_compartment_free);
  for (guint i = 0; i < local->len; i++)
    {
      const SpCompartment *sc = local->pdata[i];
      SyncCompartment *o = g_new0 (SyncCompartment, 1);

      o->name = g_strdup (sc->name);
      o->cid = g_strdup (sc->uid);
      o->local = sc->id;
      o->records = sc->records;
      o->holders = g_new0 (char *, 1);
      o->published = sc->id == 0;
      g_ptr_array_add (out, o);
    }
  *total = out->len;
  return out;
}

gboolean
cli_compartment_counts (SpVault *vault, guint *held, guint *total, GError **error)
{
  g_autoptr (GPtrArray) list = held_compartments (vault, total, error);

  if (list == NULL)
    return FALSE;
  *held = list->len;
  return TRUE;
}

/* "figures from 2 of 5 compartments", or NULL when this device holds them all. */
char *
cli_compartment_figures (SpVault *vault, guint *held, guint *total)
{
  if (!cli_compartment_counts (vault, held, total, NULL) || *held >= *total)
    return NULL;
  return g_strdup_printf (
      ngettext ("figures from %u of %u compartment", "figures from %u of %u compartments", *total),
      *held, *total);
}

/* ---- compartment ---- */

static int
name_check (Cli *cli)
{
  return cli->req.sync.words->len == 1 ? CLI_EXIT_OK : cli_usage (cli);
}

static int
name_device_check (Cli *cli)
{
  return cli->req.sync.words->len == 2 ? CLI_EXIT_OK : cli_usage (cli);
}

static int
list_check (Cli *cli)
{
  return cli->req.sync.words->len == 0 ? CLI_EXIT_OK : cli_usage (cli);
}

/* In a workspace the compartment is published (this device is an admin and
 * its first holder); in a vault of its own it is made here only. */
static int
compartment_create_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  const char *name = cli->req.sync.words->pdata[0];
  g_autofree char *safe = cli_safe (name, TRUE);
  gboolean ok;

  if (in_workspace (cli->vault))
    ok = sync_compartment_create (cli->vault, name, &cli->req.sync.opts, &error);
  else
    ok = sp_vault_compartment_add (cli->vault, name, NULL, &error) > 0;
  if (!ok)
    return cli_fail (error);
  if (!cli->json)
    g_print (_ ("Compartment “%s” created; only this device holds it. Give it to another device "
                "with 'compartment grant'.\n"),
             safe);
  else
    cli_json_print_object (CLI_STR ("name", name));
  return CLI_EXIT_OK;
}

static void
print_compartments_json (GPtrArray *list, gint64 def, guint total)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  cli_json_members (b, CLI_INT ("held", list->len), CLI_INT ("total", total));
  json_builder_set_member_name (b, "compartments");
  json_builder_begin_array (b);
  for (guint i = 0; i < list->len; i++)
    {
      const SyncCompartment *c = list->pdata[i];

      json_builder_begin_object (b);
      cli_json_members (b, CLI_STR ("name", c->name), CLI_STR ("cid", c->cid),
                        CLI_INT ("records", c->records), CLI_BOOL ("default", c->local == def),
                        CLI_BOOL ("published", c->published));
      json_builder_set_member_name (b, "holders");
      json_builder_begin_array (b);
      for (guint j = 0; c->holders && c->holders[j]; j++)
        json_builder_add_string_value (b, c->holders[j]);
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  cli_json_print (b);
}

static void
print_compartments_text (GPtrArray *list, gint64 def, guint total)
{
  for (guint i = 0; i < list->len; i++)
    {
      const SyncCompartment *c = list->pdata[i];
      g_autofree char *name = cli_safe (c->name, TRUE);
      g_autofree char *records = g_strdup_printf (
          ngettext ("%lld record", "%lld records", (gulong)c->records), (long long)c->records);
      guint holders = c->holders ? g_strv_length (c->holders) : 0;
      g_autofree char *held_by
          = holders ? g_strdup_printf (ngettext ("  %u device", "  %u devices", holders), holders)
                    : NULL;

      g_print ("%-20s %s%s%s%s\n", name, records, held_by ? held_by : "",
               c->local == def ? _ ("  (default)") : "",
               c->published ? "" : _ ("  (this device only)"));
    }
  g_print (ngettext ("%u of %u compartment\n", "%u of %u compartments\n", total), list->len, total);
}

static int
compartment_list_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  guint total = 0;
  g_autoptr (GPtrArray) list = held_compartments (cli->vault, &total, &error);
  gint64 def = sp_vault_get_default_compartment (cli->vault);

  if (list == NULL)
    return cli_fail (error);
  if (cli->json)
    print_compartments_json (list, def, total);
  else
    print_compartments_text (list, def, total);
  return CLI_EXIT_OK;
}

/* grant and revoke */
static int
compartment_grant_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  const char *name = cli->req.sync.words->pdata[0];
  const char *device = cli->req.sync.words->pdata[1];
  gboolean grant = g_str_equal (cli->cmd->name, "grant");

  if (!(grant ? sync_compartment_grant : sync_compartment_revoke) (cli->vault, name, device,
                                                                   &cli->req.sync.opts, &error))
    return cli_fail (error);
  return cli_print_done (
      cli, grant ? _ ("Granted. The device receives the compartment when it next syncs.\n")
                 : _ ("Revoked; the compartment has a new key. The device removes its records "
                      "when it next syncs; what it has already seen it may have kept.\n"));
}

static int
compartment_default_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  gint64 id = cli_compartment_lookup (cli, cli->req.sync.words->pdata[0], &error);

  if (id < 0 || !sp_vault_set_default_compartment (cli->vault, id, &error))
    return cli_fail (error);
  return cli_print_done (cli, _ ("New records on this device go to that compartment.\n"));
}

/* ---- move ---- */

int
cli_move_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  gint64 id = cli_compartment_lookup (cli, cli->args->pdata[2], &error);

  if (id < 0 || !sp_vault_move (cli->vault, cli->args->pdata[1], id, &error))
    return cli_fail (error);
  return CLI_EXIT_OK;
}

/* ---- travel ---- */

/* "--keep A B --keep C": every word after a --keep, up to the next option,
 * is a compartment to keep; they are taken out of the arguments before the
 * sync options are read. */
static int
take_keep_words (Cli *cli)
{
  gboolean keeping = FALSE;

  cli->req.keep = g_ptr_array_new ();
  for (guint i = 2; i < cli->args->len;)
    {
      const char *a = cli->args->pdata[i];

      if (g_str_equal (a, "--keep"))
        keeping = TRUE;
      else if (g_str_has_prefix (a, "--"))
        keeping = FALSE;
      if (!keeping)
        {
          i++;
          continue;
        }
      if (!g_str_equal (a, "--keep"))
        g_ptr_array_add (cli->req.keep, (gpointer)a);
      else if (i + 1 >= cli->args->len || g_str_has_prefix (cli->args->pdata[i + 1], "--"))
        return cli_usage_error (_ ("'%s' needs a value"), a);
      g_ptr_array_remove_index (cli->args, i);
    }
  g_ptr_array_add (cli->req.keep, NULL);
  return CLI_EXIT_OK;
}

int
cli_travel_group_run (Cli *cli)
{
  int code;

  if (cli->args->len > 1 && g_str_equal (cli->args->pdata[1], "start")
      && (code = take_keep_words (cli)) != CLI_EXIT_OK)
    return code;
  return cli_sync_group_run (cli);
}

/* The names of the held compartments travel start leaves behind. */
static char *
left_behind (Cli *cli)
{
  g_autoptr (GPtrArray) held = sp_vault_compartments (cli->vault, NULL);
  const char *const *keep = (const char *const *)cli->req.keep->pdata;
  g_autoptr (GString) s = g_string_new (NULL);

  for (guint i = 0; held && i < held->len; i++)
    {
      const SpCompartment *sc = held->pdata[i];
      gboolean kept = sc->id == 0;
      g_autofree char *name = NULL;

      for (guint k = 0; !kept && keep[k]; k++)
        kept = sp_vault_compartment_lookup (cli->vault, keep[k], NULL) == sc->id;
      if (kept)
        continue;
      name = cli_safe (sc->name, TRUE);
      g_string_append_printf (s, "%s%s", s->len ? ", " : "", name);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static int
travel_start_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *names = left_behind (cli);
  g_autofree char *code = NULL;

  if (!sync_travel_start (cli->vault, (const char *const *)cli->req.keep->pdata,
                          &cli->req.sync.opts, &code, &error))
    return cli_fail (error);
  if (*names)
    g_print (_ ("Left behind: %s.\n"), names);
  g_print ("%s\n", _ ("The return code below brings them back with 'travel end'. It is shown only "
                      "once and nobody else has it: write it down and keep it apart from this "
                      "laptop."));
  g_print ("%s\n", code);
  sodium_memzero (code, strlen (code));
  return CLI_EXIT_OK;
}

/* One line of standard input, at most RETURN_CODE_LINE_MAX bytes, into
 * secure memory (NUL-terminated); never from argv, where other users of the
 * machine and the shell's history see it. */
static SpSecret *
read_return_code (GError **error)
{
  g_autoptr (SpSecret) buf = sp_secret_new (RETURN_CODE_LINE_MAX + 1);
  char *p = (char *)sp_secret_data (buf);
  gsize n = 0;

  if (isatty (STDIN_FILENO))
    g_printerr ("%s", _ ("Return code: "));
  for (;;)
    {
      char c;
      ssize_t r = read (STDIN_FILENO, &c, 1);
      int saved = errno;

      if (r < 0 && saved == EINTR)
        continue;
      if (r < 0)
        {
          g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (saved),
                               g_strerror (saved));
          return NULL;
        }
      if (r == 0 || c == '\n')
        break;
      if (n >= RETURN_CODE_LINE_MAX)
        {
          g_set_error_literal (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                               _ ("That line is too long to be a return code"));
          return NULL;
        }
      p[n++] = c;
    }
  p[n] = '\0';
  if (n == 0)
    {
      g_set_error_literal (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                           _ ("No return code was given on standard input"));
      return NULL;
    }
  return g_steal_pointer (&buf);
}

static int
travel_end_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) code = read_return_code (&error);

  if (code == NULL)
    return cli_fail (error);
  if (!sync_travel_end (cli->vault, (const char *)sp_secret_data (code), &cli->req.sync.opts,
                        &error))
    return cli_fail (error);
  return cli_print_done (cli, _ ("Welcome back: the compartments left behind are here again.\n"));
}

/* ---- The groups ---- */

/* clang-format off */
const CliCommand cli_compartment_commands[] = {
  { .name = "create", .usage = N_ ("usage: compartment create NAME"),
    .check = name_check, .open_vault = TRUE, .run = compartment_create_run },
  { .name = "list", .usage = N_ ("usage: compartment list"),
    .check = list_check, .open_vault = TRUE, .run = compartment_list_run },
  { .name = "grant", .usage = N_ ("usage: compartment grant NAME DEVICE"),
    .check = name_device_check, .open_vault = TRUE, .run = compartment_grant_run },
  { .name = "revoke", .usage = N_ ("usage: compartment revoke NAME DEVICE"),
    .check = name_device_check, .open_vault = TRUE, .run = compartment_grant_run },
  { .name = "default", .usage = N_ ("usage: compartment default NAME"),
    .check = name_check, .open_vault = TRUE, .run = compartment_default_run },
  { NULL },
};

const CliCommand cli_travel_commands[] = {
  { .name = "start", .usage = N_ ("usage: travel start [--keep COMPARTMENT...]"),
    .check = list_check, .open_vault = TRUE, .run = travel_start_run },
  { .name = "end", .usage = N_ ("usage: travel end (the return code on standard input)"),
    .check = list_check, .open_vault = TRUE, .run = travel_end_run },
  { NULL },
};
/* clang-format on */
