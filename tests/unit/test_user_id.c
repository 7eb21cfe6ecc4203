/* user_id.c: what a session's user_id may be. */
#include <criterion/criterion.h>
#include <string.h>

#include "session/user_id.h"

static bool
valid(const char *s)
{
	return user_id_valid(s, strlen(s));
}

Test(user_id_valid, accepts_text_and_utf8)
{
	cr_expect(valid("alice"));
	cr_expect(valid("a/b %c"));
	cr_expect(valid("\xc3\xa9l\xc3\xa8ve \xe2\x82\xac \xf0\x9f\x98\x80"));
	cr_expect(valid(""));
}

Test(user_id_valid, refuses_control_characters_and_nul)
{
	cr_expect_not(user_id_valid("a\0b", 3));
	cr_expect_not(valid("a\tb"));
	cr_expect_not(valid("a\nb"));
	cr_expect_not(valid("a\x7f"));
}

Test(user_id_valid, refuses_invalid_utf8)
{
	cr_expect_not(valid("\xc3"));
	cr_expect_not(valid("\xc0\xaf"));         /* overlong '/' */
	cr_expect_not(valid("\xed\xa0\x80"));     /* surrogate */
	cr_expect_not(valid("\xf4\x90\x80\x80")); /* above U+10FFFF */
	cr_expect_not(valid("\xff"));
}

Test(user_id_valid, counts_bytes_up_to_256)
{
	char s[258];

	memset(s, 'a', sizeof(s));
	cr_expect(user_id_valid(s, 256));
	cr_expect_not(user_id_valid(s, 257));
}
