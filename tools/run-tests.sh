#!/bin/sh
# run-tests.sh BUILD TESTBIN... - runs every Criterion suite from the repo root,
# then prints one closing line "N passed, N failed".
set -u
build=$1
shift
export UTMPATCH_BIN="$PWD/$build/utmpatch"
export UTMPATCH_FIXTURES="$PWD/$build/fixtures"
export UTMPATCH_CORPUS="${UTMPATCH_CORPUS:-$PWD/../shared/corpus}"
export UTMPATCH_ROOT="$PWD"
export LSAN_OPTIONS="suppressions=$PWD/testdata/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
for s in llvm-symbolizer-14 llvm-symbolizer; do
	if command -v $s >/dev/null 2>&1; then export ASAN_SYMBOLIZER_PATH="$(command -v $s)"; break; fi
done
pass=0
fail=0
status=0
logs="$PWD/$build/test-logs"
mkdir -p "$logs"
for t in "$@"; do
	out="$logs/$(basename "$t").log"
	"$t" --jobs "${TEST_JOBS:-2}" >"$out" 2>&1
	rc=$?
	cat "$out"
	line=$(grep -E 'Synthesis: Tested:' "$out" | tail -n 1)
	p=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
	f=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
	c=$(echo "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
	pass=$((pass + ${p:-0}))
	fail=$((fail + ${f:-0} + ${c:-0}))
	[ "$rc" -ne 0 ] && status=1
	[ -z "$line" ] && { echo "$t: no Criterion synthesis line"; status=1; fail=$((fail + 1)); }
done
echo "tests: $pass passed, $fail failed"
exit $status
