/* api_key.c: key comparison and the Authorization: Bearer check against a
 * comma-separated list of keys. */
#include <criterion/criterion.h>
#include <string.h>

#include "api/api_key.h"

static bool
equal(const char *a, const char *b)
{
	return api_key_equal(a, strlen(a), b, strlen(b));
}

Test(api_key_equal, equal_keys)
{
	cr_expect(equal("k1", "k1"));
	cr_expect(
	    equal("a-long-secret-0123456789", "a-long-secret-0123456789"));
	cr_expect(equal("", ""));
}

Test(api_key_equal, different_keys_of_the_same_length)
{
	cr_expect_not(equal("k1", "k2"));
	cr_expect_not(equal("k1", "K1"));
	cr_expect_not(equal("abcdef", "abcdeg"));
	cr_expect_not(equal("abcdef", "bbcdef"));
	/* Bytes that differ only in the high bit. */
	cr_expect_not(equal("a", "\xe1"));
}

Test(api_key_equal, prefixes_are_not_equal)
{
	cr_expect_not(equal("k1", "k1x"));
	cr_expect_not(equal("k1x", "k1"));
	cr_expect_not(equal("", "k"));
	cr_expect_not(equal("k", ""));
}

Test(api_key_equal, lengths_decide_not_terminators)
{
	/* Trailing NULs would compare as padding: the lengths must differ. */
	cr_expect_not(api_key_equal("k1\0", 3, "k1", 2));
	cr_expect_not(api_key_equal("k1", 2, "k1\0", 3));
	cr_expect(api_key_equal("k1,k2", 2, "k1", 2));
	cr_expect(api_key_equal("k1\0a", 4, "k1\0a", 4));
	cr_expect_not(api_key_equal("k1\0a", 4, "k1\0b", 4));
}

Test(api_key_authorized, missing_or_empty_header)
{
	cr_expect_not(api_key_authorized("k1", NULL));
	cr_expect_not(api_key_authorized("k1", ""));
	cr_expect_not(api_key_authorized("k1", "Bearer"));
	cr_expect_not(api_key_authorized("k1", "Bearer "));
}

Test(api_key_authorized, empty_token_never_matches_an_empty_key)
{
	/* A list with an empty entry must not let an empty token in. */
	cr_expect_not(api_key_authorized("k1,", "Bearer "));
	cr_expect_not(api_key_authorized(",k1", "Bearer "));
	cr_expect_not(api_key_authorized("k1,,k2", "Bearer "));
	cr_expect_not(api_key_authorized("", "Bearer "));
	cr_expect_not(api_key_authorized("", "Bearer k1"));
}

Test(api_key_authorized, other_schemes_are_refused)
{
	cr_expect_not(api_key_authorized("k1", "Basic abc"));
	cr_expect_not(api_key_authorized("abc", "Basic abc"));
	cr_expect_not(api_key_authorized("k1", "k1"));
	cr_expect_not(api_key_authorized("k1", "Token k1"));
	cr_expect_not(api_key_authorized("k1", "Bearerk1"));
	cr_expect_not(api_key_authorized("k1", "Bearer:k1"));
}

Test(api_key_authorized, single_key)
{
	cr_expect(api_key_authorized("k1", "Bearer k1"));
	cr_expect_not(api_key_authorized("k1", "Bearer k2"));
	cr_expect_not(api_key_authorized("k1", "Bearer K1"));
}

Test(api_key_authorized, any_key_of_a_list)
{
	cr_expect(api_key_authorized("k0,k1,k2", "Bearer k0"));
	cr_expect(api_key_authorized("k0,k1,k2", "Bearer k1"));
	cr_expect(api_key_authorized("k0,k1,k2", "Bearer k2"));
	cr_expect_not(api_key_authorized("k0,k1,k2", "Bearer k3"));
	cr_expect_not(api_key_authorized("k0,k1,k2", "Bearer k0,k1,k2"));
	cr_expect_not(api_key_authorized("k0,k1,k2", "Bearer k0,k1"));
	cr_expect_not(api_key_authorized("k0,k1,k2", "Bearer ,"));
}

Test(api_key_authorized, scheme_is_case_insensitive)
{
	cr_expect(api_key_authorized("k1", "bearer k1"));
	cr_expect(api_key_authorized("k1", "BEARER k1"));
	cr_expect(api_key_authorized("k0,k1", "bEaReR k1"));
}

Test(api_key_authorized, prefixes_do_not_match)
{
	/* The token is a prefix of a configured key. */
	cr_expect_not(api_key_authorized("k1", "Bearer k"));
	cr_expect_not(api_key_authorized("k0,k1,k2", "Bearer k"));
	/* A configured key is a prefix of the token. */
	cr_expect_not(api_key_authorized("k1", "Bearer k1x"));
	cr_expect_not(api_key_authorized("k0,k1,k2", "Bearer k1x"));
	cr_expect_not(api_key_authorized("k0,k1,k2", "Bearer k2x"));
}

Test(api_key_authorized, whitespace_is_part_of_the_token)
{
	cr_expect_not(api_key_authorized("k1", "Bearer k1 "));
	cr_expect_not(api_key_authorized("k1", "Bearer  k1"));
	cr_expect_not(api_key_authorized("k1", "Bearer\tk1"));
	cr_expect_not(api_key_authorized("k1", " Bearer k1"));
	cr_expect_not(api_key_authorized("k0,k1", "Bearer k1\n"));
}
