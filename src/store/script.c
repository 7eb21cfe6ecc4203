#include "script.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "../log.h"

/* One script call, kept so that it can be re-sent with EVAL. */
struct script_call {
	struct redis_link *link;
	const struct script *script;
	redis_reply_fn fn;
	void *arg;
	int argc; /* EVALSHA/EVAL, sha/source, numkeys, keys and args */
	const char *argv[SCRIPT_MAX_ARGS + 3];
	size_t argvlen[SCRIPT_MAX_ARGS + 3];
	char numkeys[8];
	char *copies; /* the keys and args, copied back to back */
};

static void
on_script_loaded(void *arg, const redisReply *reply)
{
	struct script *s = arg;

	if (reply->type == REDIS_REPLY_STRING && reply->len == 40)
		memcpy(s->sha, reply->str, 41);
	else
		log_error("script load gave an unexpected reply script=%s",
		          s->name);
}

bool
script_register(struct redis_link *link, struct script *s)
{
	const char *argv[] = {"SCRIPT", "LOAD", s->source};

	return redis_link_add_handshake(link, 3, argv, on_script_loaded, s);
}

static void
call_free(struct script_call *c)
{
	free(c->copies);
	free(c);
}

static void
on_script_reply(void *arg, enum redis_outcome outcome, const redisReply *reply)
{
	struct script_call *c = arg;

	if (outcome == REDIS_ERROR_REPLY &&
	    strncmp(reply->str, "NOSCRIPT", 8) == 0 && c->argv[0][4] == 'S') {
		c->argv[0] = "EVAL";
		c->argvlen[0] = 4;
		c->argv[1] = c->script->source;
		c->argvlen[1] = strlen(c->script->source);
		log_info("script missing in redis, sending it whole script=%s",
		         c->script->name);
		if (redis_link_submit(c->link, on_script_reply, c, c->argc,
		                      c->argv, c->argvlen) == REDIS_SUBMIT_OK)
			return;
		outcome = REDIS_LINK_LOST;
		reply = NULL;
	}
	c->fn(c->arg, outcome, reply);
	call_free(c);
}

enum redis_submit
script_eval(struct redis_link *link, const struct script *s, int nkeys,
            int nargs, const char *const *args, redis_reply_fn fn, void *arg)
{
	struct script_call *c;
	size_t total = 0;
	char *p;
	enum redis_submit r;
	int n = nkeys + nargs;

	if (n > SCRIPT_MAX_ARGS)
		return REDIS_SUBMIT_FULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return REDIS_SUBMIT_FULL;
	for (int i = 0; i < n; i++)
		total += strlen(args[i]) + 1;
	c->copies = malloc(total + 1);
	if (c->copies == NULL) {
		free(c);
		return REDIS_SUBMIT_FULL;
	}
	c->link = link;
	c->script = s;
	c->fn = fn;
	c->arg = arg;
	snprintf(c->numkeys, sizeof(c->numkeys), "%d", nkeys);
	c->argv[0] = "EVALSHA";
	c->argv[1] = s->sha;
	c->argv[2] = c->numkeys;
	p = c->copies;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(args[i]);

		memcpy(p, args[i], len + 1);
		c->argv[3 + i] = p;
		p += len + 1;
	}
	c->argc = 3 + n;
	for (int i = 0; i < c->argc; i++)
		c->argvlen[i] = strlen(c->argv[i]);
	r = redis_link_submit(link, on_script_reply, c, c->argc, c->argv,
	                      c->argvlen);
	if (r != REDIS_SUBMIT_OK)
		call_free(c);
	return r;
}
