#include "validate_body.h"

#include <string.h>

#include <json-c/json.h>

#include "json_input.h"

/* What is wrong with member key = v, or NULL once it is taken. */
static const char *
take_member(const char *key, struct json_object *v, struct validate_body *out)
{
	if (strcmp(key, "session_id") == 0) {
		if (!json_object_is_type(v, json_type_string) ||
		    !session_id_normalize(json_object_get_string(v),
		                          (size_t)json_object_get_string_len(v),
		                          out->id))
			return "session_id must be a canonical version-4 UUID";
		out->has_id = true;
		return NULL;
	}
	if (strcmp(key, "parent_origin") == 0) {
		if (!json_object_is_type(v, json_type_string))
			return "parent_origin must be a string";
		if (origin_normalize(json_object_get_string(v),
		                     (size_t)json_object_get_string_len(v),
		                     out->parent_origin) != NULL)
			out->parent_origin[0] = '\0';
		return NULL;
	}
	return "body must be {\"session_id\": \"<id>\", \"parent_origin\": "
	       "\"<origin>\"}";
}

const char *
validate_body_parse(const char *body, size_t len, struct validate_body *out)
{
	const char *detail = NULL;
	struct json_input_fault fault;
	struct json_object *obj = json_input_parse_located(body, len, &fault);

	memset(out, 0, sizeof(*out));
	if (obj == NULL) {
		/* Worded as the query's repeated parameter is. */
		if (strcmp(fault.why, JSON_INPUT_DUPLICATE_KEY) == 0 &&
		    fault.key[0] == '\0') {
			if (strcmp(fault.member, "session_id") == 0)
				return "session_id given more than once";
			if (strcmp(fault.member, "parent_origin") == 0)
				return "parent_origin given more than once";
		}
		return fault.why;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return "body must be a JSON object";
	}
	json_object_object_foreach(obj, key, value)
	{
		detail = take_member(key, value, out);
		if (detail != NULL)
			break;
	}
	json_object_put(obj);
	return detail;
}
