/* sync-push.c — sealing local changes into batches and sending them through
 * the outbox.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gi18n-lib.h>
#include <sodium.h>
#include <string.h>

#include "sync-client-private.h"

/* ---- Push ---- */

static GHashTable *
version_vector (SyncCtx *c, guint64 own_seq, GError **error)
{
  g_autoptr (GHashTable) vv = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr (GPtrArray) chains = sp_vault_sync_keys (c->vault, "chain/", error);

  if (chains == NULL)
    return NULL;
  for (guint i = 0; i < chains->len; i++)
    {
      const char *k = chains->pdata[i];
      guint64 seq;
      guint8 hash[SYNC_HASH_BYTES];

      if (sync_state_get_chain (c->vault, k, &seq, hash))
        g_hash_table_insert (vv, g_strdup (k + 6), g_memdup2 (&seq, sizeof seq));
    }
  if (own_seq)
    g_hash_table_insert (vv, g_strdup (c->device), g_memdup2 (&own_seq, sizeof own_seq));
  return g_steal_pointer (&vv);
}

/* Sends the sealed batch waiting in the outbox, if any, and records it. */
static gboolean
flush_outbox (SyncCtx *c, SyncReport *report, GError **error)
{
  g_autoptr (GBytes) env = sp_vault_sync_get (c->vault, "outbox", error);
  g_autoptr (GBytes) answer = NULL;
  g_autofree char *path = NULL;
  SyncBatchInfo info;
  guint8 hash[SYNC_HASH_BYTES];
  long status = 0;
  gint64 last;
  gboolean ok;

  if (env == NULL)
    return error == NULL || *error == NULL;
  if (!sync_batch_peek (env, &info, error))
    return FALSE;
  path = sync_ws_path (c, "/batches");
  if (!sync_http_request (c->http, "POST", path, g_bytes_get_data (env, NULL),
                          g_bytes_get_size (env), "application/octet-stream", &status, &answer,
                          error))
    return FALSE;
  if (status != 200 && status != 201)
    {
      g_autoptr (JsonObject) o = sync_parse_json_object (g_bytes_get_data (answer, NULL),
                                                         g_bytes_get_size (answer), 65536, NULL);
      const char *code = sync_json_error_code (o);

      if (status == 409 && g_strcmp0 (code, "seq_taken") == 0)
        return sync_fail (error, SYNC_ERROR_CHAIN,
                          _ ("The relay holds a different batch under this device's next number; "
                             "this device's chain was forked (restored from an old copy?)"));
      g_set_error (error, SYNC_ERROR, SYNC_ERROR_REFUSED, _ ("The relay refused: HTTP %ld (%s)"),
                   status, code && strlen (code) < 40 ? code : "?");
      return FALSE;
    }
  last = sync_state_get_int (c->vault, "outbox/last");
  sync_batch_hash (env, hash);
  if (!sp_vault_begin (c->vault, error))
    return FALSE;
  ok = sync_state_set_chain (c->vault, "own/chain", info.seq, hash, error)
       && sync_state_set_int (c->vault, "own/pushed", last, error)
       && sp_vault_sync_set (c->vault, "outbox", NULL, 0, error)
       && sp_vault_sync_set (c->vault, "outbox/last", NULL, 0, error);
  if (!sync_vault_end (c->vault, ok, error))
    return FALSE;
  if (report)
    report->pushed_batches++;
  return TRUE;
}

static gsize
change_size (const SpChange *ch)
{
  return 160 + strlen (ch->field) + (ch->value ? strlen (ch->value) : 0)
         + (ch->supersedes ? strlen (ch->supersedes) : 0);
}

/* ---- Cutting local transactions by compartment ---- */

/* The changes of one transaction for one compartment. */
typedef struct
{
  gint64 local;       /* the vault's compartment id, 0 = main */
  GPtrArray *changes; /* SpChange*, borrowed */
  gint64 through;     /* own/pushed once this piece is sent */
} Piece;

static void
piece_free (gpointer p)
{
  Piece *piece = p;

  g_ptr_array_unref (piece->changes);
  g_free (piece);
}

static Piece *
piece_for (GPtrArray *tx_pieces, gint64 local)
{
  Piece *piece;

  for (guint i = 0; i < tx_pieces->len; i++)
    if (((Piece *)tx_pieces->pdata[i])->local == local)
      return tx_pieces->pdata[i];
  piece = g_new0 (Piece, 1);
  piece->local = local;
  piece->changes = g_ptr_array_new ();
  g_ptr_array_add (tx_pieces, piece);
  return piece;
}

static char *
change_key (const SpChange *ch)
{
  return g_strdup_printf ("%s/%s/%" G_GUINT64_FORMAT "/%s", ch->record, ch->field, ch->hlc,
                          ch->device);
}

/* A move into @piece's compartment re-sends the record's whole history
 * there (COMPARTMENTS.md, "Batches"); @keep owns what it reads. */
static gboolean
add_history (SyncCtx *c, Piece *piece, const char *record, GPtrArray *keep, GError **error)
{
  GPtrArray *history = sp_vault_record_changes (c->vault, record, error);
  g_autoptr (GHashTable) have = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (history == NULL)
    return FALSE;
  g_ptr_array_add (keep, history);
  for (guint i = 0; i < piece->changes->len; i++)
    g_hash_table_add (have, change_key (piece->changes->pdata[i]));
  for (guint i = 0; i < history->len; i++)
    {
      SpChange *h = history->pdata[i];
      char *k = change_key (h);

      if (g_hash_table_contains (have, k))
        g_free (k);
      else
        {
          g_hash_table_add (have, k);
          g_ptr_array_add (piece->changes, h);
        }
    }
  return TRUE;
}

static gboolean
is_move (const SpChange *ch)
{
  return strcmp (ch->field, "_comp") == 0 && ch->from_comp != ch->comp;
}

/* The compartment each change was written in: SpChange.comp is the
 * record's compartment now, so a change before a later move of its record
 * (both unsent) belongs where the record was then. */
static gint64 *
compartments_then (GPtrArray *changes)
{
  g_autoptr (GHashTable) now = g_hash_table_new (g_str_hash, g_str_equal);
  gint64 *then = g_new (gint64, changes->len + 1);

  for (guint i = changes->len; i-- > 0;)
    {
      const SpChange *ch = changes->pdata[i];
      gpointer v;

      if (g_hash_table_lookup_extended (now, ch->record, NULL, &v))
        then[i] = GPOINTER_TO_SIZE (v) - 2;
      else
        then[i] = ch->comp;
      if (is_move (ch))
        {
          /* A move's change is its destination's; before it, the source's. */
          g_hash_table_insert (now, ch->record, GSIZE_TO_POINTER ((gsize)(ch->from_comp + 2)));
        }
      else if (!g_hash_table_contains (now, ch->record))
        g_hash_table_insert (now, ch->record, GSIZE_TO_POINTER ((gsize)(then[i] + 2)));
    }
  return then;
}

/* One transaction's changes, cut by compartment; a move also goes to the
 * compartment the record leaves (only its "_comp" change). */
static gboolean
cut_transaction (SyncCtx *c, GPtrArray *changes, const gint64 *then, guint from, guint to,
                 GPtrArray *pieces, GPtrArray *keep, GError **error)
{
  g_autoptr (GPtrArray) tx_pieces = g_ptr_array_new ();
  gint64 through = ((SpChange *)changes->pdata[to - 1])->seq;

  for (guint i = from; i < to; i++)
    {
      SpChange *ch = changes->pdata[i];

      if (then[i] < 0)
        continue; /* no longer held here: it went with its compartment */
      if (is_move (ch) && ch->from_comp >= 0)
        g_ptr_array_add (piece_for (tx_pieces, ch->from_comp)->changes, ch);
      g_ptr_array_add (piece_for (tx_pieces, then[i])->changes, ch);
    }
  for (guint i = from; i < to; i++)
    {
      SpChange *ch = changes->pdata[i];

      if (then[i] >= 0 && is_move (ch)
          && !add_history (c, piece_for (tx_pieces, then[i]), ch->record, keep, error))
        return FALSE;
    }
  /* Only the last piece of a transaction moves own/pushed past it: an
   * interruption sends the whole transaction again (harmless). */
  for (guint i = 0; i < tx_pieces->len; i++)
    {
      Piece *piece = tx_pieces->pdata[i];
      piece->through = i + 1 == tx_pieces->len ? through : -1;
      g_ptr_array_add (pieces, piece);
    }
  g_ptr_array_set_size (tx_pieces, 0);
  return TRUE;
}

static GPtrArray *
cut_by_compartment (SyncCtx *c, GPtrArray *changes, GPtrArray *keep, GError **error)
{
  g_autoptr (GPtrArray) pieces = g_ptr_array_new_with_free_func (piece_free);
  g_autofree gint64 *then = compartments_then (changes);
  guint i = 0;

  while (i < changes->len)
    {
      gint64 tx = ((SpChange *)changes->pdata[i])->tx;
      guint j = i;

      while (j < changes->len && ((SpChange *)changes->pdata[j])->tx == tx)
        j++;
      if (!cut_transaction (c, changes, then, i, j, pieces, keep, error))
        return NULL;
      i = j;
    }
  return g_steal_pointer (&pieces);
}

/* ---- Sealing ---- */

typedef struct
{
  SyncCtx *c;
  guint max_changes;
  SyncReport *report;
  SpSecret *main_key;
  GPtrArray *held; /* SyncHeldKey*, the current epoch of each held compartment */
  gint64 through;  /* own/pushed after the batches sent so far */
  gboolean cbox_due;
} Push;

static const SyncHeldKey *
current_key (Push *p, gint64 local)
{
  const SyncHeldKey *best = NULL;

  for (guint i = 0; i < p->held->len; i++)
    {
      const SyncHeldKey *h = p->held->pdata[i];
      SyncComp *comp = g_hash_table_lookup (p->c->comps, h->cid);
      if (h->local == local && comp && comp->cepoch == h->cepoch)
        best = h;
    }
  return best;
}

/* Seals @part for compartment @local into the outbox and sends it. */
static gboolean
send_part (Push *p, gint64 local, GPtrArray *part, gint64 through, GError **error)
{
  SyncCtx *c = p->c;
  const SyncHeldKey *hk = local ? current_key (p, local) : NULL;
  SyncBatchInner inner = { 0 };
  g_autoptr (GHashTable) vv = NULL;
  g_autoptr (GBytes) env = NULL;
  SyncBatchInfo info = { 0 };
  guint64 own_seq;
  guint8 own_hash[SYNC_HASH_BYTES];
  gboolean ok;

  if (local && hk == NULL)
    {
      g_autoptr (SpCompartment) sc = sp_vault_compartment_get (c->vault, local, NULL);
      g_set_error (error, SYNC_ERROR, SYNC_ERROR_FAILED,
                   _ ("The compartment “%s” exists only on this device: an admin must create it "
                      "in the workspace before its records can be sent"),
                   sc ? sc->name : "?");
      return FALSE;
    }
  if (hk)
    {
      inner.cid = hk->cid;
      inner.cepoch = hk->cepoch;
    }
  else
    inner.cbox_pk = c->cbox_pk;
  sync_state_get_chain (c->vault, "own/chain", &own_seq, own_hash);
  memcpy (info.workspace, c->ws, SYNC_ID_BYTES);
  memcpy (info.device, c->dev_raw, SYNC_ID_BYTES);
  info.epoch = c->epoch;
  info.seq = own_seq + 1;
  memcpy (info.prev_hash, own_hash, SYNC_HASH_BYTES);
  memcpy (info.log_head, c->head_hash, SYNC_HASH_BYTES);
  vv = version_vector (c, own_seq + 1, error);
  if (vv == NULL)
    return FALSE;
  env = sync_batch_seal_inner (&info, part, vv, &inner, sp_secret_data (hk ? hk->key : p->main_key),
                               sp_secret_data (c->sign_sk), error);
  if (env == NULL)
    return FALSE;
  if (through >= 0)
    p->through = through;
  if (!sp_vault_begin (c->vault, error))
    return FALSE;
  ok = sp_vault_sync_set (c->vault, "outbox", g_bytes_get_data (env, NULL), g_bytes_get_size (env),
                          error)
       && sync_state_set_int (c->vault, "outbox/last", p->through, error)
       && (hk || sp_vault_sync_set (c->vault, "own/cbox_sent", c->cbox_pk, 32, error));
  if (!sync_vault_end (c->vault, ok, error) || !flush_outbox (c, p->report, error))
    return FALSE;
  if (hk == NULL)
    p->cbox_due = FALSE;
  if (p->report)
    p->report->pushed_changes += part->len;
  return TRUE;
}

/* Packs consecutive pieces of one compartment into batches (at most
 * max_changes and ~2 MiB; an oversized piece spans several). */
static gboolean
send_pieces (Push *p, GPtrArray *pieces, GError **error)
{
  guint i = 0;

  while (i < pieces->len)
    {
      Piece *first = pieces->pdata[i];
      g_autoptr (GPtrArray) part = g_ptr_array_new ();
      gsize bytes = 0;
      gint64 through = -1;

      for (; i < pieces->len; i++)
        {
          Piece *piece = pieces->pdata[i];
          gsize piece_bytes = 0;

          for (guint k = 0; k < piece->changes->len; k++)
            piece_bytes += change_size (piece->changes->pdata[k]);
          if (piece->local != first->local
              || (part->len > 0
                  && (part->len + piece->changes->len > p->max_changes
                      || bytes + piece_bytes > BATCH_MAX_BYTES)))
            break;
          if (part->len == 0
              && (piece->changes->len > p->max_changes || piece_bytes > BATCH_MAX_BYTES))
            {
              /* An oversized piece: batches of it in turn, the last one counts. */
              for (guint k = 0; k < piece->changes->len; k += p->max_changes)
                {
                  g_autoptr (GPtrArray) chunk = g_ptr_array_new ();
                  for (guint m = k; m < piece->changes->len && m < k + p->max_changes; m++)
                    g_ptr_array_add (chunk, piece->changes->pdata[m]);
                  if (!send_part (p, piece->local, chunk,
                                  k + p->max_changes >= piece->changes->len ? piece->through : -1,
                                  error))
                    return FALSE;
                }
              i++;
              break;
            }
          g_ptr_array_extend (part, piece->changes, NULL, NULL);
          bytes += piece_bytes;
          if (piece->through >= 0)
            through = piece->through;
        }
      if (part->len > 0 && !send_part (p, first->local, part, through, error))
        return FALSE;
    }
  return TRUE;
}

/* The compartment box key goes out in a main batch: an empty one when this
 * device has nothing else to send to main. */
static gboolean
cbox_is_due (SyncCtx *c)
{
  guint8 sent[32];

  return !sync_state_get_fixed (c->vault, "own/cbox_sent", sent, 32)
         || sodium_memcmp (sent, c->cbox_pk, 32) != 0;
}

gboolean
sync_push (SyncCtx *c, guint max_changes, SyncReport *report, GError **error)
{
  g_autoptr (GPtrArray) changes = NULL;
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify)g_ptr_array_unref);
  g_autoptr (GPtrArray) pieces = NULL;
  g_autoptr (SpSecret) key = NULL;
  g_autoptr (GPtrArray) held = NULL;
  gint64 last_seq = 0;
  Push p = { c, max_changes, report, NULL, NULL, 0, FALSE };

  if (!flush_outbox (c, report, error) || !sync_cbox_ensure (c, error))
    return FALSE;
  p.through = sync_state_get_int (c->vault, "own/pushed");
  changes = sp_vault_local_changes (c->vault, p.through, &last_seq, error);
  if (changes == NULL)
    return FALSE;
  p.cbox_due = cbox_is_due (c);
  if (changes->len == 0 && !p.cbox_due)
    return TRUE;
  key = sync_epoch_key (c, c->epoch);
  if (key == NULL)
    return sync_fail (error, SYNC_ERROR_FAILED,
                      _ ("This device does not hold the current workspace key"));
  held = sync_comp_held_keys (c, error);
  pieces = held ? cut_by_compartment (c, changes, keep, error) : NULL;
  if (pieces == NULL)
    return FALSE;
  p.main_key = key;
  p.held = held;
  if (!send_pieces (&p, pieces, error))
    return FALSE;
  if (p.cbox_due)
    {
      g_autoptr (GPtrArray) none = g_ptr_array_new ();
      return send_part (&p, 0, none, -1, error);
    }
  return TRUE;
}
