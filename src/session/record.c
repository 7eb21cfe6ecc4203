#include "record.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../clock.h"
#include "create_request.h"
#include "json_input.h"
#include "session_id.h"

/* The fixed part of a record: the flags, the id and both timestamps. */
#define RECORD_HEAD_MAX 192
/* Nesting a stored record may have: json-c allows one level less than
 * its depth, cjson (which the scripts read records with) 1000. */
#define RECORD_DEPTH 1024
/* Each origin quoted, with its comma. */
#define ORIGINS_TEXT_MAX              \
	(sizeof(RECORD_ORIGINS "]") + \
	 ALLOWED_ORIGINS_MAX * (size_t)(ORIGIN_MAX + 3))

/* ,"allowed_origins":["...",...] into out, or nothing when there are
 * none.  Canonical origins need no escaping (origin.h). */
static void
format_origins(const struct create_request *req, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	if (req == NULL || req->origin_count == 0)
		return;
	n += (size_t)snprintf(out, cap, RECORD_ORIGINS);
	for (size_t i = 0; i < req->origin_count; i++)
		n +=
		    (size_t)snprintf(out + n, cap - n, "%s\"%s\"",
		                     i > 0 ? "," : "", req->allowed_origins[i]);
	snprintf(out + n, cap - n, "]");
}

/* The string as JSON text, escaped by json-c, in *holder (release with
 * json_object_put()); NULL on allocation failure. */
static const char *
json_string_text(const char *s, struct json_object **holder)
{
	*holder = json_object_new_string(s);
	if (*holder == NULL)
		return NULL;
	return json_object_to_json_string_ext(
	    *holder, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

char *
record_serialize(const char *session_id, time_t created, time_t expires,
                 const struct create_request *req)
{
	char created_at[CLOCK_ISO8601_LEN], expires_at[CLOCK_ISO8601_LEN];
	const char *user_id = NULL, *return_to = NULL;
	const char *metadata = req != NULL ? req->metadata : NULL;
	struct json_object *uid = NULL, *ret = NULL;
	char origins[ORIGINS_TEXT_MAX];
	size_t cap = RECORD_HEAD_MAX;
	char *out = NULL;

	format_origins(req, origins, sizeof(origins));
	cap += strlen(origins);
	clock_format_iso8601(created, created_at);
	clock_format_iso8601(expires, expires_at);
	if (req != NULL && req->has_user_id) {
		user_id = json_string_text(req->user_id, &uid);
		if (user_id == NULL)
			goto done;
		cap += sizeof(",\"user_id\":") + strlen(user_id);
	}
	if (req != NULL && req->return_to != NULL) {
		return_to = json_string_text(req->return_to, &ret);
		if (return_to == NULL)
			goto done;
		cap += sizeof(",\"return_to\":") + strlen(return_to);
	}
	if (metadata != NULL)
		cap += sizeof(",\"metadata\":") + strlen(metadata);
	out = malloc(cap);
	if (out != NULL)
		snprintf(out, cap,
		         RECORD_HEAD_UNUSED
		         "\"iframe_opened\":false," RECORD_AFTER_FLAGS
		         "%s\",\"created_at\":\"%s\","
		         "\"expires_at\":\"%s\"%s%s%s%s%s%s%s}",
		         session_id, created_at, expires_at, origins,
		         user_id != NULL ? ",\"user_id\":" : "",
		         user_id != NULL ? user_id : "",
		         return_to != NULL ? ",\"return_to\":" : "",
		         return_to != NULL ? return_to : "",
		         metadata != NULL ? ",\"metadata\":" : "",
		         metadata != NULL ? metadata : "");
done:
	json_object_put(uid);
	json_object_put(ret);
	return out;
}

/* Steps *p over the literal lit if the text at *p starts with it. */
static bool
skip(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return false;
	*p += n;
	return true;
}

/* Steps *p over a quoted ISO 8601 stamp and its closing quote. */
static bool
skip_stamp(const char **p, const char *end)
{
	const size_t stamp = CLOCK_ISO8601_LEN - 1;

	if ((size_t)(end - *p) < stamp + 1 || memchr(*p, '"', stamp) != NULL ||
	    memchr(*p, '\\', stamp) != NULL || (*p)[stamp] != '"')
		return false;
	*p += stamp + 1;
	return true;
}

/* Where the trailing ,"generation":<digits> of a record ending at end
 * (its closing brace excluded) starts; end when there is none. */
static const char *
generation_start(const char *start, const char *end)
{
	const char *p = end;
	size_t n = strlen("," RECORD_GENERATION);

	while (p > start && p[-1] >= '0' && p[-1] <= '9')
		p--;
	if (p == end || (size_t)(p - start) < n ||
	    memcmp(p - n, "," RECORD_GENERATION, n) != 0)
		return end;
	return p - n;
}

bool
record_answer(const char *text, size_t len, struct record_answer *out)
{
	const char *p = text, *end = text + len;

	if (!skip(&p, end, RECORD_HEAD_USED))
		return false;
	out->used_at = p;
	if (!skip(&p, end, RECORD_USED_AT) || !skip_stamp(&p, end) ||
	    !skip(&p, end, ","))
		return false;
	out->used_at_len = (size_t)(p - out->used_at);
	if (!skip(&p, end, "\"iframe_opened\":") ||
	    !(skip(&p, end, "true,") || skip(&p, end, "false,")))
		return false;
	out->rest = p;
	if (!skip(&p, end, RECORD_AFTER_FLAGS) ||
	    (size_t)(end - p) < SESSION_ID_LEN + 1 ||
	    memchr(p, '"', SESSION_ID_LEN) != NULL ||
	    memchr(p, '\\', SESSION_ID_LEN) != NULL)
		return false;
	p += SESSION_ID_LEN;
	if (!skip(&p, end, "\",\"created_at\":\"") || !skip_stamp(&p, end) ||
	    !skip(&p, end, ",\"expires_at\":\"") || !skip_stamp(&p, end) ||
	    end[-1] != '}')
		return false;
	out->rest_len = (size_t)(p - out->rest);
	/* The service's own members are not the caller's business. */
	if (skip(&p, end, RECORD_ORIGINS)) {
		const char *close = memchr(p, ']', (size_t)(end - p));

		if (close == NULL)
			return false;
		p = close + 1;
	}
	out->fields = p;
	out->fields_len = (size_t)(generation_start(p, end - 1) - p);
	return true;
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

/* Whether the JSON text escapes a NUL (\u0000) anywhere. */
static bool
has_nul_escape(const char *text, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (text[i] != '\\')
			continue;
		if (len - i >= 6 && memcmp(text + i + 1, "u0000", 5) == 0)
			return true;
		i++; /* the escaped character: \\u0000 is "\\" then "u0000" */
	}
	return false;
}

/* Unlike a client's input (json_input.h), a stored record may hold what
 * other writers put in strings.  \u0000 is refused, as by the scripts:
 * json-c would cut a key at it, and "session_id\u0000x" would stand for
 * "session_id". */
struct json_object *
record_json_parse(const char *text, size_t len)
{
	struct json_tokener *tok;
	struct json_object *obj;
	size_t end;

	if (len > INT32_MAX || has_nul_escape(text, len))
		return NULL;
	tok = json_tokener_new_ex(RECORD_DEPTH);
	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	while (obj != NULL && end < len &&
	       (text[end] == ' ' || text[end] == '\t' || text[end] == '\n' ||
	        text[end] == '\r'))
		end++;
	if (obj != NULL &&
	    (json_tokener_get_error(tok) != json_tokener_success ||
	     end != len)) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

struct json_object *
record_parse(const char *text, size_t len)
{
	struct json_object *obj = record_json_parse(text, len);

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

/* Copies member key of from into to, when from has it. */
static void
copy_member(struct json_object *to, struct json_object *from, const char *key)
{
	struct json_object *v;

	if (json_object_object_get_ex(from, key, &v))
		json_object_object_add(to, key, json_object_get(v));
}

char *
record_answer_general(const char *text, size_t len)
{
	static const char *const members[] = {
	    "used_at", "session_id", "created_at", "expires_at",
	    "user_id", "return_to",  "metadata"};
	struct json_object *record = record_parse(text, len);
	struct json_object *answer;
	const char *json;
	char *out = NULL;

	if (record == NULL)
		return NULL;
	answer = json_object_new_object();
	if (answer != NULL && has_string(record, "used_at")) {
		json_object_object_add(answer, "valid",
		                       json_object_new_boolean(1));
		for (size_t i = 0; i < sizeof(members) / sizeof(members[0]);
		     i++)
			copy_member(answer, record, members[i]);
		json = json_object_to_json_string_ext(
		    answer,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (json != NULL && strncmp(json, RECORD_ANSWER_HEAD,
		                            RECORD_ANSWER_HEAD_LEN) == 0)
			out = strdup(json);
	}
	json_object_put(answer);
	json_object_put(record);
	return out;
}
