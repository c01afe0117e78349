/* supolka-cli: record text from standard input or a file instead of the
 * command line (forensics F2). Arguments land in the shell's history and,
 * while the command runs, in /proc/PID/cmdline, which every user of the
 * machine can read; standard input and files do not (docs/CLI.md).
 *
 *   add KIND --from-json FILE|-   edit ID --from-json FILE|-
 *   resolve ID --from-json FILE|- a JSON object {"field": "value", …}
 *   search [--kind K] …           no text: one line from standard input
 *   list KIND --search -          the same
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <glib/gi18n.h>
#include <unistd.h>

#include "cli.h"

#define CLI_INPUT_MAX (1024 * 1024)

static gboolean
stdin_free (Cli *cli, GError **error)
{
  if (cli->passphrase_fd == 0)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("Record text and the passphrase cannot both come from standard input: "
                      "give the passphrase on another descriptor"));
      return FALSE;
    }
  return TRUE;
}

/* All of standard input, or up to the first newline when @one_line. */
static char *
read_stdin (Cli *cli, gboolean one_line, gsize *len, GError **error)
{
  g_autoptr (GString) s = g_string_new (NULL);

  if (!stdin_free (cli, error))
    return NULL;
  for (;;)
    {
      char buf[4096];
      ssize_t n = read (0, buf, one_line ? 1 : sizeof buf);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO, "%s", g_strerror (saved));
          return NULL;
        }
      if (n == 0 || (one_line && buf[0] == '\n'))
        break;
      if (s->len + (gsize)n > CLI_INPUT_MAX)
        {
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                       _ ("The input is larger than 1 MiB"));
          return NULL;
        }
      g_string_append_len (s, buf, n);
    }
  if (one_line && s->len && s->str[s->len - 1] == '\r')
    g_string_truncate (s, s->len - 1);
  *len = s->len;
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static char *
read_source (Cli *cli, const char *source, gsize *len, GError **error)
{
  char *data = NULL;

  if (g_str_equal (source, "-"))
    return read_stdin (cli, FALSE, len, error);
  if (!g_file_get_contents (source, &data, len, error))
    return NULL;
  if (*len > CLI_INPUT_MAX)
    {
      g_free (data);
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                   _ ("The input is larger than 1 MiB"));
      return NULL;
    }
  return data;
}

/* One member of the object as a field value (owned by the request): a
 * string, an integer, or null (clears the field). */
static const char *
member_value (Cli *cli, JsonNode *node)
{
  GType type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  char *v;

  if (JSON_NODE_HOLDS_NULL (node))
    v = g_strdup ("");
  else if (type == G_TYPE_STRING)
    v = g_strdup (json_node_get_string (node));
  else if (type == G_TYPE_INT64)
    v = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
  else
    return NULL;
  g_ptr_array_add (cli->req.owned, v);
  return v;
}

int
cli_fields_from_json (Cli *cli, const char *source)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autofree char *data = NULL;
  gsize len = 0;
  JsonObject *obj;
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;

  data = read_source (cli, source, &len, &error);
  if (data == NULL)
    return cli_fail (error);
  if (!json_parser_load_from_data (parser, data, (gssize)len, &error)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return cli_usage_error (_ ("%s: expected one JSON object of field names and values"), source);
  obj = json_node_get_object (json_parser_get_root (parser));
  json_object_iter_init (&iter, obj);
  while (json_object_iter_next (&iter, &name, &node))
    {
      SpFieldValue fv = { NULL, member_value (cli, node) };

      if (fv.value == NULL)
        return cli_usage_error (_ ("%s: the value of \"%s\" must be a string, a whole number "
                                   "or null"),
                                source, name);
      fv.field = g_strdup (name);
      g_ptr_array_add (cli->req.owned, (char *)fv.field);
      g_array_append_val (cli->req.values, fv);
    }
  return CLI_EXIT_OK;
}

const char *
cli_read_search_text (Cli *cli, GError **error)
{
  gsize len = 0;
  char *text = read_stdin (cli, TRUE, &len, error);

  if (text == NULL)
    return NULL;
  if (len == 0)
    {
      g_free (text);
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("No search text was given"));
      return NULL;
    }
  g_ptr_array_add (cli->req.owned, text);
  return text;
}
