#include "../config.h"
#include "../http/body.h"
#include "../http/call.h"
#include "../http/reply.h"
#include "../store/redis_link.h"
#include "api.h"
#include "api_key.h"

#define BACKEND (ROUTE_NEEDS_REDIS | ROUTE_NEEDS_API_KEY)
/* Forward auth answers every method alike: nginx auth_request and Caddy
 * send GET whatever the original method was, an app may use any. */
#define ANY_METHOD                                                   \
	(HTTP_GET | HTTP_HEAD | HTTP_POST | HTTP_PUT | HTTP_DELETE | \
	 HTTP_OPTIONS | HTTP_TRACE | HTTP_CONNECT | HTTP_PATCH)

/* Every row has its own name: it labels the row's metrics. */
const struct route api_routes[] = {
    {.methods = HTTP_GET,
     .path = "/healthz",
     .name = "healthz",
     .handler = health_live},
    {.methods = HTTP_GET,
     .path = "/metrics",
     .name = "metrics",
     .handler = metrics_page},
    {.methods = HTTP_GET,
     .path = "/openapi.json",
     .name = "openapi",
     .handler = openapi_get},
    /* Not behind the Redis guard: it reports the link's state itself. */
    {.methods = HTTP_GET,
     .path = "/auth/redis-health",
     .name = "redis_health",
     .handler = health_redis},
    {.methods = HTTP_POST,
     .path = "/auth/create-session",
     .name = "create_session",
     .flags = BACKEND,
     .handler = sessions_create},
    {.methods = HTTP_POST | HTTP_GET,
     .path = "/auth/validate-session",
     .name = "validate_session",
     .flags = ROUTE_NEEDS_REDIS,
     .handler = sessions_validate},
    /* Neither needs the Redis guard: a missing or malformed credential
     * is answered without Redis; a well-formed one finds the link down
     * and gets 503 all the same. */
    {.methods = ANY_METHOD,
     .path = "/auth/verify",
     .name = "verify",
     .handler = embed_verify},
    {.methods = HTTP_POST,
     .path = "/auth/logout",
     .name = "logout",
     .handler = embed_logout},
    {.methods = HTTP_GET,
     .path = "/auth/session-status",
     .name = "session_status",
     .flags = BACKEND,
     .handler = status_get},
    {.methods = HTTP_GET,
     .path = "/auth/sessions",
     .name = "list_sessions",
     .flags = BACKEND,
     .handler = admin_list},
    {.methods = HTTP_DELETE,
     .path = "/auth/sessions/",
     .prefix = true,
     .name = "revoke_session",
     .flags = BACKEND,
     .handler = admin_revoke},
    /* DELETE /auth/users/<user_id>/sessions: revoke-all. */
    {.methods = HTTP_DELETE,
     .name = "revoke_user_sessions",
     .flags = BACKEND,
     .covers = admin_covers_user_sessions,
     .handler = admin_revoke_user},
    /* Every file under STATIC_DIR, by exact path; listed last so that an
     * API route with the same path would win. */
    {.methods = HTTP_GET | HTTP_HEAD,
     .name = "static",
     .covers = static_covers,
     .handler = static_serve},
};

const size_t api_route_count = sizeof(api_routes) / sizeof(api_routes[0]);

bool
api_caller_has_key(struct http_call *call)
{
	const struct api *api = call->ctx;

	return api->cfg->api_key[0] == '\0' ||
	       api_key_authorized(api->cfg->api_key,
	                          http_header(call, "Authorization"));
}

void
api_dispatch(struct http_call *call)
{
	const struct api *api = call->ctx;
	unsigned flags = call->route->flags;

	if ((flags & ROUTE_NEEDS_API_KEY) && !api_caller_has_key(call)) {
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
