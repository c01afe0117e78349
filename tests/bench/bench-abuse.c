/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-abuse.c — the relay while a stranger holds it (issue #21).
 *
 * The real supolka-relay with its default limits (--rate 1000 so that the
 * honest device's own limit is not what is measured). From 127.0.0.2 a
 * stranger (relay-test-load.h) opens 1,000 idle connections, 300 that trickle
 * their headers a byte a second, and 250 that send all but the last byte of a
 * 4.5 MiB batch without authentication (smoke: a tenth). Meanwhile an honest
 * device on 127.0.0.1 syncs as the relay sees a sync — push a 2 KiB batch,
 * pull every page — five times; the baseline is the same sync on the idle
 * relay. Then the relay's peak memory, and how long SIGTERM takes with the
 * stranger's sockets still open. */
#include <curl/curl.h>
#include <fcntl.h>
#include <math.h>
#include <unistd.h>

#include "bench.h"
#include "relay-test-client.h"
#include "relay-test-load.h"

#define SYNCS 5

/* The slowest of SYNCS syncs, in ms. */
static double
worst_sync (Relay *relay, const Workspace *ws, const Device *d, guint64 *seq)
{
  double worst = 0;

  for (guint i = 0; i < SYNCS; i++)
    {
      g_autoptr (GBytes) env = random_envelope (ws, d, ++*seq, 2 * KIB);
      g_autoptr (GPtrArray) page = NULL;
      double start = bench_now ();
      guint pages = 0;

      push (relay, ws, d, env);
      page = pull_all (relay, ws, d, 0, 100, &pages);
      worst = MAX (worst, (bench_now () - start) * 1000.0);
    }
  return worst;
}

static char *
stranger_head (const Workspace *ws, gsize len)
{
  g_autofree char *path = ws_path (ws, "/batches");

  return g_strdup_printf ("POST %s HTTP/1.1\r\nHost: relay\r\nContent-Type: "
                          "application/octet-stream\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                          path, len);
}

void
bench_abuse (Bench *b)
{
  const char *extra[] = { "--rate", "1000", NULL };
  guint scale = bench_mode (b) == BENCH_MODE_SMOKE ? 10 : 1;
  g_autofree char *data_dir = bench_tmp_dir (b, "abuse");
  g_autofree char *head = NULL;
  g_autoptr (Device) admin = NULL;
  gsize batch = 4 * 1024 * 1024 + 512 * 1024;
  Relay *relay;
  Workspace ws;
  LoadCrowd *crowd;
  guint64 seq = 0;
  double idle_ms, loaded_ms, stop_ms, start;
  guint64 peak;

  relay_stderr_fd = open ("/dev/null", O_WRONLY | O_CLOEXEC);
  bench_relay_env (b);
  g_assert_true (sync_protocol_init (NULL));
  g_assert_cmpint (curl_global_init (CURL_GLOBAL_DEFAULT), ==, CURLE_OK);
  relay = relay_start (data_dir, extra);
  setup_workspace (relay, &ws, &admin);
  idle_ms = worst_sync (relay, &ws, admin, &seq);

  bench_progress (b, "abuse: %u idle, %u slowloris, %u half-sent batches from " LOAD_SOURCE,
                  1000 / scale, 300 / scale, 250 / scale);
  crowd = load_crowd_new (relay->port, LOAD_SOURCE);
  head = stranger_head (&ws, batch);
  load_idle (crowd, 1000 / scale);
  load_slowloris (crowd, 300 / scale);
  load_half_bodies (crowd, 250 / scale, head, batch);
  loaded_ms = worst_sync (relay, &ws, admin, &seq);
  peak = load_peak_kib (relay->pid);
  start = bench_now ();
  relay_stop (relay); /* asserts a clean exit */
  stop_ms = (bench_now () - start) * 1000.0;
  load_crowd_free (crowd);

  bench_report (b,
                &(BenchRow){ "abuse", "abuse: slowest of 5 signed syncs from 127.0.0.1", loaded_ms,
                             "ms", idle_ms, "the same, relay idle", BENCH_TARGET_VALUE_MAX, 3000 });
  bench_report (b, &(BenchRow){ "abuse", "abuse: relay peak RSS (VmHWM)", peak / 1024.0, "MiB", NAN,
                                NULL, BENCH_TARGET_VALUE_MAX, 150 });
  bench_report (b, &(BenchRow){ "abuse", "abuse: SIGTERM to exit, stranger's sockets open", stop_ms,
                                "ms", NAN, NULL, BENCH_TARGET_VALUE_MAX, 2000 });
  bench_note (b, "abuse: the stranger connects from " LOAD_SOURCE
                 "; the relay's per-address limit (32) refuses most of its connections at accept, "
                 "the header deadline (10 s) drops the rest, unauthenticated bodies are refused "
                 "from their headers.");
}
