#include "cookie.h"

#include <stdio.h>
#include <string.h>

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

bool
cookie_find(const char *header, const char *name, const char **value,
            size_t *len)
{
	size_t name_len = strlen(name);

	for (const char *p = header; p != NULL && *p != '\0';) {
		size_t pair = strcspn(p, ";");
		const char *end = p + pair, *eq, *v, *v_end;

		while (p < end && is_space(*p))
			p++;
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL) {
			const char *n_end = eq;

			while (n_end > p && is_space(n_end[-1]))
				n_end--;
			v = eq + 1;
			v_end = end;
			while (v < v_end && is_space(*v))
				v++;
			while (v_end > v && is_space(v_end[-1]))
				v_end--;
			if ((size_t)(n_end - p) == name_len &&
			    memcmp(p, name, name_len) == 0) {
				if (v_end - v >= 2 && *v == '"' &&
				    v_end[-1] == '"') {
					v++;
					v_end--;
				}
				*value = v;
				*len = (size_t)(v_end - v);
				return true;
			}
		}
		p = *end == ';' ? end + 1 : end;
	}
	return false;
}

bool
cookie_format(char *out, size_t outlen, const char *name, const char *value,
              int max_age)
{
	int n =
	    snprintf(out, outlen, "%s=%s; " COOKIE_ATTRIBUTES "; Max-Age=%d",
	             name, value, max_age);

	return n > 0 && (size_t)n < outlen;
}

const char *
cookie_check_name(const char *name)
{
	if (name[0] == '\0')
		return "must not be empty";
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f ||
		    strchr("()<>@,;:\\\"/[]?={}", *p) != NULL)
			return "must be a cookie name: printable ASCII without "
			       "spaces or ()<>@,;:\\\"/[]?={}";
	}
	return NULL;
}
