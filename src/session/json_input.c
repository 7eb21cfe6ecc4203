#include "json_input.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

#define JSON_INPUT_DEPTH 16

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t
utf8_sequence(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (len > n)
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return len;
}

/* Invalid UTF-8 anywhere, and control characters outside strings (those
 * inside are checked with the structure, where their member is known). */
static const char *
check_text(const unsigned char *s, size_t len)
{
	bool in_string = false;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_sequence(s + i, len - i);

		if (n == 0)
			return "not valid UTF-8";
		if (!in_string &&
		    (s[i] == 0x7f || (s[i] < 0x20 && s[i] != '\t' &&
		                      s[i] != '\n' && s[i] != '\r')))
			return "control characters are not allowed";
		if (in_string && s[i] == '\\' && i + 1 < len) {
			i += 2; /* the escaped character is never a quote */
			continue;
		}
		if (s[i] == '"')
			in_string = !in_string;
		i += n;
	}
	return NULL;
}

/*
 * A second look at text json-c has accepted, for what it lets through and
 * a client must not send: control characters inside strings, the escape
 * \u0000 (json-c would silently cut object keys at it), single-quoted
 * strings, and a key repeated in one object at any depth (json-c keeps
 * the last one silently, so {"session_id": A, "session_id": B} would be
 * read as B by us and perhaps as A by whoever looked before us).  Keys
 * are decoded by json-c itself, so that two spellings of one key
 * ("a" and "\u0061") are the same key here as they are in the parse.
 */
struct scan {
	const char *s;
	size_t len;
	size_t pos;
	int depth;
	struct json_tokener *keys; /* decodes one key at a time */
	struct json_input_fault *fault;
};

static bool
scan_fail(struct scan *sc, const char *why)
{
	sc->fault->why = why;
	return false;
}

/* Copies at most JSON_INPUT_NAME_MAX bytes of name, never half a UTF-8
 * sequence. */
static void
copy_name(char dst[JSON_INPUT_NAME_MAX + 1], const char *name)
{
	size_t n = strlen(name);

	if (n > JSON_INPUT_NAME_MAX) {
		n = JSON_INPUT_NAME_MAX;
		while (n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, name, n);
	dst[n] = '\0';
}

/* Text json-c reads and JSON does not (single-quoted strings): a fault of
 * the whole body, not of a member. */
static bool
scan_not_json(struct scan *sc)
{
	sc->fault->member[0] = '\0';
	sc->fault->key[0] = '\0';
	return scan_fail(sc, "not valid JSON");
}

static void
skip_space(struct scan *sc)
{
	while (sc->pos < sc->len &&
	       (sc->s[sc->pos] == ' ' || sc->s[sc->pos] == '\t' ||
	        sc->s[sc->pos] == '\n' || sc->s[sc->pos] == '\r'))
		sc->pos++;
}

/* The double-quoted string at pos; leaves pos past its closing quote. */
static bool
scan_string(struct scan *sc)
{
	for (sc->pos++; sc->pos < sc->len && sc->s[sc->pos] != '"'; sc->pos++) {
		unsigned char c = (unsigned char)sc->s[sc->pos];

		if (c < 0x20 || c == 0x7f)
			return scan_fail(sc,
			                 "control characters are not allowed");
		if (c != '\\')
			continue;
		if (sc->pos + 5 < sc->len &&
		    memcmp(sc->s + sc->pos + 1, "u0000", 5) == 0)
			return scan_fail(sc,
			                 "the escape \\u0000 is not allowed");
		sc->pos++; /* the escaped character is never the end */
	}
	sc->pos++;
	return true;
}

static bool scan_value(struct scan *sc);

/* The object at pos, its keys unique; leaves pos past its '}'. */
static bool
scan_object(struct scan *sc)
{
	struct json_object *seen = json_object_new_object();
	bool ok = seen != NULL;

	if (!ok)
		scan_fail(sc, "out of memory");
	sc->depth++;
	for (sc->pos++; ok;) {
		struct json_object *key;
		size_t start;

		skip_space(sc);
		if (sc->pos >= sc->len || sc->s[sc->pos] == '}')
			break;
		if (sc->depth == 1)
			sc->fault->member[0] = '\0';
		if (sc->s[sc->pos] != '"') {
			ok = scan_not_json(sc);
			break;
		}
		start = sc->pos;
		if (!scan_string(sc)) {
			ok = false;
			break;
		}
		json_tokener_reset(sc->keys);
		key = json_tokener_parse_ex(sc->keys, sc->s + start,
		                            (int)(sc->pos - start));
		if (key == NULL) {
			ok = scan_fail(sc, "out of memory");
			break;
		}
		if (sc->depth == 1)
			copy_name(sc->fault->member,
			          json_object_get_string(key));
		if (json_object_object_get_ex(seen, json_object_get_string(key),
		                              NULL)) {
			if (sc->depth > 1)
				copy_name(sc->fault->key,
				          json_object_get_string(key));
			ok = scan_fail(sc, JSON_INPUT_DUPLICATE_KEY);
		} else if (json_object_object_add(
		               seen, json_object_get_string(key), NULL) != 0) {
			ok = scan_fail(sc, "out of memory");
		}
		json_object_put(key);
		if (!ok)
			break;
		skip_space(sc);
		sc->pos++; /* ':' */
		ok = scan_value(sc);
		skip_space(sc);
		if (ok && sc->pos < sc->len && sc->s[sc->pos] == ',')
			sc->pos++;
	}
	sc->pos++;
	sc->depth--;
	json_object_put(seen);
	return ok;
}

/* The array at pos; leaves pos past its ']'. */
static bool
scan_array(struct scan *sc)
{
	for (sc->pos++;;) {
		skip_space(sc);
		if (sc->pos >= sc->len || sc->s[sc->pos] == ']')
			break;
		if (!scan_value(sc))
			return false;
		skip_space(sc);
		if (sc->pos < sc->len && sc->s[sc->pos] == ',')
			sc->pos++;
	}
	sc->pos++;
	return true;
}

/* Any value at pos; leaves pos just past it. */
static bool
scan_value(struct scan *sc)
{
	skip_space(sc);
	if (sc->pos >= sc->len)
		return scan_not_json(sc);
	switch (sc->s[sc->pos]) {
	case '{':
		return scan_object(sc);
	case '[':
		return scan_array(sc);
	case '"':
		return scan_string(sc);
	case '\'':
		return scan_not_json(sc);
	default: /* a number or a literal */
		while (sc->pos < sc->len &&
		       strchr(",]} \t\n\r", sc->s[sc->pos]) == NULL)
			sc->pos++;
		return true;
	}
}

/* Rejects NaN and infinities (json-c reads "NaN" and "Infinity") and
 * makes numbers serialize in standard form rather than as written. */
static bool
normalize_numbers(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_double:
		if (!isfinite(json_object_get_double(v)))
			return false;
		json_object_set_serializer(v, NULL, NULL, NULL);
		return true;
	case json_type_object: {
		json_object_object_foreach(v, key, child)
		{
			(void)key;
			if (!normalize_numbers(child))
				return false;
		}
		return true;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			if (!normalize_numbers(json_object_array_get_idx(v, i)))
				return false;
		}
		return true;
	default:
		return true;
	}
}

/* json-c's own parse: one value, strict, bounded nesting, nothing after
 * it but whitespace. */
static struct json_object *
parse_value(const char *text, size_t len, const char **why)
{
	struct json_tokener *tok = json_tokener_new_ex(JSON_INPUT_DEPTH);
	struct json_object *obj;
	size_t end;

	if (tok == NULL) {
		*why = "out of memory";
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	                                JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (obj == NULL ||
	    json_tokener_get_error(tok) != json_tokener_success) {
		*why = json_tokener_get_error(tok) == json_tokener_error_depth
		           ? "nested too deeply"
		           : "not valid JSON";
		json_object_put(obj);
		obj = NULL;
	} else {
		while (end < len && (text[end] == ' ' || text[end] == '\t' ||
		                     text[end] == '\n' || text[end] == '\r'))
			end++;
		if (end != len) {
			*why = "unexpected data after the JSON value";
			json_object_put(obj);
			obj = NULL;
		}
	}
	json_tokener_free(tok);
	return obj;
}

struct json_object *
json_input_parse_located(const char *text, size_t len,
                         struct json_input_fault *fault)
{
	struct scan sc = {.s = text, .len = len, .fault = fault};
	struct json_object *obj;

	memset(fault, 0, sizeof(*fault));
	fault->why = check_text((const unsigned char *)text, len);
	if (fault->why != NULL)
		return NULL;
	obj = parse_value(text, len, &fault->why);
	if (obj == NULL)
		return NULL;
	sc.keys = json_tokener_new();
	if (sc.keys == NULL) {
		scan_fail(&sc, "out of memory");
	} else {
		if (scan_value(&sc))
			fault->member[0] = '\0';
		json_tokener_free(sc.keys);
	}
	if (fault->why == NULL && !normalize_numbers(obj))
		fault->why = "numbers must be finite";
	if (fault->why != NULL) {
		json_object_put(obj);
		return NULL;
	}
	return obj;
}

bool
json_input_is_utf8(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_sequence(s + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}
