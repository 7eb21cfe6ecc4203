/* return_to.c: every rule of §5 for return_to, with the forms that turn
 * a path into another origin in a browser or in a hop that decodes. */
#include <criterion/criterion.h>
#include <string.h>

#include "session/return_to.h"

static void
accepted(const char *s)
{
	const char *why = return_to_check(s, strlen(s));

	cr_expect_null(why, "%s: %s", s, why);
}

static void
refused(const char *s, size_t len)
{
	cr_expect_not_null(return_to_check(s, len), "%.*s", (int)len, s);
}

#define REFUSED(s) refused(s, sizeof(s) - 1)

Test(return_to, plain_paths_with_query_and_fragment)
{
	accepted("/");
	accepted("/app/");
	accepted("/app/reports?id=7&x=%20#top");
	accepted("/a//b");     /* "//" later in the path is a path */
	accepted("/app/%2Fx"); /* an encoded slash past the first segment */
	accepted("/%41pp");    /* other escapes at the start */
}

Test(return_to, must_start_with_exactly_one_slash)
{
	REFUSED("");
	REFUSED("app/");
	REFUSED("https://evil.example/");
	REFUSED("javascript:alert(1)");
	REFUSED("//evil.example");
	REFUSED("//");
	REFUSED("///evil.example");
}

Test(return_to, no_backslash_anywhere)
{
	REFUSED("/\\evil.example");
	REFUSED("\\\\evil.example");
	REFUSED("/app/\\x");
}

Test(return_to, no_encoded_slash_or_backslash_after_the_first_slash)
{
	REFUSED("/%2F/evil.example");
	REFUSED("/%2f/evil.example");
	REFUSED("/%5C/evil.example");
	REFUSED("/%5cevil.example");
}

Test(return_to, no_control_characters)
{
	/* Browsers drop tabs and newlines from URLs: "/\t/evil" would
	 * become "//evil". */
	REFUSED("/\t/evil.example");
	REFUSED("/\n/evil.example");
	REFUSED("/\r/evil.example");
	REFUSED("/app\x7f");
	REFUSED("/app\x01");
	refused("/app\0x", 6);
}

Test(return_to, printable_ascii_only)
{
	REFUSED("/caf\xc3\xa9");
	REFUSED("/\xef\xbc\x8f"
	        "evil.example"); /* fullwidth solidus */
}

Test(return_to, at_most_1_KiB)
{
	char s[RETURN_TO_MAX + 2];

	memset(s, 'a', sizeof(s));
	s[0] = '/';
	cr_expect_null(return_to_check(s, RETURN_TO_MAX));
	cr_expect_not_null(return_to_check(s, RETURN_TO_MAX + 1));
}
