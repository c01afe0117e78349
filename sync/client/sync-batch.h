/* Sealing and opening batches of changes (docs/PROTOCOL.md).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "supolka-core.h"
#include "sync-error.h"

G_BEGIN_DECLS

#define SYNC_ID_BYTES 16
#define SYNC_KEY_BYTES 32
#define SYNC_HASH_BYTES 32
#define SYNC_MAX_PLAINTEXT (16 * 1024 * 1024) /* decompressed batch */
#define SYNC_MAX_CIPHERTEXT (4 * 1024 * 1024)

/* Everything the relay can see of a batch, plus what the reader checks. */
typedef struct
{
  guint8 workspace[SYNC_ID_BYTES];
  guint8 device[SYNC_ID_BYTES];
  guint32 epoch;
  guint64 seq;
  guint8 prev_hash[SYNC_HASH_BYTES];
  guint8 log_head[SYNC_HASH_BYTES];
} SyncBatchInfo;

/* A decoded batch: the changes of whole local transactions, and the version
 * vector (device id hex -> last seq applied) of the writer when it wrote. */
typedef struct
{
  SyncBatchInfo info;
  GPtrArray *changes; /* of SpChange */
  GHashTable *vv;     /* char* -> guint64* */
  /* A compartment's batch names it inside ("c", "ce"); "" and 0 for main. */
  char cid[2 * SYNC_ID_BYTES + 1];
  guint32 cepoch;
  /* A main batch may carry the writer's compartment box public key. */
  gboolean has_cbox;
  guint8 cbox_pk[32];
} SyncBatch;

/* What a batch says inside besides its changes (docs/COMPARTMENTS.md). */
typedef struct
{
  const char *cid;       /* NULL or "" for main */
  guint32 cepoch;        /* the compartment's epoch, with cid */
  const guint8 *cbox_pk; /* main batches: the writer's compartment box key, or NULL */
} SyncBatchInner;

void sync_batch_free (SyncBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyncBatch, sync_batch_free)

/* Serialises, compresses, pads (Padmé, at least 1 KiB steps), encrypts with
 * XChaCha20-Poly1305 under a key derived from the epoch key for this
 * (workspace, device, epoch, seq), commits to that key in the header, and
 * signs header ‖ nonce ‖ ciphertext with the device's Ed25519 identity key. */
GBytes *sync_batch_seal (const SyncBatchInfo *info, GPtrArray *changes, GHashTable *vv,
                         const guint8 epoch_key[SYNC_KEY_BYTES], const guint8 sign_sk[64],
                         GError **error);

/* The same, with the compartment fields of @inner (NULL: a plain main batch);
 * @epoch_key is then that compartment's key K(cid, cepoch). */
GBytes *sync_batch_seal_inner (const SyncBatchInfo *info, GPtrArray *changes, GHashTable *vv,
                               const SyncBatchInner *inner, const guint8 epoch_key[SYNC_KEY_BYTES],
                               const guint8 sign_sk[64], GError **error);

/* TRUE when the envelope's key commitment is the one @epoch_key gives
 * (constant time; the envelope must have passed sync_batch_peek). */
gboolean sync_batch_key_matches (GBytes *envelope, const guint8 epoch_key[SYNC_KEY_BYTES]);

/* Only the writer's signature (for a batch this device cannot open). */
gboolean sync_batch_verify_signature (GBytes *envelope, const guint8 sign_pk[32]);

/* Parses the public header only (no key needed). */
gboolean sync_batch_peek (GBytes *envelope, SyncBatchInfo *info, GError **error);

/* Verifies the signature with the writer's public key, the key commitment,
 * the AEAD tag, then decompresses (bounded) and parses (strictly). */
SyncBatch *sync_batch_open (GBytes *envelope, const guint8 epoch_key[SYNC_KEY_BYTES],
                            const guint8 sign_pk[32], GError **error);

/* The last step of opening: padded plaintext -> batch. Exposed for fuzzing;
 * never call it on bytes that did not pass sync_batch_open's checks. */
SyncBatch *sync_batch_decode_plaintext (const guint8 *plain, gsize len, const SyncBatchInfo *info,
                                        GError **error);

/* TRUE when JSON text @data nests arrays/objects at most @max_depth deep
 * (checked before parsing, so hostile input cannot exhaust the stack). */
gboolean sync_json_nesting_ok (const char *data, gsize len, int max_depth);

/* Raw deflate and inflate, bounded: more than @max_out bytes of output is
 * SYNC_ERROR_MALFORMED. */
GBytes *sync_deflate (const guint8 *data, gsize len, gsize max_out, GError **error);
GBytes *sync_inflate (const guint8 *data, gsize len, gsize max_out, GError **error);

/* BLAKE2b-256 of the whole envelope: the next batch's prev_hash. */
void sync_batch_hash (GBytes *envelope, guint8 out[SYNC_HASH_BYTES]);

/* Padmé padding length for n bytes, at least 1 KiB steps. */
gsize sync_pad_length (gsize n);

G_END_DECLS
