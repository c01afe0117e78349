/* supolka-cli's shared pieces: running a command row, errors and exit status,
 * field arguments, passphrases, opening the vault, safe text and JSON output.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <fcntl.h>
#include <glib/gi18n.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"

void
cli_init (Cli *cli)
{
  *cli = (Cli){ .passphrase_fd = -1 };
  cli->req.values = g_array_new (FALSE, FALSE, sizeof (SpFieldValue));
  cli->req.owned = g_ptr_array_new_with_free_func (g_free);
}

void
cli_clear (Cli *cli)
{
  CliRequest *req = &cli->req;

  g_clear_pointer (&cli->vault, sp_vault_close);
  g_clear_pointer (&req->values, g_array_unref);
  g_clear_pointer (&req->owned, g_ptr_array_unref);
  g_clear_pointer (&req->data, g_free);
  g_clear_object (&req->stream);
  g_clear_pointer (&req->text, g_free);
  g_clear_pointer (&req->sync.relay, g_free);
  g_clear_pointer (&req->sync.proxy, g_free);
  g_clear_pointer (&req->sync.ca_file, g_free);
  g_clear_pointer (&req->sync.hours, g_free);
  g_clear_pointer (&req->sync.create_token_fd, g_free);
  g_clear_pointer (&req->sync.words, g_ptr_array_unref);
  g_clear_pointer (&req->keep, g_ptr_array_unref);
  g_clear_pointer (&cli->vault_dir, g_free);
}

const CliCommand *
cli_find_command (const CliCommand *table, const char *name)
{
  for (const CliCommand *c = table; c->name; c++)
    if (g_str_equal (c->name, name))
      return c;
  return NULL;
}

int
cli_run_command (Cli *cli, const CliCommand *cmd)
{
  g_autoptr (GError) error = NULL;
  guint n = cli->args->len - 1; /* after the command's name */
  int code;

  cli->cmd = cmd;
  if (cmd->count_args && (n < cmd->min_args || n > cmd->max_args))
    return cli_usage (cli);
  if (cmd->check && (code = cmd->check (cli)) != CLI_EXIT_OK)
    return code;
  if (cmd->open_vault)
    {
      cli->vault = cli_open_vault (cli, &error);
      if (cli->vault == NULL)
        return cli_fail (error);
    }
  return cmd->run (cli);
}

/* ---- Errors ---- */

int
cli_usage_error (const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_printerr ("supolka-cli: %s\n", msg);
  g_printerr (_ ("Run 'supolka-cli --help' for usage.\n"));
  return CLI_EXIT_USAGE;
}

int
cli_usage (Cli *cli)
{
  return cli_usage_error ("%s", _ (cli->cmd->usage));
}

int
cli_exit_code_for (const GError *error)
{
  if (error->domain == G_FILE_ERROR)
    return error->code == G_FILE_ERROR_NOENT ? CLI_EXIT_NOT_FOUND : CLI_EXIT_USAGE;
  if (error->domain == SYNC_ERROR)
    return error->code == SYNC_ERROR_NOT_FOUND ? CLI_EXIT_NOT_FOUND
           : error->code == SYNC_ERROR_FAILED  ? CLI_EXIT_USAGE
                                               : CLI_EXIT_SYNC;
  if (error->domain != SP_CORE_ERROR)
    return CLI_EXIT_INVALID;
  switch ((SpCoreError)error->code)
    {
      case SP_CORE_ERROR_WRONG_PASSPHRASE:
      case SP_CORE_ERROR_LOCKED:
        return CLI_EXIT_LOCKED;
      case SP_CORE_ERROR_NOT_FOUND:
        return CLI_EXIT_NOT_FOUND;
      case SP_CORE_ERROR_INVALID:
      case SP_CORE_ERROR_EXISTS:
      case SP_CORE_ERROR_CORRUPT:
      case SP_CORE_ERROR_TOO_NEW:
        return CLI_EXIT_INVALID;
      case SP_CORE_ERROR_FAILED:
      case SP_CORE_ERROR_IO:
      default:
        return CLI_EXIT_USAGE;
    }
}

int
cli_fail (const GError *error)
{
  g_autofree char *message = cli_safe (error->message, FALSE); /* messages quote values */

  g_printerr ("supolka-cli: %s\n", message);
  return cli_exit_code_for (error);
}

int
cli_check_kind (const char *kind)
{
  if (sp_kind_lookup (kind) != NULL)
    return CLI_EXIT_OK;
  g_printerr (_ ("supolka-cli: unknown kind of record: %s\n"), kind);
  return CLI_EXIT_INVALID;
}

/* ---- Field arguments ---- */

/* Collects "--field value" / "--field=value" pairs from argument @start on
 * into cli->req.values; field dashes become underscores; --from-json SOURCE
 * adds a JSON object's members (cli-input.c). Returns FALSE on a dangling
 * option, which @bad then names, or a bad JSON source (@code says how). */
static gboolean
collect_fields (Cli *cli, guint start, char **bad, int *code)
{
  GPtrArray *args = cli->args;

  for (guint i = start; i < args->len; i++)
    {
      const char *a = args->pdata[i];
      SpFieldValue fv;
      char *name;
      const char *eq;

      if (!g_str_has_prefix (a, "--") || a[2] == '\0')
        {
          *bad = g_strdup (a);
          return FALSE;
        }
      if (g_str_equal (a, "--from-json") || g_str_has_prefix (a, "--from-json="))
        {
          const char *src = a[11] == '=' ? a + 12 : i + 1 < args->len ? args->pdata[++i] : NULL;

          if (src == NULL)
            {
              *bad = g_strdup (a);
              return FALSE;
            }
          if ((*code = cli_fields_from_json (cli, src)) != CLI_EXIT_OK)
            return FALSE;
          continue;
        }
      eq = strchr (a, '=');
      if (eq)
        {
          name = g_strndup (a + 2, (gsize)(eq - a - 2));
          fv.value = eq + 1;
        }
      else
        {
          if (i + 1 >= args->len)
            {
              *bad = g_strdup (a);
              return FALSE;
            }
          name = g_strdup (a + 2);
          fv.value = args->pdata[++i];
        }
      g_strdelimit (name, "-", '_');
      g_ptr_array_add (cli->req.owned, name);
      fv.field = name;
      g_array_append_val (cli->req.values, fv);
    }
  return TRUE;
}

/* add KIND, edit ID and resolve ID, each followed by --FIELD VALUE pairs. */
int
cli_field_values_check (Cli *cli)
{
  const char *name = cli->cmd->name;
  g_autofree char *bad = NULL;
  int code;

  if (g_str_equal (name, "add"))
    {
      cli->req.kind = cli->args->pdata[1];
      if ((code = cli_check_kind (cli->req.kind)) != CLI_EXIT_OK)
        return code;
    }
  code = CLI_EXIT_OK;
  if (collect_fields (cli, 2, &bad, &code))
    return CLI_EXIT_OK;
  if (bad == NULL)
    return code;
  /* one message per command, as the catalogues have them */
  if (g_str_equal (name, "add"))
    return cli_usage_error (_ ("add: expected --FIELD VALUE, got '%s'"), bad);
  if (g_str_equal (name, "edit"))
    return cli_usage_error (_ ("edit: expected --FIELD VALUE, got '%s'"), bad);
  return cli_usage_error (_ ("resolve: expected --FIELD VALUE, got '%s'"), bad);
}

/* ---- Passphrases ---- */

SpSecret *
cli_read_passphrase (Cli *cli, const char *prompt, GError **error)
{
  struct termios old, noecho;
  g_autoptr (SpSecret) secret = NULL;
  int tty;

  if (cli->passphrase_fd >= 0)
    return sp_secret_read_line_fd (cli->passphrase_fd, error);

  tty = open ("/dev/tty", O_RDWR | O_CLOEXEC);
  if (tty < 0)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_LOCKED,
                   _ ("No terminal to ask for the passphrase: use --passphrase-fd N"));
      return NULL;
    }
  if (write (tty, prompt, strlen (prompt)) < 0)
    { /* the prompt is a courtesy */
    }
  if (tcgetattr (tty, &old) == 0)
    {
      noecho = old;
      noecho.c_lflag &= ~(tcflag_t)ECHO;
      tcsetattr (tty, TCSAFLUSH, &noecho);
    }
  secret = sp_secret_read_line_fd (tty, error);
  tcsetattr (tty, TCSAFLUSH, &old);
  if (write (tty, "\n", 1) < 0)
    {
    }
  close (tty);
  return g_steal_pointer (&secret);
}

/* Characters when the passphrase is UTF-8, else bytes. */
static glong
passphrase_chars (SpSecret *s)
{
  const char *p = (const char *)sp_secret_data (s);

  if (g_utf8_validate (p, (gssize)sp_secret_len (s), NULL))
    return g_utf8_strlen (p, (gssize)sp_secret_len (s));
  return (glong)sp_secret_len (s);
}

/* A new passphrase (the vault's, a duress or a backup one): asked twice on a
 * terminal, one line from a descriptor. */
SpSecret *
cli_read_new_passphrase (Cli *cli, const char *prompt, const char *again_prompt, GError **error)
{
  g_autoptr (SpSecret) first = cli_read_passphrase (cli, prompt, error);
  g_autoptr (SpSecret) again = NULL;

  if (first == NULL)
    return NULL;
  if (passphrase_chars (first) < 8)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("The passphrase must have at least 8 characters"));
      return NULL;
    }
  if (cli->passphrase_fd >= 0)
    return g_steal_pointer (&first);
  again = cli_read_passphrase (cli, again_prompt, error);
  if (again == NULL)
    return NULL;
  if (sp_secret_len (first) != sp_secret_len (again)
      || memcmp (sp_secret_data (first), sp_secret_data (again), sp_secret_len (first)) != 0)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("The two passphrases differ"));
      return NULL;
    }
  return g_steal_pointer (&first);
}

SpVault *
cli_open_vault (Cli *cli, GError **error)
{
  g_autoptr (SpSecret) pass = NULL;

  if (!sp_vault_exists (cli->vault_dir))
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND,
                   _ ("No vault in %s: create one with 'supolka-cli init'"), cli->vault_dir);
      return NULL;
    }
  pass = cli_read_passphrase (cli, _ ("Passphrase: "), error);
  if (pass == NULL)
    return NULL;
  return sp_vault_open (cli->vault_dir, pass, error);
}

/* ---- Output ---- */

/* Text from the vault may have come from another device: before it reaches a
 * terminal, control characters (escape sequences can rewrite the screen or
 * the clipboard) and bidirectional overrides become U+FFFD. one_line also
 * turns line breaks and tabs into spaces. */
char *
cli_safe (const char *s, gboolean one_line)
{
  GString *out;

  if (s == NULL)
    return g_strdup ("");
  out = g_string_sized_new (strlen (s));
  for (const char *p = s; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char_validated (p, -1);

      if (c == (gunichar)-1 || c == (gunichar)-2)
        break; /* values are valid UTF-8; stop rather than guess */
      if ((c == '\n' || c == '\t') && !one_line)
        g_string_append_unichar (out, c);
      else if (c == '\n' || c == '\t')
        g_string_append_c (out, ' ');
      else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || (c >= 0x202a && c <= 0x202e)
               || (c >= 0x2066 && c <= 0x2069) || c == 0x061c || c == 0x200e || c == 0x200f)
        g_string_append_unichar (out, 0xFFFD);
      else
        g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}

void
cli_json_add (JsonBuilder *b, const CliJsonField *fields, gsize n)
{
  for (gsize i = 0; i < n; i++)
    {
      const CliJsonField *f = &fields[i];

      json_builder_set_member_name (b, f->name);
      switch (f->type)
        {
          case CLI_JSON_STR_OR_NULL:
            if (f->s == NULL)
              {
                json_builder_add_null_value (b);
                break;
              }
            G_GNUC_FALLTHROUGH;
          case CLI_JSON_STR:
            json_builder_add_string_value (b, f->s);
            break;
          case CLI_JSON_INT:
            json_builder_add_int_value (b, f->i);
            break;
          case CLI_JSON_BOOL:
          default:
            json_builder_add_boolean_value (b, f->b);
            break;
        }
    }
}

void
cli_json_add_object (JsonBuilder *b, const CliJsonField *fields, gsize n)
{
  json_builder_begin_object (b);
  cli_json_add (b, fields, n);
  json_builder_end_object (b);
}

void
cli_json_print (JsonBuilder *b)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
}

void
cli_json_print_fields (const CliJsonField *fields, gsize n)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  cli_json_add_object (b, fields, n);
  cli_json_print (b);
}

int
cli_print_done (Cli *cli, const char *text)
{
  if (cli->json)
    cli_json_print_object (CLI_BOOL ("ok", TRUE));
  else
    g_print ("%s", text);
  return CLI_EXIT_OK;
}
