/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-sync-compartment.c — compartments and travel mode in the sync protocol
 * (issue #19, docs/COMPARTMENTS.md) end to end: three devices with real
 * vaults, the real relay ($SUPOLKA_RELAY) on 127.0.0.1. A device without a
 * compartment never gets its plaintext — not in its vault (records, changes,
 * search, sync state), not at the relay, not in its memory after a sync (a
 * separate process, sync-dev-tool, read through /proc/PID/mem); a compartment
 * revoke rotates only that compartment; a hostile relay cannot alter or
 * drop batches a device cannot open; links across compartments; moves;
 * travel start and end, a wrong code, unsent changes. */
#include <curl/curl.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "supolka-core.h"
#include "supolka-sync.h"
#include "sync-batch.h"
#include "sync-test-util.h"
#include "test-util.h"

/* ---- Helpers ------------------------------------------------------------------------------ */

typedef struct
{
  char *relay_dir;
  Relay *relay;
  Dev *a, *b, *c; /* a: the admin */
} Net;

static Net *
net_new (void)
{
  Net *n = g_new0 (Net, 1);

  n->relay_dir = new_tmp ("relay");
  n->relay = sync_relay_start (n->relay_dir);
  n->a = dev_new ("A");
  n->b = dev_new ("B");
  n->c = dev_new ("C");
  create_workspace (n->a, n->relay->base, NULL);
  enrol (n->a, n->b, NULL);
  enrol (n->a, n->c, NULL);
  /* Every device publishes its compartment box key; the admin reads them. */
  sync_ok (n->b, NULL, NULL);
  sync_ok (n->c, NULL, NULL);
  sync_ok (n->a, NULL, NULL);
  return n;
}

static void
net_free (Net *n)
{
  dev_free (n->a);
  dev_free (n->b);
  dev_free (n->c);
  relay_stop (n->relay);
  g_free (n->relay_dir);
  g_free (n);
}

static void
sync_all (Net *n)
{
  for (int round = 0; round < 2; round++)
    {
      sync_ok (n->a, NULL, NULL);
      sync_ok (n->b, NULL, NULL);
      sync_ok (n->c, NULL, NULL);
    }
}

static char *
marker (const char *what)
{
  guint8 r[8];
  char hex[17];

  randombytes_buf (r, sizeof r);
  sodium_bin2hex (hex, sizeof hex, r, sizeof r);
  return g_strdup_printf ("%s%s", what, hex);
}

static void
comp_create (Dev *d, const char *name)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sync_compartment_create (d->vault, name, NULL, &error));
  g_assert_no_error (error);
}

static void
comp_grant (Dev *d, const char *name, Dev *to)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (sync_compartment_grant (d->vault, name, dev_id (to), NULL, &error));
  g_assert_no_error (error);
}

static gint64
comp_id (Dev *d, const char *name)
{
  g_autoptr (GError) error = NULL;

  return sp_vault_compartment_lookup (d->vault, name, &error);
}

/* Inserts an org into compartment @comp (NULL: main). */
static char *
org_in (Dev *d, const char *comp, const char *name, const char *notes)
{
  g_autoptr (GError) error = NULL;
  char *id;

  g_assert_true (sp_vault_set_default_compartment (d->vault, comp ? comp_id (d, comp) : 0, &error));
  id = insert_org (d, name, notes);
  g_assert_true (sp_vault_set_default_compartment (d->vault, 0, &error));
  return id;
}

/* The local compartment of record @id on the vault. */
static gint64
comp_of (SpVault *vault, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpRecord) rec = sp_vault_get (vault, id, &error);

  g_assert_no_error (error);
  return sp_record_get_compartment (rec);
}

static SyncCompartment *
listed (GPtrArray *list, const char *name)
{
  for (guint i = 0; i < list->len; i++)
    if (strcmp (((SyncCompartment *)list->pdata[i])->name, name) == 0)
      return list->pdata[i];
  return NULL;
}

static GPtrArray *
list_of (Dev *d, guint *total)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *list = sync_compartment_list (d->vault, total, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (list);
  return list;
}

static gboolean
bytes_have (GBytes *b, const char *needle)
{
  gsize len;
  const guint8 *d = b ? g_bytes_get_data (b, &len) : NULL;

  return d && contains_bytes (d, len, (const guint8 *)needle, strlen (needle));
}

/* Anything in the opened vault that names @m: a record, a change of any
 * device, a search hit, a sync-state value or key. */
static gboolean
vault_names (Dev *d, const char *m)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) hits = sp_vault_search (d->vault, m, NULL, 100, &error);
  g_autoptr (GPtrArray) changes = sp_vault_all_changes (d->vault, &error);
  g_autoptr (GPtrArray) keys = sp_vault_sync_keys (d->vault, "", &error);

  g_assert_no_error (error);
  if (hits->len > 0)
    return TRUE;
  for (guint i = 0; i < changes->len; i++)
    {
      const SpChange *ch = changes->pdata[i];
      if (g_strstr_len (ch->value ? ch->value : "", -1, m) || strstr (ch->record, m))
        return TRUE;
    }
  for (guint i = 0; i < keys->len; i++)
    {
      g_autoptr (GBytes) v = sp_vault_sync_get (d->vault, keys->pdata[i], NULL);
      if (strstr (keys->pdata[i], m) || bytes_have (v, m))
        return TRUE;
    }
  return FALSE;
}

/* TRUE if @needle is anywhere in the readable memory of process @pid. */
static gboolean
memory_has (GPid pid, const char *needle)
{
  g_autofree char *maps_path = g_strdup_printf ("/proc/%d/maps", (int)pid);
  g_autofree char *mem_path = g_strdup_printf ("/proc/%d/mem", (int)pid);
  g_autofree char *maps = NULL;
  g_auto (GStrv) lines = NULL;
  gboolean found = FALSE;
  int fd;

  g_assert_true (g_file_get_contents (maps_path, &maps, NULL, NULL));
  fd = open (mem_path, O_RDONLY);
  g_assert_cmpint (fd, >=, 0);
  lines = g_strsplit (maps, "\n", -1);
  for (guint i = 0; !found && lines[i] && lines[i][0]; i++)
    {
      guint64 lo, hi;
      char perms[8] = { 0 };
      g_autofree guint8 *buf = NULL;
      ssize_t got;

      if (sscanf (lines[i], "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x %4s", &lo, &hi, perms)
              != 3
          || perms[0] != 'r' || hi - lo > 512 * MIB || strstr (lines[i], "[vvar]"))
        continue;
      buf = g_malloc (hi - lo);
      got = pread (fd, buf, hi - lo, (off_t)lo);
      if (got > 0)
        found = contains_bytes (buf, (gsize)got, (const guint8 *)needle, strlen (needle));
    }
  close (fd);
  return found;
}

/* Runs one sync of @d as its own process (sync-dev-tool) and checks its
 * memory while it waits: none of @absent, every one of @present. */
static void
sync_in_process (Dev *d, const char *mode, const char *code, const char *const *absent,
                 const char *const *present)
{
  const char *tool = g_getenv ("SUPOLKA_SYNC_DEV_TOOL");
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) p = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  g_autofree char *input = g_strdup_printf ("%s\n%s\n", PASS, code ? code : "");
  GOutputStream *in;
  GPid pid;

  g_assert_nonnull (tool);
  dev_close (d);
  p = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                        tool, d->dir, mode, NULL);
  g_assert_no_error (error);
  in = g_subprocess_get_stdin_pipe (p);
  g_assert_true (g_output_stream_write_all (in, input, strlen (input), NULL, NULL, &error));
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (p));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (line, ==, "synced");
  pid = (GPid)g_ascii_strtoll (g_subprocess_get_identifier (p), NULL, 10);
  for (guint i = 0; absent && absent[i]; i++)
    if (memory_has (pid, absent[i]))
      g_error ("%s's memory holds %s after a sync", d->name, absent[i]);
  for (guint i = 0; present && present[i]; i++)
    if (!memory_has (pid, present[i]))
      g_error ("%s's memory lacks %s: the memory check cannot see", d->name, present[i]);
  g_assert_true (g_output_stream_close (in, NULL, &error));
  g_assert_true (g_subprocess_wait_check (p, NULL, &error));
  g_assert_no_error (error);
  dev_open (d);
}

/* ---- 1. Isolation ------------------------------------------------------------------------- */

static void
test_isolation (void)
{
  Net *n = net_new ();
  g_autofree char *legal = marker ("legal"), *region = marker ("region");
  g_autofree char *mx = marker ("MX"), *mx2 = marker ("MXB"), *my = marker ("MY");
  g_autofree char *m0 = marker ("M0"), *m02 = marker ("M0B");
  g_autofree char *rx = NULL, *ry = NULL, *r0 = NULL, *rx2 = NULL, *r02 = NULL;
  g_autoptr (GPtrArray) la = NULL, lb = NULL, lc = NULL;
  guint total = 0;

  comp_create (n->a, legal);
  comp_create (n->a, region);
  comp_grant (n->a, legal, n->b);
  comp_grant (n->a, region, n->b);
  comp_grant (n->a, region, n->c);
  rx = org_in (n->a, legal, mx, "legal notes");
  ry = org_in (n->a, region, my, "region notes");
  r0 = org_in (n->a, NULL, m0, "main notes");
  sync_all (n);

  g_assert_true (has_record (n->b, rx) && has_record (n->b, ry) && has_record (n->b, r0));
  g_assert_true (has_record (n->c, ry) && has_record (n->c, r0));
  g_assert_false (has_record (n->c, rx));
  g_assert_cmpint (comp_of (n->b->vault, rx), ==, comp_id (n->b, legal));

  /* Names, counts and holders as each device sees them. */
  la = list_of (n->a, &total);
  g_assert_cmpuint (total, ==, 2);
  g_assert_cmpuint (g_strv_length (listed (la, legal)->holders), ==, 2);
  lb = list_of (n->b, &total);
  g_assert_nonnull (listed (lb, legal));
  g_assert_cmpint (listed (lb, legal)->records, ==, 1);
  lc = list_of (n->c, &total);
  g_assert_cmpuint (total, ==, 2);    /* it knows there are two… */
  g_assert_null (listed (lc, legal)); /* …but not the other's name */
  g_assert_nonnull (listed (lc, region));

  /* C's vault, opened with its key, and the relay's folder. */
  g_assert_false (vault_names (n->c, mx));
  g_assert_false (vault_names (n->c, legal));
  g_assert_false (vault_names (n->c, rx));
  g_assert_true (vault_names (n->c, my)); /* the check can see */
  g_assert_false (sp_test_tree_contains (n->relay_dir, mx, strlen (mx)));
  g_assert_false (sp_test_tree_contains (n->relay_dir, legal, strlen (legal)));

  /* C's memory during a sync that receives a new batch of each. */
  rx2 = org_in (n->a, legal, mx2, "more");
  r02 = org_in (n->a, NULL, m02, "more");
  sync_ok (n->a, NULL, NULL);
  {
    const char *absent[] = { mx, mx2, legal, rx2, NULL };
    const char *present[] = { m02, NULL };
    sync_in_process (n->c, NULL, NULL, absent, present);
  }
  g_assert_true (has_record (n->c, r02));
  g_assert_false (has_record (n->c, rx2));
  g_assert_false (vault_names (n->c, mx2));
  net_free (n);
}

/* A device checks the chain and signature of batches it cannot open: a
 * hostile relay cannot drop or alter them unseen. */
static void
test_hostile_relay (void)
{
  Net *n = net_new ();
  g_autofree char *legal = marker ("legal"), *m0 = marker ("M0"), *m1 = marker ("M1");
  g_autofree char *rx = NULL, *r0 = NULL, *rx1 = NULL, *r1 = NULL, *sql = NULL;
  g_autoptr (GPtrArray) batches = NULL;
  SyncReport report = { 0 };
  StoredBatch *x;
  sqlite3 *db;

  comp_create (n->a, legal);
  comp_grant (n->a, legal, n->b);
  sync_all (n);
  /* An X batch then a main batch of A; the relay alters the first. */
  rx = org_in (n->a, legal, "x", "x");
  sync_ok (n->a, NULL, NULL);
  r0 = org_in (n->a, NULL, m0, "0");
  sync_ok (n->a, NULL, NULL);
  db = relay_db_open (n->relay_dir);
  batches = relay_db_batches (db, dev_id (n->a));
  x = batches->pdata[batches->len - 2];
  {
    /* One bit of the ciphertext, the length unchanged: only the signature
     * can tell, and C checks it though it cannot open the batch. */
    gsize len;
    const guint8 *orig = g_bytes_get_data (x->data, &len);
    g_autofree guint8 *bad = g_memdup2 (orig, len);
    sqlite3_stmt *st = NULL;

    bad[200] ^= 1;
    g_assert_cmpint (
        sqlite3_prepare_v2 (db, "UPDATE batches SET data = ?1 WHERE cursor = ?2", -1, &st, NULL),
        ==, SQLITE_OK);
    sqlite3_bind_blob (st, 1, bad, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64 (st, 2, x->cursor);
    g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
    sqlite3_finalize (st);
  }
  sync_ok (n->c, NULL, &report);
  g_assert_cmpuint (report.refused_batches, >=, 1); /* tampered, though not C's to open */
  g_assert_false (has_record (n->c, r0));           /* and the chain stops there */
  sync_report_clear (&report);
  /* Dropped instead: the gap is seen the same way. */
  g_clear_pointer (&sql, g_free);
  sql = g_strdup_printf ("DELETE FROM batches WHERE cursor = %" G_GINT64_FORMAT, x->cursor);
  db_exec (db, sql);
  sqlite3_close (db);
  rx1 = org_in (n->a, legal, "x1", "x1");
  r1 = org_in (n->a, NULL, m1, "1");
  sync_ok (n->a, NULL, NULL);
  sync_ok (n->b, NULL, &report);
  g_assert_cmpuint (report.refused_batches, >=, 1);
  g_assert_false (has_record (n->b, r0));
  sync_report_clear (&report);
  net_free (n);
}

/* ---- 2. Revoking one compartment ---------------------------------------------------------- */

static void
test_revoke (void)
{
  Net *n = net_new ();
  g_autofree char *legal = marker ("legal"), *region = marker ("region");
  g_autofree char *mx = marker ("MX"), *mx3 = marker ("MXC"), *my = marker ("MY");
  g_autofree char *rx = NULL, *ry = NULL, *rx3 = NULL, *key_name = NULL;
  g_autoptr (GPtrArray) before = NULL, after = NULL, lb = NULL;
  g_autoptr (GBytes) old_key = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) batches = NULL;
  g_autoptr (SpSecret) new_key = NULL;
  SyncStatus st1, st2;
  sqlite3 *db;
  GBytes *last;

  comp_create (n->a, legal);
  comp_create (n->a, region);
  comp_grant (n->a, legal, n->b);
  comp_grant (n->a, region, n->b);
  rx = org_in (n->a, legal, mx, "x");
  ry = org_in (n->a, region, my, "y");
  sync_all (n);
  g_assert_true (has_record (n->b, rx));
  before = list_of (n->a, NULL);
  key_name = g_strdup_printf ("ckey/%s/%010u", listed (before, legal)->cid, 1);
  old_key = sp_vault_sync_get (n->b->vault, key_name, NULL);
  g_assert_nonnull (old_key);
  status_of (n->a, &st1);

  g_assert_true (sync_compartment_revoke (n->a->vault, legal, dev_id (n->b), NULL, &error));
  g_assert_no_error (error);
  status_of (n->a, &st2);
  g_assert_cmpuint (st1.epoch, ==, st2.epoch); /* main keeps its key */
  after = list_of (n->a, NULL);
  g_assert_cmpuint (listed (after, legal)->cepoch, ==, 2);
  g_assert_cmpuint (listed (after, region)->cepoch, ==, 1); /* the other is untouched */
  g_assert_cmpuint (g_strv_length (listed (after, legal)->holders), ==, 1);

  sync_ok (n->b, NULL, NULL);
  g_assert_false (has_record (n->b, rx)); /* lost access: the records go */
  g_assert_true (has_record (n->b, ry));
  lb = list_of (n->b, NULL);
  g_assert_null (listed (lb, legal));
  g_assert_false (vault_names (n->b, mx));

  /* A later batch of the compartment: the old key does not open it. */
  rx3 = org_in (n->a, legal, mx3, "x3");
  sync_ok (n->a, NULL, NULL);
  sync_ok (n->b, NULL, NULL);
  g_assert_false (has_record (n->b, rx3));
  db = relay_db_open (n->relay_dir);
  batches = relay_db_batches (db, dev_id (n->a));
  sqlite3_close (db);
  last = ((StoredBatch *)batches->pdata[batches->len - 1])->data;
  g_free (key_name);
  key_name = g_strdup_printf ("ckey/%s/%010u", listed (after, legal)->cid, 2);
  new_key = sp_vault_sync_get_secret (n->a->vault, key_name, NULL);
  g_assert_nonnull (new_key);
  g_assert_true (sync_batch_key_matches (last, sp_secret_data (new_key)));
  g_assert_false (sync_batch_key_matches (last, g_bytes_get_data (old_key, NULL)));
  sync_status_clear (&st1);
  sync_status_clear (&st2);
  net_free (n);
}

/* Removing a device from the workspace rotates the compartments it held. */
static void
test_device_revoke (void)
{
  Net *n = net_new ();
  g_autofree char *legal = marker ("legal"), *region = marker ("region");
  g_autofree char *my = marker ("MY"), *r1 = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GError) error = NULL;
  guint not_rotated = 99;

  comp_create (n->a, legal);
  comp_create (n->a, region);
  comp_grant (n->a, region, n->b);
  comp_grant (n->a, region, n->c);
  sync_all (n);
  g_assert_true (sync_device_revoke_full (n->a->vault, dev_id (n->c), NULL, &not_rotated, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (not_rotated, ==, 0);
  list = list_of (n->a, NULL);
  g_assert_cmpuint (listed (list, region)->cepoch, ==, 2);
  g_assert_cmpuint (g_strv_length (listed (list, region)->holders), ==, 2);
  g_assert_cmpuint (listed (list, legal)->cepoch, ==, 1); /* C never held it */
  r1 = org_in (n->a, region, my, "after C left");
  sync_ok (n->a, NULL, NULL);
  sync_ok (n->b, NULL, NULL);
  g_assert_true (has_record (n->b, r1));
  g_clear_error (&error);
  error = sync_fails (n->c, NULL);
  g_assert_nonnull (error);
  g_assert_false (has_record (n->c, r1));
  net_free (n);
}

/* ---- 3. Links across compartments, and moves --------------------------------------------- */

static void
test_links_and_moves (void)
{
  Net *n = net_new ();
  g_autofree char *legal = marker ("legal"), *region = marker ("region");
  g_autofree char *who = marker ("Person"), *moved = marker ("Moved");
  g_autofree char *person = NULL, *event = NULL, *part = NULL, *rec = NULL, *v = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) hist_a = NULL, hist_b = NULL;
  g_autoptr (SpRecord) p = NULL;

  comp_create (n->a, legal);
  comp_create (n->a, region);
  comp_grant (n->a, legal, n->b);
  comp_grant (n->a, region, n->b);
  comp_grant (n->a, region, n->c);
  /* A participation in "region" of a person in "legal", at an event in main. */
  g_assert_true (sp_vault_set_default_compartment (n->a->vault, comp_id (n->a, legal), &error));
  person = sp_test_insert (n->a->vault, "person", "full_name", who, NULL);
  g_assert_true (sp_vault_set_default_compartment (n->a->vault, 0, &error));
  event = sp_test_insert (n->a->vault, "event", "title", "Training", NULL);
  g_assert_true (sp_vault_set_default_compartment (n->a->vault, comp_id (n->a, region), &error));
  part = sp_test_insert (n->a->vault, "participation", "person", person, "event", event, NULL);
  g_assert_true (sp_vault_set_default_compartment (n->a->vault, 0, &error));
  sync_all (n);

  /* B holds both: the link resolves to the person. */
  v = field_of (n->b, part, "person");
  g_assert_cmpstr (v, ==, person);
  p = sp_vault_get (n->b->vault, person, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sp_record_get_title (p), ==, who);
  /* C holds "region" only: the participation, its link to a record it does
   * not have (restricted: no title anywhere). */
  g_clear_pointer (&v, g_free);
  v = field_of (n->c, part, "person");
  g_assert_cmpstr (v, ==, person);
  g_assert_false (has_record (n->c, person));
  g_assert_false (vault_names (n->c, who));

  /* A move from "region" to "legal": B gets it (with its history) under the
   * new key, C loses it. */
  rec = org_in (n->a, region, moved, "before the move");
  sync_all (n);
  g_assert_true (has_record (n->c, rec));
  g_assert_true (sp_vault_update (n->a->vault, rec,
                                  (SpFieldValue[]){ { "notes", "edited in region" } }, 1, &error));
  g_assert_true (sp_vault_move (n->a->vault, rec, comp_id (n->a, legal), &error));
  g_assert_no_error (error);
  sync_all (n);
  g_assert_false (has_record (n->c, rec));
  g_assert_false (vault_names (n->c, moved));
  g_assert_true (has_record (n->b, rec));
  g_clear_pointer (&v, g_free);
  v = field_of (n->b, rec, "notes");
  g_assert_cmpstr (v, ==, "edited in region");
  g_assert_cmpint (comp_of (n->b->vault, rec), ==, comp_id (n->b, legal));
  hist_a = sp_vault_record_changes (n->a->vault, rec, &error);
  hist_b = sp_vault_record_changes (n->b->vault, rec, &error);
  g_assert_cmpuint (hist_b->len, ==, hist_a->len);
  net_free (n);
}

/* ---- 4. Travel ---------------------------------------------------------------------------- */

static void
test_travel (void)
{
  Net *n = net_new ();
  g_autofree char *legal = marker ("legal"), *region = marker ("region");
  g_autofree char *mx = marker ("MX"), *my = marker ("MY"), *mb = marker ("MB");
  g_autofree char *rx = NULL, *rb = NULL, *ry = NULL, *dump_before = NULL, *dump_after = NULL;
  g_autofree char *code = NULL, *wrong = NULL, *unsent = NULL, *during = NULL;
  const char *keep[] = { NULL, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) lb = NULL, hist_before = NULL, hist_after = NULL;
  guint8 t[16];

  comp_create (n->a, legal);
  comp_create (n->a, region);
  comp_grant (n->a, legal, n->b);
  comp_grant (n->a, region, n->b);
  rx = org_in (n->a, legal, mx, "legal notes");
  ry = org_in (n->a, region, my, "region notes");
  sync_all (n);
  /* B's own record in "legal", with history. */
  rb = org_in (n->b, legal, mb, "by B");
  g_assert_true (
      sp_vault_update (n->b->vault, rb, (SpFieldValue[]){ { "notes", "by B, v2" } }, 1, &error));
  /* Unsent changes refuse travel, naming the record. */
  keep[0] = region;
  g_assert_false (sync_travel_start (n->b->vault, keep, NULL, &code, &error));
  g_assert_error (error, SYNC_ERROR, SYNC_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, rb));
  g_assert_null (code);
  g_clear_error (&error);
  sync_all (n);
  dump_before = dump_vault (n->b);
  hist_before = sp_vault_record_changes (n->b->vault, rb, &error);

  g_assert_true (sync_travel_start (n->b->vault, keep, NULL, &code, &error));
  g_assert_no_error (error);
  g_assert_true (sync_travel_code_parse (code, t, &error));
  g_assert_false (has_record (n->b, rx));
  g_assert_false (has_record (n->b, rb));
  g_assert_true (has_record (n->b, ry));
  g_assert_false (vault_names (n->b, mx));
  g_assert_false (vault_names (n->b, mb));
  g_assert_false (vault_names (n->b, legal));
  g_assert_false (sp_test_tree_contains (n->b->dir, mx, strlen (mx)));
  g_assert_false (sp_test_tree_contains (n->b->dir, legal, strlen (legal)));
  lb = list_of (n->b, NULL);
  g_assert_null (listed (lb, legal));

  /* The journey: syncing goes on, nothing of "legal" comes back. */
  during = org_in (n->a, legal, "during", "written while B travels");
  sync_all (n);
  g_assert_false (has_record (n->b, during));
  g_assert_false (has_record (n->b, rx));

  /* A mistyped code and a wrong code change nothing. */
  unsent = g_strdup (code);
  unsent[0] = unsent[0] == 'z' ? 'y' : 'z';
  g_assert_false (sync_travel_end (n->b->vault, unsent, NULL, &error));
  g_clear_error (&error);
  randombytes_buf (t, sizeof t);
  wrong = sync_travel_code_format (t);
  g_assert_false (sync_travel_end (n->b->vault, wrong, NULL, &error));
  g_assert_error (error, SYNC_ERROR, SYNC_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (has_record (n->b, rx));

  /* The right code: everything back, with what was written meanwhile. */
  {
    const char *absent[] = { NULL };
    const char *present[] = { mx, NULL };
    sync_in_process (n->b, "travel-end", code, absent, present);
  }
  g_assert_true (has_record (n->b, rx));
  g_assert_true (has_record (n->b, during));
  g_assert_true (has_record (n->b, rb));
  sync_all (n);
  /* Every record, field and history entry: B holds what A (which holds
   * everything) holds, and B's own record keeps its whole history. */
  dump_after = dump_vault (n->b);
  g_clear_pointer (&dump_before, g_free);
  dump_before = dump_vault (n->a);
  g_assert_cmpstr (dump_after, ==, dump_before);
  hist_after = sp_vault_record_changes (n->b->vault, rb, &error);
  g_assert_cmpuint (hist_after->len, ==, hist_before->len);
  /* Nothing left unsent by the rescan; the stash is gone. */
  {
    SyncStatus st;
    status_of (n->b, &st);
    g_assert_cmpint (st.pending_changes, ==, 0);
    sync_status_clear (&st);
  }
  g_assert_false (sync_travel_end (n->b->vault, code, NULL, &error));
  g_assert_error (error, SYNC_ERROR, SYNC_ERROR_NOT_FOUND);
  net_free (n);
}

/* A grant during the journey brings a compartment back without the code. */
static void
test_travel_grant (void)
{
  Net *n = net_new ();
  g_autofree char *legal = marker ("legal"), *mx = marker ("MX"), *mb = marker ("MB");
  g_autofree char *rx = NULL, *rb = NULL, *code = NULL, *before = NULL, *after = NULL;
  g_autoptr (GError) error = NULL;

  comp_create (n->a, legal);
  comp_grant (n->a, legal, n->b);
  rx = org_in (n->a, legal, mx, "x");
  sync_all (n);
  rb = org_in (n->b, legal, mb, "by B");
  sync_all (n);
  before = dump_vault (n->b);
  g_assert_true (sync_travel_start (n->b->vault, NULL, NULL, &code, &error));
  g_assert_no_error (error);
  g_assert_false (has_record (n->b, rx) || has_record (n->b, rb));
  sync_all (n); /* B's new compartment box key reaches A */
  comp_grant (n->a, legal, n->b);
  sync_ok (n->b, NULL, NULL);
  g_assert_true (has_record (n->b, rx));
  g_assert_true (has_record (n->b, rb)); /* its own, from its batches on the relay */
  after = dump_vault (n->b);
  g_assert_cmpstr (after, ==, before);
  /* The code still closes the journey (and deletes the stash). */
  g_assert_true (sync_travel_end (n->b->vault, code, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (sync_travel_end (n->b->vault, code, NULL, &error));
  g_assert_error (error, SYNC_ERROR, SYNC_ERROR_NOT_FOUND);
  net_free (n);
}

/* ---- 5. Snapshots: one section per compartment ------------------------------------------ */

static void
test_snapshot (void)
{
  Net *n = net_new ();
  Dev *d = dev_new ("D");
  g_autofree char *legal = marker ("legal");
  g_autofree char *mx = marker ("MX"), *m0 = marker ("M0");
  g_autofree char *rx = NULL, *r0 = NULL;
  g_autoptr (GError) error = NULL;

  comp_create (n->a, legal);
  comp_grant (n->a, legal, n->b);
  rx = org_in (n->a, legal, mx, "x");
  r0 = org_in (n->a, NULL, m0, "0");
  sync_all (n);
  g_assert_true (sync_snapshot_upload (n->a->vault, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (sp_test_tree_contains (n->relay_dir, mx, strlen (mx)));

  /* A new device starts from the snapshot: main's part only. */
  enrol (n->a, d, NULL);
  sync_ok (d, NULL, NULL);
  g_assert_true (has_record (d, r0));
  g_assert_false (has_record (d, rx));
  g_assert_false (vault_names (d, mx));
  /* Granted later: the compartment's section of the snapshot (its batches
   * were pruned) brings its history. */
  sync_ok (n->a, NULL, NULL);
  comp_grant (n->a, legal, d);
  sync_ok (d, NULL, NULL);
  g_assert_true (has_record (d, rx));
  g_assert_cmpint (comp_of (d->vault, rx), ==, comp_id (d, legal));
  dev_free (d);
  net_free (n);
}

/* The return code: 12 words, case and separators free, a checksum. */
static void
test_return_code (void)
{
  guint8 t[16], back[16];
  g_autoptr (GError) error = NULL;

  for (int i = 0; i < 200; i++)
    {
      g_autofree char *code = NULL, *upper = NULL, *swapped = NULL;
      g_auto (GStrv) w = NULL;

      randombytes_buf (t, sizeof t);
      code = sync_travel_code_format (t);
      w = g_strsplit (code, " ", -1);
      g_assert_cmpuint (g_strv_length (w), ==, 12);
      g_assert_true (sync_travel_code_parse (code, back, &error));
      g_assert_true (memcmp (t, back, 16) == 0);
      upper = g_ascii_strup (code, -1);
      g_strdelimit (upper, " ", '-');
      g_assert_true (sync_travel_code_parse (upper, back, &error));
      g_assert_true (memcmp (t, back, 16) == 0);
    }
  /* The BIP-39 test vector for 16 zero bytes. */
  memset (t, 0, sizeof t);
  {
    g_autofree char *zero = sync_travel_code_format (t);
    g_assert_cmpstr (zero, ==,
                     "abandon abandon abandon abandon abandon abandon abandon abandon abandon "
                     "abandon abandon about");
  }
  g_assert_false (sync_travel_code_parse ("abandon abandon abandon abandon abandon abandon "
                                          "abandon abandon abandon abandon abandon abandon",
                                          back, &error));
  g_assert_error (error, SYNC_ERROR, SYNC_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (sync_travel_code_parse ("abandon abandon", back, &error));
  g_clear_error (&error);
  g_assert_false (sync_travel_code_parse ("abandon abandon abandon abandon abandon abandon "
                                          "abandon abandon abandon abandon abandon zzzz",
                                          back, &error));
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  sync_test_init (&argc, &argv);
  g_test_add_func ("/sync/compartment/return-code", test_return_code);
  g_test_add_func ("/sync/compartment/isolation", test_isolation);
  g_test_add_func ("/sync/compartment/hostile-relay", test_hostile_relay);
  g_test_add_func ("/sync/compartment/revoke", test_revoke);
  g_test_add_func ("/sync/compartment/device-revoke", test_device_revoke);
  g_test_add_func ("/sync/compartment/links-and-moves", test_links_and_moves);
  g_test_add_func ("/sync/compartment/travel", test_travel);
  g_test_add_func ("/sync/compartment/travel-grant", test_travel_grant);
  g_test_add_func ("/sync/compartment/snapshot", test_snapshot);
  return sync_test_finish (g_test_run ());
}
