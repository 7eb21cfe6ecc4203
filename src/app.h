/* The running service: owns the event loop, the HTTP server, the Redis
 * link and the signal handling. */
#ifndef IFRAME_AUTH_APP_H
#define IFRAME_AUTH_APP_H

struct config;

/* Runs until SIGTERM or SIGINT; returns the process exit status. */
int app_run(const struct config *cfg);

#endif
