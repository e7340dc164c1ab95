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

echo
echo "== verify --deep --strict and audit of a UTM.app with >= 600 MiB of Mach-O vs openssl dgst -sha256 of its files =="
# The demo app with its two qemu framework binaries replaced by big universal dylibs, re-signed
# ad-hoc inside-out (utmpatch sign --nested); the reference hashes every file of the bundle once.
[ -x "$build/demo/UTM.app/Contents/MacOS/UTM" ] || sh testdata/demo/build-demo.sh "$build/demo" >/dev/null
cp -a "$build/demo/UTM.app" "$work/UTM.app"
big=${BENCH_BUNDLE_MIB:-320}
for fw in qemu-aarch64-softmmu qemu-x86_64-softmmu; do
	sh testdata/recipes/build-big.sh "$work/UTM.app/Contents/Frameworks/$fw.framework/Versions/A/$fw" "$big" >/dev/null
done
"$bin" sign --nested "$work/UTM.app" >/dev/null
"$bin" verify --deep --strict "$work/UTM.app" >/dev/null
python3 - "$work/UTM.app" <<'PY'
import os, sys
macho = total = files = 0
for root, dirs, names in os.walk(sys.argv[1]):
    for n in names:
        p = os.path.join(root, n)
        if os.path.islink(p):
            continue
        files += 1
        size = os.path.getsize(p)
        total += size
        with open(p, 'rb') as f:
            m = f.read(4)
        if m in (b'\xcf\xfa\xed\xfe', b'\xce\xfa\xed\xfe', b'\xca\xfe\xba\xbe', b'\xfe\xed\xfa\xcf', b'\xfe\xed\xfa\xce'):
            macho += size
print(f"bundle: {files} files, {total / 1048576:.0f} MiB, of which Mach-O {macho / 1048576:.0f} MiB; "
      f"{os.cpu_count()} CPUs online")
PY
# Runs alternate (ours, reference, ours, ...) so that load from elsewhere hits both alike.
python3 - "$bin" "$work/UTM.app" <<'PY'
import subprocess, sys, time, statistics
bin, app = sys.argv[1], sys.argv[2]
ref = f"find '{app}' -type f | xargs openssl dgst -sha256"
runs = {"verify": [bin, "verify", "--deep", "--strict", app], "audit": [bin, "audit", app]}
def once(cmd, shell=False):
    t = time.perf_counter()
    subprocess.run(cmd, shell=shell, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - t) * 1000
for name, cmd in runs.items():
    ours, theirs, ratios = [], [], []
    once(cmd); once(ref, True)  # warm the page cache
    for _ in range(7):
        o = once(cmd); t = once(ref, True)
        ours.append(o); theirs.append(t); ratios.append(o / t)
    print(f"utmpatch {name}: {statistics.median(ours):.0f} ms   openssl dgst -sha256 (find | xargs): "
          f"{statistics.median(theirs):.0f} ms   median ratio {statistics.median(ratios):.2f} (goal <= 1.00)")
PY
rss_v=$(peak_kib "$bin" verify --deep --strict "$work/UTM.app")
rss_a=$(peak_kib "$bin" audit "$work/UTM.app")
python3 -c "print(f'peak RSS: verify {$rss_v/1024:.1f} MiB   audit {$rss_a/1024:.1f} MiB')"
