/* ptr_set.c: membership, removal, growth and reuse after many cycles. */
#include <criterion/criterion.h>

#include "ptr_set.h"

static char objects[5000];

Test(ptr_set, add_contains_remove)
{
	struct ptr_set set = {0};

	cr_expect_not(ptr_set_contains(&set, &objects[0]));
	cr_expect_not(ptr_set_remove(&set, &objects[0]));
	cr_assert(ptr_set_add(&set, &objects[0]));
	cr_expect_not(ptr_set_add(&set, &objects[0]), "added twice");
	cr_expect(ptr_set_contains(&set, &objects[0]));
	cr_expect_eq(set.count, 1);
	cr_expect(ptr_set_remove(&set, &objects[0]));
	cr_expect_not(ptr_set_contains(&set, &objects[0]));
	cr_expect_eq(set.count, 0);
	ptr_set_finish(&set);
}

Test(ptr_set, grows_and_keeps_every_member)
{
	struct ptr_set set = {0};

	for (size_t i = 0; i < sizeof(objects); i++)
		cr_assert(ptr_set_add(&set, &objects[i]), "%zu", i);
	cr_expect_eq(set.count, sizeof(objects));
	for (size_t i = 0; i < sizeof(objects); i++)
		cr_assert(ptr_set_contains(&set, &objects[i]), "%zu", i);
	for (size_t i = 0; i < sizeof(objects); i += 2)
		cr_assert(ptr_set_remove(&set, &objects[i]));
	for (size_t i = 0; i < sizeof(objects); i++)
		cr_expect_eq(ptr_set_contains(&set, &objects[i]), i % 2 == 1);
	cr_expect_eq(set.count, sizeof(objects) / 2);
	ptr_set_finish(&set);
}

Test(ptr_set, many_add_remove_cycles_with_a_few_live)
{
	struct ptr_set set = {0};

	/* Connections come and go: the tombstones they leave must never
	 * fill the table. */
	for (size_t round = 0; round < 200000; round++) {
		const void *p = &objects[round % sizeof(objects)];

		cr_assert(ptr_set_add(&set, p), "round %zu", round);
		if (round >= 5)
			cr_assert(ptr_set_remove(
			    &set, &objects[(round - 5) % sizeof(objects)]));
	}
	cr_expect_eq(set.count, 5);
	cr_expect_leq(set.cap, 64);
	ptr_set_finish(&set);
	cr_expect_eq(set.cap, 0);
}
