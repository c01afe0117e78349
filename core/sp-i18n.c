/* sp-i18n.c — where the programs find their translations.
 *
 * Installed, the catalogues are under LOCALEDIR (the configured prefix). Run from
 * the build tree (`make run`, ./build/app/supolka-cli), the programs use the
 * catalogues meson compiled there (BUILDDIR/po/LANG/LC_MESSAGES/supolka.mo), so
 * LANGUAGE=be works before anything is installed, with no variable to set.
 * "In the build tree" means: this process's executable (/proc/self/exe, which the
 * kernel resolves) lies inside the build folder this file was compiled for. An
 * installed copy lies elsewhere and keeps to LOCALEDIR.
 *
 * GLib only, no vault code: the relay, which links nothing else of core, uses it too.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <limits.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "supolka-core.h"

/* SP_BUILD_ROOT and SP_BUILD_LOCALEDIR come from core/meson.build. The locale
 * folder of the build tree, or NULL when this executable is not in it. */
static char *
build_tree_locale_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *root = realpath (SP_BUILD_ROOT, NULL);
  g_autofree char *dir = realpath (SP_BUILD_LOCALEDIR, NULL);
  gsize len;

  if (exe == NULL || root == NULL || dir == NULL)
    return NULL;
  len = strlen (root);
  if (strncmp (exe, root, len) != 0 || exe[len] != '/')
    return NULL;
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return NULL;
  return g_steal_pointer (&dir);
}

void
sp_i18n_init (void)
{
  g_autofree char *dir = build_tree_locale_dir ();

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, dir != NULL ? dir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}
