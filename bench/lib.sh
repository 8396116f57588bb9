# Shared by the benchmarks that run real guests: a scratch state dir ($T, $S), `vm`, and the
# cleanup that terminates what is left and removes the networks and firewall tables it made.
T=$(mktemp -d "/tmp/vmmgr-bench-${1:-run}.XXXXXX")
chmod 755 "$T"
S="$T/state"
LV=${VMMGR_LIBVIRT_URI:-qemu:///system}
vm() { "$VM_BIN" --state-dir "$S" "$@"; }
bench_cleanup() {
	local ids subnets
	ids=$(vm describe-instances --output json 2>/dev/null | jq -r '.Reservations[].Instances[] | select(.State.Name != "terminated") | .InstanceId' || true)
	if [ -n "$ids" ]; then vm terminate-instances --instance-ids $ids >/dev/null 2>&1 || true; fi
	# ids first: every vmmgr call repairs drift and would start a destroyed network again
	subnets=$(vm describe-subnets --query 'Subnets[].SubnetId' --output text 2>/dev/null || true)
	for id in $subnets; do virsh -q -c "$LV" net-destroy "vmmgr-$id" >/dev/null 2>&1 || true; done
	# the metadata service (it outlives `vmmgr serve`), while it holds its lock
	local mp
	mp=$(cat "$S/imds/pid" 2>/dev/null || true)
	if [ -n "$mp" ] && ! flock -n "$S/imds/lock" true 2>/dev/null; then kill -9 "$mp" 2>/dev/null || true; fi
	local t ns
	t=$(sqlite3 "$S/state.db" "SELECT value FROM config WHERE key = 'firewall_table'" 2>/dev/null || true)
	ns=$(cat "${VMMGR_TEST_RUN:-/nonexistent}/netns" 2>/dev/null || true)
	[ -n "$t" ] && [ -n "$ns" ] && for fam in inet bridge; do ip netns exec "$ns" nft delete table "$fam" "$t" >/dev/null 2>&1 || true; done
	true
}
