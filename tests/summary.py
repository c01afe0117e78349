#!/usr/bin/env python3
"""Prints the closing line of `make check`: 'N passed, N failed[, N skipped]'.

Reads meson's testlog.json of each build directory given. A build directory
without a test log (its build or its test run broke) counts as one failure, so a
broken build can never look green. Exits 1 when anything failed."""
import json
import os
import sys

passed = failed = skipped = 0
extra_failed = []
for arg in sys.argv[1:]:
    if arg.startswith('--format-failed='):
        if arg.split('=', 1)[1] == '1':
            failed += 1
            extra_failed.append('format-check')
        continue
    log = os.path.join(arg, 'meson-logs', 'testlog.json')
    if not os.path.exists(log):
        failed += 1
        extra_failed.append(f'{arg}: no test log (build or test run failed)')
        continue
    with open(log, encoding='utf-8') as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            result = json.loads(line).get('result', 'ERROR')
            name = json.loads(line).get('name', '?')
            if result in ('OK', 'EXPECTEDFAIL'):
                passed += 1
            elif result == 'SKIP':
                skipped += 1
            else:
                failed += 1
                extra_failed.append(f'{arg}: {name}: {result}')

for what in extra_failed:
    print(f'FAILED: {what}')
line = f'{passed} passed, {failed} failed'
if skipped:
    line += f', {skipped} skipped'
print(line)
sys.exit(1 if failed or passed == 0 else 0)
