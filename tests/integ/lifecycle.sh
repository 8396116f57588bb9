#!/bin/bash
# Two real instances from the tiny image: ready lines, describe and filters, stop (clean), start,
# reboot, forced stop, a guest kernel panic (the guest boots again), terminate (domain and overlay gone,
# record still visible).
. "$(dirname "$0")/lib.sh"
vm_init

quote="a<b>&c\"d'e"
mapfile -t ids < <(launch --count 2 --instance-type t3.nano \
	--tag-specifications "ResourceType=instance,Tags=[{Key=Name,Value=web},{Key=odd,Value=\"a<b>&c\\\"d'e\"}]")
[ "${#ids[@]}" = 2 ] || fail "expected 2 instances, got ${#ids[*]}"
a=${ids[0]} b=${ids[1]}
[[ "$a" =~ ^i-[0-9a-f]{17}$ ]] || fail "bad instance id '$a'"
vm wait instance-running --instance-ids "$a" "$b" || fail "wait instance-running"
wait_console "$a" "vmmgr: instance $a ready" 1
wait_console "$b" "vmmgr: instance $b ready" 1
ok "both instances booted and printed their ready lines"

# the domain: persistent, named by the id, TCG with a capped translation cache, our metadata
x=$(virsh_ dumpxml "$a")
grep -q "<domain type=\"qemu\"\|<domain type='qemu'" <<<"$x" || fail "domain type is not qemu under TCG"
grep -q "tb-cache" <<<"$x" || fail "no TCG translation cache cap"
grep -q "<total_iops_sec>3000</total_iops_sec>" <<<"$x" || fail "the gp3 root volume's IOPS limit is not on the root disk"
grep -q "<vmmgr:statedir>$S</vmmgr:statedir>" <<<"$x" || fail "no vmmgr metadata"
grep -q 'Persistent: *yes' <<<"$(virsh_ dominfo "$a")" || fail "domain is not persistent"
rv=$(vm describe-instances --instance-ids "$a" --query 'Reservations[0].Instances[0].BlockDeviceMappings[0].Ebs.VolumeId' --output text)
[[ "$rv" == vol-* ]] || fail "the root disk is not an EBS volume: '$rv'"
[ "$(vm describe-volumes --volume-ids "$rv" --query 'Volumes[0].State' --output text)" = in-use ] || fail "root volume not in-use"
disk="$S/volumes/$rv.qcow2"
info=$(qemu-img info -f qcow2 --output=json -U "$disk")
jq -e '."backing-filename-format" == "qcow2"' <<<"$info" >/dev/null || fail "overlay does not record its backing format"
[ "$(stat -c %s "$disk")" -lt $((4 * 1024 * 1024)) ] || fail "overlay is not small: a launch copied data"
expect_error OperationNotPermitted vm detach-volume --volume-id "$rv"
[ "$(stat -c %a "$S/state.db")" = 600 ] || fail "the state store (it holds API secrets) is readable by others"
ok "domain XML and copy-on-write overlay are as designed; the root disk is an EBS volume"

j=$(vm describe-instances --instance-ids "$a" --output json)
[ "$(jq -r '.Reservations[0].Instances[0].Tags[] | select(.Key == "odd") | .Value' <<<"$j")" = "$quote" ] ||
	fail "tag value did not round-trip: $(jq -c '.Reservations[0].Instances[0].Tags' <<<"$j")"
[ "$(jq -r '.Reservations[0].Instances[0].InstanceType' <<<"$j")" = t3.nano ] || fail "instance type"
n=$(vm describe-instances --filters Name=tag:Name,Values=web Name=instance-state-name,Values=running --output json |
	jq '[.Reservations[].Instances[]] | length')
[ "$n" = 2 ] || fail "tag and state filters found $n"
n=$(vm describe-instances --filters "Name=instance-id,Values=$b" --output json | jq '[.Reservations[].Instances[]] | length')
[ "$n" = 1 ] || fail "instance-id filter found $n"
n=$(vm describe-instances --filters Name=instance-type,Values=m5.large --output json | jq '[.Reservations[].Instances[]] | length')
[ "$n" = 0 ] || fail "instance-type filter found $n"
n=$(vm describe-instances --filters "Name=image-id,Values=$AMI" --output json | jq '[.Reservations[].Instances[]] | length')
[ "$n" = 2 ] || fail "image-id filter found $n"
grep -q "InstanceId *$a" <<<"$(vm describe-instances --output table)" || fail "table output lacks the instance"
grep -q "^INSTANCES.*$a" <<<"$(vm describe-instances --output text)" || fail "text output lacks the instance"
q=$(vm describe-instances --query 'Reservations[].Instances[].InstanceId' --output text)
[ "$q" = "$a	$b" ] || fail "--query projection gave '$q'"
[ "$(vm describe-instances --instance-ids "$a" --query 'Reservations[0].Instances[0].State.Name' --output text)" = running ] ||
	fail "--query index path"
ok "describe-instances: filters, the three output formats and --query"

# a third guest whose kernel panics once, from its user-data (which runs once per instance)
p=$(launch --instance-type t2.micro --user-data $'#!/bin/sh\nsync\necho c > /proc/sysrq-trigger')

vm stop-instances --instance-ids "$a" --output json | jq -e '.StoppingInstances[0].CurrentState.Name == "stopping"' >/dev/null ||
	fail "stop did not report stopping"
vm wait instance-stopped --instance-ids "$a" || fail "wait instance-stopped"
[ "$(domain_state "$a")" = "shut off" ] || fail "domain not shut off after stop"
grep -q "vmmgr: shutting down" <<<"$(console "$a")" || fail "the guest was not shut down cleanly"
ok "stop: clean guest shutdown, stopped"

# with VMMGR_TRACE, the command and its job say where their time went (bench/launch.sh uses it)
VMMGR_TRACE=1 vm start-instances --instance-ids "$a" >/dev/null 2>"$T/trace"
vm wait instance-running --instance-ids "$a" || fail "wait instance-running after start"
wait_console "$a" "vmmgr: instance $a ready" 2
ok "start: the guest booted again"
grep -Eq '^vmmgr trace [0-9]+ [0-9.]+ \+[0-9.]+ dispatched StartInstances$' "$T/trace" ||
	fail "no step trace from the CLI: $(cat "$T/trace")"
grep -Eq "^vmmgr trace [0-9]+ [0-9.]+ \+[0-9.]+ domain $a: created$" "$S/jobs.log" ||
	fail "no step trace from the start's job"
! grep -q "vmmgr trace" <(vm describe-instances --instance-ids "$a" 2>&1 >/dev/null) ||
	fail "a step trace without VMMGR_TRACE"
ok "VMMGR_TRACE: the CLI's and the job's steps, only when asked"

vm reboot-instances --instance-ids "$a"
wait_console "$a" "vmmgr: instance $a ready" 3
expect_state "$a" running
ok "reboot: the guest booted a third time"

vm stop-instances --instance-ids "$b" --force --output json | jq -e '.StoppingInstances[0].CurrentState.Name == "stopped"' >/dev/null ||
	fail "forced stop did not stop at once"
[ "$(domain_state "$b")" = "shut off" ] || fail "domain not shut off after forced stop"
expect_error IncorrectInstanceState vm reboot-instances --instance-ids "$b"
ok "forced stop; reboot of a stopped instance refused"

# panic=1 and on_reboot=restart: a guest whose kernel panics (as a TCG guest starved by a loaded
# host can, in the kernel's early timer check) boots again instead of hanging
wait_console "$p" "vmmgr: instance $p ready" 2
grep -q "Kernel panic - not syncing: sysrq triggered crash" <<<"$(console "$p")" || fail "the guest did not panic"
expect_state "$p" running
vm terminate-instances --instance-ids "$p" >/dev/null
ok "a guest kernel panic: the guest rebooted and was ready again"

# as on EC2, the answer is shutting-down at once; the teardown is a job's
vm terminate-instances --instance-ids "$a" "$b" --output json |
	jq -e '[.TerminatingInstances[].CurrentState.Name] == ["shutting-down", "shutting-down"]' >/dev/null || fail "terminate"
vm wait instance-terminated --instance-ids "$a" "$b" "$p" || fail "wait instance-terminated"
for i in "$a" "$b"; do
	! domain_exists "$i" || fail "domain $i still exists"
	[ ! -e "$S/instances/$i" ] || fail "files of $i remain: $(ls "$S/instances/$i")"
done
expect_error InvalidVolume.NotFound vm describe-volumes --volume-ids "$rv"
[ ! -e "$disk" ] || fail "the root volume's file remains"
n=$(vm describe-instances --filters Name=instance-state-name,Values=terminated --output json | jq '[.Reservations[].Instances[]] | length')
[ "$n" = 3 ] || fail "terminated instances are not visible (found $n)"
expect_error IncorrectInstanceState vm start-instances --instance-ids "$a"
expect_error IncorrectInstanceState vm stop-instances --instance-ids "$a"
vm terminate-instances --instance-ids "$a" >/dev/null || fail "terminating a terminated instance is not idempotent"
ok "terminate: domains and overlays gone, records visible as terminated"

# a terminate while the launch's job still makes the domain does not wait for it: the answer is
# shutting-down, and the launch's job tears the instance down when it is done with it
c=$(launch)
vm terminate-instances --instance-ids "$c" --output json |
	jq -e '.TerminatingInstances[0].CurrentState.Name == "shutting-down"' >/dev/null || fail "terminate while launching"
vm wait instance-terminated --instance-ids "$c" || fail "an instance terminated while launching did not end terminated"
! domain_exists "$c" || fail "the domain of $c, terminated while launching, still exists"
[ ! -e "$S/instances/$c" ] || fail "files of $c remain: $(ls "$S/instances/$c")"
ok "terminate during the launch: shutting-down at once, then terminated and nothing left"
