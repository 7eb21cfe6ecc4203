/* What both baselines share with each other and with the service's
 * settings: the reply and the evhttp configuration. */
#ifndef IFRAME_AUTH_BENCH_COMMON_H
#define IFRAME_AUTH_BENCH_COMMON_H

#include <event2/http.h>

struct event_base;

/* evhttp on 127.0.0.1:argv[1] with the service's limits and timeouts. */
struct evhttp *bench_http(struct event_base *base, int argc, char **argv,
                          void (*cb)(struct evhttp_request *, void *),
                          void *arg);

/* 200 with a fixed ~150-byte JSON body and the service's headers. */
void bench_reply(struct evhttp_request *req);

#endif
