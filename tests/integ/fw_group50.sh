#!/bin/bash
# A rule change on a security group of 50 members applies in one nftables transaction, and a packet
# test on two running members shows it.  48 of the members are stopped at once (a stopped instance
# keeps its interface, so its place in the group): only two guests boot.
. "$(dirname "$0")/lib.sh"
vm_init
vm create-key-pair --key-name k --key-type ed25519 --output json | jq -r .KeyMaterial > "$T/k.pem"
chmod 600 "$T/k.pem"
vpc=$(vm describe-vpcs --query 'Vpcs[0].VpcId' --output text)
p=$(vm describe-vpcs --query 'Vpcs[0].CidrBlock' --output text)
p=${p%.0.0/16}
g=$(vm create-security-group --group-name fifty --description "50 members" --vpc-id "$vpc" --query GroupId --output text)
allow_ssh "$g" "$p.0.1/32"
# the 48 first, so that the two guests that boot do not share the host's two cores with 48 QEMUs
# starting (under TCG that starved a guest's vCPU for minutes in CI)
for round in $(seq 6); do
	ids=$(launch --count 8 --instance-type t2.nano --security-group-ids "$g")
	vm stop-instances --force --instance-ids $ids >/dev/null
done
for i in $(seq 120); do
	n=$(vm describe-instances --filters Name=instance-state-name,Values=stopped --output json | jq '[.Reservations[].Instances[]] | length')
	[ "$n" = 48 ] && break
	sleep 0.5
done
[ "$n" = 48 ] || fail "$n of the 48 members were stopped after 60 s"
read -r a b <<<"$(launch --count 2 --instance-type t2.micro --key-name k --security-group-ids "$g" --user-data '#!/bin/sh
while :; do echo port80 | nc -l -p 80; done &
' | tr '\n' ' ')"
[ -n "$b" ] || fail "two instances were not launched"
wait_console "$a" "vmmgr: instance $a ready" 1
wait_console "$b" "vmmgr: instance $b ready" 1
t=$(fw_table)
members=$(in_ns nft list set inet "$t" "m-$g" | grep -oE '([0-9]+\.){3}[0-9]+' | sort -u | wc -l)
[ "$members" = 50 ] || fail "the group's firewall set has $members addresses, not 50"
ip_a=$(private_ip "$a")
ip_b=$(private_ip "$b")
port80() { gssh "$T/k.pem" "$ip_a" "nc -w 3 $ip_b 80 </dev/null 2>/dev/null || echo closed"; }
[ "$(port80)" = closed ] || fail "a member reached another's port 80 before any rule allows it"

# the netlink messages the command sends: an nftables transaction is one batch (NFNL_MSG_BATCH_BEGIN,
# type 0x10); the rule goes in one with every other change (`nft monitor` of nftables 1.0.6 crashes
# on the interval elements of these tables, so the batches are counted where they leave)
strace -f -qq -e trace=sendmsg -e signal=none -o "$T/netlink" \
	"$VM_BIN" --state-dir "$S" authorize-security-group-ingress --group-id "$g" --protocol tcp --port 80 --source-group "$g" >/dev/null ||
	fail "authorize failed"
batches=$(grep -c 'nlmsg_type=0x10 ' "$T/netlink" || true)
rules=$(grep 'nlmsg_type=0x10 ' "$T/netlink" | grep -c 'nlmsg_type=0xa06 ' || true)
[ "$batches" = 1 ] && [ "$rules" = 1 ] ||
	fail "the rule change sent $batches nftables transactions ($rules with rules), not one"
[ "$(port80)" = port80 ] || fail "after the rule, a member does not reach another's port 80"
tcp_open "$p.0.1" "$ip_b" 80 && fail "the group rule let a non-member (the gateway) in"
ok "a rule on a group of 50 members is one nftables transaction, and members reach each other by it at once"
