#include "targets.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "session/create_request.h"
#include "session/record.h"
#include "session/session_id.h"

/* A NUL-terminated copy, for the parsers that take C strings. */
static char *
text_of(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (s != NULL) {
		memcpy(s, data, len);
		s[len] = '\0';
	}
	return s;
}

/* A result that passes must be a canonical lowercase v4 id. */
static void
check_id(const char id[SESSION_ID_LEN + 1])
{
	char again[SESSION_ID_LEN + 1];

	if (strlen(id) != SESSION_ID_LEN ||
	    !session_id_normalize(id, SESSION_ID_LEN, again) ||
	    strcmp(id, again) != 0)
		abort();
}

void
fuzz_session_id(const uint8_t *data, size_t len)
{
	char id[SESSION_ID_LEN + 1];
	char *query;

	if (len > FUZZ_INPUT_MAX)
		return;
	if (session_id_normalize((const char *)data, len, id))
		check_id(id);
	query = text_of(data, len);
	if (query == NULL)
		return;
	if (session_id_from_query(query, id) == SESSION_ID_FOUND)
		check_id(id);
	free(query);
}

void
fuzz_create_body(const uint8_t *data, size_t len)
{
	struct create_request req;
	char detail[256];

	if (len > FUZZ_INPUT_MAX)
		return;
	if (create_request_parse((const char *)data, len, 86400, &req, detail,
	                         sizeof(detail)) == CREATE_PARSE_OK) {
		char *record = record_serialize(
		    "550e8400-e29b-41d4-a716-446655440000", 0, 60, &req);
		struct json_object *parsed;

		/* Whatever is accepted must make a record that reads back. */
		if (record == NULL)
			abort();
		parsed = record_parse(record, strlen(record));
		if (parsed == NULL)
			abort();
		json_object_put(parsed);
		free(record);
		create_request_finish(&req);
	}
}

void
fuzz_record(const uint8_t *data, size_t len)
{
	struct json_object *obj;

	if (len > FUZZ_INPUT_MAX)
		return;
	obj = record_parse((const char *)data, len);
	json_object_put(obj);
}
