#!/bin/bash
# VPCs, subnets and security groups with real guests: instances of one subnet and of two subnets
# of a VPC reach each other and resolve each other's private DNS names; another VPC is out of
# reach; a group that allows only tcp/22 from one address lets exactly that in, and revoking the
# rule closes it on the running guest; a guest that changes its IP or MAC can no longer send.
. "$(dirname "$0")/lib.sh"
vm_init

vm create-key-pair --key-name k --key-type ed25519 --output json | jq -r .KeyMaterial > "$T/k.pem"
chmod 600 "$T/k.pem"

vpc1=$(vm describe-vpcs --filters Name=is-default,Values=true --query 'Vpcs[0].VpcId' --output text)
cidr1=$(vm describe-vpcs --vpc-ids "$vpc1" --query 'Vpcs[0].CidrBlock' --output text)
p1=${cidr1%.0.0/16}                     # 10.N
sub1=$(vm describe-subnets --filters "Name=vpc-id,Values=$vpc1" --query 'Subnets[0].SubnetId' --output text)
sub2=$(vm create-subnet --vpc-id "$vpc1" --cidr-block "$p1.48.0/24" --query 'Subnet.SubnetId' --output text)
p2=$(next_block)
vpc2=$(vm create-vpc --cidr-block "$p2.0.0/16" --query 'Vpc.VpcId' --output text)
sub3=$(vm create-subnet --vpc-id "$vpc2" --cidr-block "$p2.0.0/24" --query 'Subnet.SubnetId' --output text)
[[ "$sub2" == subnet-* && "$vpc2" == vpc-* && "$sub3" == subnet-* ]] || fail "create-subnet/create-vpc"
[ "$(vm describe-subnets --subnet-ids "$sub2" --query 'Subnets[0].AvailableIpAddressCount' --output text)" = 251 ] ||
	fail "a /24 has 251 usable addresses (AWS reserves 5)"
[ "$(vm describe-vpcs --filters "Name=cidr,Values=$p2.0.0/16" --query 'Vpcs[0].VpcId' --output text)" = "$vpc2" ] ||
	fail "describe-vpcs cidr filter"
ok "default VPC from init; create-subnet in it; a second VPC with a subnet"

# the host reaches guests over ssh from its side of each subnet (the gateway)
g1=$(default_group "$vpc1")
g2=$(default_group "$vpc2")
allow_ssh "$g1" "$cidr1"
allow_ssh "$g2" "$p2.0.0/16"

a1=$(launch --key-name k)
a2=$(launch --key-name k)
b1=$(launch --key-name k --subnet-id "$sub2")
c1=$(launch --key-name k --subnet-id "$sub3")
web=$(vm create-security-group --group-name web --description "ssh from one address" --vpc-id "$vpc1" --query GroupId --output text)
vm authorize-security-group-ingress --group-id "$web" \
	--ip-permissions "IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=$p1.0.1/32,Description=gw}]" >/dev/null
w1=$(launch --key-name k --security-group-ids "$web" --private-ip-address "$p1.0.77" --user-data '#!/bin/sh
while :; do echo port80 | nc -l -p 80; done &
')
for i in $a1 $a2 $b1 $c1 $w1; do wait_console "$i" "vmmgr: instance $i ready" 1; done
ip_a1=$(private_ip "$a1"); ip_a2=$(private_ip "$a2"); ip_b1=$(private_ip "$b1"); ip_c1=$(private_ip "$c1")
[ "$(private_ip "$w1")" = "$p1.0.77" ] || fail "--private-ip-address not honoured"
[[ "$ip_b1" == "$p1.48."* && "$ip_c1" == "$p2.0."* ]] || fail "addresses not from their subnets: $ip_b1 $ip_c1"
grep -q "vmmgr: eth0 $ip_a1/20" <<<"$(console "$a1")" || fail "guest did not get its address by DHCP"
j=$(vm describe-instances --instance-ids "$b1" --output json | jq '.Reservations[0].Instances[0]')
[ "$(jq -r .SubnetId <<<"$j")/$(jq -r .VpcId <<<"$j")" = "$sub2/$vpc1" ] || fail "SubnetId/VpcId"
[ "$(jq -r .PrivateDnsName <<<"$j")" = "ip-${ip_b1//./-}.us-east-1.compute.internal" ] || fail "PrivateDnsName"
[ "$(jq -r '.NetworkInterfaces[0].PrivateIpAddress' <<<"$j")" = "$ip_b1" ] || fail "NetworkInterfaces"
ok "instances got private addresses by DHCP from vmmgr's allocator, shown in describe-instances"

reach() { gssh "$T/k.pem" "$1" "ping -c 1 -W 3 $2 >/dev/null && echo yes || echo no"; }
[ "$(reach "$ip_a1" "$ip_a2")" = yes ] || fail "two instances of one subnet do not reach each other"
ok "two instances in one subnet reach each other"
[ "$(reach "$ip_a1" "$ip_b1")" = yes ] || fail "instances in two subnets of one VPC do not reach each other"
[ "$(reach "$ip_b1" "$ip_a2")" = yes ] || fail "subnet 2 does not reach subnet 1"
ok "instances in two subnets of one VPC reach each other"
[ "$(reach "$ip_a1" "$ip_c1")" = no ] || fail "an instance reached another VPC"
[ "$(reach "$ip_c1" "$ip_a1")" = no ] || fail "the other VPC reached in"
ok "instances in two VPCs do not reach each other"

name_b1="ip-${ip_b1//./-}.us-east-1.compute.internal"
[ "$(gssh "$T/k.pem" "$ip_a1" "nslookup $name_b1" | awk '/^Address/ {a=$2} END {print a}')" = "$ip_b1" ] ||
	fail "$name_b1 does not resolve from another subnet of the VPC"
ok "private DNS names resolve inside the VPC, across subnets"

# only tcp/22 from $p1.0.1: the allowed source gets in, another port and another source do not
tcp_open "$p1.0.1" "$p1.0.77" 22 || fail "port 22 closed to the allowed source"
tcp_open "$p1.0.1" "$p1.0.77" 80 && fail "port 80 open though only 22 is allowed"
tcp_open "$p1.48.1" "$p1.0.77" 22 && fail "port 22 open to a source the rule does not allow"
[ "$(gssh "$T/k.pem" "$ip_a1" "nc -w 3 $p1.0.77 22 </dev/null >/dev/null 2>&1 && echo open || echo closed")" = closed ] ||
	fail "another instance (not in the group) reached port 22"
ok "with only tcp/22 from one address: it answers there; another port and another source do not"
vm revoke-security-group-ingress --group-id "$web" --protocol tcp --port 22 --cidr "$p1.0.1/32" >/dev/null
tcp_open "$p1.0.1" "$p1.0.77" 22 && fail "revoked rule still lets port 22 in"
ok "revoking the rule closes the port on the running instance"

# the store's tables deleted behind vmmgr's back (what `nft flush ruleset` or a reboot does to them;
# not the flush itself: other tests share this namespace): the next command puts them back
t=$(fw_table)
# (read whole, then searched: grep -q ending early would kill nft with SIGPIPE, and pipefail fail this)
tbl=$([ -n "$t" ] && in_ns nft list table inet "$t" || true)
grep -qF "$p1.0.77" <<<"$tbl" || fail "no nftables table with the instance's address"
in_ns nft delete table inet "$t"
in_ns nft delete table bridge "$t"
tcp_open "$p1.0.1" "$p1.0.77" 80 || fail "port 80 closed without any firewall: the check below would show nothing"
vm describe-instances --instance-ids "$w1" >/dev/null
tcp_open "$p1.0.1" "$p1.0.77" 80 && fail "port 80 open after the next command: the firewall was not restored"
ok "the firewall's tables deleted behind vmmgr's back: the next command restores enforcement"
vm authorize-security-group-ingress --group-id "$web" --protocol tcp --port 80 --source-group "$g1" >/dev/null
[ "$(gssh "$T/k.pem" "$ip_a1" "nc -w 3 $p1.0.77 80 </dev/null")" = port80 ] ||
	fail "a rule with a group as source does not let that group's member in"
tcp_open "$p1.0.1" "$p1.0.77" 80 && fail "the group rule let a non-member in"
vm modify-instance-attribute --instance-id "$w1" --groups "$web" "$g1"
[ "$(reach "$ip_a2" "$p1.0.77")" = yes ] || fail "modify-instance-attribute --groups did not apply to the running guest"
ok "a group as the source; modify-instance-attribute --groups applies at once"

# spoofing: the guest keeps sending with its own address and MAC only
# (run detached in the guest: while its MAC is changed our own ssh session cannot talk either)
gssh "$T/k.pem" "$ip_a1" "cat > /tmp/spoof.sh; sh /tmp/spoof.sh > /tmp/spoof.out 2>&1 < /dev/null &" <<SH
ping -c 1 -W 2 $ip_a2 >/dev/null && echo own-ok || echo own-blocked
ip addr add $p1.0.250/20 dev eth0
ping -c 1 -W 2 -I $p1.0.250 $ip_a2 >/dev/null && echo ip-ok || echo ip-blocked
ip addr del $p1.0.250/20 dev eth0
mac=\$(cat /sys/class/net/eth0/address)
ip link set eth0 down; ip link set eth0 address 02:00:00:00:00:99; ip link set eth0 up
ping -c 1 -W 2 $ip_a2 >/dev/null && echo mac-ok || echo mac-blocked
ip link set eth0 down; ip link set eth0 address \$mac; ip link set eth0 up
ip route add default via $p1.0.1 2>/dev/null
sleep 1
ping -c 1 -W 2 $ip_a2 >/dev/null && echo back-ok || echo back-blocked
echo done
SH
for _ in $(seq 40); do
	spoof=$(gssh "$T/k.pem" "$ip_a1" "cat /tmp/spoof.out" 2>/dev/null || true)
	grep -q done <<<"$spoof" && break
	sleep 1
done
spoof=$(grep -v done <<<"$spoof")
[ "$(echo $spoof)" = "own-ok ip-blocked mac-blocked back-ok" ] || fail "anti-spoofing: $(echo $spoof)"
ok "a guest that sends with another IP or MAC is blocked (and not with its own)"

# bad input: nothing changes
n_sub=$(vm describe-subnets --output json | jq '.Subnets | length')
expect_error InvalidSubnet.Range vm create-subnet --vpc-id "$vpc1" --cidr-block "$p2.1.0/24"
expect_error InvalidSubnet.Conflict vm create-subnet --vpc-id "$vpc1" --cidr-block "$p1.48.128/25"
expect_error InvalidSubnet.Range vm create-subnet --vpc-id "$vpc1" --cidr-block "$p1.32.0/29"
# a block overlapping another VPC's is a VPC of its own routing domain (vpc_overlap.sh)
v=$(vm create-vpc --cidr-block "$p2.128.0/17" --query Vpc.VpcId --output text) || fail "an overlapping VPC was refused"
vm delete-vpc --vpc-id "$v"
expect_error InvalidVpc.Range vm create-vpc --cidr-block 10.0.0.0/8
expect_error InvalidParameterValue vm create-vpc --cidr-block 10.0.0.1/16
expect_error InvalidIPAddress.InUse vm run-instances --image-id "$AMI" --private-ip-address "$p1.0.77"
expect_error InvalidIPAddress.InUse vm run-instances --image-id "$AMI" --private-ip-address "$p1.0.2"
expect_error InvalidParameterValue vm authorize-security-group-ingress --group-id "$web" --protocol tcp --port 70000 --cidr 0.0.0.0/0
expect_error InvalidParameterValue vm authorize-security-group-ingress --group-id "$web" --protocol tcp --port 30-20 --cidr 0.0.0.0/0
expect_error InvalidParameterValue vm authorize-security-group-ingress --group-id "$web" --protocol gre --cidr 0.0.0.0/0
expect_error InvalidPermission.Duplicate vm authorize-security-group-ingress --group-id "$web" --protocol tcp --port 80 --source-group "$g1"
expect_error InvalidGroup.NotFound vm authorize-security-group-ingress --group-id sg-0123456789abcdef0 --protocol tcp --port 22 --cidr 0.0.0.0/0
expect_error InvalidGroup.NotFound vm run-instances --image-id "$AMI" --security-group-ids sg-0123456789abcdef0
expect_error InvalidGroup.Duplicate vm create-security-group --group-name web --description again --vpc-id "$vpc1"
expect_error DependencyViolation vm delete-security-group --group-id "$web"
expect_error CannotDelete vm delete-security-group --group-id "$g1"
expect_error DependencyViolation vm delete-subnet --subnet-id "$sub2"
expect_error DependencyViolation vm delete-vpc --vpc-id "$vpc2"
[ "$(vm describe-subnets --output json | jq '.Subnets | length')" = "$n_sub" ] || fail "bad input changed subnets"
[ "$(vm describe-security-group-rules --filters "Name=group-id,Values=$web" --output json | jq '.SecurityGroupRules | length')" = 2 ] ||
	fail "bad input changed rules (web has its egress rule and tcp/80 from the default group)"
ok "overlapping, outside and reserved blocks, used addresses, bad ports and protocols, duplicate rules, unknown groups, dependencies: refused, nothing changed"

# teardown frees addresses and lets VPCs go
vm terminate-instances --instance-ids "$c1" >/dev/null
vm wait instance-terminated --instance-ids "$c1"
vm delete-subnet --subnet-id "$sub3" >/dev/null
vm delete-vpc --vpc-id "$vpc2" >/dev/null
virsh_ net-info "vmmgr-$sub3" >/dev/null 2>&1 && fail "the deleted subnet's network still runs"
tbl=$(in_ns nft list table inet "$(fw_table)")
grep -q "m-$g2" <<<"$tbl" && fail "the deleted VPC's default group is still in the firewall"
grep -qF "$ip_c1 " <<<"$tbl" && fail "the terminated instance's address is still in the firewall"
ok "terminate, delete-subnet and delete-vpc remove the network and filters"
