#!/bin/bash
# An alarm that acts on a real guest's metric: `CPUUtilization > 50 for 2 of 3 periods of 10 s` goes to
# ALARM while the guest spins and back to OK after the spinning is killed; a kill -9 of `vmmgr serve`
# in between loses neither the state nor the history, and repeats no transition; the history shows
# each transition once, and the Auto Scaling action of the ALARM state as not executed.  EC2 actions
# act on the alarm's instance: an idle-CPU alarm evaluated to ALARM reboots the guest once; a stop
# action stops it; a terminate action on a protected instance is refused, and the history says so.
. "$(dirname "$0")/lib.sh"
vm_init
. "$(dirname "$0")/serve.sh"

vm create-key-pair --key-name k --key-type ed25519 --output json | jq -r .KeyMaterial > "$T/k.pem"
chmod 600 "$T/k.pem"
p=$(vm describe-vpcs --query 'Vpcs[0].CidrBlock' --output text)
p=${p%.0.0/16}
allow_ssh "$(default_group "$(vm describe-vpcs --query 'Vpcs[0].VpcId' --output text)")" "$p.0.1/32"
id=$(launch --instance-type t2.micro --key-name k --user-data '#!/bin/sh
while :; do :; done &
echo $! > /run/spin.pid
')
acct=$(aws sts get-caller-identity --query Account --output text)
policy="arn:aws:autoscaling:us-east-1:$acct:scalingPolicy:6d8ffa7e-0000-4000-8000-000000000002:autoScalingGroupName/web:policyName/out"
aws cloudwatch put-metric-alarm --alarm-name cpu-high --namespace AWS/EC2 --metric-name CPUUtilization \
	--dimensions "Name=InstanceId,Value=$id" --statistic Average --period 10 --evaluation-periods 3 \
	--datapoints-to-alarm 2 --threshold 50 --comparison-operator GreaterThanThreshold --alarm-actions "$policy" ||
	fail "put-metric-alarm"
wait_console "$id" "vmmgr: instance $id ready" 1

state() { aws cloudwatch describe-alarms --alarm-names cpu-high --query 'MetricAlarms[0].StateValue' --output text; }
wait_state() {
	local s
	for _ in $(seq "$2"); do
		s=$(state)
		[ "$s" = "$1" ] && return 0
		sleep 1
	done
	fail "the alarm is $s after $2 s, not $1: $(aws cloudwatch describe-alarms --alarm-names cpu-high --output json)"
}
transitions() {
	aws cloudwatch describe-alarm-history --alarm-name cpu-high --history-item-type StateUpdate --output json |
		jq -r '[.AlarmHistoryItems | sort_by(.Timestamp)[] | .HistorySummary] | join("; ")'
}
wait_state ALARM 60
ok "a spinning guest: the alarm went to ALARM ($(aws cloudwatch describe-alarms --alarm-names cpu-high --query 'MetricAlarms[0].StateReason' --output text))"

# kill -9 of the daemon: state and history intact, no transition repeated
before=$(transitions)
kill -KILL "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
start_serve
[ "$(state)" = ALARM ] || fail "after kill -9 and a restart the alarm is $(state)"
sleep 25 # two more evaluations under the spinning
[ "$(transitions)" = "$before" ] || fail "the restart repeated a transition: '$before' then '$(transitions)'"
ok "kill -9 of vmmgr serve and a restart: still ALARM, history unchanged ($before)"

gssh "$T/k.pem" "$(private_ip "$id")" 'kill $(cat /run/spin.pid)' || fail "could not stop the spinning"
wait_state OK 60
t=$(transitions)
# (the guest's boot may give an OK first, before its spinning starts)
re='^(Alarm updated from INSUFFICIENT_DATA to OK; )?Alarm updated from (INSUFFICIENT_DATA|OK) to ALARM; Alarm updated from ALARM to OK$'
[[ "$t" =~ $re ]] ||
	fail "the history's transitions: $t"
actions=$(aws cloudwatch describe-alarm-history --alarm-name cpu-high --history-item-type Action --output json |
	jq -r '[.AlarmHistoryItems[].HistorySummary] | join("; ")')
[ "$actions" = "Failed to execute action $policy" ] || fail "the history's actions: $actions"
ok "the spinning killed: OK; the history shows each transition once and the ALARM action as not executed"

# EC2 actions.  The guest is idle now: an alarm on CPU < 20 reaches ALARM by evaluation and reboots it,
# once per transition (deleted once it acted: the reboot's own busy boot would bring OK and then ALARM
# again, a reboot loop that is what this alarm asks for)
ec2() { echo "arn:aws:automate:us-east-1:ec2:$1"; }
action_of() { # ALARM: its Action entries' summaries
	aws cloudwatch describe-alarm-history --alarm-name "$1" --history-item-type Action --output json |
		jq -r '[.AlarmHistoryItems[].HistorySummary] | join("; ")'
}
aws cloudwatch put-metric-alarm --alarm-name cpu-idle --namespace AWS/EC2 --metric-name CPUUtilization \
	--dimensions "Name=InstanceId,Value=$id" --statistic Average --period 10 --evaluation-periods 1 \
	--threshold 20 --comparison-operator LessThanThreshold --alarm-actions "$(ec2 reboot)" || fail "put-metric-alarm reboot"
for _ in $(seq 60); do [ -n "$(action_of cpu-idle)" ] && break; sleep 0.5; done
aws cloudwatch delete-alarms --alarm-names cpu-idle
[ "$(action_of cpu-idle)" = "Successfully executed action $(ec2 reboot)" ] || fail "the reboot's history: $(action_of cpu-idle)"
wait_console "$id" "vmmgr: instance $id ready" 2 120
ok "an EC2 reboot action: the idle guest's alarm went to ALARM and rebooted it (Successfully executed in the history)"

aws cloudwatch put-metric-alarm --alarm-name stopper --namespace AWS/EC2 --metric-name StatusCheckFailed \
	--dimensions "Name=InstanceId,Value=$id" --statistic Maximum --period 60 --evaluation-periods 1 --threshold 1 \
	--comparison-operator GreaterThanOrEqualToThreshold --alarm-actions "$(ec2 stop)" --treat-missing-data ignore
aws cloudwatch set-alarm-state --alarm-name stopper --state-value ALARM --state-reason "testing the stop action"
vm wait instance-stopped --instance-ids "$id" || fail "the stop action did not stop the instance: $(state_of "$id")"
[ "$(action_of stopper)" = "Successfully executed action $(ec2 stop)" ] || fail "the stop's history: $(action_of stopper)"
vm modify-instance-attribute --instance-id "$id" --disable-api-termination
aws cloudwatch put-metric-alarm --alarm-name ender --namespace AWS/EC2 --metric-name StatusCheckFailed \
	--dimensions "Name=InstanceId,Value=$id" --statistic Maximum --period 60 --evaluation-periods 1 --threshold 1 \
	--comparison-operator GreaterThanOrEqualToThreshold --alarm-actions "$(ec2 terminate)" --treat-missing-data ignore
aws cloudwatch set-alarm-state --alarm-name ender --state-value ALARM --state-reason "testing the terminate action"
for _ in $(seq 20); do [ -n "$(action_of ender)" ] && break; sleep 0.5; done
[[ "$(action_of ender)" == "Failed to execute action $(ec2 terminate)" ]] || fail "the refused terminate's history: $(action_of ender)"
err=$(aws cloudwatch describe-alarm-history --alarm-name ender --history-item-type Action --output json |
	jq -r '.AlarmHistoryItems[0].HistoryData | fromjson | .error')
[[ "$err" == *"$id"* ]] || fail "the refused terminate's error does not name the instance: $err"
expect_state "$id" stopped
ok "an EC2 stop action stopped the instance; a terminate action on a protected instance failed ($err), the instance kept"
