#!/bin/bash
# The metadata service against a static file, asked the same way from the same real guest: REQUESTS
# sequential HTTP/1.0 GETs with busybox nc, timed inside the guest (/proc/uptime), for
# 169.254.169.254/latest/meta-data/instance-id and for the same bytes served by busybox httpd on the
# host side of the guest's bridge (its gateway address, port 8080), alternately, SAMPLES times each.
# Prints milliseconds per answer and the ratio metadata/static (goal at most 2).
# With "routed", the guest is in a VPC that overlaps the default one (net/router.c): the service
# listens in its router, and the static file is served from the router's side of the bridge.
#
#   bench/imds.sh [SAMPLES] [REQUESTS] [routed]   (default 3 200; needs the harness's libvirtd: bench/run.sh)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
samples=${1:-3} requests=${2:-200} mode=${3:-}
VM_BIN=${VMMGR_BIN:-$top/vmmgr/vmmgr}
export VMMGR_IMAGES_DIR=${VMMGR_IMAGES_DIR:-$top/images/tiny}
. "$top/bench/lib.sh" imds
ns=$(cat "${VMMGR_TEST_RUN:?run through bench/run.sh or with VMMGR_TEST_RUN}/netns")
cleanup() {
	[ -n "${httpd_pid:-}" ] && kill "$httpd_pid" 2>/dev/null
	[ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
	bench_cleanup
	rm -rf "$T"
}
trap cleanup EXIT

vm init --accel tcg >/dev/null
"$VM_BIN" --state-dir "$S" serve --listen 127.0.0.1:0 --metrics-interval 0 >"$T/serve.out" 2>"$T/serve.err" &
serve_pid=$!
if [ "$mode" = routed ]; then
	dcidr=$(vm describe-vpcs --filters Name=is-default,Values=true --query 'Vpcs[0].CidrBlock' --output text)
	rv=$(vm create-vpc --cidr-block "$dcidr" --query Vpc.VpcId --output text)
	bench_guest "$(vm create-subnet --vpc-id "$rv" --cidr-block "${dcidr%.0.0/16}.7.0/24" --query Subnet.SubnetId --output text)"
else
	bench_guest
fi
# the baseline: the same bytes as a static file, busybox httpd on the bridge's host side
mkdir -p "$T/www"
printf '%s' "$id" > "$T/www/id"
ip netns exec "$BENCH_NS" busybox httpd -f -p "$gw:8080" -h "$T/www" &
httpd_pid=$!
# first answers must be the instance's id both ways
[ "$(g "printf 'GET /latest/meta-data/instance-id HTTP/1.0\r\n\r\n' | nc 169.254.169.254 80 | tail -n 1")" = "$id" ] ||
	{ echo "the metadata service does not answer the guest" >&2; exit 1; }
[ "$(g "printf 'GET /id HTTP/1.0\r\n\r\n' | nc $gw 8080 | tail -n 1")" = "$id" ] ||
	{ echo "the static file is not served" >&2; exit 1; }
# loop ADDR PORT PATH: milliseconds per answer over $requests (each checked for the id)
loop() {
	g "s=\$(cut -d' ' -f1 /proc/uptime); ok=0
	for i in \$(seq $requests); do
		[ \"\$(printf 'GET $3 HTTP/1.0\r\n\r\n' | nc $1 $2 | tail -n 1)\" = $id ] && ok=\$((ok + 1))
	done
	e=\$(cut -d' ' -f1 /proc/uptime); echo \"\$s \$e \$ok\"" |
		awk -v n="$requests" '{ if ($3 != n) { print "only " $3 " of " n " answers right" > "/dev/stderr"; exit 1 } printf "%.2f\n", ($2 - $1) * 1000 / n }'
}
echo "guest $id at $ip; $requests sequential requests per sample, $samples samples each"
: > "$T/static" && : > "$T/imds"
for s in $(seq "$samples"); do
	loop "$gw" 8080 /id | tee -a "$T/static" | sed 's/^/static file (busybox httpd): ms per answer /'
	loop 169.254.169.254 80 /latest/meta-data/instance-id | tee -a "$T/imds" | sed 's/^/metadata service:            ms per answer /'
done
python3 - "$T/static" "$T/imds" <<'PY'
import statistics, sys
a = statistics.median(float(l) for l in open(sys.argv[1]))
b = statistics.median(float(l) for l in open(sys.argv[2]))
print("median ms per answer from the guest: static file %.2f, metadata service %.2f; ratio %.2f (goal <= 2)" % (a, b, b / a))
PY
