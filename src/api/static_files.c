#include "static_files.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../log.h"

#define FILE_MAX  ((size_t)4 << 20)
#define TOTAL_MAX ((size_t)64 << 20)
#define FILES_MAX 10000
#define DEPTH_MAX 16

struct static_files {
	char root[PATH_MAX]; /* realpath of STATIC_DIR */
	struct static_file *files;
	size_t count, cap, total;
};

static const struct {
	const char *ext;
	const char *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".htm", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".webp", "image/webp"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
};

static const char *
content_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]);
	     i++) {
		/* Case as written on disk does not matter: page.HTML is
		 * HTML, and gets the page's headers. */
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].type;
	}
	return "application/octet-stream";
}

/* Names that are served exactly as written: nothing to percent-encode. */
static bool
url_safe(const char *name)
{
	if (name[0] == '.')
		return false;
	for (const char *p = name; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
		      *p == '_'))
			return false;
	}
	return true;
}

/* Reads the file at path (already known to be inside the root). */
static bool
add_file(struct static_files *sf, const char *path, const char *url_path)
{
	struct static_file f = {0};
	FILE *in;
	struct stat st;

	if (sf->count == FILES_MAX) {
		log_warning("static file skipped, too many files path=%s",
		            url_path);
		return true;
	}
	in = fopen(path, "rb");
	if (in == NULL || fstat(fileno(in), &st) != 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > FILE_MAX ||
	    sf->total + (size_t)st.st_size > TOTAL_MAX) {
		log_warning("static file skipped path=%s", url_path);
		if (in != NULL)
			fclose(in);
		return true;
	}
	f.len = (size_t)st.st_size;
	f.data = malloc(f.len + 1);
	f.url_path = strdup(url_path);
	if (sf->count == sf->cap) {
		size_t cap = sf->cap ? sf->cap * 2 : 16;
		struct static_file *grown =
		    realloc(sf->files, cap * sizeof(*grown));

		if (grown != NULL) {
			sf->files = grown;
			sf->cap = cap;
		}
	}
	if (f.data == NULL || f.url_path == NULL || sf->count == sf->cap ||
	    fread(f.data, 1, f.len, in) != f.len) {
		free(f.data);
		free(f.url_path);
		fclose(in);
		return false;
	}
	fclose(in);
	f.content_type = content_type(url_path);
	f.html = strncmp(f.content_type, "text/html", 9) == 0;
	sf->files[sf->count++] = f;
	sf->total += f.len;
	return true;
}

/* True when path resolves to a place inside the root. */
static bool
inside_root(const struct static_files *sf, const char *path)
{
	char real[PATH_MAX];
	size_t len = strlen(sf->root);

	return realpath(path, real) != NULL &&
	       strncmp(real, sf->root, len) == 0 && real[len] == '/';
}

static bool
walk(struct static_files *sf, const char *dir, const char *url_dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool ok = true;

	if (d == NULL)
		return depth > 0; /* an unreadable subdirectory is skipped */
	while (ok && (e = readdir(d)) != NULL) {
		char path[PATH_MAX], url[PATH_MAX];
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		                     e->d_name) >= sizeof(path) ||
		    (size_t)snprintf(url, sizeof(url), "%s/%s", url_dir,
		                     e->d_name) >= sizeof(url))
			continue;
		if (!url_safe(e->d_name) || !inside_root(sf, path) ||
		    stat(path, &st) != 0) {
			log_debug("static entry skipped path=%s", url);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			/* Symbolic links to directories are not followed,
			 * so a loop cannot recurse. */
			if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
			    depth < DEPTH_MAX)
				ok = walk(sf, path, url, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			ok = add_file(sf, path, url);
		}
	}
	closedir(d);
	return ok;
}

static int
compare_url(const void *a, const void *b)
{
	return strcmp(((const struct static_file *)a)->url_path,
	              ((const struct static_file *)b)->url_path);
}

struct static_files *
static_files_load(const char *dir, char *err, size_t errlen)
{
	struct static_files *sf = calloc(1, sizeof(*sf));

	if (sf == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (realpath(dir, sf->root) == NULL) {
		snprintf(err, errlen, "STATIC_DIR=\"%s\": %s", dir,
		         strerror(errno));
		free(sf);
		return NULL;
	}
	if (!walk(sf, sf->root, "", 0)) {
		snprintf(err, errlen, "STATIC_DIR=\"%s\": cannot be read", dir);
		static_files_destroy(sf);
		return NULL;
	}
	/* Sorted, for lookups by binary search. */
	if (sf->count > 0)
		qsort(sf->files, sf->count, sizeof(*sf->files), compare_url);
	return sf;
}

void
static_files_destroy(struct static_files *sf)
{
	if (sf == NULL)
		return;
	for (size_t i = 0; i < sf->count; i++) {
		free(sf->files[i].url_path);
		free(sf->files[i].data);
	}
	free(sf->files);
	free(sf);
}

static int
compare_key(const void *key, const void *file)
{
	return strcmp(key, ((const struct static_file *)file)->url_path);
}

const struct static_file *
static_files_find(const struct static_files *sf, const char *url_path)
{
	if (sf == NULL || sf->count == 0)
		return NULL;
	return bsearch(url_path, sf->files, sf->count, sizeof(*sf->files),
	               compare_key);
}

size_t
static_files_count(const struct static_files *sf)
{
	return sf->count;
}
