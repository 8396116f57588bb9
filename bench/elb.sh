#!/bin/bash
# A load balancer against no load balancer, one real guest running busybox httpd as the target:
#  1. the same bounded load (bench/elb_client.py: REQUESTS over CONCURRENCY connections) from the same
#     client (the host side of the subnet), straight to the target and through an application load
#     balancer (HAProxy in its namespace), alternately, SAMPLES times each: requests per second
#     (ratio through/straight, goal at least 0.8), median latency added, p99 of each;
#  2. RegisterTargets to `healthy` (polled every 0.2 s through boto3) against the configured minimum,
#     interval x healthy threshold (goal at most 1.2x), SAMPLES times.
#
#   bench/elb.sh [SAMPLES] [REQUESTS] [CONCURRENCY]   (default 3 2000 8; needs the harness's libvirtd:
#                                                      bench/run.sh provides one)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
samples=${1:-3} requests=${2:-2000} conc=${3:-8}
VM_BIN=${VMMGR_BIN:-$top/vmmgr/vmmgr}
export VMMGR_IMAGES_DIR=${VMMGR_IMAGES_DIR:-$top/images/tiny}
. "$top/bench/lib.sh" elb
ns=$(cat "${VMMGR_TEST_RUN:?run through bench/run.sh or with VMMGR_TEST_RUN}/netns")
cleanup() {
	[ -n "${serve_pid:-}" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
	local d
	for d in "$S"/elb/*/; do
		[ -d "$d" ] || continue
		ip netns pids "vmmgr-lb-$(basename "$d")" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
		ip netns del "vmmgr-lb-$(basename "$d")" 2>/dev/null || true
	done
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

ami=$(vm describe-images --filters Name=name,Values=vmmgr-tiny --query 'Images[0].ImageId' --output text)
vpc=$(vm describe-vpcs --query 'Vpcs[0].VpcId' --output text)
cidr=$(vm describe-vpcs --query 'Vpcs[0].CidrBlock' --output text)
sa=$(aws ec2 describe-subnets --filters Name=default-for-az,Values=true Name=availability-zone,Values=us-east-1a --query 'Subnets[0].SubnetId' --output text)
sb=$(aws ec2 describe-subnets --filters Name=default-for-az,Values=true Name=availability-zone,Values=us-east-1b --query 'Subnets[0].SubnetId' --output text)
sg=$(vm describe-security-groups --filters "Name=vpc-id,Values=$vpc" Name=group-name,Values=default --query 'SecurityGroups[0].GroupId' --output text)
vm authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 80 --cidr "$cidr" >/dev/null
ud='#!/bin/sh
mkdir -p /www; echo ok > /www/index.html; httpd -p 80 -h /www; echo "vmmgr: httpd up"'
id=$(vm run-instances --image-id "$ami" --instance-type t2.small --subnet-id "$sa" --security-group-ids "$sg" \
	--user-data "$ud" --query 'Instances[0].InstanceId' --output text)
for _ in $(seq 600); do vm get-console-output --instance-id "$id" --output json | jq -r .Output | grep -q 'httpd up' && break; sleep 0.5; done
ip=$(vm describe-instances --instance-ids "$id" --query 'Reservations[0].Instances[0].PrivateIpAddress' --output text)

interval=5 threshold=2
tg=$(aws elbv2 create-target-group --name bench --protocol HTTP --port 80 --vpc-id "$vpc" --health-check-interval-seconds $interval \
	--health-check-timeout-seconds 2 --healthy-threshold-count $threshold --query 'TargetGroups[0].TargetGroupArn' --output text)
aws elbv2 modify-target-group-attributes --target-group-arn "$tg" --attributes Key=deregistration_delay.timeout_seconds,Value=0 >/dev/null
lb=$(aws elbv2 create-load-balancer --name bench --scheme internal --subnets "$sa" "$sb" --security-groups "$sg" \
	--query 'LoadBalancers[0].LoadBalancerArn' --output text)
aws elbv2 create-listener --load-balancer-arn "$lb" --protocol HTTP --port 80 --default-actions Type=forward,TargetGroupArn="$tg" >/dev/null
aws elbv2 wait load-balancer-available --load-balancer-arns "$lb"
lbip=$(aws elbv2 describe-load-balancers --load-balancer-arns "$lb" --query 'LoadBalancers[0].AvailabilityZones[0].LoadBalancerAddresses[0].PrivateIPv4Address' --output text)
echo "target $id at $ip; load balancer at $lbip; $requests requests over $conc connections, $samples samples each"

# --- 2. register → healthy (measured first; the last registration stays for the load) -------------------
for s in $(seq "$samples"); do
	/usr/bin/python3 - "$ep" "$tg" "$id" $interval $threshold <<'PY'
import sys, time, boto3
ep, tg, target, interval, threshold = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
c = boto3.client("elbv2", endpoint_url=ep)
t0 = time.monotonic()
c.register_targets(TargetGroupArn=tg, Targets=[{"Id": target}])
while True:
    h = c.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
    if h and h[0]["TargetHealth"]["State"] == "healthy":
        break
    if time.monotonic() - t0 > 120:
        sys.exit("not healthy after 120 s: %s" % h)
    time.sleep(0.2)
dt = time.monotonic() - t0
print("register → healthy: %.2f s; configured minimum %d s x %d = %d s; ratio %.2f (goal <= 1.2)"
      % (dt, interval, threshold, interval * threshold, dt / (interval * threshold)))
PY
	if [ "$s" -lt "$samples" ]; then
		aws elbv2 deregister-targets --target-group-arn "$tg" --targets Id="$id"
		for _ in $(seq 100); do
			[ "$(aws elbv2 describe-target-health --target-group-arn "$tg" --query 'length(TargetHealthDescriptions)')" = 0 ] && break
			sleep 0.3
		done
	fi
done

# --- 1. throughput and latency: straight against through, alternately -----------------------------------
run() { ip netns exec "$ns" python3 "$top/bench/elb_client.py" "$1" 80 "$requests" "$conc"; }
: > "$T/straight" && : > "$T/through"
for s in $(seq "$samples"); do
	run "$ip" | tee -a "$T/straight" | sed 's/^/straight: /'
	run "$lbip" | tee -a "$T/through" | sed 's/^/through:  /'
done
python3 - "$T/straight" "$T/through" <<'PY'
import json, statistics, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
med = lambda xs, k: statistics.median(x[k] for x in xs)
ra, rb = med(a, "rps"), med(b, "rps")
print("requests/s: straight %.1f, through the load balancer %.1f; ratio %.2f (goal >= 0.8)" % (ra, rb, rb / ra))
print("median latency: straight %.2f ms, through %.2f ms (added %.2f ms); p99: straight %.2f ms, through %.2f ms"
      % (med(a, "median_ms"), med(b, "median_ms"), med(b, "median_ms") - med(a, "median_ms"), med(a, "p99_ms"), med(b, "p99_ms")))
print("failures: straight %d, through %d" % (sum(x["failures"] for x in a), sum(x["failures"] for x in b)))
PY
