#include "body.h"

#include <event2/buffer.h>
#include <event2/http.h>

#include "call.h"

const char *
http_body(struct http_call *call, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(call->req);

	*len = evbuffer_get_length(in);
	return *len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
}

const char *
http_header(struct http_call *call, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(call->req),
	                          name);
}
