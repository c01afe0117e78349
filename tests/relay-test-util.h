/* SPDX-License-Identifier: GPL-3.0-or-later */
/* relay-test-util.h — the one way tests start the real supolka-relay
 * ($SUPOLKA_RELAY) on 127.0.0.1: a free port read back from its "listening on"
 * line (or a fixed one, retried while a killed relay still holds it), its data
 * folder, extra arguments, a cleaned environment, its log to a pipe, a file or
 * a faked journal, PR_SET_PDEATHSIG so it never outlives the test; stopped
 * with SIGTERM (must exit 0) or SIGKILL. And the small process and file helpers
 * around it. Needs only GLib; relay-test-client.h talks to the relay over HTTP.
 * Every helper asserts on failure. */
#pragma once

#include <glib.h>

#include "proc-test-util.h"

G_BEGIN_DECLS

#define HOST "127.0.0.1"
#define KIB 1024
#define MIB (1024 * 1024)

/* The test's scratch folder (g_dir_make_tmp), set by the test's main(). */
extern char *tmp_root;
/* When ≥ 0, relays started from now on without a log option write their stderr
 * (the request log) there instead of the test's stderr. */
extern int relay_stderr_fd;

typedef struct
{
  GPid pid;
  int out_fd;
  int err_fd; /* the log pipe with capture_log, else -1 */
  char *data_dir;
  char *base;         /* "http://127.0.0.1:PORT" */
  char *metrics_base; /* the same for --metrics-listen (with metrics), or NULL */
  guint port;
} Relay;

typedef struct
{
  const char *program; /* NULL: $SUPOLKA_RELAY; else a server that speaks alike */
  /* --data DIR and --listen 127.0.0.1:PORT; when NULL, @args carry both (or a
   * --config file does). */
  const char *data_dir;
  const char *const *args; /* more arguments, NULL-terminated, or NULL */
  guint port;              /* 0: a free one; else this one, retried while taken */
  gboolean clean_env;      /* unset JOURNAL_STREAM and the SUPOLKA_RELAY_* tokens */
  gboolean capture_log;    /* stderr to a pipe; relay_stop_log() returns it */
  gboolean journal;        /* with capture_log: $JOURNAL_STREAM names that pipe */
  const char *log_path;    /* stderr to this new file (0600) instead */
  gboolean metrics;        /* also read the "metrics on" line */
  /* The real relay gets --open-creation and --create-rate 100000 (tests create
   * many workspaces from one address) unless @args name --create-token or
   * --open-creation, or this asks for the relay's own default: creation closed,
   * the token in DATA/create-token. */
  gboolean closed_creation;
} RelayOptions;

const char *relay_path (void);
/* A fresh name below tmp_root (not created). */
char *new_data_dir (const char *name);
/* Starts a relay on a free port with @data_dir and @extra arguments. */
Relay *relay_start (const char *data_dir, const char *const *extra);
Relay *relay_start_with (const RelayOptions *opts);
/* Runs a relay that must refuse to start: exit status 1, @needle on stderr. */
void relay_expect_refused (const RelayOptions *opts, const char *needle);
/* SIGTERM: the relay must stop cleanly (exit 0; under ASan, also leak-free).
 * NULL is ignored. */
void relay_stop (Relay *relay);
/* The same for a relay started with capture_log; returns its whole log. */
char *relay_stop_log (Relay *relay);
/* SIGKILL, as a crash. */
void relay_kill (Relay *relay);

/* ---- Files ---- */
gboolean contains_bytes (const guint8 *hay, gsize hay_len, const guint8 *needle, gsize needle_len);
gboolean dir_contains (const char *dir, const guint8 *needle, gsize needle_len, guint *files);
void remove_tree (const char *path);

G_END_DECLS
