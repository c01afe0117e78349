/* sp-preferences.h — the Preferences window, bound to the GSettings schema
 * org.supolka.Supolka (app/data/org.supolka.Supolka.gschema.xml).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define SP_SETTINGS_SCHEMA_ID "org.supolka.Supolka"

#define SP_TYPE_PREFERENCES_WINDOW (sp_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (SpPreferencesWindow, sp_preferences_window, SP, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

/* The app's settings, or NULL when the schema is not installed (a broken
 * install): callers then use the schema's defaults. */
GSettings *sp_preferences_get_settings (void);

/* Sets LANGUAGE from the "language" setting. Call at start, before any
 * translated string is looked up; the setting says it applies after a restart. */
void sp_preferences_apply_language (void);

/* A new Preferences window bound to settings (or to sp_preferences_get_settings()
 * when NULL); NULL when there are no settings at all. */
GtkWidget *sp_preferences_window_new (GSettings *settings);

/* Shows the Preferences window for parent, or a message when the settings
 * schema is missing. */
void sp_preferences_show (GtkWindow *parent);

G_END_DECLS
