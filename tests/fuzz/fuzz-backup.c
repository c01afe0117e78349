/* libFuzzer: the backup reader. A fuzzer cannot forge the secretstream tags,
 * so it drives the two parsers that see hostile bytes: the file header (KDF
 * limits) and the decrypted payload (tables, columns, rows), which a backup
 * made by someone else under a passphrase they chose can fill with anything.
 * The payload is loaded into a real vault inside a transaction that is rolled
 * back; it must be refused cleanly or loaded, never crash.
 *
 * Input: first byte even = header, odd = payload (the rest of the input; a
 * payload starts with the 16-byte preamble "SPLKDUMP" + version + zero).
 * SPDX-License-Identifier: GPL-3.0-or-later */
#include "sp-vault-private.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static SpVault *vault;

typedef struct
{
  SpBackupSource base;
  const guint8 *data;
  gsize len, pos;
} MemSource;

static gboolean
mem_read (SpBackupSource *base, guint8 *buf, gsize len, GError **error)
{
  MemSource *m = (MemSource *)base;

  if (len > m->len - m->pos)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT, "cut short");
      return FALSE;
    }
  memcpy (buf, m->data + m->pos, len);
  m->pos += len;
  return TRUE;
}

static void
open_vault (void)
{
  g_autofree char *dir = g_dir_make_tmp ("supolka-fuzz-XXXXXX", NULL);
  g_autofree char *vdir = g_build_filename (dir, "vault", NULL);
  g_autoptr (SpSecret) pass = sp_secret_new_from_data ("fuzz", 4);

  sp_core_init (NULL);
  vault = sp_vault_create (vdir, pass, SP_KDF_INTERACTIVE, NULL);
  g_assert (vault != NULL);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  MemSource m = { { mem_read }, NULL, 0, 0 };
  int version = 0;

  if (size < 1)
    return 0;
  if ((data[0] & 1) == 0)
    {
      guint64 ops, mem;
      if (!sp_backup_parse_header (data + 1, size - 1, &ops, &mem, &error))
        g_assert (error != NULL);
      else
        g_assert (ops <= 16 && mem <= (G_GUINT64_CONSTANT (4) << 30));
      return 0;
    }
  if (vault == NULL)
    open_vault ();
  m.data = data + 1;
  m.len = size - 1;
  if (!sp_backup_read_preamble (&m.base, &version, &error))
    {
      g_assert (error != NULL);
      return 0;
    }
  g_assert (sp_exec (vault, "BEGIN", NULL));
  if (!sp_backup_load_payload (vault, &m.base, &error))
    g_assert (error != NULL);
  sqlite3_exec (sp_vault_get_db (vault), "ROLLBACK", NULL, NULL, NULL);
  return 0;
}
