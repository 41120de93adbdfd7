/*
 * eval.c - evaluate a message against the rules, section by section
 *
 * [log] decides log, skip or private (first match).  A skipped message
 * gets no other decision.  [capture] decides, for each external
 * participant once, whether it becomes a contact: an inbound message that
 * fails "require-auth" makes and updates no contact; otherwise the first
 * never/always rule matching the participant decides, else the policy.
 * [associate] gives each participant its account (the first account
 * mapping whose domains hold its domain, else "account auto": the
 * registrable domain unless free-mail), the thread's deal (the first deal
 * rule that yields one) and the rule that links contacts.  [visibility]
 * decides who is inside and what others see; mail [log] marked private is
 * private whatever [visibility] says.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules_int.h"

/* rule_holds - every condition of R holds */
static int rule_holds(struct ev *e, const struct rule *r)
{
	for (size_t i = 0; i < r->n_conds; i++)
		if (!cond_holds(e, &r->conds[i]))
			return 0;
	return 1;
}

/* eval_log - [log]: the first rule that holds */
static void eval_log(struct ev *e, struct rules_decision *d)
{
	for (size_t i = 0; i < e->r->nsec[SEC_LOG]; i++) {
		const struct rule *r = e->r->sec[SEC_LOG][i];

		if (!rule_holds(e, r))
			continue;
		d->log = r->verb == V_SKIP ? RULES_SKIP : r->verb == V_PRIVATE ? RULES_PRIVATE : RULES_LOG;
		d->log_reason = r->reason;
		d->log_rule = &r->prov;
		return;
	}
}

/* role flags of a participant */
#define ROLE_SENDER    1   /* From, Sender, Reply-To */
#define ROLE_RECIPIENT 2   /* To, Cc, Bcc, envelope */

/* person_add - ADDR as an external participant of D (once); 0 or -1 */
static int person_add(struct ev *e, struct rules_decision *d, struct strset *seen,
		      unsigned char *roles, const char *addr, int role)
{
	struct rules_person *nv;
	size_t i;

	if (!addr || !*addr || !strchr(addr, '@') || !strchr(addr, '@')[1] ||
	    (e->in->is_internal && e->in->is_internal(addr, e->in->arg)))
		return 0;
	if (strset_has(seen, addr)) {
		for (i = 0; i < d->n_people && strcmp(d->people[i].addr, addr) != 0; i++)
			;
		if (i < d->n_people)
			roles[i] |= (unsigned char)role;
		return 0;
	}
	nv = realloc(d->people, (d->n_people + 1) * sizeof *nv);
	if (!nv || strset_add(seen, addr) < 0) {
		if (nv)
			d->people = nv;
		return -1;
	}
	d->people = nv;
	memset(&nv[d->n_people], 0, sizeof *nv);
	nv[d->n_people].addr = addr;
	roles[d->n_people++] = (unsigned char)role;
	return 0;
}

/* people_collect - the external participants, each once, with their roles */
static int people_collect(struct ev *e, struct rules_decision *d, unsigned char **roles)
{
	const struct mail_record *r = e->in->rec;
	const struct mail_addrs *lists[] = { &r->from, &r->sender, &r->reply_to, &r->to, &r->cc,
					     &r->bcc };
	const int role[] = { ROLE_SENDER, ROLE_SENDER, ROLE_SENDER, ROLE_RECIPIENT, ROLE_RECIPIENT,
			     ROLE_RECIPIENT };
	size_t total = e->in->n_rcpts, l, i;
	struct strset seen = { 0 };
	int rc = 0;

	for (l = 0; l < 6; l++)
		total += lists[l]->n;
	*roles = calloc(total ? total : 1, 1);
	if (!*roles)
		return -1;
	for (l = 0; l < 6 && rc == 0; l++)
		for (i = 0; i < lists[l]->n && rc == 0; i++)
			rc = person_add(e, d, &seen, *roles, lists[l]->v[i].addr, role[l]);
	for (i = 0; i < e->in->n_rcpts && rc == 0; i++)
		rc = person_add(e, d, &seen, *roles, e->in->rcpts[i], ROLE_RECIPIENT);
	strset_free(&seen);
	return rc;
}

/* authenticated - does the message pass the require-auth setting? */
static int authenticated(struct ev *e)
{
	switch (e->r->require) {
	case REQ_OFF: return 1;
	case REQ_DMARC: return auth_method(e, "dmarc", "pass");
	case REQ_ALIGNED: return auth_aligned(e);
	}
	return 0;
}

/* capture_policy - the policy's answer for a participant with ROLES */
static void capture_policy(struct ev *e, struct rules_person *p, int roles)
{
	int out = e->in->direction == RULES_OUTBOUND, in = e->in->direction == RULES_INBOUND;

	p->capture_rule = e->r->policy_prov;
	switch (e->r->policy) {
	case RULES_POLICY_NONE:
		p->why = "policy none";
		return;
	case RULES_POLICY_SENT_RECEIVED:
		p->capture = (out && (roles & ROLE_RECIPIENT)) || (in && (roles & ROLE_SENDER));
		p->why = p->capture ? "policy sent-and-received: wrote to us or we wrote to them"
				    : "policy sent-and-received: neither wrote to us nor was written to";
		return;
	case RULES_POLICY_SENT:
		p->capture = out && (roles & ROLE_RECIPIENT);
		p->why = p->capture ? "policy sent: a recipient of our mail"
				    : "policy sent: not a recipient of our mail";
		return;
	}
}

/* capture_one - [capture] for one participant */
static void capture_one(struct ev *e, struct rules_person *p, int roles, int authed)
{
	p->trusted = 1;
	if (e->in->direction == RULES_INBOUND && !authed) {
		p->trusted = 0;
		p->why = "inbound mail not authenticated (require-auth)";
		p->capture_rule = e->r->require_prov;
		return;
	}
	for (size_t i = 0; i < e->r->nsec[SEC_CAPTURE]; i++) {
		const struct rule *r = e->r->sec[SEC_CAPTURE][i];

		if (!matcher_addr(&r->who, p->addr, e->md) || !rule_holds(e, r))
			continue;
		p->capture = r->verb == V_ALWAYS;
		p->why = p->capture ? "always" : "never";
		p->capture_rule = &r->prov;
		return;
	}
	capture_policy(e, p, roles);
}

/* account_auto - the registrable domain of ADDR unless it is free-mail */
static int account_auto(struct rules_person *p)
{
	const char *at = strrchr(p->addr, '@');
	char *reg = mail_registrable_domain(at + 1);

	if (!reg)
		return -1;
	if (*reg && !mail_is_freemail(reg))
		p->account = reg;
	else
		free(reg);
	return 0;
}

/* account_one - [associate] the account of one participant; 0 or -1 */
static int account_one(struct ev *e, struct rules_person *p)
{
	const char *domain = strrchr(p->addr, '@') + 1;

	for (size_t i = 0; i < e->r->nsec[SEC_ASSOCIATE]; i++) {
		const struct rule *r = e->r->sec[SEC_ASSOCIATE][i];

		if (r->verb == V_ACCOUNT && domain_in(&r->who.domains, domain)) {
			p->account = strdup(r->key);
			p->account_name = r->name;
			p->account_rule = &r->prov;
			return p->account ? 0 : -1;
		}
		if (r->verb == V_ACCOUNT_AUTO) {
			p->account_rule = &r->prov;
			return account_auto(p);
		}
	}
	return 0;
}

/* group_key - group 1 of the last match (or the whole match) as a new string */
static char *group_key(pcre2_match_data *md, const char *s)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	uint32_t n = pcre2_get_ovector_count(md);
	size_t g = n > 1 && ov[2] != PCRE2_UNSET ? 1 : 0;

	return strndup(s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
}

/* regex_key - the key RE finds in S, or NULL */
static char *regex_key(struct ev *e, const pcre2_code *re, const char *s)
{
	if (pcre2_match(re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, e->md, NULL) < 0)
		return NULL;
	return group_key(e->md, s);
}

/* header_key - header_each() callback: the first non-empty key of a deal header */
struct hk {
	struct ev *e;
	const pcre2_code *re;
	char *key;
};

static int header_key(const char *value, void *arg)
{
	struct hk *h = arg;

	if (h->re)
		h->key = regex_key(h->e, h->re, value);
	else if (*value)
		h->key = strdup(value);
	return h->key != NULL;
}

/* deal_key - the deal key rule R finds in the message, or NULL */
static char *deal_key(struct ev *e, const struct rule *r)
{
	struct hk h = { e, r->re, NULL };

	if (r->verb == V_DEAL_SUBJECT)
		return regex_key(e, r->re, e->in->rec->subject ? e->in->rec->subject : "");
	header_each(e->in->headers, e->in->headers_len, r->name, header_key, &h);
	return h.key;
}

/* eval_deal - [associate] the first deal rule that gives a deal; 0 or -1 */
static int eval_deal(struct ev *e, struct rules_decision *d)
{
	for (size_t i = 0; i < e->r->nsec[SEC_ASSOCIATE]; i++) {
		const struct rule *r = e->r->sec[SEC_ASSOCIATE][i];
		char *key;

		if (r->verb != V_DEAL_SUBJECT && r->verb != V_DEAL_HEADER &&
		    r->verb != V_DEAL_SINGLE_OPEN)
			continue;
		if (!rule_holds(e, r))
			continue;
		if (r->verb == V_DEAL_SINGLE_OPEN) {
			d->single_open = &r->prov;
			return 0;
		}
		key = deal_key(e, r);
		if (!key)
			continue;
		d->deals = calloc(1, sizeof *d->deals);
		if (!d->deals) {
			free(key);
			return -1;
		}
		d->deals[0] = (struct rules_deal){ key, &r->prov };
		d->n_deals = 1;
		return 0;
	}
	return 0;
}

/* eval_associate - accounts, deal, contacts rule and the unassigned reason */
static int eval_associate(struct ev *e, struct rules_decision *d)
{
	size_t i, trusted = 0;

	for (i = 0; i < d->n_people; i++) {
		if (account_one(e, &d->people[i]) < 0)
			return -1;
		trusted += d->people[i].trusted;
	}
	for (i = 0; i < e->r->nsec[SEC_ASSOCIATE] && !d->contacts_rule; i++)
		if (e->r->sec[SEC_ASSOCIATE][i]->verb == V_CONTACTS)
			d->contacts_rule = &e->r->sec[SEC_ASSOCIATE][i]->prov;
	if (d->n_people == 0)
		d->unassigned = "no external participant";
	else if (trusted == 0)
		d->unassigned = "inbound mail not authenticated: links nobody";
	return eval_deal(e, d);
}

/* eval_visibility - [visibility]: the first rule that holds */
static void eval_visibility(struct ev *e, struct rules_decision *d)
{
	if (d->log == RULES_PRIVATE) {
		d->inside = RULES_INSIDE_PARTICIPANTS;
		d->outside = RULES_SEE_NOTHING;
		d->visibility_reason = d->log_reason;
		d->visibility_rule = d->log_rule;
		return;
	}
	e->delivery_only = 1;
	for (size_t i = 0; i < e->r->nsec[SEC_VISIBILITY]; i++) {
		const struct rule *r = e->r->sec[SEC_VISIBILITY][i];

		if (!rule_holds(e, r))
			continue;
		d->inside = r->verb == V_VIS_TEAM ? RULES_INSIDE_TEAM :
			    r->verb == V_VIS_WORKSPACE ? RULES_INSIDE_WORKSPACE : RULES_INSIDE_PARTICIPANTS;
		d->outside = r->verb == V_VIS_PRIVATE ? RULES_SEE_NOTHING : r->level;
		d->team = r->verb == V_VIS_TEAM ? r->name : NULL;
		d->visibility_reason = r->reason;
		d->visibility_rule = &r->prov;
		return;
	}
}

/* rules_eval - see rules.h */
int rules_eval(struct rules *r, const struct rules_input *in, struct rules_decision *d)
{
	struct ev e = { .r = r, .in = in };
	unsigned char *roles = NULL;
	int authed, rc = -1;

	memset(d, 0, sizeof *d);
	d->rules = rules_ref(r);
	d->direction = in->direction;
	e.md = pcre2_match_data_create(16, NULL);
	if (!e.md)
		goto out;
	eval_log(&e, d);
	if (d->log == RULES_SKIP) {
		rc = 0;
		goto out;
	}
	e.marked_private = d->log == RULES_PRIVATE;
	if (people_collect(&e, d, &roles) < 0)
		goto out;
	authed = d->n_people && in->direction == RULES_INBOUND ? authenticated(&e) : 1;
	for (size_t i = 0; i < d->n_people; i++)
		capture_one(&e, &d->people[i], roles[i], authed);
	if (eval_associate(&e, d) < 0)
		goto out;
	eval_visibility(&e, d);
	rc = 0;
out:
	free(roles);
	ev_free_auth(&e);
	pcre2_match_data_free(e.md);
	if (rc < 0)
		rules_decision_free(d);
	return rc;
}

/* rules_decision_free - see rules.h */
void rules_decision_free(struct rules_decision *d)
{
	for (size_t i = 0; i < d->n_people; i++)
		free(d->people[i].account);
	free(d->people);
	for (size_t i = 0; i < d->n_deals; i++)
		free(d->deals[i].key);
	free(d->deals);
	rules_unref(d->rules);
	memset(d, 0, sizeof *d);
}
