#!/bin/bash
# DescribeInstances throughput and latency with 10, 100 and 1000 instance records: `vmmgr serve`
# against moto_server (a Python EC2 emulator) holding the same number of instances, measured by
# the same client in the same run.  Target: at least 10 times moto's throughput, and describe time
# growing at most linearly with the count.
#
#   bench/describe.sh [SECONDS] [THREADS]   (needs a running libvirtd and moto_server on PATH)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-5}
threads=${2:-2}
VM_BIN=${VMMGR_BIN:-$top/vmmgr/vmmgr}
export VMMGR_IMAGES_DIR=${VMMGR_IMAGES_DIR:-$top/images/tiny}
PY=${VMMGR_BENCH_PYTHON:-python3}
command -v moto_server >/dev/null || { echo "moto_server is not installed: no baseline" >&2; exit 1; }
T=$(mktemp -d /tmp/vmmgr-bench-d.XXXXXX)
chmod 755 "$T"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for s in "$T"/s*; do
		[ -d "$s" ] || continue
		ids=$("$VM_BIN" --state-dir "$s" describe-instances --output json 2>/dev/null | jq -r '.Reservations[].Instances[] | select(.State.Name != "terminated") | .InstanceId' || true)
		[ -n "$ids" ] && "$VM_BIN" --state-dir "$s" terminate-instances --instance-ids $ids >/dev/null 2>&1 || true
		# the default VPC's networks live in libvirtd: ids first (every vmmgr call starts a missing one again)
		subnets=$("$VM_BIN" --state-dir "$s" describe-subnets --query 'Subnets[].SubnetId' --output text 2>/dev/null || true)
		for id in $subnets; do virsh -q -c "${VMMGR_LIBVIRT_URI:-qemu:///system}" net-destroy "vmmgr-$id" >/dev/null 2>&1 || true; done
	done
	rm -rf "$T"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

printf '%-6s %22s %22s %8s\n' count "vmmgr rps (p50 ms)" "moto rps (p50 ms)" ratio
declare -A p50
block=190
for n in 10 100 1000; do
	s="$T/s$n"
	# a default VPC of its own per count: the three live in one libvirtd at once
	block=$((block + 1))
	"$VM_BIN" --state-dir "$s" init --accel tcg --default-vpc-cidr "10.$block.0.0/16" > "$T/init$n"
	"$top/bench/seed" "$s" "$n"
	key=$("$VM_BIN" --state-dir "$s" create-access-key --output json)
	akid=$(jq -r .AccessKey.AccessKeyId <<<"$key")
	secret=$(jq -r .AccessKey.SecretAccessKey <<<"$key")
	"$VM_BIN" --state-dir "$s" serve --listen 127.0.0.1:0 > "$T/serve$n.out" 2>/dev/null &
	pids+=($!)
	for _ in $(seq 100); do grep -q listening "$T/serve$n.out" && break; sleep 0.1; done
	ours=$(grep -o 'http://[0-9.:]*' "$T/serve$n.out")

	port=$(free_port)
	moto_server -H 127.0.0.1 -p "$port" >/dev/null 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do curl -s "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done
	"$PY" "$top/bench/moto_seed.py" "http://127.0.0.1:$port" "$n"

	# interleaved: ours, moto, ours, moto; the better of two runs each
	best_o="" best_m=""
	for _ in 1 2; do
		o=$("$PY" "$top/bench/describe_client.py" "$ours" "$akid" "$secret" "$secs" "$threads")
		m=$("$PY" "$top/bench/describe_client.py" "http://127.0.0.1:$port" testing testing "$secs" "$threads")
		[ -z "$best_o" ] || [ "$(awk -v a="$o" -v b="$best_o" 'BEGIN {split(a,x," "); split(b,y," "); print (x[1] > y[1])}')" = 1 ] && best_o=$o
		[ -z "$best_m" ] || [ "$(awk -v a="$m" -v b="$best_m" 'BEGIN {split(a,x," "); split(b,y," "); print (x[1] > y[1])}')" = 1 ] && best_m=$m
	done
	read -r orps op50 op95 osize <<<"$best_o"
	read -r mrps mp50 mp95 msize <<<"$best_m"
	p50[$n]=$op50
	printf '%-6s %12s (%6s) %12s (%6s) %7.1fx   (response %s vs %s bytes)\n' "$n" "$orps" "$op50" "$mrps" "$mp50" \
		"$(awk -v a="$orps" -v b="$mrps" 'BEGIN {print a / b}')" "$osize" "$msize"
done
echo "vmmgr p50 growth: 10→100 ×$(awk -v a="${p50[100]}" -v b="${p50[10]}" 'BEGIN {printf "%.1f", a / b}'), 100→1000 ×$(awk -v a="${p50[1000]}" -v b="${p50[100]}" 'BEGIN {printf "%.1f", a / b}') (linear would be ×10)"
