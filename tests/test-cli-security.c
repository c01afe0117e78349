/* supolka-cli panic, set-duress, backup and restore end to end: the real
 * binary, passphrases on a pipe (fd 3), exit statuses (docs/CLI.md).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <string.h>

#include "sec-cli-run.h"
#include "test-util.h"

#define PASS "cli correct horse"
#define DURESS "cli duress words"
#define BPASS "cli backup words"
#define NEWPASS "cli brand new words"
#define MARKER "CliSecMarker4Hd"

static char *
vault_in (SecEnv *env, const char *name)
{
  return g_build_filename (env->root, name, NULL);
}

static char *
new_vault (SecEnv *env, const char *name)
{
  char *v = vault_in (env, name);

  g_assert_cmpint (sec_run (env, PASS "\n", NULL, NULL, "--vault", v, "--passphrase-fd", "3",
                            "init", "--kdf", "interactive", NULL),
                   ==, 0);
  g_assert_cmpint (sec_run (env, PASS "\n", NULL, NULL, "--vault", v, "--passphrase-fd", "3", "add",
                            "org", "--name", MARKER, NULL),
                   ==, 0);
  return v;
}

/* Exit status of "list org" with pass; *out gets the output. */
static int
list_with (SecEnv *env, const char *v, const char *pass, char **out)
{
  g_autofree char *line = g_strconcat (pass, "\n", NULL);

  return sec_run (env, line, out, NULL, "--vault", v, "--passphrase-fd", "3", "list", "org", NULL);
}

static void
test_panic (void)
{
  g_autoptr (SecEnv) env = NULL;
  g_autofree char *v = NULL;
  g_autofree char *out = NULL;

  if (!sec_require_cli ())
    return;
  env = sec_env_new ();
  v = new_vault (env, "v");
  g_assert_cmpint (sec_run (env, NULL, NULL, NULL, "--vault", v, "panic", "now", NULL), ==, 1);
  g_assert_true (g_file_test (v, G_FILE_TEST_IS_DIR));
  /* No passphrase, no question. */
  g_assert_cmpint (sec_run (env, NULL, &out, NULL, "--vault", v, "panic", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "destroyed"));
  g_assert_false (g_file_test (v, G_FILE_TEST_EXISTS));
  g_assert_cmpint (list_with (env, v, PASS, NULL), ==, 3);
  g_assert_cmpint (sec_run (env, NULL, NULL, NULL, "--vault", v, "panic", NULL), ==, 3);
}

static void
test_duress (void)
{
  g_autoptr (SecEnv) env = NULL;
  g_autofree char *v = NULL;
  g_autofree char *w = NULL;
  g_autofree char *out = NULL;
  g_autofree char *key = NULL;
  g_autoptr (GBytes) before = NULL;
  g_autoptr (GBytes) after = NULL;

  if (!sec_require_cli ())
    return;
  env = sec_env_new ();
  v = new_vault (env, "v");
  key = g_build_filename (v, "vault.key", NULL);
  before = sp_test_read_file (key);

  /* Refusals: the vault's own passphrase, a short one, a wrong vault
   * passphrase, a missing second line, an unknown option. */
  g_assert_cmpint (sec_run (env, PASS "\n" PASS "\n", NULL, NULL, "--vault", v, "--passphrase-fd",
                            "3", "set-duress", NULL),
                   ==, 4);
  g_assert_cmpint (sec_run (env, PASS "\nshort\n", NULL, NULL, "--vault", v, "--passphrase-fd", "3",
                            "set-duress", NULL),
                   ==, 4);
  g_assert_cmpint (sec_run (env, "wrong one\n" DURESS "\n", NULL, NULL, "--vault", v,
                            "--passphrase-fd", "3", "set-duress", NULL),
                   ==, 2);
  g_assert_cmpint (sec_run (env, PASS "\n", NULL, NULL, "--vault", v, "--passphrase-fd", "3",
                            "set-duress", NULL),
                   ==, 4);
  g_assert_cmpint (sec_run (env, PASS "\n", NULL, NULL, "--vault", v, "--passphrase-fd", "3",
                            "set-duress", "--sure", NULL),
                   ==, 1);
  after = sp_test_read_file (key);
  g_assert_true (g_bytes_equal (before, after));
  g_clear_pointer (&after, g_bytes_unref);

  g_assert_cmpint (sec_run (env, PASS "\n" DURESS "\n", NULL, NULL, "--vault", v, "--passphrase-fd",
                            "3", "set-duress", NULL),
                   ==, 0);
  after = sp_test_read_file (key);
  g_assert_cmpuint (g_bytes_get_size (after), ==, g_bytes_get_size (before));
  g_assert_cmpint (list_with (env, v, PASS, &out), ==, 0);
  g_assert_nonnull (strstr (out, MARKER));
  g_clear_pointer (&out, g_free);

  /* Unlocking under duress: an ordinary-looking, empty vault. */
  g_assert_cmpint (list_with (env, v, DURESS, &out), ==, 0);
  g_assert_cmpstr (out, ==, "");
  g_assert_false (sp_test_tree_contains (v, MARKER, strlen (MARKER)));
  g_assert_cmpint (list_with (env, v, PASS, NULL), ==, 2);
  g_assert_cmpint (list_with (env, v, DURESS, NULL), ==, 0);

  /* --remove: the duress passphrase opens nothing, the real one still works. */
  w = new_vault (env, "w");
  g_assert_cmpint (sec_run (env, PASS "\n" DURESS "\n", NULL, NULL, "--vault", w, "--passphrase-fd",
                            "3", "set-duress", NULL),
                   ==, 0);
  g_assert_cmpint (sec_run (env, PASS "\n", NULL, NULL, "--vault", w, "--passphrase-fd", "3",
                            "set-duress", "--remove", NULL),
                   ==, 0);
  g_assert_cmpint (list_with (env, w, DURESS, NULL), ==, 2);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (list_with (env, w, PASS, &out), ==, 0);
  g_assert_nonnull (strstr (out, MARKER));
}

static void
test_backup_restore (void)
{
  g_autoptr (SecEnv) env = NULL;
  g_autofree char *v = NULL;
  g_autofree char *r = NULL;
  g_autofree char *b = NULL;
  g_autofree char *bad = NULL;
  g_autofree char *out = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!sec_require_cli ())
    return;
  env = sec_env_new ();
  v = new_vault (env, "v");
  r = vault_in (env, "restored");
  b = g_build_filename (env->root, "backup.splk", NULL);
  bad = g_build_filename (env->root, "bad.splk", NULL);

  g_assert_cmpint (sec_run (env, PASS "\n" BPASS "\n", NULL, NULL, "--vault", v, "--passphrase-fd",
                            "3", "backup", NULL),
                   ==, 1);
  g_assert_cmpint (sec_run (env, PASS "\n" BPASS "\n", NULL, NULL, "--vault", v, "--passphrase-fd",
                            "3", "backup", b, "--kdf", "fast", NULL),
                   ==, 1);
  g_assert_cmpint (sec_run (env, PASS "\n" BPASS "\n", NULL, NULL, "--vault", v, "--passphrase-fd",
                            "3", "backup", b, "--kdf", "interactive", NULL),
                   ==, 0);
  g_assert_false (sp_test_tree_contains (env->root, MARKER, strlen (MARKER)));

  /* Refusals leave no vault behind. */
  g_assert_cmpint (sec_run (env, "wrong words\n", NULL, NULL, "--vault", r, "--passphrase-fd", "3",
                            "restore", b, "--kdf", "interactive", NULL),
                   ==, 2);
  g_assert_cmpint (sec_run (env, BPASS "\n", NULL, NULL, "--vault", r, "--passphrase-fd", "3",
                            "restore", "/nonexistent/backup", NULL),
                   ==, 3);
  g_assert_true (g_file_get_contents (b, &contents, &len, NULL));
  /* Cut short: refused as damaged (exit 4). A changed byte inside the first
   * chunk would read as a wrong passphrase (exit 2) instead: see SECURITY.md. */
  g_assert_true (g_file_set_contents (bad, contents, (gssize)len - 10, NULL));
  g_assert_cmpint (sec_run (env, BPASS "\n", NULL, NULL, "--vault", r, "--passphrase-fd", "3",
                            "restore", bad, "--kdf", "interactive", NULL),
                   ==, 4);
  g_assert_false (g_file_test (r, G_FILE_TEST_EXISTS));

  /* A new machine: the backup's passphrase opens the restored vault. */
  g_assert_cmpint (sec_run (env, BPASS "\n", NULL, NULL, "--vault", r, "--passphrase-fd", "3",
                            "restore", b, "--kdf", "interactive", NULL),
                   ==, 0);
  g_assert_cmpint (list_with (env, r, BPASS, &out), ==, 0);
  g_assert_nonnull (strstr (out, MARKER));
  g_clear_pointer (&out, g_free);

  /* Over an existing vault: only with --force, and then with a new passphrase
   * read from the second line. */
  g_assert_cmpint (sec_run (env, BPASS "\n", NULL, NULL, "--vault", v, "--passphrase-fd", "3",
                            "restore", b, "--kdf", "interactive", NULL),
                   ==, 1);
  g_assert_cmpint (list_with (env, v, PASS, NULL), ==, 0);
  g_assert_cmpint (sec_run (env, BPASS "\n", NULL, NULL, "--vault", v, "--passphrase-fd", "3",
                            "restore", bad, "--force", "--kdf", "interactive", NULL),
                   ==, 4);
  g_assert_cmpint (list_with (env, v, PASS, NULL), ==, 0); /* untouched */
  g_assert_cmpint (sec_run (env, BPASS "\n" NEWPASS "\n", NULL, NULL, "--vault", v,
                            "--passphrase-fd", "3", "restore", b, "--force", "--new-passphrase",
                            "--kdf", "interactive", NULL),
                   ==, 0);
  g_assert_cmpint (list_with (env, v, PASS, NULL), ==, 2);
  g_assert_cmpint (list_with (env, v, NEWPASS, &out), ==, 0);
  g_assert_nonnull (strstr (out, MARKER));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli-security/panic", test_panic);
  g_test_add_func ("/cli-security/duress", test_duress);
  g_test_add_func ("/cli-security/backup-restore", test_backup_restore);
  return g_test_run ();
}
