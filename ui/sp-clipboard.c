/* sp-clipboard.c — the secret clipboard (issue #5).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "sp-clipboard.h"

#define DEFAULT_DELAY_MS 30000

/* Main thread only; one clipboard copy at a time. */
static GdkClipboard *clip;               /* weak */
static GdkContentProvider *clip_content; /* weak: what we put there */
static guint clip_source;
static guint clip_delay_ms = DEFAULT_DELAY_MS;

void
sp_clipboard_set_delay (guint ms)
{
  clip_delay_ms = ms ? ms : DEFAULT_DELAY_MS;
}

guint
sp_clipboard_get_delay (void)
{
  return clip_delay_ms;
}

void
sp_clipboard_clear (void)
{
  g_clear_handle_id (&clip_source, g_source_remove);
  /* Only our own content: something copied since stays. The provider is
   * compared, not the text, so nothing needs to keep the value. */
  if (clip && clip_content && gdk_clipboard_get_content (clip) == clip_content)
    {
      /* Kept as the owner, with nothing to offer: on X11, giving the
       * selection up (content NULL) races with the next copy. */
      g_autoptr (GdkContentProvider) nothing = gdk_content_provider_new_union (NULL, 0);
      gdk_clipboard_set_content (clip, nothing);
    }
  g_clear_weak_pointer (&clip_content);
}

static gboolean
clipboard_timeout (gpointer data)
{
  clip_source = 0;
  sp_clipboard_clear ();
  return G_SOURCE_REMOVE;
}

void
sp_clipboard_copy_secret (GtkWidget *widget, const char *value)
{
  static const char hint[] = "secret";
  g_autoptr (GBytes) hint_bytes = g_bytes_new_static (hint, sizeof hint - 1);
  GdkContentProvider *providers[2];
  g_autoptr (GdkContentProvider) content = NULL;
  GdkClipboard *clipboard;

  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (value != NULL);
  clipboard = gtk_widget_get_clipboard (widget);
  /* Text for pasting, and KDE's hint that clipboard managers (Klipper and
   * others that honour it) keep it out of their history. */
  providers[0] = gdk_content_provider_new_typed (G_TYPE_STRING, value);
  providers[1] = gdk_content_provider_new_for_bytes ("x-kde-passwordManagerHint", hint_bytes);
  content = gdk_content_provider_new_union (providers, G_N_ELEMENTS (providers));
  if (!gdk_clipboard_set_content (clipboard, content))
    return;
  g_set_weak_pointer (&clip, clipboard);
  g_set_weak_pointer (&clip_content, content);
  g_clear_handle_id (&clip_source, g_source_remove);
  clip_source = g_timeout_add (clip_delay_ms, clipboard_timeout, NULL);
  g_source_set_name_by_id (clip_source, "[supolka] clear clipboard");
}
