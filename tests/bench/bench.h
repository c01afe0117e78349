/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench.h — the benchmark harness (issue #7).
 *
 * Every figure is measured against a baseline measured in the same run, on the
 * same machine, and printed with the ratio and its target. A benchmark is one
 * function `void bench_xxx (Bench *b)` that measures and calls bench_report()
 * once per figure, plus one row in the table of benchmarks in bench-main.c.
 * Failures of the work itself (an error, a lost blob, a wrong count) go through
 * bench_check(): the run then exits non-zero, and in --smoke mode (a TAP test
 * in `meson test`) the test fails. No figure is ever asserted on. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  BENCH_MODE_FULL,  /* make bench: 1k, 10k, 100k, 200k records; 30 s of relay load */
  BENCH_MODE_QUICK, /* --quick or SUPOLKA_BENCH_QUICK=1: up to 10k records, 5 s of load */
  BENCH_MODE_SMOKE, /* --smoke: 1k records, 2 s of load, TAP; proves the benchmarks still run */
} BenchMode;

typedef enum
{
  BENCH_TARGET_NONE,
  BENCH_TARGET_RATIO_MAX, /* figure / baseline ≤ target */
  BENCH_TARGET_RATIO_MIN, /* baseline / figure ≥ target ("n× faster") */
  BENCH_TARGET_VALUE_MAX, /* figure ≤ target, in the figure's unit */
  BENCH_TARGET_VALUE_MIN, /* figure ≥ target */
} BenchTargetKind;

typedef struct
{
  const char *group;         /* "store", "search", … */
  const char *what;          /* one line: what was measured */
  double value;              /* the figure */
  const char *unit;          /* "s", "ms", "req/s", "MiB" */
  double baseline;           /* same unit; NAN when there is none */
  const char *baseline_what; /* what the baseline is, short */
  BenchTargetKind target_kind;
  double target;
} BenchRow;

typedef struct _Bench Bench;

BenchMode bench_mode (Bench *b);
/* Record counts to measure at, ascending, ending in 0. */
const guint *bench_sizes (Bench *b);
/* Seconds of relay load. */
double bench_load_seconds (Bench *b);
/* A fresh folder under the run's temporary folder (removed at exit). */
char *bench_tmp_dir (Bench *b, const char *name);
/* This executable, for re-running itself as a helper process. */
const char *bench_self (Bench *b);

void bench_report (Bench *b, const BenchRow *row);
/* A note printed under the table (how something was measured, a limit). */
void bench_note (Bench *b, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* Progress on stderr. */
void bench_progress (Bench *b, const char *format, ...) G_GNUC_PRINTF (2, 3);
/* FALSE marks the run failed and prints the message. Returns @ok. */
gboolean bench_check (Bench *b, gboolean ok, const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Monotonic seconds. */
double bench_now (void);
/* Sorts @values (doubles) in place and returns the q-quantile (0 ≤ q ≤ 1),
 * nearest rank. NAN for an empty array. */
double bench_quantile (GArray *values, double q);

/* bench-proc.c: a field of /proc/self/status in KiB ("VmHWM", "VmRSS"), -1
 * if absent; and "5" to /proc/self/clear_refs, which resets VmHWM to the
 * current RSS (Linux ≥ 4.0). */
gint64 bench_status_kib (const char *name);
gboolean bench_reset_hwm (void);

/* ---- Benchmarks (one function each) ---- */

void bench_vault (Bench *b);  /* store, search, unlock, at each size */
void bench_relay (Bench *b);  /* relay under load */
void bench_sync (Bench *b);   /* push then pull through the relay vs plain HTTP */
void bench_gui (Bench *b);    /* first frame of the main window, peak RSS */
void bench_import (Bench *b); /* import-csv of 5, 50, 200 MB: time, peak RSS, disk */
void bench_travel (Bench *b); /* travel mode start and end on a large vault vs a backup */

/* The passphrase of the GUI benchmark's cached vaults (generated data only). */
#define BENCH_GUI_PASSPHRASE "bench-gui-vault-1863"

/* The minimal HTTP server that is the relay's baseline: `supolka-bench
 * --serve-baseline` runs it in its own process. */
int bench_relay_serve_baseline (void);

G_END_DECLS
