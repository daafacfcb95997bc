#!/usr/bin/env python3
"""The module graph of runtime/src, and a check that it has no cycle.

An edge X -> Y means a file of the top-level module X (X.rs, or any file
under X/) names `crate::Y` (in a `use` or in a path, grouped imports
included) or reaches Y through `super::`. Comments are skipped, and so is test code: a module
under `#[cfg(test)]` (or any cfg naming `test`, such as the loom models'
`#[cfg(all(test, loom))]`), inline or in its own file, is a consumer of the
crate from above, not part of its layering. lib.rs, the crate root, is not a
node: it declares and re-exports every module. But a module that names a
root item (`crate::spawn`) depends on what that item stands for: the module
a `pub use` re-exports it from, or the modules a root `fn` names in its
body; those edges are added (so a call through a re-export cannot hide a
cycle).

    .ci/modgraph.py            print "module -> what it imports", top first;
                               fail on a cycle
    .ci/modgraph.py DIR        the same for another crate's src/ directory
    .ci/modgraph.py --self-test  check the parser and the cycle finder

Exit status 1 and the cycle(s) printed when the graph is not a DAG.
"""
import os
import re
import sys

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


RAW_STRING = re.compile(r'b?r(#*)"')


def strip_comments(text):
    """Removes comments and the text of string literals."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    i += 1
        elif c == '"':
            # a string literal: its text is not code
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""')
            i = j + 1
        elif (m := RAW_STRING.match(text, i)) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            end = text.find('"' + m.group(1), m.end())
            out.append('""')
            i = n if end < 0 else end + 1 + len(m.group(1))
        elif c == "'" and i + 2 < n and (text[i + 2] == "'" or text[i + 1] == "\\"):
            # a char literal such as '{' or '\n' (not a lifetime)
            j = text.find("'", i + 2)
            out.append(" ")
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


TEST_MOD = re.compile(
    r"#\[cfg\(([^\]]*)\)\]\s*(?:#\[[^\]]*\]\s*)*(?:pub(?:\([a-z]+\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*([;{])"
)


def is_test_cfg(cfg):
    return re.search(r"(?<![A-Za-z0-9_])test\b", cfg) is not None and "not(test)" not in cfg


def strip_test_modules(text):
    """Removes inline test modules; returns the text and the test-only file modules."""
    skipped_files, out, i = set(), [], 0
    for m in TEST_MOD.finditer(text):
        if m.start() < i or not is_test_cfg(m.group(1)):
            continue
        out.append(text[i : m.start()])
        if m.group(3) == ";":
            skipped_files.add(m.group(2))
            i = m.end()
        else:
            depth, j = 0, m.end() - 1
            while j < len(text):
                if text[j] == "{":
                    depth += 1
                elif text[j] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            i = j + 1
    out.append(text[i:])
    return "".join(out), skipped_files


def first_segments(text, start):
    """The first path segment of each item of the group `{...}` at `start`."""
    names, depth, i, expect = [], 0, start, True
    while i < len(text):
        c = text[i]
        if c == "{":
            depth += 1
            expect = depth == 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                break
        elif c == "," and depth == 1:
            expect = True
        elif depth == 1 and expect and not c.isspace():
            m = IDENT.match(text, i)
            if m:
                names.append(m.group(0))
                i = m.end()
                expect = False
                continue
            expect = False
        i += 1
    return names


def root_names(src, modules):
    """The crate root's own names (not modules), each with the modules it
    stands for: a `pub use m::...` re-export stands for `m`, an item written
    in lib.rs (a `fn spawn` calling `scheduler::...`) for the modules its
    text names. So `crate::spawn` inside a module is an edge to `scheduler`,
    not nothing."""
    lib = os.path.join(src, "lib.rs")
    if not os.path.exists(lib):
        return {}
    with open(lib, encoding="utf-8") as f:
        text, _ = strip_test_modules(strip_comments(f.read()))
    names = {}
    for m in re.finditer(r"\bpub(?:\([a-z]+\))?\s+use\s+([A-Za-z_][A-Za-z0-9_]*)::([^;]*);", text):
        module, rest = m.group(1), m.group(2)
        if module not in modules:
            continue
        for item in re.findall(r"(?:\bas\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(?=[,}]|$)", rest):
            names.setdefault(item, set()).add(module)
    for m in re.finditer(r"\b(?:fn|macro_rules!|struct|enum|trait|type|const|static)\s+([A-Za-z_][A-Za-z0-9_]*)", text):
        start = m.end()
        brace = text.find("{", start)
        semi = text.find(";", start)
        end = semi if brace < 0 or (0 <= semi < brace) else brace
        if end == brace >= 0:
            depth, j = 0, brace
            while j < len(text):
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                if depth == 0:
                    break
                j += 1
            end = j
        body = text[m.start() : end + 1]
        used = {w for w in re.findall(r"(?<![A-Za-z0-9_:])([A-Za-z_][A-Za-z0-9_]*)::", body) if w in modules}
        if used:
            names.setdefault(m.group(1), set()).update(used)
    return names


def imports(text, depth):
    """Top-level modules named by `crate::`/`super::` paths in one file.

    `depth` is how many `super::` reach the crate root from this file
    (1 for X.rs and X/mod.rs, 2 for X/y.rs, ...).
    """
    found = set()
    root = r"(?<![A-Za-z0-9_$])crate::" + "|" + r"(?<![A-Za-z0-9_:])" + r"(?:super::){%d}" % depth
    for m in re.finditer(root, text):
        rest = m.end()
        if text.startswith("{", rest):
            found.update(first_segments(text, rest))
        else:
            seg = IDENT.match(text, rest)
            if seg:
                found.add(seg.group(0))
    return found


def read_module_files(src, files):
    """The code of each file of one module, without test-only code or files."""
    texts, skipped = {}, set()
    for path, _ in files:
        with open(path, encoding="utf-8") as f:
            texts[path], skip = strip_test_modules(strip_comments(f.read()))
        here = os.path.dirname(path)
        skipped |= {os.path.join(here, name + ".rs") for name in skip}
        skipped |= {os.path.join(here, name, "mod.rs") for name in skip}
        if not path.endswith("mod.rs"):
            # `mod x;` in a/b.rs lives in a/b/x.rs
            stem = path[:-3]
            skipped |= {os.path.join(stem, name + ".rs") for name in skip}
    return [(texts[p], d) for p, d in files if p not in skipped]


def graph(src):
    modules = {}
    for entry in sorted(os.listdir(src)):
        path = os.path.join(src, entry)
        if entry.endswith(".rs") and entry not in ("lib.rs", "main.rs"):
            modules[entry[:-3]] = [(path, 1)]
        elif os.path.isdir(path):
            files = []
            for dirpath, _, names in os.walk(path):
                rel = os.path.relpath(dirpath, src).split(os.sep)
                for name in names:
                    if name.endswith(".rs"):
                        depth = len(rel) + (0 if name == "mod.rs" else 1)
                        files.append((os.path.join(dirpath, name), depth))
            modules[entry] = sorted(files)
    roots = root_names(src, modules)
    edges = {}
    for module, files in modules.items():
        deps = set()
        for text, depth in read_module_files(src, files):
            deps |= imports(text, depth)
        for name in list(deps):
            if name not in modules:
                deps |= roots.get(name, set())
        edges[module] = sorted(d for d in deps if d in modules and d != module)
    return edges


def cycles(edges):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

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
                out.append(sorted(comp))

    for v in edges:
        if v not in index:
            visit(v)
    return out


def layered(edges):
    """The modules top first: by the length of their longest import chain
    down to a module that imports nothing, then by name (the graph must be
    a DAG)."""
    height = {}

    def h(v):
        if v not in height:
            height[v] = 1 + max((h(w) for w in edges[v]), default=-1)
        return height[v]

    return sorted(edges, key=lambda v: (-h(v), v))


def self_test():
    """Checks the parser and the cycle finder on a small made-up crate."""
    import tempfile

    files = {
        "a.rs": "use crate::b::X;\n#[cfg(test)]\nmod tests { use crate::c; }\n",
        "b.rs": "// use crate::c;\nuse crate::{a::Y, d::{self, Z}};\n",
        "c.rs": "#[cfg(all(test, loom))]\nmod loom_models;\nfn f() { super::d::g(); }\n",
        "c/loom_models.rs": "use super::super::a;\n",
        "d/mod.rs": "mod e;\n",
        "d/e.rs": "fn f() -> &'static str { \"crate::a\" }\nconst R: &str = r#\"\" crate::b\"#;\n",
        "f.rs": "fn f() { crate::helper(); }\n",
        "g.rs": "use crate::Y;\n",
        "lib.rs": "mod a;\npub use a::{X as Y};\npub fn helper() { c::go() }\n",
    }
    with tempfile.TemporaryDirectory() as src:
        for name, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(src, name)), exist_ok=True)
            with open(os.path.join(src, name), "w", encoding="utf-8") as f:
                f.write(text)
        edges = graph(src)
    expected = {"a": ["b"], "b": ["a", "d"], "c": ["d"], "d": [], "f": ["c"], "g": ["a"]}
    assert edges == expected, edges
    assert cycles(edges) == [["a", "b"]], cycles(edges)
    assert layered({"x": ["y"], "y": []}) == ["x", "y"]
    print("modgraph self-test: ok")


def main():
    if sys.argv[1:] == ["--self-test"]:
        self_test()
        return
    here = os.path.dirname(os.path.abspath(__file__))
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "runtime", "src")
    edges = graph(src)
    found = cycles(edges)
    width = max(len(m) for m in edges)
    for module in layered(edges) if not found else sorted(edges):
        print(f"{module:<{width}} -> {', '.join(edges[module]) or '(nothing)'}")
    sys.stdout.flush()
    for comp in found:
        inside = ", ".join(f"{m} -> {d}" for m in comp for d in edges[m] if d in comp)
        print(f"CYCLE between {', '.join(comp)}: {inside}", file=sys.stderr)
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
