/* sp-qr.c — a QR code drawn dark on light (libqrencode): the invite code of
 * the sync dialogs, the return code of travel mode.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <qrencode.h>
#include <sodium.h>

#include "sp-qr.h"

#define QR_QUIET_ZONE 4

struct _SpQr
{
  GtkWidget parent_instance;
  int width;       /* modules per side, 0 = empty */
  guint8 *modules; /* width × width, 1 = dark */
};

G_DEFINE_FINAL_TYPE (SpQr, sp_qr, GTK_TYPE_WIDGET)

/* The modules may hold a secret (a return code): wiped before freed. */
static void
clear_modules (SpQr *self)
{
  if (self->modules)
    sodium_memzero (self->modules, (gsize)self->width * (gsize)self->width);
  g_clear_pointer (&self->modules, g_free);
  self->width = 0;
}

void
sp_qr_set_text (GtkWidget *widget, const char *text)
{
  SpQr *self = SP_QR (widget);
  QRcode *code = text ? QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, 1) : NULL;

  clear_modules (self);
  if (code)
    {
      self->width = code->width;
      self->modules = g_malloc ((gsize)code->width * (gsize)code->width);
      for (int i = 0; i < code->width * code->width; i++)
        self->modules[i] = code->data[i] & 1;
      sodium_memzero (code->data, (gsize)code->width * (gsize)code->width);
      QRcode_free (code);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
sp_qr_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  SpQr *self = SP_QR (widget);
  int w = gtk_widget_get_width (widget);
  int h = gtk_widget_get_height (widget);
  int side = MIN (w, h);
  int total = self->width + 2 * QR_QUIET_ZONE;
  int scale, x0, y0;
  GdkRGBA white = { 1, 1, 1, 1 }, black = { 0, 0, 0, 1 };

  if (self->width == 0 || side < total)
    return;
  scale = side / total;
  x0 = (w - scale * total) / 2;
  y0 = (h - scale * total) / 2;
  /* Dark on light whatever the theme: scanners expect it. */
  gtk_snapshot_append_color (snapshot, &white,
                             &GRAPHENE_RECT_INIT (x0, y0, scale * total, scale * total));
  for (int y = 0; y < self->width; y++)
    for (int x = 0; x < self->width;)
      {
        int run = 0;

        while (x + run < self->width && self->modules[y * self->width + x + run])
          run++;
        if (run)
          gtk_snapshot_append_color (snapshot, &black,
                                     &GRAPHENE_RECT_INIT (x0 + (x + QR_QUIET_ZONE) * scale,
                                                          y0 + (y + QR_QUIET_ZONE) * scale,
                                                          run * scale, scale));
        x += run ? run : 1;
      }
}

static void
sp_qr_measure (GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
               int *natural, int *minimum_baseline, int *natural_baseline)
{
  SpQr *self = SP_QR (widget);
  int total = self->width ? self->width + 2 * QR_QUIET_ZONE : 0;

  *minimum = total * 3;
  *natural = MAX (total * 5, 200);
}

static void
sp_qr_finalize (GObject *object)
{
  clear_modules (SP_QR (object));
  G_OBJECT_CLASS (sp_qr_parent_class)->finalize (object);
}

static void
sp_qr_class_init (SpQrClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = sp_qr_finalize;
  widget_class->snapshot = sp_qr_snapshot;
  widget_class->measure = sp_qr_measure;
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
sp_qr_init (SpQr *self)
{
}

GtkWidget *
sp_qr_new (const char *label, const char *description)
{
  GtkWidget *qr = g_object_new (SP_TYPE_QR, NULL);

  gtk_accessible_update_property (GTK_ACCESSIBLE (qr), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description, -1);
  return qr;
}

int
sp_qr_get_modules (GtkWidget *qr)
{
  g_return_val_if_fail (SP_IS_QR (qr), 0);
  return SP_QR (qr)->width;
}
