#!/bin/bash
# Starts (or stops) the libvirtd that vmmgr's tests use, in a network namespace and a mount
# namespace of its own: every bridge, tap, dnsmasq and guest lives in the network namespace, and
# /run/libvirt, /var/lib/libvirt, /etc/libvirt, /var/log/libvirt and /var/cache/libvirt are private
# to it.  The tests reach it through its own socket (RUNDIR/uri).  A libvirtd of the host (the
# system's, or the quickstart's) is neither seen nor touched, so the suite runs beside it.
#
#   libvirtd-netns.sh start RUNDIR   writes RUNDIR/{uri,netns,libvirtd.pid,virtlogd.pid}; fixes an
#                                    unusable /dev/kvm mode and checks that capability lookups are fast
#   libvirtd-netns.sh stop RUNDIR    ends every process it started (domains, dnsmasq, the daemons;
#                                    by pid) and removes both namespaces and the private directories
#   libvirtd-netns.sh restart-libvirtd RUNDIR   ends its libvirtd (by pid) and starts it again in the
#                                    same namespaces (guests, bridges and filters stay)
set -u
cmd=${1:?usage: libvirtd-netns.sh start|stop|restart-libvirtd RUNDIR}
run=${2:?usage: libvirtd-netns.sh start|stop|restart-libvirtd RUNDIR}
. "$(dirname "$0")/../../scripts/lib/libvirt-host.sh"

die() { echo "harness: $*" >&2; exit 1; }

case "$cmd" in
start)
	kvm_fix || die "/dev/kvm has a mode QEMU's user cannot use and it could not be fixed"
	lv_ns_start "$run" || die "the test libvirtd did not start"
	caps_check "$(cat "$run/uri")" || { lv_ns_stop "$run"; die "capability lookups are slow; see above"; }
	;;
restart-libvirtd) lv_ns_restart_libvirtd "$run" || die "libvirtd restart failed" ;;
stop) lv_ns_stop "$run" ;;
*) die "unknown command '$cmd'" ;;
esac
