/* Session ids: canonical lowercase UUID version 4 text, 36 characters.
 * Pure functions apart from session_id_generate(), which reads the
 * kernel's CSPRNG. */
#ifndef IFRAME_AUTH_SESSION_SESSION_ID_H
#define IFRAME_AUTH_SESSION_SESSION_ID_H

#include <stdbool.h>
#include <stddef.h>

#define SESSION_ID_LEN 36

/* Mints a new id from 16 bytes of getrandom(2).  False when the kernel
 * cannot supply them: the caller must fail, never fall back.
 *
 * Besides the version and variant bits, one more bit is set rather than
 * random: the lowest of the last byte, odd for a session made with
 * allowed_origins (origin_bound), even otherwise.  The iframe page can so
 * tell, without Redis, which sessions it must read before it is served
 * (their frame-ancestors are their own), and serve the others at once.
 * An id cannot be altered to lie about it: another id names another
 * session.  121 random bits remain. */
bool session_id_generate(char out[SESSION_ID_LEN + 1], bool origin_bound)
    __attribute__((warn_unused_result));

/* Whether the canonical id may belong to a session with allowed_origins:
 * true for every id that this service mints for one (and, harmlessly,
 * for half the ids minted elsewhere). */
bool session_id_origin_bound(const char id[SESSION_ID_LEN + 1]);

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

#endif
