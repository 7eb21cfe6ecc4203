/* router.c: exact and prefix routes, 404, 405 with the Allow list. */
#include <criterion/criterion.h>
#include <string.h>

#include "http/router.h"

static void
noop(struct http_call *call)
{
	(void)call;
}

static const struct route routes[] = {
    {.methods = HTTP_GET,
     .path = "/healthz",
     .name = "healthz",
     .handler = noop},
    {.methods = HTTP_POST | HTTP_GET,
     .path = "/auth/validate-session",
     .name = "validate",
     .handler = noop},
    {.methods = HTTP_GET,
     .path = "/auth/sessions",
     .name = "list",
     .handler = noop},
    {.methods = HTTP_DELETE,
     .path = "/auth/sessions/",
     .prefix = true,
     .name = "revoke",
     .handler = noop},
    {.methods = HTTP_GET | HTTP_HEAD,
     .path = "/client/",
     .prefix = true,
     .name = "static",
     .handler = noop},
};

#define COUNT (sizeof(routes) / sizeof(routes[0]))

static enum router_result
match(enum http_method m, const char *path, const struct route **r,
      unsigned *allowed)
{
	return router_match(routes, COUNT, NULL, m, path, r, allowed);
}

Test(router, exact_match)
{
	const struct route *r = NULL;
	unsigned allowed = 0;

	cr_assert_eq(match(HTTP_GET, "/healthz", &r, &allowed), ROUTER_FOUND);
	cr_expect_str_eq(r->name, "healthz");
	cr_assert_eq(match(HTTP_POST, "/auth/validate-session", &r, &allowed),
	             ROUTER_FOUND);
	cr_expect_str_eq(r->name, "validate");
}

Test(router, prefix_match_needs_something_after_prefix)
{
	const struct route *r = NULL;
	unsigned allowed = 0;

	cr_assert_eq(match(HTTP_DELETE, "/auth/sessions/abc", &r, &allowed),
	             ROUTER_FOUND);
	cr_expect_str_eq(r->name, "revoke");
	cr_expect_eq(match(HTTP_DELETE, "/auth/sessions/", &r, &allowed),
	             ROUTER_NOT_FOUND);
}

Test(router, unknown_paths_are_not_found)
{
	static const char *const paths[] = {
	    "/",
	    "/healthz/",
	    "/HEALTHZ",
	    "/healthzz",
	    "/auth",
	    "/auth/",
	    "/auth/validate-session/x",
	    "/auth%2fsessions",
	    "",
	};
	const struct route *r;
	unsigned allowed;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		cr_expect_eq(match(HTTP_GET, paths[i], &r, &allowed),
		             ROUTER_NOT_FOUND, "%s", paths[i]);
}

Test(router, wrong_method_is_405_with_allow)
{
	const struct route *r;
	unsigned allowed = 0;
	char allow[96];
	static const enum http_method others[] = {
	    HTTP_HEAD,  HTTP_PUT,   HTTP_DELETE,  HTTP_OPTIONS,
	    HTTP_TRACE, HTTP_PATCH, HTTP_CONNECT,
	};

	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		cr_expect_eq(
		    match(others[i], "/auth/validate-session", &r, &allowed),
		    ROUTER_METHOD_NOT_ALLOWED);
		router_format_allow(allowed, allow, sizeof(allow));
		cr_expect_str_eq(allow, "GET, POST");
	}
	cr_expect_eq(match(HTTP_POST, "/healthz", &r, &allowed),
	             ROUTER_METHOD_NOT_ALLOWED);
	router_format_allow(allowed, allow, sizeof(allow));
	cr_expect_str_eq(allow, "GET");
}

Test(router, exact_path_wins_over_prefix_for_allow)
{
	const struct route *r;
	unsigned allowed = 0;
	char allow[96];

	/* "/auth/sessions" is exact (GET); DELETE belongs to the prefix. */
	cr_expect_eq(match(HTTP_DELETE, "/auth/sessions", &r, &allowed),
	             ROUTER_METHOD_NOT_ALLOWED);
	router_format_allow(allowed, allow, sizeof(allow));
	cr_expect_str_eq(allow, "GET");
	cr_expect_eq(match(HTTP_GET, "/auth/sessions/abc", &r, &allowed),
	             ROUTER_METHOD_NOT_ALLOWED);
	router_format_allow(allowed, allow, sizeof(allow));
	cr_expect_str_eq(allow, "DELETE");
}

Test(router, allow_lists_every_method_in_order)
{
	char allow[96];

	router_format_allow(HTTP_PATCH | HTTP_GET | HTTP_HEAD | HTTP_POST |
	                        HTTP_PUT | HTTP_DELETE | HTTP_OPTIONS |
	                        HTTP_TRACE | HTTP_CONNECT,
	                    allow, sizeof(allow));
	cr_expect_str_eq(allow, "GET, HEAD, POST, PUT, DELETE, OPTIONS, "
	                        "TRACE, CONNECT, PATCH");
	router_format_allow(0, allow, sizeof(allow));
	cr_expect_str_eq(allow, "");
	/* Truncation never overflows. */
	router_format_allow(HTTP_GET | HTTP_POST, allow, 6);
	cr_expect_str_eq(allow, "GET");
}

Test(router, method_names)
{
	cr_expect_str_eq(router_method_name(HTTP_GET), "GET");
	cr_expect_str_eq(router_method_name(HTTP_PATCH), "PATCH");
}
