/* What fuzz_http checks a conversation against: the complete requests a
 * raw input holds, and the responses that came back. */
#ifndef IFRAME_AUTH_FUZZ_HTTP_FRAMES_H
#define IFRAME_AUTH_FUZZ_HTTP_FRAMES_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_FRAMES_MAX 64

/* One complete request. */
struct http_request_frame {
	bool head;      /* its response has no body */
	bool may_close; /* HTTP/1.0, or Connection: close: the service may
	                   close after answering it */
};

/*
 * The complete requests at the start of data, framed strictly: a request
 * line with HTTP/1.0 or 1.1, header lines "token: text", a blank line
 * and exactly Content-Length bytes of body, or a plain chunked body.
 * Framing stops before anything else (another Transfer-Encoding, two
 * lengths, Expect, an unusual header line, a body still arriving): the
 * service may refuse that, or wait for more, in its own way.  Returns how many
 * (at most max); *framed is how many bytes they take.
 */
size_t http_frame_requests(const char *data, size_t len,
                           struct http_request_frame *out, size_t max,
                           size_t *framed);

/* The responses in data, parsed strictly: a status line, header lines,
 * at most one Content-Length and that body (none for a HEAD); without
 * Content-Length, the body runs to the close, so only the last response
 * may lack it, once closed is true.  The i-th answers requests[i]; one
 * response past those is counted, and nothing after it looked at. */
struct http_responses {
	size_t count;     /* complete responses */
	bool malformed;   /* data is not complete responses plus the start of
	                     one */
	int last_status;  /* of the last complete response */
	bool last_closes; /* it carries Connection: close */
};

void http_parse_responses(const char *data, size_t len, bool closed,
                          const struct http_request_frame *requests,
                          size_t nrequests, struct http_responses *out);

#endif
