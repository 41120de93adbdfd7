/*
 * guard.c - who may speak the milter protocol to crmilter, and how many at once
 *
 * libmilter accepts its connections itself.  crmilter links it statically
 * with accept(), read() and close() wrapped (-Wl,--wrap=..., see the
 * Makefile), so that every milter connection passes here first:
 *
 *  - a TCP peer outside MilterPeers is closed at once (logged, at most
 *    once a minute per address): whoever reaches the socket could write
 *    records (forged outbound mail);
 *  - at most MilterConnections connections are open at once.  When all are
 *    taken, the oldest one that has sent nothing (not a byte read, none
 *    waiting: FIONREAD) is dropped for the new one.  The MTA sends its
 *    option negotiation the moment it connects, so its connection is never
 *    the one dropped, and a stalled client never holds a place the MTA
 *    needs.  With none to drop, the new one is closed (the MTA applies
 *    milter_default_action to it);
 *  - a watchdog thread drops a connection that has sent nothing
 *    GUARD_SILENT_S after it was accepted;
 *  - when accept() fails for want of descriptors, a silent connection is
 *    dropped, or the listener waits 100 ms, instead of spinning.
 *
 * "Dropped" is shutdown(2): libmilter's thread for it then sees the end of
 * the stream and closes it the usual way.  Public (milter_int.h):
 * milter_guard_init, milter_guard_start, milter_guard_stop,
 * milter_guard_count; __wrap_accept, __wrap_read and __wrap_close for the
 * linker (the wrapped read() is every read() of crmilter's own code too:
 * it only notes that a connection has spoken).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "milter_int.h"

#define GUARD_SILENT_S    10       /* a connection that sends nothing this long is dropped */
#define GUARD_LOG_EVERY_S 60       /* a refusal of one kind is logged this often */

int __real_accept(int fd, struct sockaddr *addr, socklen_t *len);
ssize_t __real_read(int fd, void *buf, size_t n);
int __real_close(int fd);
int __wrap_accept(int fd, struct sockaddr *addr, socklen_t *len);
ssize_t __wrap_read(int fd, void *buf, size_t n);
int __wrap_close(int fd);

/* one accepted connection, by descriptor */
struct conn {
	int open;
	atomic_int heard;          /* it has sent something (set without the lock) */
	int64_t since;             /* accepted, monotonic ms */
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static struct conn *g_conns;      /* indexed by descriptor */
static size_t g_max_fd;           /* entries of g_conns */
static size_t g_open, g_limit;
static struct milter_cidr *g_peers;
static size_t g_n_peers;
static int g_inet;                /* the socket is TCP: MilterPeers applies */
static pthread_t g_watchdog;
static int g_running, g_stop;
static time_t g_logged_peer, g_logged_full, g_logged_drop;
static unsigned long g_dropped;   /* connections dropped for silence, in all */

/* now_ms - monotonic milliseconds */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* milter_guard_init - see milter_int.h */
int milter_guard_init(const struct conf *c, int inet, char *err, size_t errlen)
{
	struct rlimit rl;
	size_t n = 0;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		n = (size_t)rl.rlim_cur;
	if (n < 64)
		n = 1024;
	g_conns = calloc(n, sizeof *g_conns);
	if (!g_conns) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	g_max_fd = n;
	g_limit = c->milter_connections;
	/* leave descriptors for the spool, the store and the log */
	if (g_limit == 0 || g_limit > n - 32)
		g_limit = n > 64 ? n - 32 : n / 2;
	g_inet = inet;
	g_n_peers = c->milter_peers.n;
	g_peers = g_n_peers ? calloc(g_n_peers, sizeof *g_peers) : NULL;
	if (g_n_peers && !g_peers) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < g_n_peers; i++)
		if (milter_cidr_parse(c->milter_peers.v[i], &g_peers[i]) < 0) {
			snprintf(err, errlen, "MilterPeers %s: not an address or a CIDR range",
				 c->milter_peers.v[i]);
			return -1;
		}
	return 0;
}

/* peer_ok - the peer at ADDR may connect */
static int peer_ok(const struct sockaddr *addr)
{
	if (!g_inet || !addr || (addr->sa_family != AF_INET && addr->sa_family != AF_INET6))
		return 1;
	return g_n_peers == 0 || milter_cidr_match(g_peers, g_n_peers, addr);
}

/* log_drop - that a connection silent AGE ms was dropped, at most once a
 * GUARD_LOG_EVERY_S, with the count so far */
static void log_drop(int64_t age)
{
	time_t t = time(NULL);

	if (t - g_logged_drop < GUARD_LOG_EVERY_S)
		return;
	g_logged_drop = t;
	msg_warn("milter connection dropped: it sent nothing for %lld ms (%lu dropped so far; "
		 "MilterConnections %zu)", (long long)age, g_dropped, g_limit);
}

/*
 * drop_silent - shut down the oldest open connection that has sent
 * nothing (older than MIN_AGE ms; one with bytes waiting has spoken); 1
 * when one was, 0 when none.  With g_lock held.
 */
static int drop_silent(int64_t min_age)
{
	int64_t now = now_ms(), oldest = 0;
	int victim, pending;

	for (;;) {
		victim = -1;
		for (size_t fd = 0; fd < g_max_fd; fd++)
			if (g_conns[fd].open && now - g_conns[fd].since >= min_age &&
			    !atomic_load(&g_conns[fd].heard) &&
			    (victim < 0 || g_conns[fd].since < oldest)) {
				victim = (int)fd;
				oldest = g_conns[fd].since;
			}
		if (victim < 0)
			return 0;
		/* it has spoken when its first bytes wait to be read */
		if (ioctl(victim, FIONREAD, &pending) == 0 && pending > 0)
			atomic_store(&g_conns[victim].heard, 1);
		else
			break;
	}
	shutdown(victim, SHUT_RDWR);
	atomic_store(&g_conns[victim].heard, 1);	/* dropped once: its thread closes it */
	g_dropped++;
	log_drop(now - oldest);
	return 1;
}

/* log_once - LINE at most once a GUARD_LOG_EVERY_S per kind (*LAST) */
static void log_once(time_t *last, const char *what, const char *peer)
{
	time_t t = time(NULL);

	if (t - *last < GUARD_LOG_EVERY_S)
		return;
	*last = t;
	msg_warn("milter connection%s%s %s", peer ? " from " : "", peer ? peer : "", what);
}

/*
 * __wrap_accept - libmilter's accept(): a connection this guard refuses is
 * closed and reported as EINTR, which makes libmilter look at its stop
 * flag and poll again
 */
int __wrap_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof ss;
	char peer[INET6_ADDRSTRLEN];
	int nfd = __real_accept(fd, (struct sockaddr *)&ss, &sslen);

	if (nfd < 0) {
		int saved = errno;

		if (saved == EMFILE || saved == ENFILE) {
			pthread_mutex_lock(&g_lock);
			int dropped = g_conns ? drop_silent(0) : 0;
			pthread_mutex_unlock(&g_lock);
			log_once(&g_logged_full, "refused: out of descriptors", NULL);
			if (!dropped)
				poll(NULL, 0, 100);
			errno = EINTR;
			return -1;
		}
		errno = saved;
		return -1;
	}
	if (addr && len) {
		memcpy(addr, &ss, sslen < *len ? sslen : *len);
		*len = sslen;
	}
	if (!g_conns)
		return nfd;
	if (!peer_ok((struct sockaddr *)&ss)) {
		log_once(&g_logged_peer, "refused: not in MilterPeers",
			 sockaddr_text((struct sockaddr *)&ss, peer, sizeof peer) ? peer : "?");
		__real_close(nfd);
		errno = EINTR;
		return -1;
	}
	pthread_mutex_lock(&g_lock);
	if ((size_t)nfd >= g_max_fd || (g_open >= g_limit && !drop_silent(0))) {
		pthread_mutex_unlock(&g_lock);
		log_once(&g_logged_full, "refused: MilterConnections are all in use", NULL);
		__real_close(nfd);
		errno = EINTR;
		return -1;
	}
	g_conns[nfd].open = 1;
	g_conns[nfd].since = now_ms();
	atomic_store(&g_conns[nfd].heard, 0);
	g_open++;
	pthread_mutex_unlock(&g_lock);
	return nfd;
}

/* __wrap_read - read(), noting that a milter connection has spoken */
ssize_t __wrap_read(int fd, void *buf, size_t n)
{
	ssize_t r = __real_read(fd, buf, n);

	if (r > 0 && g_conns && fd >= 0 && (size_t)fd < g_max_fd)
		atomic_store(&g_conns[fd].heard, 1);
	return r;
}

/* __wrap_close - close(), and forget FD when it was a milter connection */
int __wrap_close(int fd)
{
	if (g_conns && fd >= 0 && (size_t)fd < g_max_fd) {
		pthread_mutex_lock(&g_lock);
		if (g_conns[fd].open) {
			g_conns[fd].open = 0;
			g_open--;
		}
		pthread_mutex_unlock(&g_lock);
	}
	return __real_close(fd);
}

/* watchdog - once a second, drop the connections silent for GUARD_SILENT_S */
static void *watchdog(void *arg)
{
	struct timespec ts;

	(void)arg;
	pthread_mutex_lock(&g_lock);
	while (!g_stop) {
		while (drop_silent(GUARD_SILENT_S * 1000))
			;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&g_cond, &g_lock, &ts);
	}
	pthread_mutex_unlock(&g_lock);
	return NULL;
}

/* milter_guard_start - see milter_int.h */
int milter_guard_start(void)
{
	g_stop = 0;
	if (pthread_create(&g_watchdog, NULL, watchdog, NULL) != 0)
		return -1;
	g_running = 1;
	return 0;
}

/* milter_guard_stop - see milter_int.h */
void milter_guard_stop(void)
{
	if (!g_running)
		return;
	pthread_mutex_lock(&g_lock);
	g_stop = 1;
	pthread_cond_signal(&g_cond);
	pthread_mutex_unlock(&g_lock);
	pthread_join(g_watchdog, NULL);
	g_running = 0;
}

/* milter_guard_count - see milter_int.h */
size_t milter_guard_count(void)
{
	pthread_mutex_lock(&g_lock);
	size_t n = g_open;
	pthread_mutex_unlock(&g_lock);
	return n;
}
