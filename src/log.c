#include "log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

static enum log_level min_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {
    [LOG_LEVEL_DEBUG] = "DEBUG",
    [LOG_LEVEL_INFO] = "INFO",
    [LOG_LEVEL_WARNING] = "WARNING",
    [LOG_LEVEL_ERROR] = "ERROR",
};

void
log_set_level(enum log_level level)
{
	min_level = level;
}

bool
log_enabled(enum log_level level)
{
	return level >= min_level;
}

bool
log_level_parse(const char *text, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++) {
		if (strcasecmp(text, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

const char *
log_level_name(enum log_level level)
{
	return level_names[level];
}

void
log_write(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n;

	if (!log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
	             "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ",
	             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	             tm.tm_min, tm.tm_sec, now.tv_nsec / 1000000,
	             level_names[level]);
	va_start(ap, fmt);
	/* clang-tidy 14 misreads the va_start just above. */
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, /* NOLINT */ ap);
	va_end(ap);
	/* One write per line keeps lines whole when several processes share
	 * the terminal or the log file. */
	fprintf(stderr, "%s\n", line);
}

/* libevent calls this for its own diagnostics (e.g. accept errors). */
static void
libevent_log(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_debug("libevent msg=\"%s\"", msg);
		break;
	case EVENT_LOG_MSG:
		log_info("libevent msg=\"%s\"", msg);
		break;
	case EVENT_LOG_WARN:
		log_warning("libevent msg=\"%s\"", msg);
		break;
	default:
		log_error("libevent msg=\"%s\"", msg);
		break;
	}
}

void
log_route_libevent(void)
{
	event_set_log_callback(libevent_log);
}

/* True when the 36 characters at s have the 8-4-4-4-12 hex shape. */
static bool
looks_like_uuid(const char *s, size_t len)
{
	if (len < 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

void
log_path(const char *path, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t len = strlen(path);
	size_t o = 0;

	if (outlen == 0)
		return;
	for (size_t i = 0; i < len && o + 4 < outlen; i++) {
		unsigned char c = (unsigned char)path[i];

		if ((i == 0 || path[i - 1] == '/' || path[i - 1] == '=') &&
		    looks_like_uuid(path + i, len - i)) {
			if (o + 12 >= outlen)
				break;
			memcpy(out + o, path + i, 8);
			memcpy(out + o + 8, "...", 3);
			o += 11;
			i += 35;
			continue;
		}
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}
