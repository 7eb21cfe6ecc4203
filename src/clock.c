#include "clock.h"

#include <stdio.h>

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
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, CLOCK_ISO8601_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
