/* A cap on the arrays a Redis or sentinel reply may announce.  hiredis
 * allocates an announced array whole before a byte of it arrives: a peer
 * announcing a billion elements costs gigabytes and seconds of the loop
 * (allocating, then freeing it element by element), whoever the peer is.
 * The largest array any reply of ours holds is a page of the admin list
 * (two entries per session, count <= 1000, and SCAN may return a few
 * times COUNT); a sentinel's answers hold two or three. */
#ifndef IFRAME_AUTH_STORE_REPLY_CAP_H
#define IFRAME_AUTH_STORE_REPLY_CAP_H

#include <stdbool.h>

#include <hiredis/async.h>

#define REPLY_ARRAY_MAX 100000

/* Puts the cap into ac's reply reader: a reply announcing a larger array
 * fails the connection. */
void reply_cap_arrays(redisAsyncContext *ac);

/* True, once, when the cap refused an array: called by a disconnect
 * callback, to say so instead of hiredis's words for it.  The service has
 * one thread, and hiredis disconnects the failing connection at once. */
bool reply_cap_refused(void);

#endif
