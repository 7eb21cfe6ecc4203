#include "session_id.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <uuid/uuid.h>

bool
session_id_generate(char out[SESSION_ID_LEN + 1], bool origin_bound)
{
	uuid_t bytes;
	size_t got = 0;

	/* Not uuid_generate_random(): it silently falls back to a weaker
	 * generator when the kernel pool is not ready. */
	while (got < sizeof(bytes)) {
		ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		got += (size_t)n;
	}
	bytes[6] = (unsigned char)((bytes[6] & 0x0f) | 0x40); /* version 4 */
	bytes[8] = (unsigned char)((bytes[8] & 0x3f) | 0x80); /* RFC 4122 */
	bytes[15] = (unsigned char)((bytes[15] & 0xfe) | origin_bound);
	uuid_unparse_lower(bytes, out);
	return true;
}

bool
session_id_origin_bound(const char id[SESSION_ID_LEN + 1])
{
	/* The last hex digit, lower case: odd digits are 1 3 5 7 9 b d f. */
	char c = id[SESSION_ID_LEN - 1];
	int v = c >= 'a' ? c - 'a' + 10 : c - '0';

	return (v & 1) != 0;
}

static int
hex_lower(char c)
{
	if (c >= '0' && c <= '9')
		return c;
	if (c >= 'a' && c <= 'f')
		return c;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 'a';
	return -1;
}

bool
session_id_normalize(const char *text, size_t len, char out[SESSION_ID_LEN + 1])
{
	if (len != SESSION_ID_LEN)
		return false;
	for (size_t i = 0; i < SESSION_ID_LEN; i++) {
		int c;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (text[i] != '-')
				return false;
			out[i] = '-';
			continue;
		}
		c = hex_lower(text[i]);
		if (c < 0)
			return false;
		out[i] = (char)c;
	}
	out[SESSION_ID_LEN] = '\0';
	/* Version nibble 4, variant 10xx. */
	return out[14] == '4' && strchr("89ab", out[19]) != NULL;
}

enum session_id_query
session_id_from_query(const char *query, char out[SESSION_ID_LEN + 1])
{
	static const char name[] = "session_id=";
	const char *value = NULL;
	size_t value_len = 0;

	for (const char *p = query; p != NULL && *p != '\0';) {
		size_t len = strcspn(p, "&");

		if (len >= sizeof(name) - 1 &&
		    memcmp(p, name, sizeof(name) - 1) == 0) {
			if (value != NULL)
				return SESSION_ID_REPEATED;
			value = p + sizeof(name) - 1;
			value_len = len - (sizeof(name) - 1);
		} else if (len == sizeof(name) - 2 &&
		           memcmp(p, name, len) == 0) {
			/* "session_id" with no '=' counts as present and
			 * empty. */
			if (value != NULL)
				return SESSION_ID_REPEATED;
			value = p + len;
			value_len = 0;
		}
		p += len;
		if (*p == '&')
			p++;
	}
	if (value == NULL || value_len == 0)
		return SESSION_ID_MISSING;
	return session_id_normalize(value, value_len, out)
	           ? SESSION_ID_FOUND
	           : SESSION_ID_MALFORMED;
}
