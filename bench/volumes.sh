#!/bin/bash
# Volume benchmarks: create-volume of 1 GiB against 1 TiB (sparse qcow2: the ratio should stay
# near 1, target <= 1.2), and create-snapshot time against the amount of data in the volume.
#
#   bench/volumes.sh [SAMPLES]    (needs a running libvirtd; bench/run.sh provides one)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-8}
VM_BIN=${VMMGR_BIN:-$top/vmmgr/vmmgr}
export VMMGR_IMAGES_DIR=${VMMGR_IMAGES_DIR:-$top/images/tiny}
T=$(mktemp -d /tmp/vmmgr-bench-v.XXXXXX)
chmod 755 "$T"
trap 'rm -rf "$T"' EXIT
vm() { "$VM_BIN" --state-dir "$T/state" "$@"; }
ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
vm init --accel tcg >/dev/null

small=() big=()
for _ in $(seq "$n"); do
	t0=$(ms); v=$(vm create-volume --size 1 --query VolumeId --output text); small+=($(( $(ms) - t0 )))
	vm delete-volume --volume-id "$v"
	t0=$(ms); v=$(vm create-volume --size 1024 --query VolumeId --output text); big+=($(( $(ms) - t0 )))
	du -k "$T/state/volumes/$v.qcow2" | awk '{print $1}' > "$T/size"
	vm delete-volume --volume-id "$v"
done
ms_small=$(median "${small[@]:1}") ms_big=$(median "${big[@]:1}")
echo "create-volume, $((n - 1)) samples each (first dropped), through the CLI (process start included)"
echo "  1 GiB: median ${ms_small} ms    1 TiB: median ${ms_big} ms    ratio $(awk -v a="$ms_big" -v b="$ms_small" 'BEGIN {printf "%.2f", a / b}') (target <= 1.2); a 1 TiB volume takes $(cat "$T/size") KiB on disk"

echo "create-snapshot of a detached volume against the data written in it"
for mib in 0 64 256; do
	v=$(vm create-volume --size 1 --query VolumeId --output text)
	[ "$mib" = 0 ] || qemu-io -f qcow2 -c "write -P 0x5a 0 ${mib}M" "$T/state/volumes/$v.qcow2" >/dev/null
	t0=$(ms); s=$(vm create-snapshot --volume-id "$v" --query SnapshotId --output text); da=$(( $(ms) - t0 ))
	vm wait snapshot-completed --snapshot-ids "$s"; dt=$(( $(ms) - t0 ))
	echo "  ${mib} MiB written: answered in ${da} ms, completed in ${dt} ms"
	vm delete-snapshot --snapshot-id "$s"
	vm delete-volume --volume-id "$v"
done
