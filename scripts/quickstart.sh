#!/bin/bash
# The main job, on a fresh Debian 12 machine as root: install what is missing, build and install
# vmmgr, make sure libvirtd runs, initialise vmmgr, launch an instance from the tiny image, wait
# until it is ready, show it, and say how to stop everything.
#
#   scripts/quickstart.sh         launch the quickstart instance, or show the one a previous run left
#                                 (started again if it was stopped)
#   scripts/quickstart.sh --new   launch another one even if one exists
#   scripts/quickstart.sh stop    terminate the quickstart's instances and stop the libvirtd it started
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export PATH=/usr/local/bin:$PATH

if [ "${1:-}" = stop ]; then
	bin=${VMMGR_BIN:-$(command -v vmmgr || echo "$top/vmmgr/vmmgr")}
	vmmgr() { "$bin" "$@"; }
	if [ -f "${VMMGR_STATE_DIR:-/var/lib/vmmgr}/state.db" ] &&
		virsh -c qemu:///system version >/dev/null 2>&1; then
		ids=$(vmmgr describe-instances --filters Name=tag:Name,Values=quickstart \
			Name=instance-state-name,Values=pending,running,stopping,stopped --output json |
			jq -r '.Reservations[].Instances[].InstanceId')
		if [ -n "$ids" ]; then
			vmmgr terminate-instances --instance-ids $ids >/dev/null
			vmmgr wait instance-terminated --instance-ids $ids
			echo "terminated" $ids
		fi
	fi
	exec "$top/scripts/libvirtd.sh" stop
fi
new=false
[ "${1:-}" = --new ] && new=true

"$top/scripts/deps.sh"
"$top/scripts/build.sh"
make -s install >/dev/null
"$top/scripts/libvirtd.sh" start

vmmgr init
ami=$(vmmgr describe-images --filters Name=name,Values=vmmgr-tiny --output json | jq -r '.Images[0].ImageId')
id=""
if ! $new; then
	id=$(vmmgr describe-instances --filters Name=tag:Name,Values=quickstart \
		Name=instance-state-name,Values=pending,running,stopping,stopped --output json |
		jq -r '[.Reservations[].Instances[]] | sort_by(.LaunchTime) | last | .InstanceId // empty')
fi
if [ -n "$id" ]; then
	state=$(vmmgr describe-instances --instance-ids "$id" --query 'Reservations[0].Instances[0].State.Name' --output text)
	echo "the quickstart instance $id from an earlier run is $state (scripts/quickstart.sh --new launches another)"
	case "$state" in
	stopping) vmmgr wait instance-stopped --instance-ids "$id"; vmmgr start-instances --instance-ids "$id" >/dev/null ;;
	stopped) vmmgr start-instances --instance-ids "$id" >/dev/null ;;
	esac
	boots_before=$(vmmgr get-console-output --instance-id "$id" --output json | jq -r .Output | grep -c "vmmgr: instance $id ready" || true)
	[ "$state" = running ] || [ "$state" = pending ] || boots_before=$((boots_before + 1))
else
	id=$(vmmgr run-instances --image-id "$ami" --instance-type t3.micro \
		--tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=quickstart}]' --output json |
		jq -r '.Instances[0].InstanceId')
	echo "launched $id; waiting for it to run and print its ready line"
	boots_before=1
fi
[ "$boots_before" -ge 1 ] || boots_before=1
vmmgr wait instance-running --instance-ids "$id"
for _ in $(seq 240); do
	n=$(vmmgr get-console-output --instance-id "$id" --output json | jq -r .Output | grep -c "vmmgr: instance $id ready" || true)
	[ "$n" -ge "$boots_before" ] && break
	sleep 0.5
done
vmmgr describe-instances --instance-ids "$id"
echo
echo "console:"
vmmgr get-console-output --instance-id "$id" --output json | jq -r .Output | grep "vmmgr: instance $id ready" | tail -n 1 ||
	{ echo "the ready line did not appear within 120 s" >&2; exit 1; }
echo
echo "Terminate it with:        vmmgr terminate-instances --instance-ids $id"
echo "Stop everything it started (its instances, and the libvirtd if this script started one):"
echo "                          $top/scripts/quickstart.sh stop"
