/* Strict parsing of JSON that clients send: valid UTF-8, no raw control
 * characters, no \u0000, no key repeated within an object, one value and
 * nothing after it, bounded nesting. */
#ifndef IFRAME_AUTH_SESSION_JSON_INPUT_H
#define IFRAME_AUTH_SESSION_JSON_INPUT_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

#define JSON_INPUT_NAME_MAX 64

/* The reason given for a key repeated within one object. */
#define JSON_INPUT_DUPLICATE_KEY "duplicate key"

/* Why a text was refused, and where, so that a caller can name the field. */
struct json_input_fault {
	const char *why; /* static reason; NULL when the text was accepted */
	/* The top-level member the fault lies in (its key, cut at
	 * JSON_INPUT_NAME_MAX bytes), or "" for a fault of the whole text. */
	char member[JSON_INPUT_NAME_MAX + 1];
	/* For JSON_INPUT_DUPLICATE_KEY below the top level: the repeated key
	 * (at the top level it is member itself); otherwise "". */
	char key[JSON_INPUT_NAME_MAX + 1];
};

/* Returns the parsed value (release with json_object_put), or NULL with
 * *fault saying why and where. */
struct json_object *json_input_parse_located(const char *text, size_t len,
                                             struct json_input_fault *fault);

/* Whether the len bytes at text are well-formed UTF-8 (no overlong
 * forms, no surrogates), as every JSON input must be. */
bool json_input_is_utf8(const char *text, size_t len);

#endif
