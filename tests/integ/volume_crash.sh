#!/bin/bash
# A CLI killed (-9) in the middle of create-volume, attach-volume and delete-volume: the next
# command settles each volume from what really exists, and no file is left without an owner.
. "$(dirname "$0")/lib.sh"
vm_init

a=$(launch)
wait_console "$a" "vmmgr: instance $a ready" 1
root=$(ls "$S/volumes")

crash() { # STEP COMMAND…: the command must die at STEP
	local step=$1 rc=0
	shift
	VMMGR_TEST_CRASH_AT=$step "$@" >/dev/null 2>&1 || rc=$?
	[ "$rc" = 137 ] || fail "'$*' did not die at $step (exit $rc)"
}

crash volume-recorded vm create-volume --size 1 --client-token crashed
[ "$(vm describe-volumes --query 'Volumes[].VolumeId' --output text | wc -w)" = 1 ] || fail "a half-created volume is visible"
[ "$(ls "$S/volumes")" = "$root" ] || fail "a half-created volume left a file: $(ls "$S/volumes")"
v=$(vm create-volume --size 1 --client-token crashed --query VolumeId --output text)
[[ "$v" == vol-* ]] || fail "the client's retry with its token did not create the volume"
ok "killed while creating: the volume is dropped, the client's retry makes it"

crash volume-attaching vm attach-volume --volume-id "$v" --instance-id "$a" --device /dev/sdf
[ "$(vm describe-volumes --volume-ids "$v" --query 'Volumes[0].State' --output text)" = available ] ||
	fail "killed before the hotplug: not available again"
! grep -q "$v" <<<"$(virsh_ dumpxml --inactive "$a")" || fail "the domain has the volume it was never given"
crash volume-attached vm attach-volume --volume-id "$v" --instance-id "$a" --device /dev/sdf
[ "$(vm describe-volumes --volume-ids "$v" --query 'Volumes[0].Attachments[0].State' --output text)" = attached ] ||
	fail "killed after the hotplug: not attached"
wait_console "$a" "serial vol${v#vol-}" 1 60
ok "killed before and after the hotplug: available, then attached, as the domain says"

vm detach-volume --volume-id "$v" >/dev/null
vm wait volume-available --volume-ids "$v"
crash snapshot-copying vm create-snapshot --volume-id "$v"
[ "$(vm describe-snapshots --query 'Snapshots[0].State' --output text)" = error ] || fail "a snapshot killed mid-copy is not in error"
[ -z "$(ls "$S/snapshots")" ] || fail "a snapshot killed mid-copy left its file: $(ls "$S/snapshots")"
s=$(vm create-snapshot --volume-id "$v" --query SnapshotId --output text)
vm wait snapshot-completed --snapshot-ids "$s" || fail "snapshot after repair"
ok "killed while copying a snapshot: error, no partial file; the next snapshot completes"

crash volume-deleting vm delete-volume --volume-id "$v"
expect_error InvalidVolume.NotFound vm describe-volumes --volume-ids "$v"
[ "$(ls "$S/volumes")" = "$root" ] || fail "the deleted volume left its file"
ok "killed while deleting: the delete completes"
