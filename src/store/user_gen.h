/* Revoke-all (§11): each user has a generation, auth_user_gen:<user_id>,
 * a counter that only grows, INCRed by a revoke-all.  Every session with
 * a user records the generation it was made in; the scripts that would
 * let a session in compare the two. */
#ifndef IFRAME_AUTH_STORE_USER_GEN_H
#define IFRAME_AUTH_STORE_USER_GEN_H

#include "../session/user_id.h"

#define USER_GEN_PREFIX  "auth_user_gen:"
#define USER_GEN_KEY_MAX (sizeof(USER_GEN_PREFIX) + USER_ID_MAX)

/*
 * Lua, for a script that holds the decoded record in r: returns 5 when
 * the record has a user whose generation has grown since the record was
 * made.  One GET.  A record with a user but no generation (made before
 * revoke-all existed, or by another writer) counts as generation 0.
 */
#define USER_GEN_CHECK_LUA                                                    \
	"if type(r.user_id) == 'string' then\n"                               \
	"  local g = redis.call('GET', '" USER_GEN_PREFIX "' .. r.user_id)\n" \
	"  if (tonumber(g) or 0) > (tonumber(r.generation) or 0) then\n"      \
	"    return 5\n"                                                      \
	"  end\n"                                                             \
	"end\n"

#endif
