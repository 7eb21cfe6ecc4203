/* The running service: owns the event loop, the HTTP server, the Redis
 * link and the signal handling. */
#ifndef IFRAME_AUTH_APP_H
#define IFRAME_AUTH_APP_H

struct app;
struct config;
struct event_base;

/* Starts everything (listening, connecting to Redis) without running the
 * loop; NULL, logged, on failure. */
struct app *app_create(const struct config *cfg);
struct event_base *app_event_base(const struct app *app);
/* Tears everything down; NULL is a no-op. */
void app_destroy(struct app *app);

/* Creates, runs until SIGTERM or SIGINT, destroys; returns the process
 * exit status. */
int app_run(const struct config *cfg);

#endif
