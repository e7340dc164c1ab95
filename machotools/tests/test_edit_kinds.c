/*
 * test_edit_kinds.c - re-exported, upward and lazy dependencies (which
 * llvm-objcopy-14 refuses to read) and the fat deps fixture: after --change,
 * LIEF and llvm-otool-14 see the new names, the command keeps its kind and
 * versions, every other load command and every byte between the load commands
 * and the signature is unchanged, and the linker signature verifies under the
 * reader's view (sizes consistent).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_file.h"
#include "mo_format.h"
#include "oracle.h"
#include "tsupport.h"
#include "ut_err.h"

struct change {
	const char *from;
	const char *to;
};

static void check_slice(const struct mo_slice *si, const struct mo_slice *so, const struct change *ch, int nch,
			const uint8_t *in_bytes, const uint8_t *out_bytes)
{
	const struct mo_image *a = si->img, *b = so->img;
	cr_assert_eq(a->ncmds, b->ncmds);
	int changed = 0;
	for (uint32_t i = 0; i < a->ncmds; i++) {
		cr_assert_eq(a->lcs[i].cmd, b->lcs[i].cmd, "load command %u changed kind", i);
		const char *want = NULL;
		for (uint32_t d = 0; d < a->ndeps; d++)
			if (a->deps[d].lc_index == i)
				for (int k = 0; k < nch; k++)
					if (strcmp(a->deps[d].name, ch[k].from) == 0)
						want = ch[k].to;
		if (want) {
			const struct mo_dylib *nd = NULL;
			for (uint32_t d = 0; d < b->ndeps; d++)
				if (b->deps[d].lc_index == i)
					nd = &b->deps[d];
			cr_assert_not_null(nd);
			cr_assert_str_eq(nd->name, want);
			changed++;
			continue;
		}
		if (a->lcs[i].cmd == LC_CODE_SIGNATURE || a->lcs[i].cmd == LC_SEGMENT_64)
			continue; /* sizes of the regenerated signature / __LINKEDIT */
		cr_assert_eq(a->lcs[i].cmdsize, b->lcs[i].cmdsize);
		cr_assert_eq(memcmp(a->hdr + a->lcs[i].off, b->hdr + b->lcs[i].off, a->lcs[i].cmdsize), 0,
			     "load command %u (%s) changed", i, mo_lc_name(a->lcs[i].cmd));
	}
	cr_assert_gt(changed, 0, "no command was changed");
	/* The data between the (old) padding limit and the signature is byte-identical. */
	uint64_t end = a->has_codesig ? a->codesig.off : a->size;
	cr_assert_eq(a->pad_limit, b->pad_limit);
	cr_assert_eq(memcmp(in_bytes + si->offset + a->pad_limit, out_bytes + so->offset + b->pad_limit,
			    end - a->pad_limit), 0, "slice data changed");
}

static void run_change(const char *fixture, const struct change *ch, int nch)
{
	char *dir = ts_tmpdir(), *out = ts_path(dir, fixture);
	const char *in = ts_fixture(fixture);
	char *argv[64];
	int n = 0;
	argv[n++] = (char *)ts_bin();
	argv[n++] = "macho";
	argv[n++] = "edit";
	argv[n++] = (char *)in;
	for (int k = 0; k < nch; k++) {
		argv[n++] = "--change";
		argv[n++] = (char *)ch[k].from;
		argv[n++] = (char *)ch[k].to;
	}
	argv[n++] = "-o";
	argv[n++] = out;
	argv[n] = NULL;
	char *err = NULL;
	cr_assert_eq(ts_run(argv, NULL, &err), 0, "%s", err);
	free(err);
	oracle_compare_lief(out);
	oracle_compare_otool(out);
	struct ut_src s1, s2;
	struct mo_file *f1, *f2;
	cr_assert_eq(ut_src_open(&s1, in), 0);
	cr_assert_eq(ut_src_open(&s2, out), 0);
	cr_assert_eq(mo_file_parse(&s1, &f1), 0);
	cr_assert_eq(mo_file_parse(&s2, &f2), 0, "%s", ut_errmsg());
	size_t l1, l2;
	uint8_t *b1 = ts_read(in, &l1), *b2 = ts_read(out, &l2);
	cr_assert_eq(f1->nslices, f2->nslices);
	for (uint32_t i = 0; i < f1->nslices; i++)
		check_slice(&f1->slices[i], &f2->slices[i], ch, nch, b1, b2);
	free(b1);
	free(b2);
	mo_file_free(f1);
	mo_file_free(f2);
	ut_src_release(&s1);
	ut_src_release(&s2);
	ts_rmtree(dir);
	free(out);
	free(dir);
}

Test(mo_edit_kinds, reexport_upward_weak_change)
{
	const struct change ch[] = {
		{ "/Users/x/UTM/sysroot-macOS-arm64/lib/libintl.8.dylib", "@rpath/intl.8.framework/Versions/A/intl.8" },
		{ "/Users/x/UTM/sysroot-macOS-arm64/lib/libgmodule-2.0.0.dylib",
		  "@rpath/gmodule-2.0.0.framework/Versions/A/gmodule-2.0.0" },
		{ "/Users/x/UTM/sysroot-macOS-arm64/lib/libzstd.1.dylib", "@rpath/zstd.1.framework/Versions/A/zstd.1" },
	};
	run_change("arm64-deps", ch, 3);
}

Test(mo_edit_kinds, lazy_change)
{
	const struct change ch[] = {
		{ "/Users/x/UTM/sysroot-macOS-arm64/lib/libjpeg.62.dylib", "@rpath/jpeg.62.framework/Versions/A/jpeg.62" },
	};
	run_change("arm64-lazy", ch, 1);
}

Test(mo_edit_kinds, fat_deps_both_slices)
{
	const struct change ch[] = {
		{ "/Users/x/UTM/sysroot-macOS-arm64/lib/libpixman-1.0.dylib",
		  "@rpath/pixman-1.0.framework/Versions/A/pixman-1.0" },
		{ "/Users/x/UTM/sysroot-macOS-x86_64/lib/libpixman-1.0.dylib",
		  "@rpath/pixman-1.0.framework/Versions/A/pixman-1.0" },
		{ "/Users/x/UTM/sysroot-macOS-x86_64/lib/libintl.8.dylib", "@rpath/intl.8.framework/Versions/A/intl.8" },
		{ "/Users/x/UTM/sysroot-macOS-arm64/lib/libintl.8.dylib", "@rpath/intl.8.framework/Versions/A/intl.8" },
	};
	run_change("fat-deps", ch, 4);
}
