#!/bin/bash
# Starts (or stops) the libvirtd that vmmgr's tests use, inside a network namespace this script
# creates, so every bridge, tap, dnsmasq and guest lives there and no test traffic reaches the
# host's networks.  A libvirtd already running outside that namespace is not used: the harness
# says so and fails.
#
#   libvirtd-netns.sh start RUNDIR   prints nothing; writes RUNDIR/{netns,libvirtd.pid,virtlogd.pid}
#   libvirtd-netns.sh stop RUNDIR    ends the daemons it started (by pid) and removes the namespace
#   libvirtd-netns.sh restart-libvirtd RUNDIR   ends its libvirtd (by pid) and starts it again in the
#                                    same namespace (guests, bridges and filters stay)
set -u
cmd=${1:?usage: libvirtd-netns.sh start|stop RUNDIR}
run=${2:?usage: libvirtd-netns.sh start|stop RUNDIR}

die() { echo "harness: $*" >&2; exit 1; }

pid_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

stop() {
	for d in libvirtd virtlogd; do
		pid=$(cat "$run/$d.pid" 2>/dev/null || true)
		if pid_alive "$pid"; then
			kill "$pid"
			for _ in $(seq 50); do pid_alive "$pid" || break; sleep 0.1; done
			pid_alive "$pid" && kill -9 "$pid"
		fi
		rm -f "$run/$d.pid"
	done
	ns=$(cat "$run/netns" 2>/dev/null || true)
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	rm -f "$run/netns"
	return 0
}

start() {
	mkdir -p "$run"
	for p in /run/libvirtd.pid /run/virtlogd.pid; do
		pid=$(cat "$p" 2>/dev/null || true)
		if pid_alive "$pid"; then
			die "a $(basename "$p" .pid) (pid $pid) is already running outside the test namespace; stop it first (the tests start their own, isolated one)"
		fi
	done
	if [ -S /run/libvirt/libvirt-sock ] && virsh -c qemu:///system version >/dev/null 2>&1; then
		die "a libvirtd already answers on /run/libvirt/libvirt-sock outside the test namespace; stop it first"
	fi
	ns="vmmgr-test-$$"
	ip netns add "$ns" || die "cannot create network namespace '$ns' (need root and iproute2)"
	echo "$ns" > "$run/netns"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" virtlogd -d -p "$run/virtlogd.pid" || { stop; die "virtlogd did not start"; }
	ip netns exec "$ns" libvirtd -d -p "$run/libvirtd.pid" || { stop; die "libvirtd did not start"; }
	for _ in $(seq 300); do
		virsh -c qemu:///system version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	stop
	die "libvirtd did not answer within 30 s"
}

restart_libvirtd() {
	ns=$(cat "$run/netns") || die "no harness in $run"
	pid=$(cat "$run/libvirtd.pid" 2>/dev/null || true)
	if pid_alive "$pid"; then
		kill "$pid"
		for _ in $(seq 100); do pid_alive "$pid" || break; sleep 0.1; done
	fi
	ip netns exec "$ns" libvirtd -d -p "$run/libvirtd.pid" || die "libvirtd did not start again"
	for _ in $(seq 300); do
		virsh -c qemu:///system version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	die "libvirtd did not answer within 30 s after its restart"
}

case "$cmd" in
start) start ;;
restart-libvirtd) restart_libvirtd ;;
stop) stop ;;
*) die "unknown command '$cmd'" ;;
esac
