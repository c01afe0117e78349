/* Compartments (docs/COMPARTMENTS.md): the schema 6 → 7 migration, names,
 * the default compartment, moves and the "_comp" change, the rules for
 * applying a compartment's batch, filters and counts, the purge — and the
 * forensic proof that a purged compartment leaves no byte of its plaintext in
 * vault.db or its WAL: every page and frame is decrypted with the vault's raw
 * key (SQLCipher 3.4's format, docs/VAULT.md) and searched.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <openssl/evp.h>
#include <string.h>

#include "sp-vault-private.h"
#include "test-util.h"

#define UID_C "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0"
#define UID_D "d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0"

static gint64
add_comp (SpVault *v, const char *name, const char *uid)
{
  g_autoptr (GError) error = NULL;
  gint64 id = sp_vault_compartment_add (v, name, uid, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static char *
insert_in (SpVault *v, gint64 comp, const char *kind, const char *field, const char *value)
{
  g_autoptr (GError) error = NULL;
  SpFieldValue fv = { field, value };
  char *id = sp_vault_insert_in (v, kind, comp, &fv, 1, &error);

  g_assert_no_error (error);
  g_assert_nonnull (id);
  return id;
}

static gint64
comp_of (SpVault *v, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpRecord) r = sp_vault_get (v, id, &error);

  g_assert_no_error (error);
  return sp_record_get_compartment (r);
}

static gint64
count_sql (SpVault *v, const char *sql, const char *arg)
{
  g_autoptr (sqlite3_stmt) st = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (sp_vault_get_db (v), sql, -1, &st, NULL), ==, SQLITE_OK);
  if (arg)
    sqlite3_bind_text (st, 1, arg, -1, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_ROW);
  return sqlite3_column_int64 (st, 0);
}

/* Records the search index finds for text, deleted or not. */
static guint
search_hits (SpVault *v, const char *text)
{
  g_autoptr (GError) error = NULL;
  SpFilter f = { .search = text, .include_deleted = TRUE };
  gint64 n = sp_vault_count (v, NULL, &f, &error);

  g_assert_no_error (error);
  return (guint)n;
}

static void
test_migrate_6_to_7 (void)
{
  g_autofree char *tmp = sp_test_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "vault", NULL);
  g_autoptr (SpSecret) pass = sp_test_passphrase ("correct horse");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) comps = NULL;
  SpVault *v = sp_vault_create_at_version (dir, pass, SP_KDF_INTERACTIVE, 6, &error);
  const SpCompartment *main_c;

  g_assert_no_error (error);
  g_assert_true (sp_exec (v,
                          "INSERT INTO records (id, kind, cl, title, sort_key) VALUES "
                          "('0123456789abcdef0123456789abcdef', 'org', 1, 'Old', 'old')",
                          &error));
  sp_vault_close (v);
  v = sp_vault_open (dir, pass, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sp_vault_get_schema_version (v), ==, sp_vault_schema_version_latest ());
  comps = sp_vault_compartments (v, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (comps->len, ==, 1);
  main_c = comps->pdata[0];
  g_assert_cmpint (main_c->id, ==, 0);
  g_assert_cmpstr (main_c->name, ==, "main");
  g_assert_cmpstr (main_c->uid, ==, "");
  g_assert_cmpint (main_c->records, ==, 1);
  g_assert_cmpint (comp_of (v, "0123456789abcdef0123456789abcdef"), ==, 0);
  g_assert_cmpint (sp_vault_get_default_compartment (v), ==, 0);
  /* The uid is unique where it is set. */
  g_assert_false (sp_exec (v,
                           "INSERT INTO compartments (id, name, uid) VALUES (5, 'a', '" UID_C
                           "'), (6, 'b', '" UID_C "')",
                           NULL));
  sp_vault_close (v);
  sp_test_rmtree (tmp);
}

static void
test_names (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SpCompartment) got = NULL;
  g_autofree char *long_name = g_strnfill (65, 'x');
  g_autofree char *max_name = g_strnfill (64, 'y');
  SpVault *v = sp_test_vault_new (&dir);
  const char *bad[] = { "", "   ", "tab\there", "MAIN", " Main ", NULL };
  gint64 legal, other;

  legal = add_comp (v, "  Правовая дапамога ", UID_C);
  got = sp_vault_compartment_get (v, legal, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got->name, ==, "Правовая дапамога"); /* trimmed */
  g_assert_cmpstr (got->uid, ==, UID_C);
  for (guint i = 0; bad[i]; i++)
    {
      g_assert_cmpint (sp_vault_compartment_add (v, bad[i], NULL, &error), ==, -1);
      g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
      g_clear_error (&error);
    }
  g_assert_cmpint (sp_vault_compartment_add (v, long_name, NULL, &error), ==, -1);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_clear_error (&error);
  /* Unique ignoring case. */
  g_assert_cmpint (sp_vault_compartment_add (v, "ПРАВОВАЯ ДАПАМОГА", NULL, &error), ==, -1);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (sp_vault_compartment_add (v, "x", "NOT-HEX", &error), ==, -1);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (sp_vault_compartment_add (v, "again", UID_C, &error), ==, -1);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_EXISTS);
  g_clear_error (&error);

  /* No uid: a fresh random one. */
  other = add_comp (v, max_name, NULL);
  g_clear_pointer (&got, sp_compartment_free);
  got = sp_vault_compartment_get (v, other, &error);
  g_assert_true (sp_id_is_valid (got->uid));
  g_assert_cmpint (other, >, legal);

  g_assert_cmpint (sp_vault_compartment_lookup (v, "правовая Дапамога", &error), ==, legal);
  g_assert_cmpint (sp_vault_compartment_lookup (v, "main", &error), ==, 0);
  g_assert_cmpint (sp_vault_compartment_lookup_uid (v, UID_C, &error), ==, legal);
  g_assert_cmpint (sp_vault_compartment_lookup_uid (v, "", &error), ==, 0);
  g_assert_no_error (error);
  g_assert_cmpint (sp_vault_compartment_lookup (v, "nowhere", &error), ==, -1);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (sp_vault_compartment_lookup_uid (v, UID_D, &error), ==, -1);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (sp_vault_compartment_rename (v, legal, "Legal", &error));
  g_assert_no_error (error);
  g_assert_cmpint (sp_vault_compartment_lookup (v, "legal", &error), ==, legal);
  g_assert_true (sp_vault_compartment_rename (v, legal, "LEGAL", &error)); /* itself */
  g_assert_false (sp_vault_compartment_rename (v, legal, max_name, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (sp_vault_compartment_rename (v, 0, "Everyone", &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (sp_vault_compartment_rename (v, 99, "Nobody", &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (sp_vault_compartment_purge (v, 0, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  sp_vault_close (v);
  sp_test_rmtree (dir);
}

/* The change of rec.field in a change array (the last one). */
static const SpChange *
find_change (GPtrArray *changes, const char *rec, const char *field)
{
  const SpChange *found = NULL;

  for (guint i = 0; i < changes->len; i++)
    {
      const SpChange *c = changes->pdata[i];
      if (g_str_equal (c->record, rec) && g_str_equal (c->field, field))
        found = c;
    }
  return found;
}

static void
test_default_and_insert (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) log = NULL;
  g_autofree char *in_main = NULL;
  g_autofree char *in_c = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  gint64 c = add_comp (v, "Legal", UID_C);
  const SpChange *cl, *cc;

  g_assert_cmpint (sp_vault_get_default_compartment (v), ==, 0);
  in_main = sp_test_insert (v, "org", "name", "In main", NULL);
  g_assert_true (sp_vault_set_default_compartment (v, c, &error));
  g_assert_cmpint (sp_vault_get_default_compartment (v), ==, c);
  in_c = sp_test_insert (v, "org", "name", "In legal", NULL);
  g_assert_cmpint (comp_of (v, in_main), ==, 0);
  g_assert_cmpint (comp_of (v, in_c), ==, c);
  g_assert_false (sp_vault_set_default_compartment (v, 42, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (sp_vault_insert_in (v, "org", 42, NULL, 0, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Main records write no "_comp"; the others write it with "_cl", in the
   * creating transaction, and it is no move. */
  log = sp_vault_local_changes (v, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (find_change (log, in_main, "_comp"));
  cl = find_change (log, in_c, "_cl");
  cc = find_change (log, in_c, "_comp");
  g_assert_nonnull (cc);
  g_assert_cmpstr (cc->value, ==, UID_C);
  g_assert_cmpint (cc->tx, ==, cl->tx);
  g_assert_cmpuint (cc->hlc, ==, cl->hlc);
  g_assert_cmpint (cc->comp, ==, c);
  g_assert_cmpint (cc->from_comp, ==, c);
  g_assert_cmpint (cl->comp, ==, c);
  g_assert_cmpint (find_change (log, in_main, "name")->comp, ==, 0);

  /* Purging the default compartment makes main the default again. */
  g_assert_true (sp_vault_compartment_purge (v, c, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sp_vault_get_default_compartment (v), ==, 0);
  sp_vault_close (v);
  sp_test_rmtree (dir);
}

static void
test_move_and_filters (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) log = NULL;
  g_autoptr (GPtrArray) hist = NULL;
  g_autoptr (GPtrArray) comps = NULL;
  g_autoptr (GPtrArray) ids = NULL;
  g_autoptr (GPtrArray) found = NULL;
  g_autoptr (SpRecord) rec = NULL;
  g_autoptr (GBytes) csv = NULL;
  g_autoptr (SpImportReport) report = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  gint64 c = add_comp (v, "Legal", UID_C);
  g_autofree char *a = sp_test_insert (v, "org", "name", "Alpha Minsk", NULL);
  g_autofree char *b = sp_test_insert (v, "org", "name", "Beta Minsk", NULL);
  SpFilter in_c = { .in_compartment = TRUE, .compartment = c };
  SpFilter in_main = { .in_compartment = TRUE, .compartment = 0 };
  SpFilter any = { .in_compartment = TRUE, .compartment = -1 };
  SpFilter search_c = { .search = "minsk", .limit = 10, .in_compartment = TRUE, .compartment = c };
  SpFieldValue set_comp = { "_comp", UID_C };
  gint64 last = 0;
  const SpChange *mv;
  const char *csv_bad = "name,_comp\nGamma," UID_C "\n";

  g_assert_true (sp_vault_move (v, a, c, &error));
  g_assert_no_error (error);
  g_assert_cmpint (comp_of (v, a), ==, c);
  log = sp_vault_local_changes (v, 0, &last, &error);
  mv = find_change (log, a, "_comp");
  g_assert_cmpstr (mv->value, ==, UID_C);
  g_assert_cmpint (mv->from_comp, ==, 0);
  g_assert_cmpint (mv->comp, ==, c);
  /* Where it is already: nothing written. */
  g_assert_true (sp_vault_move (v, a, c, &error));
  g_assert_cmpint (sp_vault_count_local_changes (v, last, &error), ==, 0);
  g_assert_false (sp_vault_move (v, a, 77, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (sp_vault_move (v, "ffffffffffffffffffffffffffffffff", c, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Filters, counts, ids, search. */
  g_assert_cmpint (sp_vault_count (v, "org", &in_c, &error), ==, 1);
  g_assert_cmpint (sp_vault_count (v, "org", &in_main, &error), ==, 1);
  g_assert_cmpint (sp_vault_count (v, "org", &any, &error), ==, 2);
  g_assert_cmpint (sp_vault_count (v, "org", NULL, &error), ==, 2);
  ids = sp_vault_list_ids (v, NULL, &in_main, SP_SORT_TITLE, &error);
  g_assert_cmpuint (ids->len, ==, 1);
  g_assert_cmpstr (ids->pdata[0], ==, b);
  found = sp_vault_list (v, "org", &search_c, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpstr (sp_record_get_id (found->pdata[0]), ==, a);
  comps = sp_vault_compartments (v, &error);
  g_assert_cmpint (((SpCompartment *)comps->pdata[0])->records, ==, 1);
  g_assert_cmpint (((SpCompartment *)comps->pdata[1])->records, ==, 1);

  /* "_comp" is internal: not a field of the record, not settable, no CSV
   * column. */
  rec = sp_vault_get (v, a, &error);
  g_assert_null (sp_record_get (rec, "_comp"));
  g_assert_false (sp_vault_update (v, b, &set_comp, 1, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (
      sp_vault_import_csv (v, "org", csv_bad, strlen (csv_bad), FALSE, &report, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_clear_error (&error);
  csv = sp_vault_export_csv (v, "org", &error);
  g_assert_null (
      memmem (g_bytes_get_data (csv, NULL), g_bytes_get_size (csv), UID_C, strlen (UID_C)));

  /* Back to main: the value is empty, it comes from c. */
  g_assert_true (sp_vault_move (v, a, 0, &error));
  hist = sp_vault_record_changes (v, a, &error);
  g_assert_no_error (error);
  mv = hist->pdata[hist->len - 1];
  g_assert_cmpstr (mv->field, ==, "_comp");
  g_assert_null (mv->value);
  g_assert_cmpint (mv->from_comp, ==, c);
  g_assert_cmpint (mv->comp, ==, 0);
  g_assert_cmpstr (((SpChange *)hist->pdata[0])->field, ==, "_cl");
  g_assert_cmpint (comp_of (v, a), ==, 0);
  sp_vault_close (v);
  sp_test_rmtree (dir);
}

/* A second device of the same workspace. */
static SpVault *
peer (char **dir)
{
  return sp_test_vault_new (dir);
}

/* The highest local change-log sequence now. */
static gint64
last_seq_of (SpVault *v)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) all = NULL;
  gint64 last = 0;

  all = sp_vault_local_changes (v, 0, &last, &error);
  g_assert_no_error (error);
  return last;
}

/* Moved to a compartment b does not hold: b loses the record, with its
 * history, conflicts and search entry. */
static void
check_lost_access (SpVault *a, SpVault *b, const char *r_c, gint64 ac, gint64 ad, gint64 bc)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) moved = NULL;
  gint64 last = last_seq_of (a);
  const SpChange *ch;

  g_assert_true (sp_vault_move (a, r_c, ad, &error));
  moved = sp_vault_local_changes (a, last, &last, &error);
  g_assert_cmpuint (moved->len, ==, 1);
  ch = moved->pdata[0];
  g_assert_cmpint (ch->from_comp, ==, ac);
  g_assert_true (sp_vault_apply_changes_in (b, moved, bc, &error));
  g_assert_no_error (error);
  g_assert_null (sp_vault_get (b, r_c, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (count_sql (b, "SELECT count(*) FROM changes WHERE rec = ?", r_c), ==, 0);
  g_assert_cmpuint (search_hits (b, "legal person"), ==, 0);
  g_assert_true (sp_vault_check (b, &error));
}

static void
test_apply_in_rules (void)
{
  g_autofree char *da = NULL;
  g_autofree char *db = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) created = NULL;
  g_autoptr (GPtrArray) moved = NULL;
  g_autoptr (GPtrArray) main_rec = NULL;
  g_autoptr (GPtrArray) steal = g_ptr_array_new ();
  g_autoptr (GPtrArray) hist = NULL;
  SpVault *a = peer (&da);
  SpVault *b = peer (&db);
  gint64 ac = add_comp (a, "Legal", UID_C), ad = add_comp (a, "Gomel", UID_D);
  gint64 bc = add_comp (b, "Legal", UID_C);
  g_autofree char *r_main = insert_in (a, 0, "org", "name", "Shared org");
  g_autofree char *r_c = insert_in (a, ac, "person", "full_name", "Legal person");
  g_autofree char *r_d = insert_in (a, ad, "person", "full_name", "Gomel person");
  gint64 last, before;

  main_rec = sp_vault_record_changes (a, r_main, &error);
  created = sp_vault_record_changes (a, r_c, &error);
  g_assert_no_error (error);
  /* A main batch cannot bring a record of Legal... */
  g_assert_false (sp_vault_apply_changes (b, created, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (sp_vault_count (b, NULL, NULL, &error), ==, 0);
  /* ...a Legal batch does; nothing else of main travels in it. */
  g_assert_true (sp_vault_apply_changes (b, main_rec, &error));
  g_assert_no_error (error);
  g_assert_true (sp_vault_apply_changes_in (b, created, bc, &error));
  g_assert_no_error (error);
  g_assert_cmpint (comp_of (b, r_c), ==, bc);
  g_assert_cmpint (comp_of (b, r_main), ==, 0);

  /* A Legal batch may not write into main, nor take a main record; a change
   * already logged is a no-op in any batch. */
  before = sp_vault_count (b, NULL, NULL, &error);
  g_assert_true (sp_vault_apply_changes_in (b, main_rec, bc, &error)); /* all logged */
  g_assert_true (sp_vault_apply_changes (b, created, &error));         /* all logged */
  g_assert_no_error (error);
  sp_vault_update (a, r_main, &(SpFieldValue){ "notes", "edited in main" }, 1, &error);
  g_assert_no_error (error);
  last = last_seq_of (a);
  g_assert_true (sp_vault_move (a, r_main, ac, &error));
  moved = sp_vault_local_changes (a, last, &last, &error);
  g_assert_cmpuint (moved->len, ==, 1);
  g_ptr_array_add (steal, moved->pdata[0]);
  g_clear_pointer (&hist, g_ptr_array_unref);
  hist = sp_vault_record_changes (a, r_main, &error);
  g_assert_false (sp_vault_apply_changes_in (b, hist, bc, &error)); /* the edit, in main */
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (sp_vault_apply_changes_in (b, steal, bc, &error)); /* "_comp" into Legal */
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (comp_of (b, r_main), ==, 0);
  g_assert_cmpint (sp_vault_count (b, NULL, NULL, &error), ==, before);
  /* The move goes out in main's batch (it was in main): then it is in Legal. */
  g_assert_true (sp_vault_apply_changes (b, hist, &error));
  g_assert_no_error (error);
  g_assert_cmpint (comp_of (b, r_main), ==, bc);

  /* A record of Gomel arrives with its history re-sent by a move into Legal:
   * new here, and the batch brings it into Legal. A Gomel-only "_comp" for a
   * new record is refused. */
  g_clear_pointer (&hist, g_ptr_array_unref);
  hist = sp_vault_record_changes (a, r_d, &error);
  g_assert_false (sp_vault_apply_changes_in (b, hist, bc, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (sp_vault_move (a, r_d, ac, &error));
  g_clear_pointer (&hist, g_ptr_array_unref);
  hist = sp_vault_record_changes (a, r_d, &error);
  g_assert_true (sp_vault_apply_changes_in (b, hist, bc, &error));
  g_assert_no_error (error);
  g_assert_cmpint (comp_of (b, r_d), ==, bc);

  check_lost_access (a, b, r_c, ac, ad, bc);
  sp_vault_close (a);
  sp_vault_close (b);
  sp_test_rmtree (da);
  sp_test_rmtree (db);
}

static void
test_purge_moved (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  gint64 c = add_comp (v, "Legal", UID_C);
  g_autofree char *into = sp_test_insert (v, "org", "name", "Moved into legal", NULL);
  g_autofree char *out = insert_in (v, c, "org", "name", "Moved out of legal");
  g_autofree char *stays = sp_test_insert (v, "org", "name", "Stays in main", NULL);

  g_assert_true (sp_vault_move (v, into, c, &error));
  g_assert_true (sp_vault_move (v, out, 0, &error));
  g_assert_true (sp_vault_compartment_purge (v, c, &error));
  g_assert_no_error (error);
  g_assert_null (sp_vault_get (v, into, NULL));
  g_assert_cmpint (count_sql (v, "SELECT count(*) FROM changes WHERE rec = ?", into), ==, 0);
  g_assert_cmpint (comp_of (v, out), ==, 0);
  g_assert_cmpint (comp_of (v, stays), ==, 0);
  g_assert_cmpint (sp_vault_count (v, NULL, NULL, &error), ==, 2);
  g_assert_cmpint (sp_vault_compartment_lookup_uid (v, UID_C, NULL), ==, -1);
  g_assert_cmpuint (search_hits (v, "moved into"), ==, 0);
  g_assert_cmpuint (search_hits (v, "moved out"), ==, 1);
  g_assert_true (sp_vault_compact (v, &error));
  g_assert_no_error (error);
  g_assert_true (sp_vault_check (v, &error));
  sp_vault_close (v);
  sp_test_rmtree (dir);
}

/* A purge that removes the log's tail does not make the log's numbers go
 * back: a sync cursor taken before it still sees every later local write. */
static void
test_purge_keeps_seq (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) before = NULL;
  g_autoptr (GPtrArray) after = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  gint64 c = add_comp (v, "Legal", UID_C), pushed = 0, last = 0;
  g_autofree char *kept = sp_test_insert (v, "org", "name", "Main first", NULL);
  g_autofree char *gone1 = insert_in (v, c, "org", "name", "Legal one");
  g_autofree char *gone2 = insert_in (v, c, "org", "name", "Legal two");
  g_autofree char *later = NULL;

  before = sp_vault_local_changes (v, 0, &pushed, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (((SpChange *)before->pdata[before->len - 1])->record, ==, gone2);
  g_assert_true (sp_vault_compartment_purge (v, c, &error));
  g_assert_no_error (error);
  later = sp_test_insert (v, "org", "name", "Main later", NULL);
  g_assert_cmpint (sp_vault_count_local_changes (v, pushed, &error), ==, 2); /* _cl, name */
  after = sp_vault_local_changes (v, pushed, &last, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (after->len, ==, 2);
  g_assert_cmpstr (((SpChange *)after->pdata[0])->record, ==, later);
  g_assert_cmpint (((SpChange *)after->pdata[0])->seq, >, pushed);
  g_assert_cmpint (last, >, pushed);
  (void)kept;
  (void)gone1;
  sp_vault_close (v);
  sp_test_rmtree (dir);
}

/* ---- The forensic test ---- */

#define PAGE 4096
#define RESERVE 48 /* IV (16) + HMAC-SHA1 (20), rounded up to the AES block */
#define SALT 16

/* Purged compartment: each marker starts with letters no other word in the
 * vault starts with, so FTS4's prefix-compressed terms still hold its tail. */
static const char *const gone[] = {
  "zulgonepersonqx", "Щупальцамаркер",   "QuokGoneOrgMixed",
  "yodgoneoldvalue", "xenconflictvalue", "movmovedintogone",
};
static const char *const kept[] = { "kivkeptpersonrt", "Вепрыкаптурны", "haxmainorgvalue" };

/* AES-256-CBC of one SQLCipher page; NULL when the page does not decrypt. */
static gboolean
decrypt_page (const guint8 *key, const guint8 *page, guint32 pgno, GByteArray *out)
{
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  gsize off = pgno == 1 ? SALT : 0, len = PAGE - RESERVE - off;
  guint8 plain[PAGE];
  int n = 0, m = 0;
  gboolean ok;

  ok = EVP_DecryptInit_ex (ctx, EVP_aes_256_cbc (), NULL, key, page + PAGE - RESERVE) == 1
       && EVP_CIPHER_CTX_set_padding (ctx, 0) == 1
       && EVP_DecryptUpdate (ctx, plain, &n, page + off, (int)len) == 1
       && EVP_DecryptFinal_ex (ctx, plain + n, &m) == 1 && (gsize)(n + m) == len;
  EVP_CIPHER_CTX_free (ctx);
  if (ok && pgno == 1)
    /* The rest of SQLite's header: page size 4096, reserve 48, the fixed
     * payload fractions 64/32/32. Proves the key and the layout. */
    ok = plain[0] == 0x10 && plain[1] == 0x00 && plain[4] == RESERVE && plain[5] == 64
         && plain[6] == 32 && plain[7] == 32;
  if (ok)
    g_byte_array_append (out, plain, (guint)len);
  return ok;
}

/* Every page of vault.db, decrypted; *pages gets how many. */
static GByteArray *
decrypt_db (const guint8 *key, const char *path, guint *pages)
{
  g_autoptr (GBytes) file = sp_test_read_file (path);
  GByteArray *out = g_byte_array_new ();
  gsize len;
  const guint8 *d = g_bytes_get_data (file, &len);

  g_assert_cmpuint (len % PAGE, ==, 0);
  *pages = (guint)(len / PAGE);
  for (gsize i = 0; i < len / PAGE; i++)
    g_assert_true (decrypt_page (key, d + i * PAGE, (guint32)i + 1, out));
  return out;
}

/* Every frame of a WAL (32-byte header, frames of a 24-byte header and a
 * page), decrypted, stale frames included; *frames gets how many. */
static GByteArray *
decrypt_wal (const guint8 *key, const char *path, guint *frames)
{
  g_autoptr (GBytes) file = sp_test_read_file (path);
  GByteArray *out = g_byte_array_new ();
  gsize len = 0;
  const guint8 *d = file ? g_bytes_get_data (file, &len) : NULL;

  *frames = 0;
  for (gsize at = 32; len >= 32 && at + 24 + PAGE <= len; at += 24 + PAGE)
    {
      guint32 pgno
          = (guint32)d[at] << 24 | (guint32)d[at + 1] << 16 | (guint32)d[at + 2] << 8 | d[at + 3];
      g_assert_cmpuint (pgno, >, 0);
      g_assert_true (decrypt_page (key, d + at + 24, pgno, out));
      (*frames)++;
    }
  return out;
}

static gboolean
holds (GByteArray *plain, const char *needle)
{
  return plain->len && memmem (plain->data, plain->len, needle, strlen (needle)) != NULL;
}

/* The forms of a marker the vault may store: as written, case-folded (the
 * sort key) and search-folded (the index), whose tail survives prefix
 * compression. */
static GPtrArray *
forms_of (const char *marker)
{
  GPtrArray *forms = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *folded = sp_fold (marker);

  g_ptr_array_add (forms, g_strdup (marker));
  g_ptr_array_add (forms, g_utf8_casefold (marker, -1));
  g_assert_cmpuint (strlen (folded), >=, 8);
  g_ptr_array_add (forms, g_strdup (folded));
  g_ptr_array_add (forms, g_strdup (folded + 3));
  return forms;
}

/* The dictionaries after a purge: `names` holds field names only (the internal
 * ones or a kind's), never a value; `devices` no device that wrote only to
 * the purged compartment (gone_device). */
static void
assert_dictionaries_clean (SpVault *v, const char *gone_device)
{
  g_autoptr (sqlite3_stmt) st = sp_prepare (v, "SELECT name FROM names", NULL);
  g_autoptr (sqlite3_stmt) dev = sp_prepare (v, "SELECT 1 FROM devices WHERE hex = ?", NULL);
  guint n = 0;

  g_assert_nonnull (st);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      const char *name = (const char *)sqlite3_column_text (st, 0);
      gboolean known = g_str_equal (name, "_cl") || g_str_equal (name, "_comp");

      for (const SpKindInfo *const *k = sp_kinds (); *k && !known; k++)
        known = sp_kind_field (*k, name) != NULL;
      if (!known)
        g_error ("names holds \"%s\", no field name", name);
      n++;
    }
  g_assert_cmpuint (n, >, 2);
  g_assert_nonnull (dev);
  sqlite3_bind_text (dev, 1, gone_device, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (dev), ==, SQLITE_DONE);
}

/* How many of a marker's forms some plaintext holds. */
static guint
count_forms (GByteArray *a, GByteArray *b, const char *marker)
{
  g_autoptr (GPtrArray) forms = forms_of (marker);
  guint n = 0;

  for (guint i = 0; i < forms->len; i++)
    if (holds (a, forms->pdata[i]) || (b && holds (b, forms->pdata[i])))
      n++;
  return n;
}

/* Purged records written every way the vault keeps data: fields, titles,
 * an edit (old value in the change log), a conflict with a peer, a move
 * from main (history in main), the search index. */
static void
fill_forensic_vault (SpVault *v, SpVault *peer_v, gint64 g, gint64 k)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) to_peer = NULL;
  g_autoptr (GPtrArray) from_peer = NULL;
  g_autoptr (GPtrArray) conflicts = NULL;
  g_autoptr (GPtrArray) found = NULL;
  gint64 peer_g = add_comp (peer_v, "Gone", UID_D);
  g_autofree char *p1 = insert_in (v, g, "person", "full_name", gone[0]);
  g_autofree char *o1 = insert_in (v, g, "org", "name", gone[2]);
  g_autofree char *mv = sp_test_insert (v, "org", "name", gone[5], NULL);
  g_autofree char *kp = insert_in (v, k, "person", "full_name", kept[0]);
  g_autofree char *km = sp_test_insert (v, "org", "name", kept[2], NULL);
  SpFieldValue notes = { "notes", gone[3] };

  g_assert_true (sp_vault_update (v, p1, &notes, 1, &error));
  notes.value = gone[1];
  g_assert_true (sp_vault_update (v, p1, &notes, 1, &error));
  notes.value = kept[1];
  g_assert_true (sp_vault_update (v, kp, &notes, 1, &error));
  g_assert_true (sp_vault_move (v, mv, g, &error));
  g_assert_no_error (error);

  /* A concurrent edit on the peer: a conflict kept here. */
  to_peer = sp_vault_record_changes (v, o1, &error);
  g_assert_true (sp_vault_apply_changes_in (peer_v, to_peer, peer_g, &error));
  g_assert_no_error (error);
  notes.value = "local side of the conflict";
  g_assert_true (sp_vault_update (v, o1, &notes, 1, &error));
  notes.value = gone[4];
  g_assert_true (sp_vault_update (peer_v, o1, &notes, 1, &error));
  from_peer = sp_vault_local_changes (peer_v, 0, NULL, &error);
  g_assert_true (sp_vault_apply_changes_in (v, from_peer, g, &error));
  g_assert_no_error (error);
  conflicts = sp_vault_conflicts (v, o1, &error);
  g_assert_cmpuint (conflicts->len, ==, 1);

  found = sp_vault_search (v, gone[1], NULL, 0, &error);
  g_assert_cmpuint (found->len, ==, 1);
  (void)km;
}

static void
test_forensic_purge (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *peer_dir = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GByteArray) db_plain = NULL;
  g_autoptr (GByteArray) wal_plain = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  SpVault *peer_v = peer (&peer_dir);
  const char *peer_dev = sp_vault_get_device_id (peer_v);
  gint64 g = add_comp (v, "Gone", UID_D), k = add_comp (v, "Kept", UID_C);
  g_autofree char *db_path = g_build_filename (dir, "vault.db", NULL);
  g_autofree char *wal_path = g_build_filename (dir, "vault.db-wal", NULL);
  g_autofree char *journal = g_build_filename (dir, "vault.db-journal", NULL);
  const guint8 *key = sp_secret_data (v->master_key);
  guint pages, frames, wal_hits = 0;

  fill_forensic_vault (v, peer_v, g, k);

  /* Before: every marker is there, in the database or the WAL, and the WAL
   * decrypts (a test that could not find them would prove nothing). */
  db_plain = decrypt_db (key, db_path, &pages);
  wal_plain = decrypt_wal (key, wal_path, &frames);
  g_assert_cmpuint (frames, >, 0);
  for (guint i = 0; i < G_N_ELEMENTS (gone); i++)
    {
      g_assert_cmpuint (count_forms (db_plain, wal_plain, gone[i]), >, 0);
      wal_hits += count_forms (wal_plain, NULL, gone[i]);
    }
  g_assert_cmpuint (wal_hits, >, 0);
  /* The peer wrote only to the purged compartment: its device id is here. */
  g_assert_true (holds (db_plain, peer_dev) || holds (wal_plain, peer_dev));
  g_clear_pointer (&db_plain, g_byte_array_unref);
  g_clear_pointer (&wal_plain, g_byte_array_unref);

  g_assert_true (sp_vault_compartment_purge (v, g, &error));
  g_assert_no_error (error);
  g_assert_true (sp_vault_compact (v, &error));
  g_assert_no_error (error);

  /* After: no form of any purged marker in any page or frame, while every
   * kept marker is still found in full. */
  db_plain = decrypt_db (key, db_path, &pages);
  wal_plain = decrypt_wal (key, wal_path, &frames);
  g_test_message ("after compact: %u pages, %u WAL frames", pages, frames);
  g_assert_false (g_file_test (journal, G_FILE_TEST_EXISTS));
  for (guint i = 0; i < G_N_ELEMENTS (gone); i++)
    {
      g_autoptr (GPtrArray) forms = forms_of (gone[i]);

      for (guint f = 0; f < forms->len; f++)
        {
          const char *needle = forms->pdata[f];
          if (holds (db_plain, needle) || holds (wal_plain, needle))
            g_error ("\"%s\" (of \"%s\") survived the purge", needle, gone[i]);
          g_assert_false (sp_test_tree_contains (dir, needle, strlen (needle)));
        }
    }
  assert_dictionaries_clean (v, peer_dev);
  g_assert_false (holds (db_plain, peer_dev) || holds (wal_plain, peer_dev));
  for (guint i = 0; i < G_N_ELEMENTS (kept); i++)
    {
      g_autofree char *folded = sp_fold (kept[i]);
      g_assert_true (holds (db_plain, kept[i]) && holds (db_plain, folded));
    }
  g_assert_true (sp_vault_check (v, &error));
  g_assert_no_error (error);
  sp_vault_close (v);
  sp_vault_close (peer_v);
  sp_test_rmtree (dir);
  sp_test_rmtree (peer_dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Before any SQLite call of the tests' own (a database made by hand):
   * core installs SQLite's wiping allocator first (sanitizer builds have no
   * wiping free() to fall back on). */
  g_assert_true (sp_core_init (NULL));
  g_test_add_func ("/compartment/migrate-6-to-7", test_migrate_6_to_7);
  g_test_add_func ("/compartment/names", test_names);
  g_test_add_func ("/compartment/default-and-insert", test_default_and_insert);
  g_test_add_func ("/compartment/move-and-filters", test_move_and_filters);
  g_test_add_func ("/compartment/apply-in-rules", test_apply_in_rules);
  g_test_add_func ("/compartment/purge-moved", test_purge_moved);
  g_test_add_func ("/compartment/purge-keeps-seq", test_purge_keeps_seq);
  g_test_add_func ("/compartment/forensic-purge", test_forensic_purge);
  return g_test_run ();
}
