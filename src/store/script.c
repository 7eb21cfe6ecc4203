#include "script.h"

#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "../clock.h"
#include "../log.h"

/*
 * One script call, kept in its wire form (RESP, as Redis reads it) so
 * that it can be re-sent with EVAL: formatting it ourselves, once, costs
 * a fraction of hiredis's generic formatting on this hot path.
 */
struct script_call {
	struct redis_link *link;
	const struct script *script;
	redis_reply_fn fn;
	void *arg;
	int count;        /* elements of the command */
	int min_replicas; /* WAIT behind it when > 0 */
	size_t requests;  /* it carries (batch.h) */
	bool resent;      /* sent again with EVAL after NOSCRIPT */
	uint64_t sent_us; /* first sent (clock_monotonic_us()) */
	size_t len;       /* of wire */
	size_t tail; /* where numkeys, the keys and the args start in wire */
	char wire[]; /* EVALSHA sha numkeys keys... args... */
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

/* Room for "*<count>\r\n", and for "$<length>\r\n" and the closing
 * "\r\n" of one element. */
#define COUNT_FRAME   (1 + 20 + 2)
#define ELEMENT_FRAME (1 + 20 + 2 + 2)

static char *
put_decimal(char *p, size_t v)
{
	char digits[20];
	int n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = digits[--n];
	return p;
}

/* Writes *count\r\n. */
static char *
put_count(char *p, int count)
{
	*p++ = '*';
	p = put_decimal(p, (size_t)count);
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

/* Writes one element: $len\r\n<bytes>\r\n. */
static char *
put_element(char *p, const char *s, size_t len)
{
	*p++ = '$';
	p = put_decimal(p, len);
	*p++ = '\r';
	*p++ = '\n';
	memcpy(p, s, len);
	p += len;
	*p++ = '\r';
	*p++ = '\n';
	return p;
}

static void
on_script_reply(void *arg, enum redis_outcome outcome, const redisReply *reply)
{
	struct script_call *c = arg;
	/* Once: a NOSCRIPT to EVAL is the answer. */
	bool missing = outcome == REDIS_ERROR_REPLY &&
	               strncmp(reply->str, "NOSCRIPT", 8) == 0 && !c->resent;

	if (missing && redis_link_past_deadline(c->link, c->sent_us)) {
		/* Read at the deadline (redis_link.c, read_ahead()): a script
		 * run after it would only do what its caller hears 503 for. */
		outcome = REDIS_TIMED_OUT;
		reply = NULL;
	} else if (missing) {
		size_t source_len = strlen(c->script->source);
		size_t tail_len = c->len - c->tail;
		char *wire = malloc(COUNT_FRAME + ELEMENT_FRAME + 4 +
		                    ELEMENT_FRAME + source_len + tail_len);
		enum redis_submit r = REDIS_SUBMIT_FULL;

		log_info("script missing in redis, sending it whole script=%s",
		         c->script->name);
		if (wire != NULL) {
			char *p = put_count(wire, c->count);

			p = put_element(p, "EVAL", 4);
			p = put_element(p, c->script->source, source_len);
			memcpy(p, c->wire + c->tail, tail_len);
			p += tail_len;
			c->resent = true;
			r = redis_link_resend_wire_replicated(
			    c->link, on_script_reply, c, wire,
			    (size_t)(p - wire), c->min_replicas, c->requests,
			    c->sent_us);
			free(wire);
		}
		if (r == REDIS_SUBMIT_OK)
			return;
		outcome = REDIS_LINK_LOST;
		reply = NULL;
	}
	c->fn(c->arg, outcome, reply);
	free(c);
}

enum redis_submit
script_eval_replicated(struct redis_link *link, const struct script *s,
                       int nkeys, int nargs, const char *const *args,
                       int min_replicas, size_t requests, redis_reply_fn fn,
                       void *arg)
{
	struct script_call *c;
	size_t size = COUNT_FRAME + ELEMENT_FRAME + 7 + ELEMENT_FRAME +
	              sizeof(s->sha) + ELEMENT_FRAME + 20;
	char numkeys[20], *p;
	enum redis_submit r;
	int n = nkeys + nargs;

	for (int i = 0; i < n; i++)
		size += ELEMENT_FRAME + strlen(args[i]);
	c = malloc(sizeof(*c) + size);
	if (c == NULL)
		return REDIS_SUBMIT_FULL;
	c->link = link;
	c->script = s;
	c->fn = fn;
	c->arg = arg;
	c->count = 3 + n;
	c->min_replicas = min_replicas;
	c->requests = requests;
	c->resent = false;
	p = put_count(c->wire, c->count);
	p = put_element(p, "EVALSHA", 7);
	p = put_element(p, s->sha, strlen(s->sha));
	c->tail = (size_t)(p - c->wire);
	p = put_element(
	    p, numkeys,
	    (size_t)(put_decimal(numkeys, (size_t)nkeys) - numkeys));
	for (int i = 0; i < n; i++)
		p = put_element(p, args[i], strlen(args[i]));
	c->len = (size_t)(p - c->wire);
	c->sent_us = clock_monotonic_us();
	r = redis_link_submit_wire_replicated(link, on_script_reply, c, c->wire,
	                                      c->len, min_replicas, requests);
	if (r != REDIS_SUBMIT_OK)
		free(c);
	return r;
}

enum redis_submit
script_eval(struct redis_link *link, const struct script *s, int nkeys,
            int nargs, const char *const *args, redis_reply_fn fn, void *arg)
{
	return script_eval_replicated(link, s, nkeys, nargs, args, 0, 1, fn,
	                              arg);
}
