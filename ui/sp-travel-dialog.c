/* sp-travel-dialog.c — compartments, travel start and travel end.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>
#include <sodium.h>

#include "supolka-sync.h"

#include "sp-compartments.h"
#include "sp-qr.h"
#include "sp-secret-window.h"
#include "sp-sync-worker.h"
#include "sp-travel-dialog.h"
#include "sp-vault-job.h"

#define MAX_INPUT_LEN 512

struct _SpTravelDialog
{
  AdwWindow parent_instance;
  SpTravelDialogKind kind;
  SpVault *vault; /* borrowed */
  GCancellable *cancellable;
  gboolean busy;
  GtkStack *stack;    /* "form", "code" */
  GtkWidget *list;    /* AdwPreferencesGroup of the compartments */
  GPtrArray *checks;  /* start: GtkCheckButton per compartment; compartments: the defaults */
  GPtrArray *names;   /* their compartments' names */
  GtkWidget *entry;   /* end: the code; compartments: a new name */
  GtkWidget *device;  /* compartments: the device to grant or revoke */
  GtkWidget *chooser; /* compartments: the compartment to grant or revoke */
  GtkWidget *error_label;
  GtkWidget *spinner;
  GtkWidget *submit;
  GtkWidget *code_label;
  GtkWidget *qr;
  char *code;  /* the return code, wiped when the window goes */
  char *error; /* shown in error_label */
  guint rows;
};

G_DEFINE_FINAL_TYPE (SpTravelDialog, sp_travel_dialog, ADW_TYPE_WINDOW)

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

/* ---- The jobs ---------------------------------------------------------- */

typedef enum
{
  OP_START,
  OP_END,
  OP_CREATE,
  OP_GRANT,
  OP_REVOKE,
} Op;

typedef struct
{
  Op op;
  char **keep;  /* start */
  char *text;   /* end: the code; create, grant, revoke: the compartment */
  char *device; /* grant, revoke */
  char *relay, *proxy;
  char *code; /* start: the return code */
} Job;

static void
job_free (Job *job)
{
  g_strfreev (job->keep);
  if (job->text)
    sodium_memzero (job->text, strlen (job->text));
  if (job->code)
    sodium_memzero (job->code, strlen (job->code));
  g_free (job->text);
  g_free (job->code);
  g_free (job->device);
  g_free (job->relay);
  g_free (job->proxy);
  g_free (job);
}

static gboolean
job_work (SpVault *vault, gpointer data, GError **error)
{
  Job *job = data;
  SyncOptions opts = { job->relay, job->proxy, NULL };
  gboolean admin;

  switch (job->op)
    {
      case OP_START:
        return sync_travel_start (vault, (const char *const *)job->keep, &opts, &job->code, error);
      case OP_END:
        return sync_travel_end (vault, job->text, &opts, error);
      case OP_CREATE:
        if (sp_compartment_in_workspace (vault, &admin))
          return sync_compartment_create (vault, job->text, &opts, error);
        return sp_vault_compartment_add (vault, job->text, NULL, error) > 0;
      case OP_GRANT:
        return sync_compartment_grant (vault, job->text, job->device, &opts, error);
      case OP_REVOKE:
      default:
        return sync_compartment_revoke (vault, job->text, job->device, &opts, error);
    }
}

static void
set_error (SpTravelDialog *self, const char *message)
{
  g_free (self->error);
  self->error = g_strdup (message);
  gtk_label_set_text (GTK_LABEL (self->error_label), message ? message : "");
  gtk_widget_set_visible (self->error_label, message != NULL);
}

static void
set_busy (SpTravelDialog *self, gboolean busy)
{
  self->busy = busy;
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), busy);
  gtk_widget_set_visible (self->spinner, busy);
  gtk_widget_set_sensitive (self->submit, !busy);
}

static void fill_compartments (SpTravelDialog *self);

static void
show_code (SpTravelDialog *self, char *code)
{
  self->code = code;
  gtk_label_set_text (GTK_LABEL (self->code_label), code);
  sp_qr_set_text (self->qr, code);
  gtk_stack_set_visible_child_name (self->stack, "code");
  gtk_window_set_title (GTK_WINDOW (self), _ ("Your Return Code"));
}

static void
job_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  SpTravelDialog *self = user_data;
  g_autoptr (GError) error = NULL;
  Job *job = sp_vault_job_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return; /* the window is gone, maybe the vault too */
  set_busy (self, FALSE);
  if (job == NULL)
    {
      set_error (self, error->message);
      if (self->kind == SP_TRAVEL_DIALOG_COMPARTMENTS)
        fill_compartments (self);
      return;
    }
  set_error (self, NULL);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  if (job->op == OP_START)
    show_code (self, g_steal_pointer (&job->code));
  else if (job->op == OP_END)
    gtk_window_destroy (GTK_WINDOW (self));
  else
    {
      gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
      fill_compartments (self);
    }
}

static void
run_job (SpTravelDialog *self, Job *job)
{
  g_autoptr (GError) error = NULL;

  job->relay = sp_sync_settings_get ("relay-url");
  job->proxy = sp_sync_settings_get ("proxy");
  set_error (self, NULL);
  if (!sp_vault_job_run (self->vault, GTK_WIDGET (self), "[supolka] travel", job_work, job,
                         (GDestroyNotify)job_free, self->cancellable, job_done, self, &error))
    {
      set_error (self, error->message);
      return;
    }
  set_busy (self, TRUE);
}

static char *
entry_text (SpTravelDialog *self, GtkWidget *entry)
{
  g_autofree char *text = g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry)));

  g_strstrip (text);
  if (*text == '\0' || strlen (text) > MAX_INPUT_LEN)
    {
      set_error (self, *text ? _ ("That is too long.") : _ ("Fill in the field first."));
      return NULL;
    }
  return g_steal_pointer (&text);
}

void
sp_travel_dialog_submit (SpTravelDialog *self)
{
  Job *job;

  g_return_if_fail (SP_IS_TRAVEL_DIALOG (self));
  if (self->busy)
    return;
  job = g_new0 (Job, 1);
  if (self->kind == SP_TRAVEL_DIALOG_START)
    {
      g_autoptr (GStrvBuilder) keep = g_strv_builder_new ();

      job->op = OP_START;
      for (guint i = 0; i < self->checks->len; i++)
        if (gtk_check_button_get_active (self->checks->pdata[i]))
          g_strv_builder_add (keep, self->names->pdata[i]);
      job->keep = g_strv_builder_end (keep);
    }
  else
    {
      job->op = self->kind == SP_TRAVEL_DIALOG_END ? OP_END : OP_CREATE;
      job->text = entry_text (self, self->entry);
    }
  if (job->op != OP_START && job->text == NULL)
    {
      job_free (job);
      return;
    }
  run_job (self, job);
}

/* ---- Compartments: the list, the default, grant and revoke ---------------- */

static void
default_toggled (GtkCheckButton *check, SpTravelDialog *self)
{
  g_autoptr (GError) error = NULL;
  gint64 id = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (check), "sp-id"));

  if (!gtk_check_button_get_active (check) || self->busy)
    return;
  if (!sp_vault_set_default_compartment (self->vault, id, &error))
    set_error (self, error->message);
}

static void
grant_clicked (GtkButton *button, SpTravelDialog *self)
{
  g_autofree char *device = entry_text (self, self->device);
  g_autofree char *name = NULL;
  gint64 id = sp_compartment_dropdown_get (self->chooser);
  g_autoptr (SpCompartment) c = sp_vault_compartment_get (self->vault, id, NULL);
  Job *job;

  if (device == NULL || c == NULL)
    return;
  if (id == 0)
    {
      set_error (self, _ ("Every device holds Main."));
      return;
    }
  job = g_new0 (Job, 1);
  job->op = g_object_get_data (G_OBJECT (button), "sp-revoke") ? OP_REVOKE : OP_GRANT;
  job->text = g_strdup (c->name);
  job->device = g_steal_pointer (&device);
  run_job (self, job);
}

static GtkWidget *
compartment_row (SpTravelDialog *self, const SpCompartment *c, GtkCheckButton **group)
{
  g_autofree char *label = sp_compartment_label (c->id, c->name);
  g_autofree char *records = g_strdup_printf (
      ngettext ("%lld record", "%lld records", (gulong)c->records), (long long)c->records);
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *check = gtk_check_button_new_with_label (
      self->kind == SP_TRAVEL_DIALOG_START ? _ ("Keep") : _ ("Default"));

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), label);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), records);
  gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
  gtk_accessible_update_property (GTK_ACCESSIBLE (check), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  label, -1);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), check);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
  if (self->kind == SP_TRAVEL_DIALOG_COMPARTMENTS)
    {
      if (*group)
        gtk_check_button_set_group (GTK_CHECK_BUTTON (check), *group);
      else
        *group = GTK_CHECK_BUTTON (check);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (check),
                                   c->id == sp_vault_get_default_compartment (self->vault));
      g_object_set_data (G_OBJECT (check), "sp-id", GINT_TO_POINTER ((int)c->id));
      g_signal_connect_object (check, "toggled", G_CALLBACK (default_toggled), self, 0);
    }
  g_ptr_array_add (self->checks, check);
  g_ptr_array_add (self->names, g_strdup (c->name));
  return row;
}

/* The held compartments, read again (main is not offered to travel start:
 * it always stays). */
static void
fill_compartments (SpTravelDialog *self)
{
  g_autoptr (GPtrArray) held = sp_vault_compartments (self->vault, NULL);
  g_autofree char *figures = sp_compartment_figures_text (self->vault);
  GtkCheckButton *group = NULL;
  GtkWidget *old = self->list;

  self->list = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self->list),
                                   self->kind == SP_TRAVEL_DIALOG_START
                                       ? _ ("Compartments to Keep")
                                       : _ ("Compartments on This Device"));
  if (figures)
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self->list), figures);
  gtk_widget_insert_after (self->list, gtk_widget_get_parent (old), old);
  gtk_widget_unparent (old);
  g_ptr_array_set_size (self->checks, 0);
  g_ptr_array_set_size (self->names, 0);
  self->rows = 0;
  for (guint i = 0; held && i < held->len; i++)
    {
      const SpCompartment *c = held->pdata[i];

      if (c->id == 0 && self->kind == SP_TRAVEL_DIALOG_START)
        continue;
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->list),
                                 compartment_row (self, c, &group));
      self->rows++;
    }
  if (self->rows == 0)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     _ ("Only Main, which always stays on this device."));
      gtk_widget_add_css_class (row, "dim-label");
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->list), row);
    }
  if (self->chooser)
    {
      GtkWidget *chooser = sp_compartment_dropdown_new (self->vault, 1);

      gtk_widget_insert_after (chooser, gtk_widget_get_parent (self->chooser), self->chooser);
      gtk_widget_unparent (self->chooser);
      self->chooser = chooser;
    }
}

/* ---- Building ----------------------------------------------------------- */

static GtkWidget *
wrapped_label (const char *text, const char *css)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (css)
    gtk_widget_add_css_class (label, css);
  return label;
}

static void
entry_activated (GtkEntry *entry, SpTravelDialog *self)
{
  sp_travel_dialog_submit (self);
}

static void
submit_clicked (GtkButton *button, SpTravelDialog *self)
{
  sp_travel_dialog_submit (self);
}

static GtkWidget *
labelled_entry (SpTravelDialog *self, GtkWidget *box, const char *label_text, GtkWidget **entry)
{
  GtkWidget *label = gtk_label_new_with_mnemonic (label_text);

  *entry = gtk_entry_new ();
  gtk_entry_set_max_length (GTK_ENTRY (*entry), MAX_INPUT_LEN);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), *entry);
  gtk_widget_add_css_class (label, "heading");
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), *entry);
  return *entry;
}

/* Compartments, for admins: give a compartment to a device or take it back. */
static void
build_admin (SpTravelDialog *self, GtkWidget *form)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *grant = gtk_button_new_with_mnemonic (_ ("_Grant"));
  GtkWidget *revoke = gtk_button_new_with_mnemonic (_ ("_Revoke"));

  gtk_box_append (GTK_BOX (form), wrapped_label (_ ("Give a compartment to a device, or take it "
                                                    "back (admins). Device ids are in Devices."),
                                                 "dim-label"));
  self->chooser = sp_compartment_dropdown_new (self->vault, 1);
  gtk_box_append (GTK_BOX (form), self->chooser);
  labelled_entry (self, form, _ ("De_vice id"), &self->device);
  g_object_set_data (G_OBJECT (revoke), "sp-revoke", GINT_TO_POINTER (1));
  g_signal_connect_object (grant, "clicked", G_CALLBACK (grant_clicked), self, 0);
  g_signal_connect_object (revoke, "clicked", G_CALLBACK (grant_clicked), self, 0);
  gtk_widget_add_css_class (revoke, "destructive-action");
  gtk_box_append (GTK_BOX (row), grant);
  gtk_box_append (GTK_BOX (row), revoke);
  gtk_box_append (GTK_BOX (form), row);
}

/* The words of each kind. */
static void
build_form (SpTravelDialog *self, GtkWidget *form)
{
  const char *title, *intro, *button;
  gboolean admin = FALSE, ws = sp_compartment_in_workspace (self->vault, &admin);

  switch (self->kind)
    {
      case SP_TRAVEL_DIALOG_START:
        title = _ ("Travel Mode");
        intro = _ ("Before a border crossing, leave behind every compartment this device does "
                   "not need. Their records, history and keys are removed from this laptop, "
                   "which then shows an ordinary, smaller vault. A return code, shown once, "
                   "brings them back from the relay. Main always stays.");
        button = _ ("_Leave the Others Behind");
        break;
      case SP_TRAVEL_DIALOG_END:
        title = _ ("End Travel Mode");
        intro = _ ("Type the return code you were shown when travel mode started. The "
                   "compartments left behind come back from the relay. A code with a mistyped "
                   "word changes nothing.");
        button = _ ("_Bring Them Back");
        break;
      case SP_TRAVEL_DIALOG_COMPARTMENTS:
      default:
        title = _ ("Compartments");
        intro = _ ("Every record is in one compartment, and only the devices that hold it "
                   "receive it. New records made on this device go to the default one.");
        button = ws && !admin ? NULL : _ ("C_reate");
        break;
    }
  gtk_window_set_title (GTK_WINDOW (self), title);
  gtk_box_append (GTK_BOX (form), wrapped_label (intro, NULL));
  if (self->kind != SP_TRAVEL_DIALOG_END)
    {
      self->list = adw_preferences_group_new ();
      gtk_box_append (GTK_BOX (form), self->list);
    }
  if (self->kind == SP_TRAVEL_DIALOG_END)
    labelled_entry (self, form, _ ("_Return code"), &self->entry);
  else if (button && self->kind == SP_TRAVEL_DIALOG_COMPARTMENTS)
    labelled_entry (self, form, _ ("_New compartment"), &self->entry);
  if (self->entry)
    g_signal_connect_object (self->entry, "activate", G_CALLBACK (entry_activated), self, 0);
  if (self->kind == SP_TRAVEL_DIALOG_START)
    gtk_box_append (GTK_BOX (form),
                    wrapped_label (_ ("Every change made here must have been sent first: sync "
                                      "before you start."),
                                   "dim-label"));
  self->error_label = wrapped_label (NULL, "error");
  gtk_widget_set_visible (self->error_label, FALSE);
  gtk_box_append (GTK_BOX (form), self->error_label);
  self->spinner = gtk_spinner_new ();
  gtk_widget_set_visible (self->spinner, FALSE);
  gtk_box_append (GTK_BOX (form), self->spinner);
  self->submit = gtk_button_new_with_mnemonic (button ? button : "");
  gtk_widget_set_visible (self->submit, button != NULL);
  gtk_widget_set_halign (self->submit, GTK_ALIGN_END);
  gtk_widget_add_css_class (self->submit, self->kind == SP_TRAVEL_DIALOG_START
                                              ? "destructive-action"
                                              : "suggested-action");
  g_signal_connect_object (self->submit, "clicked", G_CALLBACK (submit_clicked), self, 0);
  gtk_box_append (GTK_BOX (form), self->submit);
  if (self->kind == SP_TRAVEL_DIALOG_COMPARTMENTS && ws && admin)
    build_admin (self, form);
  if (self->list)
    fill_compartments (self);
}

static void
done_clicked (GtkButton *button, SpTravelDialog *self)
{
  gtk_window_destroy (GTK_WINDOW (self));
}

/* The return code, once: words, a QR code, and the warning. */
static GtkWidget *
build_code_page (SpTravelDialog *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *done = gtk_button_new_with_mnemonic (_ ("I Have _Written It Down"));

  gtk_box_append (GTK_BOX (box),
                  wrapped_label (_ ("Write these twelve words down and keep them apart from "
                                    "this laptop — not in its bag, not on its disk, not in a "
                                    "photo on a phone that travels with it. They are shown only "
                                    "this once and nobody else has them: without them only an "
                                    "admin's new grant brings the compartments back."),
                                 "warning"));
  self->code_label = wrapped_label (NULL, "title-3");
  gtk_label_set_justify (GTK_LABEL (self->code_label), GTK_JUSTIFY_CENTER);
  gtk_label_set_xalign (GTK_LABEL (self->code_label), 0.5);
  gtk_widget_add_css_class (self->code_label, "monospace");
  gtk_box_append (GTK_BOX (box), self->code_label);
  self->qr = sp_qr_new (_ ("Return code as a QR code"),
                        _ ("A QR code holding the twelve words shown above."));
  gtk_widget_set_halign (self->qr, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (box), self->qr);
  gtk_widget_set_halign (done, GTK_ALIGN_END);
  gtk_widget_add_css_class (done, "suggested-action");
  g_signal_connect_object (done, "clicked", G_CALLBACK (done_clicked), self, 0);
  gtk_box_append (GTK_BOX (box), done);
  return box;
}

static void
set_margins (GtkWidget *w)
{
  gtk_widget_set_margin_top (w, 12);
  gtk_widget_set_margin_bottom (w, 18);
  gtk_widget_set_margin_start (w, 18);
  gtk_widget_set_margin_end (w, 18);
}

static void
build (SpTravelDialog *self)
{
  GtkWidget *toolbar = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *form = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);

  gtk_box_append (GTK_BOX (toolbar), adw_header_bar_new ());
  self->stack = GTK_STACK (gtk_stack_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->stack), TRUE);
  gtk_box_append (GTK_BOX (toolbar), GTK_WIDGET (self->stack));
  set_margins (form);
  build_form (self, form);
  adw_clamp_set_child (ADW_CLAMP (clamp), form);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), clamp);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_stack_add_named (self->stack, scrolled, "form");
  if (self->kind == SP_TRAVEL_DIALOG_START)
    {
      GtkWidget *page = build_code_page (self);
      GtkWidget *c2 = adw_clamp_new ();
      GtkWidget *code = gtk_scrolled_window_new ();

      set_margins (page);
      adw_clamp_set_child (ADW_CLAMP (c2), page);
      gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (code), c2);
      gtk_stack_add_named (self->stack, code, "code");
    }
  adw_window_set_content (ADW_WINDOW (self), toolbar);
}

/* ---- GObject ------------------------------------------------------------ */

static void
sp_travel_dialog_dispose (GObject *object)
{
  SpTravelDialog *self = SP_TRAVEL_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  if (self->code)
    sodium_memzero (self->code, strlen (self->code));
  g_clear_pointer (&self->code, g_free);
  if (self->entry && self->kind == SP_TRAVEL_DIALOG_END)
    gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
  G_OBJECT_CLASS (sp_travel_dialog_parent_class)->dispose (object);
}

static void
sp_travel_dialog_finalize (GObject *object)
{
  SpTravelDialog *self = SP_TRAVEL_DIALOG (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->checks, g_ptr_array_unref);
  g_clear_pointer (&self->names, g_ptr_array_unref);
  g_free (self->error);
  G_OBJECT_CLASS (sp_travel_dialog_parent_class)->finalize (object);
}

static void
sp_travel_dialog_class_init (SpTravelDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = sp_travel_dialog_dispose;
  object_class->finalize = sp_travel_dialog_finalize;
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
sp_travel_dialog_init (SpTravelDialog *self)
{
  self->cancellable = g_cancellable_new ();
  self->checks = g_ptr_array_new ();
  self->names = g_ptr_array_new_with_free_func (g_free);
}

GtkWidget *
sp_travel_dialog_new (SpTravelDialogKind kind, GtkWindow *parent, SpVault *vault)
{
  SpTravelDialog *self = g_object_new (SP_TYPE_TRAVEL_DIALOG, "modal", TRUE, "default-width", 480,
                                       "default-height", 560, NULL);

  self->kind = kind;
  self->vault = vault;
  build (self);
  sp_secret_window_attach (GTK_WINDOW (self), parent);
  return GTK_WIDGET (self);
}

SpTravelDialogKind
sp_travel_dialog_get_kind (SpTravelDialog *self)
{
  g_return_val_if_fail (SP_IS_TRAVEL_DIALOG (self), 0);
  return self->kind;
}

gboolean
sp_travel_dialog_set_keep (SpTravelDialog *self, const char *name, gboolean keep)
{
  g_return_val_if_fail (SP_IS_TRAVEL_DIALOG (self), FALSE);
  for (guint i = 0; i < self->names->len; i++)
    if (g_str_equal (self->names->pdata[i], name))
      {
        gtk_check_button_set_active (self->checks->pdata[i], keep);
        return TRUE;
      }
  return FALSE;
}

void
sp_travel_dialog_set_input (SpTravelDialog *self, const char *text)
{
  g_return_if_fail (SP_IS_TRAVEL_DIALOG (self));
  if (self->entry)
    gtk_editable_set_text (GTK_EDITABLE (self->entry), text);
}

gboolean
sp_travel_dialog_is_busy (SpTravelDialog *self)
{
  g_return_val_if_fail (SP_IS_TRAVEL_DIALOG (self), FALSE);
  return self->busy;
}

const char *
sp_travel_dialog_get_error (SpTravelDialog *self)
{
  g_return_val_if_fail (SP_IS_TRAVEL_DIALOG (self), NULL);
  return self->error;
}

const char *
sp_travel_dialog_get_code (SpTravelDialog *self)
{
  g_return_val_if_fail (SP_IS_TRAVEL_DIALOG (self), NULL);
  return self->code;
}

GtkWidget *
sp_travel_dialog_get_qr (SpTravelDialog *self)
{
  g_return_val_if_fail (SP_IS_TRAVEL_DIALOG (self), NULL);
  return self->qr;
}

guint
sp_travel_dialog_count_rows (SpTravelDialog *self)
{
  g_return_val_if_fail (SP_IS_TRAVEL_DIALOG (self), 0);
  return self->rows;
}
