/* supolka-core.h — the public face of libsupolka-core.
 *
 * The vault (SQLCipher store + wrapped key file), the data model, the change log
 * and its merge rule, search, CSV import/export and statistics. No GTK here.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define SP_CORE_ERROR (sp_core_error_quark ())

typedef enum
{
  SP_CORE_ERROR_FAILED,
  SP_CORE_ERROR_WRONG_PASSPHRASE, /* no key slot opened with this passphrase */
  SP_CORE_ERROR_LOCKED,           /* the vault is closed */
  SP_CORE_ERROR_NOT_FOUND,        /* no such record, or no vault in that folder */
  SP_CORE_ERROR_INVALID,          /* input failed validation; the message names field and value */
  SP_CORE_ERROR_CORRUPT,          /* a file is truncated, tampered with or not ours */
  SP_CORE_ERROR_EXISTS,           /* a vault is already there */
  SP_CORE_ERROR_IO,               /* the operating system refused */
  SP_CORE_ERROR_TOO_NEW,          /* made by a newer Supolka */
} SpCoreError;

GQuark sp_core_error_quark (void);

/* Call once at program start, before anything else: initialises libsodium,
 * disables core dumps (RLIMIT_CORE=0, PR_SET_DUMPABLE=0). Returns FALSE if the
 * process cannot be made safe (libsodium failed to initialise). */
gboolean sp_core_init (GError **error);

/* Writes a plaintext file the user asked for (an export) at @path, mode
 * 0600, all or nothing: the data goes to an unnamed file (O_TMPFILE) that
 * gets its name only when complete, so a killed process leaves no named
 * partial file (sp-file.c says what the fallback leaves on file systems
 * without O_TMPFILE). An existing file or link at @path is replaced. */
gboolean sp_file_write_private (const char *path, const void *data, gsize len, GError **error);

/* Call at the start of main, once LANGUAGE is final: sets the locale from the
 * environment and binds the "supolka" text domain (UTF-8) to the catalogues of
 * the build tree when this executable is the one built there, else to the
 * installed LOCALEDIR. In its own small library (GLib only), so the relay can
 * call it without linking the rest of core. */
void sp_i18n_init (void);

/* ---- Secure memory --------------------------------------------------------
 * Secrets (passphrases, keys) live in sodium_malloc memory: guarded pages,
 * locked where the OS allows, wiped on free. */
typedef struct _SpSecret SpSecret;

SpSecret *sp_secret_new (gsize len);
SpSecret *sp_secret_new_from_data (const void *data, gsize len);
guint8 *sp_secret_data (SpSecret *secret);
gsize sp_secret_len (const SpSecret *secret);
void sp_secret_free (SpSecret *secret);
/* Reads one line (without the newline) from fd into secure memory. At most
 * 1024 bytes; a longer line is an error. */
SpSecret *sp_secret_read_line_fd (int fd, GError **error);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpSecret, sp_secret_free)

/* ---- Vault ---------------------------------------------------------------- */

typedef enum
{
  SP_KDF_INTERACTIVE = 1, /* tests and benchmarks only */
  SP_KDF_MODERATE = 2,    /* the default */
  SP_KDF_SENSITIVE = 3,
} SpKdfProfile;

const char *sp_kdf_profile_to_string (SpKdfProfile profile);
gboolean sp_kdf_profile_from_string (const char *s, SpKdfProfile *out);

typedef struct _SpVault SpVault;

/* The folder used when none is given: $SUPOLKA_VAULT, else $XDG_DATA_HOME/supolka. */
char *sp_vault_default_dir (void);
gboolean sp_vault_exists (const char *dir);

SpVault *sp_vault_create (const char *dir, SpSecret *passphrase, SpKdfProfile profile,
                          GError **error);
SpVault *sp_vault_open (const char *dir, SpSecret *passphrase, GError **error);
/* Closes the database and wipes every key. Safe with NULL. */
void sp_vault_close (SpVault *vault);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpVault, sp_vault_close)

/* Rewraps the master key under a new passphrase; the database is not touched. */
gboolean sp_vault_change_passphrase (SpVault *vault, SpSecret *new_passphrase, SpKdfProfile profile,
                                     GError **error);

/* The KDF profile the passphrase is wrapped with now. */
SpKdfProfile sp_vault_get_kdf_profile (SpVault *vault);

/* Reads every page (SQLCipher checks each page's HMAC) and SQLite's own
 * structure. Slow on big vaults: not done at open. */
gboolean sp_vault_check (SpVault *vault, GError **error);

const char *sp_vault_get_dir (SpVault *vault);
const char *sp_vault_get_device_id (SpVault *vault);
int sp_vault_get_schema_version (SpVault *vault);
int sp_vault_schema_version_latest (void);

/* Explicit transactions group several writes into one change-log transaction
 * (they will travel as one sync batch). Writes outside one get their own. */
gboolean sp_vault_begin (SpVault *vault, GError **error);
gboolean sp_vault_commit (SpVault *vault, GError **error);
void sp_vault_rollback (SpVault *vault);
/* Inside an explicit transaction: a part that can be undone alone (a sync
 * batch in a page of them). Not nested. */
gboolean sp_vault_savepoint (SpVault *vault, GError **error);
gboolean sp_vault_release (SpVault *vault, GError **error);
void sp_vault_rollback_to_savepoint (SpVault *vault);

/* ---- Seized-device defences (docs/SECURITY.md) ----------------------------
 * None of these asks for confirmation: the caller decides. */

/* Destroys the vault in dir at once, open or closed: vault.key is overwritten
 * in place with random bytes, flushed and unlinked (the master key is gone:
 * cryptographic erasure), then vault.db and its WAL are removed, and the folder
 * if nothing else is left in it. An open SpVault on that folder should be
 * closed right after. SP_CORE_ERROR_NOT_FOUND when there was nothing to wipe. */
gboolean sp_vault_panic (const char *dir, GError **error);

/* Seals a new random decoy key under duress_passphrase in the key file's second
 * slot (replacing any earlier duress passphrase). Unlocking with it later —
 * sp_vault_open(), same time as a normal unlock — destroys the real vault and
 * opens an empty one whose only passphrase is the duress passphrase. Refuses
 * (SP_CORE_ERROR_INVALID) the vault's own passphrase. */
gboolean sp_vault_set_duress (SpVault *vault, SpSecret *duress_passphrase, GError **error);
/* Fills the second slot with random bytes again (whether or not it held a
 * duress passphrase: nothing records that). */
gboolean sp_vault_clear_duress (SpVault *vault, GError **error);

/* Writes an encrypted backup of the whole vault to path (replaced atomically):
 * Argon2id (profile) under backup_passphrase, then
 * crypto_secretstream_xchacha20poly1305. One consistent snapshot; no plaintext
 * touches the disk. Fails inside an explicit transaction. */
gboolean sp_vault_backup (SpVault *vault, const char *path, SpSecret *backup_passphrase,
                          SpKdfProfile profile, GError **error);
/* Restores a backup into dir. The vault gets vault_passphrase (NULL: the
 * backup's passphrase) with profile. The backup is read and verified
 * completely into a new folder beside dir before anything at dir changes; a
 * wrong passphrase (SP_CORE_ERROR_WRONG_PASSPHRASE), a tampered or truncated
 * file (SP_CORE_ERROR_CORRUPT) leave dir untouched. An existing vault at dir is
 * refused (SP_CORE_ERROR_EXISTS) unless replace is TRUE; then it is destroyed as
 * by sp_vault_panic() once the new one is in place. */
gboolean sp_vault_restore (const char *backup_path, SpSecret *backup_passphrase, const char *dir,
                           SpSecret *vault_passphrase, SpKdfProfile profile, gboolean replace,
                           GError **error);

/* ---- Data model ----------------------------------------------------------- */

typedef enum
{
  SP_FIELD_TEXT,
  SP_FIELD_LONG_TEXT, /* notes, descriptions */
  SP_FIELD_ENUM,
  SP_FIELD_DATE,    /* ISO 8601: YYYY, YYYY-MM or YYYY-MM-DD */
  SP_FIELD_INT,     /* non-negative integer */
  SP_FIELD_TAGS,    /* a set of free tags, "a, b" */
  SP_FIELD_REGIONS, /* a set of region codes */
  SP_FIELD_REF,     /* the id of a record of kind ref_kind (or one of ref_kinds) */
  SP_FIELD_EMAIL,
  SP_FIELD_PHONE,
  SP_FIELD_URL,
} SpFieldType;

typedef struct
{
  const char *name;
  SpFieldType type;
  const char *const *values; /* allowed values for ENUM (NULL-terminated) */
  const char *ref_kind;      /* REF: kind of the referenced record */
  guint required : 1;
  guint searchable : 1; /* part of the full-text index */
  guint sensitive : 1;  /* personal contact data */
} SpFieldInfo;

typedef struct
{
  const char *name; /* "org", "person", ... */
  const SpFieldInfo *fields;
  guint n_fields;
  const char *title_field; /* shown as the record's name */
} SpKindInfo;

/* NULL-terminated list of all kinds, in a stable order. */
/* TRUE for a record or device id: 32 lowercase hexadecimal characters. */
gboolean sp_id_is_valid (const char *id);

const SpKindInfo *const *sp_kinds (void);
const SpKindInfo *sp_kind_lookup (const char *name);
const SpFieldInfo *sp_kind_field (const SpKindInfo *kind, const char *field);
const char *const *sp_regions (void);

typedef struct
{
  const char *field;
  const char *value; /* NULL or "" clears the field */
} SpFieldValue;

typedef struct _SpRecord SpRecord;

SpRecord *sp_record_ref (SpRecord *record);
void sp_record_unref (SpRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpRecord, sp_record_unref)
const char *sp_record_get_id (const SpRecord *record);
const char *sp_record_get_kind (const SpRecord *record);
/* The current value of a field, or NULL when empty. */
const char *sp_record_get (const SpRecord *record, const char *field);
const char *sp_record_get_created (const SpRecord *record); /* ISO 8601 UTC */
guint64 sp_record_get_updated (const SpRecord *record);     /* HLC */
gboolean sp_record_is_deleted (const SpRecord *record);
/* TRUE when some field holds an unresolved conflict. */
gboolean sp_record_has_conflicts (const SpRecord *record);
/* The display title (pseudonym for high-sensitivity people). */
const char *sp_record_get_title (const SpRecord *record);

/* Validates and normalises one value for a field. Returns the canonical form
 * (for example sorted, de-duplicated tags) or NULL with SP_CORE_ERROR_INVALID
 * naming the field and the value. */
char *sp_field_normalize (const SpKindInfo *kind, const SpFieldInfo *field, const char *value,
                          GError **error);

/* Creates a record; returns its id (32 hex chars). */
char *sp_vault_insert (SpVault *vault, const char *kind, const SpFieldValue *values, gsize n_values,
                       GError **error);
gboolean sp_vault_update (SpVault *vault, const char *id, const SpFieldValue *values,
                          gsize n_values, GError **error);
gboolean sp_vault_delete (SpVault *vault, const char *id, GError **error);
gboolean sp_vault_undelete (SpVault *vault, const char *id, GError **error);
SpRecord *sp_vault_get (SpVault *vault, const char *id, GError **error);

typedef struct
{
  const char *region;
  const char *status;
  const char *kind; /* the record's own "kind" field (org kind, event kind) */
  const char *tag;
  const char *search; /* full-text prefix query, folded */
  gboolean include_deleted;
  guint limit; /* 0 = no limit */
  /* Every compartment unless in_compartment is set; then only the records of
   * compartment (its local id, 0 = main; -1 = any). A flag rather than
   * "compartment = -1 means any": every zero-initialised filter keeps
   * listing everything. */
  gboolean in_compartment;
  gint64 compartment;
} SpFilter;

/* Records of one kind, ordered by title. */
GPtrArray *sp_vault_list (SpVault *vault, const char *kind, const SpFilter *filter, GError **error);
/* Full-text search over every kind (kind NULL) or one. Each query word is a
 * prefix; Cyrillic and Latin spellings fold together. Ordered by title. */
GPtrArray *sp_vault_search (SpVault *vault, const char *text, const char *kind, guint limit,
                            GError **error);
typedef enum
{
  SP_SORT_TITLE = 0,   /* by title, case-insensitively, then id */
  SP_SORT_UPDATED = 1, /* most recently written first */
} SpSortOrder;

/* The ids (char *) of the records sp_vault_list() would return, without
 * building the records: for list models that build rows on demand. */
GPtrArray *sp_vault_list_ids (SpVault *vault, const char *kind, const SpFilter *filter,
                              SpSortOrder sort, GError **error);
/* Records (not deleted) of kind (NULL: any) with a reference field pointing at
 * id: a person's affiliations, an event's participations, a record's notes.
 * Ordered by title. */
GPtrArray *sp_vault_list_referencing (SpVault *vault, const char *id, const char *kind,
                                      GError **error);
/* Counts matching rows without building records. */
gint64 sp_vault_count (SpVault *vault, const char *kind, const SpFilter *filter, GError **error);

/* ---- Search folding ------------------------------------------------------- */

/* Folds Belarusian and Russian Cyrillic, Łacinka and Latin transliterations to
 * one search skeleton, so "minsk", "мінск", "минск" and "МІНСК" agree. */
char *sp_fold (const char *text);

/* ---- Change log and merge ------------------------------------------------- */

/* One field write. The unit that sync carries. */
typedef struct
{
  char *record;     /* record id */
  char *kind;       /* record kind */
  char *field;      /* field name, or "_cl" for the causal length (existence) */
  char *value;      /* NULL when cleared */
  guint64 hlc;      /* 48 bits ms, 16 bits counter */
  char *device;     /* writer's device id */
  char *supersedes; /* space-separated "HLC@DEVICE" of the versions the writer had */
  gint64 tx;        /* local transaction number on the writing device */
  gint64 seq;       /* sp_vault_local_changes only: local change-log sequence */
  /* Filled when read from the log (sp_vault_local_changes, sp_vault_all_changes,
   * sp_vault_record_changes); ignored when applied. */
  gint64 comp; /* the record's local compartment now; -1 if unknown */
  /* For a "_comp" change (a move): the compartment the record was in before
   * it — the value of the record's previous "_comp" change, else main (0);
   * -1 when that compartment is not held here. For the "_comp" change that a
   * record created outside main writes in its creating transaction (not a
   * move): its own compartment. For every other change: comp. */
  gint64 from_comp;
} SpChange;

void sp_change_free (SpChange *change);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpChange, sp_change_free)

/* This device's own changes with local sequence > after_seq, whole
 * transactions only; *last_seq gets the highest sequence returned. */
GPtrArray *sp_vault_local_changes (SpVault *vault, gint64 after_seq, gint64 *last_seq,
                                   GError **error);
/* Applies changes from other devices in one transaction: idempotent, and the
 * result does not depend on arrival order. */
gboolean sp_vault_apply_changes (SpVault *vault, GPtrArray *changes, GError **error);

typedef struct
{
  gint64 id;
  char *record;
  char *kind;
  char *field;
  char *winner_value;
  guint64 winner_hlc;
  char *winner_device;
  char *other_value;
  guint64 other_hlc;
  char *other_device;
} SpConflict;

void sp_conflict_free (SpConflict *conflict);
GPtrArray *sp_vault_conflicts (SpVault *vault, const char *record, GError **error);
/* Keeps value for record.field: a new local write that supersedes every
 * concurrent version, which ends the conflict everywhere once synced. */
gboolean sp_vault_resolve_conflict (SpVault *vault, const char *record, const char *field,
                                    const char *value, GError **error);

/* HLC helpers */
guint64 sp_hlc_pack (guint64 ms, guint16 counter);
guint64 sp_hlc_ms (guint64 hlc);
guint16 sp_hlc_counter (guint64 hlc);

/* ---- Compartments (docs/COMPARTMENTS.md) -----------------------------------
 * Every record belongs to exactly one compartment. `main` (local id 0, uid "")
 * is held by every device; any other compartment held here has a local id, a
 * name (seen only by its holders) and a uid, the global cid (32 lowercase hex
 * characters). A record's compartment is the internal field "_comp" of the
 * change log (value: the cid, empty for main): not a user field, not settable
 * through sp_vault_update(), not a CSV column. */

typedef struct
{
  gint64 id;      /* local number, 0 = main */
  char *name;     /* "main" for main */
  char *uid;      /* the cid; "" for main */
  gint64 records; /* live (not deleted) records */
} SpCompartment;

void sp_compartment_free (SpCompartment *compartment);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpCompartment, sp_compartment_free)

/* The compartments held here, main first, then by local id. */
GPtrArray *sp_vault_compartments (SpVault *vault, GError **error);
/* One held compartment; SP_CORE_ERROR_NOT_FOUND when it is not held. */
SpCompartment *sp_vault_compartment_get (SpVault *vault, gint64 id, GError **error);
/* Adds a compartment; returns its local id, or -1. uid: the cid an admin made
 * (32 lowercase hex characters), or NULL to draw a fresh random one (what the
 * admin creating a compartment does). A name is trimmed of surrounding white
 * space and must then be 1–64 characters of UTF-8, no control characters,
 * unique here ignoring case, and not "main" in any case
 * (SP_CORE_ERROR_INVALID); a uid held already is SP_CORE_ERROR_EXISTS. */
gint64 sp_vault_compartment_add (SpVault *vault, const char *name, const char *uid, GError **error);
/* The local id of the compartment with this name (ignoring case) or uid ("" is
 * main), or -1 with SP_CORE_ERROR_NOT_FOUND. */
gint64 sp_vault_compartment_lookup (SpVault *vault, const char *name, GError **error);
gint64 sp_vault_compartment_lookup_uid (SpVault *vault, const char *uid, GError **error);
/* Renames a compartment (not main); the name rules of _add. */
gboolean sp_vault_compartment_rename (SpVault *vault, gint64 id, const char *name, GError **error);
/* The compartment new records go to (a meta setting; main unless set). */
gint64 sp_vault_get_default_compartment (SpVault *vault);
gboolean sp_vault_set_default_compartment (SpVault *vault, gint64 id, GError **error);

/* As sp_vault_insert(), into compartment comp (held here). A record created
 * outside main writes its "_comp" in the creating transaction. */
char *sp_vault_insert_in (SpVault *vault, const char *kind, gint64 comp, const SpFieldValue *values,
                          gsize n_values, GError **error);
/* The record's local compartment. */
gint64 sp_record_get_compartment (const SpRecord *record);
/* Moves a record (live or deleted) into compartment comp: one "_comp" change
 * in one transaction (or the open one). Moving it where it is already writes
 * nothing. */
gboolean sp_vault_move (SpVault *vault, const char *id, gint64 comp, GError **error);
/* Every change of one record, in local order: what a move re-sends. */
GPtrArray *sp_vault_record_changes (SpVault *vault, const char *id, GError **error);

/* Applies a batch of compartment comp (as sp_vault_apply_changes, which is
 * this with main). A change to a record applies only if the record is new
 * here or in comp; a "_comp" change to a record new here only if the batch
 * also moves the record into comp (a history re-sent with a move). A record
 * held here in another compartment cannot be written, moved or taken by a
 * batch of comp (docs/DATA-MODEL.md, "Compartments"). A change already in the
 * log is a no-op whatever its batch. Any refused change fails the whole call
 * with SP_CORE_ERROR_INVALID and nothing applied. A record whose winning
 * "_comp" names a compartment not held here is purged (its fields, its
 * change log, conflicts and search entry): this device lost access. */
gboolean sp_vault_apply_changes_in (SpVault *vault, GPtrArray *changes, gint64 comp,
                                    GError **error);

/* As sp_vault_apply_changes_in, also admitting this device's own changes:
 * for the sync layer restoring what this device wrote into a compartment it
 * left behind (travel mode). The restored changes get new local sequence
 * numbers; the caller knows they were sent already. */
gboolean sp_vault_restore_own_changes_in (SpVault *vault, GPtrArray *changes, gint64 comp,
                                          GError **error);

/* Removes everything of compartment id (not main) from the vault: its records,
 * fields, change log, conflicts, superseded versions, search index entries
 * (then the index is merged so no old segment keeps their terms) and its row;
 * a default compartment of id falls back to main. Joins an open transaction.
 * The sync state is the sync layer's to remove. The bytes are only gone from
 * the files after sp_vault_compact(). */
gboolean sp_vault_compartment_purge (SpVault *vault, gint64 id, GError **error);
/* FTS4 optimize, VACUUM (every page rewritten, the file shrunk; secure_delete
 * is on) and a truncating WAL checkpoint, so no freed page and no old WAL
 * frame survives in vault.db or vault.db-wal: after a purge, after a
 * migration to a smaller layout, or after removing many records. Needs free
 * memory and disk of about the database's size. Refused inside a
 * transaction (SP_CORE_ERROR_INVALID). */
gboolean sp_vault_compact (SpVault *vault, GError **error);

/* ---- Sync state -----------------------------------------------------------
 * A small key/value store inside the vault for the sync library: workspace,
 * device keys, epoch keys, device chains, the relay cursor. Values are opaque
 * here. Keys are printable ASCII, at most 200 bytes; values at most 16 MiB. */

/* The value, or NULL with no error when the key is absent. */
GBytes *sp_vault_sync_get (SpVault *vault, const char *key, GError **error);
/* The same, copied straight into secure memory (for private keys). */
SpSecret *sp_vault_sync_get_secret (SpVault *vault, const char *key, GError **error);
/* Stores @data (replacing any old value); @data NULL deletes the key. Joins the
 * current transaction when one is open. */
gboolean sp_vault_sync_set (SpVault *vault, const char *key, const void *data, gsize len,
                            GError **error);
gboolean sp_vault_sync_set_string (SpVault *vault, const char *key, const char *value,
                                   GError **error);
/* The value as a NUL-terminated string, or NULL when absent. */
char *sp_vault_sync_get_string (SpVault *vault, const char *key, GError **error);
/* Keys starting with @prefix, sorted. */
GPtrArray *sp_vault_sync_keys (SpVault *vault, const char *prefix, GError **error);
/* Every change in the log, from every device, in local order (for snapshots). */
GPtrArray *sp_vault_all_changes (SpVault *vault, GError **error);
/* The number of this device's own changes with local sequence > after_seq. */
gint64 sp_vault_count_local_changes (SpVault *vault, gint64 after_seq, GError **error);

/* ---- CSV ------------------------------------------------------------------ */

typedef struct
{
  guint line; /* 1-based line in the file where the row starts */
  char *field;
  char *value;
  char *message;
} SpImportError;

typedef struct
{
  guint rows;        /* data rows read */
  guint imported;    /* rows written (0 on dry run or failure) */
  GPtrArray *errors; /* of SpImportError */
  char *encoding;    /* "UTF-8", "UTF-16" or "WINDOWS-1251"; "" when the file was
                      * refused before its encoding was settled */
  char delimiter;
} SpImportReport;

void sp_import_report_free (SpImportReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SpImportReport, sp_import_report_free)

/* The largest CSV file import reads. */
#define SP_CSV_MAX_BYTES (G_GINT64_CONSTANT (1024) * 1024 * 1024)

typedef enum
{
  SP_CSV_ENCODING_AUTO, /* a BOM, else UTF-8, else Windows-1251 if it reads as Cyrillic text */
  SP_CSV_ENCODING_UTF8,
  SP_CSV_ENCODING_UTF16, /* the BOM says the byte order; little-endian without one */
  SP_CSV_ENCODING_WINDOWS_1251,
} SpCsvEncoding;

/* "utf-8"/"utf8", "utf-16"/"utf16", "windows-1251"/"cp1251", any case. */
gboolean sp_csv_encoding_from_string (const char *name, SpCsvEncoding *out);
/* "UTF-8", "UTF-16", "WINDOWS-1251" ("" for AUTO). */
const char *sp_csv_encoding_name (SpCsvEncoding encoding);

/* All or nothing: if any row is invalid nothing is written and the function
 * returns FALSE with SP_CORE_ERROR_INVALID; report lists every bad row.
 * Streams: in (seekable, read twice: once to check every row, once to write
 * them in one transaction) is never held in memory whole, and memory stays
 * bounded whatever its size (up to SP_CSV_MAX_BYTES). If in changes between
 * the two readings nothing is written. */
gboolean sp_vault_import_csv_stream (SpVault *vault, const char *kind, GInputStream *in,
                                     SpCsvEncoding encoding, gboolean dry_run,
                                     SpImportReport **report, GError **error);
/* The same for a file already in memory, its encoding chosen (AUTO). */
gboolean sp_vault_import_csv (SpVault *vault, const char *kind, const char *data, gsize len,
                              gboolean dry_run, SpImportReport **report, GError **error);
/* UTF-8 CSV (comma, RFC 4180 quoting), header = field names, first column id. */
GBytes *sp_vault_export_csv (SpVault *vault, const char *kind, GError **error);

/* ---- Statistics ----------------------------------------------------------- */

typedef struct
{
  char *group; /* "orgs_by_region", "orgs_by_status", "orgs_by_kind",
                  "projects_by_status", "events_by_kind_year" */
  char *key;   /* e.g. "minsk_city", or "training/2024" */
  gint64 count;
  gint64 participants; /* events only: sum of declared_participants */
  gint64 linked;       /* events only: participation records */
} SpStat;

void sp_stat_free (SpStat *stat);
GPtrArray *sp_vault_stats (SpVault *vault, GError **error);
/* The same figures for a period, from and to "YYYY-MM-DD", both included,
 * either NULL for open (both NULL: sp_vault_stats). Organisations count when
 * they were in the network by the period's end (member_since, else the day
 * the record was added); projects when they ran during it (start_date, else
 * the day added, to end_date); events when their start_date is in it (a
 * partial date when the month or year it names overlaps it; an event without
 * a date only when the period is open). SP_CORE_ERROR_INVALID for a date not
 * of that form or a period that ends before it starts. */
GPtrArray *sp_vault_stats_period (SpVault *vault, const char *from, const char *to, GError **error);
/* The figures of sp_vault_stats as UTF-8 CSV (BOM, comma, RFC 4180 quoting by
 * libcsv, CRLF), one row per SpStat under the header
 * group,key,count,declared_participants,participation_records; the last two
 * are empty outside events_by_kind_year. */
GBytes *sp_stats_to_csv (GPtrArray *stats);

G_END_DECLS
