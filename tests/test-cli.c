/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cli.c — supolka-cli end to end: the real binary ($SUPOLKA_CLI) on real
 * vaults in temporary folders, the passphrase always on a pipe: records, a
 * wrong passphrase, validation, list filters, passwd, usage. Tampered files and
 * plaintext are in test-cli-vault.c, CSV and statistics in test-cli-csv.c.
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
#include "cli-test-util.h"
#include "sec-cli-run.h"
#include "test-util.h"

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

  if (!sec_require_cli ())
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

  if (!sec_require_cli ())
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

  if (!sec_require_cli ())
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

static void
test_list_filters (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autoptr (JsonNode) list = NULL;
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *gone = NULL, *person = NULL;
  g_autofree char *ab = NULL, *bc = NULL, *ac = NULL, *all = NULL, *all_deleted = NULL;
  g_autofree char *out = NULL;
  g_auto (GStrv) lines = NULL;

  if (!sec_require_cli ())
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

  if (!sec_require_cli ())
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

/* Without a vault: the usage, options, the default vault folder. */
static void
usage_global (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *default_dir = NULL;

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
  default_dir = g_build_filename (cli_home (), "data", "supolka", NULL);
  g_assert_cmpint (run_cli (PASS_LINE, NULL, &err, "--passphrase-fd", "0", "list", "org", NULL), ==,
                   EXIT_NOT_FOUND);
  g_assert_nonnull (strstr (err, default_dir));
  g_clear_pointer (&err, g_free);
}

/* With a vault: bad arguments of each command, passphrase lines too long. */
static void
usage_commands (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autoptr (CliVault) long_cv = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *long_line = NULL;
  g_autofree char *pass_1024 = NULL;

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

static void
test_usage (void)
{
  if (!sec_require_cli ())
    return;
  usage_global ();
  usage_commands ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  cli_test_init ();

  g_test_add_func ("/cli/records/lifecycle", test_records_lifecycle);
  g_test_add_func ("/cli/passphrase/wrong", test_wrong_passphrase);
  g_test_add_func ("/cli/validation", test_validation);
  g_test_add_func ("/cli/list/filters", test_list_filters);
  g_test_add_func ("/cli/passwd", test_passwd);
  g_test_add_func ("/cli/usage", test_usage);

  return cli_test_finish (g_test_run ());
}
