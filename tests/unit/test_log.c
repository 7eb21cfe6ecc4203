/* log.c: level parsing and the path scrubbing that keeps session ids and
 * control characters out of the log. */
#include <criterion/criterion.h>
#include <string.h>

#include "log.h"

Test(log, level_parse)
{
	enum log_level l;

	cr_expect(log_level_parse("debug", &l));
	cr_expect_eq(l, LOG_LEVEL_DEBUG);
	cr_expect(log_level_parse("WARNING", &l));
	cr_expect_eq(l, LOG_LEVEL_WARNING);
	cr_expect_not(log_level_parse("WARN", &l));
	cr_expect_not(log_level_parse("", &l));
}

Test(log, level_filter)
{
	log_set_level(LOG_LEVEL_WARNING);
	cr_expect_not(log_enabled(LOG_LEVEL_INFO));
	cr_expect(log_enabled(LOG_LEVEL_ERROR));
}

Test(log, path_cuts_session_ids)
{
	char out[256];

	log_path("/auth/sessions/550e8400-e29b-41d4-a716-446655440000", out,
	         sizeof(out));
	cr_expect_str_eq(out, "/auth/sessions/550e8400...");
	log_path("/x/550e8400-e29b-41d4-a716-446655440000/y", out, sizeof(out));
	cr_expect_str_eq(out, "/x/550e8400.../y");
}

Test(log, path_escapes_control_and_quotes)
{
	char out[256];

	log_path("/a b\"c\n\\", out, sizeof(out));
	cr_expect_str_eq(out, "/a%20b%22c%0A%5C");
}

Test(log, path_truncates_safely)
{
	char out[8];

	/* Cut where one more escape (3 bytes) and the NUL might not fit. */
	log_path("/abcdefghijklmnop", out, sizeof(out));
	cr_expect_str_eq(out, "/abc");
	/* An escape is never cut in half. */
	log_path("/ab\"cdefghijklmnop", out, sizeof(out));
	cr_expect_str_eq(out, "/ab%22");
	log_path("/abc\"defghijklmnop", out, sizeof(out));
	cr_expect_str_eq(out, "/abc");
}
