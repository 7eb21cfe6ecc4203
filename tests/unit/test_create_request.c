/* create_request.c: the optional body of POST /auth/create-session, its
 * defaults, each field's rules and the strict JSON it must be. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session/create_request.h"

#define MAX_TTL 86400

static const struct create_rules rules = {
    .max_ttl = MAX_TTL,
    .frame_ancestors = "'self' https://*.example.com http://localhost:8001",
    .self_origin = "https://auth.example.com",
};
static struct create_request req;
static char detail[512];

static enum create_parse
parse_len(const char *body, size_t len)
{
	memset(detail, 0, sizeof(detail));
	return create_request_parse(body, len, &rules, &req, detail,
	                            sizeof(detail));
}

static enum create_parse
parse(const char *body)
{
	return parse_len(body, strlen(body));
}

/* The body is invalid, and the detail starts with what it names. */
static void
expect_invalid(const char *body, const char *names)
{
	cr_expect_eq(parse(body), CREATE_PARSE_INVALID, "body %s", body);
	cr_expect_eq(strncmp(detail, names, strlen(names)), 0,
	             "body %s: detail \"%s\" should name %s", body, detail,
	             names);
	cr_expect_null(req.metadata, "body %s", body);
}

/* The body is not acceptable JSON at all. */
static void
expect_bad_json(const char *body, size_t len)
{
	cr_expect_eq(parse_len(body, len), CREATE_PARSE_INVALID, "body %.*s",
	             (int)len, body);
	cr_expect_eq(strncmp(detail, "body", 4), 0, "detail \"%s\"", detail);
	cr_expect_null(req.metadata);
}

#define BAD(literal) expect_bad_json(literal, sizeof(literal) - 1)

/* A string of n copies of c, to free. */
static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	cr_assert_not_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* head, middle and tail joined, to free. */
static char *
join(const char *head, const char *middle, const char *tail)
{
	char *s = NULL;

	cr_assert_gt(asprintf(&s, "%s%s%s", head, middle, tail), 0);
	return s;
}

Test(create_request, empty_body_gives_defaults)
{
	memset(&req, 0xa5, sizeof(req));
	cr_assert_eq(parse(""), CREATE_PARSE_OK);
	cr_expect_not(req.has_user_id);
	cr_expect_null(req.metadata);
	cr_expect_eq(req.ttl_seconds, 0);
	create_request_finish(&req);
}

Test(create_request, empty_object_gives_defaults)
{
	cr_assert_eq(parse("{}"), CREATE_PARSE_OK);
	cr_expect_not(req.has_user_id);
	cr_expect_null(req.metadata);
	cr_expect_eq(req.ttl_seconds, 0);
	create_request_finish(&req);
	cr_assert_eq(parse(" \r\n\t{ }\n"), CREATE_PARSE_OK);
	cr_expect_not(req.has_user_id);
	create_request_finish(&req);
}

Test(create_request, full_valid_body)
{
	cr_assert_eq(parse("{\"user_id\": \"alice\", \"metadata\": {\"plan\": "
	                   "\"pro\", \"n\": [1, 2]}, \"ttl_seconds\": 600}"),
	             CREATE_PARSE_OK, "detail: %s", detail);
	cr_expect(req.has_user_id);
	cr_expect_str_eq(req.user_id, "alice");
	cr_assert_not_null(req.metadata);
	cr_expect_str_eq(req.metadata, "{\"plan\":\"pro\",\"n\":[1,2]}");
	cr_expect_eq(req.ttl_seconds, 600);
	create_request_finish(&req);
	cr_expect_null(req.metadata);
}

Test(create_request, fields_in_any_order)
{
	cr_assert_eq(parse("{\"ttl_seconds\":60,\"metadata\":{},"
	                   "\"user_id\":\"bob\"}"),
	             CREATE_PARSE_OK, "detail: %s", detail);
	cr_expect_str_eq(req.user_id, "bob");
	cr_expect_str_eq(req.metadata, "{}");
	cr_expect_eq(req.ttl_seconds, 60);
	create_request_finish(&req);
}

Test(create_request, user_id_escapes_are_decoded)
{
	cr_assert_eq(parse("{\"user_id\":\"a\\\"b\\\\c\\/d \\u00e9\"}"),
	             CREATE_PARSE_OK, "detail: %s", detail);
	cr_expect_str_eq(req.user_id, "a\"b\\c/d \xc3\xa9");
	create_request_finish(&req);
	cr_assert_eq(parse("{\"user_id\":\"\"}"), CREATE_PARSE_OK);
	cr_expect(req.has_user_id);
	cr_expect_str_eq(req.user_id, "");
	create_request_finish(&req);
}

Test(create_request, user_id_must_be_a_string)
{
	expect_invalid("{\"user_id\":42}", "user_id");
	expect_invalid("{\"user_id\":null}", "user_id");
	expect_invalid("{\"user_id\":true}", "user_id");
	expect_invalid("{\"user_id\":[\"a\"]}", "user_id");
	expect_invalid("{\"user_id\":{\"a\":\"b\"}}", "user_id");
}

Test(create_request, user_id_of_256_bytes_is_the_limit)
{
	char *id = repeat('u', USER_ID_MAX);
	char *body = join("{\"user_id\":\"", id, "\"}");

	cr_assert_eq(parse(body), CREATE_PARSE_OK, "detail: %s", detail);
	cr_expect(req.has_user_id);
	cr_expect_eq(strlen(req.user_id), USER_ID_MAX);
	cr_expect_str_eq(req.user_id, id);
	create_request_finish(&req);
	free(body);
	free(id);
}

Test(create_request, user_id_of_257_bytes_is_invalid)
{
	char *id = repeat('u', USER_ID_MAX + 1);
	char *body = join("{\"user_id\":\"", id, "\"}");

	expect_invalid(body, "user_id");
	cr_expect_not(req.has_user_id);
	free(body);
	free(id);
}

Test(create_request, user_id_limit_counts_bytes_not_characters)
{
	/* 128 two-byte characters fit, 129 do not. */
	enum { FIT = 2 * 128, OVER = 2 * 129 };
	char ok[FIT + 1], over[OVER + 1];
	char *body;

	for (size_t i = 0; i < OVER; i += 2)
		memcpy(over + i, "\xc3\xa9", 2);
	over[OVER] = '\0';
	memcpy(ok, over, FIT);
	ok[FIT] = '\0';
	body = join("{\"user_id\":\"", ok, "\"}");
	cr_expect_eq(parse(body), CREATE_PARSE_OK, "detail: %s", detail);
	create_request_finish(&req);
	free(body);
	body = join("{\"user_id\":\"", over, "\"}");
	expect_invalid(body, "user_id");
	free(body);
}

Test(create_request, user_id_with_escaped_control_characters_is_invalid)
{
	/* \u0000 is refused (json-c cuts keys at it), naming the field. */
	expect_invalid("{\"user_id\":\"a\\u0000b\"}",
	               "user_id: the escape \\u0000 is not allowed");
	expect_invalid("{\"user_id\":\"a\\nb\"}", "user_id");
	expect_invalid("{\"user_id\":\"a\\tb\"}", "user_id");
	expect_invalid("{\"user_id\":\"a\\rb\"}", "user_id");
	expect_invalid("{\"user_id\":\"a\\u001fb\"}", "user_id");
	expect_invalid("{\"user_id\":\"a\\u007fb\"}", "user_id");
}

Test(create_request, user_id_with_a_space_at_either_end_is_invalid)
{
	/* X-Auth-User carries it as a header value, whose edges every
	 * parser strips: " admin" would reach the app as "admin". */
	expect_invalid("{\"user_id\":\" admin\"}", "user_id: must be a string");
	expect_invalid("{\"user_id\":\"admin \"}", "user_id: must be a string");
	expect_invalid("{\"user_id\":\" \"}", "user_id: must be a string");
	cr_expect_eq(parse("{\"user_id\":\"a b\"}"), CREATE_PARSE_OK,
	             "detail: %s", detail);
	create_request_finish(&req);
}

Test(create_request, numbers_must_be_finite_json)
{
	expect_invalid("{\"metadata\":{\"a\":NaN}}", "body");
	expect_invalid("{\"metadata\":{\"a\":Infinity}}", "body");
	expect_invalid("{\"metadata\":{\"a\":-Infinity}}", "body");
	expect_invalid("{\"metadata\":{\"a\":[1e999]}}", "body");
}

Test(create_request, lax_numbers_are_stored_in_standard_form)
{
	cr_assert_eq(parse("{\"metadata\":{\"a\":1.,\"b\":2.50}}"),
	             CREATE_PARSE_OK, "%s", detail);
	cr_expect_str_eq(req.metadata, "{\"a\":1.0,\"b\":2.5}");
	create_request_finish(&req);
}

Test(create_request, invalid_utf8_forms_are_invalid)
{
	expect_invalid("{\"user_id\":\"\xc0\xaf\"}", "body");     /* overlong */
	expect_invalid("{\"user_id\":\"\xe0\x80\xaf\"}", "body"); /* overlong */
	expect_invalid("{\"user_id\":\"\xed\xa0\x80\"}",
	               "body"); /* surrogate */
	expect_invalid("{\"user_id\":\"\xf4\x90\x80\x80\"}", "body");
	expect_invalid("{\"user_id\":\"\xf5\x80\x80\x80\"}", "body");
	cr_expect_eq(parse("{\"user_id\":\"\xf0\x9f\x98\x80 \xe2\x82\xac\"}"),
	             CREATE_PARSE_OK, "%s", detail);
	create_request_finish(&req);
}

Test(create_request, escaped_nul_in_keys_is_invalid)
{
	/* In a top-level key there is no field to name yet. */
	expect_invalid("{\"user_id\\u0000x\":\"a\"}", "body");
	expect_invalid("{\"metadata\":{\"a\\u0000b\":1,\"a\\u0000c\":2}}",
	               "metadata: the escape \\u0000 is not allowed");
}

Test(create_request, escaped_nul_in_metadata_values_names_metadata)
{
	expect_invalid("{\"metadata\":{\"a\":\"x\\u0000\"}}",
	               "metadata: the escape \\u0000 is not allowed");
	expect_invalid("{\"metadata\":{\"a\":[{\"b\":\"\\u0000\"}]}}",
	               "metadata: the escape \\u0000 is not allowed");
	/* A field after a valid one is still named. */
	expect_invalid("{\"ttl_seconds\":5,\"user_id\":\"\\u0000\"}",
	               "user_id: the escape");
	/* An escaped backslash before u0000 is not the escape. */
	cr_expect_eq(parse("{\"user_id\":\"a\\\\u0000\"}"), CREATE_PARSE_OK,
	             "%s", detail);
	cr_expect_str_eq(req.user_id, "a\\u0000");
	create_request_finish(&req);
}

Test(create_request, repeated_top_level_keys_are_invalid_naming_the_key)
{
	expect_invalid("{\"user_id\":\"a\",\"user_id\":\"b\"}",
	               "user_id: duplicate key");
	expect_invalid("{\"ttl_seconds\":5,\"metadata\":{},\"ttl_seconds\":6}",
	               "ttl_seconds: duplicate key");
	/* Two spellings of one key are one key, as json-c reads them. */
	expect_invalid("{\"user_id\":\"a\",\"user\\u005fid\":\"b\"}",
	               "user_id: duplicate key");
	expect_invalid("{\"\xc3\xa9\":1,\"\\u00e9\":2}",
	               "\xc3\xa9: duplicate key");
}

Test(create_request, repeated_keys_at_any_depth_are_invalid)
{
	expect_invalid("{\"metadata\":{\"a\":1,\"b\":2,\"a\":3}}",
	               "metadata: duplicate key \"a\"");
	expect_invalid("{\"metadata\":{\"x\":[{\"k\":1},{\"k\":1,\"k\":2}]}}",
	               "metadata: duplicate key \"k\"");
	expect_invalid("{\"metadata\":{\"o\":{\"metadata\":1,\"metadata\":1}}}",
	               "metadata: duplicate key \"metadata\"");
	/* The same key in sibling or nested objects is not repeated. */
	cr_expect_eq(parse("{\"metadata\":{\"a\":{\"a\":{\"a\":1}},"
	                   "\"b\":[{\"a\":1},{\"a\":2}]}}"),
	             CREATE_PARSE_OK, "%s", detail);
	create_request_finish(&req);
}

Test(create_request, a_long_repeated_key_is_cut_on_a_character_boundary)
{
	/* 63 ASCII bytes, then a 2-byte character across the 64-byte cut. */
	char key[80], body[256];

	memset(key, 'k', 63);
	strcpy(key + 63, "\xc3\xa9z");
	snprintf(body, sizeof(body), "{\"metadata\":{\"%s\":1,\"%s\":2}}", key,
	         key);
	key[63] = '\0';
	expect_invalid(body, "metadata: duplicate key \"");
	cr_expect(strstr(detail, key) != NULL, "%s", detail);
	cr_expect(strstr(detail, "\xc3") == NULL, "%s", detail);
}

Test(create_request, single_quoted_strings_are_not_json)
{
	expect_invalid("{'user_id':\"a\"}", "body: not valid JSON");
	expect_invalid("{\"user_id\":'a'}", "body: not valid JSON");
}

Test(create_request, raw_control_characters_inside_strings_are_invalid)
{
	expect_invalid("{\"metadata\":{\"a\":\"x\ty\"}}", "metadata");
	expect_invalid("{\"metadata\":{\"a\":\"x\ny\"}}", "metadata");
	expect_invalid("{\"metadata\":{\"a\":\"x\ry\"}}", "metadata");
	expect_invalid("{\"user_id\":\"x\x01y\"}",
	               "user_id: control characters");
	expect_invalid("{\"us\x01er_id\":\"x\"}", "body: control characters");
	/* Outside strings, they are a fault of the body. */
	expect_invalid("{\x01\"user_id\":\"x\"}", "body: control characters");
	/* Whitespace between tokens stays allowed. */
	cr_expect_eq(parse("{\n\t\"user_id\" :\r\n \"u\"\n}"), CREATE_PARSE_OK,
	             "%s", detail);
	create_request_finish(&req);
}

Test(create_request, metadata_must_be_an_object)
{
	expect_invalid("{\"metadata\":[]}", "metadata");
	expect_invalid("{\"metadata\":[1,2]}", "metadata");
	expect_invalid("{\"metadata\":\"x\"}", "metadata");
	expect_invalid("{\"metadata\":null}", "metadata");
	expect_invalid("{\"metadata\":1}", "metadata");
	expect_invalid("{\"metadata\":false}", "metadata");
}

Test(create_request, metadata_of_4096_bytes_serialized_is_the_limit)
{
	/* {"k":"<n>"} serializes to n + 8 bytes; whitespace in the body
	 * does not count. */
	char *value = repeat('m', METADATA_MAX - 8);
	char *body = join("{\"metadata\": { \"k\" : \"", value, "\" } }");

	cr_assert_eq(parse(body), CREATE_PARSE_OK, "detail: %s", detail);
	cr_assert_not_null(req.metadata);
	cr_expect_eq(strlen(req.metadata), METADATA_MAX);
	cr_expect_eq(strncmp(req.metadata, "{\"k\":\"mmm", 9), 0);
	create_request_finish(&req);
	free(body);
	free(value);
}

Test(create_request, metadata_over_4096_bytes_serialized_is_invalid)
{
	char *value = repeat('m', METADATA_MAX - 7);
	char *body = join("{\"metadata\":{\"k\":\"", value, "\"}}");

	expect_invalid(body, "metadata");
	free(body);
	free(value);
}

Test(create_request, metadata_nested_survives)
{
	cr_assert_eq(parse("{\"metadata\":{\"a\":{\"b\":[true,null,\"/\"]},"
	                   "\"c\":-1}}"),
	             CREATE_PARSE_OK, "detail: %s", detail);
	cr_expect_str_eq(req.metadata, "{\"a\":{\"b\":[true,null,\"/\"]},"
	                               "\"c\":-1}");
	create_request_finish(&req);
}

Test(create_request, ttl_seconds_bounds)
{
	char body[64];

	cr_assert_eq(parse("{\"ttl_seconds\":1}"), CREATE_PARSE_OK);
	cr_expect_eq(req.ttl_seconds, 1);
	create_request_finish(&req);
	snprintf(body, sizeof(body), "{\"ttl_seconds\":%d}", MAX_TTL);
	cr_assert_eq(parse(body), CREATE_PARSE_OK);
	cr_expect_eq(req.ttl_seconds, MAX_TTL);
	create_request_finish(&req);
	snprintf(body, sizeof(body), "{\"ttl_seconds\":%d}", MAX_TTL + 1);
	expect_invalid(body, "ttl_seconds");
	expect_invalid("{\"ttl_seconds\":0}", "ttl_seconds");
	expect_invalid("{\"ttl_seconds\":-0}", "ttl_seconds");
	expect_invalid("{\"ttl_seconds\":-1}", "ttl_seconds");
	expect_invalid("{\"ttl_seconds\":4294967297}", "ttl_seconds");
	expect_invalid("{\"ttl_seconds\":-4294967295}", "ttl_seconds");
	expect_invalid("{\"ttl_seconds\":99999999999999999999}", "ttl_seconds");
}

Test(create_request, ttl_seconds_must_be_an_integer)
{
	expect_invalid("{\"ttl_seconds\":1.5}", "ttl_seconds");
	expect_invalid("{\"ttl_seconds\":60.0}", "ttl_seconds");
	expect_invalid("{\"ttl_seconds\":6e1}", "ttl_seconds");
	expect_invalid("{\"ttl_seconds\":\"60\"}", "ttl_seconds");
	expect_invalid("{\"ttl_seconds\":true}", "ttl_seconds");
	expect_invalid("{\"ttl_seconds\":null}", "ttl_seconds");
	expect_invalid("{\"ttl_seconds\":[60]}", "ttl_seconds");
}

Test(create_request, unknown_field_is_named)
{
	expect_invalid("{\"bogus\":1}", "bogus");
	expect_invalid("{\"user_id\":\"a\",\"ttl\":60}", "ttl");
	expect_invalid("{\"User_id\":\"a\"}", "User_id");
	expect_invalid("{\"\":1}", ":");
	cr_expect_not_null(strstr(detail, "unknown field"), "%s", detail);
}

Test(create_request, metadata_is_released_when_a_later_field_fails)
{
	expect_invalid("{\"metadata\":{\"a\":1},\"bogus\":1}", "bogus");
	cr_expect_null(req.metadata);
	expect_invalid("{\"metadata\":{\"a\":1},\"ttl_seconds\":0}",
	               "ttl_seconds");
	cr_expect_null(req.metadata);
}

Test(create_request, not_json_is_invalid)
{
	BAD("x");
	BAD("{");
	BAD("{\"user_id\":");
	BAD("{'user_id':'a'}");
	BAD("{\"user_id\":\"a\",}");
	BAD("{user_id:\"a\"}");
	BAD("\xef\xbb\xbf{}");
}

Test(create_request, json_that_is_not_an_object_is_invalid)
{
	expect_invalid("[]", "body");
	expect_invalid("[{\"user_id\":\"a\"}]", "body");
	expect_invalid("\"user_id\"", "body");
	expect_invalid("42", "body");
	expect_invalid("null", "body");
	expect_invalid("true", "body");
}

Test(create_request, trailing_data_is_invalid)
{
	BAD("{} x");
	BAD("{}{}");
	BAD("{},");
	BAD("{}\n}");
	/* Trailing whitespace is fine. */
	cr_expect_eq(parse("{} \n\t\r"), CREATE_PARSE_OK);
	create_request_finish(&req);
}

Test(create_request, raw_control_characters_are_invalid)
{
	/* Inside a field's value they name the field. */
	expect_invalid("{\"user_id\":\"a\x01z\"}", "user_id: control");
	expect_invalid("{\"user_id\":\"a\x1bz\"}", "user_id: control");
	expect_invalid("{\"user_id\":\"a\x7fz\"}", "user_id: control");
	BAD("{\x0c}");
	/* A NUL counts, wherever it is. */
	BAD("{\"user_id\":\"a\0z\"}");
	BAD("{}\0");
}

Test(create_request, invalid_utf8_is_invalid)
{
	BAD("{\"user_id\":\"\xff\"}");
	BAD("{\"user_id\":\"a\xc3\"}");
	BAD("{\"user_id\":\"\x80\"}");
	BAD("{\"metadata\":{\"k\":\"\xfe\"}}");
	BAD("{\"\xff\":1}");
}

Test(create_request, body_over_8192_bytes_is_too_large)
{
	char *body = repeat(' ', CREATE_BODY_MAX + 1);

	body[0] = '{';
	body[CREATE_BODY_MAX] = '}';
	cr_expect_eq(parse_len(body, CREATE_BODY_MAX + 1),
	             CREATE_PARSE_TOO_LARGE);
	cr_expect_null(req.metadata);
	cr_expect_neq(detail[0], '\0');
	free(body);
}

Test(create_request, body_of_8192_bytes_is_parsed)
{
	char *body = repeat(' ', CREATE_BODY_MAX);

	body[0] = '{';
	body[1] = '}';
	cr_expect_eq(parse_len(body, CREATE_BODY_MAX), CREATE_PARSE_OK,
	             "detail: %s", detail);
	create_request_finish(&req);
	free(body);
}

Test(create_request, allowed_origins_are_kept_in_canonical_form)
{
	cr_assert_eq(
	    parse("{\"allowed_origins\":[\"HTTPS://A.Example.com:443/\","
	          "\"http://localhost:8001\"]}"),
	    CREATE_PARSE_OK, "%s", detail);
	cr_expect_eq(req.origin_count, 2);
	cr_expect_str_eq(req.allowed_origins[0], "https://a.example.com");
	cr_expect_str_eq(req.allowed_origins[1], "http://localhost:8001");
	create_request_finish(&req);
}

Test(create_request, allowed_origins_duplicates_are_kept_once)
{
	cr_assert_eq(parse("{\"allowed_origins\":[\"https://a.example.com\","
	                   "\"https://A.example.com:443\"]}"),
	             CREATE_PARSE_OK, "%s", detail);
	cr_expect_eq(req.origin_count, 1);
	create_request_finish(&req);
}

Test(create_request, allowed_origins_may_name_self_and_eight_at_most)
{
	cr_assert_eq(
	    parse("{\"allowed_origins\":[\"https://auth.example.com\","
	          "\"https://a1.example.com\",\"https://a2.example.com\","
	          "\"https://a3.example.com\",\"https://a4.example.com\","
	          "\"https://a5.example.com\",\"https://a6.example.com\","
	          "\"https://a7.example.com\"]}"),
	    CREATE_PARSE_OK, "%s", detail);
	cr_expect_eq(req.origin_count, 8);
	create_request_finish(&req);
	expect_invalid(
	    "{\"allowed_origins\":[\"https://a1.example.com\","
	    "\"https://a2.example.com\",\"https://a3.example.com\","
	    "\"https://a4.example.com\",\"https://a5.example.com\","
	    "\"https://a6.example.com\",\"https://a7.example.com\","
	    "\"https://a8.example.com\",\"https://a9.example.com\"]}",
	    "allowed_origins: must be an array of 1 to 8");
}

Test(create_request, allowed_origins_must_be_a_non_empty_array_of_strings)
{
	expect_invalid("{\"allowed_origins\":[]}",
	               "allowed_origins: must be an array");
	expect_invalid("{\"allowed_origins\":\"https://a.example.com\"}",
	               "allowed_origins: must be an array");
	expect_invalid("{\"allowed_origins\":null}",
	               "allowed_origins: must be an array");
	expect_invalid("{\"allowed_origins\":[1]}",
	               "allowed_origins: each item must be a string");
}

Test(create_request, allowed_origins_name_the_origin_that_is_not_one)
{
	expect_invalid("{\"allowed_origins\":[\"https://a.example.com/app\"]}",
	               "allowed_origins: \"https://a.example.com/app\" is not "
	               "an origin");
	expect_invalid("{\"allowed_origins\":[\"ftp://a.example.com\"]}",
	               "allowed_origins: \"ftp://a.example.com\"");
	expect_invalid("{\"allowed_origins\":[\"https://a.example.com\","
	               "\"garbage\"]}",
	               "allowed_origins: \"garbage\"");
}

Test(create_request, allowed_origins_outside_frame_ancestors_are_named)
{
	expect_invalid("{\"allowed_origins\":[\"https://evil.example.org\"]}",
	               "allowed_origins: https://evil.example.org is not "
	               "allowed by FRAME_ANCESTORS");
	/* The wildcard covers subdomains only; http needs its own source. */
	expect_invalid("{\"allowed_origins\":[\"https://example.com\"]}",
	               "allowed_origins: https://example.com is not allowed");
	expect_invalid("{\"allowed_origins\":[\"http://a.example.com\"]}",
	               "allowed_origins: http://a.example.com is not allowed");
	expect_invalid("{\"allowed_origins\":[\"http://localhost:8002\"]}",
	               "allowed_origins: http://localhost:8002 is not allowed");
}

Test(create_request, return_to_accepted_and_owned)
{
	cr_assert_eq(parse("{\"return_to\": \"/app/x?y=1#z\"}"),
	             CREATE_PARSE_OK);
	cr_expect_str_eq(req.return_to, "/app/x?y=1#z");
	create_request_finish(&req);
	cr_expect_null(req.return_to);
}

Test(create_request, return_to_rules_name_the_field)
{
	expect_invalid("{\"return_to\": 7}", "return_to");
	expect_invalid("{\"return_to\": \"\"}", "return_to");
	expect_invalid("{\"return_to\": \"https://evil.example/\"}",
	               "return_to");
	expect_invalid("{\"return_to\": \"//evil.example\"}", "return_to");
	expect_invalid("{\"return_to\": \"/\\\\evil.example\"}", "return_to");
	expect_invalid("{\"return_to\": \"/%2F/evil.example\"}", "return_to");
	expect_invalid("{\"return_to\": \"/\\t/evil.example\"}", "return_to");
	expect_invalid("{\"return_to\": \"/\\n/evil.example\"}", "return_to");
	expect_invalid("{\"return_to\": \"/\\u007f\"}", "return_to");
	cr_expect_null(req.return_to);
}
