/* cookie.c and credential.c: the Set-Cookie line of the embed session,
 * finding a cookie among several, cookie names, and which credential
 * wins (the Bearer header, even when wrong). */
#include <criterion/criterion.h>
#include <string.h>

#include "api/credential.h"
#include "http/cookie.h"

#define TOKEN "abcdefghijklmnopqrstuvwxyz0123456789-_ABCDE"
#define OTHER "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"

Test(cookie, set_line_has_every_attribute)
{
	char line[256];

	cr_assert(cookie_format(line, sizeof(line), "__Host-iframe-auth", TOKEN,
	                        3600));
	cr_expect_str_eq(line, "__Host-iframe-auth=" TOKEN
	                       "; Path=/; Secure; HttpOnly; SameSite=None; "
	                       "Partitioned; Max-Age=3600");
}

Test(cookie, expiry_line_keeps_the_attributes)
{
	char line[256];

	cr_assert(
	    cookie_format(line, sizeof(line), "__Host-iframe-auth", "", 0));
	cr_expect_str_eq(line, "__Host-iframe-auth=; Path=/; Secure; "
	                       "HttpOnly; SameSite=None; Partitioned; "
	                       "Max-Age=0");
}

Test(cookie, line_that_does_not_fit_is_refused)
{
	char line[32];

	cr_expect(!cookie_format(line, sizeof(line), "n", TOKEN, 1));
}

static void
expect_found(const char *header, const char *name, const char *value)
{
	const char *v = NULL;
	size_t len = 0;

	cr_assert(cookie_find(header, name, &v, &len), "%s in %s", name,
	          header);
	cr_expect_eq(len, strlen(value), "%s", header);
	cr_expect(strncmp(v, value, len) == 0, "%s: %.*s", header, (int)len, v);
}

static void
expect_absent(const char *header, const char *name)
{
	const char *v;
	size_t len;

	cr_expect(!cookie_find(header, name, &v, &len), "%s in %s", name,
	          header);
}

Test(cookie, finds_one_among_several)
{
	expect_found("a=1", "a", "1");
	expect_found("a=1; b=2; c=3", "b", "2");
	expect_found("a=1;b=2", "b", "2");
	expect_found("  a = 1 ;  b =  2  ", "b", "2");
	expect_found("a=1; b=\"quoted\"", "b", "quoted");
	expect_found("b=first; b=second", "b", "first");
	expect_found("a=x=y; b=2", "a", "x=y");
	expect_found("b=", "b", "");
}

Test(cookie, names_match_exactly)
{
	expect_absent("", "b");
	expect_absent("bb=1; ab=2", "b");
	expect_absent("B=1", "b");
	expect_absent("b", "b");
	expect_absent("x=b=1", "b");
	expect_absent(";;;", "b");
}

Test(cookie, name_check)
{
	cr_expect_null(cookie_check_name("__Host-iframe-auth"));
	cr_expect_null(cookie_check_name("sid"));
	cr_expect_not_null(cookie_check_name(""));
	cr_expect_not_null(cookie_check_name("a b"));
	cr_expect_not_null(cookie_check_name("a=b"));
	cr_expect_not_null(cookie_check_name("a;b"));
	cr_expect_not_null(cookie_check_name("a\"b"));
	cr_expect_not_null(cookie_check_name("caf\xc3\xa9"));
}

static enum credential
pick(const char *authorization, const char *cookie, char *token)
{
	return credential_pick(authorization, cookie, "__Host-iframe-auth",
	                       token);
}

Test(credential, bearer_header)
{
	char t[EMBED_TOKEN_LEN + 1];

	cr_assert_eq(pick("Bearer " TOKEN, NULL, t), CREDENTIAL_TOKEN);
	cr_expect_str_eq(t, TOKEN);
	cr_assert_eq(pick("bearer  " TOKEN " ", NULL, t), CREDENTIAL_TOKEN);
	cr_expect_str_eq(t, TOKEN);
	cr_expect_eq(pick("Basic " TOKEN, NULL, t), CREDENTIAL_MALFORMED);
	cr_expect_eq(pick("Bearer", NULL, t), CREDENTIAL_MALFORMED);
	cr_expect_eq(pick("Bearer ", NULL, t), CREDENTIAL_MALFORMED);
	cr_expect_eq(pick("Bearer " TOKEN "A", NULL, t), CREDENTIAL_MALFORMED);
	cr_expect_eq(pick("Bearer " TOKEN " x", NULL, t), CREDENTIAL_MALFORMED);
}

Test(credential, header_beats_cookie_even_when_wrong)
{
	char t[EMBED_TOKEN_LEN + 1];

	cr_assert_eq(pick("Bearer " OTHER, "__Host-iframe-auth=" TOKEN, t),
	             CREDENTIAL_TOKEN);
	cr_expect_str_eq(t, OTHER);
	cr_expect_eq(pick("Bearer garbage", "__Host-iframe-auth=" TOKEN, t),
	             CREDENTIAL_MALFORMED);
	cr_expect_eq(pick("", "__Host-iframe-auth=" TOKEN, t),
	             CREDENTIAL_MALFORMED);
}

Test(credential, cookie_when_no_header)
{
	char t[EMBED_TOKEN_LEN + 1];

	cr_assert_eq(pick(NULL, "theme=dark; __Host-iframe-auth=" TOKEN, t),
	             CREDENTIAL_TOKEN);
	cr_expect_str_eq(t, TOKEN);
	cr_expect_eq(pick(NULL, "__Host-iframe-auth=short", t),
	             CREDENTIAL_MALFORMED);
	cr_expect_eq(pick(NULL, "theme=dark", t), CREDENTIAL_MISSING);
	cr_expect_eq(pick(NULL, NULL, t), CREDENTIAL_MISSING);
	/* Cookies off: the cookie is not read. */
	cr_expect_eq(
	    credential_pick(NULL, "__Host-iframe-auth=" TOKEN, NULL, t),
	    CREDENTIAL_MISSING);
}
