/*
 * session.c - sessions the server can end, and logins it slows down
 *
 * Public (view_int.h): sessions_start, sessions_touch, sessions_end,
 * throttle_wait, throttle_failed, throttle_passed, verify_enter,
 * verify_leave.
 *
 * A signed cookie alone cannot be taken back: logout, a stolen cookie and a
 * cookie signed for ten years would all keep working.  So every login also
 * makes a session here, in memory, named by 128 random bits that the cookie
 * carries; a request is someone's only while that session lives: at most
 * VIEW_SESSION_MAX_AGE after the login and VIEW_SESSION_IDLE after the last
 * request, until logout.  crmview's restart ends every session.
 *
 * Logins are slowed per client address and per account on that address:
 * after VIEW_FREE_TRIES_ACCOUNT (or VIEW_FREE_TRIES_CLIENT for any account)
 * wrong passwords, each further try waits VIEW_THROTTLE_FIRST seconds after
 * the last failure, then twice as long each time, up to VIEW_THROTTLE_MAX
 * (5, 10, 20, 40, 60, 60 ...: about one guess a minute), and a try that comes too
 * soon is answered 429 without the password being checked.  A failure is
 * forgotten VIEW_THROTTLE_FORGET seconds later; a good login clears its
 * account's count on that address.  Each address has at most one password
 * check running, so a flood from one address cannot hold the
 * VIEW_MAX_VERIFY checks that everybody shares.  Times are CLOCK_MONOTONIC:
 * a clock set back or forward changes nothing.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "view_int.h"

struct session {
	char sid[VIEW_SID_LEN + 1];    /* "" when the slot is free */
	char address[256];
	int64_t started, seen;         /* monotonic seconds */
};

struct strike {
	char key[320];                 /* "CLIENT" or "CLIENT ACCOUNT"; "" when free */
	unsigned fails;
	int64_t last;                  /* monotonic seconds of the last failure */
};

struct checking {
	char client[64];               /* "" when free */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t verify_free = PTHREAD_COND_INITIALIZER;
static struct session sessions[VIEW_SESSIONS_MAX];
static struct strike strikes[VIEW_STRIKES_MAX];
static struct checking checking[VIEW_MAX_VERIFY];

/* view_mono - monotonic seconds */
int64_t view_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* live - S is a session still in force at NOW */
static int live(const struct session *s, int64_t now)
{
	return s->sid[0] && now - s->started < VIEW_SESSION_MAX_AGE && now - s->seen < VIEW_SESSION_IDLE;
}

/* sessions_start - see view_int.h */
int sessions_start(const char *address, char sid[VIEW_SID_LEN + 1])
{
	unsigned char raw[VIEW_SID_LEN / 2];
	int64_t now = view_mono();
	struct session *slot = NULL;

	randombytes_buf(raw, sizeof raw);
	sodium_bin2hex(sid, VIEW_SID_LEN + 1, raw, sizeof raw);
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < VIEW_SESSIONS_MAX; i++) {
		struct session *s = &sessions[i];

		if (!live(s, now)) {
			slot = s;
			break;
		}
		if (!slot || s->seen < slot->seen)
			slot = s;         /* full: the longest idle one gives way */
	}
	snprintf(slot->sid, sizeof slot->sid, "%s", sid);
	snprintf(slot->address, sizeof slot->address, "%s", address);
	slot->started = slot->seen = now;
	pthread_mutex_unlock(&lock);
	return 0;
}

/* find - the live session SID of ADDRESS, or NULL; under the lock */
static struct session *find(const char *sid, const char *address, int64_t now)
{
	for (size_t i = 0; i < VIEW_SESSIONS_MAX; i++) {
		struct session *s = &sessions[i];

		if (s->sid[0] && sodium_memcmp(s->sid, sid, VIEW_SID_LEN) == 0) {
			if (!live(s, now) || strcmp(s->address, address) != 0) {
				s->sid[0] = '\0';
				return NULL;
			}
			return s;
		}
	}
	return NULL;
}

/* sessions_touch - see view_int.h */
int sessions_touch(const char *sid, const char *address)
{
	int64_t now = view_mono();
	struct session *s;

	if (strlen(sid) != VIEW_SID_LEN)
		return 0;
	pthread_mutex_lock(&lock);
	s = find(sid, address, now);
	if (s)
		s->seen = now;
	pthread_mutex_unlock(&lock);
	return s != NULL;
}

/* sessions_end - see view_int.h */
void sessions_end(const char *sid)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < VIEW_SESSIONS_MAX && strlen(sid) == VIEW_SID_LEN; i++)
		if (sessions[i].sid[0] && sodium_memcmp(sessions[i].sid, sid, VIEW_SID_LEN) == 0)
			sessions[i].sid[0] = '\0';
	pthread_mutex_unlock(&lock);
}

/* strike_key - "CLIENT" (ACCOUNT NULL) or "CLIENT ACCOUNT" into BUF */
static const char *strike_key(char *buf, size_t len, const char *client, const char *account)
{
	snprintf(buf, len, "%s%s%s", client, account ? " " : "", account ? account : "");
	return buf;
}

/* strike_find - the record of KEY (made when MAKE; the oldest gives way when
 * full), or NULL; under the lock.  Records older than the forget time are free. */
static struct strike *strike_find(const char *key, int64_t now, int make)
{
	struct strike *slot = NULL;

	for (size_t i = 0; i < VIEW_STRIKES_MAX; i++) {
		struct strike *s = &strikes[i];

		if (s->key[0] && now - s->last >= VIEW_THROTTLE_FORGET)
			s->key[0] = '\0';
		if (s->key[0] && strcmp(s->key, key) == 0)
			return s;
		if (!make || (slot && !slot->key[0]))
			continue;           /* not making one, or a free slot found */
		if (!slot || !s->key[0] || s->last < slot->last)
			slot = s;           /* free, else the oldest */
	}
	if (slot) {
		snprintf(slot->key, sizeof slot->key, "%s", key);
		slot->fails = 0;
		slot->last = now;
	}
	return slot;
}

/* wait_of - seconds S must still wait at NOW with FREE free tries; 0: go */
static int64_t wait_of(const struct strike *s, unsigned free_tries, int64_t now)
{
	int64_t w;

	if (!s || s->fails < free_tries)
		return 0;
	w = s->fails - free_tries >= 4 ? VIEW_THROTTLE_MAX
				       : (int64_t)VIEW_THROTTLE_FIRST << (s->fails - free_tries);
	if (w > VIEW_THROTTLE_MAX)
		w = VIEW_THROTTLE_MAX;
	return s->last + w > now ? s->last + w - now : 0;
}

/* throttle_wait - see view_int.h */
int64_t throttle_wait(const char *client, const char *account)
{
	char k1[320], k2[320];
	int64_t now = view_mono(), a, b;

	pthread_mutex_lock(&lock);
	a = wait_of(strike_find(strike_key(k1, sizeof k1, client, NULL), now, 0),
		    VIEW_FREE_TRIES_CLIENT, now);
	b = wait_of(strike_find(strike_key(k2, sizeof k2, client, account), now, 0),
		    VIEW_FREE_TRIES_ACCOUNT, now);
	pthread_mutex_unlock(&lock);
	return a > b ? a : b;
}

/* throttle_failed - see view_int.h */
void throttle_failed(const char *client, const char *account)
{
	char k[320];
	int64_t now = view_mono();
	struct strike *s;

	pthread_mutex_lock(&lock);
	for (int i = 0; i < 2; i++) {
		s = strike_find(strike_key(k, sizeof k, client, i ? account : NULL), now, 1);
		if (s) {
			s->fails++;
			s->last = now;
		}
	}
	pthread_mutex_unlock(&lock);
}

/* throttle_passed - see view_int.h */
void throttle_passed(const char *client, const char *account)
{
	char k[320];
	struct strike *s;

	pthread_mutex_lock(&lock);
	s = strike_find(strike_key(k, sizeof k, client, account), view_mono(), 0);
	if (s)
		s->key[0] = '\0';
	pthread_mutex_unlock(&lock);
}

/* verify_enter - see view_int.h */
int verify_enter(const char *client)
{
	const char *who = client[0] ? client : "?";
	struct timespec until;
	int slot = -1;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += VIEW_VERIFY_WAIT;
	pthread_mutex_lock(&lock);
	for (;;) {
		int mine = 0;

		slot = -1;
		for (int i = 0; i < VIEW_MAX_VERIFY; i++) {
			if (strcmp(checking[i].client, who) == 0)
				mine = 1;
			if (!checking[i].client[0] && slot < 0)
				slot = i;
		}
		if (mine) {
			slot = -2;          /* this address has a check running already */
			break;
		}
		if (slot >= 0 || pthread_cond_timedwait(&verify_free, &lock, &until) != 0)
			break;
	}
	if (slot >= 0)
		snprintf(checking[slot].client, sizeof checking[slot].client, "%s", who);
	pthread_mutex_unlock(&lock);
	return slot;
}

/* verify_leave - see view_int.h */
void verify_leave(int slot)
{
	if (slot < 0 || slot >= VIEW_MAX_VERIFY)
		return;
	pthread_mutex_lock(&lock);
	checking[slot].client[0] = '\0';
	pthread_cond_broadcast(&verify_free);
	pthread_mutex_unlock(&lock);
}
