/* The HTTP API: the route table and what every route shares. */
#ifndef IFRAME_AUTH_API_API_H
#define IFRAME_AUTH_API_API_H

#include <stdbool.h>
#include <stddef.h>

#include "../http/router.h"
#include "../session/origin.h"

struct config;
struct http_call;
struct embed_store;
struct metrics;
struct redis_link;
struct session_store;
struct static_files;

/* Everything a handler may use; call->ctx points to one. */
struct api {
	const struct config *cfg;
	struct redis_link *redis;
	struct session_store *sessions;
	struct embed_store *embed;
	struct metrics *metrics;
	struct static_files *static_files;
	/* PUBLIC_BASE_URL's origin, 'self' in FRAME_ANCESTORS; "" when
	 * unset. */
	char self_origin[ORIGIN_MAX + 1];
};

extern const struct route api_routes[];
extern const size_t api_route_count;

/* True when the caller presents one of the API keys, or API_KEY is empty
 * (everyone then has the key's rights). */
bool api_caller_has_key(struct http_call *call);

/* Runs the route's guards (the §6 Redis check, ...) and then its
 * handler.  The server calls this for every routed request. */
void api_dispatch(struct http_call *call);

/* Handlers, one file per resource. */
void health_live(struct http_call *call);
void health_redis(struct http_call *call);
void sessions_create(struct http_call *call);
void sessions_validate(struct http_call *call);
void embed_verify(struct http_call *call);
void embed_logout(struct http_call *call);
void status_get(struct http_call *call);
void admin_list(struct http_call *call);
void admin_revoke(struct http_call *call);
void admin_revoke_user(struct http_call *call);
bool admin_covers_user_sessions(const void *ctx, const char *path);
void metrics_page(struct http_call *call);
void openapi_get(struct http_call *call);
void static_serve(struct http_call *call);
bool static_covers(const void *ctx, const char *path);

#endif
