/* cs_seal_slots.c - a bundle's main executable slots -1 (Info.plist) and -3 (CodeResources) against the files. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "cs_bundle_priv.h"
#include "cs_embedded.h"
#include "cs_hash.h"
#include "cs_seal_priv.h"
#include "mo_file.h"
#include "ut_err.h"
#include "ut_file.h"
#include "ut_limits.h"

struct slot_input {
	unsigned slot;
	enum cs_seal_problem problem;
	const char *what;         /* "Info.plist", "CodeResources" */
	char *path;               /* for findings (prefixed, relative) */
	const uint8_t *data;      /* NULL when the file is absent */
	size_t len;
};

static int read_optional(const char *path, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	enum cs_ftype t = cs_ftype_of(path);
	if (t == CS_FT_NONE)
		return 0;
	if (t != CS_FT_FILE)
		return ut_fail(UT_EUNSUPPORTED, "'%s' is not a regular file", path);
	return ut_file_read(path, UT_MAX_PLIST_SIZE, out, len);
}

static int check_cd(const struct cs_cd *cd, const char *arch, struct slot_input *in, struct cs_seal_report *rep)
{
	if (in->slot > cd->n_special_slots)
		return 0;
	int present = cs_cd_special_present(cd, in->slot);
	const char *hname = cs_hash_name(cd->hash_type);
	if (!in->data) {
		if (!present)
			return 0;
		return cs_seal_report_add(rep, in->problem, in->path,
					  "slot -%u of the %s %s CodeDirectory is bound but the %s is missing", in->slot,
					  arch, hname, in->what);
	}
	uint8_t h[CS_HASH_MAX_SIZE];
	int rc = cs_hash(cd->hash_type, in->data, in->len, h);
	if (rc)
		return rc;
	if (present && memcmp(h, cs_cd_special_slot(cd, in->slot), cd->hash_size) == 0)
		return 0;
	return cs_seal_report_add(rep, in->problem, in->path, "slot -%u of the %s %s CodeDirectory %s the %s bytes",
				  in->slot, arch, hname, present ? "does not match" : "is empty but binds", in->what);
}

static int check_exec(const char *exec, struct slot_input *in, unsigned nin, struct cs_seal_report *rep)
{
	struct ut_src src;
	struct mo_file *f = NULL;
	int rc = mo_file_open(exec, &src, &f);
	if (rc)
		return rc;
	for (uint32_t i = 0; i < f->nslices && !rc; i++) {
		const struct mo_slice *s = &f->slices[i];
		char buf[32];
		const char *arch = mo_arch_name(s->cputype, s->cpusubtype, buf);
		struct cs_slice_layout lay;
		struct cs_embedded e;
		if ((rc = cs_slice_layout_read(&lay, f, s)) != 0 || (rc = cs_embedded_load(&e, f, s, &lay)) != 0) {
			rc = ut_ctx(rc, "'%s' slice %s", exec, arch);
			break;
		}
		for (unsigned k = 0; k < e.ncd && !rc; k++)
			for (unsigned j = 0; j < nin && !rc; j++)
				rc = check_cd(&e.cds[k].cd, arch, &in[j], rep);
		cs_embedded_release(&e);
	}
	mo_file_close(&src, f);
	return rc;
}

int cs_bundle_check_slots(const struct cs_bundle *b, const char *prefix, struct cs_seal_report *rep)
{
	if (!b->exec_path)
		return ut_fail(UT_EUNSUPPORTED, "'%s': bundle without a main executable", b->root);
	struct slot_input in[2] = {
		{ CSSLOT_INFOSLOT, CS_SEAL_INFO_PLIST, "Info.plist", NULL, NULL, 0 },
		{ CSSLOT_RESOURCEDIR, CS_SEAL_RESOURCE_DIR, "CodeResources", NULL, NULL, 0 },
	};
	char *pre_slash = cs_seal_base_prefix(prefix, b->base_rel);
	int rc = 0;
	if (!pre_slash || !(in[0].path = cs_seal_prefixed(pre_slash, b->info_rel)) ||
	    !(in[1].path = cs_seal_prefixed(pre_slash, b->seal_rel)))
		rc = ut_fail(UT_ENOMEM, "out of memory");
	in[0].data = b->info_data;
	in[0].len = b->info_len;
	uint8_t *res = NULL;
	if (!rc && (rc = read_optional(b->seal_path, &res, &in[1].len)) == 0)
		in[1].data = res;
	if (!rc)
		rc = check_exec(b->exec_path, in, 2, rep);
	for (unsigned j = 0; j < 2; j++)
		free(in[j].path);
	free(res);
	free(pre_slash);
	return rc;
}
