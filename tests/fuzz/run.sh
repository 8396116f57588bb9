#!/bin/bash
# Builds the libFuzzer target with clang (ASan + UBSan) and runs it briefly
# (VMMGR_FUZZ_SECONDS, default 20).  A crash, leak or sanitizer report fails the test.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d /tmp/vmmgr-fuzz.XXXXXX)
trap 'rm -rf "$out"' EXIT
command -v clang >/dev/null || { echo "FAIL: clang is missing (scripts/deps.sh installs it)"; exit 1; }
clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	$(pkg-config --cflags libvirt libcrypto libxml-2.0 sqlite3 json-c zlib) \
	"$src/tests/fuzz/fuzz_request.c" "$src/vmmgr/api/query.c" "$src/vmmgr/api/sigv4.c" \
	"$src/vmmgr/api/protocol_query.c" "$src/vmmgr/api/protocol_ec2.c" "$src/vmmgr/api/protocol_json.c" \
	"$src/vmmgr/core/node.c" "$src/vmmgr/core/node_xml.c" "$src/vmmgr/core/node_json.c" \
	"$src/vmmgr/core/params.c" "$src/vmmgr/core/error.c" \
	$(pkg-config --libs libvirt libcrypto libxml-2.0 json-c zlib) -o "$out/fuzz_request"
mkdir -p "$out/corpus"
cp "$src"/tests/fuzz/corpus/* "$out/corpus/"
"$out/fuzz_request" -max_total_time="${VMMGR_FUZZ_SECONDS:-20}" -max_len=4096 "$out/corpus" 2>&1 | tail -n 5
echo "ok - fuzz_request ran ${VMMGR_FUZZ_SECONDS:-20} s without a crash"
