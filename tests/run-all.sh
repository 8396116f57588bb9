#!/bin/bash
# The whole test suite, from a fresh Debian 12 machine (as root): installs what is missing,
# builds, starts an isolated libvirtd in a network namespace, runs every test (unit tests and
# real-guest tests), stops what it started, and prints "N passed, N failed".
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/scripts/deps.sh"
"$top/scripts/build.sh"

run=$(mktemp -d /tmp/vmmgr-harness.XXXXXX)
cleanup() { "$top/tests/harness/libvirtd-netns.sh" stop "$run"; rm -rf "$run"; }
trap cleanup EXIT
"$top/tests/harness/libvirtd-netns.sh" start "$run"

# one shared cache for the tiny image: the first test that needs it builds it, the others wait
export VMMGR_CACHE_DIR=${VMMGR_CACHE_DIR:-/var/cache/vmmgr}
# where the tests count the address blocks they take (tests/integ/lib.sh next_block)
export VMMGR_TEST_RUN="$run"
rc=0
make -C "$top" -j"$(nproc)" check || rc=$?

# tests that restart the harness's libvirtd run alone, after the parallel suite
for t in "$top"/tests/serial/*.sh; do
	log="${t%.sh}.log"
	if VMMGR_BIN="$top/vmmgr/vmmgr" VMMGR_IMAGES_DIR="$top/images/tiny" VMMGR_TESTS_DIR="$top/tests" \
		VMMGR_TEST_DATA="$top/tests/data" bash "$t" > "$log" 2>&1; then
		echo "PASS: tests/serial/$(basename "$t")"
		echo ":test-result: PASS" > "${t%.sh}.trs"
	else
		echo "FAIL: tests/serial/$(basename "$t")"
		echo ":test-result: FAIL" > "${t%.sh}.trs"
		rc=1
	fi
done

# make check's own summary, then the plain closing line
logs=$(find "$top/tests" -name '*.trs')
pass=$(cat $logs | grep -c '^:test-result: PASS' || true)
fail=$(cat $logs | grep -Ec '^:test-result: (FAIL|XPASS|ERROR|SKIP)' || true)
if [ "$rc" -ne 0 ]; then
	for f in $(grep -lE '^:test-result: (FAIL|ERROR|SKIP)' $logs); do
		echo "=== ${f%.trs}.log"
		tail -n 40 "${f%.trs}.log"
	done
fi
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$rc" -eq 0 ]
