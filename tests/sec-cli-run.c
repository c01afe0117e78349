/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "proc-test-util.h"
#include "sec-cli-run.h"
#include "test-util.h"

gboolean
sec_require_cli (void)
{
  const char *path = g_getenv ("SUPOLKA_CLI");

  if (path == NULL || !g_file_test (path, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_fail_printf ("SUPOLKA_CLI does not name the built supolka-cli: run with 'meson "
                          "test'");
      return FALSE;
    }
  return TRUE;
}

SecEnv *
sec_env_new (void)
{
  SecEnv *env = g_new0 (SecEnv, 1);
  static const char *const subdirs[] = { "data", "config", "cache", "state", "runtime", "tmp" };

  env->root = sp_test_tmpdir ();
  for (gsize i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *d = g_build_filename (env->root, subdirs[i], NULL);
      g_assert_cmpint (g_mkdir (d, 0700), ==, 0);
    }
  return env;
}

void
sec_env_free (SecEnv *env)
{
  if (env == NULL)
    return;
  sp_test_rmtree (env->root);
  g_free (env->root);
  g_free (env);
}

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

GSubprocess *
sec_spawn (SecEnv *env, const char *stdin_text, const char *fd3_text, const char *const *argv)
{
  static const struct
  {
    const char *var, *sub;
  } dirs[] = {
    { "XDG_DATA_HOME", "data" },   { "XDG_CONFIG_HOME", "config" },  { "XDG_CACHE_HOME", "cache" },
    { "XDG_STATE_HOME", "state" }, { "XDG_RUNTIME_DIR", "runtime" }, { "TMPDIR", "tmp" },
  };
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GPtrArray) full = g_ptr_array_new ();
  g_autoptr (GString) cmdline = g_string_new ("supolka-cli");
  g_autoptr (GError) error = NULL;
  GSubprocess *proc = NULL;

  g_subprocess_launcher_unsetenv (launcher, "SUPOLKA_VAULT");
  g_subprocess_launcher_unsetenv (launcher, "LANGUAGE");
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  g_subprocess_launcher_setenv (launcher, "HOME", env->root, TRUE);
  for (gsize i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *d = g_build_filename (env->root, dirs[i].sub, NULL);
      g_subprocess_launcher_setenv (launcher, dirs[i].var, d, TRUE);
    }
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  if (stdin_text)
    g_subprocess_launcher_take_stdin_fd (launcher, prefilled_pipe (stdin_text));
  if (fd3_text)
    g_subprocess_launcher_take_fd (launcher, prefilled_pipe (fd3_text), 3);

  g_ptr_array_add (full, (char *)g_getenv ("SUPOLKA_CLI"));
  g_assert_nonnull (full->pdata[0]);
  for (const char *const *a = argv; *a; a++)
    {
      g_ptr_array_add (full, (char *)*a);
      g_string_append_printf (cmdline, " '%s'", *a);
    }
  g_ptr_array_add (full, NULL);
  g_test_message ("$ %s", cmdline->str);

  /* The binary may be relinked by a parallel build: retry a failed spawn. */
  for (int attempt = 0; attempt < 5 && proc == NULL; attempt++)
    {
      g_clear_error (&error);
      proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)full->pdata, &error);
      if (proc == NULL)
        g_usleep (300 * 1000);
    }
  g_assert_no_error (error);
  return proc;
}

int
sec_finish (GSubprocess *proc, char **out, char **err)
{
  g_autoptr (GBytes) out_bytes = NULL;
  g_autoptr (GBytes) err_bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *err_text = NULL;
  int status;

  g_subprocess_communicate (proc, NULL, NULL, &out_bytes, &err_bytes, &error);
  g_assert_no_error (error);
  if (g_subprocess_get_if_exited (proc))
    status = g_subprocess_get_exit_status (proc);
  else
    status = -g_subprocess_get_term_sig (proc);
  err_text = bytes_to_string (err_bytes);
  g_test_message ("  => %d%s%.300s", status, *err_text ? "; stderr: " : "", err_text);
  if (out)
    *out = bytes_to_string (out_bytes);
  if (err)
    *err = g_steal_pointer (&err_text);
  return status;
}

int
sec_run_argv (SecEnv *env, const char *stdin_text, const char *fd3_text, char **out, char **err,
              const char *const *argv)
{
  g_autoptr (GSubprocess) proc = sec_spawn (env, stdin_text, fd3_text, argv);
  int status = sec_finish (proc, out, err);

  if (status < 0)
    g_error ("supolka-cli %s was killed by signal %d", argv[0] ? argv[0] : "", -status);
  return status;
}

int
sec_run (SecEnv *env, const char *fd3_text, char **out, char **err, const char *arg, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  va_list ap;

  va_start (ap, arg);
  for (const char *a = arg; a; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *)a);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  return sec_run_argv (env, NULL, fd3_text, out, err, (const char *const *)argv->pdata);
}
