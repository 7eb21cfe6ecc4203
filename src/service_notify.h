/* Tells a service manager how the service is doing, over sd_notify(3):
 * READY=1 once listening, WATCHDOG=1 from the event loop, STOPPING=1 on a
 * stop.  Outside systemd (no NOTIFY_SOCKET) every call does nothing, so
 * that running by hand or under the tests changes nothing. */
#ifndef IFRAME_AUTH_SERVICE_NOTIFY_H
#define IFRAME_AUTH_SERVICE_NOTIFY_H

#include <stdbool.h>

struct event_base;
struct service_notify;

/* Starts the watchdog timer when the manager asked for one
 * (WATCHDOG_USEC): WATCHDOG=1 every half period, sent from base's loop so
 * that a stuck loop stops the pings.  NULL only when out of memory. */
struct service_notify *service_notify_create(struct event_base *base);

/* READY=1: the service listens and serves. */
void service_notify_ready(struct service_notify *n);

/* STOPPING=1: a stop has begun.  The watchdog pings go on while
 * requests in flight drain. */
void service_notify_stopping(struct service_notify *n);

/* NULL-safe. */
void service_notify_destroy(struct service_notify *n);

#endif
