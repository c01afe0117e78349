/* Lists and search pages: the two ways a page is computed (the title order
 * kept in memory, or SQL that looks up and sorts every match) give the same
 * rows, and follow writes and rollbacks.
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
                                    "ni", "ku", "de", "zo", "pi", "ha",  "ly", "ce" };
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
  const char *queries[]
      = { "k",     "m", "r", "s",    "ka",   "ma", "le",     "sh",   "ku",   "kam", "shak",
          "мінск", "м", "г", "ka m", "ma г", "b",  "гомель", "zzz",  "k ra", "v",   "d",
          "l",     "n", "p", "h",    "t",    "c",  "брэст",  "lema", "to",   "bo" };
  const char *kinds[] = { NULL, "org", "person" };
  const guint limits[] = { 1, 7, 10, 50 };
  guint before = sp_search_get_ranked_count ();

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
  /* The pages came from the ranked lookup, or the comparison above proved
   * nothing (the reference is the SQL path). */
  g_assert_cmpuint (sp_search_get_ranked_count () - before, ==,
                    G_N_ELEMENTS (queries) * G_N_ELEMENTS (kinds) * G_N_ELEMENTS (limits));
}

/* Matches bunched at the end of the title order. */
static void
test_bunched_matches (void)
{
  g_autoptr (GPtrArray) got = NULL;
  g_autoptr (GPtrArray) want = NULL;

  got = search_ids ("Яўгенава", "org", 10);
  want = reference_ids ("Яўгенава", "org", 10);
  assert_same (got, want, "bunched");
  g_assert_cmpuint (got->len, ==, 10);
}

static gboolean
contains (GPtrArray *ids, const char *id)
{
  for (guint i = 0; i < ids->len; i++)
    if (g_str_equal (ids->pdata[i], id))
      return TRUE;
  return FALSE;
}

/* Pages follow writes at once, and forget a rolled-back one: the positions
 * kept in memory are rebuilt or dropped. */
static void
test_pages_follow_writes (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) first = search_ids ("ka", "org", 10);
  g_autoptr (GPtrArray) again = NULL;
  g_autoptr (GPtrArray) in_tx = NULL;
  g_autoptr (GPtrArray) after = NULL;
  g_autofree char *front = NULL;
  g_autofree char *gone = NULL;
  SpFieldValue rename = { "name", "Ябкака суполка" };

  g_assert_cmpuint (first->len, ==, 10);
  /* The first one moves to the end; a new one comes first. */
  g_assert_true (sp_vault_update (vault, first->pdata[0], &rename, 1, &error));
  g_assert_no_error (error);
  front = sp_test_insert (vault, "org", "name", "Aaa Kafront", NULL);
  again = search_ids ("ka", "org", 10);
  {
    g_autoptr (GPtrArray) want = reference_ids ("ka", "org", 10);
    assert_same (again, want, "after edits");
  }
  g_assert_cmpstr (again->pdata[0], ==, front);
  g_assert_false (contains (again, first->pdata[0]));

  /* Inside a transaction the page sees its writes; after a rollback, not. */
  g_assert_true (sp_vault_begin (vault, &error));
  gone = sp_test_insert (vault, "org", "name", "Aaa Kaback", NULL);
  in_tx = search_ids ("ka", "org", 10);
  g_assert_cmpstr (in_tx->pdata[0], ==, gone);
  sp_vault_rollback (vault);
  after = search_ids ("ka", "org", 10);
  g_assert_false (contains (after, gone));
  assert_same (after, again, "after rollback");
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
  g_test_add_func ("/list/pages-agree", test_pages_agree);
  g_test_add_func ("/list/bunched-matches", test_bunched_matches);
  g_test_add_func ("/list/pages-follow-writes", test_pages_follow_writes);
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
