/* The optional JSON body of POST /auth/create-session, validated. */
#ifndef IFRAME_AUTH_SESSION_CREATE_REQUEST_H
#define IFRAME_AUTH_SESSION_CREATE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "origin.h"
#include "user_id.h"

#define CREATE_BODY_MAX     8192
#define METADATA_MAX        4096
#define ALLOWED_ORIGINS_MAX 8

struct create_request {
	bool has_user_id;
	char user_id[USER_ID_MAX + 1];
	char *metadata;  /* serialized JSON object, or NULL; owned */
	int ttl_seconds; /* 0: the configured default */
	char *return_to; /* checked path (return_to.h), or NULL; owned */
	/* Canonical (origin.h), without duplicates; none when not given. */
	size_t origin_count;
	char allowed_origins[ALLOWED_ORIGINS_MAX][ORIGIN_MAX + 1];
};

/* What the body is checked against, from the configuration. */
struct create_rules {
	int max_ttl;
	const char *frame_ancestors; /* each allowed origin must match it */
	const char *self_origin;     /* canonical, or "" when unknown */
};

enum create_parse {
	CREATE_PARSE_OK,
	CREATE_PARSE_INVALID,   /* 400; detail names the field */
	CREATE_PARSE_TOO_LARGE, /* 413 */
};

/* Validates body (len bytes; empty means no options).  On
 * CREATE_PARSE_OK, out must later go to create_request_finish(). */
enum create_parse create_request_parse(const char *body, size_t len,
                                       const struct create_rules *rules,
                                       struct create_request *out, char *detail,
                                       size_t detail_len);

void create_request_finish(struct create_request *req);

#endif
