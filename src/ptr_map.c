#include "ptr_map.h"

#include <stdint.h>
#include <stdlib.h>

static const char tombstone;

static size_t
slot_of(const struct ptr_map *map, const void *key)
{
	/* Fibonacci hashing of the address; the low bits of pointers are
	 * mostly zero. */
	uint64_t h = (uint64_t)(uintptr_t)key * 11400714819323198485ull;

	return (size_t)(h >> 32) & (map->cap - 1);
}

/* The slot holding key, or SIZE_MAX.  Probes end on an empty slot, of
 * which there is always one (the map is kept at most half full). */
static size_t
find(const struct ptr_map *map, const void *key)
{
	if (map->cap == 0)
		return SIZE_MAX;
	for (size_t i = slot_of(map, key);; i = (i + 1) & (map->cap - 1)) {
		if (map->slots[i].key == NULL)
			return SIZE_MAX;
		if (map->slots[i].key == key)
			return i;
	}
}

static bool
rehash(struct ptr_map *map, size_t cap)
{
	struct ptr_map grown = {calloc(cap, sizeof(*grown.slots)), cap, 0, 0};

	if (grown.slots == NULL)
		return false;
	for (size_t i = 0; i < map->cap; i++) {
		const struct ptr_map_slot *s = &map->slots[i];

		if (s->key != NULL && s->key != &tombstone) {
			size_t k = slot_of(&grown, s->key);

			while (grown.slots[k].key != NULL)
				k = (k + 1) & (cap - 1);
			grown.slots[k] = *s;
			grown.used++;
			grown.count++;
		}
	}
	free(map->slots);
	*map = grown;
	return true;
}

bool
ptr_map_put(struct ptr_map *map, const void *key, void *value)
{
	size_t i, cap = 16;

	if (find(map, key) != SIZE_MAX)
		return false;
	/* At most half the slots taken, tombstones included; room for four
	 * times the live entries after a rehash, which drops tombstones. */
	if ((map->used + 1) * 2 > map->cap) {
		while (cap < (map->count + 1) * 4)
			cap *= 2;
		if (!rehash(map, cap))
			return false;
	}
	for (i = slot_of(map, key);
	     map->slots[i].key != NULL && map->slots[i].key != &tombstone;
	     i = (i + 1) & (map->cap - 1))
		;
	if (map->slots[i].key == NULL)
		map->used++;
	map->slots[i] = (struct ptr_map_slot){key, value};
	map->count++;
	return true;
}

void *
ptr_map_get(const struct ptr_map *map, const void *key)
{
	size_t i = find(map, key);

	return i == SIZE_MAX ? NULL : map->slots[i].value;
}

bool
ptr_map_remove(struct ptr_map *map, const void *key)
{
	size_t i = find(map, key);

	if (i == SIZE_MAX)
		return false;
	map->slots[i] = (struct ptr_map_slot){&tombstone, NULL};
	map->count--;
	return true;
}

void
ptr_map_finish(struct ptr_map *map)
{
	free(map->slots);
	*map = (struct ptr_map){0};
}
