#include "query.h"

#include <string.h>

const char *
query_param(const char *query, const char *name, size_t *len)
{
	size_t nlen = strlen(name);

	for (const char *p = query; p != NULL && *p != '\0';) {
		size_t plen = strcspn(p, "&");

		if (plen > nlen && memcmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			*len = plen - nlen - 1;
			return p + nlen + 1;
		}
		p += plen;
		if (*p == '&')
			p++;
	}
	return NULL;
}
