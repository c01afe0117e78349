/* A small demo vault for the UI tests and the screenshot helper: Belarusian
 * and Russian names of every kind of record, made up.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

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
