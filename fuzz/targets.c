#include "targets.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <json-c/json.h>

#include "app.h"
#include "config.h"
#include "log.h"
#include "session/create_request.h"
#include "session/record.h"
#include "session/session_id.h"

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
	char id[SESSION_ID_LEN + 1];
	char *query;

	if (len > FUZZ_INPUT_MAX)
		return;
	if (session_id_normalize((const char *)data, len, id))
		check_id(id);
	if (session_id_from_body((const char *)data, len, id) == NULL)
		check_id(id);
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
	    asprintf(&answer, "{\"valid\":true,%.*s%.*s", (int)a.used_at_len,
	             a.used_at, (int)a.rest_len, a.rest) < 0)
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
	struct create_request req;
	char detail[256];

	if (len > FUZZ_INPUT_MAX)
		return;
	if (create_request_parse((const char *)data, len, 86400, &req, detail,
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
		volatile char sink = a.used_at[a.used_at_len - 1];

		sink = a.rest[a.rest_len - 1];
		(void)sink;
	}
}

/* The members of the validate answer (record_answer_general()). */
static bool
is_answer_member(const char *key)
{
	static const char *const members[] = {
	    "valid",      "used_at", "session_id", "created_at",
	    "expires_at", "user_id", "metadata"};

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
 * handler, with Redis unreachable) runs in this process, and each input is
 * written raw into a loopback connection to it.  The loop then runs until
 * the service has answered and closed, or a bounded number of turns.
 */
#define LOOP_TURNS 64

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

static void
start_service(void)
{
	static struct config cfg;
	char port[16], err[256];

	snprintf(port, sizeof(port), "%d", free_port());
	setenv("PORT", port, 1);
	setenv("REDIS_HOST", "127.0.0.1", 1);
	setenv("REDIS_PORT", "1", 1); /* refused: every Redis route is 503 */
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
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)cfg.port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

void
fuzz_http(const uint8_t *data, size_t len)
{
	char reply[4096];
	int fd;

	if (len > FUZZ_INPUT_MAX)
		return;
	if (app == NULL)
		start_service();
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0)
		abort();
	/* Loopback buffers hold a whole input: no need to interleave. */
	if (write(fd, data, len) != (ssize_t)len)
		abort();
	shutdown(fd, SHUT_WR);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (int turn = 0; turn < LOOP_TURNS; turn++) {
		ssize_t n;

		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		n = read(fd, reply, sizeof(reply));
		if (n == 0)
			break; /* answered and closed */
	}
	close(fd);
	/* Let the service see the close and free the connection. */
	for (int turn = 0; turn < 4; turn++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}
