/* The HTTP ceiling: an evhttp server with the service's settings that
 * answers every request with a fixed JSON body of about 150 bytes,
 * touching nothing else.  Usage: bench-bare PORT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common.h"

static void
on_request(struct evhttp_request *req, void *arg)
{
	(void)arg;
	bench_reply(req);
}

int
main(int argc, char **argv)
{
	struct event_base *base = event_base_new();
	struct evhttp *http = bench_http(base, argc, argv, on_request, NULL);

	if (http == NULL)
		return 1;
	event_base_dispatch(base);
	return 0;
}
