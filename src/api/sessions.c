/* POST /auth/create-session and POST|GET /auth/validate-session. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "../clock.h"
#include "../config.h"
#include "../http/body.h"
#include "../http/call.h"
#include "../http/cookie.h"
#include "../http/reply.h"
#include "../log.h"
#include "../metrics.h"
#include "../session/create_request.h"
#include "../session/embed_token.h"
#include "../session/record.h"
#include "../session/session_id.h"
#include "../session/validate_body.h"
#include "../store/embed.h"
#include "../store/sessions.h"
#include "api.h"

#define IFRAME_PATH "/client/iframe.html?session_id="

/* What the create reply needs once Redis has answered. */
struct create_ctx {
	struct http_call *call;
	char id[SESSION_ID_LEN + 1];
	int ttl;
	char expires_at[CLOCK_ISO8601_LEN];
};

/* The 200 answer, formatted directly: this is the hot path.  Nothing in
 * it needs escaping: the id and the time are ours, and the config
 * refuses '"', '\\' and control characters in PUBLIC_BASE_URL. */
static void
reply_created(struct create_ctx *ctx)
{
	const struct api *api = ctx->call->ctx;
	char text[CONFIG_STRING_MAX + 256];
	const char *texts[] = {text};
	size_t len;

	len = (size_t)snprintf(
	    text, sizeof(text),
	    "{\"session_id\":\"%s\",\"expires_in_minutes\":%d,"
	    "\"expires_in_seconds\":%d,\"expires_at\":\"%s\","
	    "\"iframe_url\":\"%s" IFRAME_PATH "%s\",\"storage\":\"redis\"}",
	    ctx->id, ctx->ttl / 60, ctx->ttl, ctx->expires_at,
	    api->cfg->public_base_url, ctx->id);
	if (len >= sizeof(text)) { /* cannot happen with the config's bounds */
		log_error("create answer does not fit len=%zu", len);
		reply_unavailable(ctx->call);
		return;
	}
	reply_json_text(ctx->call, 200, 1, texts, &len);
}

static void
on_created(void *arg, enum redis_outcome outcome, const struct redisReply *r)
{
	struct create_ctx *ctx = arg;
	const struct api *api = ctx->call->ctx;
	struct json_object *obj;

	switch (session_store_create_result(outcome, r)) {
	case STORE_OK:
		metrics_session_created(api->metrics);
		log_debug("session created session=%.8s ttl=%d", ctx->id,
		          ctx->ttl);
		reply_created(ctx);
		break;
	case STORE_LIMIT_REACHED:
		obj = json_object_new_object();
		json_object_object_add(
		    obj, "detail",
		    json_object_new_string("session limit reached"));
		json_object_object_add(
		    obj, "max_sessions",
		    json_object_new_int(api->cfg->max_sessions));
		reply_json(ctx->call, 429, obj);
		break;
	default:
		reply_unavailable(ctx->call);
		break;
	}
	free(ctx);
}

void
sessions_create(struct http_call *call)
{
	const struct api *api = call->ctx;
	struct create_request req;
	struct create_ctx *ctx;
	char detail[512];
	char *record;
	size_t len;
	const char *body = http_body(call, &len);
	time_t now = session_store_now(api->sessions);
	const struct create_rules rules = {
	    .max_ttl = api->cfg->session_max_ttl_seconds,
	    .frame_ancestors = api->cfg->frame_ancestors,
	    .self_origin = api->self_origin,
	};

	switch (create_request_parse(body, len, &rules, &req, detail,
	                             sizeof(detail))) {
	case CREATE_PARSE_OK:
		break;
	case CREATE_PARSE_INVALID:
		reply_detail(call, 400, detail);
		return;
	case CREATE_PARSE_TOO_LARGE:
		reply_detail(call, 413, detail);
		return;
	}
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL) {
		create_request_finish(&req);
		reply_unavailable(call);
		return;
	}
	ctx->call = call;
	ctx->ttl = req.ttl_seconds > 0 ? req.ttl_seconds
	                               : api->cfg->session_ttl_seconds;
	clock_format_iso8601(now + ctx->ttl, ctx->expires_at);
	if (!session_id_generate(ctx->id, req.origin_count > 0)) {
		log_error("no random bytes from the kernel; refusing to create "
		          "a session");
		create_request_finish(&req);
		free(ctx);
		/* Redis is fine: say what is not. */
		reply_add_header(call, "Retry-After", "1");
		reply_detail(call, 503, "no random bytes for a session id");
		return;
	}
	record = record_serialize(ctx->id, now, now + ctx->ttl, &req);
	create_request_finish(&req);
	if (record == NULL ||
	    session_store_create_session(
	        api->sessions, ctx->id, req.has_user_id ? req.user_id : NULL,
	        record, ctx->ttl, ctx->expires_at, api->cfg->max_sessions,
	        on_created, ctx) != REDIS_SUBMIT_OK) {
		free(record);
		free(ctx);
		reply_unavailable(call);
		return;
	}
	free(record);
}

/* 400 and 401 answers of validate-session: {"valid": false, ...}. */
static void
reply_invalid(struct http_call *call, int status, const char *reason,
              const char *detail)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "valid", json_object_new_boolean(0));
	if (reason != NULL)
		json_object_object_add(obj, "reason",
		                       json_object_new_string(reason));
	json_object_object_add(obj, "detail", json_object_new_string(detail));
	reply_json(call, status, obj);
}

/* A record that is no JSON object with the §4 fields: Redis is healthy,
 * so this is neither a 503 nor "redis_healthy": false. */
static void
reply_corrupt(struct http_call *call, const char *id)
{
	log_error("corrupt session record session=%.8s", id);
	reply_detail(call, 500, "corrupt session record");
}

/* What the validate reply needs once Redis has answered. */
struct validate_ctx {
	struct http_call *call;
	char id[SESSION_ID_LEN + 1];
	char token[EMBED_TOKEN_LEN + 1];
	char embed_expires_at[CLOCK_ISO8601_LEN];
	char parent_origin[ORIGIN_MAX + 1];
};

/* The embed token in a partitioned cookie, unless EMBED_COOKIE=false. */
static void
add_embed_cookie(const struct validate_ctx *ctx)
{
	const struct api *api = ctx->call->ctx;
	char cookie[CONFIG_STRING_MAX + 192];

	if (api->cfg->embed_cookie &&
	    cookie_format(cookie, sizeof(cookie), api->cfg->embed_cookie_name,
	                  ctx->token, api->cfg->embed_session_ttl_seconds))
		reply_add_header(ctx->call, "Set-Cookie", cookie);
}

/* The 200 answer, the embed token's members first: cut from a record in
 * the service's own layout (record_answer(): no parsing on the hot path),
 * else built from any other writer's (record_answer_general()), whose own
 * head gives way to this one. */
static void
reply_valid(const struct validate_ctx *ctx, const char *text, size_t len)
{
	struct http_call *call = ctx->call;
	char head[128];
	struct record_answer a;
	char *answer;
	size_t head_len;

	head_len = (size_t)snprintf(head, sizeof(head),
	                            "{\"valid\":true,\"embed_token\":\"%s\","
	                            "\"embed_expires_at\":\"%s\",",
	                            ctx->token, ctx->embed_expires_at);
	if (record_answer(text, len, &a)) {
		add_embed_cookie(ctx);
		reply_json_text(call, 200, 5,
		                (const char *const[]){head, a.used_at, a.rest,
		                                      a.fields, "}"},
		                (const size_t[]){head_len, a.used_at_len,
		                                 a.rest_len, a.fields_len, 1});
		return;
	}
	answer = record_answer_general(text, len);
	if (answer == NULL) {
		/* The script reads no more than record_parse() does (see
		 * sessions.c), so only running out of memory lands here. */
		reply_corrupt(call, ctx->id);
		return;
	}
	add_embed_cookie(ctx);
	reply_json_text(
	    call, 200, 2,
	    (const char *const[]){head, answer + RECORD_ANSWER_HEAD_LEN},
	    (const size_t[]){head_len,
	                     strlen(answer) - RECORD_ANSWER_HEAD_LEN});
	free(answer);
}

static void
on_validated(void *arg, enum redis_outcome outcome, const struct redisReply *r)
{
	struct validate_ctx *ctx = arg;
	struct http_call *call = ctx->call;
	const struct api *api = call->ctx;
	const char *record = NULL;
	size_t len = 0;
	enum store_result result = session_store_validate_result(
	    api->sessions, outcome, r, &record, &len);

	switch (result) {
	case STORE_OK:
		metrics_validation(api->metrics, VALIDATION_OK);
		metrics_embed_opened(api->metrics);
		log_debug("embed session opened session=%.8s", ctx->id);
		reply_valid(ctx, record, len);
		break;
	case STORE_CORRUPT:
		reply_corrupt(call, ctx->id);
		break;
	case STORE_NOT_FOUND:
		metrics_validation(api->metrics, VALIDATION_NOT_FOUND);
		reply_invalid(call, 401, "not_found",
		              "session not found or expired");
		break;
	case STORE_ALREADY_USED:
		metrics_validation(api->metrics, VALIDATION_ALREADY_USED);
		log_warning("session already used, possible replay "
		            "session=%.8s",
		            ctx->id);
		reply_invalid(call, 401, "already_used",
		              "session already used");
		break;
	case STORE_REVOKED:
		metrics_validation(api->metrics, VALIDATION_REVOKED);
		log_info("session revoked with its user session=%.8s", ctx->id);
		reply_invalid(call, 401, "revoked",
		              "session revoked with every session of its user");
		break;
	case STORE_ORIGIN_MISMATCH:
		metrics_validation(api->metrics, VALIDATION_ORIGIN_MISMATCH);
		log_warning("session framed by an origin it is not bound to, "
		            "left unused session=%.8s parent_origin=%s",
		            ctx->id,
		            ctx->parent_origin[0] ? ctx->parent_origin : "-");
		reply_invalid(call, 401, "origin_mismatch",
		              "the page framing this session is not one of its "
		              "allowed_origins");
		break;
	default:
		reply_unavailable(call);
		break;
	}
	free(ctx);
}

static bool
is_prefetch(struct http_call *call)
{
	const char *sec = http_header(call, "Sec-Purpose");
	const char *purpose = http_header(call, "Purpose");

	return (sec != NULL && strncasecmp(sec, "prefetch", 8) == 0) ||
	       (purpose != NULL && strncasecmp(purpose, "prefetch", 8) == 0);
}

void
sessions_validate(struct http_call *call)
{
	const struct api *api = call->ctx;
	char id[SESSION_ID_LEN + 1], used_at[CLOCK_ISO8601_LEN];
	struct validate_body vb;
	char hash[EMBED_HASH_LEN + 1];
	struct embed_open embed;
	struct validate_ctx *ctx;
	time_t now;
	const char *detail = NULL;
	size_t len = 0;
	const char *body =
	    call->method == HTTP_POST ? http_body(call, &len) : "";

	if (call->method == HTTP_GET && is_prefetch(call)) {
		metrics_validation(api->metrics, VALIDATION_INVALID);
		reply_invalid(call, 400, NULL,
		              "prefetch requests cannot validate a session");
		return;
	}
	memset(&vb, 0, sizeof(vb));
	if (len > 0)
		detail = validate_body_parse(body, len, &vb);
	switch (session_id_from_query(call->query, id)) {
	case SESSION_ID_FOUND:
		if (detail == NULL && vb.has_id)
			detail = "session_id given in both query and body";
		break;
	case SESSION_ID_MISSING:
		if (detail == NULL && !vb.has_id)
			detail = "session_id is required";
		memcpy(id, vb.id, sizeof(id));
		break;
	case SESSION_ID_REPEATED:
		detail = "session_id given more than once";
		break;
	case SESSION_ID_MALFORMED:
		detail = "session_id must be a canonical version-4 UUID";
		break;
	}
	if (detail != NULL) {
		metrics_validation(api->metrics, VALIDATION_INVALID);
		reply_invalid(call, 400, NULL, detail);
		return;
	}
	ctx = malloc(sizeof(*ctx));
	if (ctx == NULL) {
		reply_unavailable(call);
		return;
	}
	ctx->call = call;
	memcpy(ctx->id, id, sizeof(ctx->id));
	memcpy(ctx->parent_origin, vb.parent_origin,
	       sizeof(ctx->parent_origin));
	if (!embed_token_generate(ctx->token)) {
		log_error("no random bytes from the kernel for an embed token; "
		          "session left unused");
		free(ctx);
		/* Redis is fine: say what is not. */
		reply_add_header(call, "Retry-After", "1");
		reply_detail(call, 503, "no random bytes for an embed token");
		return;
	}
	if (!embed_token_hash(ctx->token, hash)) {
		log_error("libcrypto failed to hash an embed token; session "
		          "left unused");
		free(ctx);
		reply_unavailable(call);
		return;
	}
	now = session_store_now(api->sessions);
	clock_format_iso8601(now, used_at);
	embed.hash = hash;
	embed.expires = now + api->cfg->embed_session_ttl_seconds;
	clock_format_iso8601(embed.expires, ctx->embed_expires_at);
	embed.expires_at = ctx->embed_expires_at;
	embed.idle_seconds = api->cfg->embed_idle_timeout_seconds;
	if (session_store_validate(api->sessions, id, used_at, &embed,
	                           ctx->parent_origin, on_validated,
	                           ctx) != REDIS_SUBMIT_OK) {
		free(ctx);
		reply_unavailable(call);
	}
}
