/*
 * signals.c - one place handles crmilter's signals: the main thread
 *
 * libmilter starts a thread of its own that sigwait()s for SIGHUP, SIGTERM
 * and SIGINT and stops the milter loop on any of them.  crmilter's main
 * thread waits for the same signals (a reload, a clean stop), and a process
 * signal goes to either waiting thread: a second SIGHUP during a reload
 * could reach libmilter's and end the loop.  crmilter links libmilter
 * statically with sigwait() wrapped (-Wl,--wrap=sigwait, see the Makefile):
 * libmilter's thread waits here for good, and the main thread calls
 * __real_sigwait() (milter_sigwait).  Public (milter_int.h): milter_sigwait;
 * __wrap_sigwait for the linker.
 */
#include <pthread.h>
#include <signal.h>

#include "milter_int.h"

int __real_sigwait(const sigset_t *set, int *sig);
int __wrap_sigwait(const sigset_t *set, int *sig);

/* __wrap_sigwait - libmilter's signal thread: wait for ever, take nothing */
int __wrap_sigwait(const sigset_t *set, int *sig)
{
	static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

	(void)set;
	(void)sig;
	pthread_mutex_lock(&m);
	for (;;)
		pthread_cond_wait(&never, &m);
	return 0;
}

/* milter_sigwait - see milter_int.h */
int milter_sigwait(const sigset_t *set, int *sig)
{
	return __real_sigwait(set, sig);
}
