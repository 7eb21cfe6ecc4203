/* Percent-decoding (RFC 3986) of a piece of a request path.  Pure. */
#ifndef IFRAME_AUTH_HTTP_PERCENT_H
#define IFRAME_AUTH_HTTP_PERCENT_H

#include <stdbool.h>
#include <stddef.h>

/* Decodes the len bytes at in into out (cap bytes, NUL-terminated on
 * success; *out_len excludes the NUL).  A '%' must start two hex digits;
 * '+' stays '+', as in any path.  False when the input is not valid
 * percent-encoding or the result does not fit.  The result may hold any
 * byte, NUL included: the caller checks what it accepts. */
bool percent_decode(const char *in, size_t len, char *out, size_t cap,
                    size_t *out_len) __attribute__((warn_unused_result));

#endif
