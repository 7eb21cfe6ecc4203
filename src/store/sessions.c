#include "sessions.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "../clock.h"
#include "../log.h"
#include "../session/record.h"
#include "../session/session_id.h"
#include "batch.h"
#include "embed.h"
#include "script.h"
#include "user_gen.h"

#define KEY_PREFIX "auth_session:"
#define STATS_KEY  "auth_stats"
#define EXPIRY_KEY "auth_sessions_expiry"
#define COUNTS_KEY "auth_sessions_count"
/* An exact walk's tally: auth_sessions_walk:<its number>. */
#define TALLY_PREFIX "auth_sessions_walk:"
#define KEY_MAX      (sizeof(KEY_PREFIX) + SESSION_ID_LEN)
/* Keys each exact-walk batch visits: one batch holds Redis for about half
 * a millisecond, so that validations interleave with a walk and keep their
 * latency, while the walk pays a round trip per 200 keys only
 * (docs/PERFORMANCE.md has the measurements). */
#define COUNT_BATCH "200"

/*
 * Every script starts with a shebang (Redis 7): without flags Redis then
 * refuses a writing script as a whole while over maxmemory, where a
 * flagless script that has already written once may go on writing.  The
 * read-only ones say no-writes, so that they run under OOM too.
 */

/*
 * Records written by anyone (SPEC §4).  Every script that reads a record
 * tries the service's own layout first (record.h: the flags first, checked
 * by position), and otherwise takes the general path below: any JSON
 * object with the §4 fields, in any order and spacing.  A session key
 * holding another type (a writer's hash or list) is a corrupt record too:
 * the scripts GET it with redis.pcall, as a WRONGTYPE error would fail the
 * whole script into a 503, for validate, revoke and every listing page.
 *
 * cjson reads the record, but never writes it: cjson.encode reorders the
 * keys, turns [] into {}, escapes '/' and rewrites numbers, which would
 * damage fields other writers keep there.  An edit is textual instead, at
 * the value of one top-level member, located by record_members(): every
 * other byte of the record stays as it was.
 *
 * record_read() accepts less than cjson does, so that the service's C side
 * (record_parse(), json-c) can read everything a script has accepted and
 * answer for a session that a script has used up: no leading garbage, no
 * \u0000 (json-c cuts keys at it), and only JSON numbers (cjson also takes
 * hex, "+1", NaN and Infinity).  Anything else is a corrupt record.  Of
 * duplicate keys the last one counts, in cjson, record_members() and
 * json-c alike.
 */
#define RECORD_LUA                                                             \
	"-- Whether t is a number as JSON writes it.\n"                        \
	"local function strict_number(t)\n"                                    \
	"  local i = string.match(t, '^%-?0()') or string.match(t, "           \
	"'^%-?[1-9]%d*()')\n"                                                  \
	"  if not i then return false end\n"                                   \
	"  i = string.match(t, '^%.%d+()', i) or i\n"                          \
	"  i = string.match(t, '^[eE][%+%-]?%d+()', i) or i\n"                 \
	"  return i == #t + 1\n"                                               \
	"end\n"                                                                \
	"-- The record decoded, or nil when it is corrupt.\n"                  \
	"local function record_read(v)\n"                                      \
	"  -- \\u0000 as an escape: not when its backslash is itself "         \
	"escaped\n"                                                            \
	"  if not string.find(v, '^[ \\t\\r\\n]*{') or\n"                      \
	"     string.find((string.gsub(v, '\\\\\\\\', '')), '\\\\u0000', 1, "  \
	"true) then\n"                                                         \
	"    return nil\n"                                                     \
	"  end\n"                                                              \
	"  local ok, r = pcall(cjson.decode, v)\n"                             \
	"  if not ok or type(r.session_id) ~= 'string' or\n"                   \
	"     type(r.created_at) ~= 'string' or type(r.expires_at) ~= "        \
	"'string' or\n"                                                        \
	"     type(r.used) ~= 'boolean' or type(r.iframe_opened) ~= "          \
	"'boolean' then\n"                                                     \
	"    return nil\n"                                                     \
	"  end\n"                                                              \
	"  local bare = string.gsub(string.gsub(v, '\\\\.', ''), "             \
	"'\"[^\"]*\"', '\"\"')\n"                                              \
	"  for t in string.gmatch(bare, '[^ \\t\\r\\n{}%[%],:\"]+') do\n"      \
	"    if t ~= 'true' and t ~= 'false' and t ~= 'null' and not "         \
	"strict_number(t) then\n"                                              \
	"      return nil\n"                                                   \
	"    end\n"                                                            \
	"  end\n"                                                              \
	"  return r\n"                                                         \
	"end\n"                                                                \
	"-- The closing quote of the string that opens at i.\n"                \
	"local function string_end(v, i)\n"                                    \
	"  while true do\n"                                                    \
	"    i = string.find(v, '[\"\\\\]', i + 1)\n"                          \
	"    if string.byte(v, i) == 34 then return i end\n"                   \
	"    i = i + 1\n"                                                      \
	"  end\n"                                                              \
	"end\n"                                                                \
	"-- The last byte of the value that begins at i.\n"                    \
	"local function value_end(v, i)\n"                                     \
	"  local c = string.byte(v, i)\n"                                      \
	"  if c == 34 then return string_end(v, i) end\n"                      \
	"  if c ~= 123 and c ~= 91 then return string.find(v, '[ "             \
	"\\t\\r\\n,}]', i) - 1 end\n"                                          \
	"  local depth = 0\n"                                                  \
	"  while true do\n"                                                    \
	"    i = string.find(v, '[\"{}%[%]]', i)\n"                            \
	"    c = string.byte(v, i)\n"                                          \
	"    if c == 34 then\n"                                                \
	"      i = string_end(v, i)\n"                                         \
	"    elseif c == 123 or c == 91 then\n"                                \
	"      depth = depth + 1\n"                                            \
	"    else\n"                                                           \
	"      depth = depth - 1\n"                                            \
	"      if depth == 0 then return i end\n"                              \
	"    end\n"                                                            \
	"    i = i + 1\n"                                                      \
	"  end\n"                                                              \
	"end\n"                                                                \
	"-- Top-level key -> {first, last byte of its value}, of a record "    \
	"that\n"                                                               \
	"-- record_read() accepted.\n"                                         \
	"local function record_members(v)\n"                                   \
	"  local out, i = {}, string.find(v, '{', 1, true) + 1\n"              \
	"  while true do\n"                                                    \
	"    local k = string.find(v, '\"', i, true)\n"                        \
	"    if not k then return out end\n"                                   \
	"    local e = string_end(v, k)\n"                                     \
	"    local key = string.sub(v, k + 1, e - 1)\n"                        \
	"    if string.find(key, '\\\\', 1, true) then key = "                 \
	"cjson.decode('\"' .. key .. '\"') end\n"                              \
	"    local s = string.find(v, '[^ \\t\\r\\n:]', e + 1)\n"              \
	"    e = value_end(v, s)\n"                                            \
	"    out[key] = {s, e}\n"                                              \
	"    i = e + 1\n"                                                      \
	"  end\n"                                                              \
	"end\n"                                                                \
	"-- v with the bytes at (from record_members()) replaced by text.\n"   \
	"local function splice(v, at, text)\n"                                 \
	"  return string.sub(v, 1, at[1] - 1) .. text .. string.sub(v, at[2] " \
	"+ 1)\n"                                                               \
	"end\n"                                                                \
	"-- Where \"iframe_opened\" begins in a record of the service's own\n" \
	"-- layout (record.h); nil for any other.\n"                           \
	"local function own_flags(v)\n"                                        \
	"  local i = string.match(v, '^{\"used\":false,()') or\n"              \
	"            string.match(v, "                                         \
	"'^{\"used\":true,\"used_at\":\"[^\"\\\\]*\",()')\n"                   \
	"  if i and string.find(v, "                                           \
	"'^\"iframe_opened\":%a+,\"session_id\":\"', i) then\n"                \
	"    return i\n"                                                       \
	"  end\n"                                                              \
	"end\n"

/*
 * The counts (SPEC §4): live and used sessions, kept by the scripts that
 * create, validate and revoke, and retired with expiry, so that status
 * reads them in one round trip and the MAX_SESSIONS check costs O(log N)
 * and no memory per session.
 *
 * Sessions are counted by the second they expire in.  The hash
 * auth_sessions_count holds "live" and "used" (the totals), "next" (the
 * earliest instant in the expiry set) and, per expiry second (named by the
 * expires_at text of its sessions), how many sessions end then ("<sec>")
 * and how many of those are used ("used:<sec>"); the sorted set
 * auth_sessions_expiry scores each second with the instant its last key
 * expires, in seconds with milliseconds, on Redis's clock (TIME inside the
 * script).  Every create is counted, whatever the cap, so that turning the
 * cap on or revoking never miscounts.  retire() subtracts the seconds whose
 * keys have all expired once "next" says some have, at most 4 000 at a
 * time (a quiet day can leave tens of thousands; until they are all
 * retired the counts err high): O(1) commands per call, plus O(log N) per
 * retired second.  Create and status both retire, so status is exact for
 * every expiry.
 *
 * Retiring on time: Redis expires a key once its clock in milliseconds is
 * past the key's "when" (now > when), where SETEX set when to mstime() +
 * ttl, mstime() being TIME rounded down to the millisecond.  The score is
 * TIME read after the call's SETEXs, rounded down the same way, plus the
 * ttl: never before the key's when, and microseconds after it.  A second
 * is retired when TIME is past its score, so as soon as Redis has expired
 * its keys.
 * (A whole-second score from an older version retires within that second.)
 *
 * Only records in the service's own layout are counted: a create counts
 * its own, validate and revoke adjust the second of an own record when
 * that second is still counted, and the exact walk counts those it sees.
 * Records of other writers are counted by the exact walk's answer only.
 *
 * Healing: counts whose expiry set was lost (eviction, DEL) can never be
 * retired, so "live" would never come down.  Every counted session has its
 * second in the set, so an empty set with "live" not 0 means that: retire()
 * resets the hash (keeping "walks" and "walking_until").  The sessions still
 * live then are counted again by the next exact walk.
 *
 * The exact walk (walk_begin_lua, walk_batch_lua, reconcile_lua) sets each
 * second's counts to what it saw, unless something could have changed them
 * behind the walk's back: SCAN may or may not return a key created or
 * deleted while it runs.  A walk takes a number ("walks") and holds a lease
 * ("walking_until", ms); while a lease is held, every create, validate and
 * revoke stamps the second it changes with the latest walk number
 * ("touched:<sec>").  At its end a walk corrects only the seconds that no
 * write touched since it began and whose keys are all at least 2 s from
 * expiring (none of them expired during the walk): a concurrent create,
 * validate or revoke is never undone.  The seconds it leaves alone are
 * corrected by a later walk or retire on time.
 */
/* The own layout from its flags to the second it expires in (captured):
 * one literal, so that a call pays nothing to build the patterns. */
#define OWN_TAIL                                                   \
	"\"iframe_opened\":(%a+),\"session_id\":(\"[^\"\\\\]*\")," \
	"\"created_at\":\"[^\"\\\\]*\",\"expires_at\":\""          \
	"(%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ)\"()"
#define COUNTS_LUA                                                            \
	"local function now_ms()\n"                                           \
	"  local t = redis.call('TIME')\n"                                    \
	"  return t[1] * 1000 + math.floor(t[2] / 1000)\n"                    \
	"end\n"                                                               \
	"local function score(ms)\n"                                          \
	"  return string.format('%d.%03d', math.floor(ms / 1000), ms % "      \
	"1000)\n"                                                             \
	"end\n"                                                               \
	"-- Heals lost counts and retires the seconds Redis has expired.\n"   \
	"-- Returns live, used, next (nil when the set is empty).\n"          \
	"local function retire(zset, counts)\n"                               \
	"  local c = redis.call('HMGET', counts, 'live', 'used', 'next', "    \
	"'walks', 'walking_until')\n"                                         \
	"  local live, used = tonumber(c[1]) or 0, tonumber(c[2]) or 0\n"     \
	"  local nxt = tonumber(c[3])\n"                                      \
	"  if (live ~= 0 or used ~= 0) and redis.call('EXISTS', zset) == 0 "  \
	"then\n"                                                              \
	"    redis.call('DEL', counts)\n"                                     \
	"    if c[4] then redis.call('HSET', counts, 'walks', c[4]) end\n"    \
	"    if c[5] then redis.call('HSET', counts, 'walking_until', c[5]) " \
	"end\n"                                                               \
	"    live, used, nxt = 0, 0, nil\n"                                   \
	"  end\n"                                                             \
	"  local now = score(now_ms())\n"                                     \
	"  if not nxt or nxt >= tonumber(now) then return live, used, nxt "   \
	"end\n"                                                               \
	"  for _ = 1, 4 do\n"                                                 \
	"    local gone = redis.call('ZRANGEBYSCORE', zset, '-inf', '(' .. "  \
	"now,\n"                                                              \
	"                            'LIMIT', 0, 1000)\n"                     \
	"    if #gone == 0 then break end\n"                                  \
	"    local fields = {}\n"                                             \
	"    for i, s in ipairs(gone) do\n"                                   \
	"      fields[i] = s\n"                                               \
	"      fields[#gone + i] = 'used:' .. s\n"                            \
	"    end\n"                                                           \
	"    local n = redis.call('HMGET', counts, unpack(fields))\n"         \
	"    for i = 1, #gone do\n"                                           \
	"      live = live - (tonumber(n[i]) or 0)\n"                         \
	"      used = used - (tonumber(n[#gone + i]) or 0)\n"                 \
	"      fields[2 * #gone + i] = 'touched:' .. gone[i]\n"               \
	"    end\n"                                                           \
	"    redis.call('HDEL', counts, unpack(fields))\n"                    \
	"    redis.call('ZREM', zset, unpack(gone))\n"                        \
	"    if #gone < 1000 then break end\n"                                \
	"  end\n"                                                             \
	"  redis.call('HSET', counts, 'live', live, 'used', used)\n"          \
	"  nxt = tonumber(redis.call('ZRANGE', zset, 0, 0, "                  \
	"'WITHSCORES')[2])\n"                                                 \
	"  if nxt then redis.call('HSET', counts, 'next', nxt)\n"             \
	"  else redis.call('HDEL', counts, 'next') end\n"                     \
	"  return live, used, nxt\n"                                          \
	"end\n"
/* The counting of changes, for the scripts that write. */
#define COUNT_CHANGES_LUA                                                      \
	"-- Counts changes of seconds' sessions (changes[sec] = {dlive,\n"     \
	"-- dused}), of the seconds still counted, and stamps them while a\n"  \
	"-- walk runs.\n"                                                      \
	"local function count_changes(counts, changes, now)\n"                 \
	"  local fields, secs = {'walking_until', 'walks'}, {}\n"              \
	"  for sec in pairs(changes) do\n"                                     \
	"    secs[#secs + 1] = sec\n"                                          \
	"    fields[#fields + 1] = sec\n"                                      \
	"  end\n"                                                              \
	"  if #secs == 0 then return end\n"                                    \
	"  local c = redis.call('HMGET', counts, unpack(fields))\n"            \
	"  local walking = (tonumber(c[1]) or 0) > now\n"                      \
	"  local live, used = 0, 0\n"                                          \
	"  for i, sec in ipairs(secs) do\n"                                    \
	"    if c[i + 2] then\n"                                               \
	"      local d = changes[sec]\n"                                       \
	"      if d[1] ~= 0 then redis.call('HINCRBY', counts, sec, d[1]) "    \
	"end\n"                                                                \
	"      if d[2] ~= 0 then\n"                                            \
	"        redis.call('HINCRBY', counts, 'used:' .. sec, d[2])\n"        \
	"      end\n"                                                          \
	"      live, used = live + d[1], used + d[2]\n"                        \
	"      if walking then\n"                                              \
	"        redis.call('HSET', counts, 'touched:' .. sec, c[2])\n"        \
	"      end\n"                                                          \
	"    end\n"                                                            \
	"  end\n"                                                              \
	"  if live ~= 0 then redis.call('HINCRBY', counts, 'live', live) "     \
	"end\n"                                                                \
	"  if used ~= 0 then redis.call('HINCRBY', counts, 'used', used) "     \
	"end\n"                                                                \
	"end\n"                                                                \
	"local function count_change(counts, sec, dlive, dused, now)\n"        \
	"  count_changes(counts, {[sec] = {dlive, dused}}, now)\n"             \
	"end\n"                                                                \
	"-- The service's own layout up to its expiry second, one constant\n"  \
	"-- pattern each: iframe_opened, the session id (JSON text), the\n"    \
	"-- second and where the members after it begin.  A record that "      \
	"does\n"                                                               \
	"-- not match, or whose expires_at is no second, goes the general\n"   \
	"-- way and is not counted.\n"                                         \
	"local own_unused = '^" RECORD_HEAD_UNUSED OWN_TAIL "'\n"              \
	"local own_used = '^" RECORD_HEAD_USED                                 \
	"\"used_at\":\"[^\"\\\\]*\"," OWN_TAIL "'\n"                           \
	"-- The expiry second of a record in the own layout, and whether it\n" \
	"-- is used; nil for any other record.\n"                              \
	"local function own_second(v)\n"                                       \
	"  local _, _, sec = string.match(v, own_unused)\n"                    \
	"  if sec then return sec, false end\n"                                \
	"  _, _, sec = string.match(v, own_used)\n"                            \
	"  if sec then return sec, true end\n"                                 \
	"end\n"

/* Creations of one event-loop turn, in one call (batch.h).  KEYS: stats,
 * expiry set, counts, then the session of each.  ARGV, five for each:
 * record, ttl, cap, expires_at, and the key of the user's revoke-all
 * generation ("" when the session has no user).  Answers one element for
 * each, in order: 1: written, 0: over the cap, or an error of its own.  A
 * session with a user records the user's generation (0 before the first),
 * appended to the record, so that validate and verify can tell whether a
 * revoke-all came after it.  The expired seconds are retired, the clock
 * read and the expiry set and counters updated once for the call. */
static const char create_shebang[] = "#!lua\n";
static const char create_lua[] =
    "local function create_one(key, a, made)\n"
    "  local cap = tonumber(ARGV[a + 3])\n"
    "  if cap > 0 and made.live >= cap then return 0 end\n"
    "  local record = ARGV[a + 1]\n"
    "  if ARGV[a + 5] ~= '' then\n"
    "    local g = redis.call('GET', ARGV[a + 5])\n"
    "    if not g or not string.match(g, '^%d+$') then g = '0' end\n"
    "    record = string.sub(record, 1, -2) .. '," RECORD_GENERATION "' .. g "
    ".. '}'\n"
    "  end\n"
    "  redis.call('SETEX', key, ARGV[a + 2], record)\n"
    "  local sec, ttl = ARGV[a + 4], tonumber(ARGV[a + 2])\n"
    "  made.ttl[sec] = math.max(made.ttl[sec] or 0, ttl)\n"
    "  made.changes[sec] = {(made.changes[sec] or {0})[1] + 1, 0}\n"
    "  made.live, made.count = made.live + 1, made.count + 1\n"
    "  return 1\n"
    "end\n"
    "local live, _, nxt = retire(KEYS[2], KEYS[3])\n"
    "local made = {live = live, count = 0, ttl = {}, changes = {}}\n"
    "local out = each_request(#KEYS - 3, function(i)\n"
    "  return create_one(KEYS[3 + i], 5 * (i - 1), made)\n"
    "end)\n"
    "if made.count == 0 then return out end\n"
    "-- Counted with the sessions, unguarded: a broken counter fails the\n"
    "-- creations, as it would each alone, rather than let MAX_SESSIONS go\n"
    "-- uncounted.  The clock is read after the writes, so that no key\n"
    "-- outlives its second's score.\n"
    "local now = now_ms()\n"
    "local zadd, first = {}, nil\n"
    "for sec, ttl in pairs(made.ttl) do\n"
    "  local at = now + ttl * 1000\n"
    "  zadd[#zadd + 1] = score(at)\n"
    "  zadd[#zadd + 1] = sec\n"
    "  redis.call('HSETNX', KEYS[3], sec, 0)\n"
    "  first = math.min(first or at, at)\n"
    "end\n"
    "redis.call('ZADD', KEYS[2], 'GT', unpack(zadd))\n"
    "count_changes(KEYS[3], made.changes, now)\n"
    "if not nxt or tonumber(score(first)) < nxt then\n"
    "  redis.call('HSET', KEYS[3], 'next', score(first))\n"
    "end\n"
    "redis.call('HINCRBY', KEYS[1], 'total_created', made.count)\n"
    "return out\n";

/* Validations of one event-loop turn, in one call (batch.h).  KEYS:
 * stats, counts, then for each validation its session and its embed
 * session.  ARGV, six for each: used_at, not_after (ms on Redis's clock),
 * then the embed session's (below), then parent_origin (canonical, or "").
 * Answers one element for each: 0: not found, 2: already used, 3: too
 * late, 4: a corrupt record, 5: revoked, 6: origin mismatch, an error of
 * its own, otherwise the updated record.  A command that reaches Redis
 * after the service has given up on it (a frozen Redis that wakes up) must
 * not use the session up behind the 503 the client already has; nor may a
 * record be used up that the service could not answer from.  The service's
 * own layout is read by one pattern and marked by position; any other
 * goes the general way.  Either way the new record nv is written in one
 * place, below.  The clock, the records and the counters are read and
 * written once for the call: each costs about as much as a whole
 * validation's own work (docs/PERFORMANCE.md). */
static const char validate_shebang[] = "#!lua\n";
static const char validate_one_lua[] =
    "local function validate_one(key, ekey, v, a, now, done)\n"
    "  if now > tonumber(ARGV[a + 2]) then return 3 end\n"
    "  -- MGET reads a key of another type as none.\n"
    "  if not v then return redis.call('EXISTS', key) == 1 and 4 or 0 end\n"
    "  local used, unused = '" RECORD_HEAD_USED "', '" RECORD_HEAD_UNUSED "'\n"
    "  local opened, sid, sec, after = string.match(v, own_unused)\n"
    "  local nv, tail, gen, r, uid, origins\n"
    "  if (opened == 'true' or opened == 'false') and\n"
    "     string.byte(v, -1) == 125 then\n"
    "    -- The fast path: the service's own layout, read by the one match\n"
    "    -- above.\n"
    "    nv = used .. '" RECORD_USED_AT "' .. ARGV[a + 1] .. '\",' ..\n"
    "         string.sub(v, #unused + 1)\n"
    "    tail = string.sub(v, after, -2)\n"
    "    -- After the expiry: allowed_origins, user_id, ..., generation last\n"
    "    -- when there is a user (record.h).  A user_id with escapes, or one\n"
    "    -- not where the service puts it, is decoded.\n"
    "    if tail ~= '' then\n"
    "      gen = string.match(tail, '," RECORD_GENERATION "(%d+)$')\n"
    "      if gen then tail = string.sub(tail, 1, -#gen - 15) end\n"
    "      local list, at = string.match(tail, "
    "'^,\"allowed_origins\":(%b[])()')\n"
    "      if list then\n"
    "        origins = {}\n"
    "        for o in string.gmatch(list, '\"([^\"]*)\"') do\n"
    "          origins[#origins + 1] = o\n"
    "        end\n"
    "      end\n"
    "      uid = string.match(tail, '^,\"user_id\":\"([^\"\\\\]*)\"', at or "
    "1)\n"
    "      if not uid and string.find(tail, '\"user_id\"', 1, true) then\n"
    "        r = record_read(v)\n"
    "        if not r then return 4 end\n"
    "        uid = r.user_id\n"
    "      end\n"
    "    end\n"
    "  elseif string.sub(v, 1, #used) == used then\n"
    "    return 2\n"
    "  else\n"
    "    -- The general path: any writer's record, edited member by member.\n"
    "    r = record_read(v)\n"
    "    if not r then return 4 end\n"
    "    if r.used then return 2 end\n"
    "    uid, gen, origins = r.user_id, r.generation, r.allowed_origins\n"
    "    local m = record_members(v)\n"
    "    local at = '\"' .. ARGV[a + 1] .. '\"'\n"
    "    if not m.used_at then\n"
    "      nv = splice(v, m.used, 'true,\"used_at\":' .. at)\n"
    "    elseif m.used_at[1] > m.used[1] then\n"
    "      nv = splice(splice(v, m.used_at, at), m.used, 'true')\n"
    "    else\n"
    "      nv = splice(splice(v, m.used, 'true'), m.used_at, at)\n"
    "    end\n"
    "    sid = string.sub(v, m.session_id[1], m.session_id[2])\n"
    "    tail = ''\n"
    "    for _, k in ipairs({'allowed_origins', 'user_id', 'return_to',\n"
    "                        'metadata'}) do\n"
    "      local span = m[k]\n"
    "      if span and (type(r[k]) == 'string' or\n"
    "                   (k == 'metadata' and string.byte(v, span[1]) == 123) "
    "or\n"
    "                   (k == 'allowed_origins' and string.byte(v, span[1]) "
    "== 91))\n"
    "      then\n"
    "        tail = tail .. ',\"' .. k .. '\":' .. string.sub(v, span[1], "
    "span[2])\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  gen = string.format('%d', tonumber(gen) or 0)\n"
    "  -- Bound to its user and its sites (§11): neither uses it up.\n"
    "  if type(uid) == 'string' and user_revoked(uid, gen) then return 5 end\n"
    "  if type(origins) == 'table' then\n"
    "    local bound = false\n"
    "    for _, o in ipairs(origins) do\n"
    "      if o == ARGV[a + 6] then bound = true end\n"
    "    end\n"
    "    if not bound then return 6 end\n"
    "  end\n"
    /* The embed session (§11), opened before the session is marked, so
     * that nothing is used up without one.  ekey is auth_embed:<hash>;
     * ARGV[a + 3] its absolute end (s), ARGV[a + 4] the same as text,
     * ARGV[a + 5] the idle timeout (s).  It takes the session's id (sid, JSON
     * text), its user's generation (gen) and tail: every field after the own
     * layout's expires_at (allowed_origins, user_id, return_to, metadata, ...),
     * or, of any other record, user_id and return_to when strings,
     * allowed_origins when an array and metadata when an object, their text
     * as the record has it.  The expiry is an absolute time: a relative
     * one counts from when SET runs, after TIME, and could reach past the
     * absolute end. */
    "  local e_end = ARGV[a + 3]\n"
    "  redis.call('SET', ekey, '" EMBED_RECORD_HEAD "' .. e_end ..\n"
    "    ',\"session_id\":' .. sid .. ',\"created_at\":\"' .. ARGV[a + 1] ..\n"
    "    '\",\"expires_at\":\"' .. ARGV[a + 4] .. '\",\"generation\":' ..\n"
    "    gen .. tail .. '}', 'PXAT',\n"
    "    math.max(now + 1, math.min(now + ARGV[a + 5] * 1000, e_end * 1000)))\n"
    "  -- The one place where a session is marked used.\n"
    "  redis.call('SET', key, nv, 'KEEPTTL')\n"
    "  done.records[key] = nv\n"
    "  done.total = done.total + 1\n"
    "  if sec then\n"
    "    local d = done.used[sec] or {0, 0}\n"
    "    d[2] = d[2] + 1\n"
    "    done.used[sec] = d\n"
    "  end\n"
    "  return nv\n"
    "end\n";
static const char validate_lua[] =
    "local n = (#KEYS - 2) / 2\n"
    "local keys = {}\n"
    "for i = 1, n do keys[i] = KEYS[1 + 2 * i] end\n"
    "local values = redis.call('MGET', unpack(keys))\n"
    "local done = {records = {}, total = 0, used = {}}\n"
    "-- Redis's clock is read again once the validations since the last\n"
    "-- read come to 8 KiB of records (each counted 256 bytes more for its\n"
    "-- own writes): well under a millisecond of work, so that each one is\n"
    "-- held to its deadline at about the time it runs, however long the\n"
    "-- call.\n"
    "local now, work = now_ms(), 0\n"
    "local out = each_request(n, function(i)\n"
    "  if work >= 8192 then now, work = now_ms(), 0 end\n"
    "  -- A session met twice in one call is read as the first left it.\n"
    "  local v = done.records[keys[i]] or values[i]\n"
    "  work = work + (v and #v or 0) + 256\n"
    "  return validate_one(keys[i], KEYS[2 + 2 * i], v, 6 * (i - 1), now,\n"
    "                      done)\n"
    "end)\n"
    "-- The counters of validations already made: one that is broken (a\n"
    "-- field that is no integer) must not turn them into errors.\n"
    "local ok, err = pcall(function()\n"
    "  if done.total > 0 then\n"
    "    redis.call('HINCRBY', KEYS[1], 'total_used', done.total)\n"
    "  end\n"
    "  count_changes(KEYS[2], done.used, now)\n"
    "end)\n"
    "if not ok then\n"
    "  redis.log(redis.LOG_WARNING, 'iframe-auth: counters not updated: ' ..\n"
    "            tostring(type(err) == 'table' and err.err or err))\n"
    "end\n"
    "return out\n";

/* KEYS: session.  ARGV: "1" to set iframe_opened, "0" to only read.
 * Answers the session's allowed_origins as a JSON array, "" when it has
 * none, 0 when there is no readable session.  allowed_origins is read as
 * a member of the record itself, never of its metadata. */
static const char open_shebang[] = "#!lua\n";
static const char open_lua[] =
    "local v = redis.pcall('GET', KEYS[1])\n"
    "if type(v) ~= 'string' then return 0 end\n"
    "local i, nv, r = own_flags(v), nil, nil\n"
    "if i then\n"
    "  if string.sub(v, i, i + 21) == '\"iframe_opened\":false,' then\n"
    "    nv = string.sub(v, 1, i + 15) .. 'true' .. string.sub(v, i + 21)\n"
    "  end\n"
    "  if string.find(v, '\"allowed_origins\"', 1, true) then\n"
    "    r = record_read(v)\n"
    "  end\n"
    "else\n"
    "  r = record_read(v)\n"
    "  if not r then return 0 end\n"
    "  if not r.iframe_opened then\n"
    "    nv = splice(v, record_members(v).iframe_opened, 'true')\n"
    "  end\n"
    "end\n"
    "if nv and ARGV[1] == '1' then redis.call('SET', KEYS[1], nv, 'KEEPTTL') "
    "end\n"
    "if not r or type(r.allowed_origins) ~= 'table' then return '' end\n"
    "return cjson.encode(r.allowed_origins)\n";

/* KEYS: session, counts.  Deleting frees memory, so it may run under
 * OOM.  Only a record in the service's own layout was counted, so only its
 * second is uncounted (own_second(): its own top-level expires_at, never
 * one inside metadata), if that second is still counted: a foreign record
 * expiring in the same second as some of the service's own would
 * otherwise take one of theirs off "live".  The second stays, at 0 if need
 * be, until it retires: a walk running now must see its stamp. */
static const char revoke_shebang[] = "#!lua flags=allow-oom\n";
static const char revoke_lua[] =
    "local v = redis.pcall('GET', KEYS[1])\n"
    "if not v then return 0 end\n"
    "redis.call('DEL', KEYS[1])\n"
    "if type(v) ~= 'string' then return 1 end\n"
    "local sec, used = own_second(v)\n"
    "if sec then\n"
    "  count_change(KEYS[2], sec, -1, used and -1 or 0, now_ms())\n"
    "end\n"
    "return 1\n";

/* ARGV: cursor, count.  {next cursor, record, ttl, record, ttl, ...} */
static const char list_lua[] =
    "#!lua flags=no-writes\n"
    "local r = redis.call('SCAN', ARGV[1], 'MATCH', 'auth_session:*', "
    "'COUNT', ARGV[2])\n"
    "local out = {r[1]}\n"
    "for _, k in ipairs(r[2]) do\n"
    "  local v = redis.pcall('GET', k)\n"
    "  if type(v) == 'string' then\n"
    "    out[#out + 1] = v\n"
    "    out[#out + 1] = redis.call('TTL', k)\n"
    "  end\n"
    "end\n"
    "return out\n";

/* KEYS: stats, expiry set, counts.  {live, used, total_created,
 * total_used}: status in one round trip.  Retiring only frees memory, so
 * it may run under OOM. */
static const char status_shebang[] = "#!lua flags=allow-oom\n";
static const char status_lua[] =
    "local live, used = retire(KEYS[2], KEYS[3])\n"
    "local s = redis.call('HMGET', KEYS[1], 'total_created', 'total_used')\n"
    "return {live, used, tonumber(s[1]) or 0, tonumber(s[2]) or 0}\n";

/* How long a walk holds its lease past its last batch, in ms: far longer
 * than a batch takes, short enough that a walk whose service died stops
 * costing the writers their stamps soon. */
#define WALK_LEASE_MS "30000"

/* KEYS: counts.  ARGV: lease (ms).  Begins an exact walk: its number. */
static const char walk_begin_shebang[] = "#!lua flags=allow-oom\n";
static const char walk_begin_lua[] =
    "local until_ms = now_ms() + tonumber(ARGV[1])\n"
    "local walk = redis.call('HINCRBY', KEYS[1], 'walks', 1)\n"
    "if (tonumber(redis.call('HGET', KEYS[1], 'walking_until')) or 0) < "
    "until_ms then\n"
    "  redis.call('HSET', KEYS[1], 'walking_until', until_ms)\n"
    "end\n"
    "return walk\n";

/* KEYS: counts, the walk's tally.  ARGV: cursor, count, lease (ms).
 * {next cursor, live, used} for one batch, of every record; the tally
 * adds, per expiry second, the records in the own layout ("<sec>") and
 * the used ones ("used:<sec>").  The used flag of the own layout is the
 * byte after {"used": ('t' is 116, record.h), to keep the batch cheap. */
static const char walk_batch_shebang[] = "#!lua flags=allow-oom\n";
static const char walk_batch_lua[] =
    "local r = redis.call('SCAN', ARGV[1], 'MATCH', 'auth_session:*', "
    "'COUNT',\n"
    "                     ARGV[2])\n"
    "local total, used, seen = 0, 0, {}\n"
    "if #r[2] > 0 then\n"
    "  for _, v in ipairs(redis.call('MGET', unpack(r[2]))) do\n"
    "    if v then\n"
    "      total = total + 1\n"
    "      local sec, u = own_second(v)\n"
    "      if sec then\n"
    "        seen[sec] = (seen[sec] or 0) + 1\n"
    "        if u then\n"
    "          used = used + 1\n"
    "          seen['used:' .. sec] = (seen['used:' .. sec] or 0) + 1\n"
    "        end\n"
    "      elseif own_flags(v) then\n"
    "        if string.byte(v, 9) == 116 then used = used + 1 end\n"
    "      else\n"
    "        local rec = record_read(v)\n"
    "        if rec and rec.used then used = used + 1 end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "for f, n in pairs(seen) do redis.call('HINCRBY', KEYS[2], f, n) end\n"
    "-- The lease and the tally's TTL, renewed at half-life.\n"
    "local lease, now = tonumber(ARGV[3]), now_ms()\n"
    "if ARGV[1] == '0' or (tonumber(redis.call('HGET', KEYS[1], "
    "'walking_until'))\n"
    "                      or 0) < now + lease / 2 then\n"
    "  redis.call('HSET', KEYS[1], 'walking_until', now + lease)\n"
    "  redis.call('PEXPIRE', KEYS[2], lease)\n"
    "end\n"
    "return {r[1], total, used}\n";

/*
 * KEYS: stats, expiry set, counts, the walk's tally.  ARGV: the walk's
 * number.  {total_created, total_used}.
 *
 * Ends a walk: sets the counts of every second the walk may correct (see
 * "The exact walk" above) to the tally's, and "live" and "used" by the
 * same differences; a second that had no count gets one, scored 2 s after
 * its expires_at (its keys are gone by then; the count errs high for that
 * long).  Nothing is corrected when the lease ran out (a batch held up
 * 30 s, or the counts were reset meanwhile).  The seconds are parsed on
 * the proleptic Gregorian calendar (days_from_civil).
 */
static const char reconcile_shebang[] = "#!lua flags=allow-oom\n";
static const char reconcile_lua[] =
    "local function epoch(sec)\n"
    "  local y, mo, d, h, mi, s = string.match(sec,\n"
    "    '^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)Z$')\n"
    "  if not y then return nil end\n"
    "  y, mo = tonumber(y), tonumber(mo)\n"
    "  if mo <= 2 then y = y - 1 end\n"
    "  local era = math.floor(y / 400)\n"
    "  local yoe = y - era * 400\n"
    "  local doy = math.floor((153 * ((mo + 9) % 12) + 2) / 5) + d - 1\n"
    "  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) "
    "+ doy\n"
    "  return (era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + "
    "s\n"
    "end\n"
    "local live, used, nxt = retire(KEYS[2], KEYS[3])\n"
    "local now = now_ms()\n"
    "local walk = tonumber(ARGV[1])\n"
    "if (tonumber(redis.call('HGET', KEYS[3], 'walking_until')) or 0) > now "
    "then\n"
    "  local seen, secs = {}, {}\n"
    "  local t = redis.call('HGETALL', KEYS[4])\n"
    "  for i = 1, #t, 2 do\n"
    "    seen[t[i]] = tonumber(t[i + 1])\n"
    "    if string.sub(t[i], 1, 5) ~= 'used:' then secs[t[i]] = true end\n"
    "  end\n"
    "  for _, s in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do\n"
    "    secs[s] = true\n"
    "  end\n"
    "  for sec in pairs(secs) do\n"
    "    local e = epoch(sec)\n"
    "    local c = redis.call('HMGET', KEYS[3], sec, 'used:' .. sec,\n"
    "                         'touched:' .. sec)\n"
    "    if e and e * 1000 > now + 2000 and (tonumber(c[3]) or 0) < walk "
    "then\n"
    "      local n, u = seen[sec] or 0, seen['used:' .. sec] or 0\n"
    "      live = live + n - (tonumber(c[1]) or 0)\n"
    "      used = used + u - (tonumber(c[2]) or 0)\n"
    "      if n == 0 then\n"
    "        redis.call('HDEL', KEYS[3], sec, 'used:' .. sec, 'touched:' .. "
    "sec)\n"
    "        redis.call('ZREM', KEYS[2], sec)\n"
    "      else\n"
    "        redis.call('HSET', KEYS[3], sec, n, 'used:' .. sec, u)\n"
    "        if redis.call('ZADD', KEYS[2], 'NX', e + 2, sec) == 1 and\n"
    "           (not nxt or e + 2 < nxt) then\n"
    "          nxt = e + 2\n"
    "          redis.call('HSET', KEYS[3], 'next', nxt)\n"
    "        end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  redis.call('HSET', KEYS[3], 'live', live, 'used', used)\n"
    "end\n"
    "redis.call('DEL', KEYS[4])\n"
    "local s = redis.call('HMGET', KEYS[1], 'total_created', 'total_used')\n"
    "return {tonumber(s[1]) or 0, tonumber(s[2]) or 0}\n";

struct waiter {
	session_counts_fn fn;
	void *arg;
};

/* The exact walk in progress, shared by every status request during it. */
struct count_walk {
	struct session_store *store;
	char number[24];                       /* walk_begin_lua's */
	char tally[sizeof(TALLY_PREFIX) + 24]; /* its tally's key */
	char cursor[24];
	struct session_counts counts;
	struct waiter *waiters;
	size_t nwaiters, cap;
};

/* The scripts built from RECORD_LUA and COUNTS_LUA (compose()). */
enum { COMPOSED_SCRIPTS = 8 };

struct session_store {
	struct redis_link *link;
	int timeout_ms;
	int min_replicas;              /* REDIS_MIN_REPLICAS */
	int64_t redis_clock_offset_ms; /* Redis's clock minus our monotonic */
	bool measuring;                /* a TIME is on its way, */
	int64_t measure_sent_ms;       /* sent then (monotonic) */
	struct script create, validate, open, revoke, list, status, walk_begin,
	    walk_batch, reconcile;
	char *sources[COMPOSED_SCRIPTS]; /* compose()'s, freed at the end */
	size_t nsources;
	struct batch *creations, *validations;
	struct count_walk *walk;
	unsigned marks_in_flight; /* iframe_opened marks waiting on Redis */
	uint64_t marks_dropped;
};

static void
session_key(char out[KEY_MAX], const char *id)
{
	snprintf(out, KEY_MAX, KEY_PREFIX "%s", id);
}

static void
user_gen_key(char out[USER_GEN_KEY_MAX], const char *user_id)
{
	snprintf(out, USER_GEN_KEY_MAX, USER_GEN_PREFIX "%s", user_id);
}

static int64_t
monotonic_ms(void)
{
	return (int64_t)(clock_monotonic_us() / 1000);
}

/* Now on Redis's clock, as far as the service can tell: within a round
 * trip of the last TIME, and immune to steps of the local clock. */
static int64_t
redis_clock_ms(const struct session_store *store)
{
	return monotonic_ms() + store->redis_clock_offset_ms;
}

time_t
session_store_now(const struct session_store *store)
{
	return (time_t)(redis_clock_ms(store) / 1000);
}

/*
 * TIME on every (re)connect, and again after a late validation (the
 * clocks may have stepped): how far Redis's clock is from ours.  Redis
 * read its clock between our sending TIME and our reading the answer;
 * reckoning from the sending errs towards a later deadline by the time
 * Redis took to get to it (normally microseconds), where reckoning from
 * the reading would err towards refusing validations by however long the
 * service took to read the answer (a busy or slow service: seconds).
 */
static void
take_redis_time(struct session_store *store, const redisReply *reply,
                int64_t sent_ms)
{
	if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[1]->type != REDIS_REPLY_STRING)
		return;
	store->redis_clock_offset_ms =
	    strtoll(reply->element[0]->str, NULL, 10) * 1000 +
	    strtoll(reply->element[1]->str, NULL, 10) / 1000 - sent_ms;
}

static void
on_handshake_time(void *arg, const redisReply *reply)
{
	struct session_store *store = arg;

	take_redis_time(
	    store, reply,
	    (int64_t)(redis_link_handshake_sent_us(store->link) / 1000));
}

static void
on_time_measured(void *arg, enum redis_outcome outcome, const redisReply *reply)
{
	struct session_store *store = arg;

	store->measuring = false;
	if (outcome == REDIS_REPLIED)
		take_redis_time(store, reply, store->measure_sent_ms);
}

static void
measure_clock(struct session_store *store)
{
	const char *argv[] = {"TIME"};

	if (store->measuring)
		return;
	store->measure_sent_ms = monotonic_ms();
	store->measuring =
	    redis_link_submit(store->link, on_time_measured, store, 1, argv,
	                      NULL) == REDIS_SUBMIT_OK;
}

/* Sets s to its parts (the shebang, the functions its body needs, the
 * body; NULL after the last) put together at start-up, as one C literal
 * may not hold them (4095 bytes in C11).  Each script takes only the
 * functions it calls: defining one costs every call.  False when out of
 * memory. */
static bool
compose(struct session_store *store, struct script *s, const char *name,
        const char *const *parts)
{
	size_t len = 1;
	char *source, *end;

	for (size_t i = 0; parts[i] != NULL; i++)
		len += strlen(parts[i]);
	if (store->nsources == COMPOSED_SCRIPTS ||
	    (source = malloc(len)) == NULL)
		return false;
	end = source;
	for (size_t i = 0; parts[i] != NULL; i++)
		end = stpcpy(end, parts[i]);
	store->sources[store->nsources++] = source;
	*s = (struct script){name, source, ""};
	return true;
}

static void
free_sources(struct session_store *store)
{
	for (size_t i = 0; i < store->nsources; i++)
		free(store->sources[i]);
}

struct session_store *
session_store_create(struct event_base *base, struct redis_link *link,
                     int timeout_ms, int min_replicas)
{
	static const char *const create_shared[] = {STATS_KEY, EXPIRY_KEY,
	                                            COUNTS_KEY};
	static const char *const validate_shared[] = {STATS_KEY, COUNTS_KEY};
	const struct batch_shape create_shape = {
	    .shared_keys = create_shared,
	    .nshared = 3,
	    .keys_each = 1,
	    .args_each = 5,
	};
	const struct batch_shape validate_shape = {
	    .shared_keys = validate_shared,
	    .nshared = 2,
	    .keys_each = 2,
	    .args_each = 6,
	    .min_replicas = min_replicas,
	};
	struct session_store *store = calloc(1, sizeof(*store));
	const char *time_argv[] = {"TIME"};

	if (store == NULL)
		return NULL;
	store->link = link;
	store->timeout_ms = timeout_ms;
	store->min_replicas = min_replicas;
	/* Until Redis answers TIME: our own wall clock. */
	store->redis_clock_offset_ms =
	    (int64_t)time(NULL) * 1000 - monotonic_ms();
	store->list = (struct script){"list", list_lua, ""};
	if (!compose(store, &store->create, "create",
	             (const char *[]){create_shebang, BATCH_LUA, COUNTS_LUA,
	                              COUNT_CHANGES_LUA, create_lua, NULL}) ||
	    !compose(store, &store->validate, "validate",
	             (const char *[]){validate_shebang, BATCH_LUA, RECORD_LUA,
	                              COUNTS_LUA, COUNT_CHANGES_LUA,
	                              USER_GEN_LUA, validate_one_lua,
	                              validate_lua, NULL}) ||
	    !compose(
	        store, &store->open, "open",
	        (const char *[]){open_shebang, RECORD_LUA, open_lua, NULL}) ||
	    !compose(store, &store->revoke, "revoke",
	             (const char *[]){revoke_shebang, COUNTS_LUA,
	                              COUNT_CHANGES_LUA, revoke_lua, NULL}) ||
	    !compose(store, &store->status, "status",
	             (const char *[]){status_shebang, COUNTS_LUA,
	                              COUNT_CHANGES_LUA, status_lua, NULL}) ||
	    !compose(store, &store->walk_begin, "walk_begin",
	             (const char *[]){walk_begin_shebang, COUNTS_LUA,
	                              COUNT_CHANGES_LUA, walk_begin_lua,
	                              NULL}) ||
	    !compose(store, &store->walk_batch, "walk_batch",
	             (const char *[]){walk_batch_shebang, RECORD_LUA,
	                              COUNTS_LUA, COUNT_CHANGES_LUA,
	                              walk_batch_lua, NULL}) ||
	    !compose(store, &store->reconcile, "reconcile",
	             (const char *[]){reconcile_shebang, COUNTS_LUA,
	                              COUNT_CHANGES_LUA, reconcile_lua,
	                              NULL}) ||
	    !redis_link_add_handshake(link, 1, time_argv, on_handshake_time,
	                              store) ||
	    !script_register(link, &store->create) ||
	    !script_register(link, &store->validate) ||
	    !script_register(link, &store->open) ||
	    !script_register(link, &store->revoke) ||
	    !script_register(link, &store->list) ||
	    !script_register(link, &store->status) ||
	    !script_register(link, &store->walk_begin) ||
	    !script_register(link, &store->walk_batch) ||
	    !script_register(link, &store->reconcile) ||
	    (store->creations = batch_create(base, link, &store->create,
	                                     &create_shape)) == NULL ||
	    (store->validations = batch_create(base, link, &store->validate,
	                                       &validate_shape)) == NULL) {
		batch_destroy(store->creations);
		free_sources(store);
		free(store);
		return NULL;
	}
	return store;
}

void
session_store_destroy(struct session_store *store)
{
	/* A walk still running ends with the link, which goes first. */
	if (store == NULL)
		return;
	batch_destroy(store->creations);
	batch_destroy(store->validations);
	free_sources(store);
	free(store);
}

enum redis_submit
session_store_eval_ending(struct session_store *store, const struct script *s,
                          int nkeys, int nargs, const char *const *args,
                          redis_reply_fn fn, void *arg)
{
	return script_eval_replicated(store->link, s, nkeys, nargs, args,
	                              store->min_replicas, 1, fn, arg);
}

enum redis_submit
session_store_create_session(struct session_store *store, const char *id,
                             const char *user_id, const char *record, int ttl,
                             const char *expires_at, int max_sessions,
                             redis_reply_fn fn, void *arg)
{
	char key[KEY_MAX], ttl_text[16], cap[16];
	char gen_key[USER_GEN_KEY_MAX] = "";
	const char *keys_args[] = {key, record,     ttl_text,
	                           cap, expires_at, gen_key};

	session_key(key, id);
	if (user_id != NULL)
		user_gen_key(gen_key, user_id);
	snprintf(ttl_text, sizeof(ttl_text), "%d", ttl);
	snprintf(cap, sizeof(cap), "%d", max_sessions);
	return batch_add(store->creations, keys_args, fn, arg);
}

enum store_result
session_store_create_result(enum redis_outcome outcome, const redisReply *reply)
{
	if (outcome != REDIS_REPLIED || reply->type != REDIS_REPLY_INTEGER)
		return STORE_UNAVAILABLE;
	return reply->integer == 1 ? STORE_OK : STORE_LIMIT_REACHED;
}

enum redis_submit
session_store_validate(struct session_store *store, const char *id,
                       const char *used_at, const struct embed_open *embed,
                       const char *parent_origin, redis_reply_fn fn, void *arg)
{
	char key[KEY_MAX], not_after[24], embed_key_text[EMBED_KEY_LEN + 1];
	char expires[24], idle[16];
	const char *keys_args[] = {key,       embed_key_text, used_at,
	                           not_after, expires,        embed->expires_at,
	                           idle,      parent_origin};

	/* Half the deadline: a reply still on its way when the service gives
	 * up would otherwise use the session up behind a 503. */
	snprintf(not_after, sizeof(not_after), "%" PRId64,
	         redis_clock_ms(store) + store->timeout_ms / 2);
	session_key(key, id);
	embed_key(embed_key_text, embed->hash);
	snprintf(expires, sizeof(expires), "%lld", (long long)embed->expires);
	snprintf(idle, sizeof(idle), "%d", embed->idle_seconds);
	return batch_add(store->validations, keys_args, fn, arg);
}

enum store_result
session_store_validate_result(struct session_store *store,
                              enum redis_outcome outcome,
                              const redisReply *reply, const char **record,
                              size_t *len)
{
	if (outcome != REDIS_REPLIED)
		return STORE_UNAVAILABLE;
	if (reply->type == REDIS_REPLY_STRING) {
		*record = reply->str;
		*len = reply->len;
		return STORE_OK;
	}
	if (reply->type != REDIS_REPLY_INTEGER)
		return STORE_UNAVAILABLE;
	switch (reply->integer) {
	case 0:
		return STORE_NOT_FOUND;
	case 2:
		return STORE_ALREADY_USED;
	case 3:
		log_warning("validation reached redis after its deadline; "
		            "refused there, session left unused");
		measure_clock(store);
		return STORE_UNAVAILABLE;
	case 4:
		return STORE_CORRUPT;
	case 5:
		return STORE_REVOKED;
	case 6:
		return STORE_ORIGIN_MISMATCH;
	default:
		return STORE_UNAVAILABLE;
	}
}

/*
 * The iframe_opened marks waiting on Redis at once.  A mark costs one
 * short script; a flood of page loads (a reload loop, a crawler, a page
 * embedded many times) must not fill REDIS_MAX_PENDING or Redis's queue
 * ahead of validations.  Sixteen marks of ~0.1 ms each keep up with tens of
 * thousands of page loads a second on a healthy Redis; when Redis slows
 * down, marks beyond them are dropped, which costs only the flag.  A cap
 * rather than coalescing by id: it bounds the cost whatever the ids, with
 * no table to keep.
 */
#define MARKS_IN_FLIGHT_MAX 16

static void
on_marked_opened(void *arg, enum redis_outcome outcome, const redisReply *reply)
{
	struct session_store *store = arg;

	(void)reply;
	store->marks_in_flight--;
	if (outcome != REDIS_REPLIED)
		log_debug("iframe_opened not recorded");
}

void
session_store_mark_opened(struct session_store *store, const char *id)
{
	if (store->marks_in_flight >= MARKS_IN_FLIGHT_MAX) {
		store->marks_dropped++;
		log_debug("iframe_opened not recorded: %d marks in flight",
		          MARKS_IN_FLIGHT_MAX);
		return;
	}
	if (session_store_open(store, id, true, on_marked_opened, store) !=
	    REDIS_SUBMIT_OK) {
		log_debug("iframe_opened not recorded: redis unavailable");
		return;
	}
	store->marks_in_flight++;
}

uint64_t
session_store_marks_dropped(const struct session_store *store)
{
	return store->marks_dropped;
}

enum redis_submit
session_store_open(struct session_store *store, const char *id, bool mark,
                   redis_reply_fn fn, void *arg)
{
	char key[KEY_MAX];
	const char *args[] = {key, mark ? "1" : "0"};

	session_key(key, id);
	return script_eval(store->link, &store->open, 1, 1, args, fn, arg);
}

enum store_result
session_store_open_result(enum redis_outcome outcome, const redisReply *reply,
                          const char **origins, size_t *len)
{
	if (outcome != REDIS_REPLIED)
		return STORE_UNAVAILABLE;
	if (reply->type == REDIS_REPLY_INTEGER)
		return STORE_NOT_FOUND;
	if (reply->type != REDIS_REPLY_STRING)
		return STORE_UNAVAILABLE;
	*origins = reply->str;
	*len = reply->len;
	return STORE_OK;
}

enum redis_submit
session_store_revoke(struct session_store *store, const char *id,
                     redis_reply_fn fn, void *arg)
{
	char key[KEY_MAX];
	const char *args[] = {key, COUNTS_KEY};

	session_key(key, id);
	return session_store_eval_ending(store, &store->revoke, 2, 0, args, fn,
	                                 arg);
}

enum store_result
session_store_revoke_result(enum redis_outcome outcome, const redisReply *reply)
{
	if (outcome != REDIS_REPLIED || reply->type != REDIS_REPLY_INTEGER)
		return STORE_UNAVAILABLE;
	return reply->integer > 0 ? STORE_OK : STORE_NOT_FOUND;
}

enum redis_submit
session_store_revoke_user(struct session_store *store, const char *user_id,
                          redis_reply_fn fn, void *arg)
{
	char key[USER_GEN_KEY_MAX];
	const char *argv[] = {"INCR", key};

	user_gen_key(key, user_id);
	/* It ends sessions: WAIT behind it, as for validate and revoke. */
	return redis_link_submit_replicated(store->link, fn, arg, 2, argv, NULL,
	                                    store->min_replicas);
}

enum store_result
session_store_revoke_user_result(enum redis_outcome outcome,
                                 const redisReply *reply, long long *generation)
{
	if (outcome != REDIS_REPLIED || reply->type != REDIS_REPLY_INTEGER)
		return STORE_UNAVAILABLE;
	*generation = reply->integer;
	return STORE_OK;
}

enum redis_submit
session_store_list(struct session_store *store, const char *cursor, int count,
                   redis_reply_fn fn, void *arg)
{
	char count_text[16];
	const char *args[] = {cursor, count_text};

	snprintf(count_text, sizeof(count_text), "%d", count);
	return script_eval(store->link, &store->list, 0, 2, args, fn, arg);
}

enum store_result
session_store_list_result(enum redis_outcome outcome, const redisReply *reply,
                          struct session_page *page)
{
	if (outcome != REDIS_REPLIED || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements % 2 != 1 ||
	    reply->element[0]->type != REDIS_REPLY_STRING)
		return STORE_UNAVAILABLE;
	for (size_t i = 1; i < reply->elements; i += 2) {
		if (reply->element[i]->type != REDIS_REPLY_STRING ||
		    reply->element[i + 1]->type != REDIS_REPLY_INTEGER)
			return STORE_UNAVAILABLE;
	}
	page->cursor = reply->element[0]->str;
	page->count = reply->elements / 2;
	page->reply = reply;
	return STORE_OK;
}

void
session_page_entry(const struct session_page *page, size_t i,
                   const char **record, size_t *len, long long *ttl)
{
	const redisReply *rec = page->reply->element[1 + 2 * i];

	*record = rec->str;
	*len = rec->len;
	*ttl = page->reply->element[2 + 2 * i]->integer;
}

enum redis_submit
session_store_counters(struct session_store *store, redis_reply_fn fn,
                       void *arg)
{
	const char *args[] = {STATS_KEY, EXPIRY_KEY, COUNTS_KEY};

	return script_eval(store->link, &store->status, 3, 0, args, fn, arg);
}

enum store_result
session_store_counters_result(enum redis_outcome outcome,
                              const redisReply *reply,
                              struct session_counts *counts)
{
	if (outcome != REDIS_REPLIED || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 4)
		return STORE_UNAVAILABLE;
	for (size_t i = 0; i < 4; i++) {
		if (reply->element[i]->type != REDIS_REPLY_INTEGER)
			return STORE_UNAVAILABLE;
	}
	counts->total = reply->element[0]->integer;
	counts->used = reply->element[1]->integer;
	counts->total_created = reply->element[2]->integer;
	counts->total_used = reply->element[3]->integer;
	return STORE_OK;
}

/* Tells every waiter and ends the walk. */
static void
walk_finish(struct count_walk *walk, enum store_result result)
{
	walk->store->walk = NULL;
	for (size_t i = 0; i < walk->nwaiters; i++)
		walk->waiters[i].fn(walk->waiters[i].arg, result,
		                    &walk->counts);
	free(walk->waiters);
	free(walk);
}

static void
on_reconciled(void *arg, enum redis_outcome outcome, const redisReply *reply)
{
	struct count_walk *walk = arg;

	if (outcome != REDIS_REPLIED || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 2 ||
	    reply->element[0]->type != REDIS_REPLY_INTEGER ||
	    reply->element[1]->type != REDIS_REPLY_INTEGER) {
		walk_finish(walk, STORE_UNAVAILABLE);
		return;
	}
	walk->counts.total_created = reply->element[0]->integer;
	walk->counts.total_used = reply->element[1]->integer;
	walk_finish(walk, STORE_OK);
}

/* Ends the walk: corrects the counts with what it saw (reconcile_lua)
 * and reads the totals; false when it could not be sent. */
static bool
walk_reconcile(struct count_walk *walk)
{
	const char *args[] = {STATS_KEY, EXPIRY_KEY, COUNTS_KEY, walk->tally,
	                      walk->number};

	return script_eval(walk->store->link, &walk->store->reconcile, 4, 1,
	                   args, on_reconciled, walk) == REDIS_SUBMIT_OK;
}

static bool walk_step(struct count_walk *walk);

static void
on_count_batch(void *arg, enum redis_outcome outcome, const redisReply *reply)
{
	struct count_walk *walk = arg;

	if (outcome != REDIS_REPLIED || reply->type != REDIS_REPLY_ARRAY ||
	    reply->elements != 3 ||
	    reply->element[0]->type != REDIS_REPLY_STRING ||
	    reply->element[0]->len >= sizeof(walk->cursor) ||
	    reply->element[1]->type != REDIS_REPLY_INTEGER ||
	    reply->element[2]->type != REDIS_REPLY_INTEGER) {
		walk_finish(walk, STORE_UNAVAILABLE);
		return;
	}
	memcpy(walk->cursor, reply->element[0]->str,
	       reply->element[0]->len + 1);
	walk->counts.total += reply->element[1]->integer;
	walk->counts.used += reply->element[2]->integer;
	if (strcmp(walk->cursor, "0") != 0) {
		if (!walk_step(walk))
			walk_finish(walk, STORE_UNAVAILABLE);
		return;
	}
	if (!walk_reconcile(walk))
		walk_finish(walk, STORE_UNAVAILABLE);
}

/* Sends the next batch; false when it could not be sent. */
static bool
walk_step(struct count_walk *walk)
{
	const char *args[] = {COUNTS_KEY, walk->tally, walk->cursor,
	                      COUNT_BATCH, WALK_LEASE_MS};

	return script_eval(walk->store->link, &walk->store->walk_batch, 2, 3,
	                   args, on_count_batch, walk) == REDIS_SUBMIT_OK;
}

static void
on_walk_begun(void *arg, enum redis_outcome outcome, const redisReply *reply)
{
	struct count_walk *walk = arg;

	if (outcome != REDIS_REPLIED || reply->type != REDIS_REPLY_INTEGER) {
		walk_finish(walk, STORE_UNAVAILABLE);
		return;
	}
	snprintf(walk->number, sizeof(walk->number), "%lld", reply->integer);
	snprintf(walk->tally, sizeof(walk->tally), TALLY_PREFIX "%lld",
	         reply->integer);
	if (!walk_step(walk))
		walk_finish(walk, STORE_UNAVAILABLE);
}

static bool
walk_begin(struct count_walk *walk)
{
	const char *args[] = {COUNTS_KEY, WALK_LEASE_MS};

	return script_eval(walk->store->link, &walk->store->walk_begin, 1, 1,
	                   args, on_walk_begun, walk) == REDIS_SUBMIT_OK;
}

static bool
walk_add_waiter(struct count_walk *walk, session_counts_fn fn, void *arg)
{
	if (walk->nwaiters == walk->cap) {
		size_t cap = walk->cap ? walk->cap * 2 : 4;
		struct waiter *w = realloc(walk->waiters, cap * sizeof(*w));

		if (w == NULL)
			return false;
		walk->waiters = w;
		walk->cap = cap;
	}
	walk->waiters[walk->nwaiters++] = (struct waiter){fn, arg};
	return true;
}

bool
session_store_count_exact(struct session_store *store, session_counts_fn fn,
                          void *arg)
{
	struct count_walk *walk = store->walk;

	if (walk != NULL)
		return walk_add_waiter(walk, fn, arg);
	walk = calloc(1, sizeof(*walk));
	if (walk == NULL)
		return false;
	walk->store = store;
	strcpy(walk->cursor, "0");
	if (!walk_add_waiter(walk, fn, arg) || !walk_begin(walk)) {
		free(walk->waiters);
		free(walk);
		return false;
	}
	store->walk = walk;
	return true;
}
