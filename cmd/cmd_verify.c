/* cmd_verify.c - `utmpatch verify FILE`: judge the code signature of every slice, like codesign --verify --strict. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cmd.h"
#include "cmd_env.h"
#include "cmd_bundle.h"
#include "cs_hash.h"
#include "cs_pki.h"
#include "cs_verify.h"
#include "mo_file.h"
#include "ut_err.h"
#include "ut_file.h"
#include "ut_limits.h"

static const char usage[] =
	"usage: utmpatch verify FILE [--anchors ROOTS.tsv] [--info-plist PLIST] [--resources CODERESOURCES]\n"
	"                            [--verbose]\n"
	"       utmpatch verify [--deep] [--strict] [--anchors ROOTS.tsv] [--verbose] BUNDLE\n"
	"       utmpatch verify --app PATH [--vms [PATH...]] [--format text|json|junit] [-o FILE]\n"
	"                       [--anchors ROOTS.tsv] [--profiles DIR] [--arch arm64|x86_64]\n"
	"       utmpatch verify --vms [PATH...] [--format text|json|junit] [-o FILE]\n"
	"\n"
	"Checks the embedded code signature of every slice of a Mach-O file: the signature\n"
	"structure, every CodeDirectory, code pages, special slots, entitlements, the CMS\n"
	"signature and certificate chain, the team identifier, and __LINKEDIT layout (strict).\n"
	"\n"
	"  --anchors F     extra trusted roots (\"<sha256 hex>\\t<name>\" lines, like\n"
	"                  profiles/apple-roots.tsv); they count as Apple roots (test PKIs)\n"
	"  --info-plist F  the bundle's Info.plist, checked against special slot -1\n"
	"  --resources F   the bundle's _CodeSignature/CodeResources, checked against slot -3\n"
	"  --verbose       what was checked in each slice (bundles: each component)\n"
	"\n"
	"A BUNDLE (a directory: .app, .framework, .xpc, ...) is verified like codesign --verify:\n"
	"its main executable, its seal (_CodeSignature/CodeResources: every sealed file added,\n"
	"modified or missing), and the nested code its seal records against the requirement\n"
	"recorded for it.  Problems are printed one per line, \"<component>: <problem>[: <file>]\".\n"
	"\n"
	"  --deep          also verify nested code in full, recursively (seals included)\n"
	"  --strict        layout rules (unsealed contents in the bundle root, framework\n"
	"                  structure, _CodeSignature contents), weak resource rules and\n"
	"                  version-1 seals, symlinks leaving the bundle, other framework versions\n"
	"\n"
	"exit: 0 valid, 1 not validly signed (including unsigned), 2 usage, 3 not a readable\n"
	"      Mach-O file or bundle\n"
	"\n"
	"The gate (--app, --vms): every check a CI pipeline needs, one test case per check per\n"
	"component or VM.  For the app: signature (deep, strict: every code component),\n"
	"install-names (every framework and executable: no absolute LC_ID_DYLIB, dependency or\n"
	"LC_RPATH outside /usr/lib and /System), load and entry-points (every qemu-* framework\n"
	"as QEMULauncher loads it, with its bundled closure), entitlements (every UTM executable:\n"
	"what UTM requires there, nothing an ad-hoc signature cannot carry, no library-validation\n"
	"refusal).  For the VMs: config and networking (as vmcheck).\n"
	"\n"
	"  --app PATH      the UTM.app to check\n"
	"  --vms [PATH...] .utm bundles or folders of them; none: UTM's own VMs (as vmcheck)\n"
	"  --format F      text (default), json (docs/schemas/verify.schema.json; --json), or\n"
	"                  junit (JUnit XML: a testsuite per app / VMs, a testcase per check)\n"
	"  -o, --output F  write the report to F (atomically) instead of standard output\n"
	"  --profiles DIR  UTM's profiles (default: UTMPATCH_PROFILES, then the installed ones)\n"
	"  --arch A        the Mac the bundle is for: arm64 (default) or x86_64\n"
	"\n"
	"gate exit: 0 every check passed, 1 a check failed, 2 usage, 3 could not run (the app or\n"
	"      a VM path unreadable, the report not writable)\n";


int cmd_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void print_specials(const struct cs_verify_cd *c)
{
	static const char *const what[] = { "", "info", "req", "res", "app", "ent", "rep", "entDER",
					    "lc-self", "lc-parent", "lc-resp", "lib" };
	int any = 0;
	for (unsigned k = 1; k <= 11; k++) {
		const char *st = (c->special_bad >> k) & 1u ? "BAD" : (c->special_ok >> k) & 1u ? "ok"
				 : (c->special_unchecked >> k) & 1u ? "bound, not checked" : NULL;
		if (st) {
			printf("%s -%u %s=%s", any ? "," : "; special slots:", k, what[k], st);
			any = 1;
		}
	}
}

static void print_verbose(const struct cs_verify_slice *vs)
{
	printf("  %s: %s", vs->arch, cs_verify_kind_name(vs->kind));
	if (vs->identifier[0])
		printf(", identifier %s", vs->identifier);
	if (vs->team_id[0])
		printf(", team %s", vs->team_id);
	printf("\n");
	for (unsigned i = 0; i < vs->ncd; i++) {
		const struct cs_verify_cd *c = &vs->cds[i];
		printf("    %s CodeDirectory (slot 0x%x)%s: %" PRIu64 "/%" PRIu64 " pages valid", cs_hash_name(c->hash_type),
		       c->slot, i == vs->best ? ", best" : "", c->pages - c->pages_bad, c->pages);
		print_specials(c);
		printf("\n");
	}
	if (vs->cms_verified) {
		const struct cs_cms_result *r = &vs->cms;
		printf("    CMS signature verified (%s); chain:", r->digest);
		for (uint32_t i = 0; i < r->chain.n; i++)
			printf("%s %s", i ? " ->" : "", r->chain.certs[i].cn[0] ? r->chain.certs[i].cn : r->chain.certs[i].o);
		printf(" [%s]\n", cs_anchor_name(r->chain.anchor));
		char t[32];
		if (r->attrs & CS_CMS_ATTR_SIGNING_TIME) {
			cmd_fmt_time(r->signing_time, t);
			printf("    signing time %s\n", t);
		}
		if (r->attrs & CS_CMS_ATTR_TIMESTAMP) {
			cmd_fmt_time(r->timestamp, t);
			printf("    timestamp %s (%s)\n", t, r->timestamp_authority);
		}
	}
}

static int report(const char *file, const struct cs_verify_result *r, int verbose)
{
	const struct cs_verify_slice *first_bad = NULL;
	for (unsigned i = 0; i < r->nslices && !first_bad; i++)
		if (!r->slices[i].valid)
			first_bad = &r->slices[i];
	if (first_bad) {
		printf("%s: %s\n", file, cs_problem_text(first_bad->verdict));
		printf("In architecture: %s\n", first_bad->arch);
	} else {
		printf("%s: valid on disk\n", file);
	}
	for (unsigned i = 0; i < r->nslices; i++) {
		const struct cs_verify_slice *vs = &r->slices[i];
		if (verbose)
			print_verbose(vs);
		else if (vs->valid)
			printf("  %s: %s%s%s%s\n", vs->arch, cs_verify_kind_name(vs->kind), vs->team_id[0] ? " (team " : "",
			       vs->team_id, vs->team_id[0] ? ")" : "");
		for (unsigned k = 0; k < vs->nfindings; k++) {
			const struct cs_finding *fd = &vs->findings[k];
			if (fd->problem == CS_PROB_NOTE)
				printf("  %s: note: %s\n", vs->arch, fd->detail);
			else
				printf("  %s: %s: %s\n", vs->arch, cs_problem_text(fd->problem), fd->detail);
		}
		if (vs->dropped)
			printf("  %s: ... %u more findings\n", vs->arch, vs->dropped);
	}
	return r->valid ? EXIT_OK : EXIT_BAD;
}

static int read_span(const char *path, struct ut_span *out, uint8_t **owned)
{
	size_t len = 0;
	int rc = ut_file_read(path, UT_MAX_PLIST_SIZE, owned, &len);
	if (!rc)
		*out = ut_span_make(*owned, len);
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	const char *file = NULL, *anchors = NULL, *info = NULL, *res = NULL;
	int verbose = 0;
	unsigned bflags = 0;
	if (cmd_verify_is_gate(argc, argv))
		return cmd_verify_gate(argc, argv, usage);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (cmd_is(a, "-h") || cmd_is(a, "--help"))
			return cmd_help(usage);
		if (cmd_is(a, "--verbose") || cmd_is(a, "-v")) {
			verbose = 1;
		} else if (cmd_is(a, "--deep")) {
			bflags |= CS_BVERIFY_DEEP;
		} else if (cmd_is(a, "--strict")) {
			bflags |= CS_BVERIFY_STRICT;
		} else if (cmd_is(a, "--anchors") || cmd_is(a, "--info-plist") || cmd_is(a, "--resources")) {
			const char *v = cmd_value(argc, argv, &i);
			if (!v)
				return cmd_usage_error(usage, "verify: %s needs a value", a);
			*(cmd_is(a, "--anchors") ? &anchors : cmd_is(a, "--info-plist") ? &info : &res) = v;
		} else if (a[0] == '-' && a[1]) {
			return cmd_usage_error(usage, "verify: unknown option '%s'", a);
		} else if (!file) {
			file = a;
		} else {
			return cmd_usage_error(usage, "verify: more than one FILE");
		}
	}
	if (!file)
		return cmd_usage_error(usage, "verify: missing FILE");
	int dir = cmd_is_dir(file);
	if (dir && (info || res))
		return cmd_usage_error(usage, "verify: --info-plist and --resources are for a single Mach-O file");
	struct cs_trust trust = { 0 };
	int rc = anchors ? cmd_verify_load_anchors(anchors, &trust) : 0;
	if (dir) {
		int bcode = rc ? cmd_fail(rc) : cmd_verify_bundle(file, bflags, &trust, verbose);
		free((void *)trust.anchors);
		return cmd_finish(bcode);
	}

	struct cs_verify_opts o = { 0 };
	uint8_t *info_bytes = NULL, *res_bytes = NULL;
	struct ut_src src;
	struct mo_file *f = NULL;
	struct cs_verify_result r = { 0 };
	if (!rc && info)
		rc = read_span(info, &o.info_plist, &info_bytes);
	if (!rc && res)
		rc = read_span(res, &o.resources, &res_bytes);
	o.trust = &trust;
	if (!rc)
		rc = mo_file_open(file, &src, &f);
	if (!rc)
		rc = cs_verify_file(&r, f, &o);
	int code = rc ? cmd_fail(rc) : report(file, &r, verbose);
	cs_verify_result_release(&r);
	if (f)
		mo_file_close(&src, f);
	free(info_bytes);
	free(res_bytes);
	free((void *)trust.anchors);
	return cmd_finish(code);
}
