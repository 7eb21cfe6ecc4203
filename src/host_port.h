/* Lists of "host:port" addresses, as REDIS_SENTINELS holds them.  Pure:
 * config.c checks the text with it, the sentinel module reads it. */
#ifndef IFRAME_AUTH_HOST_PORT_H
#define IFRAME_AUTH_HOST_PORT_H

#include <stddef.h>

/* Sentinel deployments have three or five; sixteen is plenty. */
#define HOST_PORT_LIST_MAX 16
#define HOST_PORT_HOST_MAX 256

struct host_port {
	char host[HOST_PORT_HOST_MAX]; /* a name, IPv4 or IPv6 (no brackets) */
	int port;
};

/*
 * Parses "host:port,host:port,...": entries separated by commas, spaces
 * around an entry ignored, an IPv6 address in brackets ("[::1]:26379"),
 * ports 1-65535, at most HOST_PORT_LIST_MAX entries, no entry twice.
 * Returns NULL and fills out[0..*count) (out may be NULL to check only),
 * or what is wrong with the text.
 */
const char *host_port_list_parse(const char *text, struct host_port *out,
                                 size_t *count);

#endif
