/* Checks of §7 on a parsed request that evhttp lets through: requests
 * whose meaning two parties could read differently are refused (400) and
 * their connection closed.  What the parsed headers no longer show is
 * checked on the raw bytes: head_check.h. */
#ifndef IFRAME_AUTH_HTTP_REQUEST_CHECK_H
#define IFRAME_AUTH_HTTP_REQUEST_CHECK_H

#include "router.h"

struct evkeyvalq;

#define REQUEST_HEADERS_MAX      100
#define REQUEST_HEADERS_SIZE_MAX 8192
#define REQUEST_TARGET_MAX       8192 /* over it: 414 */

/* NULL when the request is acceptable, otherwise why it is not:
 * an HTTP version other than 1.0 or 1.1; CONNECT; HTTP/1.1 without Host
 * (or with several); Content-Length or Transfer-Encoding on HEAD or TRACE,
 * whose bodies evhttp never reads (it would read the body as the next
 * request); Transfer-Encoding on HTTP/1.0; more than REQUEST_HEADERS_MAX
 * headers, or headers over REQUEST_HEADERS_SIZE_MAX bytes in all.  The
 * framing headers' values and number are checked on the raw head. */
const char *request_check(const struct evkeyvalq *headers,
                          enum http_method method, int major, int minor);

#endif
