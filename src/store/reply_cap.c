#include "reply_cap.h"

#include <hiredis/hiredis.h>

#if HIREDIS_MAJOR >= 1
/* hiredis 1.x checks an announced array's size itself, before allocating
 * it, and fails the connection with "Multi-bulk length out of range". */
void
reply_cap_arrays(redisAsyncContext *ac)
{
	ac->c.reader->maxelements = REPLY_ARRAY_MAX;
}

/* hiredis 1.x names the refusal itself. */
bool
reply_cap_refused(void)
{
	return false;
}
#else
/* hiredis 0.14 has no such check, and its constructor takes an int: ours
 * wraps it.  array_refused is set when the cap refused an array. */
static bool array_refused;
static void *(*hiredis_create_array)(const redisReadTask *task, int n);

/* hiredis's own array constructor, refusing announced sizes no reply of
 * ours reaches; NULL makes the reader fail and the connection drop. */
static void *
create_capped_array(const redisReadTask *task, int n)
{
	if (n > REPLY_ARRAY_MAX) {
		array_refused = true;
		return NULL;
	}
	return hiredis_create_array(task, n);
}

void
reply_cap_arrays(redisAsyncContext *ac)
{
	static redisReplyObjectFunctions capped;

	if (hiredis_create_array == NULL) {
		capped = *ac->c.reader->fn;
		hiredis_create_array = capped.createArray;
		capped.createArray = create_capped_array;
	}
	ac->c.reader->fn = &capped;
	array_refused = false;
}

bool
reply_cap_refused(void)
{
	bool refused = array_refused;

	array_refused = false;
	return refused;
}
#endif
