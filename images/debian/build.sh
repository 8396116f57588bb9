#!/bin/sh
# Builds a Debian 12 (bookworm) cloud image from Debian packages on this host: debootstrap with the
# distribution kernel, cloud-init and openssh-server, an ext4 root file system made without
# mounting (mke2fs -d), as qcow2.  vmmgr imports it for direct boot with its own kernel and initrd:
#
#   images/debian/build.sh OUTDIR
#   vmmgr import-image --file OUTDIR/debian-12.qcow2 --format qcow2 --name debian-12 --boot direct \
#       --kernel OUTDIR/vmlinuz --ramdisk OUTDIR/initrd.img
#
# Stock cloud-init finds vmmgr's NoCloud drive (label cidata) or its metadata service: hostname, the
# key pair for the default user "debian", user-data.  Needs root, debootstrap, e2fsprogs, qemu-utils; takes minutes.
set -eu
out=${1:?usage: build.sh OUTDIR}
mirror=${VMMGR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
work="$out.work"
rm -rf "$work"
mkdir -p "$work" "$out"
r="$work/root"
unmount() { umount "$r/proc" 2>/dev/null || true; }
trap unmount EXIT

debootstrap --variant=minbase \
	--include=systemd-sysv,udev,kmod,ifupdown,isc-dhcp-client,netbase,iproute2,e2fsprogs,sudo,ca-certificates \
	bookworm "$r" "$mirror"
# the big ones through apt inside the new system: their maintainer scripts want a whole base
mount -t proc proc "$r/proc"
DEBIAN_FRONTEND=noninteractive chroot "$r" apt-get install -y -q --no-install-recommends \
	linux-image-amd64 initramfs-tools cloud-init openssh-server python3-cryptography >/dev/null
unmount

echo "/dev/vda / ext4 defaults,discard 0 1" > "$r/etc/fstab"
echo "debian" > "$r/etc/hostname"
# vmmgr's NoCloud drive, or its EC2 metadata service (ds-identify takes Ec2 only when the domain's
# SMBIOS strings say EC2, so no other cloud's service is probed)
cat > "$r/etc/cloud/cloud.cfg.d/90_vmmgr.cfg" <<'CFG'
datasource_list: [ NoCloud, Ec2, None ]
CFG
# the serial console is where vmmgr's get-console-output reads
ln -sf /lib/systemd/system/serial-getty@.service "$r/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"
# a machine id per instance, made at first boot
: > "$r/etc/machine-id"
rm -f "$r/var/lib/dbus/machine-id" "$r"/etc/ssh/ssh_host_*
# no package caches in the image
rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*

kver=$(ls "$r/lib/modules" | head -n 1)
cp "$r/boot/vmlinuz-$kver" "$work/vmlinuz"
cp "$r/boot/initrd.img-$kver" "$work/initrd.img"

used=$(du -sm "$r" | cut -f1)
truncate -s "$((used + 1024))M" "$work/root.raw"
mke2fs -q -t ext4 -L debian-root -E root_owner=0:0 -d "$r" "$work/root.raw"
qemu-img convert -f raw -O qcow2 "$work/root.raw" "$work/debian-12.qcow2"
mv "$work/debian-12.qcow2" "$work/vmlinuz" "$work/initrd.img" "$out/"
rm -rf "$work"
echo "built $out/debian-12.qcow2 (kernel $kver)"
