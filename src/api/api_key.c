#include "api_key.h"

#include <string.h>
#include <strings.h>

bool
api_key_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	/* Walk the longer length so that a short guess takes as long as a
	 * long one, and fold every difference into one value. */
	size_t n = alen > blen ? alen : blen;
	volatile unsigned char diff = (unsigned char)(alen != blen);

	for (size_t i = 0; i < n; i++) {
		unsigned char x = i < alen ? (unsigned char)a[i] : 0;
		unsigned char y = i < blen ? (unsigned char)b[i] : 0;

		diff |= (unsigned char)(x ^ y);
	}
	return diff == 0;
}

bool
api_key_authorized(const char *keys, const char *authorization)
{
	static const char scheme[] = "Bearer ";
	const char *token;
	size_t token_len;
	bool match = false;

	if (authorization == NULL ||
	    strncasecmp(authorization, scheme, sizeof(scheme) - 1) != 0)
		return false;
	token = authorization + sizeof(scheme) - 1;
	token_len = strlen(token);
	if (token_len == 0)
		return false;
	for (const char *k = keys; *k != '\0';) {
		size_t len = strcspn(k, ",");

		match |= api_key_equal(k, len, token, token_len);
		k += len;
		if (*k == ',')
			k++;
	}
	return match;
}
