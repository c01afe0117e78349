/* The desktop app's seized-device defences (ui/sp-session-watch.c, sp-clipboard.c, sp-guard-dialogs.c), driven through
 * the real windows and actions under Xvfb and a private session bus
 * (xvfb-run -a dbus-run-session): lock on a screen-saver signal and before
 * suspend, panic, the secret clipboard, the duress passphrase, backup and
 * restore through the file chooser, and no traces left under a fresh HOME.
 *
 * The whole process runs with HOME, XDG_* and TMPDIR in a fresh folder,
 * which the last test searches for a marker. Conditions are awaited by
 * iterating the main context with a generous bound; nothing asserts on time.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>
#include <string.h>

#include "supolka-core.h"
#include "sp-application.h"
#include "sp-browser.h"
#include "sp-clipboard.h"
#include "sp-guard-dialogs.h"
#include "sp-session-watch.h"
#include "sp-lock-page.h"
#include "sp-main-view.h"
#include "sp-record-detail.h"
#include "sp-record-editor.h"
#include "sp-window.h"
#include "test-util.h"
#include "ui-test-util.h"

#define PASSPHRASE UI_PASSPHRASE
#define DURESS "under duress staple"
#define BACKUP_PASSPHRASE "backup passphrase here"
#define NEW_PASSPHRASE "a brand new passphrase"
#define MARKER "Zubrovka-7Q4-marker"
#define PHONE "+375291234567"
#define WAIT_SECONDS 20

/* With $SUPOLKA_SHOTS set, writes a PNG of widget there (to look at). */
static void
shot (gpointer widget, const char *name)
{
  const char *dir = g_getenv ("SUPOLKA_SHOTS");
  g_autofree char *file = g_strdup_printf ("guard-%s.png", name);
  g_autofree char *path = NULL;

  if (dir == NULL || *dir == '\0')
    return;
  path = g_build_filename (dir, file, NULL);
  ui_save_png (widget, path);
}

static char *root; /* fresh HOME, XDG dirs and TMPDIR */

typedef UiFixture Fixture;

static char *
key_path (Fixture *fx)
{
  return g_build_filename (fx->vault_dir, "vault.key", NULL);
}

/* ---- Screen lock and suspend ---------------------------------------------- */

typedef struct
{
  gboolean acquired;
  gboolean lost;
} NameState;

static void
name_acquired (GDBusConnection *c, const char *name, gpointer data)
{
  ((NameState *)data)->acquired = TRUE;
}

static void
name_lost (GDBusConnection *c, const char *name, gpointer data)
{
  ((NameState *)data)->lost = TRUE;
}

static gboolean
name_settled (gpointer data)
{
  NameState *s = data;

  return s->acquired || s->lost;
}

static gboolean
watching (gpointer data)
{
  return sp_session_watch_is_watching ();
}

static void
test_screensaver (Fixture *fx, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *address = NULL;
  g_autoptr (GDBusConnection) fake = NULL;
  NameState state = { FALSE, FALSE };
  guint owner;

  address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  /* A fake GNOME screen saver on a connection of its own, as another
   * process would be. */
  fake = g_dbus_connection_new_for_address_sync (
      address,
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
  owner = g_bus_own_name_on_connection (fake, "org.gnome.ScreenSaver", G_BUS_NAME_OWNER_FLAGS_NONE,
                                        name_acquired, name_lost, &state, NULL);
  g_assert_true (ui_wait_for (name_settled, &state, WAIT_SECONDS));
  g_assert_true (state.acquired);
  g_assert_true (ui_wait_for (watching, fx->app, WAIT_SECONDS));

  ui_create_vault (fx);
  /* The screen saver going off locks nothing. */
  g_assert_true (g_dbus_connection_emit_signal (fake, NULL, "/org/gnome/ScreenSaver",
                                                "org.gnome.ScreenSaver", "ActiveChanged",
                                                g_variant_new ("(b)", FALSE), &error));
  g_assert_no_error (error);
  g_assert_true (g_dbus_connection_flush_sync (fake, NULL, &error));
  /* The screen locks: so does the vault. */
  g_assert_true (g_dbus_connection_emit_signal (fake, NULL, "/org/gnome/ScreenSaver",
                                                "org.gnome.ScreenSaver", "ActiveChanged",
                                                g_variant_new ("(b)", TRUE), &error));
  g_assert_no_error (error);
  g_assert_true (ui_wait_for (ui_vault_closed, fx->app, WAIT_SECONDS));
  g_assert_null (sp_window_get_main_view (fx->window));

  /* Unlocked again: the handler the signals call, directly. */
  ui_unlock (fx, PASSPHRASE);
  g_bus_unown_name (owner);
  sp_session_watch_screen_lock_changed (FALSE);
  g_assert_nonnull (sp_application_get_vault (fx->app));
  sp_session_watch_screen_lock_changed (TRUE);
  g_assert_null (sp_application_get_vault (fx->app));
  g_dbus_connection_close_sync (fake, NULL, NULL);
}

static void
test_sleep (Fixture *fx, gconstpointer data)
{
  ui_create_vault (fx);
  /* Resuming locks nothing; suspending locks (PrepareForSleep is on the
   * system bus, which a test cannot own: the handler is called directly). */
  sp_session_watch_prepare_for_sleep (FALSE);
  ui_drain ();
  g_assert_nonnull (sp_application_get_vault (fx->app));
  sp_session_watch_prepare_for_sleep (TRUE);
  g_assert_null (sp_application_get_vault (fx->app));
  g_assert_null (sp_window_get_main_view (fx->window));
}

/* ---- Panic --------------------------------------------------------------------- */

static void
test_panic (Fixture *fx, gconstpointer data)
{
  g_autofree char *key = NULL;
  g_autofree char *db = NULL;
  gint64 start, end;

  ui_create_vault (fx);
  g_free (sp_test_insert (sp_application_get_vault (fx->app), "org", "name", MARKER, NULL));
  key = key_path (fx);
  db = g_build_filename (fx->vault_dir, "vault.db", NULL);
  g_assert_true (g_file_test (key, G_FILE_TEST_EXISTS));
  start = g_get_monotonic_time ();
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "app.panic", NULL);
  end = g_get_monotonic_time ();
  g_test_message ("panic from the app (lock + sp_vault_panic): %.1f ms", (end - start) / 1000.0);
  g_assert_null (sp_application_get_vault (fx->app));
  g_assert_null (sp_window_get_main_view (fx->window));
  g_assert_false (g_file_test (key, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (db, G_FILE_TEST_EXISTS));
  g_assert_false (sp_vault_exists (fx->vault_dir));
  /* The lock screen offers a new vault; the old passphrase opens nothing. */
  g_assert_true (sp_lock_page_is_creating (sp_window_get_lock_page (fx->window)));
  g_assert_false (sp_test_tree_contains (fx->tmp, MARKER, strlen (MARKER)));
}

/* ---- Clipboard ------------------------------------------------------------------ */

typedef struct
{
  gboolean done;
  char *text;
} ReadText;

static void
read_text_done (GObject *source, GAsyncResult *result, gpointer data)
{
  ReadText *r = data;

  r->text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (source), result, NULL);
  r->done = TRUE;
}

static char *
clipboard_text (GdkClipboard *clipboard)
{
  ReadText r = { FALSE, NULL };

  gdk_clipboard_read_text_async (clipboard, NULL, read_text_done, &r);
  g_assert_true (ui_wait_for (ui_flag_set, &r.done, WAIT_SECONDS));
  return r.text;
}

typedef struct
{
  gboolean done;
  GBytes *bytes;
} ReadBytes;

static void
splice_done (GObject *source, GAsyncResult *result, gpointer data)
{
  ReadBytes *r = data;

  g_output_stream_splice_finish (G_OUTPUT_STREAM (source), result, NULL);
  r->bytes = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (source));
  r->done = TRUE;
}

static void
read_mime_done (GObject *source, GAsyncResult *result, gpointer data)
{
  ReadBytes *r = data;
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GOutputStream) out = NULL;

  in = gdk_clipboard_read_finish (GDK_CLIPBOARD (source), result, NULL, NULL);
  if (in == NULL)
    {
      r->done = TRUE;
      return;
    }
  out = g_memory_output_stream_new_resizable ();
  g_output_stream_splice_async (
      out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE | G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
      G_PRIORITY_DEFAULT, NULL, splice_done, r);
}

static GBytes *
clipboard_mime (GdkClipboard *clipboard, const char *mime)
{
  const char *mimes[] = { mime, NULL };
  ReadBytes r = { FALSE, NULL };

  gdk_clipboard_read_async (clipboard, mimes, G_PRIORITY_DEFAULT, NULL, read_mime_done, &r);
  g_assert_true (ui_wait_for (ui_flag_set, &r.done, WAIT_SECONDS));
  return r.bytes;
}

static gboolean
clipboard_empty (gpointer data)
{
  GdkClipboard *clipboard = data;

  return !gdk_content_formats_contain_gtype (gdk_clipboard_get_formats (clipboard), G_TYPE_STRING)
         && !gdk_content_formats_contain_mime_type (gdk_clipboard_get_formats (clipboard),
                                                    "text/plain;charset=utf-8");
}

static SpRecordDetail *
show_person_with_phone (Fixture *fx)
{
  SpVault *vault = sp_application_get_vault (fx->app);
  g_autofree char *id = sp_test_insert (vault, "person", "full_name", MARKER, "phone", PHONE,
                                        "email", "anna@example.org", "locality", "Brest", NULL);
  SpBrowser *browser = sp_main_view_get_browser (sp_window_get_main_view (fx->window));

  sp_browser_show_record (browser, id);
  ui_drain ();
  g_assert_nonnull (sp_browser_get_detail (browser));
  return sp_browser_get_detail (browser);
}

static gboolean
holds_secret (GdkClipboard *clipboard)
{
  return gdk_clipboard_is_local (clipboard) && gdk_clipboard_get_content (clipboard)
         && gdk_content_formats_contain_mime_type (gdk_clipboard_get_formats (clipboard),
                                                   "x-kde-passwordManagerHint");
}

static void
copy_field (SpRecordDetail *detail, const char *field)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (detail));
  const SpFieldInfo *info = sp_kind_field (
      sp_kind_lookup (sp_record_get_kind (sp_record_detail_get_record (detail))), field);

  /* Under Xvfb a late XFixes notice of an earlier claim of ours sometimes
   * takes the fresh selection away again (GTK 4.8): copy again then, as a
   * user would. Non-sensitive fields copy nothing, so no retry. */
  for (int i = 0; i < 20; i++)
    {
      gtk_widget_activate_action (GTK_WIDGET (detail), "detail.copy", "s", field);
      ui_drain ();
      if (!info->sensitive || holds_secret (clipboard))
        return;
      ui_run_for (50);
    }
  g_assert_true (holds_secret (clipboard));
}

static void
test_clipboard (Fixture *fx, gconstpointer data)
{
  GdkClipboard *clipboard = gdk_display_get_clipboard (gdk_display_get_default ());
  SpRecordDetail *detail;
  g_autofree char *text = NULL;
  g_autoptr (GBytes) hint = NULL;

  ui_create_vault (fx);
  detail = show_person_with_phone (fx);
  shot (fx->window, "detail-copy");
  sp_clipboard_set_delay (400);

  /* A phone number: on the clipboard with the password-manager hint. */
  copy_field (detail, "phone");
  text = clipboard_text (clipboard);
  g_assert_cmpstr (text, ==, PHONE);
  g_clear_pointer (&text, g_free);
  g_assert_true (gdk_content_formats_contain_mime_type (gdk_clipboard_get_formats (clipboard),
                                                        "x-kde-passwordManagerHint"));
  hint = clipboard_mime (clipboard, "x-kde-passwordManagerHint");
  g_assert_nonnull (hint);
  g_assert_cmpmem (g_bytes_get_data (hint, NULL), g_bytes_get_size (hint), "secret", 6);
  /* After the delay it is gone. */
  g_assert_true (ui_wait_for (clipboard_empty, clipboard, WAIT_SECONDS));

  /* Something else copied meanwhile stays. */
  copy_field (detail, "email");
  text = clipboard_text (clipboard);
  g_assert_cmpstr (text, ==, "anna@example.org");
  g_clear_pointer (&text, g_free);
  gdk_clipboard_set_text (clipboard, "copied elsewhere");
  ui_run_for (1200);
  text = clipboard_text (clipboard);
  g_assert_cmpstr (text, ==, "copied elsewhere");
  g_clear_pointer (&text, g_free);

  /* Only contact data is copied this way. */
  copy_field (detail, "locality");
  text = clipboard_text (clipboard);
  g_assert_cmpstr (text, ==, "copied elsewhere");
  g_clear_pointer (&text, g_free);

  /* Locking clears it at once, whatever the delay. */
  sp_clipboard_set_delay (600000);
  copy_field (detail, "phone");
  text = clipboard_text (clipboard);
  g_assert_cmpstr (text, ==, PHONE);
  g_clear_pointer (&text, g_free);
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "app.lock", NULL);
  ui_drain ();
  g_assert_true (clipboard_empty (clipboard));
  sp_clipboard_set_delay (0);
}

/* ---- Duress --------------------------------------------------------------------- */

static gboolean
dialog_open (gpointer data)
{
  return sp_guard_dialog_get_current () != NULL;
}

static gboolean
dialog_idle (gpointer data)
{
  return !sp_guard_dialog_is_busy (GTK_WINDOW (data));
}

static void
fill (GtkWindow *dialog, const char *name, const char *text)
{
  GtkEditable *entry = sp_guard_dialog_get_entry (dialog, name);

  g_assert_nonnull (entry);
  gtk_editable_set_text (entry, text);
}

static void
dialog_ok (GtkWindow *dialog)
{
  gtk_widget_activate_action (GTK_WIDGET (dialog), "guard.ok", NULL);
  g_assert_true (ui_wait_for (dialog_idle, dialog, WAIT_SECONDS));
  ui_drain ();
}

static GtkWindow *
open_duress (Fixture *fx)
{
  g_action_group_activate_action (G_ACTION_GROUP (fx->app), "duress", NULL);
  g_assert_true (ui_wait_for (dialog_open, fx->app, WAIT_SECONDS));
  return sp_guard_dialog_get_current ();
}

static void
test_duress (Fixture *fx, gconstpointer data)
{
  GtkWindow *dialog;
  g_autoptr (GBytes) key_before = NULL;
  g_autoptr (GBytes) key_after = NULL;
  g_autofree char *key = NULL;
  SpVault *vault;

  ui_create_vault (fx);
  g_free (sp_test_insert (sp_application_get_vault (fx->app), "org", "name", MARKER, NULL));
  key = key_path (fx);
  key_before = sp_test_read_file (key);

  dialog = open_duress (fx);
  shot (dialog, "duress");
  /* Typed differently twice, or the vault's own passphrase: refused. */
  fill (dialog, "passphrase", DURESS);
  fill (dialog, "repeat", "something else entirely");
  dialog_ok (dialog);
  g_assert_nonnull (sp_guard_dialog_get_error (dialog));
  g_assert_false (sp_guard_dialog_is_done (dialog));
  fill (dialog, "passphrase", PASSPHRASE);
  fill (dialog, "repeat", PASSPHRASE);
  dialog_ok (dialog);
  g_assert_nonnull (sp_guard_dialog_get_error (dialog));
  g_assert_nonnull (strstr (sp_guard_dialog_get_error (dialog), "own passphrase"));
  shot (dialog, "duress-error");
  fill (dialog, "passphrase", DURESS);
  fill (dialog, "repeat", DURESS);
  dialog_ok (dialog);
  g_assert_null (sp_guard_dialog_get_error (dialog));
  g_assert_true (sp_guard_dialog_is_done (dialog));
  gtk_widget_activate_action (GTK_WIDGET (dialog), "guard.cancel", NULL);
  ui_drain ();
  g_assert_null (sp_guard_dialog_get_current ());
  /* Same size: nothing tells that a duress passphrase is set. */
  key_after = sp_test_read_file (key);
  g_assert_cmpuint (g_bytes_get_size (key_before), ==, g_bytes_get_size (key_after));
  g_assert_false (g_bytes_equal (key_before, key_after));

  /* Unlocking with it: an empty vault, the real data destroyed. */
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "app.lock", NULL);
  ui_drain ();
  ui_unlock (fx, DURESS);
  vault = sp_application_get_vault (fx->app);
  g_assert_cmpint (sp_vault_count (vault, "org", NULL, NULL), ==, 0);
  g_assert_false (sp_test_tree_contains (fx->vault_dir, MARKER, strlen (MARKER)));
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "app.lock", NULL);
  ui_drain ();
  ui_submit_passphrase (fx, PASSPHRASE, NULL);
  g_assert_null (sp_application_get_vault (fx->app));
  g_assert_nonnull (sp_lock_page_get_error (sp_window_get_lock_page (fx->window)));

  /* Set, then removed from the dialog: it opens nothing any more. */
  ui_unlock (fx, DURESS);
  dialog = open_duress (fx);
  fill (dialog, "passphrase", "second duress words");
  fill (dialog, "repeat", "second duress words");
  dialog_ok (dialog);
  g_assert_true (sp_guard_dialog_is_done (dialog));
  gtk_window_destroy (dialog);
  dialog = open_duress (fx);
  gtk_widget_activate_action (GTK_WIDGET (dialog), "guard.remove", NULL);
  g_assert_true (ui_wait_for (dialog_idle, dialog, WAIT_SECONDS));
  ui_drain ();
  g_assert_true (sp_guard_dialog_is_done (dialog));
  gtk_window_destroy (dialog);
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "app.lock", NULL);
  ui_drain ();
  ui_submit_passphrase (fx, "second duress words", NULL);
  g_assert_null (sp_application_get_vault (fx->app));
  ui_unlock (fx, DURESS);
}

/* ---- Backup and restore ------------------------------------------------------------ */

static gboolean
chooser_open (gpointer data)
{
  g_autoptr (GList) windows = gtk_window_list_toplevels ();

  for (GList *l = windows; l; l = l->next)
    if (GTK_IS_FILE_CHOOSER (l->data) && gtk_widget_get_visible (l->data))
      {
        *(GtkWindow **)data = l->data;
        return TRUE;
      }
  return FALSE;
}

static gboolean
chooser_has_file (gpointer data)
{
  g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (data));

  return file != NULL;
}

G_GNUC_BEGIN_IGNORE_DEPRECATIONS
/* Answers the file chooser the app shows (GtkFileChooserNative falls back
 * to a GtkFileChooserDialog outside a sandbox) as a user would. */
static void
choose_file (const char *path)
{
  GtkWindow *chooser = NULL;
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFile) folder = g_file_get_parent (file);
  g_autoptr (GError) error = NULL;
  g_autofree char *name = g_path_get_basename (path);

  g_assert_true (ui_wait_for (chooser_open, &chooser, WAIT_SECONDS));
  ui_drain ();
  if (gtk_file_chooser_get_action (GTK_FILE_CHOOSER (chooser)) == GTK_FILE_CHOOSER_ACTION_SAVE)
    {
      g_assert_true (
          gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder, &error));
      g_assert_no_error (error);
      ui_drain ();
      gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
    }
  else
    {
      g_assert_true (gtk_file_chooser_set_file (GTK_FILE_CHOOSER (chooser), file, &error));
      g_assert_no_error (error);
      /* The folder loads asynchronously: wait until the file is selected. */
      g_assert_true (ui_wait_for (chooser_has_file, chooser, WAIT_SECONDS));
    }
  ui_drain ();
  /* The chooser may still be checking the name: answer until it closes. */
  g_object_add_weak_pointer (G_OBJECT (chooser), (gpointer *)&chooser);
  for (int i = 0; i < 100 && chooser && gtk_widget_get_visible (GTK_WIDGET (chooser)); i++)
    {
      gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
      ui_drain ();
      if (chooser && gtk_widget_get_visible (GTK_WIDGET (chooser)))
        ui_run_for (50);
    }
  if (chooser)
    g_object_remove_weak_pointer (G_OBJECT (chooser), (gpointer *)&chooser);
  ui_drain ();
}
G_GNUC_END_IGNORE_DEPRECATIONS

static GtkWindow *
restore_dialog (Fixture *fx, const char *path)
{
  g_action_group_activate_action (G_ACTION_GROUP (fx->app), "restore", NULL);
  choose_file (path);
  g_assert_true (ui_wait_for (dialog_open, fx->app, WAIT_SECONDS));
  return sp_guard_dialog_get_current ();
}

static void
test_backup_restore (Fixture *fx, gconstpointer data)
{
  g_autofree char *backup = g_build_filename (fx->tmp, "saved.backup", NULL);
  g_autofree char *tampered = g_build_filename (fx->tmp, "tampered.backup", NULL);
  g_autofree char *truncated = g_build_filename (fx->tmp, "truncated.backup", NULL);
  g_autofree char *xbel = NULL;
  g_autofree char *org = NULL;
  g_autofree char *person = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SpRecord) rec = NULL;
  GtkWindow *dialog;
  SpVault *vault;
  guint8 *copy;
  gsize len;

  ui_create_vault (fx);
  vault = sp_application_get_vault (fx->app);
  org = sp_test_insert (vault, "org", "name", "Клуб " MARKER, "region", "brest", NULL);
  person = sp_test_insert (vault, "person", "full_name", "Ганна", "phone", PHONE, NULL);

  /* Back up: the file chooser, then the backup passphrase twice. */
  g_action_group_activate_action (G_ACTION_GROUP (fx->app), "backup", NULL);
  choose_file (backup);
  g_assert_true (ui_wait_for (dialog_open, fx->app, WAIT_SECONDS));
  dialog = sp_guard_dialog_get_current ();
  shot (dialog, "backup");
  fill (dialog, "passphrase", BACKUP_PASSPHRASE);
  fill (dialog, "repeat", "not the same");
  dialog_ok (dialog);
  g_assert_nonnull (sp_guard_dialog_get_error (dialog));
  g_assert_false (g_file_test (backup, G_FILE_TEST_EXISTS));
  fill (dialog, "passphrase", BACKUP_PASSPHRASE);
  fill (dialog, "repeat", BACKUP_PASSPHRASE);
  dialog_ok (dialog);
  g_assert_null (sp_guard_dialog_get_error (dialog));
  g_assert_true (sp_guard_dialog_is_done (dialog));
  shot (dialog, "backup-done");
  gtk_window_destroy (dialog);
  g_assert_true (g_file_test (backup, G_FILE_TEST_EXISTS));
  g_assert_false (sp_test_tree_contains (fx->tmp, MARKER, strlen (MARKER)));

  /* A copy with one byte flipped in the middle. */
  bytes = sp_test_read_file (backup);
  g_assert_nonnull (bytes);
  copy = g_bytes_unref_to_data (g_steal_pointer (&bytes), &len);
  copy[len / 2] ^= 0x40;
  g_assert_true (g_file_set_contents (tampered, (char *)copy, len, &error));
  copy[len / 2] ^= 0x40;
  /* And one cut short. */
  g_assert_true (g_file_set_contents (truncated, (char *)copy, len - 7, &error));
  g_free (copy);

  /* The vault is destroyed (panic); then restored from the lock screen. */
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "app.panic", NULL);
  ui_drain ();
  g_assert_false (sp_vault_exists (fx->vault_dir));

  /* The tampered file: a clear error, nothing created. */
  dialog = restore_dialog (fx, tampered);
  fill (dialog, "passphrase", BACKUP_PASSPHRASE);
  dialog_ok (dialog);
  g_assert_nonnull (sp_guard_dialog_get_error (dialog));
  g_assert_nonnull (strstr (sp_guard_dialog_get_error (dialog), "damaged"));
  g_assert_false (sp_vault_exists (fx->vault_dir));
  gtk_window_destroy (dialog);
  dialog = restore_dialog (fx, truncated);
  fill (dialog, "passphrase", BACKUP_PASSPHRASE);
  dialog_ok (dialog);
  g_assert_nonnull (sp_guard_dialog_get_error (dialog));
  g_assert_nonnull (strstr (sp_guard_dialog_get_error (dialog), "damaged, incomplete"));
  g_assert_false (sp_vault_exists (fx->vault_dir));
  shot (dialog, "restore-damaged");
  gtk_window_destroy (dialog);

  /* The right file with a wrong passphrase: likewise. */
  dialog = restore_dialog (fx, backup);
  fill (dialog, "passphrase", "wrong backup passphrase");
  dialog_ok (dialog);
  g_assert_nonnull (sp_guard_dialog_get_error (dialog));
  g_assert_nonnull (strstr (sp_guard_dialog_get_error (dialog), "Wrong backup passphrase"));
  g_assert_false (sp_vault_exists (fx->vault_dir));

  /* Right passphrase, new vault passphrase typed twice. */
  fill (dialog, "passphrase", BACKUP_PASSPHRASE);
  fill (dialog, "new", NEW_PASSPHRASE);
  fill (dialog, "new-repeat", NEW_PASSPHRASE);
  dialog_ok (dialog);
  g_assert_null (sp_guard_dialog_get_error (dialog));
  g_assert_true (sp_guard_dialog_is_done (dialog));
  gtk_window_destroy (dialog);
  g_assert_true (sp_vault_exists (fx->vault_dir));
  g_assert_false (sp_lock_page_is_creating (sp_window_get_lock_page (fx->window)));
  ui_unlock (fx, NEW_PASSPHRASE);
  vault = sp_application_get_vault (fx->app);
  rec = sp_vault_get (vault, org, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sp_record_get (rec, "name"), ==, "Клуб " MARKER);
  g_clear_pointer (&rec, sp_record_unref);
  rec = sp_vault_get (vault, person, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sp_record_get (rec, "phone"), ==, PHONE);
  g_clear_pointer (&rec, sp_record_unref);

  /* A tampered backup over an existing vault, even with Replace on:
   * refused, the vault untouched. */
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "app.lock", NULL);
  ui_drain ();
  dialog = restore_dialog (fx, tampered);
  g_assert_true (gtk_widget_is_visible (sp_guard_dialog_get_replace (dialog)));
  gtk_switch_set_active (GTK_SWITCH (sp_guard_dialog_get_replace (dialog)), TRUE);
  shot (dialog, "restore-replace");
  fill (dialog, "passphrase", BACKUP_PASSPHRASE);
  dialog_ok (dialog);
  g_assert_nonnull (sp_guard_dialog_get_error (dialog));
  gtk_window_destroy (dialog);
  dialog = restore_dialog (fx, truncated);
  gtk_switch_set_active (GTK_SWITCH (sp_guard_dialog_get_replace (dialog)), TRUE);
  fill (dialog, "passphrase", BACKUP_PASSPHRASE);
  dialog_ok (dialog);
  g_assert_nonnull (strstr (sp_guard_dialog_get_error (dialog), "damaged, incomplete"));
  gtk_window_destroy (dialog);
  ui_unlock (fx, NEW_PASSPHRASE);
  g_assert_cmpint (sp_vault_count (sp_application_get_vault (fx->app), "org", NULL, NULL), ==, 1);

  /* No recent-files entry for the backup, in memory or on disk. */
  {
    GList *items = gtk_recent_manager_get_items (gtk_recent_manager_get_default ());
    g_assert_cmpuint (g_list_length (items), ==, 0);
    g_list_free_full (items, (GDestroyNotify)gtk_recent_info_unref);
  }
  xbel = g_build_filename (g_get_user_data_dir (), "recently-used.xbel", NULL);
  /* GTK may write an empty list when it applies max-age 0: no entry then. */
  {
    g_autofree char *contents = NULL;
    if (g_file_get_contents (xbel, &contents, NULL, NULL))
      {
        g_assert_null (strstr (contents, "<bookmark"));
        g_assert_null (strstr (contents, ".backup"));
      }
  }
}

/* ---- No traces ----------------------------------------------------------------------- */

static void
test_no_traces (Fixture *fx, gconstpointer data)
{
  SpBrowser *browser;
  SpRecordEditor *editor;
  SpRecordDetail *detail;
  GdkClipboard *clipboard = gdk_display_get_clipboard (gdk_display_get_default ());
  g_autofree char *text = NULL;

  ui_create_vault (fx);
  browser = sp_main_view_get_browser (sp_window_get_main_view (fx->window));
  sp_main_view_show_page (sp_window_get_main_view (fx->window), "person");
  ui_drain ();
  /* A person typed into the editor, with a marker and a phone. */
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "win.new-record", NULL);
  ui_drain ();
  editor = sp_browser_get_editor (browser);
  g_assert_nonnull (editor);
  sp_record_editor_set_value (editor, "full_name", MARKER " Person");
  sp_record_editor_set_value (editor, "phone", PHONE);
  sp_record_editor_set_value (editor, "notes", "met at " MARKER);
  gtk_widget_activate_action (GTK_WIDGET (browser), "browser.save", NULL);
  ui_drain ();
  detail = sp_browser_get_detail (browser);
  g_assert_nonnull (detail);
  g_assert_cmpstr (sp_record_get (sp_record_detail_get_record (detail), "full_name"), ==,
                   MARKER " Person");
  /* Search for it, copy its phone, then lock. */
  gtk_editable_set_text (sp_browser_get_search_entry (browser), MARKER);
  ui_drain ();
  copy_field (detail, "phone");
  text = clipboard_text (clipboard);
  g_assert_cmpstr (text, ==, PHONE);
  gtk_widget_activate_action (GTK_WIDGET (fx->window), "app.lock", NULL);
  ui_drain ();
  g_assert_true (clipboard_empty (clipboard));
  /* Nothing anywhere under HOME, the XDG folders and TMPDIR (the vault
   * folder included: it is encrypted) holds the marker or the phone. */
  g_assert_false (sp_test_tree_contains (root, MARKER, strlen (MARKER)));
  g_assert_false (sp_test_tree_contains (root, PHONE, strlen (PHONE)));
  /* And the window title is neutral. */
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (fx->window)), ==, "Supolka");
}

/* A fresh HOME, XDG folders and TMPDIR for the whole process. */
static void
fresh_home (void)
{
  static const char *const vars[][2] = {
    { "HOME", "home" },
    { "XDG_DATA_HOME", "home/.local/share" },
    { "XDG_CONFIG_HOME", "home/.config" },
    { "XDG_CACHE_HOME", "home/.cache" },
    { "XDG_STATE_HOME", "home/.local/state" },
    { "TMPDIR", "tmp" },
  };
  g_autoptr (GError) error = NULL;

  root = g_dir_make_tmp ("supolka-guard-XXXXXX", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (vars); i++)
    {
      g_autofree char *dir = g_build_filename (root, vars[i][1], NULL);
      g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
      g_setenv (vars[i][0], dir, TRUE);
    }
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  fresh_home ();
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("SUPOLKA_TEST_KDF", "interactive", TRUE);
  if (!sp_core_init (&error))
    g_error ("%s", error->message);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  sp_ui_init ();

  g_test_add ("/ui-guard/screensaver", Fixture, GUINT_TO_POINTER (WAIT_SECONDS), ui_fixture_setup,
              test_screensaver, ui_fixture_teardown);
  g_test_add ("/ui-guard/sleep", Fixture, GUINT_TO_POINTER (WAIT_SECONDS), ui_fixture_setup,
              test_sleep, ui_fixture_teardown);
  g_test_add ("/ui-guard/panic", Fixture, GUINT_TO_POINTER (WAIT_SECONDS), ui_fixture_setup,
              test_panic, ui_fixture_teardown);
  g_test_add ("/ui-guard/clipboard", Fixture, GUINT_TO_POINTER (WAIT_SECONDS), ui_fixture_setup,
              test_clipboard, ui_fixture_teardown);
  g_test_add ("/ui-guard/duress", Fixture, GUINT_TO_POINTER (WAIT_SECONDS), ui_fixture_setup,
              test_duress, ui_fixture_teardown);
  g_test_add ("/ui-guard/backup-restore", Fixture, GUINT_TO_POINTER (WAIT_SECONDS),
              ui_fixture_setup, test_backup_restore, ui_fixture_teardown);
  g_test_add ("/ui-guard/no-traces", Fixture, GUINT_TO_POINTER (WAIT_SECONDS), ui_fixture_setup,
              test_no_traces, ui_fixture_teardown);
  status = g_test_run ();
  ui_fixture_release_app ();
  sp_test_rmtree (root);
  g_free (root);
  return status;
}
