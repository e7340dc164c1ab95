#!/bin/sh
# build-fixtures.sh OUTDIR - builds the Mach-O test fixtures listed in
# testdata/MANIFEST.md from testdata/recipes/src with clang-14 + ld64.lld-14 +
# llvm-lipo-14 (no Apple SDK needed).  Idempotent and deterministic: running it
# twice gives byte-identical files.  Called by `make fixtures` (build/fixtures).
set -eu

if [ $# -ne 1 ]; then
	echo "usage: build-fixtures.sh OUTDIR" >&2
	exit 2
fi
recipes=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=testdata/recipes/common.sh
. "$recipes/common.sh"
patch() {
	"$PYTHON" "$recipes/patch-macho.py" "$@"
}

mkdir -p "$1"
cd "$1"
tmp=.tmp-build
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

LC_LOAD_UPWARD_DYLIB=0x80000023
LC_REEXPORT_DYLIB=0x8000001f
MH_NO_REEXPORTED_DYLIBS=0x100000
LC_LAZY_LOAD_DYLIB=0x20
CPU_SUBTYPE_ARM64E_PTRAUTH=0x80000002

# link_deps ARCH OUT - dylib importing from all 14 stubs (+ libSystem): libusb
# weak (-weak_library), libintl re-exported and libgmodule upward.  Those two
# are patched in after linking: lld-14 has no -upward_library, and its
# -reexport_library emits the library twice (an LC_LOAD_DYLIB plus an
# LC_REEXPORT_DYLIB with versions 0.0.0), which Apple's ld64 never does.
link_deps() {
	# shellcheck disable=SC2046
	link "$1" "$2" -dylib -install_name "$(sysroot "$1")/libdeps.dylib" \
		-current_version 2.0.0 -compatibility_version 2.0.0 "$tmp/$1/deps.o" \
		$(stub_paths "stubs-$1" usb-1.0.0) -weak_library "stubs-$1/libusb-1.0.0.dylib"
	patch "$2" "$2" dylib-cmd libgmodule-2.0.0 $LC_LOAD_UPWARD_DYLIB \
		dylib-cmd libintl.8 $LC_REEXPORT_DYLIB clear-flags $MH_NO_REEXPORTED_DYLIBS
}

for a in arm64 x86_64; do
	o=$tmp/$a
	mkdir -p "$o"
	root=$(sysroot "$a")
	for s in main foo bundle deps qemu; do
		cc "$a" "$src/$s.c" "$o/$s.o"
	done

	# The 14 stand-in dependencies, shipped too so load resolution can follow them.
	build_stubs "$a" "$o" "stubs-$a"

	# Executable: two rpaths; arm64 is linker-signed (lld default), x86_64 unsigned.
	link "$a" "$a-exe" -rpath @executable_path/../Frameworks -rpath @loader_path/../lib "$o/main.o"

	# Dylib with an absolute sysroot install name and versions.
	dylib_flags="-dylib -install_name $root/libfoo.1.dylib -current_version 1.2.3 -compatibility_version 1.0.0"
	# shellcheck disable=SC2086
	link "$a" "$a-dylib" $dylib_flags "$o/foo.o"
	# Same, with no header padding at all (-headerpad 0): a 64-char rpath cannot fit.
	# shellcheck disable=SC2086
	link "$a" "$a-tight" $dylib_flags -headerpad 0 "$o/foo.o"

	# Dylib depending on all 14 stubs + libSystem, one of each dependency kind.
	link_deps "$a" "$a-deps"
	# The same, unpatched (LC_LOAD_DYLIB + one LC_LOAD_WEAK_DYLIB only):
	# llvm-objcopy-14 / llvm-install-name-tool-14 refuse LC_REEXPORT_DYLIB,
	# LC_LOAD_UPWARD_DYLIB and LC_LAZY_LOAD_DYLIB, so edit oracles use this one.
	# shellcheck disable=SC2046
	link "$a" "$a-deps-plain" -dylib -install_name "$root/libdeps.dylib" \
		-current_version 2.0.0 -compatibility_version 2.0.0 "$o/deps.o" \
		$(stub_paths "stubs-$a" usb-1.0.0) -weak_library "stubs-$a/libusb-1.0.0.dylib"

	# Custom QEMU: qemu_* exports, imports from every stub.  Like meson-built
	# QEMU it is linked with -headerpad_max_install_names.
	# shellcheck disable=SC2046
	link "$a" "qemu-$a.dylib" -dylib -install_name "$root/libqemu-aarch64-softmmu.dylib" \
		-current_version 8.2.0 -compatibility_version 1.0.0 -headerpad_max_install_names \
		"$o/qemu.o" $(stub_paths "stubs-$a")
done

o=$tmp/arm64
root=$(sysroot arm64)
link arm64 arm64-bundle -bundle "$o/bundle.o"
link arm64 arm64-roomy -dylib -install_name "$root/libfoo.1.dylib" \
	-current_version 1.2.3 -compatibility_version 1.0.0 -headerpad 0x4000 "$o/foo.o"

# arm64-lazy: the deps dylib linked under its own name (the linker signature's
# identifier is the output name), then libjpeg's LC_LOAD_DYLIB -> LC_LAZY_LOAD_DYLIB.
link_deps arm64 arm64-lazy
patch arm64-lazy arm64-lazy dylib-cmd libjpeg.62 $LC_LAZY_LOAD_DYLIB

# arm64e: clang-14 emits arm64e objects; lld-14 links them but writes
# cpusubtype ARM64_ALL, so the header gets CPU_SUBTYPE_ARM64E|PTRAUTH_ABI.
cc arm64e "$src/main.c" "$tmp/main-arm64e.o"
link arm64e arm64e-exe -rpath @executable_path/../Frameworks -rpath @loader_path/../lib \
	"$tmp/main-arm64e.o"
patch arm64e-exe arm64e-exe cpusubtype $CPU_SUBTYPE_ARM64E_PTRAUTH

# Universal files.
"$LIPO" -create arm64-dylib x86_64-dylib -output fat-dylib
"$LIPO" -create arm64-exe x86_64-exe -output fat-exe
"$LIPO" -create arm64-deps x86_64-deps -output fat-deps
"$LIPO" -create arm64-deps-plain x86_64-deps-plain -output fat-deps-plain
"$LIPO" -create qemu-arm64.dylib qemu-x86_64.dylib -output qemu-fat.dylib
"$LIPO" -create arm64-exe arm64e-exe x86_64-exe -output fat3-exe
sh "$recipes/build-loadres.sh" .
