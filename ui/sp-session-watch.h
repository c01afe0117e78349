/* sp-session-watch.h — locks the vault when the desktop session does
 * (issue #5): org.gnome.ScreenSaver and org.freedesktop.ScreenSaver
 * ActiveChanged on the session bus, the login1 Session "Lock" signal of our
 * own session on the system bus, and before suspend (login1 PrepareForSleep,
 * holding a "delay" inhibitor lock that is released once the vault is
 * locked). A missing bus or service is harmless.
 *
 * It locks by activating the application's "lock" action, so it knows
 * nothing of what a lock does. One watch per process.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Starts watching for @app (which has a "lock" action); stops at its
 * shutdown. */
void sp_session_watch_start (GApplication *app);

/* The bus signal handlers, callable directly (tests; the system bus cannot be
 * owned by a test). They act on the watched application. */
void sp_session_watch_screen_lock_changed (gboolean active);
void sp_session_watch_prepare_for_sleep (gboolean start);
/* TRUE once the session-bus screen-saver subscriptions are in place. */
gboolean sp_session_watch_is_watching (void);

G_END_DECLS
