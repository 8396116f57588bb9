#!/bin/bash
# Run alone, after the parallel suite (it flushes the nftables ruleset of the harness's namespace and
# restarts its libvirtd, which every other test shares): enforcement comes back after a flush; security
# group rules keep being enforced on a running guest across a libvirtd restart, a rule changed
# afterwards applies at once, and the instance's address and DNS name still work.
. "$(dirname "$0")/../integ/lib.sh"
vm_init
vm create-key-pair --key-name k --key-type ed25519 --output json | jq -r .KeyMaterial > "$T/k.pem"
chmod 600 "$T/k.pem"
vpc=$(vm describe-vpcs --query 'Vpcs[0].VpcId' --output text)
p=$(vm describe-vpcs --query 'Vpcs[0].CidrBlock' --output text)
p=${p%.0.0/16}
g=$(vm create-security-group --group-name ssh-only --description "ssh from the gateway" --vpc-id "$vpc" --query GroupId --output text)
vm authorize-security-group-ingress --group-id "$g" --protocol tcp --port 22 --cidr "$p.0.1/32" >/dev/null
id=$(launch --key-name k --security-group-ids "$g" --user-data '#!/bin/sh
while :; do echo port80 | nc -l -p 80; done &
')
wait_console "$id" "vmmgr: instance $id ready" 1
ip=$(private_ip "$id")
tcp_open "$p.0.1" "$ip" 22 || fail "port 22 closed before the restart"
tcp_open "$p.0.1" "$ip" 80 && fail "port 80 open before the restart"

# `nft flush ruleset` behind vmmgr's back (libvirt's own rules go too: the restart below brings them
# back): the next command rebuilds the store's tables, the blocked port is blocked again
in_ns nft flush ruleset
tcp_open "$p.0.1" "$ip" 80 || fail "port 80 closed after the flush: the check below would show nothing"
vm describe-instances --instance-ids "$id" >/dev/null
tcp_open "$p.0.1" "$ip" 80 && fail "port 80 open after the flush and the next command: enforcement not restored"
tcp_open "$p.0.1" "$ip" 22 || fail "port 22 closed after the flush and the next command"
ok "after nft flush ruleset, the next command restores enforcement"

"$VMMGR_TESTS_DIR/harness/libvirtd-netns.sh" restart-libvirtd "$VMMGR_TEST_RUN"
[ "$(domain_state "$id")" = running ] || fail "the guest did not survive the libvirtd restart"
tcp_open "$p.0.1" "$ip" 22 || fail "port 22 closed after the restart"
tcp_open "$p.0.1" "$ip" 80 && fail "port 80 open after the restart: the filter was lost"
[ "$(gssh "$T/k.pem" "$ip" hostname)" = "ip-${ip//./-}" ] || fail "ssh after the restart"
ok "rules stay enforced on the running guest across a libvirtd restart"

vm authorize-security-group-ingress --group-id "$g" --protocol tcp --port 80 --cidr "$p.0.1/32" >/dev/null
tcp_open "$p.0.1" "$ip" 80 || fail "a rule added after the restart does not apply"
vm revoke-security-group-ingress --group-id "$g" --protocol tcp --port 22 --cidr "$p.0.1/32" >/dev/null
tcp_open "$p.0.1" "$ip" 22 && fail "a rule revoked after the restart still applies"
ok "rule changes after the restart apply to the running guest at once"
