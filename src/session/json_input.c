#include "json_input.h"

#include <math.h>
#include <stdbool.h>

#include <json-c/json.h>

#define JSON_INPUT_DEPTH 16

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t
utf8_sequence(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return len;
}

/*
 * What json-c lets through and a client must not send: invalid UTF-8,
 * control characters (raw inside strings, or outside them other than
 * whitespace), and the escape \u0000, which json-c would silently cut
 * object keys at.
 */
static const char *
check_text(const unsigned char *s, size_t len)
{
	bool in_string = false;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_sequence(s + i, len - i);

		if (n == 0)
			return "not valid UTF-8";
		if (s[i] == 0x7f ||
		    (s[i] < 0x20 &&
		     (in_string || (s[i] != ' ' && s[i] != '\t' &&
		                    s[i] != '\n' && s[i] != '\r'))))
			return "control characters are not allowed";
		if (in_string && s[i] == '\\' && i + 1 < len) {
			if (s[i + 1] == 'u' && i + 5 < len && s[i + 2] == '0' &&
			    s[i + 3] == '0' && s[i + 4] == '0' &&
			    s[i + 5] == '0')
				return "the escape \\u0000 is not allowed";
			i += 2; /* the escaped character is never a quote */
			continue;
		}
		if (s[i] == '"')
			in_string = !in_string;
		i += n;
	}
	return NULL;
}

/* Rejects NaN and infinities (json-c reads "NaN" and "Infinity") and
 * makes numbers serialize in standard form rather than as written. */
static bool
normalize_numbers(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_double:
		if (!isfinite(json_object_get_double(v)))
			return false;
		json_object_set_serializer(v, NULL, NULL, NULL);
		return true;
	case json_type_object: {
		json_object_object_foreach(v, key, child)
		{
			(void)key;
			if (!normalize_numbers(child))
				return false;
		}
		return true;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			if (!normalize_numbers(json_object_array_get_idx(v, i)))
				return false;
		}
		return true;
	default:
		return true;
	}
}

struct json_object *
json_input_parse(const char *text, size_t len, const char **why)
{
	struct json_tokener *tok;
	struct json_object *obj;
	size_t end;

	*why = check_text((const unsigned char *)text, len);
	if (*why != NULL)
		return NULL;
	tok = json_tokener_new_ex(JSON_INPUT_DEPTH);
	if (tok == NULL) {
		*why = "out of memory";
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	                                JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (obj == NULL ||
	    json_tokener_get_error(tok) != json_tokener_success) {
		*why = json_tokener_get_error(tok) == json_tokener_error_depth
		           ? "nested too deeply"
		           : "not valid JSON";
		json_object_put(obj);
		obj = NULL;
	} else {
		while (end < len && (text[end] == ' ' || text[end] == '\t' ||
		                     text[end] == '\n' || text[end] == '\r'))
			end++;
		if (end != len) {
			*why = "unexpected data after the JSON value";
			json_object_put(obj);
			obj = NULL;
		} else if (!normalize_numbers(obj)) {
			*why = "numbers must be finite";
			json_object_put(obj);
			obj = NULL;
		}
	}
	json_tokener_free(tok);
	return obj;
}

bool
json_input_is_utf8(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_sequence(s + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}
