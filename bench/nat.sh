#!/bin/bash
# Throughput out of a guest through the uplink's source NAT against the same guest sending to the
# host side of its bridge without NAT: the guest pipes MB megabytes of zeros into busybox nc, to a
# receiver in an "outside" namespace (203.0.113.10, reached through the uplink veth, the subnet
# public by its route to an internet gateway) and to one on the subnet's gateway address,
# alternately, SAMPLES times each; each receiver times what it got.  The baseline is what the
# guest gets without vmmgr's way out: the host side of its own bridge, no NAT, no route.
# Prints MB/s both ways and the ratio NAT/direct (goal at least 0.9).
# With "routed", the guest is in a VPC that overlaps the default one (net/router.c): its way out is
# two NATs (its router's, then the uplink's masquerade of the transit address), and the baseline
# the router's side of its bridge (its gateway address there).
#
#   bench/nat.sh [SAMPLES] [MB] [routed]   (default 3 32; needs the harness's libvirtd: bench/run.sh)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
samples=${1:-3} mb=${2:-32} mode=${3:-}
VM_BIN=${VMMGR_BIN:-$top/vmmgr/vmmgr}
export VMMGR_IMAGES_DIR=${VMMGR_IMAGES_DIR:-$top/images/tiny}
. "$top/bench/lib.sh" nat
ns=$(cat "${VMMGR_TEST_RUN:?run through bench/run.sh or with VMMGR_TEST_RUN}/netns")
out=vmmgr-bench-out-$$
up=vb$$
cleanup() {
	[ -n "${rx_pids:-}" ] && kill $rx_pids 2>/dev/null
	ip netns del "$out" 2>/dev/null || true
	bench_cleanup
	rm -rf "$T"
}
trap cleanup EXIT

# the outside, joined to the harness's namespace by the uplink veth
ip netns add "$out"
ip link add "$up" type veth peer name vbo$$
ip link set "$up" netns "$ns"
ip link set vbo$$ netns "$out"
ip netns exec "$ns" ip addr add 198.51.100.2/24 dev "$up"
ip netns exec "$ns" ip link set "$up" up
ip netns exec "$ns" ip route add 203.0.113.0/24 via 198.51.100.1 dev "$up"
ip netns exec "$out" ip addr add 198.51.100.1/24 dev vbo$$
ip netns exec "$out" ip link set vbo$$ up
ip netns exec "$out" ip link set lo up
ip netns exec "$out" ip addr add 203.0.113.10/32 dev lo

vm init --accel tcg --uplink "$up" >/dev/null
if [ "$mode" = routed ]; then
	# the default VPC's block again: a VPC with a router of its own, made public like the default
	dcidr=$(vm describe-vpcs --filters Name=is-default,Values=true --query 'Vpcs[0].CidrBlock' --output text)
	rv=$(vm create-vpc --cidr-block "$dcidr" --query Vpc.VpcId --output text)
	rs=$(vm create-subnet --vpc-id "$rv" --cidr-block "${dcidr%.0.0/16}.7.0/24" --query Subnet.SubnetId --output text)
	igw=$(vm create-internet-gateway --query InternetGateway.InternetGatewayId --output text)
	vm attach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$rv"
	rtb=$(vm describe-route-tables --filters "Name=vpc-id,Values=$rv" --query 'RouteTables[0].RouteTableId' --output text)
	vm create-route --route-table-id "$rtb" --destination-cidr-block 0.0.0.0/0 --gateway-id "$igw" >/dev/null
	bench_guest "$rs"
	side=router
else
	# the default VPC's main table routes 0.0.0.0/0 to its internet gateway: its subnets are public
	bench_guest
fi

# receivers: each connection's bytes and seconds (first byte to close), one line per connection
cat > "$T/rx.py" <<'PY'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(4)
log = open(sys.argv[3], "a", buffering=1)
while True:
    c, _ = s.accept()
    n, t0 = 0, None
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        t0 = t0 or time.monotonic()
        n += len(b)
    log.write("%d %.6f\n" % (n, time.monotonic() - (t0 or time.monotonic())))
    c.close()
PY
: > "$T/nat.log" && : > "$T/direct.log"
ip netns exec "$out" python3 "$T/rx.py" 203.0.113.10 9000 "$T/nat.log" &
rx_pids=$!
ip netns exec "$BENCH_NS" python3 "$T/rx.py" "$gw" 9000 "$T/direct.log" &
rx_pids="$rx_pids $!"
for _ in $(seq 50); do
	[ -n "$(ip netns exec "$out" ss -Hltn 'sport = :9000')" ] && [ -n "$(ip netns exec "$BENCH_NS" ss -Hltn "src $gw:9000")" ] && break
	sleep 0.1
done
# send ADDR LOG: MB megabytes from the guest; prints MB/s as the receiver saw them
send() {
	local before
	before=$(wc -l < "$2")
	g "dd if=/dev/zero bs=65536 count=$((mb * 16)) 2>/dev/null | nc -w 10 $1 9000" || true
	for _ in $(seq 50); do [ "$(wc -l < "$2")" -gt "$before" ] && break; sleep 0.1; done
	tail -n 1 "$2" | awk -v want=$((mb * 1048576)) '{ if ($1 != want) { print "received " $1 " of " want " bytes" > "/dev/stderr"; exit 1 }
		printf "%.2f\n", $1 / 1048576 / $2 }'
}
echo "guest $id at $ip; $mb MB per sample, $samples samples each"
: > "$T/nat" && : > "$T/direct"
for s in $(seq "$samples"); do
	send "$gw" "$T/direct.log" | tee -a "$T/direct" | sed "s|^|to the ${side:-host} side, no NAT: MB/s |"
	send 203.0.113.10 "$T/nat.log" | tee -a "$T/nat" | sed 's|^|out through the uplink, NAT: MB/s |'
done
python3 - "$T/direct" "$T/nat" "${side:-host}" <<'PY'
import statistics, sys
a = statistics.median(float(l) for l in open(sys.argv[1]))
b = statistics.median(float(l) for l in open(sys.argv[2]))
print("median MB/s from the guest: %s side without NAT %.2f, through the uplink with NAT %.2f; ratio %.2f (goal >= 0.9)" % (sys.argv[3], a, b, b / a))
PY
