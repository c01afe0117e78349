/* sync-client-private.h — what the files of the sync client share.
 *
 * The client is split by concern: sync-client.c (the context, state in the
 * vault, small codecs, status, sync_run), sync-membership.c (the membership
 * log and epoch keys), sync-workspace.c (create, invite, join, approve,
 * devices, revoke), sync-push.c, sync-pull.c and sync-snapshot.c. Nothing
 * here is public API: supolka-sync.h is.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>
#include <sodium.h>

#include "supolka-sync.h"
#include "sync-batch.h"
#include "sync-http.h"
#include "sync-protocol.h"

G_BEGIN_DECLS

#define ENTRY_MAX (64 * 1024)
#define INVITE_MAX 2048
#define BATCH_MAX_CHANGES 2000
#define BATCH_MAX_BYTES (2 * 1024 * 1024)
#define PAGE_LIMIT 200
#define SEALED_LEN (SYNC_KEY_BYTES + crypto_box_SEALBYTES)
#define WRAP_LEN (crypto_secretbox_NONCEBYTES + SYNC_KEY_BYTES + crypto_secretbox_MACBYTES)

/* A device as the verified membership log knows it. */
typedef struct
{
  char id[SYNC_ID_HEX_LEN + 1];
  guint8 sign_pk[32], box_pk[32], auth_pk[32];
  gboolean admin;
  gint64 added_at;
  gint64 removed_at; /* 0: still a member */
} SyncMember;

/* A compartment as the membership log's "comp" entries tell it
 * (sync-compartment.c); name and holders only once its key is held. */
typedef struct
{
  char cid[SYNC_ID_HEX_LEN + 1];
  guint32 cepoch;     /* current epoch of the compartment */
  char *name;         /* from the newest meta this device could open */
  GPtrArray *holders; /* char*: device ids, from the same meta */
  GHashTable *wraps;  /* cepoch (uint) -> GBytes: K(cepoch-1) under K(cepoch) */
} SyncComp;

/* A "comp" entry as it came in: its version, main epoch and sealed box. */
typedef struct
{
  gint64 version;
  guint32 epoch;
  GBytes *box; /* nonce ‖ secretbox(main epoch key, inner JSON) */
} SyncCompEntry;

/* A compartment key this device holds, for push and pull. */
typedef struct
{
  char cid[SYNC_ID_HEX_LEN + 1];
  guint32 cepoch;
  gint64 local;    /* the vault's compartment id */
  SpSecret *key;   /* K(cid, cepoch) */
  gboolean rescan; /* just gained: its history is still to fetch */
} SyncHeldKey;

/* One call's view of the workspace: keys, transport and the verified log. */
typedef struct
{
  SpVault *vault;
  char ws_hex[SYNC_ID_HEX_LEN + 1];
  guint8 ws[SYNC_ID_BYTES];
  char *relay;
  char device[SYNC_ID_HEX_LEN + 1];
  guint8 dev_raw[SYNC_ID_BYTES];
  guint8 anchor[32];
  SpSecret *sign_sk, *auth_sk, *box_sk;
  guint8 sign_pk[32], box_pk[32], auth_pk[32];
  SyncHttp *http;
  /* The membership log as verified so far. */
  gint64 head;
  guint8 head_hash[SYNC_HASH_BYTES];
  guint32 epoch;
  GHashTable *members;   /* id -> SyncMember */
  GHashTable *log_heads; /* hex hash -> version (gint64 *) */
  GHashTable *wraps;     /* epoch (uint) -> GBytes: epoch-1 key wrapped under epoch key */
  /* Compartments (sync-compartment.c). */
  GPtrArray *comp_entries; /* SyncCompEntry*, in log order */
  GHashTable *comps;       /* cid -> SyncComp*, filled by sync_comps_load */
  SpSecret *cbox_sk;       /* this device's compartment box key, once loaded */
  guint8 cbox_pk[32];
} SyncCtx;

/* sync-client.c: the context */
SyncCtx *sync_ctx_new (SpVault *vault);
void sync_ctx_free (SyncCtx *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyncCtx, sync_ctx_free)
/* Loads the workspace, replays the stored log; with @network, opens the relay. */
SyncCtx *sync_ctx_load_full (SpVault *vault, const SyncOptions *opts, gboolean network,
                             GError **error);
SyncCtx *sync_ctx_load (SpVault *vault, const SyncOptions *opts, GError **error);
char *sync_ws_path (SyncCtx *c, const char *suffix);
SyncMember *sync_self_member (SyncCtx *c);

/* sync-client.c: reporting */
void sync_problem (SyncReport *report, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
gboolean sync_fail (GError **error, int code, const char *message);

/* sync-client.c: small codecs */
char *sync_b64 (const guint8 *data, gsize len);
/* Standard base64 of at most @max decoded bytes, or NULL. */
GBytes *sync_b64_decode (const char *b64, gsize max);
void sync_le64_put (guint8 *p, guint64 v);
guint64 sync_le64_get (const guint8 *p);
const char *sync_json_str (JsonObject *o, const char *name, gsize max);
gboolean sync_json_int (JsonObject *o, const char *name, gint64 *out);
gboolean sync_json_bool (JsonObject *o, const char *name, gboolean *out);
gboolean sync_json_key (JsonObject *o, const char *name, guint8 out[32]);
char *sync_to_json (JsonBuilder *b);

/* sync-client.c: state in the vault (see the list of keys there) */
gboolean sync_state_set_secret (SpVault *v, const char *key, const guint8 *data, gsize len,
                                GError **error);
gboolean sync_state_get_fixed (SpVault *v, const char *key, guint8 *out, gsize len);
gboolean sync_state_get_chain (SpVault *v, const char *key, guint64 *seq,
                               guint8 hash[SYNC_HASH_BYTES]);
gboolean sync_state_set_chain (SpVault *v, const char *key, guint64 seq,
                               const guint8 hash[SYNC_HASH_BYTES], GError **error);
gint64 sync_state_get_int (SpVault *v, const char *key);
/* Ends the vault transaction: commits if @ok, else rolls back and returns FALSE. */
gboolean sync_vault_end (SpVault *v, gboolean ok, GError **error);
gboolean sync_state_set_int (SpVault *v, const char *key, gint64 value, GError **error);

/* sync-membership.c */
gboolean sync_log_forged (GError **error, gint64 version, const char *why);
SpSecret *sync_epoch_key (SyncCtx *c, guint32 epoch);
char *sync_log_sign (SyncCtx *c, const char *body);
gboolean sync_log_apply (SyncCtx *c, gint64 version, const char *entry, gsize len, GError **error);
gboolean sync_log_refresh (SyncCtx *c, GError **error);
gboolean sync_log_post (SyncCtx *c, const char *entry, const char *action, const char *subject,
                        gboolean *raced, GError **error);
void sync_log_add_member_keys (JsonBuilder *b, const char *device, const guint8 sign_pk[32],
                               const guint8 box_pk[32], const guint8 auth_pk[32]);
void sync_log_begin_body (SyncCtx *c, JsonBuilder *b, const char *type, guint32 epoch);
void sync_log_add_sealed (JsonBuilder *b, const char *device, const guint8 box_pk[32],
                          const guint8 key[SYNC_KEY_BYTES]);

/* sync-workspace.c */
gboolean sync_require_admin (SyncCtx *c, GError **error);

/* sync-push.c */
gboolean sync_push (SyncCtx *c, guint max_changes, SyncReport *report, GError **error);

/* sync-pull.c */
gboolean sync_pull (SyncCtx *c, SyncReport *report, GError **error);

/* sync-compartment.c */
gboolean sync_comp_log_accept (SyncCtx *c, gint64 version, JsonObject *body, gint64 epoch,
                               GError **error);
void sync_comp_entry_free (gpointer p);
void sync_comp_free (gpointer p);
/* Reads every "comp" entry this device can (re)build the compartments from,
 * learning the keys sealed to its compartment box keys. */
gboolean sync_comps_load (SyncCtx *c, GError **error);
/* Vault compartments follow the keys: gained ones added (to rescan), lost
 * ones purged with their keys. */
gboolean sync_comps_reconcile (SyncCtx *c, SyncReport *report, GError **error);
gboolean sync_cbox_ensure (SyncCtx *c, GError **error);
SpSecret *sync_comp_key (SyncCtx *c, const char *cid, guint32 cepoch);
/* Every held compartment key (all epochs), each a SyncHeldKey*. */
GPtrArray *sync_comp_held_keys (SyncCtx *c, GError **error);
void sync_held_key_free (gpointer p);
/* Removes what this device holds of compartment @cid: keys, rescan mark. */
gboolean sync_comp_forget_keys (SyncCtx *c, const char *cid, GError **error);
/* After a device left the workspace: a new epoch for each compartment this
 * device holds that it held; *not_held counts the others. */
gboolean sync_comps_rotate_removed (SyncCtx *c, const char *device, guint *not_held,
                                    GError **error);

/* sync-rescan.c: history of compartments just gained (grant, travel end). */
gboolean sync_rescan (SyncCtx *c, SyncReport *report, GError **error);

/* sync-pull.c: the checks every envelope of another device passes, against
 * the chain position given; *why says what failed (NULL: passed). */
gboolean sync_batch_checks (SyncCtx *c, const char *device, guint64 seq, GBytes *env,
                            guint64 last_seq, const guint8 last_hash[SYNC_HASH_BYTES],
                            SyncBatchInfo *info, const SyncMember **member, const char **why);
/* One item of a page of batches (after cursor @after). */
typedef enum
{
  SYNC_PAGE_ITEM_OK,
  SYNC_PAGE_ITEM_BAD,         /* not an item at all: the answer is malformed */
  SYNC_PAGE_ITEM_UNDECODABLE, /* an item whose data is not base64 */
} SyncPageItem;
SyncPageItem sync_page_item (JsonNode *item, gint64 after, const char **dev, gint64 *cur,
                             gint64 *seq, GBytes **env);
/* Finds the key a batch was written with among main and held compartment
 * keys (main only @with_main); opens it. NULL with *why NULL: no held key
 * matches and the writer's signature holds (a batch not for this device). */
SyncBatch *sync_batch_open_held (SyncCtx *c, GBytes *env, const SyncBatchInfo *info,
                                 const SyncMember *m, GPtrArray *held, gboolean with_main,
                                 gint64 *local, const char **why);

/* sync-snapshot.c */
gboolean sync_snapshot_apply (SyncCtx *c, SyncReport *report, GError **error);
/* A device's chain position: last seq and the hash of that envelope. */
typedef struct
{
  guint64 seq;
  guint8 hash[SYNC_HASH_BYTES];
} SyncChainPos;
/* With @only (SyncHeldKey*, a rescan): those compartments' sections alone,
 * this device's own changes included, nothing of main; *cursor_out gets the
 * snapshot's cursor and @chains_out (device -> SyncChainPos*) its chains. */
gboolean sync_snapshot_apply_only (SyncCtx *c, GPtrArray *only, gint64 *cursor_out,
                                   GHashTable *chains_out, SyncReport *report, GError **error);
gboolean sync_snapshot_parse_change (JsonArray *a, SpChange *ch);

G_END_DECLS
