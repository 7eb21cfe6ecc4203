#include "sessions.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "../clock.h"
#include "../log.h"
#include "../session/record.h"
#include "../session/session_id.h"
#include "script.h"

#define KEY_PREFIX "auth_session:"
#define STATS_KEY  "auth_stats"
#define EXPIRY_KEY "auth_sessions_expiry"
#define COUNTS_KEY "auth_sessions_count"
#define KEY_MAX    (sizeof(KEY_PREFIX) + SESSION_ID_LEN)
/* Keys each status batch visits: one batch holds Redis for well under a
 * millisecond, so that validations interleave with a walk and keep their
 * latency (docs/PERFORMANCE.md has the measurements). */
#define COUNT_BATCH "100"

/*
 * Every script starts with a shebang (Redis 7): without flags Redis then
 * refuses a writing script as a whole while over maxmemory, where a
 * flagless script that has already written once may go on writing.  The
 * read-only ones say no-writes, so that they run under OOM too.
 */

/*
 * The MAX_SESSIONS accounting costs nothing per session: live sessions are
 * counted by the second they expire in.  The hash auth_sessions_count
 * holds "live", "next" (the earliest of those seconds) and, per expiry
 * second (named by the expires_at text of its sessions), how many sessions
 * end then; the sorted set auth_sessions_expiry scores those seconds.  All
 * of it is on Redis's clock as the service reckons it (redis_clock_ms()),
 * which also stamps the records, so a second's name and score agree.
 * Every create is counted, whatever the cap, so that turning the cap on
 * or revoking never miscounts.  A create retires the seconds that have
 * passed once "next" says some have, at most 4 000 at a time (a quiet
 * day can leave tens of thousands; until they are all retired the count
 * errs high): O(1) commands per create, plus O(log N) per retired second.
 */

/* KEYS: session, stats, expiry set, counts.  ARGV: record, ttl, cap,
 * expires_at, expires, now (seconds).  1: written, 0: over the cap. */
static const char create_lua[] =
    "#!lua\n"
    "local at, now = tonumber(ARGV[5]), tonumber(ARGV[6])\n"
    "local c = redis.call('HMGET', KEYS[4], 'live', 'next')\n"
    "local live, nxt = tonumber(c[1]) or 0, tonumber(c[2])\n"
    "if nxt and nxt < now then\n"
    "  for _ = 1, 4 do\n"
    "    local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', "
    "'(' .. now, 'LIMIT', 0, 1000)\n"
    "    if #gone == 0 then break end\n"
    "    for _, n in ipairs(redis.call('HMGET', KEYS[4], unpack(gone))) do\n"
    "      live = live - (tonumber(n) or 0)\n"
    "    end\n"
    "    redis.call('HDEL', KEYS[4], unpack(gone))\n"
    "    redis.call('ZREM', KEYS[3], unpack(gone))\n"
    "    if #gone < 1000 then break end\n"
    "  end\n"
    "  redis.call('HSET', KEYS[4], 'live', live)\n"
    "  nxt = tonumber(redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')[2])\n"
    "  if nxt then redis.call('HSET', KEYS[4], 'next', nxt)\n"
    "  else redis.call('HDEL', KEYS[4], 'next') end\n"
    "end\n"
    "local cap = tonumber(ARGV[3])\n"
    "if cap > 0 and live >= cap then return 0 end\n"
    "redis.call('HINCRBY', KEYS[4], 'live', 1)\n"
    "if redis.call('HINCRBY', KEYS[4], ARGV[4], 1) == 1 then\n"
    "  redis.call('ZADD', KEYS[3], at, ARGV[4])\n"
    "  if not nxt or at < nxt then redis.call('HSET', KEYS[4], 'next', at) "
    "end\n"
    "end\n"
    "redis.call('SETEX', KEYS[1], ARGV[2], ARGV[1])\n"
    "redis.call('HINCRBY', KEYS[2], 'total_created', 1)\n"
    "return 1\n";

/* KEYS: session, stats.  ARGV: used_at, not_after (ms on Redis's clock).
 * 0: not found, 2: already used, 3: too late, 4: not a record of ours,
 * otherwise the updated record.  A command that reaches Redis after the
 * service has given up on it (a frozen Redis that wakes up) must not use
 * the session up behind the 503 the client already has; nor may a record
 * be used up that record_answer() could not answer from.  The flags come
 * first (record.h), so the checks are on the head only. */
static const char validate_lua[] =
    "#!lua\n"
    "local t = redis.call('TIME')\n"
    "if t[1] * 1000 + math.floor(t[2] / 1000) > tonumber(ARGV[2]) then\n"
    "  return 3\n"
    "end\n"
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v then return 0 end\n"
    "local used, unused = '" RECORD_HEAD_USED "', '" RECORD_HEAD_UNUSED "'\n"
    "if string.sub(v, 1, #used) == used then return 2 end\n"
    "local rest = string.sub(v, #unused + 1)\n"
    "local opened = string.match(rest, '^\"iframe_opened\":(%a+),"
    "" RECORD_AFTER_FLAGS "')\n"
    "if string.sub(v, 1, #unused) ~= unused or string.sub(v, -1) ~= '}' or\n"
    "   (opened ~= 'true' and opened ~= 'false') then\n"
    "  return 4\n"
    "end\n"
    "local nv = used .. '" RECORD_USED_AT "' .. ARGV[1] .. '\",' .. rest\n"
    "redis.call('SET', KEYS[1], nv, 'KEEPTTL')\n"
    "redis.call('HINCRBY', KEYS[2], 'total_used', 1)\n"
    "return nv\n";

/* KEYS: session.  The first "iframe_opened": is the service's own flag,
 * which precedes every field a client chose. */
static const char open_lua[] =
    "#!lua\n"
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v then return 0 end\n"
    "local i = string.find(v, '\"iframe_opened\":', 1, true)\n"
    "if not i or string.sub(v, i + 16, i + 20) ~= 'false' then return 0 "
    "end\n"
    "redis.call('SET', KEYS[1], string.sub(v, 1, i + 15) .. 'true' .. "
    "string.sub(v, i + 21), 'KEEPTTL')\n"
    "return 1\n";

/* KEYS: session, expiry set, counts.  Deleting frees memory, so it may
 * run under OOM.  The first "expires_at": is the service's own, which
 * precedes every field a client chose; its second is no longer counted
 * once it has been retired. */
static const char revoke_lua[] =
    "#!lua flags=allow-oom\n"
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v then return 0 end\n"
    "redis.call('DEL', KEYS[1])\n"
    "local b = string.match(v, '\"expires_at\":\"([^\"]*)\"')\n"
    "if b and redis.call('HEXISTS', KEYS[3], b) == 1 then\n"
    "  if redis.call('HINCRBY', KEYS[3], b, -1) <= 0 then\n"
    "    redis.call('HDEL', KEYS[3], b)\n"
    "    redis.call('ZREM', KEYS[2], b)\n"
    "  end\n"
    "  redis.call('HINCRBY', KEYS[3], 'live', -1)\n"
    "end\n"
    "return 1\n";

/* ARGV: cursor, count.  {next cursor, record, ttl, record, ttl, ...} */
static const char list_lua[] =
    "#!lua flags=no-writes\n"
    "local r = redis.call('SCAN', ARGV[1], 'MATCH', 'auth_session:*', "
    "'COUNT', ARGV[2])\n"
    "local out = {r[1]}\n"
    "for _, k in ipairs(r[2]) do\n"
    "  local v = redis.call('GET', k)\n"
    "  if v then\n"
    "    out[#out + 1] = v\n"
    "    out[#out + 1] = redis.call('TTL', k)\n"
    "  end\n"
    "end\n"
    "return out\n";

/* ARGV: cursor, count.  {next cursor, live, used} for one batch.  The
 * used flag is read as the byte after {"used": ('t' is 116, record.h),
 * to keep the batch cheap. */
static const char count_lua[] =
    "#!lua flags=no-writes\n"
    "local r = redis.call('SCAN', ARGV[1], 'MATCH', 'auth_session:*', "
    "'COUNT', ARGV[2])\n"
    "local total, used = 0, 0\n"
    "if #r[2] > 0 then\n"
    "  for _, v in ipairs(redis.call('MGET', unpack(r[2]))) do\n"
    "    if v then\n"
    "      total = total + 1\n"
    "      if string.byte(v, 9) == 116 then used = used + 1 end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "return {r[1], total, used}\n";

struct waiter {
	session_counts_fn fn;
	void *arg;
};

/* The walk in progress, shared by every status request during it. */
struct count_walk {
	struct session_store *store;
	char cursor[24];
	struct session_counts counts;
	struct waiter *waiters;
	size_t nwaiters, cap;
};

struct session_store {
	struct redis_link *link;
	int timeout_ms;
	int min_replicas;              /* REDIS_MIN_REPLICAS */
	int64_t redis_clock_offset_ms; /* Redis's clock minus our monotonic */
	bool measuring;                /* a TIME is on its way, */
	int64_t measure_sent_ms;       /* sent then (monotonic) */
	struct script create, validate, open, revoke, list, count;
	struct count_walk *walk;
	unsigned marks_in_flight; /* iframe_opened marks waiting on Redis */
	uint64_t marks_dropped;
};

static void
session_key(char out[KEY_MAX], const char *id)
{
	snprintf(out, KEY_MAX, KEY_PREFIX "%s", id);
}

static int64_t
monotonic_ms(void)
{
	return (int64_t)(clock_monotonic_us() / 1000);
}

/* Now on Redis's clock, as far as the service can tell: within a round
 * trip of the last TIME, and immune to steps of the local clock. */
static int64_t
redis_clock_ms(const struct session_store *store)
{
	return monotonic_ms() + store->redis_clock_offset_ms;
}

time_t
session_store_now(const struct session_store *store)
{
	return (time_t)(redis_clock_ms(store) / 1000);
}

/*
 * TIME on every (re)connect, and again after a late validation (the
 * clocks may have stepped): how far Redis's clock is from ours.  Redis
 * read its clock between our sending TIME and our reading the answer;
 * reckoning from the sending errs towards a later deadline by the time
 * Redis took to get to it (normally microseconds), where reckoning from
 * the reading would err towards refusing validations by however long the
 * service took to read the answer (a busy or slow service: seconds).
 */
static void
take_redis_time(struct session_store *store, const redisReply *reply,
                int64_t sent_ms)
{
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[1]->type != REDIS_REPLY_STRING)
		return;
	store->redis_clock_offset_ms =
	    strtoll(reply->element[0]->str, NULL, 10) * 1000 +
	    strtoll(reply->element[1]->str, NULL, 10) / 1000 - sent_ms;
}

static void
on_handshake_time(void *arg, const redisReply *reply)
{
	struct session_store *store = arg;

	take_redis_time(
	    store, reply,
	    (int64_t)(redis_link_handshake_sent_us(store->link) / 1000));
}

static void
on_time_measured(void *arg, enum redis_outcome outcome, const redisReply *reply)
{
	struct session_store *store = arg;

	store->measuring = false;
	if (outcome == REDIS_REPLIED)
		take_redis_time(store, reply, store->measure_sent_ms);
}

static void
measure_clock(struct session_store *store)
{
	const char *argv[] = {"TIME"};

	if (store->measuring)
		return;
	store->measure_sent_ms = monotonic_ms();
	store->measuring =
	    redis_link_submit(store->link, on_time_measured, store, 1, argv,
	                      NULL) == REDIS_SUBMIT_OK;
}

struct session_store *
session_store_create(struct redis_link *link, int timeout_ms, int min_replicas)
{
	struct session_store *store = calloc(1, sizeof(*store));
	const char *time_argv[] = {"TIME"};

	if (store == NULL)
		return NULL;
	store->link = link;
	store->timeout_ms = timeout_ms;
	store->min_replicas = min_replicas;
	/* Until Redis answers TIME: our own wall clock. */
	store->redis_clock_offset_ms =
	    (int64_t)time(NULL) * 1000 - monotonic_ms();
	store->create = (struct script){"create", create_lua, ""};
	store->validate = (struct script){"validate", validate_lua, ""};
	store->open = (struct script){"open", open_lua, ""};
	store->revoke = (struct script){"revoke", revoke_lua, ""};
	store->list = (struct script){"list", list_lua, ""};
	store->count = (struct script){"count", count_lua, ""};
	if (!redis_link_add_handshake(link, 1, time_argv, on_handshake_time,
	                              store) ||
	    !script_register(link, &store->create) ||
	    !script_register(link, &store->validate) ||
	    !script_register(link, &store->open) ||
	    !script_register(link, &store->revoke) ||
	    !script_register(link, &store->list) ||
	    !script_register(link, &store->count)) {
		free(store);
		return NULL;
	}
	return store;
}

void
session_store_destroy(struct session_store *store)
{
	/* A walk still running ends with the link, which goes first. */
	free(store);
}

enum redis_submit
session_store_eval_ending(struct session_store *store, const struct script *s,
                          int nkeys, int nargs, const char *const *args,
                          redis_reply_fn fn, void *arg)
{
	return script_eval_replicated(store->link, s, nkeys, nargs, args,
	                              store->min_replicas, fn, arg);
}

enum redis_submit
session_store_create_session(struct session_store *store, const char *id,
                             const char *record, int ttl,
                             const char *expires_at, time_t expires,
                             int max_sessions, redis_reply_fn fn, void *arg)
{
	char key[KEY_MAX], ttl_text[16], cap[16], at[24], now[24];
	const char *args[] = {key,    STATS_KEY, EXPIRY_KEY, COUNTS_KEY,
	                      record, ttl_text,  cap,        expires_at,
	                      at,     now};

	session_key(key, id);
	snprintf(ttl_text, sizeof(ttl_text), "%d", ttl);
	snprintf(cap, sizeof(cap), "%d", max_sessions);
	snprintf(at, sizeof(at), "%lld", (long long)expires);
	snprintf(now, sizeof(now), "%lld", (long long)session_store_now(store));
	return script_eval(store->link, &store->create, 4, 6, args, fn, arg);
}

enum store_result
session_store_create_result(enum redis_outcome outcome, const redisReply *reply)
{
	if (outcome != REDIS_REPLIED || reply->type != REDIS_REPLY_INTEGER)
		return STORE_UNAVAILABLE;
	return reply->integer == 1 ? STORE_OK : STORE_LIMIT_REACHED;
}

enum redis_submit
session_store_validate(struct session_store *store, const char *id,
                       const char *used_at, redis_reply_fn fn, void *arg)
{
	char key[KEY_MAX], not_after[24];
	const char *args[] = {key, STATS_KEY, used_at, not_after};

	/* Half the deadline: a reply still on its way when the service gives
	 * up would otherwise use the session up behind a 503. */
	snprintf(not_after, sizeof(not_after), "%" PRId64,
	         redis_clock_ms(store) + store->timeout_ms / 2);
	session_key(key, id);
	return session_store_eval_ending(store, &store->validate, 2, 2, args,
	                                 fn, arg);
}

enum store_result
session_store_validate_result(struct session_store *store,
                              enum redis_outcome outcome,
                              const redisReply *reply, const char **record,
                              size_t *len)
{
	if (outcome != REDIS_REPLIED)
		return STORE_UNAVAILABLE;
	if (reply->type == REDIS_REPLY_STRING) {
		*record = reply->str;
		*len = reply->len;
		return STORE_OK;
	}
	if (reply->type != REDIS_REPLY_INTEGER)
		return STORE_UNAVAILABLE;
	switch (reply->integer) {
	case 0:
		return STORE_NOT_FOUND;
	case 2:
		return STORE_ALREADY_USED;
	case 3:
		log_warning("validation reached redis after its deadline; "
		            "refused there, session left unused");
		measure_clock(store);
		return STORE_UNAVAILABLE;
	case 4:
		log_error("stored session record is not in the service's "
		          "format; session left unused");
		return STORE_UNAVAILABLE;
	default:
		return STORE_UNAVAILABLE;
	}
}

/*
 * The iframe_opened marks waiting on Redis at once.  A mark costs one
 * short script; a flood of page loads (a reload loop, a crawler, a page
 * embedded many times) must not fill REDIS_MAX_PENDING or Redis's queue
 * ahead of validations.  Sixteen marks of ~0.1 ms each keep up with tens of
 * thousands of page loads a second on a healthy Redis; when Redis slows
 * down, marks beyond them are dropped, which costs only the flag.  A cap
 * rather than coalescing by id: it bounds the cost whatever the ids, with
 * no table to keep.
 */
#define MARKS_IN_FLIGHT_MAX 16

static void
on_marked_opened(void *arg, enum redis_outcome outcome, const redisReply *reply)
{
	struct session_store *store = arg;

	(void)reply;
	store->marks_in_flight--;
	if (outcome != REDIS_REPLIED)
		log_debug("iframe_opened not recorded");
}

void
session_store_mark_opened(struct session_store *store, const char *id)
{
	char key[KEY_MAX];
	const char *args[] = {key};

	if (store->marks_in_flight >= MARKS_IN_FLIGHT_MAX) {
		store->marks_dropped++;
		log_debug("iframe_opened not recorded: %d marks in flight",
		          MARKS_IN_FLIGHT_MAX);
		return;
	}
	session_key(key, id);
	if (script_eval(store->link, &store->open, 1, 0, args, on_marked_opened,
	                store) != REDIS_SUBMIT_OK) {
		log_debug("iframe_opened not recorded: redis unavailable");
		return;
	}
	store->marks_in_flight++;
}

uint64_t
session_store_marks_dropped(const struct session_store *store)
{
	return store->marks_dropped;
}

enum redis_submit
session_store_revoke(struct session_store *store, const char *id,
                     redis_reply_fn fn, void *arg)
{
	char key[KEY_MAX];
	const char *args[] = {key, EXPIRY_KEY, COUNTS_KEY};

	session_key(key, id);
	return session_store_eval_ending(store, &store->revoke, 3, 0, args, fn,
	                                 arg);
}

enum store_result
session_store_revoke_result(enum redis_outcome outcome, const redisReply *reply)
{
	if (outcome != REDIS_REPLIED || reply->type != REDIS_REPLY_INTEGER)
		return STORE_UNAVAILABLE;
	return reply->integer > 0 ? STORE_OK : STORE_NOT_FOUND;
}

enum redis_submit
session_store_list(struct session_store *store, const char *cursor, int count,
                   redis_reply_fn fn, void *arg)
{
	char count_text[16];
	const char *args[] = {cursor, count_text};

	snprintf(count_text, sizeof(count_text), "%d", count);
	return script_eval(store->link, &store->list, 0, 2, args, fn, arg);
}

enum store_result
session_store_list_result(enum redis_outcome outcome, const redisReply *reply,
                          struct session_page *page)
{
	if (outcome != REDIS_REPLIED || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements % 2 != 1 ||
	    reply->element[0]->type != REDIS_REPLY_STRING)
		return STORE_UNAVAILABLE;
	for (size_t i = 1; i < reply->elements; i += 2) {
		if (reply->element[i]->type != REDIS_REPLY_STRING ||
		    reply->element[i + 1]->type != REDIS_REPLY_INTEGER)
			return STORE_UNAVAILABLE;
	}
	page->cursor = reply->element[0]->str;
	page->count = reply->elements / 2;
	page->reply = reply;
	return STORE_OK;
}

void
session_page_entry(const struct session_page *page, size_t i,
                   const char **record, size_t *len, long long *ttl)
{
	const redisReply *rec = page->reply->element[1 + 2 * i];

	*record = rec->str;
	*len = rec->len;
	*ttl = page->reply->element[2 + 2 * i]->integer;
}

/* Tells every waiter and ends the walk. */
static void
walk_finish(struct count_walk *walk, enum store_result result)
{
	walk->store->walk = NULL;
	for (size_t i = 0; i < walk->nwaiters; i++)
		walk->waiters[i].fn(walk->waiters[i].arg, result,
		                    &walk->counts);
	free(walk->waiters);
	free(walk);
}

static long long
reply_number(const redisReply *r)
{
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (r->type == REDIS_REPLY_STRING)
		return strtoll(r->str, NULL, 10);
	return 0;
}

static void
on_stats(void *arg, enum redis_outcome outcome, const redisReply *reply)
{
	struct count_walk *walk = arg;

	if (outcome != REDIS_REPLIED || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 2) {
		walk_finish(walk, STORE_UNAVAILABLE);
		return;
	}
	walk->counts.total_created = reply_number(reply->element[0]);
	walk->counts.total_used = reply_number(reply->element[1]);
	walk_finish(walk, STORE_OK);
}

static bool walk_step(struct count_walk *walk);

static void
on_count_batch(void *arg, enum redis_outcome outcome, const redisReply *reply)
{
	struct count_walk *walk = arg;
	static const char *hmget[] = {"HMGET", STATS_KEY, "total_created",
	                              "total_used"};

	if (outcome != REDIS_REPLIED || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 3 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[0]->len >= sizeof(walk->cursor)) {
		walk_finish(walk, STORE_UNAVAILABLE);
		return;
	}
	memcpy(walk->cursor, reply->element[0]->str,
	       reply->element[0]->len + 1);
	walk->counts.total += reply->element[1]->integer;
	walk->counts.used += reply->element[2]->integer;
	if (strcmp(walk->cursor, "0") != 0) {
		if (!walk_step(walk))
			walk_finish(walk, STORE_UNAVAILABLE);
		return;
	}
	if (redis_link_submit(walk->store->link, on_stats, walk, 4, hmget,
	                      NULL) != REDIS_SUBMIT_OK)
		walk_finish(walk, STORE_UNAVAILABLE);
}

/* Sends the next batch; false when it could not be sent. */
static bool
walk_step(struct count_walk *walk)
{
	const char *args[] = {walk->cursor, COUNT_BATCH};

	return script_eval(walk->store->link, &walk->store->count, 0, 2, args,
	                   on_count_batch, walk) == REDIS_SUBMIT_OK;
}

static bool
walk_add_waiter(struct count_walk *walk, session_counts_fn fn, void *arg)
{
	if (walk->nwaiters == walk->cap) {
		size_t cap = walk->cap ? walk->cap * 2 : 4;
		struct waiter *w = realloc(walk->waiters, cap * sizeof(*w));

		if (w == NULL)
			return false;
		walk->waiters = w;
		walk->cap = cap;
	}
	walk->waiters[walk->nwaiters++] = (struct waiter){fn, arg};
	return true;
}

bool
session_store_count(struct session_store *store, session_counts_fn fn,
                    void *arg)
{
	struct count_walk *walk = store->walk;

	if (walk != NULL)
		return walk_add_waiter(walk, fn, arg);
	walk = calloc(1, sizeof(*walk));
	if (walk == NULL)
		return false;
	walk->store = store;
	strcpy(walk->cursor, "0");
	if (!walk_add_waiter(walk, fn, arg) || !walk_step(walk)) {
		free(walk->waiters);
		free(walk);
		return false;
	}
	store->walk = walk;
	return true;
}
