/* Private to libsupolka-core. SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <sqlite3.h>

#include "supolka-core.h"

#define SP_MASTER_KEY_BYTES 32
#define SP_PAGE_SIZE 4096
#define SP_ID_HEX_LEN 32
#define SP_MAX_VALUE_BYTES (64 * 1024)
#define SP_MAX_TEXT_CHARS 1000
/* Clocks and causal lengths from peers are bounded so that our own next
 * tick can never overflow (SQLite integers are signed 64-bit). */
#define SP_HLC_MAX_MS ((G_GUINT64_CONSTANT (1) << 47) - 2)
#define SP_HLC_MAX ((SP_HLC_MAX_MS << 16) | 0xFFFF)
#define SP_CL_MAX G_MAXINT32
#define SP_MAX_CLOCK_AHEAD_MS (G_GUINT64_CONSTANT (24) * 3600 * 1000)

typedef struct _SpRankCache SpRankCache;

struct _SpVault
{
  char *dir;
  sqlite3 *db;
  SpSecret *master_key;
  char device_id[SP_ID_HEX_LEN + 1];
  guint64 hlc_last;
  gint64 next_tx;
  gint64 current_tx; /* 0 outside a transaction */
  gboolean explicit_tx;
  int schema_version;
  GHashTable *stmts;        /* SQL text pointer -> cached sqlite3_stmt */
  GArray *search_dirty;     /* rowids (gint64) to re-index at commit (sp-search.c) */
  SpRankCache *search_rank; /* title order by rowid (sp-search.c) */
  gboolean restoring_own;   /* sp_vault_restore_own_changes_in: own changes admitted */
};

/* sp-error.c */
gboolean sp_sqlite_error (sqlite3 *db, int rc, GError **error);
gboolean sp_exec (SpVault *vault, const char *sql, GError **error);
sqlite3_stmt *sp_prepare (SpVault *vault, const char *sql, GError **error);
/* A cached statement for a static SQL string, reset and unbound; owned by the
 * vault (do not finalize). */
sqlite3_stmt *sp_stmt (SpVault *vault, const char *sql, GError **error);
gboolean sp_step_done (SpVault *vault, sqlite3_stmt *stmt, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)
char *sp_random_id (void);
gboolean sp_is_hex_id (const char *s);

/* sp-keyfile.c: the small header that wraps the master key. */
typedef enum
{
  SP_SLOT_NONE = -1,
  SP_SLOT_MAIN = 0,
  SP_SLOT_DURESS = 1,
} SpKeySlot;

#define SP_KEYFILE_SIZE 264
/* Shape checks only (no KDF): also the fuzzing entry point. */
gboolean sp_keyfile_parse (const char *path, const guint8 *contents, gsize len,
                           guint8 file[SP_KEYFILE_SIZE], GError **error);
gboolean sp_keyfile_create (const char *path, SpSecret *passphrase, SpKdfProfile profile,
                            SpSecret *master_key, GError **error);
/* Tries every slot (always both, so timing never says which matched). */
SpSecret *sp_keyfile_unwrap (const char *path, SpSecret *passphrase, SpKeySlot *slot_out,
                             GError **error);
gboolean sp_keyfile_get_profile (const char *path, SpKeySlot slot, SpKdfProfile *profile,
                                 GError **error);
gboolean sp_keyfile_rewrap (const char *path, SpKeySlot slot, SpSecret *passphrase,
                            SpKdfProfile profile, SpSecret *master_key, GError **error);
gboolean sp_kdf_profile_limits (SpKdfProfile profile, guint64 *opslimit, gsize *memlimit);
/* As sp_keyfile_unwrap, and also hands back the key derived for the slot that
 * opened and the file's bytes (both optional): what moving the duress slot to
 * slot 0 needs without another KDF run. */
SpSecret *sp_keyfile_unwrap_full (const char *path, SpSecret *passphrase, SpKeySlot *slot_out,
                                  SpSecret **slot_key_out, guint8 file_out[SP_KEYFILE_SIZE],
                                  GError **error);
/* Seals decoy_master in slot 1 under duress_passphrase with slot 0's limits;
 * both NULL: slot 1 becomes random bytes again. Refuses a passphrase that
 * opens slot 0. */
gboolean sp_keyfile_set_duress (const char *path, SpSecret *duress_passphrase,
                                SpSecret *decoy_master, GError **error);
/* Writes a new key file: slot 0 = old slot 1's limits and salt sealing
 * master_key under slot_key, slot 1 random. */
gboolean sp_keyfile_promote_duress (const char *path, const guint8 old_file[SP_KEYFILE_SIZE],
                                    SpSecret *slot_key, SpSecret *master_key, GError **error);

/* sp-panic.c */
/* Destroys the vault's files in dir (key first); remove_dir also removes the
 * folder when it is then empty. */
gboolean sp_vault_wipe_files (const char *dir, gboolean remove_dir, gboolean *found_any,
                              GError **error);
/* The duress passphrase opened slot 1: wipe the real vault, make an empty one
 * under the decoy key, and make the duress passphrase its only passphrase. */
SpVault *sp_vault_duress_takeover (const char *dir, const guint8 file[SP_KEYFILE_SIZE],
                                   SpSecret *slot_key, SpSecret *decoy_master, GError **error);
/* sp-vault.c: a new vault database in dir keyed with master_key (taken), no
 * key file. */
SpVault *sp_vault_create_db_with_key (const char *dir, SpSecret *master_key, int version,
                                      GError **error);
/* Re-reads device id, clock and transaction counter from the database. */
gboolean sp_vault_reload_state (SpVault *vault, GError **error);

/* sp-backup.c: the reader's parts, also the fuzzing entry points. */
#define SP_BACKUP_HEADER_SIZE 76
typedef struct _SpBackupSource SpBackupSource;
struct _SpBackupSource
{
  /* Copies exactly len plaintext bytes to buf, or fails (truncated, tampered). */
  gboolean (*read) (SpBackupSource *src, guint8 *buf, gsize len, GError **error);
};
gboolean sp_backup_parse_header (const guint8 *data, gsize len, guint64 *opslimit,
                                 guint64 *memlimit, GError **error);
/* Reads the payload (after its preamble) into vault's tables; the caller owns
 * the transaction. */
gboolean sp_backup_load_payload (SpVault *vault, SpBackupSource *src, GError **error);
/* Reads the preamble: the schema version the payload was written at. */
gboolean sp_backup_read_preamble (SpBackupSource *src, int *schema_version, GError **error);
gboolean sp_write_file_durably (const char *path, const void *data, gsize len, GError **error);

/* sp-schema.c */
gboolean sp_schema_migrate (SpVault *vault, int target_version, GError **error);
/* For tests: create a vault whose schema stops at an earlier version. */
SpVault *sp_vault_create_at_version (const char *dir, SpSecret *passphrase, SpKdfProfile profile,
                                     int version, GError **error);
sqlite3 *sp_vault_get_db (SpVault *vault);
/* Benchmarks only (tests/bench): the same vault with an unencrypted database. */
SpVault *sp_vault_create_unencrypted_for_bench (const char *dir, GError **error);

/* sp-merge.c */
gboolean sp_merge_apply_local (SpVault *vault, gint64 rowid, const char *id, const char *kind,
                               const char *field, const char *value, guint64 hlc, GError **error);
gboolean sp_merge_apply_remote (SpVault *vault, const SpChange *change, GHashTable *dirty,
                                guint64 *max_hlc, GError **error);

/* sp-records.c */
/* SP_CORE_ERROR_LOCKED when the vault is closed. */
gboolean sp_vault_check_open (SpVault *vault, GError **error);
gboolean sp_vault_hlc_tick (SpVault *vault, guint64 *out, GError **error);
void sp_vault_hlc_observe (SpVault *vault, guint64 remote);
gboolean sp_vault_tx_begin_implicit (SpVault *vault, gboolean *started, GError **error);
gboolean sp_vault_tx_end_implicit (SpVault *vault, gboolean started, gboolean ok, GError **error);
gint64 sp_vault_record_rowid (SpVault *vault, const char *id, char **kind_out, gint64 *cl_out);
gboolean sp_vault_refresh_record (SpVault *vault, gint64 rowid, const char *kind, GError **error);
gboolean sp_vault_set_field_state (SpVault *vault, gint64 rowid, const char *id, const char *field,
                                   GError **error);
SpRecord *sp_record_new_internal (const char *id, const char *kind);
void sp_record_set_internal (SpRecord *record, const char *field, const char *value);
void sp_record_set_meta_internal (SpRecord *record, const char *created, guint64 updated, gint64 cl,
                                  gboolean conflicts);
SpRecord *sp_vault_load_record (SpVault *vault, gint64 rowid, GError **error);

/* sp-model.c */
char *sp_record_compute_title (const char *kind, GHashTable *fields);
gboolean sp_kind_validate_record (const SpKindInfo *kind, GHashTable *fields, GError **error);
char *sp_search_body (const char *kind, GHashTable *fields);

/* sp-compartment.c */
/* The uid of a held compartment ("" for main), or NULL with
 * SP_CORE_ERROR_NOT_FOUND. */
char *sp_compartment_uid (SpVault *vault, gint64 comp, GError **error);
/* Checks a batch of compartment comp against the rules of
 * sp_vault_apply_changes_in() before anything is applied; returns the ids of
 * the records new here (a set), or NULL with SP_CORE_ERROR_INVALID. */
GHashTable *sp_compartment_admit (SpVault *vault, GPtrArray *changes, gint64 comp, GError **error);
/* Records a batch of comp created here start in comp. */
gboolean sp_compartment_place_new (SpVault *vault, GHashTable *fresh, gint64 comp, GError **error);
/* Follows the record's winning "_comp": sets records.comp, or purges the
 * record when that compartment is not held (*purged TRUE). No "_comp":
 * nothing changes. */
gboolean sp_compartment_settle (SpVault *vault, gint64 rowid, gboolean *purged, GError **error);
/* The columns sp_changes_collect() reads, over "changes c" joined with the
 * record: append the WHERE and ORDER BY. */
#define SP_CHANGE_SELECT                                                                           \
  "SELECT c.seq, c.rec, c.kind, c.field, c.value, c.hlc, c.device, c.supersedes, c.tx, "           \
  "coalesce(r.comp, -1), CASE WHEN c.field <> '_comp' THEN coalesce(r.comp, -1) ELSE coalesce("    \
  "(SELECT k.id FROM compartments k WHERE k.uid = coalesce("                                       \
  "(SELECT coalesce(p.value, '') FROM changes p WHERE p.rec = c.rec AND p.field = '_comp' AND "    \
  "(p.hlc < c.hlc OR (p.hlc = c.hlc AND p.device < c.device)) "                                    \
  "ORDER BY p.hlc DESC, p.device DESC LIMIT 1), "                                                  \
  "CASE WHEN EXISTS (SELECT 1 FROM changes q WHERE q.rec = c.rec AND q.field = '_cl' AND "         \
  "q.value = '1' AND q.hlc = c.hlc AND q.device = c.device) THEN coalesce(c.value, '') "           \
  "ELSE '' END)), -1) END FROM changes c LEFT JOIN records r ON r.id = c.rec "
/* Steps st (SP_CHANGE_SELECT …) to the end; *last_seq (optional) gets the
 * last row's seq, and is left alone when there is none. */
GPtrArray *sp_changes_collect (SpVault *vault, sqlite3_stmt *st, gint64 *last_seq, GError **error);

/* sp-search.c */
gboolean sp_search_index_record (SpVault *vault, gint64 rowid, const char *kind, GHashTable *fields,
                                 GError **error);
char *sp_search_match_expr (const char *text);
/* For tests: how many pages the ranked lookup (title order kept in memory)
 * served. */
guint sp_search_get_ranked_count (void);
gboolean sp_search_rebuild (SpVault *vault, GError **error);
/* Inside a transaction sp_search_index_record only notes the record; the
 * index follows at commit (tx_finish calls sp_search_flush) or before a
 * search; a rollback forgets the notes (sp_search_forget). */
gboolean sp_search_flush (SpVault *vault, GError **error);
void sp_search_forget (SpVault *vault);
void sp_search_forget_ranks (SpVault *vault);
