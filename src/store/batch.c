#include "batch.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "../log.h"

struct waiter {
	redis_reply_fn fn;
	void *arg;
};

/* One call of the script: the requests it carries, and until it is sent
 * their keys and arguments, each string copied into text. */
struct call {
	struct call *next; /* in the batch's queue, until sent */
	int n;
	size_t held; /* room held on the link: its requests, and its WAIT */
	struct waiter waiters[BATCH_MAX];
	size_t offsets[BATCH_MAX * BATCH_EACH_MAX]; /* into text */
	char *text;
	size_t len, cap;
};

struct batch {
	struct redis_link *link;
	const struct script *script;
	struct batch_shape shape;
	struct event *flush;
	/* Calls not yet sent, the oldest first; the last one may still be
	 * filling.  Their requests hold room on the link (batch_add()). */
	struct call *first, *last;
};

static void on_flush(evutil_socket_t fd, short what, void *arg);

struct batch *
batch_create(struct event_base *base, struct redis_link *link,
             const struct script *script, const struct batch_shape *shape)
{
	struct batch *b;

	if (shape->keys_each + shape->args_each > BATCH_EACH_MAX)
		return NULL;
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	b->link = link;
	b->script = script;
	b->shape = *shape;
	b->flush = event_new(base, -1, 0, on_flush, b);
	if (b->flush == NULL) {
		free(b);
		return NULL;
	}
	return b;
}

static void
call_free(struct call *c)
{
	free(c->text);
	free(c);
}

/* Every request of c hears outcome and reply. */
static void
answer_all(struct call *c, enum redis_outcome outcome, const redisReply *reply)
{
	for (int i = 0; i < c->n; i++)
		c->waiters[i].fn(c->waiters[i].arg, outcome, reply);
}

static void
on_reply(void *arg, enum redis_outcome outcome, const redisReply *reply)
{
	struct call *c = arg;
	bool split =
	    (outcome == REDIS_REPLIED || outcome == REDIS_NOT_REPLICATED) &&
	    reply->type == REDIS_REPLY_ARRAY && reply->elements == (size_t)c->n;

	if (!split) {
		answer_all(c, outcome, reply);
	} else {
		for (int i = 0; i < c->n; i++) {
			const redisReply *e = reply->element[i];

			c->waiters[i].fn(c->waiters[i].arg,
			                 e->type == REDIS_REPLY_ERROR
			                     ? REDIS_ERROR_REPLY
			                     : outcome,
			                 e);
		}
	}
	call_free(c);
}

/* Sends c, taken off the queue. */
static void
send_call(struct batch *b, struct call *c)
{
	int each = b->shape.keys_each + b->shape.args_each;
	int nargs = b->shape.nshared + c->n * each;
	const char **args = malloc((size_t)nargs * sizeof(*args));
	const char **p = args;
	enum redis_submit r = REDIS_SUBMIT_FULL;

	/* The call counts them from here until its reply is read. */
	redis_link_release(b->link, c->held);
	if (args != NULL) {
		for (int i = 0; i < b->shape.nshared; i++)
			*p++ = b->shape.shared_keys[i];
		/* Every request's keys, then every request's arguments. */
		for (int i = 0; i < c->n; i++)
			for (int k = 0; k < b->shape.keys_each; k++)
				*p++ = c->text + c->offsets[i * each + k];
		for (int i = 0; i < c->n; i++)
			for (int k = b->shape.keys_each; k < each; k++)
				*p++ = c->text + c->offsets[i * each + k];
		r = script_eval_replicated(
		    b->link, b->script,
		    b->shape.nshared + c->n * b->shape.keys_each,
		    c->n * b->shape.args_each, args, b->shape.min_replicas,
		    (size_t)c->n, on_reply, c);
		free(args);
	}
	free(c->text);
	c->text = NULL;
	if (r == REDIS_SUBMIT_OK)
		return;
	/* The link went down, or filled up, within this turn: as it would
	 * have answered each of them alone. */
	log_debug("batch not sent script=%s requests=%d", b->script->name,
	          c->n);
	answer_all(c, REDIS_LINK_LOST, NULL);
	call_free(c);
}

/* The end of the turn: every call queued goes. */
static void
on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct batch *b = arg;

	(void)fd;
	(void)what;
	while (b->first != NULL) {
		struct call *c = b->first;

		b->first = c->next;
		if (b->first == NULL)
			b->last = NULL;
		if (c->n > 0) {
			send_call(b, c);
		} else { /* its one request could not be copied */
			redis_link_release(b->link, c->held);
			call_free(c);
		}
	}
}

static bool
append(struct call *c, const char *s)
{
	size_t len = strlen(s) + 1;

	if (c->len + len > c->cap) {
		size_t cap =
		    c->cap * 2 > c->len + len ? c->cap * 2 : c->len + len + 256;
		char *text = realloc(c->text, cap);

		if (text == NULL)
			return false;
		c->text = text;
		c->cap = cap;
	}
	memcpy(c->text + c->len, s, len);
	c->len += len;
	return true;
}

/* A new call at the end of the queue. */
static struct call *
call_new(struct batch *b)
{
	struct call *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if (b->last != NULL)
		b->last->next = c;
	else
		b->first = c;
	b->last = c;
	return c;
}

enum redis_submit
batch_add(struct batch *b, const char *const *keys_args, redis_reply_fn fn,
          void *arg)
{
	int each = b->shape.keys_each + b->shape.args_each;
	struct call *c = b->last;
	bool fresh = c == NULL || c->n == BATCH_MAX;
	/* A new call followed by WAIT holds its room too. */
	size_t need = fresh && b->shape.min_replicas > 0 ? 2 : 1;
	enum redis_submit r = redis_link_reserve(b->link, need);
	size_t first, len;

	if (r != REDIS_SUBMIT_OK)
		return r;
	if (fresh && (c = call_new(b)) == NULL) {
		redis_link_release(b->link, need);
		return REDIS_SUBMIT_FULL;
	}
	c->held += need;
	first = (size_t)c->n * (size_t)each;
	len = c->len;
	for (int k = 0; k < each; k++) {
		c->offsets[first + (size_t)k] = c->len;
		if (!append(c, keys_args[k])) {
			c->len = len;
			c->held--;
			redis_link_release(b->link, 1);
			return REDIS_SUBMIT_FULL;
		}
	}
	c->waiters[c->n++] = (struct waiter){fn, arg};
	event_active(b->flush, 0, 0);
	return REDIS_SUBMIT_OK;
}

void
batch_destroy(struct batch *b)
{
	if (b == NULL)
		return;
	while (b->first != NULL) {
		struct call *c = b->first;

		b->first = c->next;
		answer_all(c, REDIS_LINK_LOST, NULL);
		call_free(c);
	}
	event_free(b->flush);
	free(b);
}
