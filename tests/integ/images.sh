#!/bin/bash
# Images: import (qcow2 and raw, direct boot) with the checks that keep host files out (backing
# file, external data file, a raw file carrying a qcow2 header), create-image from an instance
# whose files the new instances see, deregister refused while an instance uses the image.
. "$(dirname "$0")/lib.sh"
vm_init
B="$S/images/$AMI"

# malicious or mislabelled disks: refused, nothing registered, no file left
qemu-img create -q -f qcow2 -F raw -b /etc/shadow "$T/backing.qcow2"
qemu-img create -q -f qcow2 -o data_file="$T/data.raw" "$T/datafile.qcow2" 1M
cp "$T/backing.qcow2" "$T/header.raw"
expect_error InvalidParameterValue vm import-image --file "$T/backing.qcow2" --format qcow2 --name evil-backing
expect_error InvalidParameterValue vm import-image --file "$T/datafile.qcow2" --format qcow2 --name evil-data-file
expect_error InvalidParameterValue vm import-image --file "$T/header.raw" --format raw --name evil-raw-header
expect_error InvalidParameterValue vm import-image --file "$T/header.raw" --format vmdk --name bad-format
expect_error MissingParameter vm import-image --file "$T/header.raw" --name no-format
expect_error InvalidAMIName.Malformed vm import-image --file "$B/root.qcow2" --format qcow2 --name 'a<b'
[ "$(vm describe-images --output json | jq '.Images | length')" = 1 ] || fail "a refused import registered an image"
[ "$(ls "$S/images")" = "$AMI" ] || fail "a refused import left files: $(ls "$S/images")"
ok "backing file, data file, raw file with a qcow2 header, bad format and name: refused, nothing left"

# a raw import of the tiny root disk, booted directly with its kernel
qemu-img convert -f qcow2 -O raw "$B/root.qcow2" "$T/root.raw"
imp=$(vm import-image --file "$T/root.raw" --format raw --name "tiny raw import" --boot direct \
	--kernel "$B/vmlinux" --ramdisk "$B/initrd.img" --output json | jq -r .ImageId)
vm wait image-available --image-ids "$imp" || fail "wait image-available"
[ "$(qemu-img info -f qcow2 --output=json "$S/images/$imp/root.qcow2" | jq -r .format)" = qcow2 ] || fail "base is not qcow2"
expect_error InvalidAMIName.Duplicate vm import-image --file "$T/root.raw" --format raw --name "tiny raw import" \
	--boot direct --kernel "$B/vmlinux" --ramdisk "$B/initrd.img"
a=$(launch --user-data '#!/bin/sh
echo "made by the first instance" > /root/marker
sync
echo marker-written')
b=$(vm run-instances --image-id "$imp" --output json | jq -r '.Instances[0].InstanceId')
wait_console "$a" "vmmgr: user-data exited 0" 1
wait_console "$b" "vmmgr: instance $b ready" 1
ok "a raw import boots"

# create-image: the guest is shut down for a consistent copy and started again, after the answer.
# The domain's id (a new one at each start) tells whether the answer waited for the guest: the
# QEMU that ran before the request still runs right after it, and another one runs at the end.
id0=$(virsh_ domid "$a")
t0=$(date +%s%N)
new=$(vm create-image --instance-id "$a" --name "from $a" --output json | jq -r .ImageId)
id1=$(virsh_ domid "$a" 2>/dev/null || echo off)
ms=$((($(date +%s%N) - t0) / 1000000))
[[ "$new" == ami-* ]] || fail "create-image gave '$new'"
[ "$(vm describe-images --image-ids "$new" --query 'Images[0].State' --output text)" = pending ] ||
	fail "create-image waited for the copy"
[ "$id1" = "$id0" ] || fail "create-image waited for the guest: right after the answer its domain is '$id1', not the running $id0"
vm wait image-available --image-ids "$new"
wait_console "$a" "vmmgr: instance $a ready" 2
expect_state "$a" running
[ "$(virsh_ domid "$a")" != "$id0" ] || fail "the guest was not shut down for the copy (domain $id0 still runs)"
c=$(vm run-instances --image-id "$new" --user-data '#!/bin/sh
echo "marker: $(cat /root/marker)"' --output json | jq -r '.Instances[0].InstanceId')
wait_console "$c" "vmmgr: user-data exited 0" 1
grep -q "marker: made by the first instance" <<<"$(console "$c")" || fail "the new image lacks the file: $(console "$c")"
ok "create-image answers 'pending' in $ms ms; instances of the new image see what the original wrote; the original runs again"

# a larger root volume: the overlay grows and the guest's root file system with it
big=$(launch --block-device-mappings 'DeviceName=/dev/vda,Ebs={VolumeSize=3,DeleteOnTermination=false}' --user-data '#!/bin/sh
echo "root-kib: $(df -k / | awk "NR == 2 {print \$2}")"')
wait_console "$big" "vmmgr: user-data exited 0" 1
kib=$(console "$big" | sed -n 's/^root-kib: \([0-9]*\).*/\1/p')
[ -n "$kib" ] && [ "$kib" -gt $((2800 * 1024)) ] || fail "root file system is ${kib:-?} KiB, not about 3 GiB"
rv=$(vm describe-instances --instance-ids "$big" --query 'Reservations[0].Instances[0].BlockDeviceMappings[0].Ebs.VolumeId' --output text)
[ "$(vm describe-volumes --volume-ids "$rv" --query 'Volumes[0].Size' --output text)" = 3 ] || fail "root volume is not 3 GiB in describe-volumes"
[ "$(qemu-img info -f qcow2 -U --output=json "$S/volumes/$rv.qcow2" | jq '."virtual-size"')" = $((3 << 30)) ] ||
	fail "root overlay is not 3 GiB"
expect_error InvalidBlockDeviceMapping vm run-instances --image-id "$AMI" --block-device-mappings 'DeviceName=/dev/sdf,Ebs={VolumeSize=3}'
expect_error InvalidParameterValue vm run-instances --image-id "$AMI" --block-device-mappings 'DeviceName=/dev/vda,Ebs={VolumeSize=0}'
vm terminate-instances --instance-ids "$big" >/dev/null
vm wait instance-terminated --instance-ids "$big"
[ "$(vm describe-volumes --volume-ids "$rv" --query 'Volumes[0].State' --output text)" = available ] ||
	fail "a root volume with DeleteOnTermination=false did not outlive its instance"
expect_error InvalidParameterValue vm deregister-image --image-id "$AMI"
vm delete-volume --volume-id "$rv"
ok "a 3 GiB root volume: overlay and file system are 3 GiB; kept after terminate when asked; bad mappings refused"

# the new AMI's root is a snapshot of the instance's root volume, as on EC2
snap=$(vm describe-images --image-ids "$new" --query 'Images[0].BlockDeviceMappings[0].Ebs.SnapshotId' --output text)
[[ "$snap" == snap-* ]] || fail "create-image registered no snapshot: $snap"
[ "$(vm describe-snapshots --snapshot-ids "$snap" --query 'Snapshots[0].State' --output text)" = completed ] ||
	fail "the image's snapshot is not completed"
expect_error InvalidSnapshot.InUse vm delete-snapshot --snapshot-id "$snap"
ok "create-image registers a snapshot of the root volume behind the AMI; delete-snapshot refuses it while the AMI exists"

expect_error InvalidParameterValue vm deregister-image --image-id "$new"
vm terminate-instances --instance-ids "$c" >/dev/null
vm wait instance-terminated --instance-ids "$c"
vm deregister-image --image-id "$new"
expect_error InvalidAMIID.NotFound vm describe-images --image-ids "$new"
expect_error InvalidAMIID.NotFound vm run-instances --image-id "$new"
# the snapshot stays (EC2 keeps it too) and can be restored, then deleted with its file
restored=$(vm create-volume --snapshot-id "$snap" --query VolumeId --output text)
vm wait volume-available --volume-ids "$restored"
vm delete-volume --volume-id "$restored"
vm delete-snapshot --snapshot-id "$snap"
[ ! -e "$S/images/$new" ] || fail "deregister and delete-snapshot left the files of $new"
ok "deregister: refused while an instance uses it, then the id unknown; its snapshot outlives it until deleted"
