/* The session record stored under auth_session:<id>, as JSON.
 *
 * The service writes the flags first, in a fixed order:
 *   {"used":false,"iframe_opened":false,"session_id":...}
 * and marking used turns the head into {"used":true,"used_at":"...",
 * so that the Redis scripts can check and flip the flags by position,
 * before any field a client chose.  Readers use record_parse().
 */
#ifndef IFRAME_AUTH_SESSION_RECORD_H
#define IFRAME_AUTH_SESSION_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct json_object;
struct create_request;

/* Serializes a new, unused record; NULL on allocation failure.  Free
 * with free(). */
char *record_serialize(const char *session_id, time_t created, time_t expires,
                       const struct create_request *req);

/* Parses a stored record and checks its required fields (session_id,
 * created_at, expires_at, used, iframe_opened).  NULL when malformed. */
struct json_object *record_parse(const char *text, size_t len);

#endif
