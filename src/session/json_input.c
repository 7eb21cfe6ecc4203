#include "json_input.h"

#include <json-c/json.h>

#define JSON_INPUT_DEPTH 16

struct json_object *
json_input_parse(const char *text, size_t len, const char **why)
{
	struct json_tokener *tok;
	struct json_object *obj;
	size_t end;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') ||
		    c == 0x7f) {
			*why = "control characters are not allowed";
			return NULL;
		}
	}
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
		           : "not valid JSON (or not UTF-8)";
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
		}
	}
	json_tokener_free(tok);
	return obj;
}
