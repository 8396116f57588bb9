#!/bin/bash
# An alarm that acts on a real guest's metric: `CPUUtilization > 50 for 2 of 3 periods of 10 s` goes to
# ALARM while the guest spins and back to OK after the spinning is killed; a kill -9 of `vmmgr serve`
# in between loses neither the state nor the history, and repeats no transition; the history shows
# each transition once, and the Auto Scaling action of the ALARM state as not executed.
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
