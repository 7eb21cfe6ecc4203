/*
 * The raw bytes of each request head (request line and header lines),
 * checked before evhttp parses them.
 *
 * Why raw bytes: evhttp hides some lines that two parties could read
 * differently.  It merges a continuation line (obs-fold) into the header
 * before it, so that nothing in the parsed headers shows the fold; and it
 * answers a line it cannot parse (no colon, a bare CR, a Content-Length
 * such as "0x5") with its own HTML 400, which has none of our headers.
 *
 * How: a callback on the connection's input buffer sees each byte as it
 * arrives, before evhttp's read callback parses it, and follows the head
 * line by line exactly as evhttp splits it (a line ends at LF, one CR
 * before it dropped; an empty line ends the head).  A header line that
 * breaks a rule below is overwritten in place, before evhttp has seen it
 * whole, with ":" and spaces: evhttp then parses a harmless empty header
 * and hands the request over as usual, and the server answers it with the
 * first problem found (400, connection closed).  Nothing past that request
 * is ever parsed.  Lines keep their length, so evhttp and this scan agree
 * on where every line and the head end.
 *
 * The rules for header lines (RFC 9110 §5, RFC 9112 §5):
 * - a name of one or more token characters, then ':' (no whitespace
 *   before the colon);
 * - no line starting with SP or HTAB (obs-fold);
 * - no NUL, and no CR other than the one before LF;
 * and for the headers that frame the body, which evhttp reads its own
 * way (it refuses some combinations itself, in HTML; an older build took
 * the first of two):
 * - a Content-Length value of digits only, a Transfer-Encoding value of
 *   "chunked" in any case, each between optional spaces (not tabs:
 *   evhttp skips only spaces before a value, so builds differ on them);
 * - at most one of each, and not both.
 */
#ifndef IFRAME_AUTH_HTTP_HEAD_CHECK_H
#define IFRAME_AUTH_HTTP_HEAD_CHECK_H

#include <stdbool.h>
#include <stddef.h>

struct evbuffer;
struct evbuffer_cb_entry;

/* The scan of one head, byte by byte: pure, no I/O. */
struct head_scan {
	unsigned char state;      /* where in the line or head */
	unsigned char name_match; /* framing names the name may still be */
	unsigned char framing;    /* the framing header of this line, or 0 */
	unsigned char seen;       /* framing headers seen in this head */
	unsigned char value;      /* progress through a framing value */
	bool cr;                  /* the line so far ends in CR */
	size_t line_len;          /* bytes of the current line before LF */
	size_t name_len;
	size_t value_len;         /* bytes of a framing value (no spaces) */
	const char *line_problem; /* what is wrong with the current line */
	const char *problem;      /* the first problem of this head */
};

enum head_scan_step {
	HEAD_SCAN_MORE,     /* the head goes on */
	HEAD_SCAN_BAD_LINE, /* this LF ends a header line that breaks a rule */
	HEAD_SCAN_END,      /* this LF ends the head */
};

/* Starts on a new head: the next byte is its first. */
void head_scan_start(struct head_scan *s);

/* Takes the next byte.  On HEAD_SCAN_BAD_LINE, *line_start is how many
 * bytes before this LF the line starts and *content how many of them make
 * its content (without the CR before LF).  After HEAD_SCAN_END, or once a
 * problem is known, bytes are still taken but not needed. */
enum head_scan_step head_scan_byte(struct head_scan *s, unsigned char c,
                                   size_t *line_start, size_t *content);

/* One connection's check, on its input buffer. */
struct head_check {
	struct evbuffer *input;
	struct evbuffer_cb_entry *cb; /* enabled while a head arrives */
	struct head_scan scan;
};

/* Starts checking input, whose next byte begins the first request. */
bool head_check_attach(struct head_check *h, struct evbuffer *input)
    __attribute__((warn_unused_result));
/* Stops hearing the input buffer; safe after a failed attach. */
void head_check_detach(struct head_check *h);

/* evhttp has handed over the request whose head was checked: returns the
 * first problem of that head (NULL if none) and starts on the next head,
 * from what the input buffer already holds. */
const char *head_check_next(struct head_check *h);

#endif
