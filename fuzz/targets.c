#include "targets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "api/credential.h"
#include "app.h"
#include "config.h"
#include "http/cookie.h"
#include "log.h"
#include "session/base64url.h"
#include "session/create_request.h"
#include "session/embed_record.h"
#include "session/origin.h"
#include "session/record.h"
#include "session/return_to.h"
#include "session/session_id.h"
#include "session/validate_body.h"

#include "fake_redis.h"
#include "http_frames.h"

/* A NUL-terminated copy, for the parsers that take C strings. */
static char *
text_of(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (s != NULL) {
		memcpy(s, data, len);
		s[len] = '\0';
	}
	return s;
}

/* A result that passes must be a canonical lowercase v4 id. */
static void
check_id(const char id[SESSION_ID_LEN + 1])
{
	char again[SESSION_ID_LEN + 1];

	if (strlen(id) != SESSION_ID_LEN ||
	    !session_id_normalize(id, SESSION_ID_LEN, again) ||
	    strcmp(id, again) != 0)
		abort();
}

void
fuzz_session_id(const uint8_t *data, size_t len)
{
	char id[SESSION_ID_LEN + 1], origin[ORIGIN_MAX + 1];
	struct validate_body body;
	char *query;

	if (len > FUZZ_INPUT_MAX)
		return;
	if (session_id_normalize((const char *)data, len, id))
		check_id(id);
	if (validate_body_parse((const char *)data, len, &body) == NULL) {
		if (body.has_id)
			check_id(body.id);
		/* A parent_origin kept is canonical: it reads back as itself.
		 */
		if (body.parent_origin[0] != '\0' &&
		    (origin_normalize(body.parent_origin,
		                      strlen(body.parent_origin),
		                      origin) != NULL ||
		     strcmp(origin, body.parent_origin) != 0))
			abort();
	}
	query = text_of(data, len);
	if (query == NULL)
		return;
	if (session_id_from_query(query, id) == SESSION_ID_FOUND)
		check_id(id);
	free(query);
}

/* Marks record used as the validate script does, and checks that the
 * answer cut from it is a JSON object with valid, used_at and the id. */
static void
check_answer(const char *record)
{
	static const char unused[] = RECORD_HEAD_UNUSED;
	struct record_answer a;
	struct json_object *obj, *v;
	char *used, *answer;

	if (asprintf(&used,
	             RECORD_HEAD_USED RECORD_USED_AT
	             "2026-11-22T10:30:00Z\",%s",
	             record + sizeof(unused) - 1) < 0)
		abort();
	if (!record_answer(used, strlen(used), &a) ||
	    asprintf(&answer, "{\"valid\":true,%.*s%.*s%.*s}",
	             (int)a.used_at_len, a.used_at, (int)a.rest_len, a.rest,
	             (int)a.fields_len, a.fields) < 0)
		abort();
	obj = json_tokener_parse(answer);
	if (obj == NULL || !json_object_object_get_ex(obj, "valid", &v) ||
	    !json_object_get_boolean(v) ||
	    !json_object_object_get_ex(obj, "used_at", NULL) ||
	    !json_object_object_get_ex(obj, "session_id", NULL) ||
	    json_object_object_get_ex(obj, "used", NULL))
		abort();
	json_object_put(obj);
	free(answer);
	free(used);
}

void
fuzz_create_body(const uint8_t *data, size_t len)
{
	static const struct create_rules rules = {
	    .max_ttl = 86400,
	    .frame_ancestors =
	        "'self' https://*.example.com http://localhost:*",
	    .self_origin = "https://auth.example.com",
	};
	struct create_request req;
	char detail[512];

	if (len > FUZZ_INPUT_MAX)
		return;
	if (create_request_parse((const char *)data, len, &rules, &req, detail,
	                         sizeof(detail)) == CREATE_PARSE_OK) {
		char *record = record_serialize(
		    "550e8400-e29b-41d4-a716-446655440000", 0, 60, &req);
		struct json_object *parsed;

		/* Whatever is accepted must make a record that reads back,
		 * and, once marked used, a validate answer that parses. */
		if (record == NULL)
			abort();
		parsed = record_parse(record, strlen(record));
		if (parsed == NULL)
			abort();
		json_object_put(parsed);
		check_answer(record);
		free(record);
		create_request_finish(&req);
	}
}

void
fuzz_record(const uint8_t *data, size_t len)
{
	struct json_object *obj;
	struct record_answer a;

	if (len > FUZZ_INPUT_MAX)
		return;
	obj = record_parse((const char *)data, len);
	json_object_put(obj);
	/* The pieces must lie inside the input (ASan checks the reads). */
	if (record_answer((const char *)data, len, &a)) {
		volatile char sink =
		    (char)(a.used_at[a.used_at_len - 1] ^
		           a.rest[a.rest_len - 1] ^
		           (a.fields_len > 0 ? a.fields[a.fields_len - 1] : 0));

		(void)sink;
	}
}

/* The members of the validate answer (record_answer_general()). */
static bool
is_answer_member(const char *key)
{
	static const char *const members[] = {
	    "valid",      "used_at", "session_id", "created_at",
	    "expires_at", "user_id", "return_to",  "metadata"};

	for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
		if (strcmp(key, members[i]) == 0)
			return true;
	}
	return false;
}

/* The fast path's answer to the same record, parsed, when it has one made
 * of the answer's members only (the fast path cuts by position and trusts
 * the service's own layout to hold nothing else); NULL otherwise. */
static struct json_object *
fast_answer(const char *text, size_t len)
{
	struct record_answer a;
	struct json_object *obj;
	char *joined;

	if (!record_answer(text, len, &a) ||
	    asprintf(&joined, "{\"valid\":true,%.*s%.*s", (int)a.used_at_len,
	             a.used_at, (int)a.rest_len, a.rest) < 0)
		return NULL;
	obj = json_tokener_parse(joined);
	free(joined);
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return NULL;
	}
	json_object_object_foreach(obj, key, v)
	{
		(void)v;
		if (!is_answer_member(key)) {
			json_object_put(obj);
			return NULL;
		}
	}
	return obj;
}

/* Member key of obj, or NULL. */
static struct json_object *
member(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(obj, key, &v);
	return v;
}

void
fuzz_record_general(const uint8_t *data, size_t len)
{
	const char *text = (const char *)data;
	struct json_object *record, *answer, *fast;
	char *general;

	if (len > FUZZ_INPUT_MAX)
		return;
	record = record_parse(text, len);
	general = record_answer_general(text, len);
	/* Every record that reads and has been used has an answer. */
	if ((general != NULL) !=
	    (record != NULL &&
	     json_object_is_type(member(record, "used_at"), json_type_string)))
		abort();
	if (general == NULL) {
		json_object_put(record);
		return;
	}
	/* It is JSON, says valid, and carries the record's own fields. */
	answer = json_tokener_parse(general);
	if (!json_object_is_type(answer, json_type_object) ||
	    !json_object_get_boolean(member(answer, "valid")) ||
	    !json_object_equal(member(answer, "session_id"),
	                       member(record, "session_id")) ||
	    !json_object_equal(member(answer, "used_at"),
	                       member(record, "used_at")) ||
	    !json_object_equal(member(answer, "metadata"),
	                       member(record, "metadata")) ||
	    !json_object_equal(member(answer, "return_to"),
	                       member(record, "return_to")) ||
	    member(answer, "used") != NULL)
		abort();
	/* And a record that the fast path reads gets the same answer. */
	fast = fast_answer(text, len);
	if (fast != NULL && !json_object_equal(fast, answer))
		abort();
	json_object_put(fast);
	json_object_put(answer);
	json_object_put(record);
	free(general);
}

/*
 * The HTTP request path: the whole service (evhttp, the router, every
 * handler) runs in this process, against the fake Redis of fake_redis.c
 * on the same event loop, so that handlers get past their first Redis
 * command.  Each input is written raw into a loopback connection, and the
 * loop runs until every complete request in it has been answered (or
 * the service has closed).  Then:
 *   - what came back is well-formed responses and nothing else;
 *   - each complete request got exactly one (fewer only when the service
 *     closed after one that may end the connection), plus at most one
 *     refusal of what follows them;
 *   - the listener still accepts and answers a new connection.
 */

/* Loop turns without anything arriving after which the service is taken
 * to have said all it will: every answer here needs only loopback round
 * trips, a handful of turns each.  Once everything expected is there,
 * the wait is only for anything extra (a request answered twice). */
#define QUIET_TURNS            32
#define QUIET_TURNS_UNANSWERED 512
#define TURNS_MAX              8192
#define REPLY_MAX              (1 << 20)

static struct app *app;
static struct event_base *base;
static struct sockaddr_in addr;

/* A port nothing listens on now. */
static int
free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
		abort();
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* What the service sent on one connection, read as it arrives. */
struct conversation {
	int fd;
	char *reply;
	size_t len;
	bool closed;
};

/* Runs one loop turn and reads what arrived; true when anything did. */
static bool
turn(struct conversation *c)
{
	bool progress = false;

	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	while (!c->closed) {
		ssize_t n = read(c->fd, c->reply + c->len, REPLY_MAX - c->len);

		if (n > 0) {
			c->len += (size_t)n;
			progress = true;
			if (c->len == REPLY_MAX)
				abort(); /* no input earns a megabyte */
		} else if (n == 0 || errno != EAGAIN) {
			c->closed = true;
			progress = true;
		} else {
			break;
		}
	}
	return progress;
}

static int
connect_service(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		abort();
	return fd;
}

/* Sends request and runs the loop until the service closes or goes
 * quiet, for longer while answered() says something is still owed. */
static void
converse(struct conversation *c, const uint8_t *request, size_t len,
         bool (*answered)(const struct conversation *, void *), void *arg)
{
	int quiet = 0;

	c->fd = connect_service();
	c->len = 0;
	c->closed = false;
	/* Loopback buffers hold a whole input: no need to interleave. */
	if (len > 0 && write(c->fd, request, len) != (ssize_t)len)
		abort();
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	for (int i = 0; i < TURNS_MAX && !c->closed; i++) {
		quiet = turn(c) ? 0 : quiet + 1;
		if (quiet >=
		    (answered(c, arg) ? QUIET_TURNS : QUIET_TURNS_UNANSWERED))
			break;
	}
	close(c->fd);
	/* Let the service see the close and free the connection. */
	for (int i = 0; i < 4; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

struct expected {
	struct http_request_frame requests[HTTP_FRAMES_MAX];
	size_t nrequests;
	bool rest; /* bytes after the complete requests */
};

/* Every complete request answered, and nothing after them to refuse. */
static bool
all_answered(const struct conversation *c, void *arg)
{
	const struct expected *e = arg;
	struct http_responses r;

	http_parse_responses(c->reply, c->len, c->closed, e->requests,
	                     e->nrequests, &r);
	return r.malformed || (r.count >= e->nrequests && !e->rest);
}

/* Reports why a conversation is wrong, with what came back, and stops. */
static void
fail(const char *why, const struct conversation *c, const struct expected *e,
     const struct http_responses *r)
{
	fprintf(stderr,
	        "fuzz_http: %s: %zu complete requests%s, %zu responses%s, "
	        "connection %s; the service sent:\n%.*s\n",
	        why, e->nrequests, e->rest ? " and more" : "", r->count,
	        r->malformed ? " and malformed data" : "",
	        c->closed ? "closed" : "open", (int)c->len, c->reply);
	abort();
}

static void
check_conversation(const struct conversation *c, const struct expected *e)
{
	struct http_responses r;

	http_parse_responses(c->reply, c->len, c->closed, e->requests,
	                     e->nrequests, &r);
	/* To see what an input does: FUZZ_HTTP_SHOW=1 fuzz_http <file>. */
	if (getenv("FUZZ_HTTP_SHOW") != NULL)
		fprintf(stderr, "%.*s\n", (int)c->len, c->reply);
	if (r.malformed)
		fail("something other than well-formed responses", c, e, &r);
	/* After the complete requests the service refuses what it cannot
	 * frame, or waits for more; with nothing there, nothing more may
	 * be answered. */
	if (r.count > e->nrequests && !e->rest)
		fail("a request answered twice, or a smuggled one", c, e, &r);
	if (r.count < e->nrequests &&
	    (!c->closed ||
	     !(r.count > 0 &&
	       (r.last_closes || e->requests[r.count - 1].may_close))))
		fail("a complete request left unanswered", c, e, &r);
}

static bool
one_answer(const struct conversation *c, void *arg)
{
	struct http_responses r;

	(void)arg;
	http_parse_responses(c->reply, c->len, c->closed, NULL, 0, &r);
	return r.malformed || r.count > 0;
}

/* The listener still accepts, and the service still answers. */
static void
check_still_serving(struct conversation *c)
{
	static const char healthz[] =
	    "GET /healthz HTTP/1.1\r\nHost: fuzz\r\n\r\n";
	struct http_responses r;

	converse(c, (const uint8_t *)healthz, sizeof(healthz) - 1, one_answer,
	         NULL);
	http_parse_responses(c->reply, c->len, c->closed, NULL, 0, &r);
	if (r.malformed || r.count != 1 || r.last_status != 200)
		abort();
}

static void
start_service(void)
{
	static struct config cfg;
	struct fake_redis *redis = fake_redis_listen();
	char port[16], redis_port[16], err[256];

	snprintf(port, sizeof(port), "%d", free_port());
	snprintf(redis_port, sizeof(redis_port), "%d", fake_redis_port(redis));
	setenv("PORT", port, 1);
	setenv("REDIS_HOST", "127.0.0.1", 1);
	setenv("REDIS_PORT", redis_port, 1);
	setenv("REDIS_PASSWORD", "fuzz", 1);
	setenv("LOG_LEVEL", "ERROR", 1);
	if (getenv("STATIC_DIR") == NULL)
		setenv("STATIC_DIR", "static", 1);
	if (!config_load(&cfg, "/dev/null", err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	log_set_level(cfg.log_level);
	app = app_create(&cfg);
	if (app == NULL)
		abort();
	base = app_event_base(app);
	fake_redis_attach(redis, base);
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)cfg.port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	/* Through the handshake, so that the first input already finds the
	 * link up. */
	for (int i = 0; i < TURNS_MAX && !fake_redis_ready(redis); i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	for (int i = 0; i < 8; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	if (!fake_redis_ready(redis))
		abort();
}

void
fuzz_http(const uint8_t *data, size_t len)
{
	static struct conversation c;
	struct expected e;
	size_t framed;

	if (len > FUZZ_INPUT_MAX)
		return;
	if (app == NULL) {
		start_service();
		c.reply = malloc(REPLY_MAX);
		if (c.reply == NULL)
			abort();
	}
	e.nrequests = http_frame_requests((const char *)data, len, e.requests,
	                                  HTTP_FRAMES_MAX, &framed);
	e.rest = framed < len;
	converse(&c, data, len, all_answered, &e);
	check_conversation(&c, &e);
	check_still_serving(&c);
}

/* Whether s can go in a header value: no control characters. */
static bool
header_safe(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}

void
fuzz_embed_record(const uint8_t *data, size_t len)
{
	struct embed_view view;

	if (len > FUZZ_INPUT_MAX ||
	    !embed_record_read((const char *)data, len, &view))
		return;
	/* What verify puts in headers is safe there. */
	if (strlen(view.session_id) < 8 || !header_safe(view.session_id) ||
	    !header_safe(view.expires_at) ||
	    (view.user_id != NULL && !header_safe(view.user_id)))
		abort();
	for (const char *p = view.metadata; p != NULL && *p != '\0'; p++) {
		if (!base64url_is_char(*p))
			abort();
	}
	embed_view_finish(&view);
}

void
fuzz_embed(const uint8_t *data, size_t len)
{
	char token[EMBED_TOKEN_LEN + 1];
	const char *value;
	size_t vlen;
	char *text;

	if (len > FUZZ_INPUT_MAX)
		return;
	text = text_of(data, len);
	if (text == NULL)
		return;
	/* The input as a Cookie header, then as an Authorization
	 * header. */
	if (cookie_find(text, "__Host-iframe-auth", &value, &vlen) &&
	    (value < text || value + vlen > text + strlen(text)))
		abort();
	if (credential_pick(NULL, text, "__Host-iframe-auth", token) ==
	        CREDENTIAL_TOKEN &&
	    !embed_token_is_well_formed(token, strlen(token)))
		abort();
	if (credential_pick(text, NULL, NULL, token) == CREDENTIAL_TOKEN &&
	    !embed_token_is_well_formed(token, strlen(token)))
		abort();
	/* A return_to that passes can only be read as a path here. */
	if (return_to_check((const char *)data, len) == NULL &&
	    (data[0] != '/' || (len > 1 && data[1] == '/') ||
	     memchr(data, '\\', len) != NULL))
		abort();
	free(text);
}
