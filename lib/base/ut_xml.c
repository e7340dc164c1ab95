/* ut_xml.c - streaming XML writer with escaping (see ut_xml.h). */
#include "ut_xml.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ut_err.h"
#include "ut_utf8.h"

static void put(struct ut_xml *x, const char *s, size_t n)
{
	if (!x->err && ut_buf_append(x->out, s, n))
		x->err = UT_ENOMEM;
}

static void puts_(struct ut_xml *x, const char *s) { put(x, s, strlen(s)); }

static void misuse(struct ut_xml *x)
{
	if (!x->err)
		x->err = UT_EINVAL;
}

static void indent(struct ut_xml *x, int depth)
{
	put(x, "\n", 1);
	for (int i = 0; i < depth; i++)
		put(x, "  ", 2);
}

/* Closes a pending start tag with '>'. */
static void close_tag(struct ut_xml *x)
{
	if (x->tag_open) {
		put(x, ">", 1);
		x->tag_open = 0;
	}
}

/* Writes s escaped for character data (attr 0) or a double-quoted attribute value (attr 1). */
static void escaped(struct ut_xml *x, const char *s, int attr)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0;
	char hex[8];
	while (i < n) {
		unsigned char c = p[i];
		const char *named = c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;"
				  : c == '"' && attr ? "&quot;" : c == '\r' ? "&#13;"
				  : c == '\t' && attr ? "&#9;" : c == '\n' && attr ? "&#10;" : NULL;
		if (named) {
			puts_(x, named);
			i++;
			continue;
		}
		uint32_t cp = 0;
		size_t len = ut_utf8_seq(p + i, n - i, &cp);
		int allowed = len && (cp >= 0x20 || c == '\t' || c == '\n') && cp != 0xfffe && cp != 0xffff;
		if (allowed) {
			put(x, s + i, len);
			i += len;
		} else {
			snprintf(hex, sizeof(hex), "\\x%02X", c);
			puts_(x, hex);
			i++;
		}
	}
}

void ut_xml_init(struct ut_xml *x, struct ut_buf *out)
{
	memset(x, 0, sizeof(*x));
	x->out = out;
	puts_(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
}

void ut_xml_start(struct ut_xml *x, const char *name)
{
	if (x->depth >= UT_XML_MAX_DEPTH) {
		misuse(x);
		return;
	}
	close_tag(x);
	if (x->depth > 0)
		x->children[x->depth - 1] = 1;
	if (x->depth == 0 || !x->text[x->depth - 1])
		indent(x, x->depth);
	put(x, "<", 1);
	puts_(x, name);
	x->name[x->depth] = name;
	x->children[x->depth] = 0;
	x->text[x->depth] = 0;
	x->depth++;
	x->tag_open = 1;
}

void ut_xml_attr(struct ut_xml *x, const char *name, const char *value)
{
	if (!x->tag_open) {
		misuse(x);
		return;
	}
	put(x, " ", 1);
	puts_(x, name);
	put(x, "=\"", 2);
	escaped(x, value ? value : "", 1);
	put(x, "\"", 1);
}

void ut_xml_attr_uint(struct ut_xml *x, const char *name, uint64_t v)
{
	char num[24];
	snprintf(num, sizeof(num), "%" PRIu64, v);
	ut_xml_attr(x, name, num);
}

void ut_xml_text(struct ut_xml *x, const char *s)
{
	if (x->depth == 0) {
		misuse(x);
		return;
	}
	close_tag(x);
	x->text[x->depth - 1] = 1;
	escaped(x, s ? s : "", 0);
}

void ut_xml_end(struct ut_xml *x)
{
	if (x->depth == 0) {
		misuse(x);
		return;
	}
	x->depth--;
	if (x->tag_open) {
		put(x, "/>", 2);
		x->tag_open = 0;
		return;
	}
	if (x->children[x->depth] && !x->text[x->depth])
		indent(x, x->depth);
	put(x, "</", 2);
	puts_(x, x->name[x->depth]);
	put(x, ">", 1);
}

int ut_xml_finish(struct ut_xml *x)
{
	if (x->depth != 0)
		misuse(x);
	put(x, "\n", 1);
	if (x->err == UT_ENOMEM)
		return ut_fail(UT_ENOMEM, "out of memory");
	if (x->err)
		return ut_fail(UT_EINVAL, "XML writer misused: an element left open or content in the wrong place");
	return 0;
}
