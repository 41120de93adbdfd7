/*
 * cidr.c - InternalHosts: parse CIDR ranges and match client addresses
 *
 * "127.0.0.0/8", "10.1.2.3" (a host), "::1/128", "2001:db8::/32".  A client
 * that connects over IPv6 with an IPv4-mapped address (::ffff:a.b.c.d) is
 * matched as the IPv4 address.  Public: milter_cidr_parse, milter_cidr_match,
 * milter_cidr_match_text.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "milter_int.h"

/* mask_bytes - clear every bit after the first BITS of addr */
static void mask_bytes(unsigned char *addr, int len, int bits)
{
	for (int i = 0; i < len; i++) {
		int keep = bits - i * 8;
		if (keep >= 8)
			continue;
		addr[i] &= keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
	}
}

/* milter_cidr_parse - see milter_int.h */
int milter_cidr_parse(const char *text, struct milter_cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	size_t n = strlen(text);
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, text, n + 1);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	memset(out, 0, sizeof *out);
	int max;
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -1;
	}
	out->bits = max;
	if (slash) {
		char *end;
		if (!*slash || *slash == '-' || *slash == '+')
			return -1;
		long b = strtol(slash, &end, 10);
		if (*end || b < 0 || b > max)
			return -1;
		out->bits = (int)b;
	}
	mask_bytes(out->addr, max / 8, out->bits);
	return 0;
}

/* in_range - does the address (FAMILY, bytes) fall in range C? */
static int in_range(const struct milter_cidr *c, int family, const unsigned char *addr)
{
	unsigned char a[16];
	int len = family == AF_INET ? 4 : 16;
	if (c->family != family)
		return 0;
	memcpy(a, addr, (size_t)len);
	mask_bytes(a, len, c->bits);
	return memcmp(a, c->addr, (size_t)len) == 0;
}

/* match_bytes - match an address given as family and bytes against the list */
static int match_bytes(const struct milter_cidr *list, size_t n, int family, const unsigned char *addr)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (family == AF_INET6 && memcmp(addr, mapped, 12) == 0) {
		family = AF_INET;
		addr += 12;
	}
	for (size_t i = 0; i < n; i++)
		if (in_range(&list[i], family, addr))
			return 1;
	return 0;
}

/* milter_cidr_match - see milter_int.h */
int milter_cidr_match(const struct milter_cidr *list, size_t n, const struct sockaddr *addr)
{
	if (!addr)
		return 0;
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)addr;
		return match_bytes(list, n, AF_INET, (const unsigned char *)&sin->sin_addr);
	}
	if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)(const void *)addr;
		return match_bytes(list, n, AF_INET6, (const unsigned char *)&sin6->sin6_addr);
	}
	return 0;
}

/* milter_cidr_match_text - see milter_int.h */
int milter_cidr_match_text(const struct milter_cidr *list, size_t n, const char *addr)
{
	unsigned char a[16];
	if (!addr)
		return 0;
	if (inet_pton(AF_INET, addr, a) == 1)
		return match_bytes(list, n, AF_INET, a);
	if (inet_pton(AF_INET6, addr, a) == 1)
		return match_bytes(list, n, AF_INET6, a);
	return 0;
}
