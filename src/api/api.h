/* The HTTP API: the route table and what every route shares. */
#ifndef IFRAME_AUTH_API_API_H
#define IFRAME_AUTH_API_API_H

#include <stddef.h>

#include "../http/router.h"

struct config;
struct http_call;
struct redis_link;

/* Everything a handler may use; call->ctx points to one. */
struct api {
	const struct config *cfg;
	struct redis_link *redis;
};

extern const struct route api_routes[];
extern const size_t api_route_count;

/* Runs the route's guards (the §6 Redis check, ...) and then its
 * handler.  The server calls this for every routed request. */
void api_dispatch(struct http_call *call);

/* Handlers, one file per resource. */
void health_live(struct http_call *call);
void health_redis(struct http_call *call);

#endif
