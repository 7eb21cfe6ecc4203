/* Access to a request's body and headers for handlers. */
#ifndef IFRAME_AUTH_HTTP_BODY_H
#define IFRAME_AUTH_HTTP_BODY_H

#include <stddef.h>

struct http_call;

/* The request body as one contiguous block (not NUL-terminated). */
const char *http_body(struct http_call *call, size_t *len);

/* The value of request header name, or NULL. */
const char *http_header(struct http_call *call, const char *name);

#endif
