/* cmd_sign.c - `utmpatch sign`: sign a Mach-O file or a bundle as `codesign --force --sign` does. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd.h"
#include "cmd_env.h"
#include "cs_bsign.h"
#include "cs_bundle.h"
#include "cs_cd.h"
#include "cs_hash.h"
#include "cs_pki.h"
#include "cs_sign.h"
#include "ut_bytes.h"
#include "ut_err.h"
#include "ut_file.h"
#include "ut_limits.h"

static const char usage[] =
	"usage: utmpatch sign [options] FILE\n"
	"       utmpatch sign [options] BUNDLE [--nested] [--component-entitlements REL=FILE]...\n"
	"\n"
	"Signs a Mach-O file (thin or universal) the way `codesign --force --sign` does:\n"
	"ad-hoc unless an identity is given; in place (atomic) unless -o.\n"
	"A BUNDLE (an .app, .xpc, .appex, a framework or its Versions/A) is sealed\n"
	"(_CodeSignature/CodeResources) and its main executable signed with it; --identifier\n"
	"and --entitlements apply to the bundle's own executable only.\n"
	"\n"
	"  --nested                   sign all nested code first, inside-out; each component keeps\n"
	"                             its identifier and entitlements (without: sealed as it is)\n"
	"  --component-entitlements REL=FILE\n"
	"                             entitlements for one nested component, REL relative to the\n"
	"                             bundle (Contents/MacOS/utmctl); FILE '-': none (repeatable)\n"
	"  --identifier ID            identifier (default: preserved, Info.plist, or the file name)\n"
	"  --entitlements FILE        entitlements plist (XML + DER blobs, executables only)\n"
	"  --runtime                  hardened runtime (flag 0x10000, runtime version = SDK)\n"
	"  --options LIST             CodeDirectory flags, replacing preserved ones\n"
	"                             (runtime,library[-validation],kill,hard,restrict,enforcement,expires)\n"
	"  --preserve-metadata LIST   keep identifier,entitlements,flags,runtime of the old signature\n"
	"  --linker-signed            write lld's linker signature instead\n"
	"  --page-size N              4096 (default) or 16384 (macOS 26 codesign: arm64 slices only)\n"
	"  --identity F.p12 [--password-file F]\n"
	"  --key K.pem --cert C.pem [--chain CH.pem] [--password-file F]\n"
	"                             sign with a certificate (CMS) instead of ad-hoc\n"
	"  --anchors FILE             extra roots standing in for Apple's (sha256<TAB>name lines; test PKIs)\n"
	"  --info-plist FILE          FILE only: its bundle's Info.plist (slot -1 and the identifier)\n"
	"  --resources FILE           FILE only: its bundle's CodeResources (slot -3)\n"
	"  --info-plist-hash HEX      FILE only: slot -1 digest given directly (SHA-1 or SHA-256 by length)\n"
	"  --resource-dir-hash HEX    FILE only: slot -3 digest given directly\n"
	"  --host-arch ARCH           slice whose metadata and UUID a universal file uses (default arm64)\n"
	"  --signing-time SECONDS     CMS signingTime (default: now)\n"
	"  --timestamp-url URL        identity only: RFC 3161 timestamp from this http:// authority\n"
	"                             (as codesign --timestamp=URL; default: none)\n"
	"  -o OUT                     FILE only: write the signed file to OUT\n"
	"\n"
	"exit: 0 ok, 2 usage, 3 malformed input or refused\n";

#define MAX_COMPONENT_ENTS 256

struct sign_args {
	const char *file, *out, *entitlements, *p12, *key, *cert, *chain, *password, *anchors, *info, *resources;
	struct cs_sign_opts o;
	struct cs_slot_digest digests[CS_SIGN_MAX_SLOT_DIGESTS];
	int bundle, nested;
	const char *comp[MAX_COMPONENT_ENTS]; /* REL=FILE as given */
	size_t ncomp;
};

static int hex_digest(const char *hex, unsigned slot, struct sign_args *a)
{
	size_t n = strlen(hex);
	if ((n != 2 * CS_SHA1_LEN && n != 2 * CS_SHA256_LEN) || a->o.nslot_digests >= CS_SIGN_MAX_SLOT_DIGESTS)
		return -1;
	struct cs_slot_digest *d = &a->digests[a->o.nslot_digests];
	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < n; i += 2) {
		unsigned v;
		if (sscanf(hex + i, "%2x", &v) != 1 || !strchr("0123456789abcdefABCDEF", hex[i + 1]))
			return -1;
		d->digest[i / 2] = (uint8_t)v;
	}
	d->slot = slot;
	d->hash_type = n == 2 * CS_SHA1_LEN ? CS_HASHTYPE_SHA1 : CS_HASHTYPE_SHA256;
	a->o.slot_digests = a->digests;
	a->o.nslot_digests++;
	return 0;
}

static int parse_flags(const char *list, uint32_t *flags)
{
	*flags = 0;
	while (*list) {
		char word[64];
		size_t n = strcspn(list, ",");
		uint32_t f;
		if (n >= sizeof(word))
			return -1;
		memcpy(word, list, n);
		word[n] = '\0';
		if (cs_flag_by_name(word, &f) || (f & (CS_ADHOC | CS_LINKER_SIGNED | kSecCodeSignatureHost)))
			return -1;
		*flags |= f;
		list += n + (list[n] == ',');
	}
	return 0;
}

/* Options that take a value: the field it fills. */
static const char **value_slot(struct sign_args *a, const char *arg)
{
	static const struct {
		const char *name;
		size_t off;
	} t[] = {
		{ "--entitlements", offsetof(struct sign_args, entitlements) },
		{ "--identity", offsetof(struct sign_args, p12) },
		{ "--key", offsetof(struct sign_args, key) },
		{ "--cert", offsetof(struct sign_args, cert) },
		{ "--chain", offsetof(struct sign_args, chain) },
		{ "--password-file", offsetof(struct sign_args, password) },
		{ "--anchors", offsetof(struct sign_args, anchors) },
		{ "--info-plist", offsetof(struct sign_args, info) },
		{ "--resources", offsetof(struct sign_args, resources) },
		{ "--timestamp-url", offsetof(struct sign_args, o.timestamp_url) },
		{ "-o", offsetof(struct sign_args, out) },
		{ "--output", offsetof(struct sign_args, out) },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (cmd_is(arg, t[i].name))
			return (const char **)((char *)a + t[i].off);
	return NULL;
}

static int parse(int argc, char **argv, struct sign_args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *v = NULL;
		const char **slot = value_slot(a, arg);
		if (cmd_is(arg, "-h") || cmd_is(arg, "--help"))
			return cmd_help(usage) == EXIT_OK ? 1 : EXIT_FAIL;
		if (slot || cmd_is(arg, "--identifier") || cmd_is(arg, "--options") || cmd_is(arg, "--page-size") ||
		    cmd_is(arg, "--preserve-metadata") || cmd_is(arg, "--info-plist-hash") ||
		    cmd_is(arg, "--resource-dir-hash") || cmd_is(arg, "--host-arch") || cmd_is(arg, "--signing-time")) {
			if (!(v = cmd_value(argc, argv, &i)))
				return cmd_usage_error(usage, "sign: %s needs a value", arg);
		}
		if (slot) {
			*slot = v;
		} else if (cmd_is(arg, "--identifier")) {
			a->o.identifier = v;
		} else if (cmd_is(arg, "--host-arch")) {
			a->o.host_arch = v;
		} else if (cmd_is(arg, "--options")) {
			if (parse_flags(v, &a->o.flags))
				return cmd_usage_error(usage, "sign: unknown flag in '%s'", v);
			a->o.flags_given = 1;
		} else if (cmd_is(arg, "--page-size")) {
			if (strcmp(v, "4096") && strcmp(v, "16384"))
				return cmd_usage_error(usage, "sign: --page-size must be 4096 or 16384");
			a->o.page_size = (unsigned)atoi(v);
		} else if (cmd_is(arg, "--signing-time")) {
			char *end;
			long long t = strtoll(v, &end, 10);
			if (*end || t <= 0)
				return cmd_usage_error(usage, "sign: --signing-time needs seconds since 1970");
			a->o.signing_time = t;
		} else if (cmd_is(arg, "--preserve-metadata")) {
			if (cs_preserve_parse(v, &a->o.preserve))
				return cmd_usage_error(usage, "sign: %s", ut_errmsg());
		} else if (cmd_is(arg, "--info-plist-hash") || cmd_is(arg, "--resource-dir-hash")) {
			if (hex_digest(v, cmd_is(arg, "--info-plist-hash") ? CSSLOT_INFOSLOT : CSSLOT_RESOURCEDIR, a))
				return cmd_usage_error(usage, "sign: %s needs 40 or 64 hex digits", arg);
		} else if (cmd_is(arg, "--component-entitlements")) {
			if (!(v = cmd_value(argc, argv, &i)))
				return cmd_usage_error(usage, "sign: %s needs a value", arg);
			if (!strchr(v, '=') || a->ncomp >= MAX_COMPONENT_ENTS)
				return cmd_usage_error(usage, "sign: --component-entitlements needs REL=FILE (at most %d)",
						       MAX_COMPONENT_ENTS);
			a->comp[a->ncomp++] = v;
		} else if (cmd_is(arg, "--nested")) {
			a->nested = 1;
		} else if (cmd_is(arg, "--runtime")) {
			a->o.runtime = 1;
		} else if (cmd_is(arg, "--linker-signed")) {
			a->o.linker_signed = 1;
		} else if (arg[0] == '-' && arg[1]) {
			return cmd_usage_error(usage, "sign: unknown option '%s'", arg);
		} else if (!a->file) {
			a->file = arg;
		} else {
			return cmd_usage_error(usage, "sign: more than one FILE");
		}
	}
	if (!a->file)
		return cmd_usage_error(usage, "sign: missing FILE");
	if (a->p12 && (a->key || a->cert))
		return cmd_usage_error(usage, "sign: --identity and --key/--cert exclude each other");
	if (!!a->key != !!a->cert)
		return cmd_usage_error(usage, "sign: --key and --cert go together");
	if ((a->chain && !a->key) || (a->password && !a->p12 && !a->key))
		return cmd_usage_error(usage, "sign: --chain/--password-file need an identity");
	if (a->o.timestamp_url && !a->p12 && !a->key)
		return cmd_usage_error(usage, "sign: --timestamp-url needs an identity (ad-hoc signatures have no CMS)");
	if (a->o.timestamp_url && strncmp(a->o.timestamp_url, "http://", 7) != 0)
		return cmd_usage_error(usage, "sign: --timestamp-url '%s' is not an http:// URL", a->o.timestamp_url);
	struct stat st;
	a->bundle = stat(a->file, &st) == 0 && S_ISDIR(st.st_mode);
	if (a->bundle && !cs_bundle_looks_like(a->file))
		return cmd_usage_error(usage, "sign: '%s' is a directory but not a bundle (no Contents, Versions/Current "
					      "or Info.plist)", a->file);
	if (a->bundle && (a->out || a->info || a->resources || a->o.nslot_digests || a->o.linker_signed))
		return cmd_usage_error(usage, "sign: -o, --info-plist, --resources, --info-plist-hash, "
					      "--resource-dir-hash and --linker-signed are for single files, not bundles");
	if (!a->bundle && (a->nested || a->ncomp))
		return cmd_usage_error(usage, "sign: --nested and --component-entitlements are for bundles");
	return 0;
}

static int read_opt_file(const char *path, const uint8_t **p, size_t *len)
{
	uint8_t *b = NULL;
	int rc = path ? ut_file_read(path, UT_MAX_PLIST_SIZE, &b, len) : 0;
	*p = b;
	return rc;
}

static int load_identity(const struct sign_args *a, struct cs_identity **id, struct cs_trust *trust)
{
	*id = NULL;
	memset(trust, 0, sizeof(*trust));
	if (!a->p12 && !a->key)
		return 0;
	int rc = a->anchors ? cmd_verify_load_anchors(a->anchors, trust) : 0;
	if (rc)
		return rc;
	return a->p12 ? cs_identity_load_p12(id, a->p12, a->password, trust)
		      : cs_identity_load_pem(id, a->key, a->cert, a->chain, a->password, trust);
}

static void print_report(const char *file, const struct cs_sign_report *r)
{
	printf("%s: signed, identifier %s%s%s\n", file, r->identifier, r->team_id[0] ? ", team " : "", r->team_id);
	for (uint32_t i = 0; i < r->nslices; i++) {
		const struct cs_sign_slice_report *s = &r->slices[i];
		char flags[128], cdhash[2 * CS_CDHASH_LEN + 1];
		cs_flags_names(s->cd_flags, flags, sizeof(flags));
		ut_hex(cdhash, s->cdhash, CS_CDHASH_LEN);
		printf("  %s: CodeDirectory v=%x flags=0x%x(%s) hashes=%s%s%s page size %u, signature %u of %u bytes",
		       s->arch, s->cd_version, s->cd_flags, flags, cs_hash_name(s->hash_types[0]), s->nhash > 1 ? "," : "",
		       s->nhash > 1 ? cs_hash_name(s->hash_types[1]) : "", 1u << s->page_shift, s->sig_len, s->reserved);
		if (s->cd_flags & CS_LINKER_SIGNED)
			printf("\n");
		else
			printf(", cdhash %s\n", cdhash);
	}
}

/* One line per component as it is signed. */
static void bundle_progress(void *ctx, const struct cs_bsign_item *it, size_t i, size_t n)
{
	(void)ctx;
	char cdhash[2 * CS_CDHASH_LEN + 1];
	ut_hex(cdhash, it->cdhash, CS_CDHASH_LEN);
	printf("[%zu/%zu] %s: signed, identifier %s%s%s, cdhash %s", i + 1, n, it->rel[0] ? it->rel : it->path,
	       it->sign.identifier, it->sign.team_id[0] ? ", team " : "", it->sign.team_id, cdhash);
	if (it->is_bundle)
		printf(", %zu sealed file%s", it->nseal, it->nseal == 1 ? "" : "s");
	printf("\n");
	fflush(stdout);
}

/* The bundle form: per-component entitlement files, then cs_bsign_bundle. */
static int sign_bundle(const struct sign_args *a, const struct cs_sign_opts *o)
{
	static struct cs_bsign_ent ents[MAX_COMPONENT_ENTS];
	static char rels[MAX_COMPONENT_ENTS][4096];
	int rc = 0;
	size_t n = 0;
	for (; n < a->ncomp && !rc; n++) {
		const char *eq = strchr(a->comp[n], '=');
		size_t len = (size_t)(eq - a->comp[n]);
		if (len >= sizeof(rels[n]))
			return ut_fail(UT_EINVAL, "sign: --component-entitlements: path too long");
		memcpy(rels[n], a->comp[n], len);
		rels[n][len] = '\0';
		/* "Contents/MacOS/utmctl/" and "./Contents/..." name the same component. */
		while (len > 0 && rels[n][len - 1] == '/')
			rels[n][--len] = '\0';
		ents[n].rel = strncmp(rels[n], "./", 2) ? rels[n] : rels[n] + 2;
		ents[n].data = NULL;
		ents[n].len = 0;
		if (strcmp(eq + 1, "-"))
			rc = read_opt_file(eq + 1, &ents[n].data, &ents[n].len);
	}
	struct cs_bsign_opts bo = { .sign = *o, .nested = a->nested, .ents = ents, .nents = n,
				    .progress = bundle_progress };
	struct cs_bsign_report rep;
	memset(&rep, 0, sizeof(rep));
	if (!rc)
		rc = cs_bsign_bundle(a->file, &bo, &rep);
	for (size_t i = 0; i < n; i++)
		free((void *)ents[i].data);
	if (!rc)
		printf("%s: signed %zu component%s\n", a->file, rep.n, rep.n == 1 ? "" : "s");
	cs_bsign_report_release(&rep);
	return rc;
}

int cmd_sign(int argc, char **argv)
{
	static struct sign_args a;
	memset(&a, 0, sizeof(a));
	int rc = parse(argc, argv, &a);
	if (rc)
		return rc == 1 ? EXIT_OK : rc;
	struct cs_identity *id = NULL;
	struct cs_trust trust = { 0 };
	const uint8_t *ent = NULL, *info = NULL, *res = NULL;
	rc = read_opt_file(a.entitlements, &ent, &a.o.entitlements_len);
	if (!rc)
		rc = read_opt_file(a.info, &info, &a.o.info_plist_len);
	if (!rc)
		rc = read_opt_file(a.resources, &res, &a.o.resources_len);
	if (!rc && (rc = load_identity(&a, &id, &trust)) != 0 && rc == UT_EINVAL)
		rc = UT_ECRYPTO; /* a wrong password or unusable identity: could not do it, not a usage error */
	static struct cs_sign_report rep;
	if (!rc) {
		a.o.entitlements = ent;
		a.o.info_plist = info;
		a.o.resources = res;
		a.o.identity = id;
		rc = a.bundle ? sign_bundle(&a, &a.o) : cs_sign_file(a.file, a.out, &a.o, &rep);
	}
	free((void *)ent);
	free((void *)info);
	free((void *)res);
	free((void *)trust.anchors);
	cs_identity_free(id);
	if (rc)
		return cmd_fail(rc);
	if (!a.bundle)
		print_report(a.out ? a.out : a.file, &rep);
	return cmd_finish(EXIT_OK);
}
