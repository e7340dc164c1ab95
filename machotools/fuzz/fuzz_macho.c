/* fuzz_macho.c - libFuzzer target: the Mach-O reader, signature peek and edit planning on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>

#include "mo_edit.h"
#include "mo_file.h"
#include "mo_sigpeek.h"
#include "ut_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ut_src src;
	if (ut_src_mem(&src, data, size, "fuzz") != 0)
		return 0;
	struct mo_file *f = NULL;
	if (mo_file_parse(&src, &f) == 0) {
		static const struct mo_edit edits[] = {
			{ MO_EDIT_ADD_RPATH, "@loader_path/../Frameworks", NULL },
			{ MO_EDIT_CHANGE, "/usr/lib/libSystem.B.dylib", "@rpath/x.framework/Versions/A/x" },
		};
		(void)mo_edit_check(f, edits, 2);
		for (uint32_t i = 0; i < f->nslices; i++) {
			struct mo_sig_peek sp;
			(void)mo_sig_peek(f, &f->slices[i], &sp);
			if (f->slices[i].img) {
				uint8_t *out = NULL;
				size_t len = 0;
				int changed = 0;
				if (mo_edit_slice(f->slices[i].img, edits, 2, "fuzz", &out, &len, &changed) == 0)
					free(out);
			}
		}
		mo_file_free(f);
	}
	ut_src_release(&src);
	return 0;
}
