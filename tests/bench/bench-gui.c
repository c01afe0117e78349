/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-gui.c — the desktop app: time to the first frame of the main window
 * and peak memory, with a large vault.
 *
 * The vault: built once through the core API with the benchmarks' generator
 * (organisations and people alternating, 1,000 per transaction, KDF profile
 * "interactive") into a cache under the system's temporary folder keyed by
 * size; a bigger one starts from a copy of the biggest smaller one. Only
 * generated data: nothing real is in it.
 *
 * The measurement runs in its own process, supolka-bench-gui (bench-gui-app.c,
 * linked against the ui library), under xvfb-run when there is no display, a
 * fresh process per round: it opens the vault as the lock page's worker does
 * (sp_vault_open), hands it to the application as the lock page does
 * (sp_application_set_vault) and waits for the window's frame clock to finish
 * painting a frame with the main view mapped. Argon2id is measured alone with
 * the vault's profile and subtracted from the open. Peak RSS is VmHWM: of the
 * whole process, and from just before the hand-over (the high-water mark reset
 * through /proc/self/clear_refs) to the first frame. */
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "bench-data.h"
#include "bench.h"

#define BATCH 1000
#define CACHE_VERSION 1 /* bump when the generator changes */

/* Keyed by the schema version too: a build with another schema (a clone of an
 * older or newer tree on the same machine) must never open, migrate or refuse
 * this build's cached vault. */
static char *
cache_dir (guint size)
{
  return g_strdup_printf ("%s/supolka-bench-gui-v%d-s%d-%u", g_get_tmp_dir (), CACHE_VERSION,
                          sp_vault_schema_version_latest (), size);
}

static gboolean
cache_complete (const char *dir)
{
  g_autofree char *marker = g_build_filename (dir, "complete", NULL);

  return g_file_test (marker, G_FILE_TEST_EXISTS);
}

static gboolean
copy_flat_dir (const char *from, const char *to, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (from, 0, error);
  const char *name;

  if (dir == NULL || g_mkdir_with_parents (to, 0700) != 0)
    return FALSE;
  while ((name = g_dir_read_name (dir)))
    {
      g_autofree char *a = g_build_filename (from, name, NULL);
      g_autofree char *b = g_build_filename (to, name, NULL);
      g_autoptr (GFile) fa = g_file_new_for_path (a);
      g_autoptr (GFile) fb = g_file_new_for_path (b);

      if (!g_file_copy (fa, fb, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, error))
        return FALSE;
    }
  return TRUE;
}

static void
remove_flat_dir (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir)
    while ((name = g_dir_read_name (dir)))
      {
        g_autofree char *child = g_build_filename (path, name, NULL);
        g_unlink (child);
      }
  g_rmdir (path);
}

/* Adds records to @vault until it holds @size: the same sequence whatever the
 * starting size (the generator is re-run from its seed and skips ahead). */
static gboolean
grow (Bench *b, SpVault *vault, guint from, guint size, GError **error)
{
  g_autoptr (BenchData) data = bench_data_new (2020);
  double t0 = bench_now ();

  for (guint i = 0; i < from; i++)
    {
      SpFieldValue tmp[BENCH_DATA_MAX_VALUES];
      (void)(i % 2 == 0 ? bench_data_org (data, tmp) : bench_data_person (data, tmp));
    }
  for (guint done = from; done < size;)
    {
      guint n = MIN (BATCH, size - done);

      if (!sp_vault_begin (vault, error))
        return FALSE;
      for (guint i = 0; i < n; i++, done++)
        {
          SpFieldValue values[BENCH_DATA_MAX_VALUES];
          gboolean org = done % 2 == 0;
          gsize k = org ? bench_data_org (data, values) : bench_data_person (data, values);
          g_autofree char *id = sp_vault_insert (vault, org ? "org" : "person", values, k, error);

          if (id == NULL)
            {
              sp_vault_rollback (vault);
              return FALSE;
            }
        }
      if (!sp_vault_commit (vault, error))
        return FALSE;
      if (done % 10000 == 0 || done == size)
        bench_progress (b, "gui: vault of %u records: %u written (%.0f s)", size, done,
                        bench_now () - t0);
    }
  return TRUE;
}

static guint
biggest_cached_below (guint size)
{
  g_autoptr (GDir) dir = g_dir_open (g_get_tmp_dir (), 0, NULL);
  g_autofree char *prefix = g_strdup_printf ("supolka-bench-gui-v%d-", CACHE_VERSION);
  const char *name;
  guint best = 0;

  while (dir && (name = g_dir_read_name (dir)))
    {
      guint64 s;
      g_autofree char *path = NULL;

      if (!g_str_has_prefix (name, prefix)
          || !g_ascii_string_to_unsigned (name + strlen (prefix), 10, 1, size - 1, &s, NULL)
          || s <= best)
        continue;
      path = cache_dir ((guint)s);
      if (cache_complete (path))
        best = (guint)s;
    }
  return best;
}

/* The cached vault of @size records, built if needed; its folder, or NULL. */
static char *
ensure_vault (Bench *b, guint size)
{
  g_autofree char *dir = cache_dir (size);
  g_autofree char *vault_dir = g_build_filename (dir, "vault", NULL);
  g_autofree char *building = g_strdup_printf ("%s.building-%d", dir, (int)getpid ());
  g_autofree char *building_vault = g_build_filename (building, "vault", NULL);
  g_autofree char *marker = g_build_filename (building, "complete", NULL);
  g_autoptr (SpSecret) pass
      = sp_secret_new_from_data (BENCH_GUI_PASSPHRASE, strlen (BENCH_GUI_PASSPHRASE));
  g_autoptr (GError) error = NULL;
  SpVault *vault = NULL;
  guint from = 0;

  if (cache_complete (dir))
    return g_steal_pointer (&vault_dir);
  /* A folder left by an interrupted build is not reused. */
  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      remove_flat_dir (vault_dir);
      remove_flat_dir (dir);
    }
  /* Start from a copy of the biggest smaller cached vault. */
  from = biggest_cached_below (size);
  if (from > 0)
    {
      g_autofree char *other = cache_dir (from);
      g_autofree char *other_vault = g_build_filename (other, "vault", NULL);
      if (!copy_flat_dir (other_vault, building_vault, &error))
        goto fail;
    }
  if (g_mkdir_with_parents (building, 0700) != 0)
    goto fail;
  bench_progress (b, "gui: building the cached vault of %u records in %s (from %u)", size, dir,
                  from);
  vault = from ? sp_vault_open (building_vault, pass, &error)
               : sp_vault_create (building_vault, pass, SP_KDF_INTERACTIVE, &error);
  if (vault == NULL || !grow (b, vault, from, size, &error))
    goto fail;
  sp_vault_close (g_steal_pointer (&vault));
  if (!g_file_set_contents (marker, "", 0, &error))
    goto fail;
  if (g_rename (building, dir) != 0)
    {
      /* Another run (another build folder) finished the same vault first. */
      if (!cache_complete (dir))
        goto fail;
      remove_flat_dir (building_vault);
      g_unlink (marker);
      g_rmdir (building);
    }
  return g_steal_pointer (&vault_dir);

fail:
  bench_check (b, FALSE, "gui: building the vault of %u records: %s", size,
               error ? error->message : g_strerror (errno));
  g_clear_pointer (&vault, sp_vault_close);
  remove_flat_dir (building_vault);
  g_unlink (marker);
  g_rmdir (building);
  return NULL;
}

#ifdef BENCH_GUI_PATH

typedef struct
{
  double open_ms, open_cpu_ms, kdf_cpu_ms, show_ms, frame_ms;
  double hwm_mb, hwm_ui_mb, rss_mb, hwm_settled_mb;
  gint64 items;
  char *renderer;
} GuiRound;

static double
field_double (GHashTable *kv, const char *name)
{
  const char *v = g_hash_table_lookup (kv, name);

  return v ? g_ascii_strtod (v, NULL) : NAN;
}

/* One fresh process; FALSE when it failed. */
static gboolean
gui_round (Bench *b, const char *vault_dir, const char *renderer, GuiRound *r)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_auto (GStrv) env = g_get_environ ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) kv = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto (GStrv) lines = NULL;
  gboolean display = g_getenv ("DISPLAY") || g_getenv ("WAYLAND_DISPLAY");
  int status = 0;

  if (!display)
    {
      g_ptr_array_add (argv, (gpointer) "xvfb-run");
      g_ptr_array_add (argv, (gpointer) "-a");
      g_ptr_array_add (argv, (gpointer) "-s");
      g_ptr_array_add (argv, (gpointer) "-screen 0 1366x768x24");
    }
  g_ptr_array_add (argv, (gpointer)BENCH_GUI_PATH);
  g_ptr_array_add (argv, (gpointer) "--vault");
  g_ptr_array_add (argv, (gpointer)vault_dir);
  g_ptr_array_add (argv, NULL);
  env = g_environ_setenv (env, "GSETTINGS_BACKEND", "memory", TRUE);
  env = g_environ_setenv (env, "GSETTINGS_SCHEMA_DIR", BENCH_SCHEMA_DIR, TRUE);
  env = g_environ_setenv (env, "NO_AT_BRIDGE", "1", TRUE);
  env = g_environ_setenv (env, "GTK_A11Y", "none", TRUE);
  /* meson test sets it: glibc would then touch every allocation (RSS up). */
  env = g_environ_unsetenv (env, "MALLOC_PERTURB_");
  env = renderer ? g_environ_setenv (env, "GSK_RENDERER", renderer, TRUE)
                 : g_environ_unsetenv (env, "GSK_RENDERER");
  if (!g_spawn_sync (NULL, (char **)argv->pdata, env, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                     &status, &error)
      || !g_spawn_check_wait_status (status, &error))
    return bench_check (b, FALSE, "gui: supolka-bench-gui: %s; %s", error->message, err ? err : "");
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], "gui:"))
      {
        g_auto (GStrv) parts = g_strsplit (lines[i] + 4, " ", -1);
        for (guint j = 0; parts[j]; j++)
          {
            char *eq = strchr (parts[j], '=');
            if (eq)
              g_hash_table_insert (kv, g_strndup (parts[j], (gsize)(eq - parts[j])),
                                   g_strdup (eq + 1));
          }
      }
  r->open_ms = field_double (kv, "open_ms");
  r->open_cpu_ms = field_double (kv, "open_cpu_ms");
  r->kdf_cpu_ms = field_double (kv, "kdf_cpu_ms");
  r->show_ms = field_double (kv, "show_ms");
  r->frame_ms = field_double (kv, "frame_ms");
  r->hwm_mb = field_double (kv, "hwm_kib") * 1024 / 1e6;
  r->hwm_ui_mb = field_double (kv, "hwm_ui_kib") * 1024 / 1e6;
  r->rss_mb = field_double (kv, "rss_kib") * 1024 / 1e6;
  r->hwm_settled_mb = field_double (kv, "hwm_settled_kib") * 1024 / 1e6;
  r->items = (gint64)field_double (kv, "items");
  r->renderer = g_strdup (g_hash_table_lookup (kv, "renderer"));
  return bench_check (b, !isnan (r->frame_ms) && !isnan (r->hwm_mb),
                      "gui: no figures from supolka-bench-gui: %s / %s", out, err ? err : "");
}

/* @renderer: GSK_RENDERER for the process, NULL for GTK's own choice. */
static void
gui_at (Bench *b, guint size, const char *vault_dir, const char *renderer_env)
{
  guint rounds = bench_mode (b) == BENCH_MODE_SMOKE ? 1 : 5;
  g_autoptr (GArray) total = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) frame = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) show = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) over = g_array_new (FALSE, FALSE, sizeof (double));
  double hwm = 0, hwm_settled = 0;
  g_autofree char *renderer = NULL;
  gint64 items = -1;

  bench_progress (b, "gui: %u rounds at %u records, renderer %s", rounds, size,
                  renderer_env ? renderer_env : "GTK's choice");
  for (guint i = 0; i < rounds; i++)
    {
      GuiRound r = { 0 };
      double o;

      if (!gui_round (b, vault_dir, renderer_env, &r))
        {
          g_free (r.renderer);
          return;
        }
      o = MAX (r.open_cpu_ms - r.kdf_cpu_ms, 0);
      g_array_append_val (over, o);
      g_array_append_val (frame, r.frame_ms);
      g_array_append_val (show, r.show_ms);
      o += r.frame_ms;
      g_array_append_val (total, o);
      hwm = MAX (hwm, r.hwm_mb);
      hwm_settled = MAX (hwm_settled, r.hwm_settled_mb);
      items = r.items;
      g_free (renderer);
      renderer = r.renderer;
    }
  bench_check (b, items == (size + 1) / 2, "gui: the list shows %" G_GINT64_FORMAT " of %u orgs",
               items, (size + 1) / 2);
  {
    const char *rn = renderer ? renderer : "?";
    g_autofree char *w_total = g_strdup_printf (
        "gui at %u records, %s: passphrase accepted → first frame of the main window, without "
        "Argon2id (median of %u processes)",
        size, rn, rounds);
    g_autofree char *w_frame = g_strdup_printf (
        "gui at %u records, %s: of which vault handed over → first frame painted", size, rn);
    g_autofree char *w_show = g_strdup_printf (
        "gui at %u records, %s: … of which building the main view (sp_application_set_vault)", size,
        rn);
    g_autofree char *w_open = g_strdup_printf (
        "gui at %u records, %s: of which sp_vault_open minus Argon2id (CPU time)", size, rn);
    g_autofree char *w_hwm = g_strdup_printf (
        "gui at %u records, %s: peak RSS (VmHWM) of the process, max of %u", size, rn, rounds);
    g_autofree char *w_hwm_ui = g_strdup_printf (
        "gui at %u records, %s: peak RSS from the hand-over to 1 s after the first frame "
        "(high-water mark reset after Argon2id)",
        size, rn);

    bench_report (b, &(BenchRow){ "gui", w_total, bench_quantile (total, 0.5), "ms", NAN, NULL,
                                  BENCH_TARGET_VALUE_MAX, 300 });
    bench_report (b, &(BenchRow){ "gui", w_frame, bench_quantile (frame, 0.5), "ms", NAN, NULL,
                                  BENCH_TARGET_NONE, 0 });
    bench_report (b, &(BenchRow){ "gui", w_show, bench_quantile (show, 0.5), "ms", NAN, NULL,
                                  BENCH_TARGET_NONE, 0 });
    bench_report (b, &(BenchRow){ "gui", w_open, bench_quantile (over, 0.5), "ms", NAN, NULL,
                                  BENCH_TARGET_NONE, 0 });
    bench_report (b,
                  &(BenchRow){ "gui", w_hwm, hwm, "MB", NAN, NULL, BENCH_TARGET_VALUE_MAX, 200 });
    bench_report (b, &(BenchRow){ "gui", w_hwm_ui, hwm_settled, "MB", NAN, NULL,
                                  BENCH_TARGET_VALUE_MAX, 200 });
  }
}

void
bench_gui (Bench *b)
{
  const guint *sizes = bench_sizes (b);

  /* --quick: the smallest size only (a big vault is built once, then cached). */
  for (guint i = 0; sizes[i] && (i == 0 || bench_mode (b) == BENCH_MODE_FULL); i++)
    {
      g_autofree char *vault_dir = ensure_vault (b, sizes[i]);

      if (vault_dir == NULL)
        return;
      gui_at (b, sizes[i], vault_dir, NULL);
      /* Without a GPU (Xvfb: Mesa llvmpipe) GL costs JIT-compiled shaders and
       * LLVM's memory; cairo shows what the app itself costs. */
      if (bench_mode (b) != BENCH_MODE_SMOKE)
        gui_at (b, sizes[i], vault_dir, "cairo");
    }
  bench_note (b,
              "gui: supolka-bench-gui (the ui library's SpApplication and SpWindow) in a fresh "
              "process per round%s, GTK_A11Y=none; GTK's own renderer choice (GL: under Xvfb "
              "that is Mesa llvmpipe, software) and GSK_RENDERER=cairo; the vault (KDF "
              "\"interactive\": Argon2id takes 64 MiB, counted in the process's VmHWM) cached "
              "in %s, so it is in the page cache; MB = 10^6 bytes",
              g_getenv ("DISPLAY") || g_getenv ("WAYLAND_DISPLAY") ? " on the current display"
                                                                   : " under xvfb-run",
              g_get_tmp_dir ());
}

#else /* no GUI built */

void
bench_gui (Bench *b)
{
  bench_note (b, "gui: not measured: the GUI is not built in this configuration");
  if (bench_mode (b) == BENCH_MODE_SMOKE)
    g_test_skip ("the GUI is not built");
  (void)ensure_vault;
}

#endif
