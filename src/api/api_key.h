/* Bearer API keys (§5): a comma-separated list, so that keys can be
 * rotated, compared in constant time. */
#ifndef IFRAME_AUTH_API_API_KEY_H
#define IFRAME_AUTH_API_API_KEY_H

#include <stdbool.h>
#include <stddef.h>

/* True when a and b (lengths alen, blen) are equal.  The time taken
 * depends on the lengths only, never on where the bytes differ. */
bool api_key_equal(const char *a, size_t alen, const char *b, size_t blen);

/* True when authorization (the header value, or NULL) is
 * "Bearer <one of keys>".  Every key is compared, whichever matches. */
bool api_key_authorized(const char *keys, const char *authorization);

#endif
