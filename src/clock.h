/* Time in the two forms the service needs: a monotonic clock for
 * durations and deadlines, and ISO 8601 UTC text for the API. */
#ifndef IFRAME_AUTH_CLOCK_H
#define IFRAME_AUTH_CLOCK_H

#include <stdint.h>
#include <sys/time.h>
#include <time.h>

/* "2026-11-22T10:30:00Z" plus the terminator. */
#define CLOCK_ISO8601_LEN 21

/* Microseconds from an arbitrary fixed point; never goes backwards. */
uint64_t clock_monotonic_us(void);

/* ms milliseconds as a timeval, for libevent timers. */
struct timeval clock_timeval_ms(int ms);

/* Formats t as ISO 8601 UTC with second precision. */
void clock_format_iso8601(time_t t, char out[CLOCK_ISO8601_LEN]);

#endif
