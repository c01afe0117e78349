/* sp-lock-page.c — create a vault, or unlock it.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <string.h>

#include "sp-lock-page.h"

#define MIN_PASSPHRASE_CHARS 8

struct _SpLockPage
{
  GtkWidget parent_instance;

  AdwStatusPage *status;
  GtkWidget *form;
  GtkWidget *passphrase;
  GtkWidget *create_box;
  GtkWidget *strength_bar;
  GtkWidget *strength_label;
  GtkWidget *repeat;
  GtkWidget *kdf_moderate;
  GtkWidget *kdf_sensitive;
  GtkWidget *error_label;
  GtkWidget *spinner;
  GtkWidget *go_button;

  gboolean creating;
  gboolean busy;
  char *dir;
  char *error;
};

enum
{
  SIGNAL_UNLOCKED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (SpLockPage, sp_lock_page, GTK_TYPE_WIDGET)

typedef struct
{
  char *dir;
  SpSecret *passphrase;
  SpKdfProfile profile;
  gboolean create;
} OpenJob;

static void
open_job_free (OpenJob *job)
{
  g_free (job->dir);
  sp_secret_free (job->passphrase);
  g_free (job);
}

static void
vault_close_cb (gpointer p)
{
  sp_vault_close (p);
}

guint
sp_passphrase_strength (const char *text)
{
  glong n = text ? g_utf8_strlen (text, -1) : 0;
  gboolean lower = FALSE, upper = FALSE, digit = FALSE, other = FALSE, space = FALSE;
  guint classes, score;

  if (n < MIN_PASSPHRASE_CHARS)
    return 0;
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      if (g_unichar_islower (c))
        lower = TRUE;
      else if (g_unichar_isupper (c))
        upper = TRUE;
      else if (g_unichar_isdigit (c))
        digit = TRUE;
      else if (g_unichar_isspace (c))
        space = TRUE;
      else
        other = TRUE;
    }
  classes = lower + upper + digit + other + space;
  /* Length counts most: several words beat a short jumble. */
  score = n >= 20 ? 3 : n >= 14 ? 2 : 1;
  if (classes >= 3 || (space && n >= 16))
    score++;
  return MIN (score, 4);
}

static void
set_error (SpLockPage *self, const char *message)
{
  g_free (self->error);
  self->error = g_strdup (message);
  gtk_label_set_text (GTK_LABEL (self->error_label), message ? message : "");
  gtk_widget_set_visible (self->error_label, message != NULL);
}

static void
set_busy (SpLockPage *self, gboolean busy)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  self->busy = busy;
  /* Drop the focus first: an entry made insensitive while focused keeps a
   * blinking cursor without a focus-out. */
  if (busy && root)
    gtk_root_set_focus (root, NULL);
  gtk_widget_set_sensitive (self->form, !busy);
  gtk_widget_set_visible (self->spinner, busy);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), busy);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "lock.unlock", !busy);
}

static void
update_strength (SpLockPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->passphrase));
  guint score = sp_passphrase_strength (text);
  static const char *const hints[] = {
    N_ ("Too short: use at least 8 characters, better several words"),
    N_ ("Weak: easy to guess for a computer"),
    N_ ("Fair: a longer passphrase would be safer"),
    N_ ("Good"),
    N_ ("Strong"),
  };

  gtk_level_bar_set_value (GTK_LEVEL_BAR (self->strength_bar), score);
  gtk_label_set_text (GTK_LABEL (self->strength_label),
                      *text ? _ (hints[score]) : _ ("Use several words that only you know"));
}

void
sp_lock_page_refresh (SpLockPage *self)
{
  g_return_if_fail (SP_IS_LOCK_PAGE (self));
  g_free (self->dir);
  self->dir = sp_vault_default_dir ();
  self->creating = !sp_vault_exists (self->dir);
  gtk_widget_set_visible (self->create_box, self->creating);
  if (self->creating)
    {
      adw_status_page_set_title (self->status, _ ("Welcome to Supolka"));
      adw_status_page_set_description (
          self->status, _ ("Choose a passphrase for your new vault. Everything you record is "
                           "encrypted with it. Nobody can recover it if you forget it."));
      gtk_button_set_label (GTK_BUTTON (self->go_button), _ ("_Create Vault"));
      gtk_widget_set_tooltip_text (self->go_button, NULL);
    }
  else
    {
      adw_status_page_set_title (self->status, _ ("Supolka Is Locked"));
      adw_status_page_set_description (self->status,
                                       _ ("Enter your passphrase to open the vault."));
      gtk_button_set_label (GTK_BUTTON (self->go_button), _ ("_Unlock"));
    }
  gtk_editable_set_text (GTK_EDITABLE (self->passphrase), "");
  gtk_editable_set_text (GTK_EDITABLE (self->repeat), "");
  update_strength (self);
  set_error (self, NULL);
}

static void
open_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  OpenJob *job = data;
  GError *error = NULL;
  SpVault *vault;

  if (job->create)
    {
      g_autoptr (GError) mkdir_error = NULL;
      g_autoptr (GFile) dir = g_file_new_for_path (job->dir);
      g_autoptr (GFile) parent = g_file_get_parent (dir);
      /* Only the parent: the vault folder itself is made by core, 0700. */
      if (parent && !g_file_make_directory_with_parents (parent, NULL, &mkdir_error)
          && !g_error_matches (mkdir_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        {
          g_task_return_error (task, g_steal_pointer (&mkdir_error));
          return;
        }
      vault = sp_vault_create (job->dir, job->passphrase, job->profile, &error);
    }
  else
    vault = sp_vault_open (job->dir, job->passphrase, &error);
  if (vault == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, vault, vault_close_cb);
}

static void
open_done (GObject *source, GAsyncResult *result, gpointer data)
{
  SpLockPage *self = SP_LOCK_PAGE (source);
  g_autoptr (GError) error = NULL;
  SpVault *vault = g_task_propagate_pointer (G_TASK (result), &error);

  set_busy (self, FALSE);
  if (vault == NULL)
    {
      if (g_error_matches (error, SP_CORE_ERROR, SP_CORE_ERROR_WRONG_PASSPHRASE))
        set_error (self, _ ("Wrong passphrase. Check the keyboard layout and Caps Lock, "
                            "then try again."));
      else
        set_error (self, error->message);
      gtk_editable_set_text (GTK_EDITABLE (self->passphrase), "");
      gtk_widget_grab_focus (self->passphrase);
      return;
    }
  gtk_editable_set_text (GTK_EDITABLE (self->passphrase), "");
  gtk_editable_set_text (GTK_EDITABLE (self->repeat), "");
  set_error (self, NULL);
  g_signal_emit (self, signals[SIGNAL_UNLOCKED], 0, vault);
}

static SpKdfProfile
chosen_profile (SpLockPage *self)
{
  const char *test = g_getenv ("SUPOLKA_TEST_KDF");

  /* The test suite's fast profile (as the core tests use --kdf interactive);
   * only "interactive" is honoured, and only when creating. */
  if (g_strcmp0 (test, "interactive") == 0)
    return SP_KDF_INTERACTIVE;
  return gtk_check_button_get_active (GTK_CHECK_BUTTON (self->kdf_sensitive)) ? SP_KDF_SENSITIVE
                                                                              : SP_KDF_MODERATE;
}

static void
go_activated (GtkWidget *widget, const char *action_name, GVariant *param)
{
  SpLockPage *self = SP_LOCK_PAGE (widget);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->passphrase));
  g_autoptr (GTask) task = NULL;
  OpenJob *job;

  if (self->busy)
    return;
  if (*text == '\0')
    {
      set_error (self, _ ("Enter the passphrase first."));
      gtk_widget_grab_focus (self->passphrase);
      return;
    }
  if (self->creating)
    {
      if (g_utf8_strlen (text, -1) < MIN_PASSPHRASE_CHARS)
        {
          set_error (self, _ ("The passphrase must have at least 8 characters."));
          gtk_widget_grab_focus (self->passphrase);
          return;
        }
      if (g_strcmp0 (text, gtk_editable_get_text (GTK_EDITABLE (self->repeat))) != 0)
        {
          set_error (self, _ ("The two passphrases differ. Type the same passphrase twice."));
          gtk_widget_grab_focus (self->repeat);
          return;
        }
    }
  job = g_new0 (OpenJob, 1);
  job->dir = g_strdup (self->dir);
  /* GtkPasswordEntry keeps its text in non-pageable memory; the copy for the
   * KDF lives in sodium_malloc memory and is wiped when the job ends. */
  job->passphrase = sp_secret_new_from_data (text, strlen (text));
  job->create = self->creating;
  job->profile = chosen_profile (self);
  set_error (self, NULL);
  set_busy (self, TRUE);
  task = g_task_new (self, NULL, open_done, NULL);
  g_task_set_source_tag (task, go_activated);
  g_task_set_task_data (task, job, (GDestroyNotify)open_job_free);
  g_task_run_in_thread (task, open_thread);
}

static void
go_clicked (SpLockPage *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "lock.unlock", NULL);
}

static void
entry_activated (SpLockPage *self)
{
  if (self->creating && gtk_widget_has_focus (self->passphrase) == FALSE
      && gtk_editable_get_text (GTK_EDITABLE (self->repeat))[0] == '\0')
    {
      gtk_widget_grab_focus (self->repeat);
      return;
    }
  gtk_widget_activate_action (GTK_WIDGET (self), "lock.unlock", NULL);
}

static void
sp_lock_page_dispose (GObject *object)
{
  SpLockPage *self = SP_LOCK_PAGE (object);
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (sp_lock_page_parent_class)->dispose (object);
}

static void
sp_lock_page_finalize (GObject *object)
{
  SpLockPage *self = SP_LOCK_PAGE (object);

  g_free (self->dir);
  g_free (self->error);
  G_OBJECT_CLASS (sp_lock_page_parent_class)->finalize (object);
}

static void
sp_lock_page_class_init (SpLockPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sp_lock_page_dispose;
  object_class->finalize = sp_lock_page_finalize;

  signals[SIGNAL_UNLOCKED] = g_signal_new ("unlocked", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/supolka/Supolka/sp-lock-page.ui");
  gtk_widget_class_bind_template_child (widget_class, SpLockPage, status);
  gtk_widget_class_bind_template_child (widget_class, SpLockPage, form);
  gtk_widget_class_bind_template_child (widget_class, SpLockPage, passphrase);
  gtk_widget_class_bind_template_child (widget_class, SpLockPage, create_box);
  gtk_widget_class_bind_template_child (widget_class, SpLockPage, strength_bar);
  gtk_widget_class_bind_template_child (widget_class, SpLockPage, strength_label);
  gtk_widget_class_bind_template_child (widget_class, SpLockPage, repeat);
  gtk_widget_class_bind_template_child (widget_class, SpLockPage, kdf_moderate);
  gtk_widget_class_bind_template_child (widget_class, SpLockPage, kdf_sensitive);
  gtk_widget_class_bind_template_child (widget_class, SpLockPage, error_label);
  gtk_widget_class_bind_template_child (widget_class, SpLockPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, SpLockPage, go_button);
  gtk_widget_class_bind_template_callback (widget_class, go_clicked);
  gtk_widget_class_bind_template_callback (widget_class, entry_activated);
  gtk_widget_class_bind_template_callback (widget_class, update_strength);
  gtk_widget_class_install_action (widget_class, "lock.unlock", NULL, go_activated);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
sp_lock_page_init (SpLockPage *self)
{
  /* The signals of the template's widgets: <signal> in sp-lock-page.ui. */
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->strength_bar),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Passphrase strength"), -1);
  sp_lock_page_refresh (self);
}

GtkWidget *
sp_lock_page_new (void)
{
  return g_object_new (SP_TYPE_LOCK_PAGE, NULL);
}

gboolean
sp_lock_page_is_creating (SpLockPage *self)
{
  g_return_val_if_fail (SP_IS_LOCK_PAGE (self), FALSE);
  return self->creating;
}

gboolean
sp_lock_page_is_busy (SpLockPage *self)
{
  g_return_val_if_fail (SP_IS_LOCK_PAGE (self), FALSE);
  return self->busy;
}

const char *
sp_lock_page_get_error (SpLockPage *self)
{
  g_return_val_if_fail (SP_IS_LOCK_PAGE (self), NULL);
  return self->error;
}

GtkEditable *
sp_lock_page_get_passphrase_entry (SpLockPage *self)
{
  g_return_val_if_fail (SP_IS_LOCK_PAGE (self), NULL);
  return GTK_EDITABLE (self->passphrase);
}

GtkEditable *
sp_lock_page_get_repeat_entry (SpLockPage *self)
{
  g_return_val_if_fail (SP_IS_LOCK_PAGE (self), NULL);
  return GTK_EDITABLE (self->repeat);
}

void
sp_lock_page_grab_focus (SpLockPage *self)
{
  g_return_if_fail (SP_IS_LOCK_PAGE (self));
  gtk_widget_grab_focus (self->passphrase);
}
