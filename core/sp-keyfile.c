/* vault.key: the master key, wrapped under Argon2id-derived keys.
 *
 * Layout (all integers little-endian), 264 bytes:
 *   0   8  magic "SPLKKEY\0"
 *   8   2  format version (1)
 *   10  2  number of slots (2)
 *   12  4  reserved, zero
 *   16  2 x 108-byte slots:
 *         0   1  KDF algorithm (1 = Argon2id v1.3)
 *         1   3  reserved, zero
 *         4   8  opslimit
 *         12  8  memlimit
 *         20  16 salt
 *         36  24 nonce
 *         60  48 master key sealed with XChaCha20-Poly1305 (32 + 16-byte tag);
 *                associated data: file bytes 0..15 and slot bytes 0..35
 *   232 32 BLAKE2b-256 of bytes 0..231 — catches accidental damage only; the
 *          AEAD tags are what stop tampering.
 *
 * Slot 0 is the passphrase. Slot 1 is the duress passphrase; when none is set
 * it holds random bytes with the same KDF limits, so the file looks the same
 * either way and unlocking always derives both (same time whichever matches).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <unistd.h>

#include "sp-vault-private.h"

#define KF_MAGIC "SPLKKEY"
#define KF_VERSION 1
#define KF_SLOTS 2
#define KF_HEADER 16
#define SLOT_SIZE 108
#define SLOT_AD_LEN 36
#define SLOT_SALT_OFF 20
#define SLOT_NONCE_OFF 36
#define SLOT_CT_OFF 60
#define KF_SUM_OFF (KF_HEADER + KF_SLOTS * SLOT_SIZE)
#define KF_SIZE (KF_SUM_OFF + 32)
#define KDF_ALG_ARGON2ID13 1

/* Bounds on what a key file may ask of us: a tampered file must not make us
 * allocate 100 GiB or spin for an hour. Sensitive is 4 / 1 GiB. */
#define MAX_OPSLIMIT 16
#define MAX_MEMLIMIT (G_GUINT64_CONSTANT (4) << 30)

G_STATIC_ASSERT (KF_SIZE == 264);
G_STATIC_ASSERT (KF_SIZE == SP_KEYFILE_SIZE);
G_STATIC_ASSERT (crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == 24);
G_STATIC_ASSERT (crypto_pwhash_SALTBYTES == 16);

gboolean
sp_kdf_profile_limits (SpKdfProfile profile, guint64 *opslimit, gsize *memlimit)
{
  switch (profile)
    {
      case SP_KDF_INTERACTIVE:
        *opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        *memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;
        return TRUE;
      case SP_KDF_MODERATE:
        *opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
        *memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
        return TRUE;
      case SP_KDF_SENSITIVE:
        *opslimit = crypto_pwhash_OPSLIMIT_SENSITIVE;
        *memlimit = crypto_pwhash_MEMLIMIT_SENSITIVE;
        return TRUE;
      default:
        return FALSE;
    }
}

const char *
sp_kdf_profile_to_string (SpKdfProfile profile)
{
  switch (profile)
    {
      case SP_KDF_INTERACTIVE:
        return "interactive";
      case SP_KDF_MODERATE:
        return "moderate";
      case SP_KDF_SENSITIVE:
        return "sensitive";
      default:
        return NULL;
    }
}

gboolean
sp_kdf_profile_from_string (const char *s, SpKdfProfile *out)
{
  for (SpKdfProfile p = SP_KDF_INTERACTIVE; p <= SP_KDF_SENSITIVE; p++)
    if (g_strcmp0 (s, sp_kdf_profile_to_string (p)) == 0)
      {
        *out = p;
        return TRUE;
      }
  return FALSE;
}

static void
put_le64 (guint8 *p, guint64 v)
{
  for (int i = 0; i < 8; i++)
    p[i] = (guint8)(v >> (8 * i));
}

static guint64
get_le64 (const guint8 *p)
{
  guint64 v = 0;

  for (int i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

static void
put_header (guint8 *file)
{
  memset (file, 0, KF_HEADER);
  memcpy (file, KF_MAGIC, sizeof KF_MAGIC); /* includes the NUL: 8 bytes */
  file[8] = KF_VERSION & 0xff;
  file[9] = KF_VERSION >> 8;
  file[10] = KF_SLOTS;
  file[11] = 0;
}

static void
slot_ad (const guint8 *file, const guint8 *slot, guint8 ad[KF_HEADER + SLOT_AD_LEN])
{
  memcpy (ad, file, KF_HEADER);
  memcpy (ad + KF_HEADER, slot, SLOT_AD_LEN);
}

static SpSecret *
derive_key (SpSecret *passphrase, const guint8 *slot, GError **error)
{
  g_autoptr (SpSecret) key = sp_secret_new (crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
  guint64 ops = get_le64 (slot + 4);
  guint64 mem = get_le64 (slot + 12);

  if (crypto_pwhash (sp_secret_data (key), sp_secret_len (key),
                     (const char *)sp_secret_data (passphrase), sp_secret_len (passphrase),
                     slot + SLOT_SALT_OFF, ops, (size_t)mem, crypto_pwhash_ALG_ARGON2ID13)
      != 0)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_FAILED,
                   _ ("Not enough memory to derive the key (%llu MiB needed)"),
                   (unsigned long long)(mem >> 20));
      return NULL;
    }
  return g_steal_pointer (&key);
}

/* Fills one slot: fresh salt and nonce, master key sealed under passphrase.
 * With passphrase NULL the slot is random bytes of the same shape. */
static gboolean
seal_slot (guint8 *file, int index, SpSecret *passphrase, guint64 ops, gsize mem,
           SpSecret *master_key, GError **error)
{
  guint8 *slot = file + KF_HEADER + index * SLOT_SIZE;
  guint8 ad[KF_HEADER + SLOT_AD_LEN];
  g_autoptr (SpSecret) key = NULL;

  memset (slot, 0, SLOT_SIZE);
  slot[0] = KDF_ALG_ARGON2ID13;
  put_le64 (slot + 4, ops);
  put_le64 (slot + 12, mem);
  randombytes_buf (slot + SLOT_SALT_OFF, crypto_pwhash_SALTBYTES);
  randombytes_buf (slot + SLOT_NONCE_OFF, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);

  if (passphrase == NULL)
    {
      randombytes_buf (slot + SLOT_CT_OFF, SP_MASTER_KEY_BYTES + 16);
      return TRUE;
    }

  key = derive_key (passphrase, slot, error);
  if (key == NULL)
    return FALSE;
  slot_ad (file, slot, ad);
  crypto_aead_xchacha20poly1305_ietf_encrypt (slot + SLOT_CT_OFF, NULL, sp_secret_data (master_key),
                                              SP_MASTER_KEY_BYTES, ad, sizeof ad, NULL,
                                              slot + SLOT_NONCE_OFF, sp_secret_data (key));
  return TRUE;
}

static void
put_checksum (guint8 *file)
{
  crypto_generichash (file + KF_SUM_OFF, 32, file, KF_SUM_OFF, NULL, 0);
}

gboolean
sp_write_file_durably (const char *path, const void *data, gsize len, GError **error)
{
  g_autofree char *tmp = g_strconcat (path, ".new", NULL);
  g_autofree char *dirname = g_path_get_dirname (path);
  int fd, dfd;
  const guint8 *p = data;
  gsize done = 0;

  /* A fresh file, never one someone placed there (or a link to one). */
  g_unlink (tmp);
  fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    goto fail;
  while (done < len)
    {
      ssize_t w = write (fd, p + done, len - done);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        {
          int saved = errno;
          close (fd);
          errno = saved;
          goto fail;
        }
      done += (gsize)w;
    }
  if (fsync (fd) != 0 || close (fd) != 0)
    goto fail;
  if (rename (tmp, path) != 0)
    goto fail;
  dfd = open (dirname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0)
    {
      fsync (dfd);
      close (dfd);
    }
  return TRUE;

fail:
  {
    int saved = errno;
    g_unlink (tmp);
    g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO, _ ("Could not write %s: %s"), path,
                 g_strerror (saved));
    return FALSE;
  }
}

gboolean
sp_keyfile_create (const char *path, SpSecret *passphrase, SpKdfProfile profile,
                   SpSecret *master_key, GError **error)
{
  guint8 file[KF_SIZE];
  guint64 ops;
  gsize mem;
  gboolean ok;

  if (!sp_kdf_profile_limits (profile, &ops, &mem))
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("Unknown KDF profile"));
      return FALSE;
    }
  put_header (file);
  if (!seal_slot (file, SP_SLOT_MAIN, passphrase, ops, mem, master_key, error))
    return FALSE;
  seal_slot (file, SP_SLOT_DURESS, NULL, ops, mem, NULL, NULL);
  put_checksum (file);
  ok = sp_write_file_durably (path, file, sizeof file, error);
  sodium_memzero (file, sizeof file);
  return ok;
}

/* Checks the shape of a key file's bytes; copies them to file on success. */
gboolean
sp_keyfile_parse (const char *path, const guint8 *contents, gsize len, guint8 file[SP_KEYFILE_SIZE],
                  GError **error)
{
  guint8 sum[32];

  if (len < 10 || memcmp (contents, KF_MAGIC, sizeof KF_MAGIC) != 0)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT,
                   _ ("%s is not a Supolka key file, or its start is damaged"), path);
      return FALSE;
    }
  if ((contents[8] | (contents[9] << 8)) > KF_VERSION)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_TOO_NEW,
                   _ ("%s was written by a newer version of Supolka"), path);
      return FALSE;
    }
  if (len != KF_SIZE)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT,
                   _ ("%s is damaged: it has %lu bytes instead of %d"), path, (unsigned long)len,
                   KF_SIZE);
      return FALSE;
    }
  memcpy (file, contents, KF_SIZE);
  crypto_generichash (sum, sizeof sum, file, KF_SUM_OFF, NULL, 0);
  if (sodium_memcmp (sum, file + KF_SUM_OFF, sizeof sum) != 0 || file[10] != KF_SLOTS)
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT,
                   _ ("%s is damaged: its checksum does not match"), path);
      return FALSE;
    }
  for (int i = 0; i < KF_SLOTS; i++)
    {
      const guint8 *slot = file + KF_HEADER + i * SLOT_SIZE;
      guint64 ops = get_le64 (slot + 4), mem = get_le64 (slot + 12);

      if (slot[0] != KDF_ALG_ARGON2ID13 || ops < crypto_pwhash_OPSLIMIT_MIN || ops > MAX_OPSLIMIT
          || mem < crypto_pwhash_MEMLIMIT_MIN || mem > MAX_MEMLIMIT)
        {
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_CORRUPT,
                       _ ("%s is damaged: its key-derivation settings are out of range"), path);
          return FALSE;
        }
    }
  return TRUE;
}

/* Reads and checks the file's shape. Never modifies it. */
static gboolean
read_keyfile (const char *path, guint8 file[KF_SIZE], GError **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr (GError) local = NULL;

  if (!g_file_get_contents (path, &contents, &len, &local))
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_NOT_FOUND, _ ("No vault found at %s"),
                     path);
      else
        g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_IO, "%s", local->message);
      return FALSE;
    }
  return sp_keyfile_parse (path, (const guint8 *)contents, len, file, error);
}

gboolean
sp_keyfile_get_profile (const char *path, SpKeySlot slot, SpKdfProfile *profile, GError **error)
{
  guint8 file[KF_SIZE];
  const guint8 *s;

  if (!read_keyfile (path, file, error))
    return FALSE;
  s = file + KF_HEADER + slot * SLOT_SIZE;
  *profile = SP_KDF_MODERATE;
  for (SpKdfProfile p = SP_KDF_INTERACTIVE; p <= SP_KDF_SENSITIVE; p++)
    {
      guint64 ops;
      gsize mem;
      sp_kdf_profile_limits (p, &ops, &mem);
      if (get_le64 (s + 4) == ops && get_le64 (s + 12) == mem)
        *profile = p;
    }
  return TRUE;
}

SpSecret *
sp_keyfile_unwrap_full (const char *path, SpSecret *passphrase, SpKeySlot *slot_out,
                        SpSecret **slot_key_out, guint8 file_out[SP_KEYFILE_SIZE], GError **error)
{
  guint8 file[KF_SIZE];
  g_autoptr (SpSecret) master = sp_secret_new (SP_MASTER_KEY_BYTES);
  g_autoptr (SpSecret) candidate = sp_secret_new (SP_MASTER_KEY_BYTES);
  g_autoptr (SpSecret) found_key = NULL;
  SpKeySlot found = SP_SLOT_NONE;

  if (!read_keyfile (path, file, error))
    return NULL;

  /* Both slots, always, whatever the first one says. */
  for (int i = 0; i < KF_SLOTS; i++)
    {
      const guint8 *slot = file + KF_HEADER + i * SLOT_SIZE;
      guint8 ad[KF_HEADER + SLOT_AD_LEN];
      g_autoptr (SpSecret) key = derive_key (passphrase, slot, error);

      if (key == NULL)
        return NULL;
      slot_ad (file, slot, ad);
      if (crypto_aead_xchacha20poly1305_ietf_decrypt (
              sp_secret_data (candidate), NULL, NULL, slot + SLOT_CT_OFF, SP_MASTER_KEY_BYTES + 16,
              ad, sizeof ad, slot + SLOT_NONCE_OFF, sp_secret_data (key))
              == 0
          && found == SP_SLOT_NONE)
        {
          memcpy (sp_secret_data (master), sp_secret_data (candidate), SP_MASTER_KEY_BYTES);
          found = (SpKeySlot)i;
          found_key = g_steal_pointer (&key);
        }
    }

  if (found == SP_SLOT_NONE)
    {
      sodium_memzero (file, sizeof file);
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_WRONG_PASSPHRASE, _ ("Wrong passphrase"));
      return NULL;
    }
  if (slot_out)
    *slot_out = found;
  if (slot_key_out)
    *slot_key_out = g_steal_pointer (&found_key);
  if (file_out)
    memcpy (file_out, file, KF_SIZE);
  sodium_memzero (file, sizeof file);
  return g_steal_pointer (&master);
}

SpSecret *
sp_keyfile_unwrap (const char *path, SpSecret *passphrase, SpKeySlot *slot_out, GError **error)
{
  return sp_keyfile_unwrap_full (path, passphrase, slot_out, NULL, NULL, error);
}

gboolean
sp_keyfile_rewrap (const char *path, SpKeySlot slot, SpSecret *passphrase, SpKdfProfile profile,
                   SpSecret *master_key, GError **error)
{
  guint8 file[KF_SIZE];
  guint64 ops;
  gsize mem;
  gboolean ok;

  g_return_val_if_fail (slot == SP_SLOT_MAIN || slot == SP_SLOT_DURESS, FALSE);
  if (!sp_kdf_profile_limits (profile, &ops, &mem))
    {
      g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID, _ ("Unknown KDF profile"));
      return FALSE;
    }
  if (!read_keyfile (path, file, error))
    return FALSE;
  if (!seal_slot (file, slot, passphrase, ops, mem, master_key, error))
    return FALSE;
  put_checksum (file);
  ok = sp_write_file_durably (path, file, sizeof file, error);
  sodium_memzero (file, sizeof file);
  return ok;
}

/* ---- Duress (see sp-panic.c) ---- */

gboolean
sp_keyfile_set_duress (const char *path, SpSecret *duress_passphrase, SpSecret *decoy_master,
                       GError **error)
{
  guint8 file[KF_SIZE];
  const guint8 *main_slot = file + KF_HEADER;
  guint64 ops;
  gsize mem;
  gboolean ok;

  g_return_val_if_fail ((duress_passphrase == NULL) == (decoy_master == NULL), FALSE);
  if (!read_keyfile (path, file, error))
    return FALSE;
  /* Slot 1 always takes slot 0's limits: the file then looks the same with
   * or without a duress passphrase, and both cost the same to try. */
  ops = get_le64 (main_slot + 4);
  mem = (gsize)get_le64 (main_slot + 12);

  if (duress_passphrase != NULL)
    {
      /* One extra KDF run here, never at unlock: a duress passphrase that also
       * opened slot 0 would destroy the vault on every unlock. */
      g_autoptr (SpSecret) key = derive_key (duress_passphrase, main_slot, error);
      g_autoptr (SpSecret) probe = sp_secret_new (SP_MASTER_KEY_BYTES);
      guint8 ad[KF_HEADER + SLOT_AD_LEN];

      if (key == NULL)
        return FALSE;
      slot_ad (file, main_slot, ad);
      if (crypto_aead_xchacha20poly1305_ietf_decrypt (
              sp_secret_data (probe), NULL, NULL, main_slot + SLOT_CT_OFF, SP_MASTER_KEY_BYTES + 16,
              ad, sizeof ad, main_slot + SLOT_NONCE_OFF, sp_secret_data (key))
          == 0)
        {
          sodium_memzero (file, sizeof file);
          g_set_error (error, SP_CORE_ERROR, SP_CORE_ERROR_INVALID,
                       _ ("The duress passphrase must differ from the vault's passphrase"));
          return FALSE;
        }
    }
  if (!seal_slot (file, SP_SLOT_DURESS, duress_passphrase, ops, mem, decoy_master, error))
    {
      sodium_memzero (file, sizeof file);
      return FALSE;
    }
  put_checksum (file);
  ok = sp_write_file_durably (path, file, sizeof file, error);
  sodium_memzero (file, sizeof file);
  return ok;
}

gboolean
sp_keyfile_promote_duress (const char *path, const guint8 old_file[SP_KEYFILE_SIZE],
                           SpSecret *slot_key, SpSecret *master_key, GError **error)
{
  guint8 file[KF_SIZE];
  guint8 *slot0 = file + KF_HEADER;
  const guint8 *old1 = old_file + KF_HEADER + SP_SLOT_DURESS * SLOT_SIZE;
  guint8 ad[KF_HEADER + SLOT_AD_LEN];
  gboolean ok;

  /* Slot 0 takes slot 1's algorithm, limits and salt, so the key already
   * derived from the duress passphrase opens it: no second KDF run, and the
   * unlock takes the time an ordinary one does. A fresh nonce seals it. */
  memcpy (file, old_file, KF_HEADER);
  memset (slot0, 0, SLOT_SIZE);
  memcpy (slot0, old1, SLOT_AD_LEN);
  randombytes_buf (slot0 + SLOT_NONCE_OFF, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  slot_ad (file, slot0, ad);
  crypto_aead_xchacha20poly1305_ietf_encrypt (
      slot0 + SLOT_CT_OFF, NULL, sp_secret_data (master_key), SP_MASTER_KEY_BYTES, ad, sizeof ad,
      NULL, slot0 + SLOT_NONCE_OFF, sp_secret_data (slot_key));
  seal_slot (file, SP_SLOT_DURESS, NULL, get_le64 (slot0 + 4), (gsize)get_le64 (slot0 + 12), NULL,
             NULL);
  put_checksum (file);
  ok = sp_write_file_durably (path, file, sizeof file, error);
  sodium_memzero (file, sizeof file);
  return ok;
}
