#!/bin/bash
# Launch latency: `vmmgr run-instances` until the guest's ready line appears on its console,
# against the baseline of `qemu-img create` of an overlay plus `virsh create` of the identical
# domain XML (taken from vmmgr's own domain with `virsh dumpxml`), interleaved, SAMPLES each.
# Prints both medians and p95s and the median difference (target: at most 150 ms).
#
#   bench/launch.sh [SAMPLES]    (needs a running libvirtd; bench/run.sh provides one)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-6}
VM_BIN=${VMMGR_BIN:-$top/vmmgr/vmmgr}
export VMMGR_IMAGES_DIR=${VMMGR_IMAGES_DIR:-$top/images/tiny}
T=$(mktemp -d /tmp/vmmgr-bench.XXXXXX)
chmod 755 "$T"
S="$T/state"
LV=${VMMGR_LIBVIRT_URI:-qemu:///system}
vm() { "$VM_BIN" --state-dir "$S" "$@"; }
cleanup() {
	ids=$(vm describe-instances --output json 2>/dev/null | jq -r '.Reservations[].Instances[] | select(.State.Name != "terminated") | .InstanceId' || true)
	if [ -n "$ids" ]; then vm terminate-instances --instance-ids $ids >/dev/null 2>&1 || true; fi
	# ids first: every vmmgr call repairs drift and would start a destroyed network again
	local subnets groups
	subnets=$(vm describe-subnets --query 'Subnets[].SubnetId' --output text 2>/dev/null || true)
	groups=$(vm describe-security-groups --query 'SecurityGroups[].GroupId' --output text 2>/dev/null || true)
	for id in $subnets; do virsh -q -c "$LV" net-destroy "vmmgr-$id" >/dev/null 2>&1 || true; done
	for id in $groups; do virsh -q -c "$LV" nwfilter-undefine "vmmgr-$id" >/dev/null 2>&1 || true; done
	for d in $(virsh -q -c "$LV" list --name | grep '^bench-' || true); do virsh -q -c "$LV" destroy "$d" >/dev/null 2>&1 || true; done
	rm -rf "$T"
}
trap cleanup EXIT

ms() { echo $(( $(date +%s%N) / 1000000 )); }
# wait_ready FILE TEXT: until TEXT is in FILE (20 ms polls)
wait_ready() {
	for _ in $(seq 3000); do
		grep -qF "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	echo "no ready line in $1" >&2
	return 1
}

vm init --accel tcg >/dev/null
ami=$(vm describe-images --output json | jq -r '.Images[0].ImageId')
base=$(vm describe-images --output json | jq -r '.Images[0].ImageId')
base="$S/images/$base/root.qcow2"

# a template domain XML from vmmgr itself
tid=$(vm run-instances --image-id "$ami" --output json | jq -r '.Instances[0].InstanceId')
wait_ready "$S/instances/$tid/console.log" "vmmgr: instance $tid ready"
virsh -q -c "$LV" dumpxml --inactive "$tid" > "$T/template.xml"
cp "$S/instances/$tid/cidata.iso" "$T/template-cidata.iso"
# stopped, not terminated: the baseline domains use its interface (MAC, DHCP entry, filter)
vm stop-instances --force --instance-ids "$tid" >/dev/null
vm wait instance-stopped --instance-ids "$tid"

ours=() theirs=()
for i in $(seq "$n"); do
	t0=$(ms)
	id=$(vm run-instances --image-id "$ami" --output json | jq -r '.Instances[0].InstanceId')
	wait_ready "$S/instances/$id/console.log" "vmmgr: instance $id ready"
	ours+=($(( $(ms) - t0 )))
	vm terminate-instances --instance-ids "$id" >/dev/null

	name="bench-$i-$$"
	mkdir -p "$T/$name"
	sed -e "s|$tid|$name|g" -e "s|$S/instances/$name|$T/$name|g" -e "s|$S/volumes/vol-[0-9a-f]*\.qcow2|$T/$name/root.qcow2|" \
		-e '/<uuid>/d' "$T/template.xml" > "$T/$name.xml"
	t0=$(ms)
	qemu-img create -q -f qcow2 -F qcow2 -b "$base" "$T/$name/root.qcow2"
	cp "$T/template-cidata.iso" "$T/$name/cidata.iso"
	virsh -q -c "$LV" create "$T/$name.xml" >/dev/null
	wait_ready "$T/$name/console.log" "vmmgr: instance $name ready"
	theirs+=($(( $(ms) - t0 )))
	virsh -q -c "$LV" destroy "$name" >/dev/null
done

stats() { # median p95 of the samples after the first
	printf '%s\n' "${@:2}" | sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; p=a[int(NR*0.95+0.999)]; print m, p}'
}
read -r om op <<<"$(stats "${ours[@]}")"
read -r tm tp <<<"$(stats "${theirs[@]}")"
echo "launch to ready line, $((n - 1)) samples each (first dropped), TCG"
echo "  vmmgr run-instances:               median ${om} ms, p95 ${op} ms   (${ours[*]})"
echo "  qemu-img + virsh create (same XML): median ${tm} ms, p95 ${tp} ms   (${theirs[*]})"
echo "  median difference: $((om - tm)) ms (target <= 150 ms); ratio $(awk "BEGIN {printf \"%.2f\", $om / $tm}")"
