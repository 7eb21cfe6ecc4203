/* Calls of one script made in the same event-loop turn, sent to Redis as
 * one call of it.
 *
 * Each call inside a script costs Redis about as much as the command it
 * runs (measured in docs/PERFORMANCE.md, "Coalescing"), and a request
 * alone pays for its own TIME, GET and counters.  A batch script reads the
 * clock once, all records with one MGET and updates the counters once for
 * the lot; only the writes each request needs stay its own.
 *
 * Nothing waits to fill a batch: the first request of a turn arms an
 * event that runs at the end of that same turn, after every request
 * already read has been added, and the calls are sent then, BATCH_MAX
 * requests at most in each.  One request alone is sent in the turn it
 * came in, as it would have been without batching.
 *
 * The script gets the shared keys first, then each request's keys, then
 * each request's arguments, in the order the requests came; it answers an
 * array with one element per request, in the same order.  An element that
 * is an error reply reaches its caller alone as REDIS_ERROR_REPLY.  A
 * failure of the whole call (an error reply, a deadline, the link lost,
 * WAIT short of replicas) reaches every caller as it would have reached
 * each alone; so does an answer that is not such an array (as
 * REDIS_REPLIED with the whole reply, which every caller refuses).
 *
 * The same contract as redis_link_submit(): when batch_add() returns
 * REDIS_SUBMIT_OK the callback runs exactly once, later, never from inside
 * batch_add(); otherwise it never runs.  Each request counts against the
 * link's REDIS_MAX_PENDING from batch_add() until its call's reply is
 * read (redis_link_reserve()).
 */
#ifndef IFRAME_AUTH_STORE_BATCH_H
#define IFRAME_AUTH_STORE_BATCH_H

#include <stddef.h>

#include "redis_link.h"
#include "script.h"

/* For the batch scripts: calls one(i) for each request i of the call, in
 * order, and answers the array of their answers; a request whose one()
 * raises an error answers that error alone (a redis.call error is one
 * already).  Whatever one() wrote before its error stays, as it would
 * have stayed in a call of its own. */
#define BATCH_LUA                                                  \
	"local function each_request(n, one)\n"                    \
	"  local out = {}\n"                                       \
	"  for i = 1, n do\n"                                      \
	"    local ok, r = pcall(one, i)\n"                        \
	"    out[i] = (ok or type(r) == 'table') and r or {err = " \
	"tostring(r)}\n"                                           \
	"  end\n"                                                  \
	"  return out\n"                                           \
	"end\n"

#define BATCH_MAX      64 /* requests in one call */
#define BATCH_EACH_MAX 12 /* keys and arguments of one request */

struct event_base;
struct batch;

struct batch_shape {
	const char *const *shared_keys; /* the same for every request */
	int nshared;
	int keys_each;    /* keys of one request */
	int args_each;    /* arguments of one request */
	int min_replicas; /* WAIT behind each call when > 0 */
};

/* script must outlive the batch, as must shape's shared keys. */
struct batch *batch_create(struct event_base *base, struct redis_link *link,
                           const struct script *script,
                           const struct batch_shape *shape);

/* Answers every request not yet sent with REDIS_LINK_LOST and frees the
 * batch.  Call it after redis_link_destroy(), which answers the calls
 * already sent (the room the others held goes with the link).  NULL is a
 * no-op. */
void batch_destroy(struct batch *b);

/*
 * Adds one request: keys_each keys followed by args_each arguments
 * (NUL-terminated strings, copied).  REDIS_SUBMIT_DOWN while the link is
 * not up; REDIS_SUBMIT_FULL when REDIS_MAX_PENDING requests already wait
 * on Redis, each request of a batch counted.
 */
enum redis_submit batch_add(struct batch *b, const char *const *keys_args,
                            redis_reply_fn fn, void *arg)
    __attribute__((warn_unused_result));

#endif
