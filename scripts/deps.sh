#!/bin/bash
# Installs the Debian 12 packages vmmgr needs to build, run and test (as root; idempotent).
set -euo pipefail
pkgs=(
	build-essential autoconf automake pkg-config
	libvirt-dev libxml2-dev uuid-dev libsqlite3-dev libssl-dev libcriterion-dev libmicrohttpd-dev libisofs-dev libnftables-dev libjson-c-dev zlib1g-dev
	libvirt-daemon-system qemu-system-x86 qemu-utils
	busybox-static e2fsprogs kmod cpio xz-utils dropbear-bin
	ovmf systemd-boot-efi dosfstools mtools fdisk binutils
	iproute2 dnsmasq-base dnsmasq-utils iptables ipset nftables jq curl openssh-client openssl strace iputils-ping
	awscli python3-boto3 prometheus haproxy
	clang libclang-rt-14-dev
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	apt-get update -qq
	# packages with a service (prometheus) must not start one: tests start their own, by pid
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
