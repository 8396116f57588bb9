#!/bin/bash
# Two VPCs with the same block (10.0.0.0/16), as two Terraform projects make them: the second gets a
# routing domain of its own (a router namespace with its DHCP and DNS, net/router.c).  Real guests:
# the same private address in each VPC, each reached in its own VPC only; DHCP, DNS and routing
# between subnets from the router; the default group's members across subnets; the metadata
# service telling the two same addresses apart; the way out (an "outside" namespace through the
# uplink, tests/integ/outside.sh): an internet gateway, a NAT gateway and an Elastic IP, NATed in
# the router, and an internet-facing load balancer with VPC b's 10.0.1.20 as its target; a killed
# dnsmasq started again; nothing left after the VPC is deleted.
. "$(dirname "$0")/lib.sh"
vm_init
SERVE_ARGS="--metrics-interval 0"
. "$(dirname "$0")/serve.sh"
. "$(dirname "$0")/outside.sh"
trap 'outside_cleanup; serve_cleanup' EXIT
outside_up
vm init --accel tcg --uplink "$UP" --public-ips 198.51.100.200-198.51.100.203 >/dev/null || fail "init --uplink"

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

# the way out of VPC b: its router's transit link to the host, NAT in the router, the uplink
fetch() { # WAY IP: the guest gets the outside's page (busybox's nc)
	local page
	page=$("$1" "$2" "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 5 203.0.113.10 80" 2>/dev/null) || true
	[ "$(tail -n 1 <<<"$page")" = "hello from outside" ]
}
! fetch ssh_b 10.0.1.20 || fail "$b1 reached the outside without an internet gateway"
igw=$(aws ec2 create-internet-gateway --query InternetGateway.InternetGatewayId --output text)
aws ec2 attach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vb"
main=$(aws ec2 describe-route-tables --filters "Name=vpc-id,Values=$vb" Name=association.main,Values=true --query 'RouteTables[0].RouteTableId' --output text)
aws ec2 create-route --route-table-id "$main" --destination-cidr-block 0.0.0.0/0 --gateway-id "$igw" >/dev/null
: > "$T/web.log"
fetch ssh_b 10.0.1.20 || fail "$b1 cannot reach the outside through its VPC's internet gateway"
grep -q '^198\.51\.100\.2 .*"GET / HTTP' "$T/web.log" || fail "the outside did not see the uplink's address: $(cat "$T/web.log")"
! fetch ssh_a 10.0.1.20 || fail "$a1 (its VPC has no internet gateway) reached the outside"
ok "VPC b's guests reach the outside through its internet gateway (the router's and the uplink's NAT); VPC a's do not"

# a NAT gateway for a private subnet of VPC b
rtb=$(aws ec2 create-route-table --vpc-id "$vb" --query RouteTable.RouteTableId --output text)
aws ec2 associate-route-table --route-table-id "$rtb" --subnet-id "$sb2" >/dev/null
! fetch ssh_b 10.0.2.30 || fail "$b2 (its subnet has no route out) reached the outside"
nalloc=$(aws ec2 allocate-address --query AllocationId --output text)
nip=$(aws ec2 describe-addresses --allocation-ids "$nalloc" --query 'Addresses[0].PublicIp' --output text)
nat=$(aws ec2 create-nat-gateway --subnet-id "$sb1" --allocation-id "$nalloc" --query NatGateway.NatGatewayId --output text)
aws ec2 wait nat-gateway-available --nat-gateway-ids "$nat" || fail "the waiter nat-gateway-available"
aws ec2 create-route --route-table-id "$rtb" --destination-cidr-block 0.0.0.0/0 --nat-gateway-id "$nat" >/dev/null
: > "$T/web.log"
fetch ssh_b 10.0.2.30 || fail "$b2 cannot get out through the NAT gateway"
grep -q "^$nip .*\"GET / HTTP" "$T/web.log" || fail "the outside did not see the NAT gateway's address $nip: $(cat "$T/web.log")"
ok "a private subnet of VPC b gets out through its NAT gateway, seen as the gateway's address"

# an Elastic IP for VPC b's 10.0.1.20: the outside reaches it on the ports its group opens
alloc=$(aws ec2 allocate-address --query AllocationId --output text)
eip=$(aws ec2 describe-addresses --allocation-ids "$alloc" --query 'Addresses[0].PublicIp' --output text)
assoc=$(aws ec2 associate-address --allocation-id "$alloc" --instance-id "$b1" --query AssociationId --output text)
! lan_open 22 "$eip" || fail "the outside reached $b1's ssh at $eip with no rule for it"
vm authorize-security-group-ingress --group-id "$(default_group "$vb")" --protocol tcp --port 22 --cidr 198.51.100.1/32 >/dev/null
for try in 1 2 3; do lan_open 22 "$eip" && break; sleep 1; done
lan_open 22 "$eip" || fail "the outside did not reach $b1's ssh at its Elastic IP $eip"
: > "$T/web.log"
fetch ssh_b 10.0.1.20 || fail "$b1 with an Elastic IP cannot reach the outside"
grep -q "^$eip .*\"GET / HTTP" "$T/web.log" || fail "the outside did not see $b1 as its Elastic IP $eip: $(cat "$T/web.log")"
# the router gone as with a reboot (its dnsmasq killed, its namespace deleted, its ports and transit
# link with it): the next command makes it again, its NAT, and the Elastic IP's route through the new link
old=$(cat "$S/routers/$vb/dnsmasq.pid")
kill "$old"
for try in $(seq 50); do pid_alive "$old" || break; sleep 0.1; done
ip netns del "vmmgr-$vb"
vm describe-vpcs >/dev/null
grep -q "^vmmgr-$vb\b" <<<"$(ip netns list)" || fail "the router of $vb was not made again"
for try in 1 2 3; do lan_open 22 "$eip" && break; sleep 1; done
lan_open 22 "$eip" || fail "the outside did not reach $b1 at its Elastic IP $eip after its router was made again"
: > "$T/web.log"
fetch ssh_b 10.0.1.20 || fail "$b1 cannot reach the outside after its router was made again"
grep -q "^$eip .*\"GET / HTTP" "$T/web.log" || fail "the outside did not see $b1 as $eip after the router came back: $(cat "$T/web.log")"
ssh_b 10.0.2.30 "ping -c 2 -W 2 10.0.1.20 >/dev/null" || fail "$b2 did not reach $b1 across subnets after the router came back"
ok "VPC b's router lost with its namespace: made again by the next command (ports, NAT, the Elastic IP's route)"
aws ec2 disassociate-address --association-id "$assoc"
! lan_open 22 "$eip" || fail "the outside still reaches $b1 after the Elastic IP was disassociated"
ok "an Elastic IP of VPC b: 1:1 NAT in the router, its group decides, gone with the disassociation"

# a load balancer in VPC b: its namespace's ports on the VPC's bridges, its public addresses NATed
# by the router like Elastic IPs
z1=$(aws ec2 describe-subnets --subnet-ids "$sb1" --query 'Subnets[0].AvailabilityZone' --output text)
z3=us-east-1b
[ "$z1" = us-east-1b ] && z3=us-east-1a
sb3=$(aws ec2 create-subnet --vpc-id "$vb" --cidr-block 10.0.3.0/24 --availability-zone "$z3" --query Subnet.SubnetId --output text)
lsg=$(aws ec2 create-security-group --group-name web --description "web from the LAN" --vpc-id "$vb" --query GroupId --output text)
aws ec2 authorize-security-group-ingress --group-id "$lsg" --protocol tcp --port 80 --cidr 198.51.100.0/24 >/dev/null
# its target is VPC b's 10.0.1.20 (VPC a's 10.0.1.20 answers too, with its own id), on a port that
# b's default group opens to the load balancer's group only
for w in "ssh_a 10.0.1.20 $a1" "ssh_b 10.0.1.20 $b1"; do
	set -- $w
	$1 "$2" "mkdir -p /tmp/w && echo 'hello from $3' > /tmp/w/index.html && httpd -p 8080 -h /tmp/w" ||
		fail "busybox httpd on $3"
done
aws ec2 authorize-security-group-ingress --group-id "$(default_group "$vb")" --protocol tcp --port 8080 --source-group "$lsg" >/dev/null
lb=$(aws elbv2 create-load-balancer --name inb --subnets "$sb1" "$sb3" --security-groups "$lsg" \
	--query 'LoadBalancers[0].LoadBalancerArn' --output text)
tg=$(aws elbv2 create-target-group --name b1 --protocol HTTP --port 8080 --vpc-id "$vb" --health-check-interval-seconds 5 \
	--health-check-timeout-seconds 2 --healthy-threshold-count 2 --query 'TargetGroups[0].TargetGroupArn' --output text)
aws elbv2 register-targets --target-group-arn "$tg" --targets Id="$b1"
aws elbv2 create-listener --load-balancer-arn "$lb" --protocol HTTP --port 80 \
	--default-actions Type=forward,TargetGroupArn="$tg" >/dev/null
timeout 120 /usr/bin/aws --endpoint-url "$ENDPOINT" elbv2 wait load-balancer-available --load-balancer-arns "$lb" ||
	fail "waiter load-balancer-available: $(aws elbv2 describe-load-balancers --output json)"
timeout 90 /usr/bin/aws --endpoint-url "$ENDPOINT" elbv2 wait target-in-service --target-group-arn "$tg" ||
	fail "VPC b's 10.0.1.20 as a target: $(aws elbv2 describe-target-health --target-group-arn "$tg" --output json)"
for pub in $(aws elbv2 describe-load-balancers --load-balancer-arns "$lb" \
	--query 'LoadBalancers[0].AvailabilityZones[].LoadBalancerAddresses[].IpAddress' --output text); do
	got=
	for try in $(seq 20); do
		got=$(ip netns exec "$OUT" curl -s -m 4 "http://$pub/" || true)
		[ "$got" = "hello from $b1" ] && break
		sleep 1
	done
	[ "$got" = "hello from $b1" ] || fail "the LAN did not reach $b1 through VPC b's load balancer at $pub: '$got'"
done
aws elbv2 delete-load-balancer --load-balancer-arn "$lb"
timeout 120 /usr/bin/aws --endpoint-url "$ENDPOINT" elbv2 wait load-balancers-deleted --load-balancer-arns "$lb" ||
	fail "waiter load-balancers-deleted"
aws elbv2 delete-target-group --target-group-arn "$tg"
ok "an internet-facing load balancer in VPC b answers the LAN at both its public addresses with its target, VPC b's 10.0.1.20"

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
for try in $(seq 50); do pid_alive "$old" || break; sleep 0.1; done
vm describe-vpcs >/dev/null
new=$(cat "$S/routers/$vb/dnsmasq.pid")
[ "$new" != "$old" ] && pid_alive "$new" || fail "the router's dnsmasq was not started again"
grep -q "10.0.1.20" <<<"$(ssh_b 10.0.2.30 "nslookup $dom")" || fail "the restarted dnsmasq does not answer"
ok "a killed router dnsmasq started again by the next command"

vm terminate-instances --instance-ids "$a1" "$b1" "$b2" "$b4" >/dev/null
vm wait instance-terminated --instance-ids "$a1" "$b1" "$b2" "$b4"
pid=$(cat "$S/routers/$vb/dnsmasq.pid")
aws ec2 delete-nat-gateway --nat-gateway-id "$nat" >/dev/null
aws ec2 release-address --allocation-id "$nalloc"
aws ec2 release-address --allocation-id "$alloc"
aws ec2 detach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vb"
aws ec2 delete-internet-gateway --internet-gateway-id "$igw"
aws ec2 disassociate-route-table --association-id "$(aws ec2 describe-route-tables --route-table-ids "$rtb" --query 'RouteTables[0].Associations[0].RouteTableAssociationId' --output text)"
aws ec2 delete-route-table --route-table-id "$rtb"
# the load balancer's interfaces go with its controller's next round
for try in $(seq 30); do
	[ "$(aws ec2 describe-network-interfaces --filters 'Name=description,Values=ELB app/inb/*' \
		--query 'length(NetworkInterfaces)' --output text)" = 0 ] && break
	sleep 1
done
aws ec2 revoke-security-group-ingress --group-id "$(default_group "$vb")" --protocol tcp --port 8080 --source-group "$lsg" >/dev/null
aws ec2 delete-security-group --group-id "$lsg"
for s in "$sa" "$sb1" "$sb2" "$sb3"; do vm delete-subnet --subnet-id "$s"; done
vm delete-vpc --vpc-id "$vb"
vm delete-vpc --vpc-id "$va"
! grep -q "^vmmgr-$vb\b" <<<"$(ip netns list)" || fail "the router namespace of $vb is left"
! in_ns ip link show "vx${vb:4:13}" 2>/dev/null || fail "the transit link of $vb is left"
! grep -q "$eip\|$nip" <<<"$(in_ns ip route; in_ns ip neigh show proxy)" || fail "routes or ARP proxies of the addresses are left"
! pid_alive "$pid" || fail "the router's dnsmasq ($pid) still runs"
[ ! -e "$S/routers/$vb" ] || fail "the router's files are left"
ok "the VPC deleted: its router, its dnsmasq and their files gone"
