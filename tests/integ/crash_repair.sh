#!/bin/bash
# A CLI killed (-9) at each step of a launch, and during a terminate: the next command repairs it.
# The request records the launch and answers pending; the disks, the domain and its start are its
# job's (vmmgr/core/job.h), so from 'disk' on it is the job that is killed, after the answer.
# Launches roll forward to a running, ready guest; a terminate completes; nothing is orphaned.
. "$(dirname "$0")/lib.sh"
vm_init

# job_died STEP: until the job says it is killed at STEP (vm_crash_point writes it to jobs.log)
job_died() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(grep -c "vmmgr: test crash at $1" "$S/jobs.log" 2>/dev/null)" -gt "${2:-0}" ] && return 0
		sleep 0.1
	done
	fail "no job was killed at '$1'"
}

# One vCPU each (t2.micro): four guests boot at once here, beside another test's, under TCG on two
# cores.  With two each, one guest in the 2026-12-06 CI run stayed silent for 120 s, halted with its
# console empty; what is tested here is the repair, not the guests' SMP.
declare -A crashed
for step in recorded disk defined started; do
	rc=0
	before=$(grep -c "vmmgr: test crash at $step" "$S/jobs.log" 2>/dev/null || true)
	out=$(VMMGR_TEST_CRASH_AT=$step vm run-instances --image-id "$AMI" --instance-type t2.micro --output json 2>/dev/null) || rc=$?
	if [ "$step" = recorded ]; then
		[ "$rc" = 137 ] || fail "run-instances did not die at '$step' (exit $rc)"
	else
		[ "$rc" = 0 ] && [ "$(jq -r '.Instances[0].State.Name' <<<"$out")" = pending ] ||
			fail "run-instances did not answer pending before its job died at '$step' (exit $rc)"
		job_died "$step" "${before:-0}"
	fi
	# the killed process left a pending record; nothing has repaired it yet
	id=$(vm describe-instances --filters Name=instance-state-name,Values=pending,running --output json |
		jq -r --argjson seen "$(printf '%s\n' "${crashed[@]:-}" | jq -R . | jq -s .)" \
			'[.Reservations[].Instances[].InstanceId] - $seen | .[0]')
	[[ "$id" == i-* ]] || fail "no record of the launch killed at '$step'"
	crashed[$step]=$id
done
ok "killed at recorded, disk, defined and started: each left a record"

# any command repaired them (describe above ran reconcile): every launch rolled forward
for step in "${!crashed[@]}"; do
	id=${crashed[$step]}
	vm wait instance-running --instance-ids "$id" || fail "launch killed at '$step' did not become running"
	wait_console "$id" "vmmgr: instance $id ready" 1
	domain_exists "$id" || fail "no domain for $id"
done
ok "every interrupted launch finished: running and ready"

n_dom=$(virsh_ list --all --name | grep -c '^i-' || true)
for id in "${crashed[@]}"; do
	[ "$(ls "$S/instances/$id" | tr '\n' ' ')" = "cidata.iso console.log " ] ||
		fail "unexpected files for $id: $(ls "$S/instances/$id")"
done
[ "$(ls "$S/instances" | wc -l)" = 4 ] || fail "stray instance directories: $(ls "$S/instances")"
[ "$(ls "$S/volumes" | wc -l)" = 4 ] || fail "expected 4 root volumes: $(ls "$S/volumes")"
ok "one disk, one config drive and one console per instance, no strays"

# killed in the middle of a terminate: the instance stays shutting-down until the next command
victim=${crashed[disk]}
VMMGR_TEST_CRASH_AT=terminating vm terminate-instances --instance-ids "$victim" --output json |
	jq -e '.TerminatingInstances[0].CurrentState.Name == "shutting-down"' >/dev/null ||
	fail "terminate did not answer shutting-down"
job_died terminating
vm wait instance-terminated --instance-ids "$victim" || fail "the terminate killed half-way was not completed"
! domain_exists "$victim" || fail "domain of $victim survived the repaired terminate"
[ ! -e "$S/instances/$victim" ] || fail "files of $victim survived the repaired terminate"
ok "a terminate killed half-way is completed by the next command"

vm terminate-instances --instance-ids "${crashed[@]}" >/dev/null
vm wait instance-terminated --instance-ids "${crashed[@]}"
for id in "${crashed[@]}"; do ! domain_exists "$id" || fail "domain $id left"; done
[ -z "$(ls "$S/instances")" ] || fail "files left: $(ls "$S/instances")"
[ -z "$(ls "$S/volumes")" ] || fail "root volumes left: $(ls "$S/volumes")"
ok "all gone after terminate"
