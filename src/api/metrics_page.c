/* GET /metrics: Prometheus text, from memory only. */
#include <event2/buffer.h>

#include "../http/call.h"
#include "../http/reply.h"
#include "../http/server.h"
#include "../metrics.h"
#include "../store/redis_link.h"
#include "../store/sessions.h"
#include "api.h"

void
metrics_page(struct http_call *call)
{
	const struct api *api = call->ctx;
	struct metrics_gauges g = {
	    .redis_up = redis_link_is_up(api->redis),
	    .redis_reconnects = redis_link_reconnects(api->redis),
	    .redis_pending = redis_link_pending(api->redis),
	    .redis_timeouts = redis_link_timeouts(api->redis),
	    .iframe_marks_dropped = session_store_marks_dropped(api->sessions),
	    .open_connections = server_connections(call->server),
	    .redis_master_switches = redis_link_master_switches(api->redis),
	    .redis_wait_replicas = redis_link_last_wait_replicas(api->redis),
	};
	struct evbuffer *out = evbuffer_new();

	g.redis_master = redis_link_master(api->redis, &g.redis_master_port);
	if (out == NULL) {
		reply_detail(call, 503, "out of memory");
		return;
	}
	metrics_render(api->metrics, &g, out);
	reply_send(call, 200, "text/plain; version=0.0.4; charset=utf-8", out);
	evbuffer_free(out);
}
