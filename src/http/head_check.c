#include "head_check.h"

#include <string.h>

#include <event2/buffer.h>

enum {
	AT_REQUEST_LINE, /* evhttp checks the request line itself */
	AT_LINE_START,
	IN_NAME,
	IN_VALUE,
	IN_BAD_LINE, /* the rest of a line already refused */
	AT_HEAD_END,
};

enum { LENGTH_LEAD, LENGTH_DIGITS, LENGTH_TRAIL, LENGTH_BAD };

static const char content_length[] = "content-length";

/* RFC 9110 §5.6.2 tchar. */
static bool
is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

void
head_scan_start(struct head_scan *s)
{
	*s = (struct head_scan){.state = AT_REQUEST_LINE};
}

static void
refuse_line(struct head_scan *s, const char *why)
{
	if (s->line_problem == NULL)
		s->line_problem = why;
	s->state = IN_BAD_LINE;
}

static void
length_byte(struct head_scan *s, unsigned char c)
{
	bool digit = c >= '0' && c <= '9', space = c == ' ' || c == '\t';

	switch (s->length) {
	case LENGTH_LEAD:
		s->length = digit   ? LENGTH_DIGITS
		            : space ? LENGTH_LEAD
		                    : LENGTH_BAD;
		break;
	case LENGTH_DIGITS:
		s->length = digit   ? LENGTH_DIGITS
		            : space ? LENGTH_TRAIL
		                    : LENGTH_BAD;
		break;
	case LENGTH_TRAIL:
		s->length = space ? LENGTH_TRAIL : LENGTH_BAD;
		break;
	default:
		break;
	}
}

/* A byte of a header line other than CR or LF. */
static void
line_byte(struct head_scan *s, unsigned char c)
{
	if (s->state == AT_LINE_START) {
		if (c == ' ' || c == '\t') {
			refuse_line(s, "obs-fold (a header line that starts "
			               "with whitespace)");
			return;
		}
		s->state = IN_NAME;
		s->name_is_length = true;
	}
	switch (s->state) {
	case IN_NAME:
		if (c == ':') {
			if (s->name_len == 0) {
				refuse_line(s, "empty header name");
				return;
			}
			s->state = IN_VALUE;
			s->name_is_length =
			    s->name_is_length &&
			    s->name_len == sizeof(content_length) - 1;
			s->length = LENGTH_LEAD;
		} else if (c == ' ' || c == '\t') {
			refuse_line(s, "whitespace between a header name and "
			               "its colon");
		} else if (!is_tchar(c)) {
			refuse_line(s, "invalid character in a header name");
		} else {
			s->name_is_length =
			    s->name_is_length &&
			    s->name_len < sizeof(content_length) - 1 &&
			    lower(c) ==
			        (unsigned char)content_length[s->name_len];
			s->name_len++;
		}
		return;
	case IN_VALUE:
		if (c == '\0')
			refuse_line(s, "NUL in a header value");
		else if (s->name_is_length)
			length_byte(s, c);
		return;
	default:
		return;
	}
}

/* The LF that ends a line. */
static enum head_scan_step
line_end(struct head_scan *s, size_t *line_start, size_t *content)
{
	size_t len = s->line_len;
	bool cr = s->cr;

	s->line_len = 0;
	s->name_len = 0;
	s->cr = false;
	switch (s->state) {
	case AT_LINE_START: /* nothing but the CR before LF */
		s->state = AT_HEAD_END;
		return HEAD_SCAN_END;
	case IN_NAME:
		refuse_line(s, "header line without a colon");
		break;
	case IN_VALUE:
		if (s->name_is_length && s->length != LENGTH_DIGITS &&
		    s->length != LENGTH_TRAIL)
			refuse_line(s, "Content-Length is not a number");
		break;
	default:
		break;
	}
	if (s->state != IN_BAD_LINE) {
		s->state = AT_LINE_START;
		return HEAD_SCAN_MORE;
	}
	if (s->problem == NULL)
		s->problem = s->line_problem;
	s->line_problem = NULL;
	s->state = AT_LINE_START;
	*line_start = len;
	*content = cr ? len - 1 : len;
	return HEAD_SCAN_BAD_LINE;
}

enum head_scan_step
head_scan_byte(struct head_scan *s, unsigned char c, size_t *line_start,
               size_t *content)
{
	if (s->state == AT_HEAD_END)
		return HEAD_SCAN_MORE;
	if (c == '\n')
		return line_end(s, line_start, content);
	s->line_len++;
	if (s->state == AT_REQUEST_LINE)
		return HEAD_SCAN_MORE;
	/* A CR counts only once the next byte shows it was not the one
	 * before LF. */
	if (s->cr)
		refuse_line(s, "CR in a header line");
	s->cr = c == '\r';
	if (!s->cr)
		line_byte(s, c);
	return HEAD_SCAN_MORE;
}

/* Overwrites len bytes of buf from offset at with ":" and spaces. */
static void
blank_line(struct evbuffer *buf, size_t at, size_t len)
{
	bool first = true;

	while (len > 0) {
		struct evbuffer_ptr ptr;
		struct evbuffer_iovec v;
		size_t n;

		if (evbuffer_ptr_set(buf, &ptr, at, EVBUFFER_PTR_SET) != 0 ||
		    evbuffer_peek(buf, (ev_ssize_t)len, &ptr, &v, 1) < 1 ||
		    v.iov_len == 0)
			return;
		n = v.iov_len < len ? v.iov_len : len;
		memset(v.iov_base, ' ', n);
		if (first)
			*(char *)v.iov_base = ':';
		first = false;
		at += n;
		len -= n;
	}
}

/* Scans buf from offset at to its end, blanking bad lines as they end;
 * stops hearing the buffer once the head has ended. */
static void
scan_from(struct head_check *h, size_t at)
{
	struct evbuffer *buf = h->input;
	size_t end = evbuffer_get_length(buf);

	while (at < end) {
		struct evbuffer_ptr ptr;
		struct evbuffer_iovec v;
		const unsigned char *p;

		if (evbuffer_ptr_set(buf, &ptr, at, EVBUFFER_PTR_SET) != 0 ||
		    evbuffer_peek(buf, (ev_ssize_t)(end - at), &ptr, &v, 1) <
		        1 ||
		    v.iov_len == 0)
			return;
		p = v.iov_base;
		for (size_t i = 0; i < v.iov_len && at + i < end; i++) {
			size_t start, content;

			switch (
			    head_scan_byte(&h->scan, p[i], &start, &content)) {
			case HEAD_SCAN_MORE:
				break;
			case HEAD_SCAN_BAD_LINE:
				blank_line(buf, at + i - start, content);
				break;
			case HEAD_SCAN_END:
				evbuffer_cb_clear_flags(buf, h->cb,
				                        EVBUFFER_CB_ENABLED);
				return;
			}
		}
		at += v.iov_len;
	}
}

/* New bytes at the end of the input buffer, before evhttp reads them. */
static void
on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	if (info->n_added > 0)
		scan_from(arg, evbuffer_get_length(buf) - info->n_added);
}

bool
head_check_attach(struct head_check *h, struct evbuffer *input)
{
	h->input = input;
	head_scan_start(&h->scan);
	h->cb = evbuffer_add_cb(input, on_input, h);
	return h->cb != NULL;
}

void
head_check_detach(struct head_check *h)
{
	if (h->cb != NULL)
		evbuffer_remove_cb_entry(h->input, h->cb);
	h->cb = NULL;
}

const char *
head_check_next(struct head_check *h)
{
	const char *problem = h->scan.problem;

	if (h->cb == NULL)
		return NULL;
	head_scan_start(&h->scan);
	evbuffer_cb_set_flags(h->input, h->cb, EVBUFFER_CB_ENABLED);
	/* A pipelined request already waiting: evhttp reads it only after
	 * this reply, so it is still whole here. */
	scan_from(h, 0);
	return problem;
}
