#!/bin/bash
# vmmgr/core/model_tables.c is generated from botocore's EC2 model (scripts/gen-model-tables.py):
# it must name every filter the reference model (Debian's awscli) documents for every Describe
# action of the dispatch table, and carry the reference's MaxResults limits for every action that
# takes MaxResults, so an action added to vmmgr, or a filter added to the model, cannot be missed.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
ref=/usr/lib/python3/dist-packages/awscli/botocore/data/ec2/2016-11-15/service-2.json
[ -r "$ref" ] || { echo "no reference model at $ref" >&2; exit 1; }
python3 - "$top/vmmgr/core/model_tables.c" <("$top/scripts/gen-model-tables.py" "$ref") <<'PY'
import re, sys
def tables(src):
    return {a: set(re.findall(r'"([^"]+)"', body))
            for a, body in re.findall(r"static const char \*const (\w+)\[\] = \{(.*?)\};", src, re.S)}
def limits(src):
    return set(re.findall(r'^\s*(\{ "\w+", \d+, \d+, \w+, [^}]*\}),', src, re.M))
mine, ref = open(sys.argv[1]).read(), open(sys.argv[2]).read()
committed, reference = tables(mine), tables(ref)
missing = ["%s: %s" % (a, sorted(names - committed.get(a, set()))) for a, names in reference.items()
           if not names <= committed.get(a, set())]
if missing:
    sys.exit("model_tables.c lacks (run scripts/gen-model-tables.py): " + "; ".join(missing))
if limits(mine) != limits(ref) or not limits(ref):
    sys.exit("model_tables.c's paging limits differ from the model's (run scripts/gen-model-tables.py): %s"
             % sorted(limits(mine) ^ limits(ref)))
print("ok - %d Describe actions, every documented filter named; %d paged actions with the model's limits"
      % (len(reference), len(limits(ref))))
PY
