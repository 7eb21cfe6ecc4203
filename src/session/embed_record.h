/* The record of an embed session (store/embed.h) as /auth/verify answers
 * from it: who, which session, until when, and the metadata as base64url
 * for the X-Auth-Metadata header.  Pure. */
#ifndef IFRAME_AUTH_SESSION_EMBED_RECORD_H
#define IFRAME_AUTH_SESSION_EMBED_RECORD_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

struct embed_view {
	struct json_object *obj; /* owns the strings below */
	const char *user_id;     /* NULL when the session has no user */
	const char *session_id;  /* at least 8 characters */
	const char *expires_at;  /* absolute, ISO 8601 */
	char *metadata;          /* base64url of the JSON, or NULL; owned */
};

/* Reads a stored record.  False when it is not an object with string
 * session_id and expires_at, a user_id that is a string without control
 * characters (or absent or null), and metadata an object (or absent or
 * null); then out needs no finishing. */
bool embed_record_read(const char *text, size_t len, struct embed_view *out)
    __attribute__((warn_unused_result));

void embed_view_finish(struct embed_view *view);

#endif
