/* SPDX-License-Identifier: GPL-3.0-or-later */
/* relay-test-load.h — a stranger's load on the relay, for test-relay-abuse.c and
 * the abuse benchmark (tests/bench/bench-abuse.c): raw sockets from one
 * loopback address (127.0.0.2, while the honest client uses 127.0.0.1) that
 * connect and send nothing, trickle a request's headers a byte at a time
 * (slowloris), or send all of a request body but its last byte; and the
 * relay's memory as the kernel counts it. GLib only. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define LOAD_SOURCE "127.0.0.2"

typedef struct _LoadCrowd LoadCrowd;

/* Sockets from @source to 127.0.0.1:@port; RLIMIT_NOFILE is raised to the
 * hard limit. A thread sends each slowloris socket one more byte every second. */
LoadCrowd *load_crowd_new (guint port, const char *source);
/* Stops the trickle and closes every socket. NULL-safe. */
void load_crowd_free (LoadCrowd *crowd);
/* @n connections that send nothing. */
void load_idle (LoadCrowd *crowd, guint n);
/* @n connections that send a request line and then one header byte a second. */
void load_slowloris (LoadCrowd *crowd, guint n);
/* @n connections that each send @head (the request line and headers, ending
 * in a blank line; it should name Content-Length: @body_len) and all but the
 * last byte of a @body_len body. A send the relay refuses stops early. */
void load_half_bodies (LoadCrowd *crowd, guint n, const char *head, gsize body_len);
/* How many of the crowd's sockets the relay has not closed. */
guint load_still_open (LoadCrowd *crowd);
/* Sockets opened so far. */
guint load_count (LoadCrowd *crowd);

/* The process's resident memory now, and its peak (VmRSS, VmHWM), in KiB. */
guint64 load_rss_kib (GPid pid);
guint64 load_peak_kib (GPid pid);

G_END_DECLS
