/*
 * nullmilter.c - the baseline for bench/mta.sh: a milter that does nothing
 *
 * It negotiates exactly like crmilter (no modification actions; no HELO,
 * DATA, unknown or end-of-header steps; no reply to connect, MAIL, RCPT,
 * header and body; header leading space) and accepts every message at end
 * of message, so that comparing it with crmilter measures only what
 * crmilter's own work (envelope, spool file, fsync) costs the MTA.
 *
 *   nullmilter SOCKET        e.g. nullmilter unix:/tmp/null.sock
 *
 * Build: cc -O2 -o nullmilter bench/nullmilter.c -lmilter -pthread
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>

#include <libmilter/mfapi.h>

#define NULL_PFLAGS (SMFIP_NOHELO | SMFIP_NODATA | SMFIP_NOUNKNOWN | SMFIP_NOEOH | \
		     SMFIP_HDR_LEADSPC | SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT | \
		     SMFIP_NR_HDR | SMFIP_NR_BODY)

/* null_negotiate - take the same protocol steps as crmilter */
static sfsistat null_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			       unsigned long f2, unsigned long f3, unsigned long *pf0,
			       unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)ctx; (void)f0; (void)f2; (void)f3;
	*pf0 = 0;
	*pf1 = f1 & NULL_PFLAGS;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

/* null_noreply - every step before end of message: no reply */
static sfsistat null_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)ctx; (void)host; (void)addr;
	return SMFIS_NOREPLY;
}

static sfsistat null_argv(SMFICTX *ctx, char **argv)
{
	(void)ctx; (void)argv;
	return SMFIS_NOREPLY;
}

static sfsistat null_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx; (void)name; (void)value;
	return SMFIS_NOREPLY;
}

static sfsistat null_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	(void)ctx; (void)chunk; (void)len;
	return SMFIS_NOREPLY;
}

/* null_eom - accept the message */
static sfsistat null_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_ACCEPT;
}

static sfsistat null_continue(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

int main(int argc, char **argv)
{
	struct smfiDesc desc = {
		.xxfi_name = (char *)"nullmilter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = SMFIF_NONE,
		.xxfi_connect = null_connect,
		.xxfi_envfrom = null_argv,
		.xxfi_envrcpt = null_argv,
		.xxfi_header = null_header,
		.xxfi_body = null_body,
		.xxfi_eom = null_eom,
		.xxfi_abort = null_continue,
		.xxfi_close = null_continue,
		.xxfi_negotiate = null_negotiate,
	};
	if (argc != 2) {
		fprintf(stderr, "usage: nullmilter SOCKET\n");
		return 2;
	}
	if (smfi_setconn(argv[1]) != MI_SUCCESS || smfi_register(desc) != MI_SUCCESS ||
	    smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot open %s\n", argv[1]);
		return 1;
	}
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
