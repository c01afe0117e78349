/* Schema and forward migrations (PRAGMA user_version).
 *
 * Records are stored generically: one row per record in `records`, one row
 * per (record, field) in `fields` holding the winning value and its clock.
 * A new field or a new kind needs no migration and no new sync format; a
 * field a newer peer knows and we do not is kept as it is.
 *
 * Never edit a migration that has shipped: add the next one.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>

#include "sp-vault-private.h"

/* Version 1: the store, the change log, conflicts. */
static const char migration_1[]
    = "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
      "CREATE TABLE records ("
      "  rowid INTEGER PRIMARY KEY,"
      "  id TEXT NOT NULL UNIQUE,"
      "  kind TEXT NOT NULL,"
      "  created TEXT NOT NULL DEFAULT '',"
      "  updated INTEGER NOT NULL DEFAULT 0,"
      "  cl INTEGER NOT NULL DEFAULT 0," /* causal length: odd = exists */
      "  title TEXT NOT NULL DEFAULT '',"
      "  sort_key TEXT NOT NULL DEFAULT '',"
      "  conflicts INTEGER NOT NULL DEFAULT 0);"
      "CREATE INDEX records_kind_sort ON records (kind, sort_key);"
      "CREATE TABLE fields ("
      "  rec INTEGER NOT NULL,"
      "  field TEXT NOT NULL,"
      "  value TEXT," /* NULL: cleared */
      "  hlc INTEGER NOT NULL,"
      "  device TEXT NOT NULL,"
      "  PRIMARY KEY (rec, field)) WITHOUT ROWID;"
      "CREATE INDEX fields_value ON fields (field, value);"
      /* Every change ever written or applied here. seq is local arrival order. */
      "CREATE TABLE changes ("
      "  seq INTEGER PRIMARY KEY,"
      "  rec TEXT NOT NULL,"
      "  kind TEXT NOT NULL,"
      "  field TEXT NOT NULL,"
      "  value TEXT,"
      "  hlc INTEGER NOT NULL,"
      "  device TEXT NOT NULL,"
      "  supersedes TEXT NOT NULL DEFAULT '',"
      "  tx INTEGER NOT NULL,"
      "  UNIQUE (rec, field, hlc, device));"
      "CREATE INDEX changes_device_seq ON changes (device, seq);"
      /* Versions that some later write had seen: no longer concurrent heads. */
      "CREATE TABLE superseded ("
      "  rec TEXT NOT NULL, field TEXT NOT NULL, hlc INTEGER NOT NULL, device TEXT NOT NULL,"
      "  PRIMARY KEY (rec, field, hlc, device)) WITHOUT ROWID;"
      /* Concurrent versions that lost to the winner (a multi-value register). */
      "CREATE TABLE conflicts ("
      "  id INTEGER PRIMARY KEY,"
      "  rec TEXT NOT NULL, field TEXT NOT NULL, value TEXT,"
      "  hlc INTEGER NOT NULL, device TEXT NOT NULL,"
      "  UNIQUE (rec, field, hlc, device));";

/* Version 2: full-text search (FTS4; docid = records.rowid). The body is the
 * folded text of the searchable fields, see sp_fold(). */
static const char migration_2[]
    = "CREATE VIRTUAL TABLE search USING fts4 (body, tokenize=unicode61, prefix=\"1,2,3\");";

/* Version 3: sync state (workspace, device keys, epoch keys, chains, cursor),
 * as opaque values the sync library owns; secrets stay inside the vault. */
static const char migration_3[]
    = "CREATE TABLE sync_state (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;";

/* Version 4: the search skeleton changed (u after a vowel folds to v, as ў):
 * the index is rebuilt from the stored fields. */
static const char migration_4[] = "SELECT 1;";

/* Version 5: covering indexes for the lists (issue #7). A list ordered by
 * title walks an index in order and reads no table row: the live flag (cl)
 * and the id are in the index. records_kind_title replaces
 * records_kind_sort (kind, sort_key), of which it is an extension;
 * records_title serves the lists and searches over every kind. Filters on a
 * field value (status, an org's kind) are served by fields_value (field,
 * value), which already covers rec: fields is WITHOUT ROWID with primary key
 * (rec, field). */
static const char migration_5[]
    = "DROP INDEX IF EXISTS records_kind_sort;"
      "CREATE INDEX records_kind_title ON records (kind, sort_key, id, cl);"
      "CREATE INDEX records_title ON records (sort_key, id, cl, kind);";

/* Version 6: compartments (issue #19). Every record belongs to exactly one;
 * 0 is `main`, which every device of a workspace holds. The name of any other
 * compartment, its keys and its grants live in the sync state: core only
 * keeps the number, so that a compartment's records can be listed, counted
 * and removed together. */
static const char migration_6[]
    = "CREATE TABLE compartments (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
      "INSERT INTO compartments (id, name) VALUES (0, 'main');"
      "ALTER TABLE records ADD COLUMN comp INTEGER NOT NULL DEFAULT 0;"
      "CREATE INDEX records_comp ON records (comp);";

/* Version 7: each compartment's global id (the cid, 32 hex; '' for main),
 * unique among the compartments that have one. A compartment's name stays
 * here, in the vault, where only its holders have it. */
static const char migration_7[]
    = "ALTER TABLE compartments ADD COLUMN uid TEXT NOT NULL DEFAULT '';"
      "CREATE UNIQUE INDEX compartments_uid ON compartments (uid) WHERE uid <> '';";

typedef struct
{
  const char *sql;
  gboolean (*after) (SpVault *vault, GError **error);
} Migration;

static const Migration migrations[] = {
  { migration_1, NULL }, { migration_2, sp_search_rebuild },
  { migration_3, NULL }, { migration_4, sp_search_rebuild },
  { migration_5, NULL }, { migration_6, NULL },
  { migration_7, NULL },
};

int
sp_vault_schema_version_latest (void)
{
  return G_N_ELEMENTS (migrations);
}

static int
read_user_version (SpVault *vault)
{
  g_autoptr (sqlite3_stmt) stmt = sp_prepare (vault, "PRAGMA user_version", NULL);

  if (stmt && sqlite3_step (stmt) == SQLITE_ROW)
    return sqlite3_column_int (stmt, 0);
  return -1;
}

gboolean
sp_schema_migrate (SpVault *vault, int target, GError **error)
{
  int current = read_user_version (vault);

  if (current < 0)
    return sp_sqlite_error (vault->db, sqlite3_errcode (vault->db), error);
  if (current > sp_vault_schema_version_latest ())
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_TOO_NEW,
                   _ ("This vault was written by a newer version of Supolka (schema %d; this "
                      "version knows up to %d)"),
                   current, sp_vault_schema_version_latest ());
      return FALSE;
    }
  vault->schema_version = current;

  /* Each step in its own transaction: a crash leaves a consistent version. */
  while (vault->schema_version < target)
    {
      const Migration *m = &migrations[vault->schema_version];
      int next = vault->schema_version + 1;
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %d", next);

      if (!sp_exec (vault, "BEGIN IMMEDIATE", error))
        return FALSE;
      vault->schema_version = next; /* so helpers in `after` see the new schema */
      if (!sp_exec (vault, m->sql, error) || (m->after && !m->after (vault, error))
          || !sp_exec (vault, bump, error) || !sp_exec (vault, "COMMIT", error))
        {
          sqlite3_exec (vault->db, "ROLLBACK", NULL, NULL, NULL);
          vault->schema_version = next - 1;
          return FALSE;
        }
    }
  return TRUE;
}
