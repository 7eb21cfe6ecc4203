/* record.c: serializing a new session record (its fixed head, ISO 8601
 * times, escaping) and parsing stored records back, including the heads
 * that the Redis scripts rewrite in place. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session/create_request.h"
#include "session/record.h"

#define ID   "550e8400-e29b-41d4-a716-446655440000"
#define HEAD "{\"used\":false,\"iframe_opened\":false,\"session_id\":\""

/* 2026-11-22T10:30:00Z */
#define T_2026 ((time_t)1795343400)

static const char *
get_string(struct json_object *obj, const char *key)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(obj, key, &v), "no %s", key);
	cr_assert(json_object_is_type(v, json_type_string), "%s", key);
	return json_object_get_string(v);
}

static bool
get_bool(struct json_object *obj, const char *key)
{
	struct json_object *v;

	cr_assert(json_object_object_get_ex(obj, key, &v), "no %s", key);
	cr_assert(json_object_is_type(v, json_type_boolean), "%s", key);
	return json_object_get_boolean(v);
}

static bool
has_key(struct json_object *obj, const char *key)
{
	return json_object_object_get_ex(obj, key, NULL);
}

static struct json_object *
parse(const char *text)
{
	return record_parse(text, strlen(text));
}

static void
expect_rejected(const char *text)
{
	struct json_object *obj = parse(text);

	cr_expect_null(obj, "accepted %s", text);
	json_object_put(obj);
}

Test(record, serialized_without_options_is_exact)
{
	char *text = record_serialize(ID, 0, 600, NULL);

	cr_assert_not_null(text);
	cr_expect_str_eq(text, HEAD ID "\",\"created_at\":\"1970-01-01T00:00:"
	                               "00Z\",\"expires_at\":\"1970-01-01T00:"
	                               "10:00Z\"}");
	free(text);
}

Test(record, serialized_text_starts_with_the_flags)
{
	static char metadata[] = "{\"used\":true}";
	struct create_request req = {.has_user_id = true,
	                             .user_id = "\"used\":true",
	                             .metadata = metadata};
	char *text = record_serialize(ID, T_2026, T_2026 + 60, &req);

	cr_assert_not_null(text);
	cr_expect_eq(strncmp(text, HEAD ID "\",", strlen(HEAD ID "\",")), 0,
	             "%s", text);
	/* What the validate script checks. */
	cr_expect_eq(strncmp(text, "{\"used\":false,", 14), 0);
	free(text);
}

Test(record, times_are_iso8601_utc)
{
	char *text = record_serialize(ID, T_2026, (time_t)2147483648, NULL);
	struct json_object *obj;

	cr_assert_not_null(text);
	obj = parse(text);
	cr_assert_not_null(obj, "%s", text);
	cr_expect_str_eq(get_string(obj, "created_at"), "2026-11-22T10:30:00Z");
	cr_expect_str_eq(get_string(obj, "expires_at"), "2038-01-19T03:14:08Z");
	json_object_put(obj);
	free(text);
}

Test(record, round_trip_without_options)
{
	char *text = record_serialize(ID, 0, 86400, NULL);
	struct json_object *obj;

	cr_assert_not_null(text);
	obj = parse(text);
	cr_assert_not_null(obj, "%s", text);
	cr_expect_str_eq(get_string(obj, "session_id"), ID);
	cr_expect_str_eq(get_string(obj, "created_at"), "1970-01-01T00:00:00Z");
	cr_expect_str_eq(get_string(obj, "expires_at"), "1970-01-02T00:00:00Z");
	cr_expect_not(get_bool(obj, "used"));
	cr_expect_not(get_bool(obj, "iframe_opened"));
	cr_expect_not(has_key(obj, "user_id"));
	cr_expect_not(has_key(obj, "metadata"));
	cr_expect_not(has_key(obj, "used_at"));
	json_object_put(obj);
	free(text);
}

Test(record, round_trip_with_empty_request)
{
	struct create_request req = {0};
	char *text = record_serialize(ID, 0, 1, &req);
	struct json_object *obj;

	cr_assert_not_null(text);
	obj = parse(text);
	cr_assert_not_null(obj, "%s", text);
	cr_expect_not(has_key(obj, "user_id"));
	cr_expect_not(has_key(obj, "metadata"));
	json_object_put(obj);
	free(text);
}

Test(record, user_id_survives_exactly)
{
	static const char *const ids[] = {
	    "alice",
	    "",
	    "say \"hi\"",
	    "back\\slash\\\\",
	    "a/b</script>",
	    "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
	    "\"},\"used\":true,\"x\":{\"",
	};

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct create_request req = {.has_user_id = true};
		struct json_object *obj;
		char *text;

		snprintf(req.user_id, sizeof(req.user_id), "%s", ids[i]);
		text = record_serialize(ID, T_2026, T_2026 + 1, &req);
		cr_assert_not_null(text);
		obj = parse(text);
		cr_assert_not_null(obj, "%s", text);
		cr_expect_str_eq(get_string(obj, "user_id"), ids[i]);
		cr_expect_not(get_bool(obj, "used"), "%s", text);
		cr_expect_str_eq(get_string(obj, "session_id"), ID);
		json_object_put(obj);
		free(text);
	}
}

Test(record, metadata_nested_object_survives)
{
	static char metadata[] =
	    "{\"plan\":\"pro\",\"a\":{\"b\":[1,true,null,{\"c\":\"d\"}]}}";
	struct create_request req = {.metadata = metadata};
	char *text = record_serialize(ID, T_2026, T_2026 + 1, &req);
	struct json_object *obj, *meta, *expected;

	cr_assert_not_null(text);
	obj = parse(text);
	cr_assert_not_null(obj, "%s", text);
	cr_assert(json_object_object_get_ex(obj, "metadata", &meta));
	cr_assert(json_object_is_type(meta, json_type_object));
	expected = json_tokener_parse(metadata);
	cr_assert_not_null(expected);
	cr_expect(json_object_equal(meta, expected), "%s", text);
	cr_expect_str_eq(
	    json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PLAIN),
	    metadata);
	cr_expect_not(has_key(obj, "user_id"));
	json_object_put(expected);
	json_object_put(obj);
	free(text);
}

Test(record, round_trip_from_a_parsed_create_body)
{
	static const char body[] =
	    "{\"user_id\":\"o'brien \\\"q\\\" \\\\ \\u00e9\","
	    "\"metadata\":{\"k\":{\"n\":[1,2]}},\"ttl_seconds\":60}";
	struct create_request req;
	char detail[128];
	struct json_object *obj, *meta;
	char *text;

	const struct create_rules rules = {86400, "'self'", ""};

	cr_assert_eq(create_request_parse(body, strlen(body), &rules, &req,
	                                  detail, sizeof(detail)),
	             CREATE_PARSE_OK, "%s", detail);
	text = record_serialize(ID, T_2026, T_2026 + req.ttl_seconds, &req);
	create_request_finish(&req);
	cr_assert_not_null(text);
	obj = parse(text);
	cr_assert_not_null(obj, "%s", text);
	cr_expect_str_eq(get_string(obj, "user_id"),
	                 "o'brien \"q\" \\ \xc3\xa9");
	cr_expect_str_eq(get_string(obj, "expires_at"), "2026-11-22T10:31:00Z");
	cr_assert(json_object_object_get_ex(obj, "metadata", &meta));
	cr_expect_str_eq(
	    json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PLAIN),
	    "{\"k\":{\"n\":[1,2]}}");
	json_object_put(obj);
	free(text);
}

Test(record, head_rewritten_as_used_parses)
{
	static char metadata[] = "{\"a\":1}";
	struct create_request req = {
	    .has_user_id = true, .user_id = "alice", .metadata = metadata};
	char *text = record_serialize(ID, T_2026, T_2026 + 60, &req);
	char *used = NULL;
	struct json_object *obj;

	cr_assert_not_null(text);
	/* What the validate script does. */
	cr_assert_gt(asprintf(&used,
	                      "{\"used\":true,\"used_at\":"
	                      "\"2026-11-22T10:30:00Z\",%s",
	                      text + 14),
	             0);
	obj = parse(used);
	cr_assert_not_null(obj, "%s", used);
	cr_expect(get_bool(obj, "used"));
	cr_expect_str_eq(get_string(obj, "used_at"), "2026-11-22T10:30:00Z");
	cr_expect_not(get_bool(obj, "iframe_opened"));
	cr_expect_str_eq(get_string(obj, "session_id"), ID);
	cr_expect_str_eq(get_string(obj, "user_id"), "alice");
	cr_expect(has_key(obj, "metadata"));
	json_object_put(obj);
	free(used);
	free(text);
}

Test(record, iframe_opened_flipped_parses)
{
	char *text = record_serialize(ID, T_2026, T_2026 + 60, NULL);
	char *opened = NULL;
	const char *flag;
	struct json_object *obj;

	cr_assert_not_null(text);
	/* What the open script does: the first "iframe_opened": false. */
	flag = strstr(text, "\"iframe_opened\":false");
	cr_assert_not_null(flag);
	cr_assert_gt(asprintf(&opened, "%.*s\"iframe_opened\":true%s",
	                      (int)(flag - text), text,
	                      flag + strlen("\"iframe_opened\":false")),
	             0);
	obj = parse(opened);
	cr_assert_not_null(obj, "%s", opened);
	cr_expect(get_bool(obj, "iframe_opened"));
	cr_expect_not(get_bool(obj, "used"));
	json_object_put(obj);
	free(opened);
	free(text);
}

Test(record, parse_rejects_non_json)
{
	expect_rejected("");
	expect_rejected("not json");
	expect_rejected("{\"used\":false");
	expect_rejected(HEAD ID "\"");
	/* The service's own record followed by anything. */
	expect_rejected(
	    "{\"used\":false,\"iframe_opened\":false,\"session_id\":"
	    "\"" ID "\",\"created_at\":\"x\",\"expires_at\":\"y\"}"
	    " x");
}

Test(record, parse_rejects_non_objects)
{
	expect_rejected("[]");
	expect_rejected("[{\"used\":false,\"iframe_opened\":false,"
	                "\"session_id\":\"" ID "\",\"created_at\":\"x\","
	                "\"expires_at\":\"y\"}]");
	expect_rejected("\"" ID "\"");
	expect_rejected("null");
	expect_rejected("1");
}

/* A valid record with field drop left out (drop < 5), or all of them. */
static char *
record_without(size_t drop)
{
	static const char *const fields[] = {
	    "\"used\":false",
	    "\"iframe_opened\":false",
	    "\"session_id\":\"550e8400-e29b-41d4-a716-446655440000\"",
	    "\"created_at\":\"1970-01-01T00:00:00Z\"",
	    "\"expires_at\":\"1970-01-01T00:10:00Z\"",
	};
	char *out = calloc(1, 512);
	size_t len = 1;

	cr_assert_not_null(out);
	out[0] = '{';
	for (size_t i = 0; i < 5; i++) {
		if (i == drop)
			continue;
		len += (size_t)snprintf(out + len, 512 - len, "%s%s",
		                        len > 1 ? "," : "", fields[i]);
	}
	snprintf(out + len, 512 - len, "}");
	return out;
}

Test(record, parse_rejects_each_missing_field)
{
	char *text = record_without(5);
	struct json_object *obj = parse(text);

	cr_expect_not_null(obj, "complete record rejected: %s", text);
	json_object_put(obj);
	free(text);
	for (size_t i = 0; i < 5; i++) {
		text = record_without(i);
		expect_rejected(text);
		free(text);
	}
}

Test(record, parse_rejects_wrong_types)
{
#define REST                                                                 \
	"\"session_id\":\"" ID "\",\"created_at\":\"1970-01-01T00:00:00Z\"," \
	"\"expires_at\":\"1970-01-01T00:10:00Z\"}"
	struct json_object *obj =
	    parse("{\"used\":false,\"iframe_opened\":false," REST);

	cr_assert_not_null(obj);
	json_object_put(obj);
	expect_rejected("{\"used\":\"false\",\"iframe_opened\":false," REST);
	expect_rejected("{\"used\":0,\"iframe_opened\":false," REST);
	expect_rejected("{\"used\":null,\"iframe_opened\":false," REST);
	expect_rejected("{\"used\":false,\"iframe_opened\":\"true\"," REST);
	expect_rejected("{\"used\":false,\"iframe_opened\":1," REST);
	expect_rejected("{\"used\":false,\"iframe_opened\":false,"
	                "\"session_id\":1,\"created_at\":\"x\","
	                "\"expires_at\":\"y\"}");
	expect_rejected("{\"used\":false,\"iframe_opened\":false,"
	                "\"session_id\":\"" ID "\",\"created_at\":0,"
	                "\"expires_at\":\"y\"}");
	expect_rejected("{\"used\":false,\"iframe_opened\":false,"
	                "\"session_id\":\"" ID "\",\"created_at\":\"x\","
	                "\"expires_at\":null}");
#undef REST
}

#define USED_HEAD "{\"used\":true,\"used_at\":\"2026-11-22T10:30:05Z\","
#define USED_IDS                                                             \
	"\"session_id\":\"" ID "\",\"created_at\":\"2026-11-22T10:30:00Z\"," \
	"\"expires_at\":\"2026-11-22T11:00:00Z\""
#define USED_FIELDS ",\"user_id\":\"alice\",\"metadata\":{\"iframe_opened\":1}"
#define USED_REST   USED_IDS USED_FIELDS "}"

static bool
answer(const char *text, struct record_answer *a)
{
	return record_answer(text, strlen(text), a);
}

Test(record, answer_cuts_used_at_and_the_fields_after_the_flags)
{
	struct record_answer a;
	static const char *const heads[] = {
	    USED_HEAD "\"iframe_opened\":false,",
	    USED_HEAD "\"iframe_opened\":true,",
	};

	for (size_t i = 0; i < 2; i++) {
		char *text;

		cr_assert(asprintf(&text, "%s%s", heads[i], USED_REST) > 0);
		cr_assert(answer(text, &a), "%s", text);
		cr_expect_eq(a.used_at_len,
		             strlen("\"used_at\":\"2026-11-22T10:30:05Z\","));
		cr_expect_eq(strncmp(a.used_at,
		                     "\"used_at\":\"2026-11-22T10:30:05Z\",",
		                     a.used_at_len),
		             0);
		cr_expect_eq(a.rest_len, strlen(USED_IDS));
		cr_expect_eq(strncmp(a.rest, USED_IDS, a.rest_len), 0);
		cr_expect_eq(a.fields_len, strlen(USED_FIELDS));
		cr_expect_eq(strncmp(a.fields, USED_FIELDS, a.fields_len), 0);
		free(text);
	}
}

Test(record, answer_leaves_out_origins_and_generation)
{
	static const char *const texts[] = {
	    USED_HEAD "\"iframe_opened\":true," USED_IDS
	              ",\"allowed_origins\":[\"https://a.example\"]" USED_FIELDS
	              ",\"generation\":12}",
	    USED_HEAD "\"iframe_opened\":true," USED_IDS USED_FIELDS
	              ",\"generation\":0}",
	    USED_HEAD "\"iframe_opened\":true," USED_IDS
	              ",\"allowed_origins\":[\"https://a.example\","
	              "\"http://b.example:81\"]" USED_FIELDS "}",
	};
	struct record_answer a;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		cr_assert(answer(texts[i], &a), "%s", texts[i]);
		cr_expect_eq(a.rest_len, strlen(USED_IDS));
		cr_expect_eq(a.fields_len, strlen(USED_FIELDS), "%s", texts[i]);
		cr_expect_eq(strncmp(a.fields, USED_FIELDS, a.fields_len), 0);
	}
	/* Without a user or metadata, nothing is left after the expiry. */
	cr_assert(answer(USED_HEAD
	                 "\"iframe_opened\":true," USED_IDS
	                 ",\"allowed_origins\":[\"https://a.example\"]}",
	                 &a));
	cr_expect_eq(a.fields_len, 0);
	/* A generation-like end inside metadata is the creator's. */
	cr_assert(answer(USED_HEAD "\"iframe_opened\":true," USED_IDS
	                           ",\"metadata\":{\"generation\":1}}",
	                 &a));
	cr_expect_eq(a.fields_len, strlen(",\"metadata\":{\"generation\":1}"));
	cr_expect_not(answer(USED_HEAD "\"iframe_opened\":true," USED_IDS
	                               ",\"allowed_origins\":[\"https://a}",
	                     &a));
}

Test(record, answer_refuses_other_heads)
{
	static const char *const texts[] = {
	    "",
	    "{",
	    HEAD ID "\"}",
	    "{\"used\":true,\"iframe_opened\":false," USED_REST,
	    "{\"used\":true,\"used_at\":\"2026-11-22T10:30:05\","
	    "\"iframe_opened\":false," USED_REST,
	    "{\"used\":true,\"used_at\":\"2026-11-22T1\"\":05Z\","
	    "\"iframe_opened\":false," USED_REST,
	    USED_HEAD "\"iframe_opened\":null," USED_REST,
	    USED_HEAD "\"iframe_opened\":false,\"user_id\":\"x\"}",
	    USED_HEAD "\"iframe_opened\":false,\"session_id\":\"" ID "\"",
	    USED_HEAD "\"iframe_opened\":false,",
	};
	struct record_answer a;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		cr_expect_not(answer(texts[i], &a), "accepted %s", texts[i]);
}

Test(record, allowed_origins_follow_the_expiry_as_an_array)
{
	struct create_request req = {.origin_count = 2};
	struct json_object *obj, *list;
	char *text;

	strcpy(req.allowed_origins[0], "https://a.example.com");
	strcpy(req.allowed_origins[1], "http://localhost:8001");
	text = record_serialize(ID, T_2026, T_2026 + 60, &req);
	cr_assert_not_null(text);
	cr_expect_not_null(
	    strstr(text, "\"expires_at\":\"2026-11-22T10:31:00Z\","
	                 "\"allowed_origins\":[\"https://a.example.com\","
	                 "\"http://localhost:8001\"]}"),
	    "%s", text);
	obj = parse(text);
	cr_assert_not_null(obj, "%s", text);
	cr_assert(json_object_object_get_ex(obj, "allowed_origins", &list));
	cr_expect_eq(json_object_array_length(list), 2);
	json_object_put(obj);
	free(text);
}

/* The fast path's answer, joined as the handler sends it. */
static char *
fast_answer(const char *text)
{
	struct record_answer a;
	char *out;

	cr_assert(answer(text, &a), "%s", text);
	cr_assert(asprintf(&out, "{\"valid\":true,%.*s%.*s%.*s}",
	                   (int)a.used_at_len, a.used_at, (int)a.rest_len,
	                   a.rest, (int)a.fields_len, a.fields) > 0);
	return out;
}

static char *
general_answer(const char *text)
{
	return record_answer_general(text, strlen(text));
}

/* Records as the service writes them (json-c: UTF-8 unescaped). */
Test(record, general_answer_is_the_fast_answer_byte_for_byte)
{
	static const char *const rests[] = {
	    USED_REST,
	    "\"session_id\":\"" ID "\",\"created_at\":\"2026-11-22T10:30:00Z\","
	    "\"expires_at\":\"2026-11-22T11:00:00Z\"}",
	    "\"session_id\":\"" ID "\",\"created_at\":\"2026-11-22T10:30:00Z\","
	    "\"expires_at\":\"2026-11-22T11:00:00Z\",\"metadata\":{\"u\":"
	    "\"a/b\",\"n\":[1,2.5,-0.25,1e3,{}],\"s\":\"é\\n\\\"\","
	    "\"e\":[],\"t\":true,\"z\":null}}",
	    "\"session_id\":\"" ID "\",\"created_at\":\"2026-11-22T10:30:00Z\","
	    "\"expires_at\":\"2026-11-22T11:00:00Z\",\"user_id\":\"\\\"q\\\" "
	    "å\"}",
	    "\"session_id\":\"" ID "\",\"created_at\":\"2026-11-22T10:30:00Z\","
	    "\"expires_at\":\"2026-11-22T11:00:00Z\",\"user_id\":\"u\","
	    "\"return_to\":\"/app/?a=1\",\"metadata\":{\"k\":1}}",
	};

	for (size_t i = 0; i < sizeof(rests) / sizeof(rests[0]); i++) {
		for (int opened = 0; opened < 2; opened++) {
			char *text, *fast, *general;

			cr_assert(
			    asprintf(&text, USED_HEAD "\"iframe_opened\":%s,%s",
			             opened ? "true" : "false", rests[i]) > 0);
			fast = fast_answer(text);
			general = general_answer(text);
			cr_assert_not_null(general, "%s", text);
			cr_expect_str_eq(general, fast);
			free(general);
			free(fast);
			free(text);
		}
	}
}

/* A used record as the Python service leaves it: json.dumps defaults,
 * its field order, microseconds and no Z, user_id null, unknown fields. */
#define PYTHON_USED                                                         \
	"{\"session_id\": \"" ID "\", \"created_at\": "                     \
	"\"2026-11-22T10:30:00.123456\", \"expires_at\": "                  \
	"\"2026-11-22T11:00:00.123456\", \"used\": true, \"used_at\": "     \
	"\"2026-11-22T10:31:00Z\", \"iframe_opened\": false, \"user_id\": " \
	"null, \"metadata\": {\"expires_at\": \"x\", \"n\": 1.50}, "        \
	"\"x_extra\": [1, {\"used_at\": \"y\"}]}"

Test(record, general_answer_reads_other_layouts)
{
	char *general = general_answer(PYTHON_USED);
	char *reordered;

	cr_assert_not_null(general);
	cr_expect_str_eq(
	    general, "{\"valid\":true,\"used_at\":\"2026-11-22T10:31:00Z\","
	             "\"session_id\":\"" ID "\",\"created_at\":\"2026-11-22T10:"
	             "30:00.123456\",\"expires_at\":\"2026-11-22T11:00:00."
	             "123456\",\"user_id\":null,\"metadata\":{\"expires_at\":"
	             "\"x\",\"n\":1.50}}");
	free(general);
	/* Another order and spacing gives the same answer as the own
	 * layout. */
	cr_assert(asprintf(&reordered,
	                   "\n{ \"metadata\" : {\"iframe_opened\":1}, "
	                   "\"user_id\":\"alice\",\"expires_at\":\"2026-11-"
	                   "22T11:00:00Z\",\t\"iframe_opened\":true,\"used\":"
	                   "true,\"created_at\":\"2026-11-22T10:30:00Z\","
	                   "\"session_id\":\"" ID "\",\"used_at\":\"2026-11-"
	                   "22T10:30:05Z\",\"other\":{}} ") > 0);
	general = general_answer(reordered);
	{
		char *own, *fast;

		cr_assert(asprintf(&own, USED_HEAD "\"iframe_opened\":true,%s",
		                   USED_REST) > 0);
		fast = fast_answer(own);
		cr_assert_not_null(general);
		cr_expect_str_eq(general, fast);
		free(fast);
		free(own);
	}
	free(general);
	free(reordered);
}

Test(record, general_answer_refuses_corrupt_records)
{
	static const char *const texts[] = {
	    "",
	    "not json",
	    "[1, 2]",
	    "\"" ID "\"",
	    "{}",
	    /* Not used yet: no used_at to answer with. */
	    "{\"used\":false,\"iframe_opened\":false,\"session_id\":\"" ID "\","
	    "\"created_at\":\"x\",\"expires_at\":\"y\"}",
	    "{\"used\":true,\"used_at\":5,\"iframe_opened\":false,"
	    "\"session_id\":\"" ID "\",\"created_at\":\"x\","
	    "\"expires_at\":\"y\"}",
	    /* json-c would take the key for "session_id". */
	    "{\"used\":true,\"used_at\":\"z\",\"iframe_opened\":false,"
	    "\"session_id\":\"" ID "\",\"created_at\":\"x\",\"expires_at\":"
	    "\"y\",\"session_id\\u0000x\":\"other\"}",
	    PYTHON_USED " x",
	    "{\"used\":true,\"used_at\":\"z\",\"iframe_opened\":false,"
	    "\"session_id\":\"" ID "\",\"created_at\":\"x\",\"expires_at\":"
	    "\"y\",\"n\":0x10}",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char *general = general_answer(texts[i]);

		cr_expect_null(general, "answered %s", texts[i]);
		free(general);
	}
}

Test(record, parse_reads_any_order_and_spacing)
{
	struct json_object *obj = parse(PYTHON_USED);

	cr_assert_not_null(obj);
	cr_expect_str_eq(get_string(obj, "session_id"), ID);
	cr_expect(get_bool(obj, "used"));
	cr_expect_not(get_bool(obj, "iframe_opened"));
	cr_expect_str_eq(get_string(obj, "expires_at"),
	                 "2026-11-22T11:00:00.123456");
	json_object_put(obj);
}

/* return_to is stored after the flags, so validate's answer, cut from
 * the record by position, carries it among the creator's fields. */
Test(record, return_to_stored_and_in_the_validate_answer)
{
	char path[] = "/app/\"q\"?a=1";
	struct create_request req = {.has_user_id = true, .return_to = path};
	struct record_answer a;
	struct json_object *obj;
	char *text, *used;

	snprintf(req.user_id, sizeof(req.user_id), "u");
	text = record_serialize(ID, T_2026, T_2026 + 1, &req);
	cr_assert_not_null(text);
	obj = parse(text);
	cr_assert_not_null(obj, "%s", text);
	cr_expect_str_eq(get_string(obj, "return_to"), "/app/\"q\"?a=1");
	json_object_put(obj);
	cr_assert_gt(asprintf(&used,
	                      "{\"used\":true,\"used_at\":\"2026-11-22T10:30:"
	                      "05Z\",%s",
	                      text + strlen("{\"used\":false,")),
	             0);
	cr_assert(record_answer(used, strlen(used), &a), "%s", used);
	cr_expect_not_null(
	    memmem(a.fields, a.fields_len,
	           "\"return_to\":\"/app/\\\"q\\\"?a=1\"",
	           strlen("\"return_to\":\"/app/\\\"q\\\"?a=1\"")),
	    "%.*s", (int)a.fields_len, a.fields);
	free(used);
	free(text);
}
