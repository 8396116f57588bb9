# Auto Scaling helpers through the aws CLI, sourced after serve.sh.  ASG_GROUP names the group that
# group, in_service and wait_group look at (web by default).
as() { aws autoscaling "$@"; }
expect_as() { # CODE ARGS…: the aws CLI fails with CODE
	local code=$1 out
	shift
	out=$(as "$@" 2>&1) && fail "'$*' succeeded, expected $code"
	grep -q "($code)" <<<"$out" || fail "'$*': $out (expected $code)"
}
group() { as describe-auto-scaling-groups --auto-scaling-group-names "${ASG_GROUP:-web}" --output json | jq -c '.AutoScalingGroups[0]'; }
# the group's InService and Healthy instances, sorted
in_service() { group | jq -r '[.Instances[] | select(.LifecycleState == "InService" and .HealthStatus == "Healthy") | .InstanceId] | sort | join(" ")'; }
# wait_group N [T]: until exactly N instances are InService and none is anything else
wait_group() {
	local n=$1 t=${2:-240} g i
	for ((i = 0; i < t; i++)); do
		g=$(group)
		[ "$(jq '[.Instances[] | select(.LifecycleState == "InService" and .HealthStatus == "Healthy")] | length' <<<"$g")" = "$n" ] &&
			[ "$(jq '.Instances | length' <<<"$g")" = "$n" ] && return 0
		sleep 1
	done
	fail "the group did not reach $n InService instances in $t s: $g"
}
