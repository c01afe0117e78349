/* Where the relay's handlers run: a small pool of threads of their own, so
 * libmicrohttpd's threads only ever move bytes (a slow database call never
 * stalls the other connections of an MHD thread), and one workspace at a
 * time: the tasks of a workspace wait in its queue and run one after the
 * other, in order of arrival, while other workspaces' tasks run beside them.
 * No worker ever blocks on another workspace's lock: a busy workspace's next
 * task is queued, not waited for.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "relay-private.h"

typedef struct
{
  char *ws;       /* NULL: a task of no workspace */
  GQueue pending; /* tasks waiting behind the running one */
} Lane;

typedef struct
{
  Lane *lane; /* NULL for a task of no workspace */
  gpointer task;
} Job;

struct _RelayExec
{
  GThreadPool *pool;
  RelayExecFunc func;
  GMutex lock;
  GHashTable *lanes; /* workspace id → Lane with a task running */
};

static void
run_job (gpointer data, gpointer user_data)
{
  RelayExec *exec = user_data;
  Job *job = data;
  Lane *lane = job->lane;
  gpointer task = job->task;

  g_free (job);
  for (;;)
    {
      exec->func (task);
      if (lane == NULL)
        return;
      g_mutex_lock (&exec->lock);
      task = g_queue_pop_head (&lane->pending);
      if (task == NULL)
        g_hash_table_remove (exec->lanes, lane->ws); /* frees the lane */
      g_mutex_unlock (&exec->lock);
      if (task == NULL)
        return;
    }
}

static void
lane_free (gpointer data)
{
  Lane *lane = data;

  g_free (lane->ws);
  g_free (lane);
}

RelayExec *
relay_exec_new (guint threads, RelayExecFunc func)
{
  RelayExec *exec = g_new0 (RelayExec, 1);

  g_mutex_init (&exec->lock);
  exec->func = func;
  exec->lanes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, lane_free);
  exec->pool = g_thread_pool_new (run_job, exec, (gint)threads, FALSE, NULL);
  return exec;
}

void
relay_exec_push (RelayExec *exec, const char *ws, gpointer task)
{
  Job *job = g_new0 (Job, 1);

  job->task = task;
  if (ws != NULL)
    {
      Lane *lane;

      g_mutex_lock (&exec->lock);
      lane = g_hash_table_lookup (exec->lanes, ws);
      if (lane != NULL)
        {
          /* Its workspace is busy: the running worker takes it next. */
          g_queue_push_tail (&lane->pending, task);
          g_mutex_unlock (&exec->lock);
          g_free (job);
          return;
        }
      lane = g_new0 (Lane, 1);
      lane->ws = g_strdup (ws);
      g_queue_init (&lane->pending);
      g_hash_table_insert (exec->lanes, lane->ws, lane);
      job->lane = lane;
      g_mutex_unlock (&exec->lock);
    }
  g_thread_pool_push (exec->pool, job, NULL);
}

void
relay_exec_free (RelayExec *exec)
{
  if (exec == NULL)
    return;
  g_thread_pool_free (exec->pool, FALSE, TRUE); /* runs what is queued, then joins */
  g_hash_table_unref (exec->lanes);
  g_mutex_clear (&exec->lock);
  g_free (exec);
}
