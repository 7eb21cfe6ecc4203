/* Embed session tokens (§11): 32 bytes from getrandom(2) as 43
 * characters of base64url.  Redis never sees a token, only the hex
 * SHA-256 of its text (OpenSSL's libcrypto), so that a copy of the
 * database hands out no working credential. */
#ifndef IFRAME_AUTH_SESSION_EMBED_TOKEN_H
#define IFRAME_AUTH_SESSION_EMBED_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "base64url.h"

#define EMBED_TOKEN_BYTES 32
#define EMBED_TOKEN_LEN   BASE64URL_LEN(EMBED_TOKEN_BYTES) /* 43 */
#define EMBED_HASH_LEN    64                               /* hex SHA-256 */

/* Mints a token.  False when the kernel cannot supply the bytes: the
 * caller must fail, never fall back. */
bool embed_token_generate(char out[EMBED_TOKEN_LEN + 1])
    __attribute__((warn_unused_result));

/* True when text (len bytes) has a token's form: exactly 43 base64url
 * characters.  Anything else is refused before Redis is asked. */
bool embed_token_is_well_formed(const char *text, size_t len);

/* The lowercase hex SHA-256 of the token's 43 characters.  False only
 * when libcrypto fails. */
bool embed_token_hash(const char *token, char out[EMBED_HASH_LEN + 1])
    __attribute__((warn_unused_result));

#endif
