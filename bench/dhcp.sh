#!/bin/bash
# DHCP: how fast a new instance gets its address.  For SAMPLES launches into the default subnet,
# a sniffer in the harness's namespace (the guest's tap and the subnet's bridge) timestamps the guest's DISCOVER,
# dnsmasq's OFFER, the REQUEST and the ACK.  Prints dnsmasq's answer times (DISCOVER→OFFER and
# REQUEST→ACK; target under 50 ms) and, from `run-instances`, the time to the ACK (the guest has
# its address) against the time to the ready line alone.
#
#   bench/dhcp.sh [SAMPLES]    (needs a running libvirtd; bench/run.sh provides one)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-5}
VM_BIN=${VMMGR_BIN:-$top/vmmgr/vmmgr}
export VMMGR_IMAGES_DIR=${VMMGR_IMAGES_DIR:-$top/images/tiny}
export VMMGR_DEFAULT_VPC_CIDR=${VMMGR_DEFAULT_VPC_CIDR:-10.251.0.0/16}
sniffer=""
. "$top/bench/lib.sh" dhcp
cleanup() {
	if [ -n "$sniffer" ]; then kill "$sniffer" 2>/dev/null || true; fi
	bench_cleanup
	if [ -n "${VMMGR_BENCH_KEEP:-}" ]; then cp "$T/sniff" "$VMMGR_BENCH_KEEP" 2>/dev/null || true; fi
	rm -rf "$T"
}
trap cleanup EXIT

vm init --accel tcg >/dev/null
ami=$(vm describe-images --output json | jq -r '.Images[0].ImageId')
sub=$(vm describe-subnets --query 'Subnets[0].SubnetId' --output text)
br=$(virsh -q -c "$LV" net-info "vmmgr-$sub" | awk '$1 == "Bridge:" {print $2}')
ns=""
for cand in $(ip netns list | awk '{print $1}'); do
	ip -n "$cand" link show "$br" >/dev/null 2>&1 && ns=$cand
done
[ -n "$ns" ] || { echo "no namespace holds bridge $br" >&2; exit 1; }
ip netns exec "$ns" python3 -u "$top/bench/dhcp_sniff.py" > "$T/sniff" &
sniffer=$!
for _ in $(seq 100); do grep -q listening "$T/sniff" && break; sleep 0.05; done

now() { date +%s.%N; }
offer=() ack=() to_addr=() to_ready=()
for i in $(seq "$n"); do
	t0=$(now)
	id=$(vm run-instances --image-id "$ami" --output json | jq -r '.Instances[0].InstanceId')
	mac=$(vm describe-instances --instance-ids "$id" --query 'Reservations[0].Instances[0].NetworkInterfaces[0].MacAddress' --output text)
	for _ in $(seq 3000); do grep -qF "vmmgr: instance $id ready" "$S/instances/$id/console.log" 2>/dev/null && break; sleep 0.02; done
	t_ready=$(now)
	sleep 0.2
	grep " $mac$" "$T/sniff" > "$T/s$i" || true
	read -r r_offer r_ack r_addr < <(awk -v t0="$t0" '
		$2 == "DISCOVER" && !d {d = $1} $2 == "OFFER" && !o {o = $1}
		$2 == "REQUEST" && !q {q = $1} $2 == "ACK" && !a {a = $1}
		END {if (!a) {print "- - -"; exit} printf "%.1f %.1f %.0f\n", (o - d) * 1000, (a - q) * 1000, (a - t0) * 1000}' "$T/s$i")
	offer+=("$r_offer"); ack+=("$r_ack"); to_addr+=("$r_addr")
	to_ready+=("$(awk -v a="$t0" -v b="$t_ready" 'BEGIN {printf "%.0f", (b - a) * 1000}')")
	vm terminate-instances --instance-ids "$id" >/dev/null
done

med() { printf '%s\n' "$@" | { grep -v -- - || true; } | sort -n | awk '{a[NR]=$1} END {print NR ? a[int((NR+1)/2)] : "-"}'; }
mo=$(med "${offer[@]}"); ma=$(med "${ack[@]}"); mad=$(med "${to_addr[@]}"); mr=$(med "${to_ready[@]}")
echo "DHCP on the subnet bridge, $n launches (TCG)"
echo "  dnsmasq DISCOVER->OFFER: median ${mo} ms   (${offer[*]})"
echo "  dnsmasq REQUEST->ACK:    median ${ma} ms   (${ack[*]})   target < 50 ms"
echo "  run-instances -> ACK (address): median ${mad} ms   (${to_addr[*]})"
echo "  run-instances -> ready line:    median ${mr} ms   (${to_ready[*]})"
echo "  address / ready ratio: $(awk "BEGIN {printf \"%.2f\", $mad / $mr}")"
