#include "request_check.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include <sys/queue.h>

#include <event2/keyvalq_struct.h>

const char *
request_check(const struct evkeyvalq *headers, enum http_method method,
              int major, int minor)
{
	const struct evkeyval *h;
	int count = 0, hosts = 0;
	bool length = false, chunked = false;
	size_t size = 0;

	if (major != 1 || (minor != 0 && minor != 1))
		return "unsupported HTTP version";
	/* A tunnel, not a request for this service: after it, the bytes on
	 * the connection would no longer be HTTP. */
	if (method == HTTP_CONNECT)
		return "CONNECT is not supported";
	TAILQ_FOREACH(h, headers, next)
	{
		count++;
		size += strlen(h->key) + strlen(h->value) + 4; /* ": ", CRLF */
		if (strcasecmp(h->key, "Host") == 0) {
			hosts++;
		} else if (strcasecmp(h->key, "Content-Length") == 0) {
			length = true;
		} else if (strcasecmp(h->key, "Transfer-Encoding") == 0) {
			chunked = true;
		}
	}
	if (count > REQUEST_HEADERS_MAX)
		return "too many headers";
	if (size > REQUEST_HEADERS_SIZE_MAX)
		return "headers over 8192 bytes";
	if (minor == 1 && hosts != 1)
		return hosts == 0 ? "HTTP/1.1 request without Host"
		                  : "more than one Host header";
	if ((length || chunked) &&
	    (method == HTTP_HEAD || method == HTTP_TRACE))
		return method == HTTP_HEAD ? "HEAD request with a body"
		                           : "TRACE request with a body";
	if (chunked && minor == 0)
		return "Transfer-Encoding in an HTTP/1.0 request";
	return NULL;
}
