#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The size limits of docs/DESIGN.md, checked on every tracked .c/.h file.

  check-size.py SRCDIR [--allow FILE]    fails (exit 1) on each offender:
      a file over 1,500 lines, or a C function over 100 lines (from the line
      with its name to its closing brace at column 0; GNU style, the return
      type on the line before the name, is the usual case);
  check-size.py --self-test              the checker on crafted files.

The allow-list (default SRCDIR/tests/size-allow.txt) names one `path` or
`path:function` a line, `#` starts a comment. An entry that no longer matches
an offender fails too, so the list can only shrink.
"""
import os
import re
import subprocess
import sys
import tempfile

MAX_FILE_LINES = 1500
MAX_FUNCTION_LINES = 100

# The name of a definition: an identifier followed by its parameter list.
NAME_RE = re.compile(r"([A-Za-z_]\w*)\s*\(")
NOT_A_NAME = {"if", "for", "while", "switch", "return", "sizeof", "defined"}


def function_name(line):
    """The function a column-0 line defines, or None (a struct, an array…)."""
    if not line or line[0] in " \t#/*}" or line.startswith(("typedef", "struct", "enum", "union")):
        return None
    m = NAME_RE.search(line)
    if m is None or m.group(1) in NOT_A_NAME:
        return None
    if "=" in line[: m.start()]:
        return None  # an initialiser: static Foo x = bar (…)
    return m.group(1)


def functions(lines):
    """Yields (name, first line, last line), 1-based, for each definition."""
    name, start = None, 0
    for i, line in enumerate(lines):
        text = line.rstrip()
        if name is None and text == "{":
            # The name line: the last column-0 line before the brace
            # (indented lines are the parameter list going on).
            j = i - 1
            while j >= 0 and lines[j][:1] in (" ", "\t"):
                j -= 1
            if j >= 0:
                name = function_name(lines[j])
                start = j + 1
        elif name is None and text.endswith("{") and "(" in text:
            name = function_name(line)  # K&R style: `int main (void) {`
            start = i + 1
        elif name is not None and line.startswith("}"):
            yield name, start, i + 1
            name = None


def offenders(root, paths):
    """Each offender as (key, message); key is `path` or `path:function`."""
    found = []
    for path in paths:
        try:
            with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                lines = f.read().split("\n")
        except OSError:
            continue
        if lines and lines[-1] == "":
            lines.pop()
        if len(lines) > MAX_FILE_LINES:
            found.append((path, f"{path}: {len(lines)} lines (limit {MAX_FILE_LINES})"))
        for name, first, last in functions(lines):
            n = last - first + 1
            if n > MAX_FUNCTION_LINES:
                found.append(
                    (
                        f"{path}:{name}",
                        f"{path}:{first}: {name}() is {n} lines (limit {MAX_FUNCTION_LINES})",
                    )
                )
    return found


def tracked_sources(root):
    try:
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--", "*.c", "*.h"],
            check=True, capture_output=True,
        ).stdout.decode()
        return sorted(p for p in out.split("\0") if p)
    except (OSError, subprocess.CalledProcessError):
        pass
    # No git (a release tarball): every .c/.h below the root but build folders.
    paths = []
    for top, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith((".", "build"))]
        for name in files:
            if name.endswith((".c", ".h")):
                paths.append(os.path.relpath(os.path.join(top, name), root))
    return sorted(paths)


def read_allow(path):
    allowed = set()
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                entry = line.split("#", 1)[0].strip()
                if entry:
                    allowed.add(entry)
    except FileNotFoundError:
        pass
    return allowed


def check(root, paths, allowed, out=sys.stdout):
    """Prints every offender not allowed and every stale entry; returns 0 or 1."""
    failed = False
    keys = set()
    for key, message in offenders(root, paths):
        keys.add(key)
        if key in allowed:
            print(f"allowed: {message}", file=out)
        else:
            print(message, file=out)
            failed = True
    for entry in sorted(allowed - keys):
        print(f"size-allow.txt: '{entry}' is no longer over the limit: remove it", file=out)
        failed = True
    return 1 if failed else 0


def self_test():
    """Crafted files: the limits themselves, GNU and K&R style, the allow-list."""
    import io

    def body(n_lines, name="f", gnu=True):
        # A definition of exactly n_lines lines, name line to closing brace.
        # (the return type's line before the name is not counted).
        if gnu:
            head = ["static int", f"{name} (int a,", "    int b)", "{"]
            inner = n_lines - 5
        else:
            head = [f"int {name} (void) {{"]
            inner = n_lines - 3
        return head + ["  a++;"] * inner + ["  return a;", "}"]

    cases = []
    with tempfile.TemporaryDirectory() as root:
        def write(path, lines):
            os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
            with open(os.path.join(root, path), "w") as f:
                f.write("\n".join(lines) + "\n")

        write("ok100.c", body(100))
        write("long101.c", body(101, "too_long"))
        write("kr101.c", body(101, "kr_long", gnu=False))
        write("kr100.c", body(100, "kr_ok", gnu=False))
        write("struct.c", ["typedef struct", "{"] + ["  int x;"] * 150 + ["} Big;"]
              + ["static const int table[] =", "{"] + ["  1,"] * 150 + ["};"])
        write("file1500.h", ["/* x */"] * 1500)
        write("file1501.h", ["/* x */"] * 1501)
        write("allowed.c", body(120, "allowed_fn") + [""] + body(50, "short_fn"))

        def run(paths, allowed=()):
            buf = io.StringIO()
            rc = check(root, paths, set(allowed), buf)
            return rc, buf.getvalue()

        def expect(what, paths, allowed, rc_want, needles=(), absent=()):
            rc, text = run(paths, allowed)
            ok = rc == rc_want and all(n in text for n in needles) and not any(a in text for a in absent)
            cases.append((ok, what, text))

        expect("a 100-line function passes", ["ok100.c"], (), 0)
        expect("a 101-line function fails", ["long101.c"], (), 1, ["long101.c:2: too_long() is 101 lines"])
        expect("K&R style: 101 lines fail", ["kr101.c"], (), 1, ["kr_long() is 101 lines"])
        expect("K&R style: 100 lines pass", ["kr100.c"], (), 0)
        expect("structs and tables are not functions", ["struct.c"], (), 0)
        expect("a 1,500-line file passes", ["file1500.h"], (), 0)
        expect("a 1,501-line file fails", ["file1501.h"], (), 1, ["file1501.h: 1501 lines"])
        expect("an allow-listed function passes", ["allowed.c"], ["allowed.c:allowed_fn"], 0,
               ["allowed: allowed.c:2: allowed_fn() is 120 lines"])
        expect("only the allow-listed function is allowed", ["allowed.c", "long101.c"],
               ["allowed.c:allowed_fn"], 1, ["too_long() is 101 lines"])
        expect("an allow-listed file passes", ["file1501.h"], ["file1501.h"], 0)
        expect("a stale allow-list entry fails", ["ok100.c"], ["ok100.c:f"], 1, ["no longer over the limit"])

        allow = os.path.join(root, "allow.txt")
        with open(allow, "w") as f:
            f.write("# a comment\n\nallowed.c:allowed_fn   # trailing comment\n")
        cases.append((read_allow(allow) == {"allowed.c:allowed_fn"}, "the allow-list file is parsed", ""))

    print(f"1..{len(cases)}")
    failed = 0
    for n, (ok, what, text) in enumerate(cases, 1):
        print(f"{'ok' if ok else 'not ok'} {n} - {what}")
        if not ok:
            failed += 1
            for line in text.splitlines():
                print(f"# {line}")
    return 1 if failed else 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    args = argv[1:]
    allow = None
    if "--allow" in args:
        i = args.index("--allow")
        allow = args[i + 1]
        del args[i : i + 2]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    root = args[0]
    allow = allow or os.path.join(root, "tests", "size-allow.txt")
    return check(root, tracked_sources(root), read_allow(allow))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
