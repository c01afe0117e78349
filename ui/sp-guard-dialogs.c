/* sp-guard-dialogs.c — the duress passphrase, backup and restore dialogs
 * (issue #5), their file choosers, and their jobs.
 *
 * Backup and the duress passphrase use the open vault, restore replaces the
 * vault files: each is a vault job (sp-vault-job.h), so it runs alone, off
 * the main loop, and a lock during it neither waits nor leaves keys behind.
 * The dialog is a secret window (destroyed at lock), modal while its job runs.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <string.h>

#include "sp-guard-dialogs.h"
#include "sp-preferences.h"
#include "sp-secret-window.h"
#include "sp-vault-job.h"

#define MIN_PASSPHRASE_CHARS 8

/* ---- The form ---------------------------------------------------------------- */

typedef struct
{
  SpGuardDialogKind kind;
  SpVault *vault;    /* borrowed (duress, backup); the dialog dies at lock */
  GtkWindow *window; /* weak */
  GtkWidget *form;   /* the inputs, insensitive while busy */
  GtkWidget *passphrase;
  GtkWidget *repeat;
  GtkWidget *new_pass;
  GtkWidget *new_repeat;
  GtkWidget *replace;
  GtkWidget *error_label;
  GtkWidget *done_label;
  GtkWidget *spinner;
  GtkWidget *ok_button;
  GtkWidget *cancel_button;
  GSimpleActionGroup *actions;
  GCancellable *cancellable; /* cancelled when the dialog goes away */
  char *path;
  char *error;
  gboolean busy;
  gboolean done;
  SpGuardDialogDone done_hook;
  gpointer done_data;
} Form;

static GtkWindow *current; /* weak: the guard dialog open now */

static void
form_free (gpointer p)
{
  Form *form = p;

  g_cancellable_cancel (form->cancellable);
  g_clear_object (&form->cancellable);
  g_clear_object (&form->actions);
  g_free (form->path);
  g_free (form->error);
  g_free (form);
}

static Form *
form_of (GtkWindow *dialog)
{
  return dialog ? g_object_get_data (G_OBJECT (dialog), "sp-guard-form") : NULL;
}

static void
form_set_error (Form *form, const char *message)
{
  g_free (form->error);
  form->error = g_strdup (message);
  gtk_label_set_text (GTK_LABEL (form->error_label), message ? message : "");
  gtk_widget_set_visible (form->error_label, message != NULL);
}

static void
form_set_busy (Form *form, gboolean busy)
{
  form->busy = busy;
  if (busy)
    gtk_window_set_focus (form->window, NULL);
  gtk_widget_set_sensitive (form->form, !busy);
  gtk_widget_set_sensitive (form->ok_button, !busy);
  gtk_widget_set_visible (form->spinner, busy);
  gtk_spinner_set_spinning (GTK_SPINNER (form->spinner), busy);
  g_simple_action_set_enabled (
      G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (form->actions), "ok")), !busy);
  g_simple_action_set_enabled (
      G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (form->actions), "remove")), !busy);
}

static void
form_set_done (Form *form, const char *message)
{
  form->done = TRUE;
  form_set_error (form, NULL);
  gtk_widget_set_visible (form->form, FALSE);
  gtk_label_set_text (GTK_LABEL (form->done_label), message);
  gtk_widget_set_visible (form->done_label, TRUE);
  gtk_widget_set_visible (form->ok_button, FALSE);
  gtk_button_set_label (GTK_BUTTON (form->cancel_button), _ ("_Close"));
  gtk_widget_grab_focus (form->cancel_button);
}

static const char *
entry_text (GtkWidget *entry)
{
  return entry ? gtk_editable_get_text (GTK_EDITABLE (entry)) : "";
}

static SpSecret *
entry_secret (GtkWidget *entry)
{
  const char *text = entry_text (entry);

  /* The copy for the KDF lives in sodium_malloc memory. */
  return *text ? sp_secret_new_from_data (text, strlen (text)) : NULL;
}

static void
clear_entries (Form *form)
{
  GtkWidget *entries[] = { form->passphrase, form->repeat, form->new_pass, form->new_repeat };

  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    if (entries[i])
      gtk_editable_set_text (GTK_EDITABLE (entries[i]), "");
}

/* A new passphrase typed twice: NULL when fine, else the message. */
static const char *
check_new_passphrase (GtkWidget *entry, GtkWidget *repeat)
{
  const char *text = entry_text (entry);

  if (g_utf8_strlen (text, -1) < MIN_PASSPHRASE_CHARS)
    return _ ("The passphrase must have at least 8 characters.");
  if (g_strcmp0 (text, entry_text (repeat)) != 0)
    return _ ("The two passphrases differ. Type the same passphrase twice.");
  return NULL;
}

static SpKdfProfile
new_profile (void)
{
  /* The test suite's fast profile, as the lock page honours it. */
  g_autoptr (GSettings) settings = NULL;
  g_autofree char *name = NULL;
  SpKdfProfile profile;

  if (g_strcmp0 (g_getenv ("SUPOLKA_TEST_KDF"), "interactive") == 0)
    return SP_KDF_INTERACTIVE;
  settings = sp_preferences_get_settings ();
  name = settings ? g_settings_get_string (settings, "kdf-profile") : NULL;
  if (name && sp_kdf_profile_from_string (name, &profile) && profile >= SP_KDF_MODERATE)
    return profile;
  return SP_KDF_MODERATE;
}

/* ---- Jobs ------------------------------------------------------------------ */

typedef struct
{
  SpGuardDialogKind kind;
  gboolean remove; /* duress: remove instead of set */
  char *path;
  char *dir;
  SpSecret *passphrase;
  SpSecret *new_passphrase;
  SpKdfProfile profile;
  gboolean replace;
} Job;

static void
job_free (gpointer p)
{
  Job *job = p;

  g_free (job->path);
  g_free (job->dir);
  sp_secret_free (job->passphrase);
  sp_secret_free (job->new_passphrase);
  g_free (job);
}

/* In the job's thread; @vault is the leased vault (NULL for restore). */
static gboolean
job_work (SpVault *vault, gpointer data, GError **error)
{
  Job *job = data;

  switch (job->kind)
    {
      case SP_GUARD_DIALOG_DURESS:
        return job->remove ? sp_vault_clear_duress (vault, error)
                           : sp_vault_set_duress (vault, job->passphrase, error);
      case SP_GUARD_DIALOG_BACKUP:
        return sp_vault_backup (vault, job->path, job->passphrase, job->profile, error);
      case SP_GUARD_DIALOG_RESTORE:
        {
          g_autoptr (GFile) dir = g_file_new_for_path (job->dir);
          g_autoptr (GFile) parent = g_file_get_parent (dir);
          g_autoptr (GError) mkdir_error = NULL;

          /* Only the parent: core makes the vault folder itself, 0700. */
          if (parent && !g_file_make_directory_with_parents (parent, NULL, &mkdir_error)
              && !g_error_matches (mkdir_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
            {
              g_propagate_error (error, g_steal_pointer (&mkdir_error));
              return FALSE;
            }
          return sp_vault_restore (job->path, job->passphrase, job->dir, job->new_passphrase,
                                   job->profile, job->replace, error);
        }
    }
  g_assert_not_reached ();
}

static const char *
job_error_text (SpGuardDialogKind kind, GError *error)
{
  if (error->domain == SP_CORE_ERROR)
    switch (error->code)
      {
        case SP_CORE_ERROR_WRONG_PASSPHRASE:
          /* The first encrypted block does not open: core cannot tell a
         * wrong passphrase from a damaged start of the file. */
          return _ ("Wrong backup passphrase, or the file is damaged. Nothing was changed.");
        case SP_CORE_ERROR_CORRUPT:
          return _ ("This file is damaged, incomplete or not a Supolka backup. Nothing was "
                    "changed.");
        case SP_CORE_ERROR_TOO_NEW:
          return _ ("This backup was made by a newer version of Supolka. Update Supolka first.");
        case SP_CORE_ERROR_EXISTS:
          return _ ("There is a vault on this computer already. Turn on “Replace the vault on "
                    "this computer” to restore over it.");
        case SP_CORE_ERROR_INVALID:
          if (kind == SP_GUARD_DIALOG_DURESS)
            return _ ("This is the vault's own passphrase. Choose a different one.");
          break;
        case SP_CORE_ERROR_LOCKED:
          return _ ("The vault is locked.");
        default:
          break;
      }
  return error->message;
}

static void
job_done (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (GError) error = NULL;
  Job *job = sp_vault_job_finish (result, &error);
  Form *form = data;

  /* The dialog went away (closed, or destroyed by a lock): nothing to show. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  form_set_busy (form, FALSE);
  if (job == NULL)
    {
      form_set_error (form, job_error_text (form->kind, error));
      clear_entries (form);
      if (form->passphrase)
        gtk_widget_grab_focus (form->passphrase);
      return;
    }
  clear_entries (form);
  switch (job->kind)
    {
      case SP_GUARD_DIALOG_DURESS:
        form_set_done (form, job->remove
                                 ? _ ("The duress passphrase is removed, if there was one.")
                                 : _ ("The duress passphrase is set. Entering it at the lock "
                                      "screen destroys the real data."));
        break;
      case SP_GUARD_DIALOG_BACKUP:
        form_set_done (form, _ ("The backup is saved. Keep it away from this computer and keep its "
                                "passphrase safe: together they open all the data."));
        break;
      case SP_GUARD_DIALOG_RESTORE:
        form_set_done (form, job->new_passphrase
                                 ? _ ("The vault is restored. Unlock it with the new passphrase.")
                                 : _ ("The vault is restored. Unlock it with the backup's "
                                      "passphrase."));
        break;
    }
  if (form->done_hook)
    form->done_hook (form->kind, form->done_data);
}

static void
start_job (Form *form, Job *job, SpVault *vault)
{
  g_autoptr (GError) error = NULL;

  /* Whatever happens to the dialog, the job runs to its end (and releases
   * the vault): the result is just not shown. */
  if (!sp_vault_job_run (vault, GTK_WIDGET (form->window), "[supolka] guard", job_work, job,
                         job_free, form->cancellable, job_done, form, &error))
    {
      form_set_error (form, error->message);
      return;
    }
  form_set_error (form, NULL);
  form_set_busy (form, TRUE);
}

static void
form_ok (GSimpleAction *action, GVariant *param, gpointer data)
{
  Form *form = data;
  SpVault *vault = form->vault;
  const char *problem = NULL;
  Job *job;

  if (form->busy || form->done)
    return;
  if (form->kind != SP_GUARD_DIALOG_RESTORE && vault == NULL)
    {
      form_set_error (form, _ ("The vault is locked."));
      return;
    }
  if (form->kind == SP_GUARD_DIALOG_RESTORE)
    {
      if (*entry_text (form->passphrase) == '\0')
        problem = _ ("Enter the backup's passphrase.");
      else if (*entry_text (form->new_pass) || *entry_text (form->new_repeat))
        problem = check_new_passphrase (form->new_pass, form->new_repeat);
    }
  else
    problem = check_new_passphrase (form->passphrase, form->repeat);
  if (problem)
    {
      form_set_error (form, problem);
      return;
    }
  job = g_new0 (Job, 1);
  job->kind = form->kind;
  job->passphrase = entry_secret (form->passphrase);
  switch (form->kind)
    {
      case SP_GUARD_DIALOG_DURESS:
        break;
      case SP_GUARD_DIALOG_BACKUP:
        job->path = g_strdup (form->path);
        /* As strong as the vault's own passphrase. */
        job->profile = sp_vault_get_kdf_profile (vault);
        break;
      case SP_GUARD_DIALOG_RESTORE:
        job->path = g_strdup (form->path);
        job->dir = sp_vault_default_dir ();
        job->new_passphrase = entry_secret (form->new_pass);
        job->profile = new_profile ();
        job->replace = gtk_switch_get_active (GTK_SWITCH (form->replace));
        break;
    }
  start_job (form, job, vault);
}

static void
form_remove (GSimpleAction *action, GVariant *param, gpointer data)
{
  Form *form = data;
  SpVault *vault = form->vault;
  Job *job;

  if (form->busy || form->done || form->kind != SP_GUARD_DIALOG_DURESS)
    return;
  if (vault == NULL)
    {
      form_set_error (form, _ ("The vault is locked."));
      return;
    }
  job = g_new0 (Job, 1);
  job->kind = SP_GUARD_DIALOG_DURESS;
  job->remove = TRUE;
  start_job (form, job, vault);
}

static void
form_cancel (GSimpleAction *action, GVariant *param, gpointer data)
{
  Form *form = data;

  if (form->window)
    gtk_window_destroy (form->window);
}

static GtkWidget *
wrapped_label (const char *text, const char *css_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (css_class)
    gtk_widget_add_css_class (label, css_class);
  return label;
}

static void
row_activated (GtkWidget *row, gpointer data)
{
  Form *form = data;

  g_action_group_activate_action (G_ACTION_GROUP (form->actions), "ok", NULL);
}

static void
dialog_destroyed (GtkWidget *window, gpointer data)
{
  Form *form = data;

  /* Any job still running reports to nobody; the vault may close now. */
  g_cancellable_cancel (form->cancellable);
  form->vault = NULL;
}

static Form *
form_new (SpGuardDialogKind kind, const char *title, const char *ok_label)
{
  GtkWidget *window = adw_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *scroller = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *outer = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  GtkWidget *end = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  static const GActionEntry entries[] = {
    { "ok", form_ok, NULL, NULL, NULL, { 0 } },
    { "remove", form_remove, NULL, NULL, NULL, { 0 } },
    { "cancel", form_cancel, NULL, NULL, NULL, { 0 } },
  };
  Form *form = g_new0 (Form, 1);

  form->kind = kind;
  form->cancellable = g_cancellable_new ();
  g_set_weak_pointer (&form->window, GTK_WINDOW (window));
  g_object_set_data_full (G_OBJECT (window), "sp-guard-form", form, form_free);
  g_signal_connect (window, "destroy", G_CALLBACK (dialog_destroyed), form);

  form->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (form->actions), entries, G_N_ELEMENTS (entries),
                                   form);
  gtk_widget_insert_action_group (window, "guard", G_ACTION_GROUP (form->actions));

  gtk_window_set_title (GTK_WINDOW (window), title);
  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  gtk_window_set_default_size (GTK_WINDOW (window), 460, -1);
  gtk_window_set_hide_on_close (GTK_WINDOW (window), FALSE);

  adw_header_bar_set_show_end_title_buttons (ADW_HEADER_BAR (header), FALSE);
  adw_header_bar_set_show_start_title_buttons (ADW_HEADER_BAR (header), FALSE);
  form->cancel_button = gtk_button_new_with_mnemonic (_ ("_Cancel"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (form->cancel_button), "guard.cancel");
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), form->cancel_button);
  form->spinner = gtk_spinner_new ();
  gtk_widget_set_visible (form->spinner, FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (form->spinner), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Working"), -1);
  form->ok_button = gtk_button_new_with_mnemonic (ok_label);
  gtk_widget_add_css_class (form->ok_button, "suggested-action");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (form->ok_button), "guard.ok");
  gtk_box_append (GTK_BOX (end), form->spinner);
  gtk_box_append (GTK_BOX (end), form->ok_button);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), end);
  gtk_box_append (GTK_BOX (box), header);

  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroller), TRUE);
  gtk_widget_set_vexpand (scroller, TRUE);
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 520);
  gtk_widget_set_margin_top (outer, 18);
  gtk_widget_set_margin_bottom (outer, 24);
  gtk_widget_set_margin_start (outer, 12);
  gtk_widget_set_margin_end (outer, 12);
  form->form = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  form->error_label = wrapped_label (NULL, "error");
  gtk_widget_set_visible (form->error_label, FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (form->error_label), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Error"), -1);
  form->done_label = wrapped_label (NULL, NULL);
  gtk_widget_set_visible (form->done_label, FALSE);
  gtk_box_append (GTK_BOX (outer), form->form);
  gtk_box_append (GTK_BOX (outer), form->error_label);
  gtk_box_append (GTK_BOX (outer), form->done_label);
  adw_clamp_set_child (ADW_CLAMP (clamp), outer);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), clamp);
  gtk_box_append (GTK_BOX (box), scroller);
  adw_window_set_content (ADW_WINDOW (window), box);
  return form;
}

static void
form_present (Form *form, GtkWindow *parent)
{
  /* Holds passphrases: a secret window, destroyed by every lock. */
  sp_secret_window_attach (form->window, parent);
  if (current)
    gtk_window_destroy (current);
  g_set_weak_pointer (&current, form->window);
  gtk_window_present (form->window);
  if (form->passphrase)
    gtk_widget_grab_focus (form->passphrase);
}

static GtkWidget *
form_group (Form *form, const char *title, const char *description)
{
  GtkWidget *group = adw_preferences_group_new ();

  if (title)
    adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), title);
  if (description)
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), description);
  gtk_box_append (GTK_BOX (form->form), group);
  return group;
}

static GtkWidget *
form_password (Form *form, GtkWidget *group, const char *title)
{
  GtkWidget *row = adw_password_entry_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (row), TRUE);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  g_signal_connect (row, "entry-activated", G_CALLBACK (row_activated), form);
  return row;
}

GtkWindow *
sp_guard_dialog_show_duress (GtkWindow *parent, SpVault *vault)
{
  Form *form;
  GtkWidget *group;
  GtkWidget *remove_group, *remove;

  g_return_val_if_fail (vault != NULL, NULL);
  form = form_new (SP_GUARD_DIALOG_DURESS, _ ("Duress Passphrase"), _ ("_Set"));

  gtk_box_append (
      GTK_BOX (form->form),
      wrapped_label (_ ("A duress passphrase is a second passphrase for when you are forced to "
                        "unlock the vault. Entering it at the lock screen destroys the real data "
                        "on this computer and opens an empty vault that looks ordinary. It cannot "
                        "be undone."),
                     NULL));
  gtk_box_append (
      GTK_BOX (form->form),
      wrapped_label (_ ("Think before you use it: destroying data in front of the police may "
                        "itself be charged as destroying evidence. An empty vault on a computer "
                        "known to be used for this work may raise suspicion. Data synced to other "
                        "devices stays there. This is off unless you set a passphrase here."),
                     "warning"));
  group = form_group (form, _ ("New duress passphrase"), NULL);
  form->passphrase = form_password (form, group, _ ("_Duress passphrase"));
  form->repeat = form_password (form, group, _ ("_Repeat the duress passphrase"));
  remove_group
      = form_group (form, NULL,
                    _ ("Nothing shows whether a duress passphrase is set. Removing it is safe "
                       "either way."));
  remove = gtk_button_new_with_mnemonic (_ ("Re_move the Duress Passphrase"));
  gtk_widget_set_halign (remove, GTK_ALIGN_START);
  gtk_widget_add_css_class (remove, "destructive-action");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (remove), "guard.remove");
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (remove_group), remove);
  form->vault = vault;
  form_present (form, parent);
  return form->window;
}

GtkWindow *
sp_guard_dialog_show_backup (GtkWindow *parent, SpVault *vault, const char *path)
{
  g_autofree char *name = NULL;
  g_autofree char *where = NULL;
  GtkWidget *group;
  Form *form;

  g_return_val_if_fail (vault != NULL && path != NULL, NULL);
  form = form_new (SP_GUARD_DIALOG_BACKUP, _ ("Back Up the Vault"), _ ("_Back Up"));
  name = g_filename_display_basename (path);
  where = g_strdup_printf (_ ("The backup goes to “%s”, encrypted with a passphrase of its own. "
                              "Use a passphrase you will remember: without it the backup cannot "
                              "be restored."),
                           name);

  form->path = g_strdup (path);
  gtk_box_append (GTK_BOX (form->form), wrapped_label (where, NULL));
  group = form_group (form, _ ("Backup passphrase"), NULL);
  form->passphrase = form_password (form, group, _ ("Backup _passphrase"));
  form->repeat = form_password (form, group, _ ("_Repeat the backup passphrase"));
  form->vault = vault;
  form_present (form, parent);
  return form->window;
}

GtkWindow *
sp_guard_dialog_show_restore (GtkWindow *parent, const char *path, SpGuardDialogDone done,
                              gpointer user_data)
{
  g_autofree char *name = NULL;
  g_autofree char *from = NULL;
  g_autofree char *dir = sp_vault_default_dir ();
  GtkWidget *group, *row;
  Form *form;

  g_return_val_if_fail (path != NULL, NULL);
  form = form_new (SP_GUARD_DIALOG_RESTORE, _ ("Restore from Backup"), _ ("_Restore"));
  name = g_filename_display_basename (path);
  from = g_strdup_printf (_ ("Restoring the vault from “%s”."), name);

  form->path = g_strdup (path);
  gtk_box_append (GTK_BOX (form->form), wrapped_label (from, NULL));
  group = form_group (form, NULL, NULL);
  form->passphrase = form_password (form, group, _ ("Backup _passphrase"));
  group = form_group (form, _ ("New passphrase (optional)"),
                      _ ("Leave empty to unlock the restored vault with the backup's "
                         "passphrase."));
  form->new_pass = form_password (form, group, _ ("_New passphrase"));
  form->new_repeat = form_password (form, group, _ ("R_epeat the new passphrase"));
  group = form_group (form, NULL, NULL);
  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                 _ ("Replace the vault on this computer"));
  adw_action_row_set_subtitle (
      ADW_ACTION_ROW (row),
      _ ("The vault here is destroyed once the backup has been read completely."));
  form->replace = gtk_switch_new ();
  gtk_widget_set_valign (form->replace, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), form->replace);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), form->replace);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  gtk_widget_set_visible (group, sp_vault_exists (dir));
  form->done_hook = done;
  form->done_data = user_data;
  form_present (form, parent);
  return form->window;
}

/* ---- File choosers ---------------------------------------------------------- */

typedef struct
{
  SpGuardFileChosen chosen;
  gpointer user_data;
} Chooser;

static void
chooser_response (GtkNativeDialog *native, int response, gpointer data)
{
  g_autofree Chooser *chooser = data;
  g_autoptr (GFile) file = NULL;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));
  path = file ? g_file_get_path (file) : NULL;
  gtk_native_dialog_destroy (native);
  g_object_unref (native);
  if (path)
    chooser->chosen (path, chooser->user_data);
}

void
sp_guard_dialog_choose_file (SpGuardDialogKind kind, GtkWindow *parent, SpGuardFileChosen chosen,
                             gpointer user_data)
{
  gboolean save = kind == SP_GUARD_DIALOG_BACKUP;
  GtkFileChooserNative *native = gtk_file_chooser_native_new (
      save ? _ ("Back Up the Vault") : _ ("Restore from Backup"), parent,
      save ? GTK_FILE_CHOOSER_ACTION_SAVE : GTK_FILE_CHOOSER_ACTION_OPEN,
      save ? _ ("_Save") : _ ("_Open"), _ ("_Cancel"));
  Chooser *chooser = g_new0 (Chooser, 1);

  g_return_if_fail (chosen != NULL);
  chooser->chosen = chosen;
  chooser->user_data = user_data;
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  if (save)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), "supolka.backup");
  g_signal_connect (native, "response", G_CALLBACK (chooser_response), chooser);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

/* ---- Test access ------------------------------------------------------------ */

GtkWindow *
sp_guard_dialog_get_current (void)
{
  return current;
}

GtkEditable *
sp_guard_dialog_get_entry (GtkWindow *dialog, const char *name)
{
  Form *form = form_of (dialog);
  GtkWidget *w = NULL;

  g_return_val_if_fail (form != NULL, NULL);
  if (g_str_equal (name, "passphrase"))
    w = form->passphrase;
  else if (g_str_equal (name, "repeat"))
    w = form->repeat;
  else if (g_str_equal (name, "new"))
    w = form->new_pass;
  else if (g_str_equal (name, "new-repeat"))
    w = form->new_repeat;
  return w ? GTK_EDITABLE (w) : NULL;
}

GtkWidget *
sp_guard_dialog_get_replace (GtkWindow *dialog)
{
  Form *form = form_of (dialog);

  g_return_val_if_fail (form != NULL, NULL);
  return form->replace;
}

gboolean
sp_guard_dialog_is_busy (GtkWindow *dialog)
{
  Form *form = form_of (dialog);

  return form && form->busy;
}

gboolean
sp_guard_dialog_is_done (GtkWindow *dialog)
{
  Form *form = form_of (dialog);

  return form && form->done;
}

const char *
sp_guard_dialog_get_error (GtkWindow *dialog)
{
  Form *form = form_of (dialog);

  return form ? form->error : NULL;
}
