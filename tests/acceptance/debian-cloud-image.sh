#!/bin/bash
# Acceptance (slow, not in CI): a real Debian 12 cloud image built from Debian packages
# (images/debian/build.sh), imported into vmmgr and booted; stock cloud-init must pick up the
# config drive: the hostname, the key pair for the default user, and user-data.  A second instance
# launched without a drive (tag vmmgr:datasource=imds) must get the same from the metadata service
# at 169.254.169.254 through cloud-init's EC2 datasource (chosen by the domain's SMBIOS strings).
#
#   tests/acceptance/debian-cloud-image.sh [IMAGE_DIR]
#
# IMAGE_DIR holds a previous build (debian-12.qcow2, vmlinuz, initrd.img); it is built when empty.
# Starts the test harness's libvirtd when none runs.  Takes about 10 minutes under TCG.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
img=${1:-/var/cache/vmmgr/debian-12}
"$top/scripts/deps.sh"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
"$top/scripts/build.sh"
[ -f "$img/debian-12.qcow2" ] || "$top/images/debian/build.sh" "$img"

run=$(mktemp -d /tmp/vmmgr-acc-harness.XXXXXX)
"$top/tests/harness/libvirtd-netns.sh" start "$run"
export VMMGR_TEST_RUN=$run VMMGR_BIN="$top/vmmgr/vmmgr" VMMGR_IMAGES_DIR="$top/images/tiny"
. "$top/tests/integ/lib.sh"
stop_harness() { cleanup; [ -z "$run" ] || { "$top/tests/harness/libvirtd-netns.sh" stop "$run"; rm -rf "$run"; }; }
trap stop_harness EXIT
vm_init
SERVE_ARGS="--metrics-interval 0"
. "$top/tests/integ/serve.sh"  # the metadata service runs beside `vmmgr serve`
trap 'stop_serve; stop_harness' EXIT

deb=$(vm import-image --file "$img/debian-12.qcow2" --format qcow2 --name debian-12 --boot direct \
	--kernel "$img/vmlinuz" --ramdisk "$img/initrd.img" --query ImageId --output text)
vm create-key-pair --key-name deb --key-type ed25519 --query KeyMaterial --output text > "$T/deb.pem"
chmod 600 "$T/deb.pem"
pub=$(ssh-keygen -y -f "$T/deb.pem" | awk '{print $2}')
id=$(vm run-instances --image-id "$deb" --instance-type t3.small --key-name deb \
	--block-device-mappings 'DeviceName=/dev/vda,Ebs={VolumeSize=4}' --user-data '#!/bin/sh
echo "DEBIAN-USER-DATA host=$(hostname) keys=$(cat /home/debian/.ssh/authorized_keys | wc -l)"
grep -c "'"$pub"'" /home/debian/.ssh/authorized_keys | sed "s/^/KEY-MATCHES=/"
df -k / | awk "NR == 2 {print \"ROOT-KIB=\" \$2}"' --query 'Instances[0].InstanceId' --output text)
ec2=$(vm run-instances --image-id "$deb" --instance-type t3.small --key-name deb \
	--tag-specifications 'ResourceType=instance,Tags=[{Key=vmmgr:datasource,Value=imds}]' \
	--block-device-mappings 'DeviceName=/dev/vda,Ebs={VolumeSize=4}' --user-data '#!/bin/sh
echo "EC2-USER-DATA host=$(hostname) keys=$(cat /home/debian/.ssh/authorized_keys | wc -l)"
grep -c "'"$pub"'" /home/debian/.ssh/authorized_keys | sed "s/^/EC2-KEY-MATCHES=/"
echo "EC2-CLOUD-ID=$(cat /run/cloud-init/cloud-id 2>&1 | tr -d "\n")"' --query 'Instances[0].InstanceId' --output text)
echo "launched $id and $ec2 (no config drive) from $deb; waiting for cloud-init (minutes under TCG)"
wait_console "$id" "DEBIAN-USER-DATA" 1 900
c=$(console "$id")
# as on EC2, the host name is the private DNS name's first label
grep -q "DEBIAN-USER-DATA host=ip-$(private_ip "$id" | tr . -)" <<<"$c" || fail "hostname not from meta-data: $(grep DEBIAN-USER-DATA <<<"$c")"
grep -q "KEY-MATCHES=1" <<<"$c" || fail "the key pair was not installed for user debian"
ok "stock cloud-init in a Debian 12 image: hostname, key pair and user-data from vmmgr's config drive"

wait_console "$ec2" "EC2-USER-DATA" 1 900
c=$(console "$ec2")
ip=$(private_ip "$ec2")
grep -q "EC2-USER-DATA host=ip-${ip//./-}" <<<"$c" || fail "hostname not from the metadata service: $(grep EC2-USER-DATA <<<"$c")"
grep -q "EC2-KEY-MATCHES=1" <<<"$c" || fail "the key pair did not come from the metadata service"
grep -q "EC2-CLOUD-ID=aws" <<<"$c" || fail "cloud-init did not take its EC2 datasource: $(grep -a -E "EC2-|Datasource" <<<"$c")"
ok "stock cloud-init in a Debian 12 image without a config drive: EC2 datasource, hostname, key pair and user-data from 169.254.169.254"
