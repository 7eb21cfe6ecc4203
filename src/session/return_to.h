/* return_to of create-session (§5, §11): where the iframe page goes after
 * redemption.  It must stay on this service's origin, so it is a path
 * (with query and fragment if wanted) that no browser can read as another
 * origin: one leading '/', never "//", never a '\' (which browsers treat
 * as '/'), no control characters (browsers strip tabs and newlines, so
 * "/\t/evil" would become "//evil"), and no percent-encoded '/' or '\'
 * right after the first '/' ("/%2F/evil" turns into "//evil" in any hop
 * that decodes once).  Only printable ASCII: a client percent-encodes
 * anything else, which also keeps look-alike slashes out. */
#ifndef IFRAME_AUTH_SESSION_RETURN_TO_H
#define IFRAME_AUTH_SESSION_RETURN_TO_H

#include <stddef.h>

#define RETURN_TO_MAX 1024

/* NULL when text (len bytes) is an acceptable return_to, otherwise what
 * is wrong with it. */
const char *return_to_check(const char *text, size_t len);

#endif
