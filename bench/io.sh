#!/bin/bash
# I/O through an attached gp3 volume against the same kind of qcow2 attached by hand with
# `virsh attach-disk` (no I/O limits), in one running tiny guest, interleaved ROUNDS times:
# sequential write and read (dd, 1 MiB blocks, caches dropped) and random 4 KiB reads with O_DIRECT
# (bench/io_rand.c, built static here).  Prints medians and the ratios ours/by-hand: close to 1,
# except where the gp3 limits (3000 IOPS, 125 MiB/s) are reached.
#
#   bench/io.sh [ROUNDS] [MIB]    (needs a running libvirtd; bench/run.sh provides one)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
mib=${2:-256}
VM_BIN=${VMMGR_BIN:-$top/vmmgr/vmmgr}
export VMMGR_IMAGES_DIR=${VMMGR_IMAGES_DIR:-$top/images/tiny}
export VMMGR_DEFAULT_VPC_CIDR=${VMMGR_DEFAULT_VPC_CIDR:-10.249.0.0/16}
. "$top/bench/lib.sh" io
cleanup() {
	bench_cleanup
	rm -rf "$T"
}
trap cleanup EXIT

gcc -O2 -static -o "$T/io_rand" "$top/bench/io_rand.c"
vm init --accel tcg >/dev/null
ami=$(vm describe-images --output json | jq -r '.Images[0].ImageId')
vm create-key-pair --key-name bench --key-type ed25519 --query KeyMaterial --output text > "$T/k.pem"
chmod 600 "$T/k.pem"
vm authorize-security-group-ingress --group-id "$(vm describe-security-groups --query 'SecurityGroups[0].GroupId' --output text)" \
	--protocol tcp --port 22 --cidr "$VMMGR_DEFAULT_VPC_CIDR" >/dev/null
id=$(vm run-instances --image-id "$ami" --key-name bench --query 'Instances[0].InstanceId' --output text)
for _ in $(seq 1200); do grep -qF "vmmgr: instance $id ready" "$S/instances/$id/console.log" 2>/dev/null && break; sleep 0.1; done
ip=$(vm describe-instances --instance-ids "$id" --query 'Reservations[0].Instances[0].PrivateIpAddress' --output text)
sub=$(vm describe-subnets --query 'Subnets[0].SubnetId' --output text)
br=$(virsh -q -c "$LV" net-info "vmmgr-$sub" | awk '$1 == "Bridge:" {print $2}')
ns=""
for cand in $(ip netns list | awk '{print $1}'); do ip -n "$cand" link show "$br" >/dev/null 2>&1 && ns=$cand; done
g() {
	if [ -n "$ns" ]; then set -- ip netns exec "$ns" ssh "$@"; else set -- ssh "$@"; fi
	"$@"
}
gssh() { g -i "$T/k.pem" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=30 "root@$ip" "$@"; }
gssh 'cat > /tmp/io_rand; chmod +x /tmp/io_rand' < "$T/io_rand"

vol=$(vm create-volume --size 1 --volume-type gp3 --query VolumeId --output text)
vm attach-volume --volume-id "$vol" --instance-id "$id" --device /dev/sdf >/dev/null
vm wait volume-in-use --volume-ids "$vol"
qemu-img create -q -f qcow2 "$T/by-hand.qcow2" 1G
virsh -q -c "$LV" attach-disk "$id" "$T/by-hand.qcow2" vdq --driver qemu --subdriver qcow2 \
	--targetbus virtio --serial byhand --live >/dev/null
dev_of() { gssh "for d in /sys/block/vd*; do [ \"\$(cat \$d/serial 2>/dev/null)\" = $1 ] && echo /dev/\${d##*/}; done; true"; }
for _ in $(seq 60); do ours=$(dev_of "vol${vol#vol-}"); theirs=$(dev_of byhand); [ -n "$ours" ] && [ -n "$theirs" ] && break; sleep 1; done
[ -n "$ours" ] && [ -n "$theirs" ] || { echo "the guest does not see both disks" >&2; exit 1; }

# one round on DEV: "write_MiBps read_MiBps rand_iops", timed inside the guest
round() {
	gssh "t() { awk '{print \$1}' /proc/uptime; }
		a=\$(t); dd if=/dev/zero of=$1 bs=1M count=$mib conv=fsync 2>/dev/null; b=\$(t)
		echo 3 > /proc/sys/vm/drop_caches
		c=\$(t); dd if=$1 of=/dev/null bs=1M count=$mib 2>/dev/null; d=\$(t)
		r=\$(/tmp/io_rand $1 5)
		awk -v m=$mib -v a=\$a -v b=\$b -v c=\$c -v d=\$d -v r=\$r 'BEGIN {printf \"%.1f %.1f %s\\n\", m / (b - a), m / (d - c), r}'"
}
ow=() orr=() oi=() tw=() tr=() ti=() mw=() mr=() mi=()
for _ in $(seq "$rounds"); do
	read -r w r i <<<"$(round "$ours")"; ow+=("$w"); orr+=("$r"); oi+=("$i")
	read -r w r i <<<"$(round "$theirs")"; tw+=("$w"); tr+=("$r"); ti+=("$i")
done
# the same volume with gp3's highest limits (16000 IOPS, 1000 MiB/s), changed live: vmmgr's path
# apart from the limits
vm modify-volume --volume-id "$vol" --iops 16000 --throughput 1000 >/dev/null
for _ in $(seq "$rounds"); do
	read -r w r i <<<"$(round "$ours")"; mw+=("$w"); mr+=("$r"); mi+=("$i")
done
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "I/O in a TCG guest, $rounds rounds of $mib MiB each, gp3 volume ($ours) vs virsh attach-disk ($theirs)"
printf '  %-22s %10s %10s %6s %12s %6s\n' "" "gp3" by-hand ratio "gp3 at max" ratio
line() {
	local a b c
	a=$(med "${@:2:$rounds}"); b=$(med "${@:$((rounds + 2)):$rounds}"); c=$(med "${@:$((2 * rounds + 2)):$rounds}")
	printf '  %-22s %10s %10s %6s %12s %6s\n' "$1" "$a" "$b" "$(ratio "$a" "$b")" "$c" "$(ratio "$c" "$b")"
}
line "seq write MiB/s" "${ow[@]}" "${tw[@]}" "${mw[@]}"
line "seq read MiB/s" "${orr[@]}" "${tr[@]}" "${mr[@]}"
line "random 4 KiB read IOPS" "${oi[@]}" "${ti[@]}" "${mi[@]}"
echo "  (gp3 limits: 3000 IOPS, 125 MiB/s by default; at max 16000 IOPS, 1000 MiB/s)"
