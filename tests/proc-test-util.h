/* SPDX-License-Identifier: GPL-3.0-or-later */
/* proc-test-util.h — child processes of the tests (relays, supolka-cli, proxies):
 * reading their output with a deadline, tying them to the test's life, waiting
 * for them with a timeout. GLib only. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reads one line from @fd within @timeout_ms; NULL on EOF or timeout. */
char *read_line (int fd, int timeout_ms);
/* Everything on @fd until EOF; fails the test after @timeout_ms. */
char *read_until_eof (int fd, int timeout_ms);
/* A g_spawn / GSubprocess child setup: PR_SET_PDEATHSIG, so the child gets
 * SIGKILL when the test dies, even on an abort. */
void die_with_parent (gpointer user_data);
/* Waits for the child (SIGKILL and fail after @timeout_ms); its wait status. */
int wait_child (GPid pid, int timeout_ms);

G_END_DECLS
