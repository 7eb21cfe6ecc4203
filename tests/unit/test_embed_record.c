/* embed_record.c: what /auth/verify reads from an embed session record,
 * the metadata as base64url, and the records it refuses. */
#include <criterion/criterion.h>
#include <string.h>

#include "session/embed_record.h"

#define HEAD                                                                \
	"{\"expires_at_unix\":1796193041,\"session_id\":"                   \
	"\"5c1ed6e8-1a7b-44aa-81af-5c10764920d7\",\"created_at\":"          \
	"\"2026-12-02T05:30:41Z\",\"expires_at\":\"2026-12-02T06:30:41Z\"," \
	"\"generation\":0"

static bool
read_text(const char *text, struct embed_view *v)
{
	return embed_record_read(text, strlen(text), v);
}

Test(embed_record, full_record)
{
	struct embed_view v;

	cr_assert(read_text(HEAD ",\"user_id\":\"alice\",\"return_to\":\"/a\","
	                         "\"metadata\":{\"a\":1}}",
	                    &v));
	cr_expect_str_eq(v.user_id, "alice");
	cr_expect_str_eq(v.session_id, "5c1ed6e8-1a7b-44aa-81af-5c10764920d7");
	cr_expect_str_eq(v.expires_at, "2026-12-02T06:30:41Z");
	cr_expect_str_eq(v.metadata, "eyJhIjoxfQ"); /* {"a":1} */
	embed_view_finish(&v);
}

Test(embed_record, no_user_no_metadata)
{
	struct embed_view v;

	cr_assert(read_text(HEAD "}", &v));
	cr_expect_null(v.user_id);
	cr_expect_null(v.metadata);
	embed_view_finish(&v);
	cr_assert(read_text(HEAD ",\"user_id\":null,\"metadata\":null}", &v));
	cr_expect_null(v.user_id);
	cr_expect_null(v.metadata);
	embed_view_finish(&v);
}

Test(embed_record, refused)
{
	struct embed_view v;

	cr_expect(!read_text("", &v));
	cr_expect(!read_text("[]", &v));
	cr_expect(!read_text("{\"session_id\":\"12345678\"}", &v));
	cr_expect(
	    !read_text("{\"session_id\":\"1234\",\"expires_at\":\"x\"}", &v));
	cr_expect(!read_text(HEAD ",\"user_id\":7}", &v));
	cr_expect(!read_text(HEAD ",\"user_id\":\"a\\r\\nX-Evil: 1\"}", &v));
	cr_expect(!read_text(HEAD ",\"metadata\":[1]}", &v));
	cr_expect(!read_text(HEAD, &v));
}

/* Metadata cut from another writer's record: its numbers as written, and
 * of a repeated key the last, as the validate script read it. */
Test(embed_record, metadata_of_another_writer)
{
	struct embed_view v;

	cr_assert(read_text(HEAD ",\"metadata\": {\"n\": 1.50, \"k\": 1, "
	                         "\"k\": 2}}",
	                    &v));
	cr_expect_str_eq(v.metadata,
	                 "eyJuIjoxLjUwLCJrIjoyfQ"); /* {"n":1.50,"k":2} */
	embed_view_finish(&v);
	cr_expect(!read_text(HEAD ",\"metadata\":{\"a\":\"\\u0000\"}}", &v));
}
