#include "clock.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

uint64_t
clock_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct timeval
clock_timeval_ms(int ms)
{
	struct timeval tv = {ms / 1000, (suseconds_t)(ms % 1000) * 1000};

	return tv;
}

void
clock_format_iso8601(time_t t, char out[CLOCK_ISO8601_LEN])
{
	/* Requests format the same few seconds over and over (now, and now
	 * plus the usual TTL): keep the last two.  The service has one
	 * thread. */
	static struct {
		bool kept;
		time_t t;
		char text[CLOCK_ISO8601_LEN];
	} recent[2];
	static unsigned next;
	struct tm tm;

	for (unsigned i = 0; i < 2; i++) {
		if (recent[i].kept && recent[i].t == t) {
			memcpy(out, recent[i].text, CLOCK_ISO8601_LEN);
			return;
		}
	}
	gmtime_r(&t, &tm);
	strftime(out, CLOCK_ISO8601_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
	recent[next].kept = true;
	recent[next].t = t;
	memcpy(recent[next].text, out, CLOCK_ISO8601_LEN);
	next ^= 1;
}
