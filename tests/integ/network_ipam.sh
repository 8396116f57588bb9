#!/bin/bash
# vmmgr's address allocator: 20 launches at once (20 processes) never get the same address, and
# libvirt's DHCP entries match the store; a full subnet refuses a launch that does not fit and
# launches nothing; a terminated instance's address is free again.
. "$(dirname "$0")/lib.sh"
vm_init

vpc=$(vm describe-vpcs --filters Name=is-default,Values=true --query 'Vpcs[0].VpcId' --output text)
p=$(vm describe-vpcs --vpc-ids "$vpc" --query 'Vpcs[0].CidrBlock' --output text)
p=${p%.0.0/16}
sub=$(vm create-subnet --vpc-id "$vpc" --cidr-block "$p.64.0/26" --query 'Subnet.SubnetId' --output text)

pids=()
for i in $(seq 20); do
	vm run-instances --image-id "$AMI" --instance-type t3.nano --subnet-id "$sub" --output json > "$T/run$i.json" 2> "$T/run$i.err" &
	pids+=($!)
done
for i in $(seq 20); do wait "${pids[$((i - 1))]}" || fail "launch $i failed: $(cat "$T/run$i.err")"; done
ids=$(cat "$T"/run*.json | jq -r '.Instances[].InstanceId')
[ "$(wc -w <<<"$ids")" = 20 ] || fail "not 20 instances"
# the addresses are the requests'; the DHCP entries come with the domains, in the launches' jobs
# (20 TCG guests with their filters take minutes on two busy cores: up to 20 min, not a waiter's 10)
for ((i = 0; i < 240; i++)); do
	n=$(vm describe-instances --instance-ids $ids --filters Name=instance-state-name,Values=running \
		--query 'Reservations[].Instances[].InstanceId' --output text | wc -w)
	[ "$n" = 20 ] && break
	sleep 5
done
[ "$n" = 20 ] || fail "the 20 launches did not all start: $n running"
ips=$(vm describe-instances --filters "Name=subnet-id,Values=$sub" --output json |
	jq -r '.Reservations[].Instances[].PrivateIpAddress' | sort)
[ "$(wc -l <<<"$ips")" = 20 ] || fail "not 20 addresses: $ips"
[ "$(uniq <<<"$ips" | wc -l)" = 20 ] || fail "an address was handed out twice: $(uniq -d <<<"$ips")"
grep -qv "^$p\.64\." <<<"$ips" && fail "an address outside the subnet: $ips"
for ip in $ips; do
	last=${ip##*.}
	[ "$last" -ge 4 ] && [ "$last" -le 62 ] || fail "$ip is one of the addresses AWS reserves"
done
dhcp=$(virsh_ net-dumpxml "vmmgr-$sub" | grep "<host mac=" | grep -o "ip='[0-9.]*'" | cut -d"'" -f2 | sort)
[ "$dhcp" = "$ips" ] || fail "libvirt's DHCP entries differ from the store: $dhcp"
[ "$(vm describe-subnets --subnet-ids "$sub" --query 'Subnets[0].AvailableIpAddressCount' --output text)" = 39 ] ||
	fail "AvailableIpAddressCount is not 59 - 20"
ok "20 parallel launches: 20 distinct addresses in the subnet, none reserved, each with its DHCP entry"

first=$(head -n 1 <<<"$ips")
owner=$(vm describe-instances --filters "Name=private-ip-address,Values=$first" --query 'Reservations[0].Instances[0].InstanceId' --output text)
vm terminate-instances --instance-ids $ids >/dev/null
vm wait instance-terminated --instance-ids $ids
[ "$(vm describe-subnets --subnet-ids "$sub" --query 'Subnets[0].AvailableIpAddressCount' --output text)" = 59 ] ||
	fail "terminate did not free the addresses"
virsh_ net-dumpxml "vmmgr-$sub" | grep -q "<host mac" && fail "DHCP entries stayed after terminate"
again=$(vm run-instances --image-id "$AMI" --instance-type t3.nano --subnet-id "$sub" --private-ip-address "$first" \
	--query 'Instances[0].InstanceId' --output text)
[ "$again" != "$owner" ] && [ "$(private_ip "$again")" = "$first" ] || fail "a freed address cannot be used again"
ok "terminate frees the addresses and their DHCP entries; a freed address is given again"

small=$(vm create-subnet --vpc-id "$vpc" --cidr-block "$p.65.0/28" --query 'Subnet.SubnetId' --output text)
expect_error InsufficientFreeAddressesInSubnet vm run-instances --image-id "$AMI" --subnet-id "$small" --count 12
[ "$(vm describe-instances --filters "Name=subnet-id,Values=$small" --output json | jq '.Reservations | length')" = 0 ] ||
	fail "a launch that did not fit launched something"
[ "$(vm describe-subnets --subnet-ids "$small" --query 'Subnets[0].AvailableIpAddressCount' --output text)" = 11 ] ||
	fail "a refused launch took addresses"
ok "a subnet without room for the launch (a /28 has 11 addresses) refuses it and launches nothing"

# drift: a subnet's network destroyed behind vmmgr's back (or gone with a host reboot) is made
# again from the store, DHCP entry included; DNS support off takes the VPC's names away, on brings them back
mac=$(vm describe-instances --instance-ids "$again" --query 'Reservations[0].Instances[0].NetworkInterfaces[0].MacAddress' --output text)
virsh_ net-destroy "vmmgr-$sub" >/dev/null
vm describe-subnets --subnet-ids "$sub" >/dev/null
[ "$(virsh_ net-info "vmmgr-$sub" | awk '$1 == "Active:" {print $2}')" = yes ] || fail "the destroyed network was not made again"
grep -q "<host mac='$mac'" <<<"$(virsh_ net-dumpxml "vmmgr-$sub")" || fail "the remade network lacks the instance's DHCP entry"
name="ip-${first//./-}.us-east-1.compute.internal"
grep -q "$name" <<<"$(virsh_ net-dumpxml "vmmgr-$sub")" || fail "no DNS name for $first"
vm modify-vpc-attribute --vpc-id "$vpc" --no-enable-dns-hostnames
vm modify-vpc-attribute --vpc-id "$vpc" --no-enable-dns-support
grep -q "$name" <<<"$(virsh_ net-dumpxml "vmmgr-$sub")" && fail "DNS names stayed with DNS support off"
[ "$(vm describe-vpc-attribute --vpc-id "$vpc" --attribute enableDnsSupport --query 'EnableDnsSupport.Value' --output text)" = False ] ||
	fail "enableDnsSupport not recorded"
vm modify-vpc-attribute --vpc-id "$vpc" --enable-dns-support
grep -q "$name" <<<"$(virsh_ net-dumpxml "vmmgr-$sub")" || fail "DNS names did not come back"
vm modify-vpc-attribute --vpc-id "$vpc" --enable-dns-hostnames
expect_error InvalidParameterValue vm modify-vpc-attribute --vpc-id "$vpc" --no-enable-dns-support
expect_error InvalidParameterCombination vm modify-vpc-attribute --vpc-id "$vpc" --enable-dns-support --enable-dns-hostnames
ok "a destroyed subnet network is remade from the store; DNS support off and on takes names away and back"
