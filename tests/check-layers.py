#!/usr/bin/env python3
# check-layers.py SRCDIR FOLDER... — fails when the source files of the
# given folders (relative to SRCDIR) depend on each other in a loop.
#
# A module is a .c file with its .h (and its -private.h). Module A depends on
# module B when a file of A includes a header of B, or calls a function that
# B defines (a function defined at the start of a line in B's .c file, GNU
# style, and not static) from one of A's .c files. Every strongly connected set of more than one
# module is a loop; one cycle through it is printed, with why each step
# depends on the next. Modules outside the folders given are not looked at,
# so a folder can be added once its own loops are gone.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# GNU style: the function's name starts the line of its definition.
DEFINITION = re.compile(r'^([A-Za-z_]\w*)\s*\([^;]*$', re.M)
CALL = re.compile(r'\b([A-Za-z_]\w*)\s*\(')
COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
STRING = re.compile(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'')


def module_of(path):
    base = os.path.splitext(path)[0]
    if base.endswith('-private'):
        base = base[: -len('-private')]
    return base


def strip(text):
    text = COMMENT.sub(' ', text)
    return STRING.sub('""', text)


def scan(srcdir, folders):
    files = {}
    for folder in folders:
        top = os.path.join(srcdir, folder)
        if not os.path.isdir(top):
            sys.exit(f'check-layers: no folder {folder} in {srcdir}')
        for name in sorted(os.listdir(top)):
            if name.endswith(('.c', '.h')):
                rel = os.path.join(folder, name)
                with open(os.path.join(srcdir, rel), encoding='utf-8') as f:
                    files[rel] = f.read()
    return files


def definitions(files):
    owner = {}
    for rel, text in files.items():
        if not rel.endswith('.c'):
            continue
        code = strip(text)
        for m in DEFINITION.finditer(code):
            start = code.rfind('\n', 0, m.start() - 1) + 1
            previous = code[start : m.start()]
            # Macros at the start of a line (G_DEFINE_FINAL_TYPE …) define no function.
            if 'static' in previous or m.group(1).isupper() or m.group(1) in ('if', 'for', 'while', 'switch'):
                continue
            owner[m.group(1)] = module_of(rel)
    return owner


def edges(files):
    by_header = {}
    for rel in files:
        if rel.endswith('.h'):
            by_header.setdefault(os.path.basename(rel), module_of(rel))
    owner = definitions(files)
    graph = {}
    for rel, text in files.items():
        src = module_of(rel)
        out = graph.setdefault(src, {})
        for name in INCLUDE.findall(text):
            dst = by_header.get(os.path.basename(name))
            if dst and dst != src:
                out.setdefault(dst, f'{rel} includes {name}')
        # Calls only from .c files: a header's prototypes call nothing.
        for name in CALL.findall(strip(text)) if rel.endswith('.c') else ():
            dst = owner.get(name)
            if dst and dst != src:
                out.setdefault(dst, f'{rel} calls {name}()')
    return graph


def components(graph):
    """Tarjan's strongly connected components, iteratively."""
    index, low, stack, on_stack, result = {}, {}, [], set(), []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, {}))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                result.append(sorted(comp))
    return result


def cycle_in(graph, comp):
    """A shortest cycle through the component's first module (BFS)."""
    members = set(comp)
    start = comp[0]
    parent = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph.get(node, {})):
            if child not in members:
                continue
            if child == start:
                path = [node]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])
                return list(reversed(path)) + [start]
            if child not in parent:
                parent[child] = node
                queue.append(child)
    return comp + [start]


def self_test():
    """The check must be able to fail: a loop of a call and an include."""
    files = {
        'x/a.h': 'void a_run (void);\n',
        'x/a.c': '#include "a.h"\n#include "b.h"\nvoid\na_run (void)\n{\n  b_run ();\n}\n',
        'x/b.h': 'void b_run (void);\n',
        'x/b.c': '#include "b.h"\n/* a_run () */\nvoid\nb_run (void)\n{\n  a_run ();\n}\n',
        'x/c.c': '#include "a.h"\nstatic void\nc_run (void)\n{\n  a_run ();\n}\n',
    }
    graph = edges(files)
    loops = [c for c in components(graph) if len(c) > 1]
    if loops != [['x/a', 'x/b']] or cycle_in(graph, loops[0]) != ['x/a', 'x/b', 'x/a']:
        sys.exit(f'check-layers: the self-test found {loops} in a known loop of two')


def main():
    if len(sys.argv) < 3:
        sys.exit('usage: check-layers.py SRCDIR FOLDER...')
    self_test()
    srcdir, folders = sys.argv[1], sys.argv[2:]
    graph = edges(scan(srcdir, folders))
    loops = [c for c in components(graph) if len(c) > 1]
    for comp in loops:
        cycle = cycle_in(graph, comp)
        print(f'not ok: {len(comp)} modules depend on each other in a loop: {", ".join(comp)}')
        for a, b in zip(cycle, cycle[1:]):
            print(f'  {a} -> {b}: {graph[a][b]}')
    if loops:
        return 1
    print(f'ok: no loops among the {len(graph)} modules of {", ".join(folders)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
