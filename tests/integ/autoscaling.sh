#!/bin/bash
# EC2 Auto Scaling with real guests, through the aws CLI: a group (min 1, max 3, desired 2, two
# subnets) reaches 2 InService instances, one per subnet, tagged with the group; an instance
# terminated through EC2 and one destroyed behind vmmgr's back (virsh destroy) are both replaced;
# SetDesiredCapacity 3 then 1 scales out and in by the default termination policy (the newest
# stays); DescribeScalingActivities tells it in AWS's words; kill -9 of the daemon in the middle of a
# scale-out launches nothing twice; bad input is ValidationError and changes nothing;
# DeleteAutoScalingGroup refuses a group with instances, and with ForceDelete leaves nothing.
. "$(dirname "$0")/lib.sh"
vm_init
SERVE_ARGS="--metrics-interval 0"
. "$(dirname "$0")/serve.sh"
. "$(dirname "$0")/asg.sh"

# the SDK waiters' acceptors (aws-sdk-go's autoscaling waiters-2.json; botocore has none), as JMESPath
# over DescribeAutoScalingGroups: group-exists, group-in-service, group-not-exists
waiter() { # NAME: polls until the acceptor says success
	local q want i
	case $1 in
	group-exists) q='length(AutoScalingGroups) > `0`' want=true ;;
	group-in-service) q="contains(AutoScalingGroups[].[length(Instances[?LifecycleState=='InService']) >= MinSize][], \`false\`)" want=false ;;
	group-not-exists) q='length(AutoScalingGroups) > `0`' want=false ;;
	esac
	for ((i = 0; i < 240; i++)); do
		[ "$(as describe-auto-scaling-groups --auto-scaling-group-names web --query "$q" --output json)" = "$want" ] && return 0
		sleep 1
	done
	return 1
}
# live instances tagged with the group (not shutting-down or terminated)
tagged() {
	aws ec2 describe-instances --filters Name=tag:aws:autoscaling:groupName,Values=web \
		Name=instance-state-name,Values=pending,running,stopping,stopped --output json |
		jq -r '[.Reservations[].Instances[].InstanceId] | sort | join(" ")'
}

# two zones: the default subnets of us-east-1a and us-east-1b
sa=$(aws ec2 describe-subnets --filters Name=default-for-az,Values=true Name=availability-zone,Values=us-east-1a --query 'Subnets[0].SubnetId' --output text)
sb=$(aws ec2 describe-subnets --filters Name=default-for-az,Values=true Name=availability-zone,Values=us-east-1b --query 'Subnets[0].SubnetId' --output text)
[[ "$sa" == subnet-* && "$sb" == subnet-* && "$sa" != "$sb" ]] || fail "no default subnets in us-east-1a and us-east-1b: $sa $sb"
aws ec2 create-launch-template --launch-template-name web-lt \
	--launch-template-data "{\"ImageId\":\"$AMI\",\"InstanceType\":\"t2.micro\",
	  \"TagSpecifications\":[{\"ResourceType\":\"instance\",\"Tags\":[{\"Key\":\"team\",\"Value\":\"template\"},{\"Key\":\"role\",\"Value\":\"web\"}]}]}" \
	>/dev/null || fail "create-launch-template"

# bad input first: each is ValidationError and leaves no group
expect_as ValidationError create-auto-scaling-group --auto-scaling-group-name web --launch-template LaunchTemplateName=web-lt \
	--min-size 3 --max-size 1 --vpc-zone-identifier "$sa"
expect_as ValidationError create-auto-scaling-group --auto-scaling-group-name web --launch-template LaunchTemplateName=nope \
	--min-size 1 --max-size 3 --vpc-zone-identifier "$sa"
expect_as ValidationError create-auto-scaling-group --auto-scaling-group-name web --launch-template LaunchTemplateName=web-lt \
	--min-size 1 --max-size 3 --desired-capacity 5 --vpc-zone-identifier "$sa"
expect_as ValidationError create-auto-scaling-group --auto-scaling-group-name web --launch-template LaunchTemplateName=web-lt \
	--min-size 1 --max-size 3 --vpc-zone-identifier subnet-0123456789abcdef0
[ "$(as describe-auto-scaling-groups --query 'length(AutoScalingGroups)')" = 0 ] || fail "a refused create left a group"
ok "bad input (min > max, unknown template, desired outside bounds, unknown subnet): ValidationError, no group"

as create-auto-scaling-group --auto-scaling-group-name web --launch-template 'LaunchTemplateName=web-lt,Version=$Latest' \
	--min-size 1 --max-size 3 --desired-capacity 2 --vpc-zone-identifier "$sa,$sb" \
	--tags Key=team,Value=ops,PropagateAtLaunch=true Key=cost,Value=none,PropagateAtLaunch=false || fail "create-auto-scaling-group"
expect_as AlreadyExists create-auto-scaling-group --auto-scaling-group-name web --launch-template LaunchTemplateName=web-lt \
	--min-size 1 --max-size 3 --vpc-zone-identifier "$sa"
waiter group-exists || fail "waiter group-exists"
waiter group-in-service || fail "waiter group-in-service"
wait_group 2
g=$(group)
[ "$(jq -r '[.Instances[].InstanceId] | map(.) | length' <<<"$g")" = 2 ] || fail "instances: $g"
subnets=$(for i in $(in_service); do aws ec2 describe-instances --instance-ids "$i" --query 'Reservations[0].Instances[0].SubnetId' --output text; done | sort | tr '\n' ' ')
[ "$subnets" = "$(printf '%s\n' "$sa" "$sb" | sort | tr '\n' ' ')" ] || fail "one instance per subnet: $subnets"
[ "$(as describe-auto-scaling-instances --query 'AutoScalingInstances[].AvailabilityZone' --output json | jq -r 'sort | join(" ")')" = "us-east-1a us-east-1b" ] ||
	fail "one instance per zone: $(as describe-auto-scaling-instances --output json)"
first=$(in_service)
i1=${first%% *}
tags=$(aws ec2 describe-instances --instance-ids "$i1" --query 'Reservations[0].Instances[0].Tags' --output json | jq -c 'from_entries')
jq -e '."aws:autoscaling:groupName" == "web" and .team == "ops" and .role == "web" and (has("cost") | not)' <<<"$tags" >/dev/null ||
	fail "instance tags (the group's PropagateAtLaunch tags over the template's): $tags"
wait_console "$i1" "vmmgr: instance $i1 ready" 1
jq -e '.MinSize == 1 and .MaxSize == 3 and .DesiredCapacity == 2 and .LaunchTemplate.LaunchTemplateName == "web-lt" and
	.LaunchTemplate.Version == "$Latest" and .HealthCheckType == "EC2" and .AvailabilityZones == ["us-east-1a", "us-east-1b"] and .TerminationPolicies == ["Default"] and
	(.AutoScalingGroupARN | startswith("arn:aws:autoscaling:")) and (.Tags | length) == 2' <<<"$g" >/dev/null ||
	fail "describe-auto-scaling-groups: $g"
n=$(as describe-auto-scaling-instances --instance-ids "$i1" --query 'AutoScalingInstances[0].[AutoScalingGroupName,LifecycleState,HealthStatus]' --output text)
[ "$n" = "web	InService	HEALTHY" ] || fail "describe-auto-scaling-instances: $n"
ok "a group of 2 over two subnets: one InService instance in each, tagged with the group, its guest up"

# the group's tags: CreateOrUpdateTags adds and replaces, DeleteTags removes, DescribeTags shows them;
# a tag naming an unknown group is refused and none of the request's tags is put
tagsof() { as describe-tags --filters Name=auto-scaling-group,Values=web --query 'Tags[].[Key,Value]' --output text | sort | tr '\t\n' '= '; }
as create-or-update-tags --tags ResourceId=web,ResourceType=auto-scaling-group,Key=env,Value=lab,PropagateAtLaunch=false \
	ResourceId=web,ResourceType=auto-scaling-group,Key=team,Value=dev,PropagateAtLaunch=true || fail "create-or-update-tags"
[ "$(tagsof)" = "cost=none env=lab team=dev " ] || fail "describe-tags after create-or-update-tags: $(tagsof)"
expect_as ValidationError create-or-update-tags --tags ResourceId=web,ResourceType=auto-scaling-group,Key=x,Value=1 \
	ResourceId=nosuch,ResourceType=auto-scaling-group,Key=y,Value=2
as delete-tags --tags ResourceId=web,ResourceType=auto-scaling-group,Key=env || fail "delete-tags"
[ "$(tagsof)" = "cost=none team=dev " ] || fail "describe-tags after delete-tags (and a refused create): $(tagsof)"
as create-or-update-tags --tags ResourceId=web,ResourceType=auto-scaling-group,Key=team,Value=ops,PropagateAtLaunch=true
ok "group tags: create-or-update-tags adds and replaces, delete-tags removes; an unknown group refused, nothing put"

# replaced: one terminated through EC2, one destroyed behind vmmgr's back
i2=${first##* }
vm terminate-instances --instance-ids "$i1" >/dev/null || fail "terminate-instances"
virsh_ destroy "$i2" >/dev/null || fail "virsh destroy"
for _ in $(seq 240); do
	now=$(in_service)
	[[ " $now " != *" $i1 "* && " $now " != *" $i2 "* ]] && [ "$(wc -w <<<"$now")" = 2 ] && break
	sleep 1
done
[[ " $now " != *" $i1 "* && " $now " != *" $i2 "* ]] && [ "$(wc -w <<<"$now")" = 2 ] ||
	fail "the terminated and the destroyed instance were not both replaced: $(group)"
wait_group 2
acts=$(as describe-scaling-activities --auto-scaling-group-name web --output json)
jq -e --arg i "$i2" '[.Activities[] | select(.Description == "Terminating EC2 instance: " + $i and .StatusCode == "Successful" and
	(.Cause | test("an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped")))] | length == 1' <<<"$acts" >/dev/null ||
	fail "no activity tells the destroyed instance's health check: $acts"
ok "an instance terminated through EC2 and one destroyed with virsh are both replaced; the activities say why"

# SetDesiredCapacity 3, then 1: the default policy keeps the newest
as set-desired-capacity --auto-scaling-group-name web --desired-capacity 3 || fail "set-desired-capacity 3"
wait_group 3
newest=$(as describe-scaling-activities --auto-scaling-group-name web --query 'Activities[0].Description' --output text)
newest=${newest##*: }
as set-desired-capacity --auto-scaling-group-name web --desired-capacity 1 || fail "set-desired-capacity 1"
wait_group 1
[ "$(in_service)" = "$newest" ] || fail "scale-in kept $(in_service), not the newest $newest"
acts=$(as describe-scaling-activities --auto-scaling-group-name web --output json)
jq -e '.Activities[0].Cause | test("a user request explicitly set group desired capacity changing the desired capacity from 3 to 1") and
	test("shrinking the capacity from 3 to 1")' <<<"$acts" >/dev/null || fail "scale-in cause: $(jq '.Activities[0]' <<<"$acts")"
jq -e '[.Activities[] | select(.Description | startswith("Launching a new EC2 instance: i-")) | select(.StatusCode == "Successful" and .Progress == 100 and (.Details | fromjson | has("Subnet ID")))] | length >= 5' <<<"$acts" >/dev/null ||
	fail "launch activities: $acts"
expect_as ValidationError set-desired-capacity --auto-scaling-group-name web --desired-capacity 4
expect_as ValidationError terminate-instance-in-auto-scaling-group --instance-id "$newest" --should-decrement-desired-capacity
[ "$(group | jq .DesiredCapacity)" = 1 ] || fail "a refused request changed desired"
ok "set-desired-capacity 3 then 1 scales out and in (the newest stays); bounds are checked"

# kill -9 of the daemon in the middle of a scale-out: after a restart, exactly desired and no orphan
as set-desired-capacity --auto-scaling-group-name web --desired-capacity 3 || fail "set-desired-capacity 3 again"
for _ in $(seq 100); do
	[ "$(as describe-scaling-activities --auto-scaling-group-name web --query 'Activities[0].StatusCode' --output text)" = InProgress ] && break
	sleep 0.1
done
kill -9 "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
start_serve
wait_group 3
[ "$(tagged)" = "$(in_service)" ] || fail "instances of the group outside it after kill -9: $(tagged) vs $(in_service)"
ok "kill -9 of vmmgr serve during a scale-out: exactly 3 instances, none orphaned"

# terminate-instance-in-auto-scaling-group with a decrement: no replacement
victim=$(in_service | cut -d' ' -f1)
act=$(as terminate-instance-in-auto-scaling-group --instance-id "$victim" --should-decrement-desired-capacity --output json)
jq -e --arg i "$victim" '.Activity.Description == "Terminating EC2 instance: " + $i and .Activity.StatusCode == "InProgress"' <<<"$act" >/dev/null ||
	fail "terminate-instance-in-auto-scaling-group: $act"
wait_group 2
[ "$(group | jq .DesiredCapacity)" = 2 ] || fail "desired after a decrementing terminate"
ok "terminate-instance-in-auto-scaling-group --should-decrement-desired-capacity: one fewer, not replaced"

# suspended processes: no launch while Launch is suspended; resumed, it catches up
as suspend-processes --auto-scaling-group-name web --scaling-processes Launch || fail "suspend-processes"
[ "$(group | jq -r '[.SuspendedProcesses[].ProcessName] | join(",")')" = Launch ] || fail "SuspendedProcesses: $(group)"
as set-desired-capacity --auto-scaling-group-name web --desired-capacity 3 || fail "set-desired-capacity 3 (suspended)"
sleep 6
[ "$(group | jq '.Instances | length')" = 2 ] || fail "a launch while Launch is suspended: $(group)"
as resume-processes --auto-scaling-group-name web || fail "resume-processes"
wait_group 3
ok "suspend-processes Launch holds the scale-out; resume-processes lets it happen"

# standby: out of service without a replacement (desired lowered), then back
sb=$(in_service | cut -d' ' -f1)
out=$(as enter-standby --auto-scaling-group-name web --instance-ids "$sb" --should-decrement-desired-capacity --output json) ||
	fail "enter-standby"
jq -e --arg i "$sb" '.Activities[0].Description == "Moving EC2 instance to Standby: " + $i' <<<"$out" >/dev/null || fail "enter-standby: $out"
g=$(group)
jq -e --arg i "$sb" '.DesiredCapacity == 2 and ([.Instances[] | select(.InstanceId == $i)][0].LifecycleState == "Standby")' <<<"$g" >/dev/null ||
	fail "after enter-standby: $g"
sleep 4
[ "$(group | jq '[.Instances[] | select(.LifecycleState == "Pending")] | length')" = 0 ] || fail "a replacement for a Standby instance: $(group)"
expect_as ValidationError exit-standby --auto-scaling-group-name web --instance-ids "$(in_service | cut -d' ' -f1)"
as exit-standby --auto-scaling-group-name web --instance-ids "$sb" >/dev/null || fail "exit-standby"
wait_group 3
[ "$(group | jq .DesiredCapacity)" = 3 ] || fail "desired after exit-standby"
ok "enter-standby (decrementing) takes an instance out of service without a replacement; exit-standby brings it back"

# delete: refused with instances; ForceDelete leaves nothing
members=$(in_service)
expect_as ResourceInUse delete-auto-scaling-group --auto-scaling-group-name web
as delete-auto-scaling-group --auto-scaling-group-name web --force-delete || fail "delete --force-delete"
waiter group-not-exists || fail "waiter group-not-exists"
[ -z "$(tagged)" ] || fail "instances left after ForceDelete: $(tagged)"
for i in $members; do
	for _ in $(seq 60); do domain_exists "$i" || break; sleep 1; done
	domain_exists "$i" && fail "domain $i left after ForceDelete"
done
n=$(aws ec2 describe-volumes --filters Name=attachment.instance-id,Values="${members// /,}" --query 'length(Volumes)')
[ "$n" = 0 ] || fail "volumes left after ForceDelete: $n"
[ "$(as describe-auto-scaling-instances --query 'length(AutoScalingInstances)')" = 0 ] || fail "instances still listed"
ok "delete-auto-scaling-group refuses a group with instances; --force-delete leaves no group, instance, domain or volume"
