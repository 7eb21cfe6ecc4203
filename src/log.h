/* Levelled one-line logs on stderr.
 *
 * Every line is "<UTC timestamp> level=<LEVEL> <message>", the message
 * written as key=value pairs.  Callers never pass a full session id or a
 * secret: log_session_prefix() and log_path() exist for that.
 */
#ifndef IFRAME_AUTH_LOG_H
#define IFRAME_AUTH_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_ERROR,
};

/* Lines below this level are dropped. */
void log_set_level(enum log_level level);
bool log_enabled(enum log_level level);

/* Parses "DEBUG", "INFO", "WARNING" or "ERROR" (case-insensitive). */
bool log_level_parse(const char *text, enum log_level *out);
const char *log_level_name(enum log_level level);

void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...)   log_write(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)    log_write(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warning(...) log_write(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_error(...)   log_write(LOG_LEVEL_ERROR, __VA_ARGS__)

/* Sends libevent's own warnings and errors through log_write(). */
void log_route_libevent(void);

/*
 * Copies a request path into out for logging: control characters, quotes,
 * spaces and backslashes are escaped as %XX, and any segment that looks
 * like a session id is cut to its first 8 characters followed by "...".
 */
void log_path(const char *path, char *out, size_t outlen);

#endif
