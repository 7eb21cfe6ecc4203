/* The optional JSON body of POST /auth/create-session, validated. */
#ifndef IFRAME_AUTH_SESSION_CREATE_REQUEST_H
#define IFRAME_AUTH_SESSION_CREATE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#define CREATE_BODY_MAX 8192
#define USER_ID_MAX     256
#define METADATA_MAX    4096

struct create_request {
	bool has_user_id;
	char user_id[USER_ID_MAX + 1];
	char *metadata;  /* serialized JSON object, or NULL; owned */
	int ttl_seconds; /* 0: the configured default */
	char *return_to; /* checked path (return_to.h), or NULL; owned */
};

enum create_parse {
	CREATE_PARSE_OK,
	CREATE_PARSE_INVALID,   /* 400; detail names the field */
	CREATE_PARSE_TOO_LARGE, /* 413 */
};

/* Validates body (len bytes; empty means no options).  On
 * CREATE_PARSE_OK, out must later go to create_request_finish(). */
enum create_parse create_request_parse(const char *body, size_t len,
                                       int max_ttl, struct create_request *out,
                                       char *detail, size_t detail_len);

void create_request_finish(struct create_request *req);

#endif
