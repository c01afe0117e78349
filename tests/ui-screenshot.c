/* ui-screenshot DIR — renders the main screens of the desktop app with a
 * demo vault (Belarusian and Russian names) to PNG files in DIR:
 * create, lock, org-list, org-detail, person-edit; each at the default size
 * and at 360 px wide. The interface language comes from the environment
 * (LANGUAGE=be ...); SUPOLKA_LOCALEDIR points at compiled catalogues (for
 * example BUILDDIR/po) when they are not installed.
 *
 * Run under a display, e.g.: xvfb-run -a build/tests/ui-screenshot /tmp/shots
 *
 * The demo vault lives in a temporary folder and is removed at the end.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#include "supolka-core.h"
#include "sp-application.h"
#include "sp-browser.h"
#include "sp-main-view.h"
#include "sp-window.h"
#include "test-util.h"
#include "ui-demo.h"
#include "ui-test-util.h"

#define PASSPHRASE "demo passphrase"

static void
shoot (GtkWidget *window, const char *dir, const char *name, const char *size)
{
  const char *lang = g_getenv ("LANGUAGE");
  g_autofree char *file
      = g_strdup_printf ("%s-%s-%s.png", name, size, lang && *lang ? lang : "default");
  g_autofree char *path = g_build_filename (dir, file, NULL);

  ui_drain_paced ();
  if (!sp_demo_save_png (window, path))
    g_error ("could not render %s to %s", name, path);
  g_print ("%s (%d×%d)\n", path, gtk_widget_get_width (window), gtk_widget_get_height (window));
}

int
main (int argc, char **argv)
{
  static const struct
  {
    const char *name;
    int width, height;
  } sizes[] = { { "default", 1280, 800 }, { "narrow", 360, 720 } };
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *vault_dir = NULL;
  g_autoptr (SpApplication) app = NULL;
  const char *localedir = g_getenv ("SUPOLKA_LOCALEDIR");
  const char *out;
  SpDemo demo = { 0 };

  if (argc != 2)
    {
      g_printerr ("usage: ui-screenshot DIR\n");
      return 2;
    }
  out = argv[1];
  if (g_mkdir_with_parents (out, 0700) != 0)
    g_error ("cannot create %s", out);
  if (!sp_core_init (&error))
    g_error ("%s", error->message);
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("SUPOLKA_TEST_KDF", "interactive", TRUE);

  tmp = g_dir_make_tmp ("supolka-shots-XXXXXX", &error);
  if (tmp == NULL)
    g_error ("%s", error->message);
  vault_dir = g_build_filename (tmp, "vault", NULL);
  g_setenv ("SUPOLKA_VAULT", vault_dir, TRUE);

  gtk_init ();
  adw_init ();
  /* Xvfb has no desktop settings: use GNOME's default title-bar buttons
   * (close only) so the shots look as on the desktops we target. */
  g_object_set (gtk_settings_get_default (), "gtk-decoration-layout", "appmenu:close", NULL);
  sp_ui_init ();
  app = sp_application_new (G_APPLICATION_NON_UNIQUE);
  if (!g_application_register (G_APPLICATION (app), NULL, &error))
    g_error ("%s", error->message);

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      GtkWidget *window;
      SpMainView *main_view;
      SpBrowser *browser;
      g_autoptr (SpSecret) pass = sp_test_passphrase (PASSPHRASE);
      SpVault *vault;

      g_application_activate (G_APPLICATION (app));
      window = GTK_WIDGET (gtk_application_get_active_window (GTK_APPLICATION (app)));
      gtk_window_set_default_size (GTK_WINDOW (window), sizes[s].width, sizes[s].height);
      gtk_window_present (GTK_WINDOW (window));
      sp_demo_wait_width (window, sizes[s].width);

      if (!sp_vault_exists (vault_dir))
        {
          shoot (window, out, "create", sizes[s].name);
          vault = sp_vault_create (vault_dir, pass, SP_KDF_INTERACTIVE, &error);
          if (vault == NULL)
            g_error ("%s", error->message);
          sp_demo_fill (vault, &demo);
          sp_vault_close (vault);
        }
      sp_lock_page_refresh (sp_window_get_lock_page (SP_WINDOW (window)));
      shoot (window, out, "lock", sizes[s].name);

      vault = sp_vault_open (vault_dir, pass, &error);
      if (vault == NULL)
        g_error ("%s", error->message);
      sp_application_set_vault (app, vault);
      main_view = sp_window_get_main_view (SP_WINDOW (window));
      browser = sp_main_view_get_browser (main_view);
      shoot (window, out, "org-list", sizes[s].name);

      sp_browser_show_record (browser, demo.org);
      shoot (window, out, "org-detail", sizes[s].name);

      sp_demo_scroll_to_end (GTK_WIDGET (sp_browser_get_detail (browser)));
      shoot (window, out, "org-links", sizes[s].name);

      sp_browser_show_record (browser, demo.person);
      gtk_widget_activate_action (GTK_WIDGET (browser), "browser.edit", NULL);
      shoot (window, out, "person-edit", sizes[s].name);

      sp_application_lock (app);
      gtk_window_destroy (GTK_WINDOW (window));
      ui_drain_paced ();
    }
  sp_demo_clear (&demo);
  sp_test_rmtree (tmp);
  return 0;
}
