#include "service_notify.h"

#include <stdint.h>
#include <stdlib.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "log.h"

struct service_notify {
	bool enabled; /* NOTIFY_SOCKET is set */
	struct event *watchdog;
};

/* Sends one state line.  A failure is logged and otherwise ignored: the
 * manager's answer to a missed READY=1 or WATCHDOG=1 is its own. */
static void
notify(const struct service_notify *n, const char *state)
{
	int rc;

	if (n == NULL || !n->enabled)
		return;
	rc = sd_notify(0, state);
	if (rc < 0)
		log_warning("sd_notify failed state=%s errno=%d", state, -rc);
}

static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	notify(arg, "WATCHDOG=1");
}

struct service_notify *
service_notify_create(struct event_base *base)
{
	struct service_notify *n = calloc(1, sizeof(*n));
	uint64_t usec = 0;
	struct timeval half;

	if (n == NULL)
		return NULL;
	n->enabled = getenv("NOTIFY_SOCKET") != NULL;
	/* sd_watchdog_enabled also checks that WATCHDOG_PID, when set, is
	 * this process. */
	if (!n->enabled || sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return n;
	n->watchdog = event_new(base, -1, EV_PERSIST, on_watchdog, n);
	if (n->watchdog == NULL) {
		free(n);
		return NULL;
	}
	half.tv_sec = (time_t)(usec / 2 / 1000000);
	half.tv_usec = (suseconds_t)(usec / 2 % 1000000);
	event_add(n->watchdog, &half);
	log_info("watchdog on interval_ms=%llu",
	         (unsigned long long)(usec / 2 / 1000));
	return n;
}

void
service_notify_ready(struct service_notify *n)
{
	notify(n, "READY=1\nSTATUS=listening");
}

void
service_notify_stopping(struct service_notify *n)
{
	notify(n, "STOPPING=1");
}

void
service_notify_destroy(struct service_notify *n)
{
	if (n == NULL)
		return;
	if (n->watchdog != NULL)
		event_free(n->watchdog);
	free(n);
}
