#include "request_check.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include <sys/queue.h>

#include <event2/keyvalq_struct.h>

const char *
request_check(const struct evkeyvalq *headers, int major, int minor)
{
	const struct evkeyval *h;
	int count = 0, hosts = 0, lengths = 0, encodings = 0;
	size_t size = 0;

	if (major != 1 || (minor != 0 && minor != 1))
		return "unsupported HTTP version";
	TAILQ_FOREACH(h, headers, next)
	{
		count++;
		size += strlen(h->key) + strlen(h->value) + 4; /* ": ", CRLF */
		if (strcasecmp(h->key, "Host") == 0)
			hosts++;
		else if (strcasecmp(h->key, "Content-Length") == 0)
			lengths++;
		else if (strcasecmp(h->key, "Transfer-Encoding") == 0)
			encodings++;
	}
	if (count > REQUEST_HEADERS_MAX)
		return "too many headers";
	if (size > REQUEST_HEADERS_SIZE_MAX)
		return "headers over 8192 bytes";
	if (minor == 1 && hosts != 1)
		return hosts == 0 ? "HTTP/1.1 request without Host"
		                  : "more than one Host header";
	if (lengths > 1)
		return "more than one Content-Length";
	if (lengths > 0 && encodings > 0)
		return "both Content-Length and Transfer-Encoding";
	return NULL;
}
