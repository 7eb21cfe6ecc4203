/* Admin: GET /auth/sessions (one SCAN page), DELETE /auth/sessions/<id>
 * (revoke) and DELETE /auth/users/<user_id>/sessions (revoke-all). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../http/call.h"
#include "../http/percent.h"
#include "../http/reply.h"
#include "../log.h"
#include "../metrics.h"
#include "../session/record.h"
#include "../session/session_id.h"
#include "../session/user_id.h"
#include "../store/sessions.h"
#include "api.h"
#include "query.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX     1000
#define CURSOR_MAX   20 /* digits of a 64-bit SCAN cursor */

/* Parses up to max_digits decimal digits into a 64-bit value; false on
 * anything else, overflow included. */
static bool
parse_digits(const char *s, size_t len, size_t max_digits,
             unsigned long long *out)
{
	unsigned long long v = 0;

	if (len == 0 || len > max_digits)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned long long digit = (unsigned long long)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - digit) / 10)
			return false;
		v = v * 10 + digit;
	}
	*out = v;
	return true;
}

/* Adds one listed session, or nothing when its record is unreadable. */
static void
add_entry(struct json_object *list, const char *text, size_t len, long long ttl)
{
	static const char *const fields[] = {
	    "session_id", "created_at", "expires_at", "used", "iframe_opened"};
	struct json_object *record = record_parse(text, len);
	struct json_object *entry, *v;

	if (record == NULL)
		return;
	entry = json_object_new_object();
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (json_object_object_get_ex(record, fields[i], &v))
			json_object_object_add(entry, fields[i],
			                       json_object_get(v));
	}
	json_object_object_add(entry, "ttl_seconds",
	                       json_object_new_int64(ttl));
	json_object_array_add(list, entry);
	json_object_put(record);
}

static void
on_listed(void *arg, enum redis_outcome outcome, const struct redisReply *r)
{
	struct http_call *call = arg;
	struct session_page page;
	struct json_object *obj, *list;

	if (session_store_list_result(outcome, r, &page) != STORE_OK) {
		reply_unavailable(call);
		return;
	}
	obj = json_object_new_object();
	list = json_object_new_array();
	for (size_t i = 0; i < page.count; i++) {
		const char *text;
		size_t len;
		long long ttl;

		session_page_entry(&page, i, &text, &len, &ttl);
		add_entry(list, text, len, ttl);
	}
	json_object_object_add(obj, "cursor",
	                       json_object_new_string(page.cursor));
	json_object_object_add(obj, "sessions", list);
	reply_json(call, 200, obj);
}

void
admin_list(struct http_call *call)
{
	const struct api *api = call->ctx;
	char cursor[CURSOR_MAX + 1] = "0";
	unsigned long long count = PAGE_DEFAULT, cursor_value;
	const char *value;
	size_t len;

	value = query_param(call->query, "cursor", &len);
	if (value != NULL) {
		if (!parse_digits(value, len, CURSOR_MAX, &cursor_value)) {
			reply_detail(call, 400,
			             "cursor must be a cursor returned by this "
			             "endpoint");
			return;
		}
		memcpy(cursor, value, len);
		cursor[len] = '\0';
	}
	value = query_param(call->query, "count", &len);
	if (value != NULL && (!parse_digits(value, len, 4, &count) ||
	                      count < 1 || count > PAGE_MAX)) {
		reply_detail(call, 400,
		             "count must be an integer from 1 to 1000");
		return;
	}
	if (session_store_list(api->sessions, cursor, (int)count, on_listed,
	                       call) != REDIS_SUBMIT_OK)
		reply_unavailable(call);
}

static void
on_revoked(void *arg, enum redis_outcome outcome, const struct redisReply *r)
{
	struct http_call *call = arg;

	switch (session_store_revoke_result(outcome, r)) {
	case STORE_OK:
		reply_send(call, 204, NULL, NULL);
		return;
	case STORE_NOT_FOUND:
		reply_detail(call, 404, "session not found");
		return;
	default:
		reply_unavailable(call);
		return;
	}
}

void
admin_revoke(struct http_call *call)
{
	const struct api *api = call->ctx;
	const char *text = call->path + strlen(call->route->path);
	char id[SESSION_ID_LEN + 1];

	if (!session_id_normalize(text, strlen(text), id)) {
		reply_detail(call, 400,
		             "session id must be a canonical version-4 UUID");
		return;
	}
	if (session_store_revoke(api->sessions, id, on_revoked, call) !=
	    REDIS_SUBMIT_OK)
		reply_unavailable(call);
}

#define USERS_PREFIX    "/auth/users/"
#define SESSIONS_SUFFIX "/sessions"

/* The user_id segment of /auth/users/<user_id>/sessions, still encoded;
 * NULL when path is not of that form.  Everything between the prefix and
 * the last "/sessions" is the user_id, so a '/' in it, encoded or not,
 * is unambiguous. */
static const char *
user_segment(const char *path, size_t *len)
{
	size_t plen = strlen(path);
	size_t fixed = strlen(USERS_PREFIX) + strlen(SESSIONS_SUFFIX);

	*len = 0;
	if (plen < fixed ||
	    strncmp(path, USERS_PREFIX, strlen(USERS_PREFIX)) != 0 ||
	    strcmp(path + plen - strlen(SESSIONS_SUFFIX), SESSIONS_SUFFIX) != 0)
		return NULL;
	*len = plen - fixed;
	return path + strlen(USERS_PREFIX);
}

bool
admin_covers_user_sessions(const void *ctx, const char *path)
{
	size_t len;

	(void)ctx;
	return user_segment(path, &len) != NULL;
}

/* What the revoke-all reply needs once Redis has answered. */
struct revoke_user_ctx {
	struct http_call *call;
	char user_id[USER_ID_MAX + 1];
};

static void
on_user_revoked(void *arg, enum redis_outcome outcome,
                const struct redisReply *r)
{
	struct revoke_user_ctx *ctx = arg;
	const struct api *api = ctx->call->ctx;
	long long generation;
	struct json_object *obj;

	if (session_store_revoke_user_result(outcome, r, &generation) !=
	    STORE_OK) {
		reply_unavailable(ctx->call);
		free(ctx);
		return;
	}
	metrics_revoke_all(api->metrics);
	/* The user_id is the caller's to know, not the log's. */
	log_info("revoked every session of a user generation=%lld", generation);
	obj = json_object_new_object();
	json_object_object_add(obj, "user_id",
	                       json_object_new_string(ctx->user_id));
	json_object_object_add(obj, "generation",
	                       json_object_new_int64(generation));
	reply_json(ctx->call, 200, obj);
	free(ctx);
}

void
admin_revoke_user(struct http_call *call)
{
	const struct api *api = call->ctx;
	struct revoke_user_ctx *ctx;
	size_t len, decoded_len;
	/* The route's covers() has matched this path. */
	const char *segment = user_segment(call->path, &len);
	char decoded[USER_ID_MAX + 1];

	if (!percent_decode(segment, len, decoded, sizeof(decoded),
	                    &decoded_len) ||
	    !user_id_valid(decoded, decoded_len)) {
		reply_detail(call, 400,
		             "user_id must be percent-encoded UTF-8 of at most "
		             "256 bytes without control characters");
		return;
	}
	ctx = malloc(sizeof(*ctx));
	if (ctx == NULL) {
		reply_unavailable(call);
		return;
	}
	ctx->call = call;
	memcpy(ctx->user_id, decoded, decoded_len + 1);
	if (session_store_revoke_user(api->sessions, ctx->user_id,
	                              on_user_revoked,
	                              ctx) != REDIS_SUBMIT_OK) {
		free(ctx);
		reply_unavailable(call);
	}
}
