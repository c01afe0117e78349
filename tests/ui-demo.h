/* A small demo vault for the UI tests and the screenshot helper: Belarusian
 * and Russian names of every kind of record, made up; and what both need to
 * bring a window to a state and photograph it.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "supolka-core.h"

typedef struct
{
  char *org;    /* the richest organisation: links, notes */
  char *person; /* a person with contacts */
  char *event;  /* a round table with participants */
} SpDemo;

void sp_demo_fill (SpVault *vault, SpDemo *demo);
void sp_demo_clear (SpDemo *demo);
/* TRUE if text shows some of the demo's data (names, places, notes): such
 * text may be ellipsized in a narrow list, the interface's own may not. */
gboolean sp_demo_is_data (const char *text);

/* Iterates the main loop until window is width pixels wide (5 s at most). */
void sp_demo_wait_width (GtkWidget *window, int width);
/* Scrolls the first scrolled window below widget to its end. */
void sp_demo_scroll_to_end (GtkWidget *widget);
/* Renders window as it is now into a PNG at path; FALSE if it cannot. */
gboolean sp_demo_save_png (GtkWidget *window, const char *path);
