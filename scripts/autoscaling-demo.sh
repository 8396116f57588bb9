#!/bin/bash
# Autoscaling on this machine, live: a group of tiny instances behind a target tracking policy (50 %
# CPU, 10-second periods) whose template starts a bounded busy loop and busybox httpd (answering its
# instance id) in each guest, registered in the target group of an internal application load
# balancer.  A bounded HTTP load (5 requests a second, for the CPU load's duration and two minutes
# more) goes through the load balancer from the host side.  The terminal shows, every two seconds, desired vs InService capacity,
# the group's average CPU and the requests each instance answered as it scales out while the guests
# spin and back in after they stop; then the scaling activities as a timeline.
#
#   scripts/autoscaling-demo.sh [--load SECONDS] [--max N] [--keep]
#
# Needs vmmgr initialised (scripts/quickstart.sh does it).  Uses the endpoint at $VMMGR_ENDPOINT or
# http://127.0.0.1:8773, and starts `vmmgr serve` there for the demo when nothing answers.  Leaves
# nothing behind unless --keep: the group, its instances, the template, the load balancer, its target
# group, the demo's security groups and its access key go.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
load=90 max=3 keep=false
while [ $# -gt 0 ]; do
	case $1 in
	--load) load=$2; shift ;;
	--max) max=$2; shift ;;
	--keep) keep=true ;;
	*) echo "usage: $0 [--load SECONDS] [--max N] [--keep]" >&2; exit 2 ;;
	esac
	shift
done
bin=${VMMGR_BIN:-$(command -v vmmgr || echo "$top/vmmgr/vmmgr")}
vmmgr() { "$bin" "$@"; }
ep=${VMMGR_ENDPOINT:-http://127.0.0.1:8773}
ami=$(vmmgr describe-images --filters Name=name,Values=vmmgr-tiny --query 'Images[0].ImageId' --output text 2>/dev/null) ||
	{ echo "vmmgr is not initialised: run scripts/quickstart.sh first" >&2; exit 1; }
read -r sub sub2 _ <<<"$(vmmgr describe-subnets --filters Name=default-for-az,Values=true --query 'Subnets[].SubnetId' --output text)"
vpc=$(vmmgr describe-subnets --subnet-ids "$sub" --query 'Subnets[0].VpcId' --output text)

serve_pid=""
key=$(vmmgr create-access-key --output json)
kid=$(jq -r .AccessKey.AccessKeyId <<<"$key")
export AWS_ACCESS_KEY_ID=$kid AWS_SECRET_ACCESS_KEY=$(jq -r .AccessKey.SecretAccessKey <<<"$key")
export AWS_DEFAULT_REGION=$(vmmgr describe-regions --query 'Regions[0].RegionName' --output text)
export AWS_EC2_METADATA_DISABLED=true AWS_PAGER="" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
cleanup() {
	if ! $keep; then
		echo "cleaning up: the group, its instances, the template"
		aws autoscaling delete-auto-scaling-group --auto-scaling-group-name demo --force-delete 2>/dev/null || true
		for _ in $(seq 120); do
			[ "$(aws autoscaling describe-auto-scaling-groups --auto-scaling-group-names demo --query 'length(AutoScalingGroups)' 2>/dev/null)" = 0 ] && break
			sleep 1
		done
		aws ec2 delete-launch-template --launch-template-name demo-web >/dev/null 2>&1 || true
		echo "cleaning up: the load balancer, its target group, the security groups"
		lb=$(aws elbv2 describe-load-balancers --names demo --query 'LoadBalancers[0].LoadBalancerArn' --output text 2>/dev/null || true)
		if [[ "$lb" == arn:* ]]; then
			aws elbv2 delete-load-balancer --load-balancer-arn "$lb" || true
			aws elbv2 wait load-balancers-deleted --load-balancer-arns "$lb" 2>/dev/null || true
		fi
		tg=$(aws elbv2 describe-target-groups --names demo-tg --query 'TargetGroups[0].TargetGroupArn' --output text 2>/dev/null || true)
		[[ "$tg" == arn:* ]] && aws elbv2 delete-target-group --target-group-arn "$tg" || true
		for g in demo-web demo-lb; do
			id=$(aws ec2 describe-security-groups --filters Name=group-name,Values="$g" --query 'SecurityGroups[0].GroupId' --output text 2>/dev/null || true)
			[[ "$id" == sg-* ]] && aws ec2 delete-security-group --group-id "$id" 2>/dev/null || true
		done
	fi
	if [ -n "$serve_pid" ]; then
		kill "$serve_pid" 2>/dev/null || true
		wait "$serve_pid" 2>/dev/null || true
	fi
	vmmgr delete-access-key --access-key-id "$kid" >/dev/null 2>&1 || true
}
trap cleanup EXIT
aws() { /usr/bin/aws --endpoint-url "$ep" "$@"; }

if ! curl -s -o /dev/null "$ep"; then
	echo "starting vmmgr serve on $ep for the demo"
	# the program itself, not through the function: $! is then the daemon's pid, which cleanup ends
	"$bin" serve --listen "${ep#http://}" >/tmp/vmmgr-demo-serve.log 2>&1 &
	serve_pid=$!
	for _ in $(seq 50); do curl -s -o /dev/null "$ep" && break; sleep 0.2; done
fi

# the load balancer: internal, in two zones, its group open to the VPC on port 80; the instances' group
# takes port 80 from the load balancer's only
cidr=$(aws ec2 describe-vpcs --vpc-ids "$vpc" --query 'Vpcs[0].CidrBlock' --output text)
lbsg=$(aws ec2 create-security-group --group-name demo-lb --description "demo load balancer" --vpc-id "$vpc" --query GroupId --output text)
websg=$(aws ec2 create-security-group --group-name demo-web --description "demo instances" --vpc-id "$vpc" --query GroupId --output text)
aws ec2 authorize-security-group-ingress --group-id "$lbsg" --protocol tcp --port 80 --cidr "$cidr" >/dev/null
aws ec2 authorize-security-group-ingress --group-id "$websg" --protocol tcp --port 80 --source-group "$lbsg" >/dev/null
tg=$(aws elbv2 create-target-group --name demo-tg --protocol HTTP --port 80 --vpc-id "$vpc" --health-check-interval-seconds 5 \
	--health-check-timeout-seconds 2 --healthy-threshold-count 2 --query 'TargetGroups[0].TargetGroupArn' --output text)
aws elbv2 modify-target-group-attributes --target-group-arn "$tg" --attributes Key=deregistration_delay.timeout_seconds,Value=5 >/dev/null
lb=$(aws elbv2 create-load-balancer --name demo --scheme internal --subnets "$sub" "$sub2" --security-groups "$lbsg" \
	--query 'LoadBalancers[0].LoadBalancerArn' --output text)
aws elbv2 create-listener --load-balancer-arn "$lb" --protocol HTTP --port 80 --default-actions Type=forward,TargetGroupArn="$tg" >/dev/null
aws elbv2 wait load-balancer-available --load-balancer-arns "$lb"
lb_ip=$(aws elbv2 describe-load-balancers --load-balancer-arns "$lb" --query 'LoadBalancers[0].AvailabilityZones[0].LoadBalancerAddresses[0].PrivateIPv4Address' --output text)
echo "load balancer demo: internal, at $lb_ip (and $(aws elbv2 describe-load-balancers --load-balancer-arns "$lb" --query 'LoadBalancers[0].DNSName' --output text) inside the VPC)"

ud=$(printf '#!/bin/sh\n# the demo load: one busy loop for %s seconds after boot; httpd answers the instance id\ntimeout %s sh -c "while :; do :; done" &\nid=$(ls /var/lib/vmmgr | sed -n "s/^user-data\\.//p")\nmkdir -p /www && echo "$id" > /www/index.html && httpd -p 80 -h /www\n' "$load" "$load" | base64 -w0)
aws ec2 delete-launch-template --launch-template-name demo-web >/dev/null 2>&1 || true
aws ec2 create-launch-template --launch-template-name demo-web \
	--launch-template-data "{\"ImageId\":\"$ami\",\"InstanceType\":\"t2.micro\",\"UserData\":\"$ud\",\"SecurityGroupIds\":[\"$websg\"]}" >/dev/null
aws autoscaling create-auto-scaling-group --auto-scaling-group-name demo --launch-template LaunchTemplateName=demo-web \
	--min-size 1 --max-size "$max" --desired-capacity 1 --vpc-zone-identifier "$sub,$sub2" --target-group-arns "$tg" \
	--tags Key=Name,Value=demo,PropagateAtLaunch=true
echo "group demo: min 1, max $max, in the load balancer's target group; each guest spins for ${load}s after it boots"

# the policy and the live view: boto3 (Debian's 1.26 or newer); the 10-second metric period is sent
# as a Query parameter, which older models do not know
python3 - "$ep" "$lb_ip" "$load" <<'PY'
import collections, datetime, sys, threading, time
import boto3, botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
import urllib.request

ep, lb_ip, load = sys.argv[1], sys.argv[2], int(sys.argv[3])

# the bounded HTTP load: 5 requests a second through the load balancer, from the first answer on, for
# the CPU load's duration and two minutes more (the scale-in), each answer an instance id
answers, lock = collections.Counter(), threading.Lock()
def client():
    first = None
    while first is None or time.time() - first < load + 120:
        try:
            who = urllib.request.urlopen("http://%s/" % lb_ip, timeout=2).read().decode().strip()
            first = first or time.time()
            with lock:
                answers[who] += 1
        except Exception:
            pass
        time.sleep(0.2)
threading.Thread(target=client, daemon=True).start()
sess = botocore.session.get_session()
creds, region = sess.get_credentials(), sess.get_config_variable("region")
params = {"Action": "PutScalingPolicy", "Version": "2011-01-01", "AutoScalingGroupName": "demo",
          "PolicyName": "cpu50", "PolicyType": "TargetTrackingScaling",
          "TargetTrackingConfiguration.TargetValue": "50",
          "TargetTrackingConfiguration.CustomizedMetricSpecification.MetricName": "CPUUtilization",
          "TargetTrackingConfiguration.CustomizedMetricSpecification.Namespace": "AWS/EC2",
          "TargetTrackingConfiguration.CustomizedMetricSpecification.Statistic": "Average",
          "TargetTrackingConfiguration.CustomizedMetricSpecification.Period": "10",
          "TargetTrackingConfiguration.CustomizedMetricSpecification.Dimensions.member.1.Name": "AutoScalingGroupName",
          "TargetTrackingConfiguration.CustomizedMetricSpecification.Dimensions.member.1.Value": "demo"}
req = AWSRequest(method="POST", url=ep + "/", data=params,
                 headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
SigV4Auth(creds, "autoscaling", region).add_auth(req)
r = urllib.request.Request(ep + "/", data=req.body.encode() if isinstance(req.body, str) else req.body,
                           headers=dict(req.headers.items()), method="POST")
urllib.request.urlopen(r, timeout=30).read()
print("target tracking policy cpu50: keep the group's average CPU at 50 % (alarms of 3 and 15 periods of 10 s)\n")

asg = boto3.client("autoscaling", endpoint_url=ep, region_name=region)
cw = boto3.client("cloudwatch", endpoint_url=ep, region_name=region)
start, peak, done_at = time.time(), 1, None
print("  time  desired  in service  pending   avg CPU      requests answered in the last 2 s, by instance")
while time.time() - start < 1200:
    g = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["demo"])["AutoScalingGroups"][0]
    life = [i["LifecycleState"] for i in g["Instances"]]
    now = datetime.datetime.now(datetime.timezone.utc)
    pts = cw.get_metric_statistics(Namespace="AWS/EC2", MetricName="CPUUtilization",
                                   Dimensions=[{"Name": "AutoScalingGroupName", "Value": "demo"}],
                                   StartTime=now - datetime.timedelta(seconds=30), EndTime=now, Period=10,
                                   Statistics=["Average"])["Datapoints"]
    cpu = sorted(pts, key=lambda p: p["Timestamp"])[-1]["Average"] if pts else None
    bar = "#" * int((cpu or 0) / 5)
    with lock:
        per = ", ".join("%s %d" % (i[-6:], n) for i, n in sorted(answers.items()))
        answers.clear()
    print("%5ds  %7d  %10d  %7d   %s %-20s %s" % (time.time() - start, g["DesiredCapacity"], life.count("InService"),
          life.count("Pending"), "   -  " if cpu is None else "%5.1f%%" % cpu, bar, per), flush=True)
    peak = max(peak, g["DesiredCapacity"])
    if peak > 1 and g["DesiredCapacity"] == 1 and life.count("InService") == 1 and len(life) == 1:
        done_at = done_at or time.time()
        if time.time() - done_at > 4:
            break
    time.sleep(2)
print("\nscaled out to %d and back in to 1\n" % peak if peak > 1 and done_at else "\n(stopped watching)\n")
acts = asg.describe_scaling_activities(AutoScalingGroupName="demo")["Activities"]
print("what the group did (describe-scaling-activities, oldest first):")
for a in reversed(acts):
    print("  %s  %-10s %s" % (a["StartTime"].strftime("%H:%M:%S"), a["StatusCode"], a["Description"]))
    for sentence in a["Cause"].split("  "):
        print("  %8s  %-10s   ↳ %s" % ("", "", sentence))
PY
