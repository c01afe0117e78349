/* The desktop app driven through its actions: create a vault, unlock with a
 * wrong then the right passphrase, add an organisation through the editor,
 * find it by a transliterated prefix, edit, delete and undo, lock (and check
 * the vault is closed and the list widgets are gone), the idle lock.
 *
 * Runs under Xvfb (make check wraps meson test in xvfb-run). Conditions are
 * awaited by iterating the main context with a generous bound; nothing
 * asserts on time.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <string.h>

#include "supolka-core.h"
#include "sp-application.h"
#include "sp-browser.h"
#include "sp-lock-page.h"
#include "sp-main-view.h"
#include "sp-record-model.h"
#include "sp-window.h"
#include "test-util.h"
#include "ui-test-util.h"

#define PASSPHRASE UI_PASSPHRASE
#define WAIT_SECONDS 120

typedef UiFixture Fixture;

static SpBrowser *
browser_of (Fixture *fx)
{
  SpMainView *main = sp_window_get_main_view (fx->window);

  g_assert_nonnull (main);
  return sp_main_view_get_browser (main);
}

typedef struct
{
  SpBrowser *browser;
  guint n;
} CountWait;

static gboolean
model_has_n (gpointer data)
{
  CountWait *w = data;

  return g_list_model_get_n_items (G_LIST_MODEL (sp_browser_get_model (w->browser))) == w->n;
}

static void
search_and_wait (SpBrowser *browser, const char *text, guint n)
{
  CountWait w = { browser, n };

  gtk_editable_set_text (sp_browser_get_search_entry (browser), text);
  /* GtkSearchEntry reports after its typing delay: wait for the model. */
  g_assert_true (ui_wait_for (model_has_n, &w, WAIT_SECONDS));
  ui_drain ();
}

static char *
item_title (SpBrowser *browser, guint pos)
{
  g_autoptr (SpRecordItem) item
      = g_list_model_get_item (G_LIST_MODEL (sp_browser_get_model (browser)), pos);

  g_assert_nonnull (item);
  return g_strdup (sp_record_item_get_title (item));
}

static void
test_create_and_unlock (Fixture *fx, gconstpointer data)
{
  SpLockPage *page = sp_window_get_lock_page (fx->window);

  /* Create: a short passphrase and a mismatch are refused before any KDF. */
  g_assert_true (sp_lock_page_is_creating (page));
  ui_submit_passphrase (fx, "short", "short");
  g_assert_nonnull (sp_lock_page_get_error (page));
  g_assert_null (sp_application_get_vault (fx->app));
  ui_submit_passphrase (fx, PASSPHRASE, "something else");
  g_assert_nonnull (sp_lock_page_get_error (page));
  g_assert_null (sp_application_get_vault (fx->app));
  g_assert_cmpuint (sp_passphrase_strength ("short"), ==, 0);
  g_assert_cmpuint (sp_passphrase_strength ("four words of passphrase"), >,
                    sp_passphrase_strength ("abcdefgh"));

  ui_create_vault (fx);
  g_assert_null (sp_lock_page_get_error (page));

  /* Lock, then a wrong passphrase, then the right one. */
  g_action_group_activate_action (G_ACTION_GROUP (fx->app), "lock", NULL);
  ui_drain ();
  g_assert_null (sp_application_get_vault (fx->app));
  g_assert_null (sp_window_get_main_view (fx->window));
  g_assert_false (sp_lock_page_is_creating (page));

  ui_submit_passphrase (fx, "not the passphrase", NULL);
  g_assert_null (sp_application_get_vault (fx->app));
  g_assert_nonnull (sp_lock_page_get_error (page));
  g_assert_nonnull (strstr (sp_lock_page_get_error (page), "Wrong passphrase"));
  /* The entry is emptied after a failure. */
  g_assert_cmpstr (gtk_editable_get_text (sp_lock_page_get_passphrase_entry (page)), ==, "");

  ui_submit_passphrase (fx, PASSPHRASE, NULL);
  g_assert_true (ui_wait_for (ui_vault_open, fx->app, WAIT_SECONDS));
  g_assert_null (sp_lock_page_get_error (page));
  g_assert_nonnull (sp_window_get_main_view (fx->window));
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (fx->window)), ==, "Supolka");
}

static void
test_records (Fixture *fx, gconstpointer data)
{
  SpBrowser *browser;
  SpRecordEditor *editor;
  SpVault *vault;
  SpRecordDetail *detail;
  g_autofree char *id = NULL;
  g_autofree char *title = NULL;
  g_autofree char *person = NULL;
  g_autofree char *aff = NULL;
  g_autoptr (SpRecord) rec = NULL;
  g_autoptr (GError) error = NULL;
  GtkWidget *list_view;
  SpRecordModel *model;
  SpMainView *main_view;
  CountWait w;
  guint generation;

  ui_create_vault (fx);
  vault = sp_application_get_vault (fx->app);
  browser = browser_of (fx);
  g_assert_cmpstr (sp_browser_get_kind (browser), ==, "org");
  g_assert_cmpstr (sp_browser_get_list_state (browser), ==, "empty");

  /* New record (Ctrl+N), saved empty: the required name is marked. */
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "win.new-record", NULL);
  ui_drain ();
  editor = sp_browser_get_editor (browser);
  g_assert_nonnull (editor);
  g_assert_cmpstr (sp_record_editor_get_kind (editor), ==, "org");
  sp_record_editor_set_value (editor, "email", "not an address");
  gtk_widget_activate_action (GTK_WIDGET (browser), "browser.save", NULL);
  ui_drain ();
  g_assert_nonnull (sp_record_editor_get_field_error (editor, "email"));
  g_assert_null (sp_record_editor_get_field_error (editor, "name"));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (sp_browser_get_model (browser))), ==,
                    0);
  sp_record_editor_set_value (editor, "email", "info@example.org");
  gtk_widget_activate_action (GTK_WIDGET (browser), "browser.save", NULL);
  ui_drain ();
  g_assert_nonnull (sp_record_editor_get_field_error (editor, "name"));
  g_assert_null (sp_record_editor_get_field_error (editor, "email"));
  g_assert_true (
      gtk_widget_has_css_class (sp_record_editor_get_field_widget (editor, "name"), "error"));

  /* Filled in properly: saved, listed, shown. */
  sp_record_editor_set_value (editor, "name", "Мінская ініцыятыва");
  sp_record_editor_set_value (editor, "region", "minsk_city");
  sp_record_editor_set_value (editor, "status", "member");
  sp_record_editor_set_value (editor, "themes", "ecology; Youth, ecology");
  gtk_widget_activate_action (GTK_WIDGET (browser), "browser.save", NULL);
  ui_drain ();
  g_assert_null (sp_browser_get_editor (browser));
  g_assert_nonnull (sp_browser_get_detail (browser));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (sp_browser_get_model (browser))), ==,
                    1);
  g_assert_cmpstr (sp_browser_get_list_state (browser), ==, "list");
  rec = sp_record_detail_get_record (sp_browser_get_detail (browser));
  g_assert_nonnull (rec);
  sp_record_ref (rec);
  id = g_strdup (sp_record_get_id (rec));
  g_assert_cmpstr (sp_record_get (rec, "region"), ==, "minsk_city");
  g_assert_cmpstr (sp_record_get (rec, "themes"), ==, "ecology, Youth");
  g_clear_pointer (&rec, sp_record_unref);

  /* A second organisation, straight into the vault. */
  g_free (sp_test_insert (vault, "org", "name", "Гомельскі клуб", "region", "gomel", NULL));
  sp_browser_reload (browser);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (sp_browser_get_model (browser))), ==,
                    2);

  /* Search as you type, by Latin and Russian spellings of a prefix. */
  search_and_wait (browser, "minsk", 1);
  title = item_title (browser, 0);
  g_assert_cmpstr (title, ==, "Мінская ініцыятыва");
  g_clear_pointer (&title, g_free);
  search_and_wait (browser, "Минская иниц", 1);
  search_and_wait (browser, "qqqzzz", 0);
  g_assert_cmpstr (sp_browser_get_list_state (browser), ==, "no-results");
  search_and_wait (browser, "", 2);

  /* Edit through the editor. */
  sp_browser_show_record (browser, id);
  gtk_widget_activate_action (GTK_WIDGET (browser), "browser.edit", NULL);
  ui_drain ();
  editor = sp_browser_get_editor (browser);
  g_assert_nonnull (editor);
  {
    g_autofree char *name = sp_record_editor_get_value (editor, "name");
    g_assert_cmpstr (name, ==, "Мінская ініцыятыва");
  }
  sp_record_editor_set_value (editor, "locality", "Барысаў");
  sp_record_editor_set_value (editor, "status", "partner");
  gtk_widget_activate_action (GTK_WIDGET (browser), "browser.save", NULL);
  ui_drain ();
  g_assert_null (sp_browser_get_editor (browser));
  rec = sp_vault_get (vault, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sp_record_get (rec, "locality"), ==, "Барысаў");
  g_assert_cmpstr (sp_record_get (rec, "status"), ==, "partner");
  g_assert_cmpstr (sp_record_get (rec, "name"), ==, "Мінская ініцыятыва");
  g_clear_pointer (&rec, sp_record_unref);

  /* Links are shown from both sides: a person in the organisation. */
  person = sp_test_insert (vault, "person", "full_name", "Алесь Шыманскі", "display_name",
                           "Алесь Ш.", "sensitivity", "high", NULL);
  aff = sp_test_insert (vault, "affiliation", "person", person, "org", id, "role", "coordinator",
                        NULL);
  sp_browser_show_record (browser, id);
  detail = sp_browser_get_detail (browser);
  g_assert_nonnull (detail);
  g_assert_cmpint (sp_record_detail_count_links (detail, "affiliations"), ==, 1);
  g_assert_cmpint (sp_record_detail_count_links (detail, "notes"), ==, 0);
  sp_browser_show_record (browser, person);
  g_assert_cmpstr (sp_browser_get_kind (browser), ==, "person");
  detail = sp_browser_get_detail (browser);
  g_assert_cmpint (sp_record_detail_count_links (detail, "affiliations"), ==, 1);
  /* High sensitivity: the list shows the pseudonym. */
  title = item_title (browser, 0);
  g_assert_cmpstr (title, ==, "Алесь Ш.");
  g_clear_pointer (&title, g_free);
  sp_main_view_show_page (sp_window_get_main_view (fx->window), "org");
  g_assert_cmpstr (sp_browser_get_kind (browser), ==, "org");

  /* Delete, then Undo (the toast's action). */
  sp_browser_show_record (browser, id);
  gtk_widget_activate_action (GTK_WIDGET (browser), "browser.delete", NULL);
  ui_drain ();
  rec = sp_vault_get (vault, id, &error);
  g_assert_no_error (error);
  g_assert_true (sp_record_is_deleted (rec));
  g_clear_pointer (&rec, sp_record_unref);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (sp_browser_get_model (browser))), ==,
                    1);
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "win.undo-delete", "(us)",
                              sp_window_get_generation (fx->window), id);
  ui_drain ();
  rec = sp_vault_get (vault, id, &error);
  g_assert_no_error (error);
  g_assert_false (sp_record_is_deleted (rec));
  g_clear_pointer (&rec, sp_record_unref);
  w.browser = browser;
  w.n = 2;
  g_assert_true (model_has_n (&w));

  /* Lock: the vault is closed and the widgets that showed records are gone. */
  main_view = sp_window_get_main_view (fx->window);
  list_view = sp_browser_get_list_view (browser);
  model = sp_browser_get_model (browser);
  g_object_add_weak_pointer (G_OBJECT (main_view), (gpointer *)&main_view);
  g_object_add_weak_pointer (G_OBJECT (browser), (gpointer *)&browser);
  g_object_add_weak_pointer (G_OBJECT (list_view), (gpointer *)&list_view);
  g_object_add_weak_pointer (G_OBJECT (model), (gpointer *)&model);
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "app.lock", NULL);
  ui_drain ();
  g_assert_null (sp_application_get_vault (fx->app));
  g_assert_null (sp_window_get_main_view (fx->window));
  g_assert_null (main_view);
  g_assert_null (browser);
  g_assert_null (list_view);
  g_assert_null (model);
  /* New-record and search have nothing to act on while locked. */
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "win.new-record", NULL);
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "win.search", NULL);
  ui_drain ();
  g_assert_null (sp_window_get_main_view (fx->window));

  /* Unlocked again: a fresh view over the same data. */
  ui_submit_passphrase (fx, PASSPHRASE, NULL);
  g_assert_true (ui_wait_for (ui_vault_open, fx->app, WAIT_SECONDS));
  vault = sp_application_get_vault (fx->app);
  browser = browser_of (fx);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (sp_browser_get_model (browser))), ==,
                    2);

  /* An Undo offered before the lock does nothing after it. */
  generation = sp_window_get_generation (fx->window);
  sp_browser_show_record (browser, id);
  gtk_widget_activate_action (GTK_WIDGET (browser), "browser.delete", NULL);
  ui_drain ();
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "win.undo-delete", "(us)", generation - 1,
                              id);
  ui_drain ();
  rec = sp_vault_get (vault, id, &error);
  g_assert_no_error (error);
  g_assert_true (sp_record_is_deleted (rec));
  g_clear_pointer (&rec, sp_record_unref);
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "win.undo-delete", "(us)", generation, id);
  ui_drain ();
  rec = sp_vault_get (vault, id, &error);
  g_assert_false (sp_record_is_deleted (rec));
  g_clear_pointer (&rec, sp_record_unref);
}

static void
test_panic (Fixture *fx, gconstpointer data)
{
  ui_create_vault (fx);
  g_action_group_activate_action (G_ACTION_GROUP (fx->app), "panic", NULL);
  ui_drain ();
  g_assert_null (sp_application_get_vault (fx->app));
  g_assert_null (sp_window_get_main_view (fx->window));
}

static void
test_idle_lock (Fixture *fx, gconstpointer data)
{
  ui_create_vault (fx);
  /* Input resets the clock; without any, the vault locks by itself. */
  sp_application_set_auto_lock_delay (fx->app, 1);
  g_assert_true (ui_wait_for (ui_vault_closed, fx->app, WAIT_SECONDS));
  g_assert_null (sp_window_get_main_view (fx->window));
}

static void
test_lazy_model (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (SpVault) vault = sp_test_vault_new (&dir);
  g_autoptr (SpRecordModel) model = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) ids = NULL;
  SpFilter f = { 0 };

  g_assert_true (sp_vault_begin (vault, &error));
  for (int i = 0; i < 300; i++)
    {
      g_autofree char *name = g_strdup_printf ("Арганізацыя %03d", i);
      g_free (
          sp_test_insert (vault, "org", "name", name, "region", i % 2 ? "brest" : "gomel", NULL));
    }
  g_assert_true (sp_vault_commit (vault, &error));

  model = sp_record_model_new (vault, "org");
  g_assert_true (sp_record_model_reload (model, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 300);
  {
    g_autoptr (SpRecordItem) a = g_list_model_get_item (G_LIST_MODEL (model), 7);
    g_autoptr (SpRecordItem) b = g_list_model_get_item (G_LIST_MODEL (model), 7);
    g_assert_true (a == b); /* built once, then kept */
    g_assert_cmpstr (sp_record_item_get_title (a), ==, "Арганізацыя 007");
    g_assert_null (g_list_model_get_item (G_LIST_MODEL (model), 300));
  }
  f.region = "brest";
  sp_record_model_set_filter (model, &f);
  g_assert_true (sp_record_model_reload (model, &error));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 150);
  /* Most recently written first. */
  sp_record_model_set_filter (model, NULL);
  sp_record_model_set_sort (model, SP_SORT_UPDATED);
  g_assert_true (sp_record_model_reload (model, &error));
  {
    g_autoptr (SpRecordItem) first = g_list_model_get_item (G_LIST_MODEL (model), 0);
    g_assert_cmpstr (sp_record_item_get_title (first), ==, "Арганізацыя 299");
  }
  ids = sp_vault_list_ids (vault, "org", NULL, SP_SORT_TITLE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, ==, 300);
  g_assert_cmpuint (sp_record_model_find (model, g_ptr_array_index (ids, 0)), ==, 299);
  sp_record_model_clear (model);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 0);
  sp_vault_close (g_steal_pointer (&vault));
  sp_test_rmtree (dir);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;

  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("SUPOLKA_TEST_KDF", "interactive", TRUE);
  if (!sp_core_init (&error))
    g_error ("%s", error->message);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  sp_ui_init ();

  g_test_add_func ("/ui/model/lazy", test_lazy_model);
  g_test_add ("/ui/lock/create-and-unlock", Fixture, NULL, ui_fixture_setup, test_create_and_unlock,
              ui_fixture_teardown);
  g_test_add ("/ui/records/add-search-edit-delete-lock", Fixture, NULL, ui_fixture_setup,
              test_records, ui_fixture_teardown);
  g_test_add ("/ui/lock/panic", Fixture, NULL, ui_fixture_setup, test_panic, ui_fixture_teardown);
  g_test_add ("/ui/lock/idle", Fixture, NULL, ui_fixture_setup, test_idle_lock,
              ui_fixture_teardown);
  {
    int status = g_test_run ();
    ui_fixture_release_app ();
    return status;
  }
}
