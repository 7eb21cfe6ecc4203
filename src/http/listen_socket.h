/* The listening socket, made here rather than by evhttp so that its
 * backlog is ours: libevent's is 128, which a burst of connections
 * overflows (SPEC §7 asks for SOMAXCONN or 511). */
#ifndef IFRAME_AUTH_HTTP_LISTEN_SOCKET_H
#define IFRAME_AUTH_HTTP_LISTEN_SOCKET_H

/* Resolves host (an IPv4 or IPv6 address, or a name: its first
 * address), binds with SO_REUSEADDR and listens: a nonblocking,
 * close-on-exec socket.  -1 with a logged reason on failure. */
int listen_socket_open(const char *host, int port);

#endif
