#!/bin/bash
# CloudWatch's custom metrics at the endpoint, through the aws CLI and Debian's boto3 (AWS Query
# protocol) and a current boto3 (AWS JSON 1.0, gzip bodies when large): PutMetricData with Value,
# Values/Counts and StatisticValues read back exactly by GetMetricStatistics per period; ListMetrics
# by namespace, name and dimension (a value optional); bad input gets CloudWatch's error codes and
# records nothing, not even the good data beside it.
. "$(dirname "$0")/lib.sh"
vm_init
. "$(dirname "$0")/serve.sh"

iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
t0=$(( $(date +%s) / 60 * 60 - 600 ))   # ten minutes ago, on a minute
cw() { aws cloudwatch "$@"; }

cw put-metric-data --namespace App --metric-name Load --dimensions Host=a,Role=web --value 3 --timestamp "$(iso $t0)" ||
	fail "put-metric-data --value"
cw put-metric-data --namespace App --metric-data "[{\"MetricName\":\"Load\",\"Values\":[1,5],\"Counts\":[1,2],
	\"Dimensions\":[{\"Name\":\"Role\",\"Value\":\"web\"},{\"Name\":\"Host\",\"Value\":\"a\"}],
	\"Timestamp\":\"$(iso $((t0 + 30)))\"}]" || fail "put-metric-data Values/Counts"
cw put-metric-data --namespace App --metric-name Load --dimensions Host=a,Role=web --unit Count \
	--statistic-values SampleCount=4,Sum=20,Minimum=2,Maximum=8 --timestamp "$(iso $((t0 + 60)))" ||
	fail "put-metric-data --statistic-values"
cw put-metric-data --namespace App --metric-name Load --dimensions Host=b --value 100 --timestamp "$(iso $t0)"
out=$(cw get-metric-statistics --namespace App --metric-name Load --dimensions Name=Host,Value=a Name=Role,Value=web \
	--start-time "$(iso $t0)" --end-time "$(iso $((t0 + 120)))" --period 60 \
	--statistics SampleCount Sum Average Minimum Maximum --output json) || fail "get-metric-statistics"
pts=$(jq -c '[.Datapoints | sort_by(.Timestamp)[] | [.SampleCount, .Sum, .Average, .Minimum, .Maximum]]' <<<"$out")
# first minute: 3 (once), 1 (once), 5 (twice): 4 samples, sum 14; second: the statistic set
[ "$pts" = '[[4,14,3.5,1,5],[4,20,5,2,8]]' ] || fail "datapoints: $pts from $out"
[ "$(jq -r .Label <<<"$out")" = Load ] || fail "Label: $out"
[ "$(jq -r '[.Datapoints[].Timestamp] | sort | .[0]' <<<"$out")" = "$(date -u -d "@$t0" +%Y-%m-%dT%H:%M:%S+00:00)" ] ||
	fail "a datapoint's Timestamp is its period's start: $out"
one=$(cw get-metric-statistics --namespace App --metric-name Load --dimensions Name=Host,Value=a Name=Role,Value=web \
	--start-time "$(iso $t0)" --end-time "$(iso $((t0 + 120)))" --period 120 --statistics Sum --output json)
[ "$(jq -c '[.Datapoints[] | [.Sum, .Average]]' <<<"$one")" = '[[34,null]]' ] || fail "one period of 120 s, Sum only: $one"
ok "aws cloudwatch put-metric-data (Value, Values/Counts, StatisticValues) reads back exactly per period"

qa='{"Id":"a","MetricStat":{"Metric":{"Namespace":"App","MetricName":"Load","Dimensions":[{"Name":"Host","Value":"a"},{"Name":"Role","Value":"web"}]},"Period":60,"Stat":"Sum"}}'
qb='{"Id":"b","Label":"host b","MetricStat":{"Metric":{"Namespace":"App","MetricName":"Load","Dimensions":[{"Name":"Host","Value":"b"}]},"Period":60,"Stat":"Maximum"}}'
qc='{"Id":"c","ReturnData":false,"MetricStat":{"Metric":{"Namespace":"App","MetricName":"Load","Dimensions":[{"Name":"Host","Value":"b"}]},"Period":60,"Stat":"Sum"}}'
gmd=$(cw get-metric-data --start-time "$(iso $t0)" --end-time "$(iso $((t0 + 120)))" --metric-data-queries "[$qa,$qb,$qc]" \
	--output json | jq -c '[.MetricDataResults[] | [.Id, .Label, .Values, (.Timestamps | length), .StatusCode]]')
[ "$gmd" = '[["a","Load",[20,14],2,"Complete"],["b","host b",[100],1,"Complete"]]' ] || fail "get-metric-data: $gmd"
page=$(cw get-metric-data --start-time "$(iso $t0)" --end-time "$(iso $((t0 + 120)))" --metric-data-queries "[$qa,$qb]" \
	--max-datapoints 2 --scan-by TimestampAscending --no-paginate --output json)
[ "$(jq -c '[.MetricDataResults[] | [.Id, .Values, .StatusCode]]' <<<"$page")" = '[["a",[14,20],"Complete"],["b",[],"PartialData"]]' ] &&
	[ "$(jq -r .NextToken <<<"$page")" != null ] || fail "get-metric-data's first page of 2 points: $page"
all=$(cw get-metric-data --start-time "$(iso $t0)" --end-time "$(iso $((t0 + 120)))" --metric-data-queries "[$qa,$qb]" \
	--page-size 1 --output json | jq -c '[.MetricDataResults | group_by(.Id)[] | [.[0].Id, [.[].Values[]]]]')
[ "$all" = '[["a",[20,14]],["b",[100]]]' ] || fail "get-metric-data through pages of one point: $all"
ok "get-metric-data: several queries, Label, ReturnData, ScanBy, MaxDatapoints pages"

list=$(cw list-metrics --namespace App --output json | jq -c '[.Metrics[] | [.MetricName, ([.Dimensions[] | .Name + "=" + .Value] | sort | join(","))]] | sort')
[ "$list" = '[["Load","Host=a,Role=web"],["Load","Host=b"]]' ] || fail "list-metrics: $list"
list=$(cw list-metrics --dimensions Name=Role --output json | jq -c '[.Metrics[].Dimensions | length]')
[ "$list" = '[2]' ] || fail "list-metrics by a dimension name: $list"
[ "$(cw list-metrics --namespace Other --output json | jq '.Metrics | length')" = 0 ] || fail "another namespace"
ok "list-metrics: a metric is its name and exact dimension set; filters by namespace and dimension"

expect_cw() { # CODE ARGS…: the aws CLI fails with CODE
	local code=$1 out
	shift
	out=$(cw "$@" 2>&1) && fail "'$*' succeeded, expected $code"
	grep -q "($code)" <<<"$out" || fail "'$*': $out (expected $code)"
}
expect_cw InvalidParameterValue get-metric-statistics --namespace App --metric-name Load --start-time "$(iso $t0)" \
	--end-time "$(iso $((t0 + 600)))" --period 61 --statistics Sum
expect_cw InvalidParameterCombination get-metric-statistics --namespace App --metric-name Load \
	--start-time "$(iso $((t0 - 86400)))" --end-time "$(iso $((t0 + 600)))" --period 1 --statistics Sum
expect_cw InvalidParameterValue put-metric-data --namespace AWS/EC2 --metric-name CPUUtilization --value 1
expect_cw InvalidParameterValue put-metric-data --namespace App --metric-name Old --value 1 --timestamp "$(iso $((t0 - 30 * 86400)))"
expect_cw InvalidParameterValue put-metric-data --namespace App --metric-name Load --value 1 --unit Parsecs
# one good datum and one bad: nothing is recorded
expect_cw InvalidParameterValue put-metric-data --namespace Partial --metric-data \
	'[{"MetricName":"Good","Value":1},{"MetricName":"Bad","Value":1,"StorageResolution":7}]'
[ "$(cw list-metrics --namespace Partial --output json | jq '.Metrics | length')" = 0 ] ||
	fail "a refused PutMetricData recorded its good datum"
# vmmgr's own CLI: `vmmgr cloudwatch …` goes through the same actions and store as the API
vm cloudwatch put-metric-data --namespace Cli --metric-name Temp --value 21.5 --unit Count --dimensions Room=lab \
	--timestamp "$(iso $((t0 + 15)))" || fail "vmmgr cloudwatch put-metric-data"
got=$(cw get-metric-statistics --namespace Cli --metric-name Temp --dimensions Name=Room,Value=lab \
	--start-time "$(iso $((t0 + 10)))" --end-time "$(iso $((t0 + 60)))" --period 60 --statistics Maximum --output json |
	jq -c '[.Datapoints[] | [.Maximum, .Unit, .Timestamp]]')
[ "$got" = "[[21.5,\"Count\",\"$(date -u -d "@$t0" +%Y-%m-%dT%H:%M:%S+00:00)\"]]" ] ||
	fail "what vmmgr cloudwatch put is not what the API reads (the period starts on the minute): $got"
[ "$(vm cloudwatch list-metrics --namespace Cli --query 'Metrics[0].Dimensions[0].Value' --output text)" = lab ] ||
	fail "vmmgr cloudwatch list-metrics --query"
expect_error InvalidParameterValue vm cloudwatch get-metric-statistics --namespace Cli --metric-name Temp \
	--start-time "$(iso $t0)" --end-time "$(iso $((t0 + 60)))" --period 7 --statistics Sum
ok "vmmgr cloudwatch put-metric-data / list-metrics / get-metric-statistics share the API's store and errors"

ok "bad input gets CloudWatch's codes (period, 1,440 points, AWS/ namespace, old timestamp, unit) and records nothing"

for py in /usr/bin/python3 /root/.pyenv/shims/python3; do
	[ -x "$py" ] && "$py" -c 'import boto3' 2>/dev/null || continue
	"$py" - "$ENDPOINT" "$t0" "$T/wire-$(basename "$(dirname "$(readlink -f "$py")")")" <<'PY' || fail "boto3 with $py"
import datetime, math, sys
import boto3, botocore.exceptions
endpoint, t0, wire = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cw = boto3.client("cloudwatch", endpoint_url=endpoint, region_name="us-east-1")
sent = []
cw.meta.events.register("before-send.cloudwatch.*", lambda request, **kw: sent.append(dict(request.headers)))
ns = "Py-" + boto3.__version__
when = datetime.datetime.fromtimestamp(t0 + 120, datetime.timezone.utc)
# 200 data: over botocore's 10 KB threshold, a current client gzips the body
data = [{"MetricName": "Req", "Dimensions": [{"Name": "Shard", "Value": "s%d" % (i % 4)}],
         "Timestamp": when, "Value": float(i), "Unit": "Count"} for i in range(200)]
cw.put_metric_data(Namespace=ns, MetricData=data)
got = cw.get_metric_statistics(Namespace=ns, MetricName="Req", Dimensions=[{"Name": "Shard", "Value": "s1"}],
                               StartTime=when, EndTime=when + datetime.timedelta(seconds=60), Period=60,
                               Statistics=["Sum", "SampleCount", "Maximum"])
dp = got["Datapoints"]
assert len(dp) == 1 and dp[0]["Sum"] == sum(range(1, 200, 4)) and dp[0]["SampleCount"] == 50 and dp[0]["Maximum"] == 197, got
assert dp[0]["Unit"] == "Count" and dp[0]["Timestamp"] == when, dp
names = sorted(d["Value"] for m in cw.get_paginator("list_metrics").paginate(Namespace=ns).build_full_result()["Metrics"]
               for d in m["Dimensions"])
assert names == ["s0", "s1", "s2", "s3"], names
md = cw.get_metric_data(StartTime=when, EndTime=when + datetime.timedelta(seconds=60), MetricDataQueries=[
    {"Id": "s%d" % k, "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Req",
                                                "Dimensions": [{"Name": "Shard", "Value": "s%d" % k}]},
                                     "Period": 60, "Stat": "Sum"}} for k in range(4)])["MetricDataResults"]
assert [(r["Id"], r["Values"], r["Timestamps"]) for r in md] == [("s%d" % k, [float(sum(range(k, 200, 4)))], [when])
                                                                 for k in range(4)], md
for bad, code in (({"Period": 61}, "InvalidParameterValue"), ({"Statistics": ["Median"]}, "InvalidParameterValue")):
    args = dict(Namespace=ns, MetricName="Req", StartTime=when, EndTime=when + datetime.timedelta(seconds=60),
                Period=60, Statistics=["Sum"])
    args.update(bad)
    try:
        cw.get_metric_statistics(**args)
        sys.exit("accepted %r" % bad)
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == code, (bad, e.response)
try:
    cw.put_metric_data(Namespace=ns, MetricData=[{"MetricName": "Req", "Value": math.nan}])
    sys.exit("NaN accepted")
except (botocore.exceptions.ClientError, botocore.exceptions.ParamValidationError):
    pass
protocol = "json" if any(h.get("X-Amz-Target") for h in sent) else "query"
gzip = any(h.get("Content-Encoding") in ("gzip", b"gzip") for h in sent)  # header values may be bytes
open(wire, "w").write("%s %s\n" % (protocol, "gzip" if gzip else "plain"))
print("boto3 %s: cloudwatch over %s (%s) ok" % (boto3.__version__, protocol, "gzip" if gzip else "plain"))
PY
done
wires=$(cat "$T"/wire-* 2>/dev/null | sort | tr '\n' ' ')
[[ "$wires" == *"query "* ]] || fail "no boto3 spoke the Query protocol: $wires"
if /root/.pyenv/shims/python3 -c 'import boto3, sys; sys.exit(tuple(map(int, boto3.__version__.split(".")[:2])) < (1, 42))' 2>/dev/null; then
	[[ "$wires" == *"json gzip"* ]] || fail "the current boto3 did not send gzip JSON: $wires"
fi
ok "boto3 (Query and JSON 1.0 with gzip bodies): put 200 data, read them back, list, CloudWatch's errors ($wires)"

# the metric calls are data events (CloudTrail's word): not in the audit log; alarm calls are
cw put-metric-alarm --alarm-name audited --namespace App --metric-name Queue --statistic Sum --period 60 \
	--evaluation-periods 1 --threshold 1 --comparison-operator GreaterThanThreshold
audit=$(vm audit --max-items 100000 --output json)
n=$(jq '[.Events[] | select(.Action | test("^monitoring:(PutMetricData|GetMetricStatistics|GetMetricData|ListMetrics)$"))] | length' <<<"$audit")
[ "$n" = 0 ] || fail "$n metric calls are in the audit log"
jq -e '[.Events[] | select(.Action == "monitoring:PutMetricAlarm")] | length == 1' <<<"$audit" >/dev/null ||
	fail "PutMetricAlarm is not in the audit log"
ok "the audit log leaves out the metric calls (data events) and keeps the alarm's"
