#!/bin/bash
# The quickstart's libvirtd comes back after all its processes were killed (an ended session, an OOM
# kill: nothing ran `scripts/libvirtd.sh stop`), and its namespace "vmmgr" with them is left behind.
#
#   quickstart-killed.sh DIR   (run by tests/run-all.sh after the host-guard phases; skipped when a
#                              libvirtd of the host answers on qemu:///system: it is not ours to kill)
#
# 1. the user's store: started, killed, started again: `vmmgr init` and a launch work and its
#    subnets' networks run again; its instances terminate (nothing stays defined in the host's
#    libvirt);
# 2. a new store after a second kill (what the suite's own stand-in does in the next CI run on a
#    machine whose last run was killed): its default VPC's block is not "already in use" by the
#    bridges of the killed libvirtd.
# Every process it kills is one that this script's start put in the namespace.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:?usage: quickstart-killed.sh DIR}
uri=qemu:///system
export VMMGR_IMAGES_DIR=${VMMGR_IMAGES_DIR:-$top/images/tiny}
. "$top/scripts/lib/libvirt-host.sh"

if virsh -c "$uri" version >/dev/null 2>&1; then
	echo "quickstart-killed: a libvirtd of the host answers on $uri; not ours to kill (skipped)"
	exit 0
fi
if [ -e /run/netns/vmmgr ]; then
	echo "quickstart-killed: a namespace 'vmmgr' exists before the test; it is not this test's (skipped)"
	exit 0
fi
mkdir -p "$dir/a" "$dir/b"
chmod 755 "$dir" "$dir/a" "$dir/b"
# on failure: the domains this test defined (persistent, in the host's /etc/libvirt) go too
launched=""
cleanup() {
	local d
	for d in $launched; do
		virsh -q -c "$uri" destroy "$d" >/dev/null 2>&1 || true
		virsh -q -c "$uri" undefine "$d" >/dev/null 2>&1 || true
	done
	"$top/scripts/libvirtd.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
vm_a() { "$top/vmmgr/vmmgr" --state-dir "$dir/a" --connect "$uri" "$@"; }
vm_b() { "$top/vmmgr/vmmgr" --state-dir "$dir/b" --connect "$uri" "$@"; }

# kill_all: every process in the namespace, as the end of a session does (SIGKILL, no cleanup)
kill_all() {
	local p n=0
	for p in $(ip netns pids vmmgr); do kill -9 "$p" && n=$((n + 1)); done
	for _ in $(seq 50); do [ -z "$(ip netns pids vmmgr)" ] && break; sleep 0.1; done
	[ -z "$(ip netns pids vmmgr)" ] || { echo "FAIL: processes outlived SIGKILL: $(ip netns pids vmmgr)"; exit 1; }
	echo "killed $n processes; the namespace keeps: $(ip -n vmmgr -br addr | awk '$1 != "lo" {print $1, $3}' | tr '\n' ' ')"
}

"$top/scripts/libvirtd.sh" start >/dev/null
vm_a init --accel tcg >/dev/null
ami=$(vm_a describe-images --filters Name=name,Values=vmmgr-tiny --query 'Images[0].ImageId' --output text)
id=$(vm_a run-instances --image-id "$ami" --query 'Instances[0].InstanceId' --output text)
launched=$id
vm_a wait instance-running --instance-ids "$id"
kill_all
[ -n "$(ip -n vmmgr -br addr | awk '$3 ~ /^172\.31\./')" ] ||
	{ echo "FAIL: the killed libvirtd's bridges should still hold the default VPC's addresses (else this test tests nothing)"; exit 1; }

# 1. the same store again (the quickstart run a second time)
"$top/scripts/libvirtd.sh" start
vm_a init --accel tcg >/dev/null
id2=$(vm_a run-instances --image-id "$ami" --query 'Instances[0].InstanceId' --output text)
launched="$id $id2"
vm_a wait instance-running --instance-ids "$id2"
for s in $(vm_a describe-subnets --query 'Subnets[].SubnetId' --output text); do
	[ "$(virsh -q -c "$uri" net-info "vmmgr-$s" | awk '$1 == "Active:" {print $2}')" = yes ] ||
		{ echo "FAIL: the network of $s is not running again"; exit 1; }
done
echo "ok: the same store after the kill: init, a launch ($id2), and its subnets' networks run"
# both instances terminated (the killed one is stopped): their domains are undefined
vm_a terminate-instances --instance-ids "$id" "$id2" >/dev/null
vm_a wait instance-terminated --instance-ids "$id" "$id2"
left=$(virsh -q -c "$uri" list --all --name | grep -E "^($id|$id2)\$" || true)
[ -z "$left" ] || { echo "FAIL: terminated instances left their domains: $left"; exit 1; }
launched=""

# 2. a new store after another kill
kill_all
"$top/scripts/libvirtd.sh" start >/dev/null
vm_b init --accel tcg >/dev/null
echo "ok: a new store's init after the kill (its default VPC's block is free again)"
"$top/scripts/libvirtd.sh" stop
[ ! -e /run/netns/vmmgr ] || { echo "FAIL: the stop left the namespace"; exit 1; }
trap - EXIT
echo "ok: stopped; nothing left"
