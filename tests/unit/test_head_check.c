/* head_check.c: the raw request head, line by line as evhttp splits it,
 * and the bad lines blanked before evhttp reads them. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "http/head_check.h"

struct result {
	const char *problem;
	ptrdiff_t end; /* offset of the LF that ends the head, or -1 */
	char text[512];
};

/* Scans head as the glue does: bad lines blanked in place. */
static struct result
scan(const char *head)
{
	struct result r = {.end = -1};
	struct head_scan s;
	size_t len = strlen(head);

	cr_assert_lt(len, sizeof(r.text));
	memcpy(r.text, head, len + 1);
	head_scan_start(&s);
	for (size_t i = 0; i < len && r.end < 0; i++) {
		size_t start = 0, content = 0;

		switch (head_scan_byte(&s, (unsigned char)head[i], &start,
		                       &content)) {
		case HEAD_SCAN_MORE:
			break;
		case HEAD_SCAN_BAD_LINE:
			cr_assert_leq(start, i);
			memset(r.text + i - start, ' ', content);
			r.text[i - start] = ':';
			break;
		case HEAD_SCAN_END:
			r.end = (ptrdiff_t)i;
			break;
		}
	}
	r.problem = s.problem;
	return r;
}

#define REQ "GET / HTTP/1.1\r\n"

Test(head_scan, good_heads_pass_untouched)
{
	static const char *const heads[] = {
	    REQ "Host: x\r\n\r\n",
	    REQ "Host: x\r\nContent-Length: 5\r\n\r\n",
	    REQ "content-length:5\r\n\r\n",
	    REQ "Content-Length:   12  \r\n\r\n", /* spaces either side */
	    REQ "X-Odd!#$%&'*+-.^_`|~9: a:b \t c\r\n\r\n",
	    REQ "Content-Lengthy: abc\r\n\r\n", /* not Content-Length */
	    REQ "Content-Lengt: abc\r\n\r\n",
	    REQ "X: \r\n\r\n",             /* empty value */
	    "GET / HTTP/1.1\nHost: x\n\n", /* bare LF line ends */
	    "GET /\r? x HTTP/1.1\r\n\r\n", /* the request line: evhttp's */
	};

	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		struct result r = scan(heads[i]);

		cr_expect_null(r.problem, "%s: %s", heads[i], r.problem);
		cr_expect_eq(r.end, (ptrdiff_t)strlen(heads[i]) - 1, "%s",
		             heads[i]);
		cr_expect_str_eq(r.text, heads[i]);
	}
}

Test(head_scan, bad_lines_are_blanked_whole)
{
	static const struct {
		const char *head, *blanked;
	} cases[] = {
	    {REQ "Host: x\r\nX: a\r\n Content-Length: 5\r\n\r\n",
	     REQ "Host: x\r\nX: a\r\n:                 \r\n\r\n"},
	    {REQ "\tX: a\r\n\r\n", REQ ":    \r\n\r\n"},
	    {REQ "Content-Length : 5\r\n\r\n",
	     REQ ":                 \r\n\r\n"},
	    {REQ "Content-Length\t: 5\r\n\r\n",
	     REQ ":                 \r\n\r\n"},
	    {REQ "Bad Name: x\r\n\r\n", REQ ":          \r\n\r\n"},
	    {REQ "Bad\"Name: x\r\n\r\n", REQ ":          \r\n\r\n"},
	    {REQ ": x\r\n\r\n", REQ ":  \r\n\r\n"},
	    {REQ "no colon\r\n\r\n", REQ ":       \r\n\r\n"},
	    {REQ "X: a\rb\r\n\r\n", REQ ":     \r\n\r\n"},
	    {REQ "X\rY: a\r\n\r\n", REQ ":     \r\n\r\n"},
	    {REQ "\r\r\n\r\n", REQ ":\r\n\r\n"},
	    {REQ "X: a\r\r\n\r\n", REQ ":    \r\n\r\n"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r = scan(cases[i].head);

		cr_expect_not_null(r.problem, "%s", cases[i].head);
		cr_expect_str_eq(r.text, cases[i].blanked, "%s", cases[i].head);
		cr_expect_eq(r.end, (ptrdiff_t)strlen(cases[i].head) - 1,
		             "%s: the head ends where evhttp ends it",
		             cases[i].head);
	}
}

Test(head_scan, content_length_must_be_digits)
{
	static const char *const values[] = {
	    "+5", "-5", "0x5", "5,5", "5 5", "",
	    " ",  "5a", "\v5", "1e3", "\t5", "5\t",
	};
	char head[128];

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct result r;

		snprintf(head, sizeof(head), REQ "CONTENT-length: %s\r\n\r\n",
		         values[i]);
		r = scan(head);
		cr_expect_str_eq(r.problem, "Content-Length is not a number",
		                 "%s", values[i]);
		cr_expect_eq(r.text[strlen(REQ)], ':');
	}
}

Test(head_scan, transfer_encoding_is_one_chunked)
{
	static const char *const fine[] = {"chunked", "Chunked", "CHUNKED",
	                                   "chunked ", "  chunked  "};
	static const char *const refused[] = {
	    "chunked, chunked", "gzip, chunked", "chunked, gzip",
	    "identity",         "gzip",          "",
	    "chunked;q=1",      "chunkedx",      "chunke",
	    "chun ked",         "chunked x",     "\tchunked",
	    "chunked\t",
	};
	char head[128];

	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		snprintf(head, sizeof(head), REQ "transfer-ENCODING:%s\r\n\r\n",
		         fine[i]);
		cr_expect_null(scan(head).problem, "%s", fine[i]);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct result r;

		snprintf(head, sizeof(head),
		         REQ "Transfer-Encoding: %s\r\n\r\n", refused[i]);
		r = scan(head);
		cr_expect_str_eq(r.problem,
		                 "Transfer-Encoding other than chunked", "%s",
		                 refused[i]);
		cr_expect_eq(r.text[strlen(REQ)], ':');
	}
}

Test(head_scan, framing_headers_at_most_one)
{
	static const struct {
		const char *head, *problem, *blanked;
	} cases[] = {
	    {REQ "Content-Length: 5\r\ncontent-length: 5\r\n\r\n",
	     "more than one Content-Length",
	     REQ "Content-Length: 5\r\n:                \r\n\r\n"},
	    {REQ "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"
	         "\r\n",
	     "more than one Transfer-Encoding",
	     REQ "Transfer-Encoding: chunked\r\n:                         \r\n"
	         "\r\n"},
	    {REQ "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
	     "both Content-Length and Transfer-Encoding",
	     REQ "Content-Length: 5\r\n:                         \r\n\r\n"},
	    {REQ "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
	     "both Content-Length and Transfer-Encoding",
	     REQ "Transfer-Encoding: chunked\r\n:                \r\n\r\n"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct result r = scan(cases[i].head);

		cr_expect_str_eq(r.problem, cases[i].problem, "%s",
		                 cases[i].head);
		cr_expect_str_eq(r.text, cases[i].blanked);
	}
}

Test(head_scan, nul_in_a_value)
{
	static const char head[] = REQ "X: a\0b\r\n\r\n";
	struct head_scan s;
	size_t start = 0, content = 0;
	enum head_scan_step last = HEAD_SCAN_MORE;

	head_scan_start(&s);
	for (size_t i = 0; i < sizeof(head) - 1; i++) {
		enum head_scan_step step = head_scan_byte(
		    &s, (unsigned char)head[i], &start, &content);

		if (step == HEAD_SCAN_BAD_LINE) {
			cr_expect_eq(start, 7);
			cr_expect_eq(content, 6);
		}
		if (step != HEAD_SCAN_MORE)
			last = step;
	}
	cr_expect_eq(last, HEAD_SCAN_END);
	cr_expect_str_eq(s.problem, "NUL in a header value");
}

Test(head_scan, first_problem_is_kept)
{
	struct result r =
	    scan(REQ " folded\r\nContent-Length: x\r\nBad Name: y\r\n\r\n");

	cr_expect_str_eq(
	    r.problem, "obs-fold (a header line that starts with whitespace)");
	cr_expect_str_eq(r.text, REQ ":      \r\n:"
	                             "                "
	                             "\r\n"
	                             ":          \r\n\r\n");
}

Test(head_scan, the_body_is_not_scanned)
{
	struct result r = scan(REQ "Host: x\r\n\r\n folded\r\nBad Name: y\r\n");

	cr_expect_null(r.problem);
	cr_expect_str_eq(r.text,
	                 REQ "Host: x\r\n\r\n folded\r\nBad Name: y\r\n");
}

/* The glue: bytes added in pieces, in several chains, to a real buffer. */
static void
add_pieces(struct evbuffer *input, const char *text, size_t piece)
{
	for (size_t at = 0, len = strlen(text); at < len; at += piece) {
		struct evbuffer *chunk = evbuffer_new();
		size_t n = len - at < piece ? len - at : piece;

		evbuffer_add(chunk, text + at, n);
		evbuffer_add_buffer(input, chunk); /* moves its chain */
		evbuffer_free(chunk);
	}
}

static char *
contents(struct evbuffer *buf)
{
	size_t len = evbuffer_get_length(buf);
	char *s = malloc(len + 1);

	evbuffer_copyout(buf, s, len);
	s[len] = '\0';
	return s;
}

Test(head_check, blanks_a_bad_line_split_across_reads)
{
	static const char head[] =
	    REQ "Host: x\r\nX: a\r\n\tTransfer-Encoding: "
	        "chunked\r\n\r\n";

	for (size_t piece = 1; piece <= 7; piece++) {
		struct evbuffer *input = evbuffer_new();
		struct head_check h;
		char *text;

		cr_assert(head_check_attach(&h, input));
		add_pieces(input, head, piece);
		text = contents(input);
		cr_expect_str_eq(text,
		                 REQ "Host: x\r\nX: a\r\n:                 "
		                     "         \r\n\r\n",
		                 "pieces of %zu", piece);
		free(text);
		evbuffer_drain(input, evbuffer_get_length(input));
		cr_expect_str_eq(head_check_next(&h),
		                 "obs-fold (a header line that starts with "
		                 "whitespace)");
		head_check_detach(&h);
		evbuffer_free(input);
	}
}

Test(head_check, each_pipelined_head_gets_its_own_verdict)
{
	static const char first[] = REQ "Host: x\r\n\r\n";
	static const char second[] =
	    REQ "Host: x\r\nContent-Length: +5\r\n\r\n";
	struct evbuffer *input = evbuffer_new();
	struct head_check h;
	char both[256], *text;

	snprintf(both, sizeof(both), "%s%s", first, second);
	cr_assert(head_check_attach(&h, input));
	add_pieces(input, both, 1000);
	/* evhttp reads the first request, then hands it over. */
	evbuffer_drain(input, strlen(first));
	cr_expect_null(head_check_next(&h), "the first head is fine");
	text = contents(input);
	cr_expect_str_eq(text, REQ "Host: x\r\n:                 \r\n\r\n",
	                 "the waiting head is checked at once");
	free(text);
	evbuffer_drain(input, evbuffer_get_length(input));
	cr_expect_str_eq(head_check_next(&h), "Content-Length is not a number");
	/* A clean head arriving later on the same connection. */
	add_pieces(input, first, 3);
	evbuffer_drain(input, evbuffer_get_length(input));
	cr_expect_null(head_check_next(&h));
	head_check_detach(&h);
	evbuffer_free(input);
}
