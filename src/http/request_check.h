/* Checks of §7 on a parsed request that evhttp lets through: requests
 * whose meaning two parties could read differently are refused (400) and
 * their connection closed. */
#ifndef IFRAME_AUTH_HTTP_REQUEST_CHECK_H
#define IFRAME_AUTH_HTTP_REQUEST_CHECK_H

struct evkeyvalq;

#define REQUEST_HEADERS_MAX      100
#define REQUEST_HEADERS_SIZE_MAX 8192

/* NULL when the request is acceptable, otherwise why it is not:
 * an HTTP version other than 1.0 or 1.1, HTTP/1.1 without Host (or with
 * several), more than one Content-Length, Content-Length together with
 * Transfer-Encoding, more than REQUEST_HEADERS_MAX headers, or headers over
 * REQUEST_HEADERS_SIZE_MAX bytes in all. */
const char *request_check(const struct evkeyvalq *headers, int major,
                          int minor);

#endif
