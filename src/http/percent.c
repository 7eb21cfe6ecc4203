#include "percent.h"

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
percent_decode(const char *in, size_t len, char *out, size_t cap,
               size_t *out_len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (c == '%') {
			int hi = i + 2 < len ? hex_value(in[i + 1]) : -1;
			int lo = hi >= 0 ? hex_value(in[i + 2]) : -1;

			if (lo < 0)
				return false;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (n + 1 >= cap)
			return false;
		out[n++] = c;
	}
	if (n >= cap)
		return false;
	out[n] = '\0';
	*out_len = n;
	return true;
}
