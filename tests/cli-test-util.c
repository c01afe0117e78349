/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli-test-util.c — see cli-test-util.h. */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supolka-core.h"
#include "cli-test-util.h"
#include "sec-cli-run.h"
#include "test-util.h"

/* ---- Running the CLI -------------------------------------------------------- */

static SecEnv *cli_env; /* HOME, XDG_* and TMPDIR of every child */

void
cli_test_init (void)
{
  g_assert_cmpint (sodium_init (), >=, 0);
  cli_env = sec_env_new ();
}

const char *
cli_home (void)
{
  return cli_env->root;
}

int
cli_test_finish (int status)
{
  /* Nothing may have been written under the children's home but what the
   * tests made there (the default vault folder was only looked at). */
  g_autofree char *default_dir = g_build_filename (cli_env->root, "data", "supolka", NULL);

  if (g_file_test (default_dir, G_FILE_TEST_EXISTS))
    {
      g_printerr ("supolka-cli created %s\n", default_dir);
      status = 1;
    }
  g_clear_pointer (&cli_env, sec_env_free);
  return status;
}

/* Runs supolka-cli with args (char *, not NULL-terminated). stdin_text and
 * fd3_text (either may be NULL) are what the child reads on fd 0 and fd 3.
 * Returns the exit status; a child killed by a signal fails the test. */
int
run_argv (const char *stdin_text, const char *fd3_text, char **out, char **err, GPtrArray *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  for (guint i = 0; i < args->len; i++)
    g_ptr_array_add (argv, args->pdata[i]);
  g_ptr_array_add (argv, NULL);
  return sec_run_argv (cli_env, stdin_text, fd3_text, out, err, (const char *const *)argv->pdata);
}

void
append_va (GPtrArray *args, const char *first, va_list ap)
{
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *)a);
}

/* The helper the tests use for commands without a vault of their own:
 * NULL-terminated arguments after the first. */
int
run_cli (const char *stdin_text, char **out, char **err, const char *arg, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  va_list ap;

  va_start (ap, arg);
  append_va (args, arg, ap);
  va_end (ap);
  return run_argv (stdin_text, NULL, out, err, args);
}

/* ---- A vault in a temporary folder ------------------------------------------ */

void
cli_vault_free (CliVault *cv)
{
  if (cv == NULL)
    return;
  sp_test_rmtree (cv->tmp);
  g_free (cv->tmp);
  g_free (cv->dir);
  g_free (cv);
}

/* A folder for a vault, without the vault. */
CliVault *
cli_vault_new_empty (void)
{
  CliVault *cv = g_new0 (CliVault, 1);

  cv->tmp = sp_test_tmpdir ();
  cv->dir = g_build_filename (cv->tmp, "vault", NULL);
  return cv;
}

/* Runs a command on the vault: --vault DIR --passphrase-fd 0, with input
 * (normally PASS_LINE) on stdin. */
int
cv_runv (CliVault *cv, const char *input, char **out, char **err, const char *prefix,
         const char *first, va_list ap)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();

  g_ptr_array_add (args, "--vault");
  g_ptr_array_add (args, cv->dir);
  g_ptr_array_add (args, "--passphrase-fd");
  g_ptr_array_add (args, "0");
  if (prefix)
    g_ptr_array_add (args, (char *)prefix);
  append_va (args, first, ap);
  return run_argv (input, NULL, out, err, args);
}

int
cv_run (CliVault *cv, char **out, char **err, const char *arg, ...)
{
  va_list ap;
  int status;

  va_start (ap, arg);
  status = cv_runv (cv, PASS_LINE, out, err, NULL, arg, ap);
  va_end (ap);
  return status;
}

int
cv_run_input (CliVault *cv, const char *input, char **out, char **err, const char *arg, ...)
{
  va_list ap;
  int status;

  va_start (ap, arg);
  status = cv_runv (cv, input, out, err, NULL, arg, ap);
  va_end (ap);
  return status;
}

CliVault *
cli_vault_new (void)
{
  CliVault *cv = cli_vault_new_empty ();
  g_autofree char *out = NULL;

  g_assert_cmpint (cv_run (cv, &out, NULL, "init", "--kdf", "interactive", NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (out, cv->dir));
  g_assert_true (sp_vault_exists (cv->dir));
  return cv;
}

JsonNode *
parse_json (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (json_parser_get_root (parser));
  return json_node_copy (json_parser_get_root (parser));
}

/* --json COMMAND ...; asserts exit 0 and returns the parsed output. */
JsonNode *
cv_json (CliVault *cv, const char *arg, ...)
{
  g_autofree char *out = NULL;
  va_list ap;
  int status;

  va_start (ap, arg);
  status = cv_runv (cv, PASS_LINE, &out, NULL, "--json", arg, ap);
  va_end (ap);
  g_assert_cmpint (status, ==, EXIT_OK);
  return parse_json (out);
}

gboolean
is_record_id (const char *s)
{
  if (s == NULL || strlen (s) != 32)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isxdigit (*p) || g_ascii_isupper (*p))
      return FALSE;
  return TRUE;
}

/* add KIND --field value ... ; asserts success, returns the printed id. */
char *
cv_add (CliVault *cv, const char *kind, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autofree char *out = NULL;
  va_list ap;

  g_ptr_array_add (args, "--vault");
  g_ptr_array_add (args, cv->dir);
  g_ptr_array_add (args, "--passphrase-fd");
  g_ptr_array_add (args, "0");
  g_ptr_array_add (args, "add");
  g_ptr_array_add (args, (char *)kind);
  va_start (ap, kind);
  append_va (args, va_arg (ap, const char *), ap);
  va_end (ap);
  g_assert_cmpint (run_argv (PASS_LINE, NULL, &out, NULL, args), ==, EXIT_OK);
  g_strchomp (out);
  g_assert_true (is_record_id (out));
  return g_steal_pointer (&out);
}

/* Number of records 'list KIND' shows. */
guint
cv_count (CliVault *cv, const char *kind)
{
  g_autoptr (JsonNode) list = cv_json (cv, "list", kind, NULL);

  g_assert_true (JSON_NODE_HOLDS_ARRAY (list));
  return json_array_get_length (json_node_get_array (list));
}

/* ---- JSON helpers --------------------------------------------------------------- */

int
cmp_strptr (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

char *
join_sorted (GPtrArray *ids)
{
  g_autoptr (GString) s = g_string_new (NULL);

  g_ptr_array_sort (ids, cmp_strptr);
  for (guint i = 0; i < ids->len; i++)
    g_string_append_printf (s, "%s%s", i ? " " : "", (const char *)ids->pdata[i]);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* The ids of a --json list, sorted and space-separated. */
char *
json_ids (JsonNode *list)
{
  g_autoptr (GPtrArray) ids = g_ptr_array_new ();
  JsonArray *arr;

  g_assert_true (JSON_NODE_HOLDS_ARRAY (list));
  arr = json_node_get_array (list);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    g_ptr_array_add (
        ids, (char *)json_object_get_string_member (json_array_get_object_element (arr, i), "id"));
  return join_sorted (ids);
}

/* The given ids (NULL-terminated), sorted and space-separated. */
char *
expect_ids (const char *first, ...)
{
  g_autoptr (GPtrArray) ids = g_ptr_array_new ();
  va_list ap;

  va_start (ap, first);
  append_va (ids, first, ap);
  va_end (ap);
  return join_sorted (ids);
}

JsonObject *
find_record (JsonNode *list, const char *id)
{
  JsonArray *arr = json_node_get_array (list);

  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      if (g_strcmp0 (json_object_get_string_member (o, "id"), id) == 0)
        return o;
    }
  return NULL;
}

/* A string field of a record object, or NULL when absent. */
const char *
rec_field (JsonObject *rec, const char *name)
{
  JsonObject *fields = json_object_get_object_member (rec, "fields");

  g_assert_nonnull (fields);
  if (!json_object_has_member (fields, name))
    return NULL;
  return json_object_get_string_member (fields, name);
}

/* A record of a --json list (or show), in a form that compares equal across
 * vaults: id, kind, title, deleted and every field; not the creation time. */
char *
canonical_record (JsonObject *o)
{
  g_autofree char *fields = json_to_string (json_object_get_member (o, "fields"), FALSE);

  return g_strdup_printf ("%s\t%s\t%s\t%d\t%s", json_object_get_string_member (o, "id"),
                          json_object_get_string_member (o, "kind"),
                          json_object_get_string_member (o, "title"),
                          json_object_get_boolean_member (o, "deleted"), fields);
}

char *
canonical_list (JsonNode *list)
{
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) s = g_string_new (NULL);
  JsonArray *arr = json_node_get_array (list);

  for (guint i = 0; i < json_array_get_length (arr); i++)
    g_ptr_array_add (lines, canonical_record (json_array_get_object_element (arr, i)));
  g_ptr_array_sort (lines, cmp_strptr);
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (s, "%s\n", (const char *)lines->pdata[i]);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* ---- Files ---------------------------------------------------------------------- */

/* name -> GBytes of every file in dir (not recursive). */
GHashTable *
snapshot_dir (const char *dir)
{
  GHashTable *snap
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_bytes_unref);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      GBytes *bytes = sp_test_read_file (path);
      g_assert_nonnull (bytes);
      g_hash_table_insert (snap, g_strdup (name), bytes);
    }
  return snap;
}

void
assert_snapshot_equal (GHashTable *before, GHashTable *after, const char *what)
{
  GHashTableIter it;
  gpointer name, bytes;

  g_hash_table_iter_init (&it, before);
  while (g_hash_table_iter_next (&it, &name, &bytes))
    {
      GBytes *other = g_hash_table_lookup (after, name);
      if (other == NULL)
        g_error ("%s: %s disappeared", what, (const char *)name);
      if (!g_bytes_equal (bytes, other))
        g_error ("%s: %s changed", what, (const char *)name);
    }
  g_hash_table_iter_init (&it, after);
  while (g_hash_table_iter_next (&it, &name, &bytes))
    if (!g_hash_table_contains (before, name))
      g_error ("%s: %s appeared", what, (const char *)name);
}

void
write_file (const char *path, const void *data, gsize len)
{
  g_autoptr (GError) error = NULL;

  g_file_set_contents_full (path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error);
  g_assert_no_error (error);
}

GBytes *
read_file (const char *path)
{
  GBytes *bytes = sp_test_read_file (path);

  if (bytes == NULL)
    g_error ("cannot read %s", path);
  return bytes;
}

/* After a command has ended, its WAL has been checkpointed and removed:
 * vault.db alone holds the data. */
void
assert_no_sqlite_side_files (const char *dir)
{
  g_autofree char *wal = g_build_filename (dir, "vault.db-wal", NULL);
  g_autofree char *shm = g_build_filename (dir, "vault.db-shm", NULL);

  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (shm, G_FILE_TEST_EXISTS));
}

void
assert_list (CliVault *cv, const char *expected, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (JsonNode) list = NULL;
  g_autofree char *out = NULL;
  g_autofree char *got = NULL;
  va_list ap;

  g_ptr_array_add (args, "--vault");
  g_ptr_array_add (args, cv->dir);
  g_ptr_array_add (args, "--passphrase-fd");
  g_ptr_array_add (args, "0");
  g_ptr_array_add (args, "--json");
  va_start (ap, expected);
  append_va (args, va_arg (ap, const char *), ap);
  va_end (ap);
  g_assert_cmpint (run_argv (PASS_LINE, NULL, &out, NULL, args), ==, EXIT_OK);
  list = parse_json (out);
  got = json_ids (list);
  g_assert_cmpstr (got, ==, expected);
}
