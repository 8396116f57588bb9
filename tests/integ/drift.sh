#!/bin/bash
# Drift between the store and libvirt, made behind vmmgr's back with virsh, is repaired:
# destroyed → stopped (never restarted); started → running; undefined → defined again (stopped);
# a domain of ours with no record (store restored from an older copy) → adopted; a stray
# directory → removed.
. "$(dirname "$0")/lib.sh"
vm_init
cp "$S/state.db" "$T/state-before-launch.db"

id=$(launch)
vm wait instance-running --instance-ids "$id"
wait_console "$id" "vmmgr: instance $id ready" 1

virsh_ destroy "$id" >/dev/null
expect_state "$id" stopped
reason=$(vm describe-instances --instance-ids "$id" --output json | jq -r '.Reservations[0].Instances[0].StateReason.Code')
[ "$reason" = Client.InstanceInitiatedShutdown ] || fail "stop behind our back has reason '$reason'"
sleep 2
vm describe-instances >/dev/null
[ "$(domain_state "$id")" = "shut off" ] || fail "vmmgr restarted a guest that was stopped behind its back"
expect_state "$id" stopped
ok "virsh destroy: reported stopped, not restarted"

virsh_ start "$id" >/dev/null
expect_state "$id" running
ok "virsh start: reported running"

virsh_ destroy "$id" >/dev/null
virsh_ undefine "$id" >/dev/null
expect_state "$id" stopped
domain_exists "$id" || fail "the undefined domain was not defined again"
vm start-instances --instance-ids "$id" >/dev/null
vm wait instance-running --instance-ids "$id"
wait_console "$id" "vmmgr: instance $id ready" 2
ok "virsh undefine: defined again from the store, startable"

# a store restored from a copy taken before the launch knows nothing of the instance
cp "$T/state-before-launch.db" "$S/state.db"
rm -f "$S/state.db-wal" "$S/state.db-shm"
expect_state "$id" running
[ "$(vm describe-instances --output json | jq -r '.Reservations[0].Instances[0].ImageId')" = "$AMI" ] ||
	fail "adopted instance lost its image"
ok "a domain with our metadata and no record is adopted"

mkdir -p "$S/instances/i-0123456789abcdef0"
touch "$S/instances/i-0123456789abcdef0/root.qcow2"
vm describe-images >/dev/null
[ ! -e "$S/instances/i-0123456789abcdef0" ] || fail "stray instance directory was not removed"
ok "a directory no record owns is removed"

vm terminate-instances --instance-ids "$id" >/dev/null
vm wait instance-terminated --instance-ids "$id"
! domain_exists "$id" || fail "domain left after terminate"
ok "terminated"
