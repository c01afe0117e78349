/* sp-bar-chart.h — a plain horizontal bar chart: one labelled bar per value,
 * drawn with GtkSnapshot. The figures themselves are also shown as rows beside
 * it (screen readers get those); the chart is a picture of them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SP_TYPE_BAR_CHART (sp_bar_chart_get_type ())
G_DECLARE_FINAL_TYPE (SpBarChart, sp_bar_chart, SP, BAR_CHART, GtkWidget)

GtkWidget *sp_bar_chart_new (void);
/* Removes every bar. */
void sp_bar_chart_clear (SpBarChart *self);
/* Appends one bar; negative values are drawn as 0. */
void sp_bar_chart_append (SpBarChart *self, const char *label, gint64 value);
guint sp_bar_chart_get_n_bars (SpBarChart *self);
const char *sp_bar_chart_get_label (SpBarChart *self, guint i);
gint64 sp_bar_chart_get_value (SpBarChart *self, guint i);

G_END_DECLS
