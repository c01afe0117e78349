/* Encrypted backup and restore (docs/SECURITY.md, "Backups").
 *
 * A backup file (integers little-endian):
 *   0   8  magic "SPLKBAK\0"
 *   8   2  format version (1)
 *   10  6  zero
 *   16  1  KDF algorithm (1 = Argon2id v1.3)
 *   17  3  zero
 *   20  8  opslimit
 *   28  8  memlimit
 *   36  16 salt
 *   52  24 crypto_secretstream_xchacha20poly1305 header
 *   76  frames: a 4-byte ciphertext length (17 .. 65536 + 17) and the
 *       ciphertext of one chunk of at most 64 KiB. Every chunk has the 76-byte
 *       file header as associated data, so no header byte can change unnoticed.
 *       Every chunk is tagged MESSAGE except the last, tagged FINAL, after which
 *       the file must end: a cut or an appended frame is detected.
 *
 * The plaintext (never on disk) is a dump of the database's tables:
 *   "SPLKDUMP", u32 schema version, u32 zero
 *   'T' u16 name length, name, u16 columns, (u16 length, name) per column
 *   'R' one value per column: 0 NULL | 1 i64 | 2 f64 | 3 u32 length, UTF-8 text
 *       | 4 u32 length, bytes
 *   'E' u64 number of rows; nothing may follow.
 * Every table is dumped except SQLite's own and the full-text index, which is
 * rebuilt on restore. Rows keep their rowids, so references between tables
 * hold.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sp-vault-private.h"

#define BK_MAGIC "SPLKBAK"
#define BK_VERSION 1
#define BK_HEADER SP_BACKUP_HEADER_SIZE
#define BK_SALT_OFF 36
#define BK_SS_OFF 52
#define BK_CHUNK 65536
#define BK_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define DUMP_MAGIC "SPLKDUMP"
#define KDF_ALG_ARGON2ID13 1

/* Bounds on what a backup may ask of us (as for vault.key). */
#define MAX_OPSLIMIT 16
#define MAX_MEMLIMIT (G_GUINT64_CONSTANT (4) << 30)
#define MAX_BACKUP_BYTES (G_GUINT64_CONSTANT (64) << 30)
#define MAX_NAME 128
#define MAX_COLUMNS 256
#define MAX_TABLES 256
#define MAX_VALUE (32 * 1024 * 1024)

G_STATIC_ASSERT (crypto_secretstream_xchacha20poly1305_HEADERBYTES == 24);
G_STATIC_ASSERT (BK_SS_OFF + 24 == BK_HEADER);
G_STATIC_ASSERT (crypto_secretstream_xchacha20poly1305_KEYBYTES == 32);

enum
{
  V_NULL = 0,
  V_INT = 1,
  V_REAL = 2,
  V_TEXT = 3,
  V_BLOB = 4,
};

static void
put_le (guint8 *p, guint64 v, int n)
{
  for (int i = 0; i < n; i++)
    p[i] = (guint8)(v >> (8 * i));
}

static guint64
get_le (const guint8 *p, int n)
{
  guint64 v = 0;

  for (int i = n - 1; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static gboolean
corrupt (GError **error, const char *what)
{
  g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT, _ ("The backup is damaged: %s"), what);
  return FALSE;
}

static gboolean
write_all (int fd, const void *data, gsize len, const char *path, GError **error)
{
  const guint8 *p = data;

  while (len > 0)
    {
      ssize_t w = write (fd, p, len);
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        {
          int saved = errno;
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO, _ ("Could not write %s: %s"), path,
                       g_strerror (saved));
          return FALSE;
        }
      p += w;
      len -= (gsize)w;
    }
  return TRUE;
}

/* Reads exactly len bytes; *got says how many came before end of file. */
static gboolean
read_exact (int fd, void *data, gsize len, gsize *got, GError **error)
{
  guint8 *p = data;

  *got = 0;
  while (*got < len)
    {
      ssize_t r = read (fd, p + *got, len - *got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        {
          int saved = errno;
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO, _ ("Could not read the backup: %s"),
                       g_strerror (saved));
          return FALSE;
        }
      if (r == 0)
        break;
      *got += (gsize)r;
    }
  return TRUE;
}

/* ---- Header ---- */

gboolean
sp_backup_parse_header (const guint8 *data, gsize len, guint64 *opslimit, guint64 *memlimit,
                        GError **error)
{
  guint64 ops, mem;

  if (len < 10 || memcmp (data, BK_MAGIC, sizeof BK_MAGIC) != 0)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT,
                   _ ("This is not a Supolka backup, or its start is damaged"));
      return FALSE;
    }
  if (get_le (data + 8, 2) > BK_VERSION)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_TOO_NEW,
                   _ ("This backup was written by a newer version of Supolka"));
      return FALSE;
    }
  if (len < BK_HEADER)
    return corrupt (error, _ ("it is cut short"));
  ops = get_le (data + 20, 8);
  mem = get_le (data + 28, 8);
  if (get_le (data + 8, 2) != BK_VERSION || data[16] != KDF_ALG_ARGON2ID13
      || ops < crypto_pwhash_OPSLIMIT_MIN || ops > MAX_OPSLIMIT || mem < crypto_pwhash_MEMLIMIT_MIN
      || mem > MAX_MEMLIMIT)
    return corrupt (error, _ ("its key-derivation settings are out of range"));
  *opslimit = ops;
  *memlimit = mem;
  return TRUE;
}

/* ---- Writing ---- */

typedef struct
{
  int fd;
  const char *path;
  crypto_secretstream_xchacha20poly1305_state st;
  guint8 header[BK_HEADER];
  SpSecret *plain; /* BK_CHUNK bytes */
  gsize len;
  guint8 *cipher; /* BK_CHUNK + ABYTES + 4 */
} Sink;

static gboolean
sink_push (Sink *sink, guint8 tag, GError **error)
{
  unsigned long long clen = 0;

  crypto_secretstream_xchacha20poly1305_push (&sink->st, sink->cipher + 4, &clen,
                                              sp_secret_data (sink->plain), sink->len, sink->header,
                                              sizeof sink->header, tag);
  put_le (sink->cipher, clen, 4);
  sodium_memzero (sp_secret_data (sink->plain), sink->len);
  sink->len = 0;
  return write_all (sink->fd, sink->cipher, (gsize)clen + 4, sink->path, error);
}

static gboolean
sink_put (Sink *sink, const void *data, gsize len, GError **error)
{
  const guint8 *p = data;

  while (len > 0)
    {
      gsize n;

      /* A full chunk goes out only when more data follows: the last chunk,
       * tagged FINAL, is never empty. */
      if (sink->len == BK_CHUNK
          && !sink_push (sink, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE, error))
        return FALSE;
      n = MIN (len, BK_CHUNK - sink->len);
      memcpy (sp_secret_data (sink->plain) + sink->len, p, n);
      sink->len += n;
      p += n;
      len -= n;
    }
  return TRUE;
}

static gboolean
sink_u8 (Sink *s, guint8 v, GError **error)
{
  return sink_put (s, &v, 1, error);
}

static gboolean
sink_le (Sink *s, guint64 v, int n, GError **error)
{
  guint8 b[8];

  put_le (b, v, n);
  return sink_put (s, b, (gsize)n, error);
}

static gboolean
sink_name (Sink *s, const char *name, GError **error)
{
  gsize len = strlen (name);

  if (len > MAX_NAME)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_FAILED, _ ("A table name is too long"));
      return FALSE;
    }
  return sink_le (s, len, 2, error) && sink_put (s, name, len, error);
}

/* Quotes an identifier that came from our own schema. */
static char *
quote_ident (const char *name)
{
  g_autoptr (GString) s = g_string_new ("\"");

  for (const char *p = name; *p; p++)
    {
      if (*p == '"')
        g_string_append_c (s, '"');
      g_string_append_c (s, *p);
    }
  g_string_append_c (s, '"');
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* The tables a dump holds: ordinary tables, not SQLite's own, not virtual
 * tables (the full-text index) nor their shadow tables. */
static GPtrArray *
dump_tables (SpVault *vault, GError **error)
{
  g_autoptr (sqlite3_stmt) st = sp_prepare (
      vault, "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name", error);
  g_autoptr (GPtrArray) virt = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *out;

  if (st == NULL)
    return NULL;
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      const char *name = (const char *)sqlite3_column_text (st, 0);
      const char *sql = (const char *)sqlite3_column_text (st, 1);

      if (name == NULL || g_str_has_prefix (name, "sqlite_"))
        continue;
      if (sql && g_ascii_strncasecmp (sql, "CREATE VIRTUAL", 14) == 0)
        g_ptr_array_add (virt, g_strconcat (name, "_", NULL));
      else
        g_ptr_array_add (all, g_strdup (name));
    }
  out = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < all->len; i++)
    {
      gboolean shadow = FALSE;
      for (guint j = 0; j < virt->len; j++)
        shadow |= g_str_has_prefix (all->pdata[i], virt->pdata[j]);
      if (!shadow)
        g_ptr_array_add (out, g_strdup (all->pdata[i]));
    }
  return out;
}

static gboolean
dump_table (SpVault *vault, Sink *sink, const char *table, guint64 *rows, GError **error)
{
  g_autofree char *q = quote_ident (table);
  g_autofree char *sql = g_strdup_printf ("SELECT * FROM %s", q);
  g_autoptr (sqlite3_stmt) st = sp_prepare (vault, sql, error);
  int ncols, rc;

  if (st == NULL)
    return FALSE;
  ncols = sqlite3_column_count (st);
  if (ncols > MAX_COLUMNS)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_FAILED, _ ("A table has too many columns"));
      return FALSE;
    }
  if (!sink_u8 (sink, 'T', error) || !sink_name (sink, table, error)
      || !sink_le (sink, (guint64)ncols, 2, error))
    return FALSE;
  for (int c = 0; c < ncols; c++)
    if (!sink_name (sink, sqlite3_column_name (st, c), error))
      return FALSE;
  while ((rc = sqlite3_step (st)) == SQLITE_ROW)
    {
      if (!sink_u8 (sink, 'R', error))
        return FALSE;
      for (int c = 0; c < ncols; c++)
        {
          int type = sqlite3_column_type (st, c);
          gboolean ok = TRUE;

          if (type == SQLITE_INTEGER)
            ok = sink_u8 (sink, V_INT, error)
                 && sink_le (sink, (guint64)sqlite3_column_int64 (st, c), 8, error);
          else if (type == SQLITE_FLOAT)
            {
              double d = sqlite3_column_double (st, c);
              guint64 bits;
              memcpy (&bits, &d, 8);
              ok = sink_u8 (sink, V_REAL, error) && sink_le (sink, bits, 8, error);
            }
          else if (type == SQLITE_TEXT || type == SQLITE_BLOB)
            {
              const void *p = type == SQLITE_TEXT ? (const void *)sqlite3_column_text (st, c)
                                                  : sqlite3_column_blob (st, c);
              int n = sqlite3_column_bytes (st, c);

              if (n > MAX_VALUE)
                {
                  g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_FAILED,
                               _ ("A value is too big to back up"));
                  return FALSE;
                }
              ok = sink_u8 (sink, type == SQLITE_TEXT ? V_TEXT : V_BLOB, error)
                   && sink_le (sink, (guint64)n, 4, error) && sink_put (sink, p, (gsize)n, error);
            }
          else
            ok = sink_u8 (sink, V_NULL, error);
          if (!ok)
            return FALSE;
        }
      (*rows)++;
    }
  if (rc != SQLITE_DONE)
    return sp_sqlite_error (vault->db, rc, error);
  return TRUE;
}

static gboolean
dump_all (SpVault *vault, Sink *sink, GError **error)
{
  g_autoptr (GPtrArray) tables = NULL;
  guint64 rows = 0;
  guint8 pre[16];

  tables = dump_tables (vault, error);
  if (tables == NULL)
    return FALSE;
  memcpy (pre, DUMP_MAGIC, 8);
  put_le (pre + 8, (guint64)vault->schema_version, 4);
  put_le (pre + 12, 0, 4);
  if (!sink_put (sink, pre, sizeof pre, error))
    return FALSE;
  for (guint i = 0; i < tables->len; i++)
    if (!dump_table (vault, sink, tables->pdata[i], &rows, error))
      return FALSE;
  return sink_u8 (sink, 'E', error) && sink_le (sink, rows, 8, error);
}

static void
sync_dir_of (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int dfd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (dfd >= 0)
    {
      fsync (dfd);
      close (dfd);
    }
}

gboolean
sp_vault_backup (SpVault *vault, const char *path, SpSecret *backup_passphrase,
                 SpKdfProfile profile, GError **error)
{
  g_autofree char *tmp = NULL;
  g_autoptr (SpSecret) key = NULL;
  Sink sink = { .fd = -1 };
  guint64 ops;
  gsize mem;
  gboolean ok = FALSE;

  g_return_val_if_fail (vault != NULL && path != NULL && backup_passphrase != NULL, FALSE);
  if (vault->db == NULL)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_LOCKED, _ ("The vault is locked"));
      return FALSE;
    }
  if (vault->current_tx)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_FAILED,
                   _ ("Finish the open transaction before making a backup"));
      return FALSE;
    }
  if (!sp_kdf_profile_limits (profile, &ops, &mem))
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("Unknown KDF profile"));
      return FALSE;
    }

  memset (sink.header, 0, BK_HEADER);
  memcpy (sink.header, BK_MAGIC, sizeof BK_MAGIC);
  put_le (sink.header + 8, BK_VERSION, 2);
  sink.header[16] = KDF_ALG_ARGON2ID13;
  put_le (sink.header + 20, ops, 8);
  put_le (sink.header + 28, mem, 8);
  randombytes_buf (sink.header + BK_SALT_OFF, crypto_pwhash_SALTBYTES);

  key = sp_secret_new (crypto_secretstream_xchacha20poly1305_KEYBYTES);
  if (crypto_pwhash (sp_secret_data (key), sp_secret_len (key),
                     (const char *)sp_secret_data (backup_passphrase),
                     sp_secret_len (backup_passphrase), sink.header + BK_SALT_OFF, ops, mem,
                     crypto_pwhash_ALG_ARGON2ID13)
      != 0)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_FAILED,
                   _ ("Not enough memory to derive the key (%llu MiB needed)"),
                   (unsigned long long)(mem >> 20));
      return FALSE;
    }
  crypto_secretstream_xchacha20poly1305_init_push (&sink.st, sink.header + BK_SS_OFF,
                                                   sp_secret_data (key));

  /* Ciphertext only, so a temporary name beside the target is safe. */
  tmp = g_strconcat (path, ".partial", NULL);
  g_unlink (tmp);
  sink.fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (sink.fd < 0)
    {
      int saved = errno;
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO, _ ("Could not write %s: %s"), path,
                   g_strerror (saved));
      return FALSE;
    }
  sink.path = path;
  sink.plain = sp_secret_new (BK_CHUNK);
  sink.cipher = g_malloc (BK_CHUNK + BK_ABYTES + 4);

  /* One read transaction: every table from the same snapshot. */
  if (!sp_exec (vault, "BEGIN", error))
    goto out;
  ok = write_all (sink.fd, sink.header, BK_HEADER, path, error) && dump_all (vault, &sink, error)
       && sink_push (&sink, crypto_secretstream_xchacha20poly1305_TAG_FINAL, error);
  sqlite3_exec (vault->db, "ROLLBACK", NULL, NULL, NULL);
  if (ok && fsync (sink.fd) != 0)
    {
      int saved = errno;
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO, _ ("Could not write %s: %s"), path,
                   g_strerror (saved));
      ok = FALSE;
    }

out:
  close (sink.fd);
  sodium_memzero (&sink.st, sizeof sink.st);
  sp_secret_free (sink.plain);
  g_free (sink.cipher);
  if (ok && rename (tmp, path) != 0)
    {
      int saved = errno;
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO, _ ("Could not write %s: %s"), path,
                   g_strerror (saved));
      ok = FALSE;
    }
  if (!ok)
    g_unlink (tmp);
  else
    sync_dir_of (path);
  return ok;
}

/* ---- Reading ---- */

typedef struct
{
  SpBackupSource base;
  int fd;
  crypto_secretstream_xchacha20poly1305_state st;
  const guint8 *header;
  SpSecret *plain; /* one decrypted chunk */
  gsize pos, len;
  gboolean first, final;
  guint8 *cipher;
} FileSource;

static gboolean
file_source_pull (FileSource *src, GError **error)
{
  guint8 lenbuf[4];
  unsigned long long mlen = 0;
  guint8 tag = 0;
  gsize got;
  guint64 clen;

  if (!read_exact (src->fd, lenbuf, 4, &got, error))
    return FALSE;
  if (got != 4)
    return corrupt (error, _ ("it is cut short"));
  clen = get_le (lenbuf, 4);
  if (clen < BK_ABYTES || clen > BK_CHUNK + BK_ABYTES)
    return corrupt (error, _ ("a block has an impossible length"));
  if (!read_exact (src->fd, src->cipher, (gsize)clen, &got, error))
    return FALSE;
  if (got != clen)
    return corrupt (error, _ ("it is cut short"));
  if (crypto_secretstream_xchacha20poly1305_pull (&src->st, sp_secret_data (src->plain), &mlen,
                                                  &tag, src->cipher, clen, src->header, BK_HEADER)
      != 0)
    {
      if (src->first)
        g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_WRONG_PASSPHRASE,
                     _ ("Wrong passphrase for this backup, or the backup is damaged"));
      else
        corrupt (error, _ ("it was changed or damaged after it was written"));
      return FALSE;
    }
  src->first = FALSE;
  if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL)
    src->final = TRUE;
  else if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
    return corrupt (error, _ ("a block has an unknown tag"));
  src->pos = 0;
  src->len = (gsize)mlen;
  return TRUE;
}

static gboolean
file_source_read (SpBackupSource *base, guint8 *buf, gsize len, GError **error)
{
  FileSource *src = (FileSource *)base;

  while (len > 0)
    {
      gsize n;

      if (src->pos == src->len)
        {
          if (src->final)
            return corrupt (error, _ ("its contents end too early"));
          if (!file_source_pull (src, error))
            return FALSE;
          continue;
        }
      n = MIN (len, src->len - src->pos);
      memcpy (buf, sp_secret_data (src->plain) + src->pos, n);
      src->pos += n;
      buf += n;
      len -= n;
    }
  return TRUE;
}

/* After the payload: nothing left, the FINAL tag seen, and the file ends. */
static gboolean
file_source_finish (FileSource *src, GError **error)
{
  guint8 extra;
  gsize got;

  while (src->pos == src->len && !src->final)
    if (!file_source_pull (src, error))
      return FALSE;
  if (src->pos != src->len)
    return corrupt (error, _ ("it holds data after its end"));
  if (!read_exact (src->fd, &extra, 1, &got, error))
    return FALSE;
  if (got != 0)
    return corrupt (error, _ ("it holds data after its end"));
  return TRUE;
}

static gboolean
src_read (SpBackupSource *src, void *buf, gsize len, GError **error)
{
  return src->read (src, buf, len, error);
}

static gboolean
src_le (SpBackupSource *src, int n, guint64 *out, GError **error)
{
  guint8 b[8];

  if (!src_read (src, b, (gsize)n, error))
    return FALSE;
  *out = get_le (b, n);
  return TRUE;
}

static char *
src_name (SpBackupSource *src, GError **error)
{
  guint64 len;
  char buf[MAX_NAME + 1];

  if (!src_le (src, 2, &len, error))
    return NULL;
  if (len == 0 || len > MAX_NAME)
    {
      corrupt (error, _ ("a name has an impossible length"));
      return NULL;
    }
  if (!src_read (src, buf, (gsize)len, error))
    return NULL;
  buf[len] = '\0';
  if (strlen (buf) != len || !g_utf8_validate (buf, (gssize)len, NULL))
    {
      corrupt (error, _ ("a name is not valid text"));
      return NULL;
    }
  return g_strdup (buf);
}

gboolean
sp_backup_read_preamble (SpBackupSource *src, int *schema_version, GError **error)
{
  guint8 pre[16];
  guint64 version;

  if (!src_read (src, pre, sizeof pre, error))
    return FALSE;
  if (memcmp (pre, DUMP_MAGIC, 8) != 0 || get_le (pre + 12, 4) != 0)
    return corrupt (error, _ ("its contents are not a Supolka vault"));
  version = get_le (pre + 8, 4);
  if (version > (guint64)sp_vault_schema_version_latest ())
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_TOO_NEW,
                   _ ("This backup was written by a newer version of Supolka (schema %d; this "
                      "version knows up to %d)"),
                   (int)MIN (version, 1000000), sp_vault_schema_version_latest ());
      return FALSE;
    }
  if (version < 1)
    return corrupt (error, _ ("its contents are not a Supolka vault"));
  *schema_version = (int)version;
  return TRUE;
}

/* The names of the tables and columns a restore may write: the target's own
 * schema (the same one dump_tables() dumps), never names from the file. */
static GHashTable *
table_columns (SpVault *vault, const char *table, GError **error)
{
  g_autofree char *q = quote_ident (table);
  g_autofree char *sql = g_strdup_printf ("PRAGMA table_info(%s)", q);
  g_autoptr (sqlite3_stmt) st = sp_prepare (vault, sql, error);
  GHashTable *cols;

  if (st == NULL)
    return NULL;
  cols = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  while (sqlite3_step (st) == SQLITE_ROW)
    g_hash_table_add (cols, g_strdup ((const char *)sqlite3_column_text (st, 1)));
  return cols;
}

static sqlite3_stmt *
begin_table (SpVault *vault, GPtrArray *allowed, GHashTable *seen, SpBackupSource *src,
             guint *ncols_out, GError **error)
{
  g_autofree char *table = src_name (src, error);
  g_autoptr (GHashTable) cols = NULL;
  g_autoptr (GHashTable) used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GString) sql = g_string_new (NULL);
  g_autoptr (GString) marks = g_string_new (NULL);
  g_autofree char *qt = NULL;
  g_autofree char *del = NULL;
  guint64 ncols;
  gboolean known = FALSE;

  if (table == NULL)
    return NULL;
  for (guint i = 0; i < allowed->len; i++)
    known |= g_str_equal (allowed->pdata[i], table);
  if (!known || g_hash_table_contains (seen, table))
    {
      corrupt (error, _ ("it names a table twice or one this version does not have"));
      return NULL;
    }
  g_hash_table_add (seen, g_strdup (table));
  cols = table_columns (vault, table, error);
  if (cols == NULL || !src_le (src, 2, &ncols, error))
    return NULL;
  if (ncols == 0 || ncols > MAX_COLUMNS)
    {
      corrupt (error, _ ("a table has an impossible number of columns"));
      return NULL;
    }
  qt = quote_ident (table);
  g_string_append_printf (sql, "INSERT INTO %s (", qt);
  for (guint c = 0; c < ncols; c++)
    {
      g_autofree char *col = src_name (src, error);
      g_autofree char *qc = NULL;

      if (col == NULL)
        return NULL;
      if (!g_hash_table_contains (cols, col) || g_hash_table_contains (used, col))
        {
          corrupt (error, _ ("it names a column twice or one this version does not have"));
          return NULL;
        }
      qc = quote_ident (col);
      g_string_append_printf (sql, "%s%s", c ? ", " : "", qc);
      g_string_append (marks, c ? ", ?" : "?");
      g_hash_table_add (used, g_steal_pointer (&col));
    }
  g_string_append_printf (sql, ") VALUES (%s)", marks->str);
  /* The fresh vault's own rows (its meta) give way to the backup's. */
  del = g_strdup_printf ("DELETE FROM %s", qt);
  if (!sp_exec (vault, del, error))
    return NULL;
  *ncols_out = (guint)ncols;
  return sp_prepare (vault, sql->str, error);
}

static gboolean
load_row (SpVault *vault, sqlite3_stmt *st, guint ncols, SpBackupSource *src, GError **error)
{
  int rc;

  sqlite3_reset (st);
  sqlite3_clear_bindings (st);
  for (guint c = 0; c < ncols; c++)
    {
      guint64 type, v;

      if (!src_le (src, 1, &type, error))
        return FALSE;
      switch (type)
        {
          case V_NULL:
            sqlite3_bind_null (st, (int)c + 1);
            break;
          case V_INT:
            if (!src_le (src, 8, &v, error))
              return FALSE;
            sqlite3_bind_int64 (st, (int)c + 1, (sqlite3_int64)v);
            break;
          case V_REAL:
            {
              double d;
              if (!src_le (src, 8, &v, error))
                return FALSE;
              memcpy (&d, &v, 8);
              sqlite3_bind_double (st, (int)c + 1, d);
              break;
            }
          case V_TEXT:
          case V_BLOB:
            {
              guint8 *buf;
              if (!src_le (src, 4, &v, error))
                return FALSE;
              if (v > MAX_VALUE)
                return corrupt (error, _ ("a value is too big"));
              buf = g_malloc (v + 1);
              if (!src_read (src, buf, (gsize)v, error))
                {
                  sodium_memzero (buf, (gsize)v);
                  g_free (buf);
                  return FALSE;
                }
              if (type == V_TEXT && !g_utf8_validate ((const char *)buf, (gssize)v, NULL))
                {
                  sodium_memzero (buf, (gsize)v);
                  g_free (buf);
                  return corrupt (error, _ ("a text value is not valid UTF-8"));
                }
              /* SQLite copies it; ours is wiped at once. */
              if (type == V_TEXT)
                sqlite3_bind_text (st, (int)c + 1, (const char *)buf, (int)v, SQLITE_TRANSIENT);
              else
                sqlite3_bind_blob (st, (int)c + 1, buf, (int)v, SQLITE_TRANSIENT);
              sodium_memzero (buf, (gsize)v);
              g_free (buf);
              break;
            }
          default:
            return corrupt (error, _ ("a value has an unknown type"));
        }
    }
  rc = sqlite3_step (st);
  sqlite3_reset (st);
  if (rc == SQLITE_CONSTRAINT || rc == SQLITE_MISMATCH)
    return corrupt (error, _ ("its rows contradict each other"));
  if (rc != SQLITE_DONE)
    return sp_sqlite_error (vault->db, rc, error);
  return TRUE;
}

gboolean
sp_backup_load_payload (SpVault *vault, SpBackupSource *src, GError **error)
{
  g_autoptr (GPtrArray) allowed = dump_tables (vault, error);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (sqlite3_stmt) st = NULL;
  guint ncols = 0;
  guint64 rows = 0;

  if (allowed == NULL)
    return FALSE;
  for (;;)
    {
      guint64 item, total;

      if (!src_le (src, 1, &item, error))
        return FALSE;
      if (item == 'T')
        {
          g_clear_pointer (&st, sqlite3_finalize);
          if (g_hash_table_size (seen) >= MAX_TABLES)
            return corrupt (error, _ ("it has too many tables"));
          st = begin_table (vault, allowed, seen, src, &ncols, error);
          if (st == NULL)
            return FALSE;
        }
      else if (item == 'R')
        {
          if (st == NULL)
            return corrupt (error, _ ("a row comes before its table"));
          if (!load_row (vault, st, ncols, src, error))
            return FALSE;
          rows++;
        }
      else if (item == 'E')
        {
          if (!src_le (src, 8, &total, error))
            return FALSE;
          if (total != rows)
            return corrupt (error, _ ("rows are missing"));
          return TRUE;
        }
      else
        return corrupt (error, _ ("its contents have an unknown part"));
    }
}

/* ---- Restore ---- */

/* Moves every file of the restored vault from tmp into dir: the database
 * first, vault.key last, so dir never holds a key without its database. */
static gboolean
install (const char *tmp, const char *dir, GError **error)
{
  static const char *const order[] = { "vault.db", "vault.db-wal", "vault.db-shm", "vault.key" };
  g_autofree char *key_path = g_build_filename (dir, "vault.key", NULL);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO, _ ("Could not create %s: %s"), dir,
                   g_strerror (saved));
      return FALSE;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (order); i++)
    {
      g_autofree char *from = g_build_filename (tmp, order[i], NULL);
      g_autofree char *to = g_build_filename (dir, order[i], NULL);

      if (rename (from, to) != 0 && errno != ENOENT)
        {
          int saved = errno;
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO,
                       _ ("Could not move the restored vault from %s to %s: %s"), tmp, dir,
                       g_strerror (saved));
          return FALSE;
        }
    }
  sync_dir_of (key_path);
  g_rmdir (tmp);
  return TRUE;
}

static gboolean
restore_into (int fd, const guint8 header[BK_HEADER], SpSecret *key, const char *tmp,
              SpSecret *vault_passphrase, SpKdfProfile profile, GError **error)
{
  g_autoptr (SpVault) vault = NULL;
  FileSource src = { .base.read = file_source_read, .fd = fd, .header = header, .first = TRUE };
  int version = 0;
  gboolean ok = FALSE;

  if (crypto_secretstream_xchacha20poly1305_init_pull (&src.st, header + BK_SS_OFF,
                                                       sp_secret_data (key))
      != 0)
    return corrupt (error, _ ("its header is invalid"));
  src.plain = sp_secret_new (BK_CHUNK);
  src.cipher = g_malloc (BK_CHUNK + BK_ABYTES);

  if (!sp_backup_read_preamble (&src.base, &version, error))
    goto out;
  vault = sp_vault_create_at_version (tmp, vault_passphrase, profile, version, error);
  if (vault == NULL)
    goto out;
  if (!sp_exec (vault, "BEGIN IMMEDIATE", error))
    goto out;
  if (!sp_backup_load_payload (vault, &src.base, error) || !file_source_finish (&src, error))
    {
      sqlite3_exec (vault->db, "ROLLBACK", NULL, NULL, NULL);
      goto out;
    }
  /* Verified to the last byte: only now does anything count. */
  if (!sp_exec (vault, "COMMIT", error)
      || !sp_schema_migrate (vault, sp_vault_schema_version_latest (), error)
      || !sp_exec (vault, "BEGIN IMMEDIATE", error) || !sp_search_rebuild (vault, error)
      || !sp_exec (vault, "COMMIT", error) || !sp_vault_reload_state (vault, error)
      || !sp_vault_check (vault, error))
    goto out;
  ok = TRUE;

out:
  sodium_memzero (&src.st, sizeof src.st);
  sp_secret_free (src.plain);
  g_free (src.cipher);
  return ok;
}

gboolean
sp_vault_restore (const char *backup_path, SpSecret *backup_passphrase, const char *dir,
                  SpSecret *vault_passphrase, SpKdfProfile profile, gboolean replace,
                  GError **error)
{
  g_autofree char *parent = NULL;
  g_autofree char *base = NULL;
  g_autofree char *tmp = NULL;
  g_autoptr (SpSecret) key = NULL;
  guint8 header[BK_HEADER];
  guint64 ops = 0, mem = 0, gops;
  gsize gmem, got;
  struct stat st;
  int fd;
  gboolean ok;

  g_return_val_if_fail (backup_path != NULL && backup_passphrase != NULL && dir != NULL, FALSE);
  if (!sp_kdf_profile_limits (profile, &gops, &gmem))
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("Unknown KDF profile"));
      return FALSE;
    }
  if (sp_vault_exists (dir) && !replace)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_EXISTS, _ ("A vault already exists in %s"),
                   dir);
      return FALSE;
    }

  fd = open (backup_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, SP_CORE_ERROR,
                   saved == ENOENT ? SP_CORE_ERROR_NOT_FOUND : SP_CORE_ERROR_IO,
                   _ ("Could not open %s: %s"), backup_path, g_strerror (saved));
      return FALSE;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || (guint64)st.st_size > MAX_BACKUP_BYTES)
    {
      close (fd);
      return corrupt (error, _ ("it is not a regular file of a possible size"));
    }
  if (!read_exact (fd, header, BK_HEADER, &got, error)
      || !sp_backup_parse_header (header, got, &ops, &mem, error))
    {
      close (fd);
      return FALSE;
    }

  key = sp_secret_new (crypto_secretstream_xchacha20poly1305_KEYBYTES);
  if (crypto_pwhash (sp_secret_data (key), sp_secret_len (key),
                     (const char *)sp_secret_data (backup_passphrase),
                     sp_secret_len (backup_passphrase), header + BK_SALT_OFF, ops, (size_t)mem,
                     crypto_pwhash_ALG_ARGON2ID13)
      != 0)
    {
      close (fd);
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_FAILED,
                   _ ("Not enough memory to derive the key (%llu MiB needed)"),
                   (unsigned long long)(mem >> 20));
      return FALSE;
    }

  /* A new folder beside the target (same file system: the files are renamed
   * into place). It holds only the new, encrypted vault. */
  parent = g_path_get_dirname (dir);
  base = g_path_get_basename (dir);
  if (g_mkdir_with_parents (parent, 0700) != 0)
    {
      int saved = errno;
      close (fd);
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO, _ ("Could not create %s: %s"), parent,
                   g_strerror (saved));
      return FALSE;
    }
  tmp = g_strdup_printf ("%s/.%s.restore-XXXXXX", parent, base);
  if (g_mkdtemp_full (tmp, 0700) == NULL)
    {
      int saved = errno;
      close (fd);
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO, _ ("Could not create %s: %s"), tmp,
                   g_strerror (saved));
      return FALSE;
    }

  ok = restore_into (fd, header, key, tmp, vault_passphrase ? vault_passphrase : backup_passphrase,
                     profile, error);
  close (fd);
  if (!ok)
    {
      sp_vault_wipe_files (tmp, TRUE, NULL, NULL);
      g_rmdir (tmp);
      return FALSE;
    }

  /* The old vault, if any, is destroyed only now that the new one is whole. */
  if (sp_vault_exists (dir) && !sp_vault_wipe_files (dir, FALSE, NULL, error))
    {
      g_prefix_error (error, _ ("The restored vault is in %s: "), tmp);
      return FALSE;
    }
  return install (tmp, dir, error);
}
