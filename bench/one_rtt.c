/* The ceiling for any Redis-backed endpoint on this stack: evhttp plus
 * hiredis async, and each request answered after exactly one Redis round
 * trip, an EVALSHA of a tiny script.  Nothing a real service could not do
 * is skipped: the script runs in Redis for every request, and a request
 * whose Redis is gone gets 503.  Usage: bench-one-rtt PORT REDIS_PORT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "common.h"

static char sha[41];

static void
on_loaded(redisAsyncContext *ac, void *r, void *arg)
{
	const redisReply *reply = r;

	(void)ac;
	(void)arg;
	if (reply == NULL || reply->type != REDIS_REPLY_STRING) {
		fprintf(stderr, "SCRIPT LOAD failed\n");
		exit(1);
	}
	memcpy(sha, reply->str, 40);
}

static void
on_reply(redisAsyncContext *ac, void *r, void *arg)
{
	const redisReply *reply = r;

	(void)ac;
	if (reply == NULL || reply->type == REDIS_REPLY_ERROR)
		evhttp_send_error(arg, 503, NULL);
	else
		bench_reply(arg);
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	redisAsyncContext *ac = arg;

	if (redisAsyncCommand(ac, on_reply, req, "EVALSHA %s 0", sha) !=
	    REDIS_OK)
		evhttp_send_error(req, 503, NULL);
}

int
main(int argc, char **argv)
{
	struct event_base *base = event_base_new();
	redisAsyncContext *ac;

	if (argc < 3) {
		fprintf(stderr, "usage: %s PORT REDIS_PORT\n", argv[0]);
		return 1;
	}
	ac = redisAsyncConnect("127.0.0.1", atoi(argv[2]));
	if (ac == NULL || ac->err || redisLibeventAttach(ac, base) != REDIS_OK)
		return 1;
	redisAsyncCommand(ac, on_loaded, NULL, "SCRIPT LOAD %s", "return 1");
	if (bench_http(base, argc, argv, on_request, ac) == NULL)
		return 1;
	event_base_dispatch(base);
	return 0;
}
