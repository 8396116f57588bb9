#!/bin/bash
# The whole test suite, from a fresh Debian 12 machine (as root): installs what is missing,
# builds, starts an isolated libvirtd (its own network and mount namespaces, its own socket),
# runs every test (unit tests and real-guest tests), stops what it started, and prints
# "N passed, N failed".  It runs beside any libvirtd of the host (the system's, or the
# quickstart's) and checks that it left that one exactly as it was.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/scripts/deps.sh"
"$top/scripts/build.sh"

run=$(mktemp -d /tmp/vmmgr-harness.XXXXXX)
guard=$(mktemp -d /tmp/vmmgr-guard.XXXXXX)
cleanup() {
	"$top/tests/harness/libvirtd-netns.sh" stop "$run"
	"$top/tests/harness/host-guard.sh" stop "$guard" >/dev/null 2>&1 || true
	rm -rf "$run" "$guard"
}
trap cleanup EXIT
# one shared cache for the tiny image: the first test that needs it builds it, the others wait
export VMMGR_CACHE_DIR=${VMMGR_CACHE_DIR:-/var/cache/vmmgr}
"$top/tests/harness/host-guard.sh" start "$guard"
"$top/tests/harness/libvirtd-netns.sh" start "$run"

# where the tests count the address blocks they take (tests/integ/lib.sh next_block), and the
# harness's libvirtd, which every test reaches through its own socket
export VMMGR_TEST_RUN="$run"
export VMMGR_LIBVIRT_URI=$(cat "$run/uri")
rc=0
make -C "$top" -j"$(nproc)" check || rc=$?
# where the suite's time goes: the slowest tests (tests/harness/timed.sh ends each log with its time)
echo "--- the slowest tests of this run (seconds)"
grep -H '^# took [0-9]* s$' "$top"/tests/integ/*.log "$top"/tests/fuzz/*.log "$top"/tests/unit/*.log 2>/dev/null |
	sed -E 's|^'"$top"'/(.*)\.log:# took ([0-9]+) s$|\2 \1|' | sort -rn | head -n 15 || true
# no request may wait on a guest: the slowest request of each action the API tests made
echo "--- the slowest request of each API action in this run (tests/slowest-requests.log)"
"$top/tests/harness/slowest-requests.sh" "$run/requests.log" | tee "$top/tests/slowest-requests.log"

# result T NAME COMMAND…: runs a phase of this script as a test of its own (log and .trs beside T)
result() {
	local t=$1 name=$2
	shift 2
	if "$@" > "$t.log" 2>&1; then
		echo "PASS: $name"
		echo ":test-result: PASS" > "$t.trs"
	else
		echo "FAIL: $name"
		echo ":test-result: FAIL" > "$t.trs"
		rc=1
	fi
}

# tests that restart the harness's libvirtd run alone, after the parallel suite
for t in "$top"/tests/serial/*.sh; do
	result "${t%.sh}" "tests/serial/$(basename "$t")" env VMMGR_BIN="$top/vmmgr/vmmgr" \
		VMMGR_IMAGES_DIR="$top/images/tiny" VMMGR_TESTS_DIR="$top/tests" VMMGR_TEST_DATA="$top/tests/data" bash "$t"
done

# the harness's stop leaves nothing; the host's libvirtd is as it was; the quickstart's stop ends all
"$top/tests/harness/libvirtd-netns.sh" stop "$run"
result "$top/tests/harness/host-guard" "tests/harness/host-guard (the suite left the host's libvirtd as it was)" \
	"$top/tests/harness/host-guard.sh" check "$guard"
result "$top/tests/harness/host-guard-stop" "tests/harness/host-guard-stop (the quickstart's stop ends what it started)" \
	"$top/tests/harness/host-guard.sh" stop "$guard"
result "$top/tests/harness/quickstart-killed" "tests/harness/quickstart-killed (the quickstart starts again after its processes were killed)" \
	"$top/tests/harness/quickstart-killed.sh" "$guard/killed"

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
