/* Maps a method and a path to a route.  Pure: no libevent, so that the
 * table's behaviour (404, 405 and its Allow list) is unit-tested alone. */
#ifndef IFRAME_AUTH_HTTP_ROUTER_H
#define IFRAME_AUTH_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

struct http_call;

enum http_method {
	HTTP_GET = 1 << 0,
	HTTP_HEAD = 1 << 1,
	HTTP_POST = 1 << 2,
	HTTP_PUT = 1 << 3,
	HTTP_DELETE = 1 << 4,
	HTTP_OPTIONS = 1 << 5,
	HTTP_TRACE = 1 << 6,
	HTTP_CONNECT = 1 << 7,
	HTTP_PATCH = 1 << 8,
};

/* What a route needs before its handler may run. */
enum route_flags {
	ROUTE_NEEDS_REDIS = 1 << 0, /* 503 while the Redis link is down */
	ROUTE_NEEDS_API_KEY = 1 << 1,
};

typedef void (*route_handler_fn)(struct http_call *call);

struct route {
	unsigned methods; /* enum http_method bits */
	const char *path; /* exact path, or prefix when prefix is set */
	bool prefix;
	const char *name; /* label for logs and metrics */
	unsigned flags;   /* enum route_flags bits */
	route_handler_fn handler;
	/* When set, decides instead of path whether the route covers a path
	 * (as an exact match), e.g. for a set of files known at start-up. */
	bool (*covers)(const void *ctx, const char *path);
};

enum router_result {
	ROUTER_FOUND,
	ROUTER_NOT_FOUND,
	ROUTER_METHOD_NOT_ALLOWED,
};

/*
 * Finds the route for method and path; ctx goes to the covers callbacks.  On
 * ROUTER_FOUND *out is the route; on ROUTER_METHOD_NOT_ALLOWED *allowed holds
 * the methods that the path does accept.  Several routes may share a path with
 * different methods; an exact path wins over a prefix.
 */
enum router_result router_match(const struct route *routes, size_t count,
                                const void *ctx, enum http_method method,
                                const char *path, const struct route **out,
                                unsigned *allowed);

/* Writes the methods as an Allow header value, e.g. "GET, HEAD". */
void router_format_allow(unsigned methods, char *out, size_t outlen);

/* "GET" for HTTP_GET, and so on. */
const char *router_method_name(enum http_method method);

#endif
