/* SPDX-License-Identifier: GPL-3.0-or-later */
/* ui-test-util.c — see ui-test-util.h. */
#include <glib/gstdio.h>

#include "sp-guard-dialogs.h"
#include "sp-lock-page.h"
#include "test-util.h"
#include "ui-test-util.h"

/* ---- The main loop ---------------------------------------------------------- */

void
ui_drain (void)
{
  for (int i = 0; i < 50; i++)
    while (g_main_context_iteration (NULL, FALSE))
      ;
}

void
ui_drain_some (guint max)
{
  for (guint i = 0; i < max && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
}

void
ui_drain_paced (void)
{
  for (int i = 0; i < 20; i++)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (10000);
    }
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
ui_wait_for (UiCondition cond, gpointer data, guint seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64)seconds * G_USEC_PER_SEC;
  guint tick = g_timeout_add (10, tick_cb, NULL);

  while (!cond (data) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  return cond (data);
}

gboolean
ui_flag_set (gpointer flag)
{
  return *(gboolean *)flag;
}

gboolean
ui_is_mapped (gpointer widget)
{
  return gtk_widget_get_mapped (GTK_WIDGET (widget));
}

static gboolean
set_flag (gpointer flag)
{
  *(gboolean *)flag = TRUE;
  return G_SOURCE_REMOVE;
}

void
ui_run_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, set_flag, &done);
  g_assert_true (ui_wait_for (ui_flag_set, &done, ms / 1000 + 20));
  ui_drain ();
}

/* ---- Screenshots ------------------------------------------------------------ */

void
ui_save_png (GtkWidget *widget, const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (GdkPaintable) paintable = NULL;
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  int w, h;

  g_assert_true (ui_wait_for (ui_is_mapped, widget, 20));
  ui_drain ();
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  w = gtk_widget_get_width (widget);
  h = gtk_widget_get_height (widget);
  paintable = gtk_widget_paintable_new (widget);
  /* The first frames may have nothing to draw yet. */
  for (int i = 0; i < 200 && node == NULL; i++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();

      gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
      node = gtk_snapshot_free_to_node (snapshot);
      if (node == NULL)
        {
          g_usleep (10000);
          ui_drain ();
        }
    }
  g_assert_nonnull (node);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)),
                                         node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  g_assert_true (gdk_texture_save_to_png (texture, path));
}

/* ---- The application fixture ----------------------------------------------- */

static SpApplication *the_app;

void
ui_fixture_setup (UiFixture *fx, gconstpointer wait_seconds)
{
  g_autoptr (GError) error = NULL;

  fx->wait_seconds = wait_seconds ? GPOINTER_TO_UINT (wait_seconds) : 120;
  fx->tmp = sp_test_tmpdir ();
  fx->vault_dir = g_build_filename (fx->tmp, "data", "vault", NULL);
  g_setenv ("SUPOLKA_VAULT", fx->vault_dir, TRUE);
  /* One application per process (it owns a bus name); a fresh window each test. */
  if (the_app == NULL)
    {
      the_app = sp_application_new (G_APPLICATION_NON_UNIQUE);
      g_assert_true (g_application_register (G_APPLICATION (the_app), NULL, &error));
      g_assert_no_error (error);
    }
  fx->app = the_app;
  /* No idle lock in the middle of a test (the idle tests set their own). */
  sp_application_set_auto_lock_delay (fx->app, 0);
  g_assert_null (gtk_application_get_active_window (GTK_APPLICATION (fx->app)));
  g_application_activate (G_APPLICATION (fx->app));
  fx->window = SP_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (fx->app)));
  g_assert_nonnull (fx->window);
  ui_drain ();
}

void
ui_fixture_teardown (UiFixture *fx, gconstpointer data)
{
  GtkWindow *dialog = sp_guard_dialog_get_current ();

  if (dialog)
    gtk_window_destroy (dialog);
  sp_application_lock (fx->app);
  g_assert_null (sp_application_get_vault (fx->app));
  g_object_add_weak_pointer (G_OBJECT (fx->window), (gpointer *)&fx->window);
  gtk_window_destroy (GTK_WINDOW (fx->window));
  ui_drain ();
  g_assert_null (fx->window); /* nothing kept the window alive */
  sp_test_rmtree (fx->tmp);
  g_free (fx->tmp);
  g_free (fx->vault_dir);
  g_unsetenv ("SUPOLKA_VAULT");
}

gboolean
ui_lock_page_idle (gpointer lock_page)
{
  return !sp_lock_page_is_busy (SP_LOCK_PAGE (lock_page));
}

gboolean
ui_vault_open (gpointer app)
{
  return sp_application_get_vault (SP_APPLICATION (app)) != NULL;
}

gboolean
ui_vault_closed (gpointer app)
{
  return sp_application_get_vault (SP_APPLICATION (app)) == NULL;
}

void
ui_submit_passphrase (UiFixture *fx, const char *text, const char *repeat)
{
  SpLockPage *page = sp_window_get_lock_page (fx->window);

  gtk_editable_set_text (sp_lock_page_get_passphrase_entry (page), text);
  if (repeat)
    gtk_editable_set_text (sp_lock_page_get_repeat_entry (page), repeat);
  gtk_widget_activate_action (GTK_WIDGET (page), "lock.unlock", NULL);
  g_assert_true (ui_wait_for (ui_lock_page_idle, page, fx->wait_seconds));
  ui_drain ();
}

void
ui_create_vault (UiFixture *fx)
{
  g_assert_true (sp_lock_page_is_creating (sp_window_get_lock_page (fx->window)));
  ui_submit_passphrase (fx, UI_PASSPHRASE, UI_PASSPHRASE);
  g_assert_true (ui_wait_for (ui_vault_open, fx->app, fx->wait_seconds));
  g_assert_nonnull (sp_window_get_main_view (fx->window));
}

void
ui_unlock (UiFixture *fx, const char *passphrase)
{
  ui_submit_passphrase (fx, passphrase, NULL);
  g_assert_true (ui_wait_for (ui_vault_open, fx->app, fx->wait_seconds));
}

void
ui_fixture_release_app (void)
{
  g_clear_object (&the_app);
}

GtkWidget *
ui_find_named (GtkWidget *root, const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (root), name) == 0)
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = ui_find_named (c, name);
      if (found)
        return found;
    }
  return NULL;
}
