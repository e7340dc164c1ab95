#!/bin/sh
# demo.sh BUILD - the utmpatch story on what exists so far.
# Today: a user's QEMU dylib built against UTM's sysroot has absolute install
# names; utmpatch rewrites them to UTM's @rpath framework form, all slices at
# once, atomically, keeping the linker signature valid -- and refuses edits that
# do not fit instead of corrupting the file.
set -eu
build=${1:-build}
bin=$build/utmpatch
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

make -s fixtures
cp "$build/fixtures/qemu-fat.dylib" "$work/libqemu-aarch64-softmmu.dylib"
dylib=$work/libqemu-aarch64-softmmu.dylib

say "1. The custom QEMU build: universal, absolute sysroot install names"
run "$bin" macho deps "$dylib"

say "2. Rewrite every sysroot dependency to UTM's framework form and set UTM's id (one plan, all slices)"
set -- --id @rpath/qemu-aarch64-softmmu.framework/qemu-aarch64-softmmu
for arch in arm64 x86_64; do
	for n in $("$bin" macho deps "$dylib" | sed -n "s|^\t/Users/x/UTM/sysroot-macOS-$arch/lib/lib\([^ ]*\)\.dylib (.*|\1|p" | sort -u); do
		set -- "$@" --change "/Users/x/UTM/sysroot-macOS-$arch/lib/lib$n.dylib" "@rpath/$n.framework/Versions/A/$n"
	done
done
run "$bin" macho edit "$dylib" "$@"
run "$bin" macho deps "$dylib"

say "3. The arm64 linker signature was regenerated (identifier = file name), like llvm-install-name-tool"
"$bin" macho info "$dylib" | grep -E '^slice|signature:'

say "4. An edit that does not fit the header padding is refused, the file untouched"
cp "$build/fixtures/arm64-tight" "$work/tight"
before=$(sha256sum "$work/tight" | cut -d' ' -f1)
if "$bin" macho edit "$work/tight" --add-rpath "@executable_path/../../../../../../../Frameworks"; then
	echo "demo: expected a refusal" >&2; exit 1
fi
after=$(sha256sum "$work/tight" | cut -d' ' -f1)
[ "$before" = "$after" ] && echo "(input unchanged: sha256 $after)"

say "Next: signing, the demo UTM.app, install/rollback (see the issues)"
