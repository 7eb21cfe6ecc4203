/* /auth/verify (forward auth) and POST /auth/logout (§11): the embed
 * session named by the credential (credential.h), looked up or ended in
 * one Redis round trip; a malformed credential makes none. */
#include <stdio.h>

#include <json-c/json.h>

#include "../config.h"
#include "../http/body.h"
#include "../http/call.h"
#include "../http/cookie.h"
#include "../http/reply.h"
#include "../log.h"
#include "../metrics.h"
#include "../session/embed_record.h"
#include "../store/embed.h"
#include "api.h"
#include "credential.h"

static enum credential
pick(struct http_call *call, char token[EMBED_TOKEN_LEN + 1])
{
	const struct config *cfg = ((const struct api *)call->ctx)->cfg;

	return credential_pick(
	    http_header(call, "Authorization"), http_header(call, "Cookie"),
	    cfg->embed_cookie ? cfg->embed_cookie_name : NULL, token);
}

/* 401 {"authenticated": false, "reason": ...} with a Bearer challenge;
 * never a redirect, so that a proxy can decide what to do. */
static void
reply_unauthenticated(struct http_call *call, enum verify_result result)
{
	static const char *const reasons[] = {
	    [VERIFY_MISSING] = "missing",
	    [VERIFY_INVALID] = "invalid",
	    [VERIFY_EXPIRED] = "expired",
	    [VERIFY_REVOKED] = "revoked",
	};
	static const char *const details[] = {
	    [VERIFY_MISSING] = "no embed session credential",
	    [VERIFY_INVALID] = "invalid or unknown embed session token",
	    [VERIFY_EXPIRED] = "embed session expired",
	    [VERIFY_REVOKED] = "embed session revoked with its user",
	};
	struct json_object *obj = json_object_new_object();

	metrics_verification(((const struct api *)call->ctx)->metrics, result);
	json_object_object_add(obj, "authenticated",
	                       json_object_new_boolean(0));
	json_object_object_add(obj, "reason",
	                       json_object_new_string(reasons[result]));
	json_object_object_add(obj, "detail",
	                       json_object_new_string(details[result]));
	reply_add_header(call, "WWW-Authenticate", "Bearer");
	reply_json(call, 401, obj);
}

static void
reply_authenticated(struct http_call *call, const struct embed_view *v)
{
	char prefix[9];
	struct json_object *obj = json_object_new_object();

	snprintf(prefix, sizeof(prefix), "%.8s", v->session_id);
	metrics_verification(((const struct api *)call->ctx)->metrics,
	                     VERIFY_OK);
	if (v->user_id != NULL)
		reply_add_header(call, "X-Auth-User", v->user_id);
	reply_add_header(call, "X-Auth-Session", prefix);
	reply_add_header(call, "X-Auth-Expires", v->expires_at);
	if (v->metadata != NULL)
		reply_add_header(call, "X-Auth-Metadata", v->metadata);
	json_object_object_add(obj, "authenticated",
	                       json_object_new_boolean(1));
	json_object_object_add(
	    obj, "user_id",
	    v->user_id != NULL ? json_object_new_string(v->user_id) : NULL);
	json_object_object_add(obj, "session_id",
	                       json_object_new_string(prefix));
	json_object_object_add(obj, "expires_at",
	                       json_object_new_string(v->expires_at));
	reply_json(call, 200, obj);
}

static void
reply_verify_unavailable(struct http_call *call)
{
	metrics_verification(((const struct api *)call->ctx)->metrics,
	                     VERIFY_UNAVAILABLE);
	reply_unavailable(call);
}

static void
on_verified(void *arg, enum redis_outcome outcome, const struct redisReply *r)
{
	struct http_call *call = arg;
	const char *record = NULL;
	size_t len = 0;
	struct embed_view view;

	switch (embed_store_verify_result(outcome, r, &record, &len)) {
	case EMBED_OK:
		if (!embed_record_read(record, len, &view)) {
			log_error("embed session record is unreadable");
			reply_unauthenticated(call, VERIFY_INVALID);
			return;
		}
		reply_authenticated(call, &view);
		embed_view_finish(&view);
		return;
	case EMBED_NOT_FOUND:
		reply_unauthenticated(call, VERIFY_INVALID);
		return;
	case EMBED_EXPIRED:
		reply_unauthenticated(call, VERIFY_EXPIRED);
		return;
	case EMBED_REVOKED:
		reply_unauthenticated(call, VERIFY_REVOKED);
		return;
	case EMBED_CORRUPT:
		log_error("embed session record is not in the service's "
		          "format");
		reply_unauthenticated(call, VERIFY_INVALID);
		return;
	case EMBED_UNAVAILABLE:
		break;
	}
	reply_verify_unavailable(call);
}

void
embed_verify(struct http_call *call)
{
	const struct api *api = call->ctx;
	char token[EMBED_TOKEN_LEN + 1], hash[EMBED_HASH_LEN + 1];

	switch (pick(call, token)) {
	case CREDENTIAL_MISSING:
		reply_unauthenticated(call, VERIFY_MISSING);
		return;
	case CREDENTIAL_MALFORMED:
		reply_unauthenticated(call, VERIFY_INVALID);
		return;
	case CREDENTIAL_TOKEN:
		break;
	}
	if (!embed_token_hash(token, hash) ||
	    embed_store_verify(api->embed, hash,
	                       api->cfg->embed_idle_timeout_seconds,
	                       on_verified, call) != REDIS_SUBMIT_OK)
		reply_verify_unavailable(call);
}

/* 204 with the cookie expired (same attributes, Max-Age=0). */
static void
reply_logged_out(struct http_call *call, bool ended)
{
	const struct api *api = call->ctx;
	char cookie[CONFIG_STRING_MAX + 128];

	metrics_logout(api->metrics, ended);
	log_debug("logout ended=%d", ended);
	if (api->cfg->embed_cookie &&
	    cookie_format(cookie, sizeof(cookie), api->cfg->embed_cookie_name,
	                  "", 0))
		reply_add_header(call, "Set-Cookie", cookie);
	reply_send(call, 204, NULL, NULL);
}

static void
on_ended(void *arg, enum redis_outcome outcome, const struct redisReply *r)
{
	struct http_call *call = arg;

	switch (embed_store_end_result(outcome, r)) {
	case EMBED_OK:
		reply_logged_out(call, true);
		return;
	case EMBED_NOT_FOUND:
		reply_logged_out(call, false);
		return;
	default:
		/* The session may live on: keep the cookie, so that the
		 * client can try again. */
		reply_unavailable(call);
		return;
	}
}

void
embed_logout(struct http_call *call)
{
	const struct api *api = call->ctx;
	char token[EMBED_TOKEN_LEN + 1], hash[EMBED_HASH_LEN + 1];

	if (pick(call, token) != CREDENTIAL_TOKEN) {
		reply_logged_out(call, false);
		return;
	}
	if (!embed_token_hash(token, hash) ||
	    embed_store_end(api->embed, hash, on_ended, call) !=
	        REDIS_SUBMIT_OK)
		reply_unavailable(call);
}
