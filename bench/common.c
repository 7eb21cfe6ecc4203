#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>

static const char body[] =
    "{\"valid\":true,\"session_id\":\"550e8400-e29b-41d4-a716-446655440000\","
    "\"created_at\":\"2026-11-22T10:00:00Z\",\"expires_at\":\"2026-11-22T1"
    "0:30:00Z\",\"used_at\":\"2026-11-22T10:00:05Z\"}";

struct evhttp *
bench_http(struct event_base *base, int argc, char **argv,
           void (*cb)(struct evhttp_request *, void *), void *arg)
{
	struct evhttp *http = evhttp_new(base);

	if (argc < 2 || http == NULL) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return NULL;
	}
	evhttp_set_max_headers_size(http, 8192);
	evhttp_set_max_body_size(http, 64 * 1024);
	evhttp_set_timeout(http, 10);
	evhttp_set_gencb(http, cb, arg);
	if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)atoi(argv[1])) !=
	    0) {
		fprintf(stderr, "cannot listen on %s\n", argv[1]);
		return NULL;
	}
	return http;
}

void
bench_reply(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *out = evbuffer_new();

	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Cache-Control", "no-store");
	evbuffer_add_reference(out, body, sizeof(body) - 1, NULL, NULL);
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}
