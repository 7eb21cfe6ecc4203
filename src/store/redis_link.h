/* The one connection to Redis: hiredis async on the service's event loop.
 *
 * The link connects (resolving the host without blocking), authenticates,
 * selects the database and pings; only after those replies does it count
 * as up.  When it drops it reconnects from a timer with backoff (50 ms
 * doubling to 2 s).
 *
 * Each command carries a deadline (REDIS_TIMEOUT_MS) on a libevent timer.
 * A command that misses it is answered REDIS_TIMED_OUT alone: the link
 * stays up, and the late reply, when it comes, is read and ignored (the
 * link keeps its own record of the command until then; the caller's is
 * never touched again).  The link is dropped only when commands have
 * waited for two whole deadlines with nothing at all read from Redis:
 * then Redis is frozen or gone, not merely slow.  Measured with
 * REDIS_TIMEOUT_MS=500: a Redis busy for 700 ms costs the commands sent
 * in its first 200 ms their 503, and nothing else; a SIGSTOPped Redis is
 * declared down 1.0 s after the first unanswered command went out.
 * Replies come in order, so a slow command delays those behind it; each
 * of them times out only if it waited a whole deadline.
 *
 * Such a silence drop does not answer the commands waiting at once: a
 * frozen Redis that wakes still runs what it had received, even from a
 * closed connection, and a 503 must not hide what it did (a session used
 * up).  Their connection is kept open and read, detached from the link,
 * and each of them hears its own reply or its own deadline
 * (REDIS_TIMED_OUT), as on a live link; new commands go to the next
 * connection (REDIS_SUBMIT_DOWN until it is up).  The old connection is
 * closed once no caller waits on it, at most one deadline later, or at
 * redis_link_destroy().  Every other drop (the peer closed or reset the
 * connection, a wrong node's error, a +switch-master) answers what waits
 * at once with REDIS_LINK_LOST.  max_pending bounds the requests in
 * flight on every connection (a batched command counts each it carries),
 * including the ones whose callers already had their deadline.
 *
 * An error reply READONLY, NOAUTH or MASTERDOWN means the connection
 * reaches a replica or lost its AUTH: that caller gets REDIS_ERROR_REPLY,
 * and the link is dropped and reopened with the whole handshake.  While a
 * node keeps answering so, the reconnects back off as after any drop.
 *
 * With REDIS_SENTINELS the link asks the sentinels where the master is
 * before every connection (sentinel.h), and counts as up only once ROLE
 * says master; a +switch-master for our master drops it at once.
 *
 * redis_link_submit_wire_replicated() pipelines WAIT behind a write, for
 * REDIS_MIN_REPLICAS: its caller hears REDIS_REPLIED only once enough
 * replicas have the write.
 *
 * The invariant callers rely on: when redis_link_submit() returns
 * REDIS_SUBMIT_OK, the callback runs exactly once, later, never from inside
 * redis_link_submit(), whichever comes first of the reply, the deadline,
 * the link dropping, or redis_link_destroy().  Any other return means the
 * callback will never run.  A reply is valid only inside the callback.
 */
#ifndef IFRAME_AUTH_STORE_REDIS_LINK_H
#define IFRAME_AUTH_STORE_REDIS_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct metrics;
struct evdns_base;
struct redisReply;
struct redis_link;

struct redis_link_options {
	const char *host;
	int port;
	const char *socket_path; /* used instead of host/port when non-empty */
	int db;
	const char *password; /* AUTH when non-empty */
	int timeout_ms;
	size_t max_pending; /* commands in flight, see below */
	/* "host:port,..." (checked by config.c): find the master through
	 * these sentinels; host and port are then unused. */
	const char *sentinels;
	const char *sentinel_master;
	const char *sentinel_password;
	struct metrics *metrics; /* round trips are observed here */
};

enum redis_submit {
	REDIS_SUBMIT_OK,
	REDIS_SUBMIT_DOWN, /* link not up */
	REDIS_SUBMIT_FULL, /* max_pending commands already in flight */
};

enum redis_outcome {
	REDIS_REPLIED,     /* reply holds Redis's answer (not an error) */
	REDIS_ERROR_REPLY, /* reply is an error reply (LOADING, OOM, ...) */
	REDIS_TIMED_OUT,   /* no reply within the deadline; reply is NULL */
	REDIS_LINK_LOST,   /* the link dropped first; reply is NULL */
	/* The write ran (reply holds its answer) but fewer replicas than
	 * asked acknowledged it within WAIT's timeout. */
	REDIS_NOT_REPLICATED,
};

typedef void (*redis_reply_fn)(void *arg, enum redis_outcome outcome,
                               const struct redisReply *reply);

/* Creates the link and starts connecting.  The strings in opt are
 * copied. */
struct redis_link *redis_link_create(struct event_base *base,
                                     struct evdns_base *dns,
                                     const struct redis_link_options *opt);

/* Answers every waiting command with REDIS_LINK_LOST, closes the
 * connection and frees the link.  NULL is a no-op. */
void redis_link_destroy(struct redis_link *link);

/* Registers a command sent on every (re)connect after AUTH and SELECT,
 * before the PING; the link is up only once it succeeds.  on_reply (may
 * be NULL) sees each successful reply, e.g. the SHA1 of a SCRIPT LOAD.
 * Call before the event loop runs. */
bool redis_link_add_handshake(struct redis_link *link, int argc,
                              const char **argv,
                              void (*on_reply)(void *arg,
                                               const struct redisReply *reply),
                              void *arg) __attribute__((warn_unused_result));

enum redis_submit redis_link_submit(struct redis_link *link, redis_reply_fn fn,
                                    void *arg, int argc, const char **argv,
                                    const size_t *argvlen)
    __attribute__((warn_unused_result));

/*
 * The same for one command already in Redis's wire form (RESP), len
 * bytes, which the link copies; followed, when min_replicas > 0, on the
 * same connection by WAIT min_replicas
 * <REDIS_TIMEOUT_MS / 4>, pipelined (no extra round trip), with one
 * callback for both: it hears the command's reply once WAIT has
 * answered, as REDIS_REPLIED when at least min_replicas replicas
 * acknowledged, REDIS_NOT_REPLICATED otherwise.  An error reply to the
 * command is REDIS_ERROR_REPLY at once.  It counts as two commands
 * against max_pending.  With min_replicas 0 it is a plain command.
 * requests is how many requests the command carries (a batch, batch.h):
 * it counts as that many against max_pending until its own reply is
 * read.
 */
enum redis_submit
redis_link_submit_wire_replicated(struct redis_link *link, redis_reply_fn fn,
                                  void *arg, const char *wire, size_t len,
                                  int min_replicas, size_t requests)
    __attribute__((warn_unused_result));

/* The same for requests already admitted, sent again after an error
 * reply to what was sent at first_sent_us (clock_monotonic_us(); NOSCRIPT):
 * max_pending does not turn them away, so that a request, once admitted,
 * is never refused for room (the cap is passed by the first send's WAIT
 * until it answers, one per call), and the deadline stays the first
 * send's, so that no caller waits longer for the resend. */
enum redis_submit redis_link_resend_wire_replicated(
    struct redis_link *link, redis_reply_fn fn, void *arg, const char *wire,
    size_t len, int min_replicas, size_t requests, uint64_t first_sent_us)
    __attribute__((warn_unused_result));

/* Whether a command sent at sent_us (clock_monotonic_us()) is past its
 * deadline: then it is not worth sending again. */
bool redis_link_past_deadline(const struct redis_link *link, uint64_t sent_us);

/* Holds room for requests to be sent later in a batch (batch.h), a WAIT
 * counted as one: REDIS_SUBMIT_DOWN or REDIS_SUBMIT_FULL as a submit
 * would answer, else the room is held until redis_link_release() gives it
 * back, right before the batch is submitted. */
enum redis_submit redis_link_reserve(struct redis_link *link, size_t requests)
    __attribute__((warn_unused_result));
void redis_link_release(struct redis_link *link, size_t requests);

/* redis_link_submit() with WAIT behind it, as above. */
enum redis_submit
redis_link_submit_replicated(struct redis_link *link, redis_reply_fn fn,
                             void *arg, int argc, const char **argv,
                             const size_t *argvlen, int min_replicas)
    __attribute__((warn_unused_result));

bool redis_link_is_up(const struct redis_link *link);
/* When the current connection's handshake was sent
 * (clock_monotonic_us()), for handshake replies that need it. */
uint64_t redis_link_handshake_sent_us(const struct redis_link *link);
/* Why the link is down, for health answers ("" while up). */
const char *redis_link_last_error(const struct redis_link *link);
/* Requests waiting for their answer, each of a batch counted, and those
 * reserved to be sent. */
size_t redis_link_pending(const struct redis_link *link);
uint64_t redis_link_reconnects(const struct redis_link *link);
/* Commands whose caller was answered by the deadline. */
uint64_t redis_link_timeouts(const struct redis_link *link);
/* With sentinels, the master the link was last up on (NULL before, and
 * without sentinels); valid until the link is next up. */
const char *redis_link_master(const struct redis_link *link, int *port);
/* Times the link came up on another master than the last. */
uint64_t redis_link_master_switches(const struct redis_link *link);
/* Replicas that acknowledged the last write WAIT asked about. */
int redis_link_last_wait_replicas(const struct redis_link *link);

#endif
