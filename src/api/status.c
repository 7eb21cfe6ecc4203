/* GET /auth/session-status: counts from a shared SCAN walk. */
#include <json-c/json.h>

#include "../config.h"
#include "../http/call.h"
#include "../http/reply.h"
#include "../store/sessions.h"
#include "api.h"

static void
on_counted(void *arg, enum store_result result, const struct session_counts *c)
{
	struct http_call *call = arg;
	const struct api *api = call->ctx;
	struct json_object *obj;

	if (result != STORE_OK) {
		reply_unavailable(call);
		return;
	}
	obj = json_object_new_object();
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
	reply_json(call, 200, obj);
}

void
status_get(struct http_call *call)
{
	const struct api *api = call->ctx;

	if (!session_store_count(api->sessions, on_counted, call))
		reply_unavailable(call);
}
