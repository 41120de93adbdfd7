/*
 * fuzz_conf.c - fuzz target: conf_load() on a crmilter.conf, and the value
 * parsers behind it
 *
 * The input is written as a configuration file and loaded; a loaded
 * configuration is queried (own domains) and freed, an error must name
 * the file.  The first line of the input also goes to parse_size() and
 * parse_date(), which read sizes and dates from the command line too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/common.h"
#include "fuzz.h"

/* LLVMFuzzerTestOneInput - see fuzz.h */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[4200], err[1024], line[512];
	struct conf c;
	unsigned h = 0;

	snprintf(path, sizeof path, "%s/crmilter.conf", fuzz_dir());
	fuzz_put_file(path, data, size);
	err[0] = '\0';
	if (conf_load(path, &c, err, sizeof err) == 0) {
		h ^= fuzz_consume_str(c.database) ^ fuzz_consume_str(c.socket);
		for (size_t i = 0; i < c.domains.n; i++)
			h ^= fuzz_consume_str(c.domains.v[i]);
		for (size_t i = 0; i < c.internal_hosts.n; i++)
			h ^= fuzz_consume_str(c.internal_hosts.v[i]);
		h ^= (unsigned)conf_is_own_domain(&c, "mail.example.com");
		conf_free(&c);
	} else if (strncmp(err, path, strlen(path)) != 0) {
		abort();	/* every error starts with the file name */
	}
	const uint8_t *nl = memchr(data, '\n', size);	/* the input has no terminating NUL */
	size_t n = nl ? (size_t)(nl - data) : size;
	if (n >= sizeof line)
		n = sizeof line - 1;
	memcpy(line, data, n);
	line[n] = '\0';
	uint64_t bytes;
	int64_t when;
	if (parse_size(line, &bytes) == 0)
		h ^= (unsigned)bytes;
	if (parse_date(line, &when) == 0)
		h ^= (unsigned)when;
	fuzz_sink ^= h;
	return 0;
}
