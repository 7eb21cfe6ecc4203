/* One input through each fuzzed parser.  Shared by the libFuzzer targets
 * and by the unit test that replays the corpus and the crashers. */
#ifndef IFRAME_AUTH_FUZZ_TARGETS_H
#define IFRAME_AUTH_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

/* Inputs are capped so that a run explores shapes, not sizes. */
#define FUZZ_INPUT_MAX 16384

void fuzz_session_id(const uint8_t *data, size_t len);
void fuzz_create_body(const uint8_t *data, size_t len);
void fuzz_record(const uint8_t *data, size_t len);
/* The general record path: records of any writer (record.h). */
void fuzz_record_general(const uint8_t *data, size_t len);
/* An embed session's record as /auth/verify reads it (embed_record.h). */
void fuzz_embed_record(const uint8_t *data, size_t len);
/* The credential of verify and logout (Cookie and Authorization headers)
 * and return_to. */
void fuzz_embed(const uint8_t *data, size_t len);
/* Starts the service in this process on first use; STATIC_DIR from the
 * environment (default "static"). */
void fuzz_http(const uint8_t *data, size_t len);

#endif
