/* origin.c: origins in canonical form, and CSP frame-ancestors matching
 * of FRAME_ANCESTORS against them. */
#include <criterion/criterion.h>
#include <string.h>

#include "session/origin.h"

static void
expect_origin(const char *text, const char *canonical)
{
	char out[ORIGIN_MAX + 1];
	const char *why = origin_normalize(text, strlen(text), out);

	cr_expect_null(why, "%s: %s", text, why != NULL ? why : "");
	if (why == NULL)
		cr_expect_str_eq(out, canonical, "%s", text);
}

/* Refused, and the reason contains what. */
static void
expect_refused(const char *text, const char *what)
{
	char out[ORIGIN_MAX + 1];
	const char *why = origin_normalize(text, strlen(text), out);

	cr_expect_not_null(why, "%s should be refused", text);
	if (why != NULL)
		cr_expect_not_null(strstr(why, what),
		                   "%s: \"%s\" should say %s", text, why, what);
}

Test(origin_normalize, keeps_a_canonical_origin)
{
	expect_origin("https://app.example.com", "https://app.example.com");
	expect_origin("http://localhost:8001", "http://localhost:8001");
	expect_origin("http://127.0.0.1:3000", "http://127.0.0.1:3000");
}

Test(origin_normalize, folds_upper_case_in_scheme_and_host)
{
	expect_origin("HTTPS://App.Example.COM", "https://app.example.com");
	expect_origin("Http://LOCALHOST:8001", "http://localhost:8001");
}

Test(origin_normalize, drops_default_ports_only)
{
	expect_origin("https://a.example:443", "https://a.example");
	expect_origin("http://a.example:80", "http://a.example");
	expect_origin("https://a.example:80", "https://a.example:80");
	expect_origin("http://a.example:443", "http://a.example:443");
	expect_origin("https://a.example:0443", "https://a.example");
	expect_origin("https://a.example:65535", "https://a.example:65535");
}

Test(origin_normalize, accepts_one_trailing_slash_and_no_more)
{
	expect_origin("https://a.example/", "https://a.example");
	expect_origin("https://a.example:8443/", "https://a.example:8443");
	expect_refused("https://a.example//", "path");
	expect_refused("https://a.example/app", "path");
	expect_refused("https://a.example?x=1", "query");
	expect_refused("https://a.example/?x=1", "query");
	expect_refused("https://a.example#top", "fragment");
}

Test(origin_normalize, keeps_punycode_as_given_and_refuses_unicode)
{
	expect_origin("https://xn--bcher-kva.example",
	              "https://xn--bcher-kva.example");
	expect_origin("https://XN--BCHER-KVA.example",
	              "https://xn--bcher-kva.example");
	expect_refused("https://b\xc3\xbc"
	               "cher.example",
	               "punycode");
}

Test(origin_normalize, refuses_other_schemes)
{
	expect_refused("ftp://a.example", "scheme");
	expect_refused("ws://a.example", "scheme");
	expect_refused("javascript://a.example", "scheme");
	expect_refused("httpx://a.example", "scheme");
	expect_refused("://a.example", "scheme");
}

Test(origin_normalize, refuses_bad_ports)
{
	expect_refused("https://a.example:", "port");
	expect_refused("https://a.example:0", "port");
	expect_refused("https://a.example:65536", "port");
	expect_refused("https://a.example:123456", "port");
	expect_refused("https://a.example:44a", "port");
	expect_refused("https://a.example:-1", "port");
	expect_refused("https://a.example:*", "port");
}

Test(origin_normalize, refuses_garbage)
{
	expect_refused("", "scheme://host");
	expect_refused("a.example", "scheme://host");
	expect_refused("https:a.example", "scheme://host");
	expect_refused("https://", "host is empty");
	expect_refused("https://:443", "host is empty");
	expect_refused("https://a..example", "empty label");
	expect_refused("https://.a.example", "empty label");
	expect_refused("https://a.example.", "empty label");
	expect_refused("https://user@a.example", "user info");
	expect_refused("https://[::1]:8443", "IPv6");
	expect_refused("https://*.example.com", "letters, digits");
	expect_refused("https://a_b.example", "letters, digits");
	expect_refused("https://a example", "letters, digits");
	expect_refused("https://a\"b", "letters, digits");
	expect_refused("null", "scheme://host");
}

Test(origin_normalize, refuses_nul_and_over_long_hosts)
{
	char out[ORIGIN_MAX + 1];
	char text[300] = "https://";
	size_t n = strlen(text);

	cr_expect_not_null(origin_normalize("https://a\0b", 11, out));
	memset(text + n, 'a', 254);
	text[n + 254] = '\0';
	expect_refused(text, "253");
	text[n + 253] = '\0';
	expect_origin(text, text);
}

Test(origin_of_url, drops_the_path_of_a_base_url)
{
	char out[ORIGIN_MAX + 1];

	cr_assert_null(origin_of_url("https://Auth.Example.com/iframe", out));
	cr_expect_str_eq(out, "https://auth.example.com");
	cr_assert_null(origin_of_url("http://127.0.0.1:8000", out));
	cr_expect_str_eq(out, "http://127.0.0.1:8000");
	cr_expect_not_null(origin_of_url("auth.example.com", out));
}

#define SELF "https://auth.example.com"

static void
expect_allowed(const char *sources, const char *self, const char *origin)
{
	cr_expect(origin_allowed(sources, self, origin),
	          "\"%s\" (self \"%s\") should allow %s", sources, self,
	          origin);
}

static void
expect_not_allowed(const char *sources, const char *self, const char *origin)
{
	cr_expect_not(origin_allowed(sources, self, origin),
	              "\"%s\" (self \"%s\") should not allow %s", sources, self,
	              origin);
}

Test(origin_allowed, host_sources_match_exactly_whatever_their_case)
{
	const char *list = "https://a.example  https://B.Example:8443";

	expect_allowed(list, SELF, "https://a.example");
	expect_allowed(list, SELF, "https://b.example:8443");
	expect_not_allowed(list, SELF, "https://b.example");
	expect_not_allowed(list, SELF, "https://c.example");
	expect_not_allowed(list, SELF, "https://x.a.example");
	expect_not_allowed(list, SELF, "http://a.example");
}

Test(origin_allowed, ports_default_explicit_and_wildcard)
{
	expect_allowed("https://a.example", SELF, "https://a.example");
	expect_not_allowed("https://a.example", SELF, "https://a.example:8443");
	expect_allowed("https://a.example:443", SELF, "https://a.example");
	expect_allowed("https://a.example:*", SELF, "https://a.example:8443");
	expect_allowed("https://a.example:*", SELF, "https://a.example");
	expect_not_allowed("https://a.example:8443", SELF,
	                   "https://a.example:9443");
}

Test(origin_allowed, http_sources_admit_their_https_upgrade_only)
{
	expect_allowed("http://a.example", SELF, "https://a.example");
	expect_not_allowed("https://a.example", SELF, "http://a.example");
	expect_allowed("http:", SELF, "https://a.example");
	expect_allowed("http:", SELF, "http://a.example");
	expect_allowed("https:", SELF, "https://any.example:8443");
	expect_not_allowed("https:", SELF, "http://any.example");
	expect_allowed("HTTPS:", SELF, "https://any.example");
}

Test(origin_allowed, wildcard_hosts_cover_subdomains_only)
{
	const char *list = "https://*.example.com";

	expect_allowed(list, SELF, "https://a.example.com");
	expect_allowed(list, SELF, "https://a.b.example.com");
	expect_not_allowed(list, SELF, "https://example.com");
	expect_not_allowed(list, SELF, "https://badexample.com");
	expect_not_allowed(list, SELF, "https://a.example.com.evil");
	expect_not_allowed(list, SELF, "https://a.example.com:8443");
	expect_allowed("https://*", SELF, "https://anything.example");
	expect_allowed("*", SELF, "https://anything.example");
	expect_not_allowed("*.example.com:*", SELF, "https://example.com");
	expect_allowed("*.example.com:*", SELF, "https://a.example.com:1");
}

Test(origin_allowed, scheme_less_sources_take_the_service_scheme)
{
	expect_allowed("a.example", SELF, "https://a.example");
	expect_not_allowed("a.example", SELF, "http://a.example");
	expect_allowed("a.example", "http://auth.local:8000",
	               "http://a.example");
	expect_allowed("a.example", "http://auth.local:8000",
	               "https://a.example");
	/* Unknown self: http and https. */
	expect_allowed("localhost:8001", "", "http://localhost:8001");
	expect_allowed("localhost:8001", "", "https://localhost:8001");
}

Test(origin_allowed, self_is_the_service_origin_or_its_https_upgrade)
{
	expect_allowed("'self'", SELF, SELF);
	expect_allowed("'SELF'", SELF, SELF);
	expect_not_allowed("'self'", SELF, "https://other.example");
	expect_not_allowed("'self'", SELF, "http://auth.example.com");
	expect_allowed("'self'", "http://auth.example.com",
	               "https://auth.example.com");
	expect_allowed("'self'", "http://localhost:8000",
	               "http://localhost:8000");
	expect_not_allowed("'self'", "http://localhost:8000",
	                   "http://localhost:8001");
	expect_not_allowed("'self'", "", "https://auth.example.com");
}

Test(origin_allowed, none_keywords_paths_and_garbage_match_nothing)
{
	expect_not_allowed("'none'", SELF, "https://a.example");
	expect_not_allowed("", SELF, "https://a.example");
	expect_not_allowed("   ", SELF, "https://a.example");
	expect_not_allowed("'unsafe-inline' 'nonce-abc'", SELF,
	                   "https://a.example");
	expect_not_allowed("https://a.example/app", SELF, "https://a.example");
	expect_allowed("https://a.example/", SELF, "https://a.example");
	expect_not_allowed("https://a.example:x", SELF, "https://a.example");
	expect_not_allowed("1https://a.example", SELF, "https://a.example");
	expect_not_allowed("data: blob:", SELF, "https://a.example");
	expect_not_allowed("https://a.example", SELF, "not an origin");
}

Test(origin_allowed, any_source_of_a_list_may_match)
{
	const char *list = "'self'\thttps://a.example\n https://*.b.example "
	                   "http://localhost:8001";

	expect_allowed(list, SELF, SELF);
	expect_allowed(list, SELF, "https://a.example");
	expect_allowed(list, SELF, "https://x.b.example");
	expect_allowed(list, SELF, "http://localhost:8001");
	expect_not_allowed(list, SELF, "http://localhost:8002");
}
