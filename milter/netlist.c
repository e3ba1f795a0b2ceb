/* SPDX-License-Identifier: MIT */
/*
 * NAME
 *	netlist - IP address / CIDR lists for local clients of bav-milter
 * SYNOPSIS
 *	struct netlist *netlist_parse(const char *text, char *errbuf,
 *		size_t errlen)
 *	bool netlist_match(const struct netlist *list,
 *		const struct sockaddr *sa)
 *	void netlist_free(struct netlist **list)
 *	bool names_match(const char *list, const char *name)
 * DESCRIPTION
 *	A list holds IPv4 and IPv6 networks ("127.0.0.0/8", "::1",
 *	"192.0.2.7", "2001:db8::/32"), separated by commas or white space.
 *	An IPv4-mapped IPv6 client (::ffff:127.0.0.1) matches the IPv4
 *	entries, so a dual-stack MTA sees the same result either way. The
 *	list is immutable after parsing; the caller owns it.
 * DIAGNOSTICS
 *	netlist_parse() returns NULL and a message in errbuf on a bad entry.
 * SEE ALSO
 *	RFC 4291 section 2.5.5.2 (IPv4-mapped addresses)
 */
#include "bav_milter.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct net {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	unsigned int bits;
};

struct netlist {
	struct net *nets;
	size_t count;
};

static bool parse_one(const char *tok, struct net *n)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long bits;
	unsigned int max, i;

	if (strlen(tok) >= sizeof(buf))
		return false;
	memcpy(buf, tok, strlen(tok) + 1);
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, buf, n->addr) == 1) {
		n->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, n->addr) == 1) {
		n->family = AF_INET6;
		max = 128;
	} else {
		return false;
	}
	n->bits = max;
	if (slash != NULL) {
		bits = strtoul(slash, &end, 10);
		if (*slash == '\0' || *end != '\0' || bits > max)
			return false;
		n->bits = (unsigned int)bits;
	}
	/* clear host bits so matching is a plain prefix compare */
	for (i = n->bits; i < max; i++)
		n->addr[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
	return true;
}

struct netlist *netlist_parse(const char *text, char *errbuf, size_t errlen)
{
	struct netlist *list = calloc(1, sizeof(*list));
	char *copy = strdup(text), *tok, *save = NULL;

	if (list == NULL || copy == NULL) {
		snprintf(errbuf, errlen, "out of memory");
		free(list);
		free(copy);
		return NULL;
	}
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		struct net *nets;

		if (strcasecmp(tok, "none") == 0)
			continue;
		nets = realloc(list->nets, (list->count + 1) * sizeof(*nets));
		if (nets == NULL) {
			snprintf(errbuf, errlen, "out of memory");
			goto bad;
		}
		list->nets = nets;
		if (!parse_one(tok, &list->nets[list->count])) {
			snprintf(errbuf, errlen,
				 "bad address or network '%s'", tok);
			goto bad;
		}
		list->count++;
	}
	free(copy);
	return list;
bad:
	free(copy);
	netlist_free(&list);
	return NULL;
}

void netlist_free(struct netlist **list)
{
	if (*list == NULL)
		return;
	free((*list)->nets);
	free(*list);
	*list = NULL;
}

static bool prefix_eq(const unsigned char *a, const unsigned char *net,
		      unsigned int bits)
{
	unsigned int full = bits / 8, rest = bits % 8;
	unsigned char mask;

	if (memcmp(a, net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff00u >> rest);
	return (a[full] & mask) == net[full];
}

bool netlist_match(const struct netlist *list, const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	const unsigned char *a4 = NULL, *a6 = NULL;
	size_t i;

	if (sa == NULL || list == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		a4 = (const unsigned char *)
			&((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	} else if (sa->sa_family == AF_INET6) {
		a6 = (const unsigned char *)
			&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		if (memcmp(a6, mapped, sizeof(mapped)) == 0)
			a4 = a6 + 12;
	} else {
		return false;
	}
	for (i = 0; i < list->count; i++) {
		const struct net *n = &list->nets[i];

		if (n->family == AF_INET && a4 != NULL &&
		    prefix_eq(a4, n->addr, n->bits))
			return true;
		if (n->family == AF_INET6 && a6 != NULL &&
		    prefix_eq(a6, n->addr, n->bits))
			return true;
	}
	return false;
}

bool names_match(const char *list, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = list;

	if (nlen == 0 || name[0] == '[' || strcasecmp(name, "unknown") == 0)
		return false;
	while (*p != '\0') {
		size_t len;

		p += strspn(p, ", \t");
		len = strcspn(p, ", \t");
		if (len == 0)
			break;
		if (p[0] == '.' ? nlen > len &&
		    strncasecmp(name + nlen - len, p, len) == 0 :
		    nlen == len && strncasecmp(name, p, len) == 0)
			return true;
		p += len;
	}
	return false;
}

const char *sockaddr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	const void *addr;

	if (sa == NULL) {
		snprintf(buf, len, "unknown");
		return buf;
	}
	if (sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else {
		snprintf(buf, len, "family-%d", sa->sa_family);
		return buf;
	}
	if (inet_ntop(sa->sa_family, addr, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}
