/* Where the Redis master is, asked of Redis Sentinel (spec §10), on the
 * service's event loop: the link asks, the sentinels answer.
 *
 * An answer comes from the first sentinel in the list that answers,
 * each given timeout_ms (resolving, connecting, AUTH and the question
 * together: hiredis 0.14 has no timeout of its own, and a sentinel
 * behind a black hole never calls back).  The sentinel that answered
 * moves to the front, so that a dead one costs its timeout once, not at
 * every reconnect.  Each question opens its own short connection.
 *
 * One more connection, to one sentinel, subscribes to +switch-master and
 * reports a new address for our master as soon as the sentinels announce
 * it.  It is an accelerator only: when it is lost it comes back after a
 * second, on the next sentinel, and nothing waits for it.
 *
 * REDIS_SENTINEL_PASSWORD goes to every sentinel with AUTH; it is never
 * logged, nor is the text of an AUTH error.
 */
#ifndef IFRAME_AUTH_STORE_SENTINEL_H
#define IFRAME_AUTH_STORE_SENTINEL_H

#include <stdbool.h>

struct event_base;
struct evdns_base;
struct sentinel;

enum sentinel_result {
	SENTINEL_FOUND,          /* host and port are the master's */
	SENTINEL_NO_ANSWER,      /* no sentinel answered the question */
	SENTINEL_NO_SUCH_MASTER, /* those that answered know no such name */
};

/* host and port are set with SENTINEL_FOUND only; host is valid inside
 * the call only. */
typedef void (*sentinel_answer_fn)(void *arg, enum sentinel_result result,
                                   const char *host, int port);
/* The sentinels announced a new address for our master. */
typedef void (*sentinel_switch_fn)(void *arg, const char *host, int port);

struct sentinel_options {
	const char *sentinels; /* "host:port,...", as checked by config.c */
	const char *master;    /* the master's name at the sentinels */
	const char *password;  /* AUTH when non-empty */
	int timeout_ms;        /* per sentinel */
	sentinel_switch_fn on_switch;
	void *arg;
};

/* Creates the module and starts the +switch-master subscription.  The
 * strings are copied.  NULL when the list does not parse or on memory
 * exhaustion. */
struct sentinel *sentinel_create(struct event_base *base,
                                 struct evdns_base *dns,
                                 const struct sentinel_options *opt);
/* Closes every connection; a question on its way is never answered.
 * NULL is a no-op. */
void sentinel_destroy(struct sentinel *s);

/*
 * Asks the sentinels where the master is.  fn runs exactly once, later
 * (never inside this call), unless sentinel_cancel() or
 * sentinel_destroy() comes first.  One question at a time: a second
 * while one is on its way cancels the first.
 */
void sentinel_ask(struct sentinel *s, sentinel_answer_fn fn, void *arg);
/* The question on its way, if any, is never answered. */
void sentinel_cancel(struct sentinel *s);

const char *sentinel_master_name(const struct sentinel *s);
/* Why the last sentinel asked gave no answer ("host:port: reason"), for
 * the log after SENTINEL_NO_ANSWER. */
const char *sentinel_last_failure(const struct sentinel *s);

#endif
