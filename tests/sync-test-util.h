/* SPDX-License-Identifier: GPL-3.0-or-later */
/* sync-test-util.h — what the sync client's end-to-end tests (test-sync,
 * test-sync-attacks, test-sync-cli) share: devices with real vaults in
 * temporary folders, the relay (relay-test-util.h) with its database opened
 * directly to play a hostile relay, sync helpers that assert, batches opened
 * with a device's epoch keys, a recording TCP forwarder, and supolka-cli
 * through the shared runner (sec-cli-run.h). Every helper asserts. */
#pragma once

#include <gio/gio.h>
#include <glib.h>
#include <sqlite3.h>

#include "relay-test-util.h"
#include "sec-cli-run.h"
#include "supolka-core.h"
#include "supolka-sync.h"
#include "sync-batch.h"
#include "test-util.h"

G_BEGIN_DECLS

#define PASS "correct horse" /* sp_test_vault_new's passphrase */

/* The CLI's exit statuses (docs/CLI.md). */
enum
{
  EXIT_OK = 0,
  EXIT_USAGE = 1,
  EXIT_NOT_FOUND = 3,
  EXIT_INVALID = 4,
  EXIT_SYNC = 5,
};

/* One stored batch as the relay has it. */
typedef struct
{
  gint64 cursor;
  char *device;
  gint64 epoch;
  gint64 seq;
  GBytes *data;
} StoredBatch;

typedef struct
{
  const char *name; /* "A", "B", … for messages */
  char *dir;        /* the vault folder (tmp/vault) */
  SpVault *vault;
} Dev;

typedef struct
{
  int listen_fd;
  guint port;
  guint target;
  GThread *acceptor;
  GPtrArray *pumps; /* GThread* */
  GMutex lock;
  GByteArray *up;   /* client → server */
  GByteArray *down; /* server → client */
  guint connections;
  gint stop;
} Forwarder;

typedef struct
{
  Forwarder *fw;
  int client, server;
} Pump;

char *new_tmp (const char *name);
guint closed_port (void);
gboolean port_accepts (guint port);
gboolean bytes_contain (const GByteArray *hay, const void *needle, gsize len);
sqlite3 *relay_db_open (const char *data_dir);
void db_exec (sqlite3 *db, const char *sql);
GPtrArray *relay_db_batches (sqlite3 *db, const char *device);
gint64 relay_db_count (sqlite3 *db, const char *device);
void relay_db_sign_pk (sqlite3 *db, const char *device, guint8 pk[32]);
Dev *dev_new (const char *name);
void dev_close (Dev *dev);
void dev_open (Dev *dev);
void dev_free (Dev *dev);
const char *dev_id (Dev *dev);
char *insert_org (Dev *dev, const char *name, const char *notes);
char *field_of (Dev *dev, const char *id, const char *field);
gboolean has_record (Dev *dev, const char *id);
gint64 count_kind (Dev *dev, const char *kind);
int cmp_str (gconstpointer a, gconstpointer b);
int cmp_record_id (gconstpointer a, gconstpointer b);
char *dump_vault (Dev *dev);
void report_log (Dev *dev, const SyncReport *r);
void sync_ok (Dev *dev, const SyncOptions *opts, SyncReport *out);
GError *sync_fails (Dev *dev, const SyncOptions *opts);
void status_of (Dev *dev, SyncStatus *status);
void create_workspace (Dev *admin, const char *url, const SyncOptions *opts);
char *invite (Dev *admin, const SyncOptions *opts);
void enrol (Dev *admin, Dev *joiner, const SyncOptions *opts);
void sync_error_is (const GError *error, int code1, int code2);
GPtrArray *epoch_keys (Dev *dev);
SyncBatch *open_with_any (GBytes *env, GPtrArray *keys, const guint8 sign_pk[32]);
gboolean batch_has_record (SyncBatch *b, const char *id);
StoredBatch *find_batch_with (GPtrArray *batches, GPtrArray *keys, const guint8 sign_pk[32],
                              const char *record);
Forwarder *forwarder_start (guint target);
char *forwarder_url (Forwarder *fw);
void forwarder_stop (Forwarder *fw);
int cli_run (const char *vault_dir, char **out, char **err, ...) G_GNUC_NULL_TERMINATED;
GSubprocess *cli_spawnv (const char *vault_dir, const char *input, const char *const *args);
/* The start and the end of main(): GTest, core, curl, tmp_root. */
void sync_test_init (int *argc, char ***argv);
int sync_test_finish (int status);
Relay *relay_start_at (const char *data_dir, guint port);
Relay *sync_relay_start (const char *data_dir);

G_END_DECLS
