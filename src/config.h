/* The service configuration: one table of keys (§3 of the spec), read from
 * the environment, then from a KEY=VALUE file for keys the environment does
 * not set, then from the table's defaults.  Every value is checked against
 * its bounds; an invalid one stops start-up with a message naming the key.
 */
#ifndef IFRAME_AUTH_CONFIG_H
#define IFRAME_AUTH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "log.h"

#define CONFIG_STRING_MAX      256
#define CONFIG_LONG_STRING_MAX 4096

struct config {
	char host[CONFIG_STRING_MAX];
	int port;
	char redis_host[CONFIG_STRING_MAX];
	int redis_port;
	char redis_socket[CONFIG_STRING_MAX];
	int redis_db;
	char redis_password[CONFIG_STRING_MAX];
	int redis_timeout_ms;
	int redis_max_pending;
	int session_ttl_seconds;
	int session_max_ttl_seconds;
	int max_sessions;
	char api_key[CONFIG_LONG_STRING_MAX];
	char frame_ancestors[CONFIG_LONG_STRING_MAX];
	char public_base_url[CONFIG_STRING_MAX];
	char static_dir[CONFIG_LONG_STRING_MAX];
	int http_idle_timeout_seconds;
	int http_request_timeout_seconds;
	int max_connections;
	int embed_session_ttl_seconds;
	int embed_idle_timeout_seconds;
	bool embed_cookie;
	char embed_cookie_name[CONFIG_STRING_MAX];
	char redis_sentinels[CONFIG_LONG_STRING_MAX];
	char redis_sentinel_master[CONFIG_STRING_MAX];
	char redis_sentinel_password[CONFIG_STRING_MAX];
	int redis_min_replicas;
	enum log_level log_level;
	bool debug;
};

/*
 * Fills cfg.  file is the --config path, or NULL for the defaults:
 * "./config.env" when it exists, else the installed
 * SYSCONFDIR/iframe-auth/config.env when it exists; a file named
 * explicitly must exist.  On failure returns false and writes a one-line
 * reason naming the key (or the file and line) into err.
 */
bool config_load(struct config *cfg, const char *file, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Writes the key table (name, default, meaning) for --help. */
void config_print_help(FILE *out);

/* The keys, in table order: for tests and for config.env.example. */
size_t config_key_count(void);
const char *config_key_name(size_t i);

/* The default MAX_CONNECTIONS: what RLIMIT_NOFILE leaves after the
 * descriptors the service needs for itself. */
int config_default_max_connections(void);

#endif
