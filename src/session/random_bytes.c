#include "random_bytes.h"

#include <errno.h>
#include <sys/random.h>
#include <sys/types.h>

bool
random_bytes(void *buf, size_t len)
{
	unsigned char *out = buf;
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(out + got, len - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		got += (size_t)n;
	}
	return true;
}
