/* GET and HEAD of the static files, with the iframe page's headers, its
 * best-effort iframe_opened mark, and its frame-ancestors per session.
 *
 * The iframe page of a session made with allowed_origins may be framed
 * by those origins only.  Such sessions have ids marked as such
 * (session_id_origin_bound()), so the page knows without Redis which
 * requests must wait for the record: those wait for one round trip (the
 * same script that marks the session opened), at most the Redis
 * deadline, and are then served with the session's frame-ancestors, or
 * the global policy when the record did not come in time.  Every other
 * page is served at once, as before, with its mark sent and not awaited.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <json-c/json.h>

#include "../config.h"
#include "../http/call.h"
#include "../http/reply.h"
#include "../log.h"
#include "../session/create_request.h"
#include "../session/origin.h"
#include "../session/session_id.h"
#include "../store/redis_link.h"
#include "../store/sessions.h"
#include "api.h"
#include "static_files.h"

#define IFRAME_PAGE "/client/iframe.html"
/* A session's own policy: its origins, each with a space. */
#define SESSION_POLICY_MAX           \
	(sizeof("frame-ancestors") + \
	 ALLOWED_ORIGINS_MAX * (size_t)(ORIGIN_MAX + 1))

bool
static_covers(const void *ctx, const char *path)
{
	const struct api *api = ctx;

	return static_files_find(api->static_files, path) != NULL;
}

/*
 * The session's policy, "frame-ancestors <origins>", from the stored
 * allowed_origins (a JSON array, len bytes) into out; false when the
 * session has none.  Whoever wrote the record, only canonical origins go
 * into the header; a list of nothing but invalid ones becomes 'none'.
 */
static bool
session_policy(const char *stored, size_t len, char *out, size_t cap)
{
	struct json_object *list;
	size_t n = 0, count;
	int used;

	if (len == 0)
		return false;
	list = json_tokener_parse(stored);
	if (list == NULL || !json_object_is_type(list, json_type_array) ||
	    (count = json_object_array_length(list)) == 0) {
		json_object_put(list);
		return false;
	}
	used = snprintf(out, cap, "frame-ancestors");
	for (size_t i = 0; i < count && i < ALLOWED_ORIGINS_MAX; i++) {
		struct json_object *v = json_object_array_get_idx(list, i);
		char origin[ORIGIN_MAX + 1];

		if (!json_object_is_type(v, json_type_string) ||
		    origin_normalize(json_object_get_string(v),
		                     (size_t)json_object_get_string_len(v),
		                     origin) != NULL)
			continue;
		used += snprintf(out + used, cap - (size_t)used, " %s", origin);
		n++;
	}
	if (n == 0)
		snprintf(out + used, cap - (size_t)used, " 'none'");
	json_object_put(list);
	return true;
}

/* Sends the file.  policy, when not NULL, is the session's own: it goes
 * out as a second policy beside the global one, so that framing needs
 * both and the session's can only narrow what FRAME_ANCESTORS allows. */
static void
send_file(struct http_call *call, const struct static_file *f,
          const char *policy)
{
	const struct api *api = call->ctx;
	struct evbuffer *body = evbuffer_new();
	char csp[CONFIG_LONG_STRING_MAX + SESSION_POLICY_MAX + 64];

	if (body == NULL) {
		reply_detail(call, 503, "out of memory");
		return;
	}
	if (f->html) {
		snprintf(csp, sizeof(csp),
		         "default-src 'self'; frame-ancestors %s%s%s",
		         api->cfg->frame_ancestors, policy != NULL ? ", " : "",
		         policy != NULL ? policy : "");
		reply_add_header(call, "Content-Security-Policy", csp);
		reply_add_header(call, "Referrer-Policy", "no-referrer");
	}
	/* The file stays in memory for the life of the process: send it by
	 * reference, without a copy. */
	evbuffer_add_reference(body, f->data, f->len, NULL, NULL);
	reply_send(call, 200, f->content_type, body);
	evbuffer_free(body);
}

/* A page waiting for its session's record. */
struct page_wait {
	struct http_call *call;
	const struct static_file *file;
};

static void
on_opened(void *arg, enum redis_outcome outcome, const struct redisReply *r)
{
	struct page_wait *wait = arg;
	char policy[SESSION_POLICY_MAX];
	const char *origins = NULL;
	size_t len = 0;

	if (session_store_open_result(outcome, r, &origins, &len) != STORE_OK) {
		if (outcome != REDIS_REPLIED)
			log_info(
			    "iframe page served with the global "
			    "frame-ancestors: redis did not answer in time");
		send_file(wait->call, wait->file, NULL);
	} else {
		send_file(wait->call, wait->file,
		          session_policy(origins, len, policy, sizeof(policy))
		              ? policy
		              : NULL);
	}
	free(wait);
}

/* Serving the iframe page (GET) with a live session's id marks it
 * opened; the page of a session with allowed_origins first waits for them
 * (above), and so do the headers of its HEAD, which marks nothing.  Other
 * marks are not awaited, and the store drops those beyond its cap, so that
 * a flood of page loads costs Redis a bounded number of commands.  False
 * when the page is still to be sent. */
static bool
open_session(struct http_call *call, const struct static_file *f)
{
	const struct api *api = call->ctx;
	char id[SESSION_ID_LEN + 1];
	struct page_wait *wait;

	if (session_id_from_query(call->query, id) != SESSION_ID_FOUND ||
	    !redis_link_is_up(api->redis))
		return false;
	if (!session_id_origin_bound(id)) {
		if (call->method == HTTP_GET)
			session_store_mark_opened(api->sessions, id);
		return false;
	}
	wait = malloc(sizeof(*wait));
	if (wait == NULL)
		return false;
	*wait = (struct page_wait){call, f};
	if (session_store_open(api->sessions, id, call->method == HTTP_GET,
	                       on_opened, wait) != REDIS_SUBMIT_OK) {
		free(wait);
		return false;
	}
	return true;
}

void
static_serve(struct http_call *call)
{
	const struct api *api = call->ctx;
	const struct static_file *f =
	    static_files_find(api->static_files, call->path);

	if (strcmp(call->path, IFRAME_PAGE) == 0 && open_session(call, f))
		return;
	send_file(call, f, NULL);
}
