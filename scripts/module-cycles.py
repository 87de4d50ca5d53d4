#!/usr/bin/env python3
"""Fails when modules of src/ import each other in a cycle (the README's code map promises
none: each folder's files sit in layers). A module's imports are the `crate::`, `super::`
and `self::` paths in its code, comments and `#[cfg(test)] mod tests` left out; a parent
module and its own children are one unit, so only imports between siblings (and across
folders) count. Prints each cycle with the imports that make it."""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")


def module_name(path):
    rel = os.path.relpath(path, ROOT)[:-3]
    if rel.endswith("/mod") or rel == "mod":
        rel = rel[:-4]
    return rel.replace("/", "::")


def main():
    files = [
        os.path.join(d, f) for d, _, fs in os.walk(ROOT) for f in fs if f.endswith(".rs")
    ]
    mods = {module_name(f): f for f in files}
    edges = {m: set() for m in mods}
    for m, f in mods.items():
        text = open(f, encoding="utf-8").read()
        text = re.split(r"#\[cfg\(test\)\]\s*mod tests", text)[0]
        text = "\n".join(l for l in text.split("\n") if not l.strip().startswith("//"))
        parent = m.rsplit("::", 1)[0] if "::" in m else ""
        for hit in re.finditer(r"\b(crate|super|self)((?:::\w+)+)", text):
            head, path = hit.group(1), hit.group(2).strip(":").split("::")
            if head == "crate":
                parts = path
            elif head == "super":
                base = parent.split("::") if parent else []
                while path and path[0] == "super":
                    path, base = path[1:], base[:-1]
                parts = base + path
            else:
                parts = m.split("::") + path
            for k in range(len(parts), 0, -1):
                target = "::".join(parts[:k])
                if target in mods:
                    # a module and its own descendants or ancestors are one unit
                    if not (target.startswith(m + "::") or m.startswith(target + "::") or target == m):
                        edges[m].add(target)
                    break
    index, low, stack, on, comps = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
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
                comps.append(sorted(comp))

    for v in sorted(mods):
        if v not in index:
            visit(v)
    for comp in comps:
        print("modules importing each other in a cycle:", ", ".join(comp))
        for a in comp:
            print(f"  {a} imports", ", ".join(sorted(e for e in edges[a] if e in comp)))
    if comps:
        print("break the cycle: move what both need into a module below them")
        return 1
    print(f"no import cycles among {len(mods)} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
