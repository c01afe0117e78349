/* SPDX-License-Identifier: GPL-3.0-or-later */
/* bench-vault.c — store, search and unlock, at each size.
 *
 * Two vaults grow side by side through the same core code: the real one
 * (SQLCipher) and a baseline whose database is not encrypted
 * (sp_vault_create_unencrypted_for_bench: the same SQLCipher library without a
 * key is plain SQLite; libsqlite3 itself must not be linked next to it). The
 * same rows go into both, 1,000 per transaction, alternating which vault goes
 * first so that a busy machine slows both alike. At each size:
 *
 *   store   time per 1,000-record transaction, encrypted vs plain (≤ 1.3)
 *   search  1,000 search-as-you-type queries (sp_vault_search, 50 results, as a
 *           list shows them) vs the same queries as LIKE '%word%' scans of the
 *           same folded text, same ordering, same records loaded (≥ 50× faster;
 *           p99 < 10 ms)
 *   unlock  passphrase → first screen (sp_vault_open + the first page of
 *           organisations) minus Argon2id alone (crypto_pwhash, same profile,
 *           both key slots as sp_vault_open tries both) (≤ 50 ms) */
#include <glib/gstdio.h>
#include <math.h>
#include <sodium.h>
#include <time.h>

#include "bench-data.h"
#include "bench.h"
#include "sp-vault-private.h"

#define BATCH 1000
#define PAGE 50
#define PASSPHRASE "korova-maslo-1863-kastus"

typedef struct
{
  Bench *b;
  SpVault *enc;
  SpVault *plain;
  char *enc_dir;
  SpKdfProfile profile;
  BenchData *data;
  guint done; /* records in each vault */
  guint orgs; /* of which organisations */
  double enc_s, plain_s;
  double enc_cpu, plain_cpu;
  gboolean broken;
} Vaults;

static SpSecret *
passphrase (void)
{
  return sp_secret_new_from_data (PASSPHRASE, strlen (PASSPHRASE));
}

/* CPU seconds of this thread: what other processes on a busy machine cannot
 * inflate (every query and every unlock runs in the calling thread). */
static double
cpu_now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One transaction of @n records into @vault; seconds, or -1. */
static double
insert_batch (Vaults *v, SpVault *vault, GPtrArray *rows, GArray *counts)
{
  g_autoptr (GError) error = NULL;
  double t0 = bench_now ();

  if (!sp_vault_begin (vault, &error))
    goto fail;
  for (guint i = 0; i < counts->len; i++)
    {
      const SpFieldValue *values = rows->pdata[i];
      g_autofree char *id = sp_vault_insert (vault, i % 2 == 0 ? "org" : "person", values,
                                             g_array_index (counts, gsize, i), &error);
      if (id == NULL)
        {
          sp_vault_rollback (vault);
          goto fail;
        }
    }
  if (!sp_vault_commit (vault, &error))
    goto fail;
  return bench_now () - t0;

fail:
  bench_check (v->b, FALSE, "insert: %s", error ? error->message : "?");
  v->broken = TRUE;
  return -1;
}

/* The rows of one batch as deep copies (the generator reuses its strings). */
static void
make_rows (Vaults *v, guint n, GPtrArray *rows, GArray *counts)
{
  for (guint i = 0; i < n; i++)
    {
      SpFieldValue tmp[BENCH_DATA_MAX_VALUES];
      /* Even rows are organisations, odd rows people (insert_batch agrees). */
      gsize k = i % 2 == 0 ? bench_data_org (v->data, tmp) : bench_data_person (v->data, tmp);
      SpFieldValue *copy = g_new0 (SpFieldValue, k);

      for (gsize j = 0; j < k; j++)
        {
          copy[j].field = tmp[j].field; /* static */
          copy[j].value = g_strdup (tmp[j].value);
        }
      g_ptr_array_add (rows, copy);
      g_array_append_val (counts, k);
    }
}

static void
free_rows (GPtrArray *rows, GArray *counts)
{
  for (guint i = 0; i < rows->len; i++)
    {
      SpFieldValue *values = rows->pdata[i];
      for (gsize j = 0; j < g_array_index (counts, gsize, i); j++)
        g_free ((char *)values[j].value);
      g_free (values);
    }
  g_ptr_array_set_size (rows, 0);
  g_array_set_size (counts, 0);
}

static void
grow_to (Vaults *v, guint size)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new ();
  g_autoptr (GArray) counts = g_array_new (FALSE, FALSE, sizeof (gsize));
  double enc = 0, plain = 0;
  guint from = v->done, batches = 0;

  while (v->done < size && !v->broken)
    {
      guint n = MIN (BATCH, size - v->done);
      double te, tp, c0, c1;

      make_rows (v, n, rows, counts);
      v->orgs += (n + 1) / 2;
      /* Alternate which goes first: neither always gets the warmer cache. */
      c0 = cpu_now ();
      if (batches % 2 == 0)
        {
          te = insert_batch (v, v->enc, rows, counts);
          c1 = cpu_now ();
          tp = insert_batch (v, v->plain, rows, counts);
          v->enc_cpu += c1 - c0;
          v->plain_cpu += cpu_now () - c1;
        }
      else
        {
          tp = insert_batch (v, v->plain, rows, counts);
          c1 = cpu_now ();
          te = insert_batch (v, v->enc, rows, counts);
          v->plain_cpu += c1 - c0;
          v->enc_cpu += cpu_now () - c1;
        }
      free_rows (rows, counts);
      enc += te;
      plain += tp;
      v->done += n;
      batches++;
    }
  if (v->broken)
    return;
  v->enc_s += enc;
  v->plain_s += plain;
  {
    g_autofree char *what
        = g_strdup_printf ("store at %u records: ms per transaction of %u (records %u–%u)", size,
                           BATCH, from + 1, size);
    bench_report (v->b,
                  &(BenchRow){ "store", what, enc * 1000 / batches, "ms", plain * 1000 / batches,
                               "unencrypted", BENCH_TARGET_RATIO_MAX, 1.3 });
  }
}

/* ---- Search ---- */

/* The LIKE baseline: the same query shape as sp_vault_search (all words must
 * match, live records, ordered by title, PAGE records loaded), with
 * LIKE '%word%' over the same folded text instead of the FTS index. */
static GPtrArray *
like_search (SpVault *vault, const char *text, guint limit, gint64 *count, GError **error)
{
  g_autofree char *match = sp_search_match_expr (text);
  g_auto (GStrv) words = g_strsplit (match ? match : "", " ", -1);
  g_autoptr (GString) sql = g_string_new (NULL);
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify)sp_record_unref);
  g_autoptr (GArray) rowids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (sqlite3_stmt) st = NULL;
  int rc;

  if (match == NULL)
    return g_steal_pointer (&out);
  g_string_append (sql, count ? "SELECT count(*)" : "SELECT r.rowid");
  g_string_append (sql, " FROM records r WHERE r.cl % 2 = 1 AND r.rowid IN (SELECT docid FROM "
                        "search WHERE 1");
  for (guint i = 0; words[i]; i++)
    g_string_append (sql, " AND body LIKE ?");
  g_string_append (sql, ")");
  if (!count)
    g_string_append_printf (sql, " ORDER BY r.sort_key, r.id LIMIT %u", limit);
  st = sp_prepare (vault, sql->str, error);
  if (st == NULL)
    return NULL;
  for (guint i = 0; words[i]; i++)
    {
      g_autofree char *w = g_strdup (words[i]);
      g_autofree char *pattern = NULL;

      w[strlen (w) - 1] = '\0'; /* the FTS prefix star */
      pattern = g_strdup_printf ("%%%s%%", w);
      sqlite3_bind_text (st, (int)i + 1, pattern, -1, SQLITE_TRANSIENT);
    }
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      gint64 r = sqlite3_column_int64 (st, 0);
      g_array_append_val (rowids, r);
    }
  if (rc != SQLITE_DONE)
    {
      sp_sqlite_error (sp_vault_get_db (vault), rc, error);
      return NULL;
    }
  if (count)
    {
      *count = rowids->len ? g_array_index (rowids, gint64, 0) : 0;
      return g_steal_pointer (&out);
    }
  for (guint i = 0; i < rowids->len; i++)
    {
      SpRecord *rec = sp_vault_load_record (vault, g_array_index (rowids, gint64, i), error);
      if (rec == NULL)
        return NULL;
      g_ptr_array_add (out, rec);
    }
  return g_steal_pointer (&out);
}

static void
bench_search_at (Vaults *v, guint size, GPtrArray *queries)
{
  g_autoptr (GArray) fts = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) fts_cpu = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) like = g_array_new (FALSE, FALSE, sizeof (double));
  guint step = size >= 100000 ? 10 : 1; /* LIKE scans are slow: every step-th query */
  guint found = 0, checked = 0;

  for (guint i = 0; i < queries->len; i++)
    {
      g_autoptr (GError) error = NULL;
      double c0 = cpu_now (), t0 = bench_now ();
      g_autoptr (GPtrArray) res = sp_vault_search (v->enc, queries->pdata[i], NULL, PAGE, &error);
      double t = bench_now () - t0, c = cpu_now () - c0;

      if (!bench_check (v->b, res != NULL, "search \"%s\": %s", (char *)queries->pdata[i],
                        error ? error->message : "?"))
        return;
      g_array_append_val (fts, t);
      g_array_append_val (fts_cpu, c);
      found += res->len > 0;
    }
  for (guint i = 0; i < queries->len; i += step)
    {
      g_autoptr (GError) error = NULL;
      double t0 = bench_now ();
      g_autoptr (GPtrArray) res = like_search (v->enc, queries->pdata[i], PAGE, NULL, &error);
      double t = bench_now () - t0;

      if (!bench_check (v->b, res != NULL, "LIKE \"%s\": %s", (char *)queries->pdata[i],
                        error ? error->message : "?"))
        return;
      g_array_append_val (like, t);
    }
  /* Correctness, untimed: a prefix of a word is a substring of the text, so
   * the index can never find more than the scan; and the queries are typed
   * from names that exist, so nearly all find something. */
  for (guint i = 0; i < queries->len; i += step * (bench_mode (v->b) == BENCH_MODE_FULL ? 10 : 1))
    {
      g_autoptr (GError) error = NULL;
      SpFilter f = { .search = queries->pdata[i] };
      gint64 n_fts = sp_vault_count (v->enc, NULL, &f, &error);
      gint64 n_like = -1;
      g_autoptr (GPtrArray) none = like_search (v->enc, queries->pdata[i], 0, &n_like, &error);

      bench_check (v->b, n_fts >= 0 && none != NULL && n_fts <= n_like,
                   "search \"%s\": index found %" G_GINT64_FORMAT ", scan %" G_GINT64_FORMAT,
                   (char *)queries->pdata[i], n_fts, n_like);
      checked++;
    }
  /* Not all: two-word queries need a person of that name in that town, and a
   * Latin prefix cut inside a digraph ("Mat" of "Matskevich", folded "mack…")
   * matches nothing yet. But most must, or the index is not being used. */
  bench_check (v->b, found >= queries->len / 2, "only %u of %u queries found anything", found,
               queries->len);
  if (size == bench_sizes (v->b)[0])
    bench_note (v->b, "search at %u records: %u of %u typed queries found something", size, found,
                queries->len);
  {
    g_autofree char *what_median
        = g_strdup_printf ("search at %u records: median of %u typed queries (LIKE: %u of them)",
                           size, fts->len, like->len);
    g_autofree char *what_p99 = g_strdup_printf ("search at %u records: p99", size);
    g_autofree char *what_cpu
        = g_strdup_printf ("search at %u records: p99 in CPU time of the querying thread", size);
    double like_median = bench_quantile (like, 0.5), like_p99 = bench_quantile (like, 0.99);

    bench_report (v->b, &(BenchRow){ "search", what_median, bench_quantile (fts, 0.5) * 1000, "ms",
                                     like_median * 1000, "LIKE scan", BENCH_TARGET_RATIO_MIN, 50 });
    bench_report (v->b, &(BenchRow){ "search", what_p99, bench_quantile (fts, 0.99) * 1000, "ms",
                                     like_p99 * 1000, "LIKE scan", BENCH_TARGET_VALUE_MAX, 10 });
    bench_report (v->b, &(BenchRow){ "search", what_cpu, bench_quantile (fts_cpu, 0.99) * 1000,
                                     "ms", NAN, NULL, BENCH_TARGET_VALUE_MAX, 10 });
  }
}

/* ---- Unlock ---- */

/* Wall and CPU seconds of Argon2id alone, as sp_vault_open runs it: twice
 * (both key slots), with the profile's limits. */
static void
argon2_both_slots (SpKdfProfile profile, double *wall, double *cpu)
{
  guint64 ops;
  gsize mem;
  guint8 salt[crypto_pwhash_SALTBYTES], key[32];
  double t0, c0;

  sp_kdf_profile_limits (profile, &ops, &mem);
  randombytes_buf (salt, sizeof salt);
  c0 = cpu_now ();
  t0 = bench_now ();
  for (int slot = 0; slot < 2; slot++)
    if (crypto_pwhash (key, sizeof key, PASSPHRASE, strlen (PASSPHRASE), salt, ops, mem,
                       crypto_pwhash_ALG_ARGON2ID13)
        != 0)
      {
        *wall = *cpu = NAN;
        return;
      }
  *wall = bench_now () - t0;
  *cpu = cpu_now () - c0;
}

static void
bench_unlock_at (Vaults *v, guint size)
{
  g_autoptr (GArray) total = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) open = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) list = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) kdf = g_array_new (FALSE, FALSE, sizeof (double));
  guint rounds = bench_mode (v->b) == BENCH_MODE_SMOKE ? 2 : 9;
  double overhead;

  for (guint r = 0; r < rounds; r++)
    {
      g_autoptr (SpSecret) pass = passphrase ();
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) first = NULL;
      SpFilter page = { .limit = PAGE };
      double a, a_cpu, t0, t1, t2;

      sp_vault_close (v->enc);
      v->enc = NULL;
      argon2_both_slots (v->profile, &a, &a_cpu);
      t0 = bench_now ();
      v->enc = sp_vault_open (v->enc_dir, pass, &error);
      t1 = bench_now ();
      if (v->enc)
        first = sp_vault_list (v->enc, "org", &page, &error);
      t2 = bench_now ();
      if (!bench_check (v->b, v->enc != NULL && first != NULL && first->len > 0, "unlock: %s",
                        error ? error->message : "nothing listed"))
        {
          v->broken = v->enc == NULL;
          return;
        }
      g_array_append_val (kdf, a);
      t2 -= t1;
      g_array_append_val (list, t2);
      t1 -= t0;
      g_array_append_val (open, t1);
      t1 += t2;
      g_array_append_val (total, t1);
    }
  /* The first page is measured directly; the open only as a difference. */
  overhead = bench_quantile (open, 0.5) - bench_quantile (kdf, 0.5) + bench_quantile (list, 0.5);
  {
    g_autofree char *what_total = g_strdup_printf (
        "unlock at %u records: passphrase → first page of orgs (median of %u)", size, rounds);
    g_autofree char *what_over = g_strdup_printf (
        "unlock at %u records: the same minus Argon2id (median open − median Argon2id + first "
        "page)",
        size);
    g_autofree char *what_list
        = g_strdup_printf ("unlock at %u records: of which the first page (%u orgs)", size, PAGE);

    bench_report (v->b, &(BenchRow){ "unlock", what_total, bench_quantile (total, 0.5) * 1000, "ms",
                                     bench_quantile (kdf, 0.5) * 1000, "Argon2id ×2 slots",
                                     BENCH_TARGET_NONE, 0 });
    bench_report (v->b, &(BenchRow){ "unlock", what_over, overhead * 1000, "ms", NAN, NULL,
                                     BENCH_TARGET_VALUE_MAX, 50 });
    bench_report (v->b, &(BenchRow){ "unlock", what_list, bench_quantile (list, 0.5) * 1000, "ms",
                                     NAN, NULL, BENCH_TARGET_NONE, 0 });
  }
}

void
bench_vault (Bench *b)
{
  Vaults v = { .b = b, .profile = SP_KDF_INTERACTIVE };
  g_autoptr (SpSecret) pass = passphrase ();
  g_autoptr (GError) error = NULL;
  g_autofree char *plain_dir = bench_tmp_dir (b, "plain");
  g_autoptr (BenchData) qdata = bench_data_new (1863);
  g_autoptr (GPtrArray) queries
      = bench_data_queries (qdata, bench_mode (b) == BENCH_MODE_SMOKE ? 200 : 1000);
  const guint *sizes = bench_sizes (b);
  guint last = 0;

  v.enc_dir = bench_tmp_dir (b, "vault");
  v.data = bench_data_new (1517);
  v.enc = sp_vault_create (v.enc_dir, pass, v.profile, &error);
  if (v.enc)
    v.plain = sp_vault_create_unencrypted_for_bench (plain_dir, &error);
  if (!bench_check (b, v.enc && v.plain, "create: %s", error ? error->message : "?"))
    goto out;

  for (guint i = 0; sizes[i] && !v.broken; i++)
    {
      bench_progress (b, "growing both vaults to %u records", sizes[i]);
      grow_to (&v, sizes[i]);
      if (v.broken)
        break;
      last = sizes[i];
      bench_progress (b, "search at %u records", sizes[i]);
      bench_search_at (&v, sizes[i], queries);
      bench_progress (b, "unlock at %u records", sizes[i]);
      bench_unlock_at (&v, sizes[i]);
    }
  if (!v.broken && last > 0)
    {
      g_autofree char *what = g_strdup_printf (
          "store: insert %u orgs + %u people through the core API, %u per transaction", v.orgs,
          last - v.orgs, BATCH);
      gint64 orgs = sp_vault_count (v.enc, "org", NULL, NULL);
      gint64 people = sp_vault_count (v.enc, "person", NULL, NULL);
      gint64 plain_orgs = sp_vault_count (v.plain, "org", NULL, NULL);

      bench_check (b, orgs == v.orgs && people == last - v.orgs && plain_orgs == orgs,
                   "counts: %" G_GINT64_FORMAT " orgs, %" G_GINT64_FORMAT
                   " people, %" G_GINT64_FORMAT " plain orgs; expected %u + %u",
                   orgs, people, plain_orgs, v.orgs, last - v.orgs);
      bench_report (b, &(BenchRow){ "store", what, v.enc_s, "s", v.plain_s, "unencrypted",
                                    BENCH_TARGET_RATIO_MAX, 1.3 });
      bench_report (b, &(BenchRow){ "store", "store: the same, CPU time of the inserting thread",
                                    v.enc_cpu, "s", v.plain_cpu, "unencrypted",
                                    BENCH_TARGET_RATIO_MAX, 1.3 });
    }
  bench_note (b,
              "store/search/unlock: KDF profile \"%s\" for the vault; the unlock figure "
              "subtracts Argon2id measured with the same profile, so it does not depend on it",
              sp_kdf_profile_to_string (v.profile));
  bench_note (b,
              "search: %u results per query (one screen), all kinds; LIKE '%%word%%' over the "
              "same folded text, same ordering and record loading; at 100k records and up "
              "every 10th query for the scan",
              PAGE);

out:
  sp_vault_close (v.enc);
  sp_vault_close (v.plain);
  bench_data_free (v.data);
  g_free (v.enc_dir);
}

/* ---- size: bytes on disk per record (issue #20) ---- */

typedef struct
{
  SpVault *vault;
  char *dir;
} SizeVault;

static const char *const org_csv_columns[]
    = { "name",   "name_alt", "kind",  "status",  "member_since", "region",     "locality",
        "themes", "email",    "phone", "website", "notes",        "sensitivity" };

/* One CSV row (RFC 4180 quoting) of the organisation's values under
 * org_csv_columns: what an import of the same rows would have read. */
static void
append_csv_row (GString *csv, const SpFieldValue *values, gsize n)
{
  for (guint c = 0; c < G_N_ELEMENTS (org_csv_columns); c++)
    {
      const char *v = NULL;

      for (gsize i = 0; i < n && !v; i++)
        if (g_str_equal (values[i].field, org_csv_columns[c]))
          v = values[i].value;
      if (c > 0)
        g_string_append_c (csv, ',');
      if (v && strpbrk (v, ",\"\n\r"))
        {
          g_string_append_c (csv, '"');
          for (const char *p = v; *p; p++)
            g_string_append_printf (csv, *p == '"' ? "\"\"" : "%c", *p);
          g_string_append_c (csv, '"');
        }
      else if (v)
        g_string_append (csv, v);
    }
  g_string_append (csv, "\r\n");
}

/* Bytes of the database files once the WAL is checkpointed into vault.db. */
static gint64
vault_bytes (SizeVault *sv)
{
  gint64 total = 0;
  const char *const names[] = { "vault.db", "vault.db-wal" };

  sqlite3_exec (sp_vault_get_db (sv->vault), "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (sv->dir, names[i], NULL);
      GStatBuf st;

      if (g_stat (path, &st) == 0)
        total += st.st_size;
    }
  return total;
}

/* One transaction of BATCH organisations with exactly 9 values each. */
static gboolean
size_insert_batch (Bench *b, SizeVault *sv, BenchData *data, GString *csv)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = sp_vault_begin (sv->vault, &error);

  for (guint i = 0; ok && i < BATCH; i++)
    {
      SpFieldValue values[BENCH_DATA_MAX_VALUES];
      g_autofree char *id = NULL;
      gsize k;

      do
        k = bench_data_org (data, values);
      while (k != 9);
      if (csv)
        append_csv_row (csv, values, k);
      ok = (id = sp_vault_insert (sv->vault, "org", values, k, &error)) != NULL;
    }
  if (ok)
    ok = sp_vault_commit (sv->vault, &error);
  else
    sp_vault_rollback (sv->vault);
  return bench_check (b, ok, "size: insert: %s", error ? error->message : "?");
}

static void
size_report (Bench *b, guint size, gint64 enc, gint64 plain, gsize csv_bytes)
{
  g_autofree char *what
      = g_strdup_printf ("size at %u orgs of 9 fields: encrypted vault bytes per record", size);
  g_autofree char *what_csv = g_strdup_printf (
      "size at %u orgs: encrypted vault / the same rows as CSV (%.1f MB)", size, csv_bytes / 1e6);

  bench_report (b, &(BenchRow){ "size", what, (double)enc / size, "B", (double)plain / size,
                                "unencrypted", BENCH_TARGET_VALUE_MAX, 1024 });
  bench_report (b, &(BenchRow){ "size", what_csv, (double)enc, "B", (double)csv_bytes, "CSV",
                                BENCH_TARGET_RATIO_MAX, 4 });
}

/* Organisations with 9 fields (as issue #20's import), 1,000 per
 * transaction, into an encrypted and a plain vault: bytes on disk per record
 * and against the CSV of the same rows. SUPOLKA_BENCH_SIZE_DIR keeps the
 * vaults there (for a per-table breakdown of the plain one with
 * tests/bench/vault-sizes.py). */
void
bench_size (Bench *b)
{
  g_autoptr (SpSecret) pass = passphrase ();
  g_autoptr (GError) error = NULL;
  g_autoptr (BenchData) enc_data = bench_data_new (2020);
  g_autoptr (BenchData) plain_data = bench_data_new (2020);
  g_autoptr (GString) csv = g_string_new ("name,name_alt,kind,status,member_since,region,"
                                          "locality,themes,email,phone,website,notes,"
                                          "sensitivity\r\n");
  const char *keep = g_getenv ("SUPOLKA_BENCH_SIZE_DIR");
  SizeVault enc = { 0 }, plain = { 0 };
  const guint *sizes = bench_sizes (b);
  guint done = 0;
  gboolean ok;

  enc.dir = keep ? g_build_filename (keep, "vault", NULL) : bench_tmp_dir (b, "size-vault");
  plain.dir = keep ? g_build_filename (keep, "plain", NULL) : bench_tmp_dir (b, "size-plain");
  ok = (enc.vault = sp_vault_create (enc.dir, pass, SP_KDF_INTERACTIVE, &error))
       && (plain.vault = sp_vault_create_unencrypted_for_bench (plain.dir, &error));
  bench_check (b, ok, "size: create: %s", error ? error->message : "?");
  for (guint i = 0; ok && sizes[i]; i++)
    {
      bench_progress (b, "size: growing both vaults to %u organisations", sizes[i]);
      while (ok && done < sizes[i])
        {
          ok = size_insert_batch (b, &enc, enc_data, csv)
               && size_insert_batch (b, &plain, plain_data, NULL);
          done += BATCH;
        }
      if (ok)
        size_report (b, done, vault_bytes (&enc), vault_bytes (&plain), csv->len);
    }
  bench_note (b,
              "size: vault.db + WAL after a checkpoint; page size %d, SQLCipher reserves 48 "
              "bytes of each page (IV and HMAC)",
              SP_PAGE_SIZE);
  sp_vault_close (enc.vault);
  sp_vault_close (plain.vault);
  g_free (enc.dir);
  g_free (plain.dir);
}
