#!/bin/bash
# An internet-facing application load balancer reached from the LAN at public addresses of the
# host's pool (`init --uplink --public-ips`), one per subnet, 1:1 NAT on the uplink as Elastic IPs
# are: the outside namespace gets the listener's answer on the ports the load balancer's security
# group opens, and a port opened later is reached at once.  describe-load-balancers and the
# interfaces show the addresses; describe-addresses does not (they are Amazon's, not Elastic IPs).
# An internet-facing load balancer in a VPC without an internet gateway, or with the pool used up, is
# refused and nothing is made; an internal one takes no public address.  Deleted, its addresses go
# back to the pool and the LAN no longer reaches them.  No guest is needed: the listeners answer
# fixed responses.  SetSecurityGroups changes what the LAN reaches at once; SetSubnets moves an
# interface (and its public address) to another zone; an HTTPS target group speaks TLS to its target
# (the load balancer's own HTTPS listener, by address).
. "$(dirname "$0")/lib.sh"
vm_init
SERVE_ARGS="--metrics-interval 0"
. "$(dirname "$0")/serve.sh"
. "$(dirname "$0")/outside.sh"
trap 'outside_cleanup; serve_cleanup' EXIT
outside_up
elb() { aws elbv2 "$@"; }
# lan_get ADDR PORT: the body the outside gets from http://ADDR:PORT/ (fails after 4 s)
lan_get() { ip netns exec "$OUT" curl -s -m 4 "http://$1:$2/"; }

vm init --accel tcg --uplink "$UP" --public-ips 198.51.100.210-198.51.100.211 >/dev/null
vpc=$(aws ec2 describe-vpcs --filters Name=is-default,Values=true --query 'Vpcs[0].VpcId' --output text)
sa=$(aws ec2 describe-subnets --filters Name=default-for-az,Values=true Name=availability-zone,Values=us-east-1a --query 'Subnets[0].SubnetId' --output text)
sb=$(aws ec2 describe-subnets --filters Name=default-for-az,Values=true Name=availability-zone,Values=us-east-1b --query 'Subnets[0].SubnetId' --output text)
sg=$(aws ec2 create-security-group --group-name pub --description "public web" --vpc-id "$vpc" --query GroupId --output text)
aws ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 80 --cidr 198.51.100.0/24 >/dev/null

# --- refused, nothing made: a VPC without an internet gateway
p=$(next_block)
v2=$(aws ec2 create-vpc --cidr-block "$p.0.0/16" --query Vpc.VpcId --output text)
s1=$(aws ec2 create-subnet --vpc-id "$v2" --cidr-block "$p.1.0/24" --availability-zone us-east-1a --query Subnet.SubnetId --output text)
s2=$(aws ec2 create-subnet --vpc-id "$v2" --cidr-block "$p.2.0/24" --availability-zone us-east-1b --query Subnet.SubnetId --output text)
expect_elb InvalidSubnet create-load-balancer --name closed --subnets "$s1" "$s2"
[ "$(elb describe-load-balancers --query 'length(LoadBalancers)' --output text)" = 0 ] || fail "a refused load balancer was made"
aws ec2 delete-subnet --subnet-id "$s1"
aws ec2 delete-subnet --subnet-id "$s2"
aws ec2 delete-vpc --vpc-id "$v2"
ok "internet-facing in a VPC without an internet gateway: InvalidSubnet, nothing made"

# --- internet-facing: a public address per subnet
lb=$(elb create-load-balancer --name pub --subnets "$sa" "$sb" --security-groups "$sg" \
	--query 'LoadBalancers[0].LoadBalancerArn' --output text)
[ "$(elb describe-load-balancers --load-balancer-arns "$lb" --query 'LoadBalancers[0].Scheme' --output text)" = internet-facing ] ||
	fail "the default scheme is not internet-facing"
pubs=$(elb describe-load-balancers --load-balancer-arns "$lb" --query 'LoadBalancers[0].AvailabilityZones[].LoadBalancerAddresses[].IpAddress' --output text | tr '\t' '\n' | sort | tr '\n' ' ')
[ "$pubs" = "198.51.100.210 198.51.100.211 " ] || fail "the load balancer's public addresses: $pubs"
enis=$(aws ec2 describe-network-interfaces --filters "Name=description,Values=ELB app/pub/${lb##*/}" --output json)
jq -e '[.NetworkInterfaces[].Association.PublicIp] | sort == ["198.51.100.210", "198.51.100.211"]' <<<"$enis" >/dev/null ||
	fail "the interfaces' associations: $enis"
[ -z "$(aws ec2 describe-addresses --query 'Addresses[]' --output text)" ] || fail "the load balancer's addresses show as Elastic IPs"
elb create-listener --load-balancer-arn "$lb" --protocol HTTP --port 80 \
	--default-actions 'Type=fixed-response,FixedResponseConfig={StatusCode=200,ContentType=text/plain,MessageBody=hello from the load balancer}' >/dev/null
l8080=$(elb create-listener --load-balancer-arn "$lb" --protocol HTTP --port 8080 \
	--default-actions 'Type=fixed-response,FixedResponseConfig={StatusCode=200,ContentType=text/plain,MessageBody=eight thousand eighty}' \
	--query 'Listeners[0].ListenerArn' --output text)
timeout 120 /usr/bin/aws --endpoint-url "$ENDPOINT" elbv2 wait load-balancer-available --load-balancer-arns "$lb" ||
	fail "waiter load-balancer-available: $(elb describe-load-balancers --output json)"
# the listeners apply once HAProxy (re)loaded
for ip in 198.51.100.210 198.51.100.211; do
	for _ in $(seq 60); do [ "$(lan_get "$ip" 80)" = "hello from the load balancer" ] && break; sleep 1; done
	[ "$(lan_get "$ip" 80)" = "hello from the load balancer" ] || fail "the LAN does not get the listener's answer at $ip:80"
done
! lan_get 198.51.100.210 8080 >/dev/null || fail "the LAN reaches port 8080, which the load balancer's group does not open"
aws ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 8080 --cidr 198.51.100.0/24 >/dev/null
[ "$(lan_get 198.51.100.210 8080)" = "eight thousand eighty" ] || fail "port 8080 once the group opens it: $(lan_get 198.51.100.210 8080)"
ok "internet-facing: a public address of the pool per subnet (not Elastic IPs); the LAN gets the listeners' answers at both on the ports its group opens, a port opened later at once"

# --- SetSecurityGroups: the new groups decide at once, on every interface
sg2=$(aws ec2 create-security-group --group-name pub2 --description "8080 only" --vpc-id "$vpc" --query GroupId --output text)
aws ec2 authorize-security-group-ingress --group-id "$sg2" --protocol tcp --port 8080 --cidr 198.51.100.0/24 >/dev/null
expect_elb InvalidSecurityGroup set-security-groups --load-balancer-arn "$lb" --security-groups sg-0123456789abcdef0
[ "$(elb set-security-groups --load-balancer-arn "$lb" --security-groups "$sg2" "$sg2" --query 'SecurityGroupIds' --output text)" = "$sg2" ] ||
	fail "set-security-groups' answer"
[ "$(elb describe-load-balancers --load-balancer-arns "$lb" --query 'LoadBalancers[0].SecurityGroups' --output text)" = "$sg2" ] ||
	fail "describe-load-balancers after set-security-groups"
[ "$(aws ec2 describe-network-interfaces --filters "Name=description,Values=ELB app/pub/${lb##*/}" --query 'NetworkInterfaces[].Groups[].GroupId' --output text)" = "$sg2	$sg2" ] ||
	fail "the interfaces' groups after set-security-groups"
! lan_get 198.51.100.211 80 >/dev/null || fail "the LAN reaches port 80, which the load balancer's new group does not open"
[ "$(lan_get 198.51.100.211 8080)" = "eight thousand eighty" ] || fail "port 8080 through the new group"
vm elbv2 set-security-groups --load-balancer-arn "$lb" --security-groups "$sg" >/dev/null || fail "vmmgr elbv2 set-security-groups"
[ "$(lan_get 198.51.100.211 80)" = "hello from the load balancer" ] || fail "port 80 with the first group again"
ok "set-security-groups (aws CLI, vmmgr elbv2): the new groups decide on both interfaces at once; an unknown group refused"

# --- SetSubnets: the zone b's interface and public address go, zone c's come (the pool's address freed by b)
sc=$(aws ec2 describe-subnets --filters Name=default-for-az,Values=true Name=availability-zone,Values=us-east-1c --query 'Subnets[0].SubnetId' --output text)
expect_elb ValidationError set-subnets --load-balancer-arn "$lb" --subnets "$sa"
read -r ip_b priv_b <<<"$(elb describe-load-balancers --load-balancer-arns "$lb" --output text \
	--query "LoadBalancers[0].AvailabilityZones[?SubnetId=='$sb'].LoadBalancerAddresses[0].[IpAddress,PrivateIPv4Address]")"
zones=$(vm elbv2 set-subnets --load-balancer-arn "$lb" --subnets "$sa" "$sc" --output json) || fail "vmmgr elbv2 set-subnets"
[ "$(jq -c '[.AvailabilityZones[].ZoneName] | sort' <<<"$zones")" = '["us-east-1a","us-east-1c"]' ] || fail "set-subnets' answer: $zones"
ip_c=$(jq -r '.AvailabilityZones[] | select(.ZoneName == "us-east-1c") | .LoadBalancerAddresses[0].IpAddress' <<<"$zones")
[ "$ip_c" = "$ip_b" ] || fail "zone c's interface did not take the public address zone b's gave back ($ip_b): $zones"
[ "$(aws ec2 describe-network-interfaces --filters "Name=description,Values=ELB app/pub/${lb##*/}" --query 'NetworkInterfaces[].SubnetId' --output text | tr '\t' '\n' | sort | tr '\n' ' ')" = \
	"$(printf '%s\n' "$sa" "$sc" | sort | tr '\n' ' ')" ] || fail "the load balancer's interfaces after set-subnets"
[ "$(lan_get "$ip_c" 80)" = "hello from the load balancer" ] || fail "the LAN does not reach the load balancer at zone c's address $ip_c"
# the VPC's DNS: the name on the new interface's address, no longer on the old one's (each subnet's network)
priv_c=$(jq -r '.AvailabilityZones[] | select(.ZoneName == "us-east-1c") | .LoadBalancerAddresses[0].PrivateIPv4Address' <<<"$zones")
dnsx=$(virsh_ net-dumpxml "vmmgr-$sa" | grep -o "<host ip='[0-9.]*'>" || true)
grep -q "'$priv_c'" <<<"$dnsx" && ! grep -q "'$priv_b'" <<<"$dnsx" || fail "the VPC's DNS after set-subnets ($priv_b gone, $priv_c there): $dnsx"
ok "set-subnets (vmmgr elbv2): zone b's interface gone, zone c's plugged at once with the public address b gave back, the LAN reaches it; one zone refused"

# a set-subnets killed after it forgot zone c's subnet, before it released its interface: the
# controller releases that interface (and its public address) at its next round
eni_c=$(aws ec2 describe-network-interfaces --filters "Name=description,Values=ELB app/pub/${lb##*/}" "Name=subnet-id,Values=$sc" \
	--query 'NetworkInterfaces[0].NetworkInterfaceId' --output text)
rc=0
VMMGR_TEST_CRASH_AT=elb-subnet-left vm elbv2 set-subnets --load-balancer-arn "$lb" --subnets "$sa" "$sb" >/dev/null 2>&1 || rc=$?
[ "$rc" = 137 ] || fail "set-subnets did not die at elb-subnet-left (exit $rc)"
for _ in $(seq 60); do
	[ "$(aws ec2 describe-network-interfaces --filters "Name=network-interface-id,Values=$eni_c" --query 'length(NetworkInterfaces)')" = 0 ] && break
	sleep 1
done
[ "$(aws ec2 describe-network-interfaces --filters "Name=network-interface-id,Values=$eni_c" --query 'length(NetworkInterfaces)')" = 0 ] ||
	fail "the interface that the killed set-subnets left ($eni_c) was not released"
! lan_get "$ip_c" 80 >/dev/null || fail "the LAN still reaches the released interface's address $ip_c"
zones=$(vm elbv2 set-subnets --load-balancer-arn "$lb" --subnets "$sa" "$sc" --output json) || fail "set-subnets after the crash"
ip_c=$(jq -r '.AvailabilityZones[] | select(.ZoneName == "us-east-1c") | .LoadBalancerAddresses[0].IpAddress' <<<"$zones")
[ "$(lan_get "$ip_c" 80)" = "hello from the load balancer" ] || fail "the LAN does not reach zone c's new interface at $ip_c"
ok "a set-subnets killed half-way: the interface it left is released by the controller; zone c comes back"

# --- HTTPS to targets: a target group of protocol HTTPS whose target (by address) is the load balancer's own
# HTTPS listener; its HTTPS health check passes, while an HTTP one to the same port fails
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/web.key" -out "$T/web.crt" -days 2 -subj /CN=web.example 2>/dev/null ||
	fail "openssl req"
cert=$(aws acm import-certificate --certificate "fileb://$T/web.crt" --private-key "fileb://$T/web.key" --query CertificateArn --output text)
elb create-listener --load-balancer-arn "$lb" --protocol HTTPS --port 443 --certificates CertificateArn="$cert" \
	--default-actions 'Type=fixed-response,FixedResponseConfig={StatusCode=200,ContentType=text/plain,MessageBody=secure hello}' >/dev/null
priv_a=$(elb describe-load-balancers --load-balancer-arns "$lb" --output text \
	--query "LoadBalancers[0].AvailabilityZones[?SubnetId=='$sa'].LoadBalancerAddresses[0].PrivateIPv4Address")
tgs=$(elb create-target-group --name secure --protocol HTTPS --port 443 --vpc-id "$vpc" --target-type ip \
	--health-check-interval-seconds 5 --health-check-timeout-seconds 2 --healthy-threshold-count 2 --unhealthy-threshold-count 2 --query 'TargetGroups[0].TargetGroupArn' --output text)
[ "$(elb describe-target-groups --target-group-arns "$tgs" --query 'TargetGroups[0].[Protocol,HealthCheckProtocol,HealthCheckPath]' --output text)" = "HTTPS	HTTPS	/" ] ||
	fail "an HTTPS target group: $(elb describe-target-groups --target-group-arns "$tgs" --output json)"
tgp=$(elb create-target-group --name plain --protocol HTTP --port 443 --vpc-id "$vpc" --target-type ip \
	--health-check-interval-seconds 5 --health-check-timeout-seconds 2 --healthy-threshold-count 2 --unhealthy-threshold-count 2 --query 'TargetGroups[0].TargetGroupArn' --output text)
aws ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 9000-9001 --cidr 198.51.100.0/24 >/dev/null
elb create-listener --load-balancer-arn "$lb" --protocol HTTP --port 9000 --default-actions Type=forward,TargetGroupArn="$tgs" >/dev/null
elb create-listener --load-balancer-arn "$lb" --protocol HTTP --port 9001 --default-actions Type=forward,TargetGroupArn="$tgp" >/dev/null
elb register-targets --target-group-arn "$tgs" --targets Id="$priv_a",Port=443
elb register-targets --target-group-arn "$tgp" --targets Id="$priv_a",Port=443
timeout 90 /usr/bin/aws --endpoint-url "$ENDPOINT" elbv2 wait target-in-service --target-group-arn "$tgs" ||
	fail "the HTTPS target group's target: $(elb describe-target-health --target-group-arn "$tgs" --output json)"
[ "$(lan_get "$ip_c" 9000)" = "secure hello" ] || fail "through the HTTPS target group: '$(lan_get "$ip_c" 9000)'"
for _ in $(seq 40); do
	st=$(elb describe-target-health --target-group-arn "$tgp" --query 'TargetHealthDescriptions[0].TargetHealth.State' --output text)
	[ "$st" = unhealthy ] && break
	sleep 0.5
done
[ "$st" = unhealthy ] || fail "an HTTP health check of a TLS port is $st, not unhealthy"
# a network load balancer's TLS target group: the host side's plain TCP goes on to the same listener as TLS
vcidr=$(aws ec2 describe-vpcs --vpc-ids "$vpc" --query 'Vpcs[0].CidrBlock' --output text)
# (the network load balancer reaches the application one through its group: 443 from the VPC)
aws ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 7000 --cidr "$vcidr" >/dev/null
aws ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 443 --cidr "$vcidr" >/dev/null
tgt=$(elb create-target-group --name tls --protocol TLS --port 443 --vpc-id "$vpc" --target-type ip --health-check-timeout-seconds 2 \
	--health-check-interval-seconds 5 --healthy-threshold-count 2 --query 'TargetGroups[0].TargetGroupArn' --output text)
nlb=$(elb create-load-balancer --name tlsnlb --type network --scheme internal --subnets "$sa" --security-groups "$sg" \
	--query 'LoadBalancers[0].LoadBalancerArn' --output text)
elb create-listener --load-balancer-arn "$nlb" --protocol TCP --port 7000 --default-actions Type=forward,TargetGroupArn="$tgt" >/dev/null
elb register-targets --target-group-arn "$tgt" --targets Id="$priv_a",Port=443
timeout 90 /usr/bin/aws --endpoint-url "$ENDPOINT" elbv2 wait target-in-service --target-group-arn "$tgt" ||
	fail "the TLS target group's target: $(elb describe-target-health --target-group-arn "$tgt" --output json)"
nlb_ip=$(elb describe-load-balancers --load-balancer-arns "$nlb" --query 'LoadBalancers[0].AvailabilityZones[0].LoadBalancerAddresses[0].PrivateIPv4Address' --output text)
got=$(in_ns curl -s -m 5 "http://$nlb_ip:7000/" || true)
[ "$got" = "secure hello" ] || fail "plain HTTP through the network load balancer's TLS target group: '$got'"
elb delete-load-balancer --load-balancer-arn "$nlb"
ok "HTTPS to targets: an HTTPS target group's health check and requests speak TLS to the target (the same target over HTTP is unhealthy); a network load balancer's TLS target group too"

# --- the pool used up: refused, nothing made; internal: no public address
expect_elb InvalidConfigurationRequest create-load-balancer --name more --subnets "$sa" "$sb" --security-groups "$sg"
[ "$(elb describe-load-balancers --query 'length(LoadBalancers)' --output text)" = 1 ] || fail "a refused load balancer was made"
[ "$(aws ec2 describe-network-interfaces --filters 'Name=description,Values=ELB app/more/*' --query 'length(NetworkInterfaces)' --output text)" = 0 ] ||
	fail "a refused load balancer left interfaces"
lbi=$(elb create-load-balancer --name inner --scheme internal --subnets "$sa" "$sb" --security-groups "$sg" \
	--query 'LoadBalancers[0].LoadBalancerArn' --output text)
[ "$(elb describe-load-balancers --load-balancer-arns "$lbi" --query 'LoadBalancers[0].AvailabilityZones[].LoadBalancerAddresses[].IpAddress' --output text)" = "" ] ||
	fail "an internal load balancer shows a public address"
ok "the pool used up: InvalidConfigurationRequest, nothing made; an internal load balancer takes no public address"

# --- deleted: the addresses go back to the pool, the LAN no longer reaches them
priv_a=$(elb describe-load-balancers --load-balancer-arns "$lb" --output text \
	--query "LoadBalancers[0].AvailabilityZones[?SubnetId=='$sa'].LoadBalancerAddresses[0].PrivateIPv4Address")
elb delete-listener --listener-arn "$l8080"
elb delete-load-balancer --load-balancer-arn "$lb"
elb delete-load-balancer --load-balancer-arn "$lbi"
timeout 120 /usr/bin/aws --endpoint-url "$ENDPOINT" elbv2 wait load-balancers-deleted --load-balancer-arns "$lb" "$lbi" ||
	fail "waiter load-balancers-deleted"
! lan_get 198.51.100.210 80 >/dev/null || fail "the LAN still reaches a deleted load balancer's address"
neigh=$(in_ns ip neigh show proxy)
! grep -q "198.51.100.21[01]" <<<"$neigh" || fail "a deleted load balancer's ARP proxy is left: $neigh"
dnsx=$(virsh_ net-dumpxml "vmmgr-$sa" | grep -o "<host ip='[0-9.]*'>" || true)
! grep -q "'$priv_a'\|'$priv_c'" <<<"$dnsx" || fail "the VPC's DNS keeps a deleted load balancer's name: $dnsx"
[ "$(aws ec2 allocate-address --query PublicIp --output text)" = 198.51.100.210 ] ||
	fail "a deleted load balancer's address did not go back to the pool"
ok "deleted: its addresses back in the pool, no ARP proxy or DNS record left, the LAN no longer reaches them"
