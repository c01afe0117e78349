/* The merge rule: per-field last-writer-wins on HLC with device tie-break,
 * concurrent losers kept as conflicts, tombstones by causal length,
 * idempotent and order-independent apply. Includes the property test: random
 * edits on three replicas, exchanged in random interleavings (with
 * duplicates), give identical tables.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "sp-vault-private.h"
#include "test-util.h"

#define N_REPLICAS 3

static void
change_free_cb (gpointer p)
{
  sp_change_free (p);
}

/* Everything a replica's state is made of, as one string. */
static char *
dump (SpVault *vault)
{
  sqlite3 *db = sp_vault_get_db (vault);
  GString *out = g_string_new (NULL);
  const char *queries[] = {
    "SELECT id, kind, cl, created, title FROM records ORDER BY id",
    ("SELECT r.id, f.field, f.value, f.hlc, f.device FROM fields f JOIN records r ON r.rowid = "
     "f.rec ORDER BY r.id, f.field"),
    "SELECT rec, field, value, hlc, device FROM conflicts ORDER BY rec, field, hlc, device",
    ("SELECT rec, field, value, hlc, device, supersedes FROM changes ORDER BY rec, field, hlc, "
     "device"),
    "SELECT r.id, s.body FROM search s JOIN records r ON r.rowid = s.docid ORDER BY r.id",
  };

  for (guint q = 0; q < G_N_ELEMENTS (queries); q++)
    {
      sqlite3_stmt *st = NULL;
      g_assert_cmpint (sqlite3_prepare_v2 (db, queries[q], -1, &st, NULL), ==, SQLITE_OK);
      g_string_append_printf (out, "== %u\n", q);
      while (sqlite3_step (st) == SQLITE_ROW)
        {
          for (int c = 0; c < sqlite3_column_count (st); c++)
            {
              const char *v = (const char *)sqlite3_column_text (st, c);
              g_string_append_printf (out, "%s|", v ? v : "<null>");
            }
          g_string_append_c (out, '\n');
        }
      sqlite3_finalize (st);
    }
  return g_string_free (out, FALSE);
}

/* The transactions a replica wrote itself, each a GPtrArray of SpChange. */
static GPtrArray *
local_transactions (SpVault *vault)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) changes = sp_vault_local_changes (vault, 0, NULL, &error);
  GPtrArray *txs = g_ptr_array_new_with_free_func ((GDestroyNotify)g_ptr_array_unref);
  GPtrArray *cur = NULL;
  gint64 cur_tx = -1;

  g_assert_no_error (error);
  for (guint i = 0; i < changes->len; i++)
    {
      SpChange *c = changes->pdata[i];
      if (cur == NULL || c->tx != cur_tx)
        {
          cur = g_ptr_array_new_with_free_func (change_free_cb);
          g_ptr_array_add (txs, cur);
          cur_tx = c->tx;
        }
      g_ptr_array_add (cur, changes->pdata[i]);
      changes->pdata[i] = NULL;
    }
  return txs;
}

static void
apply_tx (SpVault *vault, GPtrArray *tx)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sp_vault_apply_changes (vault, tx, &error));
  g_assert_no_error (error);
}

/* Sends every transaction of `from` to `to`, in order. */
static void
sync_pair (SpVault *from, SpVault *to)
{
  g_autoptr (GPtrArray) txs = local_transactions (from);

  for (guint i = 0; i < txs->len; i++)
    apply_tx (to, txs->pdata[i]);
}

static SpVault *
new_replica (char **dir)
{
  return sp_test_vault_new (dir);
}

static void
free_replica (SpVault *vault, char *dir)
{
  g_autofree char *parent = g_path_get_dirname (dir);

  sp_vault_close (vault);
  sp_test_rmtree (parent);
}

static void
update1 (SpVault *v, const char *id, const char *field, const char *value)
{
  g_autoptr (GError) error = NULL;
  SpFieldValue fv = { field, value };

  g_assert_true (sp_vault_update (v, id, &fv, 1, &error));
  g_assert_no_error (error);
}

static const char *
get_field (SpVault *v, const char *id, const char *field)
{
  static char buf[256];
  g_autoptr (GError) error = NULL;
  g_autoptr (SpRecord) r = sp_vault_get (v, id, &error);

  g_assert_no_error (error);
  g_strlcpy (buf, sp_record_get (r, field) ? sp_record_get (r, field) : "", sizeof buf);
  return buf;
}

static void
test_hlc (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = new_replica (&dir);
  guint64 prev = 0;

  g_assert_cmpuint (sp_hlc_ms (sp_hlc_pack (1700000000123, 7)), ==, 1700000000123);
  g_assert_cmpuint (sp_hlc_counter (sp_hlc_pack (1700000000123, 7)), ==, 7);
  /* Strictly increasing, even within one millisecond. */
  for (int i = 0; i < 10000; i++)
    {
      guint64 h = 0;
      g_assert_true (sp_vault_hlc_tick (v, &h, NULL));
      g_assert_cmpuint (h, >, prev);
      prev = h;
    }
  /* A remote clock far ahead pulls ours along: later local writes order after it. */
  {
    guint64 remote = sp_hlc_pack (sp_hlc_ms (prev) + 60000, 5), next = 0;
    sp_vault_hlc_observe (v, remote);
    g_assert_true (sp_vault_hlc_tick (v, &next, NULL));
    g_assert_cmpuint (next, >, remote);
  }
  free_replica (v, dir);
}

static void
test_sequential_edits_no_conflict (void)
{
  g_autofree char *da = NULL, *db = NULL;
  SpVault *a = new_replica (&da), *b = new_replica (&db);
  g_autofree char *id = sp_test_insert (a, "org", "name", "Суполка", "region", "brest", NULL);
  g_autoptr (GPtrArray) conflicts = NULL;
  g_autofree char *sa = NULL, *sb = NULL;

  sync_pair (a, b);
  g_assert_cmpstr (get_field (b, id, "name"), ==, "Суполка");
  /* B edits having seen A's value: an ordinary overwrite, no conflict. */
  update1 (b, id, "region", "grodno");
  sync_pair (b, a);
  g_assert_cmpstr (get_field (a, id, "region"), ==, "grodno");
  conflicts = sp_vault_conflicts (a, NULL, NULL);
  g_assert_cmpuint (conflicts->len, ==, 0);
  sa = dump (a);
  sb = dump (b);
  g_assert_cmpstr (sa, ==, sb);
  free_replica (a, da);
  free_replica (b, db);
}

static void
test_concurrent_edits_conflict (void)
{
  g_autofree char *da = NULL, *db = NULL;
  SpVault *a = new_replica (&da), *b = new_replica (&db);
  g_autofree char *id
      = sp_test_insert (a, "org", "name", "Суполка", "phone", "+375 29 1111111", NULL);
  g_autoptr (GPtrArray) ca = NULL;
  g_autoptr (GPtrArray) cb = NULL;
  g_autofree char *sa = NULL, *sb = NULL;
  g_autoptr (SpRecord) ra = NULL;
  const SpConflict *c;
  char winner[64];

  sync_pair (a, b);
  /* Both edit the same field offline; A also edits another field. */
  update1 (a, id, "phone", "+375 29 2222222");
  update1 (a, id, "locality", "Пінск");
  update1 (b, id, "phone", "+375 29 3333333");
  sync_pair (a, b);
  sync_pair (b, a);

  /* Both agree on the winner; the loser is kept, with who wrote it. */
  g_strlcpy (winner, get_field (a, id, "phone"), sizeof winner);
  g_assert_cmpstr (get_field (b, id, "phone"), ==, winner);
  g_assert_cmpstr (get_field (b, id, "locality"), ==, "Пінск");
  ca = sp_vault_conflicts (a, id, NULL);
  cb = sp_vault_conflicts (b, id, NULL);
  g_assert_cmpuint (ca->len, ==, 1);
  g_assert_cmpuint (cb->len, ==, 1);
  c = ca->pdata[0];
  g_assert_cmpstr (c->field, ==, "phone");
  g_assert_cmpstr (c->winner_value, ==, winner);
  g_assert_true (g_str_equal (c->other_value, "+375 29 2222222")
                 || g_str_equal (c->other_value, "+375 29 3333333"));
  g_assert_cmpstr (c->other_value, !=, winner);
  g_assert_true (g_str_equal (c->other_device, sp_vault_get_device_id (a))
                 || g_str_equal (c->other_device, sp_vault_get_device_id (b)));
  ra = sp_vault_get (a, id, NULL);
  g_assert_true (sp_record_has_conflicts (ra));
  sa = dump (a);
  sb = dump (b);
  g_assert_cmpstr (sa, ==, sb);

  /* Keeping the losing value on B ends the conflict on both once synced. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) after_a = NULL;
    g_autoptr (GPtrArray) after_b = NULL;
    g_autofree char *loser = g_strdup (c->other_value);

    g_assert_true (sp_vault_resolve_conflict (b, id, "phone", loser, &error));
    g_assert_no_error (error);
    sync_pair (b, a);
    after_a = sp_vault_conflicts (a, NULL, NULL);
    after_b = sp_vault_conflicts (b, NULL, NULL);
    g_assert_cmpuint (after_a->len, ==, 0);
    g_assert_cmpuint (after_b->len, ==, 0);
    g_assert_cmpstr (get_field (a, id, "phone"), ==, loser);
  }
  free_replica (a, da);
  free_replica (b, db);
}

static void
test_same_value_no_conflict (void)
{
  g_autofree char *da = NULL, *db = NULL;
  SpVault *a = new_replica (&da), *b = new_replica (&db);
  g_autofree char *id = sp_test_insert (a, "org", "name", "Суполка", NULL);
  g_autoptr (GPtrArray) ca = NULL;

  sync_pair (a, b);
  update1 (a, id, "status", "member");
  update1 (b, id, "status", "member");
  sync_pair (a, b);
  sync_pair (b, a);
  ca = sp_vault_conflicts (a, NULL, NULL);
  g_assert_cmpuint (ca->len, ==, 0);
  free_replica (a, da);
  free_replica (b, db);
}

static void
test_idempotent_apply (void)
{
  g_autofree char *da = NULL, *db = NULL;
  SpVault *a = new_replica (&da), *b = new_replica (&db);
  g_autofree char *id = sp_test_insert (a, "person", "full_name", "Ганна Шыманская", NULL);
  g_autofree char *s1 = NULL, *s2 = NULL;

  update1 (a, id, "locality", "Гродна");
  sync_pair (a, b);
  s1 = dump (b);
  sync_pair (a, b);
  sync_pair (a, b);
  s2 = dump (b);
  g_assert_cmpstr (s1, ==, s2);
  free_replica (a, da);
  free_replica (b, db);
}

static void
test_concurrent_deletes (void)
{
  g_autofree char *da = NULL, *db = NULL;
  SpVault *a = new_replica (&da), *b = new_replica (&db);
  g_autofree char *id = sp_test_insert (a, "org", "name", "Знікае", NULL);
  g_autofree char *sa = NULL, *sb = NULL;
  g_autoptr (GError) error = NULL;

  sync_pair (a, b);
  g_assert_true (sp_vault_delete (a, id, &error));
  g_assert_true (sp_vault_delete (b, id, &error));
  /* B also edits concurrently with A's delete: the delete holds, the edit is kept. */
  sync_pair (a, b);
  sync_pair (b, a);
  g_assert_cmpint (sp_vault_count (a, "org", NULL, NULL), ==, 0);
  g_assert_cmpint (sp_vault_count (b, "org", NULL, NULL), ==, 0);
  sa = dump (a);
  sb = dump (b);
  g_assert_cmpstr (sa, ==, sb);

  /* Re-creating (undelete) on one side wins over the delete it followed. */
  g_assert_true (sp_vault_undelete (b, id, &error));
  g_assert_no_error (error);
  sync_pair (b, a);
  g_assert_cmpint (sp_vault_count (a, "org", NULL, NULL), ==, 1);
  free_replica (a, da);
  free_replica (b, db);
}

static void
test_delete_vs_edit (void)
{
  g_autofree char *da = NULL, *db = NULL;
  SpVault *a = new_replica (&da), *b = new_replica (&db);
  g_autofree char *id = sp_test_insert (a, "org", "name", "Old", NULL);
  g_autoptr (GError) error = NULL;

  sync_pair (a, b);
  g_assert_true (sp_vault_delete (a, id, &error));
  update1 (b, id, "name", "New");
  sync_pair (a, b);
  sync_pair (b, a);
  g_assert_cmpint (sp_vault_count (a, "org", NULL, NULL), ==, 0);
  g_assert_cmpint (sp_vault_count (b, "org", NULL, NULL), ==, 0);
  /* The edit was not lost: undeleting shows it. */
  g_assert_true (sp_vault_undelete (a, id, &error));
  g_assert_cmpstr (get_field (a, id, "name"), ==, "New");
  free_replica (a, da);
  free_replica (b, db);
}

static SpChange *
make_change (const char *rec, const char *kind, const char *field, const char *value, guint64 hlc,
             const char *device, const char *supersedes)
{
  SpChange *c = g_new0 (SpChange, 1);

  c->record = g_strdup (rec);
  c->kind = g_strdup (kind);
  c->field = g_strdup (field);
  c->value = g_strdup (value);
  c->hlc = hlc;
  c->device = g_strdup (device);
  c->supersedes = g_strdup (supersedes);
  c->tx = 1;
  return c;
}

static void
test_malformed_changes_rejected (void)
{
  g_autofree char *da = NULL;
  SpVault *a = new_replica (&da);
  const char *rec = "0123456789abcdef0123456789abcdef";
  const char *dev = "fedcba9876543210fedcba9876543210";
  g_autofree char *big = g_strnfill (64 * 1024 + 1, 'x');
  g_autofree char *before = NULL;
  struct
  {
    const char *rec, *kind, *field, *value;
    guint64 hlc;
    const char *device, *supersedes;
  } bad[] = {
    { "not-an-id", "org", "name", "x", 100, dev, "" },
    { rec, "Org; DROP", "name", "x", 100, dev, "" },
    { rec, "org", "name'", "x", 100, dev, "" },
    { rec, "org", "name", "x", 0, dev, "" },
    { rec, "org", "name", "x", 100, "short", "" },
    { rec, "org", "name", "\xff\xfe", 100, dev, "" },
    { rec, "org", "name", big, 100, dev, "" },
    { rec, "org", "_cl", "-1", 100, dev, "" },
    { rec, "org", "_cl", NULL, 100, dev, "" },
    { rec, "org", "name", "x", 100, dev, "12@zz" },
    { rec, "org", "name", "x", 100, dev, "garbage" },
  };

  g_free (sp_test_insert (a, "org", "name", "Existing", NULL));
  before = dump (a);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func (change_free_cb);
      g_autofree char *after = NULL;

      /* A good change first: the whole batch must be refused with it. */
      g_ptr_array_add (batch, make_change (rec, "org", "_cl", "1", 50, dev, ""));
      g_ptr_array_add (batch, make_change (bad[i].rec, bad[i].kind, bad[i].field, bad[i].value,
                                           bad[i].hlc, bad[i].device, bad[i].supersedes));
      g_assert_false (sp_vault_apply_changes (a, batch, &error));
      g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT);
      after = dump (a);
      g_assert_cmpstr (after, ==, before);
    }
  /* A change that names an existing record with another kind is refused too. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) ok = g_ptr_array_new_with_free_func (change_free_cb);
    g_autoptr (GPtrArray) clash = g_ptr_array_new_with_free_func (change_free_cb);

    g_ptr_array_add (ok, make_change (rec, "org", "_cl", "1", 50, dev, ""));
    g_assert_true (sp_vault_apply_changes (a, ok, &error));
    g_ptr_array_add (clash, make_change (rec, "person", "full_name", "x", 60, dev, ""));
    g_assert_false (sp_vault_apply_changes (a, clash, &error));
    g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT);
  }
  free_replica (a, da);
}

/* Findings of the security review: a hostile but enrolled peer must not be
 * able to stall everyone's sync or lock a field. */
static void
test_hostile_clocks_and_supersedes (void)
{
  g_autofree char *da = NULL;
  SpVault *a = new_replica (&da);
  const char *dev = "fedcba9876543210fedcba9876543210";
  const char *rec = "0123456789abcdef0123456789abcdef";
  guint64 now = sp_hlc_pack ((guint64)(g_get_real_time () / 1000), 0);
  guint64 before = 0, after = 0;
  g_autofree char *s0 = NULL;
  g_autofree char *ahead = g_strdup_printf ("%" G_GUINT64_FORMAT "@%s", now + 5, dev);
  struct
  {
    guint64 hlc;
    const char *field, *value, *supersedes;
  } bad[] = {
    { G_MAXINT64, "name", "x", "" },                                  /* overflow */
    { (guint64)G_MAXINT64 + 10, "name", "x", "" },                    /* negative in SQLite */
    { now + sp_hlc_pack (2 * 24 * 3600 * 1000, 0), "name", "x", "" }, /* two days ahead */
    { now, "name", "x", NULL },                                       /* supersedes in advance */
    { now, "_cl", "2147483648", "" },                                 /* causal length bound */
  };

  g_free (sp_test_insert (a, "org", "name", "Existing", NULL));
  g_assert_true (sp_vault_hlc_tick (a, &before, NULL));
  s0 = dump (a);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func (change_free_cb);
      g_autofree char *s1 = NULL;

      g_ptr_array_add (batch, make_change (rec, "org", bad[i].field, bad[i].value, bad[i].hlc, dev,
                                           bad[i].supersedes ? bad[i].supersedes : ahead));
      g_assert_false (sp_vault_apply_changes (a, batch, &error));
      g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT);
      s1 = dump (a);
      g_assert_cmpstr (s0, ==, s1);
    }
  /* The refused batches did not move our clock, and writing still works. */
  g_assert_true (sp_vault_hlc_tick (a, &after, NULL));
  g_assert_cmpuint (sp_hlc_ms (after), <, sp_hlc_ms (now) + 60000);
  g_free (sp_test_insert (a, "org", "name", "Still writable", NULL));

  /* A change that claims to be ours, and one that contradicts a logged one. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) mine = g_ptr_array_new_with_free_func (change_free_cb);
    g_autoptr (GPtrArray) first = g_ptr_array_new_with_free_func (change_free_cb);
    g_autoptr (GPtrArray) second = g_ptr_array_new_with_free_func (change_free_cb);

    g_ptr_array_add (mine,
                     make_change (rec, "org", "_cl", "1", now, sp_vault_get_device_id (a), ""));
    g_assert_false (sp_vault_apply_changes (a, mine, &error));
    g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT);
    g_clear_error (&error);
    g_ptr_array_add (first, make_change (rec, "org", "_cl", "1", now, dev, ""));
    g_ptr_array_add (first, make_change (rec, "org", "name", "One", now, dev, ""));
    g_assert_true (sp_vault_apply_changes (a, first, &error));
    g_ptr_array_add (second, make_change (rec, "org", "name", "Other", now, dev, ""));
    g_assert_false (sp_vault_apply_changes (a, second, &error));
    g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT);
  }
  free_replica (a, da);
}

/* More concurrent versions of a field than one write may supersede: the
 * field stays editable, and each write clears the newest 1024. */
static void
test_many_concurrent_versions (void)
{
  g_autofree char *da = NULL;
  SpVault *a = new_replica (&da);
  g_autofree char *id = sp_test_insert (a, "org", "name", "Start", NULL);
  g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func (change_free_cb);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) left = NULL;
  guint64 base = 0;

  g_assert_true (sp_vault_hlc_tick (a, &base, NULL));
  for (guint i = 0; i < 1100; i++)
    {
      g_autofree char *dev = g_strdup_printf ("%032x", i + 1);
      g_autofree char *val = g_strdup_printf ("v%u", i);
      g_ptr_array_add (batch, make_change (id, "org", "name", val, base + 1 + i, dev, ""));
    }
  g_assert_true (sp_vault_apply_changes (a, batch, &error));
  g_assert_no_error (error);
  update1 (a, id, "name", "Mine");
  g_assert_cmpstr (get_field (a, id, "name"), ==, "Mine");
  left = sp_vault_conflicts (a, id, NULL);
  g_assert_cmpuint (left->len, ==, 1100 + 1 - 1024);
  update1 (a, id, "name", "Mine again");
  g_clear_pointer (&left, g_ptr_array_unref);
  left = sp_vault_conflicts (a, id, NULL);
  g_assert_cmpuint (left->len, ==, 0);
  free_replica (a, da);
}

/* Unknown kinds and fields from a newer peer are stored and passed on, not
 * dropped, so a future version's data survives an older replica. */
static void
test_unknown_fields_kept (void)
{
  g_autofree char *da = NULL;
  SpVault *a = new_replica (&da);
  const char *dev = "fedcba9876543210fedcba9876543210";
  g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func (change_free_cb);
  g_autoptr (GError) error = NULL;
  g_autofree char *id = sp_test_insert (a, "org", "name", "Old", NULL);
  g_autoptr (SpRecord) r = NULL;
  guint64 hlc = 0;

  g_assert_true (sp_vault_hlc_tick (a, &hlc, NULL));
  hlc += 1000;
  g_ptr_array_add (batch, make_change (id, "org", "legal_form", "ГА", hlc, dev, ""));
  g_ptr_array_add (batch, make_change ("00000000000000000000000000000001", "legal_case", "_cl", "1",
                                       hlc, dev, ""));
  g_assert_true (sp_vault_apply_changes (a, batch, &error));
  g_assert_no_error (error);
  r = sp_vault_get (a, id, &error);
  g_assert_cmpstr (sp_record_get (r, "legal_form"), ==, "ГА");
  /* And local edits of known fields still work on such a record. */
  update1 (a, id, "name", "New");
  g_assert_cmpstr (get_field (a, id, "legal_form"), ==, "ГА");
  free_replica (a, da);
}

/* ---- The property test ---- */

static const char *const names[] = { "Alpha", "Бэта", "Гама", NULL };
static const char *const statuses[] = { "member", "candidate", "former", NULL };
static const char *const localities[] = { "Мінск", "Гродна", "", NULL };

static void
random_edit (SpVault *v, GPtrArray *ids, GRand *rand)
{
  g_autoptr (GError) error = NULL;
  int op = g_rand_int_range (rand, 0, 10);
  const char *id;

  if (ids->len == 0 || op == 0)
    {
      char *nid = sp_test_insert (v, "org", "name", names[g_rand_int_range (rand, 0, 3)], "status",
                                  statuses[g_rand_int_range (rand, 0, 3)], NULL);
      g_ptr_array_add (ids, nid);
      return;
    }
  id = ids->pdata[g_rand_int_range (rand, 0, (gint32)ids->len)];
  if (op == 1)
    {
      /* Delete or undelete, whichever applies here. */
      if (!sp_vault_delete (v, id, &error))
        {
          g_clear_error (&error);
          if (!sp_vault_undelete (v, id, &error))
            g_clear_error (&error); /* not yet known on this replica */
        }
      return;
    }
  {
    const char *field = op < 5 ? "name" : op < 8 ? "status" : "locality";
    const char *const *pool = op < 5 ? names : op < 8 ? statuses : localities;
    SpFieldValue fv = { field, pool[g_rand_int_range (rand, 0, 3)] };

    if (!sp_vault_update (v, id, &fv, 1, &error))
      {
        /* Deleted or not yet seen here: fine, it is a random walk. */
        if (!g_error_matches (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND)
            && !g_error_matches (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID))
          g_error ("update failed: %s", error->message);
        g_clear_error (&error);
      }
  }
}

static void
shuffle (GPtrArray *arr, GRand *rand)
{
  for (guint i = arr->len; i > 1; i--)
    {
      guint j = (guint)g_rand_int_range (rand, 0, (gint32)i);
      gpointer t = arr->pdata[i - 1];
      arr->pdata[i - 1] = arr->pdata[j];
      arr->pdata[j] = t;
    }
}

/* Delivers every transaction of every replica to every other one, in a random
 * global order, some twice. Only a fraction when `partial`. */
static void
exchange (SpVault **r, GRand *rand, gboolean partial)
{
  GPtrArray *txs[N_REPLICAS];
  g_autoptr (GPtrArray) deliveries = g_ptr_array_new ();

  for (int i = 0; i < N_REPLICAS; i++)
    txs[i] = local_transactions (r[i]);
  for (int from = 0; from < N_REPLICAS; from++)
    for (int to = 0; to < N_REPLICAS; to++)
      {
        if (from == to)
          continue;
        for (guint t = 0; t < txs[from]->len; t++)
          {
            int copies = g_rand_int_range (rand, 0, 5) == 0 ? 2 : 1;
            if (partial && g_rand_boolean (rand))
              continue;
            for (int k = 0; k < copies; k++)
              {
                /* pack (to, tx) */
                gpointer *d = g_new (gpointer, 2);
                d[0] = r[to];
                d[1] = txs[from]->pdata[t];
                g_ptr_array_add (deliveries, d);
              }
          }
      }
  shuffle (deliveries, rand);
  for (guint i = 0; i < deliveries->len; i++)
    {
      gpointer *d = deliveries->pdata[i];
      apply_tx (d[0], d[1]);
      g_free (d);
    }
  for (int i = 0; i < N_REPLICAS; i++)
    g_ptr_array_unref (txs[i]);
}

static void
test_property_three_replicas (void)
{
  guint rounds = g_test_slow () ? 40 : 8;

  for (guint round = 0; round < rounds; round++)
    {
      g_autoptr (GRand) rand = g_rand_new_with_seed (g_test_rand_int ());
      SpVault *r[N_REPLICAS];
      char *dirs[N_REPLICAS];
      GPtrArray *ids[N_REPLICAS];
      g_autofree char *s0 = NULL;

      for (int i = 0; i < N_REPLICAS; i++)
        {
          r[i] = new_replica (&dirs[i]);
          ids[i] = g_ptr_array_new_with_free_func (g_free);
        }
      /* Shared starting point: a few records made on replica 0. */
      for (int k = 0; k < 4; k++)
        random_edit (r[0], ids[0], rand);
      for (int i = 1; i < N_REPLICAS; i++)
        {
          sync_pair (r[0], r[i]);
          for (guint k = 0; k < ids[0]->len; k++)
            g_ptr_array_add (ids[i], g_strdup (ids[0]->pdata[k]));
        }
      /* Offline edits, a partial exchange, more edits that build on what
       * each has seen, then everything in a random order with duplicates. */
      for (int phase = 0; phase < 3; phase++)
        {
          for (int i = 0; i < N_REPLICAS; i++)
            for (int k = g_rand_int_range (rand, 3, 12); k > 0; k--)
              random_edit (r[i], ids[i], rand);
          exchange (r, rand, phase < 2);
          /* Replicas learn of each other's new ids through sync. */
          for (int i = 0; i < N_REPLICAS; i++)
            for (int j = 0; j < N_REPLICAS; j++)
              for (guint k = 0; i != j && k < ids[j]->len; k++)
                if (!g_ptr_array_find_with_equal_func (ids[i], ids[j]->pdata[k], g_str_equal, NULL))
                  g_ptr_array_add (ids[i], g_strdup (ids[j]->pdata[k]));
        }
      exchange (r, rand, FALSE);

      s0 = dump (r[0]);
      for (int i = 1; i < N_REPLICAS; i++)
        {
          g_autofree char *si = dump (r[i]);
          g_assert_cmpstr (s0, ==, si);
        }
      for (int i = 0; i < N_REPLICAS; i++)
        {
          free_replica (r[i], dirs[i]);
          g_free (dirs[i]);
          g_ptr_array_unref (ids[i]);
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/merge/hlc", test_hlc);
  g_test_add_func ("/merge/sequential-no-conflict", test_sequential_edits_no_conflict);
  g_test_add_func ("/merge/concurrent-conflict", test_concurrent_edits_conflict);
  g_test_add_func ("/merge/same-value-no-conflict", test_same_value_no_conflict);
  g_test_add_func ("/merge/idempotent", test_idempotent_apply);
  g_test_add_func ("/merge/concurrent-deletes", test_concurrent_deletes);
  g_test_add_func ("/merge/delete-vs-edit", test_delete_vs_edit);
  g_test_add_func ("/merge/malformed-rejected", test_malformed_changes_rejected);
  g_test_add_func ("/merge/unknown-fields-kept", test_unknown_fields_kept);
  g_test_add_func ("/merge/hostile-clocks-and-supersedes", test_hostile_clocks_and_supersedes);
  g_test_add_func ("/merge/many-concurrent-versions", test_many_concurrent_versions);
  g_test_add_func ("/merge/property/three-replicas", test_property_three_replicas);
  return g_test_run ();
}
