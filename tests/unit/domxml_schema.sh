#!/bin/bash
# The domain XML vmmgr defines is valid against libvirt's own schema: every golden file the domain
# XML builder's unit test compares with (tests/data/domxml/) goes through virt-xml-validate.  vmmgr
# defines domains without VIR_DOMAIN_DEFINE_VALIDATE (that RNG pass costs every launch ~20-30 ms in
# libvirtd), so this is where a wrong element name would show.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
command -v virt-xml-validate >/dev/null || { echo "virt-xml-validate is missing (libvirt-clients)" >&2; exit 1; }
n=0
for f in "$top"/tests/data/domxml/*.xml; do
	virt-xml-validate "$f" domain >/dev/null || { echo "FAIL: $f is not a valid libvirt domain" >&2; exit 1; }
	n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "FAIL: no golden domain XML" >&2; exit 1; }
echo "ok - $n golden domain XML files validate against libvirt's schema"
