/* Liveness (/healthz, no Redis) and Redis health (/auth/redis-health). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "../clock.h"
#include "../config.h"
#include "../http/call.h"
#include "../http/reply.h"
#include "../store/redis_link.h"
#include "api.h"

/* What an unhealthy answer says to a caller without an API key. */
#define UNHEALTHY_MESSAGE "redis unavailable"

void
health_live(struct http_call *call)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "status", json_object_new_string("ok"));
	reply_json(call, 200, obj);
}

/* With sentinels, the master in use, for a caller with the key only:
 * where the database is, is not for anyone who can reach the port. */
static void
add_master(struct http_call *call, struct json_object *obj)
{
	const struct api *api = call->ctx;
	int port;
	const char *host = redis_link_master(api->redis, &port);
	char addr[300];

	if (host == NULL || !api_caller_has_key(call))
		return;
	snprintf(addr, sizeof(addr), strchr(host, ':') ? "[%s]:%d" : "%s:%d",
	         host, port);
	json_object_object_add(obj, "master", json_object_new_string(addr));
}

/* Answers /auth/redis-health with status, message and timestamp; message
 * is the reason, for a caller who may see it. */
static void
reply_health(struct http_call *call, bool healthy, const char *message,
             double latency_ms)
{
	struct json_object *obj = json_object_new_object();
	char now[CLOCK_ISO8601_LEN];

	/* Redis's host names and error texts are for the operator (the log
	 * has them), not for anyone who can reach the port. */
	if (!healthy && !api_caller_has_key(call))
		message = UNHEALTHY_MESSAGE;
	clock_format_iso8601(time(NULL), now);
	json_object_object_add(
	    obj, "status",
	    json_object_new_string(healthy ? "healthy" : "unhealthy"));
	json_object_object_add(obj, "message", json_object_new_string(message));
	json_object_object_add(obj, "timestamp", json_object_new_string(now));
	add_master(call, obj);
	if (healthy) {
		char ms[32];

		/* Microsecond precision, printed as written. */
		snprintf(ms, sizeof(ms), "%.3f", latency_ms);
		json_object_object_add(
		    obj, "latency_ms",
		    json_object_new_double_s(latency_ms, ms));
		reply_json(call, 200, obj);
		return;
	}
	reply_add_header(call, "Retry-After", "1");
	reply_json(call, 503, obj);
}

static void
on_ping(void *arg, enum redis_outcome outcome, const redisReply *reply)
{
	struct http_call *call = arg;
	const struct api *api = call->ctx;
	double ms = (double)(clock_monotonic_us() - call->start_us) / 1000.0;
	char message[160];

	switch (outcome) {
	case REDIS_REPLIED:
		reply_health(call, true, "redis answered PING", ms);
		return;
	case REDIS_ERROR_REPLY:
		snprintf(message, sizeof(message), "redis error: %.100s",
		         reply->str);
		reply_health(call, false, message, 0);
		return;
	case REDIS_TIMED_OUT:
		snprintf(message, sizeof(message),
		         "no reply from redis within %d ms",
		         api->cfg->redis_timeout_ms);
		reply_health(call, false, message, 0);
		return;
	case REDIS_LINK_LOST:
	case REDIS_NOT_REPLICATED: /* a PING is not replicated */
		reply_health(call, false, "redis connection lost", 0);
		return;
	}
}

void
health_redis(struct http_call *call)
{
	const struct api *api = call->ctx;
	static const char *ping[] = {"PING"};
	char message[200];

	switch (redis_link_submit(api->redis, on_ping, call, 1, ping, NULL)) {
	case REDIS_SUBMIT_OK:
		return;
	case REDIS_SUBMIT_DOWN:
		snprintf(message, sizeof(message), "redis unreachable: %s",
		         redis_link_last_error(api->redis));
		reply_health(call, false, message, 0);
		return;
	case REDIS_SUBMIT_FULL:
		reply_health(call, false, "too many requests waiting on redis",
		             0);
		return;
	}
}
