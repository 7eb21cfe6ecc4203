#include "embed_record.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base64url.h"
#include "record.h"

/* The string member key, or NULL when absent, null or not a string
 * (*ok false in the last case). */
static const char *
string_member(struct json_object *obj, const char *key, bool *ok)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return NULL;
	if (!json_object_is_type(v, json_type_string)) {
		*ok = false;
		return NULL;
	}
	return json_object_get_string(v);
}

/* A header value must not carry control characters (a CR or LF would
 * end it). */
static bool
header_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}

static bool
take_metadata(struct json_object *obj, struct embed_view *out)
{
	struct json_object *v;
	const char *text;
	size_t len;

	if (!json_object_object_get_ex(obj, "metadata", &v) || v == NULL)
		return true;
	if (!json_object_is_type(v, json_type_object))
		return false;
	text = json_object_to_json_string_length(
	    v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (text == NULL)
		return false;
	out->metadata = malloc(BASE64URL_LEN(len) + 1);
	if (out->metadata == NULL)
		return false;
	base64url_encode(text, len, out->metadata);
	return true;
}

bool
embed_record_read(const char *text, size_t len, struct embed_view *out)
{
	bool ok = true;

	memset(out, 0, sizeof(*out));
	/* Read as the session record it was cut from: its metadata may be
	 * another writer's text (sessions.c), kept as that writer wrote
	 * it. */
	out->obj = record_json_parse(text, len);
	if (out->obj == NULL)
		return false;
	if (json_object_is_type(out->obj, json_type_object)) {
		out->user_id = string_member(out->obj, "user_id", &ok);
		out->session_id = string_member(out->obj, "session_id", &ok);
		out->expires_at = string_member(out->obj, "expires_at", &ok);
		ok = ok && out->session_id != NULL &&
		     strlen(out->session_id) >= 8 && out->expires_at != NULL &&
		     header_safe(out->session_id) &&
		     header_safe(out->expires_at) &&
		     (out->user_id == NULL || header_safe(out->user_id)) &&
		     take_metadata(out->obj, out);
	} else {
		ok = false;
	}
	if (!ok)
		embed_view_finish(out);
	return ok;
}

void
embed_view_finish(struct embed_view *view)
{
	json_object_put(view->obj);
	free(view->metadata);
	memset(view, 0, sizeof(*view));
}
