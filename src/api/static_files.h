/* The static files: every regular file under STATIC_DIR, read into memory
 * at start-up and served from there.  A request path is only ever looked
 * up in that set, never joined onto the filesystem, so no spelling of a
 * path can reach outside STATIC_DIR. */
#ifndef IFRAME_AUTH_API_STATIC_FILES_H
#define IFRAME_AUTH_API_STATIC_FILES_H

#include <stdbool.h>
#include <stddef.h>

struct static_files;

struct static_file {
	char *url_path; /* "/client/iframe.html" */
	char *data;
	size_t len;
	const char *content_type;
	bool html;
};

/* Loads dir.  Files whose names need percent-encoding, hidden files and
 * symbolic links that resolve outside dir are left out.  NULL with err
 * set when dir cannot be read. */
struct static_files *static_files_load(const char *dir, char *err,
                                       size_t errlen);
void static_files_destroy(struct static_files *files);

/* The file served at url_path (raw, not decoded), or NULL. */
const struct static_file *static_files_find(const struct static_files *files,
                                            const char *url_path);
size_t static_files_count(const struct static_files *files);

#endif
