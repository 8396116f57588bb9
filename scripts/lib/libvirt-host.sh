# Shell functions shared by the scripts that start a libvirtd for vmmgr (scripts/libvirtd.sh for the
# quickstart, tests/harness/libvirtd-netns.sh for the test suite, bench/run.sh).  Sourced, not run.
#
#   kvm_fix [DEV]             gives /dev/kvm the mode Debian's udev rule gives it (0660 root:kvm) and
#                             says so; without it libvirt re-probes QEMU at every capability lookup
#   caps_check URI            two capability lookups in a row must be fast (the re-probe symptom)
#   lv_ns_start RUN           a virtlogd + libvirtd in a network namespace AND a mount namespace of
#                             their own, with private /run/libvirt, /var/lib/libvirt, /etc/libvirt,
#                             /var/log/libvirt and /var/cache/libvirt under RUN/root; writes RUN/uri
#                             (qemu:///system?socket=…), RUN/netns, RUN/{libvirtd,virtlogd}.pid
#                             (LV_HIDE_DRIVERS="qemu …": those connection drivers are absent in
#                             it, as on a host without the package: for the tests of that error)
#   lv_ns_restart_libvirtd RUN   ends that libvirtd (by pid) and starts it again in the same namespaces
#   lv_ns_stop RUN            destroys its domains and networks, ends every process it started
#                             (libvirtd, virtlogd, dnsmasq, qemu — by pid) and removes both namespaces
#   lv_wait URI SECONDS       until a libvirtd answers on URI
#   lv_stop_system_pids RUNDIR URI   the same ending for a libvirtd started in the host's mount
#                             namespace (the quickstart's): domains, networks, dnsmasq, daemons

lv_say() { echo "libvirt-host: $*" >&2; }

# pid_alive PID: the process runs.  A killed one whose parent has not reaped it yet (a daemon's parent
# is init, which may take a while) is a zombie: kill -0 still succeeds on it, yet it is dead
pid_alive() {
	[ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
	[ "$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# end_pid PID: SIGTERM, up to 5 s, then SIGKILL (only ever a pid this project started)
end_pid() {
	local pid=$1 i
	pid_alive "$pid" || return 0
	kill "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do pid_alive "$pid" || return 0; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
}

kvm_fix() {
	local dev=${1:-/dev/kvm} mode grp owner
	[ -e "$dev" ] || return 0 # no KVM at all: QEMU's TCG, nothing to fix
	[ -c "$dev" ] || { lv_say "$dev is not a character device; leaving it alone"; return 0; }
	getent group kvm >/dev/null || { lv_say "no 'kvm' group on this host; cannot give $dev to it"; return 0; }
	mode=$(stat -c %a "$dev")
	grp=$(stat -c %G "$dev")
	owner=$(stat -c %U "$dev")
	if [ "$grp" != kvm ] || [ $((8#$mode & 8#060)) -ne $((8#060)) ]; then
		chgrp kvm "$dev" && chmod 0660 "$dev" || { lv_say "could not fix $dev (mode $mode $owner:$grp)"; return 1; }
		lv_say "fixed $dev: it was mode $mode $owner:$grp, which QEMU's user cannot open (no udev rule was" \
			"applied), and libvirt then re-probes QEMU at every capability lookup (~20 s each); it is now" \
			"0660 root:kvm, as Debian's udev rule makes it"
	fi
	return 0
}

# now_ms: milliseconds since the epoch
now_ms() { date +%s%3N; }

caps_check() {
	local uri=$1 i t0 t1 ms=()
	for i in 1 2; do
		t0=$(now_ms)
		virsh -c "$uri" domcapabilities >/dev/null 2>&1 || { lv_say "virsh domcapabilities failed on $uri"; return 1; }
		t1=$(now_ms)
		ms+=($((t1 - t0)))
	done
	lv_say "capability lookups: ${ms[0]} ms, then ${ms[1]} ms"
	if [ "${ms[1]}" -gt 3000 ]; then
		lv_say "libvirt re-probes QEMU at every capability lookup (the second took ${ms[1]} ms): every domain" \
			"define will wait as long. Usually /dev/kvm has a mode QEMU's user cannot use and libvirt judges" \
			"its cache stale each time: 'chgrp kvm /dev/kvm; chmod 0660 /dev/kvm', then restart libvirtd"
		return 1
	fi
	return 0
}

lv_wait() {
	local uri=$1 end=$((SECONDS + $2)) out
	while [ "$SECONDS" -lt "$end" ]; do
		out=$(virsh -c "$uri" version 2>&1) && return 0
		# the daemon answered, without that driver (the tests of that error make such a libvirtd)
		grep -q 'no connection driver available' <<<"$out" && return 0
		sleep 0.1
	done
	return 1
}

# lv_ns_enter RUN COMMAND…: runs COMMAND in RUN's network and mount namespaces
lv_ns_enter() {
	local run=$1
	shift
	nsenter --mount="$run/ns/mnt" --net="/run/netns/$(cat "$run/netns")" -- "$@"
}

lv_ns_start() {
	local run=$1 ns root d
	mkdir -p "$run"
	ns="vmmgr-lv-$$-$RANDOM"
	root="$run/root"
	ip netns add "$ns" || { lv_say "cannot create network namespace '$ns' (need root and iproute2)"; return 1; }
	echo "$ns" > "$run/netns"
	ip -n "$ns" link set lo up
	# private libvirt directories; /etc/libvirt from the package defaults (the daemons' *.conf and the
	# nwfilters libvirt ships), never the host's domains, networks or pools
	mkdir -p "$root"/{run,lib,etc,log,cache} "$root/etc/qemu/networks/autostart" "$root/etc/nwfilter" \
		"$root/lib/"{qemu,boot,images,dnsmasq} "$root/log/qemu" "$root/cache/qemu" "$run/ns"
	cp /etc/libvirt/*.conf "$root/etc/"
	[ -d /usr/share/libvirt/nwfilter ] && cp /usr/share/libvirt/nwfilter/*.xml "$root/etc/nwfilter/"
	chmod 755 "$root" "$root"/*
	# the mount namespace is kept by a bind mount on RUN/ns/mnt; that needs a private mount under it
	mount --bind "$run/ns" "$run/ns" && mount --make-private "$run/ns" && touch "$run/ns/mnt" ||
		{ lv_ns_stop "$run"; lv_say "cannot prepare the mount namespace under $run/ns"; return 1; }
	# made from inside the network namespace, so its fresh /sys shows that namespace's devices
	nsenter --net="/run/netns/$ns" -- unshare --mount="$run/ns/mnt" --propagation private sh -euc '
		root=$1
		# as "ip netns exec" does: the old /sys goes with everything under it, cgroups included
		umount -l /sys
		mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
		mount --bind "$root/run" /run/libvirt 2>/dev/null || { mkdir -p /run/libvirt; mount --bind "$root/run" /run/libvirt; }
		mount --bind "$root/lib" /var/lib/libvirt
		mount --bind "$root/etc" /etc/libvirt
		mount --bind "$root/log" /var/log/libvirt
		mount --bind "$root/cache" /var/cache/libvirt
		for d in $2; do
			so=$(ls /usr/lib/*/libvirt/connection-driver/libvirt_driver_$d.so)
			dir=${so%/*}
			mountpoint -q "$dir" || {
				mkdir -p "$1/drivers" && cp -a "$dir/." "$1/drivers/" && mount --bind "$1/drivers" "$dir"
			}
			rm -f "$dir/${so##*/}"
		done
	' sh "$root" "${LV_HIDE_DRIVERS:-}" || { lv_ns_stop "$run"; lv_say "cannot make the mount namespace"; return 1; }
	echo "qemu:///system?socket=$root/run/libvirt-sock" > "$run/uri"
	lv_ns_enter "$run" virtlogd -d -p "$run/virtlogd.pid" || { lv_ns_stop "$run"; lv_say "virtlogd did not start"; return 1; }
	lv_ns_enter "$run" libvirtd -d -p "$run/libvirtd.pid" || { lv_ns_stop "$run"; lv_say "libvirtd did not start"; return 1; }
	lv_wait "$(cat "$run/uri")" 30 && return 0
	lv_ns_stop "$run"
	lv_say "libvirtd did not answer within 30 s"
	return 1
}

lv_ns_restart_libvirtd() {
	local run=$1
	end_pid "$(cat "$run/libvirtd.pid" 2>/dev/null || true)"
	lv_ns_enter "$run" libvirtd -d -p "$run/libvirtd.pid" || { lv_say "libvirtd did not start again"; return 1; }
	lv_wait "$(cat "$run/uri")" 30 || { lv_say "libvirtd did not answer within 30 s after its restart"; return 1; }
}

# lv_end_all RUNTIME_DIR URI LIBVIRTD_PID VIRTLOGD_PID: domains destroyed and networks stopped through
# libvirt (their qemu and dnsmasq end), then the daemons, then any qemu or dnsmasq whose pid file is
# still in the runtime dir (a libvirtd that no longer answered)
lv_end_all() {
	local rt=$1 uri=$2 lpid=$3 vpid=$4 d f
	if pid_alive "$lpid" && virsh -c "$uri" version >/dev/null 2>&1; then
		for d in $(virsh -q -c "$uri" list --name 2>/dev/null); do virsh -q -c "$uri" destroy "$d" >/dev/null 2>&1 || true; done
		for d in $(virsh -q -c "$uri" net-list --name 2>/dev/null); do virsh -q -c "$uri" net-destroy "$d" >/dev/null 2>&1 || true; done
	fi
	end_pid "$lpid"
	end_pid "$vpid"
	# a pid file can outlive its process (a host reboot, an ended session): only a qemu or dnsmasq
	# whose command line names this libvirtd's files is ended, never another process with that pid
	local pid
	for f in "$rt"/qemu/*.pid "$rt"/network/*.pid; do
		[ -f "$f" ] || continue
		pid=$(head -c 20 "$f" | tr -dc 0-9)
		pid_alive "$pid" || continue
		case "$(cat "/proc/$pid/comm" 2>/dev/null)" in
		dnsmasq | qemu-system-*) ;;
		*) continue ;;
		esac
		grep -qF "$(basename "$f" .pid)" "/proc/$pid/cmdline" 2>/dev/null && end_pid "$pid"
	done
}

lv_ns_stop() {
	local run=$1 ns pid
	ns=$(cat "$run/netns" 2>/dev/null || true)
	if [ -f "$run/uri" ]; then
		lv_end_all "$run/root/run" "$(cat "$run/uri")" "$(cat "$run/libvirtd.pid" 2>/dev/null || true)" \
			"$(cat "$run/virtlogd.pid" 2>/dev/null || true)"
	fi
	# anything left in the namespace this run made is this run's (a guest helper, a stray dnsmasq)
	if [ -n "$ns" ]; then
		for pid in $(ip netns pids "$ns" 2>/dev/null); do end_pid "$pid"; done
		ip netns del "$ns" 2>/dev/null || true
	fi
	rm -f "$run/netns" "$run/libvirtd.pid" "$run/virtlogd.pid" "$run/uri"
	if [ -e "$run/ns/mnt" ]; then
		umount "$run/ns/mnt" 2>/dev/null || true
	fi
	mountpoint -q "$run/ns" && umount "$run/ns"
	rm -rf "$run/ns" "$run/root"
	return 0
}
