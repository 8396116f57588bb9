#!/bin/bash
# Warm pools with real guests: a Hibernated pool launches its instance, lets the guest boot and saves
# its memory (libvirt's managed save); a scale-out takes that instance (the same id) InService by
# resuming it — the guest answers on its address without booting again (its console shows one boot);
# the pool is refilled; ReuseOnScaleIn returns a scaled-in instance to the pool; DeleteWarmPool and a
# forced group delete leave nothing; bad pools are ValidationError.
. "$(dirname "$0")/lib.sh"
vm_init
. "$(dirname "$0")/serve.sh"
. "$(dirname "$0")/asg.sh"

pool() { as describe-warm-pool --auto-scaling-group-name web --output json; }
# wait_pool STATE N T: until the pool holds exactly N instances, all in STATE
wait_pool() {
	local i p
	for ((i = 0; i < $3; i++)); do
		p=$(pool)
		[ "$(jq --arg s "$1" '[.Instances[] | select(.LifecycleState == $s)] | length' <<<"$p")" = "$2" ] &&
			[ "$(jq '.Instances | length' <<<"$p")" = "$2" ] && return 0
		sleep 1
	done
	fail "the warm pool is not $2 × $1 after $3 s: $p"
}
in_service() { as describe-auto-scaling-groups --auto-scaling-group-names web --output json |
	jq -r '[.AutoScalingGroups[0].Instances[] | select(.LifecycleState == "InService") | .InstanceId] | sort | join(" ")'; }

p=$(vm describe-vpcs --query 'Vpcs[0].CidrBlock' --output text)
p=${p%.0.0/16}
vpc=$(vm describe-vpcs --query 'Vpcs[0].VpcId' --output text)
vm authorize-security-group-ingress --group-id "$(default_group "$vpc")" --protocol icmp --port -1 --cidr "$p.0.1/32" >/dev/null
sa=$(aws ec2 describe-subnets --filters Name=default-for-az,Values=true --query 'Subnets[0].SubnetId' --output text)
aws ec2 create-launch-template --launch-template-name web \
	--launch-template-data "{\"ImageId\":\"$AMI\",\"InstanceType\":\"t2.micro\"}" >/dev/null || fail "template"
as create-auto-scaling-group --auto-scaling-group-name web --launch-template LaunchTemplateName=web \
	--min-size 0 --max-size 2 --desired-capacity 0 --vpc-zone-identifier "$sa" || fail "group"

expect_as ValidationError put-warm-pool --auto-scaling-group-name web --pool-state Frozen
expect_as ValidationError put-warm-pool --auto-scaling-group-name web --min-size 2 --max-group-prepared-capacity 1
expect_as ValidationError put-warm-pool --auto-scaling-group-name nope
expect_as ValidationError delete-warm-pool --auto-scaling-group-name web
ok "bad warm pools (state, sizes, group) are ValidationError; deleting none is too"

as put-warm-pool --auto-scaling-group-name web --pool-state Hibernated --min-size 1 --max-group-prepared-capacity 1 ||
	fail "put-warm-pool"
wait_pool Warmed:Hibernated 1 240
w=$(pool | jq -r '.Instances[0].InstanceId')
jq -e '.WarmPoolConfiguration | .PoolState == "Hibernated" and .MinSize == 1 and .MaxGroupPreparedCapacity == 1' <<<"$(pool)" >/dev/null ||
	fail "WarmPoolConfiguration: $(pool)"
[ "$(state_of "$w")" = stopped ] || fail "a hibernated warm instance is $(state_of "$w")"
info=$(virsh_ dominfo "$w")
grep -q '^Managed save: *yes' <<<"$info" || fail "no managed save for $w: $info"
[ "$(count_console "$w" "vmmgr: instance $w ready")" = 1 ] || fail "the warm guest did not boot before it was saved"
ip=$(private_ip "$w")
[ -z "$(in_service)" ] || fail "a warm instance is listed in the group: $(in_service)"
ok "a Hibernated warm pool: its instance booted, then its memory was saved (stopped, managed save)"

t0=$(date +%s%N)
as set-desired-capacity --auto-scaling-group-name web --desired-capacity 1 || fail "set-desired-capacity 1"
for _ in $(seq 120); do [ "$(in_service)" = "$w" ] && break; sleep 0.25; done
[ "$(in_service)" = "$w" ] || fail "the warm instance $w is not InService: $(in_service)"
for _ in $(seq 120); do in_ns ping -c 1 -W 1 "$ip" >/dev/null 2>&1 && break; done
in_ns ping -c 1 -W 2 "$ip" >/dev/null || fail "the resumed guest does not answer on $ip"
t1=$(date +%s%N)
[ "$(private_ip "$w")" = "$ip" ] || fail "the resumed guest's address changed"
[ "$(count_console "$w" "vmmgr: instance $w ready")" = 1 ] || fail "the guest booted again instead of resuming"
acts=$(as describe-scaling-activities --auto-scaling-group-name web --output json)
jq -e --arg i "$w" '[.Activities[] | select(.Description == "Launching a new EC2 instance from warm pool: " + $i and .StatusCode == "Successful")] | length == 1' <<<"$acts" >/dev/null ||
	fail "no activity for the scale-out from the pool: $acts"
ok "scale-out from the pool: $w InService and answering on $ip in $(((t1 - t0) / 1000000)) ms, resumed (one boot)"

# the pool is refilled: max(MinSize 1, 1 − 1) = 1
wait_pool Warmed:Hibernated 1 240
w2=$(pool | jq -r '.Instances[0].InstanceId')
[ "$w2" != "$w" ] || fail "the pool was not refilled"
ok "the pool is refilled after a scale-out"

# ReuseOnScaleIn: a scale-in returns the instance to the pool (stopped this time)
as put-warm-pool --auto-scaling-group-name web --pool-state Stopped --min-size 0 --max-group-prepared-capacity 2 \
	--instance-reuse-policy ReuseOnScaleIn=true || fail "put-warm-pool reuse"
as set-desired-capacity --auto-scaling-group-name web --desired-capacity 0 || fail "set-desired-capacity 0"
for _ in $(seq 240); do
	s=$(pool | jq -r --arg i "$w" '.Instances[] | select(.InstanceId == $i) | .LifecycleState')
	[ "$s" = Warmed:Stopped ] && break
	sleep 1
done
[ "$s" = Warmed:Stopped ] || fail "the scaled-in instance is '$s', not back in the pool: $(pool)"
[ -z "$(in_service)" ] || fail "still in service: $(in_service)"
ok "ReuseOnScaleIn: the scaled-in instance went back to the pool"

as delete-warm-pool --auto-scaling-group-name web || fail "delete-warm-pool"
for _ in $(seq 120); do
	r=$(as describe-warm-pool --auto-scaling-group-name web --output json)
	[ "$(jq '(.Instances | length) == 0 and (has("WarmPoolConfiguration") | not)' <<<"$r")" = true ] && break
	sleep 1
done
[ "$(jq '(.Instances | length) == 0 and (has("WarmPoolConfiguration") | not)' <<<"$r")" = true ] || fail "the warm pool stayed: $r"
for i in $w $w2; do
	for _ in $(seq 60); do domain_exists "$i" || break; sleep 1; done
	domain_exists "$i" && fail "domain $i left after delete-warm-pool"
done
as delete-auto-scaling-group --auto-scaling-group-name web --force-delete || fail "delete group"
for _ in $(seq 60); do [ "$(as describe-auto-scaling-groups --query 'length(AutoScalingGroups)')" = 0 ] && break; sleep 1; done
[ "$(as describe-auto-scaling-groups --query 'length(AutoScalingGroups)')" = 0 ] || fail "the group stayed"
ok "delete-warm-pool terminates its instances (no domain left); the group goes"
