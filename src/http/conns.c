#include "conns.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "../clock.h"
#include "../log.h"
#include "head_check.h"

#define RETRY_FIRST_MS 50
#define RETRY_MAX_MS   1000

/* The listener's callback argument belongs to evhttp, so its error
 * callback finds the (single) owner here. */
static struct conns *listener_owner;

/* Where the answer to a connection's latest complete request is. */
enum answer {
	ANSWER_NONE,    /* no request complete, or its reply written */
	ANSWER_PENDING, /* with the application */
	ANSWER_WRITING, /* handed to evhttp, not yet all written */
};

/* One client connection.  It holds a reference on bev: evhttp frees the
 * bufferevent it asked for when it gives up on the connection, which can
 * happen before on_found runs (an error right after creation), and bev
 * must stay readable for as long as this record lives. */
struct conn {
	struct conns *owner;
	struct bufferevent *bev;
	struct evhttp_connection *evcon; /* NULL until found */
	struct event *found;             /* one-shot: look for evcon */
	struct event *deadline;          /* the request being read */
	/* on_input, enabled between requests only */
	struct evbuffer_cb_entry *input;
	bool reading; /* a request's first byte has come, not all of it */
	enum answer answer;
	bool idle; /* in owner->idle */
	TAILQ_ENTRY(conn) idle_link;
	struct head_check head;
};

static void
update_accepting(struct conns *c)
{
	bool pause = c->full || c->exhausted;

	if (c->listener == NULL)
		return;
	if (pause)
		evconnlistener_disable(c->listener);
	else
		evconnlistener_enable(c->listener);
}

/* At the cap with a connection idle: hear the next client that waits in
 * the backlog, to make room for it. */
static void
watch_for_waiting(struct conns *c)
{
	if (c->full && c->client_waiting != NULL && !TAILQ_EMPTY(&c->idle))
		event_add(c->client_waiting, NULL);
}

/* Between requests (and found): the connection may be closed to make
 * room. */
static void
conn_set_idle(struct conn *conn)
{
	if (conn->idle || conn->evcon == NULL || conn->reading ||
	    conn->answer != ANSWER_NONE)
		return;
	conn->idle = true;
	TAILQ_INSERT_TAIL(&conn->owner->idle, conn, idle_link);
	watch_for_waiting(conn->owner);
}

/* At the cap with no connection idle, no room can be made until a
 * request is answered: that is worth a warning, once per episode.  Only
 * a request starting can bring that about: the connection that filled
 * the cap is idle once found, until its first byte. */
static void
warn_if_locked_out(struct conns *c)
{
	if (!c->full || c->full_warned || !TAILQ_EMPTY(&c->idle))
		return;
	c->full_warned = true;
	log_warning("connection limit reached, pausing accepts "
	            "max_connections=%zu",
	            c->max);
}

static void
idle_remove(struct conn *conn)
{
	if (!conn->idle)
		return;
	conn->idle = false;
	TAILQ_REMOVE(&conn->owner->idle, conn, idle_link);
}

/* A request has started on the connection: it may not be closed. */
static void
conn_set_busy(struct conn *conn)
{
	idle_remove(conn);
	warn_if_locked_out(conn->owner);
}

/* Forgets the connection: evhttp is closing it, gave it up before the
 * record found it, or it cannot be tracked.  Not a byte more is heard
 * from it. */
static void
conn_free(struct conn *conn)
{
	struct conns *c = conn->owner;
	bool reply_lost = conn->answer == ANSWER_WRITING;

	idle_remove(conn);
	if (conn->evcon != NULL)
		ptr_map_remove(&c->by_evcon, conn->evcon);
	/* evhttp may still drain the input buffer while it frees the
	 * connection: stop hearing it first. */
	evbuffer_remove_cb_entry(bufferevent_get_input(conn->bev), conn->input);
	head_check_detach(&conn->head);
	bufferevent_decref(conn->bev);
	event_free(conn->found);
	event_free(conn->deadline);
	free(conn);
	c->count--;
	if (c->full && c->count < c->max) {
		c->full = false;
		c->full_warned = false;
		if (c->client_waiting != NULL)
			event_del(c->client_waiting);
		update_accepting(c);
	}
	/* Running out ends when connections close, not when one accept gets
	 * lucky: so one warning per episode. */
	if (c->retry_ms != 0 && c->count < c->exhausted_at) {
		log_info("descriptors available again, accepting");
		c->retry_ms = 0;
		c->exhausted = false;
		evtimer_del(c->retry_timer);
		update_accepting(c);
	}
	/* The reply will never be written: settle it now, not at a
	 * completion that will not come. */
	if (reply_lost)
		c->reply_lost(c->reply_lost_arg);
}

/* evhttp is freeing the connection. */
static void
on_closed(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	conn_free(arg);
}

/* A client waits in the backlog while every place is taken: close the
 * connection idle the longest, so that accepting resumes. */
static void
on_client_waiting(evutil_socket_t fd, short what, void *arg)
{
	struct conns *c = arg;
	struct conn *oldest = TAILQ_FIRST(&c->idle);
	struct evhttp_connection *evcon;

	(void)fd;
	(void)what;
	if (!c->full || oldest == NULL)
		return;
	log_info("connection limit reached, closing the connection idle "
	         "the longest max_connections=%zu",
	         c->max);
	/* Straight from the loop, so no callback of this connection is
	 * running.  The record goes first, so that evhttp calls nothing of
	 * ours while it frees. */
	evcon = oldest->evcon;
	evhttp_connection_set_closecb(evcon, NULL, NULL);
	conn_free(oldest);
	evhttp_connection_free(evcon);
}

static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info,
                     void *arg);

/* The request did not arrive in time: shut the socket so that evhttp
 * reads end-of-file and closes the connection itself. */
static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *conn = arg;
	evutil_socket_t sock = bufferevent_getfd(conn->bev);

	(void)fd;
	(void)what;
	log_info("request not complete in time, closing connection "
	         "timeout_ms=%d",
	         conn->owner->request_timeout_ms);
	if (sock >= 0)
		shutdown(sock, SHUT_RDWR);
}

/* Starts the deadline of the request whose first byte has arrived, and
 * stops hearing the input until that request is complete: evhttp drains
 * the buffer line by line, and each change would call back. */
static void
request_started(struct conn *conn)
{
	evbuffer_cb_clear_flags(bufferevent_get_input(conn->bev), conn->input,
	                        EVBUFFER_CB_ENABLED);
	evtimer_add(conn->deadline, conn->owner->request_timeout);
	conn->reading = true;
	conn_set_busy(conn);
}

/* Input between requests: the first byte starts the next request. */
static void
on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	(void)buf;
	if (info->n_added > 0)
		request_started(arg);
}

/* Runs from the loop right after the accept, before any I/O on the
 * connection: evhttp has made its connection and set itself as the
 * bufferevent's callback argument by then, unless it has already given
 * up on it and freed the bufferevent (which clears that argument). */
static void
on_found(evutil_socket_t fd, short what, void *arg)
{
	struct conn *conn = arg;
	void *cbarg = NULL;

	(void)fd;
	(void)what;
	bufferevent_getcb(conn->bev, NULL, NULL, NULL, &cbarg);
	if (cbarg == NULL) {
		conn_free(conn);
		return;
	}
	if (!ptr_map_put(&conn->owner->by_evcon, cbarg, conn)) {
		/* Not trackable: let evhttp's idle timeout handle it. */
		log_warning("cannot track a connection");
		conn_free(conn);
		return;
	}
	conn->evcon = cbarg;
	evhttp_connection_set_closecb(conn->evcon, on_closed, conn);
	conn_set_idle(conn);
}

struct bufferevent *
conns_new_bufferevent(struct event_base *base, void *arg)
{
	struct conns *c = arg;
	struct conn *conn = calloc(1, sizeof(*conn));

	if (conn == NULL)
		return NULL;
	conn->owner = c;
	/* Without BEV_OPT_CLOSE_ON_FREE, as evhttp makes its own: evhttp
	 * then closes the socket itself, at once, when it frees the
	 * connection.  With it, the close would wait for the last reference
	 * (ours), and on evhttp's error path, which closes the socket too,
	 * it would close a descriptor that the next accept may have reused. */
	conn->bev = bufferevent_socket_new(base, -1, 0);
	conn->found = event_new(base, -1, 0, on_found, conn);
	conn->deadline = evtimer_new(base, on_deadline, conn);
	if (conn->bev != NULL)
		conn->input = evbuffer_add_cb(bufferevent_get_input(conn->bev),
		                              on_input, conn);
	if (conn->bev == NULL || conn->found == NULL ||
	    conn->deadline == NULL || conn->input == NULL ||
	    !head_check_attach(&conn->head, bufferevent_get_input(conn->bev))) {
		if (conn->bev != NULL)
			bufferevent_free(conn->bev);
		event_free(conn->found);
		event_free(conn->deadline);
		free(conn);
		return NULL; /* evhttp then makes its own, untracked */
	}
	/* One reference for evhttp, which frees it, one for the record. */
	bufferevent_incref(conn->bev);
	event_active(conn->found, 0, 0);
	if (++c->count >= c->max && !c->full) {
		c->full = true;
		update_accepting(c);
		watch_for_waiting(c);
	}
	return conn->bev;
}

const char *
conns_request_done(struct conns *c, struct evhttp_connection *evcon)
{
	struct conn *conn = ptr_map_get(&c->by_evcon, evcon);
	struct evbuffer *input;

	if (conn == NULL)
		return NULL;
	evtimer_del(conn->deadline);
	conn->reading = false;
	conn->answer = ANSWER_PENDING;
	input = bufferevent_get_input(conn->bev);
	/* A pipelined request already waiting has started too. */
	if (evbuffer_get_length(input) > 0)
		request_started(conn);
	else
		evbuffer_cb_set_flags(input, conn->input, EVBUFFER_CB_ENABLED);
	return head_check_next(&conn->head);
}

void
conns_reply_sending(struct conns *c, struct evhttp_connection *evcon)
{
	struct conn *conn = ptr_map_get(&c->by_evcon, evcon);

	if (conn != NULL)
		conn->answer = ANSWER_WRITING;
}

void
conns_reply_written(struct conns *c, struct evhttp_connection *evcon)
{
	struct conn *conn = ptr_map_get(&c->by_evcon, evcon);

	if (conn == NULL)
		return;
	conn->answer = ANSWER_NONE;
	conn_set_idle(conn);
}

static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct conns *c = arg;

	(void)fd;
	(void)what;
	c->exhausted = false;
	update_accepting(c);
}

/* accept() failed.  Out of descriptors, the listening socket stays
 * readable: keep accepting and the loop spins.  Pause instead, and retry
 * from a timer with backoff; log the first time only. */
static void
on_accept_error(struct evconnlistener *listener, void *arg)
{
	struct conns *c = listener_owner;
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval tv;

	(void)listener;
	(void)arg;
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
		log_debug("accept failed error=\"%s\"", strerror(err));
		return;
	}
	if (c->retry_ms == 0) {
		log_warning("out of descriptors, pausing accepts error=\"%s\" "
		            "connections=%zu",
		            strerror(err), c->count);
		c->retry_ms = RETRY_FIRST_MS;
		c->exhausted_at = c->count;
	} else if (c->retry_ms < RETRY_MAX_MS) {
		c->retry_ms *= 2;
	}
	c->exhausted = true;
	update_accepting(c);
	tv = clock_timeval_ms(c->retry_ms);
	evtimer_add(c->retry_timer, &tv);
}

bool
conns_init(struct conns *c, struct event_base *base, size_t max,
           int request_timeout_seconds, void (*reply_lost)(void *arg),
           void *reply_lost_arg)
{
	struct timeval tv = {request_timeout_seconds, 0};

	*c = (struct conns){0};
	c->base = base;
	TAILQ_INIT(&c->idle);
	c->max = max;
	c->reply_lost = reply_lost;
	c->reply_lost_arg = reply_lost_arg;
	c->request_timeout_ms = request_timeout_seconds * 1000;
	c->request_timeout = event_base_init_common_timeout(base, &tv);
	c->retry_timer = evtimer_new(base, on_retry, c);
	return c->request_timeout != NULL && c->retry_timer != NULL;
}

bool
conns_attach_listener(struct conns *c, struct evconnlistener *listener)
{
	c->client_waiting = event_new(c->base, evconnlistener_get_fd(listener),
	                              EV_READ, on_client_waiting, c);
	if (c->client_waiting == NULL)
		return false;
	c->listener = listener;
	listener_owner = c;
	evconnlistener_set_error_cb(listener, on_accept_error);
	return true;
}

void
conns_detach_listener(struct conns *c)
{
	if (c->client_waiting != NULL)
		event_free(c->client_waiting);
	c->client_waiting = NULL;
	c->listener = NULL;
	if (listener_owner == c)
		listener_owner = NULL;
}

void
conns_finish(struct conns *c)
{
	conns_detach_listener(c);
	if (c->retry_timer != NULL)
		event_free(c->retry_timer);
	ptr_map_finish(&c->by_evcon);
}
