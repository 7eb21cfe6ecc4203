#include "router.h"

#include <stdio.h>
#include <string.h>

static const char *const method_names[] = {
    "GET",     "HEAD",  "POST",    "PUT",   "DELETE",
    "OPTIONS", "TRACE", "CONNECT", "PATCH",
};

#define METHOD_COUNT (sizeof(method_names) / sizeof(method_names[0]))

/* True when route r covers path: equal, or starting with r's prefix and
 * naming something after it. */
static bool
route_covers(const struct route *r, const void *ctx, const char *path)
{
	size_t len;

	if (r->covers != NULL)
		return r->covers(ctx, path);
	len = strlen(r->path);
	if (!r->prefix)
		return strcmp(r->path, path) == 0;
	return strncmp(r->path, path, len) == 0 && path[len] != '\0';
}

enum router_result
router_match(const struct route *routes, size_t count, const void *ctx,
             enum http_method method, const char *path,
             const struct route **out, unsigned *allowed)
{
	unsigned exact_methods = 0, prefix_methods = 0;
	const struct route *exact = NULL, *by_prefix = NULL;

	for (size_t i = 0; i < count; i++) {
		const struct route *r = &routes[i];

		if (!route_covers(r, ctx, path))
			continue;
		if (r->prefix) {
			prefix_methods |= r->methods;
			if ((r->methods & method) && by_prefix == NULL)
				by_prefix = r;
		} else {
			exact_methods |= r->methods;
			if ((r->methods & method) && exact == NULL)
				exact = r;
		}
	}
	if (exact_methods != 0) {
		*out = exact;
		*allowed = exact_methods;
	} else {
		*out = by_prefix;
		*allowed = prefix_methods;
	}
	if (*allowed == 0)
		return ROUTER_NOT_FOUND;
	return *out != NULL ? ROUTER_FOUND : ROUTER_METHOD_NOT_ALLOWED;
}

void
router_format_allow(unsigned methods, char *out, size_t outlen)
{
	size_t used = 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < METHOD_COUNT; i++) {
		const char *sep = used > 0 ? ", " : "";

		if (!(methods & (1u << i)))
			continue;
		/* Whole names only: stop before one that does not fit. */
		if (used + strlen(sep) + strlen(method_names[i]) >= outlen)
			return;
		used +=
		    (size_t)sprintf(out + used, "%s%s", sep, method_names[i]);
	}
}

const char *
router_method_name(enum http_method method)
{
	for (size_t i = 0; i < METHOD_COUNT; i++) {
		if (method == (1u << i))
			return method_names[i];
	}
	return "OTHER";
}
