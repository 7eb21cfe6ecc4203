/* validate_body.c: the validate-session POST body, its session_id and
 * the parent_origin that a session with allowed_origins must match. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "session/validate_body.h"

#define ID "550e8400-e29b-41d4-a716-446655440000"

static struct validate_body vb;

static const char *
parse(const char *body)
{
	return validate_body_parse(body, strlen(body), &vb);
}

Test(validate_body, id_and_canonical_parent_origin)
{
	cr_assert_null(
	    parse("{\"session_id\":\"" ID "\","
	          "\"parent_origin\":\"HTTPS://Shop.Example:443\"}"));
	cr_expect(vb.has_id);
	cr_expect_str_eq(vb.id, ID);
	cr_expect_str_eq(vb.parent_origin, "https://shop.example");
}

Test(validate_body, either_member_may_be_absent)
{
	cr_assert_null(parse("{\"session_id\":\"" ID "\"}"));
	cr_expect(vb.has_id);
	cr_expect_str_eq(vb.parent_origin, "");
	cr_assert_null(parse("{\"parent_origin\":\"http://a.example:8001\"}"));
	cr_expect_not(vb.has_id);
	cr_expect_str_eq(vb.parent_origin, "http://a.example:8001");
	cr_assert_null(parse("{}"));
	cr_expect_not(vb.has_id);
}

Test(validate_body, an_origin_that_is_none_matches_nothing)
{
	static const char *const origins[] = {"null", "", "file://", "x",
	                                      "https://a.example/path"};

	for (size_t i = 0; i < sizeof(origins) / sizeof(origins[0]); i++) {
		char body[128];

		snprintf(body, sizeof(body),
		         "{\"session_id\":\"" ID "\",\"parent_origin\":\"%s\"}",
		         origins[i]);
		cr_expect_null(parse(body), "%s", body);
		cr_expect_str_eq(vb.parent_origin, "", "%s", body);
	}
}

Test(validate_body, refuses_what_is_not_such_a_body)
{
	static const char *const bodies[] = {
	    "[]",
	    "\"" ID "\"",
	    "nope",
	    "{\"session_id\":5}",
	    "{\"session_id\":\"" ID "x\"}",
	    "{\"session_id\":\"" ID "\",\"x\":1}",
	    "{\"session_id\":\"" ID "\",\"parent_origin\":5}",
	    "{\"session_id\":\"" ID "\",\"parent_origin\":null}",
	    "{\"session_id\":\"" ID "\",\"parent_origin\":[\"https://a.b\"]}",
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		cr_expect_not_null(parse(bodies[i]), "%s", bodies[i]);
	cr_expect_str_eq(parse("{\"parent_origin\":1}"),
	                 "parent_origin must be a string");
	cr_expect_str_eq(parse("{\"session_id\":1}"),
	                 "session_id must be a canonical version-4 UUID");
}

Test(validate_body, a_repeated_key_is_refused_like_a_repeated_parameter)
{
	/* json-c alone would keep the last one. */
	cr_expect_str_eq(parse("{\"session_id\": \"" ID "\", "
	                       "\"session_id\": \"" ID "\"}"),
	                 "session_id given more than once");
	cr_expect_str_eq(parse("{\"session_id\": \"" ID "\", "
	                       "\"session\\u005fid\": \"" ID "\"}"),
	                 "session_id given more than once");
	cr_expect_str_eq(parse("{\"parent_origin\": \"https://a.example\", "
	                       "\"parent_origin\": \"https://b.example\"}"),
	                 "parent_origin given more than once");
	cr_expect_str_eq(parse("{\"x\": 1, \"x\": 1}"), "duplicate key");
}

Test(validate_body, an_escaped_nul_is_refused)
{
	cr_expect_str_eq(parse("{\"session_id\": \"" ID "\\u0000\"}"),
	                 "the escape \\u0000 is not allowed");
}
