/*
 * builtin.c - the built-in rules that close every section, and the names
 * of the decisions
 *
 * These lines are parsed after the rules file, into the same sections, so
 * a file only needs the rules that differ from the defaults: a rule of the
 * file that matches first wins.  An empty file, or no file, behaves as
 * this text; contrib/rules.example spells the same defaults out.
 */
#include "rules_int.h"

static const char builtin_text[] =
	"# the defaults: they close each section, after the rules file's own rules\n"
	"[log]\n"
	"skip \"internal only\" if internal\n"
	"skip \"mailing list\" if bulk\n"
	"skip \"auto-submitted\" if auto-reply\n"
	"skip \"bounce\" if bounce\n"
	"skip \"spam\" if header X-Spam-Flag /^\\s*yes/i\n"
	"private \"marked private\" if header Sensitivity /^\\s*private\\s*$/i\n"
	"log \"conversation\"\n"
	"\n"
	"[capture]\n"
	"policy sent\n"
	"never if bulk\n"
	"never if bounce\n"
	"never if auto-reply\n"
	"never @automated\n"
	"\n"
	"[associate]\n"
	"account auto\n"
	"contacts\n"
	"\n"
	"[visibility]\n"
	"workspace everything\n";

/* rules_builtin_text - see rules.h */
const char *rules_builtin_text(void)
{
	return builtin_text;
}

/* rules_log_name - see rules.h */
const char *rules_log_name(enum rules_log l)
{
	return l == RULES_SKIP ? "skip" : l == RULES_PRIVATE ? "private" : "log";
}

/* rules_direction_name - see rules.h */
const char *rules_direction_name(enum rules_direction d)
{
	return d == RULES_OUTBOUND ? "outbound" : d == RULES_INTERNAL ? "internal" : "inbound";
}

/* rules_inside_name - see rules.h */
const char *rules_inside_name(enum rules_inside i)
{
	return i == RULES_INSIDE_TEAM ? "team" : i == RULES_INSIDE_WORKSPACE ? "workspace"
									     : "participants";
}

/* rules_level_name - see rules.h */
const char *rules_level_name(enum rules_level l)
{
	static const char *const names[] = { "nothing", "metadata", "subject", "everything" };

	return l <= RULES_SEE_EVERYTHING ? names[l] : "nothing";
}

/* rules_policy_name - see rules.h */
const char *rules_policy_name(enum rules_capture_policy p)
{
	return p == RULES_POLICY_NONE ? "none" : p == RULES_POLICY_SENT_RECEIVED ? "sent-and-received"
										 : "sent";
}
