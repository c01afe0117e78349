/* The desktop app in the language of $LANGUAGE (meson runs this test once
 * for en, be and ru, with the catalogues built in BUILDDIR/po):
 *
 *  - the catalogue is really in use (a test that passed in English only
 *    because nothing was translated would prove nothing);
 *  - numbers and dates are written the language's way (sp-format.c);
 *  - the main screens — create, unlock, organisations, an organisation and
 *    its links, a person being edited, an event, statistics, conflicts,
 *    compartments, travel mode start and end, preferences — at the default window size (1100×720) and at 360 px wide:
 *    the window is not pushed wider than that by a long string, and no text
 *    of the interface itself is cut short with "…" (names and places from the
 *    vault may be, in narrow lists). Each screen is saved as a PNG in
 *    $SUPOLKA_SHOTS/LANG (default: a folder under the build directory) to be
 *    looked at;
 *  - no two mnemonics clash inside one window or popover (the labels with
 *    use-underline that are mapped together, and every item of each menu,
 *    hidden ones included); the sync and guard dialogs are opened too.
 *
 * Runs under Xvfb (make check wraps meson test in xvfb-run).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#include "supolka-core.h"
#include "sp-application.h"
#include "sp-browser.h"
#include "sp-format.h"
#include "sp-guard-dialogs.h"
#include "sp-lock-page.h"
#include "sp-main-view.h"
#include "sp-preferences.h"
#include "sp-travel-dialog.h"
#include "sp-stats-page.h"
#include "sp-sync-dialogs.h"
#include "sp-window.h"
#include "test-util.h"
#include "ui-demo.h"
#include "ui-test-util.h"

#define PASSPHRASE "demo passphrase"
#define NBSP "\302\240"

static const char *lang; /* "en", "be" or "ru" */

/* ---- The catalogue and the formats ---- */

static void
test_catalogue (void)
{
  const char *organisations = _ ("Organisations");

  if (g_str_equal (lang, "be"))
    g_assert_cmpstr (organisations, ==, "Арганізацыі");
  else if (g_str_equal (lang, "ru"))
    g_assert_cmpstr (organisations, ==, "Организации");
  else
    g_assert_cmpstr (organisations, ==, "Organisations");
}

static void
test_formats (void)
{
  static const struct
  {
    const char *lang, *count, *day, *month, *moment;
  } expect[] = {
    { "en", "-1,234,567", "17 May 2024", "May 2024", "2 June 2024, 09:05" },
    { "be", "-1" NBSP "234" NBSP "567", "17 траўня 2024 г.", "травень 2024 г.",
      "2 чэрвеня 2024 г., 09:05" },
    { "ru", "-1" NBSP "234" NBSP "567", "17 мая 2024 г.", "май 2024 г.", "2 июня 2024 г., 09:05" },
  };
  g_autoptr (GDateTime) dt = g_date_time_new_local (2024, 6, 2, 9, 5, 0);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (expect); i++)
    if (g_str_equal (expect[i].lang, lang))
      break;
  g_assert_cmpuint (i, <, G_N_ELEMENTS (expect));

  {
    g_autofree char *count = sp_format_count (-1234567);
    g_autofree char *small = sp_format_count (999);
    g_autofree char *zero = sp_format_count (0);
    g_autofree char *min = sp_format_count (G_MININT64);
    g_autofree char *day = sp_format_date ("2024-05-17");
    g_autofree char *month = sp_format_date ("2024-05");
    g_autofree char *year = sp_format_date ("2024");
    g_autofree char *moment = sp_format_date_time (dt);

    g_assert_cmpstr (count, ==, expect[i].count);
    g_assert_cmpstr (small, ==, "999");
    g_assert_cmpstr (zero, ==, "0");
    g_assert_true (g_str_has_prefix (min, "-9"));
    g_assert_cmpstr (day, ==, expect[i].day);
    g_assert_cmpstr (month, ==, expect[i].month);
    g_assert_cmpstr (year, ==, "2024");
    g_assert_cmpstr (moment, ==, expect[i].moment);
  }
  /* What is not a stored date comes back as it is (old or odd data). */
  {
    static const char *const odd[]
        = { "", "17.05.2024", "2024-13", "2023-02-29", "2024-05-1", "20244", "2024-05-17T10", "x" };
    for (guint k = 0; k < G_N_ELEMENTS (odd); k++)
      {
        g_autofree char *s = sp_format_date (odd[k]);
        g_assert_cmpstr (s, ==, odd[k]);
      }
    g_assert_null (sp_format_date (NULL));
  }
}

/* ---- The screens ---- */

typedef struct
{
  const char *name;
  int width, height;
} Size;

static const Size sizes[] = { { "default", 1100, 720 }, { "narrow", 360, 720 } };

static void
collect_cut (GtkWidget *widget, GPtrArray *out)
{
  if (!gtk_widget_get_mapped (widget))
    return;
  if (GTK_IS_LABEL (widget))
    {
      const char *text = gtk_label_get_text (GTK_LABEL (widget));
      PangoLayout *layout = gtk_label_get_layout (GTK_LABEL (widget));

      if (text && *text && pango_layout_is_ellipsized (layout) && !sp_demo_is_data (text))
        g_ptr_array_add (out, g_strdup (text));
    }
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    collect_cut (c, out);
}

static char *
shots_dir (void)
{
  const char *base = g_getenv ("SUPOLKA_SHOTS");
  g_autofree char *dir = g_build_filename (base && *base ? base : SHOTS_DIR, lang, NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  return g_steal_pointer (&dir);
}

/* Which widget sets the window's minimum width: at each level, the child
 * that needs the most, down to a leaf. */
static void
report_widest (GtkWidget *widget)
{
  for (int depth = 0; widget && depth < 64; depth++)
    {
      GtkWidget *widest = NULL;
      int widest_min = -1, min = 0;

      gtk_widget_measure (widget, GTK_ORIENTATION_HORIZONTAL, -1, &min, NULL, NULL, NULL);
      g_printerr ("#   %*s%s %d px%s%s%s\n", depth, "", G_OBJECT_TYPE_NAME (widget), min,
                  GTK_IS_LABEL (widget) ? " «" : "",
                  GTK_IS_LABEL (widget) ? gtk_label_get_text (GTK_LABEL (widget)) : "",
                  GTK_IS_LABEL (widget) ? "»" : "");
      for (GtkWidget *c = gtk_widget_get_first_child (widget); c;
           c = gtk_widget_get_next_sibling (c))
        {
          int m = 0;
          if (!gtk_widget_get_visible (c))
            continue;
          gtk_widget_measure (c, GTK_ORIENTATION_HORIZONTAL, -1, &m, NULL, NULL, NULL);
          if (m > widest_min)
            widest_min = m, widest = c;
        }
      widget = widest;
    }
}

/* Waits until the window has drawn a frame: laid out and allocated. */
static void
after_paint (GdkFrameClock *clock, gboolean *painted)
{
  *painted = TRUE;
}

static void
wait_frame (GtkWidget *window)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (window);
  gboolean painted = FALSE;
  gulong id;

  ui_drain_paced ();
  if (clock == NULL)
    return;
  id = g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint), &painted);
  gtk_widget_queue_draw (window);
  for (int i = 0; i < 2000 && !painted; i++)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (5000);
  g_signal_handler_disconnect (clock, id);
  ui_drain_paced ();
}

/* ---- Mnemonics ---- */

/* What a mnemonic belongs to: the nearest button or preferences row around
 * the label (an AdwEntryRow draws its title twice, a button with an icon
 * holds its label deep down), else the label itself. */
static GtkWidget *
mnemonic_owner (GtkWidget *label)
{
  GtkWidget *button = gtk_widget_get_ancestor (label, GTK_TYPE_BUTTON);
  GtkWidget *row = gtk_widget_get_ancestor (label, ADW_TYPE_PREFERENCES_ROW);

  if (button && row)
    return gtk_widget_is_ancestor (button, row) ? button : row;
  return button ? button : row ? row : label;
}

typedef struct
{
  GtkWidget *owner;
  const char *text;
} Mnemonic;

/* Records text's key in seen (lower-case keyval -> Mnemonic); reports a key
 * that another owner already has. 1 on a clash, else 0. */
/* The character a mnemonic stands for, lower case: GTK 4.8's labels keep
 * some as a keysym (Latin), some as the raw code point (Cyrillic, case kept),
 * and Alt+С and Alt+с are one key. */
static gunichar
mnemonic_char (guint keyval)
{
  gunichar c = gdk_keyval_to_unicode (keyval);

  if (c == 0 && keyval < 0x110000)
    c = keyval;
  return g_unichar_tolower (c);
}

/* Records text's key in seen (lower-case character -> Mnemonic); reports a
 * key that another owner already has. 1 on a clash, else 0. */
static guint
add_mnemonic (GHashTable *seen, guint keyval, GtkWidget *owner, const char *text,
              const char *screen)
{
  gunichar key;
  Mnemonic *other;

  if (keyval == GDK_KEY_VoidSymbol || keyval == 0)
    return 0;
  key = mnemonic_char (keyval);
  other = g_hash_table_lookup (seen, GUINT_TO_POINTER (key));
  if (other == NULL)
    {
      Mnemonic *m = g_new (Mnemonic, 1);
      m->owner = owner;
      m->text = text;
      g_hash_table_insert (seen, GUINT_TO_POINTER (key), m);
      return 0;
    }
  if (owner != NULL && other->owner == owner)
    return 0;
  {
    char name[8] = { 0 };

    g_unichar_to_utf8 (g_unichar_toupper (key), name);
    g_printerr ("# %s/%s: «%s» and «%s» share the mnemonic %s\n", lang, screen, other->text, text,
                name);
  }
  return 1;
}

static GHashTable *
mnemonics_new (void)
{
  return g_hash_table_new_full (NULL, NULL, NULL, g_free);
}

/* The mnemonics of one shortcut scope (a window, or a popover, which handles
 * its own): every mapped label with use-underline below widget, popovers left
 * to their own check. The number of clashes, each reported. */
static guint
collect_mnemonics (GtkWidget *widget, GHashTable *seen, const char *screen)
{
  guint clashes = 0;

  if (!gtk_widget_get_mapped (widget))
    return 0;
  if (GTK_IS_LABEL (widget) && gtk_label_get_use_underline (GTK_LABEL (widget)))
    clashes
        += add_mnemonic (seen, gtk_label_get_mnemonic_keyval (GTK_LABEL (widget)),
                         mnemonic_owner (widget), gtk_label_get_label (GTK_LABEL (widget)), screen);
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    if (!GTK_IS_NATIVE (c))
      clashes += collect_mnemonics (c, seen, screen);
  return clashes;
}

/* The mnemonic of a label as GTK reads it: the character after the first
 * single "_" ("__" is a plain underscore). */
static guint
text_mnemonic (const char *text)
{
  for (const char *p = text; *p; p++)
    if (p[0] == '_' && p[1] == '_')
      p++;
    else if (p[0] == '_' && p[1])
      return gdk_unicode_to_keyval (g_utf8_get_char (p + 1));
  return GDK_KEY_VoidSymbol;
}

/* Every item of a menu, those hidden while their action is off included (a
 * workspace's admin sees all of them at once); submenus are scopes of their
 * own. */
static guint
collect_menu (GMenuModel *menu, GHashTable *seen, const char *screen, GPtrArray *labels)
{
  guint clashes = 0;

  for (int i = 0; i < g_menu_model_get_n_items (menu); i++)
    {
      g_autoptr (GMenuModel) section = g_menu_model_get_item_link (menu, i, G_MENU_LINK_SECTION);
      g_autoptr (GMenuModel) submenu = g_menu_model_get_item_link (menu, i, G_MENU_LINK_SUBMENU);
      char *label = NULL;

      if (g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_LABEL, "s", &label))
        {
          g_ptr_array_add (labels, label);
          if (section == NULL)
            clashes += add_mnemonic (seen, text_mnemonic (label), NULL, label, screen);
        }
      if (section)
        clashes += collect_menu (section, seen, screen, labels);
      if (submenu)
        {
          g_autoptr (GHashTable) inner = mnemonics_new ();
          clashes += collect_menu (submenu, inner, screen, labels);
        }
    }
  return clashes;
}

static void
find_menu_buttons (GtkWidget *widget, GPtrArray *out)
{
  if (!gtk_widget_get_mapped (widget))
    return;
  if (GTK_IS_MENU_BUTTON (widget))
    g_ptr_array_add (out, widget);
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    if (!GTK_IS_NATIVE (c))
      find_menu_buttons (c, out);
}

static void wait_frame (GtkWidget *window);

/* Menus whose every item was checked already (they appear on many screens). */
static GPtrArray *menus_checked;

/* The mnemonic clashes in window as it is now, then in each menu or popover
 * its menu buttons open, as shown and (menus) with every item. */
static guint
check_mnemonics (GtkWidget *window, const char *screen)
{
  g_autoptr (GHashTable) seen = mnemonics_new ();
  g_autoptr (GPtrArray) buttons = g_ptr_array_new ();
  guint clashes = collect_mnemonics (window, seen, screen);

  find_menu_buttons (window, buttons);
  for (guint i = 0; i < buttons->len; i++)
    {
      GtkMenuButton *button = buttons->pdata[i];
      GMenuModel *model = gtk_menu_button_get_menu_model (button);
      const char *tip = gtk_widget_get_tooltip_text (GTK_WIDGET (button));
      g_autofree char *where = g_strdup_printf ("%s, menu «%s»", screen, tip ? tip : "?");
      g_autoptr (GHashTable) shown = mnemonics_new ();
      GtkPopover *popover;

      if (model && !g_ptr_array_find (menus_checked, model, NULL))
        {
          g_autoptr (GHashTable) all = mnemonics_new ();
          g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
          g_autofree char *every = g_strdup_printf ("%s, every item", where);

          clashes += collect_menu (model, all, every, labels);
          g_ptr_array_add (menus_checked, g_object_ref (model));
        }
      gtk_menu_button_popup (button);
      wait_frame (window);
      popover = gtk_menu_button_get_popover (button);
      if (popover)
        clashes += collect_mnemonics (GTK_WIDGET (popover), shown, where);
      gtk_menu_button_popdown (button);
      wait_frame (window);
    }
  return clashes;
}

/* The checks on one screen; the number of problems found (each reported). */
static guint
check_screen (GtkWidget *window, const char *screen, const Size *size)
{
  g_autofree char *dir = shots_dir ();
  g_autofree char *file = g_strdup_printf ("%s-%s.png", screen, size->name);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr (GPtrArray) cut = g_ptr_array_new_with_free_func (g_free);
  int min_width = 0;
  guint problems = 0;

  wait_frame (window);
  g_assert_true (sp_demo_save_png (window, path));
  g_test_message ("%s: %s", screen, path);
  /* The content's minimum: the window adds its own frame (a transient
   * AdwPreferencesWindow is 370 px at least, whatever it holds). */
  gtk_widget_measure (ADW_IS_APPLICATION_WINDOW (window)
                          ? adw_application_window_get_content (ADW_APPLICATION_WINDOW (window))
                          : adw_window_get_content (ADW_WINDOW (window)),
                      GTK_ORIENTATION_HORIZONTAL, -1, &min_width, NULL, NULL, NULL);
  g_test_message ("%s/%s: window %d px wide, content needs %d px", size->name, screen,
                  gtk_widget_get_width (window), min_width);
  if (min_width > size->width)
    {
      g_printerr ("# %s/%s/%s: the content needs %d px (at most %d wanted)\n", lang, size->name,
                  screen, min_width, size->width);
      report_widest (window);
      problems++;
    }
  /* Pushed wider all the same (the frame of a dialog may add 10 px). */
  if (gtk_widget_get_width (window) > size->width + 10)
    {
      g_printerr ("# %s/%s/%s: the window is %d px wide (at most %d wanted)\n", lang, size->name,
                  screen, gtk_widget_get_width (window), size->width);
      problems++;
    }
  problems += check_mnemonics (window, screen);
  collect_cut (window, cut);
  for (guint i = 0; i < cut->len; i++)
    g_printerr ("# %s/%s/%s: cut short: «%s»\n", lang, size->name, screen,
                (const char *)cut->pdata[i]);
  return problems + cut->len;
}

/* A label showing exactly text, below widget (mapped ones only). */
static gboolean
shows_text (GtkWidget *widget, const char *text)
{
  if (!gtk_widget_get_mapped (widget))
    return FALSE;
  if (GTK_IS_LABEL (widget) && strstr (gtk_label_get_text (GTK_LABEL (widget)), text))
    return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    if (shows_text (c, text))
      return TRUE;
  return FALSE;
}

/* A window of the main menu's compartments and travel mode, checked alone. */
static guint
check_travel_screen (GtkWidget *window, SpVault *vault, SpTravelDialogKind kind, const char *screen,
                     const Size *size)
{
  GtkWidget *dialog = sp_travel_dialog_new (kind, GTK_WINDOW (window), vault);
  int width = MIN (size->width, 480);
  guint problems;

  gtk_window_set_default_size (GTK_WINDOW (dialog), width, 640);
  gtk_window_present (GTK_WINDOW (dialog));
  sp_demo_wait_width (dialog, width);
  problems = check_screen (dialog, screen, &(Size){ size->name, width, 640 });
  gtk_window_destroy (GTK_WINDOW (dialog));
  return problems;
}

/* The windows of the main menu: compartments, travel start and end,
 * preferences. */
static guint
check_windows (GtkWidget *window, SpVault *vault, const Size *size)
{
  GtkWidget *prefs;
  guint problems = 0;

  problems
      += check_travel_screen (window, vault, SP_TRAVEL_DIALOG_COMPARTMENTS, "compartments", size);
  problems += check_travel_screen (window, vault, SP_TRAVEL_DIALOG_START, "travel-start", size);
  problems += check_travel_screen (window, vault, SP_TRAVEL_DIALOG_END, "travel-end", size);

  prefs = sp_preferences_window_new (NULL);
  g_assert_nonnull (prefs);
  gtk_window_set_transient_for (GTK_WINDOW (prefs), GTK_WINDOW (window));
  gtk_window_present (GTK_WINDOW (prefs));
  gtk_window_set_default_size (GTK_WINDOW (prefs), MIN (size->width, 600), 640);
  sp_demo_wait_width (prefs, MIN (size->width, 600));
  problems
      += check_screen (prefs, "preferences", &(Size){ size->name, MIN (size->width, 600), 640 });
  gtk_window_destroy (GTK_WINDOW (prefs));
  return problems;
}

/* The first widget of type below widget. */
static GtkWidget *
find_type (GtkWidget *widget, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_type (c, type);
      if (found)
        return found;
    }
  return NULL;
}

/* A period with figures and one without: the page stays, its choices are
 * readable, the counts by region, status and kind below them. */
static guint
check_stats (GtkWidget *window, const Size *size)
{
  GtkWidget *page = find_type (window, SP_TYPE_STATS_PAGE);
  GtkWidget *scroller;
  AdwComboRow *period;
  guint problems;

  g_assert_nonnull (page);
  problems = check_screen (window, "stats", size);
  /* The figures' own page: the stack's first child, the empty one, scrolls too. */
  scroller = find_type (find_type (page, ADW_TYPE_PREFERENCES_PAGE), GTK_TYPE_SCROLLED_WINDOW);
  g_assert_nonnull (scroller);
  sp_demo_scroll_to_end (scroller);
  problems += check_screen (window, "stats-end", size);
  period = ADW_COMBO_ROW (find_type (page, ADW_TYPE_COMBO_ROW));
  g_assert_nonnull (period);
  adw_combo_row_set_selected (period, 3); /* the last 12 months: the longest choice */
  /* …seen from the top again. */
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scroller)),
                            0);
  problems += check_screen (window, "stats-period", size);
  adw_combo_row_set_selected (period, 0);
  return problems;
}

static gboolean
sync_dialog_idle (gpointer dialog)
{
  return !sp_sync_dialog_is_busy (SP_SYNC_DIALOG (dialog));
}

/* A dialog shown over the main window: its mnemonics, and a PNG to look at. */
static guint
check_dialog (GtkWidget *dialog, const char *screen)
{
  g_autofree char *dir = shots_dir ();
  g_autofree char *file = g_strdup_printf ("%s.png", screen);
  g_autofree char *path = g_build_filename (dir, file, NULL);

  gtk_window_present (GTK_WINDOW (dialog));
  wait_frame (dialog);
  g_assert_true (sp_demo_save_png (dialog, path));
  return check_mnemonics (dialog, screen);
}

/* Every dialog the main window opens, one after another. */
static guint
check_dialogs (GtkWidget *window, SpVault *vault, const char *tmp)
{
  static const struct
  {
    SpSyncDialogKind kind;
    const char *screen;
  } sync[] = {
    { SP_SYNC_DIALOG_CREATE, "sync-create" },   { SP_SYNC_DIALOG_INVITE, "sync-invite" },
    { SP_SYNC_DIALOG_JOIN, "sync-join" },       { SP_SYNC_DIALOG_APPROVE, "sync-approve" },
    { SP_SYNC_DIALOG_DEVICES, "sync-devices" },
  };
  g_autofree char *backup = g_build_filename (tmp, "demo.backup", NULL);
  guint problems = 0;
  GtkWindow *guard;

  for (guint i = 0; i < G_N_ELEMENTS (sync); i++)
    {
      GtkWidget *dialog = sp_sync_dialog_new (sync[i].kind, GTK_WINDOW (window), vault);

      problems += check_dialog (dialog, sync[i].screen);
      /* The devices dialog asks the relay at once; not in a workspace, it
       * says so. */
      g_assert_true (ui_wait_for (sync_dialog_idle, dialog, 10));
      gtk_window_destroy (GTK_WINDOW (dialog));
      ui_drain_paced ();
    }
  guard = sp_guard_dialog_show_duress (GTK_WINDOW (window), vault);
  problems += check_dialog (GTK_WIDGET (guard), "duress");
  gtk_window_destroy (guard);
  guard = sp_guard_dialog_show_backup (GTK_WINDOW (window), vault, backup);
  problems += check_dialog (GTK_WIDGET (guard), "backup");
  gtk_window_destroy (guard);
  guard = sp_guard_dialog_show_restore (GTK_WINDOW (window), backup, NULL, NULL);
  problems += check_dialog (GTK_WIDGET (guard), "restore");
  gtk_window_destroy (guard);
  ui_drain_paced ();
  return problems;
}

static void
test_screens (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = sp_test_tmpdir ();
  g_autofree char *vault_dir = g_build_filename (tmp, "vault", NULL);
  g_autofree char *event_date = sp_format_date ("2024-05-17");
  SpApplication *app;
  SpDemo demo = { 0 };
  guint problems = 0;

  g_setenv ("SUPOLKA_VAULT", vault_dir, TRUE);
  app = sp_application_new (G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  sp_application_set_auto_lock_delay (app, 0);

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      const Size *size = &sizes[s];
      g_autoptr (SpSecret) pass = sp_test_passphrase (PASSPHRASE);
      GtkWidget *window;
      SpMainView *main_view;
      SpBrowser *browser;
      SpVault *vault;

      g_application_activate (G_APPLICATION (app));
      window = GTK_WIDGET (gtk_application_get_active_window (GTK_APPLICATION (app)));
      g_assert_nonnull (window);
      gtk_window_set_default_size (GTK_WINDOW (window), size->width, size->height);
      gtk_window_present (GTK_WINDOW (window));
      sp_demo_wait_width (window, size->width);

      if (!sp_vault_exists (vault_dir))
        {
          problems += check_screen (window, "create", size);
          vault = sp_vault_create (vault_dir, pass, SP_KDF_INTERACTIVE, &error);
          g_assert_no_error (error);
          sp_demo_fill (vault, &demo);
          /* A second compartment: the editor's chooser, the detail's
           * compartment row and the travel dialogs have something to show. */
          {
            gint64 legal = sp_vault_compartment_add (vault, "Legal support", NULL, &error);

            g_assert_no_error (error);
            g_assert_true (sp_vault_move (vault, demo.person, legal, &error));
            g_assert_no_error (error);
          }
          sp_vault_close (vault);
        }
      sp_lock_page_refresh (sp_window_get_lock_page (SP_WINDOW (window)));
      problems += check_screen (window, "unlock", size);

      vault = sp_vault_open (vault_dir, pass, &error);
      g_assert_no_error (error);
      sp_application_set_vault (app, vault);
      main_view = sp_window_get_main_view (SP_WINDOW (window));
      browser = sp_main_view_get_browser (main_view);
      problems += check_screen (window, "org-list", size);

      sp_browser_show_record (browser, demo.org);
      problems += check_screen (window, "org-detail", size);

      sp_demo_scroll_to_end (GTK_WIDGET (sp_browser_get_detail (browser)));
      problems += check_screen (window, "org-links", size);

      sp_browser_show_record (browser, demo.person);
      gtk_widget_activate_action (GTK_WIDGET (browser), "browser.edit", NULL);
      problems += check_screen (window, "person-edit", size);

      sp_main_view_show_page (main_view, "event");
      ui_drain_paced ();
      /* The event's date in the list, written the language's way. */
      if (size == &sizes[0])
        g_assert_true (shows_text (window, event_date));
      sp_browser_show_record (sp_main_view_get_browser (main_view), demo.event);
      problems += check_screen (window, "event-detail", size);

      sp_main_view_show_page (main_view, "stats");
      problems += check_stats (window, size);

      sp_main_view_show_page (main_view, "conflicts");
      problems += check_screen (window, "conflicts", size);

      problems += check_windows (window, vault, size);
      if (size == &sizes[0])
        problems += check_dialogs (window, vault, tmp);

      sp_application_lock (app);
      gtk_window_destroy (GTK_WINDOW (window));
      ui_drain_paced ();
    }
  g_assert_cmpuint (problems, ==, 0);
  sp_demo_clear (&demo);
  g_object_unref (app);
  sp_test_rmtree (tmp);
  g_unsetenv ("SUPOLKA_VAULT");
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  const char *localedir = g_getenv ("SUPOLKA_LOCALEDIR");
  const char *language = g_getenv ("LANGUAGE");

  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("SUPOLKA_TEST_KDF", "interactive", TRUE);
  if (!sp_core_init (&error))
    g_error ("%s", error->message);
  g_test_init (&argc, &argv, NULL);
  /* Not gtk_test_init: it sets the locale to en_US. */
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  lang = language && *language ? language : "en";
  {
    /* Not fatal during gtk_init only: Debian 12's Belarusian catalogue of
     * GTK itself translates "default:LTR", and gtk_init warns about that. */
    GLogLevelFlags fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK);
    gtk_init ();
    g_log_set_always_fatal (fatal | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL);
  }
  adw_init ();
  /* Xvfb has no desktop settings: GNOME's default title-bar buttons. */
  g_object_set (gtk_settings_get_default (), "gtk-decoration-layout", "appmenu:close", NULL);
  sp_ui_init ();

  menus_checked = g_ptr_array_new_with_free_func (g_object_unref);
  g_test_add_func ("/ui-languages/catalogue", test_catalogue);
  g_test_add_func ("/ui-languages/formats", test_formats);
  g_test_add_func ("/ui-languages/screens", test_screens);
  {
    int status = g_test_run ();
    g_ptr_array_unref (menus_checked);
    return status;
  }
}
