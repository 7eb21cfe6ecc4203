#include "fake_redis.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

/* hiredis sends at most this many arguments (create: 13). */
#define ARGS_MAX    32
#define SCRIPTS_MAX 32
#define SHA_LEN     40
#define LISTED_ID   "550e8400-e29b-41d4-a716-446655440000"

/* What a script does, told from its source, so that the answer has the
 * shape its caller in store/sessions.c reads. */
enum script_kind {
	SCRIPT_CREATE,
	SCRIPT_VALIDATE,
	SCRIPT_LIST,
	SCRIPT_COUNT,
	SCRIPT_REVOKE,
	SCRIPT_OPEN,
	SCRIPT_OTHER,
};

struct fake_redis {
	int fd;
	int port;
	struct evconnlistener *listener;
	bool ready;
	int nscripts;
	char *sources[SCRIPTS_MAX];
};

/* One command: its arguments, pointing into the input buffer. */
struct command {
	int argc;
	const char *argv[ARGS_MAX];
	size_t len[ARGS_MAX];
};

struct fake_redis *
fake_redis_listen(void)
{
	struct fake_redis *fr = calloc(1, sizeof(*fr));
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fr == NULL)
		abort();
	fr->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fr->fd < 0 || bind(fr->fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(fr->fd, 16) != 0 ||
	    getsockname(fr->fd, (struct sockaddr *)&a, &alen) != 0)
		abort();
	fr->port = ntohs(a.sin_port);
	return fr;
}

int
fake_redis_port(const struct fake_redis *fr)
{
	return fr->port;
}

bool
fake_redis_ready(const struct fake_redis *fr)
{
	return fr->ready;
}

static bool
is(const struct command *c, int i, const char *word)
{
	return i < c->argc && c->len[i] == strlen(word) &&
	       strncasecmp(c->argv[i], word, c->len[i]) == 0;
}

/* Parses one RESP array of bulk strings at the start of p (n bytes):
 * its length, 0 while incomplete, -1 when it is not one. */
static long
parse_command(const char *p, size_t n, struct command *c)
{
	const char *end, *q = p;
	char *after;
	long count;

	if (n == 0)
		return 0;
	end = p + n;
	if (*q != '*')
		return -1;
	if (memchr(q, '\n', n) == NULL)
		return 0;
	count = strtol(q + 1, &after, 10);
	if (count < 1 || count > ARGS_MAX || after[0] != '\r' ||
	    after[1] != '\n')
		return -1;
	q = after + 2;
	c->argc = (int)count;
	for (int i = 0; i < c->argc; i++) {
		long len;

		if (q >= end || memchr(q, '\n', (size_t)(end - q)) == NULL)
			return 0;
		if (*q != '$')
			return -1;
		len = strtol(q + 1, &after, 10);
		if (len < 0 || after[0] != '\r' || after[1] != '\n')
			return -1;
		q = after + 2;
		if (end - q < len + 2)
			return 0;
		c->argv[i] = q;
		c->len[i] = (size_t)len;
		q += len + 2;
	}
	return q - p;
}

static enum script_kind
kind_of(const char *source)
{
	/* In this order: create also reads with HMGET and deletes with
	 * HDEL; validate also mentions iframe_opened. */
	if (strstr(source, "SETEX") != NULL)
		return SCRIPT_CREATE;
	if (strstr(source, "total_used") != NULL)
		return SCRIPT_VALIDATE;
	if (strstr(source, "'TTL'") != NULL)
		return SCRIPT_LIST;
	if (strstr(source, "MGET") != NULL)
		return SCRIPT_COUNT;
	if (strstr(source, "'DEL'") != NULL)
		return SCRIPT_REVOKE;
	if (strstr(source, "iframe_opened") != NULL)
		return SCRIPT_OPEN;
	return SCRIPT_OTHER;
}

static void
put_bulk(struct evbuffer *out, const char *s, size_t len)
{
	evbuffer_add_printf(out, "$%zu\r\n", len);
	evbuffer_add(out, s, len);
	evbuffer_add(out, "\r\n", 2);
}

/* A record as the service writes it, used when used_at is not NULL. */
static void
put_record(struct evbuffer *out, const char *id, size_t id_len,
           const char *used_at)
{
	char record[512];
	int n;

	n = snprintf(record, sizeof(record),
	             "{\"used\":%s%s%s%s\"iframe_opened\":false,"
	             "\"session_id\":\"%.*s\",\"created_at\":"
	             "\"2026-11-22T10:30:00Z\",\"expires_at\":"
	             "\"2026-11-22T11:00:00Z\",\"user_id\":\"fuzz\","
	             "\"metadata\":{\"k\":[1,\"v\"]}}",
	             used_at != NULL ? "true," : "false,",
	             used_at != NULL ? "\"used_at\":\"" : "",
	             used_at != NULL ? used_at : "",
	             used_at != NULL ? "\"," : "", (int)id_len, id);
	put_bulk(out, record, (size_t)n);
}

/* The answer to a script, varied by the session id's last character so
 * that each outcome its caller handles is reached. */
static void
answer_script(struct evbuffer *out, const struct command *c,
              enum script_kind kind, int first_key)
{
	long numkeys = first_key - 1 < c->argc
	                   ? strtol(c->argv[first_key - 1], NULL, 10)
	                   : 0;
	int first_arg = first_key + (int)numkeys;
	unsigned char last =
	    numkeys > 0 && first_key < c->argc && c->len[first_key] > 0
	        ? c->argv[first_key][c->len[first_key] - 1]
	        : '0';
	char used_at[32];

	switch (kind) {
	case SCRIPT_CREATE:
		evbuffer_add_printf(out, ":%d\r\n", last != '0');
		return;
	case SCRIPT_VALIDATE:
		if (last % 6 < 4) {
			/* not found, already used, too late, not ours */
			static const int refusals[] = {0, 2, 3, 4};

			evbuffer_add_printf(out, ":%d\r\n", refusals[last % 6]);
		} else if (first_arg < c->argc && c->len[first_key] >= 36) {
			snprintf(used_at, sizeof(used_at), "%.*s",
			         (int)c->len[first_arg], c->argv[first_arg]);
			put_record(out,
			           c->argv[first_key] + c->len[first_key] - 36,
			           36, used_at);
		} else {
			evbuffer_add_printf(out, ":0\r\n");
		}
		return;
	case SCRIPT_LIST:
		evbuffer_add_printf(out, "*3\r\n$1\r\n0\r\n");
		put_record(out, LISTED_ID, strlen(LISTED_ID), NULL);
		evbuffer_add_printf(out, ":60\r\n");
		return;
	case SCRIPT_COUNT:
		evbuffer_add_printf(out, "*3\r\n$1\r\n0\r\n:3\r\n:1\r\n");
		return;
	case SCRIPT_REVOKE:
	case SCRIPT_OPEN:
		evbuffer_add_printf(out, ":%d\r\n", last != '0');
		return;
	case SCRIPT_OTHER:
		evbuffer_add_printf(out, ":0\r\n");
		return;
	}
}

static void
answer_script_load(struct fake_redis *fr, struct evbuffer *out,
                   const struct command *c)
{
	char sha[SHA_LEN + 1];
	int i;

	for (i = 0; i < fr->nscripts; i++) {
		if (strlen(fr->sources[i]) == c->len[2] &&
		    memcmp(fr->sources[i], c->argv[2], c->len[2]) == 0)
			break;
	}
	if (i == fr->nscripts) {
		if (i == SCRIPTS_MAX ||
		    (fr->sources[i] = strndup(c->argv[2], c->len[2])) == NULL)
			abort();
		fr->nscripts++;
	}
	snprintf(sha, sizeof(sha), "%040d", i);
	put_bulk(out, sha, SHA_LEN);
}

static void
answer(struct fake_redis *fr, struct evbuffer *out, const struct command *c)
{
	struct timeval now;

	if (is(c, 0, "PING")) {
		evbuffer_add_printf(out, "+PONG\r\n");
		fr->ready = true;
	} else if (is(c, 0, "AUTH") || is(c, 0, "SELECT")) {
		evbuffer_add_printf(out, "+OK\r\n");
	} else if (is(c, 0, "SCRIPT") && is(c, 1, "LOAD") && c->argc == 3) {
		answer_script_load(fr, out, c);
	} else if (is(c, 0, "EVALSHA") && c->argc >= 3) {
		char sha[SHA_LEN + 1];
		int i;

		snprintf(sha, sizeof(sha), "%.*s", (int)c->len[1], c->argv[1]);
		i = atoi(sha);
		if (c->len[1] != SHA_LEN || i < 0 || i >= fr->nscripts)
			evbuffer_add_printf(out,
			                    "-NOSCRIPT No matching script\r\n");
		else
			answer_script(out, c, kind_of(fr->sources[i]), 3);
	} else if (is(c, 0, "EVAL") && c->argc >= 3) {
		char *source = strndup(c->argv[1], c->len[1]);

		if (source == NULL)
			abort();
		answer_script(out, c, kind_of(source), 3);
		free(source);
	} else if (is(c, 0, "TIME")) {
		char secs[24], usecs[16];

		gettimeofday(&now, NULL);
		snprintf(secs, sizeof(secs), "%lld", (long long)now.tv_sec);
		snprintf(usecs, sizeof(usecs), "%ld", (long)now.tv_usec);
		evbuffer_add_printf(out, "*2\r\n");
		put_bulk(out, secs, strlen(secs));
		put_bulk(out, usecs, strlen(usecs));
	} else if (is(c, 0, "HMGET") && c->argc >= 3) {
		evbuffer_add_printf(out, "*%d\r\n", c->argc - 2);
		for (int i = 2; i < c->argc; i++)
			evbuffer_add_printf(out, "$1\r\n%d\r\n", i);
	} else {
		evbuffer_add_printf(out, "-ERR unknown command\r\n");
	}
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct fake_redis *fr = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct command c;
	long used;

	for (;;) {
		size_t n = evbuffer_get_length(in);
		const char *p = (const char *)evbuffer_pullup(in, -1);

		used = parse_command(p, n, &c);
		if (used <= 0)
			break;
		answer(fr, bufferevent_get_output(bev), &c);
		evbuffer_drain(in, (size_t)used);
	}
	if (used < 0) /* not what hiredis sends: a bug in this file */
		abort();
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void
on_accept(struct evconnlistener *listener, evutil_socket_t fd,
          struct sockaddr *addr, int socklen, void *arg)
{
	struct bufferevent *bev = bufferevent_socket_new(
	    evconnlistener_get_base(listener), fd, BEV_OPT_CLOSE_ON_FREE);

	(void)addr;
	(void)socklen;
	if (bev == NULL)
		abort();
	bufferevent_setcb(bev, on_read, NULL, on_event, arg);
	bufferevent_enable(bev, EV_READ);
}

void
fake_redis_attach(struct fake_redis *fr, struct event_base *base)
{
	evutil_make_socket_nonblocking(fr->fd);
	fr->listener = evconnlistener_new(base, on_accept, fr,
	                                  LEV_OPT_CLOSE_ON_FREE, 0, fr->fd);
	if (fr->listener == NULL)
		abort();
}
