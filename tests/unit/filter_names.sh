#!/bin/bash
# vmmgr/core/filter_names.c is generated from botocore's EC2 model: it must name every filter the
# reference model (Debian's awscli) documents for every Describe action of the dispatch table, so a
# Describe action added to vmmgr, or a filter added to the model, cannot be missed.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
ref=/usr/lib/python3/dist-packages/awscli/botocore/data/ec2/2016-11-15/service-2.json
[ -r "$ref" ] || { echo "no reference model at $ref" >&2; exit 1; }
python3 - "$top/vmmgr/core/filter_names.c" <("$top/scripts/gen-filter-names.py" "$ref") <<'PY'
import re, sys
def tables(path):
    src = open(path).read()
    return {a: set(re.findall(r'"([^"]+)"', body))
            for a, body in re.findall(r"static const char \*const (\w+)\[\] = \{(.*?)\};", src, re.S)}
committed, reference = tables(sys.argv[1]), tables(sys.argv[2])
missing = ["%s: %s" % (a, sorted(names - committed.get(a, set()))) for a, names in reference.items()
           if not names <= committed.get(a, set())]
if missing:
    sys.exit("filter_names.c lacks (run scripts/gen-filter-names.py): " + "; ".join(missing))
print("ok - %d Describe actions, every documented filter named" % len(reference))
PY
