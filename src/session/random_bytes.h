/* Bytes from the kernel's CSPRNG (getrandom(2)), for ids and tokens. */
#ifndef IFRAME_AUTH_SESSION_RANDOM_BYTES_H
#define IFRAME_AUTH_SESSION_RANDOM_BYTES_H

#include <stdbool.h>
#include <stddef.h>

/* Fills buf with len random bytes; false when the kernel cannot supply
 * them (never a weaker source). */
bool random_bytes(void *buf, size_t len) __attribute__((warn_unused_result));

#endif
