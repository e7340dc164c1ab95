#!/bin/sh
# build-loadres.sh OUTDIR - extra inputs for the load check tests
# (machotools/tests/test_resolve*.c), written to OUTDIR/loadres.  Needs the
# stubs build-fixtures.sh puts in OUTDIR/stubs-<arch> (it calls this script
# last).  Every output is universal (arm64 + x86_64) like UTM's frameworks:
#   QEMULauncher            MH_EXECUTE (src/main.c), LC_RPATH
#                           @executable_path/../../../../../../../Frameworks (UTM's)
#   libpixman-nounref.dylib pixman stub exporting only pixman_image_create_bits
#   libjpeg-0.9.dylib       jpeg stub, current/compatibility version 0.9.0
#   libumbrella.dylib       exports umbrella_version, re-exports stubs-<arch>/libintl.8.dylib
#   libumbrella-plain.dylib the same without the re-export
# The tests give them UTM's install names with `utmpatch macho edit`.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: build-loadres.sh OUTDIR" >&2
	exit 2
fi
recipes=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=testdata/recipes/common.sh
. "$recipes/common.sh"
top=$(cd "$1" && pwd)
out=$top/loadres
tmp=$out/.tmp-build
rm -rf "$out"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

for a in arm64 x86_64; do
	o=$tmp/$a
	mkdir -p "$o"
	root=$(sysroot "$a")
	cc "$a" "$src/main.c" "$o/main.o"
	link "$a" "$o/QEMULauncher" -rpath @executable_path/../../../../../../../Frameworks "$o/main.o"

	cc "$a" "$src/stub1.c" "$o/pixman.o" -DSTUB_F1=pixman_image_create_bits
	link "$a" "$o/libpixman-nounref.dylib" -dylib -install_name "$root/libpixman-1.0.dylib" \
		-current_version 1.0.0 -compatibility_version 1.0.0 "$o/pixman.o"

	cc "$a" "$src/stub.c" "$o/jpeg.o" -DSTUB_F1=jpeg_CreateCompress -DSTUB_F2=jpeg_finish_compress
	link "$a" "$o/libjpeg-0.9.dylib" -dylib -install_name "$root/libjpeg.62.dylib" \
		-current_version 0.9.0 -compatibility_version 0.9.0 "$o/jpeg.o"

	cc "$a" "$src/stub1.c" "$o/umbrella.o" -DSTUB_F1=umbrella_version
	link "$a" "$o/libumbrella.dylib" -dylib -install_name "$root/libumbrella.dylib" \
		-current_version 1.0.0 -compatibility_version 1.0.0 "$o/umbrella.o" \
		-reexport_library "$top/stubs-$a/libintl.8.dylib"
	link "$a" "$o/libumbrella-plain.dylib" -dylib -install_name "$root/libumbrella.dylib" \
		-current_version 1.0.0 -compatibility_version 1.0.0 "$o/umbrella.o"
done

for f in QEMULauncher libpixman-nounref.dylib libjpeg-0.9.dylib libumbrella.dylib libumbrella-plain.dylib; do
	"$LIPO" -create "$tmp/arm64/$f" "$tmp/x86_64/$f" -output "$out/$f"
done
