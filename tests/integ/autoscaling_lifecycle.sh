#!/bin/bash
# Auto Scaling's lifecycle hooks, instance refresh, attach/detach and scheduled actions with real
# guests, through the aws CLI: a launching hook (given at group creation) holds a new instance in
# Pending:Wait until complete-lifecycle-action; a terminating hook holds a scale-in in
# Terminating:Wait (the instance still runs) until its heartbeat timeout gives the default result;
# an instance refresh to a new template version replaces every instance and never has fewer than
# MinHealthyPercentage in service, also across a kill -9 of the daemon; an instance launched by hand
# is attached and detached; scheduled actions (and their batch forms, which list what failed) change
# the group's sizes at their time, a cron
# recurrence is computed in its time zone; bad input is ValidationError and changes nothing.
. "$(dirname "$0")/lib.sh"
vm_init
SERVE_ARGS="--metrics-interval 0"
. "$(dirname "$0")/serve.sh"
ASG_GROUP=app
. "$(dirname "$0")/asg.sh"

state_in_group() { group | jq -r --arg i "$1" '.Instances[] | select(.InstanceId == $i) | .LifecycleState'; }
# wait_lifecycle STATE [T]: until some member is in STATE; prints its id
wait_lifecycle() {
	local want=$1 t=${2:-240} i id
	for ((i = 0; i < t; i++)); do
		id=$(group | jq -r --arg s "$want" '[.Instances[] | select(.LifecycleState == $s) | .InstanceId][0] // empty')
		[ -n "$id" ] && { echo "$id"; return 0; }
		sleep 1
	done
	fail "no instance reached $want in $t s: $(group)"
}
ec2_state() { aws ec2 describe-instances --instance-ids "$1" --query 'Reservations[0].Instances[0].State.Name' --output text; }

sa=$(aws ec2 describe-subnets --filters Name=default-for-az,Values=true --query 'Subnets[0].SubnetId' --output text)
aws ec2 create-launch-template --launch-template-name app-lt \
	--launch-template-data "{\"ImageId\":\"$AMI\",\"InstanceType\":\"t2.micro\"}" >/dev/null || fail "create-launch-template"

# --- lifecycle hooks ---
expect_as ValidationError create-auto-scaling-group --auto-scaling-group-name app --launch-template LaunchTemplateName=app-lt \
	--min-size 0 --max-size 3 --desired-capacity 1 --vpc-zone-identifier "$sa" \
	--lifecycle-hook-specification-list LifecycleHookName=in,LifecycleTransition=autoscaling:EC2_INSTANCE_LAUNCHING,HeartbeatTimeout=10
expect_as ValidationError create-auto-scaling-group --auto-scaling-group-name app --launch-template LaunchTemplateName=app-lt \
	--min-size 0 --max-size 3 --desired-capacity 1 --vpc-zone-identifier "$sa" \
	--lifecycle-hook-specification-list LifecycleHookName=in,LifecycleTransition=autoscaling:EC2_INSTANCE_REBOOTING
[ "$(as describe-auto-scaling-groups --query 'length(AutoScalingGroups)')" = 0 ] || fail "a refused create left a group"
as create-auto-scaling-group --auto-scaling-group-name app --launch-template LaunchTemplateName=app-lt \
	--min-size 0 --max-size 3 --desired-capacity 1 --vpc-zone-identifier "$sa" \
	--lifecycle-hook-specification-list LifecycleHookName=in,LifecycleTransition=autoscaling:EC2_INSTANCE_LAUNCHING,HeartbeatTimeout=600,DefaultResult=ABANDON,NotificationMetadata=hello ||
	fail "create-auto-scaling-group with a launching hook"
hooks=$(as describe-lifecycle-hooks --auto-scaling-group-name app --output json)
jq -e '.LifecycleHooks | length == 1 and .[0].LifecycleHookName == "in" and .[0].HeartbeatTimeout == 600 and
	.[0].GlobalTimeout == 60000 and .[0].DefaultResult == "ABANDON" and .[0].NotificationMetadata == "hello"' <<<"$hooks" >/dev/null ||
	fail "describe-lifecycle-hooks: $hooks"
i1=$(wait_lifecycle Pending:Wait)
[ "$(ec2_state "$i1")" = running ] || fail "an instance in Pending:Wait should run"
act=$(as describe-scaling-activities --auto-scaling-group-name app --query 'Activities[0]' --output json)
jq -e --arg i "$i1" '.StatusCode == "MidLifecycleAction" and .Description == "Launching a new EC2 instance: " + $i' <<<"$act" >/dev/null ||
	fail "the launch activity while waiting: $act"
sleep 5
[ "$(state_in_group "$i1")" = Pending:Wait ] || fail "the instance left Pending:Wait uncompleted: $(group)"
expect_as ValidationError complete-lifecycle-action --auto-scaling-group-name app --lifecycle-hook-name in \
	--instance-id "$i1" --lifecycle-action-result MAYBE
expect_as ValidationError complete-lifecycle-action --auto-scaling-group-name app --lifecycle-hook-name in \
	--lifecycle-action-token 00000000-0000-0000-0000-000000000000 --lifecycle-action-result CONTINUE
as record-lifecycle-action-heartbeat --auto-scaling-group-name app --lifecycle-hook-name in --instance-id "$i1" ||
	fail "record-lifecycle-action-heartbeat"
as complete-lifecycle-action --auto-scaling-group-name app --lifecycle-hook-name in --instance-id "$i1" \
	--lifecycle-action-result CONTINUE || fail "complete-lifecycle-action"
wait_group 1 60
expect_as ValidationError complete-lifecycle-action --auto-scaling-group-name app --lifecycle-hook-name in \
	--instance-id "$i1" --lifecycle-action-result CONTINUE
[ "$(as describe-scaling-activities --auto-scaling-group-name app --query 'Activities[0].StatusCode' --output text)" = Successful ] ||
	fail "the launch did not end Successful"
as delete-lifecycle-hook --auto-scaling-group-name app --lifecycle-hook-name in || fail "delete-lifecycle-hook"
expect_as ValidationError delete-lifecycle-hook --auto-scaling-group-name app --lifecycle-hook-name in
ok "a launching hook holds the instance (running) in Pending:Wait until complete-lifecycle-action; bad results and tokens are refused"

expect_as ValidationError put-lifecycle-hook --auto-scaling-group-name app --lifecycle-hook-name out
expect_as ValidationError put-lifecycle-hook --auto-scaling-group-name app --lifecycle-hook-name out \
	--lifecycle-transition autoscaling:EC2_INSTANCE_TERMINATING --heartbeat-timeout 7201
as put-lifecycle-hook --auto-scaling-group-name app --lifecycle-hook-name out \
	--lifecycle-transition autoscaling:EC2_INSTANCE_TERMINATING --heartbeat-timeout 30 --default-result CONTINUE ||
	fail "put-lifecycle-hook"
t0=$(date +%s)
as set-desired-capacity --auto-scaling-group-name app --desired-capacity 0 || fail "set-desired-capacity 0"
wait_lifecycle Terminating:Wait 30 >/dev/null
[ "$(ec2_state "$i1")" = running ] || fail "an instance in Terminating:Wait should still run"
for _ in $(seq 120); do
	[ "$(group | jq '.Instances | length')" = 0 ] && break
	sleep 1
done
[ "$(group | jq '.Instances | length')" = 0 ] || fail "the heartbeat timeout did not let the termination go on: $(group)"
waited=$(($(date +%s) - t0))
((waited >= 28)) || fail "the termination went on after $waited s, before the 30 s heartbeat timeout"
[[ "$(ec2_state "$i1")" =~ ^(shutting-down|terminated)$ ]] || fail "the instance was not terminated"
as delete-lifecycle-hook --auto-scaling-group-name app --lifecycle-hook-name out || fail "delete-lifecycle-hook out"
ok "a terminating hook holds a scale-in in Terminating:Wait (the guest runs) until the heartbeat timeout's default result ($waited s)"

# --- attach and detach ---
mine=$(aws ec2 run-instances --image-id "$AMI" --subnet-id "$sa" --query 'Instances[0].InstanceId' --output text) || fail "run-instances"
aws ec2 wait instance-running --instance-ids "$mine" || fail "wait instance-running"
as update-auto-scaling-group --auto-scaling-group-name app --max-size 0 || fail "max 0"
expect_as ValidationError attach-instances --auto-scaling-group-name app --instance-ids "$mine"
as update-auto-scaling-group --auto-scaling-group-name app --max-size 3 || fail "max 3"
as attach-instances --auto-scaling-group-name app --instance-ids "$mine" || fail "attach-instances"
[ "$(group | jq .DesiredCapacity)" = 1 ] || fail "attach did not raise desired"
wait_group 1 60
[ "$(in_service)" = "$mine" ] || fail "the attached instance is not InService: $(group)"
[ "$(aws ec2 describe-instances --instance-ids "$mine" --query "Reservations[0].Instances[0].Tags[?Key=='aws:autoscaling:groupName'].Value" --output text)" = app ] ||
	fail "the attached instance is not tagged with the group"
expect_as ValidationError attach-instances --auto-scaling-group-name app --instance-ids "$mine"
det=$(as detach-instances --auto-scaling-group-name app --instance-ids "$mine" --should-decrement-desired-capacity --output json) ||
	fail "detach-instances"
jq -e --arg i "$mine" '.Activities[0].Description == "Detaching EC2 instance: " + $i and .Activities[0].StatusCode == "Successful"' <<<"$det" >/dev/null ||
	fail "detach-instances: $det"
[ "$(group | jq '.DesiredCapacity, (.Instances | length)' | tr '\n' ' ')" = "0 0 " ] || fail "after detach: $(group)"
sleep 3
[ "$(ec2_state "$mine")" = running ] || fail "the detached instance does not run"
aws ec2 terminate-instances --instance-ids "$mine" >/dev/null
ok "attach-instances makes a running instance an InService member (desired +1); detach-instances leaves it running"

# --- instance refresh (MinHealthyPercentage 50 of 2: never fewer than 1 in service) ---
as update-auto-scaling-group --auto-scaling-group-name app --min-size 2 --desired-capacity 2 || fail "desired 2"
wait_group 2
old=$(in_service)
expect_as ValidationError start-instance-refresh --auto-scaling-group-name app \
	--desired-configuration 'LaunchTemplate={LaunchTemplateName=nope}'
expect_as ActiveInstanceRefreshNotFound cancel-instance-refresh --auto-scaling-group-name app
aws ec2 create-launch-template-version --launch-template-name app-lt --source-version 1 \
	--launch-template-data '{"TagSpecifications":[{"ResourceType":"instance","Tags":[{"Key":"gen","Value":"2"}]}]}' >/dev/null ||
	fail "create-launch-template-version"
rid=$(as start-instance-refresh --auto-scaling-group-name app \
	--desired-configuration 'LaunchTemplate={LaunchTemplateName=app-lt,Version=2}' \
	--preferences MinHealthyPercentage=50,InstanceWarmup=45 --query InstanceRefreshId --output text) || fail "start-instance-refresh"
expect_as InstanceRefreshInProgress start-instance-refresh --auto-scaling-group-name app
low=9 killed=0 status= pct=0
for ((i = 0; i < 600; i++)); do
	n=$(in_service | wc -w)
	((n < low)) && low=$n
	read -r status pct < <(as describe-instance-refreshes --auto-scaling-group-name app --instance-refresh-ids "$rid" \
		--query 'InstanceRefreshes[0].[Status,PercentageComplete]' --output text)
	[ "$status" = Successful ] && break
	# kill -9 of the daemon between the two batches (InstanceWarmup 45 s apart: room for a slow poll)
	if ((killed == 0)) && [ "$status" = InProgress ] && ((pct > 0)); then
		kill -9 "$SERVE_PID"
		wait "$SERVE_PID" 2>/dev/null || true
		start_serve
		killed=1
	fi
	sleep 1
done
[ "$status" = Successful ] || fail "the refresh did not succeed: $(as describe-instance-refreshes --auto-scaling-group-name app --output json)"
((killed == 1)) || fail "the refresh was never seen between its batches: $(as describe-instance-refreshes --auto-scaling-group-name app --output json)"
((low >= 1)) || fail "in service fell to $low, below MinHealthyPercentage 50 of 2"
wait_group 2
new=$(in_service)
for i in $new; do
	[[ " $old " != *" $i "* ]] || fail "instance $i was not replaced"
	[ "$(aws ec2 describe-instances --instance-ids "$i" --query "Reservations[0].Instances[0].Tags[?Key=='gen'].Value" --output text)" = 2 ] ||
		fail "instance $i was not launched from version 2"
done
ref=$(as describe-instance-refreshes --auto-scaling-group-name app --output json)
jq -e '.InstanceRefreshes[0] | .PercentageComplete == 100 and .InstancesToUpdate == 0 and .Preferences.MinHealthyPercentage == 50' <<<"$ref" >/dev/null ||
	fail "describe-instance-refreshes: $ref"
[ "$(group | jq -r .LaunchTemplate.Version)" = 2 ] || fail "the group does not use version 2 after the refresh"
live=$(aws ec2 describe-instances --filters Name=tag:aws:autoscaling:groupName,Values=app \
	Name=instance-state-name,Values=pending,running,stopping,stopped --query 'Reservations[].Instances[].InstanceId' --output text | tr '\t' '\n' | sort | tr '\n' ' ')
[ "$live" = "$(tr ' ' '\n' <<<"$new" | sort | tr '\n' ' ')" ] || fail "instances of the group outside it: $live vs $new"
ok "an instance refresh to version 2 replaced both instances, never fewer than 1 in service (lowest $low), across a kill -9"

# --- scheduled actions ---
expect_as ValidationError put-scheduled-update-group-action --auto-scaling-group-name app --scheduled-action-name bad \
	--recurrence "61 * * * *" --desired-capacity 1
expect_as ValidationError put-scheduled-update-group-action --auto-scaling-group-name app --scheduled-action-name bad \
	--recurrence "0 8 * * *" --time-zone Mars/Olympus --desired-capacity 1
expect_as ValidationError put-scheduled-update-group-action --auto-scaling-group-name app --scheduled-action-name bad \
	--start-time 2001-01-01T00:00:00Z --desired-capacity 1
expect_as ValidationError put-scheduled-update-group-action --auto-scaling-group-name app --scheduled-action-name bad \
	--start-time "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)"
[ "$(as describe-scheduled-actions --auto-scaling-group-name app --query 'length(ScheduledUpdateGroupActions)')" = 0 ] ||
	fail "a refused scheduled action was recorded"
as put-scheduled-update-group-action --auto-scaling-group-name app --scheduled-action-name mornings \
	--recurrence "0 8 * * MON-FRI" --time-zone America/New_York --min-size 2 --max-size 3 --desired-capacity 3 ||
	fail "put-scheduled-update-group-action (recurrence)"
sch=$(as describe-scheduled-actions --auto-scaling-group-name app --scheduled-action-names mornings --output json)
jq -e '.ScheduledUpdateGroupActions[0] | .Recurrence == "0 8 * * MON-FRI" and .TimeZone == "America/New_York" and
	(.StartTime | test("T1[23]:00:00")) and (.ScheduledActionARN | startswith("arn:aws:autoscaling:"))' <<<"$sch" >/dev/null ||
	fail "the next run of 8:00 New York is 12:00 or 13:00 UTC: $sch"
next=$(jq -r '.ScheduledUpdateGroupActions[0].StartTime' <<<"$sch")
[ "$(TZ=America/New_York date -d "$next" +%u%H%M | cut -c1)" -le 5 ] || fail "the next run $next is not a weekday"
[ "$(TZ=America/New_York date -d "$next" +%H%M)" = 0800 ] || fail "the next run $next is not 08:00 in New York"
as delete-scheduled-action --auto-scaling-group-name app --scheduled-action-name mornings || fail "delete-scheduled-action"
expect_as ValidationError delete-scheduled-action --auto-scaling-group-name app --scheduled-action-name mornings
# the batch forms: each action on its own, the failed ones listed with their error
later=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
b=$(as batch-put-scheduled-update-group-action --auto-scaling-group-name app --output json --scheduled-update-group-actions \
	"ScheduledActionName=b1,StartTime=$later,DesiredCapacity=2" "ScheduledActionName=b2,Recurrence=0 6 * * *,MinSize=1" \
	"ScheduledActionName=b3,Recurrence=61 * * * *,MinSize=1") || fail "batch-put-scheduled-update-group-action"
jq -e '.FailedScheduledUpdateGroupActions | length == 1 and .[0].ScheduledActionName == "b3" and .[0].ErrorCode == "ValidationError"' \
	<<<"$b" >/dev/null || fail "batch put: $b"
got=$(as describe-scheduled-actions --auto-scaling-group-name app --output json | jq -c '[.ScheduledUpdateGroupActions[].ScheduledActionName] | sort')
[ "$got" = '["b1","b2"]' ] || fail "batch put did not record b1 and b2 alone: $got"
b=$(as batch-delete-scheduled-action --auto-scaling-group-name app --scheduled-action-names b1 nosuch b2 --output json) ||
	fail "batch-delete-scheduled-action"
jq -e '.FailedScheduledActions | length == 1 and .[0].ScheduledActionName == "nosuch"' <<<"$b" >/dev/null || fail "batch delete: $b"
[ "$(as describe-scheduled-actions --auto-scaling-group-name app --query 'length(ScheduledUpdateGroupActions)')" = 0 ] ||
	fail "batch delete left actions"
expect_as ValidationError batch-delete-scheduled-action --auto-scaling-group-name nosuch --scheduled-action-names b1
[ "$(vm autoscaling batch-put-scheduled-update-group-action --auto-scaling-group-name app --output json \
	--scheduled-update-group-actions "ScheduledActionName=v1,StartTime=$later,MaxSize=3" | jq '.FailedScheduledUpdateGroupActions | length')" = 0 ] ||
	fail "vmmgr autoscaling batch-put-scheduled-update-group-action"
vm autoscaling batch-delete-scheduled-action --auto-scaling-group-name app --scheduled-action-names v1 >/dev/null ||
	fail "vmmgr autoscaling batch-delete-scheduled-action"
at=$(date -u -d '+4 seconds' +%Y-%m-%dT%H:%M:%SZ)
as put-scheduled-update-group-action --auto-scaling-group-name app --scheduled-action-name shrink \
	--start-time "$at" --min-size 1 --desired-capacity 1 || fail "put-scheduled-update-group-action (once)"
for _ in $(seq 30); do
	[ "$(group | jq .DesiredCapacity)" = 1 ] && break
	sleep 1
done
[ "$(group | jq '.MinSize, .DesiredCapacity' | tr '\n' ' ')" = "1 1 " ] || fail "the scheduled action did not run: $(group)"
[ "$(as describe-scheduled-actions --auto-scaling-group-name app --query 'length(ScheduledUpdateGroupActions)')" = 0 ] ||
	fail "a one-time scheduled action remains after it ran"
wait_group 1
as describe-scaling-activities --auto-scaling-group-name app --query 'Activities[0].Cause' --output text |
	grep -q "a scheduled action update of AutoScalingGroup constraints to min: 1, max: 3, desired: 1" ||
	fail "the scale-in's cause does not name the scheduled action: $(as describe-scaling-activities --auto-scaling-group-name app --query 'Activities[0]')"
ok "a scheduled action changes the sizes at its time and goes; a cron recurrence's next run is in its time zone; bad input refused"

as delete-auto-scaling-group --auto-scaling-group-name app --force-delete || fail "delete-auto-scaling-group"
for _ in $(seq 120); do
	[ "$(as describe-auto-scaling-groups --query 'length(AutoScalingGroups)')" = 0 ] && break
	sleep 1
done
[ "$(as describe-auto-scaling-groups --query 'length(AutoScalingGroups)')" = 0 ] || fail "the group was not deleted"
