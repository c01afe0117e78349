/* vault-dump DIR: prints vault_dump_json() of the vault in DIR; the
 * passphrase is one line on standard input. For tests/data/make-vault-v6.sh.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>

#include "vault-dump.h"

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SpSecret) pass = NULL;
  g_autoptr (SpVault) vault = NULL;
  g_autofree char *json = NULL;

  if (argc != 2)
    {
      fprintf (stderr, "usage: vault-dump DIR < passphrase\n");
      return 1;
    }
  if (!sp_core_init (&error) || !(pass = sp_secret_read_line_fd (0, &error))
      || !(vault = sp_vault_open (argv[1], pass, &error))
      || !(json = vault_dump_json (vault, &error)))
    {
      fprintf (stderr, "vault-dump: %s\n", error->message);
      return 1;
    }
  fputs (json, stdout);
  fputc ('\n', stdout);
  return 0;
}
