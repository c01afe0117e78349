/* The Preferences window: every control bound to GSettings with
 * g_settings_bind, so the window holds no state of its own.
 *
 * Nothing personal is ever stored through it: dconf is not encrypted.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>

#include "sp-pages-resources.h"
#include "sp-preferences.h"
#include "supolka-sync.h"

struct _SpPreferencesWindow
{
  AdwPreferencesWindow parent_instance;

  GSettings *settings;

  GtkSpinButton *auto_lock_spin;
  AdwComboRow *kdf_row;
  GtkSwitch *neutral_title_switch;
  AdwEntryRow *relay_row;
  AdwEntryRow *proxy_row;
  AdwComboRow *language_row;
};

G_DEFINE_FINAL_TYPE (SpPreferencesWindow, sp_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

GSettings *
sp_preferences_get_settings (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;

  if (source)
    schema = g_settings_schema_source_lookup (source, SP_SETTINGS_SCHEMA_ID, TRUE);
  if (schema == NULL)
    return NULL;
  return g_settings_new_full (schema, NULL, NULL);
}

void
sp_preferences_apply_language (void)
{
  g_autoptr (GSettings) settings = sp_preferences_get_settings ();
  g_autofree char *language = settings ? g_settings_get_string (settings, "language") : NULL;

  /* gettext reads LANGUAGE before LC_MESSAGES; dates and numbers keep
   * following the system locale. */
  if (language && *language)
    g_setenv ("LANGUAGE", language, TRUE);
}

/* ---- Mappings between settings and widgets -------------------------------- */

static gboolean
get_choice_index (GValue *value, GVariant *variant, gpointer user_data)
{
  const char *const *choices = user_data;
  const char *s = g_variant_get_string (variant, NULL);

  for (guint i = 0; choices[i]; i++)
    if (g_str_equal (choices[i], s))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
set_choice_index (const GValue *value, const GVariantType *expected_type, gpointer user_data)
{
  const char *const *choices = user_data;
  guint i = g_value_get_uint (value);

  if (i >= g_strv_length ((char **)choices))
    return NULL; /* nothing selected: leave the setting alone */
  return g_variant_new_string (choices[i]);
}

/* The rows of language_row and kdf_row, in order. */
static const char *const language_choices[] = { "", "be", "ru", "en", NULL };
static const char *const kdf_choices[] = { "moderate", "sensitive", NULL };

/* Relay and proxy: the sync client's rules (supolka-sync.h); empty unsets. */
static gboolean
relay_url_is_valid (const char *text)
{
  return *text == '\0' || sync_relay_url_check (text, NULL);
}

static gboolean
proxy_url_is_valid (const char *text)
{
  return *text == '\0' || sync_proxy_url_check (text, NULL);
}

typedef struct
{
  gboolean (*is_valid) (const char *text);
} UrlCheck;

static const UrlCheck relay_check = { relay_url_is_valid };
static const UrlCheck proxy_check = { proxy_url_is_valid };

/* Only valid addresses are written; a half-typed one stays in the entry,
 * marked, and the setting keeps its last good value. */
static GVariant *
set_url (const GValue *value, const GVariantType *expected_type, gpointer user_data)
{
  const UrlCheck *check = user_data;
  const char *text = g_value_get_string (value);
  g_autofree char *stripped = g_strstrip (g_strdup (text ? text : ""));

  if (!check->is_valid (stripped))
    return NULL;
  return g_variant_new_string (stripped);
}

static gboolean
get_url (GValue *value, GVariant *variant, gpointer user_data)
{
  g_value_set_string (value, g_variant_get_string (variant, NULL));
  return TRUE;
}

static void
mark_entry (AdwEntryRow *row, const UrlCheck *check)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));

  if (check->is_valid (text))
    gtk_widget_remove_css_class (GTK_WIDGET (row), "error");
  else
    gtk_widget_add_css_class (GTK_WIDGET (row), "error");
}

static void
relay_changed_cb (AdwEntryRow *row)
{
  mark_entry (row, &relay_check);
}

static void
proxy_changed_cb (AdwEntryRow *row)
{
  mark_entry (row, &proxy_check);
}

/* ---- GObject -------------------------------------------------------------- */

static void
sp_preferences_window_dispose (GObject *object)
{
  SpPreferencesWindow *self = SP_PREFERENCES_WINDOW (object);

  g_clear_object (&self->settings);
  gtk_widget_dispose_template (GTK_WIDGET (self), SP_TYPE_PREFERENCES_WINDOW);
  G_OBJECT_CLASS (sp_preferences_window_parent_class)->dispose (object);
}

static void
sp_preferences_window_class_init (SpPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = sp_preferences_window_dispose;

  /* Referencing the resource keeps it linked in from the static library;
   * its constructor registers it. */
  (void)sp_pages_get_resource ();
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/supolka/Supolka/ui/sp-preferences.ui");
  gtk_widget_class_bind_template_child (widget_class, SpPreferencesWindow, auto_lock_spin);
  gtk_widget_class_bind_template_child (widget_class, SpPreferencesWindow, kdf_row);
  gtk_widget_class_bind_template_child (widget_class, SpPreferencesWindow, neutral_title_switch);
  gtk_widget_class_bind_template_child (widget_class, SpPreferencesWindow, relay_row);
  gtk_widget_class_bind_template_child (widget_class, SpPreferencesWindow, proxy_row);
  gtk_widget_class_bind_template_child (widget_class, SpPreferencesWindow, language_row);
}

static void
sp_preferences_window_init (SpPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (self->relay_row, "changed", G_CALLBACK (relay_changed_cb), NULL);
  g_signal_connect (self->proxy_row, "changed", G_CALLBACK (proxy_changed_cb), NULL);
}

static void
bind_settings (SpPreferencesWindow *self)
{
  GSettings *s = self->settings;

  g_settings_bind (s, "auto-lock-delay", self->auto_lock_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (s, "neutral-title", self->neutral_title_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (s, "kdf-profile", self->kdf_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, get_choice_index, set_choice_index,
                                (gpointer)kdf_choices, NULL);
  g_settings_bind_with_mapping (s, "language", self->language_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, get_choice_index, set_choice_index,
                                (gpointer)language_choices, NULL);
  g_settings_bind_with_mapping (s, "relay-url", self->relay_row, "text", G_SETTINGS_BIND_DEFAULT,
                                get_url, set_url, (gpointer)&relay_check, NULL);
  g_settings_bind_with_mapping (s, "proxy", self->proxy_row, "text", G_SETTINGS_BIND_DEFAULT,
                                get_url, set_url, (gpointer)&proxy_check, NULL);
}

GtkWidget *
sp_preferences_window_new (GSettings *settings)
{
  SpPreferencesWindow *self;
  g_autoptr (GSettings) own = settings ? g_object_ref (settings) : sp_preferences_get_settings ();

  if (own == NULL)
    return NULL;
  self = g_object_new (SP_TYPE_PREFERENCES_WINDOW, NULL);
  self->settings = g_steal_pointer (&own);
  bind_settings (self);
  return GTK_WIDGET (self);
}

void
sp_preferences_show (GtkWindow *parent)
{
  GtkWidget *window = sp_preferences_window_new (NULL);

  if (window == NULL)
    {
      GtkWidget *dialog = adw_message_dialog_new (
          parent, _ ("Preferences Are Unavailable"),
          _ ("The settings schema org.supolka.Supolka is not installed. Reinstall Supolka."));
      adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _ ("_Close"));
      gtk_window_present (GTK_WINDOW (dialog));
      return;
    }
  if (parent)
    gtk_window_set_transient_for (GTK_WINDOW (window), parent);
  gtk_window_present (GTK_WINDOW (window));
}
