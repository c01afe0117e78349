/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ui-test-util.h — the one UI harness of the GTK tests: running the main loop
 * (drain it, wait for a condition with a timeout), the real application with a
 * fresh window on a vault in a temporary folder (the create/unlock fixture of
 * test-ui and test-ui-guard), and PNG screenshots below the build folder. */
#pragma once

#include <gtk/gtk.h>

#include "sp-application.h"
#include "sp-window.h"

G_BEGIN_DECLS

#define UI_PASSPHRASE "correct horse battery"

typedef gboolean (*UiCondition) (gpointer data);

/* Dispatches everything pending, fifty times over: idle work that queues more
 * idle work (layout, list models, timeouts due now) runs to its end. */
void ui_drain (void);
/* Dispatches at most @max sources that are ready now, and no more. */
void ui_drain_some (guint max);
/* Twenty rounds of ui_drain with 10 ms pauses: real time for the frame clock
 * (allocation, painting) as well. */
void ui_drain_paced (void);
/* Iterates the main loop until @cond (@data) holds; a 10 ms tick wakes it while
 * worker threads (vault jobs, the relay) do their part. FALSE after @seconds:
 * callers assert on it, the bound is a guard, never what is tested. */
gboolean ui_wait_for (UiCondition cond, gpointer data, guint seconds);
/* Runs the main loop for @ms (letting timers that are due fire). */
void ui_run_for (guint ms);
/* Conditions for ui_wait_for. */
gboolean ui_flag_set (gpointer flag); /* *(gboolean *)flag */
gboolean ui_is_mapped (gpointer widget);

/* The first widget below @root (itself included) whose name is @name, or NULL. */
GtkWidget *ui_find_named (GtkWidget *root, const char *name);
/* A PNG of @widget at @path (its folder is created), once it is mapped. */
void ui_save_png (GtkWidget *widget, const char *path);

/* The application (one per process: it owns a bus name) with a fresh window
 * each test, SUPOLKA_VAULT pointing to tmp/data/vault. */
typedef struct
{
  char *tmp;
  char *vault_dir;
  SpApplication *app;
  SpWindow *window;
  guint wait_seconds; /* for the helpers below */
} UiFixture;

/* g_test_add (…, UiFixture, GUINT_TO_POINTER (seconds) or NULL (120), …). */
void ui_fixture_setup (UiFixture *fx, gconstpointer wait_seconds);
/* Locks, destroys the window and asserts nothing kept it alive. */
void ui_fixture_teardown (UiFixture *fx, gconstpointer data);
gboolean ui_lock_page_idle (gpointer lock_page);
gboolean ui_vault_open (gpointer app);
gboolean ui_vault_closed (gpointer app);
/* Types into the lock page and presses Unlock / Create. */
void ui_submit_passphrase (UiFixture *fx, const char *text, const char *repeat);
/* Creates the vault with UI_PASSPHRASE; the main view is shown. */
void ui_create_vault (UiFixture *fx);
void ui_unlock (UiFixture *fx, const char *passphrase);
/* At the end of main(): the application goes. */
void ui_fixture_release_app (void);

G_END_DECLS
