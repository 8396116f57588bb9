#!/bin/bash
# Auto Scaling scale-out from 0 to N: cold (the group launches N instances from its template) against
# a Hibernated warm pool of N (the instances booted ahead and saved; the scale-out resumes them), the
# same template, same group, alternately.  Timed from SetDesiredCapacity (sent by curl) to all N
# InService and answering a ping on their addresses.  Prints each time, the medians and the ratio
# warm/cold (goal: at most 0.3).  With BENCH_TRACE=FILE, vmmgr's step trace (VMMGR_TRACE) of the
# daemon and its jobs, with the bench's own marks (scale sent, in service seen, pings), goes to FILE.
#
#   bench/warm_pool.sh [SAMPLES] [N…]    (default 2 samples of N = 1, 3 and 5; needs the harness's
#                                          libvirtd: bench/run.sh provides one)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
samples=${1:-2}
shift || true
sizes=${*:-1 3 5}
max=$(printf "%s\n" $sizes | sort -n | tail -n 1)
VM_BIN=${VMMGR_BIN:-$top/vmmgr/vmmgr}
export VMMGR_IMAGES_DIR=${VMMGR_IMAGES_DIR:-$top/images/tiny}
. "$top/bench/lib.sh" warm
ns=$(cat "${VMMGR_TEST_RUN:?run through bench/run.sh or with VMMGR_TEST_RUN}/netns")
trace=${BENCH_TRACE:-}
[ -n "$trace" ] && export VMMGR_TRACE=1
cleanup() {
	[ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
	[ -n "$trace" ] && cat "$T/serve.err" "$S/jobs.log" "$T/bench.trace" > "$trace" 2>/dev/null
	bench_cleanup
	rm -rf "$T"
}
trap cleanup EXIT

vm init --accel tcg >/dev/null
key=$(vm create-access-key --output json)
export AWS_ACCESS_KEY_ID=$(jq -r .AccessKey.AccessKeyId <<<"$key") AWS_SECRET_ACCESS_KEY=$(jq -r .AccessKey.SecretAccessKey <<<"$key")
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
"$VM_BIN" --state-dir "$S" serve --listen 127.0.0.1:0 --metrics-interval 0 >"$T/serve.out" 2>"$T/serve.err" &
serve_pid=$!
for _ in $(seq 100); do grep -q "listening on" "$T/serve.out" && break; sleep 0.1; done
ep=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$T/serve.out")
aws() { /usr/bin/aws --endpoint-url "$ep" "$@"; }
as() { aws autoscaling "$@"; }

ami=$(vm describe-images --filters Name=name,Values=vmmgr-tiny --query 'Images[0].ImageId' --output text)
vpc=$(vm describe-vpcs --query 'Vpcs[0].VpcId' --output text)
p=$(vm describe-vpcs --query 'Vpcs[0].CidrBlock' --output text)
p=${p%.0.0/16}
sg=$(vm describe-security-groups --filters "Name=vpc-id,Values=$vpc" Name=group-name,Values=default --query 'SecurityGroups[0].GroupId' --output text)
vm authorize-security-group-ingress --group-id "$sg" --protocol icmp --port -1 --cidr "$p.0.1/32" >/dev/null
sub=$(vm describe-subnets --query 'Subnets[0].SubnetId' --output text)
aws ec2 create-launch-template --launch-template-name bench \
	--launch-template-data "{\"ImageId\":\"$ami\",\"InstanceType\":\"t2.micro\"}" >/dev/null
as create-auto-scaling-group --auto-scaling-group-name bench --launch-template LaunchTemplateName=bench \
	--min-size 0 --max-size "$max" --desired-capacity 0 --vpc-zone-identifier "$sub"

ms() { echo $(($(date +%s%N) / 1000000)); }
# polled through the CLI (the store, a few ms) rather than the aws CLI (half a second to start)
in_service() { vm autoscaling describe-auto-scaling-groups --auto-scaling-group-names bench --output json |
	jq -r '.AutoScalingGroups[0].Instances[] | select(.LifecycleState == "InService") | .InstanceId'; }
# scale N: SetDesiredCapacity N, then until N are InService and each answers a ping; prints ms.  The
# polls are light and 0.2 s apart: on 2 cores a poll's processes take CPU from the guests being
# started or resumed, which would lengthen what is measured (a warm resume of 3 the most).
scale() {
	local n=$1 t0 ids ips ip left i
	t0=$(ms)
	[ -n "$trace" ] && echo "vmmgr trace bench $t0 +0 scale $n" >>"$T/bench.trace"
	# by curl's SigV4 rather than the aws CLI, whose own start (~0.7 s of Python) would be in both times
	curl -sf --aws-sigv4 "aws:amz:us-east-1:autoscaling" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		-d "Action=SetDesiredCapacity&Version=2011-01-01&AutoScalingGroupName=bench&DesiredCapacity=$n" "$ep/" >/dev/null
	for ((i = 0; i < 3000; i++)); do
		ids=$(in_service)
		[ "$(wc -w <<<"$ids")" = "$n" ] && break
		sleep 0.2
	done
	# their addresses once; then each is pinged until it answers (a guest not up yet is asked again)
	# shellcheck disable=SC2086
	ips=$(vm describe-instances --instance-ids $ids --query 'Reservations[].Instances[].PrivateIpAddress' --output text)
	left=$ips
	[ -n "$trace" ] && echo "vmmgr trace bench $(ms) +0 in service: $ips" >>"$T/bench.trace"
	for ((i = 0; i < 3000 && ${#left} > 0; i++)); do
		ips=$left left=
		for ip in $ips; do
			ip netns exec "$ns" ping -c 1 -W 0.2 "$ip" >/dev/null 2>&1 || left="$left $ip"
			[ -n "$trace" ] && echo "vmmgr trace bench $(ms) +0 pinged $ip: ${left:-ok}" >>"$T/bench.trace"
		done
		left=${left# }
		[ -n "$left" ] && sleep 0.2
	done
	[ -n "$trace" ] && echo "vmmgr trace bench $(ms) +0 all $n answer" >>"$T/bench.trace"
	echo $(($(ms) - t0))
}
# empty: desired 0 and no instance left (the pool's too)
empty() {
	as set-desired-capacity --auto-scaling-group-name bench --desired-capacity 0
	for _ in $(seq 600); do
		[ "$(as describe-auto-scaling-instances --query 'length(AutoScalingInstances)')" = 0 ] && return 0
		sleep 1
	done
	echo "the group did not empty" >&2
	exit 1
}
wait_pool() { # N: the pool holds N hibernated instances
	for _ in $(seq 900); do
		[ "$(as describe-warm-pool --auto-scaling-group-name bench --output json |
			jq --argjson n "$1" '[.Instances[] | select(.LifecycleState == "Warmed:Hibernated")] | length == $n')" = true ] && return 0
		sleep 1
	done
	echo "the warm pool did not fill" >&2
	exit 1
}
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

for n in $sizes; do
	cold=() warm=()
	for ((s = 0; s < samples; s++)); do
		cold+=("$(scale "$n")")
		empty
		as put-warm-pool --auto-scaling-group-name bench --pool-state Hibernated --min-size "$n" \
			--max-group-prepared-capacity "$n"
		wait_pool "$n"
		warm+=("$(scale "$n")")
		as delete-warm-pool --auto-scaling-group-name bench --force-delete
		empty
		for _ in $(seq 120); do
			[ "$(as describe-warm-pool --auto-scaling-group-name bench --output json | jq 'has("WarmPoolConfiguration")')" = false ] && break
			sleep 1
		done
	done
	c=$(printf '%s\n' "${cold[@]}" | median) w=$(printf '%s\n' "${warm[@]}" | median)
	printf 'scale-out 0 -> %d: cold %s ms (%s), Hibernated warm pool %s ms (%s): warm/cold %.2f (goal <= 0.3)\n' \
		"$n" "$c" "${cold[*]}" "$w" "${warm[*]}" "$(echo "$w / $c" | bc -l)"
done
