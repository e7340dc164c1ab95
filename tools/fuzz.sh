#!/bin/sh
# fuzz.sh SECONDS [TARGET...] - builds every <module>/fuzz/fuzz_*.c with clang's libFuzzer,
# ASan and UBSan, seeds it from the fixtures, corpus and malformed files, and runs each
# target for SECONDS.  Crashers are saved as build/fuzz/<target>/crash-*; turn each into a
# named fixture in testdata/malformed/.  Prints the exec count of each run.
set -eu
secs=${1:-600}
shift || true
CC=${FUZZ_CC:-clang-14}
root=$(pwd)
out=$root/build/fuzz
mkdir -p "$out"
flags="-g -O1 -std=c11 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -D_FILE_OFFSET_BITS=64 -pthread"
incs="-Ilib/base -Imachotools -Isigning -Ilib $(pkg-config --cflags libplist-2.0 libcrypto)"
libs="$(pkg-config --libs libplist-2.0 libcrypto zlib) -lm"
objs=""
for src in lib/base/*.c machotools/*.c signing/*.c lib/*.c; do
	[ -f "$src" ] || continue
	o=$out/obj/$(echo "$src" | tr / _).o
	mkdir -p "$out/obj"
	if [ ! -f "$o" ] || [ "$src" -nt "$o" ]; then
		$CC $flags $incs -c "$src" -o "$o"
	fi
	objs="$objs $o"
done
make -s fixtures >/dev/null 2>&1 || true
targets="$*"
[ -n "$targets" ] || targets=$(ls */fuzz/fuzz_*.c 2>/dev/null)
for t in $targets; do
	name=$(basename "$t" .c)
	bin=$out/$name
	$CC $flags -fsanitize=fuzzer $incs "$t" $objs $libs -o "$bin"
	seeds=$out/$name-corpus
	mkdir -p "$seeds"
	seeddir="$root/$(dirname "$t")/seeds"
	[ -d "$seeddir" ] && cp -n "$seeddir"/* "$seeds"/ 2>/dev/null || true
	case $name in
	fuzz_macho | fuzz_superblob | fuzz_cms)
		for f in build/fixtures/* testdata/malformed/* $(find ../shared/corpus -type f -size -600k 2>/dev/null); do
			[ -f "$f" ] && cp -n "$f" "$seeds/$(echo "$f" | tr / _)" 2>/dev/null || true
		done ;;
	fuzz_vmconfig)
		for f in testdata/vmconfigs/*/config.plist ../shared/corpus/utm/*/config.plist; do
			[ -f "$f" ] && cp -n "$f" "$seeds/$(echo "$f" | tr / _)" 2>/dev/null || true
		done ;;
	fuzz_seal)
		for f in $(find ../shared/corpus/bundles -name CodeResources 2>/dev/null); do
			cp -n "$f" "$seeds/$(echo "$f" | tr / _)" 2>/dev/null || true
		done ;;
	esac
	echo "fuzz: $name for ${secs}s"
	(cd "$out" && "$bin" -max_total_time="$secs" -print_final_stats=1 -max_len=1048576 -rss_limit_mb=4096 \
		-artifact_prefix="$out/$name-" "$seeds" >"$out/$name.log" 2>&1) || {
		echo "fuzz: $name FAILED, see $out/$name.log"; tail -n 30 "$out/$name.log"; exit 1; }
	grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$out/$name.log" | tail -n 2 | sed "s/^/fuzz: $name: /"
done
