/* supolka-cli: add, edit, delete, undelete, show, list, search, fields.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>

#include "cli.h"

/* A link to a record this device does not hold (it is in a compartment not
 * granted here, or was left behind by travel mode): shown as "restricted",
 * never its id. @vault NULL: links are not looked at (list). */
static gboolean
link_restricted (SpVault *vault, const SpFieldInfo *f, const char *v)
{
  g_autoptr (SpRecord) target = NULL;

  if (vault == NULL || f->type != SP_FIELD_REF || *v == '\0')
    return FALSE;
  target = sp_vault_get (vault, v, NULL);
  return target == NULL;
}

/* The name of the record's compartment ("main" for main). */
static char *
compartment_name (SpVault *vault, const SpRecord *r)
{
  g_autoptr (SpCompartment) c
      = sp_vault_compartment_get (vault, sp_record_get_compartment (r), NULL);

  return g_strdup (c ? c->name : "main");
}

static void
add_record_json (JsonBuilder *b, SpVault *vault, const SpRecord *r)
{
  const SpKindInfo *kind = sp_kind_lookup (sp_record_get_kind (r));
  g_autofree char *comp = vault ? compartment_name (vault, r) : NULL;

  json_builder_begin_object (b);
  cli_json_members (
      b, CLI_STR ("id", sp_record_get_id (r)), CLI_STR ("kind", sp_record_get_kind (r)),
      CLI_STR ("title", sp_record_get_title (r)), CLI_STR ("created", sp_record_get_created (r)),
      CLI_BOOL ("deleted", sp_record_is_deleted (r)),
      CLI_BOOL ("conflicts", sp_record_has_conflicts (r)));
  if (comp)
    cli_json_members (b, CLI_STR ("compartment", comp));
  json_builder_set_member_name (b, "fields");
  json_builder_begin_object (b);
  for (guint i = 0; kind && i < kind->n_fields; i++)
    {
      const char *name = kind->fields[i].name;
      const char *v = sp_record_get (r, name);

      if (v == NULL)
        continue;
      if (link_restricted (vault, &kind->fields[i], v))
        {
          json_builder_set_member_name (b, name);
          cli_json_object (b, CLI_BOOL ("restricted", TRUE));
        }
      else if (kind->fields[i].type == SP_FIELD_INT)
        cli_json_members (b, CLI_INT (name, g_ascii_strtoll (v, NULL, 10)));
      else
        cli_json_members (b, CLI_STR (name, v));
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
}

static void
print_records (Cli *cli, GPtrArray *records)
{
  if (cli->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();

      json_builder_begin_array (b);
      for (guint i = 0; i < records->len; i++)
        add_record_json (b, NULL, records->pdata[i]);
      json_builder_end_array (b);
      cli_json_print (b);
      return;
    }
  for (guint i = 0; i < records->len; i++)
    {
      const SpRecord *r = records->pdata[i];
      g_autofree char *title = cli_safe (sp_record_get_title (r), TRUE);
      g_print ("%s  %-13s %s%s%s\n", sp_record_get_id (r), sp_record_get_kind (r), title,
               sp_record_has_conflicts (r) ? _ ("  [conflict]") : "",
               sp_record_is_deleted (r) ? _ ("  [deleted]") : "");
    }
}

/* add KIND --FIELD VALUE ... [--compartment NAME]: --compartment is not a
 * field; it is taken out of the values. */
int
cli_add_check (Cli *cli)
{
  GArray *values;
  int code = cli_field_values_check (cli);

  if (code != CLI_EXIT_OK)
    return code;
  values = cli->req.values;
  for (guint i = values->len; i-- > 0;)
    if (g_str_equal (g_array_index (values, SpFieldValue, i).field, "compartment"))
      {
        cli->req.compartment = g_array_index (values, SpFieldValue, i).value;
        g_array_remove_index (values, i);
      }
  return CLI_EXIT_OK;
}

int
cli_add_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  GArray *values = cli->req.values;
  const char *name = cli->req.compartment;
  gint64 comp = name ? cli_compartment_lookup (cli, name, &error)
                     : sp_vault_get_default_compartment (cli->vault);
  g_autofree char *id = NULL;

  if (comp < 0)
    return cli_fail (error);
  id = sp_vault_insert_in (cli->vault, cli->req.kind, comp, (SpFieldValue *)values->data,
                           values->len, &error);
  if (id == NULL)
    return cli_fail (error);
  if (cli->json)
    cli_json_print_object (CLI_STR ("id", id));
  else
    g_print ("%s\n", id);
  return CLI_EXIT_OK;
}

int
cli_edit_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  GArray *values = cli->req.values;

  if (!sp_vault_update (cli->vault, cli->args->pdata[1], (SpFieldValue *)values->data, values->len,
                        &error))
    return cli_fail (error);
  return CLI_EXIT_OK;
}

/* delete and undelete */
int
cli_delete_check (Cli *cli)
{
  if (cli->args->len != 2)
    return cli_usage_error (_ ("%s: give exactly one id"), (const char *)cli->args->pdata[0]);
  return CLI_EXIT_OK;
}

/* delete and undelete */
int
cli_delete_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  gboolean undelete = g_str_equal (cli->cmd->name, "undelete");

  if (!(undelete ? sp_vault_undelete : sp_vault_delete) (cli->vault, cli->args->pdata[1], &error))
    return cli_fail (error);
  return CLI_EXIT_OK;
}

static void
print_compartment_line (Cli *cli, const SpRecord *r)
{
  g_autofree char *comp = compartment_name (cli->vault, r);
  g_autofree char *safe = cli_safe (comp, TRUE);

  g_print ("%-22s %s\n", "compartment", safe);
}

int
cli_show_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpRecord) r = sp_vault_get (cli->vault, cli->args->pdata[1], &error);
  g_autoptr (GPtrArray) conflicts = NULL;
  const SpKindInfo *kind;

  if (r == NULL)
    return cli_fail (error);
  if (cli->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();

      add_record_json (b, cli->vault, r);
      cli_json_print (b);
      return CLI_EXIT_OK;
    }
  kind = sp_kind_lookup (sp_record_get_kind (r));
  g_print ("%-22s %s\n", "id", sp_record_get_id (r));
  g_print ("%-22s %s\n", "record", sp_record_get_kind (r));
  g_print ("%-22s %s\n", "created", sp_record_get_created (r));
  if (sp_record_is_deleted (r))
    g_print ("%-22s %s\n", "deleted", _ ("yes"));
  print_compartment_line (cli, r);
  for (guint i = 0; kind && i < kind->n_fields; i++)
    {
      const char *v = sp_record_get (r, kind->fields[i].name);
      if (v && link_restricted (cli->vault, &kind->fields[i], v))
        g_print ("%-22s %s\n", kind->fields[i].name, _ ("Restricted record"));
      else if (v)
        {
          g_autofree char *text = cli_safe (v, FALSE);
          g_print ("%-22s %s\n", kind->fields[i].name, text);
        }
    }
  conflicts = sp_vault_conflicts (cli->vault, sp_record_get_id (r), &error);
  for (guint i = 0; conflicts && i < conflicts->len; i++)
    {
      const SpConflict *c = conflicts->pdata[i];
      g_autofree char *other = cli_safe (c->other_value, TRUE);
      g_print (_ ("conflict: %s also had \"%s\" (from device %.8s)\n"), c->field, other,
               c->other_device);
    }
  return CLI_EXIT_OK;
}

/* Codes are lowercase ASCII; "--region Gomel" means gomel. */
static const char *
lowered (Cli *cli, const char *v)
{
  char *s = g_ascii_strdown (v, -1);

  g_ptr_array_add (cli->req.owned, s);
  return s;
}

/* One option of list (or search) and its value @v. */
static int
list_option (Cli *cli, gboolean search, const char *a, const char *v)
{
  SpFilter *filter = &cli->req.filter;

  if (g_str_equal (a, "--region") && !search)
    filter->region = lowered (cli, v);
  else if (g_str_equal (a, "--status") && !search)
    filter->status = lowered (cli, v);
  else if (g_str_equal (a, "--tag") && !search)
    filter->tag = v;
  else if (g_str_equal (a, "--kind") && search)
    cli->req.kind = v;
  else if (g_str_equal (a, "--kind"))
    filter->kind = lowered (cli, v);
  else if (g_str_equal (a, "--search") && !search)
    {
      /* "-": one line of standard input, never the command line. */
      g_autoptr (GError) error = NULL;

      filter->search = g_str_equal (v, "-") ? cli_read_search_text (cli, &error) : v;
      if (filter->search == NULL)
        return cli_fail (error);
    }
  else if (g_str_equal (a, "--compartment"))
    cli->req.compartment = v;
  else if (g_str_equal (a, "--limit"))
    {
      guint64 n;
      if (!g_ascii_string_to_unsigned (v, 10, 1, G_MAXUINT, &n, NULL))
        return cli_usage_error (_ ("--limit takes a positive number"));
      filter->limit = (guint)n;
    }
  else
    return cli_usage_error (_ ("unexpected argument '%s'"), a);
  return CLI_EXIT_OK;
}

/* list and search */
int
cli_list_check (Cli *cli)
{
  gboolean search = g_str_equal (cli->cmd->name, "search");
  guint first = 2;
  int code;

  if (search && (cli->args->len < 2 || g_str_has_prefix (cli->args->pdata[1], "--")))
    {
      /* No text given: one line of standard input (kept out of argv). */
      g_autoptr (GError) error = NULL;

      cli->req.filter.search = cli_read_search_text (cli, &error);
      if (cli->req.filter.search == NULL)
        return cli_fail (error);
      first = 1;
    }
  else if (search)
    cli->req.filter.search = cli->args->pdata[1];
  else
    {
      cli->req.kind = cli->args->pdata[1];
      if ((code = cli_check_kind (cli->req.kind)) != CLI_EXIT_OK)
        return code;
    }
  for (guint i = first; i < cli->args->len; i++)
    {
      const char *a = cli->args->pdata[i];
      const char *v = i + 1 < cli->args->len ? cli->args->pdata[i + 1] : NULL;

      if (g_str_equal (a, "--deleted"))
        {
          cli->req.filter.include_deleted = TRUE;
          continue;
        }
      if (v == NULL)
        return cli_usage_error (_ ("'%s' needs a value"), a);
      i++;
      if ((code = list_option (cli, search, a, v)) != CLI_EXIT_OK)
        return code;
    }
  return CLI_EXIT_OK;
}

/* list and search */
int
cli_list_run (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) records = NULL;
  SpFilter *filter = &cli->req.filter;

  if (cli->req.compartment)
    {
      filter->in_compartment = TRUE;
      filter->compartment = cli_compartment_lookup (cli, cli->req.compartment, &error);
      if (filter->compartment < 0)
        return cli_fail (error);
    }
  records = sp_vault_list (cli->vault, cli->req.kind, filter, &error);
  if (records == NULL)
    return cli_fail (error);
  print_records (cli, records);
  return CLI_EXIT_OK;
}

static const char *
field_type_name (SpFieldType t)
{
  static const char *const names[] = { "text",    "long_text", "enum",  "date",  "int", "tags",
                                       "regions", "ref",       "email", "phone", "url" };
  return (guint)t < G_N_ELEMENTS (names) ? names[t] : "?";
}

int
cli_fields_run (Cli *cli)
{
  const SpKindInfo *const *kinds = sp_kinds ();
  int code;

  if (cli->args->len == 2 && (code = cli_check_kind (cli->args->pdata[1])) != CLI_EXIT_OK)
    return code;
  for (guint k = 0; kinds[k]; k++)
    {
      if (cli->args->len > 1 && !g_str_equal (cli->args->pdata[1], kinds[k]->name))
        continue;
      g_print ("%s\n", kinds[k]->name);
      for (guint i = 0; i < kinds[k]->n_fields; i++)
        {
          const SpFieldInfo *f = &kinds[k]->fields[i];
          g_autofree char *values = f->values ? g_strjoinv ("|", (char **)f->values) : NULL;
          g_print ("  --%-22s %s%s%s%s\n", f->name, field_type_name (f->type), values ? " " : "",
                   values ? values : "", f->required ? _ (" (required)") : "");
        }
    }
  return CLI_EXIT_OK;
}
