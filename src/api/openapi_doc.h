/* docs/openapi.yaml as compact JSON, turned into C at build time
 * (scripts/openapi_c.py); what GET /openapi.json serves. */
#ifndef IFRAME_AUTH_API_OPENAPI_DOC_H
#define IFRAME_AUTH_API_OPENAPI_DOC_H

#include <stddef.h>

/* NUL-terminated; openapi_json_len leaves the NUL out. */
extern const char openapi_json[];
extern const size_t openapi_json_len;

#endif
