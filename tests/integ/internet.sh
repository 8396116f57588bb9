#!/bin/bash
# Internet gateways and route tables with real guests, through the host's uplink (`init --uplink`):
# the test makes an "outside" namespace joined to the harness's namespace by a veth pair (the uplink)
# with a web server at a documentation address (203.0.113.10).  A guest of a subnet whose route table
# sends 0.0.0.0/0 to an attached internet gateway (the default VPC's main table does) fetches from it, seen there with the uplink's
# address (source NAT); a guest of a subnet on the VPC's main table (no such route) cannot, until its
# subnet is associated with the public table; a deleted route, a detached gateway (the route turns
# blackhole) and an egress rule taken away each close the way out again.  Bad requests (a route inside
# the VPC's block, a duplicate, a subnet of another VPC, deleting what is in use) change nothing.
# The aws CLI for every action; boto3 reads the main route table as Terraform does.
. "$(dirname "$0")/lib.sh"
vm_init
. "$(dirname "$0")/serve.sh"

# --- the outside: a namespace with a web server, reached through the uplink veth
. "$(dirname "$0")/outside.sh"
trap 'outside_cleanup; serve_cleanup' EXIT
outside_up

out=$(vm init --accel tcg --uplink "$UP" --public-ips 198.51.100.200-198.51.100.202)
grep -q "^uplink  *$UP$" <<<"$out" && grep -q "^public IPs  *198.51.100.200-198.51.100.202$" <<<"$out" ||
	fail "init --uplink $UP --public-ips: $out"

# the default VPC, as on EC2: an internet gateway attached, its main table's 0.0.0.0/0 leads there, so
# its default subnets may go out through the uplink
dvpc=$(aws ec2 describe-vpcs --filters Name=is-default,Values=true --query 'Vpcs[0].VpcId' --output text)
digw=$(aws ec2 describe-internet-gateways --filters "Name=attachment.vpc-id,Values=$dvpc" --query 'InternetGateways[0].InternetGatewayId' --output text)
[[ "$digw" == igw-* ]] || fail "the default VPC has no internet gateway: $digw"
[ "$(aws ec2 describe-route-tables --filters "Name=vpc-id,Values=$dvpc" Name=association.main,Values=true \
	--query 'RouteTables[0].Routes[?DestinationCidrBlock==`0.0.0.0/0`].[GatewayId,State]' --output text)" = "$digw	active" ] ||
	fail "the default VPC's main route table has no 0.0.0.0/0 to its gateway"
set_now=$(in_ns nft list set inet "$(fw_table)" out_ok)
dsub=$(aws ec2 describe-subnets --filters "Name=vpc-id,Values=$dvpc" Name=availability-zone,Values=us-east-1a --query 'Subnets[0].SubnetId' --output text)
# out_ok is keyed by the subnet's bridge: vm and 13 hex digits of its id
grep -qF "\"vm$(cut -c8-20 <<<"$dsub")\" . 0.0.0.0/0" <<<"$set_now" || fail "the default subnet $dsub may not go out: $set_now"
ok "the default VPC has an attached internet gateway and a default route to it, as on EC2"

# --- a VPC with a public and a private subnet, by the aws CLI
p=$(next_block)
vpc=$(aws ec2 create-vpc --cidr-block "$p.0.0/16" --query Vpc.VpcId --output text)
pub=$(aws ec2 create-subnet --vpc-id "$vpc" --cidr-block "$p.1.0/24" --query Subnet.SubnetId --output text)
priv=$(aws ec2 create-subnet --vpc-id "$vpc" --cidr-block "$p.2.0/24" --query Subnet.SubnetId --output text)
main=$(aws ec2 describe-route-tables --filters "Name=vpc-id,Values=$vpc" Name=association.main,Values=true \
	--query 'RouteTables[0].RouteTableId' --output text)
[[ "$main" == rtb-* ]] || fail "a new VPC has no main route table: $main"
[ "$(aws ec2 describe-route-tables --route-table-ids "$main" --query 'RouteTables[0].Routes[0].[DestinationCidrBlock,GatewayId,State]' --output text)" = "$p.0.0/16	local	active" ] ||
	fail "the main route table's local route"
igw=$(aws ec2 create-internet-gateway --tag-specifications 'ResourceType=internet-gateway,Tags=[{Key=Name,Value=gw}]' \
	--query InternetGateway.InternetGatewayId --output text)
aws ec2 attach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vpc"
[ "$(aws ec2 describe-internet-gateways --filters "Name=attachment.vpc-id,Values=$vpc" --query 'InternetGateways[0].[InternetGatewayId,Attachments[0].State]' --output text)" = "$igw	available" ] ||
	fail "describe-internet-gateways by attachment.vpc-id"
rtb=$(aws ec2 create-route-table --vpc-id "$vpc" --query RouteTable.RouteTableId --output text)
[ "$(aws ec2 create-route --route-table-id "$rtb" --destination-cidr-block 0.0.0.0/0 --gateway-id "$igw" --query Return --output text)" = True ] ||
	fail "create-route"
assoc=$(aws ec2 associate-route-table --route-table-id "$rtb" --subnet-id "$pub" --query AssociationId --output text)
[[ "$assoc" == rtbassoc-* ]] || fail "associate-route-table: $assoc"
[ "$(aws ec2 describe-route-tables --filters "Name=association.subnet-id,Values=$pub" --query 'RouteTables[].RouteTableId' --output text)" = "$rtb" ] ||
	fail "describe-route-tables by association.subnet-id"
ok "a VPC's main route table; internet gateway created, attached; a route table with 0.0.0.0/0 to it, associated"

# --- bad requests change nothing
before=$(aws ec2 describe-route-tables --filters "Name=vpc-id,Values=$vpc" --output json)
gw_before=$(aws ec2 describe-internet-gateways --output json)
expect_error InvalidParameterValue aws ec2 create-route --route-table-id "$rtb" --destination-cidr-block "$p.3.0/24" --gateway-id "$igw"
expect_error RouteAlreadyExists aws ec2 create-route --route-table-id "$rtb" --destination-cidr-block 0.0.0.0/0 --gateway-id "$igw"
expect_error InvalidRoute.NotFound aws ec2 delete-route --route-table-id "$rtb" --destination-cidr-block 192.0.2.0/24
expect_error InvalidRoute.NotFound aws ec2 replace-route --route-table-id "$rtb" --destination-cidr-block 192.0.2.0/24 --gateway-id "$igw"
other=$(aws ec2 create-vpc --cidr-block "$(next_block).0.0/16" --query Vpc.VpcId --output text)
osub=$(aws ec2 create-subnet --vpc-id "$other" --cidr-block "$(aws ec2 describe-vpcs --vpc-ids "$other" --query 'Vpcs[0].CidrBlock' --output text | sed 's|0.0/16|9.0/24|')" \
	--query Subnet.SubnetId --output text)
expect_error InvalidParameterValue aws ec2 associate-route-table --route-table-id "$rtb" --subnet-id "$osub"
expect_error Resource.AlreadyAssociated aws ec2 associate-route-table --route-table-id "$main" --subnet-id "$pub"
expect_error DependencyViolation aws ec2 delete-route-table --route-table-id "$main"
expect_error DependencyViolation aws ec2 delete-route-table --route-table-id "$rtb"
expect_error DependencyViolation aws ec2 delete-internet-gateway --internet-gateway-id "$igw"
expect_error DependencyViolation aws ec2 delete-vpc --vpc-id "$vpc"
expect_error InvalidParameterValue aws ec2 disassociate-route-table --association-id \
	"$(aws ec2 describe-route-tables --route-table-ids "$main" --query 'RouteTables[0].Associations[0].RouteTableAssociationId' --output text)"
igw2=$(aws ec2 create-internet-gateway --query InternetGateway.InternetGatewayId --output text)
expect_error Resource.AlreadyAssociated aws ec2 attach-internet-gateway --internet-gateway-id "$igw2" --vpc-id "$vpc"
expect_error Gateway.NotAttached aws ec2 detach-internet-gateway --internet-gateway-id "$igw2" --vpc-id "$vpc"
expect_error InvalidParameterValue aws ec2 create-route --route-table-id "$rtb" --destination-cidr-block 198.51.100.0/24 --gateway-id "$igw2"
expect_error InvalidRouteTableID.NotFound aws ec2 describe-route-tables --route-table-ids rtb-0123456789abcdef0
expect_error InvalidInternetGatewayID.NotFound aws ec2 attach-internet-gateway --internet-gateway-id igw-0123456789abcdef0 --vpc-id "$vpc"
aws ec2 delete-internet-gateway --internet-gateway-id "$igw2"
aws ec2 delete-subnet --subnet-id "$osub"
aws ec2 delete-vpc --vpc-id "$other"
[ "$(aws ec2 describe-route-tables --filters "Name=vpc-id,Values=$vpc" --output json)" = "$before" ] ||
	fail "a refused request changed the route tables"
[ "$(aws ec2 describe-internet-gateways --output json)" = "$gw_before" ] || fail "a refused request changed the gateways"
ok "refused, nothing changed: a route inside the VPC, a duplicate, a subnet of another VPC, deleting what is in use, a second gateway"

# --- guests: one in each subnet; the host reaches them over ssh from each subnet's gateway
vm create-key-pair --key-name k --key-type ed25519 --output json | jq -r .KeyMaterial > "$T/k.pem"
chmod 600 "$T/k.pem"
g=$(default_group "$vpc")
allow_ssh "$g" "$p.0.0/16"
a=$(launch --key-name k --subnet-id "$pub")
b=$(launch --key-name k --subnet-id "$priv")
wait_console "$a" "vmmgr: instance $a ready" 1
wait_console "$b" "vmmgr: instance $b ready" 1
ipa=$(private_ip "$a")
ipb=$(private_ip "$b")
# fetch IP: the guest gets the outside's page (within 5 s; busybox's nc: its static wget cannot resolve)
fetch() {
	local page
	page=$(gssh "$T/k.pem" "$1" "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 5 203.0.113.10 80" 2>/dev/null) || true
	[ "$(tail -n 1 <<<"$page")" = "hello from outside" ]
}

fetch "$ipa" || fail "the public subnet's guest cannot reach 203.0.113.10 through the internet gateway"
grep -q '^198\.51\.100\.2 .*"GET / HTTP' "$T/web.log" || fail "the outside saw no request from the uplink's address: $(cat "$T/web.log")"
! grep -q "^$p\." "$T/web.log" || fail "a guest's private address reached the outside: $(cat "$T/web.log")"
! fetch "$ipb" || fail "the private subnet's guest reached the outside without a route"
ok "the public subnet's guest fetches from the outside, seen there as the uplink's address; the private one cannot"

assoc_b=$(aws ec2 associate-route-table --route-table-id "$rtb" --subnet-id "$priv" --query AssociationId --output text)
fetch "$ipb" || fail "the private subnet's guest cannot get out after its subnet took the public table"
aws ec2 disassociate-route-table --association-id "$assoc_b"
! fetch "$ipb" || fail "the guest still gets out after its subnet went back to the main table"
ok "associating a subnet with the public table opens the way out; disassociating closes it"

aws ec2 delete-route --route-table-id "$rtb" --destination-cidr-block 0.0.0.0/0
! fetch "$ipa" || fail "the guest gets out without its route"
aws ec2 create-route --route-table-id "$rtb" --destination-cidr-block 203.0.113.0/24 --gateway-id "$igw" >/dev/null
fetch "$ipa" || fail "a route to 203.0.113.0/24 does not lead there"
aws ec2 detach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vpc"
[ "$(aws ec2 describe-route-tables --route-table-ids "$rtb" --query 'RouteTables[0].Routes[1].State' --output text)" = blackhole ] ||
	fail "a route to a detached gateway is not a blackhole"
! fetch "$ipa" || fail "the guest gets out through a detached gateway"
aws ec2 attach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vpc"
fetch "$ipa" || fail "the guest does not get out once its gateway is attached again"
aws ec2 revoke-security-group-egress --group-id "$g" --ip-permissions 'IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]' >/dev/null
! fetch "$ipa" || fail "the guest gets out with no egress rule"
aws ec2 authorize-security-group-egress --group-id "$g" --ip-permissions 'IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=203.0.113.10/32}]' >/dev/null
fetch "$ipa" || fail "an egress rule to 203.0.113.10:80 does not let the guest out"
ok "a deleted route, a detached gateway (blackhole) and a missing egress rule each close the way out; a narrower route works"

# --- Elastic IPs: the LAN (the outside namespace, 198.51.100.1) reaches the guest at its address
alloc=$(aws ec2 allocate-address --domain vpc --query AllocationId --output text)
eip=$(aws ec2 describe-addresses --allocation-ids "$alloc" --query 'Addresses[0].PublicIp' --output text)
[ "$eip" = 198.51.100.200 ] || fail "the first Elastic IP is not the pool's first address: $eip"
eassoc=$(aws ec2 associate-address --allocation-id "$alloc" --instance-id "$a" --query AssociationId --output text)
[[ "$eassoc" == eipassoc-* ]] || fail "associate-address: $eassoc"
pubs=$(aws ec2 describe-instances --instance-ids "$a" --query "Reservations[0].Instances[0].[PublicIpAddress,PublicDnsName,NetworkInterfaces[0].Association.PublicIp]" --output text)
[ "$pubs" = "$eip	ec2-198-51-100-200.compute-1.amazonaws.com	$eip" ] ||
	fail "describe-instances does not show the Elastic IP: $pubs"
[ "$(aws ec2 describe-instances --filters "Name=network-interface.association.public-ip,Values=$eip" --query 'Reservations[].Instances[].InstanceId' --output text)" = "$a" ] ||
	fail "describe-instances by network-interface.association.public-ip"
[ "$(aws ec2 describe-addresses --filters "Name=instance-id,Values=$a" --query 'Addresses[0].[AssociationId,PrivateIpAddress]' --output text)" = "$eassoc	$ipa" ] ||
	fail "describe-addresses by instance-id"
! lan_open 22 || fail "the LAN reaches the Elastic IP's port 22 without a rule that lets it"
aws ec2 authorize-security-group-ingress --group-id "$g" --protocol tcp --port 22 --cidr 198.51.100.0/24 >/dev/null
lan_open 22 || fail "the LAN does not reach the Elastic IP's port 22 with a rule that lets it"
! lan_open 23 || fail "the LAN reaches a port no rule opens"
: > "$T/web.log"
fetch "$ipa" || fail "the guest with an Elastic IP cannot reach the outside"
grep -q "^$eip .*\"GET / HTTP" "$T/web.log" || fail "the outside did not see the guest as its Elastic IP: $(cat "$T/web.log")"
md=$(gssh "$T/k.pem" "$ipa" "printf 'GET /latest/meta-data/public-ipv4 HTTP/1.0\r\n\r\n' | nc -w 5 169.254.169.254 80" | tail -n 1)
[ "$md" = "$eip" ] || fail "the metadata service's public-ipv4: $md"
ok "an Elastic IP: the LAN reaches the guest at it on the ports its groups open, the guest goes out as it; describe-instances and the metadata service show it"

# hairpin: a guest reaches another's Elastic IP from inside (as on EC2, where such traffic leaves
# through the internet gateway and comes back: the sender's subnet needs a route out to it and its
# group's egress rules decide on the address asked for)
# banner FROM ADDR: the ssh banner of ADDR:22 as seen from the guest at FROM
banner() { gssh "$T/k.pem" "$1" "sleep 2 | nc -w 4 $2 22 | head -c 7" 2>/dev/null || true; }
[ -z "$(banner "$ipb" "$eip")" ] || fail "the private subnet's guest (no route out) reached an Elastic IP"
assoc_b=$(aws ec2 associate-route-table --route-table-id "$rtb" --subnet-id "$priv" --query AssociationId --output text)
aws ec2 create-route --route-table-id "$rtb" --destination-cidr-block 198.51.100.0/24 --gateway-id "$igw" >/dev/null
[ -z "$(banner "$ipb" "$eip")" ] || fail "a guest reached an Elastic IP that its group's egress rules do not let it reach"
aws ec2 authorize-security-group-egress --group-id "$g" --ip-permissions "IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=$eip/32}]" >/dev/null
[ "$(banner "$ipb" "$eip")" = SSH-2.0 ] || fail "a guest does not reach another's Elastic IP from inside"
aws ec2 delete-route --route-table-id "$rtb" --destination-cidr-block 198.51.100.0/24
[ -z "$(banner "$ipb" "$eip")" ] || fail "a guest reached an Elastic IP after its route there went"
aws ec2 disassociate-route-table --association-id "$assoc_b"
ok "hairpin: a guest reaches another's Elastic IP from inside when its subnet routes there and its group's egress rules let it"

# the uplink changes under an associated address: its ARP proxy follows, none is left behind
vm init --accel tcg --uplink none >/dev/null
neigh=$(in_ns ip neigh show proxy)
! grep -q "$eip" <<<"$neigh" || fail "the ARP proxy stays on the old uplink after --uplink none: $neigh"
! lan_open 22 || fail "the LAN reaches the Elastic IP with no uplink"
vm init --accel tcg --uplink "$UP" >/dev/null
grep -q "^$eip dev $UP" <<<"$(in_ns ip neigh show proxy)" || fail "no ARP proxy on the uplink set again: $(in_ns ip neigh show proxy)"
lan_open 22 || fail "the LAN does not reach the Elastic IP once the uplink is set again"
ok "an uplink change moves the Elastic IPs' ARP proxies: none is left on the old one"

expect_error InvalidIPAddress.InUse aws ec2 release-address --allocation-id "$alloc"
aws ec2 allocate-address --address 198.51.100.202 >/dev/null
expect_error InvalidIPAddress.InUse aws ec2 allocate-address --address 198.51.100.202
expect_error InvalidParameterValue aws ec2 allocate-address --address 203.0.113.7
aws ec2 allocate-address >/dev/null
expect_error AddressLimitExceeded aws ec2 allocate-address
expect_error Resource.AlreadyAssociated aws ec2 associate-address --allocation-id "$alloc" --instance-id "$b"
aws ec2 disassociate-address --association-id "$eassoc"
! lan_open 22 || fail "the LAN still reaches the guest after disassociate-address"
[ "$(aws ec2 describe-instances --instance-ids "$a" --query 'Reservations[0].Instances[0].PublicIpAddress' --output text)" = None ] ||
	fail "describe-instances still shows a disassociated address"
neigh=$(in_ns ip neigh show proxy)
! grep -q "$eip" <<<"$neigh" || fail "the ARP proxy of a disassociated address is left: $neigh"
for x in $(aws ec2 describe-addresses --query 'Addresses[].AllocationId' --output text); do
	[ "$x" = "$alloc" ] || aws ec2 release-address --allocation-id "$x"
done
[ "$(aws ec2 describe-addresses --query 'Addresses[].AllocationId' --output text)" = "$alloc" ] || fail "addresses left after release"
# the one left goes to the other guest: a terminate disassociates it (below)
aws ec2 associate-address --allocation-id "$alloc" --instance-id "$b" >/dev/null
ok "Elastic IPs refused: releasing an associated one, one taken, one outside the pool, an exhausted pool, a second association; disassociated and released, nothing is left"

# --- a NAT gateway in the public subnet: the private subnet's main table routes to it
! fetch "$ipb" || fail "the private subnet's guest (with an Elastic IP, no route) reached the outside"
nalloc=$(aws ec2 allocate-address --query AllocationId --output text)
nip=$(aws ec2 describe-addresses --allocation-ids "$nalloc" --query 'Addresses[0].PublicIp' --output text)
expect_error Resource.AlreadyAssociated aws ec2 create-nat-gateway --subnet-id "$pub" --allocation-id "$alloc"
created=$(aws ec2 create-nat-gateway --subnet-id "$pub" --allocation-id "$nalloc" --tag-specifications 'ResourceType=natgateway,Tags=[{Key=Name,Value=nat}]' \
	--query 'NatGateway.[NatGatewayId,State]' --output text)
nat=${created%%	*}
[[ "$nat" == nat-* && "${created#*	}" = pending ]] || fail "create-nat-gateway: $created"
aws ec2 wait nat-gateway-available --nat-gateway-ids "$nat" || fail "the waiter nat-gateway-available"
[ "$(aws ec2 describe-addresses --allocation-ids "$nalloc" --query 'Addresses[0].[NetworkInterfaceId!=null,InstanceId]' --output text)" = "True	None" ] ||
	fail "the NAT gateway's address is not on its interface"
aws ec2 create-route --route-table-id "$main" --destination-cidr-block 0.0.0.0/0 --nat-gateway-id "$nat" >/dev/null
[ "$(aws ec2 describe-route-tables --filters "Name=route.nat-gateway-id,Values=$nat" --query 'RouteTables[].RouteTableId' --output text)" = "$main" ] ||
	fail "describe-route-tables by route.nat-gateway-id"
: > "$T/web.log"
fetch "$ipb" || fail "the private subnet's guest cannot get out through the NAT gateway"
grep -q "^$nip .*\"GET / HTTP" "$T/web.log" || fail "the outside did not see the NAT gateway's address $nip: $(cat "$T/web.log")"
# replace-route: the private subnet's way out straight to the internet gateway instead, where the
# guest leaves as its own Elastic IP; and back to the NAT gateway
aws ec2 replace-route --route-table-id "$main" --destination-cidr-block 0.0.0.0/0 --gateway-id "$igw"
: > "$T/web.log"
fetch "$ipb" || fail "the private subnet's guest cannot get out after replace-route to the internet gateway"
grep -q "^$eip .*\"GET / HTTP" "$T/web.log" || fail "after replace-route the outside did not see the guest's own address $eip: $(cat "$T/web.log")"
aws ec2 replace-route --route-table-id "$main" --destination-cidr-block 0.0.0.0/0 --nat-gateway-id "$nat"
expect_error InvalidIPAddress.InUse aws ec2 release-address --allocation-id "$nalloc"
expect_error DependencyViolation aws ec2 delete-subnet --subnet-id "$pub"
[ "$(aws ec2 delete-nat-gateway --nat-gateway-id "$nat" --query NatGatewayId --output text)" = "$nat" ] || fail "delete-nat-gateway"
[ "$(aws ec2 describe-nat-gateways --nat-gateway-ids "$nat" --query 'NatGateways[0].State' --output text)" = deleted ] ||
	fail "a deleted NAT gateway does not say deleted"
[ "$(aws ec2 describe-route-tables --route-table-ids "$main" --query 'RouteTables[0].Routes[?NatGatewayId==`'"$nat"'`].State' --output text)" = blackhole ] ||
	fail "a route to a deleted NAT gateway is not a blackhole"
! fetch "$ipb" || fail "the private subnet's guest still gets out after the NAT gateway was deleted"
aws ec2 delete-route --route-table-id "$main" --destination-cidr-block 0.0.0.0/0
aws ec2 release-address --allocation-id "$nalloc"
ok "a NAT gateway: the private subnet goes out through it, seen as its Elastic IP (waiter nat-gateway-available); deleted, its route is a blackhole and the way out closes"

# --- a public address at launch (AssociatePublicIpAddress): from the pool, the instance's own
c=$(aws ec2 run-instances --image-id "$AMI" --key-name k --count 1 \
	--network-interfaces "DeviceIndex=0,SubnetId=$pub,AssociatePublicIpAddress=true" --query 'Instances[0].InstanceId' --output text)
[[ "$c" == i-* ]] || fail "run-instances with AssociatePublicIpAddress: $c"
cpub=$(aws ec2 describe-instances --instance-ids "$c" --query 'Reservations[0].Instances[0].[PublicIpAddress,NetworkInterfaces[0].Association.IpOwnerId]' --output text)
[ "$cpub" = "198.51.100.201	amazon" ] || fail "the launched instance's public address: $cpub"
[ -z "$(aws ec2 describe-addresses --filters Name=public-ip,Values=198.51.100.201 --query 'Addresses[]' --output text)" ] ||
	fail "a public address given at launch shows as an Elastic IP"
aws ec2 allocate-address --address 198.51.100.202 >/dev/null
expect_error AddressLimitExceeded aws ec2 run-instances --image-id "$AMI" --count 1 \
	--network-interfaces "DeviceIndex=0,SubnetId=$pub,AssociatePublicIpAddress=true"
wait_console "$c" "vmmgr: instance $c ready" 1
lan_open 22 198.51.100.201 || fail "the LAN does not reach the instance at its public address"
vm terminate-instances --instance-ids "$c" >/dev/null
vm wait instance-terminated --instance-ids "$c"
! lan_open 22 198.51.100.201 || fail "the LAN reaches a terminated instance's public address"
[ "$(aws ec2 allocate-address --query PublicIp --output text)" = 198.51.100.201 ] ||
	fail "a terminated instance's public address did not go back to the pool"
for x in $(aws ec2 describe-addresses --query 'Addresses[].AllocationId' --output text); do
	[ "$x" = "$alloc" ] || aws ec2 release-address --allocation-id "$x"
done
ok "AssociatePublicIpAddress: a public address from the pool, Amazon's (not an Elastic IP), reached from the LAN, back in the pool at terminate; an exhausted pool refuses the launch"

# boto3 (Debian's) reads the VPC's main route table as Terraform's aws_vpc does, and replaces it
/usr/bin/python3 - "$ENDPOINT" "$vpc" "$main" "$rtb" <<'PY' || fail "boto3"
import sys, boto3
endpoint, vpc, main, rtb = sys.argv[1:]
ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1")
t = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}])["RouteTables"]
assert [x["RouteTableId"] for x in t] == [main], t
assoc = t[0]["Associations"][0]
assert assoc["Main"] and "SubnetId" not in assoc, assoc
new = ec2.replace_route_table_association(AssociationId=assoc["RouteTableAssociationId"], RouteTableId=rtb)
t = ec2.describe_route_tables(Filters=[{"Name": "association.main", "Values": ["true"]}, {"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
assert [x["RouteTableId"] for x in t] == [rtb], t
ec2.replace_route_table_association(AssociationId=new["NewAssociationId"], RouteTableId=main)
igw = ec2.describe_internet_gateways(Filters=[{"Name": "tag:Name", "Values": ["gw"]}])["InternetGateways"]
assert len(igw) == 1 and igw[0]["Attachments"] == [{"State": "available", "VpcId": vpc}], igw
PY
ok "boto3: the main route table by association.main, ReplaceRouteTableAssociation moves it and back; gateways by tag"

# --- teardown: nothing left of the way out
vm terminate-instances --instance-ids "$a" "$b" >/dev/null
vm wait instance-terminated --instance-ids "$a" "$b"
[ "$(aws ec2 describe-addresses --allocation-ids "$alloc" --query 'Addresses[0].[PublicIp,AssociationId]' --output text)" = "$eip	None" ] ||
	fail "the Elastic IP of a terminated instance is not left allocated and unassociated"
neigh=$(in_ns ip neigh show proxy)
! grep -q "$eip" <<<"$neigh" || fail "the ARP proxy of a terminated instance's address is left: $neigh"
aws ec2 release-address --allocation-id "$alloc"
aws ec2 disassociate-route-table --association-id "$assoc"
aws ec2 delete-route-table --route-table-id "$rtb"
aws ec2 detach-internet-gateway --internet-gateway-id "$igw" --vpc-id "$vpc"
aws ec2 delete-internet-gateway --internet-gateway-id "$igw"
aws ec2 delete-subnet --subnet-id "$pub"
aws ec2 delete-subnet --subnet-id "$priv"
aws ec2 delete-vpc --vpc-id "$vpc"
[ -z "$(aws ec2 describe-route-tables --filters "Name=vpc-id,Values=$vpc" --query 'RouteTables[].RouteTableId' --output text)" ] ||
	fail "the VPC's main route table outlived it"
t=$(fw_table)
set_now=$(in_ns nft list set inet "$t" out_ok)
! grep -qE "vm($(cut -c8-20 <<<"$pub")|$(cut -c8-20 <<<"$priv"))" <<<"$set_now" || fail "out_ok still names the deleted subnets: $set_now"
out=$(vm init --accel tcg --uplink none)
grep -q "^uplink  *none" <<<"$out" || fail "init --uplink none: $out"
rules=$(in_ns nft list table inet "$t")
! grep -q "$UP" <<<"$rules" || fail "the rules still name the uplink after --uplink none"
ok "teardown: a terminate disassociates the Elastic IP; the main route table goes with its VPC, no way out is left, --uplink none removes the NAT"
