/* supolka-cli: the vault as a whole — init, passwd, check, stats, and the
 * seized-device defences (docs/SECURITY.md): set-duress, panic, backup, restore.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>

#include "cli.h"

/* One "--kdf PROFILE" or "--kdf=PROFILE" at argument *@i. *@matched says
 * whether it was one; FALSE when the profile is not known. */
static gboolean
parse_kdf_option (GPtrArray *args, guint *i, SpKdfProfile *profile, gboolean *matched)
{
  const char *a = args->pdata[*i];

  *matched = TRUE;
  if (g_str_equal (a, "--kdf") && *i + 1 < args->len)
    a = args->pdata[++*i];
  else if (g_str_has_prefix (a, "--kdf="))
    a += 6;
  else
    {
      *matched = FALSE;
      return TRUE;
    }
  return sp_kdf_profile_from_string (a, profile);
}

static SpSecret *
read_new_vault_passphrase (Cli *cli, GError **error)
{
  return cli_read_new_passphrase (cli, _ ("New passphrase: "), _ ("Repeat the new passphrase: "),
                                  error);
}

typedef enum
{
  KDF_OK,
  KDF_UNEXPECTED, /* an argument that is not --kdf */
  KDF_UNKNOWN,    /* a profile that is not one */
} KdfOptions;

/* Arguments that may only be --kdf options (init, passwd). */
static KdfOptions
parse_kdf_only (Cli *cli, SpKdfProfile *profile, const char **unexpected)
{
  for (guint i = 1; i < cli->args->len; i++)
    {
      gboolean matched;

      if (!parse_kdf_option (cli->args, &i, profile, &matched))
        return KDF_UNKNOWN;
      if (!matched)
        {
          *unexpected = cli->args->pdata[i];
          return KDF_UNEXPECTED;
        }
    }
  return KDF_OK;
}

int
cli_init_run (Cli *cli)
{
  SpKdfProfile profile = SP_KDF_MODERATE;
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) pass = NULL;
  g_autoptr (SpVault) vault = NULL;
  const char *bad = NULL;

  switch (parse_kdf_only (cli, &profile, &bad))
    {
      case KDF_UNEXPECTED:
        return cli_usage_error (_ ("init: unexpected argument '%s'"), bad);
      case KDF_UNKNOWN:
        return cli_usage_error (_ ("init: --kdf takes interactive, moderate or sensitive"));
      case KDF_OK:
      default:
        break;
    }
  if (sp_vault_exists (cli->vault_dir))
    return cli_usage_error (_ ("A vault already exists in %s"), cli->vault_dir);
  pass = read_new_vault_passphrase (cli, &error);
  if (pass == NULL)
    return cli_fail (error);
  vault = sp_vault_create (cli->vault_dir, pass, profile, &error);
  if (vault == NULL)
    return cli_fail (error);
  if (cli->json)
    cli_json_print_object (CLI_STR ("vault", cli->vault_dir),
                           CLI_STR ("device_id", sp_vault_get_device_id (vault)),
                           CLI_STR ("kdf", sp_kdf_profile_to_string (profile)));
  else
    g_print (_ ("Created a vault in %s\n"), cli->vault_dir);
  return CLI_EXIT_OK;
}

int
cli_passwd_check (Cli *cli)
{
  const char *bad = NULL;

  cli->req.profile = 0; /* 0: keep the vault's current profile */
  switch (parse_kdf_only (cli, &cli->req.profile, &bad))
    {
      case KDF_UNEXPECTED:
        return cli_usage_error (_ ("passwd: unexpected argument '%s'"), bad);
      case KDF_UNKNOWN:
        return cli_usage_error (_ ("passwd: --kdf takes interactive, moderate or sensitive"));
      case KDF_OK:
      default:
        return CLI_EXIT_OK;
    }
}

int
cli_passwd_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) pass = read_new_vault_passphrase (cli, &error);
  SpKdfProfile profile = cli->req.profile;

  if (pass == NULL)
    return cli_fail (error);
  if (profile == 0)
    profile = sp_vault_get_kdf_profile (cli->vault);
  if (!sp_vault_change_passphrase (cli->vault, pass, profile, &error))
    return cli_fail (error);
  return cli_print_done (cli, _ ("The passphrase was changed.\n"));
}

int
cli_check_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;

  if (!sp_vault_check (cli->vault, &error))
    return cli_fail (error);
  return cli_print_done (cli, _ ("The vault is intact.\n"));
}

/* Pads to a width in characters, not bytes (Cyrillic is two bytes each). */
static char *
pad (const char *s, glong width)
{
  glong n = g_utf8_strlen (s, -1);
  g_autofree char *spaces = g_strnfill (n < width ? (gsize)(width - n) : 0, ' ');

  return g_strconcat (s, spaces, NULL);
}

static const char *
stat_group_title (const char *group)
{
  if (g_str_equal (group, "orgs_by_region"))
    return _ ("Organisations by region");
  if (g_str_equal (group, "orgs_by_status"))
    return _ ("Organisations by status");
  if (g_str_equal (group, "orgs_by_kind"))
    return _ ("Organisations by kind");
  if (g_str_equal (group, "projects_by_status"))
    return _ ("Projects by status");
  if (g_str_equal (group, "events_by_kind_year"))
    return _ ("Events by kind and year");
  return group;
}

/* @total > @held: the device holds only some compartments, and says so. */
static void
print_stats_json (GPtrArray *stats, guint held, guint total)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const char *group = NULL;

  json_builder_begin_object (b);
  if (total > held)
    {
      json_builder_set_member_name (b, "compartments");
      cli_json_object (b, CLI_INT ("held", held), CLI_INT ("total", total));
    }
  for (guint i = 0; i < stats->len; i++)
    {
      const SpStat *s = stats->pdata[i];
      const char *key = *s->key ? s->key : "unset";

      if (g_strcmp0 (group, s->group) != 0)
        {
          if (group)
            json_builder_end_object (b);
          group = s->group;
          json_builder_set_member_name (b, group);
          json_builder_begin_object (b);
        }
      if (!g_str_equal (s->group, "events_by_kind_year"))
        {
          cli_json_members (b, CLI_INT (key, s->count));
          continue;
        }
      json_builder_set_member_name (b, key);
      cli_json_object (b, CLI_INT ("events", s->count),
                       CLI_INT ("declared_participants", s->participants),
                       CLI_INT ("participation_records", s->linked));
    }
  if (group)
    json_builder_end_object (b);
  json_builder_end_object (b);
  cli_json_print (b);
}

static void
print_stat_events (const SpStat *s)
{
  g_autofree char *events = g_strdup_printf (
      ngettext ("%lld event", "%lld events", (gulong)s->count), (long long)s->count);
  g_autofree char *people = g_strdup_printf (
      ngettext ("%lld declared participant", "%lld declared participants", (gulong)s->participants),
      (long long)s->participants);
  g_autofree char *linked = g_strdup_printf (
      ngettext ("%lld participation record", "%lld participation records", (gulong)s->linked),
      (long long)s->linked);

  g_print ("  %-28s %s, %s, %s\n", s->key, events, people, linked);
}

int
cli_stats_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) stats = sp_vault_stats (cli->vault, &error);
  const char *group = NULL;
  guint held = 0, total = 0;
  g_autofree char *figures = NULL;

  if (stats == NULL)
    return cli_fail (error);
  figures = cli_compartment_figures (cli->vault, &held, &total);
  if (cli->json)
    {
      print_stats_json (stats, held, figures ? total : held);
      return CLI_EXIT_OK;
    }
  if (figures)
    g_print ("(%s)\n%s", figures, stats->len ? "\n" : "");
  for (guint i = 0; i < stats->len; i++)
    {
      const SpStat *s = stats->pdata[i];
      if (g_strcmp0 (group, s->group) != 0)
        {
          group = s->group;
          g_print ("%s%s\n", i ? "\n" : "", stat_group_title (group));
        }
      if (g_str_equal (s->group, "events_by_kind_year"))
        print_stat_events (s);
      else
        {
          g_autofree char *label = pad (*s->key ? s->key : _ ("(not set)"), 28);
          g_print ("  %s %" G_GINT64_FORMAT "\n", label, s->count);
        }
    }
  return CLI_EXIT_OK;
}

/* ---- Seized-device defences (docs/SECURITY.md) ---- */

/* No passphrase, no question: panic is one action (docs/SECURITY.md). */
int
cli_panic_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;

  if (!sp_vault_panic (cli->vault_dir, &error))
    return cli_fail (error);
  return cli_print_done (cli, _ ("The vault was destroyed.\n"));
}

int
cli_set_duress_check (Cli *cli)
{
  for (guint i = 1; i < cli->args->len; i++)
    {
      const char *a = cli->args->pdata[i];
      if (g_str_equal (a, "--remove"))
        cli->req.flag = TRUE;
      else
        return cli_usage_error (_ ("set-duress: unexpected argument '%s'"), a);
    }
  return CLI_EXIT_OK;
}

int
cli_set_duress_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) duress = NULL;

  if (cli->req.flag) /* --remove */
    {
      if (!sp_vault_clear_duress (cli->vault, &error))
        return cli_fail (error);
      return cli_print_done (cli, _ ("No duress passphrase is set now.\n"));
    }
  duress = cli_read_new_passphrase (cli, _ ("Duress passphrase: "),
                                    _ ("Repeat the duress passphrase: "), &error);
  if (duress == NULL || !sp_vault_set_duress (cli->vault, duress, &error))
    return cli_fail (error);
  return cli_print_done (
      cli, _ ("The duress passphrase was set. Unlocking with it destroys this vault.\n"));
}

int
cli_backup_check (Cli *cli)
{
  cli->req.profile = SP_KDF_MODERATE;
  for (guint i = 1; i < cli->args->len; i++)
    {
      gboolean matched;
      if (!parse_kdf_option (cli->args, &i, &cli->req.profile, &matched))
        return cli_usage_error (_ ("backup: --kdf takes interactive, moderate or sensitive"));
      if (matched)
        continue;
      if (cli->req.file != NULL || g_str_has_prefix (cli->args->pdata[i], "--"))
        return cli_usage_error (_ ("backup: unexpected argument '%s'"),
                                (const char *)cli->args->pdata[i]);
      cli->req.file = cli->args->pdata[i];
    }
  if (cli->req.file == NULL)
    return cli_usage_error (_ ("backup needs a FILE"));
  return CLI_EXIT_OK;
}

int
cli_backup_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) pass = cli_read_new_passphrase (
      cli, _ ("Backup passphrase: "), _ ("Repeat the backup passphrase: "), &error);
  g_autofree char *text = NULL;

  if (pass == NULL || !sp_vault_backup (cli->vault, cli->req.file, pass, cli->req.profile, &error))
    return cli_fail (error);
  text = g_strdup_printf (_ ("The backup was written to %s\n"), cli->req.file);
  return cli_print_done (cli, text);
}

/* restore FILE [--force] [--new-passphrase] [--kdf PROFILE] */
static int
parse_restore (Cli *cli, gboolean *force, gboolean *ask_new)
{
  cli->req.profile = SP_KDF_MODERATE;
  for (guint i = 1; i < cli->args->len; i++)
    {
      const char *a = cli->args->pdata[i];
      gboolean matched;
      if (!parse_kdf_option (cli->args, &i, &cli->req.profile, &matched))
        return cli_usage_error (_ ("restore: --kdf takes interactive, moderate or sensitive"));
      if (matched)
        continue;
      if (g_str_equal (a, "--force"))
        *force = TRUE;
      else if (g_str_equal (a, "--new-passphrase"))
        *ask_new = TRUE;
      else if (cli->req.file == NULL && !g_str_has_prefix (a, "--"))
        cli->req.file = a;
      else
        return cli_usage_error (_ ("restore: unexpected argument '%s'"), a);
    }
  if (cli->req.file == NULL)
    return cli_usage_error (_ ("restore needs a FILE"));
  return CLI_EXIT_OK;
}

int
cli_restore_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) pass = NULL;
  g_autoptr (SpSecret) new_pass = NULL;
  g_autofree char *text = NULL;
  gboolean force = FALSE, ask_new = FALSE;
  const char *file;
  int code;

  if ((code = parse_restore (cli, &force, &ask_new)) != CLI_EXIT_OK)
    return code;
  file = cli->req.file;
  if (sp_vault_exists (cli->vault_dir) && !force)
    return cli_usage_error (_ ("A vault already exists in %s: add --force to replace it"),
                            cli->vault_dir);
  if (!g_file_test (file, G_FILE_TEST_EXISTS))
    {
      g_set_error (&error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND, _ ("No such file: %s"), file);
      return cli_fail (error);
    }
  pass = cli_read_passphrase (cli, _ ("Backup passphrase: "), &error);
  if (pass == NULL)
    return cli_fail (error);
  if (ask_new)
    {
      new_pass = read_new_vault_passphrase (cli, &error);
      if (new_pass == NULL)
        return cli_fail (error);
    }
  if (!sp_vault_restore (file, pass, cli->vault_dir, new_pass, cli->req.profile, force, &error))
    return cli_fail (error);
  text = g_strdup_printf (_ ("The vault was restored in %s\n"), cli->vault_dir);
  return cli_print_done (cli, text);
}
