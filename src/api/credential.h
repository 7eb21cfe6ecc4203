/* The credential of /auth/verify and /auth/logout (§11): the
 * Authorization: Bearer header when present (the cookie is then ignored,
 * even if the header is wrong), else the embed cookie.  Pure. */
#ifndef IFRAME_AUTH_API_CREDENTIAL_H
#define IFRAME_AUTH_API_CREDENTIAL_H

#include <stddef.h>

#include "../session/embed_token.h"

enum credential {
	CREDENTIAL_TOKEN,     /* a well-formed token, copied out */
	CREDENTIAL_MISSING,   /* neither header nor cookie */
	CREDENTIAL_MALFORMED, /* not a Bearer header, or not a token's form */
};

/* authorization and cookie are the request's header values (NULL when
 * absent); cookie_name NULL when cookies are off. */
enum credential credential_pick(const char *authorization, const char *cookie,
                                const char *cookie_name,
                                char token[EMBED_TOKEN_LEN + 1]);

#endif
