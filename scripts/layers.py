#!/usr/bin/env python3
"""The include graph between vmmgr's modules (a top-level directory, or a folder of vmmgr/, or a
service under vmmgr/services/), and its circles: every strongly connected set of two or more
modules, one per line, sorted.  -v prints the edges too; --files names the includes that make an
edge.  Tests, benchmarks and generated files are not modules.

--mixed prints instead the C files that mix the store layer with the mechanism layer: a file that
runs SQL (sqlite3_*, vm_db_*, vm_ctx_stmt) makes no libvirt call (vir*), no libnftables call
(nft_*) and runs no program (vm_cmd_run); the handlers that need both call the functions of each."""
import collections
import os
import re
import sys

TOP = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SKIP = ("tests", "bench", "autom4te.cache", ".git", "build-aux", "images/tiny", "completions", "systemd")


def module(path):
    parts = path.split("/")
    if parts[0] == "vmmgr":
        if len(parts) > 3 and parts[1] == "services":
            return "services/" + parts[2]
        return parts[1] if len(parts) > 2 else "vmmgr"
    return parts[0]


def sources(ends):
    """The paths (relative to TOP) of the sources that end with ends, outside SKIP."""
    for d, dirs, files in os.walk(TOP):
        rel = os.path.relpath(d, TOP)
        if rel != "." and any(rel == s or rel.startswith(s + "/") for s in SKIP):
            dirs[:] = []
            continue
        for f in files:
            if f.endswith(ends):
                yield os.path.normpath(os.path.join(rel, f))


def graph():
    edges = collections.defaultdict(set)
    why = collections.defaultdict(list)
    for path in sources((".c", ".h")):
        for inc in re.findall(r'^#include "([^"]+)"', open(os.path.join(TOP, path), errors="replace").read(), re.M):
            target = os.path.normpath(os.path.join(os.path.dirname(path), inc))
            if not os.path.exists(os.path.join(TOP, target)):
                continue
            a, b = module(path), module(target)
            if a != b:
                edges[a].add(b)
                why[(a, b)].append(path + " -> " + target)
    return edges, why


def circles(edges):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(" ".join(sorted(comp)))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return sorted(out)


STORE = re.compile(r"\b(sqlite3_[a-z0-9_]+|vm_db_[a-z_]+|vm_ctx_stmt)\(")
MECHANISM = re.compile(r"\b(vir[A-Z][A-Za-z]*|nft_[a-z_]+|vm_cmd_run)\(")


def mixed():
    out = []
    for path in sources(".c"):
        text = re.sub(r"/\*.*?\*/", "", open(os.path.join(TOP, path), errors="replace").read(), flags=re.S)
        s, m = STORE.search(text), MECHANISM.search(text)
        if s and m:
            out.append("%s: %s() and %s()" % (path, s.group(1), m.group(1)))
    return sorted(out)


if __name__ == "__main__":
    if "--mixed" in sys.argv:
        for line in mixed():
            print(line)
        sys.exit(0)
    edges, why = graph()
    for c in circles(edges):
        print(c)
    if "-v" in sys.argv or "--files" in sys.argv:
        for a in sorted(edges):
            print("%s -> %s" % (a, " ".join(sorted(edges[a]))), file=sys.stderr)
            if "--files" in sys.argv:
                for b in sorted(edges[a]):
                    for w in why[(a, b)]:
                        print("    " + w, file=sys.stderr)
