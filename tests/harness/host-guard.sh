#!/bin/bash
# The suite runs beside a libvirtd of the host and leaves it exactly as it was.
#
#   host-guard.sh start DIR   when a libvirtd answers on qemu:///system (the system's, or one the
#                             quickstart started), records its domains (name, id, state), networks
#                             (active, bridge, dnsmasq pid) and its files under /etc/libvirt and
#                             /run/libvirt.  When none does, plays the user who ran the quickstart:
#                             starts the quickstart's libvirtd (scripts/libvirtd.sh) and launches
#                             an instance in it from a state dir of its own, then records as above.
#   host-guard.sh check DIR   compares with the record; prints what changed; fails if anything did
#   host-guard.sh stop DIR    ends the stand-in (the quickstart's stop: scripts/libvirtd.sh stop) and
#                             checks that none of its processes (libvirtd, virtlogd, qemu, dnsmasq) is left
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cmd=${1:?usage: host-guard.sh start|check|stop DIR}
dir=${2:?usage: host-guard.sh start|check|stop DIR}
uri=qemu:///system
export VMMGR_IMAGES_DIR=${VMMGR_IMAGES_DIR:-$top/images/tiny}
. "$top/scripts/lib/libvirt-host.sh"

snapshot() {
	local d n
	echo "# domains"
	for d in $(virsh -q -c "$uri" list --all --name | sort); do
		echo "$d id=$(virsh -q -c "$uri" domid "$d" 2>/dev/null || true) state=$(virsh -q -c "$uri" domstate "$d" | head -n 1)"
	done
	echo "# networks"
	for n in $(virsh -q -c "$uri" net-list --all --name | sort); do
		echo "$n $(virsh -q -c "$uri" net-info "$n" | awk '$1 == "Active:" || $1 == "Bridge:" {printf "%s%s ", $1, $2}')" \
			"dnsmasq=$(cat "/run/libvirt/network/$n.pid" 2>/dev/null || true)"
	done
	echo "# files"
	find /etc/libvirt/qemu /run/libvirt/qemu /run/libvirt/network /var/lib/libvirt/dnsmasq -maxdepth 2 2>/dev/null | sort
}

case "$cmd" in
start)
	mkdir -p "$dir"
	if ! virsh -c "$uri" version >/dev/null 2>&1; then
		"$top/scripts/libvirtd.sh" start >/dev/null
		touch "$dir/stand-in"
		mkdir -p "$dir/state"
		chmod 755 "$dir" "$dir/state"
		vm() { "$top/vmmgr/vmmgr" --state-dir "$dir/state" --connect "$uri" "$@"; }
		vm init --accel tcg >/dev/null
		ami=$(vm describe-images --filters Name=name,Values=vmmgr-tiny --query 'Images[0].ImageId' --output text)
		id=$(vm run-instances --image-id "$ami" --tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=quickstart}]' \
			--query 'Instances[0].InstanceId' --output text)
		vm wait instance-running --instance-ids "$id"
		echo "$id" > "$dir/instance"
		echo "host-guard: a stand-in for the quickstart: libvirtd on $uri (netns 'vmmgr') with instance $id running"
	fi
	snapshot > "$dir/before"
	echo "host-guard: recorded the host libvirtd: $(grep -c ' state=' "$dir/before" || true) domain(s)," \
		"$(grep -c ' dnsmasq=' "$dir/before" || true) network(s)"
	;;
check)
	snapshot > "$dir/after"
	if ! diff -u "$dir/before" "$dir/after"; then
		echo "host-guard: the host's libvirtd changed while the suite ran (above)"
		exit 1
	fi
	echo "host-guard: the host's libvirtd, its domains (same ids, same states), networks and files are as before"
	;;
stop)
	[ -f "$dir/stand-in" ] || exit 0
	id=$(cat "$dir/instance" 2>/dev/null || true)
	pids=$(virsh -q -c "$uri" net-list --name 2>/dev/null | while read -r n; do [ -n "$n" ] && cat "/run/libvirt/network/$n.pid" 2>/dev/null; done || true)
	[ -n "$id" ] && pids="$pids $(cat "/run/libvirt/qemu/$id.pid" 2>/dev/null || true)"
	pids="$pids $(cat /run/vmmgr/libvirtd.pid /run/vmmgr/virtlogd.pid 2>/dev/null || true)"
	vm() { "$top/vmmgr/vmmgr" --state-dir "$dir/state" --connect "$uri" "$@"; }
	[ -z "$id" ] || { vm terminate-instances --instance-ids "$id" >/dev/null && vm wait instance-terminated --instance-ids "$id"; }
	# the stop as a user runs it, with the vmmgr the quickstart would have installed: this build (a
	# vmmgr installed on this machine earlier may be older than the store this build wrote)
	VMMGR_BIN="$top/vmmgr/vmmgr" VMMGR_STATE_DIR="$dir/state" "$top/scripts/quickstart.sh" stop >/dev/null
	left=""
	for p in $pids; do pid_alive "$p" && left="$left $p($(cat /proc/$p/comm 2>/dev/null))"; done
	[ -z "$left" ] || { echo "host-guard: the quickstart's stop left processes running:$left"; exit 1; }
	echo "host-guard: the quickstart's stop ended its instance, dnsmasq, libvirtd and virtlogd ($(echo $pids | wc -w) processes)"
	;;
esac
