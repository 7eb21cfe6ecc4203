/* GET /auth/session-status: counts from the counters, one round trip;
 * with ?exact=true from a shared SCAN walk, which also corrects the
 * counters. */
#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

#include "../config.h"
#include "../http/call.h"
#include "../http/reply.h"
#include "../store/sessions.h"
#include "api.h"
#include "query.h"

static void
reply_counts(struct http_call *call, const struct session_counts *c, bool exact)
{
	const struct api *api = call->ctx;
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "total_sessions",
	                       json_object_new_int64(c->total));
	json_object_object_add(obj, "active_sessions",
	                       json_object_new_int64(c->total - c->used));
	json_object_object_add(obj, "used_sessions",
	                       json_object_new_int64(c->used));
	json_object_object_add(obj, "total_created",
	                       json_object_new_int64(c->total_created));
	json_object_object_add(obj, "total_used",
	                       json_object_new_int64(c->total_used));
	json_object_object_add(obj, "max_sessions",
	                       json_object_new_int(api->cfg->max_sessions));
	json_object_object_add(obj, "storage", json_object_new_string("redis"));
	json_object_object_add(obj, "redis_healthy",
	                       json_object_new_boolean(1));
	if (exact)
		json_object_object_add(obj, "exact",
		                       json_object_new_boolean(1));
	reply_json(call, 200, obj);
}

static void
on_walked(void *arg, enum store_result result, const struct session_counts *c)
{
	struct http_call *call = arg;

	if (result != STORE_OK) {
		reply_unavailable(call);
		return;
	}
	reply_counts(call, c, true);
}

static void
on_counters(void *arg, enum redis_outcome outcome,
            const struct redisReply *reply)
{
	struct http_call *call = arg;
	struct session_counts c;

	if (session_store_counters_result(outcome, reply, &c) != STORE_OK) {
		reply_unavailable(call);
		return;
	}
	reply_counts(call, &c, false);
}

/* ?exact=true or =false, once at most: 1, 0, or -1 for anything else. */
static int
exact_param(const char *query)
{
	size_t len;
	const char *v = query_param(query, "exact", &len);

	if (v == NULL)
		return 0;
	if (query_param(v + len, "exact", &(size_t){0}) != NULL)
		return -1;
	if (len == 4 && memcmp(v, "true", 4) == 0)
		return 1;
	if (len == 5 && memcmp(v, "false", 5) == 0)
		return 0;
	return -1;
}

void
status_get(struct http_call *call)
{
	const struct api *api = call->ctx;

	switch (exact_param(call->query)) {
	case 1:
		if (!session_store_count_exact(api->sessions, on_walked, call))
			reply_unavailable(call);
		return;
	case 0:
		if (session_store_counters(api->sessions, on_counters, call) !=
		    REDIS_SUBMIT_OK)
			reply_unavailable(call);
		return;
	default:
		reply_detail(call, 400,
		             "exact must be true or false, given once");
	}
}
