#include "resolve.h"

#include <stdio.h>
#include <stdlib.h>

#include <event2/dns.h>
#include <event2/util.h>

/* A lookup in flight.  It outlives its caller when cancelled, because
 * evdns reports the cancellation later, from the loop. */
struct resolve {
	resolve_fn fn; /* NULL once cancelled */
	void *arg;
	struct evdns_getaddrinfo_request *req;
	char host[256];
};

static void
on_resolved(int err, struct evutil_addrinfo *res, void *arg)
{
	struct resolve *rs = arg;
	const struct evutil_addrinfo *pick = res;
	char ip[64], why[320];

	if (rs->fn == NULL) {
		/* cancelled */
	} else if (err != 0 || res == NULL) {
		snprintf(why, sizeof(why), "cannot resolve %s: %s", rs->host,
		         evutil_gai_strerror(err));
		rs->fn(rs->arg, NULL, why);
	} else {
		for (const struct evutil_addrinfo *ai = res; ai;
		     ai = ai->ai_next) {
			if (ai->ai_family == AF_INET) {
				pick = ai;
				break;
			}
		}
		if (pick->ai_family == AF_INET)
			evutil_inet_ntop(
			    AF_INET,
			    &((struct sockaddr_in *)pick->ai_addr)->sin_addr,
			    ip, sizeof(ip));
		else
			evutil_inet_ntop(
			    AF_INET6,
			    &((struct sockaddr_in6 *)pick->ai_addr)->sin6_addr,
			    ip, sizeof(ip));
		rs->fn(rs->arg, ip, NULL);
	}
	if (res != NULL)
		evutil_freeaddrinfo(res);
	free(rs);
}

struct resolve *
resolve_start(struct evdns_base *dns, const char *host, resolve_fn fn,
              void *arg)
{
	struct evutil_addrinfo hints = {0};
	struct evdns_getaddrinfo_request *req;
	struct resolve *rs;
	unsigned char addr[16];

	if (evutil_inet_pton(AF_INET, host, addr) == 1 ||
	    evutil_inet_pton(AF_INET6, host, addr) == 1) {
		fn(arg, host, NULL);
		return NULL;
	}
	rs = calloc(1, sizeof(*rs));
	if (rs == NULL) {
		fn(arg, NULL, "out of memory");
		return NULL;
	}
	rs->fn = fn;
	rs->arg = arg;
	snprintf(rs->host, sizeof(rs->host), "%s", host);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* Names in /etc/hosts (localhost) are answered at once, inside this
	 * call; others go to the DNS servers without blocking the loop. */
	req = evdns_getaddrinfo(dns, host, NULL, &hints, on_resolved, rs);
	/* NULL: on_resolved has already run and freed rs. */
	if (req == NULL)
		return NULL;
	rs->req = req;
	return rs;
}

void
resolve_cancel(struct resolve *rs)
{
	if (rs == NULL)
		return;
	rs->fn = NULL;
	evdns_getaddrinfo_cancel(rs->req);
}
