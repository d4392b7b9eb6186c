#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""exports.py - check what a shared libdmalink exports and what the
installed headers say, printing TAP.

Usage: exports.py LIB SOVERSION VERSION INCLUDEDIR NM READELF -- CC...

- the exported (dynamic, defined) functions are exactly the non-static
  functions the headers in INCLUDEDIR/dmalink declare: no dml__ internal,
  no unprefixed internal (emu_*), none missing (so the version script
  cannot drift from the headers);
- every export carries the version script's node, and LIB's soname is
  libdmalink.so.SOVERSION;
- DMALINK_VERSION_MAJOR/MINOR/PATCH equal VERSION (meson's);
- no installed header cites the team's own documents.
"""
import os
import re
import subprocess
import sys
import tempfile

# Prefixes the public headers give to functions (kernel names and dml_).
PUBLIC_PREFIXES = ("dma_", "dmam_", "sg_", "dml_", "pci_", "pcim_", "__pci_",
                   "hmm_", "ww_", "blk_", "cc_", "phys_to_dma_", "set_memory_")
# Citations of documents a user of the installed library does not have.
CITATION = re.compile(r"ref(erence)? §|reference/|shared/|perf-anchors|\(G[0-9]+\)|"
                      r"issue [0-9]|style\.md|DESIGN\.md")

results = []


def check(ok, what, detail=()):
    results.append((ok, what, list(detail)))


def exported(nm, lib):
    """{name: version} of the functions and objects LIB defines and exports."""
    out = subprocess.run([nm, "-D", "--defined-only", "--with-symbol-versions",
                          lib], check=True, capture_output=True,
                         text=True).stdout
    syms = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) < 3 or f[1] == "A":   # the version node itself
            continue
        name, _, ver = f[2].partition("@")
        syms[name] = ver.lstrip("@")
    return syms


def header_text(cc, incdir, headers):
    """The headers preprocessed together, only the lines they contribute."""
    with tempfile.NamedTemporaryFile("w", suffix=".c", delete=False) as src:
        for h in headers:
            src.write("#include <dmalink/%s>\n" % h)
    try:
        out = subprocess.run(cc + ["-E", "-I", incdir, src.name], check=True,
                             capture_output=True, text=True).stdout
    finally:
        os.unlink(src.name)
    keep, mine = [], False
    pub = os.path.join(os.path.realpath(incdir), "dmalink") + os.sep
    for line in out.splitlines():
        m = re.match(r'# \d+ "([^"]+)"', line)
        if m:
            mine = os.path.realpath(m.group(1)).startswith(pub)
        elif mine and not line.startswith("#"):
            keep.append(line)
    return "\n".join(keep)


def declared(text):
    """Names of the functions declared (not defined) at file scope."""
    text = re.sub(r"__attribute__\s*\(\(.*?\)\)", "", text)
    names, stmt, depth = set(), "", 0
    for c in text:
        if depth:
            depth += {"{": 1, "}": -1}.get(c, 0)
            if not depth and re.search(r"\)\s*$", stmt):
                stmt = ""       # end of an inline function's body
            continue
        if c == "{":
            depth = 1
        elif c == ";":
            m = re.search(r"([A-Za-z_]\w*)\s*\(", stmt)
            if m and not re.match(r"\s*(typedef|static)\b", stmt):
                names.add(m.group(1))
            stmt = ""
        else:
            stmt += c
    return names


def main():
    argv = sys.argv[1:]
    sep = argv.index("--")
    lib, soversion, version, incdir, nm, readelf = argv[:sep]
    cc = argv[sep + 1:]
    hdir = os.path.join(incdir, "dmalink")
    headers = sorted(h for h in os.listdir(hdir) if h.endswith(".h"))

    syms = exported(nm, lib)
    api = declared(header_text(cc, incdir, headers))
    check(api and syms, "%d functions declared, %d symbols exported" %
          (len(api), len(syms)))
    check(not [s for s in syms if s.startswith("dml__")],
          "no dml__ internal is exported",
          sorted(s for s in syms if s.startswith("dml__")))
    check(not [s for s in syms if not s.startswith(PUBLIC_PREFIXES)],
          "no unprefixed internal is exported",
          sorted(s for s in syms if not s.startswith(PUBLIC_PREFIXES)))
    check(not set(syms) - api, "every export is declared in a header",
          sorted(set(syms) - api))
    check(not api - set(syms), "every declared function is exported",
          sorted(api - set(syms)))
    vers = set(syms.values())
    check(vers and all(re.fullmatch(r"DMALINK_[0-9.]+", v) for v in vers),
          "every export has a DMALINK_x.y version node",
          sorted(set(syms.values())))

    dyn = subprocess.run([readelf, "-d", lib], check=True, capture_output=True,
                         text=True).stdout
    m = re.search(r"Library soname: \[([^\]]+)\]", dyn)
    want = "libdmalink.so.%s" % soversion
    check(m and m.group(1) == want, "soname is " + want,
          [m.group(1) if m else "no soname"])

    with open(os.path.join(hdir, "version.h")) as f:
        vh = f.read()
    got = []
    for part in ("MAJOR", "MINOR", "PATCH"):
        m = re.search(r"#define DMALINK_VERSION_%s\s+(\d+)" % part, vh)
        got.append(m.group(1) if m else "?")
    check(".".join(got) == version,
          "DMALINK_VERSION_* in dmalink/version.h equal meson's " + version,
          [".".join(got)])

    cites = []
    for h in headers:
        with open(os.path.join(hdir, h)) as f:
            for n, line in enumerate(f, 1):
                if CITATION.search(line):
                    cites.append("dmalink/%s:%d: %s" % (h, n, line.strip()))
    check(not cites, "installed headers cite no team document", cites)

    print("1..%d" % len(results))
    for i, (ok, what, detail) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, what))
        if not ok:
            for d in detail:
                print("# " + d)
    return 0 if all(r[0] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
