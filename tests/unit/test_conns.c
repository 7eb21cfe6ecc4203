/* conns.c: the record of a connection that evhttp gives up on right
 * after asking for its bufferevent, before the record has found it. */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "http/conns.h"

/* libevent's allocations fail from the one this count reaches 0 at, while
 * failing is set. */
static int allocations_before_failure;
static bool failing;
static bool failed;

static bool
allocation_fails(void)
{
	if (!failing || allocations_before_failure-- > 0)
		return false;
	failed = true;
	return true;
}

static void *
failing_malloc(size_t n)
{
	return allocation_fails() ? NULL : malloc(n);
}

static void *
failing_realloc(void *p, size_t n)
{
	return allocation_fails() ? NULL : realloc(p, n);
}

/* evhttp says it gave up on the connection just before it closes the
 * socket: allocations work again from there. */
static void
on_libevent_log(int severity, const char *msg)
{
	(void)severity;
	if (strstr(msg, "cannot get connection") != NULL)
		failing = false;
}

static void
install_allocator(void)
{
	event_set_mem_functions(failing_malloc, failing_realloc, free);
	event_set_log_callback(on_libevent_log);
}

/* For the first connection, evhttp makes its own connection (one
 * allocation) and copies the peer's address (another); the allocations
 * after those fail until evhttp gives up: it frees its connection and
 * the bufferevent, and closes the socket.  The second connection is then
 * accepted normally, before the first one's record looks for its
 * connection. */
static struct bufferevent *
first_one_fails(struct event_base *base, void *arg)
{
	static int calls;
	struct bufferevent *bev = conns_new_bufferevent(base, arg);

	if (++calls == 1) {
		allocations_before_failure = 2;
		failing = true;
	}
	return bev;
}

static void
no_reply_lost(void *arg)
{
	(void)arg;
	cr_assert_fail("no reply was cut short");
}

static void
reply_ok(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_reply(req, 200, "OK", NULL);
}

static int
connect_to(const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	cr_assert(fd >= 0);
	cr_assert(connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) ==
	          0);
	return fd;
}

Test(conns, connection_given_up_by_evhttp_before_it_is_found,
     .init = install_allocator)
{
	struct event_base *base = event_base_new();
	struct evhttp *http = evhttp_new(base);
	struct conns c;
	struct evhttp_bound_socket *bound;
	struct sockaddr_in addr;
	socklen_t len = sizeof(addr);
	int first, second;
	const char request[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	char answer[256] = "";
	bool closed = false;
	ssize_t n = -1;

	cr_assert(base != NULL && http != NULL);
	cr_assert(conns_init(&c, base, 10, 10, no_reply_lost, NULL));
	evhttp_set_gencb(http, reply_ok, NULL);
	evhttp_set_bevcb(http, first_one_fails, &c);
	bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
	cr_assert(bound != NULL);
	cr_assert(
	    conns_attach_listener(&c, evhttp_bound_socket_get_listener(bound)));
	cr_assert(getsockname(evhttp_bound_socket_get_fd(bound),
	                      (struct sockaddr *)&addr, &len) == 0);
	first = connect_to(&addr);
	second = connect_to(&addr);
	cr_assert(send(second, request, strlen(request), 0) > 0);

	/* The first is closed; the second, whose socket may have the first
	 * one's number, is served. */
	for (int i = 0; i < 200 && (!closed || n <= 0); i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (!closed)
			closed = recv(first, answer, 1, MSG_DONTWAIT) == 0;
		if (n <= 0)
			n = recv(second, answer, sizeof(answer) - 1,
			         MSG_DONTWAIT);
		usleep(5000);
	}
	cr_expect(failed, "evhttp's error path was not reached");
	cr_expect(closed, "the first connection stayed open");
	cr_expect(n > 0 && strstr(answer, "200 OK") != NULL,
	          "the second connection was not served: %s", answer);
	cr_expect_eq(c.count, 1);

	close(first);
	close(second);
	conns_detach_listener(&c);
	evhttp_free(http);
	cr_expect_eq(c.count, 0);
	conns_finish(&c);
	event_base_free(base);
}
