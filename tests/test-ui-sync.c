/* The sync part of the desktop app, end to end: the real supolka-relay on
 * 127.0.0.1 (any free port), vaults in temporary folders, and the status
 * widget and dialogs driven through their actions — create a workspace,
 * invite (the code parses, the QR code is drawn), join (API and dialog),
 * approve with the safety code, Sync now through the status widget, the
 * devices list and revocation, and locking while a sync runs.
 *
 * Runs under Xvfb (make check wraps meson test in xvfb-run). Conditions are
 * awaited by iterating the main context with a generous bound; nothing
 * asserts on time. PNG screenshots go to BUILDDIR/tests/shots/ui-sync.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "sp-application.h"
#include "sp-guard-dialogs.h"
#include "sp-main-view.h"
#include "sp-sync-dialogs.h"
#include "sp-sync-status.h"
#include "sp-sync-worker.h"
#include "sp-vault-job.h"
#include "sp-window.h"
#include "supolka-core.h"
#include "supolka-sync.h"
#include "relay-test-util.h"
#include "test-util.h"
#include "ui-test-util.h"

#define WAIT_SECONDS 180

/* The relay of these tests is closed to creation, as docs/RELAY.md deploys one. */
#define UI_CREATE_TOKEN "ui-create-token-5e1d"

static const char *shots_dir = SHOTS_DIR;
static Relay *the_relay;

/* ---- Helpers -------------------------------------------------------------- */

static gboolean
is_mapped (gpointer data)
{
  return gtk_widget_get_mapped (GTK_WIDGET (data)) && gtk_widget_get_width (GTK_WIDGET (data)) > 0
         && gtk_widget_get_height (GTK_WIDGET (data)) > 0;
}

/* Renders widget (as its native window draws it) to shots_dir/name.png and
 * returns the texture. */
static GdkTexture *
shoot (GtkWidget *widget, const char *name)
{
  g_autoptr (GdkPaintable) paintable = NULL;
  g_autoptr (GtkSnapshot) snapshot = NULL;
  g_autoptr (GskRenderNode) node = NULL;
  g_autofree char *file = g_strdup_printf ("%s.png", name);
  g_autofree char *path = g_build_filename (shots_dir, file, NULL);
  GdkTexture *texture;
  int w, h;

  /* Held while drawing: a dialog may finish and close itself meanwhile. */
  g_object_ref (widget);
  g_assert_true (ui_wait_for (is_mapped, widget, WAIT_SECONDS));
  ui_drain ();
  if (!gtk_widget_get_mapped (widget))
    {
      /* Gone from the screen while the loop ran (slow machines, sanitizers):
       * an empty picture, so the screenshot never decides a test. */
      g_test_message ("%s was closed before it could be drawn", name);
      g_object_unref (widget);
      return gdk_memory_texture_new (1, 1, GDK_MEMORY_DEFAULT, g_bytes_new_static ("\0\0\0\0", 4),
                                     4);
    }
  w = gtk_widget_get_width (widget);
  h = gtk_widget_get_height (widget);
  g_assert_cmpint (w, >, 0);
  g_assert_cmpint (h, >, 0);
  paintable = gtk_widget_paintable_new (widget);
  /* A new window draws after its first frames: retry for a while. */
  for (int i = 0; i < 200 && node == NULL; i++)
    {
      snapshot = gtk_snapshot_new ();
      gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
      node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
      if (node == NULL)
        {
          g_usleep (10000);
          ui_drain ();
        }
    }
  if (node == NULL)
    g_error ("nothing to render for %s", name);
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (gtk_widget_get_native (widget)),
                                         node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_object_unref (widget);
  return texture;
}

typedef struct
{
  SpApplication *app;
  SpWindow *window;
  SpVault *a; /* owned by app */
  SpVault *b;
  char *a_dir, *b_dir;
  SpSyncStatus *status;
} World;

static World w;

static gboolean
status_idle (gpointer data)
{
  return !sp_sync_status_is_running (SP_SYNC_STATUS (data)) && !sp_vault_job_is_busy ();
}

static gboolean
dialog_idle (gpointer data)
{
  return !sp_sync_dialog_is_busy (SP_SYNC_DIALOG (data)) && !sp_vault_job_is_busy ();
}

static gboolean
others_revoked (gpointer data)
{
  GPtrArray *devices = sp_sync_dialog_get_devices (SP_SYNC_DIALOG (data));
  guint revoked = 0;

  if (!dialog_idle (data) || devices == NULL)
    return FALSE;
  for (guint i = 0; i < devices->len; i++)
    {
      SyncDevice *d = devices->pdata[i];
      if (!d->is_self && g_strcmp0 (d->status, "revoked") == 0)
        revoked++;
    }
  return revoked > 0;
}

static SpSyncDialog *
open_dialog (const char *action)
{
  GtkWindow *dialog;

  gtk_widget_activate_action (GTK_WIDGET (w.status), action, NULL);
  ui_drain ();
  dialog = sp_sync_status_get_dialog (w.status);
  g_assert_nonnull (dialog);
  g_assert_true (SP_IS_SYNC_DIALOG (dialog));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (dialog)));
  return SP_SYNC_DIALOG (dialog);
}

static void
submit (SpSyncDialog *dialog)
{
  gtk_widget_activate_action (GTK_WIDGET (dialog), "dialog.submit", NULL);
  g_assert_true (ui_wait_for (dialog_idle, dialog, WAIT_SECONDS));
  ui_drain ();
}

static void
close_dialog (SpSyncDialog *dialog)
{
  gtk_window_destroy (GTK_WINDOW (dialog));
  ui_drain ();
  g_assert_null (sp_sync_status_get_dialog (w.status));
}

static void
sync_now (void)
{
  gtk_widget_activate_action (GTK_WIDGET (w.status), "sync.now", NULL);
  g_assert_true (sp_sync_status_is_running (w.status));
  g_assert_cmpstr (sp_sync_status_get_text (w.status), ==, "Syncing…");
  g_assert_true (ui_wait_for (status_idle, w.status, WAIT_SECONDS));
  ui_drain ();
}

static gint64
count_orgs (SpVault *vault)
{
  g_autoptr (GError) error = NULL;
  gint64 n = sp_vault_count (vault, "org", NULL, &error);

  g_assert_no_error (error);
  return n;
}

static void
sync_b (void)
{
  g_autoptr (GError) error = NULL;
  SyncReport report = { 0 };

  g_assert_true (sync_run (w.b, NULL, &report, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (report.refused_batches, ==, 0);
  sync_report_clear (&report);
}

/* Counts dark and light pixels of a texture. */
static void
count_pixels (GdkTexture *texture, guint *dark, guint *light)
{
  int tw = gdk_texture_get_width (texture), th = gdk_texture_get_height (texture);
  g_autofree guint8 *px = g_malloc ((gsize)tw * th * 4);

  gdk_texture_download (texture, px, (gsize)tw * 4);
  *dark = *light = 0;
  for (gsize i = 0; i < (gsize)tw * th; i++)
    {
      guint sum = px[i * 4] + px[i * 4 + 1] + px[i * 4 + 2];
      if (px[i * 4 + 3] < 200)
        continue;
      if (sum < 60)
        (*dark)++;
      else if (sum > 700)
        (*light)++;
    }
}

/* ---- Tests ---------------------------------------------------------------- */

static void
test_relay_url (void)
{
  static const char *const good[]
      = { "https://relay.example.org", "https://relay.example.org:8443/prefix",
          "http://127.0.0.1:8080", "http://[::1]:8080", "http://localhost:1" };
  static const char *const bad[] = { "",
                                     "relay.example.org",
                                     "http://relay.example.org",
                                     "ftp://relay.example.org",
                                     "https://",
                                     "https://user@relay.example.org",
                                     "https://relay.example.org/?x=1",
                                     "http://10.0.0.1",
                                     "javascript:alert(1)" };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (sp_sync_relay_url_valid (good[i], &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_false (sp_sync_relay_url_valid (bad[i], &error));
      g_assert_nonnull (error);
      g_assert_cmpstr (error->message, !=, "");
    }
}

static void
test_flow (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) qr_shot = NULL;
  g_autoptr (GdkTexture) shot = NULL;
  g_autofree char *invite = NULL, *safety = NULL, *relay = NULL;
  g_autofree char *org_a = NULL, *org_b = NULL;
  SpSyncDialog *dialog;
  GtkWidget *confirm;
  guint8 ws[16], token[32], pk[32];
  guint dark, light;
  SpMainView *main_view;
  GPtrArray *devices;
  const char *b_device = NULL;

  /* The application shows vault A; the status sits in the header bar. */
  w.a = sp_test_vault_new (&w.a_dir);
  sp_application_set_vault (w.app, w.a);
  ui_drain ();
  main_view = sp_window_get_main_view (w.window);
  g_assert_nonnull (main_view);
  w.status = sp_sync_status_from_main_view (GTK_WIDGET (main_view));
  g_assert_nonnull (w.status);
  g_assert_true (gtk_widget_is_ancestor (GTK_WIDGET (w.status), GTK_WIDGET (main_view)));
  g_assert_cmpstr (sp_sync_status_get_text (w.status), ==, "Not syncing");
  g_object_unref (shoot (GTK_WIDGET (w.window), "window-not-syncing"));
  gtk_popover_popup (GTK_POPOVER (sp_sync_status_get_popover (w.status)));
  g_object_unref (shoot (sp_sync_status_get_popover (w.status), "status-not-syncing"));
  gtk_popover_popdown (GTK_POPOVER (sp_sync_status_get_popover (w.status)));
  /* Nothing to sync yet: Sync now does nothing. */
  gtk_widget_activate_action (GTK_WIDGET (w.status), "sync.now", NULL);
  g_assert_false (sp_sync_status_is_running (w.status));

  /* Create: a non-loopback http:// address is refused before any network. */
  dialog = open_dialog ("sync.create");
  sp_sync_dialog_set_input (dialog, "http://relay.example.org");
  g_assert_nonnull (sp_sync_dialog_get_error (dialog));
  g_object_unref (shoot (GTK_WIDGET (dialog), "dialog-create-invalid"));
  gtk_widget_activate_action (GTK_WIDGET (dialog), "dialog.submit", NULL);
  g_assert_false (sp_sync_dialog_is_busy (dialog));
  sp_sync_dialog_set_input (dialog, the_relay->base);
  g_assert_null (sp_sync_dialog_get_error (dialog));
  /* The relay is closed to creation: without its token, said in words. */
  submit (dialog);
  g_assert_nonnull (strstr (sp_sync_dialog_get_error (dialog), "create token"));
  sp_sync_dialog_set_token (dialog, UI_CREATE_TOKEN);
  g_object_unref (shoot (GTK_WIDGET (dialog), "dialog-create"));
  submit (dialog);
  g_assert_null (sp_sync_dialog_get_error (dialog));
  g_object_unref (shoot (GTK_WIDGET (dialog), "dialog-create-done"));
  close_dialog (dialog);
  g_assert_cmpstr (sp_sync_status_get_text (w.status), ==, "Not synced yet");

  /* Invite: the code parses and the QR code is drawn (dark and light modules). */
  dialog = open_dialog ("sync.invite");
  g_object_unref (shoot (GTK_WIDGET (dialog), "dialog-invite-form"));
  submit (dialog);
  g_assert_null (sp_sync_dialog_get_error (dialog));
  invite = g_strdup (sp_sync_dialog_get_result (dialog));
  g_assert_nonnull (invite);
  g_assert_true (sync_invite_parse (invite, &relay, ws, token, pk, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (relay, ==, the_relay->base);
  g_assert_cmpint (sp_sync_qr_get_modules (sp_sync_dialog_get_qr (dialog)), >=, 21);
  g_object_unref (shoot (GTK_WIDGET (dialog), "dialog-invite"));
  qr_shot = shoot (sp_sync_dialog_get_qr (dialog), "qr");
  count_pixels (qr_shot, &dark, &light);
  g_assert_cmpuint (dark, >, 1000);
  g_assert_cmpuint (light, >, 1000);
  close_dialog (dialog);

  /* B joins through the API and waits for approval. */
  w.b = sp_test_vault_new (&w.b_dir);
  safety = sync_workspace_join (w.b, invite, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (safety);

  /* Approve: a wrong code is refused in words, B's code is accepted. */
  dialog = open_dialog ("sync.approve");
  sp_sync_dialog_set_input (dialog, "000 000 000");
  submit (dialog);
  g_assert_nonnull (sp_sync_dialog_get_error (dialog));
  g_assert_null (sp_sync_dialog_get_result (dialog));
  g_object_unref (shoot (GTK_WIDGET (dialog), "dialog-approve-wrong"));
  sp_sync_dialog_set_input (dialog, safety);
  submit (dialog);
  g_assert_null (sp_sync_dialog_get_error (dialog));
  g_assert_nonnull (sp_sync_dialog_get_result (dialog));
  g_object_unref (shoot (GTK_WIDGET (dialog), "dialog-approve-done"));
  close_dialog (dialog);

  /* A's records reach B after Sync now (A) and a sync of B. */
  org_a = sp_test_insert (w.a, "org", "name", "Alpha", NULL);
  sp_sync_status_refresh (w.status);
  g_assert_nonnull (strstr (sp_sync_status_get_detail (w.status), "not sent yet"));
  sync_now ();
  g_assert_cmpstr (sp_sync_status_get_text (w.status), ==, "Synced just now");
  g_assert_cmpstr (sp_sync_status_get_detail (w.status), ==, "No local changes to send.");
  g_assert_null (sp_sync_status_get_problems (w.status));
  shot = shoot (GTK_WIDGET (w.status), "status-synced");
  g_object_unref (shoot (GTK_WIDGET (w.window), "window-synced"));
  g_assert_cmpint (count_orgs (w.b), ==, 0);
  sync_b ();
  g_assert_cmpint (count_orgs (w.b), ==, 1);
  {
    g_autoptr (SpRecord) r = sp_vault_get (w.b, org_a, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (sp_record_get (r, "name"), ==, "Alpha");
  }

  /* And B's back to A, where the list is reloaded. */
  org_b = sp_test_insert (w.b, "org", "name", "Beta", NULL);
  sync_b ();
  sync_now ();
  g_assert_cmpint (count_orgs (w.a), ==, 2);
  {
    g_autoptr (SpRecord) r = sp_vault_get (w.a, org_b, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (sp_record_get (r, "name"), ==, "Beta");
  }
  gtk_popover_popup (GTK_POPOVER (sp_sync_status_get_popover (w.status)));
  g_object_unref (shoot (sp_sync_status_get_popover (w.status), "status-synced-popover"));
  gtk_popover_popdown (GTK_POPOVER (sp_sync_status_get_popover (w.status)));

  /* Devices: two, A active admin (self), B active; remove B after the
   * confirmation. */
  dialog = open_dialog ("sync.devices");
  g_assert_true (ui_wait_for (dialog_idle, dialog, WAIT_SECONDS));
  ui_drain ();
  g_assert_null (sp_sync_dialog_get_error (dialog));
  devices = sp_sync_dialog_get_devices (dialog);
  g_assert_nonnull (devices);
  g_assert_cmpuint (devices->len, ==, 2);
  for (guint i = 0; i < devices->len; i++)
    {
      SyncDevice *d = devices->pdata[i];
      g_assert_cmpstr (d->status, ==, "active");
      if (d->is_self)
        g_assert_true (d->admin);
      else
        b_device = d->device;
    }
  g_assert_nonnull (b_device);
  g_object_unref (shoot (GTK_WIDGET (dialog), "dialog-devices"));
  confirm = sp_sync_dialog_confirm_revoke (dialog, b_device);
  g_assert_true (ADW_IS_MESSAGE_DIALOG (confirm));
  g_assert_nonnull (strstr (adw_message_dialog_get_body (ADW_MESSAGE_DIALOG (confirm)),
                            "keeps everything it had already received"));
  g_object_unref (shoot (confirm, "dialog-revoke-confirm"));
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (confirm), "remove");
  /* Revoked, then the list is fetched again. */
  g_assert_true (ui_wait_for (others_revoked, dialog, WAIT_SECONDS));
  g_assert_null (sp_sync_dialog_get_error (dialog));
  devices = sp_sync_dialog_get_devices (dialog);
  for (guint i = 0; i < devices->len; i++)
    {
      SyncDevice *d = devices->pdata[i];
      g_assert_cmpstr (d->status, ==, d->is_self ? "active" : "revoked");
    }
  g_object_unref (shoot (GTK_WIDGET (dialog), "dialog-devices-revoked"));
  close_dialog (dialog);

  /* B is out: its next sync fails. */
  {
    SyncReport report = { 0 };
    g_autoptr (GError) e = NULL;
    gboolean ok = sync_run (w.b, NULL, &report, &e);
    g_assert_true (!ok || report.refused_batches > 0 || report.problems->len > 0);
    sync_report_clear (&report);
  }
}

/* A third vault joins through the dialog in a main view of its own, and says
 * it waits for approval. */
static void
test_join_dialog (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *invite = NULL;
  g_autofree char *c_dir = NULL;
  g_autoptr (SpVault) c = NULL;
  GtkWidget *window, *view;
  SpSyncStatus *status;
  SpSyncDialog *dialog;
  const char *code;

  g_assert_true (ui_wait_for (status_idle, w.status, WAIT_SECONDS));
  invite = sync_workspace_invite (w.a, 1, NULL, &error);
  g_assert_no_error (error);
  c = sp_test_vault_new (&c_dir);
  window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 600);
  view = sp_main_view_new (c);
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  ui_drain ();
  status = sp_sync_status_from_main_view (view);
  g_assert_cmpstr (sp_sync_status_get_text (status), ==, "Not syncing");

  gtk_widget_activate_action (GTK_WIDGET (status), "sync.join", NULL);
  dialog = SP_SYNC_DIALOG (sp_sync_status_get_dialog (status));
  g_assert_nonnull (dialog);
  g_object_unref (shoot (GTK_WIDGET (dialog), "dialog-join-form"));
  sp_sync_dialog_set_input (dialog, "supolka1:garbage");
  submit (dialog);
  g_assert_nonnull (sp_sync_dialog_get_error (dialog));
  g_object_unref (shoot (GTK_WIDGET (dialog), "dialog-join-bad"));
  sp_sync_dialog_set_input (dialog, invite);
  submit (dialog);
  g_assert_null (sp_sync_dialog_get_error (dialog));
  code = sp_sync_dialog_get_result (dialog);
  g_assert_nonnull (code);
  g_assert_true (g_regex_match_simple ("^[0-9 ]{9,}$", code, 0, 0));
  g_object_unref (shoot (GTK_WIDGET (dialog), "dialog-join"));
  gtk_window_destroy (GTK_WINDOW (dialog));
  ui_drain ();
  g_assert_cmpstr (sp_sync_status_get_text (status), ==, "Waiting for approval");
  gtk_popover_popup (GTK_POPOVER (sp_sync_status_get_popover (status)));
  g_object_unref (shoot (sp_sync_status_get_popover (status), "status-waiting"));
  gtk_popover_popdown (GTK_POPOVER (sp_sync_status_get_popover (status)));
  gtk_window_destroy (GTK_WINDOW (window));
  ui_drain ();
  g_clear_pointer (&c, sp_vault_close);
  sp_test_rmtree (c_dir);
}

/* Locking while Sync now runs: the window stops showing the vault at once, the
 * worker finishes on its own and closes the vault; nothing crashes. */
static void
test_lock_during_sync (void)
{
  SpLockPage *page;
  GtkWindow *dialog;

  g_assert_true (ui_wait_for (status_idle, w.status, WAIT_SECONDS));
  g_assert_nonnull (sp_application_get_vault (w.app));
  /* A stopped relay keeps the worker waiting for its answer. */
  g_assert_cmpint (kill (the_relay->pid, SIGSTOP), ==, 0);
  gtk_widget_activate_action (GTK_WIDGET (w.status), "sync.now", NULL);
  g_assert_true (sp_sync_status_is_running (w.status));
  g_assert_true (sp_vault_job_is_busy ());
  /* While it runs the lists are insensitive; the header (lock) is not. */
  g_assert_false (gtk_widget_is_sensitive (
      GTK_WIDGET (sp_main_view_get_browser (sp_window_get_main_view (w.window)))));
  g_assert_true (gtk_widget_is_sensitive (GTK_WIDGET (w.status)));
  /* A second call is refused while the first runs. */
  {
    g_autoptr (GError) error = NULL;
    g_assert_false (sp_sync_job_start (sp_sync_job_new (SP_SYNC_OP_RUN, NULL),
                                       sp_application_get_vault (w.app), GTK_WIDGET (w.status),
                                       NULL, NULL, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_BUSY);
  }
  /* So is any other vault job (one lease for all): the duress passphrase. */
  {
    g_action_group_activate_action (G_ACTION_GROUP (w.app), "duress", NULL);
    dialog = sp_guard_dialog_get_current ();
    g_assert_nonnull (dialog);
    g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *)&dialog);
    gtk_editable_set_text (sp_guard_dialog_get_entry (dialog, "passphrase"), "some duress words");
    gtk_editable_set_text (sp_guard_dialog_get_entry (dialog, "repeat"), "some duress words");
    gtk_widget_activate_action (GTK_WIDGET (dialog), "guard.ok", NULL);
    g_assert_false (sp_guard_dialog_is_busy (dialog));
    g_assert_nonnull (strstr (sp_guard_dialog_get_error (dialog), "still running"));
  }
  g_object_add_weak_pointer (G_OBJECT (w.status), (gpointer *)&w.status);
  sp_application_lock (w.app);
  /* The guard dialog is a secret window: the lock destroyed it. */
  g_assert_null (dialog);
  g_assert_null (sp_application_get_vault (w.app));
  g_assert_null (sp_window_get_main_view (w.window));
  /* Nothing (not the running task) keeps the status widget alive. */
  ui_drain ();
  g_assert_null (w.status);
  page = sp_window_get_lock_page (w.window);
  g_assert_nonnull (page);
  /* Locking did not wait for the network; the worker closes the vault when
   * its call returns. */
  g_assert_true (sp_vault_job_is_busy ());
  g_assert_cmpint (kill (the_relay->pid, SIGCONT), ==, 0);
  sp_vault_job_wait_idle ();
  g_assert_false (sp_vault_job_is_busy ());
  ui_drain ();
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int rc;

  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  sp_ui_init ();
  tmp_root = sp_test_tmpdir ();
  g_assert_cmpint (g_mkdir_with_parents (shots_dir, 0700), ==, 0);
  {
    g_autofree char *data = g_build_filename (tmp_root, "relay", NULL);
    const char *const args[] = { "--rate", "1000", "--create-token", UI_CREATE_TOKEN, NULL };

    the_relay = relay_start (data, args);
  }

  w.app = sp_application_new (G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (w.app), NULL, &error));
  g_assert_no_error (error);
  sp_application_set_auto_lock_delay (w.app, 0);
  g_application_activate (G_APPLICATION (w.app));
  w.window = SP_WINDOW (gtk_application_get_active_window (GTK_APPLICATION (w.app)));
  g_assert_nonnull (w.window);
  gtk_window_set_default_size (GTK_WINDOW (w.window), 1000, 640);
  ui_drain ();

  g_test_add_func ("/ui-sync/relay-url", test_relay_url);
  g_test_add_func ("/ui-sync/flow", test_flow);
  g_test_add_func ("/ui-sync/join-dialog", test_join_dialog);
  g_test_add_func ("/ui-sync/lock-during-sync", test_lock_during_sync);
  rc = g_test_run ();

  sp_vault_job_wait_idle ();
  sp_application_lock (w.app);
  gtk_window_destroy (GTK_WINDOW (w.window));
  ui_drain ();
  g_clear_pointer (&w.b, sp_vault_close);
  g_object_unref (w.app);
  relay_stop (g_steal_pointer (&the_relay));
  sp_test_rmtree (tmp_root);
  sp_test_rmtree (w.a_dir);
  sp_test_rmtree (w.b_dir);
  g_free (tmp_root);
  g_free (w.a_dir);
  g_free (w.b_dir);
  return rc;
}
