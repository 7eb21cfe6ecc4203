#include "host_port.h"

#include <stdbool.h>
#include <string.h>

/* A character a host name or an IP address may hold (IPv6 zone ids
 * included: "fe80::1%eth0"). */
static bool
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
	       c == '%';
}

/* Strict decimal port from p[0..len). */
static bool
parse_port(const char *p, size_t len, int *port)
{
	int v = 0;

	if (len == 0 || len > 5)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	if (v < 1 || v > 65535)
		return false;
	*port = v;
	return true;
}

/* Parses one entry p[0..len), already trimmed, into *hp. */
static const char *
parse_entry(const char *p, size_t len, struct host_port *hp)
{
	const char *host = p, *colon;
	size_t host_len;
	bool bracketed = len > 0 && p[0] == '[';

	if (len == 0)
		return "has an empty entry (expected host:port,host:port,...)";
	if (bracketed) {
		const char *close = memchr(p, ']', len);

		if (close == NULL || close + 1 == p + len || close[1] != ':')
			return "has an IPv6 entry not of the form [addr]:port";
		host = p + 1;
		host_len = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = memchr(p, ':', len);
		if (colon == NULL)
			return "has an entry without :port";
		if (memchr(colon + 1, ':', len - (size_t)(colon + 1 - p)))
			return "has an IPv6 address without brackets "
			       "([addr]:port)";
		host_len = (size_t)(colon - p);
	}
	if (host_len == 0 || host_len >= HOST_PORT_HOST_MAX)
		return "has an entry with an empty or over-long host";
	for (size_t i = 0; i < host_len; i++) {
		if (!host_char(host[i]) && !(bracketed && host[i] == ':'))
			return "has a host that is not a name or an IP "
			       "address";
	}
	if (!parse_port(colon + 1, len - (size_t)(colon + 1 - p), &hp->port))
		return "has an entry whose port is not from 1 to 65535";
	memcpy(hp->host, host, host_len);
	hp->host[host_len] = '\0';
	return NULL;
}

const char *
host_port_list_parse(const char *text, struct host_port *out, size_t *count)
{
	struct host_port list[HOST_PORT_LIST_MAX];
	size_t n = 0;
	const char *p = text;

	for (;;) {
		size_t len = strcspn(p, ",");
		const char *why;

		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (n == HOST_PORT_LIST_MAX)
			return "has more than 16 entries";
		why = parse_entry(p, len, &list[n]);
		if (why != NULL)
			return why;
		for (size_t i = 0; i < n; i++) {
			if (list[i].port == list[n].port &&
			    strcmp(list[i].host, list[n].host) == 0)
				return "lists an entry twice";
		}
		n++;
		p += strcspn(p, ",");
		if (*p == '\0')
			break;
		p++;
	}
	if (out != NULL)
		memcpy(out, list, n * sizeof(list[0]));
	*count = n;
	return NULL;
}
