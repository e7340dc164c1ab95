/*
 * test_profiles_malformed.c - the profiles loader refuses broken data files
 * with one message naming the file, the entry and the field.  One row per
 * defect: a small valid pair of files, one thing broken.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsupport.h"
#include "ut_err.h"
#include "ut_profiles.h"

#define SEC "com.apple.security."

static plist_t ent_entry(const char *key, const char *cls, const char *loss)
{
	plist_t d = plist_new_dict();
	plist_dict_set_item(d, "Key", plist_new_string(key));
	plist_dict_set_item(d, "Class", plist_new_string(cls));
	plist_dict_set_item(d, "Purpose", plist_new_string("p"));
	if (loss)
		plist_dict_set_item(d, "Loss", plist_new_string(loss));
	return d;
}

static plist_t base_ents(void)
{
	plist_t root = plist_new_dict();
	plist_dict_set_item(root, "FormatVersion", plist_new_uint(1));
	plist_t arr = plist_new_array();
	plist_array_append_item(arr, ent_entry(SEC "*", "adhoc-ok", NULL));
	plist_array_append_item(arr, ent_entry("com.apple.vm.networking", "restricted", "vmnet fails"));
	plist_dict_set_item(root, "Entitlements", arr);
	return root;
}

static plist_t component(const char *name, const char *exe, const char *id, int order, int qemu)
{
	plist_t d = plist_new_dict();
	plist_dict_set_item(d, "Name", plist_new_string(name));
	plist_dict_set_item(d, "Kind", plist_new_string("app"));
	plist_dict_set_item(d, "Bundle", plist_new_string("."));
	plist_dict_set_item(d, "Executable", plist_new_string(exe));
	plist_dict_set_item(d, "BundleIdentifier", plist_new_string(id));
	plist_dict_set_item(d, "SignOrder", plist_new_uint((uint64_t)order));
	plist_dict_set_item(d, "LoadsQEMU", plist_new_bool(qemu != 0));
	plist_dict_set_item(d, "ReleaseEntitlements", plist_new_dict());
	plist_dict_set_item(d, "UnsignedEntitlements", plist_new_dict());
	plist_t req = plist_new_array();
	plist_t r = plist_new_dict();
	plist_dict_set_item(r, "Key", plist_new_string(SEC "hypervisor"));
	plist_dict_set_item(r, "Why", plist_new_string("hvf"));
	plist_array_append_item(req, r);
	plist_dict_set_item(d, "Required", req);
	plist_t rp = plist_new_array();
	plist_array_append_item(rp, plist_new_string("@executable_path/../Frameworks"));
	plist_dict_set_item(d, "Rpaths", rp);
	return d;
}

static plist_t base_comps(void)
{
	plist_t root = plist_new_dict();
	plist_dict_set_item(root, "FormatVersion", plist_new_uint(1));
	plist_dict_set_item(root, "QEMULoader", plist_new_string("L"));
	plist_t arr = plist_new_array();
	plist_array_append_item(arr, component("A", "Contents/MacOS/A", "com.x.A", 2, 0));
	plist_array_append_item(arr, component("L", "Contents/MacOS/L", "com.x.L", 1, 1));
	plist_dict_set_item(root, "Components", arr);
	return root;
}

static plist_t entry(plist_t root, const char *array, uint32_t i)
{
	return plist_array_get_item(plist_dict_get_item(root, array), i);
}

static void set_str(plist_t d, const char *k, const char *v) { plist_dict_set_item(d, k, plist_new_string(v)); }

/* Each mutation breaks one thing in (ents, comps). */
static void m_ok(plist_t e, plist_t c) { (void)e, (void)c; }
static void m_top_array(plist_t e, plist_t c) { (void)c, plist_dict_remove_item(e, "Entitlements"), plist_dict_remove_item(e, "FormatVersion"); }
static void m_no_version(plist_t e, plist_t c) { (void)c, plist_dict_remove_item(e, "FormatVersion"); }
static void m_version2(plist_t e, plist_t c) { (void)c, plist_dict_set_item(e, "FormatVersion", plist_new_uint(2)); }
static void m_version_str(plist_t e, plist_t c) { (void)c, set_str(e, "FormatVersion", "1"); }
static void m_no_ents(plist_t e, plist_t c) { (void)c, plist_dict_remove_item(e, "Entitlements"); }
static void m_ents_dict(plist_t e, plist_t c) { (void)c, plist_dict_set_item(e, "Entitlements", plist_new_dict()); }
static void m_ents_empty(plist_t e, plist_t c) { (void)c, plist_dict_set_item(e, "Entitlements", plist_new_array()); }
static void m_entry_str(plist_t e, plist_t c) { (void)c, plist_array_append_item(plist_dict_get_item(e, "Entitlements"), plist_new_string("x")); }
static void m_no_key(plist_t e, plist_t c) { (void)c, plist_dict_remove_item(entry(e, "Entitlements", 1), "Key"); }
static void m_key_bool(plist_t e, plist_t c) { (void)c, plist_dict_set_item(entry(e, "Entitlements", 1), "Key", plist_new_bool(1)); }
static void m_key_empty(plist_t e, plist_t c) { (void)c, set_str(entry(e, "Entitlements", 1), "Key", ""); }
static void m_no_purpose(plist_t e, plist_t c) { (void)c, plist_dict_remove_item(entry(e, "Entitlements", 1), "Purpose"); }
static void m_bad_class(plist_t e, plist_t c) { (void)c, set_str(entry(e, "Entitlements", 1), "Class", "maybe"); }
static void m_no_loss(plist_t e, plist_t c) { (void)c, plist_dict_remove_item(entry(e, "Entitlements", 1), "Loss"); }
static void m_mid_star(plist_t e, plist_t c) { (void)c, set_str(entry(e, "Entitlements", 1), "Key", "com.*.vm"); }
static void m_lone_star(plist_t e, plist_t c) { (void)c, set_str(entry(e, "Entitlements", 1), "Key", "*"); }
static void m_star_no_dot(plist_t e, plist_t c) { (void)c, set_str(entry(e, "Entitlements", 1), "Key", "com.apple.vm*"); }
static void m_dup_key(plist_t e, plist_t c) { (void)c, set_str(entry(e, "Entitlements", 1), "Key", SEC "*"); }
static void m_caveat_int(plist_t e, plist_t c) { (void)c, plist_dict_set_item(entry(e, "Entitlements", 0), "Caveat", plist_new_uint(3)); }

static plist_t comp0(plist_t c) { return entry(c, "Components", 0); }
static void m_no_comps(plist_t e, plist_t c) { (void)e, plist_dict_remove_item(c, "Components"); }
static void m_comps_empty(plist_t e, plist_t c) { (void)e, plist_dict_set_item(c, "Components", plist_new_array()); }
static void m_comp_str(plist_t e, plist_t c) { (void)e, plist_array_append_item(plist_dict_get_item(c, "Components"), plist_new_string("x")); }
static void m_no_name(plist_t e, plist_t c) { (void)e, plist_dict_remove_item(comp0(c), "Name"); }
static void m_no_exe(plist_t e, plist_t c) { (void)e, plist_dict_remove_item(comp0(c), "Executable"); }
static void m_no_id(plist_t e, plist_t c) { (void)e, plist_dict_remove_item(comp0(c), "BundleIdentifier"); }
static void m_bad_kind(plist_t e, plist_t c) { (void)e, set_str(comp0(c), "Kind", "daemon"); }
static void m_order0(plist_t e, plist_t c) { (void)e, plist_dict_set_item(comp0(c), "SignOrder", plist_new_uint(0)); }
static void m_order_big(plist_t e, plist_t c) { (void)e, plist_dict_set_item(comp0(c), "SignOrder", plist_new_uint(1000)); }
static void m_no_order(plist_t e, plist_t c) { (void)e, plist_dict_remove_item(comp0(c), "SignOrder"); }
static void m_dup_order(plist_t e, plist_t c) { (void)e, plist_dict_set_item(comp0(c), "SignOrder", plist_new_uint(1)); }
static void m_abs_exe(plist_t e, plist_t c) { (void)e, set_str(comp0(c), "Executable", "/bin/ls"); }
static void m_dotdot(plist_t e, plist_t c) { (void)e, set_str(comp0(c), "Executable", "Contents/../../x"); }
static void m_no_bundle(plist_t e, plist_t c) { (void)e, plist_dict_remove_item(comp0(c), "Bundle"); }
static void m_class_no_star(plist_t e, plist_t c) { (void)e, plist_dict_set_item(comp0(c), "Class", plist_new_bool(1)); }
static void m_star_no_class(plist_t e, plist_t c) { (void)e, set_str(comp0(c), "Executable", "Contents/*/x"); }
static void m_hr_str(plist_t e, plist_t c) { (void)e, set_str(comp0(c), "HardenedRuntime", "yes"); }
static void m_rel_array(plist_t e, plist_t c) { (void)e, plist_dict_set_item(comp0(c), "ReleaseEntitlements", plist_new_array()); }
static void m_no_unsigned(plist_t e, plist_t c) { (void)e, plist_dict_remove_item(comp0(c), "UnsignedEntitlements"); }
static void m_rpath_bool(plist_t e, plist_t c) { (void)e, plist_array_append_item(plist_dict_get_item(comp0(c), "Rpaths"), plist_new_bool(1)); }
static void m_rpaths_dict(plist_t e, plist_t c) { (void)e, plist_dict_set_item(comp0(c), "Rpaths", plist_new_dict()); }
static void m_req_restricted(plist_t e, plist_t c) { (void)e, set_str(plist_array_get_item(plist_dict_get_item(comp0(c), "Required"), 0), "Key", "com.apple.vm.networking"); }
static void m_req_unknown(plist_t e, plist_t c) { (void)e, set_str(plist_array_get_item(plist_dict_get_item(comp0(c), "Required"), 0), "Key", "com.example.x"); }
static void m_req_no_why(plist_t e, plist_t c) { (void)e, plist_dict_remove_item(plist_array_get_item(plist_dict_get_item(comp0(c), "Required"), 0), "Why"); }
static void m_req_str(plist_t e, plist_t c) { (void)e, plist_array_append_item(plist_dict_get_item(comp0(c), "Required"), plist_new_string("x")); }
static void m_dup_name(plist_t e, plist_t c) { (void)e, set_str(comp0(c), "Name", "L"); }
static void m_dup_id(plist_t e, plist_t c) { (void)e, set_str(comp0(c), "BundleIdentifier", "com.x.L"); }
static void m_no_loader(plist_t e, plist_t c) { (void)e, plist_dict_remove_item(c, "QEMULoader"); }
static void m_wrong_loader(plist_t e, plist_t c) { (void)e, set_str(c, "QEMULoader", "A"); }
static void m_two_loaders(plist_t e, plist_t c) { (void)e, plist_dict_set_item(comp0(c), "LoadsQEMU", plist_new_bool(1)); }
static void m_many_comps(plist_t e, plist_t c)
{
	(void)e;
	for (int i = 0; i < 63; i++) {
		char name[16], id[32];
		snprintf(name, sizeof(name), "X%d", i);
		snprintf(id, sizeof(id), "com.x.X%d", i);
		plist_array_append_item(plist_dict_get_item(c, "Components"), component(name, "Contents/X", id, 3 + i, 0));
	}
}
static void m_many_rpaths(plist_t e, plist_t c)
{
	(void)e;
	for (int i = 0; i < 256; i++)
		plist_array_append_item(plist_dict_get_item(comp0(c), "Rpaths"), plist_new_string("@loader_path"));
}
static void m_no_loads(plist_t e, plist_t c) { (void)e, plist_dict_set_item(entry(c, "Components", 1), "LoadsQEMU", plist_new_bool(0)); }

static const struct row {
	const char *name;
	void (*mutate)(plist_t ents, plist_t comps);
	int code;
	const char *msg;
} ROWS[] = {
	{ "valid", m_ok, 0, NULL },
	{ "ents top level without keys", m_top_array, UT_EMALFORMED, "'entitlements.plist': 'FormatVersion' missing" },
	{ "ents no version", m_no_version, UT_EMALFORMED, "'entitlements.plist': 'FormatVersion' missing" },
	{ "ents version 2", m_version2, UT_EUNSUPPORTED, "'entitlements.plist': FormatVersion 2 unsupported" },
	{ "ents version string", m_version_str, UT_EMALFORMED, "'FormatVersion' is not an integer" },
	{ "ents no list", m_no_ents, UT_EMALFORMED, "'entitlements.plist': 'Entitlements' missing" },
	{ "ents list is dict", m_ents_dict, UT_EMALFORMED, "'Entitlements' is not an array" },
	{ "ents empty", m_ents_empty, UT_EMALFORMED, "'entitlements.plist': 0 entries" },
	{ "entry not dict", m_entry_str, UT_EMALFORMED, "'entitlements.plist': entry 2: not a dictionary" },
	{ "entry no key", m_no_key, UT_EMALFORMED, "entry 1: 'Key' missing" },
	{ "entry key bool", m_key_bool, UT_EMALFORMED, "entry 1: 'Key' is not a string" },
	{ "entry key empty", m_key_empty, UT_EMALFORMED, "entry 1: 'Key' is empty" },
	{ "entry no purpose", m_no_purpose, UT_EMALFORMED, "entry 1: 'Purpose' missing" },
	{ "entry bad class", m_bad_class, UT_EMALFORMED, "'com.apple.vm.networking': unknown class 'maybe'" },
	{ "restricted without loss", m_no_loss, UT_EMALFORMED, "restricted entry without 'Loss'" },
	{ "star in the middle", m_mid_star, UT_EMALFORMED, "pattern 'com.*.vm': '*' allowed only as a trailing '.*'" },
	{ "lone star", m_lone_star, UT_EMALFORMED, "pattern '*'" },
	{ "star without dot", m_star_no_dot, UT_EMALFORMED, "pattern 'com.apple.vm*'" },
	{ "duplicate key", m_dup_key, UT_EMALFORMED, "duplicate key 'com.apple.security.*' (entries 0 and 1)" },
	{ "caveat not string", m_caveat_int, UT_EMALFORMED, "entry 0: 'Caveat' is not a string" },
	{ "no components", m_no_comps, UT_EMALFORMED, "'utm-components.plist': 'Components' missing" },
	{ "components empty", m_comps_empty, UT_EMALFORMED, "'utm-components.plist': 0 components" },
	{ "component not dict", m_comp_str, UT_EMALFORMED, "component 2: not a dictionary" },
	{ "component no name", m_no_name, UT_EMALFORMED, "component 0: 'Name' missing" },
	{ "component no executable", m_no_exe, UT_EMALFORMED, "component 0: 'A': 'Executable' missing" },
	{ "component no id", m_no_id, UT_EMALFORMED, "'A': 'BundleIdentifier' missing" },
	{ "component bad kind", m_bad_kind, UT_EMALFORMED, "'A': unknown kind 'daemon'" },
	{ "sign order 0", m_order0, UT_EMALFORMED, "'A': 'SignOrder' 0" },
	{ "sign order too big", m_order_big, UT_EMALFORMED, "'SignOrder' is 1000, above 64" },
	{ "sign order missing", m_no_order, UT_EMALFORMED, "'A': 'SignOrder' missing" },
	{ "sign order twice", m_dup_order, UT_EMALFORMED, "'A' and 'L' have the same SignOrder 1" },
	{ "absolute executable", m_abs_exe, UT_EMALFORMED, "'Executable' '/bin/ls' is absolute" },
	{ "executable leaves bundle", m_dotdot, UT_EMALFORMED, "'Contents/../../x' leaves the bundle" },
	{ "app without bundle", m_no_bundle, UT_EMALFORMED, "'A': 'Bundle' missing" },
	{ "class without pattern", m_class_no_star, UT_EMALFORMED, "'A': a class without '*' patterns" },
	{ "pattern without class", m_star_no_class, UT_EMALFORMED, "'A': '*' in a component that is not a class" },
	{ "hardened runtime string", m_hr_str, UT_EMALFORMED, "'A': 'HardenedRuntime' is not a boolean" },
	{ "release entitlements array", m_rel_array, UT_EMALFORMED, "'ReleaseEntitlements' is not a dictionary" },
	{ "no unsigned entitlements", m_no_unsigned, UT_EMALFORMED, "'UnsignedEntitlements' missing" },
	{ "rpath not string", m_rpath_bool, UT_EMALFORMED, "'Rpaths' entry 1 is not a non-empty string" },
	{ "rpaths dict", m_rpaths_dict, UT_EMALFORMED, "'Rpaths' is not an array" },
	{ "required restricted", m_req_restricted, UT_EMALFORMED,
	  "required key 'com.apple.vm.networking' is restricted, not adhoc-ok" },
	{ "required unknown", m_req_unknown, UT_EMALFORMED, "required key 'com.example.x' is unknown" },
	{ "required without why", m_req_no_why, UT_EMALFORMED, "'Required' entry 0: 'Why' missing" },
	{ "required not dict", m_req_str, UT_EMALFORMED, "'Required' entry 1 is not a dictionary" },
	{ "duplicate name", m_dup_name, UT_EMALFORMED, "components 0 and 1 have the same name or bundle id" },
	{ "duplicate id", m_dup_id, UT_EMALFORMED, "components 0 and 1 have the same name or bundle id" },
	{ "no loader", m_no_loader, UT_EMALFORMED, "'utm-components.plist': 'QEMULoader' missing" },
	{ "wrong loader", m_wrong_loader, UT_EMALFORMED, "QEMULoader 'A' is not the component with LoadsQEMU" },
	{ "two loaders", m_two_loaders, UT_EMALFORMED, "more than one component loads QEMU" },
	{ "65 components", m_many_comps, UT_EMALFORMED, "'utm-components.plist': 65 components (want 1 to 64)" },
	{ "257 rpaths", m_many_rpaths, UT_EMALFORMED, "'A': 'Rpaths': more than 256 entries" },
	{ "no loader component", m_no_loads, UT_EMALFORMED, "QEMULoader 'L' is not the component with LoadsQEMU" },
};

static int load_pair(plist_t e, plist_t c, struct ut_profiles **out)
{
	uint8_t *eb = NULL, *cb = NULL;
	size_t el = 0, cl = 0;
	cr_assert_eq(ut_plist_serialize(e, UT_PLIST_XML, &eb, &el), 0);
	cr_assert_eq(ut_plist_serialize(c, UT_PLIST_XML, &cb, &cl), 0);
	int rc = ut_profiles_load_mem(out, eb, el, cb, cl);
	free(eb);
	free(cb);
	return rc;
}

Test(profiles_malformed, every_row)
{
	for (size_t i = 0; i < sizeof(ROWS) / sizeof(ROWS[0]); i++) {
		const struct row *r = &ROWS[i];
		plist_t e = base_ents(), c = base_comps();
		r->mutate(e, c);
		struct ut_profiles *p = (struct ut_profiles *)&p; /* must be reset */
		ut_err_clear();
		int rc = load_pair(e, c, &p);
		cr_expect_eq(rc, r->code, "%s: code %d, want %d (%s)", r->name, rc, r->code, ut_errmsg());
		if (r->code == 0) {
			cr_expect_not_null(p, "%s", r->name);
		} else {
			cr_expect_null(p, "%s: handle on failure", r->name);
			cr_expect(strstr(ut_errmsg(), r->msg) != NULL, "%s: message '%s' lacks '%s'", r->name, ut_errmsg(),
				  r->msg);
		}
		ut_profiles_free(p);
		plist_free(e);
		plist_free(c);
	}
}

Test(profiles_malformed, not_plists)
{
	struct ut_profiles *p = NULL;
	static const char junk[] = "#!/bin/sh\necho not a plist\n";
	uint8_t *cb = NULL;
	size_t cl = 0;
	plist_t c = base_comps();
	cr_assert_eq(ut_plist_serialize(c, UT_PLIST_XML, &cb, &cl), 0);
	cr_expect_eq(ut_profiles_load_mem(&p, junk, sizeof(junk) - 1, cb, cl), UT_EMALFORMED);
	cr_expect(strstr(ut_errmsg(), "'entitlements.plist'"), "%s", ut_errmsg());
	cr_expect_null(p);
	/* A top level that is not a dictionary. */
	plist_t arr = plist_new_array();
	uint8_t *ab = NULL;
	size_t al = 0;
	cr_assert_eq(ut_plist_serialize(arr, UT_PLIST_XML, &ab, &al), 0);
	cr_expect_eq(ut_profiles_load_mem(&p, ab, al, cb, cl), UT_EMALFORMED);
	cr_expect(strstr(ut_errmsg(), "'entitlements.plist': top level is not a dictionary"), "%s", ut_errmsg());
	free(ab);
	plist_free(arr);
	cr_expect_eq(ut_profiles_load_mem(&p, cb, cl, "", 0), UT_EMALFORMED);
	cr_expect(strstr(ut_errmsg(), "'utm-components.plist'") || strstr(ut_errmsg(), "'entitlements.plist'"), "%s",
		  ut_errmsg());
	free(cb);
	plist_free(c);
}

/* The fuzz seed (lib/fuzz/seeds/profiles-min) is a valid pair, so fuzzing starts past the parser. */
Test(profiles_malformed, fuzz_seed_loads)
{
	size_t n = 0;
	uint8_t *b = ts_read(ts_root("lib/fuzz/seeds/profiles-min"), &n);
	cr_assert_not_null(b);
	const uint8_t *nul = memchr(b, 0, n);
	cr_assert_not_null(nul);
	size_t elen = (size_t)(nul - b);
	struct ut_profiles *p = NULL;
	cr_expect_eq(ut_profiles_load_mem(&p, b, elen, nul + 1, n - elen - 1), 0, "%s", ut_errmsg());
	cr_expect_eq(ut_profiles_ncomponents(p), 3);
	ut_profiles_free(p);
	free(b);
}
