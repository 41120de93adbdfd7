/*
 * envelope.c - the envelope of a message and its direction
 *
 * The envelope is what only the MTA knows: MAIL FROM, every RCPT TO (the
 * only place Bcc recipients and expanded aliases are visible), the queue
 * id, the authenticated user, the receiving service.  Addresses are stored
 * normalised (mail_addr_normalise), recipients once each and at most
 * MILTER_MAX_RCPTS of them.
 *
 * Direction: a message was sent by our side ("originated") when the client
 * authenticated, when {daemon_name} equals OriginatingName (Postfix's
 * submission service sets it), or when the client address is one of
 * InternalHosts.  The store turns that into inbound / outbound / internal
 * (every participant internal) with store_direction_of().
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "milter_int.h"
#include "../mail/mail.h"
#include "../storage/store.h"

/* milter_env_clear - see milter_int.h */
void milter_env_clear(struct milter_env *env)
{
	free(env->mail_from);
	for (size_t i = 0; i < env->n_rcpts; i++)
		free(env->rcpts[i]);
	free(env->rcpts);
	free(env->queue_id);
	free(env->auth_authen);
	free(env->daemon_name);
	for (size_t i = 0; i < env->n_reply_raw; i++)
		free(env->reply_raw[i]);
	free(env->reply_tag);
	memset(env, 0, sizeof *env);
}

/* milter_set_str - see milter_int.h */
int milter_set_str(char **dst, const char *src, size_t max)
{
	char *copy = NULL;
	if (src && !(copy = strndup(src, max)))
		return -1;
	free(*dst);
	*dst = copy;
	return 0;
}

/* bare_address - the address of an SMTP path argument: "<a@b>" -> "a@b", capped */
static char *bare_address(const char *arg)
{
	size_t n;
	if (!arg)
		arg = "";
	while (*arg == ' ' || *arg == '\t')
		arg++;
	if (*arg == '<') {
		arg++;
		const char *end = strchr(arg, '>');
		n = end ? (size_t)(end - arg) : strlen(arg);
	} else {
		n = strcspn(arg, " \t");
	}
	if (n > MILTER_MAX_ADDR)
		n = MILTER_MAX_ADDR;
	return strndup(arg, n);
}

/* normal_address - the normalised form of an SMTP path argument; NULL on ENOMEM */
static char *normal_address(const char *arg)
{
	char *bare = bare_address(arg);
	if (!bare || !*bare || !strchr(bare, '@'))
		return bare;	/* "" (null sender) or a local name: kept as given */
	char *norm = mail_addr_normalise(bare);
	if (!norm)
		return bare;
	free(bare);
	return norm;
}

/* milter_env_set_from - see milter_int.h */
int milter_env_set_from(struct milter_env *env, const char *arg)
{
	char *a = normal_address(arg);
	if (!a)
		return -1;
	free(env->mail_from);
	env->mail_from = a;
	return 0;
}

/*
 * take_reply - when A (normalised) is REPLY_ADDRESS or a tagged form of
 * it (store_reply_match), keep the address of ARG as the MTA gave it,
 * "<local+tag@domain>" (what smfi_delrcpt matches), and the first
 * non-empty tag, and return 1; else 0
 */
static int take_reply(struct milter_env *env, const char *a, const char *arg,
		      const char *reply_address)
{
	const char *tag;
	size_t taglen;

	if (!store_reply_match(reply_address, a, &tag, &taglen))
		return 0;
	char *bare = bare_address(arg);

	if (bare && env->n_reply_raw < MILTER_MAX_REPLY_RCPTS &&
	    asprintf(&env->reply_raw[env->n_reply_raw], "<%s>", bare) >= 0)
		env->n_reply_raw++;
	free(bare);
	if (taglen && !env->reply_tag)
		milter_set_str(&env->reply_tag, tag, taglen);
	return 1;
}

/* milter_env_add_rcpt - see milter_int.h */
int milter_env_add_rcpt(struct milter_env *env, const char *arg, const char *reply_address)
{
	char *a = normal_address(arg);
	if (!a)
		return -1;
	if (take_reply(env, a, arg, reply_address)) {
		free(a);
		return 0;
	}
	for (size_t i = 0; i < env->n_rcpts; i++)
		if (strcmp(env->rcpts[i], a) == 0) {
			free(a);
			return 0;
		}
	if (env->n_rcpts == MILTER_MAX_RCPTS) {
		env->rcpts_dropped++;
		free(a);
		return 0;
	}
	if (env->n_rcpts == env->cap_rcpts) {
		size_t cap = env->cap_rcpts ? env->cap_rcpts * 2 : 4;
		char **v = realloc(env->rcpts, cap * sizeof *v);
		if (!v) {
			free(a);
			return -1;
		}
		env->rcpts = v;
		env->cap_rcpts = cap;
	}
	env->rcpts[env->n_rcpts++] = a;
	return 0;
}

/* milter_originated - see milter_int.h */
int milter_originated(const struct milter_cfg *cfg, const char *auth_authen,
		      const char *daemon_name, const struct sockaddr *client)
{
	if (auth_authen && *auth_authen)
		return 1;
	if (daemon_name && cfg->conf.originating_name && *cfg->conf.originating_name &&
	    strcasecmp(daemon_name, cfg->conf.originating_name) == 0)
		return 1;
	return milter_cidr_match(cfg->hosts, cfg->n_hosts, client);
}

/* milter_direction_name - see milter_int.h */
const char *milter_direction_name(int direction)
{
	switch (direction) {
	case STORE_OUTBOUND: return "outbound";
	case STORE_INTERNAL: return "internal";
	default:             return "inbound";
	}
}
