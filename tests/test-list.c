/* Lists and search pages: the two ways a page is computed (walking the title
 * index, or looking up every match and sorting) give the same rows.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "sp-vault-private.h"
#include "test-util.h"

static SpVault *vault;
static char *vault_dir;
static GPtrArray *deleted; /* ids */

/* Deterministic names from syllables: many share first letters, as real
 * names do. */
static const char *const syll[] = { "ka", "ma", "ra", "va", "le", "sha", "to", "bo",
                                    "ni", "ku", "de", "zo", "pi", "ha", "ly", "ce" };
static const char *const towns[] = { "Мінск", "Гомель", "Брэст", "Віцебск", "Гродна", "Магілёў" };

static char *
name_of (guint32 *state, guint words)
{
  GString *s = g_string_new (NULL);

  for (guint w = 0; w < words; w++)
    {
      guint n = 2 + (*state % 3);
      if (w)
        g_string_append_c (s, ' ');
      for (guint i = 0; i < n; i++)
        {
          *state = *state * 1103515245u + 12345u;
          g_string_append (s, syll[(*state >> 16) % G_N_ELEMENTS (syll)]);
        }
      s->str[s->len - 2 * n] = g_ascii_toupper (s->str[s->len - 2 * n]);
    }
  return g_string_free (s, FALSE);
}

static GPtrArray *
search_ids (const char *query, const char *kind, guint limit)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *r = sp_vault_search (vault, query, kind, limit, &error);
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);

  g_assert_no_error (error);
  for (guint i = 0; i < r->len; i++)
    g_ptr_array_add (ids, g_strdup (sp_record_get_id (r->pdata[i])));
  g_ptr_array_unref (r);
  return ids;
}

/* The whole ordered list (no limit: never a walk), cut to limit. */
static GPtrArray *
reference_ids (const char *query, const char *kind, guint limit)
{
  g_autoptr (GError) error = NULL;
  SpFilter f = { .search = query };
  GPtrArray *ids = sp_vault_list_ids (vault, kind, &f, SP_SORT_TITLE, &error);

  g_assert_no_error (error);
  if (limit && ids->len > limit)
    g_ptr_array_set_size (ids, limit);
  return ids;
}

static void
assert_same (GPtrArray *a, GPtrArray *b, const char *what)
{
  if (a->len != b->len)
    g_error ("%s: %u rows, expected %u", what, a->len, b->len);
  for (guint i = 0; i < a->len; i++)
    if (!g_str_equal (a->pdata[i], b->pdata[i]))
      g_error ("%s: row %u differs", what, i);
}

static void
test_pages_agree (void)
{
  const char *queries[] = { "k",  "m",      "r",      "s",      "ka",    "ma",   "le",   "sh",
                            "ku", "kam",    "shak",   "мінск",  "м",     "г",    "ka m", "ma г",
                            "b",  "гомель", "zzz",    "k ra",   "v",     "d",    "l",    "n",
                            "p",  "h",      "t",      "c",      "брэст", "lema", "to",   "bo" };
  const char *kinds[] = { NULL, "org", "person" };
  const guint limits[] = { 1, 7, 10, 50 };
  guint before_walks, before_given_up, walks, given_up;

  sp_search_get_walk_counts (&before_walks, &before_given_up);
  for (guint q = 0; q < G_N_ELEMENTS (queries); q++)
    for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
      for (guint l = 0; l < G_N_ELEMENTS (limits); l++)
        {
          g_autoptr (GPtrArray) got = search_ids (queries[q], kinds[k], limits[l]);
          g_autoptr (GPtrArray) want = reference_ids (queries[q], kinds[k], limits[l]);
          g_autofree char *what = g_strdup_printf ("\"%s\" kind %s limit %u", queries[q],
                                                   kinds[k] ? kinds[k] : "any", limits[l]);

          assert_same (got, want, what);
          for (guint i = 0; i < got->len; i++)
            for (guint d = 0; d < deleted->len; d++)
              g_assert_cmpstr (got->pdata[i], !=, deleted->pdata[d]);
        }
  sp_search_get_walk_counts (&walks, &given_up);
  /* Broad prefixes took the walk, or the comparison above proved nothing. */
  g_assert_cmpuint (walks - before_walks, >, 20);
  g_test_message ("%u walks, %u given up", walks - before_walks, given_up - before_given_up);
}

/* Matches bunched at the end of the title order: the walk runs out of budget
 * and the page still comes out right, by lookup. */
static void
test_bunched_matches (void)
{
  guint w0, g0, w1, g1;
  g_autoptr (GPtrArray) got = NULL;
  g_autoptr (GPtrArray) want = NULL;

  sp_search_get_walk_counts (&w0, &g0);
  got = search_ids ("Яўгенава", "org", 10);
  want = reference_ids ("Яўгенава", "org", 10);
  sp_search_get_walk_counts (&w1, &g1);
  assert_same (got, want, "bunched");
  g_assert_cmpuint (got->len, ==, 10);
  g_assert_cmpuint (w1 - w0, ==, 1);
  g_assert_cmpuint (g1 - g0, ==, 1);
}

/* The C matcher is what FTS means by `body MATCH 'w1* w2*'`, row by row. */
static void
test_matcher_agrees_with_fts (void)
{
  const char *queries[]
      = { "k", "ka", "kam", "ka m", "minsk", "m m", "zzz", "g", "brest ka", "ia", "ievg" };
  sqlite3 *db = sp_vault_get_db (vault);

  for (guint q = 0; q < G_N_ELEMENTS (queries); q++)
    {
      g_autofree char *match = sp_search_match_expr (queries[q]);
      g_autoptr (GHashTable) fts = g_hash_table_new (g_int64_hash, g_int64_equal);
      g_autoptr (GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
      sqlite3_stmt *st = NULL;
      guint n_c = 0;

      g_assert_nonnull (match);
      g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT docid FROM search WHERE search MATCH ?", -1,
                                           &st, NULL),
                       ==, SQLITE_OK);
      sqlite3_bind_text (st, 1, match, -1, SQLITE_STATIC);
      while (sqlite3_step (st) == SQLITE_ROW)
        {
          gint64 d = sqlite3_column_int64 (st, 0);
          g_array_append_val (keys, d);
        }
      sqlite3_finalize (st);
      for (guint i = 0; i < keys->len; i++)
        g_hash_table_add (fts, &g_array_index (keys, gint64, i));

      g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT docid, body FROM search", -1, &st, NULL),
                       ==, SQLITE_OK);
      while (sqlite3_step (st) == SQLITE_ROW)
        {
          gint64 d = sqlite3_column_int64 (st, 0);
          gboolean c = sp_search_words_match ((const char *)sqlite3_column_text (st, 1), match);
          if (c != g_hash_table_contains (fts, &d))
            g_error ("\"%s\": docid %" G_GINT64_FORMAT ": C %d, FTS %d", match, d, c, !c);
          n_c += c;
        }
      sqlite3_finalize (st);
      g_assert_cmpuint (n_c, ==, keys->len);
    }
  g_assert_true (sp_search_words_match ("kamara minsk", "kam* m*"));
  g_assert_false (sp_search_words_match ("kamara minsk", "kam* g*"));
  g_assert_false (sp_search_words_match ("akam", "kam*"));
  g_assert_false (sp_search_words_match ("ka", "kam*"));
  g_assert_true (sp_search_words_match ("", ""));
}

static void
fill_vault (void)
{
  g_autoptr (GError) error = NULL;
  guint32 state = 7;

  vault = sp_test_vault_new (&vault_dir);
  deleted = g_ptr_array_new_with_free_func (g_free);
  g_assert_true (sp_vault_begin (vault, &error));
  for (guint i = 0; i < 600; i++)
    {
      g_autofree char *name = name_of (&state, 2);
      g_autofree char *id = NULL;

      if (i % 2 == 0)
        id = sp_test_insert (vault, "org", "name", name, "notes", towns[i % G_N_ELEMENTS (towns)],
                             NULL);
      else
        id = sp_test_insert (vault, "person", "full_name", name, "locality",
                             towns[(i / 2) % G_N_ELEMENTS (towns)], NULL);
      if (i % 37 == 5)
        {
          g_assert_true (sp_vault_delete (vault, id, &error));
          g_ptr_array_add (deleted, g_steal_pointer (&id));
        }
    }
  /* Last in the title order (Я after every Latin letter and А–Ю), and the
   * only ones with this word. */
  for (guint i = 0; i < 150; i++)
    {
      g_autofree char *name = g_strdup_printf ("Яўгенава суполка %03u", i);
      g_free (sp_test_insert (vault, "org", "name", name, NULL));
    }
  g_assert_true (sp_vault_commit (vault, &error));
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  fill_vault ();
  g_test_add_func ("/list/matcher-agrees-with-fts", test_matcher_agrees_with_fts);
  g_test_add_func ("/list/pages-agree", test_pages_agree);
  g_test_add_func ("/list/bunched-matches", test_bunched_matches);
  rc = g_test_run ();
  sp_vault_close (vault);
  {
    g_autofree char *parent = g_path_get_dirname (vault_dir);
    sp_test_rmtree (parent);
  }
  g_free (vault_dir);
  g_ptr_array_unref (deleted);
  return rc;
}
