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

/* A framing header's value: optional spaces, the value, optional
 * spaces. */
enum { VALUE_LEAD, VALUE_IN, VALUE_TRAIL, VALUE_BAD };

/* The framing headers, as bits of head_scan.framing and .seen. */
enum { CONTENT_LENGTH = 1 << 0, TRANSFER_ENCODING = 1 << 1 };

static const char *const framing_names[] = {"content-length",
                                            "transfer-encoding"};

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

/* Is c, the value's value_len-th byte after optional whitespace, still
 * part of a valid value: digits for Content-Length, "chunked" in any
 * case for Transfer-Encoding? */
static bool
value_accepts(const struct head_scan *s, unsigned char c)
{
	if (s->framing == CONTENT_LENGTH)
		return c >= '0' && c <= '9';
	return s->value_len < sizeof("chunked") - 1 &&
	       lower(c) == (unsigned char)"chunked"[s->value_len];
}

/* Only SP around a framing value: evhttp skips only SP before a value, so
 * that a tab there is framing that evhttp builds read differently. */
static void
framing_value_byte(struct head_scan *s, unsigned char c)
{
	bool space = c == ' ';

	if (s->value == VALUE_LEAD && space)
		return;
	if ((s->value == VALUE_LEAD || s->value == VALUE_IN) &&
	    value_accepts(s, c)) {
		s->value = VALUE_IN;
		s->value_len++;
	} else if (s->value == VALUE_IN && space) {
		s->value = VALUE_TRAIL;
	} else if (s->value != VALUE_TRAIL || !space) {
		s->value = VALUE_BAD;
	}
}

static bool
framing_value_valid(const struct head_scan *s)
{
	if (s->value == VALUE_BAD || s->value == VALUE_LEAD)
		return false;
	return s->framing == CONTENT_LENGTH ||
	       s->value_len == sizeof("chunked") - 1;
}

/* The name has ended at its colon: is it a framing header, and may it be
 * one here? */
static void
name_end(struct head_scan *s)
{
	unsigned framing = 0;

	for (unsigned i = 0; i < 2; i++)
		if ((s->name_match & (1u << i)) &&
		    s->name_len == strlen(framing_names[i]))
			framing = 1u << i;
	s->framing = (unsigned char)framing;
	s->value = VALUE_LEAD;
	s->value_len = 0;
	if (framing == 0)
		return;
	if (s->seen & framing)
		refuse_line(s, framing == CONTENT_LENGTH
		                   ? "more than one Content-Length"
		                   : "more than one Transfer-Encoding");
	else if (s->seen != 0)
		refuse_line(s, "both Content-Length and Transfer-Encoding");
	s->seen |= (unsigned char)framing;
}

static void
name_byte(struct head_scan *s, unsigned char c)
{
	if (c == ':') {
		if (s->name_len == 0) {
			refuse_line(s, "empty header name");
			return;
		}
		s->state = IN_VALUE;
		name_end(s);
	} else if (c == ' ' || c == '\t') {
		refuse_line(s, "whitespace between a header name and its "
		               "colon");
	} else if (!is_tchar(c)) {
		refuse_line(s, "invalid character in a header name");
	} else {
		for (unsigned i = 0; i < 2; i++)
			if (s->name_len >= strlen(framing_names[i]) ||
			    lower(c) !=
			        (unsigned char)framing_names[i][s->name_len])
				s->name_match &= (unsigned char)~(1u << i);
		s->name_len++;
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
		s->name_match = CONTENT_LENGTH | TRANSFER_ENCODING;
	}
	if (s->state == IN_NAME)
		name_byte(s, c);
	else if (s->state == IN_VALUE && c == '\0')
		refuse_line(s, "NUL in a header value");
	else if (s->state == IN_VALUE && s->framing != 0)
		framing_value_byte(s, c);
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
	if (s->state == AT_LINE_START) { /* nothing but the CR before LF */
		s->state = AT_HEAD_END;
		return HEAD_SCAN_END;
	}
	if (s->state == IN_NAME)
		refuse_line(s, "header line without a colon");
	else if (s->state == IN_VALUE && s->framing != 0 &&
	         !framing_value_valid(s))
		refuse_line(s, s->framing == CONTENT_LENGTH
		                   ? "Content-Length is not a number"
		                   : "Transfer-Encoding other than chunked");
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
