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

Test(request_check, lengths_and_encodings)
{
	evhttp_add_header(&headers, "Content-Length", "5");
	evhttp_add_header(&headers, "content-length", "5");
	cr_expect_not_null(request_check(&headers, HTTP_GET, 1, 1));
	evhttp_clear_headers(&headers);
	evhttp_add_header(&headers, "Host", "x");
	evhttp_add_header(&headers, "Content-Length", "5");
	evhttp_add_header(&headers, "Transfer-Encoding", "chunked");
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
