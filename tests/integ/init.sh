#!/bin/bash
# vmmgr init: the accelerator probe (a real KVM boot, TCG fallback with a reason), the tiny image,
# idempotence.
. "$(dirname "$0")/lib.sh"

out=$(vm init 2>"$T/err") || fail "init failed: $(cat "$T/err")"
accel=$(awk '$1 == "accelerator" {print $2}' <<<"$out")
case "$accel" in
kvm) ok "KVM probe boot succeeded" ;;
tcg) grep -q "falling back to TCG" "$T/err" || fail "TCG chosen without a warning saying why"
     grep -q "KVM" "$T/err" || fail "the warning does not name KVM"
     ok "KVM probe failed on this host; TCG chosen with a warning: $(cat "$T/err")" ;;
*) fail "init printed no accelerator: $out" ;;
esac
[ -z "$(virsh_ list --all --name | grep '^probe-' || true)" ] || fail "the probe domain was left behind"

ami1=$(vm describe-images --owners self --output json | jq -r '.Images[] | select(.Name == "vmmgr-tiny") | .ImageId')
[[ "$ami1" == ami-* ]] || fail "vmmgr-tiny is not registered"
vm init >/dev/null 2>"$T/err2" || fail "second init failed"
[ ! -s "$T/err2" ] || fail "second init probed again or warned: $(cat "$T/err2")"
n=$(vm describe-images --output json | jq '.Images | length')
[ "$n" = 1 ] || fail "second init registered another image ($n)"
[ "$(awk '$1 == "accelerator" {print $2}' <<<"$(vm init)")" = "$accel" ] || fail "init changed the accelerator"
ok "init is idempotent"

for f in vmlinux initrd.img root.qcow2; do
	p="$S/images/$ami1/$f"
	[ -f "$p" ] || fail "missing $p"
	[ ! -w "$p" ] || [ "$(stat -c %a "$p")" = 444 ] || fail "$p is writable"
done
qemu-img info -f qcow2 --output=json "$S/images/$ami1/root.qcow2" | jq -e '."backing-filename" == null' >/dev/null ||
	fail "the base image has a backing file"
ok "tiny image files are read-only, base has no backing file"

expect_error InvalidParameterValue vm init --accel bogus
out=$(vm init --accel tcg) && grep -q "accelerator  tcg" <<<"$out" || fail "--accel tcg not recorded"
ok "--accel is validated and recorded"
