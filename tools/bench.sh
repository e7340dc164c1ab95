#!/bin/sh
# bench.sh BUILD - benchmarks as ratios against reference tools measured in the same run.
# Timings are the median of several runs (hyperfine when present); peak RSS from GNU time.
set -eu
build=${1:-build}
bin=$build/utmpatch
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
size=${BENCH_MIB:-64}

median_ms() { # command... -> median wall time in ms over 7 runs
	python3 - "$@" <<'PY'
import subprocess, sys, time, statistics
ts = []
for _ in range(7):
    t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); ts.append((time.perf_counter() - t) * 1000)
print(f"{statistics.median(ts):.1f}")
PY
}
peak_kib() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -n 1; }

echo "== macho edit on a ${size} MiB fat dylib vs llvm-install-name-tool-14 =="
sh testdata/recipes/build-big.sh "$work/big.dylib" "$size" >/dev/null
ls -l "$work/big.dylib" | awk '{printf "input: %.1f MiB\n", $5/1048576}'
cp "$work/big.dylib" "$work/a.dylib"
cp "$work/big.dylib" "$work/b.dylib"
# Each run edits a fresh copy's id back and forth so every run does the full rewrite.
ours=$(median_ms sh -c "$bin macho edit $work/a.dylib --id @rpath/big.framework/big && $bin macho edit $work/a.dylib --id /tmp/libbig.dylib")
theirs=$(median_ms sh -c "llvm-install-name-tool-14 -id @rpath/big.framework/big $work/b.dylib && llvm-install-name-tool-14 -id /tmp/libbig.dylib $work/b.dylib")
rss_ours=$(peak_kib "$bin" macho edit "$work/a.dylib" --id @rpath/x.framework/x)
rss_theirs=$(peak_kib llvm-install-name-tool-14 -id @rpath/x.framework/x "$work/b.dylib")
python3 -c "
o,t=$ours/2,$theirs/2
print(f'utmpatch macho edit: {o:.1f} ms   llvm-install-name-tool-14: {t:.1f} ms   ratio {o/t:.2f} (goal <= 0.50)')
print(f'peak RSS: utmpatch {$rss_ours/1024:.1f} MiB   llvm-install-name-tool-14 {$rss_theirs/1024:.1f} MiB')
"

echo
echo "== sign a ${size} MiB arm64 dylib vs openssl dgst -sha256 of the same file =="
# build-big.sh splits its size over two slices: ask for twice as much, keep the arm64 slice.
sh testdata/recipes/build-big.sh "$work/big2.dylib" $((size * 2)) >/dev/null
${LIPO:-llvm-lipo-14} -thin arm64 "$work/big2.dylib" -output "$work/arm64.dylib"
ls -l "$work/arm64.dylib" | awk '{printf "input: %.1f MiB arm64 slice, %s CPUs online\n", $5/1048576, "'"$(getconf _NPROCESSORS_ONLN)"'"}'
cp "$work/arm64.dylib" "$work/s.dylib"
# Every run re-signs in place: copy to a temp file, hash every page, write, fsync, rename.
sign_ms=$(median_ms "$bin" sign "$work/s.dylib")
dgst_ms=$(median_ms openssl dgst -sha256 "$work/arm64.dylib")
rss_sign=$(peak_kib "$bin" sign "$work/s.dylib")
rss_dgst=$(peak_kib openssl dgst -sha256 "$work/arm64.dylib")
python3 -c "
o,t=$sign_ms,$dgst_ms
print(f'utmpatch sign: {o:.1f} ms   openssl dgst -sha256: {t:.1f} ms   ratio {o/t:.2f} (goal < 1.00)')
print(f'peak RSS: utmpatch sign {$rss_sign/1024:.1f} MiB (goal <= 48)   openssl dgst {$rss_dgst/1024:.1f} MiB')
"
