#include "server.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "../clock.h"
#include "../log.h"
#include "call.h"
#include "conns.h"
#include "listen_socket.h"
#include "reply.h"
#include "request_check.h"

/* The limits of §7.  evhttp reads headers up to EVHTTP_HEADERS_MAX and
 * bodies up to EVHTTP_BODY_MAX, so that the answers for those over the
 * real limits (request_check.h, BODY_MAX) are ours, in JSON with our
 * headers; only beyond these does evhttp answer by itself. */
#define EVHTTP_HEADERS_MAX ((ev_ssize_t)64 << 10)
#define BODY_MAX           8192
#define EVHTTP_BODY_MAX    ((ev_ssize_t)64 << 10)

struct server {
	struct event_base *base;
	struct evhttp *http;
	struct evhttp_bound_socket *listener;
	struct server_options opt;
	struct conns conns;
	size_t inflight;
	bool stopping;
	void (*drained)(void *arg);
	void *drained_arg;
};

static enum http_method
method_from_evhttp(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET:
		return HTTP_GET;
	case EVHTTP_REQ_HEAD:
		return HTTP_HEAD;
	case EVHTTP_REQ_POST:
		return HTTP_POST;
	case EVHTTP_REQ_PUT:
		return HTTP_PUT;
	case EVHTTP_REQ_DELETE:
		return HTTP_DELETE;
	case EVHTTP_REQ_OPTIONS:
		return HTTP_OPTIONS;
	case EVHTTP_REQ_TRACE:
		return HTTP_TRACE;
	case EVHTTP_REQ_CONNECT:
		return HTTP_CONNECT;
	case EVHTTP_REQ_PATCH:
		return HTTP_PATCH;
	}
	return HTTP_GET;
}

static void
route_call(struct server *srv, struct http_call *call)
{
	const struct route *route;
	unsigned allowed;
	char allow[96];

	switch (router_match(srv->opt.routes, srv->opt.route_count,
	                     srv->opt.ctx, call->method, call->path, &route,
	                     &allowed)) {
	case ROUTER_NOT_FOUND:
		reply_detail(call, 404, "not found");
		return;
	case ROUTER_METHOD_NOT_ALLOWED:
		router_format_allow(allowed, allow, sizeof(allow));
		reply_add_header(call, "Allow", allow);
		reply_detail(call, 405, "method not allowed");
		return;
	case ROUTER_FOUND:
		call->route = route;
		srv->opt.dispatch(call);
		return;
	}
}

/* Refuses the request and closes its connection: what follows it on the
 * connection cannot be trusted to start a request. */
static void
refuse(struct http_call *call, int status, const char *why)
{
	/* evhttp answers in the request's version: say 1.1 rather than echo
	 * one we refuse. */
	call->req->major = 1;
	call->req->minor = 1;
	/* After a reply to CONNECT evhttp keeps the connection whatever the
	 * headers say (a tunnel would follow): answer as for any method. */
	if (call->req->type == EVHTTP_REQ_CONNECT)
		call->req->type = EVHTTP_REQ_GET;
	call->close_connection = true;
	reply_detail(call, status, why);
}

/* evhttp's entry point for every request. */
static void
on_request(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	const char *why =
	    conns_request_done(&srv->conns, evhttp_request_get_connection(req));
	struct http_call *call = calloc(1, sizeof(*call));

	if (call == NULL) {
		log_error("out of memory for a request");
		reply_no_memory(req);
		return;
	}
	call->req = req;
	call->server = srv;
	call->ctx = srv->opt.ctx;
	call->method = method_from_evhttp(evhttp_request_get_command(req));
	call->path = path != NULL && path[0] != '\0' ? path : "/";
	call->query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	call->start_us = clock_monotonic_us();
	srv->inflight++;
	if (why == NULL)
		why = request_check(evhttp_request_get_input_headers(req),
		                    call->method, req->major, req->minor);
	if (why != NULL) {
		refuse(call, 400, why);
		return;
	}
	if (strlen(evhttp_request_get_uri(req)) > REQUEST_TARGET_MAX) {
		refuse(call, 414, "request-target over 8192 bytes");
		return;
	}
	if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) >
	    BODY_MAX) {
		reply_detail(call, 413, "request body over 8192 bytes");
		return;
	}
	route_call(srv, call);
}

static void check_drained(struct server *srv);

/* A reply handed to evhttp will never be written: its connection closed
 * first (the client reset it mid-response). */
static void
on_reply_lost(void *arg)
{
	struct server *srv = arg;

	srv->inflight--;
	check_drained(srv);
}

struct server *
server_create(struct event_base *base, const struct server_options *opt)
{
	struct server *srv = calloc(1, sizeof(*srv));

	if (srv == NULL)
		return NULL;
	srv->base = base;
	srv->opt = *opt;
	srv->http = evhttp_new(base);
	if (srv->http == NULL ||
	    !conns_init(&srv->conns, base, opt->max_connections,
	                opt->request_timeout_seconds, on_reply_lost, srv)) {
		if (srv->http != NULL)
			evhttp_free(srv->http);
		conns_finish(&srv->conns);
		free(srv);
		return NULL;
	}
	/* Every method reaches the router, so that a known path answers 405
	 * with Allow instead of evhttp's bare 501. */
	evhttp_set_allowed_methods(
	    srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	                   EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	                   EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
	                   EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(srv->http, EVHTTP_HEADERS_MAX);
	evhttp_set_max_body_size(srv->http, EVHTTP_BODY_MAX);
	evhttp_set_timeout(srv->http, opt->idle_timeout_seconds);
	evhttp_set_gencb(srv->http, on_request, srv);
	evhttp_set_bevcb(srv->http, conns_new_bufferevent, &srv->conns);
	return srv;
}

bool
server_listen(struct server *srv, const char *host, int port)
{
	int fd = listen_socket_open(host, port);
	struct evconnlistener *listener;

	if (fd < 0)
		return false;
	/* Backlog 0: listen_socket_open() has listened already. */
	listener = evconnlistener_new(
	    srv->base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (listener == NULL) {
		evutil_closesocket(fd);
		goto out_of_memory;
	}
	srv->listener = evhttp_bind_listener(srv->http, listener);
	if (srv->listener == NULL) {
		evconnlistener_free(listener);
		goto out_of_memory;
	}
	if (!conns_attach_listener(&srv->conns, listener))
		goto out_of_memory;
	log_info("listening host=%s port=%d", host, port);
	return true;
out_of_memory:
	log_error("cannot listen host=%s port=%d error=\"out of memory\"", host,
	          port);
	return false;
}

static void
check_drained(struct server *srv)
{
	if (srv->stopping && srv->inflight == 0 && srv->drained != NULL) {
		void (*drained)(void *) = srv->drained;

		srv->drained = NULL;
		drained(srv->drained_arg);
	}
}

void
server_stop(struct server *srv, void (*drained)(void *arg), void *arg)
{
	if (srv->listener != NULL) {
		conns_detach_listener(&srv->conns);
		evhttp_del_accept_socket(srv->http, srv->listener);
		srv->listener = NULL;
	}
	srv->stopping = true;
	srv->drained = drained;
	srv->drained_arg = arg;
	check_drained(srv);
}

bool
server_is_stopping(const struct server *srv)
{
	return srv->stopping;
}

struct metrics *
server_metrics(const struct server *srv)
{
	return srv->opt.metrics;
}

size_t
server_inflight(const struct server *srv)
{
	return srv->inflight;
}

size_t
server_connections(const struct server *srv)
{
	return srv->conns.count;
}

/* The reply has left: only now is the request no longer in flight. */
static void
on_reply_written(struct evhttp_request *req, void *arg)
{
	struct server *srv = arg;

	conns_reply_written(&srv->conns, evhttp_request_get_connection(req));
	srv->inflight--;
	check_drained(srv);
}

void
server_release_call(struct http_call *call)
{
	struct server *srv = call->server;
	struct evhttp_request *req = call->req;

	free(call);
	/* Without a connection (the client left) evhttp frees the request at
	 * once and never reports completion. */
	if (evhttp_request_get_connection(req) == NULL) {
		srv->inflight--;
		check_drained(srv);
		return;
	}
	evhttp_request_set_on_complete_cb(req, on_reply_written, srv);
	conns_reply_sending(&srv->conns, evhttp_request_get_connection(req));
}

void
server_destroy(struct server *srv)
{
	if (srv == NULL)
		return;
	/* Closing the connections settles replies cut short: nobody waits
	 * for the drain any more. */
	srv->drained = NULL;
	conns_detach_listener(&srv->conns);
	evhttp_free(srv->http);
	conns_finish(&srv->conns);
	free(srv);
}
