#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "host_port.h"
#include "http/cookie.h"
#include "session/origin.h"

/* Without --config: the working directory's file (development), else
 * the installed one; each read only when it exists (SPEC §3, §12). */
#define LOCAL_CONFIG_FILE     "config.env"
#define INSTALLED_CONFIG_FILE IFRAME_AUTH_CONFIG_FILE
#define CONFIG_FILE_MAX_LINES 512
#define CONFIG_FILE_MAX_BYTES ((size_t)256 << 10)
/* Descriptors kept back from MAX_CONNECTIONS for Redis, the listener,
 * static files, logs and libevent's own. */
#define RESERVED_DESCRIPTORS 32

enum key_kind { KIND_STRING, KIND_INT, KIND_BOOL, KIND_LOG_LEVEL };

/* A string check returns NULL when the value is acceptable, otherwise what
 * is wrong with it. */
typedef const char *(*string_check_fn)(const char *value);

struct key {
	const char *name;
	enum key_kind kind;
	size_t offset;
	size_t size;          /* capacity of a string field */
	const char *fallback; /* NULL: derived at load time */
	long min, max;        /* bounds of an integer */
	string_check_fn check;
	bool secret; /* never echoed in messages */
	const char *help;
};

static const char *check_not_empty(const char *value);
static const char *check_host(const char *value);
static const char *check_socket_path(const char *value);
static const char *check_api_keys(const char *value);
static const char *check_frame_ancestors(const char *value);
static const char *check_base_url(const char *value);
static const char *check_sentinels(const char *value);
static const char *check_master_name(const char *value);

#define FIELD(f) offsetof(struct config, f), sizeof(((struct config *)0)->f)
#define STR(key, f, def, chk, sec, help)                              \
	{                                                             \
		key, KIND_STRING, FIELD(f), def, 0, 0, chk, sec, help \
	}
#define INT(key, f, def, lo, hi, help)                                  \
	{                                                               \
		key, KIND_INT, FIELD(f), def, lo, hi, NULL, false, help \
	}

static const struct key keys[] = {
    STR("HOST", host, "127.0.0.1", check_host, false, "address to listen on"),
    INT("PORT", port, "8000", 1, 65535, "port to listen on"),
    STR("REDIS_HOST", redis_host, "localhost", check_host, false,
        "Redis host (resolved without blocking)"),
    INT("REDIS_PORT", redis_port, "6379", 1, 65535, "Redis port"),
    STR("REDIS_SOCKET", redis_socket, "", check_socket_path, false,
        "Unix socket path; when set, used instead of host/port"),
    INT("REDIS_DB", redis_db, "0", 0, 65535,
        "database index, selected on every (re)connect"),
    STR("REDIS_PASSWORD", redis_password, "", NULL, true,
        "sent with AUTH on every (re)connect when non-empty"),
    INT("REDIS_TIMEOUT_MS", redis_timeout_ms, "1000", 10, 60000,
        "connect timeout and per-request Redis deadline"),
    INT("REDIS_MAX_PENDING", redis_max_pending, "10000", 1, 1000000,
        "requests that may wait on Redis at once"),
    INT("SESSION_TTL_SECONDS", session_ttl_seconds, "1800", 1, 31536000,
        "default session lifetime"),
    INT("SESSION_MAX_TTL_SECONDS", session_max_ttl_seconds, "86400", 1,
        31536000, "upper bound for a caller-chosen ttl_seconds"),
    INT("MAX_SESSIONS", max_sessions, "1000", 0, 100000000,
        "cap on live sessions; 0 means no cap"),
    STR("API_KEY", api_key, "", check_api_keys, true,
        "comma-separated keys that protect the backend endpoints"),
    STR("FRAME_ANCESTORS", frame_ancestors, "'self'", check_frame_ancestors,
        false, "CSP frame-ancestors of the iframe page"),
    STR("PUBLIC_BASE_URL", public_base_url, "", check_base_url, false,
        "when set, iframe_url is absolute: PUBLIC_BASE_URL + path"),
    STR("STATIC_DIR", static_dir, IFRAME_AUTH_STATIC_DIR, check_not_empty,
        false, "where the static files are"),
    INT("HTTP_IDLE_TIMEOUT_SECONDS", http_idle_timeout_seconds, "10", 1, 3600,
        "idle keep-alive connections are closed after this"),
    INT("HTTP_REQUEST_TIMEOUT_SECONDS", http_request_timeout_seconds, "10", 1,
        3600, "a whole request must arrive within this"),
    INT("MAX_CONNECTIONS", max_connections, NULL, 1, 1000000,
        "cap on open client connections (default from RLIMIT_NOFILE)"),
    INT("EMBED_SESSION_TTL_SECONDS", embed_session_ttl_seconds, "3600", 1,
        31536000, "absolute lifetime of an embed session"),
    INT("EMBED_IDLE_TIMEOUT_SECONDS", embed_idle_timeout_seconds, "900", 1,
        31536000, "an embed session not used for this long ends (sliding)"),
    {"EMBED_COOKIE", KIND_BOOL, FIELD(embed_cookie), "true", 0, 0, NULL, false,
     "send the embed session as a partitioned cookie too"},
    STR("EMBED_COOKIE_NAME", embed_cookie_name, "__Host-iframe-auth",
        cookie_check_name, false, "the embed cookie's name"),
    STR("REDIS_SENTINELS", redis_sentinels, "", check_sentinels, false,
        "host:port,...: find the master through these sentinels"),
    STR("REDIS_SENTINEL_MASTER", redis_sentinel_master, "mymaster",
        check_master_name, false, "the master's name at the sentinels"),
    STR("REDIS_SENTINEL_PASSWORD", redis_sentinel_password, "", NULL, true,
        "AUTH for the sentinels"),
    INT("REDIS_MIN_REPLICAS", redis_min_replicas, "0", 0, 100,
        "replicas that must acknowledge a write that consumes or ends a "
        "session (WAIT)"),
    {"LOG_LEVEL", KIND_LOG_LEVEL, FIELD(log_level), "INFO", 0, 0, NULL, false,
     "DEBUG, INFO, WARNING or ERROR"},
    {"DEBUG", KIND_BOOL, FIELD(debug), "false", 0, 0, NULL, false,
     "true sets LOG_LEVEL=DEBUG unless LOG_LEVEL is set"},
};

#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))

/* Where a value came from, for error messages. */
struct source {
	const char *value;
	const char *file; /* NULL: environment or default */
	int line;
	bool is_default;
};

/* The KEY=VALUE pairs of a config file; values point into the buffer. */
struct file_values {
	char *buf;
	const char *path;
	const char *names[CONFIG_FILE_MAX_LINES];
	const char *values[CONFIG_FILE_MAX_LINES];
	int lines[CONFIG_FILE_MAX_LINES];
	size_t count;
};

static const char *
check_not_empty(const char *value)
{
	return value[0] == '\0' ? "must not be empty" : NULL;
}

/* True when value holds a byte below 0x20 or DEL. */
static bool
has_control(const char *value)
{
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return true;
	}
	return false;
}

static const char *
check_host(const char *value)
{
	if (value[0] == '\0')
		return "must not be empty";
	if (strpbrk(value, " \t/") != NULL || has_control(value))
		return "must be a host name or an IP address";
	return NULL;
}

static const char *
check_socket_path(const char *value)
{
	/* sun_path holds 108 bytes including the terminator. */
	if (strlen(value) > 107)
		return "must be at most 107 bytes";
	return has_control(value) ? "must not contain control characters"
	                          : NULL;
}

static const char *
check_api_keys(const char *value)
{
	const char *p = value;

	if (value[0] == '\0')
		return NULL;
	for (;;) {
		size_t len = strcspn(p, ",");

		if (len == 0)
			return "must be a comma-separated list of non-empty "
			       "keys";
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c <= 0x20 || c >= 0x7f)
				return "keys must be printable ASCII without "
				       "spaces";
		}
		if (p[len] == '\0')
			return NULL;
		p += len + 1;
	}
}

static const char *
check_frame_ancestors(const char *value)
{
	if (value[0] == '\0')
		return "must not be empty (use 'none' to forbid framing)";
	/* A ';' or ',' would start another CSP directive or policy. */
	if (strpbrk(value, ";,\"") != NULL || has_control(value))
		return "must be a CSP source list without ';', ',' or '\"'";
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p >= 0x80)
			return "must be ASCII";
	}
	return NULL;
}

static const char *
check_base_url(const char *value)
{
	char origin[ORIGIN_MAX + 1];

	if (value[0] == '\0')
		return NULL;
	if (strncmp(value, "http://", 7) != 0 &&
	    strncmp(value, "https://", 8) != 0)
		return "must start with http:// or https://";
	if (strpbrk(value, " ?#\"<>\\") != NULL || has_control(value))
		return "must be a plain URL without query, fragment or spaces";
	if (value[strlen(value) - 1] == '/')
		return "must not end with '/'";
	/* It is the service's own origin, 'self' in FRAME_ANCESTORS. */
	if (origin_of_url(value, origin) != NULL)
		return "must start with an origin scheme://host[:port] (host "
		       "letters, digits, '-' and '.'; no user info)";
	return NULL;
}

static const char *
check_sentinels(const char *value)
{
	size_t count;

	if (value[0] == '\0')
		return NULL;
	return host_port_list_parse(value, NULL, &count);
}

/* A name Sentinel accepts in its configuration: one word. */
static const char *
check_master_name(const char *value)
{
	if (value[0] == '\0')
		return "must not be empty";
	for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
		if (*p <= 0x20 || *p >= 0x7f)
			return "must be printable ASCII without spaces";
	}
	return NULL;
}

/* Strict decimal: digits only, within [min, max]. */
static bool
parse_int(const char *text, long min, long max, int *out)
{
	long v = 0;

	if (*text == '\0')
		return false;
	for (const char *p = text; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
		if (v > max)
			return false;
	}
	if (v < min)
		return false;
	*out = (int)v;
	return true;
}

static bool
parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = {"true", "1", "yes", "on"};
	static const char *const no[] = {"false", "0", "no", "off"};

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(text, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(text, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* Writes "KEY (from where): problem" into err. */
static void
key_error(char *err, size_t errlen, const struct key *k,
          const struct source *src, const char *problem)
{
	char where[512];

	if (src->file != NULL)
		snprintf(where, sizeof(where), "%s line %d", src->file,
		         src->line);
	else
		snprintf(where, sizeof(where), "%s",
		         src->is_default ? "default" : "environment");
	if (k->secret)
		snprintf(err, errlen, "config: %s (from %s): %s", k->name,
		         where, problem);
	else
		snprintf(err, errlen, "config: %s=\"%.200s\" (from %s): %s",
		         k->name, src->value, where, problem);
}

/* Stores one value into its field; false with err set when invalid. */
static bool
apply_key(struct config *cfg, const struct key *k, const struct source *src,
          char *err, size_t errlen)
{
	char *field = (char *)cfg + k->offset;
	char problem[128];

	switch (k->kind) {
	case KIND_STRING: {
		const char *why;

		if (strlen(src->value) >= k->size) {
			snprintf(problem, sizeof(problem),
			         "must be at most %zu bytes", k->size - 1);
			key_error(err, errlen, k, src, problem);
			return false;
		}
		why = k->check != NULL ? k->check(src->value) : NULL;
		if (why != NULL) {
			key_error(err, errlen, k, src, why);
			return false;
		}
		memcpy(field, src->value, strlen(src->value) + 1);
		return true;
	}
	case KIND_INT:
		if (!parse_int(src->value, k->min, k->max, (int *)field)) {
			snprintf(problem, sizeof(problem),
			         "must be an integer from %ld to %ld", k->min,
			         k->max);
			key_error(err, errlen, k, src, problem);
			return false;
		}
		return true;
	case KIND_BOOL:
		if (!parse_bool(src->value, (bool *)field)) {
			key_error(err, errlen, k, src,
			          "must be true or false (or 1/0, yes/no, "
			          "on/off)");
			return false;
		}
		return true;
	case KIND_LOG_LEVEL:
		if (!log_level_parse(src->value, (enum log_level *)field)) {
			key_error(err, errlen, k, src,
			          "must be DEBUG, INFO, WARNING or ERROR");
			return false;
		}
		return true;
	}
	return false;
}

static const struct key *
find_key(const char *name)
{
	for (size_t i = 0; i < KEY_COUNT; i++) {
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	                   end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/* Parses one "KEY=VALUE" line in place; blank lines and # comments yield
 * no pair.  A value may be wrapped in matching single or double quotes. */
static bool
parse_line(struct file_values *fv, char *line, int lineno, char *err,
           size_t errlen)
{
	char *eq, *name, *value;
	size_t vlen;

	line = trim(line);
	if (line[0] == '\0' || line[0] == '#')
		return true;
	if (strncmp(line, "export ", 7) == 0)
		line = trim(line + 7);
	eq = strchr(line, '=');
	if (eq == NULL) {
		snprintf(err, errlen, "config: %s line %d: expected KEY=VALUE",
		         fv->path, lineno);
		return false;
	}
	*eq = '\0';
	name = trim(line);
	value = trim(eq + 1);
	if (find_key(name) == NULL) {
		snprintf(err, errlen,
		         "config: %s line %d: unknown key \"%.64s\"", fv->path,
		         lineno, name);
		return false;
	}
	vlen = strlen(value);
	if (vlen >= 2 && (value[0] == '"' || value[0] == '\'') &&
	    value[vlen - 1] == value[0]) {
		value[vlen - 1] = '\0';
		value++;
	}
	if (fv->count == CONFIG_FILE_MAX_LINES) {
		snprintf(err, errlen, "config: %s: more than %d settings",
		         fv->path, CONFIG_FILE_MAX_LINES);
		return false;
	}
	fv->names[fv->count] = name;
	fv->values[fv->count] = value;
	fv->lines[fv->count] = lineno;
	fv->count++;
	return true;
}

/* Reads the whole file into fv.  A missing default file is not an error. */
static bool
read_file(struct file_values *fv, const char *path, bool required, char *err,
          size_t errlen)
{
	FILE *f;
	size_t len;
	char *line, *next;
	int lineno = 0;
	bool ok = true;

	fv->path = path;
	f = fopen(path, "r");
	if (f == NULL) {
		if (!required && errno == ENOENT)
			return true;
		snprintf(err, errlen, "config: cannot read %s: %s", path,
		         strerror(errno));
		return false;
	}
	fv->buf = malloc(CONFIG_FILE_MAX_BYTES + 1);
	if (fv->buf == NULL) {
		fclose(f);
		snprintf(err, errlen, "config: out of memory");
		return false;
	}
	len = fread(fv->buf, 1, CONFIG_FILE_MAX_BYTES + 1, f);
	if (ferror(f) || len > CONFIG_FILE_MAX_BYTES) {
		snprintf(err, errlen,
		         "config: %s: unreadable or over %zu bytes", path,
		         CONFIG_FILE_MAX_BYTES);
		ok = false;
	}
	fclose(f);
	fv->buf[ok ? len : 0] = '\0';
	for (line = fv->buf; ok && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		ok = parse_line(fv, line, ++lineno, err, errlen);
	}
	return ok;
}

/* The value of a key: environment first, then the file, then default. */
static bool
lookup(const struct key *k, const struct file_values *fv, struct source *src)
{
	const char *env = getenv(k->name);

	memset(src, 0, sizeof(*src));
	if (env != NULL) {
		src->value = env;
		return true;
	}
	/* The last occurrence in the file wins, as in a shell. */
	for (size_t i = fv->count; i-- > 0;) {
		if (strcmp(fv->names[i], k->name) == 0) {
			src->value = fv->values[i];
			src->file = fv->path;
			src->line = fv->lines[i];
			return true;
		}
	}
	src->value = k->fallback;
	src->is_default = true;
	return false;
}

int
config_default_max_connections(void)
{
	struct rlimit rl;
	rlim_t n;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return 1000000;
	n = rl.rlim_cur > (rlim_t)RESERVED_DESCRIPTORS * 2
	        ? rl.rlim_cur - RESERVED_DESCRIPTORS
	        : rl.rlim_cur / 2;
	if (n < 1)
		n = 1;
	return n > 1000000 ? 1000000 : (int)n;
}

bool
config_load(struct config *cfg, const char *file, char *err, size_t errlen)
{
	struct file_values fv = {0};
	bool log_level_set = false;
	bool ok;

	memset(cfg, 0, sizeof(*cfg));
	if (file != NULL) {
		ok = read_file(&fv, file, true, err, errlen);
	} else {
		ok = read_file(&fv, LOCAL_CONFIG_FILE, false, err, errlen);
		if (ok && fv.buf == NULL)
			ok = read_file(&fv, INSTALLED_CONFIG_FILE, false, err,
			               errlen);
	}
	for (size_t i = 0; ok && i < KEY_COUNT; i++) {
		const struct key *k = &keys[i];
		struct source src;
		bool set = lookup(k, &fv, &src);

		if (k->kind == KIND_LOG_LEVEL)
			log_level_set = set;
		if (src.value == NULL) {
			cfg->max_connections = config_default_max_connections();
			continue;
		}
		ok = apply_key(cfg, k, &src, err, errlen);
	}
	free(fv.buf);
	if (!ok)
		return false;
	if (cfg->session_ttl_seconds > cfg->session_max_ttl_seconds) {
		snprintf(err, errlen,
		         "config: SESSION_TTL_SECONDS=%d: must not exceed "
		         "SESSION_MAX_TTL_SECONDS=%d",
		         cfg->session_ttl_seconds,
		         cfg->session_max_ttl_seconds);
		return false;
	}
	if (cfg->redis_sentinels[0] != '\0' && cfg->redis_socket[0] != '\0') {
		snprintf(err, errlen,
		         "config: REDIS_SENTINELS and REDIS_SOCKET: set one "
		         "or the other (the sentinels name a TCP address)");
		return false;
	}
	if (cfg->debug && !log_level_set)
		cfg->log_level = LOG_LEVEL_DEBUG;
	return true;
}

void
config_print_help(FILE *out)
{
	fprintf(out, "Configuration (environment, or KEY=VALUE lines in the "
	             "--config file):\n");
	for (size_t i = 0; i < KEY_COUNT; i++) {
		const struct key *k = &keys[i];
		char def[64];

		if (k->fallback == NULL)
			snprintf(def, sizeof(def), "(derived)");
		else if (k->fallback[0] == '\0')
			snprintf(def, sizeof(def), "(empty)");
		else
			snprintf(def, sizeof(def), "%s", k->fallback);
		fprintf(out, "  %-29s %-11s %s\n", k->name, def, k->help);
	}
}

size_t
config_key_count(void)
{
	return KEY_COUNT;
}

const char *
config_key_name(size_t i)
{
	return i < KEY_COUNT ? keys[i].name : NULL;
}
