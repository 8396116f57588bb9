#!/bin/bash
# Launch and terminate against what a user does by hand without vmmgr, interleaved, SAMPLES each:
#   launch:    `vmmgr run-instances`  vs  `qemu-img create` of the overlay + `virsh define` +
#              `virsh start` of the same domain (vmmgr's own XML from `virsh dumpxml`) with no
#              filter of its own: libvirt attaches none and names the tap vnetN, which vmmgr's
#              bridge rules do not match;
#              timed to "domain running" (libvirt's Started event, as one `virsh event` prints it)
#              and to the guest's ready line;
#   terminate: `vmmgr terminate-instances` until describe says terminated  vs  `virsh destroy` +
#              `virsh undefine` + removing the disk.
# Prints medians and p95s, the launch's median overhead (target <= 150 ms) and the terminate ratio
# (target <= 1.5).  With MEMBERS, the default security group (the one every launch here joins)
# first gets that many more instances, launched and stopped (a stopped instance keeps its interface
# and so its place in the group's firewall set): the launch must not cost more in a bigger group.
#
#   bench/launch.sh [SAMPLES [MEMBERS]]    (needs a running libvirtd; bench/run.sh provides one)
#
# With BENCH_TRACE=FILE, vmmgr's step trace (VMMGR_TRACE, vmmgr/core/ctx.h) of every timed launch,
# the CLI's and its job's, and the baseline's own steps go to FILE: where the overhead is.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-6}
members=${2:-0}
VM_BIN=${VMMGR_BIN:-$top/vmmgr/vmmgr}
export VMMGR_IMAGES_DIR=${VMMGR_IMAGES_DIR:-$top/images/tiny}
. "$top/bench/lib.sh" launch
cleanup() {
	[ -n "${events_pid:-}" ] && kill "$events_pid" 2>/dev/null
	bench_cleanup
	for d in $(virsh -q -c "$LV" list --all --name | grep '^bench-' || true); do
		virsh -q -c "$LV" destroy "$d" >/dev/null 2>&1 || true
		virsh -q -c "$LV" undefine "$d" >/dev/null 2>&1 || true
	done
	rm -rf "$T"
}
trap cleanup EXIT
trace=${BENCH_TRACE:-}
[ -n "$trace" ] && : > "$trace"

ms() { echo $(( $(date +%s%N) / 1000000 )); }
# wait_ready FILE TEXT: until TEXT is in FILE (20 ms polls)
wait_ready() {
	for _ in $(seq 3000); do
		grep -qF "$2" "$1" 2>/dev/null && return 0
		sleep 0.02
	done
	echo "no ready line in $1; it ends:" >&2
	tail -n 15 "$1" >&2 || true
	return 1
}
# ms_running DOMAIN: when libvirt started it (epoch ms), from the lifecycle events one `virsh event`
# process has been printing since the start.  The time is the event's own, so the file is read only
# every 200 ms: polling faster (or `virsh domstate`) starts processes that take the CPU from the
# launch under way on vmmgr's side only, as the baseline's `virsh start` returns when it runs
ms_running() {
	local line
	for _ in $(seq 300); do
		line=$(grep -m 1 -F "domain '$1': Started" "$T/events" 2>/dev/null || true)
		if [ -n "$line" ]; then
			echo $(( $(date -d "${line%%: event *}" +%s%N) / 1000000 ))
			return 0
		fi
		sleep 0.2
	done
	echo "domain $1 never ran" >&2
	return 1
}
state_of() { vm describe-instances --instance-ids "$1" --query 'Reservations[0].Instances[0].State.Name' --output text; }

vm init --accel tcg >/dev/null
virsh -q -c "$LV" event --loop --event lifecycle --timestamp > "$T/events" &
events_pid=$!
ami=$(vm describe-images --output json | jq -r '.Images[0].ImageId')
base="$S/images/$ami/root.qcow2"

# a template domain XML from vmmgr itself
tid=$(vm run-instances --image-id "$ami" --output json | jq -r '.Instances[0].InstanceId')
wait_ready "$S/instances/$tid/console.log" "vmmgr: instance $tid ready"
virsh -q -c "$LV" dumpxml --inactive "$tid" > "$T/template.xml"
cp "$S/instances/$tid/cidata.iso" "$T/template-cidata.iso"
# stopped, not terminated: the baseline domains use its MAC (so its DHCP entry and address)
vm stop-instances --force --instance-ids "$tid" >/dev/null
vm wait instance-stopped --instance-ids "$tid"

# the group's other members, ten at a time, stopped at once (no TCG boot of 200 guests)
left=$members
while [ "$left" -gt 0 ]; do
	c=$(( left < 10 ? left : 10 ))
	ids=$(vm run-instances --image-id "$ami" --count "$c" --output json | jq -r '.Instances[].InstanceId')
	vm stop-instances --force --instance-ids $ids >/dev/null
	vm wait instance-stopped --instance-ids $ids
	left=$(( left - c ))
done
sg=$(vm describe-security-groups --group-names default --query 'SecurityGroups[0].GroupId' --output text)
in_group=$(vm describe-network-interfaces --filters "Name=group-id,Values=$sg" --output json | jq '.NetworkInterfaces | length')

run_ours=() ready_ours=() run_theirs=() ready_theirs=() term_ours=() term_theirs=()
for i in $(seq "$n"); do
	t0=$(ms)
	if [ -n "$trace" ]; then
		id=$(VMMGR_TRACE=1 vm run-instances --image-id "$ami" --output json 2>>"$trace" | jq -r '.Instances[0].InstanceId')
	else
		id=$(vm run-instances --image-id "$ami" --output json | jq -r '.Instances[0].InstanceId')
	fi
	run_ours+=($(( $(ms_running "$id") - t0 )))
	[ -n "$trace" ] && echo "ours $id: t0 $t0, running at +${run_ours[-1]} ms" >> "$trace"

	wait_ready "$S/instances/$id/console.log" "vmmgr: instance $id ready"
	ready_ours+=($(( $(ms) - t0 )))
	t0=$(ms)
	vm terminate-instances --instance-ids "$id" >/dev/null
	until [ "$(state_of "$id")" = terminated ]; do sleep 0.02; done
	term_ours+=($(( $(ms) - t0 )))

	name="bench-$i-$$"
	mkdir -p "$T/$name"
	# the domain as vmmgr made it, but its own tap name (libvirt picks vnetN): no firewall; without
	# its UUID (libvirt would take the SMBIOS one, which is the template's)
	sed -e "s|$tid|$name|g" -e "s|$S/instances/$name|$T/$name|g" -e "s|$S/volumes/vol-[0-9a-f]*\.qcow2|$T/$name/root.qcow2|" \
		-e '/<uuid>/d' -e '/<entry name=.uuid.>/d' -e '/<target dev=.vt/d' "$T/template.xml" > "$T/$name.xml"
	t0=$(ms)
	qemu-img create -q -f qcow2 -F qcow2 -b "$base" "$T/$name/root.qcow2"
	cp "$T/template-cidata.iso" "$T/$name/cidata.iso"
	t1=$(ms)
	virsh -q -c "$LV" define "$T/$name.xml" >/dev/null
	t2=$(ms)
	virsh -q -c "$LV" start "$name" >/dev/null
	run_theirs+=($(( $(ms_running "$name") - t0 )))
	[ -n "$trace" ] && echo "theirs $name: qemu-img+cp $((t1 - t0)) ms, define $((t2 - t1)) ms, start $(( $(ms) - t2 )) ms, running at +${run_theirs[-1]} ms" >> "$trace"

	wait_ready "$T/$name/console.log" "vmmgr: instance $name ready"
	ready_theirs+=($(( $(ms) - t0 )))
	t0=$(ms)
	virsh -q -c "$LV" destroy "$name" >/dev/null
	virsh -q -c "$LV" undefine "$name" >/dev/null
	rm -f "$T/$name/root.qcow2"
	term_theirs+=($(( $(ms) - t0 )))
done

stats() { # median p95 of the samples after the first
	printf '%s\n' "${@:2}" | sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; p=a[int(NR*0.95+0.999)]; print m, p}'
}
line() { # LABEL SAMPLES…
	local m p
	read -r m p <<<"$(stats "${@:2}")"
	printf '  %-44s median %6d ms, p95 %6d ms   (%s)\n' "$1" "$m" "$p" "${*:2}"
	echo "$m" > "$T/last"
}
echo "launch and terminate, $((n - 1)) samples each (first dropped), TCG; $in_group interfaces in the group $sg"
line "vmmgr run-instances → domain running" "${run_ours[@]}"; ro=$(cat "$T/last")
line "qemu-img + virsh define + start (no filter)" "${run_theirs[@]}"; rt=$(cat "$T/last")
line "vmmgr run-instances → ready line" "${ready_ours[@]}"; yo=$(cat "$T/last")
line "qemu-img + virsh define + start → ready line" "${ready_theirs[@]}"; yt=$(cat "$T/last")
line "vmmgr terminate-instances → terminated" "${term_ours[@]}"; to=$(cat "$T/last")
line "virsh destroy + undefine + rm disk" "${term_theirs[@]}"; tt=$(cat "$T/last")
echo "  launch overhead (median): to running $((ro - rt)) ms, to ready line $((yo - yt)) ms (target <= 150 ms)"
if [ -n "$trace" ]; then
	grep -h 'vmmgr trace' "$S/jobs.log" >> "$trace"
	echo "where each launch spent its time (ms, bench/launch_trace.py $trace):"
	python3 "$top/bench/launch_trace.py" "$trace" | sed 's/^/  /'
fi
echo "  terminate ratio (median): $(awk "BEGIN {printf \"%.2f\", $to / ($tt > 0 ? $tt : 1)}") (target <= 1.5)"
