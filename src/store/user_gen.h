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
 * Lua: whether user_id's revoke-all generation has grown past generation,
 * the one its session was made in (a record with a user but none, made
 * before revoke-all existed or by another writer, counts as 0).  One GET.
 */
#define USER_GEN_LUA                                                        \
	"local function user_revoked(user_id, generation)\n"                \
	"  local g = redis.call('GET', '" USER_GEN_PREFIX "' .. user_id)\n" \
	"  return (tonumber(g) or 0) > (tonumber(generation) or 0)\n"       \
	"end\n"

#endif
