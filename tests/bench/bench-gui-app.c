/* SPDX-License-Identifier: GPL-3.0-or-later */
/* supolka-bench-gui — one round of the GUI benchmark (bench-gui.c runs it).
 *
 *   supolka-bench-gui --vault DIR
 *
 * The application of the ui library, as the desktop app runs it: its window
 * comes up on the lock page and paints. Then the vault is opened as the lock
 * page's worker opens it (sp_vault_open: Argon2id, then SQLCipher) and handed
 * to the application as the lock page does when a passphrase is accepted
 * (sp_application_set_vault). The figure is the time from the hand-over to the
 * end of the first frame the window's frame clock paints with the main view
 * mapped ("after-paint"); Argon2id is measured alone, with the vault's profile
 * and both key slots as sp_vault_open tries them, for the caller to subtract
 * from the open: both in CPU time of this thread (Argon2id is single-threaded
 * here), which a loaded machine does not inflate as it inflates wall time. Memory: VmHWM of the process, and VmHWM again after resetting
 * the high-water mark (/proc/self/clear_refs) just before the hand-over.
 *
 * Prints one line: "gui: name=value …". Nothing about the records is printed. */
#include <gtk/gtk.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "sp-application.h"
#include "sp-browser.h"
#include "sp-main-view.h"
#include "sp-record-model.h"
#include "sp-vault-private.h" /* sp_kdf_profile_limits, as bench-vault.c */
#include "sp-window.h"
#include "supolka-core.h"

#define WAIT_US (120 * G_USEC_PER_SEC)

typedef struct
{
  SpWindow *window;
  gboolean painted;      /* any frame */
  gboolean main_painted; /* a frame with the main view mapped */
  gint64 main_painted_at;
} Watch;

static double
now_ms (void)
{
  return (double)g_get_monotonic_time () / 1000.0;
}

static void
after_paint (GdkFrameClock *clock, Watch *w)
{
  SpMainView *main = sp_window_get_main_view (w->window);

  w->painted = TRUE;
  if (!w->main_painted && main && gtk_widget_get_mapped (GTK_WIDGET (main)))
    {
      w->main_painted = TRUE;
      w->main_painted_at = g_get_monotonic_time ();
    }
}

static gboolean
iterate_until (gboolean *flag)
{
  gint64 end = g_get_monotonic_time () + WAIT_US;

  while (!*flag)
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, TRUE);
    }
  return TRUE;
}

static void
iterate_for (double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64)(seconds * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (2000);
}

/* CPU seconds of this thread, in ms: what a loaded machine does not inflate. */
static double
cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static double
argon2_both_slots_ms (SpKdfProfile profile)
{
  guint64 ops;
  gsize mem;
  guint8 salt[crypto_pwhash_SALTBYTES], key[32];
  double t0 = cpu_ms ();

  sp_kdf_profile_limits (profile, &ops, &mem);
  randombytes_buf (salt, sizeof salt);
  for (int slot = 0; slot < 2; slot++)
    if (crypto_pwhash (key, sizeof key, BENCH_GUI_PASSPHRASE, strlen (BENCH_GUI_PASSPHRASE), salt,
                       ops, mem, crypto_pwhash_ALG_ARGON2ID13)
        != 0)
      return -1;
  return cpu_ms () - t0;
}

typedef struct
{
  char *name;
  gint64 rss_kib;
} Mapping;

static int
cmp_mapping (gconstpointer a, gconstpointer b)
{
  gint64 x = ((const Mapping *)a)->rss_kib, y = ((const Mapping *)b)->rss_kib;

  return (y > x) - (y < x);
}

/* Where the resident memory is (--smaps): resident KiB per mapped file or
 * kind of anonymous memory, biggest first, on stderr. */
static void
print_smaps (const char *when)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GHashTable) by_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GArray) all = g_array_new (FALSE, FALSE, sizeof (Mapping));
  GHashTableIter it;
  gpointer k, v;
  const char *current = "[anon]";
  g_autofree char *current_owned = NULL;

  if (!g_file_get_contents ("/proc/self/smaps", &text, NULL, NULL))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    {
      const char *l = lines[i];
      if (g_ascii_isxdigit (l[0]) && strchr (l, '-') && strchr (l, '-') < strchr (l, ' '))
        {
          g_auto (GStrv) f = g_strsplit_set (l, " ", -1);
          const char *name = "[anon]";
          for (guint j = 5; f[j]; j++)
            if (*f[j])
              {
                name = f[j];
                break;
              }
          g_free (current_owned);
          current = current_owned = g_strdup (name);
        }
      else if (g_str_has_prefix (l, "Rss:"))
        {
          gint64 kib = g_ascii_strtoll (l + 4, NULL, 10);
          gint64 have = GPOINTER_TO_SIZE (g_hash_table_lookup (by_name, current));
          g_hash_table_insert (by_name, g_strdup (current), GSIZE_TO_POINTER ((gsize)(have + kib)));
        }
    }
  g_hash_table_iter_init (&it, by_name);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      Mapping m = { k, (gint64)GPOINTER_TO_SIZE (v) };
      g_array_append_val (all, m);
    }
  g_array_sort (all, cmp_mapping);
  g_printerr ("resident memory %s (KiB, top 15):\n", when);
  for (guint i = 0; i < MIN (all->len, 15); i++)
    g_printerr ("  %8" G_GINT64_FORMAT "  %s\n", g_array_index (all, Mapping, i).rss_kib,
                g_array_index (all, Mapping, i).name);
}

int
main (int argc, char **argv)
{
  g_autofree char *vault_dir = NULL;
  gboolean smaps = FALSE;
  GOptionEntry entries[] = {
    { "vault", 0, 0, G_OPTION_ARG_FILENAME, &vault_dir, "The vault folder", "DIR" },
    { "smaps", 0, 0, G_OPTION_ARG_NONE, &smaps, "Show where the resident memory is", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("— one round of the GUI benchmark");
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) pass = NULL;
  g_autoptr (SpApplication) app = NULL;
  GdkFrameClock *clock;
  Watch w = { 0 };
  SpVault *vault;
  GtkNative *native;
  GskRenderer *renderer;
  double open0, open_ms, open_cpu0, open_cpu_ms, kdf_cpu_ms, show0, show_ms;
  gint64 hwm, items = -1;
  gboolean reset;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || vault_dir == NULL)
    {
      g_printerr ("supolka-bench-gui: %s\n", error ? error->message : "--vault DIR is required");
      return 2;
    }
  if (!sp_core_init (&error))
    {
      g_printerr ("supolka-bench-gui: %s\n", error->message);
      return 1;
    }
  /* The lock page looks here: it offers to unlock, not to create. */
  g_setenv ("SUPOLKA_VAULT", vault_dir, TRUE);

  app = sp_application_new (G_APPLICATION_NON_UNIQUE);
  if (!g_application_register (G_APPLICATION (app), NULL, &error))
    {
      g_printerr ("supolka-bench-gui: %s\n", error->message);
      return 1;
    }
  sp_application_set_auto_lock_delay (app, 0);
  g_application_activate (G_APPLICATION (app));
  w.window = SP_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (app)));
  if (w.window == NULL)
    {
      g_printerr ("supolka-bench-gui: no window\n");
      return 1;
    }
  gtk_widget_realize (GTK_WIDGET (w.window));
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (w.window));
  if (clock == NULL)
    {
      g_printerr ("supolka-bench-gui: the window has no frame clock\n");
      return 1;
    }
  g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint), &w);
  /* The lock page on screen, as when the user types the passphrase. */
  if (!iterate_until (&w.painted))
    {
      g_printerr ("supolka-bench-gui: the lock page was never painted\n");
      return 1;
    }
  iterate_for (0.5);

  pass = sp_secret_new_from_data (BENCH_GUI_PASSPHRASE, strlen (BENCH_GUI_PASSPHRASE));
  open0 = now_ms ();
  open_cpu0 = cpu_ms ();
  vault = sp_vault_open (vault_dir, pass, &error);
  open_cpu_ms = cpu_ms () - open_cpu0;
  open_ms = now_ms () - open0;
  if (vault == NULL)
    {
      g_printerr ("supolka-bench-gui: %s\n", error->message);
      return 1;
    }
  kdf_cpu_ms = argon2_both_slots_ms (sp_vault_get_kdf_profile (vault));
  hwm = bench_status_kib ("VmHWM");

  if (smaps)
    print_smaps ("at the hand-over");
  reset = bench_reset_hwm ();
  show0 = now_ms ();
  sp_application_set_vault (app, vault); /* the application owns it now */
  show_ms = now_ms () - show0;
  if (!iterate_until (&w.main_painted))
    {
      g_printerr ("supolka-bench-gui: the main view was never painted\n");
      return 1;
    }
  {
    double frame_ms = (double)w.main_painted_at / 1000.0 - show0;
    gint64 hwm_ui = bench_status_kib ("VmHWM");
    gint64 rss = bench_status_kib ("VmRSS");
    SpMainView *main = sp_window_get_main_view (w.window);

    if (main)
      items = g_list_model_get_n_items (
          G_LIST_MODEL (sp_browser_get_model (sp_main_view_get_browser (main))));
    native = GTK_NATIVE (w.window);
    renderer = gtk_native_get_renderer (native);
    iterate_for (1.0);
    printf ("gui: open_ms=%.3f open_cpu_ms=%.3f kdf_cpu_ms=%.3f show_ms=%.3f frame_ms=%.3f "
            "hwm_kib=%" G_GINT64_FORMAT " hwm_ui_kib=%" G_GINT64_FORMAT " rss_kib=%" G_GINT64_FORMAT
            " hwm_settled_kib=%" G_GINT64_FORMAT " items=%" G_GINT64_FORMAT
            " renderer=%s hwm_reset=%d\n",
            open_ms, open_cpu_ms, kdf_cpu_ms, show_ms, frame_ms,
            MAX (hwm, bench_status_kib ("VmHWM")), reset ? hwm_ui : -1, rss,
            reset ? bench_status_kib ("VmHWM") : -1, items,
            renderer ? G_OBJECT_TYPE_NAME (renderer) : "none", reset);
    fflush (stdout);
    if (smaps)
      print_smaps ("1 s after the first frame");
  }
  sp_application_lock (app);
  gtk_window_destroy (GTK_WINDOW (w.window));
  iterate_for (0.1);
  return 0;
}
