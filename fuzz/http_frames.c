#include "http_frames.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The service's own bounds (README, "Limits"): past them it refuses in
 * its own way, so framing stops there. */
#define HEADERS_MAX      100
#define HEADER_BYTES_MAX 8192
#define BODY_MAX         8192

static bool
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Length of the line at p (up to CRLF, excluded), or -1 when there is no
 * CRLF before end or a bare CR or LF comes first. */
static long
line_length(const char *p, const char *end)
{
	for (const char *q = p; q < end; q++) {
		if (*q == '\n')
			return -1;
		if (*q == '\r')
			return q + 1 < end && q[1] == '\n' ? q - p : -1;
	}
	return -1;
}

static bool
has_token(const char *value, size_t len, const char *token)
{
	size_t n = strlen(token);

	for (size_t i = 0; i + n <= len; i++) {
		if (strncasecmp(value + i, token, n) == 0)
			return true;
	}
	return false;
}

/* The request line "METHOD SP target SP HTTP/1.x". */
static bool
request_line(const char *p, size_t len, struct http_request_frame *r,
             bool *http10)
{
	size_t i = 0, method, target;

	while (i < len && is_tchar((unsigned char)p[i]))
		i++;
	method = i;
	if (method == 0 || i == len || p[i++] != ' ')
		return false;
	while (i < len && p[i] > 0x20 && p[i] < 0x7f)
		i++;
	target = i;
	if (target == method + 1 || len - i != 9 || p[i] != ' ' ||
	    memcmp(p + i + 1, "HTTP/1.", 7) != 0 ||
	    (p[i + 8] != '0' && p[i + 8] != '1'))
		return false;
	r->head = method == 4 && memcmp(p, "HEAD", 4) == 0;
	*http10 = p[i + 8] == '0';
	return true;
}

/* The end of the chunked body at p: hex sizes without extensions, each
 * chunk's CRLF, the last chunk and no trailers; NULL when it is not that
 * or not all there. */
static const char *
chunked_body(const char *q, const char *end)
{
	size_t total = 0;

	for (;;) {
		long len = line_length(q, end);
		size_t size = 0;

		if (len <= 0 || len > 6)
			return NULL;
		for (long i = 0; i < len; i++) {
			char c = q[i];
			int digit = c >= '0' && c <= '9'   ? c - '0'
			            : c >= 'a' && c <= 'f' ? c - 'a' + 10
			            : c >= 'A' && c <= 'F' ? c - 'A' + 10
			                                   : -1;

			if (digit < 0)
				return NULL;
			size = size * 16 + (size_t)digit;
		}
		q += len + 2;
		total += size;
		if (total > BODY_MAX || (size_t)(end - q) < size + 2 ||
		    q[size] != '\r' || q[size + 1] != '\n')
			return NULL;
		q += size + 2;
		if (size == 0)
			return q;
	}
}

/* One request at p; its length, or 0 when it is not framed strictly. */
static size_t
frame_request(const char *p, const char *end, struct http_request_frame *r)
{
	const char *q = p;
	long len = line_length(q, end);
	bool http10 = false, has_length = false, chunked = false;
	unsigned long body = 0;
	int headers = 0;

	if (len <= 0 || !request_line(q, (size_t)len, r, &http10))
		return 0;
	r->may_close = http10;
	q += len + 2;
	while ((len = line_length(q, end)) > 0) {
		const char *colon = memchr(q, ':', (size_t)len);
		const char *value;
		size_t name, vlen;

		if (colon == NULL || colon == q || ++headers > HEADERS_MAX)
			return 0;
		name = (size_t)(colon - q);
		for (size_t i = 0; i < name; i++) {
			if (!is_tchar((unsigned char)q[i]))
				return 0;
		}
		value = colon + 1;
		vlen = (size_t)(q + len - value);
		for (size_t i = 0; i < vlen; i++) {
			if (((unsigned char)value[i] < 0x20 &&
			     value[i] != '\t') ||
			    value[i] == 0x7f)
				return 0;
		}
		if (name == 6 && strncasecmp(q, "Expect", 6) == 0)
			return 0; /* may get an interim 100 Continue */
		if (name == 17 &&
		    strncasecmp(q, "Transfer-Encoding", 17) == 0) {
			/* Exactly one "chunked", in HTTP/1.1: anything else
			 * is the service's to refuse. */
			while (vlen > 0 && (*value == ' ' || *value == '\t')) {
				value++;
				vlen--;
			}
			while (vlen > 0 && (value[vlen - 1] == ' ' ||
			                    value[vlen - 1] == '\t'))
				vlen--;
			if (chunked || http10 || vlen != 7 ||
			    strncasecmp(value, "chunked", 7) != 0)
				return 0;
			chunked = true;
		}
		if (name == 10 && strncasecmp(q, "Connection", 10) == 0 &&
		    has_token(value, vlen, "close"))
			r->may_close = true;
		if (name == 14 && strncasecmp(q, "Content-Length", 14) == 0) {
			char digits[8] = "";
			size_t n = 0;

			while (vlen > 0 && (*value == ' ' || *value == '\t')) {
				value++;
				vlen--;
			}
			while (vlen > 0 && (value[vlen - 1] == ' ' ||
			                    value[vlen - 1] == '\t'))
				vlen--;
			if (has_length || vlen == 0 || vlen >= sizeof(digits))
				return 0;
			for (; n < vlen; n++) {
				if (value[n] < '0' || value[n] > '9')
					return 0;
				digits[n] = value[n];
			}
			body = strtoul(digits, NULL, 10);
			if (body > BODY_MAX)
				return 0;
			has_length = true;
		}
		q += len + 2;
		if (q - p > HEADER_BYTES_MAX)
			return 0;
	}
	if (len != 0 || (chunked && has_length))
		return 0; /* no blank line yet, a bare CR or LF, or both */
	q += 2;
	if (chunked)
		return (q = chunked_body(q, end)) != NULL ? (size_t)(q - p) : 0;
	if ((size_t)(end - q) < body)
		return 0;
	return (size_t)(q - p) + body;
}

size_t
http_frame_requests(const char *data, size_t len,
                    struct http_request_frame *out, size_t max, size_t *framed)
{
	size_t n = 0, used = 0, one;

	while (n < max &&
	       (one = frame_request(data + used, data + len, &out[n])) > 0) {
		used += one;
		n++;
	}
	*framed = used;
	return n;
}

/* A response without Content-Length: its body ends where the
 * connection does. */
#define HTTP_UNTIL_CLOSE (-2)

/* One response at p, answering a HEAD when head: its length, 0 when it
 * is not complete yet, -1 when it is malformed, HTTP_UNTIL_CLOSE. */
static long
parse_response(const char *p, const char *end, bool head, int *status,
               bool *closes)
{
	const char *q = p;
	long len = line_length(q, end);
	long content_length = -1;

	if (len < 0)
		return memchr(p, '\n', (size_t)(end - p)) != NULL ? -1 : 0;
	/* "HTTP/<version> ": evhttp's own refusals echo whatever version
	 * numbers a request claimed ("HTTP/1.11", "HTTP/1.-1"). */
	if (len < 6 || memcmp(q, "HTTP/", 5) != 0)
		return -1;
	for (q += 5; q<p + len && * q> ' ' && *q < 0x7f;)
		q++;
	if (q == p + 5 || p + len - q < 5 || q[0] != ' ' || q[4] != ' ' ||
	    q[1] < '1' || q[1] > '5' || q[2] < '0' || q[2] > '9' ||
	    q[3] < '0' || q[3] > '9')
		return -1;
	*status = (q[1] - '0') * 100 + (q[2] - '0') * 10 + (q[3] - '0');
	q = p;
	if (*status < 200)
		return -1; /* no request here asks for an interim response */
	*closes = false;
	q += len + 2;
	while ((len = line_length(q, end)) > 0) {
		const char *colon = memchr(q, ':', (size_t)len);

		if (colon == NULL || colon == q)
			return -1;
		if (colon - q == 14 &&
		    strncasecmp(q, "Content-Length", 14) == 0) {
			char *after;

			if (content_length >= 0)
				return -1;
			content_length = strtol(colon + 1, &after, 10);
			if (content_length < 0 || after != q + len)
				return -1;
		}
		if (colon - q == 10 && strncasecmp(q, "Connection", 10) == 0 &&
		    has_token(colon + 1, (size_t)(q + len - colon - 1),
		              "close"))
			*closes = true;
		q += len + 2;
	}
	if (len < 0)
		return memchr(q, '\n', (size_t)(end - q)) != NULL ? -1 : 0;
	q += 2;
	if (head || *status == 204 || *status == 304)
		content_length = 0;
	else if (content_length < 0)
		return HTTP_UNTIL_CLOSE;
	if (end - q < content_length)
		return 0;
	return q + content_length - p;
}

void
http_parse_responses(const char *data, size_t len, bool closed,
                     const struct http_request_frame *requests,
                     size_t nrequests, struct http_responses *out)
{
	size_t used = 0;

	memset(out, 0, sizeof(*out));
	/* Past the complete requests it is not known which answers a HEAD,
	 * so the first response there is counted, and the rest left. */
	while (used < len && out->count <= nrequests) {
		bool head = out->count < nrequests && requests[out->count].head;
		int status;
		bool closes;
		long one = parse_response(data + used, data + len, head,
		                          &status, &closes);

		if (one == HTTP_UNTIL_CLOSE) {
			/* Well-formed only as the last thing sent. */
			if (closed) {
				out->count++;
				out->last_status = status;
				out->last_closes = true;
			}
			return;
		}
		if (one < 0)
			out->malformed = true;
		if (one <= 0)
			return;
		used += (size_t)one;
		out->count++;
		out->last_status = status;
		out->last_closes = closes;
	}
}
