/* Preloaded into the service by a test: a kernel that cannot supply
 * random bytes, as getrandom(2) reports it before the pool is ready on a
 * system that asks not to block, or where a seccomp filter refuses the
 * call. */
#include <errno.h>
#include <stddef.h>
#include <sys/types.h>

ssize_t getrandom(void *buf, size_t len, unsigned int flags);

ssize_t
getrandom(void *buf, size_t len, unsigned int flags)
{
	(void)buf;
	(void)len;
	(void)flags;
	errno = ENOSYS;
	return -1;
}
