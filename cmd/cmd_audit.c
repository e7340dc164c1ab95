/* cmd_audit.c - `utmpatch audit FILE [--json]`: what codesign -dvvv shows, per slice, and the verdict. Read-only. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_env.h"
#include "cmd_bundle.h"
#include "cs_hash.h"
#include "cs_verify.h"
#include "cs_verify_audit.h"
#include "mo_file.h"
#include "ut_buf.h"
#include "ut_err.h"
#include "ut_file.h"
#include "ut_json.h"
#include "ut_limits.h"

static const char usage[] =
	"usage: utmpatch audit FILE [--json] [--anchors ROOTS.tsv] [--info-plist PLIST]\n"
	"       utmpatch audit BUNDLE [--json] [--anchors ROOTS.tsv]\n"
	"\n"
	"Shows the code signature of every slice the way `codesign -dvvv` does (identifier,\n"
	"format, CodeDirectory, hashes and cdhashes, signature and authorities, times,\n"
	"Info.plist, team, runtime version, executable segment, page size, requirements,\n"
	"entitlements) and the verdict of `utmpatch verify`.  Never writes anything.\n"
	"\n"
	"For a BUNDLE (a directory): one row per Mach-O file in it - path, architectures,\n"
	"signature kind, identifier, team, flags (runtime included), entitlement keys - and\n"
	"its verdict from `utmpatch verify --deep --strict`, then the problems found.\n"
	"\n"
	"  --json          machine-readable (docs/schemas/audit.schema.json; bundles:\n"
	"                  docs/schemas/audit-bundle.schema.json)\n"
	"  --anchors F     extra trusted roots, as for verify\n"
	"  --info-plist F  the bundle's Info.plist (slot -1, Info.plist entries)\n"
	"\n"
	"exit: 0 every slice (bundle: every component) validly signed, 1 some is not, 2 usage,\n"
	"      3 not a readable Mach-O file or bundle\n";


static const char *cert_name(const struct cs_cert_info *c) { return c->cn[0] ? c->cn : c->o[0] ? c->o : c->ou; }

/* ---- text ---- */

static void text_findings(const struct cs_verify_slice *vs)
{
	printf("Verdict=%s\n", vs->valid ? "valid" : cs_problem_text(vs->verdict));
	for (unsigned k = 0; k < vs->nfindings; k++)
		printf("  %s: %s\n", vs->findings[k].problem == CS_PROB_NOTE ? "note" : cs_problem_text(vs->findings[k].problem),
		       vs->findings[k].detail);
}

static void text_signature(const struct cs_audit_slice *a)
{
	const struct cs_verify_slice *vs = a->verify;
	if (a->adhoc) {
		printf("Signature=adhoc\n");
		return;
	}
	if (!a->cms_size) {
		printf("Signature=none\n");
		return;
	}
	printf("Signature size=%u\n", a->cms_size);
	if (!vs->cms_verified)
		return;
	for (uint32_t i = 0; i < vs->cms.chain.n; i++)
		printf("Authority=%s\n", cert_name(&vs->cms.chain.certs[i]));
	char t[32];
	if (vs->cms.attrs & CS_CMS_ATTR_TIMESTAMP) {
		cmd_fmt_time(vs->cms.timestamp, t);
		printf("Timestamp=%s\n", t);
	} else if (vs->cms.attrs & CS_CMS_ATTR_SIGNING_TIME) {
		cmd_fmt_time(vs->cms.signing_time, t);
		printf("Signed Time=%s\n", t);
	}
}

static void text_slice(const struct cs_audit_slice *a, int with_identifier)
{
	char v[24];
	if (with_identifier)
		printf("Identifier=%s\n", a->identifier);
	printf("CodeDirectory v=%x size=%u flags=0x%x(%s) hashes=%u+%u location=embedded\n", a->version, a->size,
	       a->flags, a->flag_names, a->n_code_slots, a->n_special_slots);
	if (a->version_platform)
		printf("VersionPlatform=%u\nVersionMin=%u\nVersionSDK=%u\n", a->version_platform, a->version_min,
		       a->version_sdk);
	printf("Hash type=%s size=%u\n", cs_hash_name(a->hash_type), a->hash_size);
	for (unsigned i = 0; i < a->ncd; i++)
		printf("CandidateCDHash %s=%s\nCandidateCDHashFull %s=%s\n", cs_hash_name(a->cds[i].hash_type),
		       a->cds[i].cdhash, cs_hash_name(a->cds[i].hash_type), a->cds[i].cdhash_full);
	printf("Hash choices=");
	for (unsigned i = 0; i < a->ncd; i++)
		printf("%s%s", i ? "," : "", cs_hash_name(a->cds[i].hash_type));
	printf("\n");
	if (a->has_exec_seg)
		printf("Executable Segment base=%" PRIu64 "\nExecutable Segment limit=%" PRIu64
		       "\nExecutable Segment flags=0x%" PRIx64 "\n",
		       a->exec_seg_base, a->exec_seg_limit, a->exec_seg_flags);
	printf("Page size=%u\n", a->page_size);
	printf("CDHash=%s\n", a->cdhash);
	text_signature(a);
	if (a->info_entries >= 0)
		printf("Info.plist entries=%d\n", a->info_entries);
	else
		printf("Info.plist=%s\n", a->info_bound ? "bound, not available (not a bundle)" : "not bound");
	printf("TeamIdentifier=%s\n", a->team_id[0] ? a->team_id : "not set");
	if (a->runtime)
		printf("Runtime Version=%s\n", mo_version_str(a->runtime, v));
	printf("Sealed Resources=none\n");
	if (a->has_requirements)
		printf("Internal requirements count=%u size=%u\n%s", a->req_count, a->req_size,
		       a->req_text ? a->req_text : "(requirements cannot be decoded)\n");
	else
		printf("Internal requirements=none\n");
	if (a->entitlements) {
		printf("Entitlements=%s\n%s",
		       a->entitlements_xml && a->entitlements_der ? "XML and DER blobs" : a->entitlements_xml ? "XML blob"
												    : "DER blob",
		       a->entitlements);
		if (a->entitlements_len && a->entitlements[a->entitlements_len - 1] != '\n')
			printf("\n");
	} else {
		printf("Entitlements=none\n");
	}
}

static void text_report(const char *file, const struct mo_file *f, const struct cs_audit_slice *a, unsigned n)
{
	char fmt[512];
	printf("Executable=%s\n", file);
	/* codesign's order for a thin file: Identifier, then Format; a universal file gets one block per slice */
	if (!f->fat && n == 1 && a[0].has_signature)
		printf("Identifier=%s\n", a[0].identifier);
	printf("Format=%s\n", cs_audit_format(f, fmt, sizeof(fmt)));
	for (unsigned i = 0; i < n; i++) {
		if (f->fat)
			printf("%sArchitecture=%s\n", i ? "\n" : "", a[i].arch);
		if (a[i].has_signature)
			text_slice(&a[i], f->fat != 0);
		text_findings(a[i].verify);
	}
}

/* ---- JSON (docs/schemas/audit.schema.json) ---- */

static void json_time(struct ut_json *j, const char *key, int present, int64_t t)
{
	char buf[32];
	ut_json_key(j, key);
	if (present) {
		cmd_fmt_time(t, buf);
		ut_json_str(j, buf);
	} else {
		ut_json_null(j);
	}
}

static void json_findings(struct ut_json *j, const struct cs_verify_slice *vs)
{
	ut_json_kbool(j, "valid", vs->valid);
	ut_json_kstr(j, "verdict", vs->valid ? NULL : cs_problem_text(vs->verdict));
	ut_json_kstr(j, "kind", cs_verify_kind_name(vs->kind));
	ut_json_key(j, "findings");
	ut_json_arr(j);
	for (unsigned k = 0; k < vs->nfindings; k++) {
		ut_json_obj(j);
		ut_json_kbool(j, "fatal", vs->findings[k].problem != CS_PROB_NOTE);
		ut_json_kstr(j, "problem", cs_problem_text(vs->findings[k].problem));
		ut_json_kstr(j, "detail", vs->findings[k].detail);
		ut_json_end(j);
	}
	ut_json_end(j);
}

static void json_cd(struct ut_json *j, const struct cs_audit_slice *a)
{
	char buf[32];
	ut_json_key(j, "code_directory");
	ut_json_obj(j);
	snprintf(buf, sizeof(buf), "%x", a->version);
	ut_json_kstr(j, "version", buf);
	ut_json_kuint(j, "size", a->size);
	ut_json_kuint(j, "flags", a->flags);
	ut_json_kstr(j, "flag_names", a->flag_names);
	ut_json_kuint(j, "code_slots", a->n_code_slots);
	ut_json_kuint(j, "special_slots", a->n_special_slots);
	ut_json_kstr(j, "hash_type", cs_hash_name(a->hash_type));
	ut_json_kuint(j, "hash_size", a->hash_size);
	ut_json_kuint(j, "page_size", a->page_size);
	ut_json_kuint(j, "platform", a->platform);
	ut_json_end(j);
	ut_json_key(j, "exec_segment");
	if (a->has_exec_seg) {
		ut_json_obj(j);
		ut_json_kuint(j, "base", a->exec_seg_base);
		ut_json_kuint(j, "limit", a->exec_seg_limit);
		ut_json_kuint(j, "flags", a->exec_seg_flags);
		ut_json_end(j);
	} else {
		ut_json_null(j);
	}
	ut_json_kstr(j, "runtime_version", a->runtime ? mo_version_str(a->runtime, buf) : NULL);
	ut_json_kstr(j, "cdhash", a->cdhash);
	ut_json_key(j, "candidates");
	ut_json_arr(j);
	for (unsigned i = 0; i < a->ncd; i++) {
		ut_json_obj(j);
		ut_json_kstr(j, "hash_type", cs_hash_name(a->cds[i].hash_type));
		ut_json_kuint(j, "slot", a->cds[i].slot);
		ut_json_kstr(j, "cdhash", a->cds[i].cdhash);
		ut_json_kstr(j, "cdhash_full", a->cds[i].cdhash_full);
		ut_json_end(j);
	}
	ut_json_end(j);
}

static void json_signer(struct ut_json *j, const struct cs_audit_slice *a)
{
	const struct cs_verify_slice *vs = a->verify;
	ut_json_kstr(j, "signature", a->adhoc ? "adhoc" : a->cms_size ? "cms" : "none");
	ut_json_kuint(j, "cms_size", a->cms_size);
	ut_json_key(j, "authorities");
	ut_json_arr(j);
	for (uint32_t i = 0; vs->cms_verified && i < vs->cms.chain.n; i++)
		ut_json_str(j, cert_name(&vs->cms.chain.certs[i]));
	ut_json_end(j);
	int ok = vs->cms_verified;
	json_time(j, "signing_time", ok && (vs->cms.attrs & CS_CMS_ATTR_SIGNING_TIME), vs->cms.signing_time);
	json_time(j, "timestamp", ok && (vs->cms.attrs & CS_CMS_ATTR_TIMESTAMP), vs->cms.timestamp);
}

static void json_slice(struct ut_json *j, const struct cs_audit_slice *a)
{
	ut_json_obj(j);
	ut_json_kstr(j, "arch", a->arch);
	json_findings(j, a->verify);
	ut_json_key(j, "signature");
	if (!a->has_signature) {
		ut_json_null(j);
		ut_json_end(j);
		return;
	}
	ut_json_obj(j);
	ut_json_kstr(j, "identifier", a->identifier);
	ut_json_kstr(j, "team_id", a->team_id[0] ? a->team_id : NULL);
	json_cd(j, a);
	json_signer(j, a);
	ut_json_key(j, "info_plist");
	ut_json_obj(j);
	ut_json_kbool(j, "bound", a->info_bound);
	ut_json_key(j, "entries");
	if (a->info_entries >= 0)
		ut_json_int(j, a->info_entries);
	else
		ut_json_null(j);
	ut_json_end(j);
	ut_json_key(j, "requirements");
	if (a->has_requirements) {
		ut_json_obj(j);
		ut_json_kuint(j, "count", a->req_count);
		ut_json_kuint(j, "size", a->req_size);
		ut_json_kstr(j, "text", a->req_text);
		ut_json_end(j);
	} else {
		ut_json_null(j);
	}
	ut_json_key(j, "entitlements");
	if (a->entitlements) {
		ut_json_obj(j);
		ut_json_key(j, "xml");
		ut_json_strn(j, a->entitlements, a->entitlements_len);
		ut_json_kbool(j, "xml_blob", a->entitlements_xml);
		ut_json_kbool(j, "der", a->entitlements_der);
		ut_json_end(j);
	} else {
		ut_json_null(j);
	}
	ut_json_key(j, "build_version");
	if (a->version_platform) {
		ut_json_obj(j);
		ut_json_kuint(j, "platform", a->version_platform);
		ut_json_kuint(j, "min", a->version_min);
		ut_json_kuint(j, "sdk", a->version_sdk);
		ut_json_end(j);
	} else {
		ut_json_null(j);
	}
	ut_json_end(j);
	ut_json_end(j);
}

static int json_report(const char *file, const struct mo_file *f, const struct cs_audit_slice *a, unsigned n,
		       int valid)
{
	struct ut_buf b;
	struct ut_json j;
	char fmt[512];
	ut_buf_init(&b, 0);
	ut_json_init(&j, &b, 1);
	ut_json_obj(&j);
	ut_json_kstr(&j, "file", file);
	ut_json_kstr(&j, "format", cs_audit_format(f, fmt, sizeof(fmt)));
	ut_json_kbool(&j, "valid", valid);
	ut_json_key(&j, "slices");
	ut_json_arr(&j);
	for (unsigned i = 0; i < n; i++)
		json_slice(&j, &a[i]);
	ut_json_end(&j);
	ut_json_end(&j);
	return cmd_json_print(&j, &b);
}

/* ---- driver ---- */

struct audit_args {
	const char *file, *anchors, *info;
	int json;
};

static int parse(int argc, char **argv, struct audit_args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (cmd_is(s, "-h") || cmd_is(s, "--help"))
			return cmd_help(usage) == EXIT_OK ? -1 : -2;
		if (cmd_is(s, "--json")) {
			a->json = 1;
		} else if (cmd_is(s, "--anchors") || cmd_is(s, "--info-plist")) {
			const char *v = cmd_value(argc, argv, &i);
			if (!v)
				return cmd_usage_error(usage, "audit: %s needs a value", s);
			*(cmd_is(s, "--anchors") ? &a->anchors : &a->info) = v;
		} else if (s[0] == '-' && s[1]) {
			return cmd_usage_error(usage, "audit: unknown option '%s'", s);
		} else if (!a->file) {
			a->file = s;
		} else {
			return cmd_usage_error(usage, "audit: more than one FILE");
		}
	}
	return a->file ? 0 : cmd_usage_error(usage, "audit: missing FILE");
}

static int run(const struct audit_args *args, struct mo_file *f, struct cs_verify_opts *o)
{
	struct cs_verify_result r;
	int rc = cs_verify_file(&r, f, o);
	if (rc)
		return cmd_fail(rc);
	struct cs_audit_slice *a = calloc(r.nslices ? r.nslices : 1, sizeof(*a));
	if (!a) {
		cs_verify_result_release(&r);
		return cmd_fail(ut_fail(UT_ENOMEM, "out of memory"));
	}
	unsigned n = 0;
	for (; n < r.nslices && !rc; n++)
		rc = cs_audit_slice(&a[n], f, &f->slices[n], &r.slices[n], o->info_plist);
	int code;
	if (rc)
		code = cmd_fail(rc);
	else if (args->json)
		code = json_report(args->file, f, a, n, r.valid) ? cmd_fail(UT_ENOMEM) : r.valid ? EXIT_OK : EXIT_BAD;
	else {
		text_report(args->file, f, a, n);
		code = r.valid ? EXIT_OK : EXIT_BAD;
	}
	for (unsigned i = 0; i < n; i++)
		cs_audit_slice_release(&a[i]);
	free(a);
	cs_verify_result_release(&r);
	return code;
}

int cmd_audit(int argc, char **argv)
{
	struct audit_args args;
	int prc = parse(argc, argv, &args);
	if (prc == -1)
		return EXIT_OK;
	if (prc == -2)
		return EXIT_FAIL;
	if (prc)
		return prc;
	struct cs_trust trust = { 0 };
	struct cs_verify_opts o = { 0 };
	uint8_t *info = NULL;
	size_t info_len = 0;
	int rc = args.anchors ? cmd_verify_load_anchors(args.anchors, &trust) : 0;
	if (cmd_is_dir(args.file)) {
		int bcode = args.info ? cmd_usage_error(usage, "audit: --info-plist is for a single Mach-O file")
			    : rc  ? cmd_fail(rc)
				  : cmd_audit_bundle(args.file, args.json, &trust);
		free((void *)trust.anchors);
		return cmd_finish(bcode);
	}
	if (!rc && args.info) {
		rc = ut_file_read(args.info, UT_MAX_PLIST_SIZE, &info, &info_len);
		o.info_plist = ut_span_make(info, info_len);
	}
	o.trust = &trust;
	struct ut_src src;
	struct mo_file *f = NULL;
	if (!rc)
		rc = mo_file_open(args.file, &src, &f);
	int code;
	if (rc) {
		code = cmd_fail(rc);
	} else {
		code = run(&args, f, &o);
		mo_file_close(&src, f);
	}
	free(info);
	free((void *)trust.anchors);
	return cmd_finish(code);
}
