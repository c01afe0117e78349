/* SPDX-License-Identifier: GPL-3.0-or-later */
/* supolka-bench — benchmarks measured against baselines in the same run.
 *
 *   supolka-bench [--quick] [--only NAME,…] [--sizes N,…] [--seconds S] [--markdown FILE]
 *   supolka-bench --smoke [--tap]      every benchmark at 1k records, as a TAP test
 *
 * Prints one table: each figure, its baseline, the ratio, the target and
 * whether it is met. The exit status says whether the work itself went right
 * (no errors, no lost data), never whether a target was met. */
#include <glib/gstdio.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>

#include "bench.h"
#include "supolka-core.h"

#ifndef BENCH_BUILDTYPE
#define BENCH_BUILDTYPE "unknown"
#endif

/* ---- The benchmarks: one row each ---- */

typedef struct
{
  const char *name;
  const char *description;
  void (*run) (Bench *b);
} BenchDef;

static const BenchDef benchmarks[] = {
  { "vault", "store, search and unlock at each size, encrypted vs plain", bench_vault },
  { "relay", "the relay under 50 concurrent clients vs a minimal HTTP server", bench_relay },
  { "sync", "push then pull 10,000 changes (quick 2,000) via the relay vs curl to a plain server",
    bench_sync },
  { "gui", "first frame of the main window and peak RSS, large vault", bench_gui },
  { "import",
    "import-csv of 5, 50, 200 MB (quick 5 MB): time, peak RSS, disk vs parse only and "
    "unencrypted",
    bench_import },
  { "travel", "travel start and end on 50,000 records (quick 10,000) vs an encrypted backup",
    bench_travel },
};

/* ---- Harness ---- */

struct _Bench
{
  BenchMode mode;
  guint sizes[8];
  double load_seconds;
  char *tmp_root;
  char *self;
  GArray *rows; /* BenchRow, strings owned in `strings` */
  GPtrArray *notes;
  GPtrArray *strings;
  gboolean failed;
  gboolean tap;
};

BenchMode
bench_mode (Bench *b)
{
  return b->mode;
}

const guint *
bench_sizes (Bench *b)
{
  return b->sizes;
}

double
bench_load_seconds (Bench *b)
{
  return b->load_seconds;
}

const char *
bench_self (Bench *b)
{
  return b->self;
}

char *
bench_tmp_dir (Bench *b, const char *name)
{
  static guint counter;

  return g_strdup_printf ("%s/%s-%u", b->tmp_root, name, ++counter);
}

static const char *
keep (Bench *b, const char *s)
{
  char *copy = g_strdup (s);

  if (copy)
    g_ptr_array_add (b->strings, copy);
  return copy;
}

static void
say (Bench *b, const char *line)
{
  if (b->tap)
    g_test_message ("%s", line);
  else
    g_print ("%s\n", line);
}

void
bench_report (Bench *b, const BenchRow *row)
{
  BenchRow copy = *row;

  copy.group = keep (b, row->group);
  copy.what = keep (b, row->what);
  copy.unit = keep (b, row->unit);
  copy.baseline_what = keep (b, row->baseline_what);
  g_array_append_val (b->rows, copy);
}

void
bench_note (Bench *b, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (b->notes, g_strdup_vprintf (format, args));
  va_end (args);
}

void
bench_progress (Bench *b, const char *format, ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  if (b->tap)
    g_test_message ("%s", text);
  else
    g_printerr ("  … %s\n", text);
}

gboolean
bench_check (Bench *b, gboolean ok, const char *format, ...)
{
  g_autofree char *text = NULL;
  va_list args;

  if (ok)
    return TRUE;
  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  b->failed = TRUE;
  if (b->tap)
    {
      g_test_message ("FAILED: %s", text);
      g_test_fail ();
    }
  else
    g_printerr ("FAILED: %s\n", text);
  return FALSE;
}

double
bench_now (void)
{
  return (double)g_get_monotonic_time () / G_USEC_PER_SEC;
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

double
bench_quantile (GArray *values, double q)
{
  guint rank;

  if (values->len == 0)
    return NAN;
  g_array_sort (values, cmp_double);
  rank = (guint)ceil (q * values->len);
  rank = CLAMP (rank, 1, values->len);
  return g_array_index (values, double, rank - 1);
}

/* ---- The table ---- */

static char *
fmt_value (double v, const char *unit)
{
  if (isnan (v))
    return g_strdup ("—");
  if (fabs (v) >= 1000)
    return g_strdup_printf ("%.0f %s", v, unit);
  if (fabs (v) >= 100)
    return g_strdup_printf ("%.1f %s", v, unit);
  if (fabs (v) >= 1)
    return g_strdup_printf ("%.2f %s", v, unit);
  return g_strdup_printf ("%.3f %s", v, unit);
}

/* Ratio as shown, and whether the target is met (-1: no target). */
static void
row_verdict (const BenchRow *r, double *ratio, int *met)
{
  *ratio = NAN;
  *met = -1;
  if (!isnan (r->baseline) && r->baseline > 0 && r->value > 0)
    *ratio = r->target_kind == BENCH_TARGET_RATIO_MIN ? r->baseline / r->value
                                                      : r->value / r->baseline;
  switch (r->target_kind)
    {
      case BENCH_TARGET_NONE:
        *met = -1;
        break;
      case BENCH_TARGET_RATIO_MAX:
        *met = !isnan (*ratio) && *ratio <= r->target;
        break;
      case BENCH_TARGET_RATIO_MIN:
        *met = !isnan (*ratio) && *ratio >= r->target;
        break;
      case BENCH_TARGET_VALUE_MAX:
        *met = r->value <= r->target;
        break;
      case BENCH_TARGET_VALUE_MIN:
        *met = r->value >= r->target;
        break;
    }
}

static char *
fmt_target (const BenchRow *r)
{
  switch (r->target_kind)
    {
      case BENCH_TARGET_RATIO_MAX:
        return g_strdup_printf ("ratio ≤ %.2g", r->target);
      case BENCH_TARGET_RATIO_MIN:
        return g_strdup_printf ("≥ %.3g× faster", r->target);
      case BENCH_TARGET_VALUE_MAX:
        return g_strdup_printf ("≤ %.3g %s", r->target, r->unit);
      case BENCH_TARGET_VALUE_MIN:
        return g_strdup_printf ("≥ %.3g %s", r->target, r->unit);
      case BENCH_TARGET_NONE:
      default:
        return g_strdup ("—");
    }
}

static void
pad (GString *out, const char *s, guint width)
{
  glong n = g_utf8_strlen (s, -1);

  g_string_append (out, s);
  for (; n < (glong)width; n++)
    g_string_append_c (out, ' ');
  g_string_append (out, "  ");
}

typedef struct
{
  char *cells[7];
} Cells;

static Cells
row_cells (const BenchRow *r)
{
  Cells c;
  double ratio;
  int met;
  g_autofree char *base = fmt_value (r->baseline, r->unit);

  row_verdict (r, &ratio, &met);
  c.cells[0] = g_strdup (r->group);
  c.cells[1] = g_strdup (r->what);
  c.cells[2] = fmt_value (r->value, r->unit);
  c.cells[3]
      = isnan (r->baseline) ? g_strdup ("—") : g_strdup_printf ("%s (%s)", base, r->baseline_what);
  c.cells[4] = isnan (ratio)                              ? g_strdup ("—")
               : r->target_kind == BENCH_TARGET_RATIO_MIN ? g_strdup_printf ("%.1f× faster", ratio)
                                                          : g_strdup_printf ("%.2f", ratio);
  c.cells[5] = fmt_target (r);
  c.cells[6] = g_strdup (met < 0 ? "—" : met ? "yes" : "NO");
  return c;
}

static const char *const headings[7]
    = { "group", "figure", "value", "baseline (same run)", "ratio", "target", "met" };

static void
print_table (Bench *b)
{
  g_autofree Cells *cells = g_new0 (Cells, b->rows->len);
  guint width[7];

  for (guint j = 0; j < 7; j++)
    width[j] = (guint)g_utf8_strlen (headings[j], -1);
  for (guint i = 0; i < b->rows->len; i++)
    {
      cells[i] = row_cells (&g_array_index (b->rows, BenchRow, i));
      for (guint j = 0; j < 7; j++)
        width[j] = MAX (width[j], (guint)g_utf8_strlen (cells[i].cells[j], -1));
    }
  say (b, "");
  {
    g_autoptr (GString) line = g_string_new (NULL);
    for (guint j = 0; j < 7; j++)
      pad (line, headings[j], width[j]);
    say (b, line->str);
  }
  for (guint i = 0; i < b->rows->len; i++)
    {
      g_autoptr (GString) line = g_string_new (NULL);
      for (guint j = 0; j < 7; j++)
        {
          pad (line, cells[i].cells[j], width[j]);
          g_free (cells[i].cells[j]);
        }
      say (b, line->str);
    }
  say (b, "");
  for (guint i = 0; i < b->notes->len; i++)
    {
      g_autofree char *line = g_strdup_printf ("* %s", (char *)b->notes->pdata[i]);
      say (b, line);
    }
}

/* ---- The machine ---- */

static char *
cpu_model (void)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/cpuinfo", &text, NULL, NULL))
    return g_strdup ("unknown");
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], "model name"))
      {
        const char *colon = strchr (lines[i], ':');
        if (colon)
          return g_strstrip (g_strdup (colon + 1));
      }
  return g_strdup ("unknown");
}

static char *
mem_total (void)
{
  g_autofree char *text = NULL;
  const char *p;

  if (!g_file_get_contents ("/proc/meminfo", &text, NULL, NULL)
      || (p = strstr (text, "MemTotal:")) == NULL)
    return g_strdup ("unknown");
  return g_strdup_printf ("%.1f GiB", (double)g_ascii_strtoll (p + 9, NULL, 10) / (1024 * 1024));
}

static char *
read_sys (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return g_strstrip (text);
}

/* The block device under @path: name, rotational flag, model where known. */
static char *
disk_of (const char *path)
{
  struct stat st;
  g_autofree char *link = NULL;
  g_autofree char *real = NULL;
  g_autofree char *rot = NULL;
  g_autofree char *model = NULL;
  g_autofree char *name = NULL;

  if (stat (path, &st) != 0)
    return g_strdup ("unknown");
  link = g_strdup_printf ("/sys/dev/block/%u:%u", major (st.st_dev), minor (st.st_dev));
  real = realpath (link, NULL);
  if (real == NULL)
    return g_strdup ("unknown (not a block device: tmpfs or overlay?)");
  rot = read_sys (real, "queue/rotational");
  if (rot == NULL) /* a partition: its disk is the parent */
    {
      char *slash = strrchr (real, '/');
      if (slash)
        *slash = '\0';
      rot = read_sys (real, "queue/rotational");
    }
  model = read_sys (real, "device/model");
  name = g_path_get_basename (real);
  return g_strdup_printf ("%s%s%s, rotational=%s%s", name, model && *model ? " " : "",
                          model ? model : "", rot ? rot : "?",
                          g_str_has_prefix (name, "vd")
                              ? " (virtio disk of a virtual machine: "
                                "the flag says nothing of the host's disk)"
                              : "");
}

static GPtrArray *
machine_lines (Bench *b)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *cpu = cpu_model ();
  g_autofree char *mem = mem_total ();
  g_autofree char *disk = disk_of (b->tmp_root);
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *date = g_date_time_format (now, "%Y-%m-%d %H:%M %Z");
  struct utsname uts;

  uname (&uts);
  g_ptr_array_add (lines, g_strdup_printf ("date: %s", date));
  g_ptr_array_add (lines,
                   g_strdup_printf ("CPU: %s, %d cores visible", cpu, g_get_num_processors ()));
  g_ptr_array_add (lines, g_strdup_printf ("RAM: %s", mem));
  g_ptr_array_add (lines, g_strdup_printf ("disk (temporary folder): %s", disk));
  g_ptr_array_add (lines, g_strdup_printf ("kernel: %s %s; build: %s", uts.sysname, uts.release,
                                           BENCH_BUILDTYPE));
  {
    g_autofree char *load = NULL;
    if (g_file_get_contents ("/proc/loadavg", &load, NULL, NULL))
      g_ptr_array_add (lines,
                       g_strdup_printf ("load average (1, 5, 15 min) at the end of the run: %s",
                                        g_strstrip (load)));
  }
  g_ptr_array_add (lines, g_strdup_printf ("mode: %s", b->mode == BENCH_MODE_FULL    ? "full"
                                                       : b->mode == BENCH_MODE_QUICK ? "quick"
                                                                                     : "smoke"));
  return lines;
}

static gboolean
write_markdown (Bench *b, const char *path, GError **error)
{
  g_autoptr (GString) md = g_string_new (NULL);
  g_autoptr (GPtrArray) machine = machine_lines (b);

  g_string_append (md, "Machine:\n\n");
  for (guint i = 0; i < machine->len; i++)
    g_string_append_printf (md, "- %s\n", (char *)machine->pdata[i]);
  g_string_append (md, "\n| ");
  for (guint j = 0; j < 7; j++)
    g_string_append_printf (md, "%s | ", headings[j]);
  g_string_append (md, "\n|");
  for (guint j = 0; j < 7; j++)
    g_string_append (md, "---|");
  g_string_append_c (md, '\n');
  for (guint i = 0; i < b->rows->len; i++)
    {
      Cells c = row_cells (&g_array_index (b->rows, BenchRow, i));
      g_string_append (md, "| ");
      for (guint j = 0; j < 7; j++)
        {
          g_string_append_printf (md, "%s | ", c.cells[j]);
          g_free (c.cells[j]);
        }
      g_string_append_c (md, '\n');
    }
  g_string_append_c (md, '\n');
  for (guint i = 0; i < b->notes->len; i++)
    g_string_append_printf (md, "- %s\n", (char *)b->notes->pdata[i]);
  return g_file_set_contents (path, md->str, (gssize)md->len, error);
}

/* ---- Main ---- */

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir)
    while ((name = g_dir_read_name (dir)))
      {
        g_autofree char *child = g_build_filename (path, name, NULL);
        if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          remove_tree (child);
        else
          g_unlink (child);
      }
  g_rmdir (path);
}

static gboolean
parse_sizes (const char *text, guint sizes[8])
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  guint n = 0;

  for (guint i = 0; parts[i] && n < 7; i++)
    {
      guint64 v;
      if (!g_ascii_string_to_unsigned (g_strstrip (parts[i]), 10, 100, 10000000, &v, NULL)
          || (n > 0 && v <= sizes[n - 1]))
        return FALSE;
      sizes[n++] = (guint)v;
    }
  sizes[n] = 0;
  return n > 0;
}

static Bench *the_bench;

static void
run_test (gconstpointer data)
{
  const BenchDef *def = data;

  def->run (the_bench);
}

int
main (int argc, char **argv)
{
  gboolean quick = FALSE, smoke = FALSE, serve_baseline = FALSE;
  g_autofree char *only = NULL;
  g_autofree char *sizes = NULL;
  g_autofree char *markdown = NULL;
  double seconds = 0;
  GOptionEntry entries[] = {
    { "quick", 0, 0, G_OPTION_ARG_NONE, &quick, "Fewer records, 5 s of relay load", NULL },
    { "smoke", 0, 0, G_OPTION_ARG_NONE, &smoke, "1k records, 2 s of load, as a TAP test", NULL },
    { "only", 0, 0, G_OPTION_ARG_STRING, &only, "Run only these benchmarks", "NAME,…" },
    { "sizes", 0, 0, G_OPTION_ARG_STRING, &sizes, "Record counts to measure at", "N,…" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "Seconds of relay load", "S" },
    { "markdown", 0, 0, G_OPTION_ARG_FILENAME, &markdown, "Also write the table here", "FILE" },
    { "serve-baseline", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &serve_baseline, NULL, NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("— Supolka benchmarks (issue #7)");
  g_autoptr (GError) error = NULL;
  Bench b = { 0 };
  int ret = 0;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_ignore_unknown_options (context, TRUE); /* --tap and GTest's own */
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("supolka-bench: %s\n", error->message);
      return 2;
    }
  if (serve_baseline)
    return bench_relay_serve_baseline ();
  if (!sp_core_init (&error))
    {
      g_printerr ("supolka-bench: %s\n", error->message);
      return 1;
    }

  b.mode = smoke                                       ? BENCH_MODE_SMOKE
           : quick || g_getenv ("SUPOLKA_BENCH_QUICK") ? BENCH_MODE_QUICK
                                                       : BENCH_MODE_FULL;
  switch (b.mode)
    {
      case BENCH_MODE_FULL:
        parse_sizes ("1000,10000,100000,200000", b.sizes);
        b.load_seconds = 30;
        break;
      case BENCH_MODE_QUICK:
        parse_sizes ("1000,10000", b.sizes);
        b.load_seconds = 5;
        break;
      case BENCH_MODE_SMOKE:
        parse_sizes ("1000", b.sizes);
        b.load_seconds = 2;
        break;
    }
  if (sizes && !parse_sizes (sizes, b.sizes))
    {
      g_printerr ("supolka-bench: --sizes takes ascending counts from 100, e.g. 1000,10000\n");
      return 2;
    }
  if (seconds > 0)
    b.load_seconds = seconds;
  b.self = g_file_read_link ("/proc/self/exe", NULL);
  if (b.self == NULL)
    b.self = g_strdup (argv[0]);
  b.tmp_root = g_dir_make_tmp ("supolka-bench-XXXXXX", &error);
  if (b.tmp_root == NULL)
    {
      g_printerr ("supolka-bench: %s\n", error->message);
      return 1;
    }
  b.rows = g_array_new (FALSE, FALSE, sizeof (BenchRow));
  b.notes = g_ptr_array_new_with_free_func (g_free);
  b.strings = g_ptr_array_new_with_free_func (g_free);
  the_bench = &b;

  if (b.mode == BENCH_MODE_SMOKE)
    {
      b.tap = TRUE;
      g_test_init (&argc, &argv, NULL);
      for (guint i = 0; i < G_N_ELEMENTS (benchmarks); i++)
        {
          g_autofree char *path = g_strdup_printf ("/bench/smoke/%s", benchmarks[i].name);
          g_test_add_data_func (path, &benchmarks[i], run_test);
        }
      ret = g_test_run ();
      print_table (&b);
    }
  else
    {
      g_auto (GStrv) names = only ? g_strsplit (only, ",", -1) : NULL;
      g_autoptr (GPtrArray) machine = NULL;

      for (guint i = 0; i < G_N_ELEMENTS (benchmarks); i++)
        {
          if (names && !g_strv_contains ((const char *const *)names, benchmarks[i].name))
            continue;
          g_printerr ("%s: %s\n", benchmarks[i].name, benchmarks[i].description);
          benchmarks[i].run (&b);
        }
      machine = machine_lines (&b); /* after the run: the load average is the run's */
      g_print ("\nSupolka benchmarks (issue #7)\n");
      for (guint i = 0; i < machine->len; i++)
        g_print ("  %s\n", (char *)machine->pdata[i]);
      print_table (&b);
      if (markdown && !write_markdown (&b, markdown, &error))
        {
          g_printerr ("supolka-bench: %s\n", error->message);
          b.failed = TRUE;
        }
      if (b.failed)
        {
          g_print ("FAILED: some benchmark reported an error (see above)\n");
          ret = 1;
        }
    }

  remove_tree (b.tmp_root);
  g_free (b.tmp_root);
  g_free (b.self);
  g_array_unref (b.rows);
  g_ptr_array_unref (b.notes);
  g_ptr_array_unref (b.strings);
  return ret;
}
