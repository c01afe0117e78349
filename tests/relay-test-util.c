/* SPDX-License-Identifier: GPL-3.0-or-later */
/* relay-test-util.c — the one relay starter of the tests (see relay-test-util.h)
 * and the process and file helpers around it. GLib only: linked by the relay
 * tests, the sync and UI tests, test-forensic and the benchmarks. */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc-test-util.h"
#include "relay-test-util.h"

/* ---- Processes ------------------------------------------------------------------ */

char *tmp_root;
int relay_stderr_fd = -1;

const char *
relay_path (void)
{
  const char *path = g_getenv ("SUPOLKA_RELAY");

  if (path == NULL || !g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
    g_error ("SUPOLKA_RELAY does not name the built supolka-relay: run this test with 'meson "
             "test'");
  return path;
}

char *
new_data_dir (const char *name)
{
  static guint counter;

  return g_strdup_printf ("%s/%s-%u", tmp_root, name, ++counter);
}

/* The child's environment: NULL (the test's own) unless something changes. */
static char **
relay_environ (const RelayOptions *opts, int err_fd)
{
  char **envp;

  if (!opts->clean_env && !opts->journal)
    return NULL;
  envp = g_get_environ ();
  envp = g_environ_unsetenv (envp, "JOURNAL_STREAM");
  envp = g_environ_unsetenv (envp, "SUPOLKA_RELAY_CREATE_TOKEN");
  envp = g_environ_unsetenv (envp, "SUPOLKA_RELAY_METRICS_TOKEN");
  if (opts->journal)
    {
      /* The journal is recognised by stderr's device and inode. */
      struct stat st;
      g_autofree char *stream = NULL;

      g_assert_cmpint (fstat (err_fd, &st), ==, 0);
      stream = g_strdup_printf ("%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT, (guint64)st.st_dev,
                                (guint64)st.st_ino);
      envp = g_environ_setenv (envp, "JOURNAL_STREAM", stream, TRUE);
    }
  return envp;
}

/* Where the child's stderr goes: a new pipe (*read_end gets the other end), a
 * file, relay_stderr_fd, or the test's own (-1). The caller closes it. */
static int
relay_stderr (const RelayOptions *opts, int *read_end)
{
  int fds[2];

  *read_end = -1;
  if (opts->capture_log || opts->journal)
    {
      g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
      *read_end = fds[0];
      return fds[1];
    }
  if (opts->log_path != NULL)
    {
      int fd = open (opts->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

      g_assert_cmpint (fd, >=, 0);
      return fd;
    }
  return relay_stderr_fd >= 0 ? dup (relay_stderr_fd) : -1;
}

/* The arguments choose how workspaces are created. */
static gboolean
args_name_creation (const char *const *args)
{
  for (const char *const *a = args; a != NULL && *a != NULL; a++)
    if (g_str_equal (*a, "--create-token") || g_str_equal (*a, "--open-creation")
        || g_str_equal (*a, "--create-rate"))
      return TRUE;
  return FALSE;
}

static void
relay_spawn (const RelayOptions *opts, Relay *relay)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) envp = NULL;
  int err_fd = relay_stderr (opts, &relay->err_fd);

  envp = relay_environ (opts, err_fd);
  g_ptr_array_add (argv, g_strdup (opts->program ? opts->program : relay_path ()));
  if (opts->data_dir != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--listen"));
      g_ptr_array_add (argv, g_strdup_printf (HOST ":%u", opts->port));
      g_ptr_array_add (argv, g_strdup ("--data"));
      g_ptr_array_add (argv, g_strdup (opts->data_dir));
    }
  for (const char *const *a = opts->args; a != NULL && *a != NULL; a++)
    g_ptr_array_add (argv, g_strdup (*a));
  if (opts->program == NULL && !opts->closed_creation && !args_name_creation (opts->args))
    {
      g_ptr_array_add (argv, g_strdup ("--open-creation"));
      g_ptr_array_add (argv, g_strdup ("--create-rate"));
      g_ptr_array_add (argv, g_strdup ("100000"));
    }
  g_ptr_array_add (argv, NULL);
  g_spawn_async_with_pipes_and_fds (NULL, (const char *const *)argv->pdata,
                                    (const char *const *)envp, G_SPAWN_DO_NOT_REAP_CHILD,
                                    die_with_parent, NULL, -1, -1, err_fd, NULL, NULL, 0,
                                    &relay->pid, NULL, &relay->out_fd, NULL, &error);
  g_assert_no_error (error);
  if (err_fd >= 0)
    close (err_fd);
}

/* "PREFIX127.0.0.1:PORT" → "http://127.0.0.1:PORT"; *port gets the port. */
static char *
parse_address (const char *line, const char *prefix, guint *port)
{
  g_autofree char *want = g_strconcat (prefix, HOST ":", NULL);
  guint64 value = 0;

  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, want));
  g_assert_true (g_ascii_string_to_unsigned (line + strlen (want), 10, 1, 65535, &value, NULL));
  *port = (guint)value;
  return g_strdup_printf ("http://" HOST ":%u", *port);
}

static void
relay_close (Relay *relay)
{
  close (relay->out_fd);
  if (relay->err_fd >= 0)
    close (relay->err_fd);
  g_free (relay->data_dir);
  g_free (relay->base);
  g_free (relay->metrics_base);
  g_free (relay);
}

/* Its stderr so far, for a relay that did not start (pipe or file only). */
static char *
relay_failure_log (const RelayOptions *opts, Relay *relay)
{
  char *text = NULL;

  if (relay->err_fd >= 0)
    return read_until_eof (relay->err_fd, 20000);
  if (opts->log_path != NULL && g_file_get_contents (opts->log_path, &text, NULL, NULL))
    return text;
  return g_strdup ("(on the test's stderr)");
}

Relay *
relay_start_with (const RelayOptions *opts)
{
  for (int attempt = 0;; attempt++)
    {
      Relay *relay = g_new0 (Relay, 1);
      g_autofree char *line = NULL;

      relay->data_dir = g_strdup (opts->data_dir);
      relay_spawn (opts, relay);
      /* The first line says it is ready; EOF that it exited. */
      line = read_line (relay->out_fd, 20000);
      if (line != NULL)
        {
          relay->base = parse_address (line, "listening on ", &relay->port);
          if (opts->port != 0)
            g_assert_cmpuint (relay->port, ==, opts->port);
          if (opts->metrics)
            {
              g_autofree char *mline = read_line (relay->out_fd, 20000);
              guint mport = 0;

              relay->metrics_base = parse_address (mline, "metrics on ", &mport);
            }
          return relay;
        }
      if (opts->port == 0 || attempt >= 50)
        {
          g_autofree char *log = relay_failure_log (opts, relay);

          g_error ("the relay did not start: %s", log);
        }
      /* It exited: the port is still held by the one just killed. Again. */
      wait_child (relay->pid, 20000);
      relay_close (relay);
      g_usleep (200 * 1000);
    }
}

Relay *
relay_start (const char *data_dir, const char *const *extra)
{
  const RelayOptions opts = { .data_dir = data_dir, .args = extra };

  return relay_start_with (&opts);
}

void
relay_expect_refused (const RelayOptions *opts, const char *needle)
{
  RelayOptions capture = *opts;
  Relay *relay = g_new0 (Relay, 1);
  g_autofree char *err = NULL;
  int status;

  capture.capture_log = TRUE;
  relay_spawn (&capture, relay);
  err = read_until_eof (relay->err_fd, 20000);
  status = wait_child (relay->pid, 20000);
  relay_close (relay);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 1)
    g_error ("expected exit 1 (\"%s\"), got status %d; stderr: %s", needle, status, err);
  if (strstr (err, needle) == NULL)
    g_error ("expected \"%s\" in the error, got: %s", needle, err);
}

char *
relay_stop_log (Relay *relay)
{
  char *log = NULL;
  int status;

  if (relay == NULL)
    return NULL;
  kill (relay->pid, SIGTERM);
  if (relay->err_fd >= 0)
    log = read_until_eof (relay->err_fd, 20000);
  status = wait_child (relay->pid, 20000);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  relay_close (relay);
  return log;
}

void
relay_stop (Relay *relay)
{
  g_free (relay_stop_log (relay));
}

void
relay_kill (Relay *relay)
{
  int status;

  kill (relay->pid, SIGKILL);
  status = wait_child (relay->pid, 20000);
  g_assert_true (WIFSIGNALED (status));
  relay_close (relay);
}

/* ---- Files ----------------------------------------------------------------------- */

/* memmem() without _GNU_SOURCE. */
gboolean
contains_bytes (const guint8 *hay, gsize hay_len, const guint8 *needle, gsize needle_len)
{
  gsize i;

  if (needle_len == 0 || needle_len > hay_len)
    return needle_len == 0;
  for (i = 0; i + needle_len <= hay_len; i++)
    if (hay[i] == needle[0] && memcmp (hay + i, needle, needle_len) == 0)
      return TRUE;
  return FALSE;
}

gboolean
dir_contains (const char *dir, const guint8 *needle, gsize needle_len, guint *files)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (dir_contains (path, needle, needle_len, files))
            return TRUE;
          continue;
        }
      g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
      (*files)++;
      if (contains_bytes ((const guint8 *)contents, len, needle, needle_len))
        return TRUE;
    }
  return FALSE;
}

void
remove_tree (const char *path)
{
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}
