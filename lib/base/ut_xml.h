/*
 * ut_xml.h - a small streaming XML 1.0 writer into a ut_buf, for reports
 * (JUnit).  It only writes: elements, attributes and character data, escaped
 * so that any byte string comes out as well-formed XML.  Characters XML 1.0
 * cannot carry (C0 controls other than tab, newline and carriage return,
 * U+FFFE, U+FFFF) and bytes that are not well-formed UTF-8 are written as the
 * visible text "\xNN" (one per byte), so nothing is silently lost.
 *
 * Element names are borrowed until their ut_xml_end.  Errors are sticky:
 * check ut_xml_finish() once at the end.
 *
 *   struct ut_xml x; ut_xml_init(&x, &buf);
 *   ut_xml_start(&x, "testsuites"); ut_xml_attr(&x, "name", "utmpatch"); ... ut_xml_end(&x);
 *   rc = ut_xml_finish(&x);
 */
#ifndef UT_XML_H
#define UT_XML_H

#include <stdint.h>

#include "ut_buf.h"

#define UT_XML_MAX_DEPTH 32

struct ut_xml {
	struct ut_buf *out;
	int depth;
	int err;
	int tag_open;                         /* "<name attr..." written, '>' not yet */
	const char *name[UT_XML_MAX_DEPTH];   /* open elements */
	unsigned char children[UT_XML_MAX_DEPTH]; /* has child elements */
	unsigned char text[UT_XML_MAX_DEPTH];     /* has character data */
};

/* Starts the document with the XML declaration (UTF-8). */
void ut_xml_init(struct ut_xml *x, struct ut_buf *out);
void ut_xml_start(struct ut_xml *x, const char *name);
/* An attribute of the element just started (before any content). */
void ut_xml_attr(struct ut_xml *x, const char *name, const char *value);
void ut_xml_attr_uint(struct ut_xml *x, const char *name, uint64_t v);
void ut_xml_text(struct ut_xml *x, const char *s);
void ut_xml_end(struct ut_xml *x);
/* 0 when every element was closed and nothing failed; else UT_ENOMEM or UT_EINVAL (misuse). */
int ut_xml_finish(struct ut_xml *x);

#endif
