#include "ptr_set.h"

#include <stdint.h>
#include <stdlib.h>

static const char tombstone;

static size_t
slot_of(const struct ptr_set *set, const void *p)
{
	/* Fibonacci hashing of the address; the low bits of pointers are
	 * mostly zero. */
	uint64_t h = (uint64_t)(uintptr_t)p * 11400714819323198485ull;

	return (size_t)(h >> 32) & (set->cap - 1);
}

/* The slot holding p, or SIZE_MAX. */
static size_t
find(const struct ptr_set *set, const void *p)
{
	if (set->cap == 0)
		return SIZE_MAX;
	for (size_t i = slot_of(set, p);; i = (i + 1) & (set->cap - 1)) {
		if (set->slots[i] == NULL)
			return SIZE_MAX;
		if (set->slots[i] == p)
			return i;
	}
}

static bool
rehash(struct ptr_set *set, size_t cap)
{
	struct ptr_set grown = {calloc(cap, sizeof(*grown.slots)), cap, 0, 0};

	if (grown.slots == NULL)
		return false;
	for (size_t i = 0; i < set->cap; i++) {
		const void *p = set->slots[i];

		if (p != NULL && p != &tombstone) {
			size_t k = slot_of(&grown, p);

			while (grown.slots[k] != NULL)
				k = (k + 1) & (cap - 1);
			grown.slots[k] = p;
			grown.used++;
			grown.count++;
		}
	}
	free(set->slots);
	*set = grown;
	return true;
}

bool
ptr_set_add(struct ptr_set *set, const void *p)
{
	size_t i, cap = 16;

	if (find(set, p) != SIZE_MAX)
		return false;
	/* Keep at most half the slots taken so that probes stay short and
	 * always end on an empty slot; room for four times the live
	 * entries, dropping the tombstones. */
	if ((set->used + 1) * 2 > set->cap) {
		while (cap < (set->count + 1) * 4)
			cap *= 2;
		if (!rehash(set, cap))
			return false;
	}
	for (i = slot_of(set, p);
	     set->slots[i] != NULL && set->slots[i] != &tombstone;
	     i = (i + 1) & (set->cap - 1))
		;
	if (set->slots[i] == NULL)
		set->used++;
	set->slots[i] = p;
	set->count++;
	return true;
}

bool
ptr_set_contains(const struct ptr_set *set, const void *p)
{
	return find(set, p) != SIZE_MAX;
}

bool
ptr_set_remove(struct ptr_set *set, const void *p)
{
	size_t i = find(set, p);

	if (i == SIZE_MAX)
		return false;
	set->slots[i] = &tombstone;
	set->count--;
	return true;
}

void
ptr_set_finish(struct ptr_set *set)
{
	free(set->slots);
	*set = (struct ptr_set){0};
}
