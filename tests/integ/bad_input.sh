#!/bin/bash
# Bad input gets a clear EC2 error and changes nothing.
. "$(dirname "$0")/lib.sh"
vm_init

expect_error MissingParameter vm run-instances
expect_error InvalidAMIID.NotFound vm run-instances --image-id ami-0123456789abcdef0
expect_error InvalidAMIID.Malformed vm run-instances --image-id ../../etc/passwd
expect_error InvalidAMIID.Malformed vm run-instances --image-id "ami-../x"
expect_error InvalidParameterValue vm run-instances --image-id "$AMI" --instance-type x9.huge
expect_error InvalidParameterValue vm run-instances --image-id "$AMI" --count 25
expect_error InvalidParameterValue vm run-instances --image-id "$AMI" \
	--tag-specifications 'ResourceType=instance,Tags=[{Key=aws:x,Value=y}]'
expect_error InvalidParameterValue vm run-instances --image-id "$AMI" --client-token "$(printf 'x%.0s' {1..65})"
expect_error DryRunOperation vm run-instances --image-id "$AMI" --dry-run
expect_error InvalidInstanceID.Malformed vm terminate-instances --instance-ids bogus
expect_error InvalidInstanceID.Malformed vm describe-instances --instance-ids "i-../../x"
expect_error InvalidInstanceID.NotFound vm terminate-instances --instance-ids i-0123456789abcdef0
expect_error InvalidInstanceID.NotFound vm stop-instances --instance-ids i-0123456789abcdef0
expect_error InvalidInstanceID.NotFound vm get-console-output --instance-id i-0123456789abcdef0
expect_error MissingParameter vm terminate-instances
expect_error InvalidParameterValue vm describe-instances --filters Name=no-such-filter,Values=x
expect_error InvalidParameterValue vm describe-instance-types --instance-types x9.huge
expect_error InvalidParameterValue vm describe-images --filters Name=bogus,Values=x
expect_error InvalidParameterValue vm describe-tags --filters Name=bogus,Values=x
expect_error InvalidID vm create-tags --resources vol-../x --tags Key=a,Value=b
ok "each bad request got its EC2 error code"

rc=0
vm run-instances --image-id "$AMI" --count 3:2 >/dev/null 2>&1 || rc=$?
[ "$rc" = 252 ] || fail "bad --count is not a usage error (exit $rc)"
rc=0
vm no-such-command >/dev/null 2>&1 || rc=$?
[ "$rc" = 252 ] || fail "unknown command exit $rc"
vm run-instances --help | grep -q -- "--image-id" || fail "run-instances --help"
ok "usage errors exit 252; --help works"

[ "$(vm describe-instances --output json | jq '.Reservations | length')" = 0 ] || fail "an error left an instance"
[ -z "$(ls "$S/instances")" ] || fail "an error left files: $(ls "$S/instances")"
[ -z "$(virsh_ list --all --name | xargs -r -n1 virsh -q -c "$LV" dumpxml 2>/dev/null | grep -F "<vmmgr:statedir>$S<" || true)" ] ||
	fail "an error left a domain"
ok "nothing changed"

# tags: markup characters, quotes, the longest key and value, round-trip exactly
key=$(printf 'k%.0s' {1..127})"<"
val="<a href=\"x\">&amp;'</a>]]>"$(printf 'v%.0s' {1..226})
[ "${#val}" -le 256 ] || fail "test value too long (${#val})"
vm create-tags --resources "$AMI" --tags "Key=\"$key\",Value=\"${val//\"/\\\"}\""
got=$(vm describe-images --image-ids "$AMI" --output json | jq -r --arg k "$key" '.Images[0].Tags[] | select(.Key == $k) | .Value')
[ "$got" = "$val" ] || fail "tag did not round-trip: '$got'"
n=$(vm describe-images --filters "Name=tag:$key,Values=<a*" --output json | jq '.Images | length')
[ "$n" = 1 ] || fail "tag filter with a wildcard found $n"
expect_error InvalidParameterValue vm create-tags --resources "$AMI" --tags "Key=$(printf 'k%.0s' {1..129}),Value=x"
expect_error InvalidParameterValue vm create-tags --resources "$AMI" --tags "Key=k,Value=$(printf 'v%.0s' {1..257})"
vm delete-tags --resources "$AMI" --tags "Key=\"$key\""
[ "$(vm describe-images --image-ids "$AMI" --output json | jq '.Images[0].Tags | length')" = 0 ] || fail "delete-tags"
ok "tags with <, >, &, quotes and maximal lengths round-trip; limits enforced"
