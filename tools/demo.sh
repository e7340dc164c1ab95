#!/bin/sh
# demo.sh BUILD - the utmpatch story on BUILD/demo/UTM.app (a stand-in for the
# official, Developer-ID-signed UTM 5.0.3; `make demo-bundle`).
#
# A user built their own QEMU against UTM's sysroot: the dylib carries absolute
# sysroot install names and a linker signature.  utmpatch plans the install
# (--dry-run), installs it (install names, load check, signing closure,
# entitlements, one journaled transaction), the result is audited and verified
# deep+strict, `status` says what was done, vmcheck finds and fixes the VMs
# that need vmnet, the CI gate (`verify --app --vms`) passes, and `rollback`
# returns the bundle to its pristine bytes - which the demo checks byte for
# byte.
#
# The demo bundle is signed with a TEST-ONLY Developer ID (testdata/keys), so
# verifying it needs that test root as an anchor (--anchors); a real UTM.app
# chains to Apple's roots, which utmpatch knows.
set -eu
build=${1:-build}
root=$(pwd)
bin=$root/$build/utmpatch
app=$root/$build/demo/UTM.app
anchors=$root/testdata/keys/roots.tsv
work=$(mktemp -d "${TMPDIR:-/tmp}/utmpatch-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
state=$work/state
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" | sed "s|$work|\$WORK|g; s|$root/||g"; "$@"; }
show() { sed "s|$work|\$WORK|g; s|$root/||g"; }

if [ ! -d "$app" ]; then
	say "0. Building the demo UTM.app (make demo-bundle)"
	sh testdata/demo/build-demo.sh "$build/demo"
fi

# A snapshot of every path, kind, mode, symlink target and file hash.
snapshot() {
	(cd "$1" && find . -printf '%p %y %m %l\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}
snapshot "$app" >"$work/before"
cp -a "$app" "$work/pristine.app"

say "1. A custom QEMU built against UTM's sysroot (absolute install names, arm64 only)"
recipes=$root/testdata/recipes
(
	cd "$work"
	# shellcheck source=testdata/recipes/common.sh
	. "$recipes/common.sh"
	sr=/Users/x/UTM/sysroot-macOS-arm64/lib
	build_stubs arm64 obj sysroot/lib >/dev/null
	cc arm64 "$src/qemu.c" obj/qemu.o
	# shellcheck disable=SC2046
	link arm64 libqemu-aarch64-softmmu.dylib -dylib -install_name "$sr/libqemu-aarch64-softmmu.dylib" \
		-current_version 10.0.3 -compatibility_version 1.0.0 -headerpad_max_install_names obj/qemu.o \
		$(stub_paths sysroot/lib)
)
dylib=$work/libqemu-aarch64-softmmu.dylib
run "$bin" macho deps "$dylib" | show | head -6
echo "	..."

say "2. The plan (--dry-run): install names, slices, load check, signing closure, entitlements, files"
run "$bin" install "$dylib" --app "$app" --state-dir "$state" --sysroot "$work/sysroot/lib" \
	--allow-missing-arch --anchors "$anchors" --dry-run | show
snapshot "$app" >"$work/after-dry-run"
cmp -s "$work/before" "$work/after-dry-run" && echo "(the bundle is unchanged after the dry run)"

say "3. Install"
run "$bin" install "$dylib" --app "$app" --state-dir "$state" --allow-missing-arch --anchors "$anchors" |
	show | sed -n '/^files changed/,$p'

say "4. Audit: every Mach-O of the bundle, its signature and verdict"
run "$bin" audit "$app" --anchors "$anchors" | show | cut -c1-160

say "5. Verify --deep --strict"
run "$bin" verify --deep --strict --anchors "$anchors" "$app" | show

say "6. What QEMULauncher now carries (pristine set - vm.networking + disable-library-validation)"
run "$bin" entitlements --app "$app" | show | sed -n '/^QEMULauncher.app/,/^$/p'

say "7. Status"
run "$bin" status --app "$app" --state-dir "$state" | show

say "8. The VMs: vmnet needs com.apple.vm.networking, which the ad-hoc launcher no longer has"
vms=$work/vms
mkdir -p "$vms"
cp -R "$root/testdata/vmconfigs/qemu-v4-shared.utm" "$root/testdata/vmconfigs/qemu-v4-emulated.utm" \
	"$root/testdata/vmconfigs/apple-v4-bridged.utm" "$vms/"
run "$bin" vmcheck "$vms" | show || true
run "$bin" vmcheck --fix "$vms" --state-dir "$state" | show | grep -E '^[^ ]|changed|backup'

say "9. The CI gate: the bundle and the VMs, as JUnit for a pipeline"
run "$bin" verify --app "$app" --vms "$vms" --anchors "$anchors" | show | grep -v '^PASS'
run "$bin" verify --app "$app" --vms "$vms" --anchors "$anchors" --format junit -o "$work/verify.xml" 2>&1 | show
if command -v xmllint >/dev/null 2>&1; then
	xmllint --noout --schema "$root/testdata/junit/junit.xsd" "$work/verify.xml" 2>&1 | show
fi

say "10. Rollback"
run "$bin" rollback --app "$app" --state-dir "$state" | show

say "11. Byte for byte"
snapshot "$app" >"$work/after"
if cmp -s "$work/before" "$work/after" && diff -r "$work/pristine.app" "$app" >/dev/null; then
	echo "UTM.app is byte-identical to before the install: $(wc -l <"$work/after") paths and hashes, diff -r clean"
else
	echo "demo: the rollback is NOT byte-identical" >&2
	diff "$work/before" "$work/after" | head -20 >&2
	exit 1
fi
run "$bin" status --app "$app" --state-dir "$state" | show
