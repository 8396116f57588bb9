# Starts `vmmgr serve` (with $SERVE_ARGS) on a free loopback port for the test's state dir and points
# the aws CLI and boto3 at it with the first access key.  Sourced after vm_init; the server is stopped
# (by its pid) when the test exits.
key_out=$(vm create-access-key --output json)
export AWS_ACCESS_KEY_ID=$(jq -r .AccessKey.AccessKeyId <<<"$key_out")
export AWS_SECRET_ACCESS_KEY=$(jq -r .AccessKey.SecretAccessKey <<<"$key_out")
export AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
export AWS_CONFIG_FILE="$T/aws-config" AWS_SHARED_CREDENTIALS_FILE="$T/aws-credentials"
: > "$AWS_CONFIG_FILE"
: > "$AWS_SHARED_CREDENTIALS_FILE"
# start_serve [ADDR:PORT]: (again, after a stop) on that address, or a free port
start_serve() {
	# emptied here, not by the child's redirection: the wait below could otherwise still read the
	# line of the server before (a restart after kill -9), and go on with its dead endpoint
	: > "$T/serve.out"
	"$VM_BIN" --state-dir "$S" serve --listen "${1:-127.0.0.1:0}" ${SERVE_ARGS:-} >> "$T/serve.out" 2>> "$T/serve.err" &
	SERVE_PID=$!
	for _ in $(seq 100); do
		grep -q "listening on" "$T/serve.out" 2>/dev/null && break
		sleep 0.1
	done
	ENDPOINT=$(sed -n 's|.*listening on \(http://[0-9.:]*\).*|\1|p' "$T/serve.out")
	[ -n "$ENDPOINT" ] || fail "vmmgr serve did not start: $(cat "$T/serve.err")"
	export ENDPOINT AWS_ENDPOINT_URL="$ENDPOINT"
}
start_serve
aws() { /usr/bin/aws --endpoint-url "$ENDPOINT" "$@"; }

stop_serve() {
	kill -TERM "$SERVE_PID" 2>/dev/null || true
	wait "$SERVE_PID" 2>/dev/null || true
	# every request's duration, for the suite's report of the slowest request of each action
	if [ -n "${VMMGR_TEST_RUN:-}" ] && [ -f "$T/serve.err" ]; then
		grep '^vmmgr serve: [A-Z]* ' "$T/serve.err" | sed "s|^|$(basename "$0") |" >> "$VMMGR_TEST_RUN/requests.log" || true
	fi
}
serve_cleanup() { stop_serve; cleanup; }
trap serve_cleanup EXIT
