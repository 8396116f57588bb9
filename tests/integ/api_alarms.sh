#!/bin/bash
# CloudWatch metric alarms at the endpoint through the aws CLI and both boto3s (Query and JSON 1.0):
# PutMetricAlarm creates in INSUFFICIENT_DATA and an update keeps the state; DescribeAlarms round-trips
# every field Terraform reads and filters by name, prefix, state and action prefix, with paging;
# DescribeAlarmsForMetric; SetAlarmState with its history; the daemon evaluates an alarm on points put
# by PutMetricData (ALARM, then OK) with CloudWatch's reason; DeleteAlarms is all or none and the
# history outlives the alarm; alarms' tags (PutMetricAlarm's on creation, Tag/Untag/ListTagsForResource
# by ARN, gone with the alarm); bad input gets CloudWatch's codes and changes nothing.
. "$(dirname "$0")/lib.sh"
vm_init
. "$(dirname "$0")/serve.sh"

cw() { aws cloudwatch "$@"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
expect_cw() { # CODE ARGS…: the aws CLI fails with CODE
	local code=$1 out
	shift
	out=$(cw "$@" 2>&1) && fail "'$*' succeeded, expected $code"
	grep -q "($code)" <<<"$out" || fail "'$*': $out (expected $code)"
}
acct=$(aws sts get-caller-identity --query Account --output text)
policy="arn:aws:autoscaling:us-east-1:$acct:scalingPolicy:6d8ffa7e-0000-4000-8000-000000000001:autoScalingGroupName/web:policyName/out"

cw put-metric-alarm --alarm-name app-high --alarm-description "queue too long" --namespace App --metric-name Queue \
	--dimensions Name=Service,Value=web --statistic Maximum --period 10 --evaluation-periods 3 --datapoints-to-alarm 2 \
	--threshold 50 --comparison-operator GreaterThanThreshold --unit Count \
	--alarm-actions "$policy" || fail "put-metric-alarm"
a=$(cw describe-alarms --alarm-names app-high --output json | jq -c '.MetricAlarms[0]')
exp='{"AlarmName":"app-high","AlarmDescription":"queue too long","ActionsEnabled":true,"OKActions":[],"InsufficientDataActions":[],"StateValue":"INSUFFICIENT_DATA","Namespace":"App","MetricName":"Queue","Dimensions":[{"Name":"Service","Value":"web"}],"Statistic":"Maximum","Period":10,"Unit":"Count","EvaluationPeriods":3,"DatapointsToAlarm":2,"Threshold":50.0,"ComparisonOperator":"GreaterThanThreshold","TreatMissingData":"missing"}'
got=$(jq -c --argjson e "$exp" 'with_entries(select(.key as $k | $e | has($k)))' <<<"$a")
[ "$(jq -S . <<<"$got")" = "$(jq -S . <<<"$exp")" ] || fail "describe-alarms: $got"
[ "$(jq -r '.AlarmArn' <<<"$a")" = "arn:aws:cloudwatch:us-east-1:$acct:alarm:app-high" ] || fail "AlarmArn: $a"
[ "$(jq -r '.AlarmActions[0]' <<<"$a")" = "$policy" ] || fail "AlarmActions: $a"
ok "put-metric-alarm / describe-alarms round-trip every field; a new alarm is INSUFFICIENT_DATA"

# the daemon evaluates it on points put for its last three periods of 10 s
# (in one call: an evaluation between calls would see one point, and go OK first)
now=$(date +%s)
pt() { echo "{\"MetricName\":\"Queue\",\"Dimensions\":[{\"Name\":\"Service\",\"Value\":\"web\"}],\"Unit\":\"Count\",\"Value\":80,\"StorageResolution\":1,\"Timestamp\":\"$(iso $((now - $1)))\"}"; }
cw put-metric-data --namespace App --metric-data "[$(pt 25),$(pt 15),$(pt 5)]"
for _ in $(seq 40); do
	s=$(cw describe-alarms --alarm-names app-high --query 'MetricAlarms[0].StateValue' --output text)
	[ "$s" = ALARM ] && break
	sleep 0.5
done
[ "$s" = ALARM ] || fail "an alarm whose metric breached in its periods is $s"
reason=$(cw describe-alarms --alarm-names app-high --query 'MetricAlarms[0].StateReason' --output text)
[[ "$reason" == "Threshold Crossed: "*" out of the last 3 datapoints ["*"] were greater than the threshold (50) (minimum 2 datapoints for OK -> ALARM transition)." ]] ||
	fail "StateReason: $reason"
data=$(cw describe-alarms --alarm-names app-high --query 'MetricAlarms[0].StateReasonData' --output text)
jq -e '.statistic == "Maximum" and .period == 10 and .threshold == 50 and (.recentDatapoints | index(80))' <<<"$data" >/dev/null ||
	fail "StateReasonData: $data"
hist=$(cw describe-alarm-history --alarm-name app-high --output json)
jq -e '[.AlarmHistoryItems[] | select(.HistoryItemType == "StateUpdate")][0].HistorySummary == "Alarm updated from INSUFFICIENT_DATA to ALARM"' <<<"$hist" >/dev/null ||
	fail "history: $hist"
jq -e --arg p "$policy" '[.AlarmHistoryItems[] | select(.HistoryItemType == "Action")][0].HistorySummary == "Failed to execute action " + $p' <<<"$hist" >/dev/null ||
	fail "the Auto Scaling action is not in the history as not executed: $hist"
# an update keeps the state; the points stop, and missing data now counts as not breaching: OK once the
# breaching points leave the window
cw put-metric-alarm --alarm-name app-high --namespace App --metric-name Queue --dimensions Name=Service,Value=web \
	--statistic Maximum --period 10 --evaluation-periods 3 --datapoints-to-alarm 2 --threshold 50 \
	--comparison-operator GreaterThanThreshold --treat-missing-data notBreaching --unit Count --alarm-actions "$policy"
# (an evaluation may already judge the new configuration: OK; a reset would say INSUFFICIENT_DATA)
s=$(cw describe-alarms --alarm-names app-high --query 'MetricAlarms[0].StateValue' --output text)
[ "$s" = ALARM ] || [ "$s" = OK ] || fail "an update did not keep the state: $s"
for _ in $(seq 80); do
	s=$(cw describe-alarms --alarm-names app-high --query 'MetricAlarms[0].StateValue' --output text)
	[ "$s" = OK ] && break
	sleep 0.5
done
[ "$s" = OK ] || fail "with no more points (notBreaching) the alarm stays $s"
ok "the daemon's evaluation: ALARM on breaching points ($reason), the action recorded as not executed, OK after"

# missing data ignored: the state stays whatever the minutes bring
cw put-metric-alarm --alarm-name app-high --namespace App --metric-name Queue --dimensions Name=Service,Value=web \
	--statistic Maximum --period 60 --evaluation-periods 1 --threshold 70 --comparison-operator GreaterThanThreshold \
	--treat-missing-data ignore
[ "$(cw describe-alarms --alarm-names app-high --query 'MetricAlarms[0].[StateValue, Period]' --output text)" = "OK	60" ] ||
	fail "an update did not keep the state"
cw set-alarm-state --alarm-name app-high --state-value ALARM --state-reason "testing the pager"
[ "$(cw describe-alarms --state-value ALARM --query 'MetricAlarms[].AlarmName' --output text)" = app-high ] ||
	fail "set-alarm-state / describe-alarms --state-value"
n=$(cw describe-alarm-history --alarm-name app-high --history-item-type StateUpdate --query 'length(AlarmHistoryItems)' --output text)
[ "$n" = 3 ] || fail "three state updates in the history, not $n"
# vmmgr's own CLI reads and writes the same alarms
[ "$(vm cloudwatch describe-alarms --alarm-names app-high --query 'MetricAlarms[0].StateValue' --output text)" = ALARM ] ||
	fail "vmmgr cloudwatch describe-alarms"
vm cloudwatch set-alarm-state --alarm-name app-high --state-value OK --state-reason "from the CLI" || fail "vmmgr cloudwatch set-alarm-state"
vm cloudwatch set-alarm-state --alarm-name app-high --state-value ALARM --state-reason "back" || fail "vmmgr cloudwatch set-alarm-state"
n=$(vm cloudwatch describe-alarm-history --alarm-name app-high --history-item-type StateUpdate --output json | jq '.AlarmHistoryItems | length')
[ "$n" = 5 ] || fail "vmmgr cloudwatch describe-alarm-history: $n state updates, not 5"
expect_error ResourceNotFound vm cloudwatch delete-alarms --alarm-names nosuch
ok "an update keeps the state; set-alarm-state; describe-alarm-history by type; the same through vmmgr cloudwatch"

for i in $(seq 1 5); do
	cw put-metric-alarm --alarm-name "disk-$i" --namespace AWS/EC2 --metric-name DiskWriteOps \
		--dimensions Name=InstanceId,Value=i-0123456789abcdef0 --statistic Sum --period 300 --evaluation-periods 1 \
		--threshold "$i" --comparison-operator GreaterThanOrEqualToThreshold --ok-actions "arn:aws:sns:us-east-1:$acct:ops"
done
[ "$(cw describe-alarms --alarm-name-prefix disk- --query 'length(MetricAlarms)' --output text)" = 5 ] || fail "prefix"
[ "$(cw describe-alarms --action-prefix arn:aws:sns --query 'length(MetricAlarms)' --output text)" = 5 ] || fail "action prefix"
page=$(cw describe-alarms --alarm-name-prefix disk- --max-records 2 --no-paginate --output json)
[ "$(jq '.MetricAlarms | length' <<<"$page")" = 2 ] && [ "$(jq -r .NextToken <<<"$page")" != null ] || fail "paging: $page"
[ "$(cw describe-alarms --alarm-name-prefix disk- --page-size 2 --output json | jq '.MetricAlarms | length')" = 5 ] ||
	fail "the CLI's paginator does not see all five"
n=$(cw describe-alarms-for-metric --namespace AWS/EC2 --metric-name DiskWriteOps \
	--dimensions Name=InstanceId,Value=i-0123456789abcdef0 --query 'length(MetricAlarms)' --output text)
[ "$n" = 5 ] || fail "describe-alarms-for-metric: $n"
cw disable-alarm-actions --alarm-names disk-1
[ "$(cw describe-alarms --alarm-names disk-1 --query 'MetricAlarms[0].ActionsEnabled' --output text)" = False ] ||
	fail "disable-alarm-actions"
ok "describe-alarms by prefix, action prefix, pages; describe-alarms-for-metric; disable-alarm-actions"

# bad input: CloudWatch's codes, nothing changed
before=$(cw describe-alarms --output json | jq -S -c '[.MetricAlarms[] | del(.StateReasonData)]')
base=(--namespace App --metric-name Queue --statistic Average --evaluation-periods 2 --threshold 1
	--comparison-operator GreaterThanThreshold)
expect_cw InvalidParameterValue put-metric-alarm --alarm-name bad "${base[@]}" --period 45
expect_cw InvalidParameterValue put-metric-alarm --alarm-name bad "${base[@]}" --period 60 --datapoints-to-alarm 3
expect_cw InvalidParameterValue put-metric-alarm --alarm-name bad "${base[@]}" --period 60 --treat-missing-data sometimes
expect_cw InvalidParameterValue put-metric-alarm --alarm-name bad "${base[@]}" --period 60 --alarm-actions not-an-arn
expect_cw InvalidParameterValue put-metric-alarm --alarm-name app-high "${base[@]}" --period 86400
expect_cw ValidationError put-metric-alarm --alarm-name bad "${base[@]}" --period 60 \
	--alarm-actions arn:aws:automate:us-east-1:ec2:stop
expect_cw MissingParameter put-metric-alarm --alarm-name bad --namespace App --metric-name Queue --statistic Average \
	--evaluation-periods 2 --comparison-operator GreaterThanThreshold --period 60
expect_cw ResourceNotFound delete-alarms --alarm-names disk-1 nosuch
expect_cw ResourceNotFound set-alarm-state --alarm-name nosuch --state-value OK --state-reason x
expect_cw InvalidParameterValue set-alarm-state --alarm-name disk-1 --state-value BROKEN --state-reason x
after=$(cw describe-alarms --output json | jq -S -c '[.MetricAlarms[] | del(.StateReasonData)]')
[ "$before" = "$after" ] || fail "refused requests changed the alarms"
cw delete-alarms --alarm-names disk-1 disk-2
[ "$(cw describe-alarms --alarm-name-prefix disk- --query 'length(MetricAlarms)' --output text)" = 3 ] || fail "delete-alarms"
[ "$(cw describe-alarm-history --alarm-name disk-1 --query 'length(AlarmHistoryItems)' --output text)" = 1 ] ||
	fail "the history of a deleted alarm is gone"
ok "bad input gets CloudWatch's codes and changes nothing; delete-alarms; history outlives the alarm"

# tags: given at creation, ignored by an update (as AWS does), changed by ARN, gone with the alarm
cw put-metric-alarm --alarm-name tagged --namespace App --metric-name Queue --statistic Sum --period 60 \
	--evaluation-periods 1 --threshold 1 --comparison-operator GreaterThanThreshold --tags Key=team,Value=web Key=env,Value=lab
arn=$(cw describe-alarms --alarm-names tagged --query 'MetricAlarms[0].AlarmArn' --output text)
tags() { cw list-tags-for-resource --resource-arn "$arn" --output json | jq -c '[.Tags[] | [.Key, .Value]]'; }
[ "$(tags)" = '[["env","lab"],["team","web"]]' ] || fail "tags given at creation: $(tags)"
cw put-metric-alarm --alarm-name tagged --namespace App --metric-name Queue --statistic Sum --period 60 \
	--evaluation-periods 1 --threshold 2 --comparison-operator GreaterThanThreshold --tags Key=team,Value=db
[ "$(tags)" = '[["env","lab"],["team","web"]]' ] || fail "an update changed the tags: $(tags)"
cw tag-resource --resource-arn "$arn" --tags Key=team,Value=db Key=owner,Value=ops
cw untag-resource --resource-arn "$arn" --tag-keys env nosuch
[ "$(tags)" = '[["owner","ops"],["team","db"]]' ] || fail "tag-resource / untag-resource: $(tags)"
[ "$(vm cloudwatch list-tags-for-resource --resource-arn "$arn" --output json | jq -c '[.Tags[].Key]')" = '["owner","team"]' ] ||
	fail "vmmgr cloudwatch list-tags-for-resource"
expect_cw ResourceNotFoundException list-tags-for-resource --resource-arn "${arn}x"
expect_cw ResourceNotFoundException tag-resource --resource-arn "${arn}x" --tags Key=a,Value=b
expect_cw InvalidParameterValue tag-resource --resource-arn "$arn" --tags Key=aws:x,Value=b
expect_cw InvalidParameterValue tag-resource --resource-arn not-an-arn --tags Key=a,Value=b
many=$(for i in $(seq 49); do printf 'Key=k%d,Value=v ' "$i"; done)
# shellcheck disable=SC2086 # one argument per tag
expect_cw InvalidParameterValue tag-resource --resource-arn "$arn" --tags $many
[ "$(tags)" = '[["owner","ops"],["team","db"]]' ] || fail "refused tagging changed the tags: $(tags)"
cw delete-alarms --alarm-names tagged
cw put-metric-alarm --alarm-name tagged --namespace App --metric-name Queue --statistic Sum --period 60 \
	--evaluation-periods 1 --threshold 1 --comparison-operator GreaterThanThreshold
[ "$(tags)" = '[]' ] || fail "a deleted alarm's tags came back with a new one of its name: $(tags)"
cw delete-alarms --alarm-names tagged
ok "alarm tags: at creation, not by an update, tag/untag/list by ARN, limits and errors change nothing, gone with the alarm"

for py in /usr/bin/python3 /root/.pyenv/shims/python3; do
	[ -x "$py" ] && "$py" -c 'import boto3' 2>/dev/null || continue
	"$py" - "$ENDPOINT" <<'PY' || fail "boto3 with $py"
import sys
import boto3, botocore.exceptions
cw = boto3.client("cloudwatch", endpoint_url=sys.argv[1], region_name="us-east-1")
name = "py-" + boto3.__version__
cw.put_metric_alarm(AlarmName=name, Namespace="App", MetricName="Latency", Statistic="Average", Period=60,
                    EvaluationPeriods=2, Threshold=0.25, ComparisonOperator="LessThanOrEqualToThreshold",
                    Dimensions=[{"Name": "Path", "Value": "/"}], TreatMissingData="ignore", ActionsEnabled=False)  # no evaluation changes it meanwhile
a = cw.describe_alarms(AlarmNames=[name], AlarmTypes=["MetricAlarm"])["MetricAlarms"][0]
assert a["Threshold"] == 0.25 and a["ActionsEnabled"] is False and a["StateValue"] == "INSUFFICIENT_DATA", a
assert a["AlarmConfigurationUpdatedTimestamp"].year >= 2024 and a["TreatMissingData"] == "ignore", a
cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="by hand")
h = cw.describe_alarm_history(AlarmName=name, ScanBy="TimestampAscending")["AlarmHistoryItems"]
assert [i["HistoryItemType"] for i in h] == ["ConfigurationUpdate", "StateUpdate"], h
try:
    cw.put_metric_alarm(AlarmName=name, Namespace="App", MetricName="Latency", Statistic="Average", Period=7,
                        EvaluationPeriods=2, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    sys.exit("Period 7 accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidParameterValue", e.response
try:
    cw.delete_alarms(AlarmNames=["nosuch-" + name])
    sys.exit("deleting a missing alarm succeeded")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "ResourceNotFound", e.response
arn = a["AlarmArn"]
cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "client", "Value": "boto3"}, {"Key": "empty", "Value": ""}])
cw.untag_resource(ResourceARN=arn, TagKeys=["empty"])
assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "client", "Value": "boto3"}]
try:
    cw.list_tags_for_resource(ResourceARN=arn + "-gone")
    sys.exit("tags of a missing alarm listed")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "ResourceNotFoundException", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404, e.response
cw.delete_alarms(AlarmNames=[name])
assert cw.describe_alarms(AlarmNames=[name])["MetricAlarms"] == []
print("boto3 %s: alarms ok" % boto3.__version__)
PY
done
ok "boto3 (Query and JSON 1.0): alarm create, describe, set state, history, tags, errors, delete"
