#!/bin/bash
# The main job, on a fresh Debian 12 machine as root: install what is missing, build and install
# vmmgr, make sure libvirtd runs, initialise vmmgr, launch an instance from the tiny image, wait
# until it is ready, show it, and say how to terminate it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/scripts/deps.sh"
"$top/scripts/build.sh"
make -s install >/dev/null
"$top/scripts/libvirtd.sh"

export PATH=/usr/local/bin:$PATH
vmmgr init
ami=$(vmmgr describe-images --filters Name=name,Values=vmmgr-tiny --output json | jq -r '.Images[0].ImageId')
id=$(vmmgr run-instances --image-id "$ami" --instance-type t3.micro \
	--tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=quickstart}]' --output json |
	jq -r '.Instances[0].InstanceId')
echo "launched $id; waiting for it to run and print its ready line"
vmmgr wait instance-running --instance-ids "$id"
for _ in $(seq 240); do
	vmmgr get-console-output --instance-id "$id" --output json | jq -r .Output | grep -q "vmmgr: instance $id ready" && break
	sleep 0.5
done
vmmgr describe-instances --instance-ids "$id"
echo
echo "console:"
vmmgr get-console-output --instance-id "$id" --output json | jq -r .Output | grep "vmmgr: instance $id ready" ||
	{ echo "the ready line did not appear within 120 s" >&2; exit 1; }
echo
echo "Terminate it with:  vmmgr terminate-instances --instance-ids $id"
