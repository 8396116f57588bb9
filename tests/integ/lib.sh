# Shared by the real-guest tests.  Each test gets its own state dir; the libvirtd is the harness's
# (tests/harness/libvirtd-netns.sh, started by tests/run-all.sh).  A test that cannot reach it fails.
set -euo pipefail
VM_BIN=${VMMGR_BIN:?run through make check}
# the harness's own libvirtd, reached through its own socket (never the host's)
if [ -z "${VMMGR_LIBVIRT_URI:-}" ] && [ -f "${VMMGR_TEST_RUN:-/nonexistent}/uri" ]; then
	VMMGR_LIBVIRT_URI=$(cat "$VMMGR_TEST_RUN/uri")
fi
export VMMGR_LIBVIRT_URI=${VMMGR_LIBVIRT_URI:?no harness libvirtd: run the suite through tests/run-all.sh}
LV=$VMMGR_LIBVIRT_URI
# the harness's private libvirt directories (its /var/lib/libvirt is LV_ROOT/lib)
LV_ROOT=${VMMGR_TEST_RUN:-/nonexistent}/root
export VMMGR_WAIT_DELAY=${VMMGR_WAIT_DELAY:-0.5}
T=$(mktemp -d /tmp/vmmgr-test.XXXXXX)
chmod 755 "$T"
S="$T/state"

vm() { "$VM_BIN" --state-dir "$S" "$@"; }
virsh_() { virsh -q -c "$LV" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$(dirname "${BASH_SOURCE[0]}")/../harness/store-sweep.sh"
# pid_alive (a zombie counts as ended), lv_ns_stop, …: the scripts' own helpers
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/libvirt-host.sh"
# ok TEXT: a step passed; "[N s]" is when, since the test started (where a long test spends its time)
ok() { echo "ok - $* [${SECONDS} s]"; }

cleanup() {
	local ids id
	# what the jobs of the test's requests said (vmmgr/core/job.h): a test's failure may be theirs
	[ -s "$S/jobs.log" ] && { echo "--- $S/jobs.log"; cat "$S/jobs.log"; } >&2
	ids=$(vm describe-instances --output json 2>/dev/null |
		jq -r '.Reservations[].Instances[] | select(.State.Name != "terminated") | .InstanceId' 2>/dev/null || true)
	[ -n "$ids" ] && { vm terminate-instances --instance-ids $ids >/dev/null 2>&1 || true; }
	# its networks, load balancers, routers, metadata service and nftables tables
	store_sweep "$S" "$LV" "$NS"
	rm -rf "$T"
}
trap cleanup EXIT

# next_block: a /16 (10.N) no other test of this run uses, so their VPCs never overlap in the one
# libvirtd they share (the counter lives in the harness's run dir, or /tmp)
next_block() {
	local f=${VMMGR_TEST_RUN:-/tmp}/vmmgr-test-blocks n
	exec {lk}>>"$f.lock"
	flock "$lk"
	n=$(( $(cat "$f" 2>/dev/null || echo 100) + 1 ))
	[ "$n" -gt 250 ] && n=101
	echo "$n" > "$f"
	exec {lk}>&-
	echo "10.$n"
}
VMMGR_DEFAULT_VPC_CIDR=$(next_block).0.0/16
export VMMGR_DEFAULT_VPC_CIDR

virsh -c "$LV" version >/dev/null 2>&1 ||
	fail "no libvirtd answers on $LV: run the suite through tests/run-all.sh"

# vm_init: initialise the state dir under TCG and set $AMI to the tiny image.
vm_init() {
	vm init --accel tcg >/dev/null || fail "init failed"
	AMI=$(vm describe-images --filters Name=name,Values=vmmgr-tiny --output json | jq -r '.Images[0].ImageId')
	[[ "$AMI" == ami-* ]] || fail "no tiny image after init"
}

# launch ARGS…: run-instances, prints the instance ids.  One vCPU (t2.micro) unless ARGS name a type:
# a two-vCPU TCG guest on a loaded 2-core host now and then stalls for good while it boots (its
# second CPU's timer wakeup lost: RCU stall warnings, no ready line; network.sh in the CI run of
# 2d8bc6e), and one vCPU per guest halves the threads that contend for the host's cores
launch() {
	case " $* " in
	*" --instance-type "*) ;;
	*) set -- --instance-type t2.micro "$@" ;;
	esac
	vm run-instances --image-id "$AMI" "$@" --output json | jq -r '.Instances[].InstanceId'
}

console() { vm get-console-output --instance-id "$1" --output json | jq -r .Output; }

# count_console ID PATTERN
count_console() { console "$1" | grep -c -- "$2" || true; }

# wait_console ID PATTERN N [TIMEOUT]: until PATTERN appeared N times in the console
wait_console() {
	local id=$1 pat=$2 n=$3 t=${4:-120} i
	for ((i = 0; i < t * 2; i++)); do
		[ "$(count_console "$id" "$pat")" -ge "$n" ] && return 0
		sleep 0.5
	done
	console "$id" | tail -n 20 >&2
	# what the guest was doing: a guest that printed nothing (a TCG boot stalled under load, seen in
	# CI) says where its vCPUs are; its QEMU log says whether it ran at all
	{
		echo "--- $id: $(virsh_ domstate --reason "$id" 2>&1 | head -n 1)"
		virsh_ qemu-monitor-command "$id" --hmp 'info cpus' 2>&1 | head -n 4
		virsh_ qemu-monitor-command "$id" --hmp 'info registers' 2>&1 | grep -E '^(RIP|CR0)' | head -n 4
		tail -n 3 "${VMMGR_TEST_RUN:-/nonexistent}/root/log/qemu/$id.log" 2>/dev/null | cut -c1-200
	} >&2
	fail "instance $id: '$pat' did not appear $n times within $t s"
}

state_of() { vm describe-instances --instance-ids "$1" --output json | jq -r '.Reservations[0].Instances[0].State.Name'; }

expect_state() {
	local s
	s=$(state_of "$1")
	[ "$s" = "$2" ] || fail "instance $1 is '$s', expected '$2'"
}

# expect_error CODE COMMAND…: the command fails with EC2 error CODE
expect_error() {
	local code=$1 out rc=0
	shift
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" -ne 0 ] || fail "'$*' succeeded, expected $code"
	grep -q "($code)" <<<"$out" || fail "'$*' failed without $code: $out"
}

domain_exists() { virsh_ dominfo "$1" >/dev/null 2>&1; }
domain_state() { virsh_ domstate "$1" 2>/dev/null | head -n 1; }

# --- networking: the harness's namespace holds the bridges; the host side is each subnet's gateway
NS=$(cat "${VMMGR_TEST_RUN:-/tmp/vmrun}/netns" 2>/dev/null || true)
in_ns() { [ -n "$NS" ] || fail "no harness namespace (VMMGR_TEST_RUN)"; ip netns exec "$NS" "$@"; }
# the name of the store's nftables tables (net/fw.c), "" before the first
fw_table() { sqlite3 "$S/state.db" "SELECT value FROM config WHERE key = 'firewall_table'" 2>/dev/null || true; }

private_ip() { vm describe-instances --instance-ids "$1" --query 'Reservations[0].Instances[0].PrivateIpAddress' --output text; }

# tcp_open SRC DST PORT: a TCP connection from host address SRC reaches DST:PORT within 4 s
tcp_open() {
	in_ns python3 - "$1" "$2" "$3" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(4)
s.bind((sys.argv[1], 0))
try:
    s.connect((sys.argv[2], int(sys.argv[3])))
except OSError:
    sys.exit(1)
PY
}

# gssh KEY IP COMMAND…: runs COMMAND as root in the guest over ssh
gssh() {
	local key=$1 ip=$2
	shift 2
	in_ns ssh -i "$key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o ConnectTimeout=20 -o BatchMode=yes "root@$ip" "$@"
}

# allow_ssh GROUP CIDR: tcp/22 from CIDR (the host side is the subnet's gateway)
allow_ssh() { vm authorize-security-group-ingress --group-id "$1" --protocol tcp --port 22 --cidr "$2" >/dev/null; }
default_group() { vm describe-security-groups --filters "Name=vpc-id,Values=$1" "Name=group-name,Values=default" --query 'SecurityGroups[0].GroupId' --output text; }

# CODE ARGS…: `aws acm ARGS…` (serve.sh's endpoint) fails with CODE
# expect_elb CODE ARGS…: aws elbv2 (through serve.sh's endpoint) fails with CODE
expect_elb() {
	local code=$1 out
	shift
	out=$(aws elbv2 "$@" 2>&1) && fail "'elbv2 $*' succeeded, expected $code"
	grep -q "($code)" <<<"$out" || fail "'elbv2 $*': $out (expected $code)"
}
expect_acm() {
	local code=$1 out
	shift
	out=$(aws acm "$@" 2>&1) && fail "'acm $*' succeeded, expected $code"
	grep -q "($code)" <<<"$out" || fail "'acm $*': $out (expected $code)"
}
