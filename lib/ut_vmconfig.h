/*
 * ut_vmconfig.h - UTM virtual machine configs: networking check and fix.
 *
 * An ad-hoc re-signed UTM.app has no com.apple.vm.networking entitlement, so
 * every VM whose NICs use vmnet (QEMU Shared/Host/Bridged, Apple Bridged, or a
 * "-netdev vmnet-..." in the extra QEMU arguments) fails to start with
 * "cannot create vmnet interface".  This module reads a VM's config.plist
 * the way UTM's decoders do (docs/utm-domain.md §3: v4 QEMU and Apple, legacy
 * QEMU v<=2, legacy Apple v1..3), reports each NIC and the -netdev value UTM
 * would pass, and rewrites vmnet NICs to ones that work ad-hoc.
 *
 * Nothing here prints or reads the environment.  Every string in the structs
 * below is owned by the struct and freed with it.
 */
#ifndef UT_VMCONFIG_H
#define UT_VMCONFIG_H

#include <stddef.h>
#include <stdint.h>

enum ut_vm_backend { UT_VM_BACKEND_NONE = 0, UT_VM_BACKEND_QEMU, UT_VM_BACKEND_APPLE };

enum ut_vm_status {
	UT_VM_OK = 0,      /* loads, and no NIC or argument needs vmnet */
	UT_VM_VMNET = 1,   /* loads, but needs com.apple.vm.networking */
	UT_VM_INVALID = 2, /* UTM would refuse to load it (see problems) */
};

struct ut_vm_nic {
	unsigned index;    /* position in Network[] (legacy QEMU: 0) */
	char *mode;        /* as stored: "Shared", "bridged", ... */
	char *hardware;    /* QEMU NIC model; NULL for Apple VMs */
	char *mac_address; /* NULL when absent (legacy configs generate one) */
	char *netdev;      /* the -netdev value UTM passes, or the VZ attachment class */
	int vmnet;         /* 1 when it needs com.apple.vm.networking */
};

/* An extra QEMU argument (QEMU.AdditionalArguments, legacy System.AddArgs) that names vmnet. */
struct ut_vm_arg {
	unsigned index; /* position in the array (0 for a legacy single string) */
	char *value;    /* the stored string */
	char *netdev;   /* the vmnet value found in it, e.g. "vmnet-shared,id=n1" */
};

struct ut_vm_config {
	char *bundle;      /* the .utm directory */
	char *config_path; /* the config.plist read */
	char *name;        /* Information.Name, legacy "name", else the bundle name */
	char *uuid;        /* Information.UUID / System.SystemUUID; may be NULL */
	enum ut_vm_backend backend;
	int legacy;      /* pre-v4 schema (UTM migrates it in memory) */
	int has_version; /* version below is meaningful */
	int64_t version; /* ConfigurationVersion, or legacy Apple "version" */
	int format;      /* UT_PLIST_XML / UT_PLIST_BINARY, 0 when not a plist */
	enum ut_vm_status status;
	struct ut_vm_nic *nics;
	size_t nnics;
	struct ut_vm_arg *args;
	size_t nargs;
	char **problems; /* why it is vmnet or invalid, one line each */
	size_t nproblems;
	char **notes; /* facts worth knowing that change nothing (ignored port forwards, ...) */
	size_t nnotes;
};

/*
 * Parses config.plist bytes.  bundle names the VM directory (name fallback,
 * messages).  A config UTM would not load is not an error: it comes back with
 * status UT_VM_INVALID and the reasons in problems.  Fails only with UT_ENOMEM.
 * The caller owns *out (ut_vmconfig_free).
 */
int ut_vmconfig_parse(struct ut_vm_config **out, const void *p, size_t len, const char *bundle);
/*
 * Reads and parses config_path (NULL: "<bundle>/config.plist").  A missing or
 * unreadable file gives status UT_VM_INVALID.  Fails only with UT_ENOMEM.
 */
int ut_vmconfig_load(struct ut_vm_config **out, const char *bundle, const char *config_path);
void ut_vmconfig_free(struct ut_vm_config *vm);

const char *ut_vm_status_name(enum ut_vm_status s);   /* "ok", "vmnet", "invalid" */
const char *ut_vm_backend_name(enum ut_vm_backend b); /* "QEMU", "Apple", NULL */

/* ---- finding VMs ---- */

struct ut_vm_missing {
	char *path;   /* a registered VM that is not there */
	char *source; /* "Registry" or "VMList" */
};

struct ut_vm_list {
	struct ut_vm_config **vms;
	size_t n;
	struct ut_vm_missing *missing;
	size_t nmissing;
};

void ut_vm_list_init(struct ut_vm_list *l);
void ut_vm_list_release(struct ut_vm_list *l);
/*
 * Adds the VMs at path: a VM bundle (a *.utm directory, or any directory with
 * a config.plist), a config file, or a directory holding *.utm bundles (not
 * recursive; sorted by name).  A VM already in the list is skipped.
 * UT_ENOTFOUND when path does not exist.
 */
int ut_vm_list_add_path(struct ut_vm_list *l, const char *path);
/*
 * Adds UTM's own VMs for the user whose home directory is home: the sandbox
 * Documents folder and the VMs registered in UTM's preferences (Registry
 * entries' Package.Path, legacy VMList).  Registered paths that do not exist
 * go to l->missing.  A missing folder or preferences file is not an error.
 */
int ut_vm_list_add_defaults(struct ut_vm_list *l, const char *home);

/* UTM's paths under a home directory (for messages and tests); caller frees. */
char *ut_vm_documents_dir(const char *home);
char *ut_vm_preferences_path(const char *home);

/* Sets *running to 1 when UTM.app is running (macOS); always 0 elsewhere. */
int ut_vm_utm_running(int *running);

/* ---- fixing ---- */

struct ut_vm_fix {
	char **changes; /* what was (or would be) changed, one line each */
	size_t nchanges;
	uint8_t *out; /* the rewritten config, same format; NULL when nothing changes */
	size_t outlen;
};

/*
 * Plans the fix of config bytes: vmnet NICs become Emulated (Apple: Bridged
 * becomes Shared), BridgeInterface / HostNetUuid / NetworkBridgeInterface /
 * bridgeInterfaceIdentifier of those NICs are dropped, and vmnet netdevs in
 * the extra QEMU arguments are removed (or become "user" when a -device still
 * uses them).  Every other key and value is kept, and so are the schema
 * (legacy stays legacy) and the format (XML or binary).  The result is parsed
 * again and must be status ok.  UT_EREFUSED when the config is invalid.
 */
int ut_vmconfig_fix_bytes(struct ut_vm_fix *fix, const void *p, size_t len, const char *bundle);
void ut_vm_fix_release(struct ut_vm_fix *fix);

struct ut_vm_fix_opts {
	const char *state_dir; /* backups go to <state_dir>/vmcheck-backups/ */
	int64_t now;           /* UTC seconds, names the backup */
	int dry_run;           /* plan only: no backup, no write */
};

struct ut_vm_fix_result {
	struct ut_vm_fix fix;
	char *backup_dir; /* where the original went; NULL when nothing was written */
	int written;      /* 1 when config.plist was replaced */
};

/*
 * Fixes vm->config_path: plans the fix, copies the original to
 * <state_dir>/vmcheck-backups/<timestamp>-<bundle name>/config.plist with a
 * manifest.json (original path, size, sha256), then replaces the config
 * atomically (same mode).  Refuses invalid configs (UT_EREFUSED), symlinked
 * configs, and a config that changed since it was read (UT_EBUSY).
 */
int ut_vmconfig_fix_file(struct ut_vm_fix_result *res, const struct ut_vm_config *vm,
			 const struct ut_vm_fix_opts *o);
void ut_vm_fix_result_release(struct ut_vm_fix_result *res);

#endif
