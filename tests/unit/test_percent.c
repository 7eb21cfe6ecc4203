/* percent.c: percent-decoding a piece of a request path. */
#include <criterion/criterion.h>
#include <string.h>

#include "http/percent.h"

static void
expect_decoded(const char *in, const char *want, size_t want_len)
{
	char out[64];
	size_t len = 99;

	cr_assert(percent_decode(in, strlen(in), out, sizeof(out), &len), "%s",
	          in);
	cr_expect_eq(len, want_len, "%s", in);
	cr_expect_eq(memcmp(out, want, want_len), 0, "%s", in);
	cr_expect_eq(out[len], '\0', "%s", in);
}

static void
expect_refused(const char *in)
{
	char out[64];
	size_t len;

	cr_expect_not(percent_decode(in, strlen(in), out, sizeof(out), &len),
	              "%s", in);
}

Test(percent_decode, decodes_escapes_in_either_case)
{
	expect_decoded("alice", "alice", 5);
	expect_decoded("a%2Fb%2fc", "a/b/c", 5);
	expect_decoded("100%25", "100%", 4);
	expect_decoded("a%20b+c", "a b+c", 5);
	expect_decoded("%C3%A9t%c3%a9", "\xc3\xa9t\xc3\xa9", 5);
	expect_decoded("", "", 0);
}

Test(percent_decode, keeps_nul_for_the_caller_to_refuse)
{
	expect_decoded("a%00b", "a\0b", 3);
}

Test(percent_decode, refuses_broken_escapes)
{
	expect_refused("%");
	expect_refused("a%2");
	expect_refused("%G0");
	expect_refused("%0G");
	expect_refused("%%41");
	expect_refused("a%-1");
}

Test(percent_decode, refuses_what_does_not_fit)
{
	char out[4];
	size_t len;

	cr_expect(percent_decode("abc", 3, out, sizeof(out), &len));
	cr_expect_not(percent_decode("abcd", 4, out, sizeof(out), &len));
	cr_expect(percent_decode("%41%42%43", 9, out, sizeof(out), &len));
	cr_expect_not(
	    percent_decode("%41%42%43%44", 12, out, sizeof(out), &len));
}
