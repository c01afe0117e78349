/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cli-compartment.c — compartments and travel mode through supolka-cli
 * (issue #19): compartment create/list/default, add/list --compartment, move,
 * the exit statuses; then against the real relay on 127.0.0.1: grant and
 * revoke, "figures from 1 of 2 compartments" in stats, a link to a record the
 * device does not hold shown as restricted (never its id or title), and travel
 * start (refused while a change is unsent, the return code once as the last
 * line) and travel end (the code on standard input; a wrong code changes
 * nothing). */
#include <json-glib/json-glib.h>
#include <string.h>

#include "sync-test-util.h"

static char *cli_out (const char *dir, int expect, const char *first, ...) G_GNUC_NULL_TERMINATED;

/* Runs the CLI on @dir with up to eight arguments, asserts its exit status and
 * returns its standard output (standard error goes to the test's log). */
static char *
cli_out (const char *dir, int expect, const char *first, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  va_list ap;
  int status;

  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer)a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  proc = cli_spawnv (dir, PASS "\n", (const char *const *)args->pdata);
  status = sec_finish (proc, &out, &err);
  if (status != expect)
    g_error ("supolka-cli %s: exit %d, expected %d; stdout: %s; stderr: %s", first, status, expect,
             out, err);
  if (err && *err)
    g_test_message ("stderr: %s", err);
  return out;
}

static JsonObject *
json_object_of (const char *text, JsonParser **keep)
{
  g_autoptr (GError) error = NULL;

  *keep = json_parser_new ();
  g_assert_true (json_parser_load_from_data (*keep, text, -1, &error));
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (*keep));
}

static char *
add_one (const char *dir, const char *kind, const char *field, const char *value,
         const char *compartment)
{
  g_autofree char *f = g_strconcat ("--", field, NULL);
  char *out = compartment
                  ? cli_out (dir, 0, "add", kind, f, value, "--compartment", compartment, NULL)
                  : cli_out (dir, 0, "add", kind, f, value, NULL);

  return g_strstrip (out);
}

/* ---- In one vault, no workspace ---------------------------------------------------------- */

static void
test_local (void)
{
  Dev *a = dev_new ("A");
  g_autofree char *out = NULL, *person = NULL, *org = NULL;
  g_autoptr (JsonParser) p = NULL;
  JsonObject *o;

  dev_close (a);
  /* Usage (1), before the passphrase is asked. */
  g_free (cli_out (a->dir, EXIT_USAGE, "compartment", NULL));
  g_free (cli_out (a->dir, EXIT_USAGE, "compartment", "bogus", NULL));
  g_free (cli_out (a->dir, EXIT_USAGE, "compartment", "create", NULL));
  g_free (cli_out (a->dir, EXIT_USAGE, "compartment", "grant", "legal", NULL));
  g_free (cli_out (a->dir, EXIT_USAGE, "move", "x", NULL));
  g_free (cli_out (a->dir, EXIT_USAGE, "travel", "start", "--keep", NULL));
  g_free (cli_out (a->dir, EXIT_USAGE, "travel", "start", "stray", NULL));
  /* A name core refuses: 4. */
  g_free (cli_out (a->dir, EXIT_INVALID, "compartment", "create", "Main", NULL));

  out = cli_out (a->dir, 0, "compartment", "create", "legal", NULL);
  g_assert_nonnull (strstr (out, "legal"));
  g_clear_pointer (&out, g_free);
  g_free (cli_out (a->dir, EXIT_INVALID, "compartment", "create", "LEGAL", NULL));

  person = add_one (a->dir, "person", "full-name", "Anna Legal", "legal");
  org = add_one (a->dir, "org", "name", "Main Org", NULL);
  g_free (
      cli_out (a->dir, EXIT_NOT_FOUND, "add", "org", "--name", "X", "--compartment", "nope", NULL));

  out = cli_out (a->dir, 0, "list", "person", "--compartment", "legal", NULL);
  g_assert_nonnull (strstr (out, person));
  g_clear_pointer (&out, g_free);
  out = cli_out (a->dir, 0, "list", "person", "--compartment", "main", NULL);
  g_assert_cmpstr (out, ==, "");
  g_clear_pointer (&out, g_free);
  g_free (cli_out (a->dir, EXIT_NOT_FOUND, "list", "org", "--compartment", "nope", NULL));

  out = cli_out (a->dir, 0, "--json", "compartment", "list", NULL);
  o = json_object_of (out, &p);
  g_assert_cmpint (json_object_get_int_member (o, "held"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (o, "total"), ==, 2);
  {
    JsonArray *list = json_object_get_array_member (o, "compartments");
    JsonObject *legal = json_array_get_object_element (list, 1);

    g_assert_cmpuint (json_array_get_length (list), ==, 2);
    g_assert_cmpstr (json_object_get_string_member (legal, "name"), ==, "legal");
    g_assert_cmpint (json_object_get_int_member (legal, "records"), ==, 1);
    g_assert_false (json_object_get_boolean_member (legal, "default"));
    g_assert_false (json_object_get_boolean_member (legal, "published"));
  }
  g_clear_pointer (&out, g_free);
  g_clear_object (&p);

  /* The default compartment receives new records. */
  g_free (cli_out (a->dir, EXIT_NOT_FOUND, "compartment", "default", "nope", NULL));
  g_free (cli_out (a->dir, 0, "compartment", "default", "legal", NULL));
  out = cli_out (a->dir, 0, "compartment", "list", NULL);
  g_assert_nonnull (strstr (out, "(default)"));
  g_assert_nonnull (strstr (out, "2 of 2 compartments"));
  g_clear_pointer (&out, g_free);
  {
    g_autofree char *id = add_one (a->dir, "org", "name", "Default Org", NULL);

    out = cli_out (a->dir, 0, "show", id, NULL);
    g_assert_nonnull (strstr (out, "compartment            legal"));
    g_clear_pointer (&out, g_free);
  }

  /* move */
  g_free (cli_out (a->dir, 0, "move", org, "legal", NULL));
  out = cli_out (a->dir, 0, "--json", "show", org, NULL);
  g_assert_nonnull (strstr (out, "\"compartment\" : \"legal\""));
  g_clear_pointer (&out, g_free);
  g_free (cli_out (a->dir, EXIT_NOT_FOUND, "move", org, "nope", NULL));
  g_free (
      cli_out (a->dir, EXIT_NOT_FOUND, "move", "0123456789abcdef0123456789abcdef", "main", NULL));

  /* All held: stats says nothing about compartments. */
  out = cli_out (a->dir, 0, "stats", NULL);
  g_assert_null (strstr (out, "compartment"));
  g_clear_pointer (&out, g_free);
  out = cli_out (a->dir, 0, "--json", "stats", NULL);
  g_assert_null (strstr (out, "compartments"));
  g_clear_pointer (&out, g_free);

  /* Travel mode needs a workspace (1). */
  g_free (cli_out (a->dir, EXIT_USAGE, "travel", "start", NULL));
  dev_free (a);
}

/* ---- Two devices through the relay ------------------------------------------------------- */

typedef struct
{
  Relay *relay;
  char *relay_dir;
  Dev *a, *b;
  char *a_id, *b_id; /* the devices' ids (their vaults are closed: the CLI opens them) */
  char *person, *org, *aff;
} Net;

/* A (admin) and B in one workspace; A holds "legal" with a person in it, and
 * an affiliation in main links that person to an org in main. */
static void
net_setup (Net *n)
{
  SyncOptions opts = { 0 };

  n->relay_dir = new_tmp ("relay");
  n->relay = sync_relay_start (n->relay_dir);
  n->a = dev_new ("A");
  n->b = dev_new ("B");
  create_workspace (n->a, n->relay->base, &opts);
  enrol (n->a, n->b, &opts);
  n->a_id = g_strdup (dev_id (n->a));
  n->b_id = g_strdup (dev_id (n->b));
  dev_close (n->a);
  dev_close (n->b);

  g_free (cli_out (n->a->dir, 0, "compartment", "create", "legal", NULL));
  n->person = add_one (n->a->dir, "person", "full-name", "Secret Legal Person", "legal");
  n->org = add_one (n->a->dir, "org", "name", "Open Main Org", NULL);
  n->aff = g_strstrip (cli_out (n->a->dir, 0, "add", "affiliation", "--person", n->person, "--org",
                                n->org, "--role", "lawyer", NULL));
  g_free (cli_out (n->a->dir, 0, "sync", NULL));
  g_free (cli_out (n->b->dir, 0, "sync", NULL));
}

static void
net_clear (Net *n)
{
  relay_stop (n->relay);
  dev_free (n->a);
  dev_free (n->b);
  g_free (n->relay_dir);
  g_free (n->person);
  g_free (n->org);
  g_free (n->aff);
  g_free (n->a_id);
  g_free (n->b_id);
}

static void
assert_restricted_on_b (Net *n)
{
  g_autofree char *out = cli_out (n->b->dir, 0, "show", n->aff, NULL);
  g_autoptr (JsonParser) p = NULL;
  JsonObject *fields;

  g_assert_nonnull (strstr (out, "Restricted record"));
  g_assert_null (strstr (out, n->person));
  g_assert_null (strstr (out, "Secret Legal"));
  g_assert_nonnull (strstr (out, n->org));
  g_clear_pointer (&out, g_free);
  out = cli_out (n->b->dir, 0, "--json", "show", n->aff, NULL);
  g_assert_null (strstr (out, n->person));
  fields = json_object_get_object_member (json_object_of (out, &p), "fields");
  g_assert_true (json_object_get_boolean_member (json_object_get_object_member (fields, "person"),
                                                 "restricted"));
  g_assert_cmpstr (json_object_get_string_member (fields, "org"), ==, n->org);
  g_clear_pointer (&out, g_free);
  g_free (cli_out (n->b->dir, EXIT_NOT_FOUND, "show", n->person, NULL));
}

static void
test_grant_revoke (void)
{
  Net n = { 0 };
  g_autofree char *out = NULL;
  g_autoptr (JsonParser) p = NULL;
  JsonObject *c;

  net_setup (&n);
  /* B holds main only, and says so. */
  out = cli_out (n.b->dir, 0, "compartment", "list", NULL);
  g_assert_nonnull (strstr (out, "1 of 2 compartments"));
  g_assert_null (strstr (out, "legal"));
  g_clear_pointer (&out, g_free);
  out = cli_out (n.b->dir, 0, "stats", NULL);
  g_assert_true (g_str_has_prefix (out, "(figures from 1 of 2 compartments)"));
  g_clear_pointer (&out, g_free);
  out = cli_out (n.b->dir, 0, "--json", "stats", NULL);
  c = json_object_get_object_member (json_object_of (out, &p), "compartments");
  g_assert_cmpint (json_object_get_int_member (c, "held"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (c, "total"), ==, 2);
  g_clear_pointer (&out, g_free);
  assert_restricted_on_b (&n);

  /* B is no admin: it cannot grant (1); an unknown device (3 or 1). */
  g_free (cli_out (n.b->dir, EXIT_USAGE, "compartment", "grant", "legal", n.a_id, NULL));

  g_free (cli_out (n.a->dir, 0, "compartment", "grant", "legal", n.b_id, NULL));
  g_free (cli_out (n.b->dir, 0, "sync", NULL));
  out = cli_out (n.b->dir, 0, "show", n.aff, NULL);
  g_assert_null (strstr (out, "Restricted record"));
  g_assert_nonnull (strstr (out, n.person));
  g_clear_pointer (&out, g_free);
  out = cli_out (n.b->dir, 0, "compartment", "list", NULL);
  g_assert_nonnull (strstr (out, "2 of 2 compartments"));
  g_clear_pointer (&out, g_free);
  out = cli_out (n.b->dir, 0, "stats", NULL);
  g_assert_null (strstr (out, "figures from"));
  g_clear_pointer (&out, g_free);

  g_free (cli_out (n.a->dir, 0, "compartment", "revoke", "legal", n.b_id, NULL));
  g_free (cli_out (n.b->dir, 0, "sync", NULL));
  assert_restricted_on_b (&n);
  net_clear (&n);
}

static char *
last_line (const char *out)
{
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
  guint n = g_strv_length (lines);

  while (n > 0 && *lines[n - 1] == '\0')
    n--;
  g_assert_cmpuint (n, >, 0);
  return g_strdup (lines[n - 1]);
}

static void
test_travel (void)
{
  Net n = { 0 };
  g_autofree char *out = NULL, *code = NULL, *wrong = NULL, *input = NULL, *note = NULL;
  g_auto (GStrv) words = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  const char *end_args[] = { "travel", "end", NULL };

  net_setup (&n);
  /* A change not sent yet: refused (1), naming the record. */
  note = add_one (n.a->dir, "org", "name", "Unsent Org", NULL);
  proc = cli_spawnv (n.a->dir, PASS "\n", (const char *const[]){ "travel", "start", NULL });
  {
    g_autofree char *err = NULL;

    g_assert_cmpint (sec_finish (proc, &out, &err), ==, EXIT_USAGE);
    g_assert_nonnull (strstr (err, "Unsent Org"));
    g_assert_cmpstr (out, ==, "");
    g_clear_pointer (&out, g_free);
    g_clear_object (&proc);
  }
  g_free (cli_out (n.a->dir, 0, "sync", NULL));

  out = cli_out (n.a->dir, 0, "travel", "start", NULL);
  code = last_line (out);
  words = g_strsplit (code, " ", -1);
  g_assert_cmpuint (g_strv_length (words), ==, 12);
  g_assert_nonnull (strstr (out, "legal"));
  g_clear_pointer (&out, g_free);

  /* The smaller vault: no legal, the link restricted, nothing saying why. */
  g_free (cli_out (n.a->dir, EXIT_NOT_FOUND, "show", n.person, NULL));
  out = cli_out (n.a->dir, 0, "show", n.aff, NULL);
  g_assert_nonnull (strstr (out, "Restricted record"));
  g_clear_pointer (&out, g_free);
  out = cli_out (n.a->dir, 0, "compartment", "list", NULL);
  g_assert_null (strstr (out, "legal"));
  g_clear_pointer (&out, g_free);

  /* A wrong code (another valid one would need the checksum: change a word). */
  wrong = g_strdup_printf ("%s\n%s %s\n", PASS, words[1], strchr (code, ' ') + 1);
  proc = cli_spawnv (n.a->dir, wrong, end_args);
  g_assert_cmpint (sec_finish (proc, NULL, NULL), !=, EXIT_OK);
  g_clear_object (&proc);
  g_free (cli_out (n.a->dir, EXIT_NOT_FOUND, "show", n.person, NULL));
  /* No code at all. */
  proc = cli_spawnv (n.a->dir, PASS "\n", end_args);
  g_assert_cmpint (sec_finish (proc, NULL, NULL), ==, EXIT_INVALID);
  g_clear_object (&proc);

  input = g_strdup_printf ("%s\n%s\n", PASS, code);
  proc = cli_spawnv (n.a->dir, input, end_args);
  g_assert_cmpint (sec_finish (proc, NULL, NULL), ==, EXIT_OK);
  g_clear_object (&proc);
  out = cli_out (n.a->dir, 0, "show", n.person, NULL);
  g_assert_nonnull (strstr (out, "Secret Legal Person"));
  g_clear_pointer (&out, g_free);
  out = cli_out (n.a->dir, 0, "show", n.aff, NULL);
  g_assert_null (strstr (out, "Restricted record"));
  g_clear_pointer (&out, g_free);
  net_clear (&n);
}

int
main (int argc, char **argv)
{
  sync_test_init (&argc, &argv);

  g_test_add_func ("/cli-compartment/local", test_local);
  g_test_add_func ("/cli-compartment/grant-revoke", test_grant_revoke);
  g_test_add_func ("/cli-compartment/travel", test_travel);

  return sync_test_finish (g_test_run ());
}
