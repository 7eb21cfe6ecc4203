/* The session record stored under auth_session:<id>, as JSON.
 *
 * The service writes the flags first, in a fixed order:
 *   {"used":false,"iframe_opened":false,"session_id":...}
 * and marking used turns the head into {"used":true,"used_at":"...",
 * so that the Redis scripts can check and flip the flags by position,
 * before any field a client chose: the fast path.  After the expiry come
 * "allowed_origins" (canonical origins, which need no escaping),
 * "user_id" and "metadata", each when given; the create script appends
 * "generation", the user's revoke-all generation, when there is a user.
 * Any other writer's record (SPEC §4: any JSON object with the fields, in
 * any order and spacing) takes the general path, which parses it:
 * record_parse() here, cjson in the scripts (store/sessions.c says how
 * the two agree).  validate-session answers from the head by position
 * (record_answer()) and from any other record with
 * record_answer_general().
 */
#ifndef IFRAME_AUTH_SESSION_RECORD_H
#define IFRAME_AUTH_SESSION_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* The heads, as the scripts in store/sessions.c match and write them. */
#define RECORD_HEAD_UNUSED "{\"used\":false,"
#define RECORD_HEAD_USED   "{\"used\":true,"
#define RECORD_USED_AT     "\"used_at\":\""
/* The member that follows the expiry when the session has origins. */
#define RECORD_ORIGINS ",\"allowed_origins\":["
/* The member the create script appends when the session has a user. */
#define RECORD_GENERATION "\"generation\":"
/* What follows the flags in every record: the service's own id. */
#define RECORD_AFTER_FLAGS "\"session_id\":\""

struct json_object;
struct create_request;

/* Serializes a new, unused record; NULL on allocation failure.  Free
 * with free(). */
char *record_serialize(const char *session_id, time_t created, time_t expires,
                       const struct create_request *req);

/* Parses any JSON text that the scripts' general path accepts
 * (store/sessions.c): strict JSON, any writer's strings, numbers kept as
 * written, of duplicate keys the last one.  NULL otherwise. */
struct json_object *record_json_parse(const char *text, size_t len);

/* Parses a stored record, whoever wrote it, and checks its required
 * fields (session_id, created_at, expires_at, used, iframe_opened).  NULL
 * when it is corrupt. */
struct json_object *record_parse(const char *text, size_t len);

/* The 200 answer of validate-session in pieces of a record that the
 * service wrote and has just marked used, to send after {"valid":true,
 * and before a closing brace: the "used_at" member with its comma; then
 * session_id, created_at and expires_at; then the members the creator
 * gave (user_id, return_to, metadata, ..., each with its leading comma;
 * may be empty).  The service's own allowed_origins and generation are
 * left out. */
struct record_answer {
	const char *used_at;
	size_t used_at_len;
	const char *rest;
	size_t rest_len;
	const char *fields;
	size_t fields_len;
};

/* Finds the pieces by position, with no parsing: the hot path of
 * validate-session.  False when the head is not the one the service
 * writes. */
bool record_answer(const char *text, size_t len, struct record_answer *out);

/* The general path: the whole 200 answer of validate-session from any
 * record that record_parse() reads and that has been marked used (it has
 * used_at), with the same members in the same order as the fast path
 * (user_id, return_to and metadata when the record has them).  It starts
 * with RECORD_ANSWER_HEAD, which the handler replaces with its own head
 * (the embed token's members).  NULL when there is no such answer or no
 * memory.  Free with free(). */
#define RECORD_ANSWER_HEAD     "{\"valid\":true,"
#define RECORD_ANSWER_HEAD_LEN (sizeof(RECORD_ANSWER_HEAD) - 1)
char *record_answer_general(const char *text, size_t len);

#endif
