/* The only place that sends HTTP replies.  Each function answers the call,
 * adds the common headers (X-Content-Type-Options, Cache-Control, ...),
 * writes the access line, and frees the call: see call.h. */
#ifndef IFRAME_AUTH_HTTP_REPLY_H
#define IFRAME_AUTH_HTTP_REPLY_H

#include <stddef.h>

#include "call.h"

struct evbuffer;
struct evhttp_request;
struct json_object;

/* Adds a header to the reply that will be sent for call. */
void reply_add_header(struct http_call *call, const char *name,
                      const char *value);

/* Sends status with body (may be NULL, which means empty); the body's
 * contents are moved out of the buffer.  Every reply but a 204 carries
 * Content-Length; a HEAD request gets the headers and Content-Length
 * only. */
void reply_send(struct http_call *call, int status, const char *content_type,
                struct evbuffer *body);

/* Sends the n pieces of text, joined in order, as a JSON body. */
void reply_json_text(struct http_call *call, int status, size_t n,
                     const char *const text[], const size_t len[]);

/* Sends obj as JSON and releases obj. */
void reply_json(struct http_call *call, int status, struct json_object *obj);

/* Sends {"detail": detail}. */
void reply_detail(struct http_call *call, int status, const char *detail);

/* The answer to a request that has no call because memory ran out:
 * 503 {"detail": "service temporarily unavailable"}, Retry-After: 1,
 * connection closed; counted nowhere. */
void reply_no_memory(struct evhttp_request *req);

/* The §6 answer while Redis cannot serve the request: 503
 * {"detail": "service temporarily unavailable", "redis_healthy": false}
 * with Retry-After: 1. */
void reply_unavailable(struct http_call *call);

#endif
