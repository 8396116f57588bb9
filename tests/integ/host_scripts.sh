#!/bin/bash
# The host checks of scripts/lib/libvirt-host.sh, which the quickstart and the test harness run
# before they start libvirtd: a /dev/kvm that QEMU's user cannot open gets udev's mode and the
# script says so; a libvirt that re-probes QEMU at every capability lookup is caught.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/lib/libvirt-host.sh"
T=$(mktemp -d /tmp/vmmgr-host.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

# a character device like the host fault's /dev/kvm: crw------- root root
mknod "$T/kvm" c 10 232
chown root:root "$T/kvm"
chmod 600 "$T/kvm"
out=$(kvm_fix "$T/kvm" 2>&1) || fail "kvm_fix failed: $out"
[ "$(stat -c '%a %U:%G' "$T/kvm")" = "660 root:kvm" ] || fail "kvm_fix left $(stat -c '%a %U:%G' "$T/kvm")"
grep -q "fixed $T/kvm: it was mode 600 root:root" <<<"$out" || fail "kvm_fix did not say what it did: $out"
[ -z "$(kvm_fix "$T/kvm" 2>&1)" ] || fail "kvm_fix changed a device that was right"
[ -z "$(kvm_fix "$T/absent" 2>&1)" ] || fail "kvm_fix spoke of a host without KVM"
ok "a 0600 root:root kvm device becomes 0660 root:kvm, and the script says so; a right one or none is left alone"

# a libvirt whose second capability lookup is as slow as the first (a stand-in virsh on PATH)
mkdir "$T/bin"
cat > "$T/bin/virsh" <<'SH'
#!/bin/sh
sleep "$SLOW"
SH
chmod +x "$T/bin/virsh"
PATH="$T/bin:$PATH" SLOW=3.2 caps_check fake:///uri 2> "$T/err" && fail "caps_check passed a re-probing libvirt"
grep -q "re-probes QEMU at every capability lookup" "$T/err" || fail "caps_check did not say why: $(cat "$T/err")"
grep -q "chmod 0660 /dev/kvm" "$T/err" || fail "caps_check did not say what to do"
PATH="$T/bin:$PATH" SLOW=0 caps_check fake:///uri 2>/dev/null || fail "caps_check refused a fast libvirt"
ok "two slow capability lookups in a row stop the start with the cause and the fix"
