/*
 * test_audit_cli.c - `utmpatch audit`: for every Mach-O of the corpus, the
 * codesign -dvvv-style fields equal what MANIFEST.tsv recorded for each slice
 * (identifier, CodeDirectory version and flags, page and special-slot counts,
 * hash types, signature kind and size, first authority, times, team, runtime
 * version, requirements, entitlements, Info.plist binding, Format); --json
 * validates against docs/schemas/audit.schema.json (python3 jsonschema); the
 * input is never written.
 */
#define _DEFAULT_SOURCE
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmanifest.h"
#include "tsupport.h"

/* The value of "Key=" in a block of text (first match), copied into out; 0 when absent. */
static int field(const char *block, const char *key, char *out, size_t n)
{
	size_t kl = strlen(key);
	for (const char *l = block; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		if (strncmp(l, key, kl) == 0) {
			size_t len = strcspn(l + kl, "\n");
			snprintf(out, n, "%.*s", (int)len, l + kl);
			return 1;
		}
		if (strncmp(l, "Architecture=", 13) == 0 && l != block)
			break;
	}
	return 0;
}

static const char *flags_text(const char *w)
{
	if (strcmp(w, "none") == 0)
		return "0x0(none)";
	if (strcmp(w, "runtime") == 0)
		return "0x10000(runtime)";
	if (strcmp(w, "adhoc") == 0)
		return "0x2(adhoc)";
	if (strcmp(w, "adhoc+runtime") == 0)
		return "0x10002(adhoc,runtime)";
	if (strcmp(w, "adhoc+linker-signed") == 0)
		return "0x20002(adhoc,linker-signed)";
	return "?";
}

/* nSpecialSlots as codesign builds it: the highest slot filled (requirements 2, resources 3, entitlements 5/7). */
static unsigned special_count(const struct tm_slice *m)
{
	char slots[160];
	snprintf(slots, sizeof(slots), ",%s,", m->slots);
	unsigned n = 0;
	if (strstr(m->cd[0].specials, "info-bound"))
		n = 1;
	if (strstr(slots, ",req,"))
		n = 2;
	if (strstr(m->cd[0].specials, "res-bound"))
		n = 3;
	if (strstr(slots, ",ent,"))
		n = 5;
	if (strstr(slots, ",entDER,"))
		n = 7;
	return n;
}

/* codesign lists universal architectures in cputype order. */
static unsigned long cputype_of(const char *arch)
{
	static const struct {
		const char *a;
		unsigned long t;
	} t[] = { { "i386", 7 }, { "arm", 12 }, { "ppc", 18 }, { "x86_64", 0x1000007 }, { "arm64", 0x100000c },
		  { "arm64e", 0x100000c } };
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(arch, t[i].a) == 0)
			return t[i].t;
	return 0;
}

static void expected_format(const struct tm_entry *e, char *out, size_t n)
{
	unsigned order[TM_MAX_SLICES];
	for (unsigned i = 0; i < e->nslices; i++) {
		unsigned j = i;
		for (; j > 0 && cputype_of(e->s[order[j - 1]].arch) > cputype_of(e->s[i].arch); j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	size_t used = (size_t)snprintf(out, n, "Mach-O %s (", e->nslices > 1 ? "universal" : "thin");
	for (unsigned i = 0; i < e->nslices; i++)
		used += (size_t)snprintf(out + used, n - used, "%s%s", i ? " " : "", e->s[order[i]].arch);
	snprintf(out + used, n - used, ")");
}

/* The leaf's CN from MANIFEST's subject text: "CN = X," or "CN = \"X\",". */
static void leaf_cn(const char *signer, char *out, size_t n)
{
	const char *c = strstr(signer, "CN = ");
	out[0] = '\0';
	if (!c)
		return;
	c += 5;
	if (*c == '"')
		snprintf(out, n, "%.*s", (int)strcspn(c + 1, "\""), c + 1);
	else
		snprintf(out, n, "%.*s", (int)strcspn(c, ","), c);
}

static void check_block(const char *rel, const struct tm_slice *m, const char *b)
{
	char v[1024], want[1024];
	cr_assert(field(b, "Identifier=", v, sizeof(v)), "%s %s: no Identifier", rel, m->arch);
	cr_assert_str_eq(v, m->id, "%s %s", rel, m->arch);
	snprintf(want, sizeof(want), "v=%x size=", m->cd_version);
	cr_assert(field(b, "CodeDirectory ", v, sizeof(v)) && strncmp(v, want, strlen(want)) == 0, "%s %s: %s", rel,
		  m->arch, v);
	snprintf(want, sizeof(want), "flags=%s hashes=%u+%u location=embedded", flags_text(m->flags), m->cd[0].pages,
		 special_count(m));
	cr_assert(strstr(v, want), "%s %s: '%s' lacks '%s'", rel, m->arch, v, want);
	const char *best = strrchr(m->hashes, '/') ? strrchr(m->hashes, '/') + 1 : m->hashes;
	snprintf(want, sizeof(want), "%s size=%d", best, strcmp(best, "sha1") == 0 ? 20 : 32);
	cr_assert(field(b, "Hash type=", v, sizeof(v)) && strcmp(v, want) == 0, "%s %s: %s", rel, m->arch, v);
	char choices[64];
	snprintf(choices, sizeof(choices), "%s", m->hashes);
	for (char *p = choices; *p; p++)
		*p = *p == '/' ? ',' : *p;
	cr_assert(field(b, "Hash choices=", v, sizeof(v)) && strcmp(v, choices) == 0, "%s: %s", rel, v);
	for (char *h = strtok(choices, ","); h; h = strtok(NULL, ",")) {
		snprintf(want, sizeof(want), "CandidateCDHash %s=", h);
		cr_assert(field(b, want, v, sizeof(v)) && strlen(v) == 40, "%s %s: %s", rel, m->arch, want);
		snprintf(want, sizeof(want), "CandidateCDHashFull %s=", h);
		cr_assert(field(b, want, v, sizeof(v)) && strlen(v) == (strcmp(h, "sha1") == 0 ? 40u : 64u));
	}
	if (strstr(m->flags, "adhoc")) {
		cr_assert(field(b, "Signature=", v, sizeof(v)) && strcmp(v, "adhoc") == 0, "%s %s", rel, m->arch);
	} else if (m->cms < 0) {
		cr_assert(field(b, "Signature=", v, sizeof(v)) && strcmp(v, "none") == 0, "%s %s", rel, m->arch);
	} else {
		snprintf(want, sizeof(want), "%ld", m->cms);
		cr_assert(field(b, "Signature size=", v, sizeof(v)) && strcmp(v, want) == 0, "%s %s: %s", rel, m->arch, v);
		leaf_cn(m->signer, want, sizeof(want));
		cr_assert(field(b, "Authority=", v, sizeof(v)) && strcmp(v, want) == 0, "%s %s: '%s' vs '%s'", rel, m->arch,
			  v, want);
		int ts = strstr(m->cms_attrs, "timestamp") != NULL, st = strstr(m->cms_attrs, "signingTime") != NULL;
		cr_assert_eq(field(b, "Timestamp=", v, sizeof(v)), ts, "%s %s", rel, m->arch);
		cr_assert_eq(field(b, "Signed Time=", v, sizeof(v)), st && !ts, "%s %s", rel, m->arch);
	}
	cr_assert(field(b, "TeamIdentifier=", v, sizeof(v)));
	cr_assert_str_eq(v, m->team[0] ? m->team : "not set", "%s %s", rel, m->arch);
	if (m->has_rt) {
		snprintf(want, sizeof(want), "%u.%u.%u", m->rt >> 16, (m->rt >> 8) & 0xff, m->rt & 0xff);
		cr_assert(field(b, "Runtime Version=", v, sizeof(v)) && strcmp(v, want) == 0, "%s: %s", rel, v);
	} else {
		cr_assert(!field(b, "Runtime Version=", v, sizeof(v)), "%s", rel);
	}
	char slots[160];
	snprintf(slots, sizeof(slots), ",%s,", m->slots);
	if (strstr(slots, ",req,"))
		cr_assert(field(b, "Internal requirements count=", v, sizeof(v)), "%s", rel);
	else
		cr_assert(field(b, "Internal requirements=", v, sizeof(v)) && strcmp(v, "none") == 0, "%s", rel);
	int x = strstr(slots, ",ent,") != NULL, d = strstr(slots, ",entDER,") != NULL;
	cr_assert(field(b, "Entitlements=", v, sizeof(v)));
	cr_assert_str_eq(v, x && d ? "XML and DER blobs" : x ? "XML blob" : d ? "DER blob" : "none", "%s", rel);
	cr_assert(field(b, "Info.plist", v, sizeof(v)));
	cr_assert_str_eq(v, strstr(m->cd[0].specials, "info-bound") ? "=bound, not available (not a bundle)" : "=not bound",
			 "%s %s", rel, m->arch);
}

Test(audit_cli, fields_equal_the_manifest_for_every_corpus_file, .timeout = 180)
{
	struct tm_entry *m;
	size_t n;
	cr_assert_eq(tm_load(ts_corpus("MANIFEST.tsv"), &m, &n), 0);
	unsigned slices = 0;
	for (size_t i = 0; i < n; i++) {
		char *argv[] = { (char *)ts_bin(), "audit", (char *)ts_corpus(m[i].path), NULL };
		char *out = NULL, *err = NULL;
		int rc = ts_run(argv, &out, &err);
		cr_assert(rc == 0 || rc == 1, "%s: exit %d %s", m[i].path, rc, err);
		char v[512], want[512];
		cr_assert(field(out, "Format=", v, sizeof(v)));
		expected_format(&m[i], want, sizeof(want));
		cr_assert_str_eq(v, want, "%s", m[i].path);
		const char *b = out;
		for (unsigned s = 0; s < m[i].nslices; s++) {
			if (m[i].nslices > 1) {
				snprintf(want, sizeof(want), "Architecture=%s\n", m[i].s[s].arch);
				b = strstr(b, want);
				cr_assert_not_null(b, "%s: no block for %s", m[i].path, m[i].s[s].arch);
			}
			if (m[i].s[s].ncd && !m[i].s[s].sigerr) {
				check_block(m[i].path, &m[i].s[s], b);
				slices++;
			} else {
				cr_assert(!field(b, "Identifier=", v, sizeof(v)), "%s", m[i].path);
			}
			cr_assert(field(b, "Verdict=", v, sizeof(v)));
			const struct tm_slice *sl = &m[i].s[s];
			int valid = sl->ncd > 0 && !sl->sigerr && (strstr(sl->flags, "adhoc") || sl->cms_sig_ok);
			for (unsigned c = 0; c < sl->ncd; c++)
				valid &= sl->cd[c].pages_ok == sl->cd[c].pages;
			cr_assert_eq(strcmp(v, "valid") == 0, valid, "%s %s: %s", m[i].path, sl->arch, v);
			if (m[i].nslices > 1)
				b++;
		}
		free(out);
		free(err);
	}
	cr_assert_eq(slices, 33, "%u slices", slices);
	free(m);
}

/* codesign -d's own lines for a linker-signed file (lld), checked against the CD bytes by llvm-otool. */
Test(audit_cli, linker_signed_fixture_lines)
{
	char *argv[] = { (char *)ts_bin(), "audit", (char *)ts_fixture("arm64-exe"), NULL };
	char *out = NULL;
	cr_assert_eq(ts_run(argv, &out, NULL), 0);
	cr_assert(strstr(out, "Identifier=arm64-exe\nFormat=Mach-O thin (arm64)\nCodeDirectory v=20400 size="), "%s", out);
	cr_assert(strstr(out, "flags=0x20002(adhoc,linker-signed) hashes="), "%s", out);
	cr_assert(strstr(out, "+0 location=embedded\n"), "%s", out);
	cr_assert(strstr(out, "Signature=adhoc\n"), "%s", out);
	cr_assert(strstr(out, "Internal requirements=none\n"), "%s", out);
	cr_assert(strstr(out, "Executable Segment flags=0x1\n"), "%s", out);
	cr_assert(strstr(out, "Page size=4096\n"), "%s", out);
	free(out);
}

static void validate_json(const char *file, int want_rc)
{
	char cmd[4096];
	snprintf(cmd, sizeof(cmd),
		 "'%s' audit '%s' --json > \"$TMPDIR_AUDIT/a.json\"; echo $? > \"$TMPDIR_AUDIT/rc\"; "
		 "/usr/bin/python3 -c 'import json,sys,jsonschema; s=json.load(open(sys.argv[1])); "
		 "d=json.load(open(sys.argv[2])); jsonschema.validate(d, s, cls=jsonschema.Draft202012Validator); "
		 "rc=int(open(sys.argv[3]).read()); assert d[\"valid\"] == (rc == 0), rc' '%s' \"$TMPDIR_AUDIT/a.json\" "
		 "\"$TMPDIR_AUDIT/rc\" && exit $(cat \"$TMPDIR_AUDIT/rc\")",
		 ts_bin(), file, ts_root("docs/schemas/audit.schema.json"));
	char *err = NULL;
	int rc = ts_sh(cmd, NULL, &err);
	cr_assert_eq(rc, want_rc, "%s: exit %d: %s", file, rc, err);
	free(err);
}

Test(audit_cli, json_validates_against_the_schema, .timeout = 180)
{
	char *dir = ts_tmpdir();
	setenv("TMPDIR_AUDIT", dir, 1);
	struct tm_entry *m;
	size_t n;
	cr_assert_eq(tm_load(ts_corpus("MANIFEST.tsv"), &m, &n), 0);
	for (size_t i = 0; i < n; i++) {
		int valid = 1;
		for (unsigned s = 0; s < m[i].nslices; s++)
			valid &= m[i].s[s].ncd > 0 && !strstr(m[i].path, "odd/");
		validate_json(ts_corpus(m[i].path), valid ? 0 : 1);
	}
	free(m);
	static const char *const fx[] = { "arm64-exe", "fat-exe", "arm64e-exe", "qemu-arm64.dylib", NULL };
	for (int i = 0; fx[i]; i++)
		validate_json(ts_fixture(fx[i]), strcmp(fx[i], "fat-exe") == 0 ? 1 : 0);
	validate_json(ts_root("signing/fuzz/seeds/macho-devid-test-pki-agile"), 0);
	ts_rmtree(dir);
	free(dir);
}

Test(audit_cli, reads_only_and_exit_statuses)
{
	char *dir = ts_tmpdir();
	char *copy = ts_path(dir, "exe");
	cr_assert_eq(ts_copy(ts_corpus("ios/MASTestApp"), copy), 0);
	char before[65], after[65];
	cr_assert_eq(ts_sha256_file(copy, before), 0);
	char *argv[] = { (char *)ts_bin(), "audit", copy, NULL };
	char *out = NULL, *err = NULL;
	cr_assert_eq(ts_run(argv, &out, NULL), 0);
	cr_assert(strstr(out, "Entitlements=XML and DER blobs\n<?xml"), "%s", out);
	free(out);
	cr_assert_eq(ts_sha256_file(copy, after), 0);
	cr_assert_str_eq(before, after);
	char *ls = NULL;
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "ls -A '%s'", dir);
	cr_assert_eq(ts_sh(cmd, &ls, NULL), 0);
	cr_assert_str_eq(ls, "exe\n");
	free(ls);
	char *bad[] = { (char *)ts_bin(), "audit", (char *)ts_root("README.md"), NULL };
	cr_assert_eq(ts_run(bad, &out, &err), 3);
	cr_assert_str_empty(out);
	cr_assert(strstr(err, "not a Mach-O"), "%s", err);
	free(out);
	free(err);
	char *usage[] = { (char *)ts_bin(), "audit", "--bogus", NULL };
	cr_assert_eq(ts_run(usage, NULL, NULL), 2);
	char *help[] = { (char *)ts_bin(), "audit", "-h", NULL };
	cr_assert_eq(ts_run(help, &out, NULL), 0);
	cr_assert(strstr(out, "usage: utmpatch audit FILE"));
	free(out);
	ts_rmtree(dir);
	free(dir);
}
