/* GET /openapi.json: the API's contract, served from memory. */
#include <event2/buffer.h>

#include "../http/reply.h"
#include "api.h"
#include "openapi_doc.h"

void
openapi_get(struct http_call *call)
{
	struct evbuffer *body = evbuffer_new();

	if (body == NULL) {
		reply_detail(call, 503, "out of memory");
		return;
	}
	/* Static for the life of the process: by reference, no copy. */
	evbuffer_add_reference(body, openapi_json, openapi_json_len, NULL,
	                       NULL);
	reply_send(call, 200, "application/json", body);
	evbuffer_free(body);
}
