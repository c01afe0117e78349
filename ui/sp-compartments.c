/* sp-compartments.c — compartment names, the drop-down of held
 * compartments, the "figures from N of M" sentence and "Move to…".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>

#include "supolka-sync.h"

#include "sp-compartments.h"
#include "sp-secret-window.h"

char *
sp_compartment_label (gint64 id, const char *name)
{
  /* TRANSLATORS: the main compartment, which every device of a workspace holds. */
  return g_strdup (id == 0 ? C_ ("compartment", "Main") : name);
}

char *
sp_compartment_label_of (SpVault *vault, gint64 id)
{
  g_autoptr (SpCompartment) c = sp_vault_compartment_get (vault, id, NULL);

  return c ? sp_compartment_label (c->id, c->name) : NULL;
}

gboolean
sp_compartment_in_workspace (SpVault *vault, gboolean *admin)
{
  SyncStatus st;
  gboolean in;

  if (admin)
    *admin = FALSE;
  if (!sync_get_status (vault, &st, NULL))
    return FALSE;
  in = st.workspace != NULL;
  if (admin)
    *admin = in && st.admin;
  sync_status_clear (&st);
  return in;
}

/* The same rule as the CLI's (app/cli/cli-compartment.c): the workspace has
 * the compartments its log names, main, and those made on this device only. */
gboolean
sp_compartment_counts (SpVault *vault, guint *held, guint *total)
{
  g_autoptr (GPtrArray) list = NULL;
  guint ws_total = 0;

  if (!sp_compartment_in_workspace (vault, NULL))
    {
      list = sp_vault_compartments (vault, NULL);
      if (list == NULL)
        return FALSE;
      *held = *total = list->len;
      return TRUE;
    }
  list = sync_compartment_list (vault, &ws_total, NULL, NULL);
  if (list == NULL)
    return FALSE;
  *held = list->len;
  *total = ws_total + 1;
  for (guint i = 0; i < list->len; i++)
    *total += ((SyncCompartment *)list->pdata[i])->published ? 0 : 1;
  return TRUE;
}

char *
sp_compartment_figures_text (SpVault *vault)
{
  guint held = 0, total = 0;

  if (!sp_compartment_counts (vault, &held, &total) || held >= total)
    return NULL;
  return g_strdup_printf (ngettext ("Figures from %u of %u compartment; the others are not on "
                                    "this device.",
                                    "Figures from %u of %u compartments; the others are not on "
                                    "this device.",
                                    total),
                          held, total);
}

/* ---- The drop-down ---- */

#define IDS_KEY "sp-compartment-ids"

GtkWidget *
sp_compartment_dropdown_new (SpVault *vault, gint64 selected)
{
  g_autoptr (GPtrArray) held = sp_vault_compartments (vault, NULL);
  GtkStringList *names = gtk_string_list_new (NULL);
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  GtkWidget *dd;
  guint chosen = 0;

  for (guint i = 0; held && i < held->len; i++)
    {
      const SpCompartment *c = held->pdata[i];
      g_autofree char *label = sp_compartment_label (c->id, c->name);

      gtk_string_list_append (names, label);
      g_array_append_val (ids, c->id);
      if (c->id == selected)
        chosen = i;
    }
  dd = gtk_drop_down_new (G_LIST_MODEL (names), NULL);
  g_object_set_data_full (G_OBJECT (dd), IDS_KEY, ids, (GDestroyNotify)g_array_unref);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (dd), chosen);
  gtk_accessible_update_property (GTK_ACCESSIBLE (dd), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Compartment"), -1);
  return dd;
}

gint64
sp_compartment_dropdown_get (GtkWidget *dropdown)
{
  GArray *ids = g_object_get_data (G_OBJECT (dropdown), IDS_KEY);
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (dropdown));

  g_return_val_if_fail (ids != NULL, 0);
  return i < ids->len ? g_array_index (ids, gint64, i) : 0;
}

gboolean
sp_compartment_dropdown_set (GtkWidget *dropdown, gint64 id)
{
  GArray *ids = g_object_get_data (G_OBJECT (dropdown), IDS_KEY);

  g_return_val_if_fail (ids != NULL, FALSE);
  for (guint i = 0; i < ids->len; i++)
    if (g_array_index (ids, gint64, i) == id)
      {
        gtk_drop_down_set_selected (GTK_DROP_DOWN (dropdown), i);
        return TRUE;
      }
  return FALSE;
}

guint
sp_compartment_dropdown_count (GtkWidget *dropdown)
{
  GArray *ids = g_object_get_data (G_OBJECT (dropdown), IDS_KEY);

  return ids ? ids->len : 0;
}

/* ---- Move to… ---- */

GtkWidget *
sp_compartment_move_dialog_new (GtkWindow *parent, SpVault *vault, gint64 current)
{
  g_autofree char *from = sp_compartment_label_of (vault, current);
  GtkWidget *dialog = adw_message_dialog_new (parent, _ ("Move to Another Compartment"), NULL);
  GtkWidget *dd = sp_compartment_dropdown_new (vault, current);

  adw_message_dialog_format_body (
      ADW_MESSAGE_DIALOG (dialog),
      _ ("The record is in “%s”. Devices that do not hold the compartment you choose lose it "
         "at their next sync; what they have already seen they may have kept."),
      from ? from : "");
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), dd);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"), "move",
                                    _ ("_Move"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "move",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data (G_OBJECT (dialog), "sp-dropdown", dd);
  sp_secret_window_attach (GTK_WINDOW (dialog), parent);
  return dialog;
}

GtkWidget *
sp_compartment_move_dialog_get_dropdown (GtkWidget *dialog)
{
  return g_object_get_data (G_OBJECT (dialog), "sp-dropdown");
}
