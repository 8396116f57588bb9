#!/bin/bash
# Auto Scaling policies with real guests and real alarms: a simple policy is run by a CloudWatch alarm
# on a custom metric (and ExecutePolicy honours its cooldown), a step policy picks the step of the
# breach, bad policies are ValidationError; a target tracking policy at 50 % CPU (boto3, a
# 10-second customized metric of the group's AWS/EC2 CPUUtilization) owns its two alarms, scales the
# group out while its guests spin (a bounded busy loop started by the template's user data) and back
# in after they stop; DescribeScalingActivities tells it in AWS's words; DeletePolicy removes the
# alarms.
. "$(dirname "$0")/lib.sh"
vm_init
. "$(dirname "$0")/serve.sh"
. "$(dirname "$0")/asg.sh"

desired() { as describe-auto-scaling-groups --auto-scaling-group-names "$1" --query 'AutoScalingGroups[0].DesiredCapacity' --output text; }
in_service() { as describe-auto-scaling-groups --auto-scaling-group-names "$1" --output json |
	jq '[.AutoScalingGroups[0].Instances[] | select(.LifecycleState == "InService")] | length'; }
wait_desired() { # GROUP N T
	local i
	for ((i = 0; i < $3; i++)); do
		[ "$(desired "$1")" = "$2" ] && return 0
		sleep 1
	done
	fail "group $1: desired is $(desired "$1") after $3 s, not $2: $(as describe-scaling-activities --auto-scaling-group-name "$1" --max-items 3 --output json)"
}
sa=$(aws ec2 describe-subnets --filters Name=default-for-az,Values=true --query 'Subnets[0].SubnetId' --output text)

# --- simple and step policies on a group of idle guests -------------------------------------------
aws ec2 create-launch-template --launch-template-name idle \
	--launch-template-data "{\"ImageId\":\"$AMI\",\"InstanceType\":\"t2.micro\"}" >/dev/null || fail "template idle"
as create-auto-scaling-group --auto-scaling-group-name app --launch-template LaunchTemplateName=idle \
	--min-size 0 --max-size 3 --desired-capacity 0 --vpc-zone-identifier "$sa" || fail "group app"
out=$(as put-scaling-policy --auto-scaling-group-name app --policy-name add-one --adjustment-type ChangeInCapacity \
	--scaling-adjustment 1 --cooldown 600 --output json) || fail "put-scaling-policy simple"
arn=$(jq -r .PolicyARN <<<"$out")
[[ "$arn" == arn:aws:autoscaling:us-east-1:*:scalingPolicy:*:autoScalingGroupName/app:policyName/add-one ]] || fail "PolicyARN: $out"
# the same name again: the same ARN
[ "$(as put-scaling-policy --auto-scaling-group-name app --policy-name add-one --adjustment-type ChangeInCapacity \
	--scaling-adjustment 1 --cooldown 600 --query PolicyARN --output text)" = "$arn" ] || fail "a replaced policy changed its ARN"
aws cloudwatch put-metric-alarm --alarm-name queue-long --namespace App --metric-name Queue --statistic Maximum \
	--period 10 --evaluation-periods 1 --threshold 50 --comparison-operator GreaterThanThreshold \
	--treat-missing-data breaching --alarm-actions "$arn" || fail "put-metric-alarm"
aws cloudwatch put-metric-data --namespace App --metric-name Queue --value 80 --storage-resolution 1 || fail "put-metric-data"
wait_desired app 1 60
cause=$(as describe-scaling-activities --auto-scaling-group-name app --query 'Activities[0].Cause' --output text)
[[ "$cause" == *"a monitor alarm queue-long in state ALARM triggered policy add-one changing the desired capacity from 0 to 1."* ]] ||
	fail "the alarm-driven activity's cause: $cause"
h=$(aws cloudwatch describe-alarm-history --alarm-name queue-long --history-item-type Action --query 'AlarmHistoryItems[0].HistorySummary' --output text)
[ "$h" = "Successfully executed action $arn" ] || fail "the alarm's history: $h"
# in ALARM still (missing data breaches), but in cooldown (600 s): not run again a minute later;
# ExecutePolicy honouring the cooldown is refused
sleep 65
[ "$(desired app)" = 1 ] || fail "a simple policy ran again inside its cooldown"
expect_as ScalingActivityInProgress execute-policy --auto-scaling-group-name app --policy-name add-one --honor-cooldown
as execute-policy --auto-scaling-group-name app --policy-name add-one || fail "execute-policy"
[ "$(desired app)" = 2 ] || fail "execute-policy without honouring the cooldown"
aws cloudwatch delete-alarms --alarm-names queue-long
ok "a simple policy: run by an alarm in ALARM (AWS's cause, the alarm's history), then held by its cooldown; execute-policy"

as put-scaling-policy --auto-scaling-group-name app --policy-name steps --policy-type StepScaling \
	--adjustment-type ExactCapacity --step-adjustments MetricIntervalLowerBound=0,MetricIntervalUpperBound=20,ScalingAdjustment=1 \
	MetricIntervalLowerBound=20,ScalingAdjustment=3 >/dev/null || fail "put-scaling-policy step"
as execute-policy --auto-scaling-group-name app --policy-name steps --metric-value 75 --breach-threshold 50 || fail "execute step"
[ "$(desired app)" = 3 ] || fail "step 20..: desired $(desired app)"
as execute-policy --auto-scaling-group-name app --policy-name steps --metric-value 55 --breach-threshold 50 || fail "execute step"
[ "$(desired app)" = 1 ] || fail "step 0..20: desired $(desired app)"
expect_as ValidationError put-scaling-policy --auto-scaling-group-name app --policy-name gap --policy-type StepScaling \
	--adjustment-type ChangeInCapacity --step-adjustments MetricIntervalLowerBound=0,MetricIntervalUpperBound=10,ScalingAdjustment=1 \
	MetricIntervalLowerBound=20,ScalingAdjustment=2
expect_as ValidationError put-scaling-policy --auto-scaling-group-name app --policy-name bad --adjustment-type Lots --scaling-adjustment 1
expect_as ValidationError put-scaling-policy --auto-scaling-group-name nope --policy-name x --adjustment-type ChangeInCapacity --scaling-adjustment 1
expect_as ValidationError execute-policy --auto-scaling-group-name app --policy-name nope
n=$(as describe-policies --auto-scaling-group-name app --query 'ScalingPolicies[].PolicyName' --output text)
[ "$n" = "add-one	steps" ] || fail "describe-policies: $n"
as delete-policy --auto-scaling-group-name app --policy-name steps || fail "delete-policy"
as delete-auto-scaling-group --auto-scaling-group-name app --force-delete || fail "delete app"
ok "a step policy picks the step of the breach; gaps, bad types and unknown groups or policies are ValidationError"

# --- target tracking on CPU: out while the guests spin, in after ----------------------------------
py=/root/.pyenv/shims/python3
"$py" -c 'import boto3, sys; sys.exit(0 if tuple(map(int, boto3.__version__.split(".")[:2])) >= (1, 35) else 1)' 2>/dev/null ||
	fail "a boto3 that knows CustomizedMetricSpecification.Period (the image's pyenv) is needed"
ud=$(printf '#!/bin/sh\ntimeout 70 sh -c "while :; do :; done" &\n' | base64 -w0)
aws ec2 create-launch-template --launch-template-name spin \
	--launch-template-data "{\"ImageId\":\"$AMI\",\"InstanceType\":\"t2.micro\",\"UserData\":\"$ud\"}" >/dev/null ||
	fail "template spin"
as create-auto-scaling-group --auto-scaling-group-name web --launch-template LaunchTemplateName=spin \
	--min-size 1 --max-size 3 --desired-capacity 1 --vpc-zone-identifier "$sa" || fail "group web"
"$py" - "$ENDPOINT" >"$T/tt.json" <<'PY' || fail "put-scaling-policy target tracking (boto3)"
import boto3, json, sys
a = boto3.client("autoscaling", endpoint_url=sys.argv[1], region_name="us-east-1")
r = a.put_scaling_policy(AutoScalingGroupName="web", PolicyName="cpu50", PolicyType="TargetTrackingScaling",
    TargetTrackingConfiguration={"TargetValue": 50.0, "CustomizedMetricSpecification": {
        "MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "Statistic": "Average", "Period": 10,
        "Dimensions": [{"Name": "AutoScalingGroupName", "Value": "web"}]}})
d = a.describe_policies(AutoScalingGroupName="web")["ScalingPolicies"][0]
assert d["TargetTrackingConfiguration"]["CustomizedMetricSpecification"]["Period"] == 10, d
print(json.dumps({"arn": r["PolicyARN"], "alarms": [x["AlarmName"] for x in r["Alarms"]]}))
PY
jq -e '(.alarms | length) == 2 and (.alarms[0] | startswith("TargetTracking-web-AlarmHigh-")) and
	(.alarms[1] | startswith("TargetTracking-web-AlarmLow-"))' "$T/tt.json" >/dev/null || fail "the policy's alarms: $(cat "$T/tt.json")"
high=$(jq -r '.alarms[0]' "$T/tt.json")
a=$(aws cloudwatch describe-alarms --alarm-names "$high" --output json | jq -c '.MetricAlarms[0]')
jq -e '.Threshold == 50 and .Period == 10 and .EvaluationPeriods == 3 and .ComparisonOperator == "GreaterThanThreshold" and
	(.AlarmDescription | startswith("DO NOT EDIT OR DELETE."))' <<<"$a" >/dev/null || fail "AlarmHigh: $a"
p=$(as describe-policies --auto-scaling-group-name web --output json | jq -c '.ScalingPolicies[0]')
jq -e '.PolicyType == "TargetTrackingScaling" and .TargetTrackingConfiguration.TargetValue == 50 and
	.TargetTrackingConfiguration.CustomizedMetricSpecification.Namespace == "AWS/EC2" and (.Alarms | length) == 2' <<<"$p" >/dev/null ||
	fail "describe-policies: $p"
wait_desired web 2 300
ok "target tracking at 50 %: the spinning guest's group scales out (AlarmHigh)"
cause=$(as describe-scaling-activities --auto-scaling-group-name web --output json |
	jq -r '[.Activities[] | select(.Cause | test("AlarmHigh"))][0].Cause')
[[ "$cause" == *"a monitor alarm $high in state ALARM triggered policy cpu50 changing the desired capacity from 1 to "* ]] ||
	fail "scale-out cause: $cause"
# the loops end after 70 s; 15 periods below 45 % later the group comes back to 1
wait_desired web 1 480
[[ "$(as describe-scaling-activities --auto-scaling-group-name web --query 'Activities[0].Cause' --output text)" == *AlarmLow* ]] ||
	fail "scale-in cause: $(as describe-scaling-activities --auto-scaling-group-name web --max-items 2 --output json)"
ok "target tracking: back in to 1 after the load stops (AlarmLow), in AWS's words"

as delete-policy --auto-scaling-group-name web --policy-name cpu50 || fail "delete-policy cpu50"
n=$(aws cloudwatch describe-alarms --alarm-name-prefix TargetTracking-web --query 'length(MetricAlarms)')
[ "$n" = 0 ] || fail "the policy's alarms outlived it: $n"
as delete-auto-scaling-group --auto-scaling-group-name web --force-delete || fail "delete web"
ok "delete-policy removes its alarms"
