/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-cli-csv.c — supolka-cli's CSV import and export and its statistics,
 * end to end on real vaults.
 */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "supolka-core.h"
#include "cli-test-util.h"
#include "sec-cli-run.h"
#include "test-util.h"

/* ---- 7. CSV import and export ---------------------------------------------------- */

static char *
write_temp (CliVault *cv, const char *name, const void *data, gsize len)
{
  char *path = g_build_filename (cv->tmp, name, NULL);

  write_file (path, data, len);
  return path;
}

static JsonObject *
find_by_title (JsonNode *list, const char *title)
{
  JsonArray *arr = json_node_get_array (list);

  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      JsonObject *o = json_array_get_object_element (arr, i);
      if (g_strcmp0 (json_object_get_string_member (o, "title"), title) == 0)
        return o;
    }
  g_error ("no record titled \"%s\"", title);
  return NULL;
}

static void
test_csv (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autoptr (CliVault) fresh = NULL;
  g_autoptr (JsonNode) list = NULL;
  g_autoptr (JsonNode) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *cp1251 = NULL;
  g_autofree char *export_path = NULL;
  g_autofree char *canon_a = NULL;
  g_autofree char *canon_b = NULL;
  g_autofree char *deleted = NULL;
  JsonObject *o;
  gsize cp_len = 0;
  guint count;
  GStatBuf st;
  static const char bom_csv[] = "\xEF\xBB\xBF"
                                "name,region,status,themes\r\n"
                                "Мінская ініцыятыва,minsk_city,member,\"youth, ecology\"\r\n"
                                "Брэсцкі экацэнтр,brest,candidate,ecology\r\n";
  static const char win_csv[] = "name;region;locality;notes\r\n"
                                "Гродзенская суполка;grodno;Ліда;Нататка ў кірыліцы, з коскай\r\n"
                                "Магілёўскі клуб;mogilev;Бабруйск;\r\n";
  static const char quoted_csv[] = "name,notes,themes,region\n"
                                   "\"Суполка \"\"Рунь\"\", Віцебск\",\"Радок 1\n"
                                   "Радок 2, з коскай і \"\"двукоссем\"\"\",\"a, b\",vitebsk\n"
                                   "Простая,,,\n";
  /* 4 data rows; the 2nd (line 4) and the 4th (line 6) are bad. The first
   * row spans lines 2-3. */
  static const char bad_csv[] = "name,region,email,notes\n"
                                "Good One,brest,,\"Нататка\nу два радкі\"\n"
                                "Bad Region,atlantis,,\n"
                                "Good Two,gomel,good@example.org,\n"
                                "Bad Email,vitebsk,not-an-email,\n";
  static const char good_csv[] = "name,region\n"
                                 "Dry Run One,brest\n"
                                 "Dry Run Two,gomel\n";

  if (!sec_require_cli ())
    return;
  cv = cli_vault_new ();

  /* UTF-8 with a BOM, commas */
  path = write_temp (cv, "bom.csv", bom_csv, strlen (bom_csv));
  g_assert_cmpint (cv_run (cv, &out, NULL, "import-csv", "org", path, NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (out, "Imported 2 rows"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&path, g_free);
  list = cv_json (cv, "list", "org", NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 2);
  o = find_by_title (list, "Мінская ініцыятыва");
  g_assert_cmpstr (rec_field (o, "region"), ==, "minsk_city");
  g_assert_cmpstr (rec_field (o, "status"), ==, "member");
  g_assert_cmpstr (rec_field (o, "themes"), ==, "ecology, youth");
  o = find_by_title (list, "Брэсцкі экацэнтр");
  g_assert_cmpstr (rec_field (o, "status"), ==, "candidate");
  g_clear_pointer (&list, json_node_unref);

  /* Windows-1251, semicolons */
  cp1251 = g_convert (win_csv, -1, "WINDOWS-1251", "UTF-8", NULL, &cp_len, &error);
  g_assert_no_error (error);
  g_assert_false (g_utf8_validate (cp1251, (gssize)cp_len, NULL));
  path = write_temp (cv, "cp1251.csv", cp1251, cp_len);
  g_assert_cmpint (cv_run (cv, &out, NULL, "--json", "import-csv", "org", path, NULL), ==, EXIT_OK);
  report = parse_json (out);
  o = json_node_get_object (report);
  g_assert_true (json_object_get_boolean_member (o, "ok"));
  g_assert_cmpstr (json_object_get_string_member (o, "encoding"), ==, "WINDOWS-1251");
  g_assert_cmpint (json_object_get_int_member (o, "rows"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (o, "imported"), ==, 2);
  g_clear_pointer (&report, json_node_unref);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&path, g_free);
  list = cv_json (cv, "list", "org", NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 4);
  o = find_by_title (list, "Гродзенская суполка");
  g_assert_cmpstr (rec_field (o, "region"), ==, "grodno");
  g_assert_cmpstr (rec_field (o, "locality"), ==, "Ліда");
  g_assert_cmpstr (rec_field (o, "notes"), ==, "Нататка ў кірыліцы, з коскай");
  o = find_by_title (list, "Магілёўскі клуб");
  g_assert_cmpstr (rec_field (o, "locality"), ==, "Бабруйск");
  g_assert_null (rec_field (o, "notes"));
  g_clear_pointer (&list, json_node_unref);

  /* quoting: commas, doubled quotes, a newline inside a value */
  path = write_temp (cv, "quoted.csv", quoted_csv, strlen (quoted_csv));
  g_assert_cmpint (cv_run (cv, NULL, NULL, "import-csv", "org", path, NULL), ==, EXIT_OK);
  g_clear_pointer (&path, g_free);
  list = cv_json (cv, "list", "org", NULL);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 6);
  o = find_by_title (list, "Суполка \"Рунь\", Віцебск");
  g_assert_cmpstr (rec_field (o, "notes"), ==, "Радок 1\nРадок 2, з коскай і \"двукоссем\"");
  g_assert_cmpstr (rec_field (o, "themes"), ==, "a, b");
  g_assert_cmpstr (rec_field (o, "region"), ==, "vitebsk");
  o = find_by_title (list, "Простая");
  g_assert_null (rec_field (o, "notes"));
  g_assert_null (rec_field (o, "region"));
  g_clear_pointer (&list, json_node_unref);
  count = cv_count (cv, "org");
  g_assert_cmpuint (count, ==, 6);

  /* two bad rows out of four: nothing imported, both lines named */
  path = write_temp (cv, "bad.csv", bad_csv, strlen (bad_csv));
  g_assert_cmpint (cv_run (cv, &out, &err, "import-csv", "org", path, NULL), ==, EXIT_INVALID);
  g_assert_nonnull (strstr (err, "line 4:"));
  g_assert_nonnull (strstr (err, "atlantis"));
  g_assert_nonnull (strstr (err, "line 6:"));
  g_assert_nonnull (strstr (err, "not-an-email"));
  g_assert_null (strstr (err, "line 2:"));
  g_assert_null (strstr (err, "line 3:"));
  g_assert_null (strstr (err, "line 5:"));
  g_assert_null (strstr (out, "Imported"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpuint (cv_count (cv, "org"), ==, count);
  /* the same file on a dry run fails the same way */
  g_assert_cmpint (cv_run (cv, NULL, &err, "import-csv", "org", path, "--dry-run", NULL), ==,
                   EXIT_INVALID);
  g_assert_nonnull (strstr (err, "line 4:"));
  g_assert_nonnull (strstr (err, "line 6:"));
  g_clear_pointer (&err, g_free);
  /* and --json lists both, with field and value */
  g_assert_cmpint (cv_run (cv, &out, NULL, "--json", "import-csv", "org", path, NULL), ==,
                   EXIT_INVALID);
  report = parse_json (out);
  o = json_node_get_object (report);
  g_assert_false (json_object_get_boolean_member (o, "ok"));
  g_assert_cmpint (json_object_get_int_member (o, "rows"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (o, "imported"), ==, 0);
  {
    JsonArray *errors = json_object_get_array_member (o, "errors");
    JsonObject *e0, *e1;

    g_assert_cmpuint (json_array_get_length (errors), ==, 2);
    e0 = json_array_get_object_element (errors, 0);
    e1 = json_array_get_object_element (errors, 1);
    g_assert_cmpint (json_object_get_int_member (e0, "line"), ==, 4);
    g_assert_cmpstr (json_object_get_string_member (e0, "field"), ==, "region");
    g_assert_cmpstr (json_object_get_string_member (e0, "value"), ==, "atlantis");
    g_assert_cmpint (json_object_get_int_member (e1, "line"), ==, 6);
    g_assert_cmpstr (json_object_get_string_member (e1, "field"), ==, "email");
    g_assert_cmpstr (json_object_get_string_member (e1, "value"), ==, "not-an-email");
  }
  g_clear_pointer (&report, json_node_unref);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&path, g_free);
  g_assert_cmpuint (cv_count (cv, "org"), ==, count);

  /* --dry-run of a good file: success, nothing written */
  path = write_temp (cv, "good.csv", good_csv, strlen (good_csv));
  g_assert_cmpint (cv_run (cv, &out, NULL, "import-csv", "org", path, "--dry-run", NULL), ==,
                   EXIT_OK);
  g_assert_nonnull (strstr (out, "2 rows would be imported"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpuint (cv_count (cv, "org"), ==, count);
  assert_list (cv, "", "search", "dry run", NULL);
  g_clear_pointer (&path, g_free);

  /* a missing file, an unknown kind */
  path = g_build_filename (cv->tmp, "no-such.csv", NULL);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "import-csv", "org", path, NULL), ==, EXIT_NOT_FOUND);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "import-csv", "planet", path, NULL), ==, EXIT_INVALID);
  g_clear_pointer (&path, g_free);

  /* export, then import into a fresh vault: the same records, same ids */
  deleted = cv_add (cv, "org", "--name", "Deleted Before Export", NULL);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "delete", deleted, NULL), ==, EXIT_OK);
  export_path = g_build_filename (cv->tmp, "export.csv", NULL);
  g_assert_cmpint (cv_run (cv, NULL, &err, "export-csv", "org", export_path, NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (err, "not encrypted"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (g_stat (export_path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  {
    g_autoptr (GBytes) csv = read_file (export_path);
    g_assert_cmpmem (g_bytes_get_data (csv, NULL), 3, "\xEF\xBB\xBF", 3);
    g_assert_null (g_strstr_len (g_bytes_get_data (csv, NULL), (gssize)g_bytes_get_size (csv),
                                 "Deleted Before Export"));
  }

  fresh = cli_vault_new ();
  g_assert_cmpint (cv_run (fresh, &out, NULL, "import-csv", "org", export_path, NULL), ==, EXIT_OK);
  g_assert_nonnull (strstr (out, "Imported 6 rows"));
  g_clear_pointer (&out, g_free);
  {
    g_autoptr (JsonNode) la = cv_json (cv, "list", "org", NULL);
    g_autoptr (JsonNode) lb = cv_json (fresh, "list", "org", NULL);
    canon_a = canonical_list (la);
    canon_b = canonical_list (lb);
    g_assert_cmpuint (json_array_get_length (json_node_get_array (lb)), ==, 6);
    g_assert_cmpstr (canon_b, ==, canon_a);
  }
  /* importing the same file again updates in place: nothing new */
  g_assert_cmpint (cv_run (fresh, NULL, NULL, "import-csv", "org", export_path, NULL), ==, EXIT_OK);
  g_assert_cmpuint (cv_count (fresh, "org"), ==, 6);
}

/* ---- 8. Statistics -------------------------------------------------------------------- */

static void
test_stats (void)
{
  g_autoptr (CliVault) cv = NULL;
  g_autoptr (JsonNode) stats = NULL;
  g_autoptr (JsonNode) expected = NULL;
  g_autofree char *org_a = NULL, *org_b = NULL, *org_c = NULL, *org_gone = NULL;
  g_autofree char *p1 = NULL, *p2 = NULL, *proj = NULL;
  g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL, *e_gone = NULL;
  g_autofree char *part_gone = NULL, *tmp = NULL;
  g_autofree char *got_text = NULL;
  g_autofree char *want_text = NULL;
  static const char want[] = "{"
                             "\"orgs_by_region\": {\"brest\": 2, \"gomel\": 1},"
                             "\"orgs_by_status\": {\"candidate\": 1, \"member\": 2},"
                             "\"orgs_by_kind\": {\"initiative\": 1, \"registered_ngo\": 1,"
                             "                   \"unset\": 1},"
                             "\"projects_by_status\": {\"active\": 1},"
                             "\"events_by_kind_year\": {"
                             "  \"forum/2023\": {\"events\": 1, \"declared_participants\": 100,"
                             "                  \"participation_records\": 1},"
                             "  \"forum/2024\": {\"events\": 1, \"declared_participants\": 0,"
                             "                  \"participation_records\": 0},"
                             "  \"training/2024\": {\"events\": 2, \"declared_participants\": 35,"
                             "                     \"participation_records\": 3}"
                             "}}";

  if (!sec_require_cli ())
    return;
  cv = cli_vault_new ();

  /* An empty vault has no figures. */
  stats = cv_json (cv, "stats", NULL);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (stats));
  g_assert_cmpuint (json_object_get_size (json_node_get_object (stats)), ==, 0);
  g_clear_pointer (&stats, json_node_unref);

  org_a = cv_add (cv, "org", "--name", "A", "--region", "brest", "--status", "member", "--kind",
                  "initiative", NULL);
  org_b = cv_add (cv, "org", "--name", "B", "--region", "brest", "--status", "candidate", "--kind",
                  "registered_ngo", NULL);
  org_c = cv_add (cv, "org", "--name", "C", "--region", "gomel", "--status", "member", NULL);
  org_gone = cv_add (cv, "org", "--name", "Gone", "--region", "gomel", "--status", "member",
                     "--kind", "initiative", NULL);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "delete", org_gone, NULL), ==, EXIT_OK);

  proj = cv_add (cv, "project", "--title", "Праект", "--status", "active", NULL);
  p1 = cv_add (cv, "person", "--full_name", "Першы", NULL);
  p2 = cv_add (cv, "person", "--full_name", "Другі", NULL);

  e1 = cv_add (cv, "event", "--title", "Трэнінг 1", "--kind", "training", "--start_date",
               "2024-03-01", "--declared_participants", "20", NULL);
  e2 = cv_add (cv, "event", "--title", "Трэнінг 2", "--kind", "training", "--start_date", "2024-11",
               "--declared_participants", "10", NULL);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "edit", e2, "--declared_participants", "15", NULL), ==,
                   EXIT_OK);
  e3 = cv_add (cv, "event", "--title", "Форум 2023", "--kind", "forum", "--start_date", "2023",
               "--end_date", "2023-06-02", "--declared_participants", "100", NULL);
  e4 = cv_add (cv, "event", "--title", "Форум 2024", "--kind", "forum", "--start_date",
               "17.05.2024", NULL);
  e_gone = cv_add (cv, "event", "--title", "Cancelled", "--kind", "training", "--start_date",
                   "2024-01-01", "--declared_participants", "1000", NULL);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "delete", e_gone, NULL), ==, EXIT_OK);

  /* participation: two people and an org at events, one at the project, one
   * deleted */
  tmp = cv_add (cv, "participation", "--person", p1, "--event", e1, "--role", "participant", NULL);
  g_clear_pointer (&tmp, g_free);
  tmp = cv_add (cv, "participation", "--person", p2, "--event", e1, "--role", "speaker", NULL);
  g_clear_pointer (&tmp, g_free);
  tmp = cv_add (cv, "participation", "--org", org_a, "--event", e2, NULL);
  g_clear_pointer (&tmp, g_free);
  tmp = cv_add (cv, "participation", "--org", org_b, "--event", e3, NULL);
  g_clear_pointer (&tmp, g_free);
  tmp = cv_add (cv, "participation", "--person", p1, "--project", proj, NULL);
  g_clear_pointer (&tmp, g_free);
  part_gone = cv_add (cv, "participation", "--person", p2, "--event", e2, NULL);
  g_assert_cmpint (cv_run (cv, NULL, NULL, "delete", part_gone, NULL), ==, EXIT_OK);

  stats = cv_json (cv, "stats", NULL);
  expected = parse_json (want);
  got_text = json_to_string (stats, TRUE);
  want_text = json_to_string (expected, TRUE);
  g_test_message ("stats: %s", got_text);
  if (!json_node_equal (stats, expected))
    g_assert_cmpstr (got_text, ==, want_text);
  {
    JsonObject *events
        = json_object_get_object_member (json_node_get_object (stats), "events_by_kind_year");
    JsonObject *training = json_object_get_object_member (events, "training/2024");
    g_assert_cmpint (json_object_get_int_member (training, "events"), ==, 2);
    g_assert_cmpint (json_object_get_int_member (training, "declared_participants"), ==, 35);
    g_assert_cmpint (json_object_get_int_member (training, "participation_records"), ==, 3);
    g_assert_cmpuint (json_object_get_size (events), ==, 3);
  }

  /* the text form names the groups and the figures */
  {
    g_autofree char *out = NULL;
    g_assert_cmpint (cv_run (cv, &out, NULL, "stats", NULL), ==, EXIT_OK);
    g_assert_nonnull (strstr (out, "Organisations by region"));
    g_assert_nonnull (strstr (out, "training/2024"));
    g_assert_nonnull (strstr (out, "35 declared participants"));
    g_assert_nonnull (strstr (out, "(not set)"));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  cli_test_init ();

  g_test_add_func ("/cli/csv/import-export", test_csv);
  g_test_add_func ("/cli/stats", test_stats);

  return cli_test_finish (g_test_run ());
}
