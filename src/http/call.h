/* One HTTP request from the moment evhttp hands it over until its reply.
 *
 * Invariant: every call is answered exactly once, through reply.c, and
 * the reply frees the call.  Whoever holds a call (a handler, a Redis
 * callback, a deadline) either answers it or hands it on; nothing touches
 * it after answering.
 */
#ifndef IFRAME_AUTH_HTTP_CALL_H
#define IFRAME_AUTH_HTTP_CALL_H

#include <stdbool.h>
#include <stdint.h>

#include "router.h"

struct evhttp_request;
struct server;

struct http_call {
	struct evhttp_request *req;
	struct server *server;
	void *ctx;                 /* the context given to server_create() */
	const struct route *route; /* NULL when no route matched */
	enum http_method method;
	const char *path;  /* raw, still percent-encoded; never NULL */
	const char *query; /* raw query string, or NULL */
	uint64_t start_us; /* clock_monotonic_us() on arrival */
	bool cacheable;    /* omit Cache-Control: no-store */
	bool close_connection;
};

#endif
