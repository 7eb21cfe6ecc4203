/* A Redis for the fuzzed service to talk to, in the same process and on
 * the service's own event loop, so that each input runs to its end
 * without threads or timing.  It answers the handshake (PING, AUTH,
 * SELECT, SCRIPT LOAD, TIME) and every session script plausibly, so that
 * the handlers get past their first command. */
#ifndef IFRAME_AUTH_FUZZ_FAKE_REDIS_H
#define IFRAME_AUTH_FUZZ_FAKE_REDIS_H

#include <stdbool.h>

struct event_base;
struct fake_redis;

/* Listens on a free loopback port (before the service that will connect
 * to it exists); aborts on failure. */
struct fake_redis *fake_redis_listen(void);

int fake_redis_port(const struct fake_redis *fr);

/* Starts accepting on base. */
void fake_redis_attach(struct fake_redis *fr, struct event_base *base);

/* Whether a connection has finished the handshake (its TIME answered). */
bool fake_redis_ready(const struct fake_redis *fr);

#endif
