/* mo_image_priv.h - slice parsing shared by mo_file.c (not part of the public API). */
#ifndef MO_IMAGE_PRIV_H
#define MO_IMAGE_PRIV_H

#include "mo_file.h"

/* Validates the 64-bit little-endian slice [base, base+size) of src; where prefixes messages. */
int mo_image_parse(const struct ut_src *src, uint64_t base, uint64_t size, const char *where,
		   struct mo_image **out);
void mo_image_free(struct mo_image *img);

#endif
