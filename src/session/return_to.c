#include "return_to.h"

#include <stdbool.h>
#include <strings.h>

/* True when text starts with %2F or %5C in either case: an encoded '/'
 * or '\'. */
static bool
encoded_slash(const char *text, size_t len)
{
	return len >= 3 && (strncasecmp(text, "%2f", 3) == 0 ||
	                    strncasecmp(text, "%5c", 3) == 0);
}

const char *
return_to_check(const char *text, size_t len)
{
	if (len == 0 || text[0] != '/')
		return "must be a path starting with '/'";
	if (len > RETURN_TO_MAX)
		return "must be at most 1024 bytes";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 || c >= 0x7f)
			return "must be printable ASCII (no control "
			       "characters; percent-encode the rest)";
		if (c == '\\')
			return "must not contain '\\'";
	}
	if (len >= 2 && text[1] == '/')
		return "must not start with '//'";
	if (encoded_slash(text + 1, len - 1))
		return "must not start with an encoded '/' or '\\' (%2F, "
		       "%5C)";
	return NULL;
}
