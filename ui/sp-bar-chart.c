/* A horizontal bar chart drawn with GtkSnapshot.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "sp-bar-chart.h"
#include "sp-format.h"

#define ROW_SPACING 6 /* pixels between bars */
#define COLUMN_GAP 12 /* between label column, bar and value */
#define MIN_BAR_HEIGHT 20
#define MAX_LABEL_SHARE 0.4 /* the label column takes at most this much of the width */

typedef struct
{
  char *label;
  gint64 value;
} Bar;

struct _SpBarChart
{
  GtkWidget parent_instance;

  GArray *bars; /* of Bar */
};

G_DEFINE_FINAL_TYPE (SpBarChart, sp_bar_chart, GTK_TYPE_WIDGET)

static void
bar_clear (gpointer p)
{
  Bar *bar = p;

  g_free (bar->label);
}

static int
row_height (SpBarChart *self)
{
  g_autoptr (PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), "Ag");
  int h = 0;

  pango_layout_get_pixel_size (layout, NULL, &h);
  return MAX (MIN_BAR_HEIGHT, h + 6);
}

static void
sp_bar_chart_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                      int *natural, int *minimum_baseline, int *natural_baseline)
{
  SpBarChart *self = SP_BAR_CHART (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 160;
      *natural = 480;
    }
  else
    {
      int n = (int)self->bars->len;
      int h = n > 0 ? n * row_height (self) + (n - 1) * ROW_SPACING : 0;
      *minimum = *natural = h;
    }
}

static void
append_text (GtkSnapshot *snapshot, PangoLayout *layout, float x, float y, const GdkRGBA *color)
{
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x, y));
  gtk_snapshot_append_layout (snapshot, layout, color);
  gtk_snapshot_restore (snapshot);
}

static void
sp_bar_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  SpBarChart *self = SP_BAR_CHART (widget);
  GtkStyleContext *style = gtk_widget_get_style_context (widget);
  int width = gtk_widget_get_width (widget);
  int rh = row_height (self);
  int label_w = 0, value_w = 0;
  gint64 max = 0;
  GdkRGBA fg, bar_color, track;
  g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_object_unref);

  if (self->bars->len == 0 || width <= 0)
    return;

  gtk_style_context_get_color (style, &fg);
  if (!gtk_style_context_lookup_color (style, "accent_bg_color", &bar_color))
    gdk_rgba_parse (&bar_color, "#3584e4");
  track = fg;
  track.alpha *= 0.08f;

  for (guint i = 0; i < self->bars->len; i++)
    {
      const Bar *bar = &g_array_index (self->bars, Bar, i);
      g_autofree char *number = sp_format_count (bar->value);
      PangoLayout *l = gtk_widget_create_pango_layout (widget, bar->label);
      PangoLayout *v = gtk_widget_create_pango_layout (widget, number);
      int w;

      pango_layout_get_pixel_size (l, &w, NULL);
      label_w = MAX (label_w, w);
      pango_layout_get_pixel_size (v, &w, NULL);
      value_w = MAX (value_w, w);
      max = MAX (max, bar->value);
      g_ptr_array_add (labels, l);
      g_ptr_array_add (values, v);
    }
  label_w = MIN (label_w, (int)(width * MAX_LABEL_SHARE));

  for (guint i = 0; i < self->bars->len; i++)
    {
      const Bar *bar = &g_array_index (self->bars, Bar, i);
      PangoLayout *l = labels->pdata[i];
      PangoLayout *v = values->pdata[i];
      float y = (float)(i * (rh + ROW_SPACING));
      float x0 = (float)(label_w + COLUMN_GAP);
      float span = (float)(width - label_w - value_w - 2 * COLUMN_GAP);
      float len = max > 0 && bar->value > 0 ? span * (float)bar->value / (float)max : 0.f;
      int th = 0;

      if (span < 1.f)
        span = 1.f;
      pango_layout_set_width (l, label_w * PANGO_SCALE);
      pango_layout_set_ellipsize (l, PANGO_ELLIPSIZE_END);
      pango_layout_set_alignment (l, gtk_widget_get_direction (widget) == GTK_TEXT_DIR_RTL
                                         ? PANGO_ALIGN_LEFT
                                         : PANGO_ALIGN_RIGHT);
      pango_layout_get_pixel_size (l, NULL, &th);
      append_text (snapshot, l, 0.f, y + (rh - th) / 2.f, &fg);

      gtk_snapshot_append_color (snapshot, &track,
                                 &GRAPHENE_RECT_INIT (x0, y + 2.f, span, (float)rh - 4.f));
      if (len > 0.f)
        gtk_snapshot_append_color (
            snapshot, &bar_color,
            &GRAPHENE_RECT_INIT (x0, y + 2.f, MAX (len, 2.f), (float)rh - 4.f));
      pango_layout_get_pixel_size (v, NULL, &th);
      append_text (snapshot, v, x0 + span + COLUMN_GAP, y + (rh - th) / 2.f, &fg);
    }
}

static void
sp_bar_chart_finalize (GObject *object)
{
  SpBarChart *self = SP_BAR_CHART (object);

  g_clear_pointer (&self->bars, g_array_unref);
  G_OBJECT_CLASS (sp_bar_chart_parent_class)->finalize (object);
}

static void
sp_bar_chart_class_init (SpBarChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = sp_bar_chart_finalize;
  widget_class->measure = sp_bar_chart_measure;
  widget_class->snapshot = sp_bar_chart_snapshot;
  gtk_widget_class_set_css_name (widget_class, "barchart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
sp_bar_chart_init (SpBarChart *self)
{
  self->bars = g_array_new (FALSE, TRUE, sizeof (Bar));
  g_array_set_clear_func (self->bars, bar_clear);
}

GtkWidget *
sp_bar_chart_new (void)
{
  return g_object_new (SP_TYPE_BAR_CHART, NULL);
}

void
sp_bar_chart_clear (SpBarChart *self)
{
  g_return_if_fail (SP_IS_BAR_CHART (self));
  g_array_set_size (self->bars, 0);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
sp_bar_chart_append (SpBarChart *self, const char *label, gint64 value)
{
  Bar bar;

  g_return_if_fail (SP_IS_BAR_CHART (self));
  g_return_if_fail (label != NULL);
  bar.label = g_strdup (label);
  bar.value = MAX (value, 0);
  g_array_append_val (self->bars, bar);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

guint
sp_bar_chart_get_n_bars (SpBarChart *self)
{
  g_return_val_if_fail (SP_IS_BAR_CHART (self), 0);
  return self->bars->len;
}

const char *
sp_bar_chart_get_label (SpBarChart *self, guint i)
{
  g_return_val_if_fail (SP_IS_BAR_CHART (self), NULL);
  g_return_val_if_fail (i < self->bars->len, NULL);
  return g_array_index (self->bars, Bar, i).label;
}

gint64
sp_bar_chart_get_value (SpBarChart *self, guint i)
{
  g_return_val_if_fail (SP_IS_BAR_CHART (self), 0);
  g_return_val_if_fail (i < self->bars->len, 0);
  return g_array_index (self->bars, Bar, i).value;
}
