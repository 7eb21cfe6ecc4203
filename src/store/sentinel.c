#include "sentinel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "../clock.h"
#include "../host_port.h"
#include "../log.h"
#include "resolve.h"

/* The subscription, once lost, is opened again after this long. */
#define WATCH_RETRY_MS 1000

/*
 * One connection to one sentinel: the question's or the subscription's.
 * hiredis calls back with the context, whose data points here; a context
 * that is no longer conn->ac (closed by us) is ignored.
 */
struct sentinel_conn {
	struct sentinel *s;
	redisAsyncContext *ac;
	struct resolve *resolve;
	struct event *timer; /* the question's deadline; the watch's too,
	                        and its retry */
	size_t index;        /* which sentinel */
};

struct sentinel {
	struct event_base *base;
	struct evdns_base *dns;
	struct host_port list[HOST_PORT_LIST_MAX];
	size_t count;
	char *master;
	char *password;
	int timeout_ms;
	sentinel_switch_fn on_switch;
	void *switch_arg;

	/* The question on its way: fn is NULL when there is none. */
	sentinel_answer_fn fn;
	void *fn_arg;
	bool heard_no_such_master; /* some sentinel answered nil */
	char last_failure[200];    /* the last sentinel's, for the log */
	struct sentinel_conn ask;
	struct event *step; /* asks the next sentinel, from the loop */

	struct sentinel_conn watch;
};

/* Closes conn's connection and lookup, if any.  Safe inside hiredis's
 * reply callbacks (hiredis then frees the context after the callback),
 * not inside its connect and disconnect callbacks, which never call it. */
static void
conn_close(struct sentinel_conn *conn)
{
	redisAsyncContext *ac = conn->ac;

	conn->ac = NULL;
	resolve_cancel(conn->resolve);
	conn->resolve = NULL;
	event_del(conn->timer);
	if (ac != NULL)
		redisAsyncFree(ac);
}

static void
conn_name(const struct sentinel_conn *conn, char *out, size_t len)
{
	const struct host_port *hp = &conn->s->list[conn->index];

	snprintf(out, len, strchr(hp->host, ':') ? "[%s]:%d" : "%s:%d",
	         hp->host, hp->port);
}

/* Reads "host" and "port" into a checked address: a sentinel's answer
 * ends up in logs and metric labels. */
static bool
take_address(const char *host, const char *port, struct host_port *out)
{
	char text[HOST_PORT_HOST_MAX + 16];
	size_t n;

	if (strlen(host) >= HOST_PORT_HOST_MAX)
		return false;
	snprintf(text, sizeof(text), strchr(host, ':') ? "[%s]:%s" : "%s:%s",
	         host, port);
	return host_port_list_parse(text, out, &n) == NULL && n == 1;
}

/*
 * Opens conn to its sentinel once ip is known.  AUTH (when set) and the
 * first command are queued at once: hiredis writes them when the
 * connection is made.  on_reply gets conn's context for each.
 */
static bool
conn_open(struct sentinel_conn *conn, const char *ip,
          redisConnectCallback *on_connect,
          redisDisconnectCallback *on_disconnect, redisCallbackFn *on_reply,
          int argc, const char **argv)
{
	const struct host_port *hp = &conn->s->list[conn->index];
	const char *auth[] = {"AUTH", conn->s->password};
	redisAsyncContext *ac = redisAsyncConnect(ip, hp->port);

	if (ac == NULL)
		return false;
	if (ac->err) {
		redisAsyncFree(ac);
		return false;
	}
	ac->data = conn;
	conn->ac = ac;
	if (redisLibeventAttach(ac, conn->s->base) != REDIS_OK ||
	    redisAsyncSetConnectCallback(ac, on_connect) != REDIS_OK ||
	    redisAsyncSetDisconnectCallback(ac, on_disconnect) != REDIS_OK ||
	    (conn->s->password != NULL &&
	     redisAsyncCommandArgv(ac, on_reply, NULL, 2, auth, NULL) !=
	         REDIS_OK) ||
	    redisAsyncCommandArgv(ac, on_reply, conn, argc, argv, NULL) !=
	        REDIS_OK) {
		conn_close(conn);
		return false;
	}
	return true;
}

/* The error code of an error reply, without the rest: an AUTH error may
 * echo what was sent. */
static int
error_code_len(const redisReply *reply)
{
	return (int)strcspn(reply->str, " ");
}

/*
 * The question.
 */

/* Ends the question with result; fn may start the next one. */
static void
ask_finish(struct sentinel *s, enum sentinel_result result,
           const struct host_port *master)
{
	sentinel_answer_fn fn = s->fn;

	conn_close(&s->ask);
	s->fn = NULL;
	fn(s->fn_arg, result, master != NULL ? master->host : NULL,
	   master != NULL ? master->port : 0);
}

/* This sentinel gave no usable answer: on to the next, from the loop. */
static void
ask_failed(struct sentinel *s, const char *why)
{
	char name[HOST_PORT_HOST_MAX + 16];

	conn_name(&s->ask, name, sizeof(name));
	log_debug("sentinel gave no answer sentinel=%s reason=\"%s\"", name,
	          why);
	snprintf(s->last_failure, sizeof(s->last_failure), "%.100s: %.90s",
	         name, why);
	conn_close(&s->ask);
	s->ask.index++;
	event_active(s->step, EV_TIMEOUT, 0);
}

/* Moves sentinel i to the front, keeping the others' order. */
static void
move_to_front(struct sentinel *s, size_t i)
{
	struct host_port hp = s->list[i];

	memmove(&s->list[1], &s->list[0], i * sizeof(s->list[0]));
	s->list[0] = hp;
}

static void
on_ask_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	struct sentinel_conn *conn = ac->data;
	struct sentinel *s = conn->s;
	const redisReply *reply = r;
	struct host_port master;
	char why[64];

	if (ac != conn->ac || reply == NULL)
		return; /* closed by us, or the disconnect callback follows */
	if (reply->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof(why), "%s refused: %.*s",
		         privdata == NULL ? "AUTH" : "question",
		         error_code_len(reply), reply->str);
		ask_failed(s, why);
		return;
	}
	if (privdata == NULL)
		return; /* AUTH accepted */
	if (reply->type == REDIS_REPLY_NIL) {
		s->heard_no_such_master = true;
		ask_failed(s, "no such master");
		return;
	}
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[1]->type != REDIS_REPLY_STRING ||
	    !take_address(reply->element[0]->str, reply->element[1]->str,
	                  &master)) {
		ask_failed(s, "answer is not an address");
		return;
	}
	if (conn->index > 0)
		move_to_front(s, conn->index);
	ask_finish(s, SENTINEL_FOUND, &master);
}

static void
on_ask_connect(const redisAsyncContext *ac, int status)
{
	struct sentinel_conn *conn = ac->data;

	if (ac != conn->ac || status == REDIS_OK)
		return;
	conn->ac = NULL; /* hiredis frees it after this callback */
	ask_failed(conn->s, ac->errstr);
}

static void
on_ask_disconnect(const redisAsyncContext *ac, int status)
{
	struct sentinel_conn *conn = ac->data;

	if (ac != conn->ac)
		return;
	conn->ac = NULL;
	ask_failed(conn->s,
	           status == REDIS_OK ? "connection closed" : ac->errstr);
}

static void
on_ask_resolved(void *arg, const char *ip, const char *why)
{
	struct sentinel *s = arg;
	const char *argv[] = {"SENTINEL", "get-master-addr-by-name", s->master};

	s->ask.resolve = NULL;
	if (ip == NULL) {
		ask_failed(s, why);
		return;
	}
	if (!conn_open(&s->ask, ip, on_ask_connect, on_ask_disconnect,
	               on_ask_reply, 3, argv))
		ask_failed(s, "cannot open a connection");
}

/* Asks sentinel ask.index, or ends the question when all were asked. */
static void
ask_next(struct sentinel *s)
{
	struct timeval tv = clock_timeval_ms(s->timeout_ms);

	if (s->fn == NULL)
		return;
	if (s->ask.index == s->count) {
		ask_finish(s,
		           s->heard_no_such_master ? SENTINEL_NO_SUCH_MASTER
		                                   : SENTINEL_NO_ANSWER,
		           NULL);
		return;
	}
	evtimer_add(s->ask.timer, &tv);
	s->ask.resolve = resolve_start(s->dns, s->list[s->ask.index].host,
	                               on_ask_resolved, s);
}

static void
on_step(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ask_next(arg);
}

static void
on_ask_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct sentinel *s = arg;
	char why[64];

	(void)fd;
	(void)what;
	snprintf(why, sizeof(why), "no answer within %d ms", s->timeout_ms);
	ask_failed(s, why);
}

void
sentinel_ask(struct sentinel *s, sentinel_answer_fn fn, void *arg)
{
	sentinel_cancel(s);
	s->fn = fn;
	s->fn_arg = arg;
	s->heard_no_such_master = false;
	s->ask.index = 0;
	event_active(s->step, EV_TIMEOUT, 0);
}

void
sentinel_cancel(struct sentinel *s)
{
	s->fn = NULL;
	conn_close(&s->ask);
	event_del(s->step);
}

/*
 * The +switch-master subscription.
 */

/* Opens the subscription again after WATCH_RETRY_MS, on the next
 * sentinel. */
static void
watch_lost(struct sentinel *s, const char *why)
{
	struct timeval tv = clock_timeval_ms(WATCH_RETRY_MS);
	char name[HOST_PORT_HOST_MAX + 16];

	conn_name(&s->watch, name, sizeof(name));
	log_debug("sentinel subscription lost sentinel=%s reason=\"%s\"", name,
	          why);
	conn_close(&s->watch);
	s->watch.index = (s->watch.index + 1) % s->count;
	evtimer_add(s->watch.timer, &tv);
}

/* "<name> <old ip> <old port> <new ip> <new port>" */
static void
on_switch_message(struct sentinel *s, const char *text)
{
	char name[256], old_ip[HOST_PORT_HOST_MAX], old_port[8];
	char ip[HOST_PORT_HOST_MAX], port[8];
	struct host_port master;

	if (sscanf(text, "%255s %255s %7s %255s %7s", name, old_ip, old_port,
	           ip, port) != 5 ||
	    strcmp(name, s->master) != 0)
		return;
	if (!take_address(ip, port, &master)) {
		log_warning("sentinel announced a master address that is not "
		            "one master=%s",
		            s->master);
		return;
	}
	log_info("sentinels announced a new master master=%s addr=%s:%d",
	         s->master, master.host, master.port);
	s->on_switch(s->switch_arg, master.host, master.port);
}

static void
on_watch_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	struct sentinel_conn *conn = ac->data;
	struct sentinel *s = conn->s;
	const redisReply *reply = r;
	char why[64];

	if (ac != conn->ac || reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof(why), "%s refused: %.*s",
		         privdata == NULL ? "AUTH" : "SUBSCRIBE",
		         error_code_len(reply), reply->str);
		watch_lost(s, why);
		return;
	}
	if (privdata == NULL || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 3 ||
	    reply->element[0]->type != REDIS_REPLY_STRING)
		return;
	if (strcmp(reply->element[0]->str, "subscribe") == 0) {
		/* Subscribed: the deadline was for getting here. */
		event_del(conn->timer);
		return;
	}
	if (strcmp(reply->element[0]->str, "message") == 0 &&
	    reply->element[2]->type == REDIS_REPLY_STRING)
		on_switch_message(s, reply->element[2]->str);
}

static void
on_watch_connect(const redisAsyncContext *ac, int status)
{
	struct sentinel_conn *conn = ac->data;

	if (ac != conn->ac || status == REDIS_OK)
		return;
	conn->ac = NULL;
	watch_lost(conn->s, ac->errstr);
}

static void
on_watch_disconnect(const redisAsyncContext *ac, int status)
{
	struct sentinel_conn *conn = ac->data;

	if (ac != conn->ac)
		return;
	conn->ac = NULL;
	watch_lost(conn->s,
	           status == REDIS_OK ? "connection closed" : ac->errstr);
}

static void
on_watch_resolved(void *arg, const char *ip, const char *why)
{
	struct sentinel *s = arg;
	const char *argv[] = {"SUBSCRIBE", "+switch-master"};

	s->watch.resolve = NULL;
	if (ip == NULL) {
		watch_lost(s, why);
		return;
	}
	if (!conn_open(&s->watch, ip, on_watch_connect, on_watch_disconnect,
	               on_watch_reply, 2, argv))
		watch_lost(s, "cannot open a connection");
}

static void
watch_start(struct sentinel *s)
{
	struct timeval tv = clock_timeval_ms(s->timeout_ms);

	evtimer_add(s->watch.timer, &tv);
	s->watch.resolve = resolve_start(s->dns, s->list[s->watch.index].host,
	                                 on_watch_resolved, s);
}

/* Not subscribed yet: either time to open the subscription, or the
 * attempt ran out of time. */
static void
on_watch_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sentinel *s = arg;
	char why[64];

	(void)fd;
	(void)what;
	if (s->watch.ac == NULL && s->watch.resolve == NULL) {
		watch_start(s);
		return;
	}
	snprintf(why, sizeof(why), "not subscribed within %d ms",
	         s->timeout_ms);
	watch_lost(s, why);
}

static char *
copy_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

struct sentinel *
sentinel_create(struct event_base *base, struct evdns_base *dns,
                const struct sentinel_options *opt)
{
	struct sentinel *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->base = base;
	s->dns = dns;
	s->ask.s = s;
	s->watch.s = s;
	if (host_port_list_parse(opt->sentinels, s->list, &s->count) != NULL) {
		free(s);
		return NULL;
	}
	s->master = strdup(opt->master);
	s->password = copy_or_null(opt->password);
	s->timeout_ms = opt->timeout_ms;
	s->on_switch = opt->on_switch;
	s->switch_arg = opt->arg;
	s->step = evtimer_new(base, on_step, s);
	s->ask.timer = evtimer_new(base, on_ask_deadline, s);
	s->watch.timer = evtimer_new(base, on_watch_timer, s);
	if (s->master == NULL || s->step == NULL || s->ask.timer == NULL ||
	    s->watch.timer == NULL ||
	    (opt->password != NULL && opt->password[0] != '\0' &&
	     s->password == NULL)) {
		sentinel_destroy(s);
		return NULL;
	}
	/* From the loop, as everything else here. */
	event_active(s->watch.timer, EV_TIMEOUT, 0);
	return s;
}

void
sentinel_destroy(struct sentinel *s)
{
	if (s == NULL)
		return;
	s->fn = NULL;
	if (s->ask.timer != NULL)
		conn_close(&s->ask);
	if (s->watch.timer != NULL)
		conn_close(&s->watch);
	if (s->step != NULL)
		event_free(s->step);
	if (s->ask.timer != NULL)
		event_free(s->ask.timer);
	if (s->watch.timer != NULL)
		event_free(s->watch.timer);
	free(s->master);
	free(s->password);
	free(s);
}

const char *
sentinel_master_name(const struct sentinel *s)
{
	return s->master;
}

const char *
sentinel_last_failure(const struct sentinel *s)
{
	return s->last_failure;
}
