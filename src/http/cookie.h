/* Cookies: finding one in a request's Cookie header, and the Set-Cookie
 * line of the embed session (§11).  Pure: no libevent. */
#ifndef IFRAME_AUTH_HTTP_COOKIE_H
#define IFRAME_AUTH_HTTP_COOKIE_H

#include <stdbool.h>
#include <stddef.h>

/* The attributes every embed cookie carries, set or expired alike.
 * Partitioned (CHIPS) keeps it per top-level site, so that it works in a
 * cross-site iframe and never leaks to another embedding site. */
#define COOKIE_ATTRIBUTES "Path=/; Secure; HttpOnly; SameSite=None; Partitioned"

/* Finds the first cookie called name in a Cookie header value
 * ("a=1; b=2", spaces around ';' and '=' tolerated); its value (quotes
 * of a quoted value stripped) in *value and *len.  False when absent. */
bool cookie_find(const char *header, const char *name, const char **value,
                 size_t *len);

/* Writes "<name>=<value>; <attributes>; Max-Age=<max_age>" into out.
 * An empty value with max_age 0 expires the cookie.  False when it does
 * not fit. */
bool cookie_format(char *out, size_t outlen, const char *name,
                   const char *value, int max_age);

/* NULL when name can be a cookie name (an RFC 6265 token), otherwise
 * what is wrong with it. */
const char *cookie_check_name(const char *name);

#endif
