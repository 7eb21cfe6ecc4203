/* The user_id a session may carry (§5): a string of at most 256 bytes of
 * valid UTF-8 without control characters.  Pure. */
#ifndef IFRAME_AUTH_SESSION_USER_ID_H
#define IFRAME_AUTH_SESSION_USER_ID_H

#include <stdbool.h>
#include <stddef.h>

#define USER_ID_MAX 256

/* Whether the len bytes at s (which may hold NULs) are such a user_id. */
bool user_id_valid(const char *s, size_t len);

#endif
