#include "origin.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define HOST_MAX  253
#define PORT_MAX  65535
#define SEPARATOR "://"

/* A canonical origin taken apart; port is the default one when none is
 * written. */
struct origin_parts {
	const char *scheme;
	size_t scheme_len;
	const char *host;
	size_t host_len;
	long port;
	bool explicit_port;
};

static bool
same_text(const char *a, size_t alen, const char *b)
{
	return alen == strlen(b) && strncasecmp(a, b, alen) == 0;
}

/* The default port of http and https; 0 for any other scheme. */
static long
default_port(const char *scheme, size_t len)
{
	if (same_text(scheme, len, "http"))
		return 80;
	if (same_text(scheme, len, "https"))
		return 443;
	return 0;
}

/* 1 to 5 decimal digits, leading zeros allowed as URL parsers allow
 * them; -1 when not a port number (0 included). */
static long
parse_port(const char *s, size_t len)
{
	long v = 0;

	if (len == 0 || len > 5)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= PORT_MAX ? v : -1;
}

static const char *
check_host(const char *host, size_t len)
{
	bool label_empty = true;

	if (len == 0)
		return "host is empty";
	if (len > HOST_MAX)
		return "host is longer than 253 bytes";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)host[i];

		if (c >= 0x80)
			return "host must be ASCII (an IDN in its punycode "
			       "form, xn--...)";
		if (c == '.') {
			if (label_empty)
				return "host has an empty label";
			label_empty = true;
			continue;
		}
		if (!(c == '-' || (c >= '0' && c <= '9') ||
		      (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return "host may hold only letters, digits, '-' and "
			       "'.'";
		label_empty = false;
	}
	return label_empty ? "host has an empty label" : NULL;
}

static void
copy_lower(char *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
}

const char *
origin_normalize(const char *text, size_t len, char out[ORIGIN_MAX + 1])
{
	const char *end = text + len, *sep, *host, *host_end, *auth_end;
	const char *why;
	long defport, port = 0;
	size_t scheme_len, host_len, n;

	sep = memmem(text, len, SEPARATOR, strlen(SEPARATOR));
	if (sep == NULL)
		return "must be scheme://host[:port]";
	scheme_len = (size_t)(sep - text);
	defport = default_port(text, scheme_len);
	if (defport == 0)
		return "scheme must be http or https";
	host = sep + strlen(SEPARATOR);
	for (auth_end = host; auth_end < end; auth_end++) {
		if (*auth_end == '/' || *auth_end == '?' || *auth_end == '#')
			break;
	}
	if (auth_end < end && (*auth_end != '/' || auth_end + 1 != end))
		return "must have no path, query or fragment (a lone "
		       "trailing '/' is allowed)";
	if (memchr(host, '@', (size_t)(auth_end - host)) != NULL)
		return "must have no user info";
	if (host < auth_end && *host == '[')
		return "IPv6 addresses cannot be named in a CSP source";
	host_end = memchr(host, ':', (size_t)(auth_end - host));
	if (host_end == NULL)
		host_end = auth_end;
	host_len = (size_t)(host_end - host);
	why = check_host(host, host_len);
	if (why != NULL)
		return why;
	if (host_end < auth_end) {
		port =
		    parse_port(host_end + 1, (size_t)(auth_end - host_end - 1));
		if (port < 0)
			return "port must be a number from 1 to 65535";
	}
	copy_lower(out, text, scheme_len);
	memcpy(out + scheme_len, SEPARATOR, strlen(SEPARATOR));
	n = scheme_len + strlen(SEPARATOR);
	copy_lower(out + n, host, host_len);
	n += host_len;
	if (port != 0 && port != defport)
		n +=
		    (size_t)snprintf(out + n, ORIGIN_MAX + 1 - n, ":%ld", port);
	out[n] = '\0';
	return NULL;
}

const char *
origin_of_url(const char *url, char out[ORIGIN_MAX + 1])
{
	const char *sep = strstr(url, SEPARATOR);
	const char *path;

	if (sep == NULL)
		return "must be scheme://host[:port][/path]";
	path = strchr(sep + strlen(SEPARATOR), '/');
	return origin_normalize(
	    url, path != NULL ? (size_t)(path - url) : strlen(url), out);
}

/* Takes a canonical origin apart; false when it is not one. */
static bool
split(const char *origin, struct origin_parts *out)
{
	const char *sep = strstr(origin, SEPARATOR), *colon;

	if (sep == NULL)
		return false;
	out->scheme = origin;
	out->scheme_len = (size_t)(sep - origin);
	out->host = sep + strlen(SEPARATOR);
	colon = strchr(out->host, ':');
	out->explicit_port = colon != NULL;
	if (colon == NULL) {
		out->host_len = strlen(out->host);
		out->port = default_port(out->scheme, out->scheme_len);
		return out->port != 0;
	}
	out->host_len = (size_t)(colon - out->host);
	out->port = parse_port(colon + 1, strlen(colon + 1));
	return out->port > 0;
}

static bool
is_scheme(const char *s, size_t len)
{
	if (len == 0 ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '-' ||
		      c == '.'))
			return false;
	}
	return true;
}

/* CSP3 "scheme-part match": a source's scheme also admits its secure
 * upgrade. */
static bool
scheme_part_matches(const char *a, size_t alen, const struct origin_parts *o)
{
	const char *b = o->scheme;
	size_t blen = o->scheme_len;

	if (alen == blen && strncasecmp(a, b, alen) == 0)
		return true;
	if (same_text(a, alen, "http") || same_text(a, alen, "wss"))
		return same_text(b, blen, "https");
	if (same_text(a, alen, "ws"))
		return same_text(b, blen, "http") ||
		       same_text(b, blen, "https") || same_text(b, blen, "wss");
	return false;
}

static bool
host_part_matches(const char *a, size_t alen, const struct origin_parts *o)
{
	if (alen == 1 && a[0] == '*')
		return true;
	if (alen >= 2 && a[0] == '*' && a[1] == '.') {
		/* "*.example.com": any subdomain, not example.com itself. */
		size_t suffix = alen - 1;

		return o->host_len > suffix &&
		       strncasecmp(o->host + o->host_len - suffix, a + 1,
		                   suffix) == 0;
	}
	return alen == o->host_len && strncasecmp(a, o->host, alen) == 0;
}

static bool
port_part_matches(const char *a, size_t alen, const struct origin_parts *o)
{
	if (alen == 1 && a[0] == '*')
		return true;
	return parse_port(a, alen) == o->port;
}

/* 'self': the same origin, or the same host and port reached over https
 * where self is http. */
static bool
self_matches(const struct origin_parts *s, const struct origin_parts *o)
{
	bool same_port = s->explicit_port == o->explicit_port &&
	                 (!s->explicit_port || s->port == o->port);

	if (s->host_len != o->host_len ||
	    memcmp(s->host, o->host, o->host_len) != 0 || !same_port)
		return false;
	if (same_text(o->scheme, o->scheme_len, "https"))
		return true;
	return same_text(s->scheme, s->scheme_len, "http") &&
	       same_text(o->scheme, o->scheme_len, "http");
}

/* [scheme "://"] host [":" port] [path] */
static bool
host_source_matches(const char *src, size_t len, const struct origin_parts *s,
                    const struct origin_parts *o)
{
	const char *p = src, *end = src + len, *sep, *host_end, *port_end;

	sep = memmem(src, len, SEPARATOR, strlen(SEPARATOR));
	if (sep != NULL) {
		if (!is_scheme(src, (size_t)(sep - src)) ||
		    !scheme_part_matches(src, (size_t)(sep - src), o))
			return false;
		p = sep + strlen(SEPARATOR);
	} else if (s != NULL ? !scheme_part_matches(s->scheme, s->scheme_len, o)
	                     : !scheme_part_matches("http", 4, o)) {
		return false;
	}
	for (host_end = p; host_end < end; host_end++) {
		if (*host_end == ':' || *host_end == '/')
			break;
	}
	if (!host_part_matches(p, (size_t)(host_end - p), o))
		return false;
	p = host_end;
	if (p < end && *p == ':') {
		port_end = memchr(p, '/', (size_t)(end - p));
		if (port_end == NULL)
			port_end = end;
		if (!port_part_matches(p + 1, (size_t)(port_end - p - 1), o))
			return false;
		p = port_end;
	} else if (o->explicit_port) {
		return false;
	}
	/* An origin's URL has the path "/", which only an empty or "/"
	 * path matches. */
	return p == end || (end - p == 1 && *p == '/');
}

static bool
source_matches(const char *src, size_t len, const struct origin_parts *s,
               const struct origin_parts *o)
{
	if (src[0] == '\'')
		return same_text(src, len, "'self'") && s != NULL &&
		       self_matches(s, o);
	if (src[len - 1] == ':')
		return is_scheme(src, len - 1) &&
		       scheme_part_matches(src, len - 1, o);
	return host_source_matches(src, len, s, o);
}

bool
origin_allowed(const char *sources, const char *self, const char *origin)
{
	static const char space[] = " \t\n\f\r";
	struct origin_parts o, s;
	bool have_self = self[0] != '\0' && split(self, &s);

	if (!split(origin, &o))
		return false;
	for (const char *p = sources + strspn(sources, space); *p != '\0';) {
		size_t len = strcspn(p, space);

		if (source_matches(p, len, have_self ? &s : NULL, &o))
			return true;
		p += len;
		p += strspn(p, space);
	}
	return false;
}
