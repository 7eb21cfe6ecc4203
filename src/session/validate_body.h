/* The body of a validate-session POST: a JSON object with "session_id"
 * (the id, unless the query names it) and "parent_origin" (the origin
 * framing the iframe page, which a session with allowed_origins must
 * match), each optional here.  Pure, strict JSON input (json_input.h). */
#ifndef IFRAME_AUTH_SESSION_VALIDATE_BODY_H
#define IFRAME_AUTH_SESSION_VALIDATE_BODY_H

#include <stdbool.h>
#include <stddef.h>

#include "origin.h"
#include "session_id.h"

struct validate_body {
	bool has_id;
	char id[SESSION_ID_LEN + 1]; /* canonical */
	/* Canonical; "" when absent or not an origin at all (a sandboxed
	 * frame's "null"): then it matches no allowed origin. */
	char parent_origin[ORIGIN_MAX + 1];
};

/* Parses the len bytes at body into out.  NULL, or what is wrong with the
 * body, naming the field first. */
const char *validate_body_parse(const char *body, size_t len,
                                struct validate_body *out);

#endif
