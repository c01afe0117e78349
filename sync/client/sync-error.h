/* sync-error.h — the sync client's error domain (public, via supolka-sync.h).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SYNC_ERROR (sync_error_quark ())

typedef enum
{
  SYNC_ERROR_FAILED,
  SYNC_ERROR_MALFORMED, /* not a well-formed envelope or batch */
  SYNC_ERROR_FORGED,    /* signature, key commitment or AEAD tag wrong */
  SYNC_ERROR_CHAIN,     /* gap, reorder, replay or fork in a device chain */
  SYNC_ERROR_NETWORK,
  SYNC_ERROR_REFUSED,   /* the relay said no */
  SYNC_ERROR_NOT_FOUND, /* no such device, or no pending device with that code */
} SyncError;

GQuark sync_error_quark (void);

G_END_DECLS
