#!/bin/bash
# A CLI killed (-9) at each step of a launch, and during a terminate: the next command repairs it.
# Launches roll forward to a running, ready guest; a terminate completes; nothing is orphaned.
. "$(dirname "$0")/lib.sh"
vm_init

declare -A crashed
for step in recorded disk defined started; do
	rc=0
	VMMGR_TEST_CRASH_AT=$step vm run-instances --image-id "$AMI" --output json >/dev/null 2>&1 || rc=$?
	[ "$rc" = 137 ] || fail "run-instances did not die at '$step' (exit $rc)"
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
rc=0
VMMGR_TEST_CRASH_AT=terminating vm terminate-instances --instance-ids "$victim" >/dev/null 2>&1 || rc=$?
[ "$rc" = 137 ] || fail "terminate did not die (exit $rc)"
expect_state "$victim" terminated
! domain_exists "$victim" || fail "domain of $victim survived the repaired terminate"
[ ! -e "$S/instances/$victim" ] || fail "files of $victim survived the repaired terminate"
ok "a terminate killed half-way is completed by the next command"

vm terminate-instances --instance-ids "${crashed[@]}" >/dev/null
for id in "${crashed[@]}"; do ! domain_exists "$id" || fail "domain $id left"; done
[ -z "$(ls "$S/instances")" ] || fail "files left: $(ls "$S/instances")"
[ -z "$(ls "$S/volumes")" ] || fail "root volumes left: $(ls "$S/volumes")"
ok "all gone after terminate"
