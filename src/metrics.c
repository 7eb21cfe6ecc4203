#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>

#include "http/router.h"

#define STATUS_SLOTS 16

static const double buckets[] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
#define BUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct histogram {
	uint64_t counts[BUCKETS]; /* per bucket, made cumulative on render */
	uint64_t total;
	double sum;
};

struct status_count {
	int status;
	uint64_t count;
};

struct route_series {
	const char *name;
	struct status_count statuses[STATUS_SLOTS];
	struct histogram latency;
};

struct metrics {
	const struct route *routes;
	size_t route_count;
	struct route_series *series; /* route_count + 1 ("unmatched") */
	uint64_t sessions_created;
	uint64_t validations[VALIDATION_RESULTS];
	uint64_t verifications[VERIFY_RESULTS];
	uint64_t embed_opened;
	uint64_t logouts[2]; /* none, ended */
	uint64_t revoke_alls;
	struct histogram redis_rtt;
};

static const char *const validation_names[] = {
    "ok", "not_found", "already_used", "invalid", "revoked", "origin_mismatch"};

static const char *const verify_names[] = {"ok",      "missing", "invalid",
                                           "expired", "revoked", "unavailable"};

struct metrics *
metrics_create(const struct route *routes, size_t count)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->series = calloc(count + 1, sizeof(*m->series));
	if (m->series == NULL) {
		free(m);
		return NULL;
	}
	m->routes = routes;
	m->route_count = count;
	for (size_t i = 0; i < count; i++)
		m->series[i].name = routes[i].name;
	m->series[count].name = "unmatched";
	return m;
}

void
metrics_destroy(struct metrics *m)
{
	if (m == NULL)
		return;
	free(m->series);
	free(m);
}

static void
observe(struct histogram *h, double seconds)
{
	for (size_t i = 0; i < BUCKETS; i++) {
		if (seconds <= buckets[i]) {
			h->counts[i]++;
			break;
		}
	}
	h->total++;
	h->sum += seconds;
}

void
metrics_request(struct metrics *m, const struct route *route, int status,
                double seconds)
{
	size_t i = route != NULL ? (size_t)(route - m->routes) : m->route_count;
	struct route_series *s = &m->series[i];

	observe(&s->latency, seconds);
	for (size_t k = 0; k < STATUS_SLOTS; k++) {
		if (s->statuses[k].status == status ||
		    s->statuses[k].status == 0) {
			s->statuses[k].status = status;
			s->statuses[k].count++;
			return;
		}
	}
	/* More distinct statuses than slots: count them under the last. */
	s->statuses[STATUS_SLOTS - 1].count++;
}

void
metrics_session_created(struct metrics *m)
{
	m->sessions_created++;
}

void
metrics_validation(struct metrics *m, enum validation_result result)
{
	m->validations[result]++;
}

void
metrics_verification(struct metrics *m, enum verify_result result)
{
	m->verifications[result]++;
}

void
metrics_embed_opened(struct metrics *m)
{
	m->embed_opened++;
}

void
metrics_logout(struct metrics *m, bool ended)
{
	m->logouts[ended]++;
}

void
metrics_revoke_all(struct metrics *m)
{
	m->revoke_alls++;
}

void
metrics_redis_round_trip(struct metrics *m, double seconds)
{
	observe(&m->redis_rtt, seconds);
}

static void
render_histogram(struct evbuffer *out, const char *name, const char *labels,
                 const struct histogram *h)
{
	uint64_t cumulative = 0;

	for (size_t i = 0; i < BUCKETS; i++) {
		cumulative += h->counts[i];
		evbuffer_add_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n",
		                    name, labels, labels[0] ? "," : "",
		                    buckets[i], (unsigned long long)cumulative);
	}
	evbuffer_add_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name,
	                    labels, labels[0] ? "," : "",
	                    (unsigned long long)h->total);
	evbuffer_add_printf(out, "%s_sum%s%s%s %.6f\n", name,
	                    labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
	                    h->sum);
	evbuffer_add_printf(out, "%s_count%s%s%s %llu\n", name,
	                    labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
	                    (unsigned long long)h->total);
}

void
metrics_render(const struct metrics *m, const struct metrics_gauges *g,
               struct evbuffer *out)
{
	char labels[96];

	evbuffer_add_printf(out,
	                    "# HELP iframe_auth_requests_total HTTP requests "
	                    "answered, by route and status.\n"
	                    "# TYPE iframe_auth_requests_total counter\n");
	for (size_t i = 0; i <= m->route_count; i++) {
		for (size_t k = 0; k < STATUS_SLOTS; k++) {
			const struct status_count *sc =
			    &m->series[i].statuses[k];

			if (sc->status == 0)
				break;
			evbuffer_add_printf(
			    out,
			    "iframe_auth_requests_total{route=\"%s\","
			    "status=\"%d\"} %llu\n",
			    m->series[i].name, sc->status,
			    (unsigned long long)sc->count);
		}
	}
	evbuffer_add_printf(out, "# HELP iframe_auth_request_duration_seconds "
	                         "Time from a request's arrival to its reply, "
	                         "by route.\n"
	                         "# TYPE iframe_auth_request_duration_seconds "
	                         "histogram\n");
	for (size_t i = 0; i <= m->route_count; i++) {
		snprintf(labels, sizeof(labels), "route=\"%s\"",
		         m->series[i].name);
		render_histogram(out, "iframe_auth_request_duration_seconds",
		                 labels, &m->series[i].latency);
	}
	evbuffer_add_printf(
	    out,
	    "# HELP iframe_auth_sessions_created_total "
	    "Sessions created.\n"
	    "# TYPE iframe_auth_sessions_created_total counter\n"
	    "iframe_auth_sessions_created_total %llu\n",
	    (unsigned long long)m->sessions_created);
	evbuffer_add_printf(out,
	                    "# HELP iframe_auth_validations_total Session "
	                    "validations, by result.\n"
	                    "# TYPE iframe_auth_validations_total counter\n");
	for (size_t i = 0; i < VALIDATION_RESULTS; i++)
		evbuffer_add_printf(
		    out, "iframe_auth_validations_total{result=\"%s\"} %llu\n",
		    validation_names[i], (unsigned long long)m->validations[i]);
	evbuffer_add_printf(out,
	                    "# HELP iframe_auth_verifications_total "
	                    "/auth/verify answers, by result.\n"
	                    "# TYPE iframe_auth_verifications_total counter\n");
	for (size_t i = 0; i < VERIFY_RESULTS; i++)
		evbuffer_add_printf(
		    out,
		    "iframe_auth_verifications_total{result=\"%s\"} %llu\n",
		    verify_names[i], (unsigned long long)m->verifications[i]);
	evbuffer_add_printf(
	    out,
	    "# HELP iframe_auth_embed_sessions_opened_total Embed sessions "
	    "opened by a successful validation.\n"
	    "# TYPE iframe_auth_embed_sessions_opened_total counter\n"
	    "iframe_auth_embed_sessions_opened_total %llu\n"
	    "# HELP iframe_auth_logouts_total Logouts, by whether an embed "
	    "session was ended.\n"
	    "# TYPE iframe_auth_logouts_total counter\n"
	    "iframe_auth_logouts_total{result=\"ended\"} %llu\n"
	    "iframe_auth_logouts_total{result=\"none\"} %llu\n",
	    (unsigned long long)m->embed_opened,
	    (unsigned long long)m->logouts[1],
	    (unsigned long long)m->logouts[0]);
	evbuffer_add_printf(
	    out,
	    "# HELP iframe_auth_revoke_alls_total Revoke-alls of a user's "
	    "sessions.\n"
	    "# TYPE iframe_auth_revoke_alls_total counter\n"
	    "iframe_auth_revoke_alls_total %llu\n",
	    (unsigned long long)m->revoke_alls);
	evbuffer_add_printf(
	    out,
	    "# HELP iframe_auth_redis_up Whether the Redis link is up.\n"
	    "# TYPE iframe_auth_redis_up gauge\n"
	    "iframe_auth_redis_up %d\n"
	    "# HELP iframe_auth_redis_reconnects_total Times the Redis link "
	    "came back up after a drop.\n"
	    "# TYPE iframe_auth_redis_reconnects_total counter\n"
	    "iframe_auth_redis_reconnects_total %llu\n"
	    "# HELP iframe_auth_redis_pending Requests waiting on Redis.\n"
	    "# TYPE iframe_auth_redis_pending gauge\n"
	    "iframe_auth_redis_pending %zu\n"
	    "# HELP iframe_auth_redis_timeouts_total Redis commands answered "
	    "by their deadline, the link kept.\n"
	    "# TYPE iframe_auth_redis_timeouts_total counter\n"
	    "iframe_auth_redis_timeouts_total %llu\n"
	    "# HELP iframe_auth_iframe_marks_dropped_total iframe_opened marks "
	    "not sent because too many were in flight.\n"
	    "# TYPE iframe_auth_iframe_marks_dropped_total counter\n"
	    "iframe_auth_iframe_marks_dropped_total %llu\n"
	    "# HELP iframe_auth_open_connections Open client connections.\n"
	    "# TYPE iframe_auth_open_connections gauge\n"
	    "iframe_auth_open_connections %zu\n",
	    g->redis_up, (unsigned long long)g->redis_reconnects,
	    g->redis_pending, (unsigned long long)g->redis_timeouts,
	    (unsigned long long)g->iframe_marks_dropped, g->open_connections);
	evbuffer_add_printf(
	    out,
	    "# HELP iframe_auth_redis_master_switches_total Times the Redis "
	    "link came up on another master than before.\n"
	    "# TYPE iframe_auth_redis_master_switches_total counter\n"
	    "iframe_auth_redis_master_switches_total %llu\n"
	    "# HELP iframe_auth_redis_wait_replicas Replicas that "
	    "acknowledged the last write WAIT asked about.\n"
	    "# TYPE iframe_auth_redis_wait_replicas gauge\n"
	    "iframe_auth_redis_wait_replicas %d\n",
	    (unsigned long long)g->redis_master_switches,
	    g->redis_wait_replicas);
	/* The sentinel module checked the address: no quote or backslash
	 * can reach the label. */
	if (g->redis_master != NULL)
		evbuffer_add_printf(
		    out,
		    "# HELP iframe_auth_redis_master_info The Redis master "
		    "in use, as the sentinels named it.\n"
		    "# TYPE iframe_auth_redis_master_info gauge\n"
		    "iframe_auth_redis_master_info{host=\"%s\",port=\"%d\"} "
		    "1\n",
		    g->redis_master, g->redis_master_port);
	evbuffer_add_printf(out, "# HELP iframe_auth_redis_round_trip_seconds "
	                         "Redis command round trips.\n"
	                         "# TYPE iframe_auth_redis_round_trip_seconds "
	                         "histogram\n");
	render_histogram(out, "iframe_auth_redis_round_trip_seconds", "",
	                 &m->redis_rtt);
}
