#!/usr/bin/env python3
"""jobs/deps_graph.py [BUILD_DIR] - the dependency graph of cfp's code, as
issue #15 measures it: files as nodes (a module's .c and .h are one node,
named by its path without extension), edges from #include lines and from
calls (a symbol an object file uses that another defines, read with `nm`
from BUILD_DIR's objects, default build/). Prints the layers (longest path
from the bottom, each loop counted as one node), the loops (strongly
connected sets) with their edges, the edges inside loops that run back up,
and whether a loop spans folders; then the same graph by folder, against
the folders' declared order (doc/architecture.md): every edge from a folder
to one declared above it is listed as running back up.

  jobs/build.sh && jobs/deps_graph.py build
"""
import collections
import glob
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def node_of(path):
    rel = os.path.relpath(path, TOP)
    return os.path.splitext(rel)[0]


def sources():
    files = glob.glob(os.path.join(TOP, "src", "**", "*.[ch]"), recursive=True)
    files += glob.glob(os.path.join(TOP, "mpi", "*.[ch]"))
    return sorted(files)


def include_edges(files):
    by_rel = {os.path.relpath(f, os.path.join(TOP, "src")): f for f in files if "/src/" in f}
    by_rel.update({os.path.relpath(f, TOP): f for f in files})
    edges = set()
    for f in files:
        for m in re.finditer(r'#include "([^"]+)"', open(f, errors="replace").read()):
            target = by_rel.get(m.group(1))
            if target and node_of(target) != node_of(f):
                edges.add((node_of(f), node_of(target)))
    return edges


def call_edges(build):
    objs = [o for o in glob.glob(os.path.join(build, "CMakeFiles", "*", "**", "*.o"), recursive=True)
            if "/src/" in o or "/mpi/" in o]
    defined, used = {}, collections.defaultdict(set)
    for o in objs:
        # .../CMakeFiles/<target>.dir/src/run/cfp_run.c.o -> src/run/cfp_run
        rel = re.sub(r"^.*?\.dir/", "", o)[:-len(".c.o")]
        out = subprocess.run(["nm", o], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBR":
                defined[parts[2]] = rel
            elif len(parts) == 2 and parts[0] == "U":
                used[rel].add(parts[1])
    edges = set()
    for a, syms in used.items():
        for s in syms:
            b = defined.get(s)
            if b and b != a:
                edges.add((a, b))
    return edges


def sccs(nodes, edges):
    adj = collections.defaultdict(list)
    for a, b in edges:
        adj[a].append(b)
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in adj[v]:
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
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "build")
    files = sources()
    nodes = {node_of(f) for f in files}
    edges = include_edges(files) | {e for e in call_edges(build) if e[0] in nodes and e[1] in nodes}
    comps = sccs(nodes, edges)
    comp_of = {v: i for i, c in enumerate(comps) for v in c}
    # Tarjan emits components in reverse topological order: dependencies first.
    layer = {}
    for i, c in enumerate(comps):
        deps = {comp_of[b] for a, b in edges if comp_of[a] == i and comp_of[b] != i}
        layer[i] = 1 + max((layer[d] for d in deps), default=0)
    by_layer = collections.defaultdict(list)
    for v in nodes:
        by_layer[layer[comp_of[v]]].append(v)
    for lay in sorted(by_layer, reverse=True):
        print("layer %2d: %s" % (lay, " ".join(sorted(by_layer[lay]))))
    loops = [c for c in comps if len(c) > 1]
    back = 0
    for c in loops:
        inner = sorted((a, b) for a, b in edges if a in c and b in c)
        folders = {os.path.dirname(v) for v in c}
        # A loop of k nodes needs at least one edge against any order of them.
        back += len(inner) - (len(c) - 1)
        print("loop (%s): %s" % ("ONE folder" if len(folders) == 1 else "ACROSS folders " + ", ".join(sorted(folders)),
                                 " ".join(sorted(c))))
        for a, b in inner:
            print("    %s -> %s" % (a, b))
    print("layers: %d; nodes: %d; edges: %d; loops: %d (%d across folders); edges inside loops beyond a chain: %d"
          % (max(layer.values()), len(nodes), len(edges), len(loops),
             sum(1 for c in loops if len({os.path.dirname(v) for v in c}) > 1), back))
    folder_report(edges)


# The folders lowest first (doc/architecture.md); src/main.c is "main".
ORDER = ["src/base", "src/proc", "src/task", "src/engine", "src/results", "src/lab", "src/run", "mpi",
         "src/cli", "main"]


def folder_of(node):
    return "main" if node == "src/main" else os.path.dirname(node)


def folder_report(edges):
    rank = {f: i for i, f in enumerate(ORDER)}
    fedges = {(folder_of(a), folder_of(b)) for a, b in edges if folder_of(a) != folder_of(b)}
    up = sorted((a, b) for a, b in edges
                if folder_of(a) != folder_of(b) and rank[folder_of(a)] < rank[folder_of(b)])
    layer = {}
    for f in ORDER:  # in declared order: an edge back up is reported, not followed
        deps = [b for a, b in fedges if a == f and rank[b] < rank[f]]
        layer[f] = 1 + max((layer[d] for d in deps), default=0)
    for f in reversed(ORDER):
        print("folder layer %2d: %s" % (layer[f], f))
    for a, b in up:
        print("folder edge back up: %s -> %s" % (a, b))
    print("folder layers: %d; folder edges: %d; back up: %d" % (max(layer.values()), len(fedges), len(up)))


if __name__ == "__main__":
    main()
