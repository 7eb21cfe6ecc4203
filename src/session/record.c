#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../clock.h"
#include "create_request.h"
#include "json_input.h"

char *
record_serialize(const char *session_id, time_t created, time_t expires,
                 const struct create_request *req)
{
	char created_at[CLOCK_ISO8601_LEN], expires_at[CLOCK_ISO8601_LEN];
	const char *user_id = NULL;
	struct json_object *uid = NULL;
	char *out = NULL;
	size_t len;
	FILE *f;

	clock_format_iso8601(created, created_at);
	clock_format_iso8601(expires, expires_at);
	if (req != NULL && req->has_user_id) {
		/* json-c does the string escaping. */
		uid = json_object_new_string(req->user_id);
		if (uid == NULL)
			return NULL;
		user_id = json_object_to_json_string_ext(
		    uid,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	}
	f = open_memstream(&out, &len);
	if (f == NULL) {
		json_object_put(uid);
		return NULL;
	}
	fprintf(f,
	        "{\"used\":false,\"iframe_opened\":false,\"session_id\":\"%s\","
	        "\"created_at\":\"%s\",\"expires_at\":\"%s\"",
	        session_id, created_at, expires_at);
	if (user_id != NULL)
		fprintf(f, ",\"user_id\":%s", user_id);
	if (req != NULL && req->metadata != NULL)
		fprintf(f, ",\"metadata\":%s", req->metadata);
	fputc('}', f);
	if (fclose(f) != 0) {
		free(out);
		out = NULL;
	}
	json_object_put(uid);
	return out;
}

static bool
has_string(struct json_object *obj, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(obj, key, &v) &&
	       json_object_is_type(v, json_type_string);
}

static bool
has_bool(struct json_object *obj, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(obj, key, &v) &&
	       json_object_is_type(v, json_type_boolean);
}

struct json_object *
record_parse(const char *text, size_t len)
{
	const char *why;
	struct json_object *obj = json_input_parse(text, len, &why);

	if (obj == NULL)
		return NULL;
	if (!json_object_is_type(obj, json_type_object) ||
	    !has_string(obj, "session_id") || !has_string(obj, "created_at") ||
	    !has_string(obj, "expires_at") || !has_bool(obj, "used") ||
	    !has_bool(obj, "iframe_opened")) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}
