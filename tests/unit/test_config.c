/* config.c: defaults, sources and precedence, and every kind of invalid
 * value for every key. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static struct config cfg;
static char err[512];
static char dir[64];

/* Each test runs in its own process: start from an empty environment for
 * our keys, in an empty directory (no ./config.env). */
static void
setup(void)
{
	for (size_t i = 0; i < config_key_count(); i++)
		unsetenv(config_key_name(i));
	strcpy(dir, "/tmp/iframe-auth-config-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	cr_assert_eq(chdir(dir), 0);
}

static void
teardown(void)
{
	unlink("config.env");
	unlink("other.env");
	rmdir(dir);
}

TestSuite(config, .init = setup, .fini = teardown);

static void
write_file(const char *name, const char *text)
{
	FILE *f = fopen(name, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static bool
load(void)
{
	return config_load(&cfg, NULL, err, sizeof(err));
}

/* Loads with key=value in the environment and expects a failure whose
 * message names the key. */
static void
expect_invalid(const char *key, const char *value)
{
	setenv(key, value, 1);
	cr_expect_not(load(), "%s=\"%s\" was accepted", key, value);
	cr_expect_not_null(strstr(err, key), "message \"%s\" lacks %s", err,
	                   key);
	unsetenv(key);
}

Test(config, defaults)
{
	cr_assert(load(), "%s", err);
	cr_expect_str_eq(cfg.host, "127.0.0.1");
	cr_expect_eq(cfg.port, 8000);
	cr_expect_str_eq(cfg.redis_host, "localhost");
	cr_expect_eq(cfg.redis_port, 6379);
	cr_expect_str_eq(cfg.redis_socket, "");
	cr_expect_eq(cfg.redis_db, 0);
	cr_expect_str_eq(cfg.redis_password, "");
	cr_expect_eq(cfg.redis_timeout_ms, 1000);
	cr_expect_eq(cfg.redis_max_pending, 10000);
	cr_expect_eq(cfg.session_ttl_seconds, 1800);
	cr_expect_eq(cfg.session_max_ttl_seconds, 86400);
	cr_expect_eq(cfg.max_sessions, 1000);
	cr_expect_str_eq(cfg.api_key, "");
	cr_expect_str_eq(cfg.frame_ancestors, "'self'");
	cr_expect_str_eq(cfg.public_base_url, "");
	cr_expect_str_eq(cfg.static_dir, IFRAME_AUTH_STATIC_DIR);
	cr_expect_eq(cfg.http_idle_timeout_seconds, 10);
	cr_expect_eq(cfg.http_request_timeout_seconds, 10);
	cr_expect_eq(cfg.max_connections, config_default_max_connections());
	cr_expect_gt(cfg.max_connections, 0);
	cr_expect_eq(cfg.log_level, LOG_LEVEL_INFO);
	cr_expect_not(cfg.debug);
	cr_expect_str_eq(cfg.redis_sentinels, "");
	cr_expect_str_eq(cfg.redis_sentinel_master, "mymaster");
	cr_expect_str_eq(cfg.redis_sentinel_password, "");
	cr_expect_eq(cfg.redis_min_replicas, 0);
}

Test(config, every_key_from_environment)
{
	setenv("HOST", "0.0.0.0", 1);
	setenv("PORT", "9001", 1);
	setenv("REDIS_HOST", "redis.internal", 1);
	setenv("REDIS_PORT", "6380", 1);
	setenv("REDIS_SOCKET", "/run/redis/redis.sock", 1);
	setenv("REDIS_DB", "3", 1);
	setenv("REDIS_PASSWORD", "s3cret pass", 1);
	setenv("REDIS_TIMEOUT_MS", "250", 1);
	setenv("REDIS_MAX_PENDING", "42", 1);
	setenv("SESSION_TTL_SECONDS", "60", 1);
	setenv("SESSION_MAX_TTL_SECONDS", "600", 1);
	setenv("MAX_SESSIONS", "0", 1);
	setenv("API_KEY", "key-one,key-two", 1);
	setenv("FRAME_ANCESTORS", "https://app.example.com 'self'", 1);
	setenv("PUBLIC_BASE_URL", "https://auth.example.com", 1);
	setenv("STATIC_DIR", "/srv/static", 1);
	setenv("HTTP_IDLE_TIMEOUT_SECONDS", "5", 1);
	setenv("HTTP_REQUEST_TIMEOUT_SECONDS", "7", 1);
	setenv("MAX_CONNECTIONS", "100", 1);
	setenv("LOG_LEVEL", "warning", 1);
	setenv("DEBUG", "true", 1);
	cr_assert(load(), "%s", err);
	cr_expect_str_eq(cfg.host, "0.0.0.0");
	cr_expect_eq(cfg.port, 9001);
	cr_expect_str_eq(cfg.redis_host, "redis.internal");
	cr_expect_eq(cfg.redis_port, 6380);
	cr_expect_str_eq(cfg.redis_socket, "/run/redis/redis.sock");
	cr_expect_eq(cfg.redis_db, 3);
	cr_expect_str_eq(cfg.redis_password, "s3cret pass");
	cr_expect_eq(cfg.redis_timeout_ms, 250);
	cr_expect_eq(cfg.redis_max_pending, 42);
	cr_expect_eq(cfg.session_ttl_seconds, 60);
	cr_expect_eq(cfg.session_max_ttl_seconds, 600);
	cr_expect_eq(cfg.max_sessions, 0);
	cr_expect_str_eq(cfg.api_key, "key-one,key-two");
	cr_expect_str_eq(cfg.frame_ancestors, "https://app.example.com 'self'");
	cr_expect_str_eq(cfg.public_base_url, "https://auth.example.com");
	cr_expect_str_eq(cfg.static_dir, "/srv/static");
	cr_expect_eq(cfg.http_idle_timeout_seconds, 5);
	cr_expect_eq(cfg.http_request_timeout_seconds, 7);
	cr_expect_eq(cfg.max_connections, 100);
	/* LOG_LEVEL set explicitly wins over DEBUG. */
	cr_expect_eq(cfg.log_level, LOG_LEVEL_WARNING);
	cr_expect(cfg.debug);
}

Test(config, debug_sets_log_level_when_unset)
{
	setenv("DEBUG", "1", 1);
	cr_assert(load(), "%s", err);
	cr_expect_eq(cfg.log_level, LOG_LEVEL_DEBUG);
}

Test(config, debug_false_keeps_info)
{
	setenv("DEBUG", "no", 1);
	cr_assert(load(), "%s", err);
	cr_expect_eq(cfg.log_level, LOG_LEVEL_INFO);
}

Test(config, integer_bounds)
{
	static const struct {
		const char *key;
		const char *low, *high, *min_ok, *max_ok;
	} cases[] = {
	    {"PORT", "0", "65536", "1", "65535"},
	    {"REDIS_PORT", "0", "65536", "1", "65535"},
	    {"REDIS_DB", NULL, "65536", "0", "65535"},
	    {"REDIS_TIMEOUT_MS", "9", "60001", "10", "60000"},
	    {"REDIS_MAX_PENDING", "0", "1000001", "1", "1000000"},
	    {"SESSION_MAX_TTL_SECONDS", "0", "31536001", "1", "31536000"},
	    {"SESSION_TTL_SECONDS", "0", "31536001", "1", NULL},
	    {"MAX_SESSIONS", NULL, "100000001", "0", "100000000"},
	    {"HTTP_IDLE_TIMEOUT_SECONDS", "0", "3601", "1", "3600"},
	    {"HTTP_REQUEST_TIMEOUT_SECONDS", "0", "3601", "1", "3600"},
	    {"MAX_CONNECTIONS", "0", "1000001", "1", "1000000"},
	    {"EMBED_SESSION_TTL_SECONDS", "0", "31536001", "1", "31536000"},
	    {"EMBED_IDLE_TIMEOUT_SECONDS", "0", "31536001", "1", "31536000"},
	};

	/* So that SESSION_MAX_TTL_SECONDS=1 is a valid value. */
	setenv("SESSION_TTL_SECONDS", "1", 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].low != NULL)
			expect_invalid(cases[i].key, cases[i].low);
		expect_invalid(cases[i].key, cases[i].high);
		setenv(cases[i].key, cases[i].min_ok, 1);
		cr_expect(load(), "%s", err);
		if (cases[i].max_ok != NULL) {
			setenv(cases[i].key, cases[i].max_ok, 1);
			cr_expect(load(), "%s", err);
		}
		unsetenv(cases[i].key);
	}
}

Test(config, embed_defaults_and_cookie)
{
	cr_assert(load(), "%s", err);
	cr_expect_eq(cfg.embed_session_ttl_seconds, 3600);
	cr_expect_eq(cfg.embed_idle_timeout_seconds, 900);
	cr_expect(cfg.embed_cookie);
	cr_expect_str_eq(cfg.embed_cookie_name, "__Host-iframe-auth");
	setenv("EMBED_COOKIE", "false", 1);
	setenv("EMBED_COOKIE_NAME", "emb_1", 1);
	cr_assert(load(), "%s", err);
	cr_expect_not(cfg.embed_cookie);
	cr_expect_str_eq(cfg.embed_cookie_name, "emb_1");
	unsetenv("EMBED_COOKIE_NAME");
	unsetenv("EMBED_COOKIE");
	expect_invalid("EMBED_COOKIE", "maybe");
	expect_invalid("EMBED_COOKIE_NAME", "");
	expect_invalid("EMBED_COOKIE_NAME", "a b");
	expect_invalid("EMBED_COOKIE_NAME", "a=b");
	expect_invalid("EMBED_COOKIE_NAME", "a;b");
}

Test(config, integers_must_be_plain_decimal)
{
	static const char *const bad[] = {
	    "",
	    "abc",
	    "12abc",
	    "-1",
	    "+5",
	    " 80",
	    "80 ",
	    "1e3",
	    "0x50",
	    "8.0",
	    "99999999999999999999999",
	};

	for (size_t k = 0; k < config_key_count(); k++) {
		const char *key = config_key_name(k);

		if (strcmp(key, "PORT") != 0 && strcmp(key, "REDIS_PORT") &&
		    strcmp(key, "REDIS_DB") &&
		    strcmp(key, "REDIS_TIMEOUT_MS") &&
		    strcmp(key, "REDIS_MAX_PENDING") &&
		    strcmp(key, "SESSION_TTL_SECONDS") &&
		    strcmp(key, "SESSION_MAX_TTL_SECONDS") &&
		    strcmp(key, "MAX_SESSIONS") &&
		    strcmp(key, "HTTP_IDLE_TIMEOUT_SECONDS") &&
		    strcmp(key, "HTTP_REQUEST_TIMEOUT_SECONDS") &&
		    strcmp(key, "MAX_CONNECTIONS"))
			continue;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			expect_invalid(key, bad[i]);
	}
}

Test(config, ttl_must_not_exceed_max_ttl)
{
	setenv("SESSION_TTL_SECONDS", "601", 1);
	setenv("SESSION_MAX_TTL_SECONDS", "600", 1);
	cr_expect_not(load());
	cr_expect_not_null(strstr(err, "SESSION_TTL_SECONDS"));
}

Test(config, log_level_and_debug_values)
{
	static const char *const levels[] = {"DEBUG", "info", "Warning",
	                                     "ERROR"};

	for (size_t i = 0; i < 4; i++) {
		setenv("LOG_LEVEL", levels[i], 1);
		cr_expect(load(), "%s", err);
		cr_expect_eq(cfg.log_level, (enum log_level)i);
	}
	unsetenv("LOG_LEVEL");
	expect_invalid("LOG_LEVEL", "VERBOSE");
	expect_invalid("LOG_LEVEL", "");
	expect_invalid("LOG_LEVEL", "WARN");
	expect_invalid("DEBUG", "maybe");
	expect_invalid("DEBUG", "");
	expect_invalid("DEBUG", "2");
}

Test(config, strings)
{
	char long_value[5000];

	expect_invalid("HOST", "");
	expect_invalid("HOST", "bad host");
	expect_invalid("HOST", "a/b");
	expect_invalid("REDIS_HOST", "");
	expect_invalid("REDIS_HOST", "line\nbreak");
	memset(long_value, 'a', 200);
	long_value[200] = '\0';
	expect_invalid("REDIS_SOCKET", long_value);
	expect_invalid("STATIC_DIR", "");
	expect_invalid("FRAME_ANCESTORS", "");
	expect_invalid("FRAME_ANCESTORS", "https://a.example; script-src *");
	expect_invalid("FRAME_ANCESTORS", "https://a.example, https://b");
	expect_invalid("FRAME_ANCESTORS", "https://a.example\r\nX-Evil: 1");
	expect_invalid("PUBLIC_BASE_URL", "auth.example.com");
	expect_invalid("PUBLIC_BASE_URL", "ftp://auth.example.com");
	expect_invalid("PUBLIC_BASE_URL", "https://auth.example.com/");
	expect_invalid("PUBLIC_BASE_URL", "https://auth.example.com/?x=1");
	expect_invalid("PUBLIC_BASE_URL", "https://auth example.com");
	expect_invalid("PUBLIC_BASE_URL", "https://user@auth.example.com");
	expect_invalid("PUBLIC_BASE_URL", "https://auth_1.example.com/x");
	expect_invalid("PUBLIC_BASE_URL", "https://[::1]:8000");
	expect_invalid("API_KEY", "one,,two");
	expect_invalid("API_KEY", ",one");
	expect_invalid("API_KEY", "one,");
	expect_invalid("API_KEY", "has space");
	/* Every string has a size bound. */
	memset(long_value, 'a', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	expect_invalid("HOST", long_value);
	expect_invalid("REDIS_PASSWORD", long_value);
	expect_invalid("API_KEY", long_value);
	expect_invalid("FRAME_ANCESTORS", long_value);
	expect_invalid("PUBLIC_BASE_URL", long_value);
	expect_invalid("STATIC_DIR", long_value);
}

Test(config, secrets_are_never_echoed)
{
	char long_value[400];

	memset(long_value, 'p', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	setenv("REDIS_PASSWORD", long_value, 1);
	cr_assert_not(load());
	cr_expect_null(strstr(err, "pppp"), "%s", err);
	unsetenv("REDIS_PASSWORD");
	setenv("API_KEY", "topsecret,,x", 1);
	cr_assert_not(load());
	cr_expect_null(strstr(err, "topsecret"), "%s", err);
	cr_expect_not_null(strstr(err, "API_KEY"));
}

Test(config, sentinel_keys)
{
	setenv("REDIS_SENTINELS",
	       " 10.0.0.1:26379, sentinel-2.internal:26380,[::1]:26381 ", 1);
	setenv("REDIS_SENTINEL_MASTER", "auth-redis", 1);
	setenv("REDIS_SENTINEL_PASSWORD", "sentinel secret", 1);
	setenv("REDIS_MIN_REPLICAS", "2", 1);
	cr_assert(load(), "%s", err);
	cr_expect_str_eq(
	    cfg.redis_sentinels,
	    " 10.0.0.1:26379, sentinel-2.internal:26380,[::1]:26381 ");
	cr_expect_str_eq(cfg.redis_sentinel_master, "auth-redis");
	cr_expect_str_eq(cfg.redis_sentinel_password, "sentinel secret");
	cr_expect_eq(cfg.redis_min_replicas, 2);
}

Test(config, sentinel_list_errors_name_the_key)
{
	static const char *const bad[] = {
	    "localhost",        /* no port */
	    "localhost:",       /* empty port */
	    ":26379",           /* empty host */
	    "a:26379,,b:26379", /* empty entry */
	    "a:26379,",         /* trailing comma */
	    "a:0",              /* port out of range */
	    "a:65536",          /* port out of range */
	    "a:2637x",          /* not a number */
	    "a:+1",             /* not plain decimal */
	    "::1:26379",        /* IPv6 without brackets */
	    "[::1]26379",       /* no colon after the bracket */
	    "[::1",             /* unclosed bracket */
	    "a b:26379",        /* space inside the host */
	    "a/b:26379",        /* not a host */
	    "a:1,a:1",          /* twice */
	    "h\x01:26379",      /* control character */
	    /* 17 entries */
	    ("a:1,b:1,c:1,d:1,e:1,f:1,g:1,h:1,i:1,j:1,k:1,l:1,m:1,n:1,o:1,"
	     "p:1,q:1"),
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_invalid("REDIS_SENTINELS", bad[i]);
	expect_invalid("REDIS_SENTINEL_MASTER", "");
	expect_invalid("REDIS_SENTINEL_MASTER", "my master");
	expect_invalid("REDIS_MIN_REPLICAS", "-1");
	expect_invalid("REDIS_MIN_REPLICAS", "101");
	expect_invalid("REDIS_MIN_REPLICAS", "one");
}

Test(config, sentinels_exclude_the_socket)
{
	setenv("REDIS_SENTINELS", "127.0.0.1:26379", 1);
	setenv("REDIS_SOCKET", "/run/redis.sock", 1);
	cr_expect_not(load());
	cr_expect_not_null(strstr(err, "REDIS_SENTINELS"), "%s", err);
	cr_expect_not_null(strstr(err, "REDIS_SOCKET"), "%s", err);
}

Test(config, min_replicas_needs_room_for_wait)
{
	setenv("REDIS_MIN_REPLICAS", "1", 1);
	setenv("REDIS_MAX_PENDING", "1", 1);
	cr_expect_not(load());
	cr_expect_not_null(strstr(err, "REDIS_MAX_PENDING"), "%s", err);
	setenv("REDIS_MAX_PENDING", "2", 1);
	cr_expect(load(), "%s", err);
}

Test(config, sentinel_password_is_never_echoed)
{
	char long_value[400];

	memset(long_value, 'q', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	setenv("REDIS_SENTINEL_PASSWORD", long_value, 1);
	cr_assert_not(load());
	cr_expect_null(strstr(err, "qqqq"), "%s", err);
	cr_expect_not_null(strstr(err, "REDIS_SENTINEL_PASSWORD"), "%s", err);
}

Test(config, default_file_is_read_when_present)
{
	write_file("config.env", "# a comment\n"
	                         "\n"
	                         "PORT=9100\n"
	                         "  REDIS_HOST = redis.local  \n"
	                         "FRAME_ANCESTORS=\"https://a.example "
	                         "https://b.example\"\n"
	                         "export LOG_LEVEL='ERROR'\n");
	cr_assert(load(), "%s", err);
	cr_expect_eq(cfg.port, 9100);
	cr_expect_str_eq(cfg.redis_host, "redis.local");
	cr_expect_str_eq(cfg.frame_ancestors,
	                 "https://a.example https://b.example");
	cr_expect_eq(cfg.log_level, LOG_LEVEL_ERROR);
}

Test(config, environment_wins_over_file)
{
	write_file("config.env", "PORT=9100\nAPI_KEY=from-file\n");
	setenv("PORT", "9200", 1);
	/* Set but empty still counts as set. */
	setenv("API_KEY", "", 1);
	cr_assert(load(), "%s", err);
	cr_expect_eq(cfg.port, 9200);
	cr_expect_str_eq(cfg.api_key, "");
}

Test(config, explicit_file)
{
	write_file("other.env", "MAX_SESSIONS=5\n");
	cr_assert(config_load(&cfg, "other.env", err, sizeof(err)), "%s", err);
	cr_expect_eq(cfg.max_sessions, 5);
}

Test(config, explicit_file_must_exist)
{
	cr_expect_not(config_load(&cfg, "missing.env", err, sizeof(err)));
	cr_expect_not_null(strstr(err, "missing.env"));
}

Test(config, invalid_file_value_names_key_and_line)
{
	write_file("config.env", "PORT=8000\n\nREDIS_PORT=http\n");
	cr_expect_not(load());
	cr_expect_not_null(strstr(err, "REDIS_PORT"), "%s", err);
	cr_expect_not_null(strstr(err, "line 3"), "%s", err);
}

Test(config, file_syntax_errors)
{
	write_file("config.env", "PORT 8000\n");
	cr_expect_not(load());
	cr_expect_not_null(strstr(err, "line 1"), "%s", err);
	write_file("config.env", "PROT=8000\n");
	cr_expect_not(load());
	cr_expect_not_null(strstr(err, "PROT"), "%s", err);
}

Test(config, help_lists_every_key)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	config_print_help(f);
	fclose(f);
	for (size_t i = 0; i < config_key_count(); i++)
		cr_expect_not_null(strstr(text, config_key_name(i)), "%s",
		                   config_key_name(i));
	free(text);
}

/* config.env.example, copied to config.env, must give exactly the
 * defaults it documents. */
Test(config, example_file_gives_the_defaults)
{
	struct config defaults;
	char path[512];

	cr_assert(load(), "%s", err);
	defaults = cfg;
	snprintf(path, sizeof(path), "%s/config.env.example",
	         getenv("SOURCE_ROOT"));
	cr_assert(config_load(&cfg, path, err, sizeof(err)), "%s", err);
	cr_expect_str_eq(cfg.frame_ancestors, defaults.frame_ancestors);
	cr_expect_eq(memcmp(&cfg, &defaults, sizeof(cfg)), 0);
}
