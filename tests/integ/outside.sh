# The "outside" of a host's uplink, for the tests of the ways in and out (internet gateways, NAT,
# public addresses): a namespace joined to the harness's namespace by a veth pair (the uplink $UP,
# 198.51.100.2/24 on the harness's side, the outside at 198.51.100.1) with a web server at the
# documentation address 203.0.113.10 that logs whom it saw ($T/web.log).  Sourced after lib.sh;
# outside_cleanup removes it all (the test's EXIT trap calls it).  One test at a time has an
# outside (a lock in the harness's run dir): the others wait in outside_up.
OUT=vmmgr-out-$$
UP=vu$$
outside_up() {
	# one outside at a time in a harness: each routes 203.0.113.0/24 through its own uplink veth, and a
	# second route would be refused ("File exists"); the lock is held until the test exits
	exec {OUTSIDE_LOCK}>>"${VMMGR_TEST_RUN:-/tmp}/outside.lock"
	flock "$OUTSIDE_LOCK"
	ip netns add "$OUT"
	ip link add "$UP" type veth peer name vo$$
	ip link set "$UP" netns "$NS"
	ip link set vo$$ netns "$OUT"
	in_ns ip addr add 198.51.100.2/24 dev "$UP"
	in_ns ip link set "$UP" up
	in_ns ip route add 203.0.113.0/24 via 198.51.100.1 dev "$UP"
	ip netns exec "$OUT" ip addr add 198.51.100.1/24 dev vo$$
	ip netns exec "$OUT" ip link set vo$$ up
	ip netns exec "$OUT" ip link set lo up
	ip netns exec "$OUT" ip addr add 203.0.113.10/32 dev lo
	mkdir -p "$T/www"
	echo "hello from outside" > "$T/www/index.html"
	ip netns exec "$OUT" python3 -m http.server 80 --bind 203.0.113.10 --directory "$T/www" 2> "$T/web.log" &
	WEB_PID=$!
}
outside_cleanup() {
	[ -n "${WEB_PID:-}" ] && kill "$WEB_PID" 2>/dev/null
	ip netns del "$OUT" 2>/dev/null # the veth pair goes with it
	true
}
# lan_open PORT [ADDR]: a TCP connection from the outside reaches ADDR:PORT (ADDR: $eip) within 4 s
lan_open() {
	ip netns exec "$OUT" python3 -c 'import socket, sys
s = socket.socket(); s.settimeout(4)
try: s.connect((sys.argv[1], int(sys.argv[2])))
except OSError: sys.exit(1)' "${2:-$eip}" "$1"
}
