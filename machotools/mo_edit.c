/* mo_edit.c - install_name_tool edits planned and checked before any write. */
#include "mo_edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mo_format.h"
#include "ut_buf.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_limits.h"

/* "--change", "--id", ... for messages. */
static const char *op_name(enum mo_edit_op op)
{
	switch (op) {
	case MO_EDIT_CHANGE: return "--change";
	case MO_EDIT_ID: return "--id";
	case MO_EDIT_ADD_RPATH: return "--add-rpath";
	case MO_EDIT_DELETE_RPATH: return "--delete-rpath";
	case MO_EDIT_RPATH: return "--rpath";
	}
	return "?";
}

static int is_rpath_op(enum mo_edit_op op)
{
	return op == MO_EDIT_ADD_RPATH || op == MO_EDIT_DELETE_RPATH || op == MO_EDIT_RPATH;
}

/* Does edit e name rpath p (as its old or new path)? */
static int names_rpath(const struct mo_edit *e, const char *p)
{
	return is_rpath_op(e->op) && (strcmp(e->a, p) == 0 || (e->op == MO_EDIT_RPATH && strcmp(e->b, p) == 0));
}

/* Conflicts between edits, independent of the file (llvm-install-name-tool rejects the same). */
static int check_conflicts(const struct mo_edit *edits, size_t n)
{
	if (n > UT_MAX_EDITS)
		return ut_fail(UT_EINVAL, "more than %u edits", UT_MAX_EDITS);
	int ids = 0;
	for (size_t i = 0; i < n; i++) {
		const struct mo_edit *e = &edits[i];
		if (!e->a || !e->a[0] || ((e->op == MO_EDIT_CHANGE || e->op == MO_EDIT_RPATH) && (!e->b || !e->b[0])))
			return ut_fail(UT_EINVAL, "%s needs a non-empty name", op_name(e->op));
		if (strlen(e->a) >= UT_MAX_PATH_STR || (e->b && strlen(e->b) >= UT_MAX_PATH_STR))
			return ut_fail(UT_EINVAL, "%s: name longer than %u bytes", op_name(e->op),
				       UT_MAX_PATH_STR);
		if (e->op == MO_EDIT_ID && ++ids > 1)
			return ut_fail(UT_EINVAL, "--id given more than once");
		for (size_t k = 0; k < i; k++) {
			const struct mo_edit *o = &edits[k];
			if (e->op == MO_EDIT_CHANGE && o->op == MO_EDIT_CHANGE && strcmp(e->a, o->a) == 0)
				return ut_fail(UT_EINVAL, "--change '%s' given more than once", e->a);
			if (!is_rpath_op(e->op) || !is_rpath_op(o->op))
				continue;
			if (names_rpath(o, e->a) || (e->op == MO_EDIT_RPATH && names_rpath(o, e->b))) {
				const char *p = names_rpath(o, e->a) ? e->a : e->b;
				if (e->op == o->op && e->op != MO_EDIT_RPATH)
					return ut_fail(UT_EINVAL, "%s '%s' given more than once", op_name(e->op), p);
				return ut_fail(UT_EINVAL, "cannot specify both %s and %s for rpath '%s'",
					       op_name(o->op), op_name(e->op), p);
			}
		}
	}
	return 0;
}

static size_t align8(size_t v) { return (v + 7) & ~(size_t)7; }

/* Appends a dylib or rpath command with string s at the standard offset, copying the fixed fields. */
static int put_str_cmd(struct ut_buf *b, const uint8_t *old, uint32_t cmd, uint32_t fixed, const char *s)
{
	size_t len = strlen(s);
	size_t cmdsize = align8(fixed + len + 1);
	size_t start = b->len;
	int rc = ut_buf_zeros(b, cmdsize);
	if (rc)
		return rc;
	uint8_t *p = b->p + start;
	if (old && fixed > 12)
		memcpy(p + 12, old + 12, fixed - 12); /* dylib: timestamp, current, compat */
	ut_put_le32(p, cmd);
	ut_put_le32(p + 4, (uint32_t)cmdsize);
	ut_put_le32(p + 8, fixed);
	memcpy(p + fixed, s, len);
	return 0;
}

static int rpath_index(const struct mo_image *img, const char *p)
{
	for (uint32_t i = 0; i < img->nrpaths; i++)
		if (strcmp(img->rpaths[i].path, p) == 0)
			return (int)i;
	return -1;
}

static int check_slice(const struct mo_image *img, const struct mo_edit *edits, size_t n, const char *where)
{
	if (img->filetype != MH_EXECUTE && img->filetype != MH_DYLIB && img->filetype != MH_BUNDLE)
		return ut_fail(UT_EUNSUPPORTED, "%s: file type '%s' is not supported for editing (execute, dylib, bundle)",
			       where, mo_filetype_name(img->filetype));
	for (size_t i = 0; i < n; i++) {
		const struct mo_edit *e = &edits[i];
		switch (e->op) {
		case MO_EDIT_ID:
			if (img->filetype != MH_DYLIB || !img->has_id)
				return ut_fail(UT_EREFUSED, "%s: --id: not a dynamic library (no LC_ID_DYLIB)", where);
			break;
		case MO_EDIT_DELETE_RPATH:
			if (rpath_index(img, e->a) < 0)
				return ut_fail(UT_EREFUSED, "%s: --delete-rpath: no LC_RPATH with path '%s'", where, e->a);
			break;
		case MO_EDIT_RPATH:
			if (rpath_index(img, e->a) < 0)
				return ut_fail(UT_EREFUSED, "%s: --rpath: no LC_RPATH with path '%s'", where, e->a);
			if (rpath_index(img, e->b) >= 0)
				return ut_fail(UT_EREFUSED, "%s: --rpath: LC_RPATH '%s' already exists", where, e->b);
			break;
		case MO_EDIT_ADD_RPATH:
			if (rpath_index(img, e->a) >= 0)
				return ut_fail(UT_EREFUSED, "%s: --add-rpath: LC_RPATH '%s' already exists", where, e->a);
			break;
		case MO_EDIT_CHANGE:
			break;
		}
	}
	return 0;
}

int mo_edit_slice(const struct mo_image *img, const struct mo_edit *edits, size_t n, const char *where,
		  uint8_t **out, size_t *out_len, int *changed)
{
	*out = NULL;
	*out_len = 0;
	*changed = 0;
	int rc = check_slice(img, edits, n, where);
	if (rc)
		return rc;
	struct ut_buf b;
	ut_buf_init(&b, UT_MAX_SIZEOFCMDS + MO_MACH_HEADER_64_SIZE);
	rc = ut_buf_append(&b, img->hdr, MO_MACH_HEADER_64_SIZE);
	uint32_t ncmds = 0;
	for (uint32_t i = 0; i < img->ncmds && !rc; i++) {
		const struct mo_lc *lc = &img->lcs[i];
		const uint8_t *p = img->hdr + lc->off;
		const char *repl = NULL;
		int drop = 0;
		if (lc->cmd == LC_RPATH) {
			const char *path = (const char *)p + ut_le32(p + 8);
			for (size_t k = 0; k < n; k++) {
				if (edits[k].op == MO_EDIT_DELETE_RPATH && strcmp(edits[k].a, path) == 0)
					drop = 1;
				else if (edits[k].op == MO_EDIT_RPATH && strcmp(edits[k].a, path) == 0)
					repl = edits[k].b;
			}
		} else if (lc->cmd == LC_ID_DYLIB) {
			for (size_t k = 0; k < n; k++)
				if (edits[k].op == MO_EDIT_ID)
					repl = edits[k].a;
		} else if (mo_is_dep_cmd(lc->cmd)) {
			const char *name = (const char *)p + ut_le32(p + 8);
			for (size_t k = 0; k < n; k++)
				if (edits[k].op == MO_EDIT_CHANGE && strcmp(edits[k].a, name) == 0)
					repl = edits[k].b;
		}
		if (drop) {
			*changed = 1;
			continue;
		}
		ncmds++;
		if (repl) {
			uint32_t fixed = lc->cmd == LC_RPATH ? MO_RPATH_CMD_SIZE : MO_DYLIB_CMD_SIZE;
			const char *cur = (const char *)p + ut_le32(p + 8);
			if (strcmp(cur, repl) != 0 || ut_le32(p + 8) != fixed)
				*changed = 1;
			rc = put_str_cmd(&b, p, lc->cmd, fixed, repl);
		} else {
			rc = ut_buf_append(&b, p, lc->cmdsize);
		}
	}
	for (size_t k = 0; k < n && !rc; k++) {
		if (edits[k].op != MO_EDIT_ADD_RPATH)
			continue;
		rc = put_str_cmd(&b, NULL, LC_RPATH, MO_RPATH_CMD_SIZE, edits[k].a);
		ncmds++;
		*changed = 1;
	}
	if (rc) {
		ut_buf_release(&b);
		return rc;
	}
	if (b.len > img->pad_limit) {
		uint64_t avail = img->pad_limit - MO_MACH_HEADER_64_SIZE;
		uint64_t need = b.len - MO_MACH_HEADER_64_SIZE;
		ut_buf_release(&b);
		return ut_fail(UT_ENOSPACE,
			       "%s: not enough header padding: the load commands would need %llu bytes but only %llu "
			       "are available before the first section data (%llu more needed)",
			       where, (unsigned long long)need, (unsigned long long)avail,
			       (unsigned long long)(need - avail));
	}
	ut_put_le32(b.p + 16, ncmds);
	ut_put_le32(b.p + 20, (uint32_t)(b.len - MO_MACH_HEADER_64_SIZE));
	*out = ut_buf_detach(&b, out_len);
	return 0;
}

int mo_edit_check(const struct mo_file *f, const struct mo_edit *edits, size_t n)
{
	int rc = check_conflicts(edits, n);
	if (rc)
		return rc;
	if (f->hidden_arm64)
		return ut_fail(UT_EREFUSED,
			       "'%s': an arm64 slice is hidden after the last counted fat_arch (offset 0x%llx); refusing "
			       "to edit a file whose slices dyld and other tools see differently",
			       f->src->name, (unsigned long long)f->hidden_offset);
	for (uint32_t i = 0; i < f->nslices; i++) {
		const struct mo_slice *s = &f->slices[i];
		char arch[32], where[64];
		snprintf(where, sizeof(where), "slice %s", mo_arch_name(s->cputype, s->cpusubtype, arch));
		if (s->kind != MO_SLICE_MACHO64)
			return ut_fail(UT_EUNSUPPORTED, "'%s': %s: %s", f->src->name, where, s->reason);
		uint8_t *tmp;
		size_t len;
		int changed;
		rc = mo_edit_slice(s->img, edits, n, where, &tmp, &len, &changed);
		free(tmp);
		if (rc)
			return ut_ctx(rc, "'%s'", f->src->name);
	}
	return 0;
}
