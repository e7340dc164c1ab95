/*
 * fuzz_symbols.c - libFuzzer target: exports and imports of every slice of
 * arbitrary bytes (through the reader), and the same bytes fed directly to the
 * trie walker, the three bind opcode interpreters and the chained fixups
 * parser against a small fixed image (3 segments, 4 dependencies).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mo_file.h"
#include "mo_symbols.h"
#include "ut_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void whole_file(const uint8_t *data, size_t size)
{
	struct ut_src src;
	if (ut_src_mem(&src, data, size, "fuzz") != 0)
		return;
	struct mo_file *f = NULL;
	if (mo_file_parse(&src, &f) == 0) {
		for (uint32_t i = 0; i < f->nslices; i++) {
			struct mo_exports *e = NULL;
			struct mo_imports *im = NULL;
			if (mo_exports_parse(f, &f->slices[i], &e) == 0) {
				for (uint32_t k = 0; k < e->n; k++)
					if (mo_exports_find(e, e->v[k].name) == NULL)
						abort();
				mo_exports_free(e);
			}
			if (mo_imports_parse(f, &f->slices[i], &im) == 0)
				mo_imports_free(im);
			if (mo_exports_from_symtab(f, &f->slices[i], &e) == 0)
				mo_exports_free(e);
			if (mo_imports_from_symtab(f, &f->slices[i], &im) == 0)
				mo_imports_free(im);
		}
		mo_file_free(f);
	}
	ut_src_release(&src);
}

static void raw_blobs(const uint8_t *data, size_t size)
{
	static struct mo_segment segs[3] = {
		{ .segname = "__TEXT", .vmaddr = 0, .vmsize = 0x4000, .fileoff = 0, .filesize = 0x4000 },
		{ .segname = "__DATA", .vmaddr = 0x4000, .vmsize = 0x4000, .fileoff = 0x4000, .filesize = 0x4000 },
		{ .segname = "__LINKEDIT", .vmaddr = 0x8000, .vmsize = 0x4000, .fileoff = 0x8000, .filesize = 0x4000 },
	};
	struct mo_image img;
	memset(&img, 0, sizeof(img));
	img.segments = segs;
	img.nsegments = 3;
	img.ndeps = 4;
	struct ut_span sp = ut_span_make(data, size);
	struct mo_exports e = { 0 };
	(void)mo_trie_parse(sp, 0, img.ndeps, &e);
	mo_exports_release(&e);
	struct mo_imports im = { 0 };
	(void)mo_bind_parse(&img, MO_IMPORT_BIND, sp, 0, &im);
	(void)mo_bind_parse(&img, MO_IMPORT_LAZY_BIND, sp, 0, &im);
	(void)mo_bind_parse(&img, MO_IMPORT_WEAK_BIND, sp, 0, &im);
	(void)mo_fixups_parse(&img, sp, 0, &im);
	mo_imports_release(&im);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	whole_file(data, size);
	raw_blobs(data, size);
	return 0;
}
