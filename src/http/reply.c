#include "reply.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <json-c/json.h>

#include "../clock.h"
#include "../log.h"
#include "../metrics.h"
#include "server.h"

void
reply_add_header(struct http_call *call, const char *name, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(call->req), name,
	                  value);
}

/* Counts the request and writes its access line: method, path without
 * query, status, duration. */
static void
record_access(const struct http_call *call, int status)
{
	double seconds = (double)(clock_monotonic_us() - call->start_us) / 1e6;
	char path[256];

	metrics_request(server_metrics(call->server), call->route, status,
	                seconds);
	if (!log_enabled(LOG_LEVEL_INFO))
		return;
	log_path(call->path, path, sizeof(path));
	log_info("access method=%s path=%s status=%d ms=%.3f",
	         router_method_name(call->method), path, status,
	         seconds * 1000.0);
}

/* The headers every reply carries, and the body: Content-Length always
 * (evhttp leaves it out of replies to HTTP/1.0 and HEAD requests), but
 * never on a 204, which has no body by definition; a reply to HEAD gets
 * the length and no body, which evhttp would otherwise send and so corrupt
 * the next reply on a kept-alive connection.  Then sends. */
static void
send_framed(struct evhttp_request *req, bool head, int status,
            const char *content_type, bool cacheable, bool close,
            struct evbuffer *body)
{
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	size_t len = body != NULL ? evbuffer_get_length(body) : 0;

	if (content_type != NULL)
		evhttp_add_header(headers, "Content-Type", content_type);
	evhttp_add_header(headers, "X-Content-Type-Options", "nosniff");
	if (!cacheable)
		evhttp_add_header(headers, "Cache-Control", "no-store");
	if (close)
		evhttp_add_header(headers, "Connection", "close");
	if (status != 204) {
		char n[32];

		snprintf(n, sizeof(n), "%zu", len);
		evhttp_add_header(headers, "Content-Length", n);
	}
	if (head && body != NULL) {
		evbuffer_drain(body, len);
		body = NULL;
	}
	evhttp_send_reply(req, status, NULL, body);
}

void
reply_send(struct http_call *call, int status, const char *content_type,
           struct evbuffer *body)
{
	struct evhttp_request *req = call->req;
	bool head = call->method == HTTP_HEAD, cacheable = call->cacheable;
	bool close = call->close_connection || server_is_stopping(call->server);

	record_access(call, status);
	server_release_call(call);
	send_framed(req, head, status, content_type, cacheable, close, body);
}

void
reply_no_memory(struct evhttp_request *req)
{
	static const char text[] =
	    "{\"detail\": \"service temporarily unavailable\"}";
	struct evbuffer *body = evbuffer_new();

	/* Without a buffer, the reply goes out empty (and says so). */
	if (body != NULL &&
	    evbuffer_add_reference(body, text, strlen(text), NULL, NULL) != 0) {
		evbuffer_free(body);
		body = NULL;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
	                  "1");
	send_framed(req, evhttp_request_get_command(req) == EVHTTP_REQ_HEAD,
	            503, body != NULL ? "application/json" : NULL, false, true,
	            body);
	if (body != NULL)
		evbuffer_free(body);
}

void
reply_json_text(struct http_call *call, int status, size_t n,
                const char *const text[], const size_t len[])
{
	struct evbuffer *body = evbuffer_new();

	for (size_t i = 0; body != NULL && i < n; i++) {
		if (evbuffer_add(body, text[i], len[i]) != 0) {
			evbuffer_free(body);
			body = NULL;
		}
	}
	if (body == NULL) {
		log_error("out of memory for a reply");
		status = 503;
	}
	reply_send(call, status, "application/json", body);
	if (body != NULL)
		evbuffer_free(body);
}

void
reply_json(struct http_call *call, int status, struct json_object *obj)
{
	size_t len = 0;
	const char *text = json_object_to_json_string_length(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	if (text == NULL) {
		log_error("out of memory for a reply");
		text = "";
		len = 0;
		status = 503;
	}
	reply_json_text(call, status, 1, &text, &len);
	json_object_put(obj);
}

void
reply_detail(struct http_call *call, int status, const char *detail)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(obj, "detail", json_object_new_string(detail));
	reply_json(call, status, obj);
}

void
reply_unavailable(struct http_call *call)
{
	struct json_object *obj = json_object_new_object();

	json_object_object_add(
	    obj, "detail",
	    json_object_new_string("service temporarily unavailable"));
	json_object_object_add(obj, "redis_healthy",
	                       json_object_new_boolean(0));
	reply_add_header(call, "Retry-After", "1");
	reply_json(call, 503, obj);
}
