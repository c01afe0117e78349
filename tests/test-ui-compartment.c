/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-ui-compartment.c — compartments and travel mode in the desktop app
 * (issue #19), under Xvfb: the editor's compartment chooser (the device's
 * default for new records, a move when saved), the detail view's compartment
 * row and "Move to…", a link to a record the device does not hold shown as
 * "Restricted record" (never its id or title), the statistics page's
 * "figures from N of M", and against the real relay on 127.0.0.1 the travel
 * dialog refusing with the unsent change named, then showing the return code
 * (12 words and a QR code), and "End Travel Mode…" bringing it back.
 * Screenshots to BUILDDIR/tests/shots/ui-compartment. */
#include <glib/gi18n.h>
#include <string.h>

#include "relay-test-util.h"
#include "sp-application.h"
#include "sp-compartments.h"
#include "sp-main-view.h"
#include "sp-qr.h"
#include "sp-record-detail.h"
#include "sp-record-editor.h"
#include "sp-stats-page.h"
#include "sp-travel-dialog.h"
#include "sp-vault-job.h"
#include "supolka-core.h"
#include "supolka-sync.h"
#include "test-util.h"
#include "ui-test-util.h"

static const char *shots_dir = SHOTS_DIR;

static void
shot (GtkWidget *widget, const char *name)
{
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  g_autofree char *path = g_build_filename (shots_dir, file, NULL);

  ui_drain_paced ();
  ui_save_png (widget, path);
}

/* Any label or row below @root showing @text. */
static gboolean
shows (GtkWidget *root, const char *text)
{
  const char *t = NULL;

  if (GTK_IS_LABEL (root))
    t = gtk_label_get_text (GTK_LABEL (root));
  else if (ADW_IS_PREFERENCES_ROW (root))
    t = adw_preferences_row_get_title (ADW_PREFERENCES_ROW (root));
  if (t && strstr (t, text))
    return TRUE;
  if (ADW_IS_ACTION_ROW (root) && (t = adw_action_row_get_subtitle (ADW_ACTION_ROW (root)))
      && strstr (t, text))
    return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c; c = gtk_widget_get_next_sibling (c))
    if (shows (c, text))
      return TRUE;
  return FALSE;
}

static SpVault *
open_vault (UiFixture *fx)
{
  ui_create_vault (fx);
  return sp_application_get_vault (fx->app);
}

static char *
insert (SpVault *vault, const char *kind, gint64 comp, const char *field, const char *value,
        const char *field2, const char *value2)
{
  g_autoptr (GError) error = NULL;
  SpFieldValue v[] = { { field, value }, { field2, value2 } };
  char *id = sp_vault_insert_in (vault, kind, comp, v, field2 ? 2 : 1, &error);

  g_assert_no_error (error);
  return id;
}

static gint64
compartment_of (SpVault *vault, const char *id)
{
  g_autoptr (SpRecord) r = sp_vault_get (vault, id, NULL);

  g_assert_nonnull (r);
  return sp_record_get_compartment (r);
}

static void
test_editor (UiFixture *fx, gconstpointer data)
{
  SpVault *vault = open_vault (fx);
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL, *id2 = NULL;
  GtkWidget *editor, *chooser;
  gint64 legal;

  /* Main only: no chooser. */
  editor = g_object_ref_sink (sp_record_editor_new (vault, "org", NULL));
  g_assert_null (sp_record_editor_get_compartment_chooser (SP_RECORD_EDITOR (editor)));
  g_object_unref (editor);

  legal = sp_vault_compartment_add (vault, "Legal support", NULL, &error);
  g_assert_no_error (error);
  editor = g_object_ref_sink (sp_record_editor_new (vault, "org", NULL));
  chooser = sp_record_editor_get_compartment_chooser (SP_RECORD_EDITOR (editor));
  g_assert_nonnull (chooser);
  g_assert_cmpuint (sp_compartment_dropdown_count (chooser), ==, 2);
  g_assert_cmpint (sp_compartment_dropdown_get (chooser), ==, 0);
  sp_record_editor_set_value (SP_RECORD_EDITOR (editor), "name", "Chosen Legal Org");
  g_assert_true (sp_compartment_dropdown_set (chooser, legal));
  id = sp_record_editor_save (SP_RECORD_EDITOR (editor), &error);
  g_assert_no_error (error);
  g_assert_cmpint (compartment_of (vault, id), ==, legal);
  g_object_unref (editor);

  /* The device's default is the chooser's first choice. */
  g_assert_true (sp_vault_set_default_compartment (vault, legal, &error));
  editor = g_object_ref_sink (sp_record_editor_new (vault, "person", NULL));
  chooser = sp_record_editor_get_compartment_chooser (SP_RECORD_EDITOR (editor));
  g_assert_cmpint (sp_compartment_dropdown_get (chooser), ==, legal);
  sp_record_editor_set_value (SP_RECORD_EDITOR (editor), "full_name", "Default Person");
  id2 = sp_record_editor_save (SP_RECORD_EDITOR (editor), &error);
  g_assert_no_error (error);
  g_assert_cmpint (compartment_of (vault, id2), ==, legal);
  g_object_unref (editor);

  /* An existing record moves when another compartment is chosen. */
  {
    g_autoptr (SpRecord) r = sp_vault_get (vault, id, NULL);
    g_autofree char *again = NULL;

    editor = g_object_ref_sink (sp_record_editor_new (vault, "org", r));
    chooser = sp_record_editor_get_compartment_chooser (SP_RECORD_EDITOR (editor));
    g_assert_cmpint (sp_compartment_dropdown_get (chooser), ==, legal);
    g_assert_true (sp_compartment_dropdown_set (chooser, 0));
    again = sp_record_editor_save (SP_RECORD_EDITOR (editor), &error);
    g_assert_no_error (error);
    g_assert_cmpint (compartment_of (vault, id), ==, 0);
    g_object_unref (editor);
  }
}

static void
test_detail (UiFixture *fx, gconstpointer data)
{
  SpVault *vault = open_vault (fx);
  g_autoptr (GError) error = NULL;
  gint64 legal = sp_vault_compartment_add (vault, "Legal support", NULL, &error);
  g_autofree char *org = insert (vault, "org", 0, "name", "Open Org", NULL, NULL);
  g_autofree char *person
      = insert (vault, "person", legal, "full_name", "Hidden Person Name", NULL, NULL);
  g_autofree char *aff = insert (vault, "affiliation", 0, "person", person, "org", org);
  g_autoptr (SpRecord) rec = sp_vault_get (vault, org, NULL);
  GtkWidget *window = adw_window_new ();
  GtkWidget *detail = sp_record_detail_new (vault, rec);
  GtkWidget *row, *dialog;
  SpMainView *main_view;

  g_assert_no_error (error);
  gtk_window_set_default_size (GTK_WINDOW (window), 700, 700);
  adw_window_set_content (ADW_WINDOW (window), detail);
  gtk_window_present (GTK_WINDOW (window));
  ui_drain_paced ();
  row = ui_find_named (detail, "compartment");
  g_assert_nonnull (row);
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==,
                   C_ ("compartment", "Main"));
  shot (window, "detail-compartment");

  /* Move to… */
  g_assert_true (gtk_widget_activate_action (detail, "detail.move", NULL));
  ui_drain ();
  dialog = NULL;
  for (GList *l = gtk_window_list_toplevels (); l; l = g_list_delete_link (l, l))
    if (ADW_IS_MESSAGE_DIALOG (l->data) && gtk_widget_get_visible (l->data))
      dialog = l->data;
  g_assert_nonnull (dialog);
  shot (dialog, "move-dialog");
  g_assert_true (
      sp_compartment_dropdown_set (sp_compartment_move_dialog_get_dropdown (dialog), legal));
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "move");
  ui_drain ();
  g_assert_cmpint (compartment_of (vault, org), ==, legal);
  row = ui_find_named (detail, "compartment");
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "Legal support");

  /* The compartment leaves this device: the org and the person go; the
   * affiliation (main) links to them as restricted records. */
  g_assert_true (sp_vault_compartment_purge (vault, legal, &error));
  g_assert_no_error (error);
  g_clear_pointer (&rec, sp_record_unref);
  rec = sp_vault_get (vault, aff, &error);
  g_assert_no_error (error);
  gtk_window_destroy (GTK_WINDOW (window));
  window = adw_window_new ();
  detail = sp_record_detail_new (vault, rec);
  adw_window_set_content (ADW_WINDOW (window), detail);
  gtk_window_present (GTK_WINDOW (window));
  ui_drain_paced ();
  g_assert_true (shows (detail, _ ("Restricted record")));
  g_assert_false (shows (detail, person));
  g_assert_false (shows (detail, "Hidden Person"));
  g_assert_false (shows (detail, org));
  row = ui_find_named (detail, "restricted");
  g_assert_nonnull (row);
  g_assert_false (gtk_list_box_row_get_activatable (GTK_LIST_BOX_ROW (row)));
  g_assert_null (ui_find_named (detail, "compartment")); /* main only now */
  shot (window, "restricted-link");
  gtk_window_destroy (GTK_WINDOW (window));

  /* Without a workspace the statistics say nothing about compartments. */
  main_view = sp_window_get_main_view (fx->window);
  sp_main_view_show_page (main_view, "stats");
  ui_drain_paced ();
  g_assert_false (shows (GTK_WIDGET (fx->window), "compartments"));
}

/* ---- Travel mode against the relay ---- */

static gboolean
dialog_idle (gpointer data)
{
  return !sp_travel_dialog_is_busy (SP_TRAVEL_DIALOG (data)) && !sp_vault_job_is_busy ();
}

static SpTravelDialog *
open_travel (UiFixture *fx, const char *action)
{
  GtkWidget *main_view = GTK_WIDGET (sp_window_get_main_view (fx->window));
  SpTravelDialog *dialog = NULL;

  g_assert_true (gtk_widget_activate_action (main_view, action, NULL));
  ui_drain ();
  for (GList *l = gtk_window_list_toplevels (); l; l = g_list_delete_link (l, l))
    if (SP_IS_TRAVEL_DIALOG (l->data))
      dialog = l->data;
  g_assert_nonnull (dialog);
  return dialog;
}

static gboolean
is_destroyed (gpointer weak)
{
  return *(gpointer *)weak == NULL;
}

static void
test_travel (UiFixture *fx, gconstpointer data)
{
  g_autofree char *relay_dir = new_data_dir ("relay");
  Relay *relay = relay_start (relay_dir, (const char *const[]){ "--rate", "1000", NULL });
  SpVault *vault = open_vault (fx);
  g_autoptr (GError) error = NULL;
  g_autofree char *person = NULL, *code = NULL;
  SyncReport report = { 0 };
  SpTravelDialog *dialog;
  gint64 legal;

  g_assert_true (sync_workspace_create (vault, relay->base, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (sync_compartment_create (vault, "Legal support", NULL, &error));
  g_assert_no_error (error);
  legal = sp_vault_compartment_lookup (vault, "Legal support", &error);
  person = insert (vault, "person", legal, "full_name", "Unsent Traveller", NULL, NULL);

  /* The compartments window: main and Legal support, the default ticked. */
  dialog = open_travel (fx, "main.compartments");
  g_assert_cmpuint (sp_travel_dialog_count_rows (dialog), ==, 2);
  shot (GTK_WIDGET (dialog), "compartments");
  gtk_window_destroy (GTK_WINDOW (dialog));

  /* Refused while the person is unsent, naming it. */
  dialog = open_travel (fx, "main.travel-start");
  g_assert_cmpuint (sp_travel_dialog_count_rows (dialog), ==, 1);
  shot (GTK_WIDGET (dialog), "travel-start");
  sp_travel_dialog_submit (dialog);
  g_assert_true (ui_wait_for (dialog_idle, dialog, 60));
  g_assert_nonnull (sp_travel_dialog_get_error (dialog));
  g_assert_nonnull (strstr (sp_travel_dialog_get_error (dialog), "Unsent Traveller"));
  g_assert_null (sp_travel_dialog_get_code (dialog));
  shot (GTK_WIDGET (dialog), "travel-refused");
  g_assert_nonnull (sp_vault_get (vault, person, NULL));

  g_assert_true (sync_run (vault, NULL, &report, &error));
  g_assert_no_error (error);
  sync_report_clear (&report);
  sp_travel_dialog_submit (dialog);
  g_assert_true (ui_wait_for (dialog_idle, dialog, 60));
  g_assert_null (sp_travel_dialog_get_error (dialog));
  code = g_strdup (sp_travel_dialog_get_code (dialog));
  g_assert_nonnull (code);
  {
    g_auto (GStrv) words = g_strsplit (code, " ", -1);
    g_assert_cmpuint (g_strv_length (words), ==, 12);
  }
  g_assert_cmpint (sp_qr_get_modules (sp_travel_dialog_get_qr (dialog)), >=, 21);
  shot (GTK_WIDGET (dialog), "travel-code");
  gtk_window_destroy (GTK_WINDOW (dialog));
  g_assert_null (sp_vault_get (vault, person, NULL));
  g_assert_cmpint (sp_vault_compartment_lookup (vault, "Legal support", NULL), <, 0);

  /* End travel mode: a wrong code changes nothing; the right one brings it back. */
  dialog = open_travel (fx, "main.travel-end");
  shot (GTK_WIDGET (dialog), "travel-end");
  sp_travel_dialog_set_input (dialog, "abandon ability able about above absent absorb abstract "
                                      "absurd abuse access accident");
  sp_travel_dialog_submit (dialog);
  g_assert_true (ui_wait_for (dialog_idle, dialog, 60));
  g_assert_nonnull (sp_travel_dialog_get_error (dialog));
  g_assert_null (sp_vault_get (vault, person, NULL));
  sp_travel_dialog_set_input (dialog, code);
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *)&dialog);
  sp_travel_dialog_submit (dialog);
  g_assert_true (ui_wait_for (is_destroyed, &dialog, 60));
  {
    g_autoptr (SpRecord) back = sp_vault_get (vault, person, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (sp_record_get_title (back), ==, "Unsent Traveller");
  }
  relay_stop (relay);
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
  tmp_root = g_dir_make_tmp ("supolka-ui-comp-XXXXXX", &error);
  g_assert_no_error (error);

  g_test_add ("/ui-compartment/editor", UiFixture, NULL, ui_fixture_setup, test_editor,
              ui_fixture_teardown);
  g_test_add ("/ui-compartment/detail", UiFixture, NULL, ui_fixture_setup, test_detail,
              ui_fixture_teardown);
  g_test_add ("/ui-compartment/travel", UiFixture, NULL, ui_fixture_setup, test_travel,
              ui_fixture_teardown);
  {
    int status = g_test_run ();

    ui_fixture_release_app ();
    remove_tree (tmp_root);
    return status;
  }
}
