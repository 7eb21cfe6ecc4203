#include "redis_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/util.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "../clock.h"
#include "../log.h"
#include "../metrics.h"
#include "reply_cap.h"
#include "resolve.h"
#include "sentinel.h"

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

/*
 * With REDIS_SENTINELS a connection goes DOWN -> ASKING -> CONNECTING ->
 * CHECKING_ROLE -> UP; without, DOWN -> CONNECTING -> UP.  Any failure on
 * the way, and any drop, goes back to DOWN, and the next attempt starts
 * from the beginning: the sentinels are asked again at every reconnect.
 */
enum link_state {
	LINK_DOWN,          /* waiting for the retry timer */
	LINK_ASKING,        /* asking the sentinels where the master is */
	LINK_CONNECTING,    /* resolving, connecting or in the handshake */
	LINK_CHECKING_ROLE, /* handshake done; ROLE must say master */
	LINK_UP,
	LINK_CLOSED, /* being destroyed */
};

/* What waits on one connection. */
struct conn_load {
	size_t pending;   /* requests still waiting for their answer */
	size_t in_flight; /* commands sent and not yet replied to, including
	                     those whose caller had its deadline */
	size_t riders;    /* requests those commands carry beyond one each,
	                     until the command's own reply is read */
};

/*
 * A connection dropped for silence and still read, detached from the
 * link: each caller waiting on it hears its own reply or its own
 * deadline (redis_link.h).  It is freed once none waits.
 */
struct lingering {
	redisAsyncContext *ac;
	uint64_t connection; /* its number, as its ops have it */
	struct conn_load load;
	struct lingering *next;
};

/* A handshake command, kept in its wire form. */
struct handshake_command {
	char *wire;
	size_t len;
	void (*on_reply)(void *arg, const redisReply *reply);
	void *arg;
};

struct redis_link {
	struct event_base *base;
	struct evdns_base *dns;
	char *host; /* REDIS_HOST, or the master the sentinels named */
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
	size_t reserved; /* requests to be sent (redis_link_reserve()) */
	struct metrics *metrics;
	struct sentinel *sentinel; /* NULL without REDIS_SENTINELS */
	char wait_timeout[16];     /* WAIT's, in ms */

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

	/* The current connection's number: a new one after each silence
	 * drop, so that ops tell their connection from its successor. */
	uint64_t connection;
	struct conn_load load; /* on the current connection */
	struct lingering *lingering;
	uint64_t quiet_since_us; /* the current connection's last reply, or
	                            its first command sent after an idle
	                            moment */
	uint64_t timeouts;
	uint64_t reconnects;
	uint64_t master_switches;
	int last_wait_replicas; /* acknowledged, by the last WAIT */
	/* Where the link was last up, with sentinels ("" before). */
	char master_host[256];
	int master_port;
	bool ever_up;
	bool failing; /* a failure was already logged at WARNING */
	/* The op whose deadline reads ahead (read_ahead()), and whether it
	 * was answered in that read. */
	const struct redis_op *watched;
	bool watched_replied;
	char last_error[320];
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
	uint64_t connection; /* link->connection when it was sent */
	uint64_t start_us;
	bool answered;
	int replies_due;  /* hiredis callbacks still to come: 1, or 2 with
	                     a WAIT */
	int min_replicas; /* > 0: the command is followed by WAIT */
	size_t requests;  /* it carries (batch.h): 1 for most */
	bool riders_read; /* its reply read: the riders no longer count */
	redisReply *held; /* the command's reply, until WAIT's comes */
	bool wait_unsent; /* hiredis refused the WAIT (out of memory) */
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
	else if (link->sentinel != NULL && link->host[0] == '\0')
		snprintf(out, outlen, "sentinel-master:%s",
		         sentinel_master_name(link->sentinel));
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
	/* A new cause while failing is news too (the sentinels answering
	 * again, but without our master). */
	if (strcmp(link->last_error, why) != 0)
		link->failing = false;
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
	resolve_cancel(link->resolve);
	link->resolve = NULL;
	if (link->sentinel != NULL)
		sentinel_cancel(link->sentinel);
	link_down(link, why);
	if (ac != NULL)
		redisAsyncFree(ac);
}

/*
 * Drops the link for silence.  Redis may only be frozen, and a frozen
 * Redis that wakes runs every command it had received, even from a
 * closed connection: answering the callers at once would hide what those
 * commands did behind a 503.  So the connection stays open and read,
 * detached from the link, until no caller waits on it: each hears its
 * own reply or its own deadline, as on a live link.  Out of memory, the
 * callers are answered at once, as on any other drop.
 */
static void
link_drop_silent(struct redis_link *link, const char *why)
{
	struct lingering *old = NULL;

	if (link->load.pending > 0)
		old = malloc(sizeof(*old));
	if (old != NULL) {
		old->ac = link->ac;
		old->connection = link->connection++;
		old->load = link->load;
		old->next = link->lingering;
		link->lingering = old;
		link->load = (struct conn_load){0};
		link->ac = NULL;
	}
	link_drop(link, why);
}

/* Lets a lingering connection go: hiredis answers what is still on it
 * with a NULL reply, which reaches only callers that still wait, as
 * REDIS_LINK_LOST (none, but at redis_link_destroy()).  Its ops no longer
 * find it, and count nowhere. */
static void
lingering_end(struct redis_link *link, struct lingering *old)
{
	struct lingering **p = &link->lingering;

	while (*p != old)
		p = &(*p)->next;
	*p = old->next;
	redisAsyncFree(old->ac);
	free(old);
}

/* The lingering connection an op went out on; NULL when that is the
 * current one, or one already let go. */
static struct lingering *
lingering_of(const struct redis_link *link, uint64_t connection)
{
	struct lingering *old = link->lingering;

	while (old != NULL && old->connection != connection)
		old = old->next;
	return old;
}

/* Where an op counts: its lingering connection, the current one, or
 * nowhere (a lingering connection already let go). */
static struct conn_load *
op_load(struct redis_link *link, uint64_t connection, struct lingering **old)
{
	*old = lingering_of(link, connection);
	if (*old != NULL)
		return &(*old)->load;
	return connection == link->connection ? &link->load : NULL;
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
	if (link->sentinel != NULL) {
		if (link->master_host[0] != '\0' &&
		    (strcmp(link->master_host, link->host) != 0 ||
		     link->master_port != link->port)) {
			link->master_switches++;
			log_warning("redis master switched master=%s "
			            "from=%s:%d to=%s",
			            sentinel_master_name(link->sentinel),
			            link->master_host, link->master_port,
			            target);
		}
		snprintf(link->master_host, sizeof(link->master_host), "%s",
		         link->host);
		link->master_port = link->port;
	}
	log_info("redis link up target=%s db=%s", target, link->db);
}

/* ROLE's answer: the link is up only on a master.  A replica (the
 * sentinels' answer is stale, or a demoted master came back) means: wait
 * the backoff and start again from the sentinels. */
static void
on_role_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	struct redis_link *link = ac->data;
	const redisReply *reply = r;
	char why[64];

	(void)privdata;
	if (ac != link->ac || reply == NULL)
		return;
	if (reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
	    reply->element[0]->type == REDIS_REPLY_STRING &&
	    strcmp(reply->element[0]->str, "master") == 0) {
		link_up(link);
		return;
	}
	snprintf(why, sizeof(why), "ROLE says %.20s, not master",
	         reply->type == REDIS_REPLY_ARRAY && reply->elements > 0 &&
	                 reply->element[0]->type == REDIS_REPLY_STRING
	             ? reply->element[0]->str
	             : "something else");
	link_drop(link, why);
}

/* The handshake is done: up at once, or after ROLE with sentinels. */
static void
handshake_done(struct redis_link *link)
{
	static const char *role[] = {"ROLE"};

	if (link->sentinel == NULL) {
		link_up(link);
		return;
	}
	link->state = LINK_CHECKING_ROLE;
	/* Refused only while the connection is closing: the connect timer
	 * then drops it. */
	if (redisAsyncCommandArgv(link->ac, on_role_reply, NULL, 1, role,
	                          NULL) != REDIS_OK)
		log_error("redis ROLE could not be queued");
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
		handshake_done(link);
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

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct redis_link *link = ac->data;

	if (ac != link->ac)
		return; /* we dropped it ourselves */
	link->ac = NULL;
	if (reply_cap_refused()) {
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
	reply_cap_arrays(ac);
	if (redisLibeventAttach(ac, link->base) != REDIS_OK ||
	    redisAsyncSetConnectCallback(ac, on_connect) != REDIS_OK ||
	    redisAsyncSetDisconnectCallback(ac, on_disconnect) != REDIS_OK)
		link_drop(link, "cannot attach to the event loop");
}

static void
on_resolved(void *arg, const char *ip, const char *why)
{
	struct redis_link *link = arg;

	link->resolve = NULL;
	if (ip == NULL)
		link_down(link, why);
	else
		link_open(link, ip);
}

/* Connects to host and port (or the socket), then the handshake. */
static void
link_connect_target(struct redis_link *link)
{
	link->state = LINK_CONNECTING;
	set_timer_ms(link->connect_timer, link->timeout_ms);
	if (link->socket_path != NULL) {
		link_open(link, NULL);
		return;
	}
	link->resolve = resolve_start(link->dns, link->host, on_resolved, link);
}

/* The sentinels' answer.  Their two failures are told apart in the log:
 * "no sentinel answered" is a network or sentinel problem, "no such
 * master" a REDIS_SENTINEL_MASTER that does not match their
 * configuration. */
static void
on_sentinel_answer(void *arg, enum sentinel_result result, const char *host,
                   int port)
{
	struct redis_link *link = arg;
	char why[300];
	char *copy;

	link->host[0] = '\0';
	switch (result) {
	case SENTINEL_FOUND:
		copy = strdup(host);
		if (copy == NULL) {
			link_down(link, "out of memory");
			return;
		}
		free(link->host);
		link->host = copy;
		link->port = port;
		link_connect_target(link);
		return;
	case SENTINEL_NO_ANSWER:
		snprintf(why, sizeof(why), "no sentinel answered (last %.200s)",
		         sentinel_last_failure(link->sentinel));
		link_down(link, why);
		return;
	case SENTINEL_NO_SUCH_MASTER:
		link_down(link, "the sentinels know no such master");
		return;
	}
}

static void
link_connect(struct redis_link *link)
{
	if (link->sentinel == NULL) {
		link_connect_target(link);
		return;
	}
	link->state = LINK_ASKING;
	sentinel_ask(link->sentinel, on_sentinel_answer, link);
}

/* The +switch-master accelerator: a link on (or on its way to) another
 * address starts over at once; the sentinels now name the new master.
 * One already there, or on its way there, is left alone. */
static void
on_master_switch(void *arg, const char *host, int port)
{
	struct redis_link *link = arg;

	if (link->state != LINK_DOWN && link->state != LINK_ASKING &&
	    link->port == port && strcmp(link->host, host) == 0)
		return;
	if (link->state != LINK_DOWN)
		link_drop(link, "the sentinels announced a new master");
	link->backoff_ms = BACKOFF_FIRST_MS;
	link->keep_backoff = false;
	set_timer_ms(link->retry_timer, 0);
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
 * NULL) was answered in the read; it may be freed then.
 */
static bool
read_ahead(struct redis_link *link, const struct redis_op *op)
{
	redisAsyncContext *ac = link->ac;
	struct lingering *old;
	bool replied;

	/* An op's reply comes on its own connection, which may be one
	 * lingering after a silence drop. */
	if (op != NULL && op_load(link, op->connection, &old) != NULL &&
	    old != NULL)
		ac = old->ac;
	if (ac == NULL)
		return false;
	link->watched = op;
	link->watched_replied = false;
	redisAsyncHandleRead(ac);
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
	if (link->load.in_flight == 0 || link->ac == NULL)
		return;
	quiet_us = clock_monotonic_us() - link->quiet_since_us;
	if (quiet_us < stall_us) {
		set_timer_ms(link->stall_timer,
		             (int)((stall_us - quiet_us + 999) / 1000));
		return;
	}
	snprintf(why, sizeof(why), "nothing read from redis for %d ms",
	         link->stall_ms);
	link_drop_silent(link, why);
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
	/* With sentinels, the host is the one they name, none yet. */
	link->host = strdup(opt->sentinels != NULL && opt->sentinels[0] != '\0'
	                        ? ""
	                        : opt->host);
	link->socket_path = copy_or_null(opt->socket_path);
	link->password = copy_or_null(opt->password);
	snprintf(link->db, sizeof(link->db), "%d", opt->db);
	link->port = opt->port;
	link->timeout_ms = opt->timeout_ms;
	link->stall_ms = STALL_DEADLINES * opt->timeout_ms;
	link->max_pending = opt->max_pending;
	link->metrics = opt->metrics;
	/* A quarter of the deadline: the validate script may run as late as
	 * half of it (sessions.c), and WAIT's answer must still come in
	 * time. */
	snprintf(link->wait_timeout, sizeof(link->wait_timeout), "%d",
	         opt->timeout_ms / 4 > 0 ? opt->timeout_ms / 4 : 1);
	link->backoff_ms = BACKOFF_FIRST_MS;
	link->retry_timer = evtimer_new(base, on_retry_timer, link);
	link->connect_timer = evtimer_new(base, on_connect_timer, link);
	link->stall_timer = evtimer_new(base, on_stall_timer, link);
	timeout = clock_timeval_ms(opt->timeout_ms);
	link->command_timeout = event_base_init_common_timeout(base, &timeout);
	if (opt->sentinels != NULL && opt->sentinels[0] != '\0') {
		struct sentinel_options sopt = {
		    .sentinels = opt->sentinels,
		    .master = opt->sentinel_master,
		    .password = opt->sentinel_password,
		    .timeout_ms = opt->timeout_ms,
		    .on_switch = on_master_switch,
		    .arg = link,
		};

		link->sentinel = sentinel_create(base, dns, &sopt);
		if (link->sentinel == NULL) {
			redis_link_destroy(link);
			return NULL;
		}
	}
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
	resolve_cancel(link->resolve);
	if (ac != NULL)
		redisAsyncFree(ac);
	while (link->lingering != NULL)
		lingering_end(link, link->lingering);
	sentinel_destroy(link->sentinel);
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

/* Answers the caller once; the op itself stays until hiredis lets go.
 * The last caller of a lingering connection lets it go: op may be freed
 * then, so nothing touches it after this. */
static void
op_answer(struct redis_op *op, enum redis_outcome outcome,
          const redisReply *reply)
{
	struct redis_link *link = op->link;
	struct lingering *old;
	struct conn_load *load;

	if (op->answered)
		return;
	op->answered = true;
	event_del(&op->deadline);
	load = op_load(link, op->connection, &old);
	if (load != NULL)
		load->pending -= op->requests;
	op->fn(op->arg, outcome, reply);
	if (old != NULL && old->load.pending == 0)
		lingering_end(link, old);
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

/*
 * Keeps a reply past its callback, for as long as the op holds it:
 * hiredis frees whatever the callback leaves, so the contents move to a
 * struct of our own (freed with freeReplyObject(), as hiredis's are) and
 * hiredis is left an empty nil.  NULL when out of memory.
 */
static redisReply *
take_reply(redisReply *reply)
{
	redisReply *held = malloc(sizeof(*held));

	if (held == NULL)
		return NULL;
	*held = *reply;
	reply->type = REDIS_REPLY_NIL;
	reply->str = NULL;
	reply->len = 0;
	reply->element = NULL;
	reply->elements = 0;
	return held;
}

/* WAIT's reply ends a replicated op: the command's own reply goes to the
 * caller only when enough replicas acknowledged it. */
static void
op_answer_waited(struct redis_op *op, const redisReply *wait)
{
	struct redis_link *link = op->link;

	if (wait->type != REDIS_REPLY_INTEGER) {
		op_answer(op, REDIS_ERROR_REPLY, wait);
		return;
	}
	link->last_wait_replicas = (int)wait->integer;
	if (op->held == NULL) {
		op_answer(op, REDIS_LINK_LOST, NULL);
		return;
	}
	if (wait->integer < op->min_replicas)
		log_warning("write not acknowledged by enough replicas "
		            "acknowledged=%lld wanted=%d waited_ms=%s",
		            wait->integer, op->min_replicas,
		            link->wait_timeout);
	op_answer(op,
	          wait->integer >= op->min_replicas ? REDIS_REPLIED
	                                            : REDIS_NOT_REPLICATED,
	          op->held);
}

/* Frees the op after hiredis's last callback for it. */
static void
op_release(struct redis_op *op)
{
	if (op->replies_due > 0)
		return;
	if (op->held != NULL)
		freeReplyObject(op->held);
	free(op);
}

static void
on_op_reply(redisAsyncContext *ac, void *r, void *privdata)
{
	struct redis_op *op = privdata;
	struct redis_link *link = op->link;
	redisReply *reply = r;
	const char *code = NULL;
	bool last = --op->replies_due == 0;
	struct lingering *old;
	struct conn_load *load = op_load(link, op->connection, &old);
	uint64_t now_us;
	char why[64];

	if (load != NULL) {
		load->in_flight--;
		/* The command's own reply comes first, before WAIT's: its
		 * requests are done in Redis. */
		if (!op->riders_read)
			load->riders -= op->requests - 1;
	}
	op->riders_read = true;
	if (reply == NULL) {
		op_answer(op, REDIS_LINK_LOST, NULL);
		if (op == link->watched)
			link->watched_replied = true;
		op_release(op);
		return;
	}
	now_us = clock_monotonic_us();
	/* Replies on a lingering connection say nothing of the current
	 * one's silence. */
	if (load == &link->load)
		link->quiet_since_us = now_us;
	if (op->answered)
		log_debug("late redis reply ignored, its caller was answered "
		          "before it");
	else if (last)
		metrics_redis_round_trip(link->metrics,
		                         (double)(now_us - op->start_us) / 1e6);
	if (reply->type == REDIS_REPLY_ERROR) {
		/* An error of the command needs no WAIT: the caller hears it
		 * at once. */
		code = wrong_node_code(reply);
		op_answer(op, REDIS_ERROR_REPLY, reply);
	} else if (!last) {
		if (!op->answered)
			op->held = take_reply(reply);
	} else if (op->wait_unsent) {
		op_answer(op, REDIS_NOT_REPLICATED, reply);
	} else if (op->min_replicas > 0) {
		op_answer_waited(op, reply);
	} else {
		op_answer(op, REDIS_REPLIED, reply);
	}
	if (op == link->watched && op->answered)
		link->watched_replied = true;
	op_release(op);
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

/* Requests in flight on every connection, lingering ones included, and
 * those reserved to be sent: max_pending bounds them all. */
static size_t
link_in_flight(const struct redis_link *link)
{
	size_t n = link->load.in_flight + link->load.riders + link->reserved;

	for (const struct lingering *old = link->lingering; old != NULL;
	     old = old->next)
		n += old->load.in_flight + old->load.riders;
	return n;
}

/* What is left at now_us of the deadline of a command sent at sent_us. */
static int
deadline_left_ms(const struct redis_link *link, uint64_t sent_us,
                 uint64_t now_us)
{
	uint64_t spent_ms = (now_us - sent_us) / 1000;

	return spent_ms < (uint64_t)link->timeout_ms
	           ? link->timeout_ms - (int)spent_ms
	           : 0;
}

/* Sends wire, followed by WAIT when min_replicas > 0, as one op.  A
 * resend of requests admitted at admitted_us (0 for new ones) is not
 * held to max_pending and keeps their deadline. */
static enum redis_submit
submit(struct redis_link *link, redis_reply_fn fn, void *arg, const char *wire,
       size_t len, int min_replicas, size_t requests, uint64_t admitted_us)
{
	const char *wait[] = {"WAIT", NULL, link->wait_timeout};
	char replicas[16];
	int replies = min_replicas > 0 ? 2 : 1;
	uint64_t now_us = clock_monotonic_us();
	struct redis_op *op;

	if (link->state != LINK_UP || link->ac == NULL)
		return REDIS_SUBMIT_DOWN;
	if (admitted_us == 0 &&
	    link_in_flight(link) + (size_t)replies + requests - 1 >
	        link->max_pending)
		return REDIS_SUBMIT_FULL;
	op = calloc(1, sizeof(*op));
	if (op == NULL)
		return REDIS_SUBMIT_FULL;
	op->link = link;
	op->connection = link->connection;
	op->fn = fn;
	op->arg = arg;
	op->min_replicas = min_replicas;
	op->requests = requests;
	op->start_us = admitted_us != 0 ? admitted_us : now_us;
	if (redisAsyncFormattedCommand(link->ac, on_op_reply, op, wire, len) !=
	    REDIS_OK) {
		free(op);
		return REDIS_SUBMIT_DOWN;
	}
	op->replies_due = 1;
	if (min_replicas > 0) {
		snprintf(replicas, sizeof(replicas), "%d", min_replicas);
		wait[1] = replicas;
		/* Pipelined right behind the command, on the same
		 * connection: WAIT counts the replicas that have every write
		 * this connection made, the command's included. */
		if (redisAsyncCommandArgv(link->ac, on_op_reply, op, 3, wait,
		                          NULL) == REDIS_OK)
			op->replies_due = 2;
		else
			op->wait_unsent = true;
	}
	link->load.pending += requests;
	if (link->load.in_flight == 0) {
		/* Quiet from now on until a reply comes. */
		link->quiet_since_us = now_us;
		if (!evtimer_pending(link->stall_timer, NULL))
			set_timer_ms(link->stall_timer, link->stall_ms);
	}
	link->load.in_flight += (size_t)op->replies_due;
	link->load.riders += requests - 1;
	evtimer_assign(&op->deadline, link->base, on_op_deadline, op);
	if (admitted_us == 0)
		evtimer_add(&op->deadline, link->command_timeout);
	else
		set_timer_ms(&op->deadline,
		             deadline_left_ms(link, admitted_us, now_us));
	return REDIS_SUBMIT_OK;
}

enum redis_submit
redis_link_submit_wire_replicated(struct redis_link *link, redis_reply_fn fn,
                                  void *arg, const char *wire, size_t len,
                                  int min_replicas, size_t requests)
{
	return submit(link, fn, arg, wire, len, min_replicas, requests, 0);
}

enum redis_submit
redis_link_resend_wire_replicated(struct redis_link *link, redis_reply_fn fn,
                                  void *arg, const char *wire, size_t len,
                                  int min_replicas, size_t requests,
                                  uint64_t first_sent_us)
{
	return submit(link, fn, arg, wire, len, min_replicas, requests,
	              first_sent_us);
}

bool
redis_link_past_deadline(const struct redis_link *link, uint64_t sent_us)
{
	return deadline_left_ms(link, sent_us, clock_monotonic_us()) == 0;
}

enum redis_submit
redis_link_reserve(struct redis_link *link, size_t requests)
{
	if (link->state != LINK_UP || link->ac == NULL)
		return REDIS_SUBMIT_DOWN;
	if (link_in_flight(link) + requests > link->max_pending)
		return REDIS_SUBMIT_FULL;
	link->reserved += requests;
	return REDIS_SUBMIT_OK;
}

void
redis_link_release(struct redis_link *link, size_t requests)
{
	link->reserved -= requests;
}

enum redis_submit
redis_link_submit_replicated(struct redis_link *link, redis_reply_fn fn,
                             void *arg, int argc, const char **argv,
                             const size_t *argvlen, int min_replicas)
{
	char *wire;
	int len = redisFormatCommandArgv(&wire, argc, argv, argvlen);
	enum redis_submit r;

	if (len < 0)
		return REDIS_SUBMIT_FULL;
	r = submit(link, fn, arg, wire, (size_t)len, min_replicas, 1, 0);
	redisFreeCommand(wire);
	return r;
}

enum redis_submit
redis_link_submit(struct redis_link *link, redis_reply_fn fn, void *arg,
                  int argc, const char **argv, const size_t *argvlen)
{
	return redis_link_submit_replicated(link, fn, arg, argc, argv, argvlen,
	                                    0);
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
	size_t n = link->load.pending + link->reserved;

	for (const struct lingering *old = link->lingering; old != NULL;
	     old = old->next)
		n += old->load.pending;
	return n;
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

const char *
redis_link_master(const struct redis_link *link, int *port)
{
	if (link->sentinel == NULL || link->master_host[0] == '\0')
		return NULL;
	*port = link->master_port;
	return link->master_host;
}

uint64_t
redis_link_master_switches(const struct redis_link *link)
{
	return link->master_switches;
}

int
redis_link_last_wait_replicas(const struct redis_link *link)
{
	return link->last_wait_replicas;
}
