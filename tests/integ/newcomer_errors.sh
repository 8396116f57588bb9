#!/bin/bash
# The errors a newcomer meets first each say what to do, and change nothing: no libvirtd, a
# libvirtd without the QEMU driver, a state dir vmmgr may not write, a state dir of a newer
# schema, and a default VPC block that a network of the host already uses.
. "$(dirname "$0")/lib.sh"

# expect_msg PATTERN COMMAND…: the command fails and its message matches PATTERN (grep -E)
expect_msg() {
	local pat=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "'$*' succeeded"
	grep -qE -- "$pat" <<<"$out" || fail "'$*' said: $out"
}

# no libvirtd at the URI
expect_msg "no libvirtd answers at .*: start it \(systemctl start libvirtd; or scripts/libvirtd.sh" \
	vm --connect "qemu:///system?socket=$T/no-such-sock" init --accel tcg
ok "no libvirtd: says to start one (or name another URI)"

# a libvirtd whose QEMU driver is not installed (hidden in its own mount namespace)
LV_HIDE_DRIVERS=qemu lv_ns_start "$T/noqemu" >/dev/null 2>&1 || fail "cannot start a libvirtd without the qemu driver"
# the second store (below) is swept too, whatever step failed
trap 'lv_ns_stop "$T/noqemu"; [ -z "${S2:-}" ] || store_sweep "$S2" "$LV" "$NS"; in_ns ip link del lan1 2>/dev/null || true; cleanup' EXIT
expect_msg "has no QEMU driver .*apt-get install libvirt-daemon-system" \
	vm --connect "$(cat "$T/noqemu/uri")" init --accel tcg
lv_ns_stop "$T/noqemu"
ok "libvirtd without the QEMU driver: says which package to install"

# a state dir that the user may not write
mkdir -p "$T/locked"
chmod 700 "$T/locked"
expect_msg "cannot use state dir .*: run vmmgr as root .*--state-dir" \
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$VM_BIN" --state-dir "$T/locked" describe-instances
[ -z "$(ls -A "$T/locked")" ] || fail "the locked state dir was written"
ok "a state dir without permission: says to run as root or choose another"

# a state dir that a newer vmmgr wrote
vm_init
python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version = 99'); c.commit()" "$S/state.db"
sum=$(sha256sum "$S/state.db")
expect_msg "written by a newer vmmgr \(schema version 99; this one, [0-9.]+, knows up to [0-9]+\): run the newer vmmgr" \
	vm describe-instances
[ "$(sha256sum "$S/state.db")" = "$sum" ] || fail "the newer store was changed"
python3 -c "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(c.execute('PRAGMA user_version').fetchone()[0])" "$S/state.db" |
	grep -qx 99 || fail "the schema version was changed"
ok "a state dir of a newer schema: refused, left as it is"

# a default VPC block that a network of libvirtd's host (here: the harness's namespace) uses
b=$(next_block)
in_ns ip link add lan0 type veth peer name lan0p
in_ns ip addr add "$b.5.1/24" dev lan0
in_ns ip link set lan0 up
S2="$T/state2"
expect_msg "\(InvalidVpc.Range\).*overlaps '$b.5.0/24' of interface 'lan0'.*--default-vpc-cidr" \
	"$VM_BIN" --state-dir "$S2" init --accel tcg --default-vpc-cidr "$b.0.0/16"
[ "$("$VM_BIN" --state-dir "$S2" describe-vpcs --query 'Vpcs[].VpcId' --output text 2>/dev/null || true)" = "" ] ||
	fail "a default VPC was made over the host's network"
in_ns ip link del lan0
"$VM_BIN" --state-dir "$S2" init --accel tcg --default-vpc-cidr "$b.0.0/16" >/dev/null || fail "init once the block is free"
ok "a default VPC block the host's network uses: refused with the option to choose another"
# a VPC the user makes over such a block (the homelab LAN's 10.x) gets a routing domain of its own:
# its subnet of the LAN's /24 works, and the host keeps its route to the LAN
c=$(next_block)
in_ns ip link add lan1 type veth peer name lan1p
in_ns ip addr add "$c.5.1/24" dev lan1
in_ns ip link set lan1 up
v=$("$VM_BIN" --state-dir "$S2" create-vpc --cidr-block "$c.0.0/16" --query Vpc.VpcId --output text) ||
	fail "a VPC over the LAN's block was refused"
s=$("$VM_BIN" --state-dir "$S2" create-subnet --vpc-id "$v" --cidr-block "$c.5.0/24" --query Subnet.SubnetId --output text) ||
	fail "a subnet of the LAN's own /24 was refused"
grep -q "^vmmgr-$v\b" <<<"$(ip netns list)" || fail "no router namespace for $v"
grep -qx "$c.5.0/24 dev lan1 proto kernel scope link src $c.5.1\( .*\)\?" <<<"$(in_ns ip -4 route show "$c.5.0/24")" ||
	fail "the host's route to the LAN changed: $(in_ns ip -4 route show "$c.5.0/24")"
"$VM_BIN" --state-dir "$S2" delete-subnet --subnet-id "$s" || fail "delete-subnet"
"$VM_BIN" --state-dir "$S2" delete-vpc --vpc-id "$v" || fail "delete-vpc"
! grep -q "^vmmgr-$v\b" <<<"$(ip netns list)" || fail "the router namespace of $v outlived it"
in_ns ip link del lan1
ok "a VPC over the block of the host's LAN: its own routing domain, the LAN's route kept"
# its networks and nftables tables: left behind, they would filter the tests after
store_sweep "$S2" "$LV" "$NS"
