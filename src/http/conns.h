/*
 * Client connections from accept to close, which evhttp does not expose:
 * their count, the MAX_CONNECTIONS cap, the whole-request deadline,
 * pausing accepts when descriptors run out, and replies cut short by a
 * close.
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
 *
 * A connection is idle between requests: from accept, or from the moment
 * its last reply is written, until the first byte of its next request.
 * At the cap, while a client waits in the listen backlog, the connection
 * idle the longest is closed to make room (as nginx does); only when none
 * is idle does the client wait until one closes or goes idle.
 */
#ifndef IFRAME_AUTH_HTTP_CONNS_H
#define IFRAME_AUTH_HTTP_CONNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>

#include "../ptr_map.h"

struct bufferevent;
struct conn;
struct event;
struct event_base;
struct evconnlistener;
struct evhttp_connection;

struct conns {
	struct event_base *base;
	struct evconnlistener *listener; /* NULL until attached */
	/* The listening socket readable while full: a client waits. */
	struct event *client_waiting;
	struct ptr_map by_evcon;           /* evhttp connection -> record */
	TAILQ_HEAD(conn_queue, conn) idle; /* idle the longest first */
	size_t count;                      /* accepted and not yet closed */
	size_t max;
	int request_timeout_ms;
	/* The same, as a libevent common timeout: every connection's deadline
	 * has this duration, so adding and removing one is O(1). */
	const struct timeval *request_timeout;
	bool full;           /* accepting paused at max */
	bool full_warned;    /* this episode at max has been logged */
	bool exhausted;      /* accepting paused: out of descriptors */
	int retry_ms;        /* next retry after running out of descriptors */
	size_t exhausted_at; /* connections open when they ran out */
	struct event *retry_timer;
	void (*reply_lost)(void *arg);
	void *reply_lost_arg;
};

/* reply_lost(arg) runs once for each reply whose connection closed
 * before it was all written (see conns_reply_sending). */
bool conns_init(struct conns *c, struct event_base *base, size_t max,
                int request_timeout_seconds, void (*reply_lost)(void *arg),
                void *reply_lost_arg) __attribute__((warn_unused_result));
/* Closes nothing (evhttp owns the connections); frees the records left. */
void conns_finish(struct conns *c);

/* Takes control of accepting: pauses at max, and on EMFILE/ENFILE. */
bool conns_attach_listener(struct conns *c, struct evconnlistener *listener)
    __attribute__((warn_unused_result));
/* Lets go of the listener, before it is freed. */
void conns_detach_listener(struct conns *c);

/* For evhttp_set_bevcb(): the bufferevent of a new connection. */
struct bufferevent *conns_new_bufferevent(struct event_base *base, void *arg);

/* A whole request has arrived on evcon: its deadline no longer runs, and
 * the connection is busy until its reply is written.  Returns what is
 * wrong with its raw head (head_check.h), or NULL. */
const char *conns_request_done(struct conns *c,
                               struct evhttp_connection *evcon);

/* The reply is handed to evhttp on evcon: from now on either
 * conns_reply_written() follows or, if the connection closes first,
 * reply_lost. */
void conns_reply_sending(struct conns *c, struct evhttp_connection *evcon);

/* The reply has been written: the connection is idle unless its next
 * request has started. */
void conns_reply_written(struct conns *c, struct evhttp_connection *evcon);

#endif
