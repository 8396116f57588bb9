#!/bin/bash
# Makes sure a libvirtd (and virtlogd) answers on qemu:///system.  When none runs and this script
# has to start one itself, it starts it inside a network namespace of its own ("vmmgr"), so the
# bridges and guests it may create stay off the host's networks.  Prints how to stop what it started.
set -euo pipefail
if virsh -c qemu:///system version >/dev/null 2>&1; then
	exit 0
fi
run=/run/vmmgr
mkdir -p "$run"
ip netns list | grep -qw vmmgr || ip netns add vmmgr
ip -n vmmgr link set lo up
if ! { pid=$(cat "$run/virtlogd.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; }; then
	ip netns exec vmmgr virtlogd -d -p "$run/virtlogd.pid"
fi
ip netns exec vmmgr libvirtd -d -p "$run/libvirtd.pid"
for _ in $(seq 300); do
	if virsh -c qemu:///system version >/dev/null 2>&1; then
		echo "libvirtd started in network namespace 'vmmgr' (stop: kill \$(cat $run/libvirtd.pid) \$(cat $run/virtlogd.pid); ip netns del vmmgr)"
		exit 0
	fi
	sleep 0.1
done
echo "libvirtd did not answer within 30 s" >&2
exit 1
