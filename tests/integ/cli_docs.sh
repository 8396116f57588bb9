#!/bin/bash
# The manual page, the bash completion and the systemd unit that `make` generates and `make install`
# installs: the manual page and the completion name every command of the command table (as
# `vmmgr --help` lists it) and, per command, every option (as `vmmgr COMMAND --help` lists it);
# completion offers ids from the store; `systemd-analyze verify` accepts the unit; --version.
set -euo pipefail
VM_BIN=${VMMGR_BIN:?run through make check}
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$(dirname "$VM_BIN")/.." && pwd)
T=$(mktemp -d /tmp/vmmgr-docs.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok - $*"; }

version=$(sed -n 's/^AC_INIT(\[vmmgr\], \[\([^]]*\)\].*/\1/p' "$top/configure.ac")
[ "$("$VM_BIN" --version)" = "vmmgr $version" ] || fail "--version: $("$VM_BIN" --version)"
ok "vmmgr --version prints $version"

# a staged install, as a packager makes it
make -s -C "$build" install DESTDIR="$T/root" >/dev/null
man=$(find "$T/root" -path '*/man1/vmmgr.1')
comp=$(find "$T/root" -path '*/bash-completion/completions/vmmgr')
unit=$(find "$T/root" -path '*/systemd/system/vmmgr.service')
envf=$(find "$T/root" -path '*/default/vmmgr')
for f in man comp unit envf; do [ -n "${!f}" ] || fail "make install did not install the $f file"; done

cmds=$("$VM_BIN" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF {print $1}')
[ "$(wc -l <<<"$cmds")" -gt 50 ] || fail "vmmgr --help lists only $(wc -l <<<"$cmds") commands"

# complete WORD…: what bash completion offers for the command line "vmmgr WORD…" (the last word is
# the one being completed)
complete_words() {
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _vmmgr; printf "%s\n" "${COMPREPLY[@]}"' \
		sh "$comp" "$VM_BIN" "$@" | sort
}

offered=$(complete_words "")
missing=$(comm -23 <(sort <<<"$cmds") <(echo "$offered"))
[ -z "$missing" ] || fail "completion does not offer: $missing"
rendered=$(MANWIDTH=200 man -l "$man" 2>/dev/null)
for c in $cmds; do
	grep -qE "^\.SS $(sed 's/-/\\\\-/g' <<<"$c")\$" "$man" || fail "the manual page has no section for '$c'"
	opts=$("$VM_BIN" "$c" --help | awk '/^Options:/ {on = 1; next} on && $1 ~ /^--/ {print $1}' | sort)
	got=$(complete_words "$c" "--" | grep -- '^--' | grep -vx -- --help || true)
	[ "$opts" = "$got" ] || fail "'$c': completion offers [$(echo $got)], --help lists [$(echo $opts)]"
	# every option of the command is in its section of the rendered page
	section=$(awk -v c="$c" '$0 == "   " c {on = 1; next} on && /^   [a-z]/ {exit} on' <<<"$rendered")
	for o in $opts; do grep -qF -- "$o" <<<"$section" || fail "the manual page's '$c' lacks $o"; done
done
ok "completion and the manual page cover all $(wc -l <<<"$cmds") commands and each one's options"

[ "$(complete_words wait "")" = "$("$VM_BIN" wait --help | sed -n '/^Waiters:/,/^$/p' | awk 'NR > 1 && NF {print $1}' | sort)" ] ||
	fail "completion of 'vmmgr wait' does not offer the waiters"
[ "$(complete_words describe-instances --output "" | tr '\n' ' ')" = "json table text " ] || fail "--output values"
ok "completion offers the waiters and --output's values"

# ids from the store (no libvirt needed: the key pair lives in the store)
S="$T/state"
"$VM_BIN" --state-dir "$S" --connect test:///default create-key-pair --key-name alpha-key >/dev/null 2>&1
"$VM_BIN" --state-dir "$S" --connect test:///default create-key-pair --key-name beta-key >/dev/null 2>&1
[ "$(complete_words --state-dir "$S" delete-key-pair --key-name a)" = alpha-key ] ||
	fail "completion of --key-name: [$(complete_words --state-dir "$S" delete-key-pair --key-name a)]"
ok "completion offers ids from the store (--key-name a<TAB> → alpha-key)"

# the unit: systemd's own checker, against the staged tree with systemd's units beside it
mkdir -p "$T/root/usr/lib/systemd"
cp -a /usr/lib/systemd/system "$T/root/usr/lib/systemd/"
MANPATH="$T/root/usr/local/share/man" systemd-analyze --root="$T/root" verify "$unit" ||
	fail "systemd-analyze verify refused the unit"
grep -q '^Restart=on-failure' "$unit" && grep -q '^After=.*libvirtd.service' "$unit" &&
	grep -q "^EnvironmentFile=-.*/default/vmmgr" "$unit" || fail "the unit lacks restart, ordering or its settings file"
grep -q '^VMMGR_STATE_DIR=' "$envf" && grep -q '^VMMGR_LISTEN=' "$envf" || fail "the settings file"
ok "systemd-analyze verify accepts vmmgr.service (restart on failure, after libvirtd, settings in $(basename "$(dirname "$envf")")/vmmgr)"

# a namespace per service, as the aws CLI names them: `vmmgr ec2 …` is the top-level EC2 commands
vm() { "$VM_BIN" --state-dir "$T/state" "$@"; }
[ -n "$(vm describe-regions --output json)" ] || fail "describe-regions on a fresh state dir"
[ "$(vm ec2 describe-regions --output json)" = "$(vm describe-regions --output json)" ] ||
	fail "vmmgr ec2 describe-regions differs from vmmgr describe-regions"
vm ec2 describe-vpcs --help | grep -q -- "--vpc-ids" || fail "vmmgr ec2 COMMAND --help"
rc=0; vm ec2 create-access-key >/dev/null 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "create-access-key is vmmgr's own, not an EC2 command"
[ "$(vm elbv2 describe-load-balancers --output json | jq -c .LoadBalancers)" = "[]" ] || fail "vmmgr elbv2 describe-load-balancers"
vm elbv2 create-load-balancer --help | grep -q -- "--subnets" || fail "vmmgr elbv2 COMMAND --help"
rc=0; out=$(vm elbv2 create-loadbalancer 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "create-load-balancer" <<<"$out" || fail "an unknown elbv2 command: $out"
vm autoscaling create-auto-scaling-group --help | grep -q -- "--launch-template" || fail "vmmgr autoscaling COMMAND --help"
ok "vmmgr ec2 COMMAND is COMMAND; another service's namespace has its commands; an unknown one lists them"
