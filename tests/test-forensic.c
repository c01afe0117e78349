/* Forensic test: a scripted supolka-cli session under a fresh HOME, XDG_*
 * folders and TMPDIR, then every file left anywhere under them is read and
 * searched for the plaintext markers the session wrote into the vault, and
 * for the passphrases. Zero hits is the only pass (docs/SECURITY.md).
 *
 * The session syncs with a second device through a real supolka-relay whose
 * data folder and log are inside the scanned tree (when $SUPOLKA_RELAY is set).
 * To extend it: add steps to the session below, and any new marker to the
 * markers[] list.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "relay-test-util.h"
#include "sec-cli-run.h"
#include "supolka-core.h"
#include "test-util.h"

#define PASS "forensic passphrase 1"
#define BACKUP_PASS "forensic backup pass"
#define M_ADD "Forensic-Add-Marker-9Xq"
#define M_NOTE "forensic note marker k3Zv"
#define M_CSV "Csv-Imported-Marker-p7W"
#define M_EDIT "Edited-Marker-Value-r2T"
#define M_CYR "Маркер-Зубрычка-5"

static const char *const markers[] = { M_ADD, M_NOTE, M_CSV, M_EDIT, M_CYR, PASS, BACKUP_PASS };

typedef struct
{
  char *path;
  char *marker;
} Hit;

/* Every regular file below dir that holds needle (binary-safe). */
static void
scan (const char *dir, const char *needle, gsize len, GPtrArray *hits, guint *files)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr (GBytes) bytes = NULL;
      gsize n;
      const char *data;

      if (g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        continue;
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          scan (path, needle, len, hits, files);
          continue;
        }
      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        continue;
      bytes = sp_test_read_file (path);
      if (bytes == NULL)
        continue;
      (*files)++;
      data = g_bytes_get_data (bytes, &n);
      if (n >= len && memmem (data, n, needle, len) != NULL)
        g_ptr_array_add (hits, g_strdup_printf ("%s holds \"%.*s\"", path, (int)len, needle));
    }
}

/* Each marker as written, and in the search index's folded form. */
static GPtrArray *
all_needles (void)
{
  GPtrArray *needles = g_ptr_array_new_with_free_func (g_free);

  for (gsize i = 0; i < G_N_ELEMENTS (markers); i++)
    {
      g_autofree char *folded = sp_fold (markers[i]);
      g_ptr_array_add (needles, g_strdup (markers[i]));
      if (folded && strlen (folded) >= 8 && !g_str_equal (folded, markers[i]))
        g_ptr_array_add (needles, g_steal_pointer (&folded));
    }
  return needles;
}

static GPtrArray *
find_markers (const char *const *dirs, guint *files)
{
  g_autoptr (GPtrArray) needles = all_needles ();
  GPtrArray *hits = g_ptr_array_new_with_free_func (g_free);

  *files = 0;
  for (guint i = 0; i < needles->len; i++)
    for (const char *const *d = dirs; *d; d++)
      {
        guint n = 0;
        scan (*d, needles->pdata[i], strlen (needles->pdata[i]), hits, &n);
        if (i == 0)
          *files += n;
      }
  return hits;
}

static void
expect (int got, int want)
{
  g_assert_cmpint (got, ==, want);
}

/* The session. The vault is in the default place ($XDG_DATA_HOME/supolka). */
static void
session_local (SecEnv *env, const char *csv, const char *export, const char *backup)
{
  g_autofree char *id = NULL;
  g_autofree char *out = NULL;

  expect (sec_run (env, PASS "\n", NULL, NULL, "--passphrase-fd", "3", "init", "--kdf",
                   "interactive", NULL),
          0);
  expect (sec_run (env, PASS "\n", &id, NULL, "--passphrase-fd", "3", "add", "org", "--name", M_ADD,
                   "--notes", M_NOTE, "--region", "brest", NULL),
          0);
  g_strstrip (id);
  expect (sec_run (env, PASS "\n", NULL, NULL, "--passphrase-fd", "3", "import-csv", "person", csv,
                   NULL),
          0);
  expect (sec_run (env, PASS "\n", NULL, NULL, "--passphrase-fd", "3", "edit", id, "--notes",
                   M_EDIT, NULL),
          0);
  expect (sec_run (env, PASS "\n", NULL, NULL, "--passphrase-fd", "3", "export-csv", "org", export,
                   NULL),
          0);
  /* The session really holds the markers (so the scan below can fail). */
  expect (sec_run (env, PASS "\n", &out, NULL, "--passphrase-fd", "3", "search", "forensic", NULL),
          0);
  g_assert_nonnull (strstr (out, M_ADD));
  g_clear_pointer (&out, g_free);
  expect (sec_run (env, PASS "\n", &out, NULL, "--passphrase-fd", "3", "list", "person", NULL), 0);
  g_assert_nonnull (strstr (out, M_CSV));
  g_clear_pointer (&out, g_free);
  {
    g_autoptr (GBytes) exported = sp_test_read_file (export);
    g_assert_nonnull (exported);
    g_assert_nonnull (g_strstr_len (g_bytes_get_data (exported, NULL),
                                    (gssize)g_bytes_get_size (exported), M_EDIT));
  }
  g_assert_cmpint (g_unlink (export), ==, 0); /* the user deletes their export */
  expect (sec_run (env, PASS "\n" BACKUP_PASS "\n", NULL, NULL, "--passphrase-fd", "3", "backup",
                   backup, "--kdf", "interactive", NULL),
          0);
  expect (sec_run (env, PASS "\n", NULL, NULL, "--passphrase-fd", "3", "check", NULL), 0);
}

/* Sync with a second device of the same person through a real relay whose
 * data folder and log are inside the scanned tree. */
static void
session_sync (SecEnv *env)
{
  g_autofree char *data = g_build_filename (env->root, "relay-data", NULL);
  g_autofree char *log = g_build_filename (env->root, "relay.log", NULL);
  g_autofree char *second = g_build_filename (env->root, "second-device", NULL);
  g_autofree char *invite = NULL, *code = NULL, *out = NULL;
  const RelayOptions opts = { .data_dir = data, .log_path = log };
  Relay *relay = relay_start_with (&opts);

  expect (sec_run (env, PASS "\n", NULL, NULL, "--passphrase-fd", "3", "workspace", "create",
                   "--relay", relay->base, NULL),
          0);
  expect (
      sec_run (env, PASS "\n", &invite, NULL, "--passphrase-fd", "3", "workspace", "invite", NULL),
      0);
  g_strstrip (invite);
  expect (sec_run (env, PASS "\n", NULL, NULL, "--vault", second, "--passphrase-fd", "3", "init",
                   "--kdf", "interactive", NULL),
          0);
  expect (sec_run (env, PASS "\n", &code, NULL, "--vault", second, "--passphrase-fd", "3", "--json",
                   "workspace", "join", invite, NULL),
          0);
  {
    const char *digits = strstr (code, "\"safety_code\"");
    g_autofree char *safety = NULL;
    g_assert_nonnull (digits);
    digits = strchr (digits + 14, '"');
    g_assert_nonnull (digits);
    safety = g_strndup (digits + 1, 11);
    expect (sec_run (env, PASS "\n", NULL, NULL, "--passphrase-fd", "3", "workspace", "approve",
                     safety, NULL),
            0);
  }
  expect (sec_run (env, PASS "\n", NULL, NULL, "--passphrase-fd", "3", "sync", NULL), 0);
  expect (
      sec_run (env, PASS "\n", NULL, NULL, "--vault", second, "--passphrase-fd", "3", "sync", NULL),
      0);
  expect (sec_run (env, PASS "\n", &out, NULL, "--vault", second, "--passphrase-fd", "3", "search",
                   "forensic", NULL),
          0);
  g_assert_nonnull (strstr (out, M_ADD)); /* it really travelled */
  relay_stop (relay);                     /* its WAL is checkpointed into relay.db */
}

static void
test_session (void)
{
  g_autoptr (SecEnv) env = NULL;
  g_autofree char *user_dir = NULL; /* the user's own plaintext: not ours */
  g_autofree char *csv = NULL;
  g_autofree char *export = NULL;
  g_autofree char *backup = NULL;
  g_autofree char *csv_text = NULL;
  g_autoptr (GPtrArray) hits = NULL;
  const char *dirs[3] = { NULL, NULL, NULL };
  guint files = 0;

  if (!sec_require_cli ())
    return;
  g_assert_true (sp_core_init (NULL));
  env = sec_env_new ();
  user_dir = sp_test_tmpdir ();
  csv = g_build_filename (user_dir, "people.csv", NULL);
  csv_text = g_strdup_printf ("full_name,notes\r\n\"%s\",\"%s\"\r\n", M_CSV, M_CYR);
  g_assert_true (g_file_set_contents (csv, csv_text, -1, NULL));
  export = g_build_filename (env->root, "export.csv", NULL);
  backup = g_build_filename (env->root, "vault-backup.splk", NULL);

  session_local (env, csv, export, backup);
  if (g_getenv ("SUPOLKA_RELAY") != NULL)
    session_sync (env);
  else
    g_test_message ("SUPOLKA_RELAY is not set: the session does not sync");
  /* "lock": every command closed the vault when it exited. */

  /* The user's CSV folder is theirs, not ours: delete it before scanning. */
  sp_test_rmtree (user_dir);

  /* The scanner itself finds a planted plaintext copy. */
  {
    g_autofree char *plant = g_build_filename (env->root, "tmp", "plant", NULL);
    g_autoptr (GPtrArray) self = NULL;
    g_assert_true (g_file_set_contents (plant, "xx" M_EDIT "xx", -1, NULL));
    dirs[0] = env->root;
    self = find_markers (dirs, &files);
    g_assert_cmpuint (self->len, ==, 1);
    g_unlink (plant);
  }

  dirs[0] = env->root;
  dirs[1] = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : NULL;
  hits = find_markers (dirs, &files);
  g_test_message ("forensic scan: %u files read, %u hits", files, hits->len);
  for (guint i = 0; i < hits->len; i++)
    g_test_message ("HIT: %s", (char *)hits->pdata[i]);
  g_assert_cmpuint (files, >=, 3); /* vault.key, vault.db, the backup at least */
  g_assert_cmpuint (hits->len, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/forensic/cli-session", test_session);
  return g_test_run ();
}
