/* Session ids: canonical lowercase UUID version 4 text, 36 characters.
 * Pure functions apart from session_id_generate(), which reads the
 * kernel's CSPRNG. */
#ifndef IFRAME_AUTH_SESSION_SESSION_ID_H
#define IFRAME_AUTH_SESSION_SESSION_ID_H

#include <stdbool.h>
#include <stddef.h>

#define SESSION_ID_LEN 36

/* Mints a new id from 16 bytes of getrandom(2).  False when the kernel
 * cannot supply them: the caller must fail, never fall back. */
bool session_id_generate(char out[SESSION_ID_LEN + 1])
    __attribute__((warn_unused_result));

/* Checks that text (len bytes, which may hold NULs) is exactly a
 * canonical version-4 UUID (8-4-4-4-12 hex, version nibble 4, variant
 * 8/9/a/b); upper case is accepted and written folded to lower case. */
bool session_id_normalize(const char *text, size_t len,
                          char out[SESSION_ID_LEN + 1])
    __attribute__((warn_unused_result));

enum session_id_query {
	SESSION_ID_FOUND,
	SESSION_ID_MISSING,  /* no session_id parameter, or it is empty */
	SESSION_ID_REPEATED, /* more than one session_id parameter */
	SESSION_ID_MALFORMED,
};

/* Finds session_id in a raw query string (NULL allowed) without decoding
 * it: a percent-encoded or otherwise altered id is malformed. */
enum session_id_query session_id_from_query(const char *query,
                                            char out[SESSION_ID_LEN + 1]);

/* The id of a validate-session POST body, which must be exactly
 * {"session_id": "<id>"}, with an optional "parent_origin" string beside
 * it (strict JSON input, json_input.h; a repeated key is refused).  NULL,
 * or what is wrong with the body. */
const char *session_id_from_body(const char *body, size_t len,
                                 char out[SESSION_ID_LEN + 1]);

#endif
