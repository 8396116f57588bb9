#!/bin/bash
# A spike for issue 17 (overlapping VPCs), not part of vmmgr or of the suite: it checks, on this
# kernel, the layout the issue's design would use, with namespaces standing in for guests.  It makes
# only namespaces of its own (documentation addresses outside) and removes them.
#
#   H       libvirtd's namespace: the subnets' bridges WITHOUT an address (libvirt: an isolated
#           network with no <ip>), the inet table with a conntrack zone per VPC set by bridge name
#           (br_netfilter), masquerade out of the uplink
#   Ra, Rb  one router namespace per VPC: the subnet's gateway 10.0.1.1 on a veth into its bridge,
#           dnsmasq for DHCP, masquerade to its transit address 100.64.K.2/30, default route to H
#   a1 a2   guests of VPC a, b1 b2 of VPC b: both VPCs are 10.0.0.0/16 with subnet 10.0.1.0/24
#   O       the outside: 203.0.113.10 serves HTTP
#
# Checks: DHCP in each VPC from its own dnsmasq; neighbours reach each other; the same address
# (10.0.1.50) in both VPCs answers each VPC's own client; both VPCs reach the outside through two
# masquerades; an Elastic IP per VPC (203.0.113.5K, proxy ARP on the uplink, its /32 routed to the
# VPC's transit link, 1:1 NAT in the router) takes the outside to the right 10.0.1.50, and that
# server's own traffic out leaves from its Elastic IP.  Prints "ok - …" lines; exits 1 on the first
# failure.
#
#   scripts/spikes/overlapping-vpcs.sh    (root; needs busybox, dnsmasq, nft, ip)
set -u
P=ov$$
H=${P}h
O=${P}o
ALL="$H $O ${P}ra ${P}rb ${P}a1 ${P}a2 ${P}b1 ${P}b2"
pids=()
T=/tmp/vmmgr-spike-$P
mkdir -p "$T"
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for n in $ALL; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() { echo "not ok - $*"; exit 1; }
ok() { echo "ok - $*"; }
get() { timeout 10 ip netns exec "${P}$1" busybox wget -q -O - "$2" 2>/dev/null; }
addr() { ip -n "${P}$1" -4 -o addr show dev eth0 | awk '{print $4}' | head -1 | cut -d/ -f1; }

for n in $ALL; do ip netns add "$n" && ip -n "$n" link set lo up || fail "namespace $n"; done
# the outside and the uplink
ip -n "$H" link add up0 type veth peer name eth0 netns "$O"
ip -n "$H" addr add 203.0.113.1/24 dev up0
ip -n "$H" link set up0 up
ip -n "$O" addr add 203.0.113.10/24 dev eth0
ip -n "$O" link set eth0 up
mkdir -p "$T/out"
echo outside > "$T/out/index.html"
ip netns exec "$O" busybox httpd -f -p 203.0.113.10:80 -h "$T/out" &
pids+=($!)
ip netns exec "$H" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward; echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables'

k=0
for v in a b; do
	k=$((k + 1))
	R=${P}r$v
	ip -n "$H" link add "br$v" type bridge
	ip -n "$H" link set "br$v" up
	ip -n "$H" link add "gw$v" type veth peer name sub1 netns "$R"
	ip -n "$H" link set "gw$v" master "br$v" up
	ip -n "$R" addr add 10.0.1.1/24 dev sub1
	ip -n "$R" link set sub1 up
	ip -n "$H" link add "tr$v" type veth peer name tr0 netns "$R"
	ip -n "$H" addr add "100.64.$k.1/30" dev "tr$v"
	ip -n "$H" link set "tr$v" up
	ip -n "$R" addr add "100.64.$k.2/30" dev tr0
	ip -n "$R" link set tr0 up
	ip -n "$R" route add default via "100.64.$k.1"
	ip netns exec "$R" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'
	ip netns exec "$R" nft -f - <<-'NFT' || fail "the router's nat table"
	table ip vpc {
	  chain post { type nat hook postrouting priority srcnat; oifname "tr0" masquerade; }
	}
	NFT
	ip netns exec "$R" dnsmasq --conf-file=/dev/null --no-hosts --no-resolv --keep-in-foreground --bind-interfaces \
		--interface=sub1 --except-interface=lo --dhcp-range=10.0.1.10,10.0.1.20,255.255.255.0,1h \
		--dhcp-leasefile="$T/leases-$v" --pid-file= --log-facility="$T/dnsmasq-$v.log" &
	pids+=($!)
	for i in 1 2; do
		ip -n "$H" link add "vt$v$i" type veth peer name eth0 netns "${P}$v$i"
		ip -n "$H" link set "vt$v$i" master "br$v" up
		ip -n "${P}$v$i" link set eth0 up
	done
done
# conntrack zones by bridge (for br_netfilter packets iifname is the bridge, not the port; meta
# ibrname exists only in the bridge family); the transit links need none: their addresses differ
ip netns exec "$H" nft -f - <<'NFT' || fail "the host's inet table"
table inet vm {
  chain zone { type filter hook prerouting priority raw;
    iifname "bra" ct zone set 1
    iifname "brb" ct zone set 2
  }
  chain seen { type filter hook forward priority filter;
    ct zone 1 counter
    ct zone 2 counter
  }
  chain nat { type nat hook postrouting priority srcnat; oifname "up0" masquerade; }
}
NFT
sleep 1

cat > "$T/dhcp.sh" <<'SH'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add "$ip/$mask" dev "$interface"
[ -n "$router" ] && ip route add default via "$router"
SH
chmod +x "$T/dhcp.sh"
for g in a1 a2 b1 b2; do
	ip netns exec "${P}$g" busybox udhcpc -i eth0 -q -n -t 5 -T 1 -s "$T/dhcp.sh" >/dev/null 2>&1 || fail "DHCP for $g"
done
ok "DHCP in each VPC from its router's dnsmasq: a1 $(addr a1), a2 $(addr a2), b1 $(addr b1), b2 $(addr b2)"
ip netns exec "${P}a1" ping -c1 -W2 "$(addr a2)" >/dev/null || fail "a1 to a2"
ip netns exec "${P}b1" ping -c1 -W2 "$(addr b2)" >/dev/null || fail "b1 to b2"
ok "neighbours reach each other in each VPC"
zones=$(ip netns exec "$H" nft list chain inet vm seen | grep -c 'ct zone [12] counter packets [1-9]')
[ "$zones" = 2 ] || fail "conntrack zones 1 and 2 did not both see their VPC's packets"
ok "each VPC's bridged packets went through conntrack in the VPC's own zone"
for v in a b; do
	ip -n "${P}${v}2" addr add 10.0.1.50/24 dev eth0
	mkdir -p "$T/www-$v"
	echo "vpc-$v" > "$T/www-$v/index.html"
	ip netns exec "${P}${v}2" busybox httpd -f -p 10.0.1.50:80 -h "$T/www-$v" &
	pids+=($!)
done
sleep 1
[ "$(get a1 http://10.0.1.50/index.html)" = vpc-a ] || fail "a1 did not get VPC a's 10.0.1.50"
[ "$(get b1 http://10.0.1.50/index.html)" = vpc-b ] || fail "b1 did not get VPC b's 10.0.1.50"
ok "the same address 10.0.1.50 in both VPCs: each client gets its own VPC's server"
[ "$(get a1 http://203.0.113.10/index.html)" = outside ] || fail "a1 to the outside"
[ "$(get b1 http://203.0.113.10/index.html)" = outside ] || fail "b1 to the outside"
ok "both VPCs reach the outside through the router's and the uplink's masquerade"

# Elastic IPs: 203.0.113.51 is VPC a's 10.0.1.50, 203.0.113.52 VPC b's
ip netns exec "$H" sh -c 'echo 1 > /proc/sys/net/ipv4/conf/up0/proxy_arp'
k=0
for v in a b; do
	k=$((k + 1))
	eip=203.0.113.5$k
	ip -n "$H" neigh add proxy "$eip" dev up0
	ip -n "$H" route add "$eip/32" via "100.64.$k.2"
	ip netns exec "${P}r$v" nft -f - <<-NFT || fail "the router's Elastic IP"
	table ip eip {
	  chain pre { type nat hook prerouting priority dstnat; ip daddr $eip dnat to 10.0.1.50; }
	  chain post { type nat hook postrouting priority srcnat - 1; ip saddr 10.0.1.50 oifname "tr0" snat to $eip; }
	}
	NFT
done
# the uplink's masquerade must leave an Elastic IP's own source alone
ip netns exec "$H" nft insert rule inet vm nat ip saddr '{ 203.0.113.51, 203.0.113.52 }' accept
[ "$(timeout 10 ip netns exec "$O" busybox wget -q -O - http://203.0.113.51/index.html 2>/dev/null)" = vpc-a ] ||
	fail "the outside did not reach VPC a's server at its Elastic IP"
[ "$(timeout 10 ip netns exec "$O" busybox wget -q -O - http://203.0.113.52/index.html 2>/dev/null)" = vpc-b ] ||
	fail "the outside did not reach VPC b's server at its Elastic IP"
ok "the outside reaches each VPC's 10.0.1.50 at its own Elastic IP (proxy ARP, a /32 to the transit link, 1:1 NAT in the router)"
ip netns exec "$H" nft add chain inet vm out '{ type filter hook forward priority filter; }'
ip netns exec "$H" nft add rule inet vm out oifname up0 ip saddr 203.0.113.52 counter
ip netns exec "${P}b2" ping -c1 -W2 -I 10.0.1.50 203.0.113.10 >/dev/null || fail "VPC b's 10.0.1.50 did not reach the outside"
ip netns exec "$H" nft list chain inet vm out | grep -q 'counter packets [1-9]' ||
	fail "VPC b's 10.0.1.50 did not leave from its Elastic IP"
ok "VPC b's 10.0.1.50 reaches the outside from its Elastic IP 203.0.113.52"
