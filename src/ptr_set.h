/* A set of pointers: open addressing with linear probing, growing as it
 * fills.  Used to remember which connections are already being watched. */
#ifndef IFRAME_AUTH_PTR_SET_H
#define IFRAME_AUTH_PTR_SET_H

#include <stdbool.h>
#include <stddef.h>

struct ptr_set {
	const void **slots; /* NULL: empty; &ptr_set_tombstone: removed */
	size_t cap;         /* a power of two, or 0 */
	size_t used;        /* live entries plus tombstones */
	size_t count;       /* live entries */
};

/* A zeroed struct ptr_set is an empty set. */
void ptr_set_finish(struct ptr_set *set);

/* Adds p (not NULL); false when it was already there or memory ran out. */
bool ptr_set_add(struct ptr_set *set, const void *p)
    __attribute__((warn_unused_result));
bool ptr_set_contains(const struct ptr_set *set, const void *p);
/* Removes p; false when it was not there. */
bool ptr_set_remove(struct ptr_set *set, const void *p);

#endif
