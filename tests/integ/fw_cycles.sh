#!/bin/bash
# 100 launch/terminate cycles (ten launches of ten, each terminated at once, while its launch job
# still works) leave nothing behind: no firewall element, DHCP entry, lease, tap, domain or file.
# The firewall itself is checked live before: a launched instance's elements are there.
. "$(dirname "$0")/lib.sh"

# what an nwfilter version of vmmgr left (an upgrade): its nwfilters and its groups' ipsets go
legacy="vmmgr-sg-$(printf '%08x' $$)"
trap 'virsh_ nwfilter-undefine "$legacy" >/dev/null 2>&1 || true; in_ns ipset destroy "$legacy" 2>/dev/null || true; cleanup' EXIT
echo "<filter name='$legacy' chain='root'><rule action='accept' direction='inout'><all/></rule></filter>" > "$T/legacy.xml"
virsh_ nwfilter-define "$T/legacy.xml" >/dev/null || fail "could not define an nwfilter to upgrade from"
in_ns ipset create "$legacy" hash:ip
vm_init
vm describe-instances >/dev/null
virsh_ nwfilter-list | grep -qw "$legacy" && fail "the nwfilter $legacy of the older vmmgr is still defined"
in_ns ipset list -n | grep -qx "$legacy" && fail "the ipset $legacy of the older vmmgr is still there"
ok "an upgrade removes the older vmmgr's nwfilters and ipsets"

sub=$(vm describe-subnets --query 'Subnets[0].SubnetId' --output text)
one=$(launch)
vm wait instance-running --instance-ids "$one"
t=$(fw_table)
[ -n "$t" ] || fail "no firewall tables named in the store"
ip=$(private_ip "$one")
guests=$(in_ns nft list set inet "$t" guests)
# a command finds the tables current and leaves them be: a rebuild would give the table a new handle
handle() { in_ns nft -a list table "$1" "$t" | sed -n '1s/.*# handle \([0-9]*\).*/\1/p'; }
h_inet=$(handle inet) h_bridge=$(handle bridge)
vm describe-instances >/dev/null
vm describe-key-pairs >/dev/null
[ -n "$h_inet" ] && [ "$(handle inet)/$(handle bridge)" = "$h_inet/$h_bridge" ] ||
	fail "a command rebuilt the current firewall tables (handles $h_inet/$h_bridge, now $(handle inet)/$(handle bridge))"
grep -qF "$ip" <<<"$guests" || fail "the launched instance's address $ip is not in the firewall: $guests"
vm terminate-instances --instance-ids "$one" >/dev/null
vm wait instance-terminated --instance-ids "$one"
all="$one"
for round in $(seq 10); do
	ids=$(launch --count 10)
	[ "$(wc -w <<<"$ids")" = 10 ] || fail "round $round: not 10 instances"
	vm terminate-instances --instance-ids $ids >/dev/null
	all="$all $ids"
done
vm wait instance-terminated --instance-ids $all
[ "$(vm describe-instances --instance-ids $all --filters Name=instance-state-name,Values=terminated \
	--query 'Reservations[].Instances[].InstanceId' --output text | wc -w)" = 101 ] || fail "not all 101 terminated"

left=""
# firewall: every set and map of the store's tables is empty again (the gen sets hold the generation;
# out_ok holds the subnets' routes out, the default VPC's among them, no instance's)
for fam in bridge inet; do
	sets=$(in_ns nft list table "$fam" "$t" | awk '/^\t(set|map) / {print $2}' | grep -vE '^(gen|out_ok)$' || true)
	for s in $sets; do
		set=$(in_ns nft list set "$fam" "$t" "$s" 2>/dev/null || in_ns nft list map "$fam" "$t" "$s")
		grep -q "elements = " <<<"$set" && left="$left $fam/$s:$(grep -A2 'elements' <<<"$set" | tr -d '\n\t')"
	done
done
# DHCP entries and leases of the subnet, taps, domains, files
virsh_ net-dumpxml "vmmgr-$sub" | grep -q "<host mac" && left="$left dhcp-entries"
status="$LV_ROOT/lib/dnsmasq/vmmgr-$sub.status"
[ -f "$status" ] && grep -q '"ip-address"' "$status" && left="$left leases:$(grep -c '"ip-address"' "$status")"
for id in $all; do
	virsh_ dominfo "$id" >/dev/null 2>&1 && left="$left domain:$id"
	[ -e "$S/instances/$id" ] && left="$left dir:$id"
done
# the subnet's bridge (vm + 13 of its hex digits) has no port left
br="vm${sub#subnet-}"
ports=$(in_ns ip -o link show master "${br:0:15}" | awk -F': ' '{print $2}' | tr '\n' ' ')
[ -z "$ports" ] || left="$left ports:$ports"
[ "$(sqlite3 "$S/state.db" "SELECT count(*) FROM network_interfaces")" = 0 ] || left="$left interfaces-in-store"
[ -z "$left" ] || fail "left behind:$left"
ok "101 launch/terminate cycles leave no firewall element, DHCP entry, lease, domain, file or interface"
