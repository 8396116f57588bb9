#!/bin/bash
# CloudWatch at the endpoint against moto_server's CloudWatch, by the same client in the same run:
# PutMetricData throughput (20 values a request) and GetMetricStatistics over 24 hours of 1-minute
# data (1,440 points a request).  Target: at least 10 times moto's throughput.  The client is
# bench/cw_load (C: each request signed, its answer read); the Python one (cloudwatch_client.py,
# which seeds the data) spent more CPU a request than the server on this 2-core machine, so it
# measured itself.
#
#   bench/cloudwatch.sh [SECONDS] [THREADS]   (needs a libvirtd for `vmmgr init`, and moto_server)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-5}
threads=${2:-2}
VM_BIN=${VMMGR_BIN:-$top/vmmgr/vmmgr}
export VMMGR_IMAGES_DIR=${VMMGR_IMAGES_DIR:-$top/images/tiny}
PY=${VMMGR_BENCH_PYTHON:-python3}
command -v moto_server >/dev/null || { echo "moto_server is not installed: no baseline" >&2; exit 1; }
load=$top/bench/cw_load
[ -x "$load" ] || make -s -C "$top" bench/cw_load
. "$top/bench/lib.sh" cw
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	# the default VPC's network, the metadata service serve started, the firewall tables
	bench_cleanup
	rm -rf "$T"
}
trap cleanup EXIT
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

s=$S
"$VM_BIN" --state-dir "$s" init --accel tcg > "$T/init"
key=$("$VM_BIN" --state-dir "$s" create-access-key --output json)
akid=$(jq -r .AccessKey.AccessKeyId <<<"$key")
secret=$(jq -r .AccessKey.SecretAccessKey <<<"$key")
"$VM_BIN" --state-dir "$s" serve --listen 127.0.0.1:0 --metrics-interval 0 > "$T/serve.out" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$T/serve.out" && break; sleep 0.1; done
ours=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$T/serve.out")
port=$(free_port)
moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -s "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done
moto="http://127.0.0.1:$port"

now=$(date +%s)
"$PY" "$top/bench/cloudwatch_client.py" "$ours" "$akid" "$secret" 0 1 seed "$now"
"$PY" "$top/bench/cloudwatch_client.py" "$moto" testing testing 0 1 seed "$now"
printf '%-34s %22s %22s %8s\n' request "vmmgr rps (p50 ms)" "moto rps (p50 ms)" ratio
for mode in put get; do
	best_o="" best_m=""
	for _ in 1 2; do # interleaved; the better of two runs each
		o=$("$load" "$ours" "$akid" "$secret" "$secs" "$threads" "$mode" "$now")
		m=$("$load" "$moto" testing testing "$secs" "$threads" "$mode" "$now")
		[ -z "$best_o" ] || [ "${o%% *}" -gt "${best_o%% *}" ] && best_o=$o
		[ -z "$best_m" ] || [ "${m%% *}" -gt "${best_m%% *}" ] && best_m=$m
	done
	read -r orps op50 _ osize <<<"$best_o"
	read -r mrps mp50 _ msize <<<"$best_m"
	what=$([ "$mode" = put ] && echo "PutMetricData (20 values)" || echo "GetMetricStatistics (1,440 points)")
	printf '%-34s %12s (%6s) %12s (%6s) %7.1fx   (response %s vs %s bytes)\n' "$what" "$orps" "$op50" "$mrps" "$mp50" \
		"$(awk -v a="$orps" -v b="$mrps" 'BEGIN {print a / b}')" "$osize" "$msize"
done
