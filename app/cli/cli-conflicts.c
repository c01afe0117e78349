/* supolka-cli: conflicts, resolve — fields edited on two devices at once.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>

#include "cli.h"

static void
print_conflicts_json (GPtrArray *list)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_array (b);
  for (guint i = 0; i < list->len; i++)
    {
      const SpConflict *c = list->pdata[i];

      cli_json_object (
          b, CLI_STR ("record", c->record), CLI_STR ("field", c->field),
          CLI_STR ("value", c->winner_value), CLI_STR ("value_device", c->winner_device),
          CLI_STR ("other_value", c->other_value), CLI_STR ("other_device", c->other_device),
          CLI_INT ("other_hlc", (gint64)c->other_hlc));
    }
  json_builder_end_array (b);
  cli_json_print (b);
}

int
cli_conflicts_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  const char *id = cli->args->len == 2 ? cli->args->pdata[1] : NULL;

  if (id)
    {
      g_autoptr (SpRecord) r = sp_vault_get (cli->vault, id, &error);
      if (r == NULL)
        return cli_fail (error);
    }
  list = sp_vault_conflicts (cli->vault, id, &error);
  if (list == NULL)
    return cli_fail (error);
  if (cli->json)
    {
      print_conflicts_json (list);
      return CLI_EXIT_OK;
    }
  for (guint i = 0; i < list->len; i++)
    {
      const SpConflict *c = list->pdata[i];
      g_autofree char *kept = cli_safe (c->winner_value, TRUE);
      g_autofree char *other = cli_safe (c->other_value, TRUE);
      g_print (_ ("%s %s: kept \"%s\"; also written: \"%s\" (device %.8s)\n"), c->record, c->field,
               kept, other, c->other_device);
    }
  return CLI_EXIT_OK;
}

/* Keeps the given value for each field, ending its conflict everywhere once
 * synced, even when the value is already the one shown. */
int
cli_resolve_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  GArray *values = cli->req.values;

  if (!sp_vault_begin (cli->vault, &error))
    return cli_fail (error);
  for (guint i = 0; i < values->len; i++)
    {
      const SpFieldValue *fv = &g_array_index (values, SpFieldValue, i);
      if (!sp_vault_resolve_conflict (cli->vault, cli->args->pdata[1], fv->field, fv->value,
                                      &error))
        {
          sp_vault_rollback (cli->vault);
          return cli_fail (error);
        }
    }
  if (!sp_vault_commit (cli->vault, &error))
    return cli_fail (error);
  return CLI_EXIT_OK;
}
