/* Parameters of a raw query string (name=value&...). */
#ifndef IFRAME_AUTH_API_QUERY_H
#define IFRAME_AUTH_API_QUERY_H

#include <stddef.h>

/* Finds name=value in a raw query; NULL when absent.  *len is the value's
 * length. */
const char *query_param(const char *query, const char *name, size_t *len);

#endif
