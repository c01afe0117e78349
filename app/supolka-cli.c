/* supolka-cli — the headless face of the same core (docs/CLI.md).
 *
 * Exit status: 0 success, 1 usage, 2 wrong passphrase or locked, 3 not found,
 * 4 invalid input, 5 sync/network error.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <sodium.h>
#include <fcntl.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include "supolka-core.h"
#include "supolka-sync.h"

enum
{
  EXIT_OK = 0,
  EXIT_USAGE = 1,
  EXIT_LOCKED = 2,
  EXIT_NOT_FOUND = 3,
  EXIT_INVALID = 4,
  EXIT_SYNC = 5,
};

typedef struct
{
  char *vault_dir;
  int passphrase_fd;
  gboolean json;
  GPtrArray *args; /* the command and its own arguments */
} Cli;

static int usage_error (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static int
usage_error (const char *fmt, ...)
{
  va_list ap;
  g_autofree char *msg = NULL;

  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_printerr ("supolka-cli: %s\n", msg);
  g_printerr (_ ("Run 'supolka-cli --help' for usage.\n"));
  return EXIT_USAGE;
}

static char *safe (const char *s, gboolean one_line);

static int
exit_code_for (const GError *error)
{
  if (error->domain == G_FILE_ERROR)
    return error->code == G_FILE_ERROR_NOENT ? EXIT_NOT_FOUND : EXIT_USAGE;
  if (error->domain == SYNC_ERROR)
    return error->code == SYNC_ERROR_NOT_FOUND ? EXIT_NOT_FOUND
           : error->code == SYNC_ERROR_FAILED  ? EXIT_USAGE
                                               : EXIT_SYNC;
  if (error->domain != SP_CORE_ERROR)
    return EXIT_INVALID;
  switch ((SpCoreError)error->code)
    {
      case SP_CORE_ERROR_WRONG_PASSPHRASE:
      case SP_CORE_ERROR_LOCKED:
        return EXIT_LOCKED;
      case SP_CORE_ERROR_NOT_FOUND:
        return EXIT_NOT_FOUND;
      case SP_CORE_ERROR_INVALID:
      case SP_CORE_ERROR_EXISTS:
      case SP_CORE_ERROR_CORRUPT:
      case SP_CORE_ERROR_TOO_NEW:
        return EXIT_INVALID;
      case SP_CORE_ERROR_FAILED:
      case SP_CORE_ERROR_IO:
      default:
        return EXIT_USAGE;
    }
}

static int
fail (const GError *error)
{
  g_autofree char *message = safe (error->message, FALSE); /* messages quote values */

  g_printerr ("supolka-cli: %s\n", message);
  return exit_code_for (error);
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
         "  import-csv KIND FILE [--dry-run] | export-csv KIND FILE\n"
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
}

/* ---- Passphrases ---- */

static SpSecret *
read_passphrase (Cli *cli, const char *prompt, GError **error)
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

/* A new passphrase: asked twice on a terminal, once from a descriptor. */
static SpSecret *
read_new_passphrase (Cli *cli, GError **error)
{
  g_autoptr (SpSecret) first = read_passphrase (cli, _ ("New passphrase: "), error);
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
  again = read_passphrase (cli, _ ("Repeat the new passphrase: "), error);
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

static SpVault *
open_vault (Cli *cli, GError **error)
{
  g_autoptr (SpSecret) pass = NULL;

  if (!sp_vault_exists (cli->vault_dir))
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND,
                   _ ("No vault in %s: create one with 'supolka-cli init'"), cli->vault_dir);
      return NULL;
    }
  pass = read_passphrase (cli, _ ("Passphrase: "), error);
  if (pass == NULL)
    return NULL;
  return sp_vault_open (cli->vault_dir, pass, error);
}

/* ---- Output ---- */

/* Text from the vault may have come from another device: before it reaches a
 * terminal, control characters (escape sequences can rewrite the screen or
 * the clipboard) and bidirectional overrides become U+FFFD. one_line also
 * turns line breaks and tabs into spaces. */
static char *
safe (const char *s, gboolean one_line)
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

static void
print_json (JsonNode *node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
}

static void
print_ok_json (void)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonObject) obj = json_object_new ();

  json_object_set_boolean_member (obj, "ok", TRUE);
  json_node_set_object (node, obj);
  print_json (node);
}

static JsonNode *
record_to_json (const SpRecord *r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  const SpKindInfo *kind = sp_kind_lookup (sp_record_get_kind (r));

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, sp_record_get_id (r));
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, sp_record_get_kind (r));
  json_builder_set_member_name (b, "title");
  json_builder_add_string_value (b, sp_record_get_title (r));
  json_builder_set_member_name (b, "created");
  json_builder_add_string_value (b, sp_record_get_created (r));
  json_builder_set_member_name (b, "deleted");
  json_builder_add_boolean_value (b, sp_record_is_deleted (r));
  json_builder_set_member_name (b, "conflicts");
  json_builder_add_boolean_value (b, sp_record_has_conflicts (r));
  json_builder_set_member_name (b, "fields");
  json_builder_begin_object (b);
  for (guint i = 0; kind && i < kind->n_fields; i++)
    {
      const char *v = sp_record_get (r, kind->fields[i].name);
      if (v == NULL)
        continue;
      json_builder_set_member_name (b, kind->fields[i].name);
      if (kind->fields[i].type == SP_FIELD_INT)
        json_builder_add_int_value (b, g_ascii_strtoll (v, NULL, 10));
      else
        json_builder_add_string_value (b, v);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
print_records (Cli *cli, GPtrArray *records)
{
  if (cli->json)
    {
      g_autoptr (JsonArray) arr = json_array_new ();
      g_autoptr (JsonNode) root = json_node_new (JSON_NODE_ARRAY);

      for (guint i = 0; i < records->len; i++)
        json_array_add_element (arr, record_to_json (records->pdata[i]));
      json_node_set_array (root, arr);
      print_json (root);
      return;
    }
  for (guint i = 0; i < records->len; i++)
    {
      const SpRecord *r = records->pdata[i];
      g_autofree char *title = safe (sp_record_get_title (r), TRUE);
      g_print ("%s  %-13s %s%s%s\n", sp_record_get_id (r), sp_record_get_kind (r), title,
               sp_record_has_conflicts (r) ? _ ("  [conflict]") : "",
               sp_record_is_deleted (r) ? _ ("  [deleted]") : "");
    }
}

/* ---- Field arguments ---- */

/* Collects "--field value" / "--field=value" pairs; field dashes become
 * underscores. Returns FALSE on a dangling option. */
static gboolean
collect_fields (GPtrArray *args, guint start, GArray *out, GPtrArray *owned, char **bad)
{
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
      g_ptr_array_add (owned, name);
      fv.field = name;
      g_array_append_val (out, fv);
    }
  return TRUE;
}

/* ---- Commands ---- */

static int
cmd_init (Cli *cli)
{
  SpKdfProfile profile = SP_KDF_MODERATE;
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) pass = NULL;
  g_autoptr (SpVault) vault = NULL;

  for (guint i = 1; i < cli->args->len; i++)
    {
      const char *a = cli->args->pdata[i];
      if (g_str_equal (a, "--kdf") && i + 1 < cli->args->len)
        a = cli->args->pdata[++i];
      else if (g_str_has_prefix (a, "--kdf="))
        a += 6;
      else
        return usage_error (_ ("init: unexpected argument '%s'"), a);
      if (!sp_kdf_profile_from_string (a, &profile))
        return usage_error (_ ("init: --kdf takes interactive, moderate or sensitive"));
    }
  if (sp_vault_exists (cli->vault_dir))
    return usage_error (_ ("A vault already exists in %s"), cli->vault_dir);
  pass = read_new_passphrase (cli, &error);
  if (pass == NULL)
    return fail (error);
  vault = sp_vault_create (cli->vault_dir, pass, profile, &error);
  if (vault == NULL)
    return fail (error);
  if (cli->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "vault");
      json_builder_add_string_value (b, cli->vault_dir);
      json_builder_set_member_name (b, "device_id");
      json_builder_add_string_value (b, sp_vault_get_device_id (vault));
      json_builder_set_member_name (b, "kdf");
      json_builder_add_string_value (b, sp_kdf_profile_to_string (profile));
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      print_json (root);
    }
  else
    g_print (_ ("Created a vault in %s\n"), cli->vault_dir);
  return EXIT_OK;
}

static int
cmd_add (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (SpFieldValue));
  g_autoptr (GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *bad = NULL;
  g_autofree char *id = NULL;
  g_autoptr (SpVault) vault = NULL;
  const char *kind;

  if (cli->args->len < 2)
    return usage_error (_ ("add: which kind? (org, person, affiliation, project, event, "
                           "participation, note)"));
  kind = cli->args->pdata[1];
  if (sp_kind_lookup (kind) == NULL)
    {
      g_printerr (_ ("supolka-cli: unknown kind of record: %s\n"), kind);
      return EXIT_INVALID;
    }
  if (!collect_fields (cli->args, 2, values, owned, &bad))
    return usage_error (_ ("add: expected --FIELD VALUE, got '%s'"), bad);
  vault = open_vault (cli, &error);
  if (vault == NULL)
    return fail (error);
  id = sp_vault_insert (vault, kind, (SpFieldValue *)values->data, values->len, &error);
  if (id == NULL)
    return fail (error);
  if (cli->json)
    {
      g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
      g_autoptr (JsonObject) obj = json_object_new ();
      json_object_set_string_member (obj, "id", id);
      json_node_set_object (node, obj);
      print_json (node);
    }
  else
    g_print ("%s\n", id);
  return EXIT_OK;
}

static int
cmd_edit (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (SpFieldValue));
  g_autoptr (GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *bad = NULL;
  g_autoptr (SpVault) vault = NULL;

  if (cli->args->len < 3)
    return usage_error (_ ("edit: give an id and at least one --FIELD VALUE"));
  if (!collect_fields (cli->args, 2, values, owned, &bad))
    return usage_error (_ ("edit: expected --FIELD VALUE, got '%s'"), bad);
  vault = open_vault (cli, &error);
  if (vault == NULL)
    return fail (error);
  if (!sp_vault_update (vault, cli->args->pdata[1], (SpFieldValue *)values->data, values->len,
                        &error))
    return fail (error);
  return EXIT_OK;
}

static int
cmd_delete (Cli *cli, gboolean undelete)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpVault) vault = NULL;

  if (cli->args->len != 2)
    return usage_error (_ ("%s: give exactly one id"), (const char *)cli->args->pdata[0]);
  vault = open_vault (cli, &error);
  if (vault == NULL)
    return fail (error);
  if (!(undelete ? sp_vault_undelete : sp_vault_delete) (vault, cli->args->pdata[1], &error))
    return fail (error);
  return EXIT_OK;
}

static int
cmd_show (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpVault) vault = NULL;
  g_autoptr (SpRecord) r = NULL;
  g_autoptr (GPtrArray) conflicts = NULL;
  const SpKindInfo *kind;

  if (cli->args->len != 2)
    return usage_error (_ ("show: give exactly one id"));
  vault = open_vault (cli, &error);
  if (vault == NULL)
    return fail (error);
  r = sp_vault_get (vault, cli->args->pdata[1], &error);
  if (r == NULL)
    return fail (error);
  if (cli->json)
    {
      g_autoptr (JsonNode) node = record_to_json (r);
      print_json (node);
      return EXIT_OK;
    }
  kind = sp_kind_lookup (sp_record_get_kind (r));
  g_print ("%-22s %s\n", "id", sp_record_get_id (r));
  g_print ("%-22s %s\n", "record", sp_record_get_kind (r));
  g_print ("%-22s %s\n", "created", sp_record_get_created (r));
  if (sp_record_is_deleted (r))
    g_print ("%-22s %s\n", "deleted", _ ("yes"));
  for (guint i = 0; kind && i < kind->n_fields; i++)
    {
      const char *v = sp_record_get (r, kind->fields[i].name);
      if (v)
        {
          g_autofree char *text = safe (v, FALSE);
          g_print ("%-22s %s\n", kind->fields[i].name, text);
        }
    }
  conflicts = sp_vault_conflicts (vault, sp_record_get_id (r), &error);
  for (guint i = 0; conflicts && i < conflicts->len; i++)
    {
      const SpConflict *c = conflicts->pdata[i];
      g_autofree char *other = safe (c->other_value, TRUE);
      g_print (_ ("conflict: %s also had \"%s\" (from device %.8s)\n"), c->field, other,
               c->other_device);
    }
  return EXIT_OK;
}

/* Codes are lowercase ASCII; "--region Gomel" means gomel. */
static const char *
lowered (GPtrArray *owned, const char *v)
{
  char *s = g_ascii_strdown (v, -1);

  g_ptr_array_add (owned, s);
  return s;
}

static int
cmd_list (Cli *cli, gboolean search)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpVault) vault = NULL;
  g_autoptr (GPtrArray) records = NULL;
  SpFilter filter = { 0 };
  g_autoptr (GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  const char *kind = NULL;
  guint first = 2;

  if (cli->args->len < 2)
    return usage_error (search ? _ ("search: what text?") : _ ("list: which kind?"));
  if (search)
    filter.search = cli->args->pdata[1];
  else
    {
      kind = cli->args->pdata[1];
      if (sp_kind_lookup (kind) == NULL)
        {
          g_printerr (_ ("supolka-cli: unknown kind of record: %s\n"), kind);
          return EXIT_INVALID;
        }
    }
  for (guint i = first; i < cli->args->len; i++)
    {
      const char *a = cli->args->pdata[i];
      const char *v = i + 1 < cli->args->len ? cli->args->pdata[i + 1] : NULL;

      if (g_str_equal (a, "--deleted"))
        {
          filter.include_deleted = TRUE;
          continue;
        }
      if (v == NULL)
        return usage_error (_ ("'%s' needs a value"), a);
      i++;
      if (g_str_equal (a, "--region") && !search)
        filter.region = lowered (owned, v);
      else if (g_str_equal (a, "--status") && !search)
        filter.status = lowered (owned, v);
      else if (g_str_equal (a, "--tag") && !search)
        filter.tag = v;
      else if (g_str_equal (a, "--kind") && search)
        kind = v;
      else if (g_str_equal (a, "--kind"))
        filter.kind = lowered (owned, v);
      else if (g_str_equal (a, "--search") && !search)
        filter.search = v;
      else if (g_str_equal (a, "--limit"))
        {
          guint64 n;
          if (!g_ascii_string_to_unsigned (v, 10, 1, G_MAXUINT, &n, NULL))
            return usage_error (_ ("--limit takes a positive number"));
          filter.limit = (guint)n;
        }
      else
        return usage_error (_ ("unexpected argument '%s'"), a);
    }
  vault = open_vault (cli, &error);
  if (vault == NULL)
    return fail (error);
  records = sp_vault_list (vault, kind, &filter, &error);
  if (records == NULL)
    return fail (error);
  print_records (cli, records);
  return EXIT_OK;
}

/* import-csv's options after FILE: --dry-run, --encoding ENC. */
static int
import_options (Cli *cli, gboolean *dry_run, SpCsvEncoding *encoding)
{
  for (guint i = 3; i < cli->args->len; i++)
    {
      const char *a = cli->args->pdata[i];

      if (g_str_equal (a, "--dry-run"))
        *dry_run = TRUE;
      else if (g_str_equal (a, "--encoding") && i + 1 < cli->args->len)
        {
          if (!sp_csv_encoding_from_string (cli->args->pdata[++i], encoding))
            return usage_error (_ ("--encoding takes utf-8, utf-16 or windows-1251"));
        }
      else
        return usage_error (_ ("unexpected argument '%s'"), a);
    }
  return EXIT_OK;
}

/* Opened before the passphrase is asked; read by the import as a stream. */
static GFileInputStream *
open_file_bounded (const char *path, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = NULL;
  g_autoptr (GError) e = NULL;
  struct stat st;

  if (g_stat (path, &st) == 0 && st.st_size > SP_CSV_MAX_BYTES)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("%s is larger than 1 GiB"),
                   path);
      return NULL;
    }
  in = g_file_read (file, NULL, &e);
  if (in == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND, "%s", e->message);
      return NULL;
    }
  return g_steal_pointer (&in);
}

static int
cmd_import (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpVault) vault = NULL;
  g_autoptr (SpImportReport) report = NULL;
  g_autoptr (GFileInputStream) in = NULL;
  SpCsvEncoding encoding = SP_CSV_ENCODING_AUTO;
  gboolean dry_run = FALSE, ok;
  int rc;
  const char *kind, *path;

  if (cli->args->len < 3)
    return usage_error (_ ("import-csv: give a kind and a file"));
  if ((rc = import_options (cli, &dry_run, &encoding)) != EXIT_OK)
    return rc;
  kind = cli->args->pdata[1];
  path = cli->args->pdata[2];
  if (sp_kind_lookup (kind) == NULL)
    {
      g_printerr (_ ("supolka-cli: unknown kind of record: %s\n"), kind);
      return EXIT_INVALID;
    }
  in = open_file_bounded (path, &error);
  if (in == NULL)
    return fail (error);
  vault = open_vault (cli, &error);
  if (vault == NULL)
    return fail (error);
  ok = sp_vault_import_csv_stream (vault, kind, G_INPUT_STREAM (in), encoding, dry_run, &report,
                                   &error);

  if (cli->json && report)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "ok");
      json_builder_add_boolean_value (b, ok);
      json_builder_set_member_name (b, "dry_run");
      json_builder_add_boolean_value (b, dry_run);
      json_builder_set_member_name (b, "rows");
      json_builder_add_int_value (b, report->rows);
      json_builder_set_member_name (b, dry_run ? "would_import" : "imported");
      json_builder_add_int_value (b, report->imported);
      json_builder_set_member_name (b, "encoding");
      json_builder_add_string_value (b, report->encoding ? report->encoding : "");
      json_builder_set_member_name (b, "errors");
      json_builder_begin_array (b);
      for (guint i = 0; report->errors && i < report->errors->len; i++)
        {
          const SpImportError *e = report->errors->pdata[i];
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "line");
          json_builder_add_int_value (b, e->line);
          json_builder_set_member_name (b, "field");
          json_builder_add_string_value (b, e->field ? e->field : "");
          json_builder_set_member_name (b, "value");
          json_builder_add_string_value (b, e->value ? e->value : "");
          json_builder_set_member_name (b, "message");
          json_builder_add_string_value (b, e->message ? e->message : "");
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      print_json (root);
    }
  else if (report)
    {
      for (guint i = 0; report->errors && i < report->errors->len; i++)
        {
          const SpImportError *e = report->errors->pdata[i];
          g_autofree char *message = safe (e->message, TRUE);
          g_printerr (_ ("line %u: %s\n"), e->line, message);
        }
      if (ok)
        g_print (_ ("Encoding: %s\n"), report->encoding);
      else if (report->encoding && *report->encoding)
        g_printerr (_ ("Encoding: %s\n"), report->encoding);
      if (ok && dry_run)
        g_print (ngettext ("Dry run: %u row would be imported; nothing was written.\n",
                           "Dry run: %u rows would be imported; nothing was written.\n",
                           report->imported),
                 report->imported);
      else if (ok)
        g_print (ngettext ("Imported %u row.\n", "Imported %u rows.\n", report->imported),
                 report->imported);
    }
  if (!ok && report && report->errors && report->errors->len > 0
      && g_str_has_suffix (
          error->message,
          ((SpImportError *)report->errors->pdata[report->errors->len - 1])->message))
    return exit_code_for (error); /* the report above already said it */
  if (!ok)
    return fail (error);
  return EXIT_OK;
}

static int
cmd_export (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpVault) vault = NULL;
  g_autoptr (GBytes) csv = NULL;
  const char *kind, *path;
  gsize len;
  const char *data;

  if (cli->args->len != 3)
    return usage_error (_ ("export-csv: give a kind and a file"));
  kind = cli->args->pdata[1];
  path = cli->args->pdata[2];
  if (sp_kind_lookup (kind) == NULL)
    {
      g_printerr (_ ("supolka-cli: unknown kind of record: %s\n"), kind);
      return EXIT_INVALID;
    }
  vault = open_vault (cli, &error);
  if (vault == NULL)
    return fail (error);
  csv = sp_vault_export_csv (vault, kind, &error);
  if (csv == NULL)
    return fail (error);
  data = g_bytes_get_data (csv, &len);
  if (g_str_equal (path, "-"))
    {
      if (fwrite (data, 1, len, stdout) != len)
        return EXIT_USAGE;
      return EXIT_OK;
    }
  if (!g_file_set_contents_full (path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                 &error))
    return fail (error);
  g_printerr (_ ("Warning: %s is not encrypted. Keep it only as long as you need it.\n"), path);
  return EXIT_OK;
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

static int
cmd_stats (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpVault) vault = NULL;
  g_autoptr (GPtrArray) stats = NULL;
  const char *group = NULL;

  if (cli->args->len != 1)
    return usage_error (_ ("stats takes no arguments"));
  vault = open_vault (cli, &error);
  if (vault == NULL)
    return fail (error);
  stats = sp_vault_stats (vault, &error);
  if (stats == NULL)
    return fail (error);
  if (cli->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (b);
      for (guint i = 0; i < stats->len; i++)
        {
          const SpStat *s = stats->pdata[i];
          if (g_strcmp0 (group, s->group) != 0)
            {
              if (group)
                json_builder_end_object (b);
              group = s->group;
              json_builder_set_member_name (b, group);
              json_builder_begin_object (b);
            }
          json_builder_set_member_name (b, *s->key ? s->key : "unset");
          if (g_str_equal (s->group, "events_by_kind_year"))
            {
              json_builder_begin_object (b);
              json_builder_set_member_name (b, "events");
              json_builder_add_int_value (b, s->count);
              json_builder_set_member_name (b, "declared_participants");
              json_builder_add_int_value (b, s->participants);
              json_builder_set_member_name (b, "participation_records");
              json_builder_add_int_value (b, s->linked);
              json_builder_end_object (b);
            }
          else
            json_builder_add_int_value (b, s->count);
        }
      if (group)
        json_builder_end_object (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      print_json (root);
      return EXIT_OK;
    }
  for (guint i = 0; i < stats->len; i++)
    {
      const SpStat *s = stats->pdata[i];
      if (g_strcmp0 (group, s->group) != 0)
        {
          group = s->group;
          g_print ("%s%s\n", i ? "\n" : "", stat_group_title (group));
        }
      if (g_str_equal (s->group, "events_by_kind_year"))
        {
          g_autofree char *events = g_strdup_printf (
              ngettext ("%lld event", "%lld events", (gulong)s->count), (long long)s->count);
          g_autofree char *people
              = g_strdup_printf (ngettext ("%lld declared participant",
                                           "%lld declared participants", (gulong)s->participants),
                                 (long long)s->participants);
          g_autofree char *linked
              = g_strdup_printf (ngettext ("%lld participation record",
                                           "%lld participation records", (gulong)s->linked),
                                 (long long)s->linked);
          g_print ("  %-28s %s, %s, %s\n", s->key, events, people, linked);
        }
      else
        {
          g_autofree char *label = pad (*s->key ? s->key : _ ("(not set)"), 28);
          g_print ("  %s %" G_GINT64_FORMAT "\n", label, s->count);
        }
    }
  return EXIT_OK;
}

static int
cmd_conflicts (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpVault) vault = NULL;
  g_autoptr (GPtrArray) list = NULL;

  if (cli->args->len > 2)
    return usage_error (_ ("conflicts: give at most one id"));
  vault = open_vault (cli, &error);
  if (vault == NULL)
    return fail (error);
  if (cli->args->len == 2)
    {
      g_autoptr (SpRecord) r = sp_vault_get (vault, cli->args->pdata[1], &error);
      if (r == NULL)
        return fail (error);
    }
  list = sp_vault_conflicts (vault, cli->args->len == 2 ? cli->args->pdata[1] : NULL, &error);
  if (list == NULL)
    return fail (error);
  if (cli->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      json_builder_begin_array (b);
      for (guint i = 0; i < list->len; i++)
        {
          const SpConflict *c = list->pdata[i];
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "record");
          json_builder_add_string_value (b, c->record);
          json_builder_set_member_name (b, "field");
          json_builder_add_string_value (b, c->field);
          json_builder_set_member_name (b, "value");
          json_builder_add_string_value (b, c->winner_value);
          json_builder_set_member_name (b, "value_device");
          json_builder_add_string_value (b, c->winner_device);
          json_builder_set_member_name (b, "other_value");
          json_builder_add_string_value (b, c->other_value);
          json_builder_set_member_name (b, "other_device");
          json_builder_add_string_value (b, c->other_device);
          json_builder_set_member_name (b, "other_hlc");
          json_builder_add_int_value (b, (gint64)c->other_hlc);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      root = json_builder_get_root (b);
      print_json (root);
      return EXIT_OK;
    }
  for (guint i = 0; i < list->len; i++)
    {
      const SpConflict *c = list->pdata[i];
      g_autofree char *kept = safe (c->winner_value, TRUE);
      g_autofree char *other = safe (c->other_value, TRUE);
      g_print (_ ("%s %s: kept \"%s\"; also written: \"%s\" (device %.8s)\n"), c->record, c->field,
               kept, other, c->other_device);
    }
  return EXIT_OK;
}

static const char *
field_type_name (SpFieldType t)
{
  static const char *const names[] = { "text",    "long_text", "enum",  "date",  "int", "tags",
                                       "regions", "ref",       "email", "phone", "url" };
  return (guint)t < G_N_ELEMENTS (names) ? names[t] : "?";
}

static int
cmd_fields (Cli *cli)
{
  const SpKindInfo *const *kinds = sp_kinds ();

  if (cli->args->len > 2)
    return usage_error (_ ("fields: give at most one kind"));
  if (cli->args->len == 2 && sp_kind_lookup (cli->args->pdata[1]) == NULL)
    {
      g_printerr (_ ("supolka-cli: unknown kind of record: %s\n"),
                  (const char *)cli->args->pdata[1]);
      return EXIT_INVALID;
    }
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
  return EXIT_OK;
}

/* Keeps the given value for each field, ending its conflict everywhere once
 * synced, even when the value is already the one shown. */
static int
cmd_resolve (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (SpFieldValue));
  g_autoptr (GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *bad = NULL;
  g_autoptr (SpVault) vault = NULL;

  if (cli->args->len < 4)
    return usage_error (_ ("resolve: give an id and --FIELD VALUE to keep"));
  if (!collect_fields (cli->args, 2, values, owned, &bad))
    return usage_error (_ ("resolve: expected --FIELD VALUE, got '%s'"), bad);
  vault = open_vault (cli, &error);
  if (vault == NULL)
    return fail (error);
  if (!sp_vault_begin (vault, &error))
    return fail (error);
  for (guint i = 0; i < values->len; i++)
    {
      const SpFieldValue *fv = &g_array_index (values, SpFieldValue, i);
      if (!sp_vault_resolve_conflict (vault, cli->args->pdata[1], fv->field, fv->value, &error))
        {
          sp_vault_rollback (vault);
          return fail (error);
        }
    }
  if (!sp_vault_commit (vault, &error))
    return fail (error);
  return EXIT_OK;
}

static int
cmd_check (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpVault) vault = NULL;

  if (cli->args->len != 1)
    return usage_error (_ ("check takes no arguments"));
  vault = open_vault (cli, &error);
  if (vault == NULL)
    return fail (error);
  if (!sp_vault_check (vault, &error))
    return fail (error);
  if (cli->json)
    print_ok_json ();
  else
    g_print (_ ("The vault is intact.\n"));
  return EXIT_OK;
}

static int
cmd_passwd (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpVault) vault = NULL;
  g_autoptr (SpSecret) pass = NULL;
  SpKdfProfile profile = 0; /* 0: keep the vault's current profile */

  for (guint i = 1; i < cli->args->len; i++)
    {
      const char *a = cli->args->pdata[i];
      if (g_str_equal (a, "--kdf") && i + 1 < cli->args->len)
        a = cli->args->pdata[++i];
      else if (g_str_has_prefix (a, "--kdf="))
        a += 6;
      else
        return usage_error (_ ("passwd: unexpected argument '%s'"), a);
      if (!sp_kdf_profile_from_string (a, &profile))
        return usage_error (_ ("passwd: --kdf takes interactive, moderate or sensitive"));
    }
  vault = open_vault (cli, &error);
  if (vault == NULL)
    return fail (error);
  pass = read_new_passphrase (cli, &error);
  if (pass == NULL)
    return fail (error);
  if (profile == 0)
    profile = sp_vault_get_kdf_profile (vault);
  if (!sp_vault_change_passphrase (vault, pass, profile, &error))
    return fail (error);
  if (cli->json)
    print_ok_json ();
  else
    g_print (_ ("The passphrase was changed.\n"));
  return EXIT_OK;
}

/* ---- Seized-device defences (docs/SECURITY.md) ---- */

/* A new secondary passphrase (duress, backup): asked twice on a terminal, one
 * line from a descriptor. */
static SpSecret *
read_other_passphrase (Cli *cli, const char *prompt, const char *again_prompt, GError **error)
{
  g_autoptr (SpSecret) first = read_passphrase (cli, prompt, error);
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
  again = read_passphrase (cli, again_prompt, error);
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

/* No passphrase, no question: panic is one action (docs/SECURITY.md). */
static int
cmd_panic (Cli *cli)
{
  g_autoptr (GError) error = NULL;

  if (cli->args->len != 1)
    return usage_error (_ ("panic takes no arguments"));
  if (!sp_vault_panic (cli->vault_dir, &error))
    return fail (error);
  if (cli->json)
    print_ok_json ();
  else
    g_print (_ ("The vault was destroyed.\n"));
  return EXIT_OK;
}

static int
cmd_set_duress (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpVault) vault = NULL;
  g_autoptr (SpSecret) duress = NULL;
  gboolean remove = FALSE;

  for (guint i = 1; i < cli->args->len; i++)
    {
      const char *a = cli->args->pdata[i];
      if (g_str_equal (a, "--remove"))
        remove = TRUE;
      else
        return usage_error (_ ("set-duress: unexpected argument '%s'"), a);
    }
  vault = open_vault (cli, &error);
  if (vault == NULL)
    return fail (error);
  if (remove)
    {
      if (!sp_vault_clear_duress (vault, &error))
        return fail (error);
      if (cli->json)
        print_ok_json ();
      else
        g_print (_ ("No duress passphrase is set now.\n"));
      return EXIT_OK;
    }
  duress = read_other_passphrase (cli, _ ("Duress passphrase: "),
                                  _ ("Repeat the duress passphrase: "), &error);
  if (duress == NULL || !sp_vault_set_duress (vault, duress, &error))
    return fail (error);
  if (cli->json)
    print_ok_json ();
  else
    g_print (_ ("The duress passphrase was set. Unlocking with it destroys this vault.\n"));
  return EXIT_OK;
}

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

static int
cmd_backup (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpVault) vault = NULL;
  g_autoptr (SpSecret) pass = NULL;
  SpKdfProfile profile = SP_KDF_MODERATE;
  const char *file = NULL;

  for (guint i = 1; i < cli->args->len; i++)
    {
      gboolean matched;
      if (!parse_kdf_option (cli->args, &i, &profile, &matched))
        return usage_error (_ ("backup: --kdf takes interactive, moderate or sensitive"));
      if (matched)
        continue;
      if (file != NULL || g_str_has_prefix (cli->args->pdata[i], "--"))
        return usage_error (_ ("backup: unexpected argument '%s'"),
                            (const char *)cli->args->pdata[i]);
      file = cli->args->pdata[i];
    }
  if (file == NULL)
    return usage_error (_ ("backup needs a FILE"));
  vault = open_vault (cli, &error);
  if (vault == NULL)
    return fail (error);
  pass = read_other_passphrase (cli, _ ("Backup passphrase: "),
                                _ ("Repeat the backup passphrase: "), &error);
  if (pass == NULL || !sp_vault_backup (vault, file, pass, profile, &error))
    return fail (error);
  if (cli->json)
    print_ok_json ();
  else
    g_print (_ ("The backup was written to %s\n"), file);
  return EXIT_OK;
}

static int
cmd_restore (Cli *cli)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) pass = NULL;
  g_autoptr (SpSecret) new_pass = NULL;
  SpKdfProfile profile = SP_KDF_MODERATE;
  gboolean force = FALSE, ask_new = FALSE;
  const char *file = NULL;

  for (guint i = 1; i < cli->args->len; i++)
    {
      const char *a = cli->args->pdata[i];
      gboolean matched;
      if (!parse_kdf_option (cli->args, &i, &profile, &matched))
        return usage_error (_ ("restore: --kdf takes interactive, moderate or sensitive"));
      if (matched)
        continue;
      if (g_str_equal (a, "--force"))
        force = TRUE;
      else if (g_str_equal (a, "--new-passphrase"))
        ask_new = TRUE;
      else if (file == NULL && !g_str_has_prefix (a, "--"))
        file = a;
      else
        return usage_error (_ ("restore: unexpected argument '%s'"), a);
    }
  if (file == NULL)
    return usage_error (_ ("restore needs a FILE"));
  if (sp_vault_exists (cli->vault_dir) && !force)
    return usage_error (_ ("A vault already exists in %s: add --force to replace it"),
                        cli->vault_dir);
  if (!g_file_test (file, G_FILE_TEST_EXISTS))
    {
      g_set_error (&error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND, _ ("No such file: %s"), file);
      return fail (error);
    }
  pass = read_passphrase (cli, _ ("Backup passphrase: "), &error);
  if (pass == NULL)
    return fail (error);
  if (ask_new)
    {
      new_pass = read_new_passphrase (cli, &error);
      if (new_pass == NULL)
        return fail (error);
    }
  if (!sp_vault_restore (file, pass, cli->vault_dir, new_pass, profile, force, &error))
    return fail (error);
  if (cli->json)
    print_ok_json ();
  else
    g_print (_ ("The vault was restored in %s\n"), cli->vault_dir);
  return EXIT_OK;
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
          *exit_code = EXIT_OK;
          return FALSE;
        }
      else if (g_str_equal (a, "--version"))
        {
          g_print ("supolka-cli %s\n", PACKAGE_VERSION);
          *exit_code = EXIT_OK;
          return FALSE;
        }
      else if (g_str_equal (a, "--vault") || g_str_equal (a, "--passphrase-fd"))
        {
          if (i + 1 >= argc)
            {
              *exit_code = usage_error (_ ("'%s' needs a value"), a);
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
                       && !g_str_equal (a, "--dry-run") && !g_str_equal (a, "--deleted")
                       && !g_str_equal (a, "--force") && !g_str_equal (a, "--remove")
                       && !g_str_equal (a, "--prune") && !g_str_equal (a, "--new-passphrase");
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
              *exit_code = usage_error (_ ("--passphrase-fd takes a file descriptor number"));
              return FALSE;
            }
          cli->passphrase_fd = (int)fd;
        }
    }
  return TRUE;
}

/* ---- Sync ---- */

typedef struct
{
  char *relay;
  char *proxy;
  char *ca_file;
  char *hours;
  gboolean prune;
  GPtrArray *words; /* positional arguments after the command */
} SyncArgs;

static void
sync_args_clear (SyncArgs *a)
{
  g_free (a->relay);
  g_free (a->proxy);
  g_free (a->ca_file);
  g_free (a->hours);
  g_clear_pointer (&a->words, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SyncArgs, sync_args_clear)

/* Parses the options of the sync commands from argument @from on. */
static int
parse_sync_args (Cli *cli, guint from, SyncArgs *a)
{
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
      else if (g_str_equal (arg, "--prune"))
        {
          a->prune = TRUE;
          continue;
        }
      else if (g_str_has_prefix (arg, "--"))
        return usage_error (_ ("unknown option '%s'"), arg);
      else
        {
          g_ptr_array_add (a->words, g_strdup (arg));
          continue;
        }
      if (i + 1 >= cli->args->len)
        return usage_error (_ ("'%s' needs a value"), arg);
      g_free (*slot);
      *slot = g_strdup (cli->args->pdata[++i]);
    }
  return EXIT_OK;
}

static void
print_problems (const SyncReport *r)
{
  for (guint i = 0; r->problems && i < r->problems->len; i++)
    {
      g_autofree char *m = safe (r->problems->pdata[i], TRUE);
      g_printerr ("supolka-cli: %s\n", m);
    }
}

static int
cmd_sync (Cli *cli)
{
  g_auto (SyncArgs) a = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (SpVault) vault = NULL;
  SyncReport r = { 0 };
  SyncOptions opts;
  int code;

  if ((code = parse_sync_args (cli, 1, &a)) != EXIT_OK)
    return code;
  if (a.words->len > 0)
    return usage_error (_ ("'sync' takes no arguments"));
  opts = (SyncOptions){ a.relay, a.proxy, a.ca_file };
  vault = open_vault (cli, &error);
  if (vault == NULL)
    return fail (error);
  if (!sync_run (vault, &opts, &r, &error))
    {
      print_problems (&r);
      sync_report_clear (&r);
      return fail (error);
    }
  print_problems (&r);
  if (cli->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "waiting_for_approval");
      json_builder_add_boolean_value (b, r.waiting_for_approval);
      json_builder_set_member_name (b, "pushed_batches");
      json_builder_add_int_value (b, r.pushed_batches);
      json_builder_set_member_name (b, "pushed_changes");
      json_builder_add_int_value (b, r.pushed_changes);
      json_builder_set_member_name (b, "pulled_batches");
      json_builder_add_int_value (b, r.pulled_batches);
      json_builder_set_member_name (b, "applied_batches");
      json_builder_add_int_value (b, r.applied_batches);
      json_builder_set_member_name (b, "applied_changes");
      json_builder_add_int_value (b, r.applied_changes);
      json_builder_set_member_name (b, "refused_batches");
      json_builder_add_int_value (b, r.refused_batches);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      print_json (root);
    }
  else if (r.waiting_for_approval)
    g_print ("%s\n", _ ("Waiting for an admin to approve this device (compare the safety code)."));
  else
    {
      g_print (ngettext ("Sent %u change", "Sent %u changes", r.pushed_changes), r.pushed_changes);
      g_print ("; ");
      g_print (ngettext ("received %u change", "received %u changes", r.applied_changes),
               r.applied_changes);
      g_print (".\n");
      if (r.refused_batches)
        g_print (ngettext ("%u batch was refused (see above).\n",
                           "%u batches were refused (see above).\n", r.refused_batches),
                 r.refused_batches);
    }
  sync_report_clear (&r);
  return EXIT_OK;
}

static int
cmd_workspace (Cli *cli)
{
  g_auto (SyncArgs) a = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (SpVault) vault = NULL;
  SyncOptions opts;
  const char *sub = cli->args->len > 1 ? cli->args->pdata[1] : "";
  int code;

  if ((code = parse_sync_args (cli, 2, &a)) != EXIT_OK)
    return code;
  opts = (SyncOptions){ a.relay, a.proxy, a.ca_file };
  if (g_str_equal (sub, "create"))
    {
      if (a.relay == NULL || a.words->len)
        return usage_error (_ ("usage: workspace create --relay URL"));
      opts.relay = NULL;
      vault = open_vault (cli, &error);
      if (vault == NULL || !sync_workspace_create (vault, a.relay, &opts, &error))
        return fail (error);
      g_print ("%s\n", _ ("Workspace created. Invite other devices with 'workspace invite'."));
      return EXIT_OK;
    }
  if (g_str_equal (sub, "invite"))
    {
      guint64 hours = 48;
      g_autofree char *invite = NULL;

      if (a.words->len
          || (a.hours && !g_ascii_string_to_unsigned (a.hours, 10, 1, 168, &hours, NULL)))
        return usage_error (_ ("usage: workspace invite [--hours 1-168]"));
      vault = open_vault (cli, &error);
      if (vault == NULL
          || (invite = sync_workspace_invite (vault, (guint)hours, &opts, &error)) == NULL)
        return fail (error);
      g_print ("%s\n", invite);
      return EXIT_OK;
    }
  if (g_str_equal (sub, "join"))
    {
      g_autofree char *code_s = NULL, *relay = NULL;
      guint8 ws[16], token[32], pk[32];

      if (a.words->len != 1)
        return usage_error (_ ("usage: workspace join INVITE"));
      if (!sync_invite_parse (a.words->pdata[0], &relay, ws, token, pk, &error))
        {
          g_printerr ("supolka-cli: %s\n", error->message);
          return EXIT_INVALID;
        }
      sodium_memzero (token, sizeof token);
      vault = open_vault (cli, &error);
      if (vault == NULL
          || (code_s = sync_workspace_join (vault, a.words->pdata[0], &opts, &error)) == NULL)
        return fail (error);
      if (cli->json)
        {
          g_autoptr (JsonBuilder) b = json_builder_new ();
          g_autoptr (JsonNode) root = NULL;

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "safety_code");
          json_builder_add_string_value (b, code_s);
          json_builder_end_object (b);
          root = json_builder_get_root (b);
          print_json (root);
        }
      else
        g_print (_ ("Asked to join. Safety code: %s\nRead it to the admin, who approves with "
                    "'workspace approve %s'; then run 'sync'.\n"),
                 code_s, code_s);
      return EXIT_OK;
    }
  if (g_str_equal (sub, "approve"))
    {
      g_autofree char *dev = NULL, *joined = NULL;

      if (a.words->len < 1)
        return usage_error (_ ("usage: workspace approve CODE"));
      {
        GString *s = g_string_new (NULL);
        guint digits = 0;

        for (guint i = 0; i < a.words->len; i++)
          g_string_append (s, a.words->pdata[i]);
        joined = g_string_free (s, FALSE);
        for (const char *p = joined; *p; p++)
          digits += g_ascii_isdigit (*p) ? 1 : 0;
        if (digits != 9 || strspn (joined, "0123456789 -") != strlen (joined))
          {
            g_printerr ("supolka-cli: %s\n", _ ("A safety code is nine digits, like 123 456 789"));
            return EXIT_INVALID;
          }
      }
      vault = open_vault (cli, &error);
      if (vault == NULL || (dev = sync_workspace_approve (vault, joined, &opts, &error)) == NULL)
        return fail (error);
      g_print (_ ("Approved device %s.\n"), dev);
      return EXIT_OK;
    }
  if (g_str_equal (sub, "snapshot"))
    {
      if (a.words->len)
        return usage_error (_ ("usage: workspace snapshot [--prune]"));
      vault = open_vault (cli, &error);
      if (vault == NULL || !sync_snapshot_upload (vault, a.prune, &opts, &error))
        return fail (error);
      g_print ("%s\n", a.prune ? _ ("Snapshot uploaded; the relay deleted the batches it covers.")
                               : _ ("Snapshot uploaded."));
      return EXIT_OK;
    }
  if (g_str_equal (sub, "status"))
    {
      SyncStatus st;

      if (a.words->len)
        return usage_error (_ ("usage: workspace status"));
      vault = open_vault (cli, &error);
      if (vault == NULL || !sync_get_status (vault, &st, &error))
        return fail (error);
      if (cli->json)
        {
          g_autoptr (JsonBuilder) b = json_builder_new ();
          g_autoptr (JsonNode) root = NULL;

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "workspace");
          if (st.workspace)
            json_builder_add_string_value (b, st.workspace);
          else
            json_builder_add_null_value (b);
          json_builder_set_member_name (b, "relay");
          if (st.relay)
            json_builder_add_string_value (b, st.relay);
          else
            json_builder_add_null_value (b);
          json_builder_set_member_name (b, "device");
          json_builder_add_string_value (b, sp_vault_get_device_id (vault));
          json_builder_set_member_name (b, "admin");
          json_builder_add_boolean_value (b, st.admin);
          json_builder_set_member_name (b, "approved");
          json_builder_add_boolean_value (b, st.approved);
          json_builder_set_member_name (b, "epoch");
          json_builder_add_int_value (b, st.epoch);
          json_builder_set_member_name (b, "last_sync");
          json_builder_add_int_value (b, st.last_sync);
          json_builder_set_member_name (b, "pending_changes");
          json_builder_add_int_value (b, st.pending_changes);
          json_builder_end_object (b);
          root = json_builder_get_root (b);
          print_json (root);
        }
      else if (st.workspace == NULL)
        g_print ("%s\n", _ ("Not in a workspace."));
      else
        {
          g_autofree char *relay = safe (st.relay, TRUE);
          g_print (_ ("Workspace %s at %s\nThis device: %s (%s)\nKey epoch: %u\n"), st.workspace,
                   relay, sp_vault_get_device_id (vault),
                   !st.approved ? _ ("waiting for approval")
                   : st.admin   ? _ ("admin")
                                : _ ("member"),
                   st.epoch);
          g_print (ngettext ("%lld change not yet sent\n", "%lld changes not yet sent\n",
                             (gulong)st.pending_changes),
                   (long long)st.pending_changes);
        }
      sync_status_clear (&st);
      return EXIT_OK;
    }
  return usage_error (_ ("usage: workspace create|invite|join|approve|status|snapshot"));
}

static int
cmd_device (Cli *cli)
{
  g_auto (SyncArgs) a = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (SpVault) vault = NULL;
  SyncOptions opts;
  const char *sub = cli->args->len > 1 ? cli->args->pdata[1] : "";
  int code;

  if ((code = parse_sync_args (cli, 2, &a)) != EXIT_OK)
    return code;
  opts = (SyncOptions){ a.relay, a.proxy, a.ca_file };
  if (g_str_equal (sub, "list"))
    {
      g_autoptr (GPtrArray) devs = NULL;

      if (a.words->len)
        return usage_error (_ ("usage: device list"));
      vault = open_vault (cli, &error);
      if (vault == NULL || (devs = sync_device_list (vault, &opts, &error)) == NULL)
        return fail (error);
      if (cli->json)
        {
          g_autoptr (JsonBuilder) b = json_builder_new ();
          g_autoptr (JsonNode) root = NULL;

          json_builder_begin_array (b);
          for (guint i = 0; i < devs->len; i++)
            {
              const SyncDevice *d = devs->pdata[i];
              json_builder_begin_object (b);
              json_builder_set_member_name (b, "device");
              json_builder_add_string_value (b, d->device);
              json_builder_set_member_name (b, "status");
              json_builder_add_string_value (b, d->status);
              json_builder_set_member_name (b, "admin");
              json_builder_add_boolean_value (b, d->admin);
              json_builder_set_member_name (b, "self");
              json_builder_add_boolean_value (b, d->is_self);
              json_builder_set_member_name (b, "safety_code");
              if (d->safety_code)
                json_builder_add_string_value (b, d->safety_code);
              else
                json_builder_add_null_value (b);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          root = json_builder_get_root (b);
          print_json (root);
        }
      else
        for (guint i = 0; i < devs->len; i++)
          {
            const SyncDevice *d = devs->pdata[i];
            g_autofree char *code_s
                = d->safety_code ? g_strdup_printf (_ ("  safety code %s"), d->safety_code) : NULL;

            g_print ("%s  %-8s%s%s%s\n", d->device, d->status, d->admin ? _ ("  admin") : "",
                     d->is_self ? _ ("  (this device)") : "", code_s ? code_s : "");
          }
      return EXIT_OK;
    }
  if (g_str_equal (sub, "revoke"))
    {
      if (a.words->len != 1)
        return usage_error (_ ("usage: device revoke DEVICE"));
      vault = open_vault (cli, &error);
      if (vault == NULL || !sync_device_revoke (vault, a.words->pdata[0], &opts, &error))
        return fail (error);
      g_print ("%s\n", _ ("Device removed; the workspace key was replaced. It keeps what it had "
                          "already received."));
      return EXIT_OK;
    }
  return usage_error (_ ("usage: device list|revoke DEVICE"));
}

int
main (int argc, char **argv)
{
  Cli cli = { .passphrase_fd = -1 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  int code = EXIT_OK;
  const char *cmd;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (!sp_core_init (&error))
    return fail (error);

  cli.args = args;
  if (!parse_global (&cli, argc, argv, &code))
    goto out;
  if (cli.vault_dir == NULL)
    cli.vault_dir = sp_vault_default_dir ();
  if (cli.args->len == 0)
    {
      print_usage ();
      code = EXIT_USAGE;
      goto out;
    }

  cmd = cli.args->pdata[0];
  if (g_str_equal (cmd, "init"))
    code = cmd_init (&cli);
  else if (g_str_equal (cmd, "add"))
    code = cmd_add (&cli);
  else if (g_str_equal (cmd, "edit"))
    code = cmd_edit (&cli);
  else if (g_str_equal (cmd, "delete"))
    code = cmd_delete (&cli, FALSE);
  else if (g_str_equal (cmd, "undelete"))
    code = cmd_delete (&cli, TRUE);
  else if (g_str_equal (cmd, "show"))
    code = cmd_show (&cli);
  else if (g_str_equal (cmd, "list"))
    code = cmd_list (&cli, FALSE);
  else if (g_str_equal (cmd, "search"))
    code = cmd_list (&cli, TRUE);
  else if (g_str_equal (cmd, "import-csv"))
    code = cmd_import (&cli);
  else if (g_str_equal (cmd, "export-csv"))
    code = cmd_export (&cli);
  else if (g_str_equal (cmd, "stats"))
    code = cmd_stats (&cli);
  else if (g_str_equal (cmd, "conflicts"))
    code = cmd_conflicts (&cli);
  else if (g_str_equal (cmd, "fields"))
    code = cmd_fields (&cli);
  else if (g_str_equal (cmd, "passwd"))
    code = cmd_passwd (&cli);
  else if (g_str_equal (cmd, "check"))
    code = cmd_check (&cli);
  else if (g_str_equal (cmd, "resolve"))
    code = cmd_resolve (&cli);
  else if (g_str_equal (cmd, "panic"))
    code = cmd_panic (&cli);
  else if (g_str_equal (cmd, "set-duress"))
    code = cmd_set_duress (&cli);
  else if (g_str_equal (cmd, "backup"))
    code = cmd_backup (&cli);
  else if (g_str_equal (cmd, "restore"))
    code = cmd_restore (&cli);
  else if (g_str_equal (cmd, "sync"))
    code = cmd_sync (&cli);
  else if (g_str_equal (cmd, "workspace"))
    code = cmd_workspace (&cli);
  else if (g_str_equal (cmd, "device"))
    code = cmd_device (&cli);
  else
    code = usage_error (_ ("unknown command '%s'"), cmd);

out:
  g_free (cli.vault_dir);
  return code;
}
