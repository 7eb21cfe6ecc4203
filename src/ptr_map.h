/* A map from pointers to pointers: open addressing with linear probing,
 * growing as it fills.  The server keys its connection records by their
 * evhttp connection with it. */
#ifndef IFRAME_AUTH_PTR_MAP_H
#define IFRAME_AUTH_PTR_MAP_H

#include <stdbool.h>
#include <stddef.h>

struct ptr_map_slot {
	const void *key; /* NULL: empty; ptr_map_tombstone: removed */
	void *value;
};

struct ptr_map {
	struct ptr_map_slot *slots;
	size_t cap;   /* a power of two, or 0 */
	size_t used;  /* live entries plus tombstones */
	size_t count; /* live entries */
};

/* A zeroed struct ptr_map is an empty map. */
void ptr_map_finish(struct ptr_map *map);

/* Adds key (not NULL) -> value; false when key is already there or
 * memory ran out. */
bool ptr_map_put(struct ptr_map *map, const void *key, void *value)
    __attribute__((warn_unused_result));
/* The value of key, or NULL. */
void *ptr_map_get(const struct ptr_map *map, const void *key);
/* Removes key; false when it was not there. */
bool ptr_map_remove(struct ptr_map *map, const void *key);

#endif
