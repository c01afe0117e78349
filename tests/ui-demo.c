/* The demo vault of ui-demo.h. SPDX-License-Identifier: GPL-3.0-or-later */
#include <string.h>

#include "test-util.h"
#include "ui-demo.h"
#include "ui-test-util.h"

void
sp_demo_fill (SpVault *vault, SpDemo *demo)
{
  char *org2, *org3, *person2, *project;

  demo->org = sp_test_insert (
      vault, "org", "name", "Мінская ініцыятыва «Зялёны горад»", "name_alt", "Zialiony horad",
      "kind", "initiative", "status", "member", "member_since", "2019-03", "region", "minsk_city",
      "locality", "Мінск", "themes", "экалогія, моладзь", "email", "hello@example.org", "website",
      "example.org", "notes", "Сустрэчы кожны чацвер.\nПраект з гарадскімі садамі.", NULL);
  org2 = sp_test_insert (vault, "org", "name", "Гомельскі клуб краязнаўцаў", "kind", "other",
                         "status", "candidate", "region", "gomel", "locality", "Гомель", NULL);
  org3 = sp_test_insert (vault, "org", "name", "Брестский центр гражданских инициатив", "kind",
                         "registered_ngo", "status", "partner", "region", "brest", "locality",
                         "Брест", NULL);
  g_free (sp_test_insert (vault, "org", "name", "Гродзенская асацыяцыя моладзі", "status", "member",
                          "region", "grodno", NULL));
  g_free (sp_test_insert (vault, "org", "name", "Витебский фонд культуры", "kind", "foundation",
                          "status", "former", "region", "vitebsk", "locality", "Орша", NULL));
  g_free (sp_test_insert (vault, "org", "name", "Магілёўскія валанцёры", "kind", "initiative",
                          "status", "suspended", "region", "mogilev", NULL));
  demo->person = sp_test_insert (vault, "person", "full_name", "Алесь Шыманскі", "region",
                                 "minsk_city", "locality", "Мінск", "phone", "+375 29 000-00-00",
                                 "secure_contact", "@ales_sh", NULL);
  person2 = sp_test_insert (vault, "person", "full_name", "Марина Ковалёва", "display_name",
                            "Вясна", "sensitivity", "high", "region", "gomel", NULL);
  project = sp_test_insert (vault, "project", "title", "Гарадскія сады", "status", "active",
                            "start_date", "2024-04", "regions", "minsk_city, gomel", "lead_org",
                            demo->org, NULL);
  demo->event = sp_test_insert (vault, "event", "title", "Круглы стол пра экалогію", "kind",
                                "round_table", "start_date", "2024-05-17", "region", "minsk_city",
                                "project", project, "declared_participants", "24", NULL);
  g_free (sp_test_insert (vault, "event", "title", "З’езд сяброў сеткі", "kind", "congress",
                          "start_date", "2025-11-08", "end_date", "2025-11-09",
                          "declared_participants", "1250", NULL));
  g_free (sp_test_insert (vault, "affiliation", "person", demo->person, "org", demo->org, "role",
                          "каардынатар", "since", "2020", NULL));
  g_free (sp_test_insert (vault, "affiliation", "person", person2, "org", demo->org, "role",
                          "валанцёрка", NULL));
  g_free (sp_test_insert (vault, "affiliation", "person", person2, "org", org2, NULL));
  g_free (sp_test_insert (vault, "participation", "org", demo->org, "event", demo->event, "role",
                          "organiser", NULL));
  g_free (sp_test_insert (vault, "participation", "person", demo->person, "event", demo->event,
                          "role", "speaker", NULL));
  g_free (sp_test_insert (vault, "note", "target", demo->org, "date", "2024-06-02", "text",
                          "Дамовіліся пра восеньскую сустрэчу.", NULL));
  g_free (org2);
  g_free (org3);
  g_free (person2);
  g_free (project);
}

void
sp_demo_clear (SpDemo *demo)
{
  g_clear_pointer (&demo->org, g_free);
  g_clear_pointer (&demo->person, g_free);
  g_clear_pointer (&demo->event, g_free);
}

gboolean
sp_demo_is_data (const char *text)
{
  static const char *const data[] = {
    "Зялёны горад",
    "Zialiony horad",
    "краязнаўцаў",
    "гражданских инициатив",
    "асацыяцыя моладзі",
    "фонд культуры",
    "валанцёры",
    "Шыманскі",
    "Ковалёва",
    "Вясна",
    "Гарадскія сады",
    "Круглы стол",
    "З’езд",
    "Сустрэчы",
    "Дамовіліся",
    "каардынатар",
    "валанцёрка",
    "экалогія",
    "hello@example.org",
    "example.org",
    "+375",
    "@ales_sh",
    "Мінск",
    "Гомель",
    "Брест",
    "Орша",
    NULL,
  };

  for (guint i = 0; data[i]; i++)
    if (strstr (text, data[i]))
      return TRUE;
  return FALSE;
}

void
sp_demo_wait_width (GtkWidget *window, int width)
{
  for (int i = 0; i < 500 && gtk_widget_get_width (window) != width; i++)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (10000);
    }
}

void
sp_demo_scroll_to_end (GtkWidget *widget)
{
  ui_drain_paced ();
  while (widget && !GTK_IS_SCROLLED_WINDOW (widget))
    widget = gtk_widget_get_first_child (widget);
  if (widget)
    {
      GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (widget));
      gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj));
    }
}

gboolean
sp_demo_save_png (GtkWidget *window, const char *path)
{
  int w = gtk_widget_get_width (window), h = gtk_widget_get_height (window);
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (window);
  g_autoptr (GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), w, h);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    return FALSE;
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, w, h));
  return gdk_texture_save_to_png (texture, path);
}
