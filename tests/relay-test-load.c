/* SPDX-License-Identifier: GPL-3.0-or-later */
/* relay-test-load.c — a stranger's load on the relay (see relay-test-load.h). */
#define _GNU_SOURCE /* POLLRDHUP */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay-test-load.h"

#define SLOW_HEAD "GET /healthz HTTP/1.1\r\nHost: relay\r\nX-Pad: "

struct _LoadCrowd
{
  guint port;
  char *source;
  GArray *fds;  /* int: every socket */
  GMutex lock;  /* guards slow */
  GArray *slow; /* int: the slowloris sockets */
  gboolean stop;
  GThread *trickle;
};

static void
raise_nofile (void)
{
  struct rlimit files;

  if (getrlimit (RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max)
    {
      files.rlim_cur = files.rlim_max;
      setrlimit (RLIMIT_NOFILE, &files);
    }
}

static gpointer
trickle (gpointer data)
{
  LoadCrowd *crowd = data;

  for (;;)
    {
      g_mutex_lock (&crowd->lock);
      if (crowd->stop)
        {
          g_mutex_unlock (&crowd->lock);
          return NULL;
        }
      for (guint i = 0; i < crowd->slow->len; i++)
        if (send (g_array_index (crowd->slow, int, i), "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
          { /* closed by the relay: what it should do */
          }
      g_mutex_unlock (&crowd->lock);
      g_usleep (G_USEC_PER_SEC);
    }
}

LoadCrowd *
load_crowd_new (guint port, const char *source)
{
  LoadCrowd *crowd = g_new0 (LoadCrowd, 1);

  raise_nofile ();
  crowd->port = port;
  crowd->source = g_strdup (source);
  crowd->fds = g_array_new (FALSE, FALSE, sizeof (int));
  crowd->slow = g_array_new (FALSE, FALSE, sizeof (int));
  g_mutex_init (&crowd->lock);
  crowd->trickle = g_thread_new ("load-trickle", trickle, crowd);
  return crowd;
}

void
load_crowd_free (LoadCrowd *crowd)
{
  if (crowd == NULL)
    return;
  g_mutex_lock (&crowd->lock);
  crowd->stop = TRUE;
  g_mutex_unlock (&crowd->lock);
  g_thread_join (crowd->trickle);
  for (guint i = 0; i < crowd->fds->len; i++)
    close (g_array_index (crowd->fds, int, i));
  g_array_unref (crowd->fds);
  g_array_unref (crowd->slow);
  g_mutex_clear (&crowd->lock);
  g_free (crowd->source);
  g_free (crowd);
}

/* A connected socket (or one still connecting after a second: the relay's
 * backlog is full, which is a held slot too), or -1. */
static int
connect_one (LoadCrowd *crowd)
{
  struct sockaddr_in from = { .sin_family = AF_INET };
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons (crowd->port) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct pollfd p = { .fd = fd, .events = POLLOUT };

  g_assert_cmpint (fd, >=, 0);
  inet_pton (AF_INET, crowd->source, &from.sin_addr);
  inet_pton (AF_INET, "127.0.0.1", &to.sin_addr);
  g_assert_cmpint (bind (fd, (struct sockaddr *)&from, sizeof from), ==, 0);
  if (connect (fd, (struct sockaddr *)&to, sizeof to) != 0 && errno != EINPROGRESS)
    {
      close (fd);
      return -1;
    }
  poll (&p, 1, 1000);
  g_array_append_val (crowd->fds, fd);
  return fd;
}

void
load_idle (LoadCrowd *crowd, guint n)
{
  for (guint i = 0; i < n; i++)
    connect_one (crowd);
}

void
load_slowloris (LoadCrowd *crowd, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      int fd = connect_one (crowd);

      if (fd < 0)
        continue;
      if (send (fd, SLOW_HEAD, strlen (SLOW_HEAD), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        continue;
      g_mutex_lock (&crowd->lock);
      g_array_append_val (crowd->slow, fd);
      g_mutex_unlock (&crowd->lock);
    }
}

/* Sends what the socket takes within a second of no progress; FALSE when the
 * relay closed it or stopped reading. */
static gboolean
send_all (int fd, const char *data, gsize len)
{
  while (len > 0)
    {
      struct pollfd p = { .fd = fd, .events = POLLOUT };
      ssize_t n;

      if (poll (&p, 1, 1000) <= 0 || (p.revents & (POLLERR | POLLHUP)))
        return FALSE;
      n = send (fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        return FALSE;
      if (n > 0)
        {
          data += n;
          len -= (gsize)n;
        }
    }
  return TRUE;
}

void
load_half_bodies (LoadCrowd *crowd, guint n, const char *head, gsize body_len)
{
  g_autofree char *body = g_malloc0 (MAX (body_len, 1));

  for (guint i = 0; i < n; i++)
    {
      int fd = connect_one (crowd);

      if (fd >= 0 && send_all (fd, head, strlen (head)) && body_len > 1)
        send_all (fd, body, body_len - 1);
    }
}

guint
load_still_open (LoadCrowd *crowd)
{
  guint open = 0;

  for (guint i = 0; i < crowd->fds->len; i++)
    {
      int fd = g_array_index (crowd->fds, int, i);
      struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
      char buf[4096];

      if (poll (&p, 1, 0) == 0)
        {
          open++;
          continue;
        }
      /* An answer (401, 503) and then the end, or the end at once. */
      for (;;)
        {
          ssize_t n = recv (fd, buf, sizeof buf, MSG_DONTWAIT);

          if (n > 0)
            continue;
          if (n < 0 && (errno == EAGAIN || errno == EINTR))
            open++;
          break;
        }
    }
  return open;
}

guint
load_count (LoadCrowd *crowd)
{
  return crowd->fds->len;
}

static guint64
status_kib (GPid pid, const char *field)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int)pid);
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (line = strstr (text, field)) == NULL)
    return 0;
  return g_ascii_strtoull (line + strlen (field), NULL, 10);
}

guint64
load_rss_kib (GPid pid)
{
  return status_kib (pid, "VmRSS:");
}

guint64
load_peak_kib (GPid pid)
{
  return status_kib (pid, "VmHWM:");
}
