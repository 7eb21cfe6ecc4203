/* base64url without padding (RFC 4648 §5): the alphabet A-Z a-z 0-9 - _,
 * safe in a URL, a cookie value and an HTTP header without quoting. */
#ifndef IFRAME_AUTH_SESSION_BASE64URL_H
#define IFRAME_AUTH_SESSION_BASE64URL_H

#include <stdbool.h>
#include <stddef.h>

/* Characters that n bytes encode to (no padding). */
#define BASE64URL_LEN(n) (((n)*4 + 2) / 3)

/* Writes BASE64URL_LEN(len) characters and a NUL to out. */
void base64url_encode(const void *in, size_t len, char *out);

/* True when c is one of the 64 characters of the alphabet. */
bool base64url_is_char(char c);

#endif
