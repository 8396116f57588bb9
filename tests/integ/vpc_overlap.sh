#!/bin/bash
# Two VPCs with the same block (10.0.0.0/16), as two Terraform projects make them: the second gets a
# routing domain of its own (a router namespace with its DHCP and DNS, net/router.c).  Real guests:
# the same private address in each VPC, each reached in its own VPC only; DHCP, DNS and routing
# between subnets from the router; the default group's members across subnets; the metadata
# service telling the two same addresses apart; an internet gateway
# refused (not built yet); a killed dnsmasq started again; nothing left after the VPC is deleted.
. "$(dirname "$0")/lib.sh"
vm_init
SERVE_ARGS="--metrics-interval 0"
. "$(dirname "$0")/serve.sh"

vm create-key-pair --key-name k --key-type ed25519 --output json | jq -r .KeyMaterial > "$T/k.pem"
chmod 600 "$T/k.pem"
va=$(vm create-vpc --cidr-block 10.0.0.0/16 --query Vpc.VpcId --output text)
vb=$(vm create-vpc --cidr-block 10.0.0.0/16 --query Vpc.VpcId --output text)
[[ "$vb" == vpc-* && "$va" != "$vb" ]] || fail "a second VPC of 10.0.0.0/16 was refused: '$vb'"
sa=$(vm create-subnet --vpc-id "$va" --cidr-block 10.0.1.0/24 --query Subnet.SubnetId --output text)
sb1=$(vm create-subnet --vpc-id "$vb" --cidr-block 10.0.1.0/24 --query Subnet.SubnetId --output text)
sb2=$(vm create-subnet --vpc-id "$vb" --cidr-block 10.0.2.0/24 --query Subnet.SubnetId --output text)
grep -q "^vmmgr-$vb\b" <<<"$(ip netns list)" || fail "no router namespace for $vb"
for v in "$va" "$vb"; do allow_ssh "$(default_group "$v")" 10.0.0.0/16; done
ok "two VPCs of 10.0.0.0/16, the same subnet block in each"

run_in() { vm run-instances --image-id "$AMI" --instance-type t2.micro --key-name k --subnet-id "$1" \
	--private-ip-address "$2" --query 'Instances[0].InstanceId' --output text; }
a1=$(run_in "$sa" 10.0.1.20)
b1=$(run_in "$sb1" 10.0.1.20)
b3=$(run_in "$sb1" 10.0.1.21)
b2=$(run_in "$sb2" 10.0.2.30)
for i in "$a1" "$b1" "$b3" "$b2"; do wait_console "$i" "vmmgr: instance $i ready" 1; done
mac_of() { vm describe-instances --instance-ids "$1" --query 'Reservations[0].Instances[0].NetworkInterfaces[0].MacAddress' --output text; }
# ssh to a guest of VPC a from the host (which routes it), of VPC b from its router
ssh_a() { gssh "$T/k.pem" "$@"; }
ssh_b() {
	local ip=$1
	shift
	ip netns exec "vmmgr-$vb" ssh -i "$T/k.pem" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o LogLevel=ERROR -o ConnectTimeout=20 -o BatchMode=yes "root@$ip" "$@"
}
for try in 1 2 3 4 5 6; do ssh_b 10.0.2.30 true 2>/dev/null && break; sleep 5; done
[ "$(ssh_a 10.0.1.20 cat /sys/class/net/eth0/address)" = "$(mac_of "$a1")" ] || fail "10.0.1.20 from the host is not $a1"
[ "$(ssh_b 10.0.1.20 cat /sys/class/net/eth0/address)" = "$(mac_of "$b1")" ] || fail "10.0.1.20 in $vb is not $b1"
[ "$(ssh_b 10.0.2.30 "ip -4 -o addr show dev eth0" | grep -o 'inet [0-9./]*')" = "inet 10.0.2.30/24" ] ||
	fail "$b2 did not get its address from its VPC's DHCP"
ok "the same address 10.0.1.20 in both VPCs: each its own guest, addresses from each VPC's DHCP"

# in VPC b: a neighbour reaches its own VPC's 10.0.1.20 (by its MAC); a guest of another subnet
# reaches it through the router (the default group lets its members in across subnets); names
# from the router's DNS
ssh_b 10.0.1.21 "ping -c 2 -W 2 10.0.1.20 >/dev/null" || fail "$b3 did not reach 10.0.1.20 in its VPC"
grep -qi "$(mac_of "$b1")" <<<"$(ssh_b 10.0.1.21 "ip neigh show 10.0.1.20")" || fail "$b3's 10.0.1.20 is not $b1"
ssh_b 10.0.2.30 "ping -c 2 -W 2 10.0.1.20 >/dev/null" || fail "$b2 did not reach $b1 across subnets through the router"
dom=$(vm describe-instances --instance-ids "$b1" --query 'Reservations[0].Instances[0].PrivateDnsName' --output text)
grep -q "10.0.1.20" <<<"$(ssh_b 10.0.2.30 "nslookup $dom")" || fail "$b2 did not resolve $dom through its VPC's DNS"
ok "VPC b: neighbours, routing between its subnets, the default group across them, its own DNS"

# VPC a never reaches VPC b: b's only addresses are unknown to it
! ssh_a 10.0.1.20 "ping -c 2 -W 2 10.0.1.21 >/dev/null" || fail "$a1 reached 10.0.1.21, which only VPC b has"
! ssh_a 10.0.1.20 "ping -c 2 -W 2 10.0.2.30 >/dev/null" || fail "$a1 reached 10.0.2.30, which only VPC b has"
! grep -qi "$(mac_of "$b3")" <<<"$(ssh_a 10.0.1.20 "ip neigh show 10.0.1.21")" || fail "$a1 learnt $b3's MAC"
ok "VPC a never reaches VPC b"

# the metadata service: the same address asks in each VPC, each gets its own instance; in VPC b
# through the router's listener on the subnet's port
imds_id() { "$1" "$2" "printf 'GET /latest/meta-data/instance-id HTTP/1.0\r\n\r\n' | nc -w 5 169.254.169.254 80 | tail -n 1; true"; }
for try in $(seq 20); do [ "$(imds_id ssh_b 10.0.1.20)" = "$b1" ] && break; sleep 1; done
[ "$(imds_id ssh_b 10.0.1.20)" = "$b1" ] || fail "10.0.1.20 of $vb asked the metadata service: '$(imds_id ssh_b 10.0.1.20)'"
[ "$(imds_id ssh_a 10.0.1.20)" = "$a1" ] || fail "10.0.1.20 of $va asked the metadata service: '$(imds_id ssh_a 10.0.1.20)'"
[ "$(imds_id ssh_b 10.0.2.30)" = "$b2" ] || fail "10.0.2.30 of $vb asked the metadata service: '$(imds_id ssh_b 10.0.2.30)'"
ok "the metadata service: each VPC's 10.0.1.20 is told its own instance"

# not built yet for such a VPC: a way out
igw=$(vm create-internet-gateway --query InternetGateway.InternetGatewayId --output text)
expect_error UnsupportedOperation vm attach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vb"
[ "$(vm describe-internet-gateways --internet-gateway-ids "$igw" --output json | jq '.InternetGateways[0].Attachments | length')" = 0 ] ||
	fail "the refused attach left an attachment"
vm delete-internet-gateway --internet-gateway-id "$igw"
ok "an internet gateway for the overlapping VPC is refused, nothing attached"

# a terminated guest's address goes to the next: the router's DHCP lease is released
vm terminate-instances --instance-ids "$b3" >/dev/null
vm wait instance-terminated --instance-ids "$b3"
b4=$(run_in "$sb1" 10.0.1.21)
wait_console "$b4" "vmmgr: instance $b4 ready" 1
[ "$(ssh_b 10.0.1.21 cat /sys/class/net/eth0/address)" = "$(mac_of "$b4")" ] || fail "$b4 did not get 10.0.1.21 again"
ok "an address of a terminated guest leased again to a new one"

# the router's dnsmasq killed: the next command's reconcile starts it again, and it answers
old=$(cat "$S/routers/$vb/dnsmasq.pid")
kill "$old"
vm describe-vpcs >/dev/null
new=$(cat "$S/routers/$vb/dnsmasq.pid")
[ "$new" != "$old" ] && kill -0 "$new" || fail "the router's dnsmasq was not started again"
grep -q "10.0.1.20" <<<"$(ssh_b 10.0.2.30 "nslookup $dom")" || fail "the restarted dnsmasq does not answer"
ok "a killed router dnsmasq started again by the next command"

vm terminate-instances --instance-ids "$a1" "$b1" "$b2" "$b4" >/dev/null
vm wait instance-terminated --instance-ids "$a1" "$b1" "$b2" "$b4"
pid=$(cat "$S/routers/$vb/dnsmasq.pid")
for s in "$sa" "$sb1" "$sb2"; do vm delete-subnet --subnet-id "$s"; done
vm delete-vpc --vpc-id "$vb"
vm delete-vpc --vpc-id "$va"
! grep -q "^vmmgr-$vb\b" <<<"$(ip netns list)" || fail "the router namespace of $vb is left"
! kill -0 "$pid" 2>/dev/null || fail "the router's dnsmasq ($pid) still runs"
[ ! -e "$S/routers/$vb" ] || fail "the router's files are left"
ok "the VPC deleted: its router, its dnsmasq and their files gone"
