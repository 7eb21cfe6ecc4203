#include "sessions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "../log.h"
#include "../session/session_id.h"
#include "script.h"

#define KEY_PREFIX "auth_session:"
#define STATS_KEY  "auth_stats"
#define LIVE_KEY   "auth_sessions_live"
#define KEY_MAX    (sizeof(KEY_PREFIX) + SESSION_ID_LEN)
/* Keys each status batch visits: big enough for few round trips, small
 * enough that one batch holds Redis for about a millisecond. */
#define COUNT_BATCH "1000"

/*
 * Every script starts with a shebang (Redis 7): without flags Redis then
 * refuses a writing script as a whole while over maxmemory, where a
 * flagless script that has already written once may go on writing.  The
 * read-only ones say no-writes, so that they run under OOM too.
 */

/* KEYS: session, stats, live set.  ARGV: record, ttl, cap, id.
 * Drops expired ids from the live set, checks the cap, then writes. */
static const char create_lua[] =
    "#!lua\n"
    "local cap = tonumber(ARGV[3])\n"
    "local now = tonumber(redis.call('TIME')[1])\n"
    "if cap > 0 then\n"
    "  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)\n"
    "  if redis.call('ZCARD', KEYS[3]) >= cap then return 0 end\n"
    "  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[2]), ARGV[4])\n"
    "end\n"
    "redis.call('SETEX', KEYS[1], ARGV[2], ARGV[1])\n"
    "redis.call('HINCRBY', KEYS[2], 'total_created', 1)\n"
    "return 1\n";

/* KEYS: session, stats.  ARGV: used_at.  0: not found, 2: already used,
 * otherwise the updated record.  The record starts with the used flag
 * (see record.h), so the check is on the head only. */
static const char validate_lua[] =
    "#!lua\n"
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v then return 0 end\n"
    "if string.sub(v, 1, 14) ~= '{\"used\":false,' then return 2 end\n"
    "local nv = '{\"used\":true,\"used_at\":\"' .. ARGV[1] .. '\",' .. "
    "string.sub(v, 15)\n"
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

/* KEYS: session, live set.  ARGV: id.  Deleting frees memory, so it may
 * run under OOM. */
static const char revoke_lua[] = "#!lua flags=allow-oom\n"
                                 "local n = redis.call('DEL', KEYS[1])\n"
                                 "redis.call('ZREM', KEYS[2], ARGV[1])\n"
                                 "return n\n";

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

/* ARGV: cursor, count.  {next cursor, live, used} for one batch.  One
 * MGET per 500 keys, and the used flag read as the byte after
 * {"used": ('t' is 116), keep the batch cheap. */
static const char count_lua[] =
    "#!lua flags=no-writes\n"
    "local r = redis.call('SCAN', ARGV[1], 'MATCH', 'auth_session:*', "
    "'COUNT', ARGV[2])\n"
    "local keys, total, used = r[2], 0, 0\n"
    "for i = 1, #keys, 500 do\n"
    "  local values = redis.call('MGET', unpack(keys, i, math.min(i + 499, "
    "#keys)))\n"
    "  for _, v in ipairs(values) do\n"
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
	struct script create, validate, open, revoke, list, count;
	struct count_walk *walk;
};

static void
session_key(char out[KEY_MAX], const char *id)
{
	snprintf(out, KEY_MAX, KEY_PREFIX "%s", id);
}

struct session_store *
session_store_create(struct redis_link *link)
{
	struct session_store *store = calloc(1, sizeof(*store));

	if (store == NULL)
		return NULL;
	store->link = link;
	store->create = (struct script){"create", create_lua, ""};
	store->validate = (struct script){"validate", validate_lua, ""};
	store->open = (struct script){"open", open_lua, ""};
	store->revoke = (struct script){"revoke", revoke_lua, ""};
	store->list = (struct script){"list", list_lua, ""};
	store->count = (struct script){"count", count_lua, ""};
	if (!script_register(link, &store->create) ||
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
session_store_create_session(struct session_store *store, const char *id,
                             const char *record, int ttl, int max_sessions,
                             redis_reply_fn fn, void *arg)
{
	char key[KEY_MAX], ttl_text[16], cap[16];
	const char *args[] = {key,      STATS_KEY, LIVE_KEY, record,
	                      ttl_text, cap,       id};

	session_key(key, id);
	snprintf(ttl_text, sizeof(ttl_text), "%d", ttl);
	snprintf(cap, sizeof(cap), "%d", max_sessions);
	return script_eval(store->link, &store->create, 3, 4, args, fn, arg);
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
	char key[KEY_MAX];
	const char *args[] = {key, STATS_KEY, used_at};

	session_key(key, id);
	return script_eval(store->link, &store->validate, 2, 1, args, fn, arg);
}

enum store_result
session_store_validate_result(enum redis_outcome outcome,
                              const redisReply *reply, const char **record,
                              size_t *len)
{
	if (outcome != REDIS_REPLIED)
		return STORE_UNAVAILABLE;
	if (reply->type == REDIS_REPLY_INTEGER)
		return reply->integer == 0 ? STORE_NOT_FOUND
		                           : STORE_ALREADY_USED;
	if (reply->type != REDIS_REPLY_STRING)
		return STORE_UNAVAILABLE;
	*record = reply->str;
	*len = reply->len;
	return STORE_OK;
}

static void
on_marked_opened(void *arg, enum redis_outcome outcome, const redisReply *reply)
{
	(void)arg;
	(void)reply;
	if (outcome != REDIS_REPLIED)
		log_debug("iframe_opened not recorded");
}

void
session_store_mark_opened(struct session_store *store, const char *id)
{
	char key[KEY_MAX];
	const char *args[] = {key};

	session_key(key, id);
	if (script_eval(store->link, &store->open, 1, 0, args, on_marked_opened,
	                NULL) != REDIS_SUBMIT_OK)
		log_debug("iframe_opened not recorded: redis unavailable");
}

enum redis_submit
session_store_revoke(struct session_store *store, const char *id,
                     redis_reply_fn fn, void *arg)
{
	char key[KEY_MAX];
	const char *args[] = {key, LIVE_KEY, id};

	session_key(key, id);
	return script_eval(store->link, &store->revoke, 2, 1, args, fn, arg);
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
