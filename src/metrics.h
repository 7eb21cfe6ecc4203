/* Counters and histograms for GET /metrics (§9), rendered in the
 * Prometheus text exposition format.  Updating costs a few additions;
 * nothing here touches Redis. */
#ifndef IFRAME_AUTH_METRICS_H
#define IFRAME_AUTH_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct route;
struct metrics;

enum validation_result {
	VALIDATION_OK,
	VALIDATION_NOT_FOUND,
	VALIDATION_ALREADY_USED,
	VALIDATION_INVALID,
	VALIDATION_REVOKED,
	VALIDATION_ORIGIN_MISMATCH,
	VALIDATION_RESULTS,
};

/* /auth/verify answers (§11). */
enum verify_result {
	VERIFY_OK,
	VERIFY_MISSING,
	VERIFY_INVALID,
	VERIFY_EXPIRED,
	VERIFY_REVOKED,
	VERIFY_UNAVAILABLE,
	VERIFY_RESULTS,
};

/* The gauges, read when rendering. */
struct metrics_gauges {
	int redis_up;
	uint64_t redis_reconnects;
	uint64_t redis_timeouts;
	size_t redis_pending;
	uint64_t iframe_marks_dropped;
	size_t open_connections;
	const char *redis_master; /* with sentinels, once known; or NULL */
	int redis_master_port;
	uint64_t redis_master_switches;
	int redis_wait_replicas;
};

/* routes: the route table, whose names (unique per row) label the
 * per-route series. */
struct metrics *metrics_create(const struct route *routes, size_t count);
void metrics_destroy(struct metrics *m);

/* One answered request; route NULL for 404/405 on unknown routes. */
void metrics_request(struct metrics *m, const struct route *route, int status,
                     double seconds);
void metrics_session_created(struct metrics *m);
void metrics_validation(struct metrics *m, enum validation_result result);
void metrics_verification(struct metrics *m, enum verify_result result);
void metrics_embed_opened(struct metrics *m);
/* ended: an embed session existed and was deleted. */
void metrics_logout(struct metrics *m, bool ended);
/* One revoke-all (DELETE /auth/users/<user_id>/sessions) done. */
void metrics_revoke_all(struct metrics *m);
void metrics_redis_round_trip(struct metrics *m, double seconds);

void metrics_render(const struct metrics *m, const struct metrics_gauges *g,
                    struct evbuffer *out);

#endif
