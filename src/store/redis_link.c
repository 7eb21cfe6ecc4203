#include "redis_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/util.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "../clock.h"
#include "../log.h"
#include "../metrics.h"

#define BACKOFF_FIRST_MS 50
#define BACKOFF_MAX_MS   2000
#define HANDSHAKE_MAX    16
/* A link on which commands wait and nothing at all has been read for this
 * many deadlines is dropped: Redis is frozen or gone, not merely slow.
 * One deadline would drop it for any single command that Redis is slow to
 * reach (a long script, a fork), which is what the per-command deadline
 * already answers; two tell a stall from a slow command, and still answer
 * what waits behind a frozen Redis at once (measured in the README). */
#define STALL_DEADLINES 2
/* The largest array any reply of ours holds is a page of the admin list
 * (two entries per session, count <= 1000, and SCAN may return a few
 * times COUNT).  hiredis allocates an announced array whole before a
 * byte of it arrives: a peer announcing 200 million elements would cost
 * gigabytes and seconds of the loop. */
#define REPLY_ARRAY_MAX 100000

enum link_state {
	LINK_DOWN,       /* waiting for the retry timer */
	LINK_CONNECTING, /* resolving, connecting or in the handshake */
	LINK_UP,
	LINK_CLOSED, /* being destroyed */
};

/* A handshake command, kept in its wire form. */
struct handshake_command {
	char *wire;
	size_t len;
	void (*on_reply)(void *arg, const redisReply *reply);
	void *arg;
};

/* A name lookup in flight.  It outlives the link when cancelled, because
 * evdns reports the cancellation later, from the loop. */
struct resolve {
	struct redis_link *link; /* NULL once cancelled */
	struct evdns_getaddrinfo_request *req;
};

struct redis_link {
	struct event_base *base;
	struct evdns_base *dns;
	char *host;
	char *socket_path;
	char *password;
	char db[16];
	int port;
	int timeout_ms;
	/* timeout_ms as a libevent common timeout: every command's deadline
	 * has this duration, so adding and removing one is O(1). */
	const struct timeval *command_timeout;
	int stall_ms; /* STALL_DEADLINES deadlines */
	size_t max_pending;
	struct metrics *metrics;

	enum link_state state;
	redisAsyncContext *ac; /* the current connection, NULL if none */
	struct resolve *resolve;
	struct event *retry_timer;
	struct event *connect_timer; /* bounds resolve + connect + handshake */
	struct event *stall_timer;   /* checks that Redis still answers */
	int backoff_ms;
	/* The last drop was a wrong node's error: the next link_up keeps the
	 * backoff, so that a replica behind the address is asked again at
	 * most every 2 s, not at every write. */
	bool keep_backoff;
	int handshake_left;
	uint64_t handshake_sent_us;
	struct handshake_command handshake[HANDSHAKE_MAX];
	int handshake_count;

	size_t pending;   /* callers still waiting for their answer */
	size_t in_flight; /* commands sent and not yet replied to, including
	                     those whose caller had its deadline */
	uint64_t quiet_since_us; /* the last reply, or the first command
	                            sent after an idle moment */
	uint64_t timeouts;
	uint64_t reconnects;
	bool ever_up;
	bool failing; /* a failure was already logged at WARNING */
	/* The op whose deadline reads ahead (read_ahead()), and whether its
	 * reply came in that read. */
	const struct redis_op *watched;
	bool watched_replied;
	char last_error[160];
};

/*
 * One submitted command, hiredis's privdata.  It lives until hiredis calls
 * back, which may be long after the caller was answered by the deadline:
 * "answered" makes sure the caller hears exactly once, and nothing of the
 * caller's is touched after that.
 */
struct redis_op {
	struct redis_link *link;
	redis_reply_fn fn;
	void *arg;
	struct event deadline;
	uint64_t start_us;
	bool answered;
};

static void link_connect(struct redis_link *link);

static void
set_timer_ms(struct event *ev, int ms)
{
	struct timeval tv = clock_timeval_ms(ms);

	evtimer_add(ev, &tv);
}

/* Describes where the link points, for logs. */
static void
link_target(const struct redis_link *link, char *out, size_t outlen)
{
	if (link->socket_path != NULL)
		snprintf(out, outlen, "unix:%s", link->socket_path);
	else
		snprintf(out, outlen, "%s:%d", link->host, link->port);
}

/* The connection attempt or the live link has ended: record why and try
 * again after the backoff. */
static void
link_down(struct redis_link *link, const char *why)
{
	char target[300];
	bool was_up = link->state == LINK_UP;

	if (link->state == LINK_CLOSED)
		return;
	link->state = LINK_DOWN;
	event_del(link->connect_timer);
	event_del(link->stall_timer);
	snprintf(link->last_error, sizeof(link->last_error), "%s", why);
	link_target(link, target, sizeof(target));
	if (was_up)
		log_warning("redis link down target=%s reason=\"%s\"", target,
		            why);
	else if (!link->failing)
		log_warning("redis unreachable target=%s reason=\"%s\" "
		            "retrying=yes",
		            target, why);
	else
		log_debug("redis still unreachable target=%s reason=\"%s\"",
		          target, why);
	link->failing = true;
	set_timer_ms(link->retry_timer, link->backoff_ms);
	link->backoff_ms *= 2;
	if (link->backoff_ms > BACKOFF_MAX_MS)
		link->backoff_ms = BACKOFF_MAX_MS;
}

/*
 * Closes the current connection from our side.  hiredis answers every
 * command still waiting on it with a NULL reply, which reaches callers as
 * REDIS_LINK_LOST.  Safe inside a reply callback (hiredis defers the free
 * until the callback returns) but not inside the connect or disconnect
 * callbacks, which never call it.
 */
static void
link_drop(struct redis_link *link, const char *why)
{
	redisAsyncContext *ac = link->ac;

	link->ac = NULL;
	if (link->resolve != NULL) {
		link->resolve->link = NULL;
		evdns_getaddrinfo_cancel(link->resolve->req);
		link->resolve = NULL;
	}
	link_down(link, why);
	if (ac != NULL)
		redisAsyncFree(ac);
}

static void
link_up(struct redis_link *link)
{
	char target[300];

	event_del(link->connect_timer);
	link->state = LINK_UP;
	if (!link->keep_backoff)
		link->backoff_ms = BACKOFF_FIRST_MS;
	link->keep_backoff = false;
	link->last_error[0] = '\0';
	if (link->ever_up)
		link->reconnects++;
	link->ever_up = true;
	link->failing = false;
	link_target(link, target, sizeof(target));
	log_info("redis link up target=%s db=%s", target, link->db);
}

/* privdata is the registered handshake_command, or NULL for AUTH, SELECT
 * and PING. */
static void
on_handshake_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	struct redis_link *link = ac->data;
	const struct handshake_command *hc = privdata;
	const redisReply *reply = r;
	char why[160];

	/* A NULL reply means this connection is going away; the disconnect
	 * path already deals with it. */
	if (ac != link->ac || reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ERROR) {
		/* Only the error code: the rest of an AUTH error may echo
		 * what was sent. */
		snprintf(why, sizeof(why), "handshake refused: %.*s",
		         (int)strcspn(reply->str, " "), reply->str);
		link_drop(link, why);
		return;
	}
	if (hc != NULL && hc->on_reply != NULL)
		hc->on_reply(hc->arg, reply);
	if (--link->handshake_left == 0)
		link_up(link);
}

/* Queues one handshake command; false when hiredis refused it. */
static bool
send_handshake(struct redis_link *link, redisAsyncContext *ac, int argc,
               const char **argv, const size_t *argvlen)
{
	if (redisAsyncCommandArgv(ac, on_handshake_reply, NULL, argc, argv,
	                          argvlen) != REDIS_OK)
		return false;
	link->handshake_left++;
	return true;
}

static void
on_connect(const redisAsyncContext *cac, int status)
{
	/* hiredis 0.14 passes a const context; the commands below need the
	 * mutable one, which is link->ac. */
	struct redis_link *link = cac->data;
	redisAsyncContext *ac = link->ac;
	const char *auth[] = {"AUTH", link->password};
	const char *select[] = {"SELECT", link->db};
	const char *ping[] = {"PING"};
	bool ok = true;

	if (ac != cac)
		return;
	if (status != REDIS_OK) {
		/* hiredis frees the context after this callback. */
		link->ac = NULL;
		link_down(link, cac->errstr);
		return;
	}
	link->handshake_left = 0;
	link->handshake_sent_us = clock_monotonic_us();
	if (link->password != NULL)
		ok = send_handshake(link, ac, 2, auth, NULL);
	ok = ok && send_handshake(link, ac, 2, select, NULL);
	for (int i = 0; ok && i < link->handshake_count; i++) {
		struct handshake_command *hc = &link->handshake[i];

		ok = redisAsyncFormattedCommand(ac, on_handshake_reply, hc,
		                                hc->wire, hc->len) == REDIS_OK;
		link->handshake_left += ok;
	}
	ok = ok && send_handshake(link, ac, 1, ping, NULL);
	/* A refused command leaves the handshake unfinished: the connect
	 * timer then drops this connection and retries. */
	if (!ok)
		log_error("redis handshake could not be queued");
}

#if HIREDIS_MAJOR >= 1
/* hiredis 1.x checks an announced array's size itself, before allocating
 * it, and fails the connection with "Multi-bulk length out of range". */
static void
cap_reply_arrays(redisAsyncContext *ac)
{
	ac->c.reader->maxelements = REPLY_ARRAY_MAX;
}

/* hiredis 1.x names the refusal itself. */
static bool
took_array_refusal(void)
{
	return false;
}
#else
/* hiredis 0.14 has no such check, and its constructor takes an int: ours
 * wraps it.  array_refused is set when the cap refused an array, to say so
 * instead of hiredis's "Out of memory".  The service has one thread. */
static bool array_refused;
static void *(*hiredis_create_array)(const redisReadTask *task, int n);

/* hiredis's own array constructor, refusing announced sizes no reply of
 * ours reaches; NULL makes the reader fail and the link drop. */
static void *
create_capped_array(const redisReadTask *task, int n)
{
	if (n > REPLY_ARRAY_MAX) {
		array_refused = true;
		return NULL;
	}
	return hiredis_create_array(task, n);
}

/* Puts the array cap into the connection's reply reader. */
static void
cap_reply_arrays(redisAsyncContext *ac)
{
	static redisReplyObjectFunctions capped;

	if (hiredis_create_array == NULL) {
		capped = *ac->c.reader->fn;
		hiredis_create_array = capped.createArray;
		capped.createArray = create_capped_array;
	}
	ac->c.reader->fn = &capped;
	array_refused = false;
}

/* True, once, when the cap refused an array on this connection. */
static bool
took_array_refusal(void)
{
	bool refused = array_refused;

	array_refused = false;
	return refused;
}
#endif

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct redis_link *link = ac->data;

	if (ac != link->ac)
		return; /* we dropped it ourselves */
	link->ac = NULL;
	if (took_array_refusal()) {
		link_down(link, "reply announced an array over the limit");
		return;
	}
	link_down(link, status == REDIS_OK ? "connection closed" : ac->errstr);
}

/* Starts a connection to ip (NULL for the Unix socket). */
static void
link_open(struct redis_link *link, const char *ip)
{
	redisAsyncContext *ac;
	char why[160];

	ac = link->socket_path != NULL
	         ? redisAsyncConnectUnix(link->socket_path)
	         : redisAsyncConnect(ip, link->port);
	if (ac == NULL || ac->err) {
		snprintf(why, sizeof(why), "%s",
		         ac != NULL ? ac->errstr : "out of memory");
		if (ac != NULL)
			redisAsyncFree(ac);
		link_down(link, why);
		return;
	}
	ac->data = link;
	link->ac = ac;
	cap_reply_arrays(ac);
	if (redisLibeventAttach(ac, link->base) != REDIS_OK ||
	    redisAsyncSetConnectCallback(ac, on_connect) != REDIS_OK ||
	    redisAsyncSetDisconnectCallback(ac, on_disconnect) != REDIS_OK)
		link_drop(link, "cannot attach to the event loop");
}

/* Picks the first IPv4 address if any (a private Redis listens on
 * 127.0.0.1), otherwise the first address. */
static void
on_resolved(int err, struct evutil_addrinfo *res, void *arg)
{
	struct resolve *rs = arg;
	struct redis_link *link = rs->link;
	const struct evutil_addrinfo *pick = res;
	char ip[64], why[160];

	free(rs);
	if (link == NULL) { /* cancelled */
		if (res != NULL)
			evutil_freeaddrinfo(res);
		return;
	}
	link->resolve = NULL;
	if (err != 0 || res == NULL) {
		snprintf(why, sizeof(why), "cannot resolve %s: %s", link->host,
		         evutil_gai_strerror(err));
		if (res != NULL)
			evutil_freeaddrinfo(res);
		link_down(link, why);
		return;
	}
	for (const struct evutil_addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			pick = ai;
			break;
		}
	}
	if (pick->ai_family == AF_INET)
		evutil_inet_ntop(
		    AF_INET, &((struct sockaddr_in *)pick->ai_addr)->sin_addr,
		    ip, sizeof(ip));
	else
		evutil_inet_ntop(
		    AF_INET6,
		    &((struct sockaddr_in6 *)pick->ai_addr)->sin6_addr, ip,
		    sizeof(ip));
	evutil_freeaddrinfo(res);
	link_open(link, ip);
}

static void
link_connect(struct redis_link *link)
{
	struct evutil_addrinfo hints = {0};
	struct evdns_getaddrinfo_request *req;
	struct resolve *rs;
	unsigned char addr[16];

	link->state = LINK_CONNECTING;
	set_timer_ms(link->connect_timer, link->timeout_ms);
	if (link->socket_path != NULL ||
	    evutil_inet_pton(AF_INET, link->host, addr) == 1 ||
	    evutil_inet_pton(AF_INET6, link->host, addr) == 1) {
		link_open(link, link->host);
		return;
	}
	rs = calloc(1, sizeof(*rs));
	if (rs == NULL) {
		link_down(link, "out of memory");
		return;
	}
	rs->link = link;
	link->resolve = rs;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* Names in /etc/hosts (localhost) are answered at once, inside this
	 * call; others go to the DNS servers without blocking the loop. */
	req = evdns_getaddrinfo(link->dns, link->host, NULL, &hints,
	                        on_resolved, rs);
	/* NULL: on_resolved has already run and freed rs. */
	if (req != NULL)
		rs->req = req;
}

static void
on_retry_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	link_connect(arg);
}

static void
on_connect_timer(evutil_socket_t fd, short what, void *arg)
{
	struct redis_link *link = arg;
	char why[64];

	(void)fd;
	(void)what;
	snprintf(why, sizeof(why), "no answer within %d ms", link->timeout_ms);
	link_drop(link, why);
}

/*
 * Reads what Redis has already sent, before a deadline or the stall check
 * takes it for late.  After a pause of the whole process (SIGSTOP, a
 * frozen VM) the loop runs the expired timers before it polls the socket
 * (epoll_wait returns EINTR on SIGCONT): replies that came in time, a
 * validation that Redis has carried out among them, would get a 503 and
 * the session would be used up behind it.  Returns whether op (when not
 * NULL) had its reply in the read; op is freed then.
 */
static bool
read_ahead(struct redis_link *link, const struct redis_op *op)
{
	bool replied;

	if (link->ac == NULL)
		return false;
	link->watched = op;
	link->watched_replied = false;
	redisAsyncHandleRead(link->ac);
	replied = link->watched_replied;
	link->watched = NULL;
	return replied;
}

/* Drops the link once commands have waited STALL_DEADLINES deadlines with
 * nothing read; until then it looks again when that time is up. */
static void
on_stall_timer(evutil_socket_t fd, short what, void *arg)
{
	struct redis_link *link = arg;
	uint64_t quiet_us, stall_us = (uint64_t)link->stall_ms * 1000;
	char why[64];

	(void)fd;
	(void)what;
	read_ahead(link, NULL);
	if (link->in_flight == 0 || link->ac == NULL)
		return;
	quiet_us = clock_monotonic_us() - link->quiet_since_us;
	if (quiet_us < stall_us) {
		set_timer_ms(link->stall_timer,
		             (int)((stall_us - quiet_us + 999) / 1000));
		return;
	}
	snprintf(why, sizeof(why), "nothing read from redis for %d ms",
	         link->stall_ms);
	link_drop(link, why);
}

static char *
copy_or_null(const char *s)
{
	return s != NULL && s[0] != '\0' ? strdup(s) : NULL;
}

struct redis_link *
redis_link_create(struct event_base *base, struct evdns_base *dns,
                  const struct redis_link_options *opt)
{
	struct redis_link *link = calloc(1, sizeof(*link));
	struct timeval timeout;

	if (link == NULL)
		return NULL;
	link->base = base;
	link->dns = dns;
	link->host = strdup(opt->host);
	link->socket_path = copy_or_null(opt->socket_path);
	link->password = copy_or_null(opt->password);
	snprintf(link->db, sizeof(link->db), "%d", opt->db);
	link->port = opt->port;
	link->timeout_ms = opt->timeout_ms;
	link->stall_ms = STALL_DEADLINES * opt->timeout_ms;
	link->max_pending = opt->max_pending;
	link->metrics = opt->metrics;
	link->backoff_ms = BACKOFF_FIRST_MS;
	link->retry_timer = evtimer_new(base, on_retry_timer, link);
	link->connect_timer = evtimer_new(base, on_connect_timer, link);
	link->stall_timer = evtimer_new(base, on_stall_timer, link);
	timeout = clock_timeval_ms(opt->timeout_ms);
	link->command_timeout = event_base_init_common_timeout(base, &timeout);
	if (link->host == NULL || link->retry_timer == NULL ||
	    link->connect_timer == NULL || link->stall_timer == NULL ||
	    link->command_timeout == NULL) {
		redis_link_destroy(link);
		return NULL;
	}
	/* The first attempt waits for the loop, so that handshake commands
	 * can still be registered after create. */
	event_active(link->retry_timer, EV_TIMEOUT, 0);
	return link;
}

bool
redis_link_add_handshake(struct redis_link *link, int argc, const char **argv,
                         void (*on_reply)(void *arg, const redisReply *reply),
                         void *arg)
{
	struct handshake_command *hc;
	int len;

	if (link->handshake_count == HANDSHAKE_MAX)
		return false;
	hc = &link->handshake[link->handshake_count];
	len = redisFormatCommandArgv(&hc->wire, argc, argv, NULL);
	if (len < 0)
		return false;
	hc->len = (size_t)len;
	hc->on_reply = on_reply;
	hc->arg = arg;
	link->handshake_count++;
	return true;
}

void
redis_link_destroy(struct redis_link *link)
{
	redisAsyncContext *ac;

	if (link == NULL)
		return;
	ac = link->ac;
	link->ac = NULL;
	link->state = LINK_CLOSED;
	if (link->resolve != NULL) {
		link->resolve->link = NULL;
		evdns_getaddrinfo_cancel(link->resolve->req);
	}
	if (ac != NULL)
		redisAsyncFree(ac);
	if (link->retry_timer != NULL)
		event_free(link->retry_timer);
	if (link->connect_timer != NULL)
		event_free(link->connect_timer);
	if (link->stall_timer != NULL)
		event_free(link->stall_timer);
	for (int i = 0; i < link->handshake_count; i++)
		redisFreeCommand(link->handshake[i].wire);
	free(link->host);
	free(link->socket_path);
	free(link->password);
	free(link);
}

/* Answers the caller once; the op itself stays until hiredis lets go. */
static void
op_answer(struct redis_op *op, enum redis_outcome outcome,
          const redisReply *reply)
{
	if (op->answered)
		return;
	op->answered = true;
	event_del(&op->deadline);
	op->link->pending--;
	op->fn(op->arg, outcome, reply);
}

/*
 * Error replies meaning the connection reaches the wrong node or lost its
 * authentication: a replica (READONLY), a replica cut off from its master
 * (MASTERDOWN), a server that no longer knows our AUTH (NOAUTH).  Every
 * later command would get the same, so the link is reopened with the whole
 * handshake: a managed Redis failing over behind one name is found again.
 * Returns the error's code, or NULL for any other error.
 */
static const char *
wrong_node_code(const redisReply *reply)
{
	static const char *const codes[] = {"READONLY", "NOAUTH", "MASTERDOWN"};
	size_t len = strcspn(reply->str, " ");

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (strlen(codes[i]) == len &&
		    memcmp(reply->str, codes[i], len) == 0)
			return codes[i];
	}
	return NULL;
}

static void
on_op_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	struct redis_op *op = privdata;
	struct redis_link *link = op->link;
	const redisReply *reply = r;
	const char *code = NULL;
	char why[64];

	link->in_flight--;
	if (op == link->watched)
		link->watched_replied = true;
	if (reply == NULL) {
		op_answer(op, REDIS_LINK_LOST, NULL);
		free(op);
		return;
	}
	link->quiet_since_us = clock_monotonic_us();
	if (op->answered)
		log_debug("late redis reply ignored, its caller had its "
		          "deadline");
	else
		metrics_redis_round_trip(
		    link->metrics,
		    (double)(link->quiet_since_us - op->start_us) / 1e6);
	if (reply->type == REDIS_REPLY_ERROR) {
		code = wrong_node_code(reply);
		op_answer(op, REDIS_ERROR_REPLY, reply);
	} else {
		op_answer(op, REDIS_REPLIED, reply);
	}
	free(op);
	/* After this caller's answer: the others waiting get theirs from
	 * the drop. */
	if (code != NULL && link->ac == ac) {
		snprintf(why, sizeof(why), "%s reply", code);
		link_drop(link, why);
		link->keep_backoff = true;
	}
}

/* The caller hears REDIS_TIMED_OUT; the command stays on the connection,
 * and its reply, when it comes, is read and ignored. */
static void
on_op_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct redis_op *op = arg;

	(void)fd;
	(void)what;
	if (read_ahead(op->link, op))
		return;
	op->link->timeouts++;
	log_debug("redis command timed out after %d ms, link kept",
	          op->link->timeout_ms);
	op_answer(op, REDIS_TIMED_OUT, NULL);
}

enum redis_submit
redis_link_submit_wire(struct redis_link *link, redis_reply_fn fn, void *arg,
                       const char *wire, size_t len)
{
	struct redis_op *op;

	if (link->state != LINK_UP || link->ac == NULL)
		return REDIS_SUBMIT_DOWN;
	if (link->in_flight >= link->max_pending)
		return REDIS_SUBMIT_FULL;
	op = calloc(1, sizeof(*op));
	if (op == NULL)
		return REDIS_SUBMIT_FULL;
	op->link = link;
	op->fn = fn;
	op->arg = arg;
	op->start_us = clock_monotonic_us();
	if (redisAsyncFormattedCommand(link->ac, on_op_reply, op, wire, len) !=
	    REDIS_OK) {
		free(op);
		return REDIS_SUBMIT_DOWN;
	}
	link->pending++;
	if (link->in_flight++ == 0) {
		/* Quiet from now on until a reply comes. */
		link->quiet_since_us = op->start_us;
		if (!evtimer_pending(link->stall_timer, NULL))
			set_timer_ms(link->stall_timer, link->stall_ms);
	}
	evtimer_assign(&op->deadline, link->base, on_op_deadline, op);
	evtimer_add(&op->deadline, link->command_timeout);
	return REDIS_SUBMIT_OK;
}

enum redis_submit
redis_link_submit(struct redis_link *link, redis_reply_fn fn, void *arg,
                  int argc, const char **argv, const size_t *argvlen)
{
	char *wire;
	int len = redisFormatCommandArgv(&wire, argc, argv, argvlen);
	enum redis_submit r;

	if (len < 0)
		return REDIS_SUBMIT_FULL;
	r = redis_link_submit_wire(link, fn, arg, wire, (size_t)len);
	redisFreeCommand(wire);
	return r;
}

bool
redis_link_is_up(const struct redis_link *link)
{
	return link->state == LINK_UP;
}

uint64_t
redis_link_handshake_sent_us(const struct redis_link *link)
{
	return link->handshake_sent_us;
}

const char *
redis_link_last_error(const struct redis_link *link)
{
	return link->last_error;
}

size_t
redis_link_pending(const struct redis_link *link)
{
	return link->pending;
}

uint64_t
redis_link_reconnects(const struct redis_link *link)
{
	return link->reconnects;
}

uint64_t
redis_link_timeouts(const struct redis_link *link)
{
	return link->timeouts;
}
