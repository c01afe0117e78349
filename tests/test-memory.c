/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-memory.c — forensics F1 for the core and the CLI: after sp_vault_close()
 * a process that read records holds no plaintext of them in memory.
 *
 * The parent makes a vault with random markers (Latin and Cyrillic names, a
 * locality, an e-mail, a hidden real name of a high-sensitivity person, notes)
 * and starts itself again as a reader (a fresh process, as supolka-cli is):
 * the reader unlocks the vault, does what the CLI's reading commands do (list,
 * show every field, search, stats, export to memory), scans its own memory
 * (heap, stacks, anonymous mappings, libraries' data) through /proc/self/mem
 * while the vault is open — the markers must be there, or the test proves
 * nothing — then closes the vault and scans again: no marker, in the form
 * stored or in the search index's folded form, may be left. The reader is
 * given the markers only masked (mem-scan.h), so it never holds a plaintext
 * copy that did not come from the vault. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "mem-scan.h"
#include "test-util.h"

/* ---- The reader (a process of its own) ------------------------------------- */

static void
report (const char *phase, GPtrArray *needles)
{
  g_autofree guint *counts = g_new0 (guint, needles->len);
  g_autoptr (GString) where = g_string_new (NULL);
  g_autoptr (GError) error = NULL;

  if (!mem_scan_pid (getpid (), needles, counts, where, &error))
    g_error ("scan: %s", error->message);
  for (guint i = 0; i < needles->len; i++)
    printf ("%s %u %u\n", phase, i, counts[i]);
  for (char *p = where->str; *p; p++)
    if (*p == '\n')
      *p = ';';
  printf ("%s-where %s\n", phase, where->str);
  fflush (stdout);
}

/* What the CLI's show does: every field of the record, read. */
static gsize
touch_record (SpRecord *rec)
{
  const SpKindInfo *kind = sp_kind_lookup (sp_record_get_kind (rec));
  gsize total = strlen (sp_record_get_title (rec));

  for (guint f = 0; f < kind->n_fields; f++)
    {
      const char *v = sp_record_get (rec, kind->fields[f].name);
      total += v ? strlen (v) : 0;
    }
  return total;
}

static void
read_everything (SpVault *vault)
{
  g_autoptr (GError) error = NULL;
  gsize total = 0;

  for (const SpKindInfo *const *k = sp_kinds (); *k; k++)
    {
      g_autoptr (GPtrArray) list = sp_vault_list (vault, (*k)->name, NULL, &error);
      g_autoptr (GBytes) csv = NULL;

      g_assert_no_error (error);
      for (guint i = 0; i < list->len; i++)
        {
          g_autoptr (SpRecord) rec
              = sp_vault_get (vault, sp_record_get_id (list->pdata[i]), &error);
          g_assert_no_error (error);
          total += touch_record (rec);
        }
      csv = sp_vault_export_csv (vault, (*k)->name, &error);
      g_assert_no_error (error);
      total += g_bytes_get_size (csv);
    }
  {
    /* A word of the notes that is no marker: search input is the user's own. */
    g_autoptr (GPtrArray) hits = sp_vault_search (vault, "ptarmigan", NULL, 0, &error);
    g_autoptr (GPtrArray) stats = NULL;

    g_assert_no_error (error);
    g_assert_cmpuint (hits->len, >=, 2);
    for (guint i = 0; i < hits->len; i++)
      total += touch_record (hits->pdata[i]);
    stats = sp_vault_stats (vault, &error);
    g_assert_no_error (error);
  }
  g_assert_cmpuint (total, >, 0);
}

static int
reader_main (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) needles = mem_scan_needles_parse (g_getenv ("MEM_NEEDLES"));
  g_autoptr (SpSecret) pass = NULL;
  SpVault *vault;

  if (!sp_core_init (&error))
    g_error ("%s", error->message);
  pass = sp_secret_read_line_fd (0, &error);
  g_assert_no_error (error);
  vault = sp_vault_open (dir, pass, &error);
  g_assert_no_error (error);
  read_everything (vault);
  report ("open", needles);
  sp_vault_close (vault);
  report ("closed", needles);
  return 0;
}

/* ---- The test ------------------------------------------------------------- */

/* A marker no binary or library holds: a prefix and random letters. */
static char *
marker (const char *prefix, gboolean cyrillic)
{
  static const char *const cyr[] = { "ж", "ш", "ю", "я", "ф", "ц", "ў", "э", "б", "д" };
  GString *s = g_string_new (prefix);

  for (int i = 0; i < 10; i++)
    {
      guint r = g_random_int_range (0, 10);
      if (cyrillic)
        g_string_append (s, cyr[r]);
      else
        g_string_append_c (s, (char)('k' + r));
    }
  return g_string_free (s, FALSE);
}

static void
test_cli_after_close (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *org = marker ("Zubrovka", FALSE);
  g_autofree char *locality = marker ("Барысаў", TRUE);
  g_autofree char *real_name = marker ("Грыцкевіч", TRUE);
  g_autofree char *pseudonym = marker ("Lasica", FALSE);
  g_autofree char *mailbox = marker ("qmail", FALSE);
  g_autofree char *email = g_strdup_printf ("%s@example.org", mailbox);
  g_autofree char *secret_note = marker ("Kalinouski", FALSE);
  g_autofree char *notes = g_strdup_printf ("ptarmigan %s", secret_note);
  const char *plain[] = { org, locality, real_name, pseudonym, email, secret_note };
  g_autoptr (GPtrArray) masked = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *list = NULL;
  g_autofree char *out = NULL;
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *pass_path = NULL;
  g_auto (GStrv) envp = g_get_environ ();
  int status = 0;

  {
    g_autoptr (SpVault) vault = sp_test_vault_new (&dir);
    g_autofree char *id1 = sp_test_insert (vault, "org", "name", org, "locality", locality, "email",
                                           email, "notes", notes, NULL);
    g_autofree char *id2
        = sp_test_insert (vault, "person", "full_name", real_name, "display_name", pseudonym,
                          "sensitivity", "high", "notes", "ptarmigan", NULL);
    /* Enough other records that pages are reused and cached as in real use. */
    for (int i = 0; i < 200; i++)
      {
        g_autofree char *name = g_strdup_printf ("Ordinary Group %d", i);
        g_free (sp_test_insert (vault, "org", "name", name, "region", "gomel", NULL));
      }
  }
  for (guint i = 0; i < G_N_ELEMENTS (plain); i++)
    {
      g_autofree char *folded = sp_fold (plain[i]);

      g_ptr_array_add (masked, mem_scan_mask (plain[i]));
      g_ptr_array_add (masked, mem_scan_mask (folded));
    }
  g_ptr_array_add (masked, NULL);
  list = g_strjoinv (",", (char **)masked->pdata);
  envp = g_environ_setenv (envp, "MEM_NEEDLES", list, TRUE);
  pass_path = g_build_filename (dir, "..", "pass", NULL);
  g_assert_true (g_file_set_contents (pass_path, "correct horse\n", -1, NULL));
  {
    g_autofree char *cmd = g_strdup_printf ("exec '%s' --reader '%s' < '%s'", self, dir, pass_path);
    const char *argv[] = { "/bin/sh", "-c", cmd, NULL };

    g_assert_true (g_spawn_sync (NULL, (char **)argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                                 &status, &error));
  }
  g_assert_no_error (error);
  g_test_message ("%s", out);
  g_assert_true (g_spawn_check_wait_status (status, &error));
  g_assert_no_error (error);

  {
    g_auto (GStrv) lines = g_strsplit (out, "\n", -1);
    guint open_stored = 0, closed_hits = 0;

    for (guint l = 0; lines[l]; l++)
      {
        guint i, n;
        char phase[16];

        if (sscanf (lines[l], "%15s %u %u", phase, &i, &n) != 3)
          continue;
        if (g_str_equal (phase, "open") && i % 2 == 0 && n > 0)
          open_stored++;
        if (g_str_equal (phase, "closed"))
          {
            if (n > 0)
              g_test_message ("after close: %s (%s) still %u times in memory", plain[i / 2],
                              i % 2 ? "folded" : "as stored", n);
            closed_hits += n;
          }
      }
    /* While the vault is open every marker is found as stored: the scanner works. */
    g_assert_cmpuint (open_stored, ==, G_N_ELEMENTS (plain));
    g_assert_cmpuint (closed_hits, ==, 0);
  }
  g_unlink (pass_path);
  sp_test_rmtree (g_path_get_dirname (dir));
}

int
main (int argc, char **argv)
{
  if (argc == 3 && g_str_equal (argv[1], "--reader"))
    return reader_main (argv[2]);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/memory/cli-after-close", test_cli_after_close);
  return g_test_run ();
}
