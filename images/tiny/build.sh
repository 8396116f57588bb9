#!/bin/sh
# Builds the vmmgr-tiny guest image from Debian packages on the host.
#
#   build.sh OUTDIR
#
# Writes OUTDIR/vmlinux (uncompressed kernel, PVH direct boot), OUTDIR/vmlinuz.efi (the same kernel
# as an EFI application, for UEFI images), OUTDIR/initrd.img (busybox and the
# few modules needed to mount the root disk), OUTDIR/root.qcow2 (ext4 root file system made with
# `mke2fs -d`, nothing mounted) and OUTDIR/manifest.  The kernel comes from Debian's
# linux-image-amd64 package (downloaded with apt-get into the cache, never installed); set
# VMMGR_KERNEL_DEB to use a .deb you already have.  Nothing is written outside OUTDIR and
# OUTDIR.work; the result appears atomically (OUTDIR is renamed into place).
set -eu

out=${1:?usage: build.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
work="$out.work.$$"
trap 'rm -rf "$work"' EXIT
rm -rf "$work"
mkdir -p "$work/deb" "$work/k" "$work/initrd" "$work/root"

die() { echo "build.sh: $*" >&2; exit 1; }

for tool in busybox mke2fs qemu-img depmod modprobe cpio xz dpkg-deb ldd; do
	command -v "$tool" >/dev/null 2>&1 || die "'$tool' is missing (apt-get install busybox-static e2fsprogs qemu-utils kmod cpio xz-utils)"
done
bb=$(command -v busybox)
file_is_static() { ! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'interpreter'; }
if command -v readelf >/dev/null 2>&1; then
	file_is_static "$bb" || die "'$bb' is not statically linked (apt-get install busybox-static)"
fi

# --- kernel ---------------------------------------------------------------------------------------
deb=${VMMGR_KERNEL_DEB:-}
if [ -z "$deb" ]; then
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	[ -n "$pkg" ] || die "cannot find the kernel package behind linux-image-amd64 (run apt-get update)"
	(cd "$work/deb" && apt-get download "$pkg" >/dev/null 2>&1) || die "apt-get download '$pkg' failed"
	deb=$(ls "$work"/deb/*.deb)
fi
dpkg-deb -x "$deb" "$work/k"
kver=$(ls "$work/k/lib/modules" | head -n 1)
[ -n "$kver" ] || die "no modules in '$deb'"
vmlinuz="$work/k/boot/vmlinuz-$kver"
[ -f "$vmlinuz" ] || die "no kernel in '$deb'"

# The Debian bzImage carries an xz payload: unpack it to the ELF vmlinux that QEMU boots through
# PVH, which skips the decompressor (about 4 s under TCG).
off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -n 1 | cut -d: -f1)
[ -n "$off" ] || die "no xz payload in '$vmlinuz'"
tail -c +"$((off + 1))" "$vmlinuz" | xz -dc 2>/dev/null > "$work/vmlinux" || true
[ "$(head -c 4 "$work/vmlinux" | od -An -c | tr -d ' ')" = "177ELF" ] || die "could not extract vmlinux"

# --- initramfs: busybox, modules, /init -----------------------------------------------------------
depmod -b "$work/k" "$kver"
mods="virtio_pci virtio_blk virtio_net ext4 isofs button evdev"
mkdir -p "$work/initrd/bin" "$work/initrd/lib/modules" "$work/initrd/dev" "$work/initrd/proc" \
	"$work/initrd/sys" "$work/initrd/newroot"
cp "$bb" "$work/initrd/bin/busybox"
: > "$work/initrd/modules"
for m in $mods; do
	modprobe -d "$work/k" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}' |
	while read -r ko; do
		base=$(basename "$ko")
		grep -qx "$base" "$work/initrd/modules" && continue
		cp "$ko" "$work/initrd/lib/modules/$base"
		echo "$base" >> "$work/initrd/modules"
	done
done
install -m 0755 "$here/initramfs-init" "$work/initrd/init"
(cd "$work/initrd" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) > "$work/initrd.img"

# --- root file system ------------------------------------------------------------------------------
r="$work/root"
mkdir -p "$r/bin" "$r/sbin" "$r/etc/init.d" "$r/etc/acpi/PWRF" "$r/dev" "$r/proc" "$r/sys" \
	"$r/tmp" "$r/run" "$r/root" "$r/var/log" "$r/mnt" "$r/usr/bin" "$r/usr/sbin"
cp "$bb" "$r/bin/busybox"
for applet in $("$bb" --list); do
	[ "$applet" = busybox ] && continue
	ln -s busybox "$r/bin/$applet"
done
ln -s ../bin/busybox "$r/sbin/init"
# resize2fs (with the libraries it needs) grows the root file system to a larger root volume
copy_with_libs() {
	install -D -m 0755 "$1" "$r$1"
	ldd "$1" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}' | while read -r lib; do
		[ -e "$r$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$r$lib"
	done
}
copy_with_libs "$(command -v resize2fs)"
# dropbear (Debian's dropbear-bin) is the ssh server of instances that have a network
dropbear=$(command -v dropbear || echo /usr/sbin/dropbear)
[ -x "$dropbear" ] || die "'dropbear' is missing (apt-get install dropbear-bin)"
copy_with_libs "$dropbear"
mkdir -p "$r/etc/dropbear" "$r/usr/share/udhcpc"
printf '/bin/sh\n' > "$r/etc/shells"
install -m 0755 "$here/udhcpc.script" "$r/usr/share/udhcpc/default.script"
install -m 0755 "$here/rcS" "$r/etc/init.d/rcS"
cat > "$r/etc/inittab" <<'EOF'
::sysinit:/etc/init.d/rcS
::shutdown:/bin/sh -c 'echo "vmmgr: shutting down" > /dev/console; sync; umount -a -r 2>/dev/null'
EOF
printf 'PWRF PWRF\n' > "$r/etc/acpid.conf"
printf '#!/bin/sh\nexec /bin/poweroff\n' > "$r/etc/acpi/PWRF/00000080"
chmod 0755 "$r/etc/acpi/PWRF/00000080"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$r/etc/passwd"
printf 'root:x:0:\n' > "$r/etc/group"
printf 'vmmgr-tiny\n' > "$r/etc/hostname"
ln -s /proc/mounts "$r/etc/mtab"
chmod 1777 "$r/tmp"

truncate -s 1G "$work/root.raw"
mke2fs -q -t ext4 -L vmmgr-root -E root_owner=0:0 -d "$r" "$work/root.raw"
qemu-img convert -f raw -O qcow2 "$work/root.raw" "$work/root.qcow2"

# --- result -----------------------------------------------------------------------------------------
mkdir -p "$work/out"
mv "$work/vmlinux" "$work/initrd.img" "$work/root.qcow2" "$work/out/"
# the same kernel as an EFI application (its bzImage has the EFI stub), for UEFI-booted images
cp "$vmlinuz" "$work/out/vmlinuz.efi"
cat > "$work/out/manifest" <<EOF
name=vmmgr-tiny
kernel_version=$kver
kernel_package=$(basename "$deb")
busybox=$("$bb" 2>&1 | head -n 1)
EOF
chmod 0444 "$work/out/"*
rm -rf "$out"
mv "$work/out" "$out"
