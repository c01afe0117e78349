/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cli.c — supolka-cli end to end: the real binary ($SUPOLKA_CLI) on real
 * vaults in temporary folders, the passphrase always on a pipe.
 *
 * Every child runs with SUPOLKA_VAULT unset and HOME / XDG_* pointing into a
 * temporary folder, so nothing here can touch the user's own vault.
 */
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
#include "test-util.h"

#define PASS "correct horse battery"
#define PASS_LINE PASS "\n"

/* The CLI's exit statuses (app/supolka-cli.c). */
enum
{
  EXIT_OK = 0,
  EXIT_USAGE = 1,
  EXIT_LOCKED = 2,
  EXIT_NOT_FOUND = 3,
  EXIT_INVALID = 4,
};

/* vault.key layout (core/sp-keyfile.c). */
#define KF_SIZE 264
#define KF_SLOT0 16
#define KF_SLOT1 (16 + 108)
#define KF_SLOT_CT 60
#define KF_SUM 232
#define DB_PAGE 4096

static char *test_home; /* HOME and XDG_* of every child */

/* ---- Running the CLI -------------------------------------------------------- */

static const char *
cli_path (void)
{
  const char *path = g_getenv ("SUPOLKA_CLI");

  g_assert_nonnull (path);
  return path;
}

/* Every test starts with this: without the binary the test fails, it does
 * not skip. */
static gboolean
require_cli (void)
{
  const char *path = g_getenv ("SUPOLKA_CLI");

  if (path == NULL || *path == '\0')
    {
      g_test_fail_printf ("SUPOLKA_CLI is not set: run this test with 'meson test', which "
                          "points it at the built supolka-cli");
      return FALSE;
    }
  if (!g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_fail_printf ("SUPOLKA_CLI=%s is not an executable file", path);
      return FALSE;
    }
  return TRUE;
}

/* A pipe that already holds text and whose write end is closed: the child
 * reads it like a file. Passphrases are far below the pipe's capacity. */
static int
prefilled_pipe (const char *text)
{
  g_autoptr (GError) error = NULL;
  gsize len = strlen (text), done = 0;
  int fds[2];

  g_assert_cmpuint (len, <, 60000);
  g_unix_open_pipe (fds, FD_CLOEXEC, &error);
  g_assert_no_error (error);
  while (done < len)
    {
      ssize_t w = write (fds[1], text + done, len - done);
      if (w < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (w, >, 0);
      done += (gsize)w;
    }
  close (fds[1]);
  return fds[0];
}

static char *
bytes_to_string (GBytes *bytes)
{
  gsize len = 0;
  const char *data = bytes ? g_bytes_get_data (bytes, &len) : NULL;

  return g_strndup (data ? data : "", len);
}

/* Runs supolka-cli with args (char *, not NULL-terminated). stdin_text and
 * fd3_text (either may be NULL) are what the child reads on fd 0 and fd 3.
 * Returns the exit status; a child killed by a signal fails the test. */
static int
run_argv (const char *stdin_text, const char *fd3_text, char **out, char **err, GPtrArray *args)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GBytes) out_bytes = NULL;
  g_autoptr (GBytes) err_bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) cmdline = g_string_new ("supolka-cli");
  g_autofree char *data_home = g_build_filename (test_home, "data", NULL);
  g_autofree char *config_home = g_build_filename (test_home, "config", NULL);
  g_autofree char *cache_home = g_build_filename (test_home, "cache", NULL);
  g_autofree char *state_home = g_build_filename (test_home, "state", NULL);
  g_autofree char *out_text = NULL;
  g_autofree char *err_text = NULL;
  int status;

  launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_unsetenv (launcher, "SUPOLKA_VAULT");
  g_subprocess_launcher_unsetenv (launcher, "LANGUAGE");
  g_subprocess_launcher_setenv (launcher, "HOME", test_home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", data_home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", config_home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", cache_home, TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", state_home, TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  if (stdin_text)
    g_subprocess_launcher_take_stdin_fd (launcher, prefilled_pipe (stdin_text));
  if (fd3_text)
    g_subprocess_launcher_take_fd (launcher, prefilled_pipe (fd3_text), 3);

  g_ptr_array_add (argv, (char *)cli_path ());
  for (guint i = 0; i < args->len; i++)
    {
      g_ptr_array_add (argv, args->pdata[i]);
      g_string_append_printf (cmdline, " '%s'", (const char *)args->pdata[i]);
    }
  g_ptr_array_add (argv, NULL);

  /* Other engineers may relink the binary while this runs: retry a spawn
   * that failed (ETXTBSY, EACCES) a few times. */
  for (int attempt = 0; attempt < 5; attempt++)
    {
      g_clear_error (&error);
      proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, &error);
      if (proc)
        break;
      g_usleep (300 * 1000);
    }
  g_assert_no_error (error);
  g_assert_nonnull (proc);

  g_subprocess_communicate (proc, NULL, NULL, &out_bytes, &err_bytes, &error);
  g_assert_no_error (error);
  out_text = bytes_to_string (out_bytes);
  err_text = bytes_to_string (err_bytes);

  if (!g_subprocess_get_if_exited (proc))
    g_error ("%s was killed by signal %d (stderr: %s)", cmdline->str,
             g_subprocess_get_if_signaled (proc) ? g_subprocess_get_term_sig (proc) : -1, err_text);
  status = g_subprocess_get_exit_status (proc);
  g_test_message ("$ %s  => %d%s%.300s", cmdline->str, status, *err_text ? "; stderr: " : "",
                  err_text);
  if (out)
    *out = g_steal_pointer (&out_text);
  if (err)
    *err = g_steal_pointer (&err_text);
  return status;
}

static void
append_va (GPtrArray *args, const char *first, va_list ap)
{
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *)a);
}

/* The helper the tests use for commands without a vault of their own:
 * NULL-terminated arguments after the first. */
static int run_cli (const char *stdin_text, char **out, char **err, const char *arg,
                    ...) G_GNUC_NULL_TERMINATED;

static int
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

typedef struct
{
  char *tmp; /* removed at the end, with everything in it */
  char *dir; /* tmp/vault, created by 'init' */
} CliVault;

static void
cli_vault_free (CliVault *cv)
{
  if (cv == NULL)
    return;
  sp_test_rmtree (cv->tmp);
  g_free (cv->tmp);
  g_free (cv->dir);
  g_free (cv);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliVault, cli_vault_free)

/* A folder for a vault, without the vault. */
static CliVault *
cli_vault_new_empty (void)
{
  CliVault *cv = g_new0 (CliVault, 1);

  cv->tmp = sp_test_tmpdir ();
  cv->dir = g_build_filename (cv->tmp, "vault", NULL);
  return cv;
}

/* Runs a command on the vault: --vault DIR --passphrase-fd 0, with input
 * (normally PASS_LINE) on stdin. */
static int
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

static int cv_run (CliVault *cv, char **out, char **err, const char *arg,
                   ...) G_GNUC_NULL_TERMINATED;

static int
cv_run (CliVault *cv, char **out, char **err, const char *arg, ...)
{
  va_list ap;
  int status;

  va_start (ap, arg);
  status = cv_runv (cv, PASS_LINE, out, err, NULL, arg, ap);
  va_end (ap);
  return status;
}

static int cv_run_input (CliVault *cv, const char *input, char **out, char **err, const char *arg,
                         ...) G_GNUC_NULL_TERMINATED;

static int
cv_run_input (CliVault *cv, const char *input, char **out, char **err, const char *arg, ...)
{
  va_list ap;
  int status;

  va_start (ap, arg);
  status = cv_runv (cv, input, out, err, NULL, arg, ap);
  va_end (ap);
  return status;
}

static CliVault *
cli_vault_new (void)
{
  CliVault *cv = cli_vault_new_empty ();
  g_autofree char *out = NULL;

  g_assert_cmpint (cv_run (cv, &out, NULL, "init", "--kdf", "interactive", NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (out, cv->dir));
  g_assert_true (sp_vault_exists (cv->dir));
  return cv;
}

static JsonNode *
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
static JsonNode *cv_json (CliVault *cv, const char *arg, ...) G_GNUC_NULL_TERMINATED;

static JsonNode *
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

static gboolean
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
static char *cv_add (CliVault *cv, const char *kind, ...) G_GNUC_NULL_TERMINATED;

static char *
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
static guint
cv_count (CliVault *cv, const char *kind)
{
  g_autoptr (JsonNode) list = cv_json (cv, "list", kind, NULL);

  g_assert_true (JSON_NODE_HOLDS_ARRAY (list));
  return json_array_get_length (json_node_get_array (list));
}

/* ---- JSON helpers --------------------------------------------------------------- */

static int
cmp_strptr (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

static char *
join_sorted (GPtrArray *ids)
{
  g_autoptr (GString) s = g_string_new (NULL);

  g_ptr_array_sort (ids, cmp_strptr);
  for (guint i = 0; i < ids->len; i++)
    g_string_append_printf (s, "%s%s", i ? " " : "", (const char *)ids->pdata[i]);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* The ids of a --json list, sorted and space-separated. */
static char *
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
static char *expect_ids (const char *first, ...) G_GNUC_NULL_TERMINATED;

static char *
expect_ids (const char *first, ...)
{
  g_autoptr (GPtrArray) ids = g_ptr_array_new ();
  va_list ap;

  va_start (ap, first);
  append_va (ids, first, ap);
  va_end (ap);
  return join_sorted (ids);
}

static JsonObject *
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
static const char *
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
static char *
canonical_record (JsonObject *o)
{
  g_autofree char *fields = json_to_string (json_object_get_member (o, "fields"), FALSE);

  return g_strdup_printf ("%s\t%s\t%s\t%d\t%s", json_object_get_string_member (o, "id"),
                          json_object_get_string_member (o, "kind"),
                          json_object_get_string_member (o, "title"),
                          json_object_get_boolean_member (o, "deleted"), fields);
}

static char *
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
static GHashTable *
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

static void
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

static void
write_file (const char *path, const void *data, gsize len)
{
  g_autoptr (GError) error = NULL;

  g_file_set_contents_full (path, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error);
  g_assert_no_error (error);
}

static GBytes *
read_file (const char *path)
{
  GBytes *bytes = sp_test_read_file (path);

  if (bytes == NULL)
    g_error ("cannot read %s", path);
  return bytes;
}

/* After a command has ended, its WAL has been checkpointed and removed:
 * vault.db alone holds the data. */
static void
assert_no_sqlite_side_files (const char *dir)
{
  g_autofree char *wal = g_build_filename (dir, "vault.db-wal", NULL);
  g_autofree char *shm = g_build_filename (dir, "vault.db-shm", NULL);

  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (shm, G_FILE_TEST_EXISTS));
}

/* ---- 1. Records: add, show, edit, delete, undelete -------------------------------- */

static void
test_records_lifecycle (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autoptr (JsonNode) shown = NULL;
  g_autoptr (JsonNode) list = NULL;
  g_autoptr (GHashTable) before = NULL;
  g_autoptr (GHashTable) after = NULL;
  g_autofree char *id = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *ids = NULL;
  JsonObject *o;

  if (!require_cli ())
    return;
  cv = cli_vault_new ();

  id = cv_add (cv, "org", "--name", "Мінская ініцыятыва «Зялёны шлях»", "--region", "minsk_city",
               "--status", "member", "--themes", "youth, ecology, Ecology", "--kind", "initiative",
               "--notes", "Першая нататка", NULL);

  /* show, as text */
  g_assert_cmpint (cv_run (cv, &out, NULL, "show", id, NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (out, id));
  g_assert_nonnull (strstr (out, "Мінская ініцыятыва «Зялёны шлях»"));
  g_assert_nonnull (strstr (out, "minsk_city"));
  g_assert_nonnull (strstr (out, "member"));
  g_assert_nonnull (strstr (out, "ecology, youth")); /* sorted, de-duplicated */
  g_assert_nonnull (strstr (out, "Першая нататка"));
  g_assert_null (strstr (out, "deleted"));
  g_clear_pointer (&out, g_free);

  /* show, as JSON */
  shown = cv_json (cv, "show", id, NULL);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (shown));
  o = json_node_get_object (shown);
  g_assert_cmpstr (json_object_get_string_member (o, "id"), ==, id);
  g_assert_cmpstr (json_object_get_string_member (o, "kind"), ==, "org");
  g_assert_cmpstr (json_object_get_string_member (o, "title"), ==,
                   "Мінская ініцыятыва «Зялёны шлях»");
  g_assert_false (json_object_get_boolean_member (o, "deleted"));
  g_assert_false (json_object_get_boolean_member (o, "conflicts"));
  g_assert_cmpstr (rec_field (o, "name"), ==, "Мінская ініцыятыва «Зялёны шлях»");
  g_assert_cmpstr (rec_field (o, "region"), ==, "minsk_city");
  g_assert_cmpstr (rec_field (o, "status"), ==, "member");
  g_assert_cmpstr (rec_field (o, "kind"), ==, "initiative");
  g_assert_cmpstr (rec_field (o, "themes"), ==, "ecology, youth");
  g_assert_cmpstr (rec_field (o, "notes"), ==, "Першая нататка");
  g_assert_null (rec_field (o, "email"));
  g_clear_pointer (&shown, json_node_unref);

  /* edit one field; the others stay */
  g_assert_cmpint (cv_run (cv, NULL, NULL, "edit", id, "--status", "candidate", NULL), ==, EXIT_OK);
  shown = cv_json (cv, "show", id, NULL);
  o = json_node_get_object (shown);
  g_assert_cmpstr (rec_field (o, "status"), ==, "candidate");
  g_assert_cmpstr (rec_field (o, "region"), ==, "minsk_city");
  g_assert_cmpstr (rec_field (o, "notes"), ==, "Першая нататка");
  g_clear_pointer (&shown, json_node_unref);

  /* an empty value clears; --field=value works too */
  g_assert_cmpint (cv_run (cv, NULL, NULL, "edit", id, "--notes", "", "--locality=Мінск", NULL), ==,
                   EXIT_OK);
  shown = cv_json (cv, "show", id, NULL);
  o = json_node_get_object (shown);
  g_assert_null (rec_field (o, "notes"));
  g_assert_cmpstr (rec_field (o, "locality"), ==, "Мінск");
  g_assert_cmpstr (rec_field (o, "status"), ==, "candidate");
  g_clear_pointer (&shown, json_node_unref);
  g_assert_cmpint (cv_run (cv, &out, NULL, "show", id, NULL), ==, EXIT_OK);
  g_assert_null (strstr (out, "Першая нататка"));
  g_clear_pointer (&out, g_free);

  /* the passphrase on another descriptor: --passphrase-fd 3 */
  {
    g_autoptr (GPtrArray) args = g_ptr_array_new ();
    g_ptr_array_add (args, "--vault");
    g_ptr_array_add (args, cv->dir);
    g_ptr_array_add (args, "--passphrase-fd");
    g_ptr_array_add (args, "3");
    g_ptr_array_add (args, "list");
    g_ptr_array_add (args, "org");
    g_assert_cmpint (run_argv (NULL, PASS_LINE, &out, NULL, args), ==, EXIT_OK);
    g_assert_nonnull (strstr (out, id));
    g_assert_nonnull (strstr (out, "Мінская ініцыятыва"));
    g_clear_pointer (&out, g_free);
  }

  /* delete: show still works and says so; list no longer has it */
  g_assert_cmpint (cv_run (cv, NULL, NULL, "delete", id, NULL), ==, EXIT_OK);
  g_assert_cmpint (cv_run (cv, &out, NULL, "show", id, NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (out, "deleted"));
  g_assert_nonnull (strstr (out, "Мінская ініцыятыва"));
  g_clear_pointer (&out, g_free);
  shown = cv_json (cv, "show", id, NULL);
  g_assert_true (json_object_get_boolean_member (json_node_get_object (shown), "deleted"));
  g_clear_pointer (&shown, json_node_unref);
  g_assert_cmpuint (cv_count (cv, "org"), ==, 0);
  list = cv_json (cv, "list", "org", "--deleted", NULL);
  ids = json_ids (list);
  g_assert_cmpstr (ids, ==, id);
  g_clear_pointer (&ids, g_free);
  g_clear_pointer (&list, json_node_unref);
  /* a deleted record can be neither deleted again nor edited */
  g_assert_cmpint (cv_run (cv, NULL, NULL, "delete", id, NULL), ==, EXIT_NOT_FOUND);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "edit", id, "--status", "member", NULL), ==,
                   EXIT_NOT_FOUND);

  /* undelete brings it back, as it was */
  g_assert_cmpint (cv_run (cv, NULL, NULL, "undelete", id, NULL), ==, EXIT_OK);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "undelete", id, NULL), ==, EXIT_NOT_FOUND);
  list = cv_json (cv, "list", "org", NULL);
  ids = json_ids (list);
  g_assert_cmpstr (ids, ==, id);
  o = find_record (list, id);
  g_assert_false (json_object_get_boolean_member (o, "deleted"));
  g_assert_cmpstr (rec_field (o, "status"), ==, "candidate");
  g_assert_cmpstr (rec_field (o, "locality"), ==, "Мінск");
  g_clear_pointer (&list, json_node_unref);

  /* unknown ids */
  g_assert_cmpint (cv_run (cv, &out, &err, "show", "0123456789abcdef0123456789abcdef", NULL), ==,
                   EXIT_NOT_FOUND);
  g_assert_cmpstr (out, ==, "");
  g_assert_nonnull (strstr (err, "0123456789abcdef0123456789abcdef"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "show", "not-an-id", NULL), ==, EXIT_NOT_FOUND);
  g_assert_cmpint (
      cv_run (cv, NULL, NULL, "edit", "0123456789abcdef0123456789abcdef", "--name", "x", NULL), ==,
      EXIT_NOT_FOUND);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "delete", "0123456789abcdef0123456789abcdef", NULL), ==,
                   EXIT_NOT_FOUND);

  /* --json add prints {"id": ...} */
  {
    g_autoptr (JsonNode) added
        = cv_json (cv, "add", "person", "--full_name", "Шыманскі Алег", NULL);
    g_assert_true (
        is_record_id (json_object_get_string_member (json_node_get_object (added), "id")));
  }

  /* init twice: a usage error, and the vault is untouched */
  before = snapshot_dir (cv->dir);
  g_assert_cmpint (
      cv_run_input (cv, "another passphrase\n", &out, &err, "init", "--kdf", "interactive", NULL),
      ==, EXIT_USAGE);
  g_assert_nonnull (strstr (err, "already exists"));
  after = snapshot_dir (cv->dir);
  assert_snapshot_equal (before, after, "init over an existing vault");
  g_assert_cmpuint (cv_count (cv, "org"), ==, 1);
  g_assert_cmpint (cv_run_input (cv, "another passphrase\n", NULL, NULL, "list", "org", NULL), ==,
                   EXIT_LOCKED);
}

/* ---- 2. Wrong passphrase ------------------------------------------------------------ */

static void
test_wrong_passphrase (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autoptr (GHashTable) before = NULL;
  g_autoptr (GHashTable) after = NULL;
  g_autofree char *id = NULL;
  static const char *const wrong[] = {
    "wrong horse battery\n",   "correct horse battery \n", /* a trailing space is part of it */
    "Correct horse battery\n", "correct horse batter\n",   "\n", /* empty */
  };

  if (!require_cli ())
    return;
  cv = cli_vault_new ();
  id = cv_add (cv, "org", "--name", "Брэсцкі экацэнтр", "--region", "brest", NULL);
  before = snapshot_dir (cv->dir);

  for (guint i = 0; i < G_N_ELEMENTS (wrong); i++)
    {
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;

      g_assert_cmpint (cv_run_input (cv, wrong[i], &out, &err, "list", "org", NULL), ==,
                       EXIT_LOCKED);
      g_assert_cmpstr (out, ==, "");
      g_assert_nonnull (strstr (err, "Wrong passphrase"));
    }
  /* writes and reads alike */
  {
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    g_assert_cmpint (cv_run_input (cv, "wrong horse battery\n", &out, &err, "add", "org", "--name",
                                   "Should not exist", NULL),
                     ==, EXIT_LOCKED);
    g_assert_cmpstr (out, ==, "");
    g_assert_cmpstr (err, !=, "");
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (
        cv_run_input (cv, "wrong horse battery\n", &out, &err, "--json", "show", id, NULL), ==,
        EXIT_LOCKED);
    g_assert_cmpstr (out, ==, "");
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (cv_run_input (cv, "wrong horse battery\n", &out, &err, "delete", id, NULL), ==,
                     EXIT_LOCKED);
    g_assert_cmpstr (out, ==, "");
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    /* no passphrase at all (end of file): refused, nothing on stdout */
    g_assert_cmpint (cv_run_input (cv, "", &out, &err, "list", "org", NULL), !=, EXIT_OK);
    g_assert_cmpstr (out, ==, "");
    g_assert_cmpstr (err, !=, "");
  }
  after = snapshot_dir (cv->dir);
  assert_snapshot_equal (before, after, "after wrong passphrases");

  /* the right one still works, also ended by CRLF */
  g_assert_cmpuint (cv_count (cv, "org"), ==, 1);
  g_assert_cmpint (cv_run_input (cv, PASS "\r\n", NULL, NULL, "show", id, NULL), ==, EXIT_OK);
}

/* ---- 3. Tampered files ------------------------------------------------------------ */

static void
fix_checksum (guint8 *key)
{
  crypto_generichash (key + KF_SUM, 32, key, KF_SUM, NULL, 0);
}

static void
put_le64 (guint8 *p, guint64 v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (guint8)(v >> (8 * i));
}

/* Runs 'list org' on the vault as it is now and checks: the expected exit
 * status, nothing on stdout, a message on stderr, no file changed. */
static void
assert_refused_unchanged (CliVault *cv, int expected, const char *what)
{
  g_autoptr (GHashTable) before = snapshot_dir (cv->dir);
  g_autoptr (GHashTable) after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  g_test_message ("case: %s", what);
  status = cv_run (cv, &out, &err, "list", "org", NULL);
  if (status != expected)
    g_error ("%s: exit %d, expected %d (stderr: %s)", what, status, expected, err);
  g_assert_cmpstr (out, ==, "");
  g_assert_cmpuint (strlen (g_strstrip (err)), >, 0);
  g_assert_nonnull (strstr (err, "supolka-cli: "));
  after = snapshot_dir (cv->dir);
  assert_snapshot_equal (before, after, what);
}

static void
test_tamper_keyfile (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autoptr (GBytes) orig = NULL;
  g_autofree char *key_path = NULL;
  g_autofree char *id = NULL;
  const guint8 *k;
  gsize len;
  guint8 buf[KF_SIZE + 1];

  if (!require_cli ())
    return;
  cv = cli_vault_new ();
  id = cv_add (cv, "org", "--name", "Гомельскі фонд", NULL);
  key_path = g_build_filename (cv->dir, "vault.key", NULL);
  orig = read_file (key_path);
  k = g_bytes_get_data (orig, &len);
  g_assert_cmpuint (len, ==, KF_SIZE);
  g_assert_cmpmem (k, 8, "SPLKKEY\0", 8);

#define RESET() memcpy (buf, k, KF_SIZE)

  /* the magic */
  RESET ();
  buf[3] ^= 0x20;
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_INVALID, "magic flipped");

  /* slot 0's sealed key: the checksum catches it */
  RESET ();
  buf[KF_SLOT0 + KF_SLOT_CT + 7] ^= 0x01;
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_INVALID, "slot 0 ciphertext flipped");

  /* slot 1 (the unused duress slot): the checksum catches it too */
  RESET ();
  buf[KF_SLOT1 + KF_SLOT_CT + 7] ^= 0x01;
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_INVALID, "slot 1 ciphertext flipped");

  /* slot 0's sealed key with a recomputed checksum: the AEAD tag refuses */
  RESET ();
  buf[KF_SLOT0 + KF_SLOT_CT + 7] ^= 0x01;
  fix_checksum (buf);
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_LOCKED, "slot 0 ciphertext flipped, checksum fixed");

  /* slot 0's salt, checksum fixed: another key is derived */
  RESET ();
  buf[KF_SLOT0 + 20] ^= 0x80;
  fix_checksum (buf);
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_LOCKED, "slot 0 salt flipped, checksum fixed");

  /* a reserved header byte, checksum fixed: the header is associated data */
  RESET ();
  buf[13] ^= 0x01;
  fix_checksum (buf);
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_LOCKED, "reserved header byte flipped, checksum fixed");

  /* absurd KDF limits, checksum fixed: refused before any work is done */
  RESET ();
  put_le64 (buf + KF_SLOT0 + 4, G_GUINT64_CONSTANT (1) << 40);
  fix_checksum (buf);
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_INVALID, "opslimit 2^40, checksum fixed");
  RESET ();
  put_le64 (buf + KF_SLOT1 + 12, G_GUINT64_CONSTANT (1) << 50);
  fix_checksum (buf);
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_INVALID, "slot 1 memlimit 1 PiB, checksum fixed");

  /* a newer format version */
  RESET ();
  buf[8] = 2;
  fix_checksum (buf);
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_INVALID, "format version 2");

  /* the checksum itself */
  RESET ();
  buf[KF_SUM + 5] ^= 0x40;
  write_file (key_path, buf, KF_SIZE);
  assert_refused_unchanged (cv, EXIT_INVALID, "checksum flipped");

  /* wrong sizes */
  RESET ();
  write_file (key_path, buf, 100);
  assert_refused_unchanged (cv, EXIT_INVALID, "truncated to 100 bytes");
  write_file (key_path, buf, 0);
  assert_refused_unchanged (cv, EXIT_INVALID, "empty file");
  buf[KF_SIZE] = 0;
  write_file (key_path, buf, KF_SIZE + 1);
  assert_refused_unchanged (cv, EXIT_INVALID, "one byte appended");

#undef RESET

  /* the original file opens the vault again, with its data */
  write_file (key_path, k, KF_SIZE);
  {
    g_autoptr (JsonNode) list = cv_json (cv, "list", "org", NULL);
    g_autofree char *ids = json_ids (list);
    g_assert_cmpstr (ids, ==, id);
  }
}

/* Flips the byte at offset of file path. */
static void
flip_byte (const char *path, GBytes *orig, gsize offset)
{
  gsize len;
  g_autofree guint8 *data = g_memdup2 (g_bytes_get_data (orig, &len), g_bytes_get_size (orig));

  g_assert_cmpuint (offset, <, len);
  data[offset] ^= 0x5a;
  write_file (path, data, len);
}

static void
test_tamper_database (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autoptr (GBytes) orig = NULL;
  g_autoptr (GString) problems = g_string_new (NULL);
  g_autoptr (GString) long_notes = g_string_new (NULL);
  g_autofree char *db_path = NULL;
  g_autofree char *key_path = NULL;
  g_autofree char *org = NULL;
  g_autofree char *person = NULL;
  g_autofree char *ids = NULL;
  gsize n_pages;
  guint n_refused = 0;

  if (!require_cli ())
    return;
  cv = cli_vault_new ();
  /* Long notes spill into overflow pages, so those are covered too. */
  for (int i = 0; i < 150; i++)
    g_string_append (long_notes, "Доўгая нататка. ");
  org = cv_add (cv, "org", "--name", "Віцебская суполка", "--region", "vitebsk", "--notes",
                long_notes->str, NULL);
  person = cv_add (cv, "person", "--full_name", "Шыманскі Алег", NULL);
  db_path = g_build_filename (cv->dir, "vault.db", NULL);
  key_path = g_build_filename (cv->dir, "vault.key", NULL);
  assert_no_sqlite_side_files (cv->dir);
  orig = read_file (db_path);
  g_assert_cmpuint (g_bytes_get_size (orig) % DB_PAGE, ==, 0);
  n_pages = g_bytes_get_size (orig) / DB_PAGE;
  g_assert_cmpuint (n_pages, >=, 4);
  g_assert_false (memcmp (g_bytes_get_data (orig, NULL), "SQLite format 3", 15) == 0);

  /* The start of the file (SQLCipher's salt, then page 1). */
  flip_byte (db_path, orig, 0);
  assert_refused_unchanged (cv, EXIT_INVALID, "vault.db byte 0 flipped");
  flip_byte (db_path, orig, 100);
  assert_refused_unchanged (cv, EXIT_INVALID, "vault.db byte 100 flipped");

  /* Every later page in turn, in its middle. A page the command does not
   * read may go unnoticed; one it reads must fail cleanly with exit 4. */
  for (gsize page = 1; page < n_pages; page++)
    {
      g_autoptr (GHashTable) before = NULL;
      g_autoptr (GHashTable) after = NULL;
      g_autofree char *what
          = g_strdup_printf ("vault.db page %" G_GSIZE_FORMAT " flipped", page + 1);
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      int status;

      flip_byte (db_path, orig, page * DB_PAGE + DB_PAGE / 2);
      before = snapshot_dir (cv->dir);
      status = cv_run (cv, &out, &err, "export-csv", "org", "-", NULL);
      after = snapshot_dir (cv->dir);
      assert_snapshot_equal (before, after, what);
      if (status == EXIT_OK)
        continue;
      n_refused++;
      if (status != EXIT_INVALID)
        g_string_append_printf (problems, "%s%s: exit %d, expected 4 (stderr: %s)",
                                problems->len ? "; " : "", what, status,
                                g_strdelimit (g_strstrip (err), "\r\n", ' '));
      else if (strstr (err, "supolka-cli: ") == NULL)
        g_string_append_printf (problems, "%s%s: exit 4 without a message",
                                problems->len ? "; " : "", what);
    }
  g_assert_cmpuint (n_refused, >, 0);
  /* Not fatal, so that the rest of the test (and the others) still run. */
  if (problems->len > 0)
    g_test_fail_printf ("a damaged vault.db gave the wrong exit status: %s", problems->str);

  /* The untouched file still opens, with both records. */
  write_file (db_path, g_bytes_get_data (orig, NULL), g_bytes_get_size (orig));
  g_assert_cmpuint (cv_count (cv, "org"), ==, 1);
  g_assert_cmpuint (cv_count (cv, "person"), ==, 1);

  /* vault.db missing next to its key: damaged (4), not a crash */
  g_assert_cmpint (g_unlink (db_path), ==, 0);
  assert_refused_unchanged (cv, EXIT_INVALID, "vault.db missing");
  write_file (db_path, g_bytes_get_data (orig, NULL), g_bytes_get_size (orig));

  /* vault.key missing: there is no vault (3) */
  {
    g_autoptr (GBytes) key = read_file (key_path);
    g_assert_cmpint (g_unlink (key_path), ==, 0);
    assert_refused_unchanged (cv, EXIT_NOT_FOUND, "vault.key missing");
    write_file (key_path, g_bytes_get_data (key, NULL), g_bytes_get_size (key));
  }
  g_assert_cmpuint (cv_count (cv, "org"), ==, 1);

  /* no vault at all */
  {
    g_autofree char *missing = g_build_filename (cv->tmp, "no-such-vault", NULL);
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    g_assert_cmpint (run_cli (PASS_LINE, &out, &err, "--vault", missing, "--passphrase-fd", "0",
                              "list", "org", NULL),
                     ==, EXIT_NOT_FOUND);
    g_assert_cmpstr (out, ==, "");
    g_assert_nonnull (strstr (err, missing));
    g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (run_cli (PASS_LINE, NULL, &err, "--vault", missing, "--passphrase-fd", "0",
                              "show", org, NULL),
                     ==, EXIT_NOT_FOUND);
    g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  }
  ids = expect_ids (person, NULL);
  {
    g_autoptr (JsonNode) list = cv_json (cv, "list", "person", NULL);
    g_autofree char *got = json_ids (list);
    g_assert_cmpstr (got, ==, ids);
  }
}

/* ---- 4. No plaintext in the vault -------------------------------------------------- */

static void
assert_not_in_vault (const char *dir, const char *needle)
{
  g_autofree char *folded = sp_fold (needle);

  if (sp_test_tree_contains (dir, needle, strlen (needle)))
    g_error ("\"%s\" is stored in plaintext under %s", needle, dir);
  /* the search skeleton of it, too */
  if (folded && strlen (folded) >= 6 && sp_test_tree_contains (dir, folded, strlen (folded)))
    g_error ("the folded form \"%s\" of \"%s\" is stored in plaintext", folded, needle);
}

static void
test_no_plaintext (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autoptr (GDir) d = NULL;
  g_autofree char *org = NULL;
  g_autofree char *person = NULL;
  g_autofree char *out = NULL;
  g_autofree char *export_path = NULL;
  GStatBuf st;
  const char *name;
  static const char *const markers[] = {
    "Zubrowka-Marker-7741",
    "Шыманскі-Маркер",
    "zubrowka.marker7741@example.org",
    "+375 29 774-11-99",
    "alieh.marker9931@example.net",
    "+375 33 993-19-31",
    "Маладзечна-Маркер-5150",
    "Second-Marker-Notes-6262",
    "Secure-Signal-Marker-8080",
  };

  if (!require_cli ())
    return;
  cv = cli_vault_new ();
  org = cv_add (cv, "org", "--name", "Zubrowka-Marker-7741 Фонд", "--email",
                "zubrowka.marker7741@example.org", "--phone", "+375 29 774-11-99", "--notes",
                "Шыманскі-Маркер ведае", "--region", "minsk_region", NULL);
  person = cv_add (cv, "person", "--full_name", "Шыманскі-Маркер Алег", "--email",
                   "alieh.marker9931@example.net", "--phone", "+375 33 993-19-31", "--locality",
                   "Маладзечна-Маркер-5150", "--secure_contact", "Secure-Signal-Marker-8080", NULL);
  g_assert_cmpint (
      cv_run (cv, NULL, NULL, "edit", org, "--notes", "Second-Marker-Notes-6262", NULL), ==,
      EXIT_OK);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "delete", person, NULL), ==, EXIT_OK);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "list", "org", NULL), ==, EXIT_OK);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "list", "person", "--deleted", NULL), ==, EXIT_OK);
  g_assert_cmpint (cv_run (cv, &out, NULL, "search", "zubrowka", NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (out, org)); /* the markers really are stored */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "stats", NULL), ==, EXIT_OK);
  g_assert_cmpint (cv_run (cv, &out, NULL, "show", person, NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (out, "Шыманскі-Маркер Алег"));
  g_assert_nonnull (strstr (out, "Secure-Signal-Marker-8080"));
  g_clear_pointer (&out, g_free);
  /* an export goes where it is told, outside the vault */
  export_path = g_build_filename (cv->tmp, "export.csv", NULL);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "export-csv", "org", export_path, NULL), ==, EXIT_OK);
  g_assert_true (sp_test_tree_contains (cv->tmp, "Second-Marker-Notes-6262",
                                        strlen ("Second-Marker-Notes-6262")));
  g_assert_cmpint (g_unlink (export_path), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (markers); i++)
    assert_not_in_vault (cv->dir, markers[i]);
  assert_not_in_vault (cv->dir, PASS);
  assert_not_in_vault (cv->dir, org); /* ids are stored encrypted too */
  assert_not_in_vault (cv->dir, person);
  g_assert_false (sp_test_tree_contains (cv->dir, "SQLite format 3", 15));
  g_assert_false (sp_test_tree_contains (cv->dir, "CREATE TABLE", 12));

  /* only the vault's own files, private to the user */
  g_assert_cmpint (g_stat (cv->dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  d = g_dir_open (cv->dir, 0, NULL);
  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (cv->dir, name, NULL);

      if (!g_str_equal (name, "vault.key") && !g_str_equal (name, "vault.db")
          && !g_str_equal (name, "vault.db-wal") && !g_str_equal (name, "vault.db-shm"))
        g_error ("unexpected file in the vault: %s", name);
      g_assert_cmpint (g_lstat (path, &st), ==, 0);
      g_assert_true (S_ISREG (st.st_mode));
      if ((st.st_mode & 0777) != 0600)
        g_error ("%s has mode %03o, expected 600", name, (unsigned)(st.st_mode & 0777));
    }
}

/* ---- 5. Validation ------------------------------------------------------------------ */

typedef struct
{
  const char *what;
  const char *args[12]; /* after "add"/"edit", NULL-terminated; "@ORG" is the org's id */
  const char *needles[3];
} ValidationCase;

static void
test_validation (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autofree char *org = NULL;
  g_autoptr (JsonNode) before = NULL;
  g_autoptr (JsonNode) after = NULL;
  g_autofree char *canon_before = NULL;
  g_autofree char *canon_after = NULL;
  static const ValidationCase cases[] = {
    { "bad region",
      { "add", "org", "--name", "X", "--region", "atlantis", NULL },
      { "region", "atlantis" } },
    { "bad email",
      { "add", "person", "--full_name", "X", "--email", "alieh-at-example.org", NULL },
      { "email", "alieh-at-example.org" } },
    { "bad date",
      { "add", "org", "--name", "X", "--member_since", "2024-13-45", NULL },
      { "member_since", "2024-13-45" } },
    { "not a date",
      { "add", "event", "--title", "X", "--start_date", "учора", NULL },
      { "start_date", "учора" } },
    { "end before start",
      { "add", "event", "--title", "Форум", "--start_date", "2024-05-10", "--end_date",
        "2024-05-01", NULL },
      { "end_date", "2024-05-01", "2024-05-10" } },
    { "unknown field", { "add", "org", "--name", "X", "--colour", "green", NULL }, { "colour" } },
    { "unknown kind", { "add", "planet", "--name", "X", NULL }, { "planet" } },
    { "missing required field", { "add", "org", "--region", "brest", NULL }, { "name" } },
    { "bad status",
      { "add", "org", "--name", "X", "--status", "cosmic", NULL },
      { "status", "cosmic" } },
    { "negative number",
      { "add", "event", "--title", "X", "--declared_participants", "-5", NULL },
      { "declared_participants", "-5" } },
    { "not a web address",
      { "add", "org", "--name", "X", "--website", "ftp://example.org", NULL },
      { "website", "ftp://example.org" } },
    { "affiliation to a person that does not exist",
      { "add", "affiliation", "--person", "0123456789abcdef0123456789abcdef", "--org", "@ORG",
        NULL },
      { "person", "0123456789abcdef0123456789abcdef" } },
    { "affiliation to an org given as a person",
      { "add", "affiliation", "--person", "@ORG", "--org", "@ORG", NULL },
      { "person" } },
    { "edit: bad region",
      { "edit", "@ORG", "--region", "atlantis", NULL },
      { "region", "atlantis" } },
    { "edit: clearing a required field", { "edit", "@ORG", "--name", "", NULL }, { "name" } },
    { "edit: bad phone", { "edit", "@ORG", "--phone", "call me", NULL }, { "phone", "call me" } },
  };

  if (!require_cli ())
    return;
  cv = cli_vault_new ();
  org = cv_add (cv, "org", "--name", "Гродзенская суполка", "--region", "grodno", NULL);
  before = cv_json (cv, "list", "org", NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const ValidationCase *c = &cases[i];
      g_autoptr (GPtrArray) args = g_ptr_array_new ();
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      int status;

      g_test_message ("case: %s", c->what);
      g_ptr_array_add (args, "--vault");
      g_ptr_array_add (args, cv->dir);
      g_ptr_array_add (args, "--passphrase-fd");
      g_ptr_array_add (args, "0");
      for (guint a = 0; c->args[a]; a++)
        g_ptr_array_add (args, g_str_equal (c->args[a], "@ORG") ? org : (char *)c->args[a]);
      status = run_argv (PASS_LINE, NULL, &out, &err, args);
      if (status != EXIT_INVALID)
        g_error ("%s: exit %d, expected 4 (stderr: %s)", c->what, status, err);
      g_assert_cmpstr (out, ==, "");
      for (guint n = 0; n < G_N_ELEMENTS (c->needles) && c->needles[n]; n++)
        if (strstr (err, c->needles[n]) == NULL)
          g_error ("%s: stderr does not name \"%s\": %s", c->what, c->needles[n], err);
    }

  /* nothing was written */
  after = cv_json (cv, "list", "org", NULL);
  canon_before = canonical_list (before);
  canon_after = canonical_list (after);
  g_assert_cmpstr (canon_after, ==, canon_before);
  g_assert_cmpuint (cv_count (cv, "person"), ==, 0);
  g_assert_cmpuint (cv_count (cv, "event"), ==, 0);
  g_assert_cmpuint (cv_count (cv, "affiliation"), ==, 0);
}

/* ---- 6. list filters and search ---------------------------------------------------- */

static void assert_list (CliVault *cv, const char *expected, ...) G_GNUC_NULL_TERMINATED;

/* Runs --json list/search with the given arguments and compares the ids. */
static void
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

static void
test_list_filters (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autoptr (JsonNode) list = NULL;
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *gone = NULL, *person = NULL;
  g_autofree char *ab = NULL, *bc = NULL, *ac = NULL, *all = NULL, *all_deleted = NULL;
  g_autofree char *out = NULL;
  g_auto (GStrv) lines = NULL;

  if (!require_cli ())
    return;
  cv = cli_vault_new ();
  a = cv_add (cv, "org", "--name", "Мінская ініцыятыва", "--region", "minsk_city", "--status",
              "member", "--kind", "initiative", "--themes", "ecology, youth", NULL);
  b = cv_add (cv, "org", "--name", "Брэсцкі экацэнтр", "--region", "brest", "--status", "member",
              "--kind", "registered_ngo", "--themes", "Ecology", NULL);
  c = cv_add (cv, "org", "--name", "Brest Youth Club", "--region", "brest", "--status", "candidate",
              "--kind", "initiative", "--themes", "youth, sport, eco-tourism", NULL);
  d = cv_add (cv, "org", "--name", "Гомельскі фонд", "--region", "gomel", "--status", "partner",
              "--kind", "foundation", "--themes", "culture", NULL);
  gone = cv_add (cv, "org", "--name", "Closed Brest Minsk Ecology", "--region", "brest", "--status",
                 "member", "--kind", "initiative", "--themes", "ecology", NULL);
  person = cv_add (cv, "person", "--full_name", "Шыманскі Алег", "--region", "brest", NULL);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "delete", gone, NULL), ==, EXIT_OK);

  ab = expect_ids (a, b, NULL);
  bc = expect_ids (b, c, NULL);
  ac = expect_ids (a, c, NULL);
  all = expect_ids (a, b, c, d, NULL);
  all_deleted = expect_ids (a, b, c, d, gone, NULL);

  assert_list (cv, all, "list", "org", NULL);
  assert_list (cv, all_deleted, "list", "org", "--deleted", NULL);
  assert_list (cv, bc, "list", "org", "--region", "brest", NULL);
  assert_list (cv, d, "list", "org", "--region", "gomel", NULL);
  assert_list (cv, "", "list", "org", "--region", "mogilev", NULL);
  assert_list (cv, ab, "list", "org", "--status", "member", NULL);
  assert_list (cv, ab, "list", "org", "--tag", "ecology", NULL);
  assert_list (cv, "", "list", "org", "--tag", "eco", NULL); /* a tag, not a prefix */
  assert_list (cv, ac, "list", "org", "--kind", "initiative", NULL);
  assert_list (cv, b, "list", "org", "--region", "brest", "--status", "member", NULL);
  assert_list (cv, c, "list", "org", "--tag", "youth", "--region", "brest", NULL);
  assert_list (cv, a, "list", "org", "--search", "minsk", NULL);
  assert_list (cv, person, "list", "person", "--region", "brest", NULL);

  /* --json list count, and the order by title */
  list = cv_json (cv, "list", "org", NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 4);
  g_assert_cmpstr (json_object_get_string_member (
                       json_array_get_object_element (json_node_get_array (list), 0), "title"),
                   ==, "Brest Youth Club");
  g_clear_pointer (&list, json_node_unref);
  list = cv_json (cv, "list", "org", "--limit", "2", NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 2);

  /* the text listing: one line per record, id first */
  g_assert_cmpint (cv_run (cv, &out, NULL, "list", "org", "--region", "brest", NULL), ==, EXIT_OK);
  lines = g_strsplit (g_strchomp (out), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 2);
  g_assert_true (g_str_has_prefix (lines[0], c));
  g_assert_nonnull (strstr (lines[0], "Brest Youth Club"));
  g_assert_true (g_str_has_prefix (lines[1], b));
  g_assert_nonnull (strstr (lines[1], "Брэсцкі экацэнтр"));

  /* search: Cyrillic, Latin and capitals find the same */
  assert_list (cv, a, "search", "минск", NULL);
  assert_list (cv, a, "search", "minsk", NULL);
  assert_list (cv, a, "search", "МІНСК", NULL);
  assert_list (cv, a, "search", "мінская ініц", NULL);
  assert_list (cv, person, "search", "shymanski", NULL);
  assert_list (cv, person, "search", "Шыманскі", NULL);
  assert_list (cv, person, "search", "shymanski", "--kind", "person", NULL);
  assert_list (cv, "", "search", "shymanski", "--kind", "org", NULL);
  assert_list (cv, "", "search", "closed", NULL); /* deleted: not findable */
  assert_list (cv, "", "search", "nothing-like-this", NULL);
}

/* ---- 7. CSV import and export ---------------------------------------------------- */

static char *
write_temp (CliVault *cv, const char *name, const void *data, gsize len)
{
  char *path = g_build_filename (cv->tmp, name, NULL);

  write_file (path, data, len);
  return path;
}

static JsonObject *
find_by_title (JsonNode *list, const char *title)
{
  JsonArray *arr = json_node_get_array (list);

  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      if (g_strcmp0 (json_object_get_string_member (o, "title"), title) == 0)
        return o;
    }
  g_error ("no record titled \"%s\"", title);
  return NULL;
}

static void
test_csv (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autoptr (CliVault) fresh = NULL;
  g_autoptr (JsonNode) list = NULL;
  g_autoptr (JsonNode) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *cp1251 = NULL;
  g_autofree char *export_path = NULL;
  g_autofree char *canon_a = NULL;
  g_autofree char *canon_b = NULL;
  g_autofree char *deleted = NULL;
  JsonObject *o;
  gsize cp_len = 0;
  guint count;
  GStatBuf st;
  static const char bom_csv[] = "\xEF\xBB\xBF"
                                "name,region,status,themes\r\n"
                                "Мінская ініцыятыва,minsk_city,member,\"youth, ecology\"\r\n"
                                "Брэсцкі экацэнтр,brest,candidate,ecology\r\n";
  static const char win_csv[] = "name;region;locality;notes\r\n"
                                "Гродзенская суполка;grodno;Ліда;Нататка ў кірыліцы, з коскай\r\n"
                                "Магілёўскі клуб;mogilev;Бабруйск;\r\n";
  static const char quoted_csv[] = "name,notes,themes,region\n"
                                   "\"Суполка \"\"Рунь\"\", Віцебск\",\"Радок 1\n"
                                   "Радок 2, з коскай і \"\"двукоссем\"\"\",\"a, b\",vitebsk\n"
                                   "Простая,,,\n";
  /* 4 data rows; the 2nd (line 4) and the 4th (line 6) are bad. The first
   * row spans lines 2-3. */
  static const char bad_csv[] = "name,region,email,notes\n"
                                "Good One,brest,,\"Нататка\nу два радкі\"\n"
                                "Bad Region,atlantis,,\n"
                                "Good Two,gomel,good@example.org,\n"
                                "Bad Email,vitebsk,not-an-email,\n";
  static const char good_csv[] = "name,region\n"
                                 "Dry Run One,brest\n"
                                 "Dry Run Two,gomel\n";

  if (!require_cli ())
    return;
  cv = cli_vault_new ();

  /* UTF-8 with a BOM, commas */
  path = write_temp (cv, "bom.csv", bom_csv, strlen (bom_csv));
  g_assert_cmpint (cv_run (cv, &out, NULL, "import-csv", "org", path, NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (out, "Imported 2 rows"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&path, g_free);
  list = cv_json (cv, "list", "org", NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 2);
  o = find_by_title (list, "Мінская ініцыятыва");
  g_assert_cmpstr (rec_field (o, "region"), ==, "minsk_city");
  g_assert_cmpstr (rec_field (o, "status"), ==, "member");
  g_assert_cmpstr (rec_field (o, "themes"), ==, "ecology, youth");
  o = find_by_title (list, "Брэсцкі экацэнтр");
  g_assert_cmpstr (rec_field (o, "status"), ==, "candidate");
  g_clear_pointer (&list, json_node_unref);

  /* Windows-1251, semicolons */
  cp1251 = g_convert (win_csv, -1, "WINDOWS-1251", "UTF-8", NULL, &cp_len, &error);
  g_assert_no_error (error);
  g_assert_false (g_utf8_validate (cp1251, (gssize)cp_len, NULL));
  path = write_temp (cv, "cp1251.csv", cp1251, cp_len);
  g_assert_cmpint (cv_run (cv, &out, NULL, "--json", "import-csv", "org", path, NULL), ==, EXIT_OK);
  report = parse_json (out);
  o = json_node_get_object (report);
  g_assert_true (json_object_get_boolean_member (o, "ok"));
  g_assert_cmpstr (json_object_get_string_member (o, "encoding"), ==, "WINDOWS-1251");
  g_assert_cmpint (json_object_get_int_member (o, "rows"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (o, "imported"), ==, 2);
  g_clear_pointer (&report, json_node_unref);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&path, g_free);
  list = cv_json (cv, "list", "org", NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 4);
  o = find_by_title (list, "Гродзенская суполка");
  g_assert_cmpstr (rec_field (o, "region"), ==, "grodno");
  g_assert_cmpstr (rec_field (o, "locality"), ==, "Ліда");
  g_assert_cmpstr (rec_field (o, "notes"), ==, "Нататка ў кірыліцы, з коскай");
  o = find_by_title (list, "Магілёўскі клуб");
  g_assert_cmpstr (rec_field (o, "locality"), ==, "Бабруйск");
  g_assert_null (rec_field (o, "notes"));
  g_clear_pointer (&list, json_node_unref);

  /* quoting: commas, doubled quotes, a newline inside a value */
  path = write_temp (cv, "quoted.csv", quoted_csv, strlen (quoted_csv));
  g_assert_cmpint (cv_run (cv, NULL, NULL, "import-csv", "org", path, NULL), ==, EXIT_OK);
  g_clear_pointer (&path, g_free);
  list = cv_json (cv, "list", "org", NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 6);
  o = find_by_title (list, "Суполка \"Рунь\", Віцебск");
  g_assert_cmpstr (rec_field (o, "notes"), ==, "Радок 1\nРадок 2, з коскай і \"двукоссем\"");
  g_assert_cmpstr (rec_field (o, "themes"), ==, "a, b");
  g_assert_cmpstr (rec_field (o, "region"), ==, "vitebsk");
  o = find_by_title (list, "Простая");
  g_assert_null (rec_field (o, "notes"));
  g_assert_null (rec_field (o, "region"));
  g_clear_pointer (&list, json_node_unref);
  count = cv_count (cv, "org");
  g_assert_cmpuint (count, ==, 6);

  /* two bad rows out of four: nothing imported, both lines named */
  path = write_temp (cv, "bad.csv", bad_csv, strlen (bad_csv));
  g_assert_cmpint (cv_run (cv, &out, &err, "import-csv", "org", path, NULL), ==, EXIT_INVALID);
  g_assert_nonnull (strstr (err, "line 4:"));
  g_assert_nonnull (strstr (err, "atlantis"));
  g_assert_nonnull (strstr (err, "line 6:"));
  g_assert_nonnull (strstr (err, "not-an-email"));
  g_assert_null (strstr (err, "line 2:"));
  g_assert_null (strstr (err, "line 3:"));
  g_assert_null (strstr (err, "line 5:"));
  g_assert_null (strstr (out, "Imported"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpuint (cv_count (cv, "org"), ==, count);
  /* the same file on a dry run fails the same way */
  g_assert_cmpint (cv_run (cv, NULL, &err, "import-csv", "org", path, "--dry-run", NULL), ==,
                   EXIT_INVALID);
  g_assert_nonnull (strstr (err, "line 4:"));
  g_assert_nonnull (strstr (err, "line 6:"));
  g_clear_pointer (&err, g_free);
  /* and --json lists both, with field and value */
  g_assert_cmpint (cv_run (cv, &out, NULL, "--json", "import-csv", "org", path, NULL), ==,
                   EXIT_INVALID);
  report = parse_json (out);
  o = json_node_get_object (report);
  g_assert_false (json_object_get_boolean_member (o, "ok"));
  g_assert_cmpint (json_object_get_int_member (o, "rows"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (o, "imported"), ==, 0);
  {
    JsonArray *errors = json_object_get_array_member (o, "errors");
    JsonObject *e0, *e1;

    g_assert_cmpuint (json_array_get_length (errors), ==, 2);
    e0 = json_array_get_object_element (errors, 0);
    e1 = json_array_get_object_element (errors, 1);
    g_assert_cmpint (json_object_get_int_member (e0, "line"), ==, 4);
    g_assert_cmpstr (json_object_get_string_member (e0, "field"), ==, "region");
    g_assert_cmpstr (json_object_get_string_member (e0, "value"), ==, "atlantis");
    g_assert_cmpint (json_object_get_int_member (e1, "line"), ==, 6);
    g_assert_cmpstr (json_object_get_string_member (e1, "field"), ==, "email");
    g_assert_cmpstr (json_object_get_string_member (e1, "value"), ==, "not-an-email");
  }
  g_clear_pointer (&report, json_node_unref);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&path, g_free);
  g_assert_cmpuint (cv_count (cv, "org"), ==, count);

  /* --dry-run of a good file: success, nothing written */
  path = write_temp (cv, "good.csv", good_csv, strlen (good_csv));
  g_assert_cmpint (cv_run (cv, &out, NULL, "import-csv", "org", path, "--dry-run", NULL), ==,
                   EXIT_OK);
  g_assert_nonnull (strstr (out, "2 rows would be imported"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpuint (cv_count (cv, "org"), ==, count);
  assert_list (cv, "", "search", "dry run", NULL);
  g_clear_pointer (&path, g_free);

  /* a missing file, an unknown kind */
  path = g_build_filename (cv->tmp, "no-such.csv", NULL);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "import-csv", "org", path, NULL), ==, EXIT_NOT_FOUND);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "import-csv", "planet", path, NULL), ==, EXIT_INVALID);
  g_clear_pointer (&path, g_free);

  /* export, then import into a fresh vault: the same records, same ids */
  deleted = cv_add (cv, "org", "--name", "Deleted Before Export", NULL);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "delete", deleted, NULL), ==, EXIT_OK);
  export_path = g_build_filename (cv->tmp, "export.csv", NULL);
  g_assert_cmpint (cv_run (cv, NULL, &err, "export-csv", "org", export_path, NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (err, "not encrypted"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (g_stat (export_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  {
    g_autoptr (GBytes) csv = read_file (export_path);
    g_assert_cmpmem (g_bytes_get_data (csv, NULL), 3, "\xEF\xBB\xBF", 3);
    g_assert_null (g_strstr_len (g_bytes_get_data (csv, NULL), (gssize)g_bytes_get_size (csv),
                                 "Deleted Before Export"));
  }

  fresh = cli_vault_new ();
  g_assert_cmpint (cv_run (fresh, &out, NULL, "import-csv", "org", export_path, NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (out, "Imported 6 rows"));
  g_clear_pointer (&out, g_free);
  {
    g_autoptr (JsonNode) la = cv_json (cv, "list", "org", NULL);
    g_autoptr (JsonNode) lb = cv_json (fresh, "list", "org", NULL);
    canon_a = canonical_list (la);
    canon_b = canonical_list (lb);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (lb)), ==, 6);
    g_assert_cmpstr (canon_b, ==, canon_a);
  }
  /* importing the same file again updates in place: nothing new */
  g_assert_cmpint (cv_run (fresh, NULL, NULL, "import-csv", "org", export_path, NULL), ==, EXIT_OK);
  g_assert_cmpuint (cv_count (fresh, "org"), ==, 6);
}

/* ---- 8. Statistics -------------------------------------------------------------------- */

static void
test_stats (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autoptr (JsonNode) stats = NULL;
  g_autoptr (JsonNode) expected = NULL;
  g_autofree char *org_a = NULL, *org_b = NULL, *org_c = NULL, *org_gone = NULL;
  g_autofree char *p1 = NULL, *p2 = NULL, *proj = NULL;
  g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL, *e_gone = NULL;
  g_autofree char *part_gone = NULL, *tmp = NULL;
  g_autofree char *got_text = NULL;
  g_autofree char *want_text = NULL;
  static const char want[] = "{"
                             "\"orgs_by_region\": {\"brest\": 2, \"gomel\": 1},"
                             "\"orgs_by_status\": {\"candidate\": 1, \"member\": 2},"
                             "\"orgs_by_kind\": {\"initiative\": 1, \"registered_ngo\": 1,"
                             "                   \"unset\": 1},"
                             "\"projects_by_status\": {\"active\": 1},"
                             "\"events_by_kind_year\": {"
                             "  \"forum/2023\": {\"events\": 1, \"declared_participants\": 100,"
                             "                  \"participation_records\": 1},"
                             "  \"forum/2024\": {\"events\": 1, \"declared_participants\": 0,"
                             "                  \"participation_records\": 0},"
                             "  \"training/2024\": {\"events\": 2, \"declared_participants\": 35,"
                             "                     \"participation_records\": 3}"
                             "}}";

  if (!require_cli ())
    return;
  cv = cli_vault_new ();

  /* An empty vault has no figures. */
  stats = cv_json (cv, "stats", NULL);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (stats));
  g_assert_cmpuint (json_object_get_size (json_node_get_object (stats)), ==, 0);
  g_clear_pointer (&stats, json_node_unref);

  org_a = cv_add (cv, "org", "--name", "A", "--region", "brest", "--status", "member", "--kind",
                  "initiative", NULL);
  org_b = cv_add (cv, "org", "--name", "B", "--region", "brest", "--status", "candidate", "--kind",
                  "registered_ngo", NULL);
  org_c = cv_add (cv, "org", "--name", "C", "--region", "gomel", "--status", "member", NULL);
  org_gone = cv_add (cv, "org", "--name", "Gone", "--region", "gomel", "--status", "member",
                     "--kind", "initiative", NULL);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "delete", org_gone, NULL), ==, EXIT_OK);

  proj = cv_add (cv, "project", "--title", "Праект", "--status", "active", NULL);
  p1 = cv_add (cv, "person", "--full_name", "Першы", NULL);
  p2 = cv_add (cv, "person", "--full_name", "Другі", NULL);

  e1 = cv_add (cv, "event", "--title", "Трэнінг 1", "--kind", "training", "--start_date",
               "2024-03-01", "--declared_participants", "20", NULL);
  e2 = cv_add (cv, "event", "--title", "Трэнінг 2", "--kind", "training", "--start_date", "2024-11",
               "--declared_participants", "10", NULL);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "edit", e2, "--declared_participants", "15", NULL), ==,
                   EXIT_OK);
  e3 = cv_add (cv, "event", "--title", "Форум 2023", "--kind", "forum", "--start_date", "2023",
               "--end_date", "2023-06-02", "--declared_participants", "100", NULL);
  e4 = cv_add (cv, "event", "--title", "Форум 2024", "--kind", "forum", "--start_date",
               "17.05.2024", NULL);
  e_gone = cv_add (cv, "event", "--title", "Cancelled", "--kind", "training", "--start_date",
                   "2024-01-01", "--declared_participants", "1000", NULL);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "delete", e_gone, NULL), ==, EXIT_OK);

  /* participation: two people and an org at events, one at the project, one
   * deleted */
  tmp = cv_add (cv, "participation", "--person", p1, "--event", e1, "--role", "participant", NULL);
  g_clear_pointer (&tmp, g_free);
  tmp = cv_add (cv, "participation", "--person", p2, "--event", e1, "--role", "speaker", NULL);
  g_clear_pointer (&tmp, g_free);
  tmp = cv_add (cv, "participation", "--org", org_a, "--event", e2, NULL);
  g_clear_pointer (&tmp, g_free);
  tmp = cv_add (cv, "participation", "--org", org_b, "--event", e3, NULL);
  g_clear_pointer (&tmp, g_free);
  tmp = cv_add (cv, "participation", "--person", p1, "--project", proj, NULL);
  g_clear_pointer (&tmp, g_free);
  part_gone = cv_add (cv, "participation", "--person", p2, "--event", e2, NULL);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "delete", part_gone, NULL), ==, EXIT_OK);

  stats = cv_json (cv, "stats", NULL);
  expected = parse_json (want);
  got_text = json_to_string (stats, TRUE);
  want_text = json_to_string (expected, TRUE);
  g_test_message ("stats: %s", got_text);
  if (!json_node_equal (stats, expected))
    g_assert_cmpstr (got_text, ==, want_text);
  {
    JsonObject *events
        = json_object_get_object_member (json_node_get_object (stats), "events_by_kind_year");
    JsonObject *training = json_object_get_object_member (events, "training/2024");
    g_assert_cmpint (json_object_get_int_member (training, "events"), ==, 2);
    g_assert_cmpint (json_object_get_int_member (training, "declared_participants"), ==, 35);
    g_assert_cmpint (json_object_get_int_member (training, "participation_records"), ==, 3);
    g_assert_cmpuint (json_object_get_size (events), ==, 3);
  }

  /* the text form names the groups and the figures */
  {
    g_autofree char *out = NULL;
    g_assert_cmpint (cv_run (cv, &out, NULL, "stats", NULL), ==, EXIT_OK);
    g_assert_nonnull (strstr (out, "Organisations by region"));
    g_assert_nonnull (strstr (out, "training/2024"));
    g_assert_nonnull (strstr (out, "35 declared participants"));
    g_assert_nonnull (strstr (out, "(not set)"));
  }
}

/* ---- 9. passwd --------------------------------------------------------------------------- */

static int
run_fd3 (CliVault *cv, const char *fd3_text, char **out, char **err, const char *const *cmd)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();

  g_ptr_array_add (args, "--vault");
  g_ptr_array_add (args, cv->dir);
  g_ptr_array_add (args, "--passphrase-fd");
  g_ptr_array_add (args, "3");
  for (guint i = 0; cmd[i]; i++)
    g_ptr_array_add (args, (char *)cmd[i]);
  return run_argv (NULL, fd3_text, out, err, args);
}

static void
test_passwd (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autoptr (JsonNode) before = NULL;
  g_autoptr (JsonNode) after = NULL;
  g_autoptr (GBytes) db_before = NULL;
  g_autoptr (GBytes) db_after = NULL;
  g_autoptr (GBytes) key_before = NULL;
  g_autoptr (GBytes) key_after = NULL;
  g_autofree char *org = NULL;
  g_autofree char *db_path = NULL;
  g_autofree char *key_path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *canon_before = NULL;
  g_autofree char *canon_after = NULL;
  static const char *const passwd_cmd[] = { "passwd", "--kdf", "interactive", NULL };
  static const char *const list_cmd[] = { "--json", "list", "org", NULL };
  static const char new_pass[] = "новы пароль, даволі доўгі";

  if (!require_cli ())
    return;
  cv = cli_vault_new ();
  org = cv_add (cv, "org", "--name", "Суполка да змены пароля", "--region", "mogilev", "--notes",
                "Нататка", NULL);
  before = cv_json (cv, "list", "org", NULL);
  db_path = g_build_filename (cv->dir, "vault.db", NULL);
  key_path = g_build_filename (cv->dir, "vault.key", NULL);
  assert_no_sqlite_side_files (cv->dir);
  db_before = read_file (db_path);
  key_before = read_file (key_path);

  /* a wrong current passphrase: refused, nothing changes */
  g_assert_cmpint (run_fd3 (cv, "wrong horse battery\nwhatever new one\n", &out, &err, passwd_cmd),
                   ==, EXIT_LOCKED);
  g_assert_cmpstr (out, ==, "");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* a new passphrase that is too short: refused, nothing changes */
  g_assert_cmpint (run_fd3 (cv, PASS_LINE "short\n", NULL, &err, passwd_cmd), ==, EXIT_INVALID);
  g_assert_nonnull (strstr (err, "8"));
  g_clear_pointer (&err, g_free);
  /* no new passphrase at all */
  g_assert_cmpint (run_fd3 (cv, PASS_LINE, NULL, NULL, passwd_cmd), !=, EXIT_OK);
  key_after = read_file (key_path);
  g_assert_true (g_bytes_equal (key_before, key_after));
  g_clear_pointer (&key_after, g_bytes_unref);

  /* current, then new: two lines on fd 3 */
  {
    g_autofree char *input = g_strconcat (PASS_LINE, new_pass, "\n", NULL);
    g_assert_cmpint (run_fd3 (cv, input, &out, NULL, passwd_cmd), ==, EXIT_OK);
    g_assert_nonnull (strstr (out, "changed"));
    g_clear_pointer (&out, g_free);
  }
  key_after = read_file (key_path);
  g_assert_cmpuint (g_bytes_get_size (key_after), ==, KF_SIZE);
  g_assert_false (g_bytes_equal (key_before, key_after));
  /* only the key was rewrapped; the database is as it was */
  assert_no_sqlite_side_files (cv->dir);
  db_after = read_file (db_path);
  g_assert_true (g_bytes_equal (db_before, db_after));

  /* the old passphrase no longer opens it */
  g_assert_cmpint (cv_run (cv, &out, &err, "list", "org", NULL), ==, EXIT_LOCKED);
  g_assert_cmpstr (out, ==, "");
  g_assert_nonnull (strstr (err, "Wrong passphrase"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* the new one does, and the data is intact */
  {
    g_autofree char *input = g_strconcat (new_pass, "\n", NULL);
    g_assert_cmpint (run_fd3 (cv, input, &out, NULL, list_cmd), ==, EXIT_OK);
    after = parse_json (out);
    g_clear_pointer (&out, g_free);
    canon_before = canonical_list (before);
    canon_after = canonical_list (after);
    g_assert_cmpstr (canon_after, ==, canon_before);
    g_assert_nonnull (find_record (after, org));
    /* and it can write */
    g_assert_cmpint (cv_run_input (cv, input, NULL, NULL, "edit", org, "--status", "member", NULL),
                     ==, EXIT_OK);
    g_assert_cmpint (cv_run_input (cv, input, &out, NULL, "show", org, NULL), ==, EXIT_OK);
    g_assert_nonnull (strstr (out, "member"));
  }
}

/* ---- 10. Usage ---------------------------------------------------------------------------- */

static void
test_usage (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autoptr (CliVault) long_cv = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *long_line = NULL;
  g_autofree char *pass_1024 = NULL;
  g_autofree char *default_dir = NULL;

  if (!require_cli ())
    return;

  /* no arguments: the usage, and status 1 */
  g_assert_cmpint (run_cli (NULL, &out, &err, NULL, NULL), ==, EXIT_USAGE);
  g_assert_nonnull (strstr (out, "Usage:"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* --help, -h, --version: 0 */
  g_assert_cmpint (run_cli (NULL, &out, NULL, "--help", NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (out, "Usage:"));
  g_assert_nonnull (strstr (out, "import-csv"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (NULL, &out, NULL, "-h", NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (out, "Usage:"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (run_cli (NULL, &out, NULL, "--version", NULL), ==, EXIT_OK);
  g_assert_true (g_str_has_prefix (out, "supolka-cli "));
  g_clear_pointer (&out, g_free);

  /* unknown command */
  g_assert_cmpint (run_cli (NULL, &out, &err, "frobnicate", NULL), ==, EXIT_USAGE);
  g_assert_nonnull (strstr (err, "frobnicate"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* bad global options */
  g_assert_cmpint (run_cli (NULL, NULL, NULL, "--vault", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (run_cli (NULL, NULL, NULL, "--passphrase-fd", "three", "list", "org", NULL), ==,
                   EXIT_USAGE);

  /* the default vault folder is under $XDG_DATA_HOME (never the user's) */
  default_dir = g_build_filename (test_home, "data", "supolka", NULL);
  g_assert_cmpint (run_cli (PASS_LINE, NULL, &err, "--passphrase-fd", "0", "list", "org", NULL), ==,
                   EXIT_NOT_FOUND);
  g_assert_nonnull (strstr (err, default_dir));
  g_clear_pointer (&err, g_free);

  cv = cli_vault_new ();
  /* a dangling option */
  g_assert_cmpint (cv_run (cv, NULL, &err, "add", "org", "--name", NULL), ==, EXIT_USAGE);
  g_assert_nonnull (strstr (err, "--name"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "add", "org", "name", "X", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "add", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "edit", "0123456789abcdef0123456789abcdef", NULL), ==,
                   EXIT_USAGE);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "show", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "list", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "list", "org", "--region", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "list", "org", "--limit", "0", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "list", "org", "--colour", "red", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "stats", "extra", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "init", "--kdf", "extreme", NULL), ==, EXIT_USAGE);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "list", "planet", NULL), ==, EXIT_INVALID);
  g_assert_cmpuint (cv_count (cv, "org"), ==, 0);

  /* a passphrase line longer than 1024 bytes: refused, no crash */
  long_line = g_strnfill (5000, 'x');
  {
    g_autofree char *input = g_strconcat (long_line, "\n", NULL);
    g_assert_cmpint (cv_run_input (cv, input, &out, &err, "list", "org", NULL), ==, EXIT_INVALID);
    g_assert_cmpstr (out, ==, "");
    g_assert_nonnull (strstr (err, "1024"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  /* ... and for init, which then creates nothing */
  long_cv = cli_vault_new_empty ();
  {
    g_autofree char *input = g_strconcat (long_line, "\n", NULL);
    g_assert_cmpint (
        cv_run_input (long_cv, input, NULL, &err, "init", "--kdf", "interactive", NULL), !=,
        EXIT_OK);
    g_assert_cmpstr (err, !=, "");
    g_clear_pointer (&err, g_free);
    g_assert_false (sp_vault_exists (long_cv->dir));
  }
  /* a too-short new passphrase: nothing created either */
  g_assert_cmpint (
      cv_run_input (long_cv, "short\n", NULL, NULL, "init", "--kdf", "interactive", NULL), ==,
      EXIT_INVALID);
  g_assert_false (sp_vault_exists (long_cv->dir));
  /* exactly 1024 bytes is allowed; 1025 is not */
  pass_1024 = g_strnfill (1024, 'p');
  {
    g_autofree char *input = g_strconcat (pass_1024, "\n", NULL);
    g_autofree char *input_1025 = g_strconcat (pass_1024, "p\n", NULL);
    g_assert_cmpint (
        cv_run_input (long_cv, input, NULL, NULL, "init", "--kdf", "interactive", NULL), ==,
        EXIT_OK);
    g_assert_cmpint (cv_run_input (long_cv, input, NULL, NULL, "list", "org", NULL), ==, EXIT_OK);
    g_assert_cmpint (cv_run_input (long_cv, input_1025, NULL, NULL, "list", "org", NULL), ==,
                     EXIT_INVALID);
  }
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  test_home = sp_test_tmpdir ();

  g_test_add_func ("/cli/records/lifecycle", test_records_lifecycle);
  g_test_add_func ("/cli/passphrase/wrong", test_wrong_passphrase);
  g_test_add_func ("/cli/vault/no-plaintext", test_no_plaintext);
  g_test_add_func ("/cli/validation", test_validation);
  g_test_add_func ("/cli/list/filters", test_list_filters);
  g_test_add_func ("/cli/csv/import-export", test_csv);
  g_test_add_func ("/cli/stats", test_stats);
  g_test_add_func ("/cli/passwd", test_passwd);
  g_test_add_func ("/cli/usage", test_usage);
  /* Last: the damaged-file checks are the likeliest to fail, and a failure
   * ends a --tap run. */
  g_test_add_func ("/cli/tamper/keyfile", test_tamper_keyfile);
  g_test_add_func ("/cli/tamper/database", test_tamper_database);

  status = g_test_run ();

  /* Nothing may have been written under the children's home but what the
   * tests made there (the default vault folder was only looked at). */
  {
    g_autofree char *default_dir = g_build_filename (test_home, "data", "supolka", NULL);
    if (g_file_test (default_dir, G_FILE_TEST_EXISTS))
      {
        g_printerr ("supolka-cli created %s\n", default_dir);
        status = 1;
      }
  }
  sp_test_rmtree (test_home);
  g_free (test_home);
  return status;
}
