#include "create_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json_input.h"
#include "return_to.h"

static bool
take_user_id(struct json_object *v, struct create_request *out)
{
	const char *s;
	size_t len;

	if (!json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	len = (size_t)json_object_get_string_len(v);
	if (!user_id_valid(s, len))
		return false;
	/* X-Auth-User carries it as a header value, whose edges every
	 * parser strips: " admin" would reach the app as "admin". */
	if (len > 0 && (s[0] == ' ' || s[len - 1] == ' '))
		return false;
	memcpy(out->user_id, s, len);
	out->user_id[len] = '\0';
	out->has_user_id = true;
	return true;
}

static bool
take_metadata(struct json_object *v, struct create_request *out)
{
	const char *s;
	size_t len;

	if (!json_object_is_type(v, json_type_object))
		return false;
	s = json_object_to_json_string_length(
	    v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (s == NULL || len > METADATA_MAX)
		return false;
	out->metadata = strdup(s);
	return out->metadata != NULL;
}

static bool
take_ttl(struct json_object *v, int max_ttl, struct create_request *out)
{
	int64_t ttl;

	/* json-c types 5.0 as a double and true as a boolean: neither is an
	 * integer here. */
	if (!json_object_is_type(v, json_type_int))
		return false;
	ttl = json_object_get_int64(v);
	if (ttl < 1 || ttl > max_ttl)
		return false;
	out->ttl_seconds = (int)ttl;
	return true;
}

/* Takes one origin of allowed_origins; false with the detail written
 * when it is not an origin, or not one that the rules' FRAME_ANCESTORS
 * allows.  A duplicate (in canonical form) is dropped. */
static bool
take_origin(struct json_object *v, const struct create_rules *rules,
            struct create_request *out, char *detail, size_t detail_len)
{
	char *origin = out->allowed_origins[out->origin_count];
	const char *why;

	if (!json_object_is_type(v, json_type_string)) {
		snprintf(detail, detail_len,
		         "allowed_origins: each item must be a string");
		return false;
	}
	why = origin_normalize(json_object_get_string(v),
	                       (size_t)json_object_get_string_len(v), origin);
	if (why != NULL) {
		snprintf(detail, detail_len,
		         "allowed_origins: \"%.160s\" is not an origin "
		         "scheme://host[:port]: %s",
		         json_object_get_string(v), why);
		return false;
	}
	if (!origin_allowed(rules->frame_ancestors, rules->self_origin,
	                    origin)) {
		snprintf(detail, detail_len,
		         "allowed_origins: %s is not allowed by "
		         "FRAME_ANCESTORS",
		         origin);
		return false;
	}
	for (size_t i = 0; i < out->origin_count; i++) {
		if (strcmp(out->allowed_origins[i], origin) == 0)
			return true;
	}
	out->origin_count++;
	return true;
}

static bool
take_allowed_origins(struct json_object *v, const struct create_rules *rules,
                     struct create_request *out, char *detail,
                     size_t detail_len)
{
	size_t n;

	if (!json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) < 1 || n > ALLOWED_ORIGINS_MAX) {
		snprintf(detail, detail_len,
		         "allowed_origins: must be an array of 1 to %d "
		         "origins scheme://host[:port]",
		         ALLOWED_ORIGINS_MAX);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (!take_origin(json_object_array_get_idx(v, i), rules, out,
		                 detail, detail_len))
			return false;
	}
	return true;
}

/* The detail for a body json_input refused: it starts with the field the
 * fault lies in, like every other invalid field, or with "body". */
static void
describe_fault(const struct json_input_fault *fault, char *detail,
               size_t detail_len)
{
	const char *field = fault->member[0] != '\0' ? fault->member : "body";

	if (fault->key[0] != '\0')
		snprintf(detail, detail_len, "%s: %s \"%s\"", field, fault->why,
		         fault->key);
	else
		snprintf(detail, detail_len, "%s: %s", field, fault->why);
}

/* NULL when v is an acceptable return_to (taken into out), otherwise
 * what is wrong with it. */
static const char *
take_return_to(struct json_object *v, struct create_request *out)
{
	const char *why;

	if (!json_object_is_type(v, json_type_string))
		return "must be a string";
	why = return_to_check(json_object_get_string(v),
	                      (size_t)json_object_get_string_len(v));
	if (why != NULL)
		return why;
	out->return_to = strdup(json_object_get_string(v));
	return out->return_to != NULL ? NULL : "out of memory";
}

enum create_parse
create_request_parse(const char *body, size_t len,
                     const struct create_rules *rules,
                     struct create_request *out, char *detail,
                     size_t detail_len)
{
	struct json_object *obj;
	struct json_input_fault fault;
	bool ok = true;

	memset(out, 0, sizeof(*out));
	if (len > CREATE_BODY_MAX) {
		snprintf(detail, detail_len, "body over %d bytes",
		         CREATE_BODY_MAX);
		return CREATE_PARSE_TOO_LARGE;
	}
	if (len == 0)
		return CREATE_PARSE_OK;
	obj = json_input_parse_located(body, len, &fault);
	if (obj == NULL) {
		describe_fault(&fault, detail, detail_len);
		return CREATE_PARSE_INVALID;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(detail, detail_len, "body: must be a JSON object");
		json_object_put(obj);
		return CREATE_PARSE_INVALID;
	}
	json_object_object_foreach(obj, key, value)
	{
		if (!ok)
			break;
		if (strcmp(key, "user_id") == 0) {
			ok = take_user_id(value, out);
			if (!ok)
				snprintf(detail, detail_len,
				         "user_id: must be a string of at most "
				         "%d bytes without control characters "
				         "or a space at either end",
				         USER_ID_MAX);
		} else if (strcmp(key, "metadata") == 0) {
			ok = take_metadata(value, out);
			if (!ok)
				snprintf(
				    detail, detail_len,
				    "metadata: must be a JSON object of at "
				    "most %d bytes serialized",
				    METADATA_MAX);
		} else if (strcmp(key, "ttl_seconds") == 0) {
			ok = take_ttl(value, rules->max_ttl, out);
			if (!ok)
				snprintf(
				    detail, detail_len,
				    "ttl_seconds: must be an integer from 1 "
				    "to %d",
				    rules->max_ttl);
		} else if (strcmp(key, "return_to") == 0) {
			const char *problem = take_return_to(value, out);

			ok = problem == NULL;
			if (!ok)
				snprintf(detail, detail_len, "return_to: %s",
				         problem);
		} else if (strcmp(key, "allowed_origins") == 0) {
			ok = take_allowed_origins(value, rules, out, detail,
			                          detail_len);
		} else {
			snprintf(detail, detail_len,
			         "%.64s: unknown field (allowed: user_id, "
			         "metadata, ttl_seconds, return_to, "
			         "allowed_origins)",
			         key);
			ok = false;
		}
	}
	json_object_put(obj);
	if (!ok) {
		create_request_finish(out);
		return CREATE_PARSE_INVALID;
	}
	return CREATE_PARSE_OK;
}

void
create_request_finish(struct create_request *req)
{
	free(req->metadata);
	req->metadata = NULL;
	free(req->return_to);
	req->return_to = NULL;
}
