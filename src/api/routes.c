#include "../http/call.h"
#include "../http/reply.h"
#include "../store/redis_link.h"
#include "api.h"

const struct route api_routes[] = {
    {HTTP_GET, "/healthz", false, "healthz", 0, health_live},
    /* Not behind the Redis guard: it reports the link's state itself. */
    {HTTP_GET, "/auth/redis-health", false, "redis_health", 0, health_redis},
};

const size_t api_route_count = sizeof(api_routes) / sizeof(api_routes[0]);

void
api_dispatch(struct http_call *call)
{
	const struct api *api = call->ctx;

	if ((call->route->flags & ROUTE_NEEDS_REDIS) &&
	    !redis_link_is_up(api->redis)) {
		reply_unavailable(call);
		return;
	}
	call->route->handler(call);
}
