/* sp-relaunch.h — replace the running app by a fresh copy of itself
 * (forensics F1): after a lock, nothing of the unlocked session's memory —
 * GTK's and GLib's strings, Pango's layouts, freed or not — survives, because
 * the process image that held it is gone (execve keeps only the pid).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Gives up @app's name on the session bus (so the new copy owns it at
 * once, not as a second instance), marks every descriptor but 0, 1 and 2
 * close-on-exec and executes /proc/self/exe with @argv. Returns only on
 * failure, with @error set. */
gboolean sp_relaunch_exec (GApplication *app, char **argv, GError **error);

G_END_DECLS
