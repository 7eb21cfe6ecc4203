/* The evhttp server: listens, turns each request into an http_call, routes
 * it (404, 405 with Allow), and hands routed calls to the dispatch
 * function.  It counts calls in flight so that a stop can wait for them. */
#ifndef IFRAME_AUTH_HTTP_SERVER_H
#define IFRAME_AUTH_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "router.h"

struct event_base;
struct http_call;
struct metrics;
struct server;

struct server_options {
	const struct route *routes;
	size_t route_count;
	int idle_timeout_seconds;
	int request_timeout_seconds;
	size_t max_connections;
	/* Runs for every routed call (call->route set); must answer it. */
	void (*dispatch)(struct http_call *call);
	void *ctx; /* becomes call->ctx */
	struct metrics *metrics;
};

struct server *server_create(struct event_base *base,
                             const struct server_options *opt);
void server_destroy(struct server *srv);

/* Binds and listens; false with a logged reason on failure. */
bool server_listen(struct server *srv, const char *host, int port)
    __attribute__((warn_unused_result));

/* Stops accepting connections; drained(arg) runs once no call is in
 * flight (at once if none is). */
void server_stop(struct server *srv, void (*drained)(void *arg), void *arg);
bool server_is_stopping(const struct server *srv);
struct metrics *server_metrics(const struct server *srv);
size_t server_inflight(const struct server *srv);
/* Client connections open now. */
size_t server_connections(const struct server *srv);

/* For reply.c only, just before the reply is handed to evhttp: frees the
 * call and counts the request as in flight until the reply is written. */
void server_release_call(struct http_call *call);

#endif
