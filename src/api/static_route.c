/* GET and HEAD of the static files, with the iframe page's headers and
 * its best-effort iframe_opened mark. */
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "../config.h"
#include "../http/call.h"
#include "../http/reply.h"
#include "../session/session_id.h"
#include "../store/redis_link.h"
#include "../store/sessions.h"
#include "api.h"
#include "static_files.h"

#define IFRAME_PAGE "/client/iframe.html"

bool
static_covers(const void *ctx, const char *path)
{
	const struct api *api = ctx;

	return static_files_find(api->static_files, path) != NULL;
}

/* Serving the iframe page with a live session's id marks it opened.  The
 * page never waits for that, and is served whether Redis answers or not;
 * the store drops marks beyond its cap, so that a flood of page loads
 * costs Redis a bounded number of commands. */
static void
mark_opened(const struct api *api, const char *query)
{
	char id[SESSION_ID_LEN + 1];

	if (session_id_from_query(query, id) == SESSION_ID_FOUND &&
	    redis_link_is_up(api->redis))
		session_store_mark_opened(api->sessions, id);
}

void
static_serve(struct http_call *call)
{
	const struct api *api = call->ctx;
	const struct static_file *f =
	    static_files_find(api->static_files, call->path);
	struct evbuffer *body = evbuffer_new();
	char csp[CONFIG_LONG_STRING_MAX + 64];

	if (body == NULL) {
		reply_detail(call, 503, "out of memory");
		return;
	}
	if (f->html) {
		snprintf(csp, sizeof(csp),
		         "default-src 'self'; frame-ancestors %s",
		         api->cfg->frame_ancestors);
		reply_add_header(call, "Content-Security-Policy", csp);
		reply_add_header(call, "Referrer-Policy", "no-referrer");
	}
	if (call->method == HTTP_GET && strcmp(call->path, IFRAME_PAGE) == 0)
		mark_opened(api, call->query);
	/* The file stays in memory for the life of the process: send it by
	 * reference, without a copy. */
	evbuffer_add_reference(body, f->data, f->len, NULL, NULL);
	reply_send(call, 200, f->content_type, body);
	evbuffer_free(body);
}
