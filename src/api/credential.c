#include "credential.h"

#include <string.h>
#include <strings.h>

#include "../http/cookie.h"

static enum credential
take(const char *text, size_t len, char token[EMBED_TOKEN_LEN + 1])
{
	if (!embed_token_is_well_formed(text, len))
		return CREDENTIAL_MALFORMED;
	memcpy(token, text, len);
	token[len] = '\0';
	return CREDENTIAL_TOKEN;
}

enum credential
credential_pick(const char *authorization, const char *cookie,
                const char *cookie_name, char token[EMBED_TOKEN_LEN + 1])
{
	const char *value;
	size_t len;

	if (authorization != NULL) {
		/* The scheme is case-insensitive (RFC 9110 §11.1). */
		if (strncasecmp(authorization, "Bearer ", 7) != 0)
			return CREDENTIAL_MALFORMED;
		value = authorization + 7;
		while (*value == ' ')
			value++;
		len = strlen(value);
		while (len > 0 && value[len - 1] == ' ')
			len--;
		return take(value, len, token);
	}
	if (cookie_name != NULL && cookie != NULL &&
	    cookie_find(cookie, cookie_name, &value, &len))
		return take(value, len, token);
	return CREDENTIAL_MISSING;
}
