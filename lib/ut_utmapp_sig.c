/* ut_utmapp_sig.c - how one Mach-O file is signed: identifier, team, flags, cdhash, entitlements. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_embedded.h"
#include "cs_ent.h"
#include "cs_format.h"
#include "mo_file.h"
#include "ut_bytes.h"
#include "ut_file.h"
#include "ut_install_util.h"
#include "ut_utmapp.h"


void ut_sig_info_release(struct ut_sig_info *s)
{
	if (!s)
		return;
	if (s->ents)
		plist_free(s->ents);
	memset(s, 0, sizeof(*s));
}

/* The slice a Mac of host_arch runs: that arch, else the first of the same CPU type, else the first. */
static int read_ents(struct ut_sig_info *out, const struct cs_embedded *e)
{
	if (e->entitlements.p)
		return cs_ent_xml_blob_parse(e->entitlements.p, e->entitlements.length, &out->ents);
	if (e->der_entitlements.p)
		return cs_ent_der_blob_decode(e->der_entitlements.p, e->der_entitlements.length, &out->ents, NULL);
	return 0;
}

static int read_slice(struct ut_sig_info *out, const struct mo_file *f, const struct mo_slice *s)
{
	struct cs_slice_layout lay;
	int rc = cs_slice_layout_read(&lay, f, s);
	if (rc || !lay.has_codesig)
		return rc;
	struct cs_embedded e;
	if ((rc = cs_embedded_load(&e, f, s, &lay)) != 0)
		return rc == UT_ENOTFOUND ? 0 : rc;
	const struct cs_embedded_cd *cd = cs_embedded_best(&e);
	if (cd) {
		out->is_signed = 1;
		out->flags = cd->cd.flags;
		out->adhoc = !!(cd->cd.flags & CS_ADHOC);
		out->linker = !!(cd->cd.flags & CS_LINKER_SIGNED);
		snprintf(out->identifier, sizeof(out->identifier), "%s", cd->cd.identifier ? cd->cd.identifier : "");
		snprintf(out->team_id, sizeof(out->team_id), "%s", cd->cd.team_id ? cd->cd.team_id : "");
		ut_hex(out->cdhash, cd->cdhash.digest, CS_CDHASH_LEN);
		rc = read_ents(out, &e);
	}
	cs_embedded_release(&e);
	return rc;
}

int ut_sig_info_of(struct ut_sig_info *out, const struct mo_file *f, const char *host_arch)
{
	memset(out, 0, sizeof(*out));
	size_t used = 0;
	for (uint32_t i = 0; i < f->nslices; i++) {
		char buf[32];
		const char *a = mo_arch_name(f->slices[i].cputype, f->slices[i].cpusubtype, buf);
		int n = snprintf(out->archs + used, sizeof(out->archs) - used, "%s%s", used ? " " : "", a);
		if (n > 0 && (size_t)n < sizeof(out->archs) - used)
			used += (size_t)n;
	}
	const struct mo_slice *s = mo_file_host_slice(f, host_arch);
	int rc;
	if (!s) {
		rc = ut_fail(UT_EMALFORMED, "no slice");
	} else {
		ui_arch(s, out->arch);
		rc = read_slice(out, f, s);
	}
	if (rc)
		ut_sig_info_release(out);
	return rc;
}

int ut_sig_info_read(struct ut_sig_info *out, const char *path, const char *host_arch)
{
	memset(out, 0, sizeof(*out));
	struct ut_src src;
	struct mo_file *f = NULL;
	int rc = mo_file_open(path, &src, &f); /* the reader's messages name the file */
	if (rc)
		return rc;
	rc = ut_sig_info_of(out, f, host_arch);
	mo_file_close(&src, f);
	return rc ? ut_ctx(rc, "'%s'", path) : 0;
}

int ut_sig_library_validation(const struct ut_sig_info *s)
{
	if (!s->is_signed || !(s->flags & (CS_RUNTIME | CS_REQUIRE_LV)))
		return 0;
	return (s->flags & CS_REQUIRE_LV) || !ut_plist_dict_true(s->ents, UT_ENT_DISABLE_LV);
}
