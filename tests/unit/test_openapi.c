/* docs/openapi.yaml (as the service serves it) against the route table of
 * src/api/routes.c: every documented operation is routed, and every route
 * and method is documented.  The table itself is the list, so the check
 * follows every route that is added. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/openapi_doc.h"
#include "api/static_files.h"

static const struct {
	const char *name;
	enum http_method method;
} methods[] = {
    {"get", HTTP_GET},     {"head", HTTP_HEAD},     {"post", HTTP_POST},
    {"put", HTTP_PUT},     {"delete", HTTP_DELETE}, {"options", HTTP_OPTIONS},
    {"patch", HTTP_PATCH}, {"trace", HTTP_TRACE},
};
#define METHOD_COUNT (sizeof(methods) / sizeof(methods[0]))

/* OpenAPI has no field for CONNECT, which the server refuses before
 * routing anyway (400 on every path). */
#define DOCUMENTABLE (~(unsigned)HTTP_CONNECT)

static struct api api;
static struct json_object *paths;
static char static_dir[1024];

static void
setup(void)
{
	char err[256];
	struct json_object *doc = json_tokener_parse(openapi_json);

	cr_assert_not_null(doc, "openapi_json is not JSON");
	cr_assert(json_object_object_get_ex(doc, "paths", &paths));
	json_object_get(paths);
	json_object_put(doc);
	snprintf(static_dir, sizeof(static_dir), "%s/static",
	         getenv("SOURCE_ROOT"));
	api.static_files = static_files_load(static_dir, err, sizeof(err));
	cr_assert_not_null(api.static_files, "%s", err);
}

static void
teardown(void)
{
	static_files_destroy(api.static_files);
	json_object_put(paths);
}

/* A path that the template names: each {parameter} filled in. */
static void
instantiate(const char *template, char *out, size_t outlen)
{
	size_t n = 0;

	for (const char *p = template; *p != '\0' && n + 8 < outlen; p++) {
		if (*p == '{') {
			memcpy(out + n, "example", 7);
			n += 7;
			p = strchr(p, '}');
			cr_assert_not_null(p, "unclosed { in %s", template);
			continue;
		}
		out[n++] = *p;
	}
	out[n] = '\0';
}

/* The route that serves method at the template's path, or NULL. */
static const struct route *
route_of(const char *template, enum http_method method)
{
	char path[512];
	const struct route *route = NULL;
	unsigned allowed = 0;

	instantiate(template, path, sizeof(path));
	if (router_match(api_routes, api_route_count, &api, method, path,
	                 &route, &allowed) != ROUTER_FOUND)
		return NULL;
	return route;
}

TestSuite(openapi, .init = setup, .fini = teardown);

Test(openapi, every_documented_operation_is_routed)
{
	json_object_object_foreach(paths, template, item)
	{
		for (size_t m = 0; m < METHOD_COUNT; m++) {
			struct json_object *op;

			if (!json_object_object_get_ex(item, methods[m].name,
			                               &op))
				continue;
			cr_expect_not_null(
			    route_of(template, methods[m].method),
			    "%s %s is documented but not routed",
			    methods[m].name, template);
		}
	}
}

Test(openapi, every_route_and_method_is_documented)
{
	for (size_t r = 0; r < api_route_count; r++) {
		const struct route *route = &api_routes[r];

		for (size_t m = 0; m < METHOD_COUNT; m++) {
			bool documented = false;

			if (!(route->methods & methods[m].method &
			      DOCUMENTABLE))
				continue;
			json_object_object_foreach(paths, template, item)
			{
				struct json_object *op;

				if (json_object_object_get_ex(
				        item, methods[m].name, &op) &&
				    route_of(template, methods[m].method) ==
				        route)
					documented = true;
			}
			cr_expect(documented,
			          "route %s: %s is not in docs/openapi.yaml",
			          route->name, methods[m].name);
		}
	}
}

/* Each file under static/ is a path of its own. */
static int
expect_documented_file(const char *file, const struct stat *st, int type,
                       struct FTW *ftw)
{
	const char *url_path = file + strlen(static_dir);
	struct json_object *item;

	(void)st;
	(void)ftw;
	if (type != FTW_F)
		return 0;
	cr_expect(json_object_object_get_ex(paths, url_path, &item),
	          "static file %s is not in docs/openapi.yaml", url_path);
	return 0;
}

Test(openapi, every_static_file_is_documented)
{
	cr_assert_eq(nftw(static_dir, expect_documented_file, 8, FTW_PHYS), 0);
}
