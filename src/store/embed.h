/* Embed sessions in Redis (§11): auth_embed:<hex SHA-256 of the token>,
 * a JSON record whose TTL is the idle timeout capped by the absolute
 * expiry.  The validate script (sessions.c) opens one in the same step
 * that marks a session used; this module verifies (and slides) and ends
 * them.  The record starts with its absolute end in seconds on Redis's
 * clock, {"expires_at_unix":N,..., so that the verify script checks it by
 * position.  Nothing here knows HTTP.
 */
#ifndef IFRAME_AUTH_STORE_EMBED_H
#define IFRAME_AUTH_STORE_EMBED_H

#include <stddef.h>
#include <time.h>

#include "../session/embed_token.h"
#include "redis_link.h"

#define EMBED_KEY_PREFIX  "auth_embed:"
#define EMBED_KEY_LEN     (sizeof(EMBED_KEY_PREFIX) - 1 + EMBED_HASH_LEN)
#define EMBED_RECORD_HEAD "{\"expires_at_unix\":"

/* What the validate script needs to open an embed session. */
struct embed_open {
	const char *hash;       /* hex SHA-256 of the new token */
	time_t expires;         /* absolute end, on Redis's clock */
	const char *expires_at; /* the same, ISO 8601 */
	int idle_seconds;
};

enum embed_result {
	EMBED_OK,
	EMBED_NOT_FOUND, /* no such key: never was, idle timeout, logged out */
	EMBED_EXPIRED,   /* the key outlived its absolute expiry */
	EMBED_CORRUPT,   /* a record not in this layout */
	EMBED_REVOKED,   /* its user was revoked since it was opened */
	EMBED_UNAVAILABLE,
};

struct embed_store;
struct event_base;

/* min_replicas is REDIS_MIN_REPLICAS: logout's DEL ends a session, and
 * waits for that many replicas as validate and revoke do (§10).
 * Verifications of one loop turn on base go to Redis together
 * (batch.h). */
struct embed_store *embed_store_create(struct event_base *base,
                                       struct redis_link *link,
                                       int min_replicas);
void embed_store_destroy(struct embed_store *store);

/* "auth_embed:<hash>" into out. */
void embed_key(char out[EMBED_KEY_LEN + 1], const char *hash);

/* Looks the session up and slides its TTL to min(idle, what is left of
 * the absolute expiry), in one script.  On EMBED_OK *record is the
 * record, valid inside the callback only. */
enum redis_submit embed_store_verify(struct embed_store *store,
                                     const char *hash, int idle_seconds,
                                     redis_reply_fn fn, void *arg);
enum embed_result embed_store_verify_result(enum redis_outcome outcome,
                                            const struct redisReply *reply,
                                            const char **record, size_t *len);

/* Deletes the session: EMBED_OK when it existed, else EMBED_NOT_FOUND;
 * EMBED_UNAVAILABLE also when fewer than min_replicas replicas
 * acknowledged the DEL (REDIS_NOT_REPLICATED: it may have happened). */
enum redis_submit embed_store_end(struct embed_store *store, const char *hash,
                                  redis_reply_fn fn, void *arg);
enum embed_result embed_store_end_result(enum redis_outcome outcome,
                                         const struct redisReply *reply);

#endif
