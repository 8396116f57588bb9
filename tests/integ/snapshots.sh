#!/bin/bash
# Snapshots on real guests: a snapshot of an attached volume taken while its guest has it mounted,
# then more written; the snapshot restored into a new, larger volume holds the data of the moment
# of the snapshot, seen by another instance.
. "$(dirname "$0")/lib.sh"
vm_init

v=$(vm create-volume --size 1 --query VolumeId --output text)
t=$(vm create-volume --size 1 --query VolumeId --output text)
sv="vol${v#vol-}" st="vol${t#vol-}"
# the guest writes "before", and "after" once a second (trigger) disk appears
a=$(launch --user-data "#!/bin/sh
serial() { for d in /sys/block/vd*; do [ \"\$(cat \$d/serial 2>/dev/null)\" = \$1 ] && echo /dev/\${d##*/}; done; }
until [ -n \"\$(serial $sv)\" ]; do sleep 1; done
dev=\$(serial $sv)
mke2fs -q \$dev && mount \$dev /mnt && echo before > /mnt/data && sync
echo vmmgr-test: phase1
until [ -n \"\$(serial $st)\" ]; do sleep 1; done
echo after > /mnt/data && sync
echo vmmgr-test: phase2")
wait_console "$a" "vmmgr: instance $a ready" 1
vm attach-volume --volume-id "$v" --instance-id "$a" --device /dev/sdf >/dev/null
wait_console "$a" "vmmgr-test: phase1" 1 60

s=$(vm create-snapshot --volume-id "$v" --description "while mounted" --query SnapshotId --output text)
[[ "$s" =~ ^snap-[0-9a-f]{17}$ ]] || fail "create-snapshot gave '$s'"
vm wait snapshot-completed --snapshot-ids "$s" || fail "wait snapshot-completed"
[ "$(vm describe-snapshots --filters "Name=volume-id,Values=$v" --query 'Snapshots[0].Progress' --output text)" = "100%" ] ||
	fail "describe-snapshots progress"
vm attach-volume --volume-id "$t" --instance-id "$a" --device /dev/sdg >/dev/null
wait_console "$a" "vmmgr-test: phase2" 1 60
expect_state "$a" running
ok "snapshot of a mounted volume while the guest runs; the guest then wrote more"

r=$(vm create-volume --snapshot-id "$s" --size 2 --query VolumeId --output text)
[ "$(vm describe-volumes --volume-ids "$r" --query 'Volumes[0].SnapshotId' --output text)" = "$s" ] || fail "SnapshotId"
expect_error InvalidParameterValue vm create-volume --snapshot-id "$s" --size 0
expect_error InvalidSnapshot.NotFound vm create-volume --snapshot-id snap-0123456789abcdef0
sr="vol${r#vol-}"
b=$(launch --user-data "#!/bin/sh
until for d in /sys/block/vd*; do [ \"\$(cat \$d/serial 2>/dev/null)\" = $sr ] && dev=/dev/\${d##*/} && break; done; [ -n \"\$dev\" ]; do sleep 1; done
mount -o ro \$dev /mnt
echo \"vmmgr-test: read \$(cat /mnt/data)\"")
wait_console "$b" "vmmgr: instance $b ready" 1
vm attach-volume --volume-id "$r" --instance-id "$b" --device /dev/sdf >/dev/null
wait_console "$b" "vmmgr-test: read" 1 60
grep -q "vmmgr-test: read before" <<<"$(console "$b")" || fail "the restored volume does not hold the snapshot's data: $(console "$b" | grep vmmgr-test)"
# the guest's disk watcher polls on its own second: wait for its line rather than race it
wait_console "$b" "2097152 KiB, serial $sr" 1 30
ok "the snapshot restored into a larger volume holds the data of the moment of the snapshot"

c=$(vm copy-snapshot --source-snapshot-id "$s" --query SnapshotId --output text)
vm wait snapshot-completed --snapshot-ids "$c" || fail "the copy did not complete"
vm delete-snapshot --snapshot-id "$s"
expect_error InvalidSnapshot.NotFound vm describe-snapshots --snapshot-ids "$s"
[ "$(vm describe-snapshots --query 'Snapshots[].SnapshotId' --output text)" = "$c" ] || fail "copy-snapshot"
ok "copy-snapshot and delete-snapshot"

# on a terminal, a snapshot of an attached volume shows its progress; piped, nothing but the result
out=$(script -qec "$VM_BIN --state-dir $S create-snapshot --volume-id $r --query SnapshotId --output text" /dev/null | tr '\r' '\n')
grep -qE '^snap-[0-9a-f]+: 100%' <<<"$out" || fail "no progress on a terminal: $out"
out=$(vm create-snapshot --volume-id "$r" --query SnapshotId --output text 2>&1)
[[ "$out" =~ ^snap-[0-9a-f]+$ ]] || fail "progress printed without a terminal: $out"
ok "create-snapshot shows its progress on a terminal only"
