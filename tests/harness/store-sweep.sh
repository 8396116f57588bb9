# Sourced by tests/integ/lib.sh and bench/lib.sh: the end of a scratch store in the harness's
# libvirtd, whatever state its test or benchmark stopped in.
#
#   store_sweep STATE_DIR URI NETNS   (with $VM_BIN, the vmmgr of the test or benchmark)
#
# Ends what the store made outside itself: its subnets' networks, its load balancers' HAProxy and
# namespaces, its routed VPCs' routers (their dnsmasq and namespaces), its metadata service, and its
# nftables tables in NETNS (the harness's namespace; none when empty).  Processes are ended by the
# pids of the namespaces only this store made, or by the pid its metadata service wrote while that
# still holds its lock.  The instances are the caller's (terminated before, waited for or not).
store_sweep() {
	local s=$1 lv=$2 ns=$3 id d pns mp t fam
	# ids first: every vmmgr call repairs drift and would start a destroyed network again
	for id in $("$VM_BIN" --state-dir "$s" describe-subnets --query 'Subnets[].SubnetId' --output text 2>/dev/null || true); do
		virsh -q -c "$lv" net-destroy "vmmgr-$id" >/dev/null 2>&1 || true
	done
	# load balancers (vmmgr-lb-<id>: only their HAProxy runs there) and routers (vmmgr-<vpc>: only
	# their dnsmasq); their ports and transit links go with the namespaces
	for d in "$s"/elb/*/ "$s"/routers/*/; do
		[ -d "$d" ] || continue
		case "$d" in
		"$s"/elb/*) pns=vmmgr-lb-$(basename "$d") ;;
		*) pns=vmmgr-$(basename "$d") ;;
		esac
		[ -e "/run/netns/$pns" ] || continue
		ip netns pids "$pns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "$pns" 2>/dev/null || true
	done
	# the metadata service outlives `vmmgr serve`
	mp=$(cat "$s/imds/pid" 2>/dev/null || true)
	if [ -n "$mp" ] && ! flock -n "$s/imds/lock" true 2>/dev/null; then kill -9 "$mp" 2>/dev/null || true; fi
	t=$(sqlite3 "$s/state.db" "SELECT value FROM config WHERE key = 'firewall_table'" 2>/dev/null || true)
	if [ -n "$t" ] && [ -n "$ns" ]; then
		for fam in inet bridge; do ip netns exec "$ns" nft delete table "$fam" "$t" >/dev/null 2>&1 || true; done
	fi
	return 0
}
