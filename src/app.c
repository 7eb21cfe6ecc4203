#include "app.h"

#include <signal.h>
#include <stdlib.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "api/api.h"
#include "api/static_files.h"
#include "config.h"
#include "http/server.h"
#include "log.h"
#include "metrics.h"
#include "service_notify.h"
#include "store/embed.h"
#include "store/redis_link.h"
#include "store/sessions.h"

/* How long a stop waits for requests in flight (§8). */
#define DRAIN_SECONDS 5

struct app {
	struct event_base *base;
	struct evdns_base *dns;
	struct server *server;
	struct redis_link *redis;
	struct session_store *sessions;
	struct embed_store *embed;
	struct metrics *metrics;
	struct static_files *static_files;
	struct service_notify *notify;
	struct api api;
	struct event *sigterm;
	struct event *sigint;
	struct event *drain_timer;
};

static void
on_drained(void *arg)
{
	struct app *app = arg;

	log_info("stopped in-flight=0");
	event_base_loopbreak(app->base);
}

static void
on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct app *app = arg;

	(void)fd;
	(void)what;
	log_warning("stopping with requests still in flight in-flight=%zu "
	            "waited_s=%d",
	            server_inflight(app->server), DRAIN_SECONDS);
	event_base_loopbreak(app->base);
}

/* SIGTERM or SIGINT: stop accepting, let requests in flight finish (at
 * most DRAIN_SECONDS), then leave the loop.  A second signal leaves at
 * once. */
static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct app *app = arg;
	struct timeval drain = {DRAIN_SECONDS, 0};

	(void)what;
	if (server_is_stopping(app->server)) {
		log_warning("second signal, stopping now signal=%d", (int)sig);
		event_base_loopbreak(app->base);
		return;
	}
	log_info("stopping signal=%d in-flight=%zu", (int)sig,
	         server_inflight(app->server));
	service_notify_stopping(app->notify);
	evtimer_add(app->drain_timer, &drain);
	server_stop(app->server, on_drained, app);
}

/* A resolver that never blocks the loop.  Without a usable
 * /etc/resolv.conf it still answers from /etc/hosts. */
static struct evdns_base *
dns_create(struct event_base *base)
{
	struct evdns_base *dns =
	    evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS);

	if (dns == NULL) {
		dns = evdns_base_new(base, 0);
		if (dns != NULL)
			evdns_base_load_hosts(dns, NULL);
	}
	return dns;
}

static bool
app_start(struct app *app, const struct config *cfg)
{
	struct redis_link_options link_opt = {
	    .host = cfg->redis_host,
	    .port = cfg->redis_port,
	    .socket_path = cfg->redis_socket,
	    .db = cfg->redis_db,
	    .password = cfg->redis_password,
	    .timeout_ms = cfg->redis_timeout_ms,
	    .max_pending = (size_t)cfg->redis_max_pending,
	    .sentinels = cfg->redis_sentinels,
	    .sentinel_master = cfg->redis_sentinel_master,
	    .sentinel_password = cfg->redis_sentinel_password,
	};
	struct server_options srv_opt = {
	    .routes = api_routes,
	    .route_count = api_route_count,
	    .idle_timeout_seconds = cfg->http_idle_timeout_seconds,
	    .request_timeout_seconds = cfg->http_request_timeout_seconds,
	    .max_connections = (size_t)cfg->max_connections,
	    .dispatch = api_dispatch,
	    .ctx = &app->api,
	};
	char err[300];

	app->metrics = metrics_create(api_routes, api_route_count);
	app->base = event_base_new();
	if (app->metrics == NULL || app->base == NULL)
		return false;
	link_opt.metrics = app->metrics;
	srv_opt.metrics = app->metrics;
	app->dns = dns_create(app->base);
	if (app->dns == NULL)
		return false;
	app->redis = redis_link_create(app->base, app->dns, &link_opt);
	if (app->redis == NULL)
		return false;
	app->sessions =
	    session_store_create(app->base, app->redis, cfg->redis_timeout_ms,
	                         cfg->redis_min_replicas);
	if (app->sessions == NULL)
		return false;
	app->embed =
	    embed_store_create(app->base, app->redis, cfg->redis_min_replicas);
	if (app->embed == NULL)
		return false;
	app->static_files =
	    static_files_load(cfg->static_dir, err, sizeof(err));
	if (app->static_files == NULL) {
		log_error("cannot serve static files: %s", err);
		return false;
	}
	log_info("static files loaded dir=%s files=%zu", cfg->static_dir,
	         static_files_count(app->static_files));
	app->api.cfg = cfg;
	app->api.redis = app->redis;
	app->api.sessions = app->sessions;
	app->api.embed = app->embed;
	app->api.metrics = app->metrics;
	app->api.static_files = app->static_files;
	/* The config has checked that it has one. */
	if (cfg->public_base_url[0] != '\0' &&
	    origin_of_url(cfg->public_base_url, app->api.self_origin) != NULL)
		return false;
	if (cfg->api_key[0] == '\0')
		log_warning("API_KEY is empty: anyone who can reach this "
		            "service can create sessions and use the admin "
		            "endpoints");
	app->server = server_create(app->base, &srv_opt);
	if (app->server == NULL ||
	    !server_listen(app->server, cfg->host, cfg->port))
		return false;
	app->sigterm = evsignal_new(app->base, SIGTERM, on_signal, app);
	app->sigint = evsignal_new(app->base, SIGINT, on_signal, app);
	app->drain_timer = evtimer_new(app->base, on_drain_timeout, app);
	if (app->sigterm == NULL || app->sigint == NULL ||
	    app->drain_timer == NULL)
		return false;
	evsignal_add(app->sigterm, NULL);
	evsignal_add(app->sigint, NULL);
	app->notify = service_notify_create(app->base);
	if (app->notify == NULL)
		return false;
	service_notify_ready(app->notify);
	return true;
}

/* Tears down in dependency order.  The Redis link goes first: closing it
 * answers any request still waiting on Redis while the server can still
 * send the reply. */
static void
app_finish(struct app *app)
{
	sigset_t stop_signals;

	/* Another signal during teardown must not turn exit 0 into death by
	 * signal once the libevent handlers are gone: hold it until exit. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigprocmask(SIG_BLOCK, &stop_signals, NULL);
	redis_link_destroy(app->redis);
	session_store_destroy(app->sessions);
	embed_store_destroy(app->embed);
	static_files_destroy(app->static_files);
	server_destroy(app->server);
	metrics_destroy(app->metrics);
	service_notify_destroy(app->notify);
	if (app->dns != NULL)
		evdns_base_free(app->dns, 0);
	if (app->sigterm != NULL)
		event_free(app->sigterm);
	if (app->sigint != NULL)
		event_free(app->sigint);
	if (app->drain_timer != NULL)
		event_free(app->drain_timer);
	if (app->base != NULL) {
		/* Let cancelled lookups report back and free themselves. */
		event_base_loop(app->base, EVLOOP_NONBLOCK);
		event_base_free(app->base);
	}
}

struct app *
app_create(const struct config *cfg)
{
	struct app *app = calloc(1, sizeof(*app));

	/* A client that disconnects mid-reply must not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	if (app == NULL || !app_start(app, cfg)) {
		log_error("start-up failed");
		app_destroy(app);
		return NULL;
	}
	return app;
}

struct event_base *
app_event_base(const struct app *app)
{
	return app->base;
}

void
app_destroy(struct app *app)
{
	if (app == NULL)
		return;
	app_finish(app);
	free(app);
}

int
app_run(const struct config *cfg)
{
	struct app *app = app_create(cfg);

	if (app == NULL)
		return EXIT_FAILURE;
	event_base_dispatch(app->base);
	app_destroy(app);
	return EXIT_SUCCESS;
}
