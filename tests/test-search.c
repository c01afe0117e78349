/* Full-text search with Cyrillic/Latin folding, through the vault.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "sp-vault-private.h"
#include "test-util.h"

static SpVault *vault;
static char *vault_dir;
static char *minsk_org, *person, *note_id;

static guint
hits (const char *query, const char *kind)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) r = sp_vault_search (vault, query, kind, 0, &error);

  g_assert_no_error (error);
  return r->len;
}

static gboolean
finds (const char *query, const char *id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) r = sp_vault_search (vault, query, NULL, 0, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < r->len; i++)
    if (g_str_equal (sp_record_get_id (r->pdata[i]), id))
      return TRUE;
  return FALSE;
}

static void
test_scripts_fold_together (void)
{
  const char *queries[] = { "minsk", "мінск", "минск", "МІНСК", "Minsk", "мін", "mi" };

  for (guint i = 0; i < G_N_ELEMENTS (queries); i++)
    if (!finds (queries[i], minsk_org))
      g_error ("\"%s\" did not find «Мінская ініцыятыва»", queries[i]);
  g_assert_true (finds ("shymanski", person));
  g_assert_true (finds ("Шиманский", person));
  g_assert_true (finds ("Šymanski", person));
  g_assert_true (finds ("шыман", person));
  g_assert_true (finds ("Гродно", person)); /* locality Гродна, Russian spelling */
  g_assert_true (finds ("hrodna", person));
}

static void
test_words_and_fields (void)
{
  /* Every word must match, in any searchable field. */
  g_assert_true (finds ("мінская экалогія", minsk_org)); /* name + themes */
  g_assert_false (finds ("мінская гомель", minsk_org));
  g_assert_true (finds ("Zubr", minsk_org));     /* notes */
  g_assert_true (finds ("інструктар", note_id)); /* note text */
  g_assert_cmpuint (hits ("minsk", "person"), ==, 0);
  g_assert_cmpuint (hits ("minsk", "org"), ==, 1);
  /* Not searchable: contact details. */
  g_assert_false (finds ("secret@example.org", person));
}

static void
test_hostile_queries (void)
{
  const char *queries[]
      = { "\"", "minsk OR",      "NEAR",     "*", "-minsk", "minsk\"*", "(",         "a:b",
          "^",  "'; DROP TABLE", "\xff\xfe", "",  "   ",    "!!!",      "NOT minsk", "minsk AND" };

  for (guint i = 0; i < G_N_ELEMENTS (queries); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) r = sp_vault_search (vault, queries[i], NULL, 0, &error);
      g_assert_no_error (error);
      g_assert_nonnull (r);
    }
  /* Operators are plain words, not syntax. */
  g_assert_cmpuint (hits ("minsk OR", NULL), ==, 0);
  g_assert_cmpuint (hits ("", NULL), ==, 0);
  g_assert_cmpuint (hits ("!!!", NULL), ==, 0);
  {
    g_autofree char *many = g_strnfill (10000, 'a');
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) r = sp_vault_search (vault, many, NULL, 0, &error);
    g_assert_no_error (error);
    g_assert_nonnull (r);
  }
}

static void
test_index_follows_edits (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = sp_test_insert (vault, "org", "name", "Віцебскі клуб", NULL);
  SpFieldValue fv = { "name", "Полацкі клуб" };

  g_assert_true (finds ("vicebsk", id));
  g_assert_true (sp_vault_update (vault, id, &fv, 1, &error));
  g_assert_false (finds ("vicebsk", id));
  g_assert_true (finds ("polack", id));
  g_assert_true (sp_vault_delete (vault, id, &error));
  g_assert_false (finds ("polack", id));
  g_assert_true (sp_vault_undelete (vault, id, &error));
  g_assert_true (finds ("polack", id));
}

static void
test_search_filter_combined (void)
{
  g_autoptr (GError) error = NULL;
  SpFilter f = { .search = "мінск", .region = "minsk_city" };

  g_assert_cmpint (sp_vault_count (vault, "org", &f, &error), ==, 1);
  f.region = "brest";
  g_assert_cmpint (sp_vault_count (vault, "org", &f, &error), ==, 0);
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  vault = sp_test_vault_new (&vault_dir);
  minsk_org = sp_test_insert (vault, "org", "name", "Мінская ініцыятыва", "region", "minsk_city",
                              "themes", "экалогія", "notes", "Zubrowka meeting", NULL);
  person = sp_test_insert (vault, "person", "full_name", "Шыманскі Алег", "locality", "Гродна",
                           "email", "secret@example.org", NULL);
  note_id = sp_test_insert (vault, "note", "target", person, "text", "Добры інструктар", NULL);
  g_free (sp_test_insert (vault, "org", "name", "Гомельскі цэнтр", "region", "gomel", NULL));

  g_test_add_func ("/search/scripts-fold-together", test_scripts_fold_together);
  g_test_add_func ("/search/words-and-fields", test_words_and_fields);
  g_test_add_func ("/search/hostile-queries", test_hostile_queries);
  g_test_add_func ("/search/index-follows-edits", test_index_follows_edits);
  g_test_add_func ("/search/filter-combined", test_search_filter_combined);
  rc = g_test_run ();

  sp_vault_close (vault);
  {
    g_autofree char *parent = g_path_get_dirname (vault_dir);
    sp_test_rmtree (parent);
  }
  g_free (vault_dir);
  g_free (minsk_org);
  g_free (person);
  g_free (note_id);
  return rc;
}
