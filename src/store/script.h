/* Lua scripts run server-side: loaded with SCRIPT LOAD on every
 * (re)connect, called with EVALSHA, and sent in full with EVAL when Redis
 * answers NOSCRIPT (after a SCRIPT FLUSH or a failover). */
#ifndef IFRAME_AUTH_STORE_SCRIPT_H
#define IFRAME_AUTH_STORE_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#include "redis_link.h"

struct script {
	const char *name;
	const char *source;
	char sha[41]; /* filled from the SCRIPT LOAD reply */
};

/* Adds SCRIPT LOAD of s to the link's handshake. */
bool script_register(struct redis_link *link, struct script *s)
    __attribute__((warn_unused_result));

/*
 * Runs s with nkeys keys followed by nargs arguments (args, NUL-terminated
 * strings).  Same contract as
 * redis_link_submit(): on REDIS_SUBMIT_OK fn runs exactly once.
 */
enum redis_submit script_eval(struct redis_link *link, const struct script *s,
                              int nkeys, int nargs, const char *const *args,
                              redis_reply_fn fn, void *arg)
    __attribute__((warn_unused_result));

/* The same, with WAIT min_replicas pipelined behind the script
 * (redis_link_submit_wire_replicated()), also when it is sent again
 * with EVAL: for writes that consume or end a session; the call carries
 * requests requests (batch.h). */
enum redis_submit script_eval_replicated(struct redis_link *link,
                                         const struct script *s, int nkeys,
                                         int nargs, const char *const *args,
                                         int min_replicas, size_t requests,
                                         redis_reply_fn fn, void *arg)
    __attribute__((warn_unused_result));

#endif
