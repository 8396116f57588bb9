#!/bin/bash
# The quickstart's libvirtd.
#
#   scripts/libvirtd.sh [start]   makes sure a libvirtd (and virtlogd) answers on qemu:///system.  A
#                                 running one (the system's) is used as it is.  When none runs, it
#                                 starts one in a network namespace of its own ("vmmgr"), so the
#                                 bridges and guests it creates stay off the host's networks, and
#                                 records what it started under /run/vmmgr.
#   scripts/libvirtd.sh stop      ends what `start` started, by pid: the guests and networks of that
#                                 libvirtd (their qemu and dnsmasq), libvirtd, virtlogd; removes the
#                                 namespace.  A libvirtd it did not start is never touched.
# Before starting libvirtd it gives /dev/kvm the mode udev would have given it (see libvirt-host.sh)
# and checks that capability lookups are fast.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib/libvirt-host.sh"
run=/run/vmmgr
uri=qemu:///system

start() {
	if virsh -c "$uri" version >/dev/null 2>&1; then
		caps_check "$uri" || lv_say "warning: this libvirtd is slow; fix /dev/kvm as said above and restart it"
		return 0
	fi
	kvm_fix
	mkdir -p "$run"
	# exactly "vmmgr" (a test harness's "vmmgr-lv-…" namespaces are not it).  One in which nothing
	# runs was left by a start whose processes were all killed (the machine's processes ended without
	# `stop`): its bridges still hold their subnets' addresses, so a network started again finds its
	# block "already in use".  Its guests and dnsmasq are gone, so nothing is lost: a new one, as after
	# a reboot (libvirtd marks the networks whose bridges are gone inactive; vmmgr starts them again)
	if [ -e /run/netns/vmmgr ] && [ -z "$(ip netns pids vmmgr 2>/dev/null)" ]; then
		ip netns del vmmgr
		lv_say "removed the namespace 'vmmgr' of a libvirtd that was killed (nothing ran in it)"
	fi
	[ -e /run/netns/vmmgr ] || ip netns add vmmgr
	ip -n vmmgr link set lo up
	if ! pid_alive "$(cat "$run/virtlogd.pid" 2>/dev/null || true)"; then
		ip netns exec vmmgr virtlogd -d -p "$run/virtlogd.pid"
	fi
	ip netns exec vmmgr libvirtd -d -p "$run/libvirtd.pid"
	lv_wait "$uri" 30 || { echo "libvirtd did not answer within 30 s" >&2; exit 1; }
	caps_check "$uri" || exit 1
	echo "libvirtd started in network namespace 'vmmgr' (stop it, with its guests and networks: $top/scripts/libvirtd.sh stop)"
}

stop() {
	local lpid vpid
	lpid=$(cat "$run/libvirtd.pid" 2>/dev/null || true)
	vpid=$(cat "$run/virtlogd.pid" 2>/dev/null || true)
	if ! pid_alive "$lpid" && ! pid_alive "$vpid" && [ ! -e /run/netns/vmmgr ]; then
		echo "nothing to stop: no libvirtd was started by scripts/libvirtd.sh"
		return 0
	fi
	lv_end_all /run/libvirt "$uri" "$lpid" "$vpid"
	local pid
	for pid in $(ip netns pids vmmgr 2>/dev/null); do end_pid "$pid"; done
	ip netns del vmmgr 2>/dev/null || true
	rm -f "$run/libvirtd.pid" "$run/virtlogd.pid"
	echo "stopped the libvirtd, virtlogd, guests and dnsmasq that scripts/libvirtd.sh started; namespace 'vmmgr' removed"
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
*) echo "usage: scripts/libvirtd.sh [start|stop]" >&2; exit 2 ;;
esac
