/* ptr_map.c: put, get, remove, growth, and reuse after many cycles. */
#include <criterion/criterion.h>

#include "ptr_map.h"

static char objects[5000];

Test(ptr_map, put_get_remove)
{
	struct ptr_map map = {0};
	int value = 7;

	cr_expect_null(ptr_map_get(&map, &objects[0]));
	cr_expect_not(ptr_map_remove(&map, &objects[0]));
	cr_assert(ptr_map_put(&map, &objects[0], &value));
	cr_expect_not(ptr_map_put(&map, &objects[0], &value), "put twice");
	cr_expect_eq(ptr_map_get(&map, &objects[0]), &value);
	cr_expect_eq(map.count, 1);
	cr_expect(ptr_map_remove(&map, &objects[0]));
	cr_expect_null(ptr_map_get(&map, &objects[0]));
	cr_expect_eq(map.count, 0);
	ptr_map_finish(&map);
}

Test(ptr_map, grows_and_keeps_every_entry)
{
	struct ptr_map map = {0};

	for (size_t i = 0; i < sizeof(objects); i++)
		cr_assert(ptr_map_put(&map, &objects[i], &objects[i]), "%zu",
		          i);
	cr_expect_eq(map.count, sizeof(objects));
	for (size_t i = 0; i < sizeof(objects); i++)
		cr_assert_eq(ptr_map_get(&map, &objects[i]), &objects[i], "%zu",
		             i);
	for (size_t i = 0; i < sizeof(objects); i += 2)
		cr_assert(ptr_map_remove(&map, &objects[i]));
	for (size_t i = 0; i < sizeof(objects); i++)
		cr_expect_eq(ptr_map_get(&map, &objects[i]) != NULL,
		             i % 2 == 1);
	cr_expect_eq(map.count, sizeof(objects) / 2);
	ptr_map_finish(&map);
}

Test(ptr_map, many_put_remove_cycles_with_a_few_live)
{
	struct ptr_map map = {0};

	/* Connections come and go: the tombstones they leave must never
	 * fill the table. */
	for (size_t round = 0; round < 200000; round++) {
		const void *p = &objects[round % sizeof(objects)];

		cr_assert(ptr_map_put(&map, p, NULL), "round %zu", round);
		if (round >= 5)
			cr_assert(ptr_map_remove(
			    &map, &objects[(round - 5) % sizeof(objects)]));
	}
	cr_expect_eq(map.count, 5);
	cr_expect_leq(map.cap, 64);
	ptr_map_finish(&map);
	cr_expect_eq(map.cap, 0);
}
