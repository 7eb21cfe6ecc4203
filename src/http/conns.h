/*
 * Client connections from accept to close, which evhttp does not expose:
 * their count, the MAX_CONNECTIONS cap, the whole-request deadline and
 * pausing accepts when descriptors run out.
 *
 * How it sees them: evhttp asks for each accepted connection's
 * bufferevent (conns_new_bufferevent); right after, from the loop, the
 * record finds its evhttp connection (the bufferevent's callback argument)
 * and asks for its close callback.  Each record also checks the raw
 * request heads (head_check.h).  A callback on the input buffer marks
 * the first byte of each request; conns_request_done() its end.  A request
 * still incomplete HTTP_REQUEST_TIMEOUT_SECONDS after its first byte has
 * its socket shut down, and evhttp closes the connection, however slowly
 * the bytes trickle.
 */
#ifndef IFRAME_AUTH_HTTP_CONNS_H
#define IFRAME_AUTH_HTTP_CONNS_H

#include <stdbool.h>
#include <stddef.h>

#include "../ptr_map.h"

struct bufferevent;
struct event;
struct event_base;
struct evconnlistener;
struct evhttp_connection;

struct conns {
	struct event_base *base;
	struct evconnlistener *listener; /* NULL until attached */
	struct ptr_map by_evcon;         /* evhttp connection -> record */
	size_t count;                    /* accepted and not yet closed */
	size_t max;
	int request_timeout_ms;
	/* The same, as a libevent common timeout: every connection's deadline
	 * has this duration, so adding and removing one is O(1). */
	const struct timeval *request_timeout;
	bool full;           /* accepting paused at max */
	bool exhausted;      /* accepting paused: out of descriptors */
	int retry_ms;        /* next retry after running out of descriptors */
	size_t exhausted_at; /* connections open when they ran out */
	struct event *retry_timer;
};

bool conns_init(struct conns *c, struct event_base *base, size_t max,
                int request_timeout_seconds)
    __attribute__((warn_unused_result));
/* Closes nothing (evhttp owns the connections); frees the records left. */
void conns_finish(struct conns *c);

/* Takes control of accepting: pauses at max, and on EMFILE/ENFILE. */
void conns_attach_listener(struct conns *c, struct evconnlistener *listener);

/* For evhttp_set_bevcb(): the bufferevent of a new connection. */
struct bufferevent *conns_new_bufferevent(struct event_base *base, void *arg);

/* A whole request has arrived on evcon: its deadline no longer runs.
 * Returns what is wrong with its raw head (head_check.h), or NULL. */
const char *conns_request_done(struct conns *c,
                               struct evhttp_connection *evcon);

#endif
