#!/usr/bin/env python3
"""Every target of Package.swift declares exactly the modules its Swift files import.

A declared but unused dependency makes a product drag in code it never runs (an app linking
AdaRuntime must not compile the training stack); an imported but undeclared one builds only by
accident of build order. Exit 1, naming the target, when either is found. Run by `make lint`.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
# Products of other packages, by the module name a file imports.
EXTERNAL = {"Yams", "ZIPFoundation", "Crypto", "SwiftProtobuf", "NIOCore", "NIOPosix", "ArgumentParser", "CSV"}


def imports(directory, own, local):
    found = set()
    for dirpath, _, files in os.walk(directory):
        for name in files:
            if not name.endswith(".swift"):
                continue
            with open(os.path.join(dirpath, name), encoding="utf-8") as f:
                text = f.read()
            for module in re.findall(r"^\s*(?:@testable\s+)?import\s+(\w+)", text, re.M):
                if module != own and (module in local or module in EXTERNAL):
                    found.add(module)
    return found


def main():
    with open(os.path.join(ROOT, "Package.swift"), encoding="utf-8") as f:
        manifest = f.read()
    local = set(os.listdir(os.path.join(ROOT, "Sources"))) | {"TestSupport"}
    problems = []
    pattern = r'\.(target|testTarget|executableTarget)\(\s*name: "(\w+)",\s*dependencies: \[(.*?)\](?:,\s*path: "([^"]+)")?'
    for kind, name, body, path in re.findall(pattern, manifest, re.S):
        body = re.sub(r'package: "[^"]+"', "", body)
        declared = set(re.findall(r'"(\w+)"', body))
        directory = path or os.path.join("Tests" if kind == "testTarget" else "Sources", name)
        used = imports(os.path.join(ROOT, directory), name, local)
        if declared - used:
            problems.append(f"Package.swift: {name} declares {', '.join(sorted(declared - used))} but never imports it")
        if used - declared:
            problems.append(f"Package.swift: {name} imports {', '.join(sorted(used - declared))} without declaring it")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
