/* request_check.c: the ambiguous requests of §7 and the header limits. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "http/request_check.h"

static struct evkeyvalq headers;

static void
setup(void)
{
	TAILQ_INIT(&headers);
	evhttp_add_header(&headers, "Host", "example.com");
}

static void
teardown(void)
{
	evhttp_clear_headers(&headers);
}

TestSuite(request_check, .init = setup, .fini = teardown);

Test(request_check, plain_requests_pass)
{
	cr_expect_null(request_check(&headers, HTTP_GET, 1, 1));
	evhttp_add_header(&headers, "Content-Length", "5");
	cr_expect_null(request_check(&headers, HTTP_GET, 1, 1));
	cr_expect_null(request_check(&headers, HTTP_GET, 1, 0));
}

Test(request_check, versions)
{
	cr_expect_not_null(request_check(&headers, HTTP_GET, 1, 9));
	cr_expect_not_null(request_check(&headers, HTTP_GET, 2, 0));
	cr_expect_not_null(request_check(&headers, HTTP_GET, 0, 9));
}

Test(request_check, host)
{
	evhttp_clear_headers(&headers);
	cr_expect_not_null(request_check(&headers, HTTP_GET, 1, 1));
	cr_expect_null(request_check(&headers, HTTP_GET, 1, 0),
	               "1.0 needs no Host");
	evhttp_add_header(&headers, "Host", "a");
	evhttp_add_header(&headers, "host", "b");
	cr_expect_not_null(request_check(&headers, HTTP_GET, 1, 1));
}

Test(request_check, header_count)
{
	char name[16];

	for (int i = 1; i < REQUEST_HEADERS_MAX; i++) {
		snprintf(name, sizeof(name), "X-H%d", i);
		evhttp_add_header(&headers, name, "v");
	}
	cr_expect_null(request_check(&headers, HTTP_GET, 1, 1),
	               "exactly the limit");
	evhttp_add_header(&headers, "X-One-More", "v");
	cr_expect_not_null(request_check(&headers, HTTP_GET, 1, 1));
}

Test(request_check, header_size)
{
	static char value[9000];

	memset(value, 'a', 8000);
	evhttp_add_header(&headers, "X-Big", value);
	cr_expect_null(request_check(&headers, HTTP_GET, 1, 1));
	evhttp_clear_headers(&headers);
	evhttp_add_header(&headers, "Host", "x");
	memset(value, 'a', sizeof(value) - 1);
	evhttp_add_header(&headers, "X-Big", value);
	cr_expect_not_null(request_check(&headers, HTTP_GET, 1, 1));
}

Test(request_check, body_framing_on_head_and_trace)
{
	static const char *const names[] = {"Content-Length",
	                                    "Transfer-Encoding"};
	static const char *const values[] = {"0", "chunked"};

	cr_expect_null(request_check(&headers, HTTP_HEAD, 1, 1));
	cr_expect_null(request_check(&headers, HTTP_TRACE, 1, 1));
	for (int i = 0; i < 2; i++) {
		evhttp_clear_headers(&headers);
		evhttp_add_header(&headers, "Host", "x");
		evhttp_add_header(&headers, names[i], values[i]);
		cr_expect_str_eq(request_check(&headers, HTTP_HEAD, 1, 1),
		                 "HEAD request with a body", "%s", names[i]);
		cr_expect_str_eq(request_check(&headers, HTTP_TRACE, 1, 1),
		                 "TRACE request with a body", "%s", names[i]);
		cr_expect_null(request_check(&headers, HTTP_POST, 1, 1));
	}
}

Test(request_check, connect_is_refused)
{
	cr_expect_str_eq(request_check(&headers, HTTP_CONNECT, 1, 1),
	                 "CONNECT is not supported");
	cr_expect_str_eq(request_check(&headers, HTTP_CONNECT, 1, 0),
	                 "CONNECT is not supported");
}

Test(request_check, transfer_encoding_on_http10)
{
	evhttp_add_header(&headers, "Transfer-Encoding", "chunked");
	cr_expect_null(request_check(&headers, HTTP_POST, 1, 1));
	cr_expect_str_eq(request_check(&headers, HTTP_POST, 1, 0),
	                 "Transfer-Encoding in an HTTP/1.0 request");
}
