#include "user_id.h"

#include "json_input.h"

bool
user_id_valid(const char *s, size_t len)
{
	if (len > USER_ID_MAX || !json_input_is_utf8(s, len))
		return false;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	}
	return true;
}
