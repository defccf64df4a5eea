#!/usr/bin/env python3
"""Draws the module import graph of each workspace crate and fails on import circles.

    python3 tests/imports.py            check every crate; exit 1 if any circle
    python3 tests/imports.py --dot      also print the graph (Graphviz dot) of each crate
    python3 tests/imports.py --sizes    also list source files over 800 lines and whether
                                        they give a reason at their top (`//! Long: ...`)

An edge A -> B means a file of module A names an item of module B (`use crate::b::...`,
`crate::b::f()`, `super::b`). Edges are drawn between siblings: `crate::a::x` using
`crate::b::y` is the edge a -> b under `crate`. A child naming its parent (tests with
`use super::*`) is not a circle: the parent owns the child. Inline `#[cfg(test)] mod tests`
blocks at the end of a file are left out, as are tests/ and benches/ targets.

docs/architecture.md names this command; tests/run.sh runs it as a gate.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CRATES = ["core", "k8s", "cli", "controller", "tests", "kms"]
LONG = 800

USE_RE = re.compile(r"\buse\s+([^;]+);", re.S)
PATH_RE = re.compile(r"\b(crate|super|self)((?:::\w+)+)")
TEST_MOD_RE = re.compile(r"#\[cfg\(test\)\]\s*(?:#\[[^\]]*\]\s*)*mod\s+\w+\s*\{")


def module_of(src: Path, file: Path) -> tuple:
    rel = file.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def strip(text: str) -> str:
    """Comments, strings and trailing inline test modules out."""
    m = TEST_MOD_RE.search(text)
    if m:
        text = text[: m.start()]
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return text


def expand_use(tree: str) -> list:
    """`a::{b, c::{d, e}}` -> ["a::b", "a::c::d", "a::c::e"]."""
    tree = re.sub(r"\s+as\s+\w+", "", tree)
    tree = re.sub(r"\s+", "", tree)
    out = []

    def walk(prefix: str, s: str):
        # split s at top-level commas
        depth, start, items = 0, 0, []
        for i, ch in enumerate(s):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                items.append(s[start:i])
                start = i + 1
        items.append(s[start:])
        for item in items:
            if not item:
                continue
            brace = item.find("{")
            if brace >= 0 and item.endswith("}"):
                walk(prefix + item[:brace], item[brace + 1 : -1])
            else:
                out.append(prefix + item)

    walk("", tree)
    return out


def resolve(module: tuple, path: str, modules: set):
    """The module a `crate::`/`super::`/`self::` path lands in, or None."""
    parts = [p for p in path.split("::") if p]
    if not parts:
        return None
    head, rest = parts[0], parts[1:]
    if head == "crate":
        base = []
    elif head == "super":
        base = list(module[:-1])
        while rest and rest[0] == "super":
            base = base[:-1]
            rest = rest[1:]
    elif head == "self":
        base = list(module)
    else:
        return None
    target = tuple(base)
    for p in rest:
        cand = target + (p,)
        if cand in modules:
            target = cand
        else:
            break
    return target


def crate_graph(crate: str):
    src = ROOT / crate / "src"
    if not src.is_dir():
        return None, []
    files = sorted(p for p in src.rglob("*.rs") if "bin" not in p.relative_to(src).parts[:1])
    modules = {module_of(src, f) for f in files}
    edges = set()
    for f in files:
        mod = module_of(src, f)
        text = strip(f.read_text())
        paths = []
        for m in USE_RE.finditer(text):
            paths += expand_use(m.group(1))
        paths += [m.group(1) + m.group(2) for m in PATH_RE.finditer(text)]
        for p in paths:
            target = resolve(mod, p, modules)
            if target is None or target == mod:
                continue
            # the two siblings under the common ancestor
            i = 0
            while i < min(len(mod), len(target)) and mod[i] == target[i]:
                i += 1
            if i == len(mod) or i == len(target):
                continue  # parent/child: ownership, not a circle
            edges.add((mod[: i + 1], target[: i + 1]))
    return modules, sorted(edges)


def circles(edges):
    """Strongly connected components of size > 1 (Tarjan)."""
    graph = {}
    for a, b in edges:
        graph.setdefault(a, []).append(b)
        graph.setdefault(b, [])
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def name(crate, mod):
    return "::".join((crate,) + mod)


def long_files():
    out = []
    for crate in CRATES + ["fuzz"]:
        for f in sorted((ROOT / crate).rglob("*.rs")):
            if "target" in f.parts:
                continue
            lines = f.read_text().count("\n")
            if lines > LONG:
                head = "\n".join(f.read_text().splitlines()[:5])
                out.append((f.relative_to(ROOT), lines, "Long:" in head))
    return out


def main():
    dot = "--dot" in sys.argv
    sizes = "--sizes" in sys.argv
    bad = 0
    for crate in CRATES:
        modules, edges = crate_graph(crate)
        if modules is None:
            continue
        if dot:
            print(f'digraph "{crate}" {{')
            for a, b in edges:
                print(f'  "{name(crate, a)}" -> "{name(crate, b)}";')
            print("}")
        for comp in circles(edges):
            bad += 1
            print(f"import circle in {crate}: " + " <-> ".join(name(crate, m) for m in comp))
    if sizes:
        for path, lines, reason in long_files():
            print(f"{path}: {lines} lines{'' if reason else ' (no reason at its top)'}")
    if bad:
        print(f"error: {bad} import circle(s)\nhint: move the shared item down into a module both can use")
        return 1
    print("imports: no circles in " + ", ".join(CRATES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
