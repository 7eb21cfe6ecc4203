/* Sessions in Redis (§4): one key per session, auth_session:<id>, holding
 * the record with a TTL; the counters in the hash auth_stats; and, for
 * status and the MAX_SESSIONS cap, live and used sessions counted per
 * expiry second (the hash auth_sessions_count and the sorted set
 * auth_sessions_expiry), so that status is one round trip and the cap
 * costs O(log N) per create, with no memory per session.
 *
 * Every write is one Lua script, so that a counter never drifts from the
 * write it counts.  Functions that submit follow redis_link_submit()'s
 * contract; the matching *_result() function turns the reply into an
 * enum store_result inside the callback.  Nothing here knows HTTP.
 */
#ifndef IFRAME_AUTH_STORE_SESSIONS_H
#define IFRAME_AUTH_STORE_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "redis_link.h"

struct embed_open;
struct event_base;
struct session_store;

enum store_result {
	STORE_OK,
	STORE_NOT_FOUND,
	STORE_ALREADY_USED,
	STORE_LIMIT_REACHED,
	STORE_REVOKED,         /* made before its user's last revoke-all */
	STORE_ORIGIN_MISMATCH, /* framed by none of its allowed_origins */
	STORE_CORRUPT,         /* a record that is no JSON object with the §4
	                          fields: Redis is fine, the record is not */
	STORE_UNAVAILABLE,     /* Redis down, slow, or answered with an error */
};

/* timeout_ms is the link's deadline: a validation that reaches Redis
 * after half of it is refused (STORE_UNAVAILABLE), so that a 503 does not
 * hide a session used up late (short of the service's own loop stalling
 * for half the deadline with the reply already in hand).  min_replicas
 * is REDIS_MIN_REPLICAS: see session_store_eval_ending().  Validations
 * of one loop turn on base go to Redis together (batch.h). */
struct session_store *session_store_create(struct event_base *base,
                                           struct redis_link *link,
                                           int timeout_ms, int min_replicas);
void session_store_destroy(struct session_store *store);

struct script;

/*
 * Runs a script that consumes or ends a session (validate, revoke;
 * logout's DEL waits the same way in embed_store_end()): with
 * REDIS_MIN_REPLICAS = N > 0, WAIT N is pipelined behind it, and the
 * callback hears REDIS_REPLIED only once N replicas have the write,
 * REDIS_NOT_REPLICATED otherwise (the write may have happened), which
 * every *_result() function takes for STORE_UNAVAILABLE.  With 0, it is
 * script_eval().
 */
enum redis_submit session_store_eval_ending(struct session_store *store,
                                            const struct script *s, int nkeys,
                                            int nargs, const char *const *args,
                                            redis_reply_fn fn, void *arg)
    __attribute__((warn_unused_result));

/* Now, in seconds on Redis's clock (the one that expires the keys), as
 * the service reckons it.  Records are stamped with it. */
time_t session_store_now(const struct session_store *store);

/* Writes a new record with its TTL and counts it in total_created; with
 * max_sessions > 0, refuses (STORE_LIMIT_REACHED) when that many sessions
 * are live.  expires_at is the record's expiry as it writes it: the
 * session is counted under that second until Redis has expired it.
 * user_id (NULL when none) is the record's: the script appends the
 * user's revoke-all generation. */
enum redis_submit
session_store_create_session(struct session_store *store, const char *id,
                             const char *user_id, const char *record, int ttl,
                             const char *expires_at, int max_sessions,
                             redis_reply_fn fn, void *arg);
enum store_result session_store_create_result(enum redis_outcome outcome,
                                              const struct redisReply *reply);

/* Check-and-mark in one step: an unused session becomes used (used_at,
 * total_used + 1, TTL unchanged), whoever wrote its record (SPEC §4),
 * and the embed session is opened, or nothing is written; unless its user
 * was revoked since it was made (STORE_REVOKED) or it has allowed_origins
 * and parent_origin (canonical, "" when unknown) is not one of them
 * (STORE_ORIGIN_MISMATCH), neither of which uses it up.  On STORE_OK
 * *record is the updated record, valid inside the callback only; a
 * corrupt record is left as it is (STORE_CORRUPT). */
enum redis_submit session_store_validate(struct session_store *store,
                                         const char *id, const char *used_at,
                                         const struct embed_open *embed,
                                         const char *parent_origin,
                                         redis_reply_fn fn, void *arg);
enum store_result session_store_validate_result(struct session_store *store,
                                                enum redis_outcome outcome,
                                                const struct redisReply *reply,
                                                const char **record,
                                                size_t *len);

/* Sets iframe_opened on a live session, best effort: nobody waits.  At
 * most 16 marks wait on Redis at once; a mark beyond that
 * is not sent, and counted. */
void session_store_mark_opened(struct session_store *store, const char *id);
/* Marks not sent because the cap was reached. */
uint64_t session_store_marks_dropped(const struct session_store *store);

/* The same, uncapped, for a caller that waits for the session's
 * allowed_origins (the iframe page of such a session); with mark false
 * (a HEAD), only the read.  On STORE_OK *origins is their JSON array as
 * stored (len bytes, valid inside the callback only), empty when the
 * session has none; STORE_NOT_FOUND when there is no such session. */
enum redis_submit session_store_open(struct session_store *store,
                                     const char *id, bool mark,
                                     redis_reply_fn fn, void *arg);
enum store_result session_store_open_result(enum redis_outcome outcome,
                                            const struct redisReply *reply,
                                            const char **origins, size_t *len);

/* Deletes a session: STORE_OK when it existed, STORE_NOT_FOUND if not. */
enum redis_submit session_store_revoke(struct session_store *store,
                                       const char *id, redis_reply_fn fn,
                                       void *arg);
enum store_result session_store_revoke_result(enum redis_outcome outcome,
                                              const struct redisReply *reply);

/* Revoke-all (§11): bumps the user's generation, which ends every
 * session of the user made before, in O(1) whatever the user holds.  On
 * STORE_OK *generation is the new one. */
enum redis_submit session_store_revoke_user(struct session_store *store,
                                            const char *user_id,
                                            redis_reply_fn fn, void *arg);
enum store_result
session_store_revoke_user_result(enum redis_outcome outcome,
                                 const struct redisReply *reply,
                                 long long *generation);

/* One SCAN page of live sessions with their records and TTLs. */
enum redis_submit session_store_list(struct session_store *store,
                                     const char *cursor, int count,
                                     redis_reply_fn fn, void *arg);
struct session_page {
	const char *cursor; /* "0" at the end */
	size_t count;
	const struct redisReply *reply;
};
enum store_result session_store_list_result(enum redis_outcome outcome,
                                            const struct redisReply *reply,
                                            struct session_page *page);
/* Entry i of a page: its record and remaining TTL in seconds. */
void session_page_entry(const struct session_page *page, size_t i,
                        const char **record, size_t *len, long long *ttl);

struct session_counts {
	long long total, used;
	long long total_created, total_used;
};

typedef void (*session_counts_fn)(void *arg, enum store_result result,
                                  const struct session_counts *counts);

/* Live and used sessions from the counters (sessions.c, "The counts"),
 * with the totals of auth_stats: one script, whatever the number of
 * sessions.  Records of other writers are not in them. */
enum redis_submit session_store_counters(struct session_store *store,
                                         redis_reply_fn fn, void *arg);
enum store_result session_store_counters_result(enum redis_outcome outcome,
                                                const struct redisReply *reply,
                                                struct session_counts *counts);

/* Counts live and used sessions, of every writer, by walking the keys
 * with SCAN in batches, one asynchronous round trip each, so other
 * requests go on meanwhile.  Requests that arrive during a walk share it.
 * At its end the walk corrects the counters with what it saw, short of
 * what writes during the walk may have changed (sessions.c, "The exact
 * walk").  False when no walk could start (fn never runs); otherwise fn
 * runs exactly once. */
bool session_store_count_exact(struct session_store *store,
                               session_counts_fn fn, void *arg)
    __attribute__((warn_unused_result));

#endif
