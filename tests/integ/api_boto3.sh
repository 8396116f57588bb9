#!/bin/bash
# boto3 against `vmmgr serve` (see api_boto3.py), then a check that what the SIGTERM interrupted
# is whole: the launch that was in flight has a record, and its job (which outlives the server)
# brings its domain up.
. "$(dirname "$0")/lib.sh"
vm_init
. "$(dirname "$0")/serve.sh"

out=$(/usr/bin/python3 "$(dirname "$0")/api_boto3.py" "$ENDPOINT" "$AMI" "$SERVE_PID") || fail "boto3 test failed"
echo "$out" | grep '^ok'
last=$(echo "$out" | grep '^i-' | tail -n 1)
wait "$SERVE_PID" 2>/dev/null || true
grep -q "finishing requests in flight" "$T/serve.err" || fail "the server did not stop through SIGTERM: $(tail -3 "$T/serve.err")"
grep -q "vmmgr serve: stopped" "$T/serve.err" && ! grep -qi "quiesce" "$T/serve.err" || fail "unclean stop: $(tail -3 "$T/serve.err")"
# the launch's job outlives the server: it finishes the domain whether or not serve still runs
vm wait instance-running --instance-ids "$last" || fail "the launch in flight during SIGTERM did not become running"
domain_exists "$last" || fail "the launch in flight during SIGTERM left no domain"
n=$(vm describe-instances --output json | jq '[.Reservations[].Instances[]] | length')
[ "$n" = 3 ] || fail "expected 3 instances after the boto3 run, found $n"
ok "after SIGTERM: the interrupted launch is whole, nothing doubled"
