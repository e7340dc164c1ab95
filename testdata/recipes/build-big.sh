#!/bin/sh
# build-big.sh OUT SIZE_MIB - a large universal (arm64 + x86_64) "custom QEMU"
# dylib of about SIZE_MIB MiB for benchmarks: qemu.c plus a pseudo-random blob
# in __TEXT,__const, importing from the 14 stub dependencies, arm64 slice
# linker-signed.  Deterministic: the blob is AES-128-CTR of zeros under a fixed
# key (a different IV per arch), so the same SIZE_MIB gives the same bytes.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: build-big.sh OUT SIZE_MIB" >&2
	exit 2
fi
out=$1
mib=$2
case $mib in
'' | *[!0-9]*) echo "build-big: SIZE_MIB must be a whole number" >&2; exit 2 ;;
esac
recipes=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=testdata/recipes/common.sh
. "$recipes/common.sh"
OPENSSL=${OPENSSL:-$(pick openssl)} || { echo "build-big: openssl not found" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/utmpatch-big.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# Each slice carries half the size, less ~128 KiB for code, links and signature,
# in whole 64 KiB blocks.
blocks=$((mib * 8 - 2))
[ $blocks -ge 0 ] || blocks=0
key=000102030405060708090a0b0c0d0e0f
for a in arm64 x86_64; do
	o=$tmp/$a
	mkdir -p "$o"
	case $a in
	arm64) iv=00000000000000000000000000000001 ;;
	*) iv=00000000000000000000000000000002 ;;
	esac
	dd if=/dev/zero bs=65536 count=$blocks 2>/dev/null |
		"$OPENSSL" enc -aes-128-ctr -K $key -iv $iv -nosalt >"$o/blob.bin"
	build_stubs "$a" "$o" "$o/stubs"
	cc "$a" "$src/qemu.c" "$o/qemu.o"
	cc "$a" "$src/big.S" "$o/big.o" -I"$o"
	# shellcheck disable=SC2046
	link "$a" "$o/qemu-big.dylib" -dylib \
		-install_name "$(sysroot "$a")/libqemu-aarch64-softmmu.dylib" \
		-current_version 8.2.0 -compatibility_version 1.0.0 -headerpad_max_install_names \
		"$o/qemu.o" "$o/big.o" $(stub_paths "$o/stubs")
done
mkdir -p "$(dirname "$out")"
"$LIPO" -create "$tmp/arm64/qemu-big.dylib" "$tmp/x86_64/qemu-big.dylib" -output "$tmp/fat.dylib"
mv "$tmp/fat.dylib" "$out"
