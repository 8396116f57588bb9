#!/bin/bash
# slowest-requests.sh LOG: the slowest request of each API action seen during the suite, from the
# lines that every test's `vmmgr serve` logged (tests/integ/serve.sh gathers them, with the test's
# name, into the harness's run dir).  A slow action is one that does work (or waits) in the request.
log=${1:?usage: slowest-requests.sh LOG}
[ -s "$log" ] || { echo "no API requests were logged"; exit 0; }
awk '
/vmmgr serve: / {
	test = $1; action = $5; status = $(NF - 2); ms = $(NF - 1); sub(/^\(/, "", ms)
	n[action]++
	if (!(action in max) || ms + 0 > max[action] + 0) { max[action] = ms; where[action] = test; st[action] = status }
}
END {
	printf "%-34s %10s %7s  %s\n", "action", "slowest", "calls", "where (status)"
	for (a in max) printf "%-34s %7.1f ms %7d  %s (%s)\n", a, max[a], n[a], where[a], st[a] | "sort -k2 -n -r"
}' "$log"
