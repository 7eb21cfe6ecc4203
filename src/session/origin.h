/* Web origins, scheme://host[:port], and whether a CSP frame-ancestors
 * source list (FRAME_ANCESTORS) allows one to frame the iframe page.
 * Pure: no I/O, no allocation.
 *
 * The canonical form, which every origin is stored and compared in:
 *   - scheme http or https, lower case;
 *   - host lower case, ASCII letters, digits, '-' and '.', non-empty
 *     labels, at most 253 bytes; an IDN is given in its punycode form
 *     (xn--...) and kept as given, never converted: browsers name origins
 *     that way.  IPv6 literals are refused: a CSP source cannot name them;
 *   - the port only when it is not the scheme's default (80, 443);
 *   - no path: a lone trailing '/' is accepted and dropped (it is what
 *     URL serializers print), anything more is refused, as are user
 *     info, query and fragment.
 */
#ifndef IFRAME_AUTH_SESSION_ORIGIN_H
#define IFRAME_AUTH_SESSION_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>

/* "https://" + 253 bytes of host + ":65535" */
#define ORIGIN_MAX 272

/* Canonical form of the origin text (len bytes) into out.  NULL when
 * done, otherwise why it is not an origin (no trailing period). */
const char *origin_normalize(const char *text, size_t len,
                             char out[ORIGIN_MAX + 1]);

/* The origin of an absolute http(s) URL such as PUBLIC_BASE_URL (its
 * path, if any, dropped).  NULL when done, otherwise why not. */
const char *origin_of_url(const char *url, char out[ORIGIN_MAX + 1]);

/*
 * Whether the CSP source list sources lets a page whose own origin is
 * self frame itself inside origin, by CSP Level 3's matching rules:
 * 'self' (self's origin, or the same host upgraded from http to https),
 * scheme-sources (http: also matches https), and host-sources with an
 * optional scheme, a '*' or '*.'-prefixed host, an optional port (or
 * '*').  A host-source without a scheme takes self's, where http also
 * matches https; a path other than '/' never matches an origin; 'none',
 * other keywords, nonces and hashes match nothing.
 *
 * origin and self are canonical; self is "" when the service does not
 * know its own origin (no PUBLIC_BASE_URL): then 'self' matches nothing
 * and a scheme-less source matches http and https.
 */
bool origin_allowed(const char *sources, const char *self, const char *origin);

#endif
