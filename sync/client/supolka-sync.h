/* supolka-sync.h — the public face of the sync client (libsupolka-sync-client).
 *
 * Workspaces, devices, invites, revocation and the push/pull of batches of
 * changes through a relay that sees only ciphertext (docs/PROTOCOL.md).
 * Every function here blocks on the network: call it from a worker thread in
 * a GUI. The vault must be open and must not be used by another thread while
 * a call runs.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "supolka-core.h"
#include "sync-error.h"

G_BEGIN_DECLS

/* ---- Rules the app and the CLI share with the client (one home each) ---- */

/* A relay address: https://HOST[:PORT][/PATH]; plain http:// only to this
 * computer (127.0.0.1, ::1, localhost) or to a .onion host, which is then
 * reached only through a proxy (sync_http_new refuses it without one). No
 * user name, query or fragment. SYNC_ERROR_FAILED with a sentence to show. */
gboolean sync_relay_url_check (const char *url, GError **error);

/* A proxy address: socks5h://, socks5:// or http:// HOST:PORT. */
gboolean sync_proxy_url_check (const char *url, GError **error);

/* How long an invite stays valid, in hours. */
#define SYNC_INVITE_TTL_DEFAULT_HOURS 48
#define SYNC_INVITE_TTL_MIN_HOURS 1
#define SYNC_INVITE_TTL_MAX_HOURS 168 /* a week */

/* 0 gives the default; other values are clamped to MIN–MAX. */
guint sync_invite_ttl_clamp (guint hours);

/* Where and how to reach the relay. Any member may be NULL. */
typedef struct
{
  const char *relay;       /* overrides the workspace's stored relay URL */
  const char *proxy;       /* e.g. "socks5h://127.0.0.1:9050" (Tor) */
  const char *ca_file;     /* extra CA certificate file (PEM) to trust for HTTPS */
  guint max_batch_changes; /* 0: the default (2,000); smaller for tests and benchmarks */
} SyncOptions;

/* What one sync run did. Free with sync_report_clear(). */
typedef struct
{
  guint pushed_batches;
  guint pushed_changes;
  guint pulled_batches;  /* other devices' batches received */
  guint applied_batches; /* … of which verified and applied */
  guint applied_changes;
  guint refused_batches;         /* tampered, forged, out of chain, from a revoked device */
  gboolean waiting_for_approval; /* joined, but no admin has approved yet */
  GPtrArray *problems;           /* char*: one human sentence each (translated) */
} SyncReport;

void sync_report_clear (SyncReport *report);

/* The workspace this vault belongs to, or all-NULL/0 when none. */
typedef struct
{
  char *workspace; /* 32 hex */
  char *relay;     /* URL */
  char *device;    /* this device's id */
  gboolean admin;
  gboolean approved; /* FALSE between join and approval */
  guint32 epoch;
  gint64 log_head;        /* membership log version applied */
  gint64 last_sync;       /* unix seconds of the last successful sync, 0 = never */
  gint64 pending_changes; /* local changes not yet pushed */
} SyncStatus;

void sync_status_clear (SyncStatus *status);
gboolean sync_get_status (SpVault *vault, SyncStatus *status, GError **error);

typedef struct
{
  char *device; /* 32 hex */
  char *status; /* "pending", "active", "revoked" (the membership log's view) */
  gboolean admin;
  gboolean is_self;
  char *safety_code; /* pending devices: the code to compare, else NULL */
} SyncDevice;

void sync_device_free (SyncDevice *device);

/* Creates a workspace on the relay with this device as its first admin. */
gboolean sync_workspace_create (SpVault *vault, const char *relay_url, const SyncOptions *opts,
                                GError **error);
/* Registers a one-time invite (valid @ttl_hours, see sync_invite_ttl_clamp) and
 * returns the invite code to hand over out of band: "supolka1:…". Admins only. */
char *sync_workspace_invite (SpVault *vault, guint ttl_hours, const SyncOptions *opts,
                             GError **error);
/* Joins with an invite code; returns the safety code ("123 456 789") to read
 * to the admin, who approves with it. */
char *sync_workspace_join (SpVault *vault, const char *invite, const SyncOptions *opts,
                           GError **error);
/* Approves the pending device whose safety code is @code (spaces optional):
 * appends "add device" to the membership log and seals the epoch key to it.
 * Returns the approved device id. Admins only. */
char *sync_workspace_approve (SpVault *vault, const char *code, const SyncOptions *opts,
                              GError **error);
/* The devices of the workspace (membership log and pending join requests). */
GPtrArray *sync_device_list (SpVault *vault, const SyncOptions *opts, GError **error);
/* Removes a device: the relay refuses it from then on, a new epoch key is
 * sealed to every remaining device, and batches it signs later are refused. */
gboolean sync_device_revoke (SpVault *vault, const char *device, const SyncOptions *opts,
                             GError **error);

/* One sync: refresh the membership log, push local changes, pull and apply
 * other devices' batches. Safe to interrupt at any point and run again: nothing
 * is lost or applied twice. Returns FALSE only when the run could not
 * complete (network, relay refusal); refused batches are listed in
 * @report->problems and counted, and the run still succeeds. */
gboolean sync_run (SpVault *vault, const SyncOptions *opts, SyncReport *report, GError **error);

/* Uploads a signed, encrypted snapshot of everything this vault holds (after
 * pushing its own changes) so new devices can start from it; with @prune the
 * relay then deletes the batches the snapshot covers. Admins only. Devices
 * whose next batch was pruned fetch and apply the snapshot during sync_run. */
gboolean sync_snapshot_upload (SpVault *vault, gboolean prune, const SyncOptions *opts,
                               GError **error);

/* ---- Compartments (docs/COMPARTMENTS.md) ----
 * A compartment's records travel only to the devices that hold it: its own
 * keys, sealed by an admin to each holder. Every call that changes one needs
 * an admin that holds it, and the network. */

typedef struct
{
  char *name;         /* "main" for main */
  char *cid;          /* the workspace-wide id (32 hex); "" for main */
  gint64 local;       /* the vault's compartment number (0 = main) */
  gint64 records;     /* live records here */
  guint32 cepoch;     /* the compartment's key epoch (0: main, or not published) */
  char **holders;     /* device ids that hold it, as its holders know (NULL-terminated) */
  gboolean published; /* known to the workspace (main always) */
} SyncCompartment;

void sync_compartment_free (SyncCompartment *compartment);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyncCompartment, sync_compartment_free)

/* Creates compartment @name in the workspace, held by this device alone (a
 * compartment of that name made only in this vault is published as it is). */
gboolean sync_compartment_create (SpVault *vault, const char *name, const SyncOptions *opts,
                                  GError **error);
/* The compartments held here (main first), from the stored log: no network.
 * *workspace_total gets how many compartments the workspace has (names of
 * the others are not known here). */
GPtrArray *sync_compartment_list (SpVault *vault, guint *workspace_total, const SyncOptions *opts,
                                  GError **error);
/* Seals the compartment's key to @device (which must have synced once). A
 * holder may be granted again: a travelling device gets it back this way. */
gboolean sync_compartment_grant (SpVault *vault, const char *name, const char *device,
                                 const SyncOptions *opts, GError **error);
/* Takes the compartment from @device: a new key for that compartment only,
 * sealed to the remaining holders. The device removes its records of it when
 * it next syncs; what it has seen it may have kept. */
gboolean sync_compartment_revoke (SpVault *vault, const char *name, const char *device,
                                  const SyncOptions *opts, GError **error);
/* sync_device_revoke, then a new key for every compartment this admin holds
 * that the device held; *not_rotated (may be NULL) gets the number of
 * compartments this admin does not hold (another admin who holds them must
 * rotate them). */
gboolean sync_device_revoke_full (SpVault *vault, const char *device, const SyncOptions *opts,
                                  guint *not_rotated, GError **error);

/* ---- Travel mode (docs/COMPARTMENTS.md) ---- */

/* Leaves every compartment not named in @keep (NULL-terminated names; main is
 * always kept) behind: their keys go, sealed under a fresh 128-bit key, to
 * this device's stash at the relay; their records, history, search entries
 * and keys are removed from the vault, which is then compacted. Refuses while
 * any local change is unsent (naming the records). *return_code gets the 12
 * words that bring them back (show once; nobody else has them). */
gboolean sync_travel_start (SpVault *vault, const char *const *keep, const SyncOptions *opts,
                            char **return_code, GError **error);
/* Opens the stash with @code (words, case and separators free; a mistyped or
 * wrong code changes nothing), restores the keys and names, fetches the
 * compartments' history again from the relay, and deletes the stash. */
gboolean sync_travel_end (SpVault *vault, const char *code, const SyncOptions *opts,
                          GError **error);
/* The return code's words for 16 bytes, and back (checksum checked). */
char *sync_travel_code_format (const guint8 t[16]);
gboolean sync_travel_code_parse (const char *code, guint8 t[16], GError **error);

/* Invite codes and relay answers are hostile input; exposed for fuzzing. */
gboolean sync_invite_parse (const char *code, char **relay, guint8 workspace[16], guint8 token[32],
                            guint8 admin_sign_pk[32], GError **error);

G_END_DECLS
