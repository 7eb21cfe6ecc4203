/* Strict parsing of JSON that clients send: valid UTF-8, no raw control
 * characters, one value and nothing after it, bounded nesting. */
#ifndef IFRAME_AUTH_SESSION_JSON_INPUT_H
#define IFRAME_AUTH_SESSION_JSON_INPUT_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

/* Returns the parsed value (release with json_object_put), or NULL with
 * *why set to a static reason. */
struct json_object *json_input_parse(const char *text, size_t len,
                                     const char **why);

/* Whether the len bytes at text are well-formed UTF-8 (no overlong
 * forms, no surrogates), as every JSON input must be. */
bool json_input_is_utf8(const char *text, size_t len);

#endif
