/*
 * test_bverify_adhoc.c - deep verification of an app built from the fixtures
 * and signed inside-out by the real signer (ad-hoc: cs_sign_file +
 * cs_seal_build_bundle, as codesign --force --deep -s - does).  Every code
 * file tampered with by one byte is reported at its component and at every
 * bundle that records it; requirements recorded in seals are enforced;
 * --deep and --strict change what is looked at the way codesign's do.
 */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_bverify.h"
#include "cs_pki.h"
#include "cs_sign.h"
#include "test_bverify_util.h"
#include "tsupport.h"
#include "tsupport_bundle.h"
#include "tsupport_fs.h"
#include "ut_err.h"
#include "ut_file.h"

#define DEEP CS_BVERIFY_DEEP
#define STRICT (CS_BVERIFY_DEEP | CS_BVERIFY_STRICT)
#define FOO "Contents/Frameworks/Foo.framework"

static char *tmp, *app;

static void setup(void)
{
	tmp = tsupport_tmpdir("bverify-adhoc");
	app = tsb_build_app(tmp);
	cr_assert_eq(tsb_sign_bundle(app, NULL), 0, "%s", ut_errmsg());
}

static void teardown(void)
{
	tsupport_rmtree(tmp);
	free(tmp);
	free(app);
}

TestSuite(bverify_adhoc, .init = setup, .fini = teardown);

static char *at(const char *rel) { return tsupport_printf("%s/%s", app, rel); }

Test(bverify_adhoc, signed_app_verifies_deep_strict)
{
	struct cs_bverify_result r;
	tbv_verify(&r, app, STRICT, NULL);
	cr_expect(r.valid, "%s", tbv_dump(&r));
	static const struct {
		const char *rel, *code;
		enum cs_bverify_role role;
	} want[] = {
		{ "", "Contents/MacOS/Demo", CS_BV_TOP },
		{ "Contents/MacOS/helper", "Contents/MacOS/helper", CS_BV_ROLE_NESTED },
		{ FOO, FOO "/Versions/A/Foo", CS_BV_ROLE_NESTED },
		{ "Contents/Frameworks/libbar.dylib", "Contents/Frameworks/libbar.dylib", CS_BV_ROLE_NESTED },
		{ "Contents/PlugIns/Plug.bundle", "Contents/PlugIns/Plug.bundle/Contents/MacOS/Plug", CS_BV_ROLE_NESTED },
		{ "Contents/XPCServices/Svc.xpc", "Contents/XPCServices/Svc.xpc/Contents/MacOS/Svc", CS_BV_ROLE_NESTED },
	};
	cr_expect_eq(r.n, sizeof(want) / sizeof(want[0]), "%s", tbv_dump(&r));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct cs_bverify_component *c = tbv_comp(&r, want[i].rel);
		cr_expect_str_eq(c->code_rel, want[i].code);
		cr_expect_eq(c->role, want[i].role, "%s", want[i].rel);
		cr_expect(c->checked && c->sig.valid, "%s", want[i].rel);
		cr_expect_eq(c->sig.slices[0].kind, CS_VK_ADHOC, "%s", want[i].rel);
	}
	cr_expect_gt(r.files_hashed, 6);
	cs_bverify_result_release(&r);
}

/* The components holding rel, innermost first (by path). */
static int is_ancestor(const char *anc, const char *rel)
{
	size_t n = strlen(anc);
	return n == 0 || (strncmp(rel, anc, n) == 0 && rel[n] == '/');
}

Test(bverify_adhoc, one_byte_in_any_code_file_names_its_component)
{
	struct cs_bverify_result base;
	tbv_verify(&base, app, STRICT, NULL);
	cr_assert(base.valid, "%s", tbv_dump(&base));
	for (size_t i = 0; i < base.n; i++) {
		const struct cs_bverify_component *c = &base.v[i];
		char *file = at(c->code_rel);
		uint64_t off = tsb_text_offset(file);
		tsb_flip(file, off);
		struct cs_bverify_result r;
		tbv_verify(&r, app, STRICT, NULL);
		cr_expect_not(r.valid, "%s changed, still valid", c->code_rel);
		const struct cs_bverify_component *bad = tbv_comp(&r, c->rel);
		const struct cs_bverify_reason *s = tbv_reason(bad, CS_BV_SIGNATURE, c->code_rel);
		cr_expect(s, "%s:\n%s", c->code_rel, tbv_dump(&r));
		cr_expect(s && strstr(s->detail, "does not match"), "%s", s ? s->detail : "");
		/* every bundle that records it (directly or not) says its nested code is invalid */
		for (size_t k = 0; k < r.n; k++) {
			const struct cs_bverify_component *a = &r.v[k];
			if (a == bad || !a->is_bundle || !is_ancestor(a->rel, c->rel))
				continue;
			cr_expect(tbv_reason(a, CS_BV_NESTED, NULL), "%s should report nested code %s:\n%s", a->rel, c->rel,
				  tbv_dump(&r));
		}
		/* the others are untouched */
		for (size_t k = 0; k < r.n; k++)
			if (&r.v[k] != bad && !is_ancestor(r.v[k].rel, c->rel))
				cr_expect(r.v[k].valid, "%s after changing %s", r.v[k].rel, c->rel);
		cs_bverify_result_release(&r);
		tsb_flip(file, off);
		free(file);
	}
	cs_bverify_result_release(&base);
	struct cs_bverify_result again;
	tbv_verify(&again, app, STRICT, NULL);
	cr_expect(again.valid, "restored: %s", tbv_dump(&again));
	cs_bverify_result_release(&again);
}

static void edit_plist(const char *rel)
{
	char *p = at(rel);
	uint8_t *d = NULL;
	size_t n = 0;
	cr_assert_eq(tsupport_read(p, &d, &n), 0);
	char *s = strstr((char *)d, "<string>1</string>"); /* CFBundleVersion */
	cr_assert(s, "%s", rel);
	tsb_flip(p, (uint64_t)(s - (char *)d) + 8);
	free(d);
	free(p);
}

Test(bverify_adhoc, info_plist_changed)
{
	edit_plist(FOO "/Versions/A/Resources/Info.plist");
	edit_plist("Contents/Info.plist");
	struct cs_bverify_result r;
	tbv_verify(&r, app, STRICT, NULL);
	const struct cs_bverify_component *fw = tbv_comp(&r, FOO);
	cr_expect(tbv_reason(fw, CS_BV_INFO_PLIST, FOO "/Versions/A/Foo"), "%s", tbv_dump(&r));
	cr_expect(tbv_reason(fw, CS_BV_FILE_MODIFIED, FOO "/Versions/A/Resources/Info.plist"), "%s", tbv_dump(&r));
	const struct cs_bverify_component *top = tbv_comp(&r, "");
	cr_expect(tbv_reason(top, CS_BV_INFO_PLIST, "Contents/MacOS/Demo"), "%s", tbv_dump(&r));
	cr_expect(tbv_reason(top, CS_BV_NESTED, FOO), "%s", tbv_dump(&r));
	cs_bverify_result_release(&r);
}

/* Valid code that is not what the seal recorded: the requirement (ad-hoc: the cdhash list) fails. */
Test(bverify_adhoc, substituted_nested_code_fails_its_recorded_requirement)
{
	char *lib = at("Contents/Frameworks/libbar.dylib");
	struct cs_sign_opts so = { .identifier = "com.example.substitute" };
	cr_assert_eq(cs_sign_file(lib, NULL, &so, NULL), 0, "%s", ut_errmsg());
	struct cs_bverify_result r;
	tbv_verify(&r, app, 0, NULL);
	cr_expect(tbv_comp(&r, "Contents/Frameworks/libbar.dylib")->valid, "%s", tbv_dump(&r));
	const struct cs_bverify_reason *n = tbv_reason(tbv_comp(&r, ""), CS_BV_NESTED, "Contents/Frameworks/libbar.dylib");
	cr_expect(n, "%s", tbv_dump(&r));
	cr_expect(n && strstr(n->detail, "does not satisfy the requirement recorded in the seal") &&
			  strstr(n->detail, "cdhash"),
		  "%s", n ? n->detail : "");
	cs_bverify_result_release(&r);
	free(lib);
}

/* A resource of a nested framework: only --deep looks inside nested code's seals (codesign's basic validation otherwise). */
Test(bverify_adhoc, nested_resources_only_with_deep)
{
	char *f = at(FOO "/Versions/A/Resources/foo.txt");
	tsb_flip(f, 1);
	struct cs_bverify_result r;
	tbv_verify(&r, app, 0, NULL);
	cr_expect(r.valid, "without --deep: %s", tbv_dump(&r));
	cs_bverify_result_release(&r);
	tbv_verify(&r, app, DEEP, NULL);
	cr_expect_not(r.valid);
	cr_expect(tbv_reason(tbv_comp(&r, FOO), CS_BV_FILE_MODIFIED, FOO "/Versions/A/Resources/foo.txt"), "%s",
		  tbv_dump(&r));
	const struct cs_bverify_reason *n = tbv_reason(tbv_comp(&r, ""), CS_BV_NESTED, FOO);
	cr_expect(n, "%s", tbv_dump(&r));
	cr_expect(n && strstr(n->detail, "a sealed resource is missing or invalid"), "%s", n ? n->detail : "");
	cs_bverify_result_release(&r);
	free(f);
}

Test(bverify_adhoc, strict_symlink_leaving_the_bundle)
{
	char *l = at("Contents/Resources/escape");
	cr_assert_eq(symlink("../../../../outside", l), 0);
	cr_assert_eq(tsb_sign_one(app, 1, NULL), 0, "%s", ut_errmsg());
	struct cs_bverify_result r;
	tbv_verify(&r, app, DEEP, NULL);
	cr_expect(r.valid, "sealed, not strict: %s", tbv_dump(&r));
	cs_bverify_result_release(&r);
	tbv_verify(&r, app, STRICT, NULL);
	const struct cs_bverify_reason *s = tbv_reason(tbv_comp(&r, ""), CS_BV_SYMLINK, "Contents/Resources/escape");
	cr_expect(s, "%s", tbv_dump(&r));
	cr_expect(s && strcmp(s->text, "invalid symbolic link") == 0);
	cs_bverify_result_release(&r);
	/* a symlink target changed after sealing */
	cr_assert_eq(unlink(l), 0);
	cr_assert_eq(symlink("data.bin.other", l), 0);
	tbv_verify(&r, app, DEEP, NULL);
	const struct cs_bverify_reason *m = tbv_reason(tbv_comp(&r, ""), CS_BV_FILE_MODIFIED, "Contents/Resources/escape");
	cr_expect(m && strstr(m->detail, "symlink target"), "%s", tbv_dump(&r));
	cs_bverify_result_release(&r);
	free(l);
}

/* --strict also verifies a framework's other versions (SEC validateOtherVersions). */
Test(bverify_adhoc, strict_other_framework_versions)
{
	char *cmd = tsupport_printf("cp -a '%s/%s/Versions/A' '%s/%s/Versions/B'", app, FOO, app, FOO);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	char *b = at(FOO "/Versions/B/Foo");
	tsb_flip(b, tsb_text_offset(b));
	struct cs_bverify_result r;
	tbv_verify(&r, app, DEEP, NULL);
	cr_expect(r.valid, "not strict: %s", tbv_dump(&r));
	cs_bverify_result_release(&r);
	tbv_verify(&r, app, STRICT, NULL);
	const struct cs_bverify_component *v = tbv_comp(&r, FOO "/Versions/B");
	cr_expect_eq(v->role, CS_BV_ROLE_VERSION);
	cr_expect(tbv_reason(v, CS_BV_SIGNATURE, FOO "/Versions/B/Foo"), "%s", tbv_dump(&r));
	cr_expect(tbv_reason(tbv_comp(&r, FOO), CS_BV_NESTED, FOO "/Versions/B"), "%s", tbv_dump(&r));
	cr_expect(tbv_reason(tbv_comp(&r, ""), CS_BV_NESTED, FOO), "%s", tbv_dump(&r));
	cs_bverify_result_release(&r);
	free(b);
}

static struct cs_trust load_anchors(void)
{
	uint8_t *t = NULL;
	size_t n = 0;
	cr_assert_eq(ut_file_read(ts_root("testdata/keys/roots.tsv"), 1 << 20, &t, &n), 0);
	struct cs_trust tr = { 0 };
	struct cs_root *roots = NULL;
	cr_assert_eq(cs_roots_parse(&roots, &tr.nanchors, (const char *)t, n, "roots.tsv"), 0);
	tr.anchors = roots;
	free(t);
	return tr;
}

/* A nested bundle signed with the test Developer ID identity: its certificate requirement is evaluated. */
Test(bverify_adhoc, certificate_signed_nested_code)
{
	struct cs_trust tr = load_anchors();
	struct cs_identity *id = NULL;
	cr_assert_eq(cs_identity_load_p12(&id, ts_root("testdata/keys/identity.p12"), ts_root("testdata/keys/identity.pass"),
					  &tr),
		     0, "%s", ut_errmsg());
	cr_assert_eq(tsb_sign_one(at("Contents/PlugIns/Plug.bundle"), 1, id), 0, "%s", ut_errmsg());
	cr_assert_eq(tsb_sign_one(app, 1, NULL), 0, "%s", ut_errmsg());
	struct cs_bverify_result r;
	tbv_verify(&r, app, STRICT, &tr);
	cr_expect(r.valid, "with the test anchor: %s", tbv_dump(&r));
	const struct cs_bverify_component *p = tbv_comp(&r, "Contents/PlugIns/Plug.bundle");
	cr_expect_eq(p->sig.slices[0].kind, CS_VK_DEVELOPER_ID);
	cs_bverify_result_release(&r);
	/* without it the chain ends at a root that is not Apple's: `anchor apple generic` fails */
	tbv_verify(&r, app, STRICT, NULL);
	cr_expect_not(r.valid);
	const struct cs_bverify_reason *n = tbv_reason(tbv_comp(&r, ""), CS_BV_NESTED, "Contents/PlugIns/Plug.bundle");
	cr_expect(n && strstr(n->detail, "not an Apple root"), "%s", tbv_dump(&r));
	cr_expect(tbv_reason(tbv_comp(&r, "Contents/PlugIns/Plug.bundle"), CS_BV_DESIGNATED, NULL), "%s", tbv_dump(&r));
	cs_bverify_result_release(&r);
	/* re-signed ad-hoc after the seal was written: valid on its own, not what the seal recorded */
	cr_assert_eq(tsb_sign_one(at("Contents/PlugIns/Plug.bundle"), 1, NULL), 0, "%s", ut_errmsg());
	tbv_verify(&r, app, STRICT, &tr);
	cr_expect(tbv_comp(&r, "Contents/PlugIns/Plug.bundle")->valid, "%s", tbv_dump(&r));
	n = tbv_reason(tbv_comp(&r, ""), CS_BV_NESTED, "Contents/PlugIns/Plug.bundle");
	cr_expect(n && strstr(n->detail, "anchor apple generic"), "%s", tbv_dump(&r));
	cs_bverify_result_release(&r);
	cs_identity_free(id);
	free((void *)tr.anchors);
}

/* A recorded requirement we cannot judge is a failure that says so. */
Test(bverify_adhoc, requirement_not_evaluable)
{
	/* Rewrite the seal entry of libbar.dylib with `... and notarized`, then re-sign the main executable. */
	char *seal = at("Contents/_CodeSignature/CodeResources");
	uint8_t *d = NULL;
	size_t n = 0;
	cr_assert_eq(tsupport_read(seal, &d, &n), 0);
	char *k = strstr((char *)d, "<key>Frameworks/libbar.dylib</key>");
	cr_assert(k);
	char *req = strstr(k, "<string>cdhash H");
	cr_assert(req);
	char *end = strstr(req, "</string>");
	char *out = tsupport_printf("%.*s<string>notarized or %.*s%s", (int)(req - (char *)d), (char *)d,
				    (int)(end - req - 8), req + 8, end);
	cr_assert_eq(tsupport_write(seal, out, strlen(out)), 0);
	struct cs_sign_opts so = { 0 };
	uint8_t *info = NULL;
	size_t ilen = 0;
	char *ip = at("Contents/Info.plist");
	cr_assert_eq(tsupport_read(ip, &info, &ilen), 0);
	so.info_plist = info;
	so.info_plist_len = ilen;
	so.resources = (const uint8_t *)out;
	so.resources_len = strlen(out);
	char *exe = at("Contents/MacOS/Demo");
	cr_assert_eq(cs_sign_file(exe, NULL, &so, NULL), 0, "%s", ut_errmsg());
	struct cs_bverify_result r;
	tbv_verify(&r, app, STRICT, NULL);
	cr_expect(r.valid, "`notarized or <true>` holds: %s", tbv_dump(&r));
	cs_bverify_result_release(&r);
	/* now "notarized and ..." */
	free(out);
	out = tsupport_printf("%.*s<string>notarized and %.*s%s", (int)(req - (char *)d), (char *)d,
			      (int)(end - req - 8), req + 8, end);
	cr_assert_eq(tsupport_write(seal, out, strlen(out)), 0);
	so.resources = (const uint8_t *)out;
	so.resources_len = strlen(out);
	cr_assert_eq(cs_sign_file(exe, NULL, &so, NULL), 0, "%s", ut_errmsg());
	tbv_verify(&r, app, STRICT, NULL);
	cr_expect_not(r.valid);
	const struct cs_bverify_reason *ne = tbv_reason(tbv_comp(&r, ""), CS_BV_NOT_EVALUABLE, "Contents/Frameworks/libbar.dylib");
	cr_expect(ne, "%s", tbv_dump(&r));
	cr_expect(ne && strcmp(ne->text, "requirement not evaluable") == 0 && strstr(ne->detail, "notarized"));
	cs_bverify_result_release(&r);
	free(out);
	free(d);
	free(info);
	free(ip);
	free(exe);
	free(seal);
}

struct prog {
	uint64_t last, total;
	unsigned calls;
	int backwards;
};

static void on_progress(void *ctx, uint64_t done, uint64_t total, const char *rel)
{
	struct prog *p = ctx;
	p->backwards |= done < p->last || !rel;
	p->last = done;
	p->total = total;
	p->calls++;
}

/* The verdicts do not depend on the thread count; progress reaches the total. */
Test(bverify_adhoc, threads_and_progress)
{
	char *f = at("Contents/Resources/data.bin");
	tsb_flip(f, 3);
	char *g = at(FOO "/Versions/A/Foo");
	tsb_flip(g, tsb_text_offset(g));
	char dumps[2][16384];
	for (int t = 0; t < 2; t++) {
		struct prog p = { 0 };
		struct cs_bverify_opts o = { .flags = STRICT, .nthreads = t ? 5 : 1, .progress = on_progress,
					     .progress_ctx = &p };
		struct cs_bverify_result r;
		cr_assert_eq(cs_bverify_bundle(&r, app, &o), 0, "%s", ut_errmsg());
		snprintf(dumps[t], sizeof(dumps[t]), "%s", tbv_dump(&r));
		cr_expect_not(r.valid);
		cr_expect_eq(p.calls, r.files_hashed);
		cr_expect_eq(p.last, p.total);
		cr_expect_eq(p.total, r.bytes_hashed);
		cr_expect_not(p.backwards);
		cs_bverify_result_release(&r);
	}
	cr_expect_str_eq(dumps[0], dumps[1]);
	free(f);
	free(g);
}
