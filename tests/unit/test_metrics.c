/* metrics.c: counters, histograms and gauges rendered in the Prometheus
 * text exposition format. */
#include <criterion/criterion.h>
#include <event2/buffer.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/router.h"
#include "metrics.h"

static const struct route routes[] = {
    {.methods = HTTP_GET, .path = "/a", .name = "a"},
    {.methods = HTTP_POST, .path = "/b", .name = "b"},
    {.methods = HTTP_GET, .path = "/c/", .prefix = true, .name = "c"},
};

#define COUNT (sizeof(routes) / sizeof(routes[0]))

static struct metrics *m;

static void
setup(void)
{
	m = metrics_create(routes, COUNT);
	cr_assert_not_null(m);
}

static void
teardown(void)
{
	metrics_destroy(m);
}

/* The rendered text, NUL-terminated, to free. */
static char *
render(const struct metrics_gauges *g)
{
	static const struct metrics_gauges zero = {0};
	struct evbuffer *buf = evbuffer_new();
	size_t len;
	char *text;

	cr_assert_not_null(buf);
	metrics_render(m, g != NULL ? g : &zero, buf);
	len = evbuffer_get_length(buf);
	text = malloc(len + 1);
	cr_assert_not_null(text);
	cr_assert_eq(evbuffer_remove(buf, text, len), (int)len);
	text[len] = '\0';
	evbuffer_free(buf);
	return text;
}

/* The value of the sample whose name and labels are exactly series, as
 * text; NULL when there is no such line. */
static const char *
sample(const char *text, const char *series, char *value, size_t size)
{
	size_t n = strlen(series);

	for (const char *line = text; *line != '\0';) {
		size_t len = strcspn(line, "\n");

		if (len > n && strncmp(line, series, n) == 0 &&
		    line[n] == ' ') {
			snprintf(value, size, "%.*s", (int)(len - n - 1),
			         line + n + 1);
			return value;
		}
		line += len;
		if (*line == '\n')
			line++;
	}
	return NULL;
}

/* The value of an integer sample, which must be present. */
static unsigned long long
count(const char *text, const char *series)
{
	char value[64], *end;
	unsigned long long v;

	cr_assert_not_null(sample(text, series, value, sizeof(value)),
	                   "no sample %s in:\n%s", series, text);
	v = strtoull(value, &end, 10);
	cr_assert(value[0] != '\0' && *end == '\0', "%s has value \"%s\"",
	          series, value);
	return v;
}

static double
real(const char *text, const char *series)
{
	char value[64], *end;
	double v;

	cr_assert_not_null(sample(text, series, value, sizeof(value)),
	                   "no sample %s in:\n%s", series, text);
	v = strtod(value, &end);
	cr_assert(value[0] != '\0' && *end == '\0', "%s has value \"%s\"",
	          series, value);
	return v;
}

TestSuite(metrics, .init = setup, .fini = teardown);

Test(metrics, every_line_has_the_exposition_shape)
{
	regex_t sample_re, comment_re;
	char *text;
	size_t lines = 0;

	metrics_request(m, &routes[0], 200, 0.01);
	metrics_request(m, NULL, 404, 0.001);
	metrics_validation(m, VALIDATION_OK);
	metrics_session_created(m);
	metrics_redis_round_trip(m, 0.002);
	text = render(NULL);
	cr_assert_eq(
	    regcomp(
	        &sample_re,
	        "^iframe_auth_[a-z_]+"
	        "(\\{[a-z_]+=\"[^\"\\\\\n]*\"(,[a-z_]+=\"[^\"\\\\\n]*\")*\\})?"
	        " (-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?|\\+Inf|NaN)$",
	        REG_EXTENDED | REG_NOSUB),
	    0);
	cr_assert_eq(regcomp(&comment_re,
	                     "^# (HELP iframe_auth_[a-z_]+ [^\n]+|TYPE "
	                     "iframe_auth_[a-z_]+ (counter|gauge|histogram))$",
	                     REG_EXTENDED | REG_NOSUB),
	             0);
	cr_assert_neq(text[0], '\0');
	cr_expect_eq(text[strlen(text) - 1], '\n', "no final newline");
	for (char *line = strtok(text, "\n"); line != NULL;
	     line = strtok(NULL, "\n")) {
		regex_t *re = line[0] == '#' ? &comment_re : &sample_re;

		cr_expect_eq(regexec(re, line, 0, NULL, 0), 0,
		             "bad line: \"%s\"", line);
		lines++;
	}
	cr_expect_gt(lines, 20);
	regfree(&sample_re);
	regfree(&comment_re);
	free(text);
}

/* The metric name of a sample or comment line, into name. */
static void
line_name(const char *line, char *name, size_t size)
{
	if (strncmp(line, "# HELP ", 7) == 0 ||
	    strncmp(line, "# TYPE ", 7) == 0)
		line += 7;
	snprintf(name, size, "%.*s", (int)strcspn(line, "{ "), line);
}

Test(metrics, every_name_is_prefixed_and_typed_before_use)
{
	char *text, *copy;
	char typed[32][96];
	size_t ntyped = 0;

	metrics_request(m, &routes[1], 201, 0.2);
	metrics_request(m, NULL, 405, 0.001);
	metrics_redis_round_trip(m, 0.002);
	text = render(NULL);
	copy = strdup(text);
	cr_assert_not_null(copy);
	for (char *line = strtok(copy, "\n"); line != NULL;
	     line = strtok(NULL, "\n")) {
		char name[96];
		bool found = false;

		line_name(line, name, sizeof(name));
		cr_expect_eq(strncmp(name, "iframe_auth_", 12), 0,
		             "name of \"%s\"", line);
		if (strncmp(line, "# TYPE ", 7) == 0) {
			for (size_t i = 0; i < ntyped; i++)
				cr_expect_str_neq(typed[i], name,
				                  "typed twice");
			cr_assert_lt(ntyped, 32);
			snprintf(typed[ntyped++], sizeof(typed[0]), "%s", name);
			continue;
		}
		if (line[0] == '#')
			continue;
		/* A sample belongs to the family typed last: histograms
		 * add a suffix to the family's name. */
		cr_assert_gt(ntyped, 0, "sample before any TYPE: %s", line);
		if (strcmp(name, typed[ntyped - 1]) == 0) {
			found = true;
		} else {
			static const char *const suffixes[] = {
			    "_bucket", "_sum", "_count"};
			size_t base = strlen(typed[ntyped - 1]);

			for (size_t i = 0; i < 3; i++)
				found |= strncmp(name, typed[ntyped - 1],
				                 base) == 0 &&
				         strcmp(name + base, suffixes[i]) == 0;
		}
		cr_expect(found, "\"%s\" is not in family %s", line,
		          typed[ntyped - 1]);
	}
	cr_expect_geq(ntyped, 8);
	free(copy);
	free(text);
}

Test(metrics, no_series_appears_twice)
{
	char *text, *copy;
	char seen[256][160];
	size_t nseen = 0;

	for (size_t i = 0; i < COUNT; i++)
		metrics_request(m, &routes[i], 200, 0.01);
	metrics_request(m, &routes[0], 500, 0.01);
	metrics_request(m, NULL, 404, 0.01);
	text = render(NULL);
	copy = strdup(text);
	cr_assert_not_null(copy);
	for (char *line = strtok(copy, "\n"); line != NULL;
	     line = strtok(NULL, "\n")) {
		size_t len = strcspn(line, " ");

		if (line[0] == '#')
			continue;
		for (size_t i = 0; i < nseen; i++)
			cr_expect(strlen(seen[i]) != len ||
			              strncmp(seen[i], line, len) != 0,
			          "series twice: %s", seen[i]);
		cr_assert_lt(nseen, 256);
		cr_assert_lt(len, sizeof(seen[0]));
		snprintf(seen[nseen++], sizeof(seen[0]), "%.*s", (int)len,
		         line);
	}
	free(copy);
	free(text);
}

Test(metrics, request_counters_by_route_and_status)
{
	char *text;
	char value[64];

	metrics_request(m, &routes[0], 200, 0.01);
	metrics_request(m, &routes[0], 200, 0.02);
	metrics_request(m, &routes[0], 503, 0.02);
	metrics_request(m, &routes[2], 200, 0.01);
	metrics_request(m, &routes[2], 404, 0.01);
	metrics_request(m, &routes[2], 404, 0.01);
	metrics_request(m, &routes[2], 404, 0.01);
	text = render(NULL);
	cr_expect_eq(
	    count(text,
	          "iframe_auth_requests_total{route=\"a\",status=\"200\"}"),
	    2);
	cr_expect_eq(
	    count(text,
	          "iframe_auth_requests_total{route=\"a\",status=\"503\"}"),
	    1);
	cr_expect_eq(
	    count(text,
	          "iframe_auth_requests_total{route=\"c\",status=\"200\"}"),
	    1);
	cr_expect_eq(
	    count(text,
	          "iframe_auth_requests_total{route=\"c\",status=\"404\"}"),
	    3);
	/* No request, no status series; the histogram is still there. */
	cr_expect_null(sample(text,
	                      "iframe_auth_requests_total{route=\"b\",status="
	                      "\"200\"}",
	                      value, sizeof(value)));
	cr_expect_null(strstr(text, "requests_total{route=\"b\""));
	cr_expect_eq(
	    count(text,
	          "iframe_auth_request_duration_seconds_count{route=\"b\"}"),
	    0);
	cr_expect_eq(
	    count(text,
	          "iframe_auth_request_duration_seconds_count{route=\"a\"}"),
	    3);
	cr_expect_eq(
	    count(text,
	          "iframe_auth_request_duration_seconds_count{route=\"c\"}"),
	    4);
	free(text);
}

Test(metrics, unmatched_requests_have_their_own_route)
{
	char *text;

	metrics_request(m, NULL, 404, 0.001);
	metrics_request(m, NULL, 404, 0.001);
	metrics_request(m, NULL, 405, 0.001);
	text = render(NULL);
	cr_expect_eq(count(text, "iframe_auth_requests_total{route="
	                         "\"unmatched\",status=\"404\"}"),
	             2);
	cr_expect_eq(count(text, "iframe_auth_requests_total{route="
	                         "\"unmatched\",status=\"405\"}"),
	             1);
	cr_expect_eq(count(text, "iframe_auth_request_duration_seconds_count{"
	                         "route=\"unmatched\"}"),
	             3);
	/* Nothing leaked into a real route. */
	for (size_t i = 0; i < COUNT; i++) {
		char series[128];

		snprintf(series, sizeof(series),
		         "iframe_auth_request_duration_seconds_count{route="
		         "\"%s\"}",
		         routes[i].name);
		cr_expect_eq(count(text, series), 0, "%s", series);
	}
	free(text);
}

Test(metrics, many_statuses_are_all_counted)
{
	char *text, *p;
	unsigned long long total = 0;
	const char *needle = "iframe_auth_requests_total{route=\"b\",";

	/* More distinct statuses than the table has slots. */
	for (int s = 200; s < 230; s++)
		metrics_request(m, &routes[1], s, 0.01);
	text = render(NULL);
	for (p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle))
		total += strtoull(p + strcspn(p, " "), NULL, 10);
	cr_expect_eq(total, 30);
	cr_expect_eq(count(text, "iframe_auth_requests_total{route=\"b\","
	                         "status=\"200\"}"),
	             1);
	free(text);
}

/* Checks one histogram: le bounds increase, counts are cumulative, +Inf
 * equals _count, and returns the bucket counts in order. */
static size_t
check_histogram(const char *text, const char *name, const char *labels,
                unsigned long long *counts, double *les, size_t max)
{
	char prefix[160];
	size_t n = 0, plen;
	const char *p = text;
	unsigned long long inf = 0, total;
	bool saw_inf = false;

	snprintf(prefix, sizeof(prefix), "%s_bucket{%s%sle=\"", name, labels,
	         labels[0] != '\0' ? "," : "");
	plen = strlen(prefix);
	while ((p = strstr(p, prefix)) != NULL) {
		const char *le = p + plen;
		const char *value = strchr(le, ' ');

		cr_assert_not_null(value);
		cr_assert(p == text || p[-1] == '\n');
		cr_expect_not(saw_inf, "bucket after +Inf");
		if (strncmp(le, "+Inf\"}", 6) == 0) {
			saw_inf = true;
			inf = strtoull(value + 1, NULL, 10);
		} else {
			cr_assert_lt(n, max);
			les[n] = strtod(le, NULL);
			counts[n] = strtoull(value + 1, NULL, 10);
			if (n > 0) {
				cr_expect_gt(les[n], les[n - 1],
				             "le bounds out of order");
				cr_expect_geq(counts[n], counts[n - 1],
				              "%s not cumulative", name);
			}
			n++;
		}
		p = value;
	}
	cr_assert(saw_inf, "no +Inf bucket for %s", prefix);
	cr_assert_gt(n, 0);
	cr_expect_geq(inf, counts[n - 1]);
	snprintf(prefix, sizeof(prefix), "%s_count%s%s%s", name,
	         labels[0] != '\0' ? "{" : "", labels,
	         labels[0] != '\0' ? "}" : "");
	total = count(text, prefix);
	cr_expect_eq(inf, total, "+Inf bucket %llu, %s %llu", inf, prefix,
	             total);
	return n;
}

/* The cumulative count of the bucket whose bound is le. */
static unsigned long long
bucket(const unsigned long long *counts, const double *les, size_t n, double le)
{
	for (size_t i = 0; i < n; i++) {
		if (les[i] == le)
			return counts[i];
	}
	cr_assert_fail("no bucket le=%g", le);
	return 0;
}

Test(metrics, request_histogram_is_cumulative)
{
	unsigned long long counts[32];
	double les[32];
	size_t n;
	char *text;

	metrics_request(m, &routes[0], 200, 0.0001);
	metrics_request(m, &routes[0], 200, 0.003);
	metrics_request(m, &routes[0], 200, 0.5); /* on a bound: le is <= */
	metrics_request(m, &routes[0], 200, 0.7);
	metrics_request(m, &routes[0], 200, 60.0); /* past the last bound */
	text = render(NULL);
	n = check_histogram(text, "iframe_auth_request_duration_seconds",
	                    "route=\"a\"", counts, les, 32);
	cr_expect_geq(n, 5);
	cr_expect_eq(bucket(counts, les, n, 0.001), 1);
	cr_expect_eq(bucket(counts, les, n, 0.005), 2);
	cr_expect_eq(bucket(counts, les, n, 0.25), 2);
	cr_expect_eq(bucket(counts, les, n, 0.5), 3);
	cr_expect_eq(bucket(counts, les, n, 1), 4);
	cr_expect_eq(counts[n - 1], 4);
	cr_expect_eq(count(text, "iframe_auth_request_duration_seconds_bucket{"
	                         "route=\"a\",le=\"+Inf\"}"),
	             5);
	cr_expect_float_eq(
	    real(text, "iframe_auth_request_duration_seconds_sum{route=\"a\"}"),
	    61.2031, 1e-6);
	/* The other routes, empty, are consistent too. */
	n = check_histogram(text, "iframe_auth_request_duration_seconds",
	                    "route=\"b\"", counts, les, 32);
	cr_expect_eq(counts[n - 1], 0);
	check_histogram(text, "iframe_auth_request_duration_seconds",
	                "route=\"unmatched\"", counts, les, 32);
	free(text);
}

Test(metrics, redis_round_trip_histogram)
{
	unsigned long long counts[32];
	double les[32];
	size_t n;
	char *text;

	metrics_redis_round_trip(m, 0.0002);
	metrics_redis_round_trip(m, 0.0002);
	metrics_redis_round_trip(m, 0.02);
	metrics_redis_round_trip(m, 3.0);
	text = render(NULL);
	n = check_histogram(text, "iframe_auth_redis_round_trip_seconds", "",
	                    counts, les, 32);
	cr_expect_eq(counts[0], 2);
	cr_expect_eq(bucket(counts, les, n, 0.025), 3);
	cr_expect_eq(bucket(counts, les, n, 2.5), 3);
	cr_expect_eq(bucket(counts, les, n, 5), 4);
	cr_expect_eq(count(text, "iframe_auth_redis_round_trip_seconds_count"),
	             4);
	cr_expect_float_eq(
	    real(text, "iframe_auth_redis_round_trip_seconds_sum"), 3.0204,
	    1e-6);
	free(text);
}

Test(metrics, sessions_and_validations)
{
	char *text;

	metrics_session_created(m);
	metrics_session_created(m);
	metrics_session_created(m);
	metrics_validation(m, VALIDATION_OK);
	metrics_validation(m, VALIDATION_OK);
	metrics_validation(m, VALIDATION_ALREADY_USED);
	metrics_validation(m, VALIDATION_INVALID);
	metrics_validation(m, VALIDATION_INVALID);
	metrics_validation(m, VALIDATION_INVALID);
	text = render(NULL);
	cr_expect_eq(count(text, "iframe_auth_sessions_created_total"), 3);
	cr_expect_eq(
	    count(text, "iframe_auth_validations_total{result=\"ok\"}"), 2);
	cr_expect_eq(count(text, "iframe_auth_validations_total{result="
	                         "\"not_found\"}"),
	             0);
	cr_expect_eq(count(text, "iframe_auth_validations_total{result="
	                         "\"already_used\"}"),
	             1);
	cr_expect_eq(count(text, "iframe_auth_validations_total{result="
	                         "\"invalid\"}"),
	             3);
	free(text);
}

Test(metrics, origin_mismatches_revocations_and_revoke_alls)
{
	char *text;

	metrics_validation(m, VALIDATION_ORIGIN_MISMATCH);
	metrics_validation(m, VALIDATION_ORIGIN_MISMATCH);
	metrics_validation(m, VALIDATION_REVOKED);
	metrics_revoke_all(m);
	metrics_revoke_all(m);
	metrics_revoke_all(m);
	text = render(NULL);
	cr_expect_eq(count(text, "iframe_auth_validations_total{result="
	                         "\"origin_mismatch\"}"),
	             2);
	cr_expect_eq(count(text, "iframe_auth_validations_total{result="
	                         "\"revoked\"}"),
	             1);
	cr_expect_eq(count(text, "iframe_auth_revoke_alls_total"), 3);
	free(text);
}

Test(metrics, verifications_embed_sessions_and_logouts)
{
	static const char *const results[] = {
	    "ok", "missing", "invalid", "expired", "revoked", "unavailable"};
	char *text, series[96];

	metrics_embed_opened(m);
	metrics_embed_opened(m);
	for (int r = 0; r < VERIFY_RESULTS; r++) {
		for (int i = 0; i <= r; i++)
			metrics_verification(m, (enum verify_result)r);
	}
	metrics_logout(m, true);
	metrics_logout(m, false);
	metrics_logout(m, false);
	text = render(NULL);
	cr_expect_eq(count(text, "iframe_auth_embed_sessions_opened_total"), 2);
	for (int r = 0; r < VERIFY_RESULTS; r++) {
		snprintf(series, sizeof(series),
		         "iframe_auth_verifications_total{result=\"%s\"}",
		         results[r]);
		cr_expect_eq(count(text, series), (unsigned long long)r + 1,
		             "%s", series);
	}
	cr_expect_eq(count(text, "iframe_auth_logouts_total{result=\"ended\"}"),
	             1);
	cr_expect_eq(count(text, "iframe_auth_logouts_total{result=\"none\"}"),
	             2);
	free(text);
}

Test(metrics, fresh_metrics_are_zero)
{
	char *text = render(NULL);

	cr_expect_null(strstr(text, "iframe_auth_requests_total{"));
	cr_expect_eq(count(text, "iframe_auth_sessions_created_total"), 0);
	cr_expect_eq(
	    count(text, "iframe_auth_validations_total{result=\"ok\"}"), 0);
	cr_expect_eq(count(text, "iframe_auth_redis_round_trip_seconds_count"),
	             0);
	cr_expect_eq(count(text, "iframe_auth_redis_round_trip_seconds_bucket{"
	                         "le=\"+Inf\"}"),
	             0);
	free(text);
}

Test(metrics, gauges_are_rendered)
{
	struct metrics_gauges g = {.redis_up = 1,
	                           .redis_reconnects = 7,
	                           .redis_pending = 3,
	                           .redis_timeouts = 5,
	                           .iframe_marks_dropped = 9,
	                           .open_connections = 12};
	char *text = render(&g);

	cr_expect_eq(count(text, "iframe_auth_redis_up"), 1);
	cr_expect_eq(count(text, "iframe_auth_redis_reconnects_total"), 7);
	cr_expect_eq(count(text, "iframe_auth_redis_pending"), 3);
	cr_expect_eq(count(text, "iframe_auth_redis_timeouts_total"), 5);
	cr_expect_eq(count(text, "iframe_auth_iframe_marks_dropped_total"), 9);
	cr_expect_eq(count(text, "iframe_auth_open_connections"), 12);
	cr_expect(strstr(text, "# TYPE iframe_auth_redis_timeouts_total "
	                       "counter\n") != NULL);
	cr_expect(strstr(text, "# TYPE iframe_auth_iframe_marks_dropped_total "
	                       "counter\n") != NULL);
	cr_expect(strstr(text, "# TYPE iframe_auth_redis_up gauge\n") != NULL);
	cr_expect(strstr(text, "# TYPE iframe_auth_redis_reconnects_total "
	                       "counter\n") != NULL);
	free(text);
	g.redis_up = 0;
	text = render(&g);
	cr_expect_eq(count(text, "iframe_auth_redis_up"), 0);
	free(text);
}

Test(metrics, sentinel_gauges)
{
	struct metrics_gauges g = {.redis_master = "10.0.0.5",
	                           .redis_master_port = 6380,
	                           .redis_master_switches = 2,
	                           .redis_wait_replicas = 1};
	char *text = render(&g);

	cr_expect_eq(count(text, "iframe_auth_redis_master_info{host=\""
	                         "10.0.0.5\",port=\"6380\"}"),
	             1);
	cr_expect_eq(count(text, "iframe_auth_redis_master_switches_total"), 2);
	cr_expect_eq(count(text, "iframe_auth_redis_wait_replicas"), 1);
	cr_expect(strstr(text, "# TYPE iframe_auth_redis_master_info "
	                       "gauge\n") != NULL);
	free(text);
	/* Without sentinels, or before the first master: no info series. */
	text = render(NULL);
	cr_expect_null(strstr(text, "iframe_auth_redis_master_info"));
	cr_expect_eq(count(text, "iframe_auth_redis_master_switches_total"), 0);
	free(text);
}
