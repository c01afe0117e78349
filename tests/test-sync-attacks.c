/* SPDX-License-Identifier: GPL-3.0-or-later */
/* test-sync-attacks.c — the sync client against a hostile relay (issue #3):
 * stored batches tampered with in the relay's database (ciphertext, header,
 * signature, truncation, gaps, reordering, mislabelling, replays), and a fake
 * relay (libmicrohttpd) that answers with garbage or passes requests on to the
 * real one. Nothing tampered is ever applied; each gets a clear error. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <microhttpd.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supolka-core.h"
#include "supolka-sync.h"
#include "sync-batch.h"
#include "sync-test-util.h"
#include "test-util.h"

/* ---- A fake relay -----------------------------------------------------------------------
 * libmicrohttpd on 127.0.0.1. Requests whose target matches @bad_path (all of
 * them when NULL) get the bad answer of @mode; the others are passed on to the
 * real relay at @upstream with libcurl and its answer returned as it was. */

typedef enum
{
  BAD_GARBAGE,      /* 200, not JSON */
  BAD_TYPES,        /* 200, every expected member of the wrong type */
  BAD_ARRAY,        /* 200, a JSON array */
  BAD_DEEP,         /* 200, JSON nested a million levels */
  BAD_HUGE_LENGTH,  /* 200, Content-Length of a terabyte, bytes sent until the client hangs up */
  BAD_TRUNCATED,    /* 200, Content-Length 1000, 20 bytes, then the connection closes */
  BAD_500,          /* 500 {"error": "internal"} */
  BAD_SLOW_CLOSE,   /* nothing for 2 s, then the connection closes without an answer */
  BAD_BATCH_DATA,   /* 200, a batches page of the right shape whose data is not an envelope */
  BAD_ENDLESS_MORE, /* 200, {"batches": [], "more": true} for ever */
  BAD_EMPTY,        /* 200, empty body */
  BAD_N_MODES
} BadMode;

static const char *const bad_mode_names[] = {
  "garbage", "types",      "array",      "deep",         "huge-length", "truncated",
  "500",     "slow-close", "batch-data", "endless-more", "empty",
};

typedef struct
{
  struct MHD_Daemon *daemon;
  guint port;
  char *url;
  BadMode mode;
  const char *bad_path; /* parts of "METHOD TARGET" ('|'-separated), NULL = every request */
  guint upstream;       /* real relay port, 0 = none */
  gint bad_answers;     /* how many bad answers were given */
  gint64 huge_sent;     /* bytes sent of BAD_HUGE_LENGTH bodies */
  gboolean tail_item;   /* forwarded pages of batches get a malformed last item */
} FakeRelay;

typedef struct
{
  char *target; /* path and query, exactly as requested */
  GByteArray *body;
  gboolean started;
} FakeRequest;

static void *
fake_uri_cb (void *cls, const char *uri, struct MHD_Connection *connection)
{
  FakeRequest *req = g_new0 (FakeRequest, 1);

  req->target = g_strdup (uri);
  req->body = g_byte_array_new ();
  return req;
}

static void
fake_completed_cb (void *cls, struct MHD_Connection *connection, void **req_cls,
                   enum MHD_RequestTerminationCode toe)
{
  FakeRequest *req = *req_cls;

  if (req == NULL)
    return;
  g_free (req->target);
  g_byte_array_unref (req->body);
  g_free (req);
  *req_cls = NULL;
}

static ssize_t
huge_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
  FakeRelay *fake = cls;

  /* A client without a bound would read for ever: stop at 512 MiB, the
   * test then sees how much it took. */
  if (pos >= 512 * (guint64)MIB)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  memset (buf, ' ', max);
  g_atomic_pointer_add (&fake->huge_sent, (gssize)max);
  return (ssize_t)max;
}

static ssize_t
truncated_reader (void *cls, uint64_t pos, char *buf, size_t max)
{
  static const char part[] = "{\"entries\": [{\"vers";

  if (pos >= sizeof part - 1)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  memcpy (buf, part + pos, MIN (max, sizeof part - 1 - pos));
  return (ssize_t)MIN (max, sizeof part - 1 - pos);
}

static enum MHD_Result
queue_text (struct MHD_Connection *connection, unsigned int status, const char *text, gsize len)
{
  struct MHD_Response *response
      = MHD_create_response_from_buffer (len, (void *)text, MHD_RESPMEM_MUST_COPY);
  enum MHD_Result ret;

  MHD_add_response_header (response, "Content-Type", "application/json");
  ret = MHD_queue_response (connection, status, response);
  MHD_destroy_response (response);
  return ret;
}

static enum MHD_Result
fake_bad_answer (FakeRelay *fake, struct MHD_Connection *connection)
{
  struct MHD_Response *response;
  enum MHD_Result ret;

  g_atomic_int_inc (&fake->bad_answers);
  switch (fake->mode)
    {
      case BAD_GARBAGE:
        return queue_text (connection, 200, "this is {not \x01 json", 19);
      case BAD_TYPES:
        {
          static const char types[]
              = "{\"entries\": {\"version\": \"2\"}, \"head\": \"3\", \"batches\": \"none\", "
                "\"more\": 1, \"cursor\": \"7\", \"devices\": 5, \"status\": [], "
                "\"workspace\": 1, \"device\": null, \"expires\": \"soon\"}";
          return queue_text (connection, 200, types, strlen (types));
        }
      case BAD_ARRAY:
        return queue_text (connection, 200, "[1, 2, 3]", 9);
      case BAD_EMPTY:
        return queue_text (connection, 200, "", 0);
      case BAD_DEEP:
        {
          g_autofree char *deep = g_malloc (MIB);
          memset (deep, '[', MIB);
          return queue_text (connection, 200, deep, MIB);
        }
      case BAD_HUGE_LENGTH:
        response = MHD_create_response_from_callback ((guint64)1 << 40, 64 * KIB, huge_reader, fake,
                                                      NULL);
        break;
      case BAD_TRUNCATED:
        response = MHD_create_response_from_callback (1000, 1024, truncated_reader, fake, NULL);
        break;
      case BAD_500:
        {
          static const char err[] = "{\"error\": \"internal\", \"message\": \"boom\"}";
          return queue_text (connection, 500, err, strlen (err));
        }
      case BAD_SLOW_CLOSE:
        g_usleep (2 * G_USEC_PER_SEC);
        return MHD_NO;
      case BAD_BATCH_DATA:
        {
          g_autofree char *page = NULL;
          g_autofree char *junk = NULL;
          guint8 raw[600];

          randombytes_buf (raw, sizeof raw);
          junk = g_base64_encode (raw, sizeof raw);
          page = g_strdup_printf ("{\"batches\": [{\"cursor\": 999999, \"device\": "
                                  "\"0123456789abcdef0123456789abcdef\", \"seq\": 1, \"data\": "
                                  "\"%s\"}, {\"cursor\": 1000000, \"device\": "
                                  "\"0123456789abcdef0123456789abcdef\", \"seq\": 2, \"data\": "
                                  "\"!!not base64!!\"}], \"more\": false}",
                                  junk);
          return queue_text (connection, 200, page, strlen (page));
        }
      case BAD_ENDLESS_MORE:
        {
          static const char page[] = "{\"batches\": [], \"more\": true}";
          return queue_text (connection, 200, page, strlen (page));
        }
      case BAD_N_MODES:
      default:
        g_assert_not_reached ();
    }
  MHD_add_response_header (response, "Content-Type", "application/json");
  ret = MHD_queue_response (connection, 200, response);
  MHD_destroy_response (response);
  return ret;
}

static size_t
collect_cb (char *ptr, size_t size, size_t n, void *user)
{
  g_byte_array_append (user, (const guint8 *)ptr, (guint)(size * n));
  return size * n;
}

/* Passes the request on to the real relay; its answer goes back unchanged. */
static enum MHD_Result
fake_forward (FakeRelay *fake, struct MHD_Connection *connection, const char *method,
              FakeRequest *req)
{
  static const char *const pass_headers[] = {
    "X-Supolka-Device",    "X-Supolka-Time",         "X-Supolka-Nonce",
    "X-Supolka-Signature", "X-Supolka-Create-Token", "Content-Type",
  };
  CURL *curl = curl_easy_init ();
  struct curl_slist *headers = NULL;
  g_autofree char *url = g_strdup_printf ("http://" HOST ":%u%s", fake->upstream, req->target);
  g_autoptr (GByteArray) answer = g_byte_array_new ();
  long status = 0;
  char *ctype = NULL;
  struct MHD_Response *response;
  enum MHD_Result ret;

  for (guint i = 0; i < G_N_ELEMENTS (pass_headers); i++)
    {
      const char *v = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, pass_headers[i]);
      if (v != NULL)
        {
          g_autofree char *h = g_strdup_printf ("%s: %s", pass_headers[i], v);
          headers = curl_slist_append (headers, h);
        }
    }
  headers = curl_slist_append (headers, "Expect:");
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, collect_cb);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, answer);
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, 60L);
  if (g_str_equal (method, "POST") || req->body->len > 0)
    {
      curl_easy_setopt (curl, CURLOPT_POSTFIELDS, req->body->data);
      curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE, (long)req->body->len);
    }
  if (curl_easy_perform (curl) != CURLE_OK)
    {
      curl_slist_free_all (headers);
      curl_easy_cleanup (curl);
      return MHD_NO;
    }
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo (curl, CURLINFO_CONTENT_TYPE, &ctype);
  if (fake->tail_item && status == 200 && strstr (req->target, "/batches?"))
    {
      /* The genuine page, then an item that is not one (no cursor). */
      g_autoptr (JsonParser) parser = json_parser_new ();
      g_autoptr (JsonGenerator) gen = json_generator_new ();
      JsonObject *page, *bad = json_object_new ();
      g_autofree char *text = NULL;
      gsize len;

      g_assert_true (json_parser_load_from_data (parser, (const char *)answer->data,
                                                 (gssize)answer->len, NULL));
      page = json_node_get_object (json_parser_get_root (parser));
      json_object_set_string_member (bad, "device", "0123456789abcdef0123456789abcdef");
      json_object_set_int_member (bad, "seq", 1);
      json_object_set_string_member (bad, "data", "AAAA");
      json_array_add_object_element (json_object_get_array_member (page, "batches"), bad);
      json_generator_set_root (gen, json_parser_get_root (parser));
      text = json_generator_to_data (gen, &len);
      g_byte_array_set_size (answer, 0);
      g_byte_array_append (answer, (const guint8 *)text, (guint)len);
      g_atomic_int_inc (&fake->bad_answers);
    }
  response = MHD_create_response_from_buffer (answer->len, answer->data, MHD_RESPMEM_MUST_COPY);
  if (ctype != NULL)
    MHD_add_response_header (response, "Content-Type", ctype);
  ret = MHD_queue_response (connection, (unsigned int)status, response);
  MHD_destroy_response (response);
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);
  return ret;
}

/* TRUE when every '|'-separated part of @pattern occurs in @line. */
static gboolean
request_matches (const char *line, const char *pattern)
{
  g_auto (GStrv) parts = g_strsplit (pattern, "|", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    if (strstr (line, parts[i]) == NULL)
      return FALSE;
  return TRUE;
}

static enum MHD_Result
fake_handler (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
              const char *version, const char *upload_data, size_t *upload_data_size,
              void **req_cls)
{
  FakeRelay *fake = cls;
  FakeRequest *req = *req_cls;
  g_autofree char *line = NULL;

  if (!req->started)
    {
      req->started = TRUE;
      return MHD_YES;
    }
  if (*upload_data_size > 0)
    {
      if (req->body->len + *upload_data_size > 16 * MIB)
        return MHD_NO;
      g_byte_array_append (req->body, (const guint8 *)upload_data, (guint)*upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }
  line = g_strdup_printf ("%s %s", method, req->target);
  if (fake->upstream == 0 || fake->bad_path == NULL || request_matches (line, fake->bad_path))
    return fake_bad_answer (fake, connection);
  return fake_forward (fake, connection, method, req);
}

static FakeRelay *
fake_relay_start (BadMode mode, const char *bad_path, guint upstream)
{
  FakeRelay *fake = g_new0 (FakeRelay, 1);
  struct sockaddr_in addr = { 0 };
  const union MHD_DaemonInfo *info;

  fake->mode = mode;
  fake->bad_path = bad_path;
  fake->upstream = upstream;
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  fake->daemon = MHD_start_daemon (
      MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, fake_handler,
      fake, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_URI_LOG_CALLBACK,
      fake_uri_cb, fake, MHD_OPTION_NOTIFY_COMPLETED, fake_completed_cb, fake,
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60, MHD_OPTION_END);
  g_assert_nonnull (fake->daemon);
  info = MHD_get_daemon_info (fake->daemon, MHD_DAEMON_INFO_BIND_PORT);
  g_assert_nonnull (info);
  fake->port = info->port;
  fake->url = g_strdup_printf ("http://" HOST ":%u", fake->port);
  return fake;
}

static void
fake_relay_stop (FakeRelay *fake)
{
  MHD_stop_daemon (fake->daemon);
  g_free (fake->url);
  g_free (fake);
}

/* ---- 4. A hostile relay ---------------------------------------------------------------------
 * A writes r0 (B receives it), then r1, r2, r3, one sync each. With the relay
 * stopped, the batch that carries r2 is tampered with; B syncs. */

typedef enum
{
  TAMPER_CIPHERTEXT, /* a bit of the ciphertext flipped */
  TAMPER_HEADER,     /* a bit of the signed header (log_head) flipped */
  TAMPER_SIGNATURE,  /* a bit of the signature flipped */
  TAMPER_TRUNCATE,   /* the last 7 bytes cut off */
  TAMPER_GAP,        /* the batch deleted */
  TAMPER_SWAP,       /* it and the next batch trade places (seq labels follow their data) */
  TAMPER_MISLABEL,   /* its contents swapped with the next batch's, the relay's seq labels kept */
  TAMPER_REPLAY,     /* after B has everything: an old batch moved to a new cursor */
  TAMPER_REPLAY_NEW_SEQ, /* after B has everything: an old batch again, labelled as the next seq */
} Tamper;

static void
set_batch_data (sqlite3 *db, gint64 cursor, const guint8 *data, gsize len)
{
  sqlite3_stmt *st = NULL;

  g_assert_cmpint (
      sqlite3_prepare_v2 (db, "UPDATE batches SET data = ?2 WHERE cursor = ?1", -1, &st, NULL), ==,
      SQLITE_OK);
  sqlite3_bind_int64 (st, 1, cursor);
  sqlite3_bind_blob64 (st, 2, data, len, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
  g_assert_cmpint (sqlite3_changes (db), ==, 1);
  sqlite3_finalize (st);
}

static void
tamper (sqlite3 *db, Tamper how, StoredBatch *target, StoredBatch *next, StoredBatch *old)
{
  gsize len;
  g_autofree guint8 *buf = g_bytes_unref_to_data (g_bytes_ref (target->data), &len);

  switch (how)
    {
      case TAMPER_CIPHERTEXT:
        g_assert_cmpuint (len, >, 300);
        buf[176 + 100] ^= 0x01;
        set_batch_data (db, target->cursor, buf, len);
        break;
      case TAMPER_HEADER:
        buf[90] ^= 0x20;
        set_batch_data (db, target->cursor, buf, len);
        break;
      case TAMPER_SIGNATURE:
        buf[len - 1] ^= 0x80;
        set_batch_data (db, target->cursor, buf, len);
        break;
      case TAMPER_TRUNCATE:
        set_batch_data (db, target->cursor, buf, len - 7);
        break;
      case TAMPER_GAP:
        {
          g_autofree char *sql = g_strdup_printf (
              "DELETE FROM batches WHERE cursor = %" G_GINT64_FORMAT, target->cursor);
          db_exec (db, sql);
          g_assert_cmpint (sqlite3_changes (db), ==, 1);
        }
        break;
      case TAMPER_SWAP:
        {
          g_autofree char *sql = g_strdup_printf (
              "UPDATE batches SET seq = -seq WHERE cursor IN (%" G_GINT64_FORMAT
              ", %" G_GINT64_FORMAT ");"
              "UPDATE batches SET seq = %" G_GINT64_FORMAT " WHERE cursor = %" G_GINT64_FORMAT ";"
              "UPDATE batches SET seq = %" G_GINT64_FORMAT " WHERE cursor = %" G_GINT64_FORMAT ";",
              target->cursor, next->cursor, next->seq, target->cursor, target->seq, next->cursor);
          gsize next_len;
          const guint8 *next_data = g_bytes_get_data (next->data, &next_len);

          db_exec (db, sql);
          set_batch_data (db, target->cursor, next_data, next_len);
          set_batch_data (db, next->cursor, buf, len);
        }
        break;
      case TAMPER_REPLAY:
        {
          g_autofree char *sql = g_strdup_printf (
              "UPDATE batches SET cursor = (SELECT max(cursor) + 1 FROM batches) "
              "WHERE cursor = %" G_GINT64_FORMAT,
              old->cursor);
          db_exec (db, sql);
          g_assert_cmpint (sqlite3_changes (db), ==, 1);
        }
        break;
      case TAMPER_MISLABEL:
        {
          gsize next_len;
          const guint8 *next_data = g_bytes_get_data (next->data, &next_len);
          set_batch_data (db, target->cursor, next_data, next_len);
          set_batch_data (db, next->cursor, buf, len);
        }
        break;
      case TAMPER_REPLAY_NEW_SEQ:
        {
          sqlite3_stmt *st = NULL;
          gsize old_len;
          const guint8 *old_data = g_bytes_get_data (old->data, &old_len);
          guint8 hash[32];

          crypto_generichash (hash, sizeof hash, old_data, old_len, NULL, 0);
          g_assert_cmpint (
              sqlite3_prepare_v2 (db,
                                  "INSERT INTO batches (workspace, device, epoch, seq, hash, data) "
                                  "SELECT workspace, device, epoch, "
                                  "(SELECT max(seq) + 1 FROM batches WHERE device = ?1), ?2, ?3 "
                                  "FROM batches WHERE cursor = ?4",
                                  -1, &st, NULL),
              ==, SQLITE_OK);
          sqlite3_bind_text (st, 1, old->device, -1, SQLITE_TRANSIENT);
          sqlite3_bind_blob (st, 2, hash, sizeof hash, SQLITE_TRANSIENT);
          sqlite3_bind_blob64 (st, 3, old_data, old_len, SQLITE_TRANSIENT);
          sqlite3_bind_int64 (st, 4, old->cursor);
          g_assert_cmpint (sqlite3_step (st), ==, SQLITE_DONE);
          g_assert_cmpint (sqlite3_changes (db), ==, 1);
          sqlite3_finalize (st);
        }
        break;
      default:
        g_assert_not_reached ();
    }
}

static void
test_hostile_relay (gconstpointer data)
{
  Tamper how = GPOINTER_TO_INT (data);
  g_autofree char *dir = new_tmp ("relay");
  Relay *relay = sync_relay_start (dir);
  guint port = relay->port;
  Dev *a = dev_new ("A"), *b = dev_new ("B");
  g_autofree char *r0 = NULL, *r1 = NULL, *r2 = NULL, *r3 = NULL, *r4 = NULL;
  g_autofree char *before = NULL, *after = NULL, *name0 = NULL;
  g_autoptr (GPtrArray) keys = NULL;
  g_autoptr (GPtrArray) batches = NULL;
  StoredBatch *target, *next = NULL, *old;
  SyncReport report = { 0 };
  guint8 a_pk[32];
  sqlite3 *db;

  create_workspace (a, relay->base, NULL);
  enrol (a, b, NULL);
  r0 = insert_org (a, "Hostile r0", "stored before the attack");
  sync_ok (a, NULL, NULL);
  sync_ok (b, NULL, NULL);
  g_assert_true (has_record (b, r0));
  r1 = insert_org (a, "Hostile r1", "one");
  sync_ok (a, NULL, NULL);
  r2 = insert_org (a, "Hostile r2", "two");
  sync_ok (a, NULL, NULL);
  r3 = insert_org (a, "Hostile r3", "three");
  sync_ok (a, NULL, NULL);
  if (how == TAMPER_REPLAY || how == TAMPER_REPLAY_NEW_SEQ)
    sync_ok (b, NULL, NULL);
  before = dump_vault (b);

  relay_stop (relay);
  db = relay_db_open (dir);
  keys = epoch_keys (a);
  relay_db_sign_pk (db, dev_id (a), a_pk);
  batches = relay_db_batches (db, dev_id (a));
  target = find_batch_with (batches, keys, a_pk, r2);
  g_assert_nonnull (target);
  old = find_batch_with (batches, keys, a_pk, r1);
  g_assert_nonnull (old);
  for (guint i = 0; i + 1 < batches->len; i++)
    if (batches->pdata[i] == target)
      next = batches->pdata[i + 1];
  if (how == TAMPER_SWAP || how == TAMPER_MISLABEL)
    g_assert_nonnull (next);
  g_test_message ("tampering with A's batch seq %" G_GINT64_FORMAT " (cursor %" G_GINT64_FORMAT ")",
                  target->seq, target->cursor);
  tamper (db, how, target, next, old);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
  relay = relay_start_at (dir, port);

  sync_ok (b, NULL, &report);
  g_assert_cmpuint (report.refused_batches, >, 0);
  g_assert_nonnull (report.problems);
  g_assert_cmpuint (report.problems->len, >, 0);
  sync_report_clear (&report);

  /* What B had is intact. */
  name0 = field_of (b, r0, "name");
  g_assert_cmpstr (name0, ==, "Hostile r0");
  if (how == TAMPER_REPLAY || how == TAMPER_REPLAY_NEW_SEQ)
    {
      after = dump_vault (b);
      g_assert_cmpstr (after, ==, before);
    }
  else
    {
      /* Before the bad batch: applied. The bad one and everything after it in
       * A's chain: not. (A swap hands r2's genuine batch over after the
       * refused one; whether it is then taken is the client's choice.) */
      g_assert_true (has_record (b, r1));
      if (how != TAMPER_SWAP && how != TAMPER_MISLABEL)
        g_assert_false (has_record (b, r2));
      g_assert_false (has_record (b, r3));
      g_assert_cmpint (count_kind (b, "org"), <=,
                       how == TAMPER_SWAP || how == TAMPER_MISLABEL ? 3 : 2);

      /* A goes on writing; its chain at B stays broken, nothing after the
       * bad batch slips in. */
      r4 = insert_org (a, "Hostile r4", "four");
      sync_ok (a, NULL, NULL);
      sync_ok (b, NULL, &report);
      g_assert_false (has_record (b, r3));
      g_assert_false (has_record (b, r4));
      sync_report_clear (&report);
    }
  dev_free (a);
  dev_free (b);
  relay_stop (relay);
}

/* ---- 5. Malformed relay answers ------------------------------------------------------------- */

static void
malformed_case (Dev *a, Relay *relay, BadMode mode, const char *bad_path)
{
  FakeRelay *fake = fake_relay_start (mode, bad_path, relay->port);
  SyncOptions opts = { .relay = fake->url };
  SyncReport report = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL, *after = NULL, *id = NULL;
  gint64 n_before;
  gboolean ok;

  g_test_message ("fake relay: %s for %s", bad_mode_names[mode],
                  bad_path ? bad_path : "everything");
  /* Something to push, so the run has work to do. */
  id = insert_org (a, "Malformed case", bad_mode_names[mode]);
  n_before = count_kind (a, "org");
  before = dump_vault (a);

  ok = sync_run (a->vault, &opts, &report, &error);
  report_log (a, &report);
  if (error != NULL)
    g_test_message ("sync_run: %s %d: %s", g_quark_to_string (error->domain), error->code,
                    error->message);
  g_assert_cmpint (g_atomic_int_get (&fake->bad_answers), >, 0);
  if (mode == BAD_ENDLESS_MORE || mode == BAD_BATCH_DATA)
    {
      /* Nothing to apply in either: the run may end cleanly (refusing what it
       * got) or fail as malformed. What matters: it ends. */
      if (!ok)
        sync_error_is (error, SYNC_ERROR_MALFORMED, SYNC_ERROR_NETWORK);
      else
        g_assert_no_error (error);
    }
  else
    {
      g_assert_false (ok);
      if (mode == BAD_500)
        {
          if (error->code != SYNC_ERROR_REFUSED)
            sync_error_is (error, SYNC_ERROR_NETWORK, SYNC_ERROR_MALFORMED);
        }
      else
        sync_error_is (error, SYNC_ERROR_NETWORK, SYNC_ERROR_MALFORMED);
    }
  sync_report_clear (&report);
  if (mode == BAD_HUGE_LENGTH)
    {
      g_test_message ("the client read %" G_GINT64_FORMAT " bytes of the endless body",
                      (gint64)g_atomic_pointer_get (&fake->huge_sent));
      /* Within a bound: no relay answer needs more than a few MiB. */
      g_assert_cmpint ((gint64)g_atomic_pointer_get (&fake->huge_sent), <, 64 * MIB);
    }
  fake_relay_stop (fake);

  g_assert_cmpint (count_kind (a, "org"), ==, n_before);
  after = dump_vault (a);
  g_assert_cmpstr (after, ==, before);

  /* And the vault still syncs with the real relay afterwards. */
  sync_ok (a, NULL, NULL);
}

/* One kind of bad answer, for every request and for one kind of request.
 * Each runs in a child process: a client that aborts (a failed assertion or a
 * critical warning inside it) fails this case only, not the tests after it. */
static void
test_malformed_answers (gconstpointer data)
{
  BadMode mode = GPOINTER_TO_INT (data);
  g_autofree char *dir = NULL;
  Relay *relay;
  Dev *a, *b;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 600 * G_USEC_PER_SEC,
                              G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
      /* Not an assertion: a failure here must not stop the cases after it. */
      if (!g_test_trap_has_passed ())
        g_test_fail_printf ("the sync client failed or crashed on a '%s' answer (its error is "
                            "on stderr above)",
                            bad_mode_names[mode]);
      return;
    }
  dir = new_tmp ("relay");
  relay = sync_relay_start (dir);
  a = dev_new ("A");
  b = dev_new ("B");
  create_workspace (a, relay->base, NULL);
  enrol (a, b, NULL);
  g_free (insert_org (b, "Something to pull", "from B"));
  sync_ok (b, NULL, NULL);

  /* Every request answered badly (the first is the log refresh) … */
  if (mode != BAD_BATCH_DATA && mode != BAD_ENDLESS_MORE)
    malformed_case (a, relay, mode, NULL);
  /* … or only the log refresh … */
  if (mode != BAD_BATCH_DATA && mode != BAD_ENDLESS_MORE)
    malformed_case (a, relay, mode, "GET /|/log");
  /* … or only the pull of batches, after a real log refresh and push. */
  malformed_case (a, relay, mode, "GET /|/batches");
  dev_free (a);
  dev_free (b);
  relay_stop (relay);
}

/* A page whose last item is malformed: the batches before it are applied
 * (one vault transaction per page must not take them back), the run fails as
 * malformed, and a later sync through the real relay neither loses nor
 * repeats anything. */
static void
test_malformed_tail (void)
{
  g_autofree char *dir = new_tmp ("relay");
  Relay *relay = sync_relay_start (dir);
  Dev *a = dev_new ("A"), *b = dev_new ("B");
  g_autofree char *r1 = NULL, *r2 = NULL, *r3 = NULL;
  g_autoptr (GError) error = NULL;
  SyncReport report = { 0 };
  SyncOptions opts = { 0 };
  FakeRelay *fake;

  create_workspace (a, relay->base, NULL);
  enrol (a, b, NULL);
  r1 = insert_org (a, "Tail r1", "one");
  sync_ok (a, NULL, NULL);
  r2 = insert_org (a, "Tail r2", "two");
  sync_ok (a, NULL, NULL);
  r3 = insert_org (a, "Tail r3", "three");
  sync_ok (a, NULL, NULL);

  fake = fake_relay_start (BAD_GARBAGE, "NO-SUCH-REQUEST", relay->port);
  fake->tail_item = TRUE;
  opts.relay = fake->url;
  g_assert_false (sync_run (b->vault, &opts, &report, &error));
  sync_error_is (error, SYNC_ERROR_MALFORMED, SYNC_ERROR_MALFORMED);
  g_assert_cmpint (g_atomic_int_get (&fake->bad_answers), >, 0);
  sync_report_clear (&report);
  fake_relay_stop (fake);
  g_assert_true (has_record (b, r1));
  g_assert_true (has_record (b, r2));
  g_assert_true (has_record (b, r3));

  sync_ok (b, NULL, &report);
  g_assert_cmpuint (report.refused_batches, ==, 0);
  g_assert_cmpuint (report.applied_batches, ==, 0); /* nothing twice */
  sync_report_clear (&report);
  g_assert_cmpint (count_kind (b, "org"), ==, count_kind (a, "org"));
  dev_free (a);
  dev_free (b);
  relay_stop (relay);
}

int
main (int argc, char **argv)
{
  static const struct
  {
    const char *name;
    Tamper how;
  } tampers[] = {
    { "ciphertext", TAMPER_CIPHERTEXT },
    { "header", TAMPER_HEADER },
    { "signature", TAMPER_SIGNATURE },
    { "truncate", TAMPER_TRUNCATE },
    { "gap", TAMPER_GAP },
    { "reorder", TAMPER_SWAP },
    { "mislabel", TAMPER_MISLABEL },
    { "replay", TAMPER_REPLAY },
    { "replay-new-seq", TAMPER_REPLAY_NEW_SEQ },
  };
  sync_test_init (&argc, &argv);

  for (guint i = 0; i < G_N_ELEMENTS (tampers); i++)
    {
      g_autofree char *path = g_strdup_printf ("/sync/hostile-relay/%s", tampers[i].name);
      g_test_add_data_func (path, GINT_TO_POINTER (tampers[i].how), test_hostile_relay);
    }
  g_test_add_func ("/sync/malformed-tail", test_malformed_tail);
  /* After the others: a subsuite runs after the plain cases of /sync. */
  for (int mode = 0; mode < BAD_N_MODES; mode++)
    {
      g_autofree char *path = g_strdup_printf ("/sync/malformed-answers/%s", bad_mode_names[mode]);
      g_test_add_data_func (path, GINT_TO_POINTER (mode), test_malformed_answers);
    }

  return sync_test_finish (g_test_run ());
}
