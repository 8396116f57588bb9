# Shared by the benchmarks that run real guests: a scratch state dir ($T, $S), `vm`, and the
# cleanup that terminates what is left and removes the networks and firewall tables it made.
T=$(mktemp -d "/tmp/vmmgr-bench-${1:-run}.XXXXXX")
chmod 755 "$T"
S="$T/state"
LV=${VMMGR_LIBVIRT_URI:-qemu:///system}
vm() { "$VM_BIN" --state-dir "$S" "$@"; }
. "$(dirname "${BASH_SOURCE[0]}")/../tests/harness/store-sweep.sh"
bench_cleanup() {
	local ids
	ids=$(vm describe-instances --output json 2>/dev/null | jq -r '.Reservations[].Instances[] | select(.State.Name != "terminated") | .InstanceId' || true)
	if [ -n "$ids" ]; then
		vm terminate-instances --instance-ids $ids >/dev/null 2>&1 || true
		# their teardown jobs touch the networks (DHCP entries): done before those go, or a job
		# would start a network again after its destroy below
		vm wait instance-terminated --instance-ids $ids >/dev/null 2>&1 || true
	fi
	store_sweep "$S" "$LV" "$(cat "${VMMGR_TEST_RUN:-/nonexistent}/netns" 2>/dev/null || true)"
}

# bench_guest [SUBNET]: one t2.small guest of the default VPC (or of SUBNET) with key pair b
# ($T/b.pem), ssh open from the VPC; sets $id, $ip (its address), $gw (its subnet's gateway, the
# host side, or its router's), $BENCH_NS (where the gateway is) and g (ssh COMMAND…)
bench_guest() {
	local subnet=${1:-}
	vm create-key-pair --key-name b --key-type ed25519 --query KeyMaterial --output text > "$T/b.pem"
	chmod 600 "$T/b.pem"
	local ami vpc cidr sg ns
	ami=$(vm describe-images --filters Name=name,Values=vmmgr-tiny --query 'Images[0].ImageId' --output text)
	if [ -n "$subnet" ]; then
		vpc=$(vm describe-subnets --subnet-ids "$subnet" --query 'Subnets[0].VpcId' --output text)
	else
		vpc=$(vm describe-vpcs --query 'Vpcs[0].VpcId' --output text)
	fi
	cidr=$(vm describe-vpcs --vpc-ids "$vpc" --query 'Vpcs[0].CidrBlock' --output text)
	sg=$(vm describe-security-groups --filters "Name=vpc-id,Values=$vpc" Name=group-name,Values=default --query 'SecurityGroups[0].GroupId' --output text)
	vm authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr "$cidr" >/dev/null
	id=$(vm run-instances --image-id "$ami" --instance-type t2.small --key-name b ${subnet:+--subnet-id "$subnet"} \
		--query 'Instances[0].InstanceId' --output text)
	for _ in $(seq 600); do vm get-console-output --instance-id "$id" --output json | jq -r .Output | grep -q "instance $id ready" && break; sleep 0.5; done
	ip=$(vm describe-instances --instance-ids "$id" --query 'Reservations[0].Instances[0].PrivateIpAddress' --output text)
	gw=${ip%.*}.1
	# a VPC that overlaps another is reached from its router (net/router.c), any other from the host
	BENCH_NS=$(cat "${VMMGR_TEST_RUN:?}/netns")
	[ -e "/run/netns/vmmgr-$vpc" ] && BENCH_NS=vmmgr-$vpc
	for _ in $(seq 60); do g true 2>/dev/null && break; sleep 1; done
}
g() { ip netns exec "$BENCH_NS" ssh -i "$T/b.pem" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
	-o ConnectTimeout=20 -o BatchMode=yes "root@$ip" "$@"; }
