/* sp-main-view.c — sidebar and pages of the open vault.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n.h>

#include "sp-labels.h"
#include "sp-main-view.h"
#include "sp-stats-page.h"
#include "sp-conflicts-page.h"
#include "sp-sync-status.h"
#include "sp-travel-dialog.h"

struct _SpMainView
{
  GtkWidget parent_instance;
  SpVault *vault; /* borrowed */
  AdwLeaflet *leaflet;
  AdwHeaderBar *sidebar_header;
  GtkListBox *sidebar;
  GtkStack *content;
  SpBrowser *browser;
  GtkWidget *stats;
  GtkWidget *conflicts;
  char *page;
  gboolean syncing_sidebar;
};

G_DEFINE_FINAL_TYPE (SpMainView, sp_main_view, GTK_TYPE_WIDGET)

typedef struct
{
  const char *page;
  const char *icon;
} Section;

static const Section sections[] = {
  { "org", "system-users-symbolic" }, { "person", "avatar-default-symbolic" },
  { "project", "folder-symbolic" },   { "event", "x-office-calendar-symbolic" },
  { "stats", "view-grid-symbolic" },  { "conflicts", "dialog-warning-symbolic" },
};

static const char *
section_label (const char *page)
{
  if (g_str_equal (page, "stats"))
    return _ ("Statistics");
  if (g_str_equal (page, "conflicts"))
    return _ ("Conflicts");
  return sp_label_kind_plural (page);
}

static gboolean
is_record_page (const char *page)
{
  return g_str_equal (page, "org") || g_str_equal (page, "person") || g_str_equal (page, "project")
         || g_str_equal (page, "event");
}

static void
update_folded (SpMainView *self)
{
  gboolean folded = adw_leaflet_get_folded (self->leaflet);

  sp_browser_set_sidebar_button_visible (self->browser, folded);
  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (self->content)); c;
       c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *back = g_object_get_data (G_OBJECT (c), "sp-back");
      if (back)
        gtk_widget_set_visible (back, folded);
    }
}

static void
select_sidebar_row (SpMainView *self, const char *page)
{
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->sidebar)); row;
       row = gtk_widget_get_next_sibling (row))
    if (g_strcmp0 (g_object_get_data (G_OBJECT (row), "sp-page"), page) == 0)
      {
        self->syncing_sidebar = TRUE;
        gtk_list_box_select_row (self->sidebar, GTK_LIST_BOX_ROW (row));
        self->syncing_sidebar = FALSE;
      }
}

void
sp_main_view_show_page (SpMainView *self, const char *page)
{
  g_return_if_fail (SP_IS_MAIN_VIEW (self));
  if (is_record_page (page))
    {
      sp_browser_set_kind (self->browser, page);
      gtk_stack_set_visible_child_name (self->content, "records");
    }
  else if (gtk_stack_get_child_by_name (self->content, page))
    {
      gtk_stack_set_visible_child_name (self->content, page);
      if (g_str_equal (page, "stats"))
        sp_stats_page_reload (self->stats);
      if (g_str_equal (page, "conflicts"))
        sp_conflicts_page_reload (self->conflicts);
    }
  else
    return;
  g_free (self->page);
  self->page = g_strdup (page);
  select_sidebar_row (self, page);
}

const char *
sp_main_view_get_page (SpMainView *self)
{
  g_return_val_if_fail (SP_IS_MAIN_VIEW (self), NULL);
  return self->page;
}

static void
row_activated (SpMainView *self, GtkListBoxRow *row)
{
  const char *page = g_object_get_data (G_OBJECT (row), "sp-page");

  if (page == NULL)
    return;
  sp_main_view_show_page (self, page);
  adw_leaflet_set_visible_child_name (self->leaflet, "content");
}

static void
row_selected (SpMainView *self, GtkListBoxRow *row)
{
  if (row && !self->syncing_sidebar)
    {
      const char *page = g_object_get_data (G_OBJECT (row), "sp-page");
      if (g_strcmp0 (page, self->page) != 0)
        sp_main_view_show_page (self, page);
    }
}

static void
action_sidebar (GtkWidget *widget, const char *action, GVariant *param)
{
  SpMainView *self = SP_MAIN_VIEW (widget);

  adw_leaflet_set_visible_child_name (self->leaflet, "sidebar");
}

static void
action_reload (GtkWidget *widget, const char *action, GVariant *param)
{
  sp_main_view_reload (SP_MAIN_VIEW (widget));
}

/* Compartments…, Travel Mode…, End Travel Mode… (the last is always there:
 * nothing in the vault says that it travels). */
static void
action_travel (GtkWidget *widget, const char *action, GVariant *param)
{
  SpMainView *self = SP_MAIN_VIEW (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  SpTravelDialogKind kind = g_str_equal (action, "main.compartments")
                                ? SP_TRAVEL_DIALOG_COMPARTMENTS
                            : g_str_equal (action, "main.travel-start") ? SP_TRAVEL_DIALOG_START
                                                                        : SP_TRAVEL_DIALOG_END;
  GtkWidget *dialog;

  if (!GTK_IS_WINDOW (root))
    return;
  dialog = sp_travel_dialog_new (kind, GTK_WINDOW (root), self->vault);
  g_signal_connect_object (dialog, "changed", G_CALLBACK (sp_main_view_reload), self,
                           G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
action_kind_shown (GtkWidget *widget, const char *action, GVariant *param)
{
  SpMainView *self = SP_MAIN_VIEW (widget);
  const char *kind = g_variant_get_string (param, NULL);

  g_free (self->page);
  self->page = g_strdup (kind);
  select_sidebar_row (self, kind);
}

SpBrowser *
sp_main_view_get_browser (SpMainView *self)
{
  g_return_val_if_fail (SP_IS_MAIN_VIEW (self), NULL);
  return self->browser;
}

void
sp_main_view_reload (SpMainView *self)
{
  g_return_if_fail (SP_IS_MAIN_VIEW (self));
  sp_browser_reload (self->browser);
  sp_stats_page_reload (self->stats);
  sp_conflicts_page_reload (self->conflicts);
}

void
sp_main_view_search (SpMainView *self)
{
  g_return_if_fail (SP_IS_MAIN_VIEW (self));
  if (!is_record_page (self->page))
    sp_main_view_show_page (self, "org");
  adw_leaflet_set_visible_child_name (self->leaflet, "content");
  sp_browser_focus_search (self->browser);
}

void
sp_main_view_set_busy (SpMainView *self, gboolean busy)
{
  g_return_if_fail (SP_IS_MAIN_VIEW (self));
  /* While a sync worker has the vault (the header stays usable: lock, menu). */
  gtk_widget_set_sensitive (GTK_WIDGET (self->sidebar), !busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->content), !busy);
}

void
sp_main_view_new_record (SpMainView *self)
{
  g_return_if_fail (SP_IS_MAIN_VIEW (self));
  if (!is_record_page (self->page))
    sp_main_view_show_page (self, "org");
  adw_leaflet_set_visible_child_name (self->leaflet, "content");
  gtk_widget_activate_action (GTK_WIDGET (self->browser), "browser.new", NULL);
}

static void
add_sidebar_row (SpMainView *self, const Section *s)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *icon = gtk_image_new_from_icon_name (s->icon);
  GtkWidget *label = gtk_label_new (section_label (s->page));

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), label);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_RELATION_LABELLED_BY, label,
                                  NULL, -1);
  g_object_set_data (G_OBJECT (row), "sp-page", (gpointer)s->page);
  gtk_list_box_append (self->sidebar, row);
}

/* Part 2's pages come with their own content only: give them a header with
 * the back button a folded window needs. */
static void
add_page (SpMainView *self, const char *name, GtkWidget *page)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *title = adw_window_title_new (section_label (name), NULL);
  GtkWidget *back = gtk_button_new_from_icon_name ("go-previous-symbolic");

  gtk_actionable_set_action_name (GTK_ACTIONABLE (back), "main.sidebar");
  gtk_widget_set_tooltip_text (back, _ ("Back"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (back), GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Back"),
                                  -1);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), back);
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), title);
  gtk_box_append (GTK_BOX (box), header);
  gtk_widget_set_vexpand (page, TRUE);
  gtk_box_append (GTK_BOX (box), page);
  g_object_set_data (G_OBJECT (box), "sp-back", back);
  gtk_stack_add_named (self->content, box, name);
}

static void
sp_main_view_dispose (GObject *object)
{
  SpMainView *self = SP_MAIN_VIEW (object);
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))))
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (sp_main_view_parent_class)->dispose (object);
}

static void
sp_main_view_finalize (GObject *object)
{
  g_free (SP_MAIN_VIEW (object)->page);
  G_OBJECT_CLASS (sp_main_view_parent_class)->finalize (object);
}

static void
sp_main_view_class_init (SpMainViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sp_main_view_dispose;
  object_class->finalize = sp_main_view_finalize;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/supolka/Supolka/sp-main-view.ui");
  gtk_widget_class_bind_template_child (widget_class, SpMainView, leaflet);
  gtk_widget_class_bind_template_child (widget_class, SpMainView, sidebar);
  gtk_widget_class_bind_template_child (widget_class, SpMainView, content);
  gtk_widget_class_bind_template_child (widget_class, SpMainView, sidebar_header);
  /* <signal> in sp-main-view.ui. */
  gtk_widget_class_bind_template_callback (widget_class, row_activated);
  gtk_widget_class_bind_template_callback (widget_class, row_selected);
  gtk_widget_class_bind_template_callback (widget_class, update_folded);
  gtk_widget_class_install_action (widget_class, "main.sidebar", NULL, action_sidebar);
  gtk_widget_class_install_action (widget_class, "main.kind-shown", "s", action_kind_shown);
  gtk_widget_class_install_action (widget_class, "main.reload", NULL, action_reload);
  gtk_widget_class_install_action (widget_class, "main.compartments", NULL, action_travel);
  gtk_widget_class_install_action (widget_class, "main.travel-start", NULL, action_travel);
  gtk_widget_class_install_action (widget_class, "main.travel-end", NULL, action_travel);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
sp_main_view_init (SpMainView *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
sp_main_view_new (SpVault *vault)
{
  SpMainView *self = g_object_new (SP_TYPE_MAIN_VIEW, NULL);

  self->vault = vault;
  self->browser = SP_BROWSER (sp_browser_new (vault));
  gtk_stack_add_named (self->content, GTK_WIDGET (self->browser), "records");
  for (guint i = 0; i < 4; i++)
    add_sidebar_row (self, &sections[i]);
  self->stats = sp_stats_page_new_lazy (vault);
  add_page (self, "stats", self->stats);
  add_sidebar_row (self, &sections[4]);
  self->conflicts = sp_conflicts_page_new (vault);
  add_page (self, "conflicts", self->conflicts);
  add_sidebar_row (self, &sections[5]);
  sp_main_view_show_page (self, "org");
  update_folded (self);
  sp_sync_status_attach (GTK_WIDGET (self), self->sidebar_header, vault);
  adw_leaflet_set_visible_child_name (self->leaflet, "content");
  return GTK_WIDGET (self);
}
