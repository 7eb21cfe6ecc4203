/* Host names to addresses on the event loop, without blocking (evdns):
 * for the Redis master and for the sentinels. */
#ifndef IFRAME_AUTH_STORE_RESOLVE_H
#define IFRAME_AUTH_STORE_RESOLVE_H

struct evdns_base;
struct resolve;

/* ip is the address picked (the first IPv4 one if any: a private Redis
 * listens on 127.0.0.1), or NULL with why saying what failed.  Both are
 * valid inside the call only. */
typedef void (*resolve_fn)(void *arg, const char *ip, const char *why);

/*
 * Resolves host; fn runs exactly once unless resolve_cancel() comes
 * first.  An IP address, or a name evdns answers from /etc/hosts
 * (localhost), is answered inside this call, which then returns NULL;
 * otherwise the lookup in flight, valid until fn runs.
 */
struct resolve *resolve_start(struct evdns_base *dns, const char *host,
                              resolve_fn fn, void *arg);

/* fn will not run.  The lookup frees itself later, from the loop, when
 * evdns reports the cancellation. */
void resolve_cancel(struct resolve *rs);

#endif
