#include "embed.h"

#include <stdio.h>
#include <stdlib.h>

#include <hiredis/hiredis.h>

#include "batch.h"
#include "script.h"
#include "user_gen.h"

/* Verifications of one event-loop turn, in one call (batch.h).  KEYS: the
 * embed key of each; ARGV: the idle timeout (s) of each.  Answers one
 * element for each: 0: no such key, 2: past its absolute expiry (deleted
 * now), 4: not a record of ours, 5: its user was revoked since it was
 * opened (user_gen.h; left as it is, not slid), an error of its own,
 * otherwise the record.  Redis's own clock decides, as it does for the
 * TTL; a key whose TTL ran out is simply gone (0).  The new expiry is an
 * absolute time: a relative one counts from when PEXPIREAT runs, after
 * TIME, and could reach past the absolute end.  Extending a TTL allocates
 * nothing, so it may run under OOM.  The clock and the records are read
 * once for the call. */
static const char verify_lua[] =
    "#!lua flags=allow-oom\n" BATCH_LUA USER_GEN_LUA
    "local function verify_one(key, v, idle, now)\n"
    "  -- MGET reads a key of another type as none.\n"
    "  if not v then return redis.call('EXISTS', key) == 1 and 4 or 0 end\n"
    "  local at = tonumber(string.match(v, '^" EMBED_RECORD_HEAD "(%d+),'))\n"
    "  if not at then return 4 end\n"
    "  if at * 1000 <= now then\n"
    "    redis.call('DEL', key)\n"
    "    return 2\n"
    "  end\n"
    "  -- Revoke-all: the generation follows expires_at, then come\n"
    "  -- allowed_origins and user_id when the session has them; a user_id\n"
    "  -- with escapes, or elsewhere, is decoded.\n"
    "  local gen, p = string.match(v, '\"generation\":(%d+)()')\n"
    "  local o = p and string.match(v, '^,\"allowed_origins\":%b[]()', p)\n"
    "  local uid = p and string.match(v, '^,\"user_id\":\"([^\"\\\\]*)\"', "
    "o or p)\n"
    "  if not uid and string.find(v, '\"user_id\"', 1, true) then\n"
    "    local ok, r = pcall(cjson.decode, v)\n"
    "    if not ok or type(r) ~= 'table' then return 4 end\n"
    "    uid, gen = r.user_id, r.generation\n"
    "  end\n"
    "  if type(uid) == 'string' and user_revoked(uid, gen) then return 5 end\n"
    "  redis.call('PEXPIREAT', key, math.min(now + tonumber(idle) * 1000,\n"
    "                                        at * 1000))\n"
    "  return v\n"
    "end\n"
    "local t = redis.call('TIME')\n"
    "local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"
    "local values = redis.call('MGET', unpack(KEYS))\n"
    "return each_request(#KEYS, function(i)\n"
    "  return verify_one(KEYS[i], values[i], ARGV[i], now)\n"
    "end)\n";

struct embed_store {
	struct redis_link *link;
	int min_replicas;
	struct script verify;
	struct batch *verifications;
};

struct embed_store *
embed_store_create(struct event_base *base, struct redis_link *link,
                   int min_replicas)
{
	const struct batch_shape verify_shape = {
	    .keys_each = 1,
	    .args_each = 1,
	};
	struct embed_store *store = calloc(1, sizeof(*store));

	if (store == NULL)
		return NULL;
	store->link = link;
	store->min_replicas = min_replicas;
	store->verify = (struct script){"verify", verify_lua, ""};
	if (!script_register(link, &store->verify) ||
	    (store->verifications = batch_create(base, link, &store->verify,
	                                         &verify_shape)) == NULL) {
		free(store);
		return NULL;
	}
	return store;
}

void
embed_store_destroy(struct embed_store *store)
{
	if (store == NULL)
		return;
	batch_destroy(store->verifications);
	free(store);
}

void
embed_key(char out[EMBED_KEY_LEN + 1], const char *hash)
{
	snprintf(out, EMBED_KEY_LEN + 1, EMBED_KEY_PREFIX "%s", hash);
}

enum redis_submit
embed_store_verify(struct embed_store *store, const char *hash,
                   int idle_seconds, redis_reply_fn fn, void *arg)
{
	char key[EMBED_KEY_LEN + 1], idle[16];
	const char *keys_args[] = {key, idle};

	embed_key(key, hash);
	snprintf(idle, sizeof(idle), "%d", idle_seconds);
	return batch_add(store->verifications, keys_args, fn, arg);
}

enum embed_result
embed_store_verify_result(enum redis_outcome outcome, const redisReply *reply,
                          const char **record, size_t *len)
{
	if (outcome != REDIS_REPLIED)
		return EMBED_UNAVAILABLE;
	if (reply->type == REDIS_REPLY_STRING) {
		*record = reply->str;
		*len = reply->len;
		return EMBED_OK;
	}
	if (reply->type != REDIS_REPLY_INTEGER)
		return EMBED_UNAVAILABLE;
	switch (reply->integer) {
	case 0:
		return EMBED_NOT_FOUND;
	case 2:
		return EMBED_EXPIRED;
	case 4:
		return EMBED_CORRUPT;
	case 5:
		return EMBED_REVOKED;
	default:
		return EMBED_UNAVAILABLE;
	}
}

enum redis_submit
embed_store_end(struct embed_store *store, const char *hash, redis_reply_fn fn,
                void *arg)
{
	char key[EMBED_KEY_LEN + 1];
	const char *argv[] = {"DEL", key};

	embed_key(key, hash);
	return redis_link_submit_replicated(store->link, fn, arg, 2, argv, NULL,
	                                    store->min_replicas);
}

enum embed_result
embed_store_end_result(enum redis_outcome outcome, const redisReply *reply)
{
	if (outcome != REDIS_REPLIED || reply->type != REDIS_REPLY_INTEGER)
		return EMBED_UNAVAILABLE;
	return reply->integer > 0 ? EMBED_OK : EMBED_NOT_FOUND;
}
