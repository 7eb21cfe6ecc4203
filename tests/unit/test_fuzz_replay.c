/* Replays fuzz/corpus/<target>/ and fuzz/crashers/<target>/ through the
 * fuzz targets' code, so that every input a fuzzer ever found stays a
 * regression test in the normal and the sanitize builds. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "targets.h"

/* The whole file at path in an allocation of exactly its length, so that
 * a read past the end of an input is a heap overflow ASan reports (a
 * shared, larger buffer would hide it). */
static uint8_t *
read_input(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *input;
	long size;

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0, "%s", path);
	size = ftell(f);
	cr_assert_geq(size, 0, "%s", path);
	rewind(f);
	*len = (size_t)size;
	input = malloc(*len);
	cr_assert(input != NULL || *len == 0, "%s", path);
	cr_assert_eq(fread(input, 1, *len, f), *len, "%s", path);
	fclose(f);
	return input;
}

/* Feeds every file of FUZZ_DIR/<kind>/<target> to fn; returns how many. */
static size_t
replay_dir(const char *kind, const char *target,
           void (*fn)(const uint8_t *, size_t))
{
	char dir[4096], path[8192];
	const char *root = getenv("FUZZ_DIR");
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	cr_assert_not_null(root, "FUZZ_DIR is not set");
	snprintf(dir, sizeof(dir), "%s/%s/%s", root, kind, target);
	d = opendir(dir);
	if (d == NULL)
		return 0; /* no crashers kept for this target */
	while ((e = readdir(d)) != NULL) {
		uint8_t *input;
		size_t len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		input = read_input(path, &len);
		fn(input, len);
		free(input);
		n++;
	}
	closedir(d);
	return n;
}

static void
replay(const char *target, void (*fn)(const uint8_t *, size_t))
{
	size_t corpus = replay_dir("corpus", target, fn);

	replay_dir("crashers", target, fn);
	cr_expect_gt(corpus, 0, "no corpus for %s", target);
}

Test(fuzz_replay, session_id)
{
	replay("session_id", fuzz_session_id);
}

Test(fuzz_replay, create_body)
{
	replay("create_body", fuzz_create_body);
}

Test(fuzz_replay, record)
{
	replay("record", fuzz_record);
}

Test(fuzz_replay, record_general)
{
	replay("record_general", fuzz_record_general);
}

Test(fuzz_replay, embed_record)
{
	replay("embed_record", fuzz_embed_record);
}

Test(fuzz_replay, embed)
{
	replay("embed", fuzz_embed);
}

Test(fuzz_replay, http)
{
	replay("http", fuzz_http);
}
