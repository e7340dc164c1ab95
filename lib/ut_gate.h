/*
 * ut_gate.h - `utmpatch verify --app/--vms`: the CI gate.  One list of
 * checks, each about one component of UTM.app or one VM, each passed,
 * failed or skipped with the reasons; and the report as text, JSON
 * (docs/schemas/verify.schema.json) or JUnit XML.
 *
 * App checks (suite "app"), per component:
 *   signature     deep, strict verification (cs_bverify_bundle): every code
 *                 component of the bundle, as codesign --verify --deep --strict
 *   install-names every framework: no LC_ID_DYLIB, dependency or LC_RPATH that
 *                 is an absolute path outside /usr/lib and /System (a build
 *                 machine's sysroot left behind)
 *   load          every qemu-* framework: what dyld does when QEMULauncher
 *                 loads it, its bundled closure included (mo_load_check)
 *   entry-points  every qemu-* framework: what QEMULauncher looks up in it
 *   entitlements  every executable of UTM's profile: the entitlements UTM
 *                 requires there (hypervisor on QEMULauncher, virtualization
 *                 on UTM.app, ...), no restricted or Apple-only entitlement on
 *                 an ad-hoc signature, and no library-validation refusal
 * VM checks (suite "vms"), per VM: config (UTM would load it) and networking
 * (no NIC or argument needs com.apple.vm.networking; when the app was checked
 * first and the component that opens vmnet for the VM's backend carries the
 * entitlement under a certificate signature, vmnet NICs pass with a note).
 *
 * Nothing here prints.  A check that finds a problem is a finding, not an
 * error: the functions fail only when the checks cannot run (the bundle is
 * not a UTM.app, out of memory).
 */
#ifndef UT_GATE_H
#define UT_GATE_H

#include <stddef.h>

#include "cs_pki.h"
#include "ut_buf.h"
#include "ut_profiles.h"
#include "ut_vmconfig.h"

enum ut_gate_status { UT_GATE_PASS = 0, UT_GATE_FAIL, UT_GATE_SKIP };

struct ut_gate_check {
	const char *suite;      /* "app" or "vms" (static) */
	const char *check;      /* "signature", "install-names", ... (static) */
	char *component;        /* app: path inside UTM.app ("UTM.app" for the bundle itself); vms: the VM's name */
	char *path;             /* the file or directory on disk it is about */
	enum ut_gate_status status;
	char **messages;        /* FAIL: the findings; SKIP: why; PASS: notes (may be none) */
	size_t nmessages, cap;
};

struct ut_gate {
	char *app;              /* the UTM.app checked, or NULL */
	char *app_version;      /* CFBundleShortVersionString (build), or NULL */
	const char *host_arch;  /* the architecture the app was checked for (static) */
	struct ut_gate_check *v;
	size_t n, cap;
	const struct ut_vm_list *vms; /* borrowed: the VMs checked, or NULL */
	/* set by ut_gate_app: the component that opens vmnet carries com.apple.vm.networking under a
	   certificate signature (QEMU VMs: QEMULauncher; Apple VMs: UTM.app), so vmnet VMs work */
	const char *vmnet_by[3];      /* indexed by enum ut_vm_backend: that component's name, or NULL */
};

typedef void (*ut_gate_progress_fn)(void *ctx, const char *what, uint64_t done, uint64_t total);

struct ut_gate_app_opts {
	const char *app;                /* UTM.app */
	const struct ut_profiles *profiles;
	const struct cs_trust *trust;   /* extra anchors for signature chains; NULL: Apple's roots only */
	const char *host_arch;          /* "arm64" (default) or "x86_64": the Mac the bundle is for */
	ut_gate_progress_fn progress;   /* optional */
	void *progress_ctx;
};

void ut_gate_init(struct ut_gate *g);
void ut_gate_release(struct ut_gate *g);

/* Runs the app checks.  UT_ENOTFOUND / UT_EMALFORMED when app is not a UTM.app utmpatch can read. */
int ut_gate_app(struct ut_gate *g, const struct ut_gate_app_opts *o);
/* Adds config and networking checks for each VM of l (borrowed until ut_gate_release), and a failed check per registered VM that is missing. */
int ut_gate_vms(struct ut_gate *g, const struct ut_vm_list *l);

/* 0 when every check passed (or was skipped), 1 when one failed. */
int ut_gate_verdict(const struct ut_gate *g);
/* How many checks of suite (NULL: all) have status s. */
size_t ut_gate_count(const struct ut_gate *g, const char *suite, enum ut_gate_status s);

/* The report.  text: one line per check, the findings indented, a summary last; color: ANSI colors on the verdicts. */
int ut_gate_text(struct ut_buf *out, const struct ut_gate *g, int color);
/* JSON: docs/schemas/verify.schema.json. */
int ut_gate_json(struct ut_buf *out, const struct ut_gate *g);
/* JUnit XML (testdata/junit/junit.xsd): a testsuite per suite, a testcase per check. */
int ut_gate_junit(struct ut_buf *out, const struct ut_gate *g);

/* ---- internal, shared by ut_gate*.c ---- */
/* A new check (status PASS) appended to g; NULL on out of memory (error recorded). */
struct ut_gate_check *ut_gate_add(struct ut_gate *g, const char *suite, const char *check, const char *component,
				  const char *path);
/* Appends a message (printf format); FAIL / SKIP are set by ut_gate_fail / ut_gate_skip. */
int ut_gate_note(struct ut_gate_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ut_gate_fail(struct ut_gate_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ut_gate_skip(struct ut_gate_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *ut_gate_status_name(enum ut_gate_status s); /* "pass", "fail", "skip" */

#endif
