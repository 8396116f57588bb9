#!/bin/bash
# import-image --boot uefi: a GPT disk with an EFI system partition boots under OVMF (Secure Boot
# off) and comes up as an instance.  The disk is made here from Debian packages and the tiny
# image's own parts: a unified kernel image (systemd's EFI stub + the tiny kernel, initramfs and
# command line) as \EFI\BOOT\BOOTX64.EFI, and the tiny root file system as the second partition.
. "$(dirname "$0")/lib.sh"
vm_init
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
for t in objcopy mkfs.vfat mmd mcopy sfdisk; do command -v "$t" >/dev/null || fail "'$t' is missing (scripts/deps.sh)"; done
[ -f "$stub" ] || fail "$stub is missing (apt-get install systemd-boot-efi)"

# the tiny image's build (in the shared cache) whose initramfs is the registered one
initrd="$S/images/$AMI/initrd.img"
kernel=""
for d in "${VMMGR_CACHE_DIR:-/var/cache/vmmgr}"/tiny-*; do
	[ -f "$d/vmlinuz.efi" ] && cmp -s "$d/initrd.img" "$initrd" && kernel="$d/vmlinuz.efi"
done
[ -n "$kernel" ] || fail "no vmlinuz.efi beside the tiny image's initramfs in the cache"

printf 'ID=vmmgr\nNAME=vmmgr-tiny\n' > "$T/osrel"
printf 'console=ttyS0 quiet root=/dev/vda2 rw' > "$T/cmdline"
objcopy --add-section .osrel="$T/osrel" --change-section-vma .osrel=0x20000 \
	--add-section .cmdline="$T/cmdline" --change-section-vma .cmdline=0x30000 \
	--add-section .linux="$kernel" --change-section-vma .linux=0x2000000 \
	--add-section .initrd="$initrd" --change-section-vma .initrd=0x3000000 "$stub" "$T/BOOTX64.EFI"
mkfs.vfat -C "$T/esp.img" 65536 >/dev/null
mmd -i "$T/esp.img" ::/EFI ::/EFI/BOOT
mcopy -i "$T/esp.img" "$T/BOOTX64.EFI" ::/EFI/BOOT/
qemu-img convert -f qcow2 -O raw "$S/images/$AMI/root.qcow2" "$T/root.raw"
root_mib=$(( $(stat -c %s "$T/root.raw") / 1048576 ))
truncate -s $(( (1 + 64 + root_mib + 1) * 1048576 )) "$T/disk.raw"
printf 'label: gpt\nstart=2048, size=131072, type=U\nstart=133120, size=%d, type=L\n' $((root_mib * 2048)) |
	sfdisk -q "$T/disk.raw"
dd if="$T/esp.img" of="$T/disk.raw" bs=1M seek=1 conv=notrunc status=none
dd if="$T/root.raw" of="$T/disk.raw" bs=1M seek=65 conv=notrunc status=none
rm -f "$T/esp.img" "$T/root.raw"

ami=$(vm import-image --file "$T/disk.raw" --format raw --boot uefi --name tiny-uefi --query ImageId --output text)
[ "$(vm describe-images --image-ids "$ami" --query 'Images[0].BootMode' --output text)" = uefi ] || fail "BootMode"
id=$(vm run-instances --image-id "$ami" --query 'Instances[0].InstanceId' --output text)
vm wait instance-running --instance-ids "$id" || fail "the UEFI instance did not start"
xml=$(virsh_ dumpxml "$id")
grep -q "<loader readonly='yes' type='pflash'>" <<<"$xml" || fail "no OVMF loader: $(grep -A3 '<os' <<<"$xml")"
grep -q "secure='yes'" <<<"$xml" && fail "Secure Boot firmware chosen for an unsigned image"
grep -q "<nvram" <<<"$xml" || fail "no NVRAM store"
nvram=$(sed -n 's|.*<nvram[^>]*>\(.*\)</nvram>.*|\1|p' <<<"$xml")
[ -f "$LV_ROOT/lib/${nvram#/var/lib/libvirt/}" ] || fail "the NVRAM file '$nvram' is not in the harness's private /var/lib/libvirt"
wait_console "$id" "vmmgr: instance $id ready" 1 240
grep -q "vmmgr: eth0 $(private_ip "$id")/" <<<"$(console "$id")" || fail "the UEFI guest has no address"
ok "a GPT disk with an EFI system partition imported with --boot uefi boots under OVMF (no Secure Boot)"

vm terminate-instances --instance-ids "$id" >/dev/null
vm wait instance-terminated --instance-ids "$id"
domain_exists "$id" && fail "domain left after terminate"
[ -e "$LV_ROOT/lib/${nvram#/var/lib/libvirt/}" ] && fail "the NVRAM file stayed after terminate"
ok "terminate removes the domain and its NVRAM"
