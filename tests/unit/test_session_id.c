/* session_id.c: generating v4 ids, the strict canonical form, and finding
 * session_id in a raw query string without decoding it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session/session_id.h"

#define GOOD       "550e8400-e29b-41d4-a716-446655440000"
#define GOOD_UPPER "550E8400-E29B-41D4-A716-446655440000"
#define V1         "550e8400-e29b-11d4-a716-446655440000"
#define NIL        "00000000-0000-0000-0000-000000000000"

static bool
normalize(const char *text, char out[SESSION_ID_LEN + 1])
{
	return session_id_normalize(text, strlen(text), out);
}

static bool
rejected(const char *text)
{
	char out[SESSION_ID_LEN + 1];

	return !session_id_normalize(text, strlen(text), out);
}

static bool
is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

Test(session_id_generate, has_the_canonical_v4_shape)
{
	char id[SESSION_ID_LEN + 1];
	char norm[SESSION_ID_LEN + 1];

	cr_assert(session_id_generate(id, false));
	cr_assert_eq(strlen(id), SESSION_ID_LEN);
	for (size_t i = 0; i < SESSION_ID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			cr_expect_eq(id[i], '-', "index %zu of %s", i, id);
		else
			cr_expect(is_lower_hex(id[i]), "index %zu of %s", i,
			          id);
	}
	cr_expect_eq(id[14], '4', "version nibble of %s", id);
	cr_expect_not_null(strchr("89ab", id[19]), "variant of %s", id);
	cr_assert(normalize(id, norm));
	cr_expect_str_eq(norm, id);
}

Test(session_id_generate, marks_origin_bound_ids_by_their_last_bit)
{
	char id[SESSION_ID_LEN + 1];
	unsigned seen = 0;

	for (int i = 0; i < 200; i++) {
		bool bound = i % 2 == 0;

		cr_assert(session_id_generate(id, bound));
		cr_expect_eq(session_id_origin_bound(id), bound, "%s", id);
		cr_expect_not_null(strchr(bound ? "13579bdf" : "02468ace",
		                          id[SESSION_ID_LEN - 1]),
		                   "%s", id);
		/* The rest of the last digit stays random. */
		seen |= 1u << (id[SESSION_ID_LEN - 1] >= 'a'
		                   ? id[SESSION_ID_LEN - 1] - 'a' + 10
		                   : id[SESSION_ID_LEN - 1] - '0');
	}
	cr_expect_eq(seen, 0xffffu, "digits seen %#x", seen);
}

Test(session_id_origin_bound, reads_any_canonical_id)
{
	cr_expect(
	    session_id_origin_bound("550e8400-e29b-41d4-a716-446655440001"));
	cr_expect(
	    session_id_origin_bound("550e8400-e29b-41d4-a716-44665544000f"));
	cr_expect_not(
	    session_id_origin_bound("550e8400-e29b-41d4-a716-446655440000"));
	cr_expect_not(
	    session_id_origin_bound("550e8400-e29b-41d4-a716-44665544000e"));
}

static int
compare_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

Test(session_id_generate, a_thousand_ids_are_distinct)
{
	enum { N = 1000 };
	char(*ids)[SESSION_ID_LEN + 1] = calloc(N, sizeof(*ids));

	cr_assert_not_null(ids);
	for (size_t i = 0; i < N; i++) {
		cr_assert(session_id_generate(ids[i], i % 2 == 0));
		cr_assert_eq(ids[i][14], '4');
		cr_assert_not_null(strchr("89ab", ids[i][19]));
	}
	qsort(ids, N, sizeof(*ids), compare_ids);
	for (size_t i = 1; i < N; i++)
		cr_assert_str_neq(ids[i - 1], ids[i]);
	free(ids);
}

Test(session_id_normalize, accepts_canonical_lower_case)
{
	char out[SESSION_ID_LEN + 1];

	cr_assert(normalize(GOOD, out));
	cr_expect_str_eq(out, GOOD);
	/* Every allowed variant character. */
	cr_expect(normalize("550e8400-e29b-41d4-8716-446655440000", out));
	cr_expect(normalize("550e8400-e29b-41d4-9716-446655440000", out));
	cr_expect(normalize("550e8400-e29b-41d4-b716-446655440000", out));
	cr_expect(normalize("550e8400-e29b-41d4-B716-446655440000", out));
	cr_expect_str_eq(out, "550e8400-e29b-41d4-b716-446655440000");
}

Test(session_id_normalize, folds_upper_case_to_lower)
{
	char out[SESSION_ID_LEN + 1];

	cr_assert(normalize(GOOD_UPPER, out));
	cr_expect_str_eq(out, GOOD);
	cr_assert(normalize("550e8400-E29B-41d4-A716-446655440000", out));
	cr_expect_str_eq(out, GOOD);
}

Test(session_id_normalize, rejects_wrong_lengths)
{
	char out[SESSION_ID_LEN + 1];

	cr_expect(rejected(""));
	cr_expect(rejected("550e8400-e29b-41d4-a716-44665544000"));   /* 35 */
	cr_expect(rejected("550e8400-e29b-41d4-a716-4466554400000")); /* 37 */
	cr_expect(rejected(GOOD "x"));
	cr_expect(rejected("x" GOOD));
	cr_expect(rejected(" " GOOD));
	cr_expect(rejected(GOOD " "));
	cr_expect(rejected(GOOD "\n"));
	/* len, not the terminator, decides. */
	cr_expect_not(session_id_normalize(GOOD, SESSION_ID_LEN - 1, out));
	cr_expect_not(session_id_normalize(GOOD "0", SESSION_ID_LEN + 1, out));
}

Test(session_id_normalize, rejects_missing_or_misplaced_dashes)
{
	cr_expect(rejected("550e8400e29b41d4a716446655440000"));
	cr_expect(rejected("550e8400-e29b-41d4-a716446655440000-"));
	cr_expect(rejected("550e840-0e29b-41d4-a716-446655440000"));
	cr_expect(rejected("550e8400-e29b4-1d4-a716-446655440000"));
	cr_expect(rejected("550e8400-e29b-41d4a-716-446655440000"));
	cr_expect(rejected("550e8400-e29b-41d4-a7164-46655440000"));
	cr_expect(rejected("550e8400xe29b-41d4-a716-446655440000"));
	cr_expect(rejected("550e8400-e29b-41d4-a716_446655440000"));
	cr_expect(rejected("------------------------------------"));
	cr_expect(rejected("{550e8400-e29b-41d4-a716-4466554400}"));
}

Test(session_id_normalize, rejects_non_hex_characters)
{
	cr_expect(rejected("550e8400-e29b-41d4-a716-44665544000g"));
	cr_expect(rejected("g50e8400-e29b-41d4-a716-446655440000"));
	cr_expect(rejected("550e8400-e29b-41d4-a716-44665544000 "));
	cr_expect(rejected("550e 400-e29b-41d4-a716-446655440000"));
	cr_expect(rejected("550e8400-e29b-41d4-a716-44665544000G"));
	cr_expect(rejected("550e8400-e29b-41d4-a716-44665544000+"));
	cr_expect(rejected("550e8400-e29b-41d4-a716-4466554400\xc3\xa9"));
}

Test(session_id_normalize, rejects_other_versions_and_nil)
{
	cr_expect(rejected(V1));
	cr_expect(rejected(NIL));
	cr_expect(rejected("550e8400-e29b-31d4-a716-446655440000"));
	cr_expect(rejected("550e8400-e29b-51d4-a716-446655440000"));
	cr_expect(rejected("ffffffff-ffff-ffff-ffff-ffffffffffff"));
}

Test(session_id_normalize, rejects_other_variants)
{
	cr_expect(rejected("550e8400-e29b-41d4-c716-446655440000"));
	cr_expect(rejected("550e8400-e29b-41d4-7716-446655440000"));
	cr_expect(rejected("550e8400-e29b-41d4-0716-446655440000"));
	cr_expect(rejected("550e8400-e29b-41d4-f716-446655440000"));
	cr_expect(rejected("550e8400-e29b-41d4-C716-446655440000"));
}

Test(session_id_normalize, rejects_embedded_nul)
{
	char buf[SESSION_ID_LEN];
	char out[SESSION_ID_LEN + 1];

	memcpy(buf, GOOD, SESSION_ID_LEN);
	cr_assert(session_id_normalize(buf, sizeof(buf), out));
	buf[20] = '\0';
	cr_expect_not(session_id_normalize(buf, sizeof(buf), out));
	memcpy(buf, GOOD, SESSION_ID_LEN);
	buf[SESSION_ID_LEN - 1] = '\0';
	cr_expect_not(session_id_normalize(buf, sizeof(buf), out));
	memcpy(buf, GOOD, SESSION_ID_LEN);
	buf[8] = '\0';
	cr_expect_not(session_id_normalize(buf, sizeof(buf), out));
}

/* Percent-encoding where a digit or a dash belongs, each 36 bytes long. */
static const char *const percent_forms[] = {
    "550e8400-e29b-41d4-a716-44665544%300",
    "%350e8400-e29b-41d4-a716-44665544000",
    "550e8400%2De29b-41d4-a716-4466554400",
    "550e8400%2de29b%2d41d4%2da716%2d4466",
    "550e8400-e29b-41d4-a716-446655440%00",
    "%35%35%30%65%38%34%30%30-e29b-41d4-a",
};

/* text is a full-length id (so that its length alone cannot get it
 * rejected) and is rejected. */
static bool
rejected_at_full_length(const char *text)
{
	cr_assert_eq(strlen(text), SESSION_ID_LEN, "%s", text);
	return rejected(text);
}

Test(session_id_normalize, rejects_percent_encoded_forms)
{
	for (size_t i = 0; i < sizeof(percent_forms) / sizeof(*percent_forms);
	     i++)
		cr_expect(rejected_at_full_length(percent_forms[i]));
}

/* session_id_from_query */

static enum session_id_query
from_query(const char *query, char out[SESSION_ID_LEN + 1])
{
	memset(out, '#', SESSION_ID_LEN + 1);
	return session_id_from_query(query, out);
}

Test(session_id_from_query, missing)
{
	char out[SESSION_ID_LEN + 1];

	cr_expect_eq(from_query(NULL, out), SESSION_ID_MISSING);
	cr_expect_eq(from_query("", out), SESSION_ID_MISSING);
	cr_expect_eq(from_query("a=1&b=2", out), SESSION_ID_MISSING);
	cr_expect_eq(from_query("&&&", out), SESSION_ID_MISSING);
	cr_expect_eq(from_query("session_id=", out), SESSION_ID_MISSING);
	cr_expect_eq(from_query("session_id", out), SESSION_ID_MISSING);
	cr_expect_eq(from_query("a=1&session_id=&b=2", out),
	             SESSION_ID_MISSING);
	cr_expect_eq(from_query("a=1&session_id&b=2", out), SESSION_ID_MISSING);
}

Test(session_id_from_query, found_alone)
{
	char out[SESSION_ID_LEN + 1];

	cr_assert_eq(from_query("session_id=" GOOD, out), SESSION_ID_FOUND);
	cr_expect_str_eq(out, GOOD);
}

Test(session_id_from_query, found_among_other_parameters)
{
	char out[SESSION_ID_LEN + 1];

	cr_assert_eq(from_query("a=1&session_id=" GOOD "&b=2", out),
	             SESSION_ID_FOUND);
	cr_expect_str_eq(out, GOOD);
	cr_assert_eq(from_query("a=1&session_id=" GOOD, out), SESSION_ID_FOUND);
	cr_expect_str_eq(out, GOOD);
	cr_assert_eq(from_query("session_id=" GOOD "&", out), SESSION_ID_FOUND);
	cr_expect_str_eq(out, GOOD);
}

Test(session_id_from_query, upper_case_is_found_and_folded)
{
	char out[SESSION_ID_LEN + 1];

	cr_assert_eq(from_query("session_id=" GOOD_UPPER, out),
	             SESSION_ID_FOUND);
	cr_expect_str_eq(out, GOOD);
}

Test(session_id_from_query, repeated)
{
	char out[SESSION_ID_LEN + 1];

	cr_expect_eq(from_query("session_id=" GOOD "&session_id=" GOOD, out),
	             SESSION_ID_REPEATED);
	cr_expect_eq(
	    from_query("session_id=" GOOD "&session_id=" GOOD_UPPER, out),
	    SESSION_ID_REPEATED);
	cr_expect_eq(from_query("session_id=" GOOD "&a=1&session_id=" NIL, out),
	             SESSION_ID_REPEATED);
	cr_expect_eq(from_query("session_id=&session_id=" GOOD, out),
	             SESSION_ID_REPEATED);
	cr_expect_eq(from_query("session_id&session_id=" GOOD, out),
	             SESSION_ID_REPEATED);
}

Test(session_id_from_query, altered_ids_are_malformed)
{
	char out[SESSION_ID_LEN + 1];

	cr_expect_eq(from_query("session_id=" GOOD "%00", out),
	             SESSION_ID_MALFORMED);
	/* Percent-encoded forms of full length: refused for what they
	 * hold, not for their length. */
	for (size_t i = 0; i < sizeof(percent_forms) / sizeof(*percent_forms);
	     i++) {
		char query[64];

		cr_assert_eq(strlen(percent_forms[i]), SESSION_ID_LEN);
		snprintf(query, sizeof(query), "session_id=%s",
		         percent_forms[i]);
		cr_expect_eq(from_query(query, out), SESSION_ID_MALFORMED, "%s",
		             query);
	}
	cr_expect_eq(from_query("session_id=" GOOD "x", out),
	             SESSION_ID_MALFORMED);
	cr_expect_eq(from_query("session_id=" GOOD "%20", out),
	             SESSION_ID_MALFORMED);
	cr_expect_eq(from_query("session_id=" GOOD "+", out),
	             SESSION_ID_MALFORMED);
	cr_expect_eq(from_query("session_id=+" GOOD, out),
	             SESSION_ID_MALFORMED);
	cr_expect_eq(from_query("session_id=" GOOD "=", out),
	             SESSION_ID_MALFORMED);
	cr_expect_eq(from_query("session_id=" V1, out), SESSION_ID_MALFORMED);
	cr_expect_eq(from_query("session_id=" NIL, out), SESSION_ID_MALFORMED);
	cr_expect_eq(from_query("session_id=abc", out), SESSION_ID_MALFORMED);
	cr_expect_eq(from_query("session_id=" GOOD "#frag", out),
	             SESSION_ID_MALFORMED);
}

Test(session_id_from_query, similar_names_do_not_count)
{
	char out[SESSION_ID_LEN + 1];

	cr_expect_eq(from_query("xsession_id=" GOOD, out), SESSION_ID_MISSING);
	cr_expect_eq(from_query("session_idx=" GOOD, out), SESSION_ID_MISSING);
	cr_expect_eq(from_query("Session_id=" GOOD, out), SESSION_ID_MISSING);
	cr_expect_eq(from_query("session%5Fid=" GOOD, out), SESSION_ID_MISSING);
	cr_expect_eq(from_query("session_i=" GOOD, out), SESSION_ID_MISSING);
	cr_expect_eq(from_query("a=session_id=" GOOD, out), SESSION_ID_MISSING);
	/* A look-alike next to the real one is not a repeat. */
	cr_assert_eq(from_query("xsession_id=" NIL "&session_id=" GOOD
	                        "&session_idx=" NIL,
	                        out),
	             SESSION_ID_FOUND);
	cr_expect_str_eq(out, GOOD);
}
