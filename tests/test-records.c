/* Records: validation, the single write path and its change log, listing,
 * statistics. SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "sp-vault-private.h"
#include "test-util.h"

static void
cleanup (SpVault *v, char *dir)
{
  g_autofree char *parent = g_path_get_dirname (dir);

  sp_vault_close (v);
  sp_test_rmtree (parent);
}

static char *
try_insert (SpVault *v, const char *kind, GError **error, ...)
{
  g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (SpFieldValue));
  va_list ap;
  const char *field;

  va_start (ap, error);
  while ((field = va_arg (ap, const char *)))
    {
      SpFieldValue fv = { field, va_arg (ap, const char *) };
      g_array_append_val (values, fv);
    }
  va_end (ap);
  return sp_vault_insert (v, kind, (SpFieldValue *)values->data, values->len, error);
}

static gint64
count_changes (SpVault *v)
{
  g_autoptr (GPtrArray) all = sp_vault_local_changes (v, 0, NULL, NULL);

  return all->len;
}

/* Each invalid input names the field and the value. */
static void
test_validation_messages (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  struct
  {
    const char *kind, *field, *value, *expect;
  } cases[] = {
    { "org", "region", "Minsk", "region: \"Minsk\"" },
    { "org", "status", "friend", "status: \"friend\"" },
    { "org", "kind", "ngo", "kind: \"ngo\"" },
    { "org", "email", "not-an-email", "email: \"not-an-email\"" },
    { "org", "email", "a@b", "email: \"a@b\"" },
    { "org", "phone", "call me", "phone: \"call me\"" },
    { "org", "phone", "123", "phone: \"123\"" },
    { "org", "website", "ftp://x.org", "website: \"ftp://x.org\"" },
    { "org", "website", "not a url", "website: \"not a url\"" },
    { "org", "member_since", "2024-02-30", "member_since: \"2024-02-30\"" },
    { "org", "member_since", "yesterday", "member_since: \"yesterday\"" },
    { "org", "member_since", "2024-13", "member_since: \"2024-13\"" },
    { "org", "sensitivity", "secret", "sensitivity: \"secret\"" },
    { "org", "name", "bad\001control", "name: " },
    { "event", "declared_participants", "-5", "declared_participants: \"-5\"" },
    { "event", "declared_participants", "many", "declared_participants: \"many\"" },
    { "project", "regions", "brest, moon", "regions: \"moon\"" },
    { "project", "lead_org", "123", "lead_org: \"123\"" },
    { "project", "lead_org", "0123456789abcdef0123456789abcdef", "there is no org" },
    { "org", "no_such_field", "x", "no_such_field" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      const char *title = g_str_equal (cases[i].kind, "org") ? "name" : "title";
      g_autofree char *id = try_insert (v, cases[i].kind, &error, title, "Назва", cases[i].field,
                                        cases[i].value, NULL);
      g_assert_null (id);
      g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
      if (strstr (error->message, cases[i].expect) == NULL)
        g_error ("case %u: \"%s\" does not contain \"%s\"", i, error->message, cases[i].expect);
    }
  g_assert_cmpint (count_changes (v), ==, 0); /* nothing written */
  cleanup (v, dir);
}

static void
test_required_and_cross_field_rules (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autoptr (GError) error = NULL;
  g_autofree char *org = sp_test_insert (v, "org", "name", "Суполка", NULL);
  g_autofree char *person = sp_test_insert (v, "person", "full_name", "Алег Шыманскі", NULL);
  g_autofree char *event = sp_test_insert (v, "event", "title", "Кангрэс", NULL);
  char *id;

  id = try_insert (v, "org", &error, "region", "brest", NULL);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "name"));
  g_clear_error (&error);

  id = try_insert (v, "event", &error, "title", "X", "start_date", "2024-05-10", "end_date",
                   "2024-05-09", NULL);
  g_assert_null (id);
  g_assert_nonnull (strstr (error->message, "end_date"));
  g_clear_error (&error);
  /* Dates of different precision compare by their common prefix. */
  id = try_insert (v, "event", &error, "title", "X", "start_date", "2024-05-10", "end_date",
                   "2024-05", NULL);
  g_assert_no_error (error);
  g_free (id);

  id = try_insert (v, "person", &error, "full_name", "Схаваная Асоба", "sensitivity", "high", NULL);
  g_assert_null (id);
  g_assert_nonnull (strstr (error->message, "display_name"));
  g_clear_error (&error);

  id = try_insert (v, "affiliation", &error, "person", person, NULL);
  g_assert_null (id);
  g_assert_nonnull (strstr (error->message, "org"));
  g_clear_error (&error);
  /* A reference to the wrong kind. */
  id = try_insert (v, "affiliation", &error, "person", org, "org", org, NULL);
  g_assert_null (id);
  g_assert_nonnull (strstr (error->message, "there is no person"));
  g_clear_error (&error);

  id = try_insert (v, "participation", &error, "person", person, "org", org, "event", event, NULL);
  g_assert_null (id);
  g_assert_nonnull (strstr (error->message, "exactly one"));
  g_clear_error (&error);
  id = try_insert (v, "participation", &error, "person", person, NULL);
  g_assert_null (id);
  g_clear_error (&error);
  id = try_insert (v, "participation", &error, "person", person, "event", event, "role", "speaker",
                   NULL);
  g_assert_no_error (error);
  g_free (id);

  /* A note may point at any kind, but at something that exists. */
  id = try_insert (v, "note", &error, "target", event, "text", "Добра прайшло", NULL);
  g_assert_no_error (error);
  g_free (id);
  id = try_insert (v, "note", &error, "target", "0123456789abcdef0123456789abcdef", "text", "x",
                   NULL);
  g_assert_null (id);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  cleanup (v, dir);
}

static void
test_normalisation (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autoptr (GError) error = NULL;
  g_autofree char *id
      = sp_test_insert (v, "org", "name", "  Суполка  ", "region", "BREST", "member_since",
                        "17.05.2019", "themes", "youth; Ecology, ecology ,, Моладзь", NULL);
  g_autofree char *pid = sp_test_insert (v, "project", "title", "P", "regions", "Gomel, brest",
                                         "start_date", "2024", NULL);
  g_autoptr (SpRecord) r = sp_vault_get (v, id, &error);
  g_autoptr (SpRecord) p = sp_vault_get (v, pid, &error);

  g_assert_cmpstr (sp_record_get (r, "name"), ==, "Суполка");
  g_assert_cmpstr (sp_record_get (r, "region"), ==, "brest");
  g_assert_cmpstr (sp_record_get (r, "member_since"), ==, "2019-05-17");
  g_assert_cmpstr (sp_record_get (r, "themes"), ==, "Ecology, youth, Моладзь");
  g_assert_cmpstr (sp_record_get (p, "regions"), ==, "brest, gomel");
  g_assert_cmpstr (sp_record_get (p, "start_date"), ==, "2024");
  g_assert_cmpstr (sp_record_get_title (r), ==, "Суполка");
  g_assert_cmpuint (strlen (sp_record_get_id (r)), ==, 32);
  g_assert_false (sp_record_is_deleted (r));
  g_assert_nonnull (g_strrstr (sp_record_get_created (r), "Z"));
  cleanup (v, dir);
}

static void
test_pseudonym_title (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autoptr (GError) error = NULL;
  g_autofree char *id = sp_test_insert (v, "person", "full_name", "Сапраўднае Імя", "display_name",
                                        "Зорка", "sensitivity", "high", NULL);
  g_autoptr (SpRecord) r = sp_vault_get (v, id, &error);
  g_autoptr (GPtrArray) list = sp_vault_list (v, "person", NULL, &error);

  g_assert_cmpstr (sp_record_get_title (r), ==, "Зорка");
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (sp_record_get_title (list->pdata[0]), ==, "Зорка");
  cleanup (v, dir);
}

/* One write = one transaction in the log; unchanged fields log nothing. */
static void
test_change_log (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autoptr (GError) error = NULL;
  g_autofree char *id = sp_test_insert (v, "org", "name", "A", "region", "brest", NULL);
  g_autoptr (GPtrArray) log = NULL;
  gint64 last = 0;
  SpFieldValue same[] = { { "name", "A" }, { "region", "brest" } };
  SpFieldValue change[] = { { "name", "B" }, { "region", "" } };

  log = sp_vault_local_changes (v, 0, &last, &error);
  g_assert_cmpuint (log->len, ==, 3); /* _cl, name, region */
  for (guint i = 0; i < log->len; i++)
    {
      SpChange *c = log->pdata[i];
      g_assert_cmpstr (c->record, ==, id);
      g_assert_cmpstr (c->device, ==, sp_vault_get_device_id (v));
      g_assert_cmpint (c->tx, ==, ((SpChange *)log->pdata[0])->tx);
    }
  g_assert_cmpstr (((SpChange *)log->pdata[0])->field, ==, "_cl");

  g_assert_true (sp_vault_update (v, id, same, 2, &error));
  g_clear_pointer (&log, g_ptr_array_unref);
  log = sp_vault_local_changes (v, last, &last, &error);
  g_assert_cmpuint (log->len, ==, 0);

  g_assert_true (sp_vault_update (v, id, change, 2, &error));
  g_clear_pointer (&log, g_ptr_array_unref);
  log = sp_vault_local_changes (v, last, &last, &error);
  g_assert_cmpuint (log->len, ==, 2);
  g_assert_cmpstr (((SpChange *)log->pdata[1])->field, ==, "region");
  g_assert_null (((SpChange *)log->pdata[1])->value); /* cleared */
  /* Each supersedes the version it replaced. */
  g_assert_nonnull (strstr (((SpChange *)log->pdata[0])->supersedes, sp_vault_get_device_id (v)));

  g_assert_true (sp_vault_delete (v, id, &error));
  g_clear_pointer (&log, g_ptr_array_unref);
  log = sp_vault_local_changes (v, last, &last, &error);
  g_assert_cmpuint (log->len, ==, 1);
  g_assert_cmpstr (((SpChange *)log->pdata[0])->field, ==, "_cl");
  g_assert_cmpstr (((SpChange *)log->pdata[0])->value, ==, "2");
  cleanup (v, dir);
}

/* An explicit transaction groups writes into one log transaction; a rollback
 * leaves neither the records nor their changes. */
static void
test_transactions (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) log = NULL;
  char *a, *b;

  g_assert_true (sp_vault_begin (v, &error));
  a = sp_test_insert (v, "org", "name", "A", NULL);
  b = sp_test_insert (v, "org", "name", "B", NULL);
  g_assert_true (sp_vault_commit (v, &error));
  log = sp_vault_local_changes (v, 0, NULL, &error);
  g_assert_cmpuint (log->len, ==, 4);
  g_assert_cmpint (((SpChange *)log->pdata[0])->tx, ==, ((SpChange *)log->pdata[3])->tx);
  g_free (a);
  g_free (b);

  g_assert_true (sp_vault_begin (v, &error));
  a = sp_test_insert (v, "org", "name", "C", NULL);
  sp_vault_rollback (v);
  g_assert_cmpint (sp_vault_count (v, "org", NULL, &error), ==, 2);
  g_clear_pointer (&log, g_ptr_array_unref);
  log = sp_vault_local_changes (v, 0, NULL, &error);
  g_assert_cmpuint (log->len, ==, 4);
  g_assert_null (sp_vault_get (v, a, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
  g_free (a);
  cleanup (v, dir);
}

static void
test_delete_undelete (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autoptr (GError) error = NULL;
  g_autofree char *id = sp_test_insert (v, "org", "name", "A", NULL);
  SpFilter with_deleted = { .include_deleted = TRUE };
  SpFieldValue fv = { "name", "B" };

  g_assert_true (sp_vault_delete (v, id, &error));
  g_assert_cmpint (sp_vault_count (v, "org", NULL, &error), ==, 0);
  g_assert_cmpint (sp_vault_count (v, "org", &with_deleted, &error), ==, 1);
  g_assert_false (sp_vault_delete (v, id, &error)); /* already deleted */
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (sp_vault_update (v, id, &fv, 1, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  {
    g_autoptr (SpRecord) r = sp_vault_get (v, id, &error); /* still readable */
    g_assert_true (sp_record_is_deleted (r));
  }
  g_assert_true (sp_vault_undelete (v, id, &error));
  g_assert_cmpint (sp_vault_count (v, "org", NULL, &error), ==, 1);
  g_assert_false (sp_vault_delete (v, "nonsense", &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND);
  cleanup (v, dir);
}

static void
test_list_filters (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autoptr (GError) error = NULL;
  SpFilter f = { 0 };
  g_autoptr (GPtrArray) list = NULL;

  g_free (sp_test_insert (v, "org", "name", "Бэта", "region", "brest", "status", "member", "themes",
                          "ecology, youth", "kind", "initiative", NULL));
  g_free (sp_test_insert (v, "org", "name", "Альфа", "region", "brest", "status", "candidate",
                          "themes", "eco", NULL));
  g_free (sp_test_insert (v, "org", "name", "гама", "region", "gomel", "status", "member", "themes",
                          "50%_off", NULL));
  g_free (sp_test_insert (v, "project", "title", "P1", "regions", "brest, gomel", "tags", "ecology",
                          NULL));

  list = sp_vault_list (v, "org", NULL, &error);
  g_assert_cmpuint (list->len, ==, 3);
  /* Ordered by title, case-insensitively. */
  g_assert_cmpstr (sp_record_get_title (list->pdata[0]), ==, "Альфа");
  g_assert_cmpstr (sp_record_get_title (list->pdata[1]), ==, "Бэта");
  g_assert_cmpstr (sp_record_get_title (list->pdata[2]), ==, "гама");

  f.region = "brest";
  g_assert_cmpint (sp_vault_count (v, "org", &f, &error), ==, 2);
  f.status = "member";
  g_assert_cmpint (sp_vault_count (v, "org", &f, &error), ==, 1);
  f = (SpFilter){ .tag = "eco" }; /* a whole tag, not a prefix of "ecology" */
  g_assert_cmpint (sp_vault_count (v, "org", &f, &error), ==, 1);
  f = (SpFilter){ .tag = "ecology" };
  g_assert_cmpint (sp_vault_count (v, "org", &f, &error), ==, 1);
  g_assert_cmpint (sp_vault_count (v, "project", &f, &error), ==, 1);
  f = (SpFilter){ .tag = "50%_off" };
  g_assert_cmpint (sp_vault_count (v, "org", &f, &error), ==, 1);
  f = (SpFilter){ .tag = "%" }; /* wildcards are literal */
  g_assert_cmpint (sp_vault_count (v, "org", &f, &error), ==, 0);
  f = (SpFilter){ .kind = "initiative" };
  g_assert_cmpint (sp_vault_count (v, "org", &f, &error), ==, 1);
  f = (SpFilter){ .region = "gomel" };
  g_assert_cmpint (sp_vault_count (v, "project", &f, &error), ==, 1);
  f = (SpFilter){ .limit = 2 };
  g_clear_pointer (&list, g_ptr_array_unref);
  list = sp_vault_list (v, "org", &f, &error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_null (sp_vault_list (v, "planet", NULL, &error));
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  cleanup (v, dir);
}

static gint64
stat_of (GPtrArray *stats, const char *group, const char *key, int which)
{
  for (guint i = 0; i < stats->len; i++)
    {
      SpStat *s = stats->pdata[i];
      if (g_str_equal (s->group, group) && g_str_equal (s->key, key))
        return which == 0 ? s->count : which == 1 ? s->participants : s->linked;
    }
  return -1;
}

static void
test_stats (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) stats = NULL;
  g_autofree char *e1 = NULL, *p1 = NULL, *deleted = NULL;

  g_free (sp_test_insert (v, "org", "name", "A", "region", "brest", "status", "member", "kind",
                          "initiative", NULL));
  g_free (sp_test_insert (v, "org", "name", "B", "region", "brest", "status", "candidate", NULL));
  g_free (sp_test_insert (v, "org", "name", "C", "region", "abroad", "status", "member", NULL));
  deleted = sp_test_insert (v, "org", "name", "D", "region", "abroad", NULL);
  g_assert_true (sp_vault_delete (v, deleted, &error));
  g_free (sp_test_insert (v, "project", "title", "P", "status", "active", NULL));
  e1 = sp_test_insert (v, "event", "title", "T1", "kind", "training", "start_date", "2024-03-01",
                       "declared_participants", "25", NULL);
  g_free (sp_test_insert (v, "event", "title", "T2", "kind", "training", "start_date", "2024-09",
                          "declared_participants", "15", NULL));
  g_free (sp_test_insert (v, "event", "title", "C1", "kind", "congress", "start_date", "2025",
                          "declared_participants", "300", NULL));
  p1 = sp_test_insert (v, "person", "full_name", "X", NULL);
  g_free (sp_test_insert (v, "participation", "person", p1, "event", e1, NULL));

  stats = sp_vault_stats (v, &error);
  g_assert_no_error (error);
  g_assert_cmpint (stat_of (stats, "orgs_by_region", "brest", 0), ==, 2);
  g_assert_cmpint (stat_of (stats, "orgs_by_region", "abroad", 0), ==, 1);
  g_assert_cmpint (stat_of (stats, "orgs_by_status", "member", 0), ==, 2);
  g_assert_cmpint (stat_of (stats, "orgs_by_kind", "initiative", 0), ==, 1);
  g_assert_cmpint (stat_of (stats, "orgs_by_kind", "", 0), ==, 2);
  g_assert_cmpint (stat_of (stats, "projects_by_status", "active", 0), ==, 1);
  g_assert_cmpint (stat_of (stats, "events_by_kind_year", "training/2024", 0), ==, 2);
  g_assert_cmpint (stat_of (stats, "events_by_kind_year", "training/2024", 1), ==, 40);
  g_assert_cmpint (stat_of (stats, "events_by_kind_year", "training/2024", 2), ==, 1);
  g_assert_cmpint (stat_of (stats, "events_by_kind_year", "congress/2025", 1), ==, 300);
  cleanup (v, dir);
}

static void
test_explicit_id (void)
{
  g_autofree char *dir = NULL;
  SpVault *v = sp_test_vault_new (&dir);
  g_autoptr (GError) error = NULL;
  char *id
      = try_insert (v, "org", &error, "id", "0123456789ABCDEF0123456789abcdef", "name", "A", NULL);

  g_assert_cmpstr (id, ==, "0123456789abcdef0123456789abcdef");
  g_free (id);
  id = try_insert (v, "org", &error, "id", "0123456789abcdef0123456789abcdef", "name", "B", NULL);
  g_assert_null (id);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_EXISTS);
  g_clear_error (&error);
  id = try_insert (v, "org", &error, "id", "xyz", "name", "B", NULL);
  g_assert_null (id);
  g_assert_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID);
  cleanup (v, dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/records/validation-messages", test_validation_messages);
  g_test_add_func ("/records/required-and-cross-field", test_required_and_cross_field_rules);
  g_test_add_func ("/records/normalisation", test_normalisation);
  g_test_add_func ("/records/pseudonym-title", test_pseudonym_title);
  g_test_add_func ("/records/change-log", test_change_log);
  g_test_add_func ("/records/transactions", test_transactions);
  g_test_add_func ("/records/delete-undelete", test_delete_undelete);
  g_test_add_func ("/records/list-filters", test_list_filters);
  g_test_add_func ("/records/stats", test_stats);
  g_test_add_func ("/records/explicit-id", test_explicit_id);
  return g_test_run ();
}
