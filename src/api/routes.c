#include "../config.h"
#include "../http/body.h"
#include "../http/call.h"
#include "../http/reply.h"
#include "../store/redis_link.h"
#include "api.h"
#include "api_key.h"

#define BACKEND (ROUTE_NEEDS_REDIS | ROUTE_NEEDS_API_KEY)

/* Every row has its own name: it labels the row's metrics. */
const struct route api_routes[] = {
    {HTTP_GET, "/healthz", false, "healthz", 0, health_live},
    {HTTP_GET, "/metrics", false, "metrics", 0, metrics_page},
    /* Not behind the Redis guard: it reports the link's state itself. */
    {HTTP_GET, "/auth/redis-health", false, "redis_health", 0, health_redis},
    {HTTP_POST, "/auth/create-session", false, "create_session", BACKEND,
     sessions_create},
    {HTTP_POST | HTTP_GET, "/auth/validate-session", false, "validate_session",
     ROUTE_NEEDS_REDIS, sessions_validate},
    {HTTP_GET, "/auth/session-status", false, "session_status", BACKEND,
     status_get},
    {HTTP_GET, "/auth/sessions", false, "list_sessions", BACKEND, admin_list},
    {HTTP_DELETE, "/auth/sessions/", true, "revoke_session", BACKEND,
     admin_revoke},
};

const size_t api_route_count = sizeof(api_routes) / sizeof(api_routes[0]);

void
api_dispatch(struct http_call *call)
{
	const struct api *api = call->ctx;
	unsigned flags = call->route->flags;

	if ((flags & ROUTE_NEEDS_API_KEY) && api->cfg->api_key[0] != '\0' &&
	    !api_key_authorized(api->cfg->api_key,
	                        http_header(call, "Authorization"))) {
		reply_add_header(call, "WWW-Authenticate", "Bearer");
		reply_detail(call, 401, "invalid or missing API key");
		return;
	}
	if ((flags & ROUTE_NEEDS_REDIS) && !redis_link_is_up(api->redis)) {
		reply_unavailable(call);
		return;
	}
	call->route->handler(call);
}
