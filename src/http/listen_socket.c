#include "listen_socket.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../log.h"

/* Older C libraries define SOMAXCONN as 128, libevent's own figure; 511
 * is what nginx and Redis ask for.  The kernel caps either at
 * net.core.somaxconn. */
#define LISTEN_BACKLOG (SOMAXCONN > 511 ? SOMAXCONN : 511)

/* A listening socket on ai, or -1 with errno set. */
static int
listen_on(const struct addrinfo *ai)
{
	int one = 1;
	int fd = socket(ai->ai_family,
	                ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	                ai->ai_protocol);
	int err;

	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == 0 &&
	    bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
	    listen(fd, LISTEN_BACKLOG) == 0)
		return fd;
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

int
listen_socket_open(const char *host, int port)
{
	const struct addrinfo hints = {
	    .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	struct addrinfo *list = NULL;
	char service[16];
	int fd;
	int rc;

	snprintf(service, sizeof(service), "%d", port);
	rc = getaddrinfo(host, service, &hints, &list);
	if (rc != 0) {
		log_error(
		    "cannot listen host=%s port=%d error=\"%s\"", host, port,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	/* The first address only, as evhttp did: a name with several
	 * addresses must not end up on whichever happens to be free. */
	fd = listen_on(list);
	if (fd < 0)
		log_error("cannot listen host=%s port=%d error=\"%s\"", host,
		          port, strerror(errno));
	freeaddrinfo(list);
	return fd;
}
