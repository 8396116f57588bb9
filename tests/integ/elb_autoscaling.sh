#!/bin/bash
# Auto Scaling with a load balancer, real guests running busybox httpd that answers with their
# instance id: a group attached to a target group registers its InService instances, which turn
# healthy and receive traffic; a scale-out adds a third; health check type ELB replaces an instance
# whose httpd stopped (drained from the target group before it is terminated); the load balancer's
# CloudWatch metrics (RequestCount, HealthyHostCount, RequestCountPerTarget) come from HAProxy's
# counters; a target tracking policy on ALBRequestCountPerTarget is accepted and shown with its label.
. "$(dirname "$0")/lib.sh"
vm_init
SERVE_ARGS="--metrics-interval 5"
. "$(dirname "$0")/serve.sh"
. "$(dirname "$0")/asg.sh"
elb() { aws elbv2 "$@"; }

vm create-key-pair --key-name k --key-type ed25519 --output json | jq -r .KeyMaterial > "$T/k.pem"
chmod 600 "$T/k.pem"
vpc=$(aws ec2 describe-vpcs --query 'Vpcs[0].VpcId' --output text)
cidr=$(aws ec2 describe-vpcs --query 'Vpcs[0].CidrBlock' --output text)
p=${cidr%.0.0/16}
sa=$(aws ec2 describe-subnets --filters Name=default-for-az,Values=true Name=availability-zone,Values=us-east-1a --query 'Subnets[0].SubnetId' --output text)
sb=$(aws ec2 describe-subnets --filters Name=default-for-az,Values=true Name=availability-zone,Values=us-east-1b --query 'Subnets[0].SubnetId' --output text)
lbsg=$(aws ec2 create-security-group --group-name lb --description "load balancer" --vpc-id "$vpc" --query GroupId --output text)
websg=$(aws ec2 create-security-group --group-name web --description "targets" --vpc-id "$vpc" --query GroupId --output text)
aws ec2 authorize-security-group-ingress --group-id "$lbsg" --protocol tcp --port 80 --cidr "$cidr" >/dev/null
aws ec2 authorize-security-group-ingress --group-id "$websg" --protocol tcp --port 80 --source-group "$lbsg" >/dev/null
allow_ssh "$websg" "$p.0.0/16"

ud=$(printf '%s\n' '#!/bin/sh' 'id=$(ls /var/lib/vmmgr | sed -n "s/^user-data\.//p")' 'mkdir -p /www' \
	'echo "$id" > /www/index.html' 'httpd -p 80 -h /www' 'echo "vmmgr: httpd up"' | base64 -w0)
aws ec2 create-launch-template --launch-template-name web-lt --launch-template-data \
	"{\"ImageId\":\"$AMI\",\"InstanceType\":\"t2.micro\",\"KeyName\":\"k\",\"SecurityGroupIds\":[\"$websg\"],\"UserData\":\"$ud\"}" >/dev/null

tg=$(elb create-target-group --name web-tg --protocol HTTP --port 80 --vpc-id "$vpc" --health-check-interval-seconds 5 \
	--health-check-timeout-seconds 2 --healthy-threshold-count 2 --unhealthy-threshold-count 2 \
	--query 'TargetGroups[0].TargetGroupArn' --output text)
elb modify-target-group-attributes --target-group-arn "$tg" --attributes Key=deregistration_delay.timeout_seconds,Value=5 >/dev/null
lb=$(elb create-load-balancer --name web --scheme internal --subnets "$sa" "$sb" --security-groups "$lbsg" \
	--query 'LoadBalancers[0].LoadBalancerArn' --output text)
elb create-listener --load-balancer-arn "$lb" --protocol HTTP --port 80 --default-actions Type=forward,TargetGroupArn="$tg" >/dev/null
timeout 120 /usr/bin/aws --endpoint-url "$ENDPOINT" elbv2 wait load-balancer-available --load-balancer-arns "$lb" ||
	fail "waiter load-balancer-available"
lb_ips=$(elb describe-load-balancers --load-balancer-arns "$lb" --query 'LoadBalancers[0].AvailabilityZones[].LoadBalancerAddresses[].PrivateIPv4Address' --output text)
read -r lb_ip _ <<<"$lb_ips"

expect_as ValidationError create-auto-scaling-group --auto-scaling-group-name web --launch-template LaunchTemplateName=web-lt \
	--min-size 1 --max-size 3 --vpc-zone-identifier "$sa,$sb" --target-group-arns "${tg%/*}/0123456789abcdef"
as create-auto-scaling-group --auto-scaling-group-name web --launch-template LaunchTemplateName=web-lt \
	--min-size 1 --max-size 3 --desired-capacity 2 --vpc-zone-identifier "$sa,$sb" --target-group-arns "$tg" \
	--health-check-type ELB --health-check-grace-period 60 || fail "create-auto-scaling-group"
[ "$(group | jq -r '.TargetGroupARNs[0]')" = "$tg" ] || fail "the group's TargetGroupARNs: $(group)"
wait_group 2 300
healthy() { elb describe-target-health --target-group-arn "$tg" --output json |
	jq -r '[.TargetHealthDescriptions[] | select(.TargetHealth.State == "healthy") | .Target.Id] | sort | join(" ")'; }
wait_healthy() { # IDS: exactly these targets healthy
	local i
	for ((i = 0; i < 240; i++)); do [ "$(healthy)" = "$1" ] && return 0; sleep 1; done
	fail "healthy targets: '$(healthy)', expected '$1': $(elb describe-target-health --target-group-arn "$tg" --output json)"
}
# served: the instance ids that answer N requests from the host side through the load balancer
served() { for _ in $(seq "$1"); do in_ns curl -s -m 3 "http://$lb_ip/" || echo failed; done | sort -u | tr '\n' ' ' | sed 's/ $//'; }
two=$(in_service)
wait_healthy "$two"
[ "$(served 12)" = "$two" ] || fail "requests through the load balancer: $(served 12), expected $two"
[ "$(as describe-load-balancer-target-groups --auto-scaling-group-name web --query 'LoadBalancerTargetGroups[0].State' --output text)" = InService ] ||
	fail "describe-load-balancer-target-groups: $(as describe-load-balancer-target-groups --auto-scaling-group-name web --output json)"
ok "a group attached to a target group: its InService instances are registered, healthy and serve ($two)"

as set-desired-capacity --auto-scaling-group-name web --desired-capacity 3
wait_group 3 300
three=$(in_service)
wait_healthy "$three"
[ "$(served 18)" = "$three" ] || fail "after the scale-out: $(served 18), expected $three"
ok "scale-out: the third instance turns healthy in the target group and receives traffic"

# health check type ELB: httpd stopped → unhealthy in the target group → replaced (drained first)
victim=${three%% *}
vip=$(private_ip "$victim")
gssh "$T/k.pem" "$vip" "killall httpd"
for i in $(seq 240); do
	st=$(aws ec2 describe-instances --instance-ids "$victim" --query 'Reservations[0].Instances[0].State.Name' --output text)
	[ "$st" = terminated ] || [ "$st" = shutting-down ] && break
	sleep 1
done
[ "$st" = terminated ] || [ "$st" = shutting-down ] || fail "an instance its target group finds unhealthy is $st after 240 s"
as describe-scaling-activities --auto-scaling-group-name web --output json |
	jq -e --arg v "$victim" '.Activities[] | select(.Description == "Terminating EC2 instance: " + $v) | .Cause | test("ELB system health check")' >/dev/null ||
	fail "the termination's cause: $(as describe-scaling-activities --auto-scaling-group-name web --output json | jq -c '.Activities[0]')"
wait_group 3 300
now=$(in_service)
grep -qw "$victim" <<<"$now" && fail "the replaced instance is still in service"
wait_healthy "$now"
[ -z "$(elb describe-target-health --target-group-arn "$tg" --output json | jq -r --arg v "$victim" '.TargetHealthDescriptions[] | select(.Target.Id == $v) | .Target.Id')" ] ||
	fail "the replaced instance is still registered"
ok "health check type ELB: an instance whose httpd stopped was drained, terminated and replaced; the new one serves"

# a second target group attached to the live group, then detached
tg2=$(elb create-target-group --name two-tg --protocol HTTP --port 80 --vpc-id "$vpc" --health-check-interval-seconds 5 \
	--health-check-timeout-seconds 2 --healthy-threshold-count 2 --query 'TargetGroups[0].TargetGroupArn' --output text)
elb modify-target-group-attributes --target-group-arn "$tg2" --attributes Key=deregistration_delay.timeout_seconds,Value=2 >/dev/null
l80=$(elb describe-listeners --load-balancer-arn "$lb" --query 'Listeners[0].ListenerArn' --output text)
elb create-rule --listener-arn "$l80" --priority 5 --conditions Field=path-pattern,Values='/two/*' \
	--actions Type=forward,TargetGroupArn="$tg2" >/dev/null
members=$(as describe-auto-scaling-groups --auto-scaling-group-names web --query 'AutoScalingGroups[0].Instances[?LifecycleState==`InService`].InstanceId' --output text | tr '\t' '\n' | sort | tr '\n' ' ')
as attach-load-balancer-target-groups --auto-scaling-group-name web --target-group-arns "$tg2" || fail "attach-load-balancer-target-groups"
[ "$(as describe-load-balancer-target-groups --auto-scaling-group-name web --query 'length(LoadBalancerTargetGroups)')" = 2 ] ||
	fail "describe-load-balancer-target-groups after attach: $(as describe-load-balancer-target-groups --auto-scaling-group-name web --output json)"
for i in $(seq 60); do
	got=$(elb describe-target-health --target-group-arn "$tg2" --query 'TargetHealthDescriptions[?TargetHealth.State==`healthy`].Target.Id' --output text | tr '\t' '\n' | sort | tr '\n' ' ')
	[ "$got" = "$members" ] && break
	sleep 1
done
[ "$got" = "$members" ] || fail "attached target group: healthy '$got', members '$members'; $(elb describe-target-health --target-group-arn "$tg2" --output json | jq -c '[.TargetHealthDescriptions[] | [.Target.Id, .TargetHealth.State, .TargetHealth.Reason]]'); serve: $(grep -a "unhealthy" "$T/serve.err" | tail -n 12); activities: $(as describe-scaling-activities --auto-scaling-group-name web --output json | jq -c '[.Activities[:4][] | .Description + ": " + .Cause]')"
as detach-load-balancer-target-groups --auto-scaling-group-name web --target-group-arns "$tg2" || fail "detach-load-balancer-target-groups"
for i in $(seq 60); do
	[ -z "$(elb describe-target-health --target-group-arn "$tg2" --query 'TargetHealthDescriptions[].Target.Id' --output text)" ] && break
	sleep 1
done
[ -z "$(elb describe-target-health --target-group-arn "$tg2" --query 'TargetHealthDescriptions[].Target.Id' --output text)" ] ||
	fail "after detach the members are still in two-tg: $(elb describe-target-health --target-group-arn "$tg2" --output json)"
[ "$(as describe-load-balancer-target-groups --auto-scaling-group-name web --query 'LoadBalancerTargetGroups[].LoadBalancerTargetGroupARN' --output text)" = "$tg" ] ||
	fail "describe-load-balancer-target-groups after detach"
[ "$(as describe-auto-scaling-groups --auto-scaling-group-names web --query 'AutoScalingGroups[0].Instances[?LifecycleState==`InService`].InstanceId' --output text | tr '\t' '\n' | sort | tr '\n' ' ')" = "$members" ] ||
	fail "detaching a target group changed the group's members"
ok "attach-load-balancer-target-groups on a live group registers its members (healthy); detach deregisters them, members stay"

# the load balancer's metrics, from HAProxy's counters
served 20 >/dev/null
lbdim="app/web/${lb##*/}"
tgdim="targetgroup/web-tg/${tg##*/}"
start=$(date -u -d '-10 min' +%FT%TZ)
for i in $(seq 30); do
	sum=$(aws cloudwatch get-metric-statistics --namespace AWS/ApplicationELB --metric-name RequestCount \
		--dimensions Name=LoadBalancer,Value="$lbdim" --start-time "$start" --end-time "$(date -u -d '+1 min' +%FT%TZ)" \
		--period 600 --statistics Sum --query 'sum(Datapoints[].Sum)' --output text)
	[ "$sum" != None ] && [ "${sum%.*}" -ge 20 ] && break
	sleep 2
done
[ "$sum" != None ] && [ "${sum%.*}" -ge 20 ] || fail "RequestCount: $sum"
hh=$(aws cloudwatch get-metric-statistics --namespace AWS/ApplicationELB --metric-name HealthyHostCount \
	--dimensions Name=TargetGroup,Value="$tgdim" Name=LoadBalancer,Value="$lbdim" --start-time "$start" \
	--end-time "$(date -u -d '+1 min' +%FT%TZ)" --period 600 --statistics Maximum --query 'max(Datapoints[].Maximum)' --output text)
[ "${hh%.*}" = 3 ] || fail "HealthyHostCount: $hh"
rpt=$(aws cloudwatch list-metrics --namespace AWS/ApplicationELB --metric-name RequestCountPerTarget --output json |
	jq -r '[.Metrics[].Dimensions[] | select(.Name == "TargetGroup") | .Value] | sort | join(" ")')
grep -qw "$tgdim" <<<"$rpt" || fail "RequestCountPerTarget's TargetGroup dimensions: $rpt (expected $tgdim among them)"
ok "CloudWatch AWS/ApplicationELB: RequestCount ($sum), HealthyHostCount ($hh), RequestCountPerTarget by target group"

label="$lbdim/$tgdim"
as put-scaling-policy --auto-scaling-group-name web --policy-name rpt --policy-type TargetTrackingScaling \
	--target-tracking-configuration "{\"TargetValue\":100,\"PredefinedMetricSpecification\":{\"PredefinedMetricType\":\"ALBRequestCountPerTarget\",\"ResourceLabel\":\"$label\"}}" >/dev/null ||
	fail "put-scaling-policy ALBRequestCountPerTarget"
[ "$(as describe-policies --auto-scaling-group-name web --query 'ScalingPolicies[0].TargetTrackingConfiguration.PredefinedMetricSpecification.ResourceLabel' --output text)" = "$label" ] ||
	fail "describe-policies: $(as describe-policies --auto-scaling-group-name web --output json)"
alarm=$(aws cloudwatch describe-alarms --query 'MetricAlarms[?MetricName==`RequestCountPerTarget`] | [0].Dimensions[0].Value' --output text)
[ "$alarm" = "$tgdim" ] || fail "the policy's alarms watch: $alarm"
ok "a target tracking policy on ALBRequestCountPerTarget: its alarms watch the target group's RequestCountPerTarget"

as delete-auto-scaling-group --auto-scaling-group-name web --force-delete
for i in $(seq 120); do [ "$(as describe-auto-scaling-groups --query 'length(AutoScalingGroups)')" = 0 ] && break; sleep 1; done
[ -z "$(elb describe-target-health --target-group-arn "$tg" --query 'TargetHealthDescriptions[].Target.Id' --output text)" ] ||
	fail "a deleted group's instances are still registered"
ok "a deleted group leaves no target registered"
