/* sync-protocol.h — the public face of supolka-sync-protocol.
 *
 * What the relay and the client must agree on, byte for byte: request
 * authentication (the canonical string every request signs) and the outer
 * header of a batch envelope (the only part of a batch the relay reads).
 * No vault code here, and nothing that could decrypt a batch: the relay links
 * this library and nothing else of Supolka.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SYNC_PROTOCOL_ERROR (sync_protocol_error_quark ())

typedef enum
{
  SYNC_PROTOCOL_ERROR_FAILED,
  SYNC_PROTOCOL_ERROR_MALFORMED, /* a header, id, key or envelope is not well formed */
  SYNC_PROTOCOL_ERROR_SIGNATURE, /* well formed, but the signature does not verify */
  SYNC_PROTOCOL_ERROR_TOO_LARGE, /* over a protocol limit */
} SyncProtocolError;

GQuark sync_protocol_error_quark (void);

/* Call once before anything else (it initialises libsodium); FALSE if the
 * cryptography library cannot be used. */
gboolean sync_protocol_init (GError **error);

/* ---- Ids, hex and base64 ------------------------------------------------------
 * Workspace and device ids are 16 random bytes, written as 32 lowercase hex
 * characters. Public keys travel as standard base64 (with padding) of their 32
 * raw bytes. */

#define SYNC_ID_LEN 16
#define SYNC_ID_HEX_LEN 32
#define SYNC_HASH_LEN 32 /* BLAKE2b-256 */
#define SYNC_HASH_HEX_LEN 64
#define SYNC_KEY_LEN 32 /* Ed25519 / X25519 public keys */
#define SYNC_KEY_B64_LEN 44

/* TRUE if @s is exactly @hex_len lowercase hex characters. */
gboolean sync_is_lower_hex (const char *s, gsize hex_len);
/* TRUE if @s is a workspace or device id (32 lowercase hex). */
gboolean sync_id_is_valid (const char *s);
/* Strict: exactly 2 * @len lowercase hex characters into @out. */
gboolean sync_hex_decode (const char *hex, guint8 *out, gsize len, GError **error);
/* Newly allocated lowercase hex of @len bytes. */
char *sync_hex_encode (const guint8 *data, gsize len);
/* Strict base64 of exactly @len bytes: the length of @b64 is checked before it is
 * decoded, only the standard alphabet with canonical padding is accepted, and the
 * text must be the canonical encoding of the bytes (no stray bits). */
gboolean sync_base64_decode_exact (const char *b64, guint8 *out, gsize len, GError **error);
/* BLAKE2b-256 of @data. */
void sync_hash (const guint8 *data, gsize len, guint8 out[SYNC_HASH_LEN]);

/* ---- Request authentication --------------------------------------------------
 * Each device has an Ed25519 auth key pair, separate from its identity (signing)
 * key. Every authenticated request carries four headers:
 *
 *   X-Supolka-Device     device id, 32 lowercase hex
 *   X-Supolka-Time       unix seconds, decimal, no sign, no leading zeros
 *   X-Supolka-Nonce      16 random bytes, 32 lowercase hex
 *   X-Supolka-Signature  base64 of the 64-byte detached Ed25519 signature of
 *
 *   "SUPOLKA-AUTH-1\n" METHOD "\n" PATH_WITH_QUERY "\n" hex(BLAKE2b-256(body)) "\n"
 *   TIME "\n" NONCE "\n" DEVICE "\n"
 *
 * PATH_WITH_QUERY is the request target exactly as sent on the request line
 * (e.g. "/v1/workspaces/…/batches?since=0&limit=100"); a request without a body
 * hashes the empty string. */

#define SYNC_AUTH_HEADER_DEVICE "X-Supolka-Device"
#define SYNC_AUTH_HEADER_TIME "X-Supolka-Time"
#define SYNC_AUTH_HEADER_NONCE "X-Supolka-Nonce"
#define SYNC_AUTH_HEADER_SIGNATURE "X-Supolka-Signature"
#define SYNC_AUTH_NONCE_LEN 16
#define SYNC_AUTH_NONCE_HEX_LEN 32
#define SYNC_AUTH_SIGNATURE_LEN 64
#define SYNC_AUTH_SIGNATURE_B64_LEN 88
#define SYNC_AUTH_MAX_PATH 2048
#define SYNC_AUTH_PUBLIC_KEY_LEN 32
#define SYNC_AUTH_SECRET_KEY_LEN 64

/* The four headers of a request, parsed. */
typedef struct
{
  char device[SYNC_ID_HEX_LEN + 1];
  gint64 time;
  char nonce[SYNC_AUTH_NONCE_HEX_LEN + 1];
  guint8 signature[SYNC_AUTH_SIGNATURE_LEN];
} SyncAuthHeaders;

/* Parses the four header values strictly (any may be NULL: that is an error):
 * lengths, lowercase hex, a plain decimal time in [0, 2^62), canonical base64. */
gboolean sync_auth_parse_headers (const char *device, const char *time, const char *nonce,
                                  const char *sig_b64, SyncAuthHeaders *out, GError **error);

/* The canonical string above, or NULL (with @error) if a part is not well formed:
 * METHOD must be 1–16 uppercase ASCII letters, PATH_WITH_QUERY must start with
 * '/', hold only printable ASCII without spaces and be at most 2 KiB long. */
char *sync_auth_canonical (const char *method, const char *path_with_query, const guint8 *body,
                           gsize body_len, gint64 time, const char *nonce, const char *device,
                           GError **error);

/* Writes a fresh random nonce (32 lowercase hex and a NUL) into @nonce. */
void sync_auth_new_nonce (char nonce[SYNC_AUTH_NONCE_HEX_LEN + 1]);

/* Signs the canonical string with the device's auth secret key; *sig_b64 is the
 * value of X-Supolka-Signature. */
gboolean sync_auth_sign (const guint8 sk[SYNC_AUTH_SECRET_KEY_LEN], const char *method,
                         const char *path_with_query, const guint8 *body, gsize body_len,
                         gint64 time, const char *nonce, const char *device, char **sig_b64,
                         GError **error);

/* Verifies a request from the raw header values. Every header is parsed strictly
 * first (SYNC_PROTOCOL_ERROR_MALFORMED); a well-formed request whose signature
 * does not verify under @pk fails with SYNC_PROTOCOL_ERROR_SIGNATURE. Freshness
 * (time window, nonce reuse) is the caller's business. */
gboolean sync_auth_verify (const guint8 pk[SYNC_AUTH_PUBLIC_KEY_LEN], const char *method,
                           const char *path_with_query, const guint8 *body, gsize body_len,
                           const char *time, const char *nonce, const char *device,
                           const char *sig_b64, GError **error);

/* ---- Batch envelope ------------------------------------------------------------
 * Binary, integers little-endian. Offsets in bytes:
 *
 *     0  magic "SPLB"                 4
 *     4  version (= 1)                1
 *     5  reserved, must be zero       3
 *     8  workspace id (raw)          16
 *    24  device id (raw)             16
 *    40  epoch            u32         4
 *    44  seq              u64         8   (≥ 1)
 *    52  prev_hash                   32
 *    84  log_head                    32
 *   116  commitment                  32
 *   ---- header: 148 bytes (everything before the nonce) ----
 *   148  nonce                       24
 *   172  ct_len           u32         4   (≤ 4 MiB)
 *   176  ciphertext              ct_len
 *   176 + ct_len  signature          64
 *
 *   total length = 148 + 24 + 4 + ct_len + 64 = 240 + ct_len, exactly.
 *
 * The signature is Ed25519, by the device's identity (signing) key, over
 * BLAKE2b-512 of every byte before it (header, nonce, ct_len, ciphertext) — the
 * same bytes as sync/client/sync-batch.c writes (docs/PROTOCOL.md). The relay
 * reads the header only and checks none of the cryptography; clients do.
 *
 * (The header is 148 bytes: the field list above adds up to 148, which is also
 * what docs/PROTOCOL.md and the client use; an early note said 164.) */

#define SYNC_ENVELOPE_MAGIC "SPLB"
#define SYNC_ENVELOPE_VERSION 1
#define SYNC_ENVELOPE_HEADER_LEN 148
#define SYNC_ENVELOPE_NONCE_OFFSET 148
#define SYNC_ENVELOPE_NONCE_LEN 24
#define SYNC_ENVELOPE_CT_LEN_OFFSET 172
#define SYNC_ENVELOPE_CT_OFFSET 176
#define SYNC_ENVELOPE_SIGNATURE_LEN 64
#define SYNC_ENVELOPE_OVERHEAD (SYNC_ENVELOPE_CT_OFFSET + SYNC_ENVELOPE_SIGNATURE_LEN)
#define SYNC_ENVELOPE_MAX_CT (4u * 1024u * 1024u)
#define SYNC_ENVELOPE_MAX_LEN (SYNC_ENVELOPE_OVERHEAD + SYNC_ENVELOPE_MAX_CT)

typedef struct
{
  guint8 version;
  guint8 workspace[SYNC_ID_LEN];
  guint8 device[SYNC_ID_LEN];
  guint32 epoch;
  guint64 seq;
  guint8 prev_hash[SYNC_HASH_LEN];
  guint8 log_head[SYNC_HASH_LEN];
  guint8 commitment[SYNC_HASH_LEN];
  guint8 nonce[SYNC_ENVELOPE_NONCE_LEN];
  guint32 ct_len;
} SyncEnvelopeHeader;

/* Checks magic, version, the zero bytes, seq ≥ 1, ct_len ≤ 4 MiB and that
 * @len == 240 + ct_len exactly, then fills @out. */
gboolean sync_envelope_parse_header (const guint8 *data, gsize len, SyncEnvelopeHeader *out,
                                     GError **error);

/* BLAKE2b-256 of the whole envelope (signature included). */
void sync_envelope_hash (const guint8 *data, gsize len, guint8 out[SYNC_HASH_LEN]);

/* Frames an already encrypted batch: @header's fields (its version and ct_len are
 * ignored: version 1 and @ct_len are written), @ciphertext, and the signature
 * made with the device's Ed25519 identity secret key @sign_sk. Sealing (key
 * derivation, commitment, AEAD) is the client's job (sync_batch_seal); this is
 * for tests and tools that need a well-formed envelope around given bytes. */
GBytes *sync_envelope_build (const SyncEnvelopeHeader *header, const guint8 *ciphertext,
                             gsize ct_len, const guint8 sign_sk[64], GError **error);

/* Parses the header and checks the signature under @sign_pk. */
gboolean sync_envelope_verify (const guint8 *data, gsize len, const guint8 sign_pk[32],
                               SyncEnvelopeHeader *out, GError **error);

/* ---- Workspace snapshot ----------------------------------------------------------
 * Every change an admin's vault holds, sealed under the epoch key and signed
 * (docs/PROTOCOL.md). The relay stores it without reading it; the client writes
 * and reads it with the functions below, so neither side handles raw offsets.
 *
 *    0  magic "SPLS"     4 | 4 version 1, 3 zero | 8 workspace 16 | 24 device 16
 *   40  epoch u32        4 | 44 cursor u64  8    | 52 log_head 32 | 84 commitment 32
 *  116  nonce           24 | 140 ct_len u64 8    | 148 ciphertext | signature 64
 *
 * Integers little-endian. The header (bytes 0–147) is the AEAD's associated
 * data; the signature (Ed25519 by the admin named in "device") is over
 * BLAKE2b-512 of every byte before it. The snapshot key is derived from bytes
 * 8–51 (workspace, device, epoch, cursor). */

#define SYNC_SNAPSHOT_MAGIC "SPLS"
#define SYNC_SNAPSHOT_VERSION 1
#define SYNC_SNAPSHOT_HEADER_LEN 148
#define SYNC_SNAPSHOT_NONCE_LEN 24
#define SYNC_SNAPSHOT_TAG_LEN 16 /* XChaCha20-Poly1305 */
#define SYNC_SNAPSHOT_SIGNATURE_LEN 64
#define SYNC_SNAPSHOT_KEY_CONTEXT_OFFSET 8
#define SYNC_SNAPSHOT_KEY_CONTEXT_LEN 44
#define SYNC_SNAPSHOT_MAX_LEN (600u * 1024u * 1024u)

typedef struct
{
  guint8 workspace[SYNC_ID_LEN];
  guint8 device[SYNC_ID_LEN]; /* the admin who signed it */
  guint32 epoch;
  guint64 cursor; /* the relay cursor its changes reach */
  guint8 log_head[SYNC_HASH_LEN];
  guint8 commitment[SYNC_HASH_LEN];
  guint8 nonce[SYNC_SNAPSHOT_NONCE_LEN];
  guint64 ct_len; /* ciphertext with its tag */
} SyncSnapshotHeader;

/* Checks magic, version, the zero bytes, ct_len ≥ the tag, @len ≤ 600 MiB and
 * @len == 148 + ct_len + 64 exactly, then fills @out. Checks no cryptography. */
gboolean sync_snapshot_parse_header (const guint8 *data, gsize len, SyncSnapshotHeader *out,
                                     GError **error);

/* Writes @header's 148 bytes (version 1) to @out: the associated data to
 * encrypt with, and the first bytes of the snapshot. */
void sync_snapshot_write_header (const SyncSnapshotHeader *header,
                                 guint8 out[SYNC_SNAPSHOT_HEADER_LEN]);

/* The whole length of a snapshot whose ciphertext (tag included) is @ct_len. */
gsize sync_snapshot_total_len (guint64 ct_len);

/* Signs a snapshot of @len bytes in place: its last 64 bytes get the signature
 * over the bytes before them. */
void sync_snapshot_sign (guint8 *data, gsize len, const guint8 sign_sk[64]);

/* TRUE if the last 64 bytes of @data are @sign_pk's signature over the rest. */
gboolean sync_snapshot_signature_ok (const guint8 *data, gsize len, const guint8 sign_pk[32]);

G_END_DECLS
